//! End-to-end tests of `careweek solve-batch` and `careweek bench`: a directory with a
//! malformed caseload among good ones (one line each, in order, exit 2, every schedule
//! accepted by `careweek check`), JSON lines on stdin, the same output for one and two
//! threads under a work budget, and a tiny benchmark whose every row the checker accepts.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use careweek::{generate, GenerateOptions};
use serde_json::Value;

/// Small budgets: these tests are about the interface, not the optimum.
const FAST: &[&str] = &["--time-limit", "3", "--work", "30"];

fn careweek(args: &[&str]) -> Output {
    careweek_with_stdin(args, None)
}

fn careweek_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_careweek"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the careweek binary runs");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("a stdin pipe")
            .write_all(bytes)
            .expect("stdin accepted");
    }
    child.wait_with_output().expect("careweek finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

/// A generated caseload as one line of JSON.
fn caseload(patients: usize, seed: u64) -> String {
    let input = generate(&GenerateOptions {
        patients,
        seed,
        grid_min: 15,
    });
    serde_json::to_string(&input).expect("serialisable")
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    text(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The line without its run time, the one field that differs between identical runs.
fn without_seconds(mut line: Value) -> Value {
    if let Some(stats) = line
        .get_mut("schedule")
        .and_then(|s| s.get_mut("stats"))
        .and_then(Value::as_object_mut)
    {
        stats.remove("seconds");
    }
    line
}

#[test]
fn a_directory_with_a_malformed_caseload_gives_one_line_each_in_order_and_exit_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).expect("created");
    for seed in 1..=3 {
        std::fs::write(cases.join(format!("c{seed}.json")), caseload(5, seed)).expect("written");
    }
    // Sorts between c2 and c3; not a caseload's JSON.
    std::fs::write(cases.join("c2-broken.json"), "{\"version\": 1, \"week\": ").expect("written");
    std::fs::write(cases.join("notes.txt"), "not a caseload").expect("written");
    let out = dir.path().join("out.jsonl");

    let run = careweek(
        &[
            &[
                "solve-batch",
                path(&cases),
                "-o",
                path(&out),
                "--threads",
                "2",
            ],
            FAST,
        ]
        .concat(),
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(run.stdout.is_empty(), "the lines go to the file");
    assert!(
        stderr.contains("4 caseloads, 3 solved, 1 bad input"),
        "{stderr}"
    );
    assert!(stderr.contains("c2-broken.json"), "{stderr}");

    let written = lines(&std::fs::read(&out).expect("written"));
    let names: Vec<&str> = written.iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(names, ["c1.json", "c2-broken.json", "c2.json", "c3.json"]);
    for (i, line) in written.iter().enumerate() {
        assert_eq!(line["index"], i, "{line}");
    }
    let bad = &written[1];
    assert!(bad.get("schedule").is_none());
    let errors = bad["errors"].as_array().expect("a list of errors");
    assert_eq!(errors[0]["code"], "E001", "{bad}");
    for key in ["path", "message", "hint"] {
        assert!(errors[0][key].is_string(), "{key} in {bad}");
    }

    // Every schedule passes the independent checker against its own caseload.
    for line in written.iter().filter(|l| l.get("errors").is_none()) {
        let name = line["name"].as_str().expect("a name");
        let schedule = dir.path().join(format!("{name}.schedule.json"));
        std::fs::write(&schedule, line["schedule"].to_string()).expect("written");
        let checked = careweek(&["check", path(&cases.join(name)), path(&schedule)]);
        assert!(
            checked.status.success(),
            "{name}: {}",
            text(&checked.stdout)
        );
    }
}

/// Caseloads whose pins need requests that compete: each schedule keeps every pin and
/// every rule (no `violations` on its line; the checker agrees), and the one whose pins no
/// schedule keeps is bad input (E030), not a schedule that breaks them.
#[test]
fn schedules_of_a_batch_are_rechecked_and_pins_that_cannot_be_kept_are_bad_input() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).expect("created");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let names = [
        "pin-needs-compete-b2b-prerequisite",
        "pin-needs-compete-back-to-back",
        "pin-needs-compete-daily-cap",
        "pin-needs-compete-precedence",
        "pins-that-cannot-all-be-kept",
    ];
    for name in names {
        std::fs::copy(
            fixtures.join(format!("{name}.json")),
            cases.join(format!("{name}.json")),
        )
        .expect("copied");
    }
    let out = dir.path().join("out.jsonl");
    let run = careweek(&[&["solve-batch", path(&cases), "-o", path(&out)], FAST].concat());
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("5 caseloads, 4 solved, 1 bad input"),
        "{stderr}"
    );
    assert!(!stderr.contains("breaks"), "{stderr}");
    let written = lines(&std::fs::read(&out).expect("written"));
    assert_eq!(written.len(), 5);
    for line in &written {
        let name = line["name"].as_str().expect("a name");
        assert!(line.get("violations").is_none(), "{line}");
        if name.starts_with("pins-that-cannot") {
            assert_eq!(line["errors"][0]["code"], "E030", "{line}");
            continue;
        }
        let input: Value =
            serde_json::from_slice(&std::fs::read(cases.join(name)).expect("read")).expect("json");
        for pin in input["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| r["existing"]["pinned"] == true)
        {
            let placed = line["schedule"]["placed"].as_array().expect("placed");
            assert!(
                placed.iter().any(|p| p["request"] == pin["id"]),
                "{name}: pin {} left out",
                pin["id"]
            );
        }
        let schedule = dir.path().join(format!("{name}.schedule.json"));
        std::fs::write(&schedule, line["schedule"].to_string()).expect("written");
        let checked = careweek(&["check", path(&cases.join(name)), path(&schedule)]);
        assert!(
            checked.status.success(),
            "{name}: {}",
            text(&checked.stdout)
        );
    }
}

