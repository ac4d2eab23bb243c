//! careweek: weekly multi-specialist appointment scheduling for healthcare.
//!
//! A caseload (patients, their requests, availability and hard blocks), the providers'
//! calendars and the rules go in; the best feasible week comes out: every hard constraint
//! kept, as many requests as possible placed by priority, fewest trips and least waiting,
//! and a plain reason for every request that could not be placed.
//!
//! Layers, each importing only from those above it:
//! [`time`] and [`model`] (the input format) → [`validate`](mod@validate) (every input problem at
//! once, or the indexed [`problem::Problem`]) → [`solve`](mod@solve) (domains, construction,
//! neighbourhood search with exact MILP repairs, bound) → [`schedule`] (the output format);
//! [`check`](mod@check) re-verifies a schedule from the raw input alone; [`report`] renders it for
//! people; [`refbench`] reads and writes the neutral benchmark format; [`generate`](mod@generate)
//! makes synthetic caseloads; [`batch`] solves many caseloads in parallel and [`bench`](mod@bench)
//! measures solves.
//!
//! # Example
//! ```
//! use careweek::{check, generate, parse_input, solve, validate, GenerateOptions, SolveOptions};
//!
//! let input = generate(&GenerateOptions { patients: 10, seed: 7, grid_min: 15 });
//! let text = serde_json::to_string(&input).unwrap();
//! let input = parse_input(&text).expect("a valid caseload");
//! let problem = validate(input.clone()).expect("a valid caseload");
//! let schedule = solve(&problem, &SolveOptions { time_limit: 5.0, ..Default::default() });
//! assert!(check(&input, &schedule).violations.is_empty());
//! assert_eq!(schedule.placed.len() + schedule.unplaced.len(), input.requests.len());
//! ```
// The HiGHS build has one `unsafe` block, a C callback that stops a MILP on cancel.
#![cfg_attr(not(feature = "highs"), forbid(unsafe_code))]
#![cfg_attr(feature = "highs", deny(unsafe_code))]
#![deny(missing_docs)]

pub mod batch;
pub mod bench;
pub mod check;
pub mod generate;
pub mod model;
pub mod problem;
pub mod refbench;
pub mod report;
pub mod schedule;
mod serde_checks;
pub mod solve;
pub mod time;
pub mod validate;

pub use batch::{solve_batch, BatchResult};
pub use check::{check, CheckReport, Violation};
pub use generate::{generate, GenerateOptions};
pub use model::Input;
pub use problem::Problem;
pub use schedule::{Objective, Placed, Schedule, Unplaced, UnplacedCode};
pub use solve::{solve, Progress, SolveOptions};
pub use validate::{parse_input, validate, InputIssue, ValidationReport};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
