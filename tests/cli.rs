//! End-to-end tests of the `careweek` binary: solve and check the shipped example week,
//! catch a tampered schedule, round-trip a generated caseload, reject bad input with exit
//! code 2 and one line per problem without writing anything, and (when python3 is present)
//! solve a refbench instance that the reference checker accepts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use careweek::Schedule;

/// Small budgets: these tests are about the interface, not the optimum.
const FAST: &[&str] = &["--time-limit", "3", "--work", "50", "--quiet"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example() -> PathBuf {
    root().join("data/example-week.json")
}

fn careweek(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_careweek"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the careweek binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn read_json(p: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(p).expect("the file was written");
    serde_json::from_str(&text).expect("valid JSON")
}

fn read_schedule(p: &Path) -> Schedule {
    serde_json::from_value(read_json(p)).expect("a careweek schedule")
}

/// Request id → patient id, from an input file.
fn requests_of(input: &serde_json::Value) -> BTreeMap<String, String> {
    input["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().expect("a string id").to_string();
            (s("id"), s("patient"))
        })
        .collect()
}

/// Every request of the input appears exactly once in the schedule, placed or unplaced.
fn assert_every_request_once(input: &serde_json::Value, schedule: &Schedule) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for id in schedule.placed.iter().map(|p| &p.request) {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    for id in schedule.unplaced.iter().map(|u| &u.request) {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    let wanted = requests_of(input);
    let got: Vec<&str> = seen.keys().copied().collect();
    let want: Vec<&str> = wanted.keys().map(String::as_str).collect();
    assert_eq!(got, want, "the schedule lists exactly the input's requests");
    for (id, n) in seen {
        assert_eq!(n, 1, "request {id} appears {n} times");
    }
}

#[test]
fn solve_the_example_week_then_check_it_then_catch_a_tampered_copy() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("week.json");
    let run = careweek(&[&["solve", path(&example()), "-o", path(&out)], FAST].concat());
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "solve failed: {}", text(&run.stderr));

    let input = read_json(&example());
    let schedule = read_schedule(&out);
    assert_every_request_once(&input, &schedule);
    assert!(
        !schedule.unplaced.is_empty(),
        "the example has a request that cannot fit"
    );

    // Every patient with a placed request has a calendar, under their name.
    let names: BTreeMap<&str, &str> = input["patients"]
        .as_array()
        .expect("patients")
        .iter()
        .map(|p| {
            let id = p["id"].as_str().expect("an id");
            (id, p["name"].as_str().unwrap_or(id))
        })
        .collect();
    for p in &schedule.placed {
        let name = names[p.patient.as_str()];
        assert!(
            stdout.contains(&format!("\n{name}: ")),
            "no calendar for {name}"
        );
    }
    let (_, unplaced) = stdout
        .split_once("\nCould not place (")
        .expect("a Could not place section");
    for u in &schedule.unplaced {
        assert!(unplaced.contains(&u.request), "{} is not listed", u.request);
        assert!(
            unplaced.contains(&u.reason),
            "{}'s reason is missing",
            u.request
        );
    }
    assert!(stdout.contains(&format!(
        "Placed     {} of {} requests",
        schedule.placed.len(),
        requests_of(&input).len()
    )));

    let ok = careweek(&["check", path(&example()), path(&out)]);
    assert!(ok.status.success(), "check rejected: {}", text(&ok.stdout));
    assert!(text(&ok.stdout).starts_with(&format!(
        "ok: {} placed, {} unplaced, objective {}",
        schedule.placed.len(),
        schedule.unplaced.len(),
        schedule.objective.total
    )));

    // Move one appointment to 03:00 the same day: nobody works then.
    let mut tampered = schedule.clone();
    let moved = &mut tampered.placed[0];
    let length = moved.end - moved.start;
    let at_three = moved
        .start
        .date_naive()
        .and_hms_opt(3, 0, 0)
        .expect("03:00 exists");
    moved.start = at_three
        .and_local_timezone(*moved.start.offset())
        .single()
        .expect("a fixed offset is unambiguous");
    moved.end = moved.start + length;
    let id = moved.request.clone();
    let bad = dir.path().join("tampered.json");
    std::fs::write(&bad, serde_json::to_string(&tampered).expect("serialises")).expect("written");
    let caught = careweek(&["check", path(&example()), path(&bad)]);
    let report = text(&caught.stdout);
    assert_eq!(caught.status.code(), Some(1), "{report}");
    let line = report
        .lines()
        .find(|l| l.starts_with("violation [") && l.contains(&id))
        .unwrap_or_else(|| panic!("no violation names {id}:\n{report}"));
    assert!(line.contains("03:00"), "the message gives the time: {line}");
}

