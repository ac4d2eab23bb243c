//! The LP relaxation of a whole caseload's time-indexed model, set against a solved
//! schedule: a measurement of how far a stronger relaxation alone would take the proven
//! gap (ignored in the test run: minutes on large caseloads).
//!
//! ```text
//! CAREWEEK_LP_INPUT=target/rb/n100g5.json CAREWEEK_LP_SECONDS=600 \
//!   cargo test --release --features highs --test lp_relaxation -- --ignored --nocapture
//! ```
//!
//! Without `CAREWEEK_LP_INPUT` it runs on the shipped example week. Meant for the HiGHS
//! build: the pure-Rust simplex does not finish large models in useful time.

use careweek::solve::{domain::Domains, milp, solve, state, SolveOptions};

#[test]
#[ignore = "a measurement: minutes on large caseloads"]
fn lp_relaxation_bounds_a_solved_schedule() {
    let path =
        std::env::var("CAREWEEK_LP_INPUT").unwrap_or_else(|_| "data/example-week.json".into());
    let seconds: f64 = std::env::var("CAREWEEK_LP_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600.0);
    let text = std::fs::read_to_string(&path).expect("readable input");
    let input = careweek::batch::parse_caseload(&text).expect("valid input");
    let problem = careweek::validate::validate(input).expect("valid input");
    let domains = Domains::build(&problem);
    let (placeable, never): (Vec<usize>, Vec<usize>) =
        (0..problem.requests.len()).partition(|&r| !domains.opts[r].is_empty());
    let fixed: i64 = never
        .iter()
        .map(|&r| state::unplaced_weight(&problem, r))
        .sum();
    let empty = state::State::new(&problem, &domains);
    let started = std::time::Instant::now();
    let lp = milp::solve_subset(
        &empty,
        &placeable,
        None,
        milp::Form::Relaxed,
        milp::Limits::time(seconds),
        usize::MAX,
    )
    .filter(|lp| lp.optimal)
    .expect("the LP relaxation solves within the time given");
    let lp_seconds = started.elapsed().as_secs_f64();
    let bound = lp.objective + fixed as f64;

    let schedule = solve(
        &problem,
        &SolveOptions {
            time_limit: 60.0,
            threads: 2,
            ..SolveOptions::default()
        },
    );
    let total = schedule.objective.total as f64;
    println!(
        "{path}: {} requests ({} with {} options), backend {}: LP relaxation {:.1} + never \
         placeable {fixed} = {bound:.1} in {lp_seconds:.1} s; solver at 60 s: objective \
         {total}, its bound {:.1} (gap {:.1} %), the LP's gap {:.1} %",
        problem.requests.len(),
        placeable.len(),
        milp::candidate_count(&empty, &placeable),
        milp::backend_name(),
        lp.objective,
        schedule.bound,
        schedule.gap * 100.0,
        (total - bound) / total * 100.0,
    );
    // Both are lower bounds on the optimum, so neither may exceed a feasible schedule.
    assert!(
        bound <= total + 1e-6,
        "LP bound {bound} above objective {total}"
    );
    assert!(schedule.bound <= total + 1e-6);
}
