//! Synthetic caseloads for tests, benchmarks and demos.

use crate::model::Input;

/// Options of the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Patients on the caseload.
    pub patients: usize,
    /// Seed: same options, same caseload.
    pub seed: u64,
    /// Grid minutes (5 or 15).
    pub grid_min: u32,
}

/// Generates a realistic week.
pub fn generate(_options: &GenerateOptions) -> Input {
    unimplemented!("generator helper")
}
