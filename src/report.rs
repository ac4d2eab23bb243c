//! Human-readable rendering of a schedule: a calendar per provider and per patient.

use crate::model::Input;
use crate::schedule::Schedule;

/// Renders the week as plain text.
pub fn render_text(_input: &Input, _schedule: &Schedule) -> String {
    unimplemented!("report helper")
}
