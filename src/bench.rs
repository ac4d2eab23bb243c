//! `careweek bench`: solve caseloads one at a time, each in a child process so that its wall
//! time and peak memory are its own, re-check every schedule with
//! [`crate::check`](mod@crate::check), and tabulate size, time, memory, objective terms,
//! bound, gap and the checker's verdict.
//!
//! The caseloads are generated ([`generated_cases`]) or read from a directory of refbench
//! instances ([`refbench_cases`]). [`run_cases`] spawns `careweek solve` for each one and
//! leaves the reaping of the child to a caller-supplied function: the crate forbids `unsafe`,
//! and the peak resident set of one child is only available from the `wait4` system call
//! (the command line supplies it on Linux; [`try_reap_portable`] elsewhere, without memory).

use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::check::check;
use crate::generate::{generate, GenerateOptions};
use crate::model::Input;
use crate::schedule::{Objective, Schedule};

/// How each caseload is solved.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// Wall-clock limit of each solve, in seconds.
    pub time_limit: f64,
    /// Solver threads of each solve (0 = all cores).
    pub threads: usize,
    /// Solver seed (and, for generated caseloads, the generator's).
    pub seed: u64,
    /// Deterministic work budget of each solve.
    pub work: Option<u64>,
    /// Solves of each caseload: time-limited runs vary with the machine's load, so several
    /// runs give a median and a range ([`median_table`]).
    pub runs: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            time_limit: 60.0,
            threads: 2,
            seed: 1,
            work: None,
            runs: 1,
        }
    }
}

impl BenchOptions {
    /// How long a child may run before it is killed: the solver stops itself at the time
    /// limit, so only a hung child meets this. (A limit that is not a positive number of
    /// seconds up to a week is refused by the child itself.)
    pub fn child_timeout(&self) -> Duration {
        let limit = crate::solve::usable_time_limit(self.time_limit);
        Duration::from_secs_f64(limit * 2.0 + 120.0)
    }
}

/// The format a caseload file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseFormat {
    /// careweek's own format.
    Careweek,
    /// The neutral benchmark format.
    Refbench,
}

/// One caseload to solve.
#[derive(Debug, Clone)]
pub struct BenchCase {
    /// Short name: `n100-g15` for generated caseloads, the file stem for refbench ones.
    pub name: String,
    /// The caseload file the child reads.
    pub path: PathBuf,
    /// Its format.
    pub format: CaseFormat,
    /// The caseload as careweek reads it, for the checker.
    pub input: Input,
    /// Where the child writes a refbench solution (refbench caseloads only).
    pub refbench_out: Option<PathBuf>,
}

