//! The careweek command line: a thin layer over the library.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use careweek::batch::{solve_batch_with, BatchResult};
use careweek::bench::{self, BenchOptions};
use careweek::check::Violation;
use careweek::validate::{validate_as, InputIssue, Rules, ValidationReport};
use careweek::{
    check, generate, parse_input, refbench, report, solve, GenerateOptions, Input, Schedule,
    SolveOptions,
};

#[derive(Parser)]
#[command(
    name = "careweek",
    version,
    about = "Weekly multi-specialist appointment scheduling"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    /// careweek's format, or refbench when the file looks like one.
    Auto,
    /// careweek's own format.
    Careweek,
    /// The neutral benchmark format.
    Refbench,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Calendars per provider and per patient.
    Text,
    /// The schedule JSON.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Solve a week: print the calendars, write the schedule JSON.
    Solve {
        /// Input file (careweek or refbench JSON), `-` for stdin.
        input: PathBuf,
        /// Write the schedule JSON here.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Wall-clock limit in seconds [default: 10; with --work 3600, a guard only, so
        /// that the clock does not end a work budget early and decide the output].
        #[arg(long, value_parser = parse_seconds)]
        time_limit: Option<f64>,
        /// Worker threads (0 = all cores), at most 256.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=256))]
        threads: u16,
        /// Seed of every random choice.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Deterministic work budget (repairs per component): same output for any thread count.
        #[arg(long)]
        work: Option<u64>,
        /// Input format.
        #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
        input_format: InputFormat,
        /// Also write the solution in the refbench format here.
        #[arg(long)]
        refbench_out: Option<PathBuf>,
        /// What to print on stdout.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// No progress on stderr.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Check a schedule against its input: exit 0 when every hard constraint holds.
    Check {
        /// Input file.
        input: PathBuf,
        /// Schedule JSON written by `careweek solve -o`.
        schedule: PathBuf,
        /// Input format.
        #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
        input_format: InputFormat,
    },
    /// Solve many caseloads in parallel: one JSON line per caseload, in input order.
    ///
    /// Each line is {"index", "name", "schedule"} or {"index", "name", "errors"}. Exit code
    /// 0 when every caseload was solved, 2 when any was bad input (all lines are written).
    SolveBatch {
        /// A directory (every *.json file in it, by name; subdirectories not searched) or a JSON-lines file, `-` for stdin
        /// (one caseload per line, careweek or refbench format; blank lines skipped).
        input: PathBuf,
        /// Write the JSON lines here instead of stdout (`-`: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Wall-clock limit of each caseload, in seconds [default: 10; with --work 3600, a
        /// guard only].
        #[arg(long, value_parser = parse_seconds)]
        time_limit: Option<f64>,
        /// Caseloads solved at once, each on one thread (0 = all cores), at most 256.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=256))]
        threads: u16,
        /// Seed of every random choice.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Deterministic work budget of each caseload: same output for any thread count.
        #[arg(long)]
        work: Option<u64>,
    },
    /// Benchmark: solve caseloads one by one, each in a child process; print a markdown table
    /// of time, peak memory, objective, bound, gap and the checker's verdict.
    Bench {
        /// Patients of the generated caseloads (15-minute grid), comma-separated
        /// [default: 30,100,300,1000,3000].
        #[arg(long, value_delimiter = ',', default_values_t = [30u32, 100, 300, 1000, 3000],
              hide_default_value = true,
              value_parser = clap::value_parser!(u32).range(1..=MAX_PATIENTS),
              conflicts_with = "refbench")]
        sizes: Vec<u32>,
        /// Patients of the extra caseload on the 5-minute grid (0 = none).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=MAX_PATIENTS),
              conflicts_with = "refbench")]
        grid5_at: u32,
        /// Seed of the generator and of the solver.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Wall-clock limit of each solve, in seconds [default: 60; with --work 3600, a
        /// guard only].
        #[arg(long, value_parser = parse_seconds)]
        time_limit: Option<f64>,
        /// Solver threads of each solve (0 = all cores), at most 256.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=256))]
        threads: u16,
        /// Deterministic work budget of each solve.
        #[arg(long)]
        work: Option<u64>,
        /// Solves of each caseload; with more than one, a table of medians and ranges
        /// follows (time-limited runs vary with the machine's load), at most 100.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=100))]
        runs: u16,
        /// Solve the refbench instances of this directory (*.json) instead of generated ones;
        /// solutions are written as NAME.careweek.json next to them, or into --out.
        #[arg(long)]
        refbench: Option<PathBuf>,
        /// Where the table (bench.md), the rows (bench.jsonl), the caseloads and schedules go
        /// [default: target/bench].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a realistic synthetic caseload.
    Generate {
        /// Patients on the caseload, at most 100,000.
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=MAX_PATIENTS))]
        patients: u32,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Grid minutes: 5 or 15.
        #[arg(long, default_value_t = 15, value_parser = parse_grid)]
        grid: u32,
        /// Output file, `-` for stdout.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Largest generated caseload (`generate`, `bench`): far above what a week of one clinic
