//! Raw input → [`Problem`], or every problem found, at once.

use serde::{Deserialize, Serialize};

use crate::model::Input;
use crate::problem::Problem;

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIssue {
    /// Stable code, "E001".."E099".
    pub code: String,
    /// JSON path of the offending value, e.g. `requests[14].patient`.
    pub path: String,
    /// What is wrong, naming the ids involved.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// Every problem found in an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{} problem(s) in the input", issues.len())]
pub struct ValidationReport {
    /// The problems, in input order.
    pub issues: Vec<InputIssue>,
}

/// Parses JSON text into an [`Input`]; a syntax, type or unknown-field error names its path.
pub fn parse_input(_text: &str) -> Result<Input, ValidationReport> {
    unimplemented!("validate helper")
}

/// Checks an input and builds its indexed form.
pub fn validate(_input: Input) -> Result<Problem, ValidationReport> {
    unimplemented!("validate helper")
}
