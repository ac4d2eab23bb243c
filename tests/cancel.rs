//! The cancel flag of the library: set mid-solve, the solve returns soon after with a
//! schedule that passes the checker and accounts for every request, in either build (with
//! HiGHS, a whole-component MILP runs alongside the search on a caseload this size and must
//! stop too).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use careweek::check::check;
use careweek::solve::{solve, SolveOptions};
use careweek::{generate, validate, GenerateOptions};

#[test]
fn a_cancelled_solve_returns_a_checked_schedule_long_before_its_time_limit() {
    let input = generate(&GenerateOptions {
        patients: 40,
        seed: 5,
        grid_min: 15,
    });
    let problem = validate(input.clone()).expect("a generated caseload is valid");
    let cancel = Arc::new(AtomicBool::new(false));
    let options = SolveOptions {
        time_limit: 300.0,
        threads: 2,
        cancel: Some(cancel.clone()),
        ..Default::default()
    };
    let flag = cancel.clone();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        flag.store(true, Ordering::Relaxed);
    });
    let started = Instant::now();
    let schedule = solve(&problem, &options);
    let took = started.elapsed();
    setter.join().expect("the setter thread");

    // Far below the 300 s limit: the cancel was honoured, not the clock (the margin is for
    // a shared, noisy machine; a solve that ignores the flag takes the whole 300 s).
    assert!(
        took < Duration::from_secs(60),
        "cancelled solve took {took:?}"
    );
    let report = check(&input, &schedule);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(
        schedule.placed.len() + schedule.unplaced.len(),
        input.requests.len()
    );
}

/// Three patients on a 5-minute grid with all-day hours, every request by telehealth or in
/// person and chained by precedences: pricing each patient's week explores a great many
/// telehealth placements, a search that once ignored the clock (98 s under a 5 s limit).
/// The limit holds, and the schedule passes the checker.
#[test]
fn the_time_limit_holds_where_each_patients_week_is_costly_to_price() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fine-grid-telehealth-week.json");
    let input = careweek::parse_input(&std::fs::read_to_string(path).unwrap()).unwrap();
    let problem = validate(input.clone()).expect("valid");
    let options = SolveOptions {
        time_limit: 3.0,
        threads: 1,
        ..Default::default()
    };
    let started = Instant::now();
    let schedule = solve(&problem, &options);
    let took = started.elapsed();
    // The margin is for a shared, noisy machine; the old search took minutes.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let report = check(&input, &schedule);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

/// A same-day bundle of 200 five-minute lab requests across ten patients: construction
/// tried the whole bundle again from each of its members, and each unplaced member's
/// reason judged it again (35 s under a 1 s limit). The limit holds, every request comes
/// back with a reason, and the schedule passes the checker.
#[test]
fn the_time_limit_holds_on_a_same_day_bundle_of_two_hundred() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-week.json");
    let mut week: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    week["week"]["grid_min"] = 5.into();
    let patients: Vec<serde_json::Value> = (0..10)
        .map(|i| serde_json::json!({"id": format!("p{i}"), "name": format!("Patient {i}"), "max_per_day": 20}))
        .collect();
    let requests: Vec<serde_json::Value> = (0..200)
        .map(|k| {
            serde_json::json!({"id": format!("p{}-lab{}", k / 20, k % 20), "patient": format!("p{}", k / 20),
                "specialty": "lab", "duration_min": 5, "priority": 3})
        })
        .collect();
    let ids: Vec<serde_json::Value> = requests.iter().map(|r| r["id"].clone()).collect();
    week["patients"] = patients.into();
    week["requests"] = requests.into();
    week["links"] = serde_json::json!([{"kind": "same_day", "requests": ids}]);
    let input = careweek::parse_input(&week.to_string()).unwrap();
    let problem = validate(input.clone()).expect("valid");
    let options = SolveOptions {
        time_limit: 1.0,
        threads: 2,
        ..Default::default()
    };
    let started = Instant::now();
    let schedule = solve(&problem, &options);
    let took = started.elapsed();
    // The margin is for a shared, noisy machine and the unoptimised build.
    assert!(took < Duration::from_secs(12), "took {took:?}");
    assert_eq!(schedule.placed.len() + schedule.unplaced.len(), 200);
    assert!(schedule.unplaced.iter().all(|u| !u.reason.is_empty()));
    let report = check(&input, &schedule);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}
