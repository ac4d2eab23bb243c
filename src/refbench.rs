//! The neutral benchmark format (`refbench`): import an instance as an [`Input`] whose
//! objective equals the benchmark's, and export a [`Schedule`] as a benchmark solution.

use crate::model::Input;
use crate::schedule::Schedule;
use crate::validate::ValidationReport;

/// Whether JSON text looks like a refbench instance (has `grid_min` and `travel_min`).
pub fn is_refbench(_text: &str) -> bool {
    unimplemented!("refbench helper")
}

/// Parses a refbench instance into an [`Input`].
pub fn import(_text: &str) -> Result<Input, ValidationReport> {
    unimplemented!("refbench helper")
}

/// Writes a schedule of an imported instance as a refbench solution (JSON value).
pub fn export(_input: &Input, _schedule: &Schedule) -> serde_json::Value {
    unimplemented!("refbench helper")
}
