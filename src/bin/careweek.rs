//! The careweek command line: a thin layer over the library.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use careweek::validate::ValidationReport;
use careweek::{
    check, generate, parse_input, refbench, report, solve, validate, GenerateOptions, Input,
    Schedule, SolveOptions,
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
        /// Wall-clock limit in seconds.
        #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
        time_limit: f64,
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
    /// Write a realistic synthetic caseload.
    Generate {
        /// Patients on the caseload.
        #[arg(long)]
        patients: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Grid minutes: 5 or 15.
        #[arg(long, default_value_t = 15, value_parser = parse_grid)]
        grid: u32,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Longest time limit accepted: a week. Beyond it the deadline arithmetic would overflow,
/// and no caseload needs it.
const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

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
                time_limit,
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
        Command::Generate {
            patients,
            seed,
            grid,
            output,
        } => {
            let input = generate(&GenerateOptions {
                patients,
                seed,
                grid_min: grid,
            });
            write_json(&output, &input).map(|_| {
                eprintln!(
                    "wrote {} ({} patients, {} requests)",
                    output.display(),
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
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| {
        Failure::Input(ValidationReport::single(
            "E000",
            path.display().to_string(),
            format!("cannot read {}: {e}", path.display()),
            "check the file name and that it is readable",
        ))
    })?;
    Ok(text)
}

fn read_input(path: &Path, format: InputFormat) -> Result<Input, Failure> {
    let text = read_text(path)?;
    let refbench = match format {
        InputFormat::Auto => refbench::is_refbench(&text),
        InputFormat::Careweek => false,
        InputFormat::Refbench => true,
    };
    Ok(if refbench {
        refbench::import(&text)?
    } else {
        parse_input(&text)?
    })
}

/// Writes JSON through a temporary file in the same directory, so a reader never sees half a
/// file.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::Other(e.to_string()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The process id keeps two runs writing the same file from sharing a temporary file.
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("careweek"),
        std::process::id()
    ));
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

fn run_solve(
    path: &Path,
    output: Option<&Path>,
    mut options: SolveOptions,
    format: InputFormat,
    refbench_out: Option<&Path>,
    print: OutputFormat,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    let input = read_input(path, format)?;
    let problem = validate(input.clone())?;
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
    emit(&text);
    Ok(ExitCode::SUCCESS)
}

/// Writes to stdout. A closed pipe (`| head`) is the reader's choice, not a failure, and
/// must not panic as `println!` would.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn run_check(input: &Path, schedule: &Path, format: InputFormat) -> Result<ExitCode, Failure> {
    let input = read_input(input, format)?;
    validate(input.clone())?;
    let text = read_text(schedule)?;
    let schedule: Schedule = serde_json::from_str(&text).map_err(|e| {
        Failure::Input(ValidationReport::single(
            "E002",
            schedule.display().to_string(),
            format!("not a careweek schedule: {e}"),
            "pass the JSON written by `careweek solve -o`",
        ))
    })?;
    let report = check(&input, &schedule);
    if report.violations.is_empty() {
        emit(&format!(
            "ok: {} placed, {} unplaced, objective {} (every hard constraint holds)\n",
            schedule.placed.len(),
            schedule.unplaced.len(),
            report.objective.total
        ));
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
    emit(&text);
    Ok(ExitCode::from(1))
}
