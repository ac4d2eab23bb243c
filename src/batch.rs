//! Many caseloads at once: each solved on one thread, caseloads in parallel (rayon),
//! results handed back in input order as soon as every earlier one is done, so a caller can
//! stream them (JSON lines) while later ones are still being solved.

use std::collections::BTreeMap;
use std::sync::mpsc;

use crate::schedule::Schedule;
use crate::solve::{solve, SolveOptions};
use crate::validate::{parse_input, validate, ValidationReport};

/// The result of one caseload of a batch.
#[derive(Debug, Clone)]
pub struct BatchResult {
    /// Position in the input (0-based).
    pub index: usize,
    /// Caseload name (file name or line number).
    pub name: String,
    /// The schedule, or every problem found in that caseload.
    pub outcome: Result<Schedule, ValidationReport>,
}

/// Solves every `(name, json_text)` caseload with `options` (each solve single-threaded;
/// `options.threads` caseloads at a time), calling `emit` for each result in input order.
/// A caseload in the refbench format is imported first.
pub fn solve_batch(
    caseloads: Vec<(String, String)>,
    options: &SolveOptions,
    mut emit: impl FnMut(BatchResult),
) {
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let single = SolveOptions {
        threads: 1,
        ..options.clone()
    };
    let (tx, rx) = mpsc::channel::<BatchResult>();
    let total = caseloads.len();
    std::thread::scope(|scope| {
        let single = &single;
        scope.spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
            let work = || {
                use rayon::prelude::*;
                caseloads.into_par_iter().enumerate().for_each_with(
                    tx,
                    |tx, (index, (name, text))| {
                        let outcome = solve_text(&text, single);
                        // The receiver only goes away if the caller panicked; nothing to do then.
                        let _ = tx.send(BatchResult {
                            index,
                            name,
                            outcome,
                        });
                    },
                );
            };
            match pool {
                Ok(pool) => pool.install(work),
                Err(_) => work(),
            }
        });
        let mut pending: BTreeMap<usize, BatchResult> = BTreeMap::new();
        let mut next = 0;
        for result in rx.iter() {
            pending.insert(result.index, result);
            while let Some(r) = pending.remove(&next) {
                emit(r);
                next += 1;
            }
            if next == total {
                break;
            }
        }
    });
}

/// Parses (either format), validates and solves one caseload.
pub fn solve_text(text: &str, options: &SolveOptions) -> Result<Schedule, ValidationReport> {
    let input = if crate::refbench::is_refbench(text) {
        crate::refbench::import(text)?
    } else {
        parse_input(text)?
    };
    let problem = validate(input)?;
    Ok(solve(&problem, options))
}