/// A directory's `*.JSON` caseload is solved like a `*.json` one; what is not a caseload
/// file (a subdirectory, notes) is named on stderr as skipped; a file holding an array of
/// caseloads gets a hint for a batch, not "use solve-batch".
#[test]
fn a_directory_reads_json_in_any_case_and_names_what_it_skips() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases = dir.path();
    std::fs::write(cases.join("LOUD.JSON"), caseload(5, 1)).expect("written");
    let one = caseload(5, 2);
    std::fs::write(cases.join("many.json"), format!("[{one}, {one}]")).expect("written");
    std::fs::write(cases.join("notes.txt"), "not a caseload").expect("written");
    std::fs::create_dir(cases.join("archive")).expect("created");
    std::fs::write(cases.join("archive").join("old.json"), caseload(5, 3)).expect("written");

    let run = careweek(&[&["solve-batch", path(cases), "--threads", "1"], FAST].concat());
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("skipped 2 entries") && stderr.contains("archive/, notes.txt"),
        "{stderr}"
    );
    let written = lines(&run.stdout);
    let names: Vec<&str> = written.iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(names, ["LOUD.JSON", "many.json"]);
    assert!(written[0]["schedule"].is_object(), "{}", written[0]);
    let error = &written[1]["errors"][0];
    assert_eq!(error["code"], "E002", "{error}");
    let hint = error["hint"].as_str().expect("a hint");
    assert!(hint.contains("own line"), "{hint}");
    assert!(!hint.contains("use `careweek solve-batch`"), "{hint}");
}