#[test]
fn generate_solve_check_round_trip_through_stdin_and_json_output() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let caseload = dir.path().join("gen.json");
    let generated = careweek(&[
        "generate",
        "--patients",
        "6",
        "--seed",
        "3",
        "-o",
        path(&caseload),
    ]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let input = read_json(&caseload);
    assert_eq!(input["patients"].as_array().map(Vec::len), Some(6));

    // The same caseload through stdin, JSON on stdout and in the file.
    let out = dir.path().join("s.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_careweek"))
        .args([&["solve", "-", "-o", path(&out), "--format", "json"], FAST].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the careweek binary runs");
    child
        .stdin
        .take()
        .expect("a stdin pipe")
        .write_all(&std::fs::read(&caseload).expect("readable"))
        .expect("stdin accepted");
    let run = child.wait_with_output().expect("solve finishes");
    assert!(run.status.success(), "{}", text(&run.stderr));
    let printed: Schedule = serde_json::from_slice(&run.stdout).expect("stdout is the schedule");
    let written = read_schedule(&out);
    assert_eq!(printed, written);
    assert_every_request_once(&input, &written);

    let checked = careweek(&["check", path(&caseload), path(&out)]);
    assert!(checked.status.success(), "{}", text(&checked.stdout));
    assert!(text(&checked.stdout).starts_with("ok: "));

    // A schedule of another caseload is caught, not accepted and not a crash.
    let foreign = careweek(&["check", path(&example()), path(&out)]);
    let report = text(&foreign.stdout);
    assert_eq!(foreign.status.code(), Some(1), "{report}");
    assert!(report.contains("violation [coverage]"), "{report}");
    assert!(!report.contains("] :"), "no empty request list: {report}");
    // No temporary file is left behind next to the outputs.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("listable")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Broken caseloads of the shared corpus and the issues each must produce.
const BAD: &[(&str, &[(&str, &str)])] = &[
    ("unknown-patient", &[("E012", "requests[0].patient")]),
    (
        "window-ends-before-start",
        &[("E015", "providers[0].hours.mon[0]")],
    ),
    ("precedence-cycle", &[("E026", "links")]),
    ("unknown-top-level-field", &[("E003", "patinets")]),
    (
        "unknown-nested-field",
        &[("E003", "providers[0].speciality")],
    ),
    (
        "three-problems-at-once",
        &[
            ("E015", "providers[1].hours.tue[0]"),
            ("E012", "requests[0].patient"),
            ("E026", "links"),
        ],
    ),
    ("truncated-json", &[("E001", "providers[0]")]),
];

#[test]
fn bad_input_exits_2_with_one_line_per_problem_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, expected) in BAD {
        let file = root().join(format!("tests/bad_input/{name}.json"));
        let out = dir.path().join(format!("{name}.out.json"));
        let rb = dir.path().join(format!("{name}.rb.json"));
        let run = careweek(&[
            "solve",
            path(&file),
            "-o",
            path(&out),
            "--refbench-out",
            path(&rb),
            "--time-limit",
            "1",
        ]);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{name}: {stderr}");
        assert!(run.stdout.is_empty(), "{name}: nothing on stdout");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error[")).collect();
        assert_eq!(errors.len(), expected.len(), "{name}:\n{stderr}");
        for (line, (code, at)) in errors.iter().zip(expected.iter()) {
            let prefix = format!("error[{code}] {at}: ");
            assert!(
                line.starts_with(&prefix),
                "{name}: {line:?} is not {prefix:?}…"
            );
            assert!(line.len() > prefix.len(), "{name}: an empty message");
        }
        let hints = stderr.lines().filter(|l| l.starts_with("  hint: ")).count();
        assert_eq!(hints, expected.len(), "{name}: one hint per problem");
        assert!(!out.exists(), "{name}: -o was written");
        assert!(!rb.exists(), "{name}: --refbench-out was written");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");

        // check reads the input the same way.
        let checked = careweek(&["check", path(&file), path(&example())]);
        assert_eq!(checked.status.code(), Some(2), "{name}: check");
    }
}