/// network holds, low enough that a typo does not run for hours or exhaust memory.
const MAX_PATIENTS: i64 = 100_000;

/// Longest time limit accepted: a week (see [`careweek::solve::MAX_TIME_LIMIT`]).
const MAX_SECONDS: f64 = careweek::solve::MAX_TIME_LIMIT;

fn parse_seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if x.is_finite() && x > 0.0 && x <= MAX_SECONDS {
        Ok(x)
    } else {
        Err(format!(
            "the time limit must be above 0 and at most {MAX_SECONDS} seconds"
        ))
    }
}

fn parse_grid(s: &str) -> Result<u32, String> {
    match s {
        "5" => Ok(5),
        "15" => Ok(15),
        _ => Err(format!("the grid is 5 or 15 minutes, not {s:?}")),
    }
}

/// How a command failed: bad input (exit 2) or anything else (exit 1).
enum Failure {
    Input(ValidationReport),
    Other(String),
}

impl From<ValidationReport> for Failure {
    fn from(r: ValidationReport) -> Self {
        Failure::Input(r)
    }
}

/// Clock limit under a work budget when none is given: long enough that the work, not the
/// clock, ends the search (1,000 patients spend 9 s on the bound alone), so that the output
/// is the same on any machine and thread count.
const WORK_CLOCK_GUARD: f64 = 3600.0;

/// The clock limit: the one given, else `default`, or [`WORK_CLOCK_GUARD`] under `--work`.
fn clock_limit(given: Option<f64>, work: Option<u64>, default: f64) -> f64 {
    given.unwrap_or(if work.is_some() {
        WORK_CLOCK_GUARD
    } else {
        default
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Solve {
            input,
            output,
            time_limit,
            threads,
            seed,
            work,
            input_format,
            refbench_out,
            format,
            quiet,
        } => {
            let options = SolveOptions {
                time_limit: clock_limit(time_limit, work, 10.0),
                threads: usize::from(threads),
                seed,
                work,
                ..Default::default()
            };
            run_solve(
                &input,
                output.as_deref(),
                options,
                input_format,
                refbench_out.as_deref(),
                format,
                quiet,
            )
        }
        Command::Check {
            input,
            schedule,
            input_format,
        } => run_check(&input, &schedule, input_format),
        Command::SolveBatch {
            input,
            output,
            time_limit,
            threads,
            seed,
            work,
        } => {
            let options = SolveOptions {
                time_limit: clock_limit(time_limit, work, 10.0),
                threads: usize::from(threads),
                seed,
                work,
                ..Default::default()
            };
            run_solve_batch(&input, output.as_deref(), options)
        }
        Command::Bench {
            sizes,
            grid5_at,
            seed,
            time_limit,
            threads,
            work,
            runs,
            refbench,
            out,
        } => {
            let options = BenchOptions {
                time_limit: clock_limit(time_limit, work, 60.0),
                threads: usize::from(threads),
                seed,
                work,
                runs: usize::from(runs),
            };
            let cases = match &refbench {
                Some(dir) => Cases::Refbench(dir),
                None => Cases::Generated {
                    sizes: sizes.iter().map(|&n| n as usize).collect(),
                    grid5_at: grid5_at as usize,
                },
            };
            run_bench(cases, out.as_deref(), &options)
        }
        Command::Generate {
            patients,
            seed,
            grid,
            output,
        } => {
            let input = generate(&GenerateOptions {
                patients: patients as usize,
                seed,
                grid_min: grid,
            });
            let written = if is_dash(&output) {
                serde_json::to_string_pretty(&input)
                    .map_err(|e| Failure::Other(e.to_string()))
                    .and_then(|text| emit(&(text + "\n")))
            } else {
                write_json(&output, &input)
            };
            written.map(|_| {
                eprintln!(
                    "wrote {} ({} patients, {} requests)",
                    if is_dash(&output) {
                        "stdout".into()
                    } else {
                        output.display().to_string()
                    },
                    input.patients.len(),
                    input.requests.len()
                );
                ExitCode::SUCCESS
            })
        }
    };
    match result {
        Ok(code) => code,
        Err(Failure::Input(report)) => {
            for issue in &report.issues {
                eprintln!("{issue}");
            }
            eprintln!(
                "careweek: {} problem(s) in the input; nothing was written",
                report.issues.len()
            );
            ExitCode::from(2)
        }
        Err(Failure::Other(message)) => {
            eprintln!("careweek: {message}");
            ExitCode::from(1)
        }
    }
}

fn read_text(path: &Path) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.map_err(|e| {
        Failure::Input(ValidationReport::single(
            "E000",
            path.display().to_string(),
            format!("cannot read {}: {e}", path.display()),
            "check the file name and that it is readable",
        ))
    })?;
    String::from_utf8(bytes).map_err(|e| Failure::Input(not_utf8(path, e.as_bytes())))
}

