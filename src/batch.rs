//! Many caseloads at once: each solved on one thread, caseloads in parallel (rayon), results
//! handed back in input order as soon as every earlier one is done, so a caller can stream
//! them (JSON lines) while later ones are still being solved.
//!
//! Workers take caseloads in input order from a shared counter (not rayon's halving split),
//! so results come back roughly in the order they are emitted: at most about one caseload
//! per worker waits for an earlier one, and the first lines appear after one solve, not after
//! half the batch.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::check::{check, Violation};
use crate::model::Input;
use crate::schedule::Schedule;
use crate::solve::{solve, SolveOptions};
use crate::validate::{parse_input, validate_as, Rules, ValidationReport};

/// The result of one caseload of a batch.
#[derive(Debug, Clone)]
pub struct BatchResult {
    /// Position in the input (0-based).
    pub index: usize,
    /// Caseload name (file name or line number).
    pub name: String,
    /// The schedule, or every problem found in that caseload.
    pub outcome: Result<Schedule, ValidationReport>,
    /// The hard rules the schedule breaks, found by re-checking it against the caseload
    /// with the independent checker ([`check`]): empty for a schedule that can be booked
    /// (and for bad input). A schedule that breaks one is shown for inspection only.
    pub violations: Vec<Violation>,
}

/// Solves every `(name, json_text)` caseload with `options` (each solve single-threaded;
/// `options.threads` caseloads at a time, 0 = one per core), calling `emit` for each result
/// in input order. A caseload in the refbench format is imported first.
///
/// # Example
/// ```
/// use careweek::{generate, solve_batch, GenerateOptions, SolveOptions};
/// let caseloads: Vec<(String, String)> = (1..=3)
///     .map(|seed| {
///         let input = generate(&GenerateOptions { patients: 4, seed, grid_min: 15 });
///         (format!("seed {seed}"), serde_json::to_string(&input).unwrap())
///     })
///     .chain([("broken".to_string(), "{".to_string())])
///     .collect();
/// let options = SolveOptions { time_limit: 2.0, threads: 2, work: Some(20), ..Default::default() };
/// let mut seen = Vec::new();
/// careweek::solve_batch(caseloads, &options, |r| seen.push((r.index, r.outcome.is_ok())));
/// assert_eq!(seen, [(0, true), (1, true), (2, true), (3, false)]);
/// ```
pub fn solve_batch(
    caseloads: Vec<(String, String)>,
    options: &SolveOptions,
    emit: impl FnMut(BatchResult),
) {
    let (names, texts): (Vec<String>, Vec<String>) = caseloads.into_iter().unzip();
    solve_batch_with(names, |i| Ok(texts[i].clone()), options, emit);
}