#[test]
fn missing_or_wrong_files_exit_2_naming_the_path() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("no-such-week.json");
    let out = dir.path().join("out.json");
    let run = careweek(&["solve", path(&missing), "-o", path(&out)]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = text(&run.stderr);
    assert!(stderr.contains(path(&missing)), "{stderr}");
    assert!(stderr.starts_with("error["), "{stderr}");
    assert!(!out.exists());

    // A schedule that is missing, or is not a schedule at all.
    let run = careweek(&["check", path(&example()), path(&missing)]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains(path(&missing)));
    let run = careweek(&["check", path(&example()), path(&example())]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("not a careweek schedule"), "{stderr}");
    assert!(stderr.contains("it is a caseload"), "{stderr}");
    assert!(stderr.contains("careweek check INPUT SCHEDULE"), "{stderr}");

    // A schedule with one malformed time: the path, the booking's request and the form.
    let schedule = dir.path().join("schedule.json");
    let solved = careweek(&["solve", path(&example()), "-q", "-o", path(&schedule)]);
    assert_eq!(solved.status.code(), Some(0), "{}", text(&solved.stderr));
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schedule).unwrap()).unwrap();
    let request = value["placed"][1]["request"].as_str().unwrap().to_owned();
    value["placed"][1]["start"] = "2026-03-02T09:00".into();
    std::fs::write(&schedule, value.to_string()).unwrap();
    let run = careweek(&["check", path(&example()), path(&schedule)]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains(&format!("at placed[1].start (request '{request}')")),
        "{stderr}"
    );
    assert!(stderr.contains("UTC offset"), "{stderr}");

    // A booking of the wrong type is told in JSON's words, not by a Rust type's name.
    value["placed"][1] = serde_json::Value::Null;
    std::fs::write(&schedule, value.to_string()).unwrap();
    let run = careweek(&["check", path(&example()), path(&schedule)]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("at placed[1]: invalid type: null, expected an object"),
        "{stderr}"
    );
}

/// `careweek check` of the example week against `schedule`, written to `name` in `dir`:
/// refused as input (exit 2, nothing on stdout); its stderr.
fn check_refuses(dir: &Path, name: &str, schedule: &serde_json::Value) -> String {
    let file = dir.join(name);
    std::fs::write(&file, schedule.to_string()).unwrap();
    let run = careweek(&["check", path(&example()), path(&file)]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stdout));
    assert!(text(&run.stdout).is_empty());
    text(&run.stderr)
}

#[test]
fn check_reads_one_schedule_per_file_of_this_version_and_skips_a_byte_order_mark() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let schedule = dir.path().join("schedule.json");
    let week = example();
    let mut args = vec!["solve", path(&week), "-o", path(&schedule)];
    args.extend_from_slice(FAST);
    let solved = careweek(&args);
    assert_eq!(solved.status.code(), Some(0), "{}", text(&solved.stderr));
    let json = std::fs::read_to_string(&schedule).expect("the schedule was written");

    // A byte order mark in front, as a Windows editor saves it: the same schedule.
    let bom = dir.path().join("bom.json");
    std::fs::write(&bom, format!("\u{feff}{json}")).unwrap();
    let run = careweek(&["check", path(&example()), path(&bom)]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));

    // Two schedules one after another: not one schedule, and not the first alone checked.
    let two = dir.path().join("two.json");
    std::fs::write(&two, format!("{json}\n{json}")).unwrap();
    let run = careweek(&["check", path(&example()), path(&two)]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stdout));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("not a careweek schedule"), "{stderr}");
    assert!(stderr.contains("trailing characters"), "{stderr}");
    assert!(text(&run.stdout).is_empty());
    // Whitespace after it is fine.
    let spaced = dir.path().join("spaced.json");
    std::fs::write(&spaced, format!("{json}\n\n  ")).unwrap();
    let run = careweek(&["check", path(&example()), path(&spaced)]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));

    // Another format version: refused, not read as this one's.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["version"] = 2.into();
    let stderr = check_refuses(dir.path(), "v2.json", &value);
    assert!(stderr.contains("E004"), "{stderr}");
    assert!(stderr.contains("version 2 is not supported"), "{stderr}");

    // A booking written as an array of its values in their order: serde would read it by
    // position and check what it guessed; refused, naming where.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let booking = value["placed"][2].clone();
    let fields = "request patient provider resources site start end modality".split(' ');
    value["placed"][2] = fields.map(|f| booking[f].clone()).collect();
    let stderr = check_refuses(dir.path(), "positional.json", &value);
    assert!(
        stderr.contains("at placed[2]: invalid type: array, expected an object"),
        "{stderr}"
    );

    // A misspelt field (`resource` for `resources`) is named, not dropped.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["placed"][2]["resource"] = serde_json::json!([]);
    let stderr = check_refuses(dir.path(), "misspelt.json", &value);
    assert!(stderr.contains("at placed[2].resource"), "{stderr}");
    assert!(stderr.contains("unknown field `resource`"), "{stderr}");
    assert!(stderr.contains("remove or rename the field"), "{stderr}");
    assert!(!stderr.contains(" at line "), "{stderr}");
}

