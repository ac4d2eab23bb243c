//! Independent schedule checker: re-verifies every hard constraint of a [`Schedule`] against
//! the raw [`Input`] and recomputes the objective. Shares no code with the solver.

use crate::model::Input;
use crate::schedule::{Objective, Schedule};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// Which rule, e.g. "provider_overlap".
    pub constraint: String,
    /// The request ids involved.
    pub requests: Vec<String>,
    /// A sentence with ids and local times.
    pub message: String,
}

/// What the checker found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckReport {
    /// Every violation; empty when the schedule is feasible.
    pub violations: Vec<Violation>,
    /// The objective recomputed from the input.
    pub objective: Objective,
}

/// Checks `schedule` against `input`.
pub fn check(_input: &Input, _schedule: &Schedule) -> CheckReport {
    unimplemented!("checker helper")
}