/// As [`solve_batch`], but the text of caseload `i` (named `names[i]`) is read by `load(i)`
/// on the worker that solves it, so that a batch of files is read in parallel, never held in
/// memory all at once, and a file that cannot be read is one bad caseload, not a failed batch.
///
/// When `options.cancel` is set, caseloads not yet started are skipped (never emitted) and
/// those being solved return their best schedule so far.
///
/// # Errors
/// None of its own: a caseload that cannot be loaded, parsed or validated is emitted with
/// its [`ValidationReport`].
///
/// # Example
/// ```
/// use careweek::batch::solve_batch_with;
/// use careweek::validate::ValidationReport;
/// let names = vec!["missing.json".to_string()];
/// let load = |_| Err(ValidationReport::single("E000", "missing.json", "cannot read it", "check the name"));
/// let mut codes = Vec::new();
/// solve_batch_with(names, load, &Default::default(), |r| {
///     codes.push(r.outcome.unwrap_err().issues[0].code.clone())
/// });
/// assert_eq!(codes, ["E000"]);
/// ```
pub fn solve_batch_with<L>(
    names: Vec<String>,
    load: L,
    options: &SolveOptions,
    mut emit: impl FnMut(BatchResult),
) where
    L: Fn(usize) -> Result<String, ValidationReport> + Sync,
{
    let total = names.len();
    if total == 0 {
        return;
    }
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    }
    .min(total);
    let single = SolveOptions {
        threads: 1,
        ..options.clone()
    };
    let cancelled = || {
        options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<BatchResult>();
    let worker = |tx: mpsc::Sender<BatchResult>| loop {
        if cancelled() {
            return;
        }
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(name) = names.get(index) else {
            return;
        };
        let solved = load(index)
            .and_then(|text| solve_and_check(&text, &single))
            .map_err(hint_for_a_batch);
        let (outcome, violations) = match solved {
            Ok((schedule, violations)) => (Ok(schedule), violations),
            Err(report) => (Err(report), Vec::new()),
        };
        let result = BatchResult {
            index,
            name: name.clone(),
            outcome,
            violations,
        };
        // The receiver only goes away if the caller's `emit` panicked; stop then.
        if tx.send(result).is_err() {
            return;
        }
    };
    std::thread::scope(|scope| {
        let worker = &worker;
        scope.spawn(move || {
            match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(pool) => {
                    pool.broadcast(|_| worker(tx.clone()));
                }
                // No pool (threads cannot be spawned): solve them one by one here.
                Err(_) => worker(tx),
            };
        });
        let mut pending: BTreeMap<usize, BatchResult> = BTreeMap::new();
        let mut expected = 0;
        // Ends when every worker has dropped its sender: all done, cancelled, or a panic
        // (which the scope then propagates).
        for result in rx.iter() {
            pending.insert(result.index, result);
            while let Some(r) = pending.remove(&expected) {
                emit(r);
                expected += 1;
            }
        }
    });
}

/// A caseload of a batch that is a JSON array: the lone-file hint ("use solve-batch") would
/// send the user where they already are.
fn hint_for_a_batch(mut report: ValidationReport) -> ValidationReport {
    for issue in &mut report.issues {
        if issue.message == crate::validate::JSON_ARRAY_MESSAGE {
            issue.hint = "a batch takes one caseload per line (JSON lines) or per *.json file: put each object of the array on its own line, or in its own file".into();
        }
    }
    report
}

/// Parses (either format), validates and solves one caseload.
///
/// # Errors
/// The [`ValidationReport`] of a caseload that is not valid JSON in either format or that
/// fails validation.
pub fn solve_text(text: &str, options: &SolveOptions) -> Result<Schedule, ValidationReport> {
    let (input, rules) = parse_caseload_as(text)?;
    let problem = validate_as(input, rules)?;
    Ok(solve(&problem, options))
}

/// [`solve_text`], then the schedule re-checked against the caseload: the hard rules it
/// breaks (none, unless the solver has a fault).
fn solve_and_check(
    text: &str,
    options: &SolveOptions,
) -> Result<(Schedule, Vec<Violation>), ValidationReport> {
    let (input, rules) = parse_caseload_as(text)?;
    let problem = validate_as(input.clone(), rules)?;
    let schedule = solve(&problem, options);
    let violations = check(&input, &schedule).violations;
    Ok((schedule, violations))
}

/// Parses one caseload in either format: refbench's when it looks like one, else
/// careweek's.
///
/// # Errors
/// The [`ValidationReport`] of text that is not a caseload of the format it looks like.
pub fn parse_caseload(text: &str) -> Result<Input, ValidationReport> {
    parse_caseload_as(text).map(|(input, _)| input)
}

/// [`parse_caseload`], with the rules of the format it was read in, for
/// [`crate::validate::validate_as`].
///
/// # Errors
/// As [`parse_caseload`].
pub fn parse_caseload_as(text: &str) -> Result<(Input, Rules), ValidationReport> {
    if crate::refbench::is_refbench(text) {
        crate::refbench::import(text).map(|input| (input, Rules::Refbench))
    } else {
        parse_input(text).map(|input| (input, Rules::Careweek))
    }
}