#[test]
fn json_lines_on_stdin_skip_blank_lines_and_name_each_by_line() {
    let input = format!(
        "{}\n\n   \r\n{}\r\n{}\n",
        caseload(4, 7),
        caseload(6, 8),
        caseload(3, 9)
    );
    let run = careweek_with_stdin(
        &[&["solve-batch", "-"], FAST].concat(),
        Some(input.as_bytes()),
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let out = lines(&run.stdout);
    let names: Vec<&str> = out.iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(names, ["stdin:1", "stdin:4", "stdin:5"]);
    for (line, patients) in out.iter().zip([4, 6, 3]) {
        let schedule = &line["schedule"];
        let requests = schedule["stats"]["requests"]
            .as_u64()
            .expect("stats.requests");
        let listed = schedule["placed"].as_array().map_or(0, Vec::len)
            + schedule["unplaced"].as_array().map_or(0, Vec::len);
        assert_eq!(
            listed as u64, requests,
            "every request once ({patients} patients)"
        );
        assert_eq!(
            schedule["stats"]["threads"], 1,
            "each caseload on one thread"
        );
    }
    assert!(
        text(&run.stderr).contains("3 caseloads, 3 solved, 0 bad input"),
        "{}",
        text(&run.stderr)
    );

    // A line that is not UTF-8 is one bad caseload; the others are still solved.
    let mut bytes = caseload(3, 1).into_bytes();
    bytes.extend_from_slice(b"\n\xff\xfe\n");
    let run = careweek_with_stdin(&[&["solve-batch", "-"], FAST].concat(), Some(&bytes));
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let out = lines(&run.stdout);
    assert_eq!(out.len(), 2);
    assert!(out[0].get("schedule").is_some());
    assert_eq!(out[1]["errors"][0]["code"], "E001");

    // An empty input is an empty batch, not an error.
    let run = careweek_with_stdin(&["solve-batch", "-"], Some(b"\n"));
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(run.stdout.is_empty());
}

/// A single caseload written over many lines (data/example-week.json, or any pretty-printed
/// export) is one caseload, not one bad caseload per line: it once gave 1,414 E001/E002
/// lines and not a single schedule.
#[test]
fn a_pretty_printed_caseload_is_one_caseload() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-week.json");
    let run = careweek(&[&["solve-batch", path(&example), "--threads", "1"], FAST].concat());
    assert!(run.status.success(), "{}", text(&run.stderr));
    let out = lines(&run.stdout);
    assert_eq!(out.len(), 1, "{}", text(&run.stderr));
    assert_eq!(out[0]["name"], "example-week.json");
    assert!(out[0]["schedule"]["placed"].is_array(), "{}", out[0]);
    assert!(
        text(&run.stderr).contains("1 caseloads, 1 solved, 0 bad input"),
        "{}",
        text(&run.stderr)
    );

    // Pretty-printed on stdin, too; a broken one is one bad caseload.
    let pretty = serde_json::to_string_pretty(&generate(&GenerateOptions {
        patients: 3,
        seed: 5,
        grid_min: 15,
    }))
    .expect("serialisable");
    let run = careweek_with_stdin(
        &[&["solve-batch", "-", "--threads", "1"], FAST].concat(),
        Some(pretty.as_bytes()),
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(lines(&run.stdout).len(), 1);
    let broken = &pretty[..pretty.len() - 2];
    let run = careweek_with_stdin(
        &[&["solve-batch", "-", "--threads", "1"], FAST].concat(),
        Some(broken.as_bytes()),
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let out = lines(&run.stdout);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["errors"][0]["code"], "E001", "{}", out[0]);

    // Two pretty-printed caseloads one after another (`cat a.json b.json`) are two
    // caseloads, each named by the line it starts on, not thousands of bad lines.
    let both = format!("{pretty}\n{pretty}\n");
    let second_line = pretty.lines().count() + 1;
    let run = careweek_with_stdin(
        &[&["solve-batch", "-", "--threads", "1"], FAST].concat(),
        Some(both.as_bytes()),
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let out = lines(&run.stdout);
    let names: Vec<&str> = out.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["stdin:1".to_string(), format!("stdin:{second_line}")]
    );

    // A malformed one among them (a doubled comma) is one bad caseload, its error at the
    // line of the whole input, and the others are solved; each may start with a byte order
    // mark (`cat` of files an editor saved with one). All three were once read line by
    // line: hundreds of bad caseloads and none solved.
    let bad_line = pretty
        .lines()
        .position(|l| l.trim_end().ends_with(','))
        .expect("a line ending in a comma");
    let bad: String = pretty
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == bad_line {
                format!("{l},\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let three = format!("\u{feff}{pretty}\n\u{feff}{bad}\u{feff}{pretty}\n");
    let run = careweek_with_stdin(
        &[&["solve-batch", "-", "--threads", "1"], FAST].concat(),
        Some(three.as_bytes()),
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let out = lines(&run.stdout);
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(
        out[0]["schedule"].is_object() && out[2]["schedule"].is_object(),
        "{out:?}"
    );
    let message = out[1]["errors"][0]["message"].as_str().unwrap_or_default();
    let at = format!("at line {} ", second_line + bad_line);
    assert!(message.contains(&at), "{message} should say {at}");

    // In JSON lines a truncated line is one bad caseload, and the lines after it are read.
    let one_line =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&pretty).unwrap())
            .expect("serialisable");
    let jsonl = format!(
        "{}\n{one_line}\n{one_line}\n",
        &one_line[..one_line.len() / 2]
    );
    let run = careweek_with_stdin(
        &[&["solve-batch", "-", "--threads", "1"], FAST].concat(),
        Some(jsonl.as_bytes()),
    );
    let out = lines(&run.stdout);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[0]["errors"][0]["code"], "E001", "{}", out[0]);
    assert!(
        out[1]["schedule"].is_object() && out[2]["schedule"].is_object(),
        "{out:?}"
    );
}

#[test]
fn one_and_two_threads_give_the_same_lines_under_a_work_budget() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for seed in 1..=5u64 {
        let patients = 4 + (seed % 4) as usize;
        std::fs::write(
            dir.path().join(format!("w{seed}.json")),
            caseload(patients, seed),
        )
        .expect("written");
    }
    let run = |threads: &str| {
        let out = careweek(&[
            "solve-batch",
            path(dir.path()),
            "--threads",
            threads,
            "--seed",
            "4",
            "--time-limit",
            "300",
            "--work",
            "40",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        lines(&out.stdout)
            .into_iter()
            .map(without_seconds)
            .collect::<Vec<_>>()
    };
    let one = run("1");
    let two = run("2");
    assert_eq!(one.len(), 5);
    assert!(one == two, "the lines differ between 1 and 2 threads");
}

#[test]
fn bad_arguments_and_paths_are_reported_not_panicked_on() {
    let missing = careweek(&["solve-batch", "/no/such/place.jsonl"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("/no/such/place.jsonl"));

    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("a.json"), caseload(3, 1)).expect("written");
    let unwritable = careweek(&[
        "solve-batch",
        path(dir.path()),
        "-o",
        "/no/such/dir/out.jsonl",
    ]);
    assert_eq!(unwritable.status.code(), Some(1));
    assert!(text(&unwritable.stderr).contains("cannot write /no/such/dir/out.jsonl"));

    for args in [
        &["bench", "--sizes", "0"][..],
        &["bench", "--sizes", "8,x"],
        &["bench", "--time-limit", "-1"],
        &["bench", "--refbench", "x", "--sizes", "8"],
        &[
            "generate",
            "--patients",
            "99999999999",
            "-o",
            "/tmp/never.json",
        ],
        &["solve-batch", "-", "--threads", "1000"],
    ] {
        let out = careweek(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
    }

    let no_dir = careweek(&["bench", "--refbench", "/no/such/dir", "--time-limit", "1"]);
    assert_eq!(no_dir.status.code(), Some(2));
    assert!(text(&no_dir.stderr).contains("/no/such/dir"));

    // A directory with no instance in it is named, with what it holds and how to make some.
    let empty = tempfile::tempdir().expect("a temporary directory");
    let bench_empty = || {
        careweek(&[
            "bench",
            "--refbench",
            path(empty.path()),
            "--time-limit",
            "1",
        ])
    };
    let run = bench_empty();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains(&format!("no refbench instances in {}", path(empty.path()))),
        "{stderr}"
    );
    assert!(stderr.contains("gen.py"), "{stderr}");
    std::fs::write(empty.path().join("notes.json"), "{\"version\": 1}").unwrap();
    let run = bench_empty();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("bench: skipped"), "{stderr}");
    assert!(stderr.contains("was skipped (listed above)"), "{stderr}");
}

#[test]
fn a_tiny_benchmark_prints_a_table_whose_every_row_is_checked_ok() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("bench");
    let run = careweek(&[
        "bench",
        "--sizes",
        "8,12",
        "--grid5-at",
        "8",
        "--time-limit",
        "2",
        "--work",
        "30",
        "--out",
        path(&out),
    ]);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", text(&run.stderr));

    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| n")).collect();
    let cases: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.split('|').nth(1).map(str::trim))
        .collect();
    assert_eq!(cases, ["n8-g15", "n8-g5", "n12-g15"], "{stdout}");
    assert!(stdout.contains("| case | patients | grid | requests | wall s | peak RSS MB |"));
    for row in &rows {
        assert!(row.ends_with("| ok |"), "{row}");
    }
    assert!(rows[1].contains("| 5 min |"), "{}", rows[1]);

    // The same table in bench.md, the rows as JSON lines, the caseloads and schedules kept.
    let md = std::fs::read_to_string(out.join("bench.md")).expect("bench.md written");
    assert!(rows.iter().all(|r| md.contains(r)));
    let jsonl = lines(&std::fs::read(out.join("bench.jsonl")).expect("bench.jsonl written"));
    assert_eq!(jsonl.len(), 3);
    for row in &jsonl {
        assert_eq!(row["ok"], true, "{row}");
        assert_eq!(row["violations"], 0, "{row}");
        assert!(row["wall_s"].as_f64().is_some_and(|s| s > 0.0), "{row}");
        if cfg!(target_os = "linux") {
            let mb = row["peak_rss_mb"].as_f64().expect("measured on Linux");
            assert!(mb > 1.0 && mb < 4096.0, "{row}");
        }
        let name = row["case"].as_str().expect("a case name");
        let checked = careweek(&[
            "check",
            path(&out.join(format!("caseloads/{name}.json"))),
            path(&out.join(format!("schedules/{name}.schedule.json"))),
        ]);
        assert!(checked.status.success(), "{}", text(&checked.stdout));
    }
}