#[test]
fn a_file_that_is_not_utf8_is_named_with_where_and_how_to_save_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let example_text = std::fs::read_to_string(example()).unwrap();
    // As Windows Notepad's "Unicode" saves it: UTF-16 little-endian with a byte order mark.
    let utf16 = dir.path().join("utf16.json");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(example_text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&utf16, bytes).unwrap();
    // A Latin-1 name on the third line.
    let latin1 = dir.path().join("latin1.json");
    let mut bytes = b"{\n  \"version\": 1,\n  \"x\": \"Ren".to_vec();
    bytes.push(0xE9);
    bytes.extend(b"\"\n}\n");
    std::fs::write(&latin1, bytes).unwrap();
    for (file, at) in [
        (&utf16, "byte 0xFF at line 1, column 1 (the file is UTF-16)"),
        (&latin1, "byte 0xE9 at line 3, column 12"),
    ] {
        let run = careweek(&["solve", path(file), "-q", "--time-limit", "1"]);
        assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
        let stderr = text(&run.stderr);
        assert!(stderr.starts_with("error[E001]"), "{stderr}");
        assert!(
            stderr.contains(&format!("{} is not UTF-8 text: {at}", path(file))),
            "{stderr}"
        );
        assert!(stderr.contains("save the file as UTF-8"), "{stderr}");
        // The same in a batch of a directory, where the other caseloads are solved.
        let batch = dir.path().join(format!(
            "batch-{}",
            file.file_stem().unwrap().to_string_lossy()
        ));
        std::fs::create_dir(&batch).unwrap();
        std::fs::copy(file, batch.join("a.json")).unwrap();
        std::fs::copy(example(), batch.join("b.json")).unwrap();
        let run = careweek(&[
            "solve-batch",
            path(&batch),
            "--time-limit",
            "2",
            "--threads",
            "1",
        ]);
        assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
        let lines: Vec<serde_json::Value> = text(&run.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["errors"][0]["code"], "E001");
        assert!(
            lines[0]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(at),
            "{}",
            lines[0]
        );
        assert!(lines[1]["schedule"].is_object(), "{}", lines[1]);
    }
}

