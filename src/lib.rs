//! careweek: weekly multi-specialist appointment scheduling for healthcare.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod check;
pub mod generate;
pub mod model;
pub mod problem;
pub mod refbench;
pub mod report;
pub mod schedule;
pub mod solve;
pub mod time;
pub mod validate;