/// The report on a file that was read but is not UTF-8 text (saved as UTF-16 or in a legacy
/// code page, say): where the first byte that is not UTF-8 is, and how to save it instead.
fn not_utf8(path: &Path, bytes: &[u8]) -> ValidationReport {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    let before = &bytes[..valid];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = valid
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    ValidationReport::single(
        "E001",
        path.display().to_string(),
        format!(
            "{} is not UTF-8 text: byte 0x{:02X} at line {line}, column {column}{}",
            path.display(),
            bytes.get(valid).copied().unwrap_or(0),
            if utf16 { " (the file is UTF-16)" } else { "" }
        ),
        "save the file as UTF-8 (in most editors: \"Save with encoding\" or \"Save as\", UTF-8)",
    )
}

/// The caseload at `path`, with the rules of the format it is in.
fn read_input(path: &Path, format: InputFormat) -> Result<(Input, Rules), Failure> {
    let text = read_text(path)?;
    Ok(match format {
        InputFormat::Auto => careweek::batch::parse_caseload_as(&text)?,
        InputFormat::Careweek => (parse_input(&text)?, Rules::Careweek),
        InputFormat::Refbench => (refbench::import(&text)?, Rules::Refbench),
    })
}

/// A hidden file in `path`'s directory, named after it, this process and `suffix`: the
/// process id keeps two runs writing the same file from sharing one.
fn hidden_sibling(path: &Path, suffix: &str) -> PathBuf {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(format!(
        ".{}.{}.{suffix}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("careweek"),
        std::process::id()
    ))
}

/// Writes JSON through a temporary file in the same directory, so a reader never sees half a
/// file; straight to `path` when it is not a regular file (`/dev/null`, a pipe), which a
/// rename would replace.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::Other(e.to_string()))?;
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")
        };
        return write()
            .map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())));
    }
    let tmp = hidden_sibling(path, "tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Failure::Other(format!("cannot write {}: {e}", path.display()))
    })
}

/// `-` as an output: stdout, as `-` is stdin as an input.
fn is_dash(path: &Path) -> bool {
    path == Path::new("-")
}