#[test]
fn repeated_runs_keep_every_schedule_and_add_a_table_of_medians() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("bench");
    let run = careweek(&[
        "bench",
        "--sizes",
        "8",
        "--grid5-at",
        "0",
        "--time-limit",
        "2",
        "--runs",
        "3",
        "--out",
        path(&out),
    ]);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", text(&run.stderr));
    assert!(stdout.contains("--runs 3;"), "{stdout}");

    let jsonl = lines(&std::fs::read(out.join("bench.jsonl")).expect("bench.jsonl written"));
    let runs: Vec<u64> = jsonl
        .iter()
        .map(|r| r["run"].as_u64().expect("a run"))
        .collect();
    assert_eq!(runs, [1, 2, 3]);
    let mut objectives: Vec<i64> = jsonl
        .iter()
        .map(|r| r["objective"]["total"].as_i64().expect("solved"))
        .collect();
    objectives.sort_unstable();

    // Every run's schedule is kept under its own name and passes the checker.
    for name in [
        "n8-g15.schedule.json",
        "n8-g15.run2.schedule.json",
        "n8-g15.run3.schedule.json",
    ] {
        let checked = careweek(&[
            "check",
            path(&out.join("caseloads/n8-g15.json")),
            path(&out.join("schedules").join(name)),
        ]);
        assert!(
            checked.status.success(),
            "{name}: {}",
            text(&checked.stdout)
        );
    }

    // The table of medians: one line for the case, the middle objective and the range.
    let medians: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("| case | runs ok |"))
        .filter(|l| l.starts_with("| n8-g15 |"))
        .collect();
    assert_eq!(medians.len(), 1, "{stdout}");
    let cells: Vec<&str> = medians[0].split('|').map(str::trim).collect();
    assert_eq!(cells[2], "3/3", "{}", medians[0]);
    assert_eq!(cells[3], format!("{}.0", objectives[1]), "{}", medians[0]);
    assert_eq!(
        cells[4],
        format!("{}–{}", objectives[0], objectives[2]),
        "{}",
        medians[0]
    );
    assert!(stdout.contains("| n8-g15 (run 2) |"), "{stdout}");
}
