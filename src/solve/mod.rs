//! The solver: domains, construction, improvement, bound. No I/O.

use crate::problem::Problem;
use crate::schedule::Schedule;

/// Solver options.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveOptions {
    /// Wall-clock limit in seconds.
    pub time_limit: f64,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions { time_limit: 10.0, threads: 0, seed: 0 }
    }
}

/// Solves a validated problem.
pub fn solve(_problem: &Problem, _options: &SolveOptions) -> Schedule {
    unimplemented!("solver")
}