/// Why a benchmark could not be prepared or its results not written.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file or directory could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "create directory", "list").
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// A refbench instance that careweek cannot import.
    #[error("{}: not a valid refbench instance: {issues}", path.display())]
    Instance {
        /// The instance file.
        path: PathBuf,
        /// The import problems, one per line.
        issues: String,
    },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BenchError + 'a {
    move |source| BenchError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Generates one caseload per size on the 15-minute grid (a size given twice once: the same
/// seed gives the same caseload, whose files the second would overwrite), plus one on the
/// 5-minute grid of `grid5_at` patients (none when 0; right after the same size when it is
/// in `sizes`, else last), and writes each as `dir/NAME.json`.
///
/// # Errors
/// [`BenchError::Io`] when `dir` cannot be created or a caseload not written.
///
/// # Example
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let cases = careweek::bench::generated_cases(&[6, 9], 6, 1, dir.path()).unwrap();
/// let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
/// assert_eq!(names, ["n6-g15", "n6-g5", "n9-g15"]);
/// assert!(cases.iter().all(|c| c.path.exists()));
/// ```
pub fn generated_cases(
    sizes: &[usize],
    grid5_at: usize,
    seed: u64,
    dir: &Path,
) -> Result<Vec<BenchCase>, BenchError> {
    let mut plan: Vec<(usize, u32)> = Vec::new();
    for &n in sizes {
        if plan.contains(&(n, 15)) {
            continue;
        }
        plan.push((n, 15));
        if n == grid5_at && !plan.contains(&(n, 5)) {
            plan.push((n, 5));
        }
    }
    if grid5_at > 0 && !plan.contains(&(grid5_at, 5)) {
        plan.push((grid5_at, 5));
    }
    std::fs::create_dir_all(dir).map_err(io_error("create directory", dir))?;
    let mut cases = Vec::new();
    for (patients, grid_min) in plan {
        let input = generate(&GenerateOptions {
            patients,
            seed,
            grid_min,
        });
        let name = format!("n{patients}-g{grid_min}");
        let path = dir.join(format!("{name}.json"));
        let text = serde_json::to_string(&input).map_err(|e| BenchError::Io {
            action: "write",
            path: path.clone(),
            source: e.into(),
        })?;
        std::fs::write(&path, text).map_err(io_error("write", &path))?;
        cases.push(BenchCase {
            name,
            path,
            format: CaseFormat::Careweek,
            input,
            refbench_out: None,
        });
    }
    Ok(cases)
}

/// The refbench instances of `dir` (`*.json`, sorted by name), each to be solved into
/// `NAME.careweek.json` in `solutions` (default: next to the instance). Files named
/// `*.careweek.json` and JSON files that are not refbench instances (the peers' solutions)
/// are skipped; the second list says which and why.
///
/// # Errors
/// [`BenchError::Io`] when the directory or a file cannot be read, [`BenchError::Instance`]
/// when an instance cannot be imported.
pub fn refbench_cases(
    dir: &Path,
    solutions: Option<&Path>,
) -> Result<(Vec<BenchCase>, Vec<String>), BenchError> {
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for path in json_files(dir)? {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file.ends_with(".careweek.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(io_error("read", &path))?;
        if !crate::refbench::is_refbench(&text) {
            skipped.push(format!(
                "{}: not a refbench instance (none of its top-level keys week_start, grid_min, travel_min, precedences)",
                path.display()
            ));
            continue;
        }
        let input = crate::refbench::import(&text).map_err(|report| BenchError::Instance {
            path: path.clone(),
            issues: report
                .issues
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        })?;
        let name = file.trim_end_matches(".json").to_string();
        let out_dir = solutions.unwrap_or(dir);
        cases.push(BenchCase {
            refbench_out: Some(out_dir.join(format!("{name}.careweek.json"))),
            name,
            path,
            format: CaseFormat::Refbench,
            input,
        });
    }
    Ok((cases, skipped))
}

/// The regular `*.json` files of `dir` (any case: `.JSON` too), sorted by file name.
///
/// # Errors
/// [`BenchError::Io`] when `dir` cannot be listed.
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>, BenchError> {
    Ok(dir_entries(dir)?.0)
}

/// [`json_files`], and the names of the other entries of `dir` (a subdirectory's with a
/// trailing `/`), both sorted by name, from one listing.
///
/// # Errors
/// [`BenchError::Io`] when `dir` cannot be listed.
pub fn dir_entries(dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>), BenchError> {
    let entries = std::fs::read_dir(dir).map_err(io_error("list", dir))?;
    let (mut files, mut others) = (Vec::new(), Vec::new());
    for entry in entries {
        let path = entry.map_err(io_error("list", dir))?.path();
        // `is_file` follows symbolic links, so a linked caseload counts.
        if is_json_file(&path) {
            files.push(path);
        } else {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let dangling = !path.exists() && path.symlink_metadata().is_ok();
            others.push(if path.is_dir() {
                format!("{name}/")
            } else if dangling {
                format!("{name} (a link to nothing)")
            } else {
                name
            });
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    others.sort();
    Ok((files, others))
}

/// Whether `path` is a regular file (or a link to one) named `*.json` in any case.
fn is_json_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        && path.is_file()
}

/// The `careweek solve` command that solves `case` with `options`: schedule JSON on stdout,
/// no progress, a refbench solution written when the case asks for one.
pub fn solve_command(exe: &Path, case: &BenchCase, options: &BenchOptions) -> Command {
    solve_command_to(exe, case, options, case.refbench_out.as_deref())
}

/// [`solve_command`] writing the refbench solution (if any) to `refbench_out`.
fn solve_command_to(
    exe: &Path,
    case: &BenchCase,
    options: &BenchOptions,
    refbench_out: Option<&Path>,
) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("solve")
        .arg(&case.path)
        .args(["--format", "json", "--quiet", "--input-format"])
        .arg(match case.format {
            CaseFormat::Careweek => "careweek",
            CaseFormat::Refbench => "refbench",
        })
        .arg("--time-limit")
        .arg(options.time_limit.to_string())
        .arg("--threads")
        .arg(options.threads.to_string())
        .arg("--seed")
        .arg(options.seed.to_string());
    if let Some(work) = options.work {
        cmd.arg("--work").arg(work.to_string());
    }
    if let Some(out) = refbench_out {
        cmd.arg("--refbench-out").arg(out);
    }
    cmd
}

/// The file name of run `run` (from 1) of case `name`: `NAME.SUFFIX` for the first run,
/// `NAME.runK.SUFFIX` for the others, so that every run's output is kept.
///
/// # Example
/// ```
/// use careweek::bench::run_file_name;
/// assert_eq!(run_file_name("n100", 1, "careweek.json"), "n100.careweek.json");
/// assert_eq!(run_file_name("n100", 3, "schedule.json"), "n100.run3.schedule.json");
/// ```
pub fn run_file_name(name: &str, run: usize, suffix: &str) -> String {
    if run <= 1 {
        format!("{name}.{suffix}")
    } else {
        format!("{name}.run{run}.{suffix}")
    }
}

/// A child that has exited, as reaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// How it exited.
    pub status: ExitStatus,
    /// Its peak resident set in KiB, when the platform reports it.
    pub peak_rss_kib: Option<u64>,
}

/// Reaps `child` if it has exited, without blocking, with the standard library alone (no
/// memory figure).
///
/// # Errors
/// The system's error when the child's state cannot be read.
pub fn try_reap_portable(child: &mut Child) -> io::Result<Option<Reaped>> {
    Ok(child.try_wait()?.map(|status| Reaped {
        status,
        peak_rss_kib: None,
    }))
}

/// What one child run gave.
#[derive(Debug, Clone)]
pub struct ChildRun {
    /// How it exited.
    pub status: ExitStatus,
    /// From spawn to reap.
    pub wall: Duration,
    /// Peak resident set in KiB, when known.
    pub peak_rss_kib: Option<u64>,
    /// Whether it was killed for running past the timeout.
    pub timed_out: bool,
    /// Everything it wrote on stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote on stderr.
    pub stderr: Vec<u8>,
}

/// Runs `cmd` (stdin closed, stdout and stderr captured) to its end and measures it;
/// `try_reap` is called without blocking until it reports the exit. A child still running
/// after `timeout` is killed.
///
/// # Errors
/// The system's error when the child cannot be spawned or reaped (it is killed then).
pub fn run_child(
    cmd: &mut Command,
    timeout: Duration,
    mut try_reap: impl FnMut(&mut Child) -> io::Result<Option<Reaped>>,
) -> io::Result<ChildRun> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let (closed_tx, closed_rx) = mpsc::channel::<()>();
    let stdout = child.stdout.take();
    let stdout = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = stdout {
            let _ = pipe.read_to_end(&mut buf);
        }
        let _ = closed_tx.send(());
        buf
    });
    let stderr = child.stderr.take();
    let stderr = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = stderr {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    });
    let deadline = started + timeout;
    // Stdout closes when the child exits: sleeping on that rather than polling all along
    // costs the solve nothing and reads the wall time within a fraction of a millisecond.
    let _ = closed_rx.recv_timeout(timeout);
    let mut timed_out = false;
    let reaped = loop {
        match try_reap(&mut child) {
            Ok(Some(r)) => break r,
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        }
        if !timed_out && Instant::now() >= deadline {
            timed_out = true;
            // Not reaped yet, so the process id is still this child's.
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let wall = started.elapsed();
    Ok(ChildRun {
        status: reaped.status,
        wall,
        peak_rss_kib: reaped.peak_rss_kib,
        timed_out,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// One line of the benchmark table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchRow {
    /// Case name.
    pub case: String,
    /// Which solve of the case this is, from 1 (see [`BenchOptions::runs`]).
    pub run: usize,
    /// Patients on the caseload.
    pub patients: usize,
    /// Grid minutes.
    pub grid_min: u32,
    /// Requests on the caseload.
    pub requests: usize,
    /// Wall seconds of the child, from spawn to exit.
    pub wall_s: f64,
    /// Peak resident set of the child in MiB (`None` where the platform does not say).
    pub peak_rss_mb: Option<f64>,
    /// Requests placed.
    pub placed: Option<usize>,
    /// Objective total and terms.
    pub objective: Option<Objective>,
    /// Proven lower bound.
    pub bound: Option<f64>,
    /// Relative gap (0.05 = 5 %).
    pub gap: Option<f64>,
    /// Requests offered only some of their providers' days to fit the time limit; the
    /// bound then leaves those requests out (`Stats::thinned`).
    pub thinned: Option<usize>,
    /// Violations the checker found (`None` when there was no schedule to check).
    pub violations: Option<usize>,
    /// `ok`, `N violations`, or what went wrong.
    pub check: String,
    /// Whether a schedule came back and every hard constraint holds.
    pub ok: bool,
}

/// The first non-empty line of a child's stderr, for a table cell.
fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
        .replace('|', "/")
}

/// The row of a case before (or without) a schedule.
fn unsolved_row(case: &BenchCase) -> BenchRow {
    BenchRow {
        case: case.name.clone(),
        run: 1,
        patients: case.input.patients.len(),
        grid_min: case.input.week.grid_min,
        requests: case.input.requests.len(),
        wall_s: 0.0,
        peak_rss_mb: None,
        placed: None,
        objective: None,
        bound: None,
        gap: None,
        thinned: None,
        violations: None,
        check: String::new(),
        ok: false,
    }
}

/// Reads the child's schedule, checks it against the case's input and makes the row.
pub fn evaluate(case: &BenchCase, run: &ChildRun) -> BenchRow {
    let mut row = unsolved_row(case);
    row.wall_s = run.wall.as_secs_f64();
    row.peak_rss_mb = run.peak_rss_kib.map(|k| k as f64 / 1024.0);
    if run.timed_out {
        row.check = format!("killed after {:.0} s", run.wall.as_secs_f64());
        return row;
    }
    match run.status.code() {
        Some(0) => {}
        Some(2) => {
            row.check = format!("bad input: {}", first_line(&run.stderr));
            return row;
        }
        Some(code) => {
            row.check = format!("failed (exit {code}): {}", first_line(&run.stderr));
            return row;
        }
        None => {
            row.check = format!("killed by a signal ({})", run.status);
            return row;
        }
    }
    let schedule: Schedule = match serde_json::from_slice(&run.stdout) {
        Ok(s) => s,
        Err(e) => {
            row.check = format!("unreadable schedule: {e}");
            return row;
        }
    };
    let report = check(&case.input, &schedule);
    let n = report.violations.len();
    row.placed = Some(schedule.placed.len());
    row.objective = Some(schedule.objective);
    row.bound = Some(schedule.bound);
    row.gap = Some(schedule.gap);
    row.thinned = Some(schedule.stats.thinned);
    row.violations = Some(n);
    row.ok = n == 0;
    row.check = match n {
        0 => "ok".to_string(),
        1 => "1 violation".to_string(),
        _ => format!("{n} violations"),
    };
    row
}

/// Solves every case in a child process (`exe solve …`, one at a time, `options.runs`
/// times each), checks each schedule and returns the rows in order (a case's runs
/// together). `progress` gets a line before and after each solve; when `schedules` is
/// given, each child's schedule JSON is kept there as `NAME.schedule.json` (later runs:
/// `NAME.runK.schedule.json`, and their refbench solutions `NAME.runK.careweek.json`).
pub fn run_cases(
    exe: &Path,
    cases: &[BenchCase],
    options: &BenchOptions,
    schedules: Option<&Path>,
    mut try_reap: impl FnMut(&mut Child) -> io::Result<Option<Reaped>>,
    mut progress: impl FnMut(&str),
) -> Vec<BenchRow> {
    let mut rows = Vec::new();
    let total = cases.len();
    let runs = options.runs.max(1);
    for (i, case) in cases.iter().enumerate() {
        for run in 1..=runs {
            let tag = if runs > 1 {
                format!("[{}/{total}] {} run {run}/{runs}", i + 1, case.name)
            } else {
                format!("[{}/{total}] {}", i + 1, case.name)
            };
            progress(&format!(
                "{tag}: {} patients, {} requests, {}-minute grid; solving (limit {} s)",
                case.input.patients.len(),
                case.input.requests.len(),
                case.input.week.grid_min,
                options.time_limit
            ));
            let refbench_out = case
                .refbench_out
                .as_deref()
                .map(|p| p.with_file_name(run_file_name(&case.name, run, "careweek.json")));
            let mut cmd = solve_command_to(exe, case, options, refbench_out.as_deref());
            let mut row = match run_child(&mut cmd, options.child_timeout(), &mut try_reap) {
                Ok(child) => {
                    if let (Some(dir), Some(0)) = (schedules, child.status.code()) {
                        let path = dir.join(run_file_name(&case.name, run, "schedule.json"));
                        if let Err(e) = std::fs::write(&path, &child.stdout) {
                            progress(&format!("{tag}: cannot keep {}: {e}", path.display()));
                        }
                    }
                    evaluate(case, &child)
                }
                Err(e) => {
                    let mut row = unsolved_row(case);
                    row.check = format!("cannot run {}: {e}", exe.display()).replace('|', "/");
                    row
                }
            };
            row.run = run;
            progress(&format!("{tag}: {}", summary(&row)));
            rows.push(row);
        }
    }
    rows
}

/// One progress line for a finished row.
fn summary(row: &BenchRow) -> String {
    let rss = row
        .peak_rss_mb
        .map_or("n/a".to_string(), |m| format!("{m:.1} MB"));
    match (&row.objective, row.placed, row.gap) {
        (Some(obj), Some(placed), Some(gap)) => format!(
            "{:.2} s, {rss}, placed {placed}/{}, objective {}, gap {:.2} %{}, check {}",
            row.wall_s,
            row.requests,
            obj.total,
            gap * 100.0,
            match row.thinned {
                Some(t) if t > 0 => format!(" ({t} requests thinned to fit the time limit)"),
                _ => String::new(),
            },
            row.check
        ),
        _ => format!("{:.2} s, {rss}, {}", row.wall_s, row.check),
    }
}

/// The rows as a markdown table (one header, one line per row, numbers right-aligned).
///
/// # Example
/// ```
/// let table = careweek::bench::markdown_table(&[]);
/// assert!(table.starts_with("| case | patients | grid |"));
/// assert_eq!(table.lines().count(), 2);
/// ```
pub fn markdown_table(rows: &[BenchRow]) -> String {
    let mut out = String::from(
        "| case | patients | grid | requests | wall s | peak RSS MB | placed | objective \
         | unplaced | trips | idle | part of day | provider | pref. day | moved | bound \
         | gap % | check |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let dash = || "–".to_string();
    let several = rows.iter().any(|r| r.run > 1);
    for r in rows {
        let case = if several {
            format!("{} (run {})", r.case, r.run)
        } else {
            r.case.clone()
        };
        let rss = r
            .peak_rss_mb
            .map_or("n/a".to_string(), |m| format!("{m:.1}"));
        let placed = r
            .placed
            .map_or_else(dash, |p| format!("{p}/{}", r.requests));
        let terms = r.objective.map_or_else(
            || vec![dash(); 8],
            |o| {
                [
                    o.total,
                    o.unplaced,
                    o.trips,
                    o.idle,
                    o.part_of_day,
                    o.provider,
                    o.preferred_day,
                    o.moved,
                ]
                .iter()
                .map(ToString::to_string)
                .collect()
            },
        );
        let bound = match (r.bound, r.thinned) {
            (None, _) => dash(),
            (Some(b), Some(t)) if t > 0 => format!("{b:.1} ({t} requests thinned)"),
            (Some(b), _) => format!("{b:.1}"),
        };
        let gap = r.gap.map_or_else(dash, |g| format!("{:.2}", g * 100.0));
        let _ = writeln!(
            out,
            "| {case} | {} | {} min | {} | {:.2} | {rss} | {placed} | {} | {bound} | {gap} | {} |",
            r.patients,
            r.grid_min,
            r.requests,
            r.wall_s,
            terms.join(" | "),
            r.check
        );
    }
    out
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// One line per case over its runs: how many were solved and passed the checker, the
/// median and range of objective and gap, the median bound, the median and longest wall
/// time and the largest peak memory. Medians and ranges are over the runs that returned a
/// schedule; a case whose runs all failed shows dashes.
///
/// # Example
/// ```
/// let table = careweek::bench::median_table(&[]);
/// assert!(table.starts_with("| case | runs ok | objective median |"));
/// ```
pub fn median_table(rows: &[BenchRow]) -> String {
    let mut out = String::from(
        "| case | runs ok | objective median | objective range | gap % median | gap % range \
         | bound median | wall s median | wall s max | peak RSS MB max |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut cases: Vec<&str> = Vec::new();
    for r in rows {
        if !cases.contains(&r.case.as_str()) {
            cases.push(&r.case);
        }
    }
    let dash = || "–".to_string();
    for case in cases {
        let runs: Vec<&BenchRow> = rows.iter().filter(|r| r.case == case).collect();
        let ok = runs.iter().filter(|r| r.ok).count();
        let solved: Vec<&BenchRow> = runs
            .iter()
            .copied()
            .filter(|r| r.objective.is_some())
            .collect();
        // Each list sorted, so that a range is its first and last value.
        let sorted = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v
        };
        let pick = |f: &dyn Fn(&BenchRow) -> Option<f64>| -> Vec<f64> {
            sorted(solved.iter().filter_map(|r| f(r)).collect())
        };
        let mut objectives = pick(&|r| r.objective.map(|o| o.total as f64));
        let mut gaps = pick(&|r| r.gap.map(|g| g * 100.0));
        let mut bounds = pick(&|r| r.bound);
        let mut walls = sorted(runs.iter().map(|r| r.wall_s).collect());
        let range = |v: &[f64], digits: usize| match (v.first(), v.last()) {
            (Some(lo), Some(hi)) => format!("{lo:.digits$}–{hi:.digits$}"),
            _ => dash(),
        };
        let objective_median = median(&mut objectives).map_or_else(dash, |m| format!("{m:.1}"));
        let gap_median = median(&mut gaps).map_or_else(dash, |m| format!("{m:.2}"));
        let bound_median = median(&mut bounds).map_or_else(dash, |m| format!("{m:.1}"));
        let wall_median = median(&mut walls).map_or_else(dash, |m| format!("{m:.2}"));
        let wall_max = walls.last().map_or_else(dash, |m| format!("{m:.2}"));
        let rss_max = runs
            .iter()
            .filter_map(|r| r.peak_rss_mb)
            .reduce(f64::max)
            .map_or("n/a".to_string(), |m| format!("{m:.1}"));
        let _ = writeln!(
            out,
            "| {case} | {ok}/{} | {objective_median} | {} | {gap_median} | {} | {bound_median} \
             | {wall_median} | {wall_max} | {rss_max} |",
            runs.len(),
            range(&objectives, 0),
            range(&gaps, 2),
        );
    }
    out
}

/// The table of every run and, when a case was solved more than once, the
/// [`median_table`] after it.
pub fn tables(rows: &[BenchRow]) -> String {
    let mut text = markdown_table(rows);
    if rows.iter().any(|r| r.run > 1) {
        text.push_str("\nOver the runs of each case:\n\n");
        text.push_str(&median_table(rows));
    }
    text
}

/// Writes the [`tables`] to `dir/bench.md` (after a line naming the settings) and the rows
/// as JSON lines to `dir/bench.jsonl`; returns both paths.
///
/// # Errors
/// [`BenchError::Io`] when `dir` cannot be created or a file not written.
pub fn write_results(
    dir: &Path,
    settings: &str,
    rows: &[BenchRow],
) -> Result<(PathBuf, PathBuf), BenchError> {
    std::fs::create_dir_all(dir).map_err(io_error("create directory", dir))?;
    let md = dir.join("bench.md");
    let text = format!("{settings}\n\n{}", tables(rows));
    std::fs::write(&md, text).map_err(io_error("write", &md))?;
    let jsonl = dir.join("bench.jsonl");
    let mut lines = String::new();
    for row in rows {
        let line = serde_json::to_string(row).map_err(|e| BenchError::Io {
            action: "write",
            path: jsonl.clone(),
            source: e.into(),
        })?;
        lines.push_str(&line);
        lines.push('\n');
    }
    std::fs::write(&jsonl, lines).map_err(io_error("write", &jsonl))?;
    Ok((md, jsonl))
}

/// A line naming what the numbers were measured with.
pub fn settings_line(options: &BenchOptions) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let work = options
        .work
        .map_or(String::new(), |w| format!(" --work {w}"));
    let runs = if options.runs > 1 {
        format!(" --runs {}", options.runs)
    } else {
        String::new()
    };
    format!(
        "careweek {} ({} backend): --time-limit {} --threads {} --seed {}{work}{runs}; {cores} cores available",
        env!("CARGO_PKG_VERSION"),
        if cfg!(feature = "highs") { "highs" } else { "microlp" },
        options.time_limit,
        options.threads,
        options.seed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hung child is killed after twice the limit and two minutes; a library caller's
    /// limit that is no number of seconds gives a timeout too, not a panic.
    #[test]
    fn a_child_is_given_twice_its_limit_and_two_minutes() {
        let timeout = |time_limit: f64| {
            BenchOptions {
                time_limit,
                ..Default::default()
            }
            .child_timeout()
            .as_secs_f64()
        };
        assert_eq!(timeout(60.0), 240.0);
        assert_eq!(timeout(f64::INFINITY), 2.0 * 604_800.0 + 120.0);
        assert_eq!(timeout(f64::NAN), 120.0);
        assert_eq!(timeout(-5.0), 120.0);
    }

    fn row(check: &str, objective: Option<Objective>) -> BenchRow {
        BenchRow {
            case: "n8-g15".into(),
            run: 1,
            patients: 8,
            grid_min: 15,
            requests: 20,
            wall_s: 1.234,
            peak_rss_mb: None,
            placed: objective.map(|_| 19),
            objective,
            bound: objective.map(|_| 900.0),
            gap: objective.map(|_| 0.1),
            thinned: objective.map(|_| 0),
            violations: objective.map(|_| 0),
            check: check.into(),
            ok: objective.is_some(),
        }
    }

    #[test]
    fn table_rows_have_as_many_cells_as_the_header() {
        let solved = row(
            "ok",
            Some(Objective {
                unplaced: 1000,
                ..Default::default()
            }),
        );
        let table = markdown_table(&[solved, row("bad input: E001", None)]);
        let cells: Vec<usize> = table.lines().map(|l| l.matches('|').count()).collect();
        assert_eq!(cells.len(), 4);
        assert!(cells.iter().all(|&c| c == cells[0]), "{table}");
        assert!(table.contains("| 19/20 |"), "{table}");
        assert!(table.contains("| n/a |"), "{table}");
        assert!(table.contains("| 900.0 | 10.00 | ok |"), "{table}");
    }

    #[test]
    fn a_bound_that_leaves_thinned_requests_out_says_so() {
        let mut thinned = row("ok", Some(Objective::default()));
        thinned.thinned = Some(5458);
        let table = markdown_table(&[thinned]);
        assert!(
            table.contains("| 900.0 (5458 requests thinned) | 10.00 | ok |"),
            "{table}"
        );
    }

    #[test]
    fn medians_and_ranges_are_over_the_runs_that_returned_a_schedule() {
        let solved = |run: usize, total: i64, gap: f64, wall: f64| BenchRow {
            run,
            gap: Some(gap),
            wall_s: wall,
            peak_rss_mb: Some(10.0 * run as f64),
            ..row(
                "ok",
                Some(Objective {
                    total,
                    unplaced: total,
                    ..Default::default()
                }),
            )
        };
        let mut failed = row("killed after 9 s", None);
        failed.run = 4;
        failed.wall_s = 9.0;
        let rows = [
            solved(1, 300, 0.03, 1.0),
            solved(2, 100, 0.01, 2.0),
            solved(3, 200, 0.02, 3.0),
            failed,
        ];
        let table = median_table(&rows);
        let line = table.lines().nth(2).expect("one line for the case");
        assert_eq!(
            line,
            "| n8-g15 | 3/4 | 200.0 | 100–300 | 2.00 | 1.00–3.00 | 900.0 | 2.50 | 9.00 | 30.0 |"
        );
        assert_eq!(table.lines().count(), 3, "{table}");
        // An even count: the mean of the middle two.
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        // Both tables when a case ran more than once, the runs told apart.
        let text = tables(&rows);
        assert!(text.contains("| n8-g15 (run 3) |"), "{text}");
        assert!(text.contains("| case | runs ok |"), "{text}");
        assert!(!tables(&rows[..1]).contains("runs ok"));
    }

    #[test]
    fn grid5_variant_follows_its_size_or_comes_last() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let names = |sizes: &[usize], at| -> Vec<String> {
            generated_cases(sizes, at, 1, dir.path())
                .expect("written")
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names(&[3, 4], 0), ["n3-g15", "n4-g15"]);
        assert_eq!(names(&[3, 4], 3), ["n3-g15", "n3-g5", "n4-g15"]);
        assert_eq!(names(&[3, 4], 5), ["n3-g15", "n4-g15", "n5-g5"]);
        assert_eq!(names(&[3, 4, 3], 3), ["n3-g15", "n3-g5", "n4-g15"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_lists_its_caseloads_and_names_what_it_skips() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let d = dir.path();
        std::fs::write(d.join("b.json"), "{}").unwrap();
        std::fs::write(d.join("A.JSON"), "{}").unwrap();
        std::fs::write(d.join("notes.txt"), "").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink(d.join("b.json"), d.join("c.json")).unwrap();
        std::os::unix::fs::symlink(d.join("gone.json"), d.join("dangling.json")).unwrap();
        let (files, skipped) = dir_entries(d).expect("listed");
        let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap()).collect();
        assert_eq!(names, ["A.JSON", "b.json", "c.json"]);
        assert_eq!(
            skipped,
            ["dangling.json (a link to nothing)", "notes.txt", "sub/"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_child_is_timed_and_a_hung_one_killed() {
        let mut quick = Command::new("sh");
        quick.args(["-c", "echo out; echo err >&2; exit 3"]);
        let run =
            run_child(&mut quick, Duration::from_secs(30), try_reap_portable).expect("sh runs");
        assert_eq!(run.status.code(), Some(3));
        assert_eq!(run.stdout, b"out\n");
        assert_eq!(run.stderr, b"err\n");
        assert!(!run.timed_out);

        let mut hung = Command::new("sleep");
        hung.arg("30");
        let run = run_child(&mut hung, Duration::from_millis(200), try_reap_portable)
            .expect("sleep runs");
        assert!(run.timed_out);
        assert!(run.wall < Duration::from_secs(10));
    }
}