/// Fails at once when the schedule could not be written to `path` (a directory, a folder
/// that does not exist or that is not writable), so that a solve of up to its whole time
/// limit is not spent on a schedule that [`write_json`] then cannot keep. A device or pipe
/// is left alone (opening a pipe would wait for its reader): it is written as is.
fn check_writable(path: &Path) -> Result<(), Failure> {
    let fail = |e: String| Failure::Other(format!("cannot write {}: {e}", path.display()));
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(fail("it is a directory; name a file".into())),
        Ok(m) if !m.is_file() => return Ok(()),
        _ => {}
    }
    // A file beside it, as `write_json` writes the schedule there first.
    let probe = hidden_sibling(path, "probe");
    std::fs::File::create(&probe).map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn run_solve(
    path: &Path,
    output: Option<&Path>,
    mut options: SolveOptions,
    format: InputFormat,
    refbench_out: Option<&Path>,
    print: OutputFormat,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    if let (Some(a), Some(b)) = (output, refbench_out) {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if absolute(a) == absolute(b) {
            return Err(Failure::Other(format!(
                "--output and --refbench-out both name {}: the refbench solution would overwrite the schedule; give each its own file",
                a.display()
            )));
        }
    }
    for (flag, out) in [("--output", output), ("--refbench-out", refbench_out)] {
        if out.is_some_and(is_dash) {
            return Err(Failure::Other(format!(
                "{flag} - would write a file named '-' (stdout already carries the calendars): \
                 print the schedule JSON with --format json, or name a file"
            )));
        }
    }
    let (input, rules) = read_input(path, format)?;
    let problem = validate_as(input.clone(), rules)?;
    for out in output.into_iter().chain(refbench_out) {
        check_writable(out)?;
    }
    // Ctrl-C stops the search and keeps the best schedule found so far (written and
    // printed as usual); a second Ctrl-C ends the process at once.
    let cancel = Arc::new(AtomicBool::new(false));
    options.cancel = Some(cancel.clone());
    let interrupted = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if interrupted.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
    if !quiet && std::io::stderr().is_terminal() {
        options.progress = Some(Arc::new(|p: &careweek::Progress| {
            let gap = if p.incumbent > 0 {
                (p.incumbent as f64 - p.bound).max(0.0) / p.incumbent as f64 * 100.0
            } else {
                0.0
            };
            eprint!(
                "\r  {:6.1} s  objective {:>9}  bound {:>11.1}  gap {gap:5.1}%   ",
                p.elapsed, p.incumbent, p.bound
            );
        }));
    }
    let schedule = solve(&problem, &options);
    if options.progress.is_some() {
        eprintln!();
    }
    if cancel.load(Ordering::Relaxed) && !quiet {
        eprintln!("careweek: interrupted; the best schedule found so far follows");
    }
    if let Some(out) = output {
        write_json(out, &schedule)?;
    }
    if let Some(out) = refbench_out {
        write_json(out, &refbench::export(&input, &schedule))?;
    }
    let text = match print {
        OutputFormat::Text => report::render_text(&input, &schedule),
        OutputFormat::Json => {
            serde_json::to_string_pretty(&schedule).map_err(|e| Failure::Other(e.to_string()))?
                + "\n"
        }
    };
    emit(&text)?;
    if let Some(note) = overrun_note(
        options.time_limit,
        started.elapsed().as_secs_f64(),
        schedule.stats.options,
    )
    .filter(|_| !quiet)
    {
        eprintln!("{note}");
    }
    if let Some(note) = thinned_note(options.time_limit, schedule.stats.thinned).filter(|_| !quiet)
    {
        eprintln!("{note}");
    }
    // The independent checker has the last word: a schedule that breaks a hard rule is
    // never reported as a success (pinned bookings whose prerequisites or bundle mates
    // cannot all be placed beside them are not all caught by validation).
    let report = careweek::check::check(&input, &schedule);
    if !report.violations.is_empty() {
        eprintln!(
            "careweek: the schedule breaks {} hard constraint(s); it is shown for inspection, not to be booked:",
            report.violations.len()
        );
        for v in &report.violations {
            eprintln!("  [{}] {}", v.constraint, v.message);
        }
        eprintln!(
            "  hint: pinned bookings and what they need (prerequisites, bundle mates) may not all fit: unpin one (\"pinned\": false); if none is pinned, please report this input"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// How far past its time limit a run may end before `solve` says why.
const OVERRUN_NOTED: f64 = 1.0;

/// What `solve` says when a run ended more than [`OVERRUN_NOTED`] seconds past its time
/// limit: on a dense caseload reading it, building its options and a first schedule take
/// longer than a short limit, and nothing watches the clock before that.
fn overrun_note(limit: f64, took: f64, options: usize) -> Option<String> {
    (took > limit + OVERRUN_NOTED).then(|| {
        format!(
            "careweek: note: this run took {took:.1} s against a time limit of {limit} s: \
             reading the caseload, building its {options} options and a first schedule come \
             before the clock is watched; give it more time (README, \"Other limits\")"
        )
    })
}

/// What `solve` says when some requests were offered only part of their providers' days
/// (see `Stats::thinned`).
fn thinned_note(limit: f64, thinned: usize) -> Option<String> {
    (thinned > 0).then(|| {
        format!(
            "careweek: note: {thinned} request(s) were offered only some of their providers' \
             days, to build the options within the time limit of {limit} s (or past 20,000 \
             starts a request); the bound leaves those requests out; give it more time \
             (README, \"Other limits\")"
        )
    })
}

/// Writes to stdout. A closed pipe (`| head`) is the reader's choice, not a failure, and
/// must not panic as `println!` would; any other error (a full disk) loses the output and
/// is one.
fn emit(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Other(format!("cannot write stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// What a file given as the schedule that is not one looks like instead, and what to do.
fn not_a_schedule(text: &str) -> (Option<String>, &'static str) {
    let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let has = |key: &str| value.as_ref().is_some_and(|v| v.get(key).is_some());
    if has("assignments") {
        (
            Some("it is a refbench solution (top-level \"assignments\")".into()),
            "check a refbench solution with refbench's own check.py, or pass the schedule `careweek solve -o` wrote for that instance",
        )
    } else if has("requests") {
        (
            Some("it is a caseload (top-level \"requests\")".into()),
            "the arguments are `careweek check INPUT SCHEDULE`: the caseload first, then the JSON written by `careweek solve -o`",
        )
    } else if let Some(kind) = careweek::validate::json_other_than_object(text) {
        (
            Some(format!("it is {kind}, where a schedule is one JSON object")),
            "pass the JSON written by `careweek solve -o`",
        )
    } else {
        (None, "pass the JSON written by `careweek solve -o`")
    }
}

/// The request id of the booking a schedule path such as `placed[3].start` is in, when the
/// text parses as JSON.
fn booking_request(text: &str, path: &str) -> Option<String> {
    let (list, rest) = path.split_once('[')?;
    let index: usize = rest.split(']').next()?.parse().ok()?;
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value
        .get(list)?
        .get(index)?
        .get("request")?
        .as_str()
        .map(str::to_owned)
}

fn run_check(input: &Path, schedule: &Path, format: InputFormat) -> Result<ExitCode, Failure> {
    if is_dash(input) && is_dash(schedule) {
        return Err(Failure::Input(ValidationReport::single(
            "E000",
            "-",
            "the caseload and the schedule cannot both be read from stdin".to_string(),
            "give one of them as a file: `careweek check INPUT SCHEDULE`, e.g. `careweek solve week.json --format json | careweek check week.json -`",
        )));
    }
    let (input, rules) = read_input(input, format)?;
    validate_as(input.clone(), rules)?;
    let text = read_text(schedule)?;
    let schedule_file = schedule.display().to_string();
    // A byte order mark in front is skipped, as in a caseload.
    let text = careweek::validate::without_bom(&text);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed: Result<Schedule, _> = serde_path_to_error::deserialize(&mut de);
    // Text after the schedule (two schedules one after another, say) is refused, as after
    // a caseload: checking the first alone would pass what was never checked.
    if parsed.is_ok() {
        if let Err(e) = de.end() {
            return Err(Failure::Input(ValidationReport::single(
                "E001",
                schedule_file,
                format!("not a careweek schedule: {e} after the schedule's object"),
                "remove what follows the schedule's top-level object: one schedule per file",
            )));
        }
    }
    let schedule: Schedule = parsed.map_err(|e| {
        let (what, hint) = not_a_schedule(text);
        // Where in the schedule, and which booking: "placed[3].start (request 'r-7')".
        let path = careweek::validate::json_error_path(&e.path().to_string());
        let at = match path.as_str() {
            // Not a schedule at all: where serde stopped says nothing.
            _ if what.is_some() => String::new(),
            "$" => String::new(),
            path => {
                let request = booking_request(text, path)
                    .map(|id| format!(" (request '{id}')"))
                    .unwrap_or_default();
                format!(" at {path}{request}")
            }
        };
        let message = careweek::validate::plain_type_message(&e.into_inner().to_string());
        let unknown_field = message.starts_with("unknown field");
        let hint = if path.ends_with(".start") || path.ends_with(".end") {
            "write times as `careweek solve -o` does: a date-time with its UTC offset, 2026-03-02T09:00:00-05:00"
        } else if unknown_field && what.is_none() {
            "remove or rename the field: a schedule has the fields `careweek solve -o` writes"
        } else {
            hint
        };
        // Where is said by the path; serde's line and column add nothing to it.
        let message = match message.rfind(" at line ") {
            Some(i) if unknown_field => message[..i].to_string(),
            _ => message,
        };
        Failure::Input(ValidationReport::single(
            "E002",
            schedule_file.clone(),
            format!("not a careweek schedule{at}: {}", what.unwrap_or(message)),
            hint,
        ))
    })?;
    // A booking written as an array would be read by position into its fields.
    if let Some(path) = careweek::validate::array_read_as_object(text, &schedule) {
        let request = booking_request(text, &path)
            .map(|id| format!(" (request '{id}')"))
            .unwrap_or_default();
        return Err(Failure::Input(ValidationReport::single(
            "E002",
            schedule_file,
            format!("not a careweek schedule at {path}{request}: invalid type: array, expected an object"),
            "write the value as `careweek solve -o` does, an object with named fields",
        )));
    }
    // A schedule of another format version may mean other things by the same fields.
    if schedule.version != careweek::model::FORMAT_VERSION {
        return Err(Failure::Input(ValidationReport::single(
            "E004",
            format!("{schedule_file}: version"),
            format!("schedule format version {} is not supported", schedule.version),
            format!(
                "this release reads version {}: check the schedule with the careweek release that wrote it",
                careweek::model::FORMAT_VERSION
            ),
        )));
    }
    let report = check(&input, &schedule);
    if report.violations.is_empty() {
        emit(&format!(
            "ok: {} placed, {} unplaced, objective {} (every hard constraint holds)\n",
            schedule.placed.len(),
            schedule.unplaced.len(),
            report.objective.total
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    for v in &report.violations {
        let requests = if v.requests.is_empty() {
            String::new()
        } else {
            format!(" {}", v.requests.join(", "))
        };
        text += &format!("violation [{}]{requests}: {}\n", v.constraint, v.message);
    }
    text += &format!("{} violation(s)\n", report.violations.len());
    emit(&text)?;
    Ok(ExitCode::from(1))
}

/// The caseloads of a batch: names, and how to read each one.
struct BatchInput {
    names: Vec<String>,
    source: BatchSource,
}

enum BatchSource {
    /// One file per caseload, read by the worker that solves it.
    Files(Vec<PathBuf>),
    /// The lines of a JSON-lines input (or why a line is unusable).
    Lines(Vec<Result<String, ValidationReport>>),
    /// Pretty-printed caseloads one after another: the whole input and each one's span.
    Values { text: String, spans: Vec<ValueSpan> },
}

/// Where one top-level JSON value lies in its input.
struct ValueSpan {
    /// Byte range.
    range: std::ops::Range<usize>,
    /// Line (from 1) and byte column (from 0) it starts at.
    line: usize,
    column: usize,
    /// Whether its brackets balance (a value that is not an object or array never does).
    closed: bool,
}

impl BatchInput {
    fn load(&self, i: usize) -> Result<String, ValidationReport> {
        match &self.source {
            BatchSource::Files(paths) => {
                let path = &paths[i];
                let bytes = std::fs::read(path).map_err(|e| {
                    ValidationReport::single(
                        "E000",
                        path.display().to_string(),
                        format!("cannot read {}: {e}", path.display()),
                        "check that the file is readable",
                    )
                })?;
                String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes()))
            }
            BatchSource::Lines(lines) => lines[i].clone(),
            // Blank lines and spaces in front, so that a syntax error's line and column are
            // those of the input.
            BatchSource::Values { text, spans } => {
                let span = &spans[i];
                let mut value = "\n".repeat(span.line - 1) + &" ".repeat(span.column);
                value += &text[span.range.clone()];
                Ok(value)
            }
        }
    }
}

/// A directory's `*.json` files, or the non-blank lines of a JSON-lines file or stdin (or the
/// whole of it, when it is one JSON value over several lines).
fn batch_input(path: &Path) -> Result<BatchInput, Failure> {
    let cannot_read = |e: &dyn std::fmt::Display| {
        Failure::Input(ValidationReport::single(
            "E000",
            path.display().to_string(),
            format!("cannot read {}: {e}", path.display()),
            "pass a directory of *.json caseloads, a JSON-lines file or - for stdin",
        ))
    };
    let stdin = path == Path::new("-");
    if !stdin && path.is_dir() {
        let (files, skipped) = bench::dir_entries(path).map_err(|e| cannot_read(&e))?;
        report_skipped_entries(path, skipped);
        let names = files
            .iter()
            .map(|f| {
                f.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            })
            .collect();
        return Ok(BatchInput {
            names,
            source: BatchSource::Files(files),
        });
    }
    let mut bytes = Vec::new();
    let read = if stdin {
        std::io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.map_err(|e| cannot_read(&e))?;
    let label = if stdin {
        "stdin".to_string()
    } else {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    // Pretty-printed caseloads, one or several one after another (`cat a.json b.json`), are
    // split where each whole value ends, so that a malformed one does not take the others
    // with it. JSON lines, where at least half the lines are a whole value each, are split
    // by line: there a truncated line stays one bad caseload rather than running into the
    // lines after it.
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let whole = lines
            .iter()
            .filter(|l| matches!(&top_level_values(l)[..], [v] if v.closed))
            .count();
        if 2 * whole < lines.len() {
            let spans = top_level_values(text);
            let names = if spans.len() == 1 {
                vec![label]
            } else {
                spans
                    .iter()
                    .map(|s| format!("{label}:{}", s.line))
                    .collect()
            };
            return Ok(BatchInput {
                names,
                source: BatchSource::Values {
                    text: text.to_string(),
                    spans,
                },
            });
        }
    }
    let mut names = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.strip_prefix(BOM).unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let name = format!("{label}:{}", i + 1);
        // One line that is not UTF-8 is one bad caseload, not an unreadable batch.
        lines.push(String::from_utf8(line.to_vec()).map_err(|e| {
            ValidationReport::single(
                "E001",
                "$",
                format!("line {} is not UTF-8 text: {e}", i + 1),
                "save the caseloads as UTF-8",
            )
        }));
        names.push(name);
    }
    Ok(BatchInput {
        names,
        source: BatchSource::Lines(lines),
    })
}

/// A UTF-8 byte order mark, which editors may put at the start of each file.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// The top-level JSON values of `text`, one after another: each runs from an opening bracket
/// to where brackets balance again (outside strings), whatever it holds, so that a syntax
/// error stays within its own value. Anything else at the top level runs to the end of its
/// line (a bad value of its own). Whitespace and byte order marks between values are
/// skipped.
fn top_level_values(text: &str) -> Vec<ValueSpan> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    while i < bytes.len() {
        if bytes[i..].starts_with(BOM) {
            i += BOM.len();
            continue;
        }
        if bytes[i] == b'\n' {
            (i, line, line_start) = (i + 1, line + 1, i + 1);
            continue;
        }
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (start, start_line, column) = (i, line, i - line_start);
        let mut closed = false;
        if matches!(bytes[i], b'{' | b'[') {
            let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
            while i < bytes.len() {
                let c = bytes[i];
                i += 1;
                if c == b'\n' {
                    (line, line_start) = (line + 1, i);
                }
                if in_string {
                    match c {
                        _ if escaped => escaped = false,
                        b'\\' => escaped = true,
                        b'"' => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match c {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            closed = true;
                            break;
                        }
                    }
                    _ => {}
                }
            }
        } else {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        }
        spans.push(ValueSpan {
            range: start..i,
            line: start_line,
            column,
            closed,
        });
    }
    spans
}

/// Says on stderr which entries of a batch directory are not caseloads (subdirectories and
/// files not named `*.json`), so that none is left out unnoticed.
fn report_skipped_entries(dir: &Path, mut skipped: Vec<String>) {
    if skipped.is_empty() {
        return;
    }
    const SHOWN: usize = 8;
    let total = skipped.len();
    let more = match total.saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    skipped.truncate(SHOWN);
    eprintln!(
        "careweek: skipped {total} entr{} of {} that {} not *.json files (subdirectories are not searched): {}{more}",
        if total == 1 { "y" } else { "ies" },
        dir.display(),
        if total == 1 { "is" } else { "are" },
        skipped.join(", ")
    );
}

/// One output line of `solve-batch`.
#[derive(serde::Serialize)]
struct BatchLine<'a> {
    index: usize,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<&'a Schedule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [InputIssue]>,
    /// Hard rules the schedule breaks (the checker's): present only when it breaks one.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    violations: &'a [Violation],
}

fn run_solve_batch(
    path: &Path,
    output: Option<&Path>,
    mut options: SolveOptions,
) -> Result<ExitCode, Failure> {
    let input = batch_input(path)?;
    // Created before any solving, so that a wrong output path fails at once.
    let mut sink: Box<dyn Write> = match output.filter(|out| !is_dash(out)) {
        Some(out) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(out)
                .map_err(|e| Failure::Other(format!("cannot write {}: {e}", out.display())))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    if input.names.is_empty() {
        eprintln!("careweek: no caseloads in {}", path.display());
    }
    // When the output goes away nothing more can be delivered: stop solving.
    let cancel = Arc::new(AtomicBool::new(false));
    options.cancel = Some(cancel.clone());
    let started = Instant::now();
    let (mut solved, mut bad, mut broken, mut written) = (0usize, 0usize, 0usize, 0usize);
    let mut write_error: Option<std::io::Error> = None;
    let total = input.names.len();
    solve_batch_with(
        input.names.clone(),
        |i| input.load(i),
        &options,
        |r: BatchResult| {
            let line = match &r.outcome {
                Ok(schedule) => {
                    solved += 1;
                    if let Some(first) = r.violations.first() {
                        broken += 1;
                        eprintln!(
                            "careweek: caseload {} ({}): the schedule breaks {} hard constraint(s), it is not to be booked: [{}] {}",
                            r.index,
                            r.name,
                            r.violations.len(),
                            first.constraint,
                            first.message
                        );
                    }
                    BatchLine {
                        index: r.index,
                        name: &r.name,
                        schedule: Some(schedule),
                        errors: None,
                        violations: &r.violations,
                    }
                }
                Err(report) => {
                    bad += 1;
                    if let Some(first) = report.issues.first() {
                        let more = match report.issues.len() {
                            1 => String::new(),
                            n => format!(" (and {} more)", n - 1),
                        };
                        eprintln!(
                            "careweek: caseload {} ({}): [{}] {}: {}{more}",
                            r.index, r.name, first.code, first.path, first.message
                        );
                    }
                    BatchLine {
                        index: r.index,
                        name: &r.name,
                        schedule: None,
                        errors: Some(&report.issues),
                        violations: &[],
                    }
                }
            };
            if write_error.is_some() {
                return;
            }
            let written_ok = serde_json::to_writer(&mut sink, &line)
                .map_err(std::io::Error::from)
                .and_then(|()| sink.write_all(b"\n"))
                .and_then(|()| sink.flush());
            match written_ok {
                Ok(()) => written += 1,
                Err(e) => {
                    cancel.store(true, Ordering::Relaxed);
                    write_error = Some(e);
                }
            }
        },
    );
    let seconds = started.elapsed().as_secs_f64();
    let broken_note = if broken > 0 {
        format!(" ({broken} breaking a hard constraint)")
    } else {
        String::new()
    };
    eprintln!(
        "solve-batch: {total} caseloads, {solved} solved{broken_note}, {bad} bad input, {seconds:.2} s wall, {:.2} caseloads/s",
        if seconds > 0.0 { (solved + bad) as f64 / seconds } else { 0.0 }
    );
    if let Some(e) = write_error {
        // A closed pipe (`| head`) is the reader's choice; any other write error is a failure.
        if output.is_some() || e.kind() != std::io::ErrorKind::BrokenPipe {
            let to = output.map_or("stdout".to_string(), |o| o.display().to_string());
            return Err(Failure::Other(format!(
                "cannot write {to} after {written} line(s): {e}"
            )));
        }
        eprintln!("careweek: output closed after {written} of {total} lines; stopped");
    }
    // Bad input first (2), as `solve` does; then a schedule that breaks a rule (1).
    Ok(if bad > 0 {
        ExitCode::from(2)
    } else if broken > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `bench` solves.
enum Cases<'a> {
    Generated { sizes: Vec<usize>, grid5_at: usize },
    Refbench(&'a Path),
}

fn run_bench(
    cases: Cases,
    out: Option<&Path>,
    options: &BenchOptions,
) -> Result<ExitCode, Failure> {
    let other = |e: bench::BenchError| Failure::Other(e.to_string());
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Other(format!("cannot find the careweek executable: {e}")))?;
    let out_dir = out.map_or_else(|| PathBuf::from("target/bench"), Path::to_path_buf);
    let cases = match cases {
        Cases::Generated { sizes, grid5_at } => {
            eprintln!(
                "bench: generating caseloads into {}",
                out_dir.join("caseloads").display()
            );
            bench::generated_cases(&sizes, grid5_at, options.seed, &out_dir.join("caseloads"))
                .map_err(other)?
        }
        Cases::Refbench(dir) => {
            if !dir.is_dir() {
                return Err(Failure::Input(ValidationReport::single(
                    "E000",
                    dir.display().to_string(),
                    format!("{} is not a directory", dir.display()),
                    "pass the directory that holds the refbench instances (*.json)",
                )));
            }
            let (cases, skipped) = bench::refbench_cases(dir, out).map_err(|e| match e {
                bench::BenchError::Instance { .. } => Failure::Input(ValidationReport::single(
                    "R001",
                    dir.display().to_string(),
                    e.to_string(),
                    "fix or remove the instance",
                )),
                e => other(e),
            })?;
            for note in &skipped {
                eprintln!("bench: skipped {note}");
            }
            if cases.is_empty() {
                return Err(Failure::Input(ValidationReport::single(
                    "E000",
                    dir.display().to_string(),
                    format!(
                        "no refbench instances in {}: {}",
                        dir.display(),
                        if skipped.is_empty() {
                            "it holds no *.json file (our solutions, *.careweek.json, are not instances)"
                        } else {
                            "every *.json file in it was skipped (listed above)"
                        }
                    ),
                    "pass the directory that holds the instances, as `python3 ../shared/refbench/gen.py --patients N --seed S --out DIR/NAME.json` writes them",
                )));
            }
            if let Some(out) = out {
                std::fs::create_dir_all(out).map_err(|e| {
                    Failure::Other(format!("cannot create directory {}: {e}", out.display()))
                })?;
            }
            cases
        }
    };
    if cases.is_empty() {
        return Err(Failure::Other("no caseloads to benchmark".to_string()));
    }
    let schedules = out_dir.join("schedules");
    std::fs::create_dir_all(&schedules).map_err(|e| {
        Failure::Other(format!(
            "cannot create directory {}: {e}",
            schedules.display()
        ))
    })?;
    let rows = bench::run_cases(&exe, &cases, options, Some(&schedules), try_reap, |line| {
        eprintln!("bench: {line}")
    });
    let settings = bench::settings_line(options);
    emit(&format!("{settings}\n\n{}", bench::tables(&rows)))?;
    let (md, jsonl) = bench::write_results(&out_dir, &settings, &rows).map_err(other)?;
    eprintln!("bench: wrote {} and {}", md.display(), jsonl.display());
    let failed = rows.iter().filter(|r| !r.ok).count();
    if failed > 0 {
        eprintln!(
            "careweek: {failed} of {} solves returned no schedule or broke a hard constraint",
            rows.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reaps the child if it has exited, with its peak resident set from `wait4(2)`.
#[cfg(target_os = "linux")]
fn try_reap(child: &mut std::process::Child) -> std::io::Result<Option<bench::Reaped>> {
    use std::os::unix::process::ExitStatusExt;
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| std::io::Error::other("child process id out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are live, writable locals of the types wait4 expects,
        // and `pid` is our own child, not yet reaped (std only reaps in `wait`/`try_wait`,
        // which are not called on it).
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == 0 {
            return Ok(None);
        }
        if r == pid {
            return Ok(Some(bench::Reaped {
                status: std::process::ExitStatus::from_raw(status),
                // ru_maxrss is in KiB on Linux.
                peak_rss_kib: u64::try_from(usage.ru_maxrss).ok(),
            }));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Elsewhere: the exit alone; the table says "n/a" for memory.
#[cfg(not(target_os = "linux"))]
fn try_reap(child: &mut std::process::Child) -> std::io::Result<Option<bench::Reaped>> {
    bench::try_reap_portable(child)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overrun_past_a_second_is_explained_and_a_small_one_is_not() {
        // 14.4 million options, 1 s asked, 4.2 s taken: said, with the figures.
        let note = overrun_note(1.0, 4.17, 14_409_107).expect("3.2 s over");
        assert!(note.contains("took 4.2 s"), "{note}");
        assert!(note.contains("time limit of 1 s"), "{note}");
        assert!(note.contains("14409107 options"), "{note}");
        // Within a second of the limit (the margin the limit is kept to): nothing.
        assert_eq!(overrun_note(60.0, 60.9, 1_000), None);
        assert_eq!(overrun_note(0.5, 1.5, 10), None);
        assert!(overrun_note(0.5, 1.51, 10).is_some());
    }

    #[test]
    fn thinned_requests_are_said_with_the_limit_and_none_is_not() {
        let note = thinned_note(1.0, 5_458).expect("5,458 thinned");
        assert!(note.contains("5458 request(s)"), "{note}");
        assert!(note.contains("time limit of 1 s"), "{note}");
        assert!(note.contains("bound leaves those requests out"), "{note}");
        assert_eq!(thinned_note(60.0, 0), None);
    }
}