#[test]
fn other_failures_and_bad_arguments() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // An output directory that does not exist is not an input problem: exit 1.
    let nowhere = dir.path().join("missing-dir/gen.json");
    let run = careweek(&["generate", "--patients", "2", "-o", path(&nowhere)]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("cannot write"));
    assert!(!nowhere.exists());

    // A calendar that cannot be written to stdout (a full disk) is a failure too; a reader
    // that closes the pipe early is not (`| head`, below).
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let run = Command::new(env!("CARGO_BIN_EXE_careweek"))
            .args(["solve", path(&example()), "-q", "--time-limit", "5"])
            .stdout(full)
            .output()
            .expect("careweek runs");
        assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
        assert!(text(&run.stderr).contains("cannot write stdout"));
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_careweek"))
        .args(["solve", path(&example()), "--time-limit", "5"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("careweek runs");
    drop(child.stdout.take());
    let status = child.wait().expect("careweek ends");
    assert_eq!(status.code(), Some(0));

    // Arguments out of range are refused before any work.
    for args in [
        &[
            "generate",
            "--patients",
            "2",
            "--grid",
            "10",
            "-o",
            "x.json",
        ][..],
        &["solve", "in.json", "--time-limit=-1"][..],
        &["solve", "in.json", "--time-limit", "inf"][..],
        &["solve", "in.json", "--threads", "100000"][..],
        &["solve", "in.json", "--input-format", "xml"][..],
    ] {
        let run = careweek(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(text(&run.stderr).contains("invalid value"), "{args:?}");
    }
}

#[test]
fn an_output_that_cannot_be_written_fails_before_the_solve() {
    // A caseload that the search does not prove optimal at once, so that a solve would use
    // its whole time limit: a path that cannot be written is refused before it, not after.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("week.json");
    let run = careweek(&[
        "generate",
        "--patients",
        "60",
        "--seed",
        "2",
        "-o",
        path(&input),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let nowhere = dir.path().join("missing-dir/out.json");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").expect("a file");
    let under_a_file = file.join("out.json");
    for (flag, out) in [
        ("-o", &nowhere),
        ("--refbench-out", &nowhere),
        ("-o", &dir.path().to_path_buf()),
        ("-o", &under_a_file),
    ] {
        let started = std::time::Instant::now();
        let run = careweek(&[
            "solve",
            path(&input),
            flag,
            path(out),
            "--time-limit",
            "30",
            "--threads",
            "1",
            "-q",
        ]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(run.status.code(), Some(1), "{flag} {}", text(&run.stderr));
        assert!(
            text(&run.stderr).contains(&format!("cannot write {}", path(out))),
            "{}",
            text(&run.stderr)
        );
        assert!(
            took < 10.0,
            "{flag} {}: refused after {took:.1} s",
            path(out)
        );
        assert!(run.stdout.is_empty());
    }
    assert!(!nowhere.exists());
    // The probe leaves nothing behind in a folder that can be written.
    let good = dir.path().join("schedule.json");
    let run = careweek(&[
        "solve",
        path(&example()),
        "-o",
        path(&good),
        "-q",
        "--time-limit",
        "5",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the folder lists")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["plain-file", "schedule.json", "week.json"]);
}

#[test]
fn an_output_named_dash_is_stdout_or_refused_never_a_file_named_dash() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let in_dir = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_careweek"))
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("careweek runs")
    };
    // generate: the caseload on stdout.
    let run = in_dir(&["generate", "--patients", "2", "-o", "-"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let value: serde_json::Value = serde_json::from_slice(&run.stdout).expect("the caseload");
    assert_eq!(value["patients"].as_array().unwrap().len(), 2);
    // solve-batch: the lines on stdout, as without -o.
    let run = in_dir(&[
        "solve-batch",
        path(&example()),
        "-o",
        "-",
        "--time-limit",
        "5",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).starts_with("{\"index\":0"),
        "{}",
        text(&run.stdout)
    );
    // solve: stdout carries the calendars; refused at once, pointing to --format json.
    for flag in ["-o", "--refbench-out"] {
        let run = in_dir(&["solve", path(&example()), flag, "-", "-q"]);
        assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
        assert!(
            text(&run.stderr).contains("--format json"),
            "{}",
            text(&run.stderr)
        );
        assert!(run.stdout.is_empty());
    }
    assert!(!dir.path().join("-").exists());

    // check: one stdin between the caseload and the schedule.
    let run = careweek(&["check", "-", "-"]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("cannot both be read from stdin"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn refbench_instances_solved_and_both_checkers_agree() {
    let kit = root().join("../shared/refbench");
    let python = Command::new("python3").arg("--version").output();
    if !matches!(python, Ok(ref o) if o.status.success()) || !kit.join("gen.py").exists() {
        eprintln!(
            "skipped: python3 or the refbench kit at {} is missing",
            kit.display()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (patients, seed, grid) in [("20", "4", "15"), ("12", "9", "5"), ("35", "11", "15")] {
        let case = format!("gen.py --patients {patients} --seed {seed} --grid {grid}");
        let inst = dir.path().join(format!("inst-{seed}.json"));
        let sol = dir.path().join(format!("ref-{seed}.json"));
        let ours = dir.path().join(format!("ours-{seed}.json"));
        let gen = Command::new("python3")
            .arg(kit.join("gen.py"))
            .args(["--patients", patients, "--seed", seed, "--grid", grid])
            .args(["--out", path(&inst)])
            .output()
            .expect("gen.py runs");
        assert!(gen.status.success(), "{case}: {}", text(&gen.stderr));

        let run = careweek(
            &[
                &["solve", path(&inst), "--refbench-out", path(&sol)],
                &["-o", path(&ours)][..],
                FAST,
            ]
            .concat(),
        );
        assert!(run.status.success(), "{case}: {}", text(&run.stderr));

        // Our own checker accepts the schedule against the refbench file...
        let check = careweek(&["check", path(&inst), path(&ours)]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{case}: {}",
            text(&check.stdout)
        );

        // ...and so does the reference checker, with the objective we report.
        let verdict = Command::new("python3")
            .arg(kit.join("check.py"))
            .args([path(&inst), path(&sol)])
            .output()
            .expect("check.py runs");
        let report = text(&verdict.stdout);
        assert!(verdict.status.success(), "{case}: check.py:\n{report}");
        assert!(report.contains("verdict: FEASIBLE"), "{case}: {report}");
        assert!(
            !report.contains("note: the solution reports objective"),
            "{case}: {report}"
        );
        let exported = read_json(&sol);
        let total = read_schedule(&ours).objective.total;
        assert_eq!(exported["objective"].as_i64(), Some(total), "{case}");
        assert!(
            report.contains(&format!("objective {total}")),
            "{case}: check.py does not report objective {total}:\n{report}"
        );
    }

    // A refbench solution given to our checker is recognised and sent to check.py.
    let inst = dir.path().join("inst-4.json");
    let sol = dir.path().join("ref-4.json");
    let wrong = careweek(&["check", path(&inst), path(&sol)]);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong.stderr));
    let stderr = text(&wrong.stderr);
    assert!(stderr.contains("it is a refbench solution"), "{stderr}");
    assert!(stderr.contains("check.py"), "{stderr}");

    // Forced to read it as careweek's own format, a refbench file is bad input.
    let forced = careweek(&[
        "solve",
        path(&inst),
        "--input-format",
        "careweek",
        "--quiet",
    ]);
    assert_eq!(forced.status.code(), Some(2), "{}", text(&forced.stderr));
    assert!(text(&forced.stderr).starts_with("error[E"));
}

/// Ctrl-C (SIGINT) during a long solve: the search stops, and the best schedule so far is
/// written, printed and passes the checker.
#[cfg(unix)]
#[test]
fn ctrl_c_keeps_the_best_schedule_so_far() {
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let week = dir.path().join("week.json");
    let out = dir.path().join("schedule.json");
    let generated = careweek(&[
        "generate",
        "--patients",
        "40",
        "--seed",
        "5",
        "-o",
        path(&week),
    ]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));

    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_careweek"))
        .args([
            "solve",
            path(&week),
            "--time-limit",
            "300",
            "-o",
            path(&out),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("careweek starts");
    std::thread::sleep(Duration::from_secs(2));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let done = child.wait_with_output().expect("careweek ends");
    let took = started.elapsed();

    // Far below the 300 s limit (the margin is for a shared, noisy machine).
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(text(&done.stderr).contains("interrupted"));
    assert!(!done.stdout.is_empty(), "the calendars are printed");
    let checked = careweek(&["check", path(&week), path(&out)]);
    assert!(checked.status.success(), "{}", text(&checked.stdout));
}

/// `-o /dev/null` (a user discarding the schedule) writes into the device: the temporary
/// file and rename that keep a regular file whole would replace `/dev/null` itself with a
/// regular file, breaking every later program that reads it.
#[cfg(unix)]
#[test]
fn output_to_a_device_leaves_the_device_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let null = Path::new("/dev/null");
    if !std::fs::metadata(null).is_ok_and(|m| m.file_type().is_char_device()) {
        return; // Not a device here to begin with: nothing to protect.
    }
    let input = example();
    let mut args = vec!["solve", path(&input), "--format", "json", "-o", "/dev/null"];
    args.extend_from_slice(FAST);
    let out = careweek(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kind = std::fs::metadata(null)
        .expect("/dev/null exists")
        .file_type();
    assert!(
        kind.is_char_device(),
        "/dev/null is no longer a device: {kind:?}"
    );
}

/// A pin needs two labs before it from one provider whose daily limit leaves room for one
/// a day, on the one day before it: no schedule keeps it. Validation proves it with the
/// exact placement of what pins need, and says so (exit 2, E030 naming the pin and what it
/// needs), instead of the solver showing a schedule that breaks it. (Were a broken
/// schedule ever shown, `solve` would exit 1 listing the broken rules, never 0.)
#[test]
fn a_schedule_that_breaks_a_hard_rule_is_never_a_success() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pins-that-cannot-all-be-kept.json"
    );
    let out = careweek(&["solve", fixture, "--work", "50", "--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("E030")
            && stderr.contains("'p8-1'")
            && stderr.contains("'p2-0'")
            && stderr.contains("'p2-1'")
            && stderr.contains("no schedule places them all"),
        "{stderr}"
    );
}
