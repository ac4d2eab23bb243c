//! A component large enough that its searches split it (1,500 requests or more), solved on
//! two threads: the searches then walk one trajectory, each replaying the moves the other
//! keeps, and the schedule they end on must pass the independent checker.

use careweek::check::check;
use careweek::solve::{solve, SolveOptions};
use careweek::{generate, validate, GenerateOptions};

#[test]
fn two_threads_walking_one_split_search_end_on_a_checked_schedule() {
    // 700 generated patients: 1,779 requests, one component.
    let input = generate(&GenerateOptions {
        patients: 700,
        seed: 3,
        grid_min: 15,
    });
    let problem = validate(input.clone()).expect("a generated caseload is valid");
    for seed in [1, 2] {
        let options = SolveOptions {
            time_limit: 4.0,
            threads: 2,
            seed,
            ..Default::default()
        };
        let schedule = solve(&problem, &options);
        assert_eq!(schedule.stats.components, 1);
        assert!(schedule.stats.requests >= 1_500);
        let report = check(&input, &schedule);
        assert!(report.violations.is_empty(), "{:?}", report.violations);
        assert_eq!(
            schedule.placed.len() + schedule.unplaced.len(),
            input.requests.len()
        );
        // The search got somewhere from the first greedy schedule.
        assert!(schedule.objective.total < schedule.stats.construction_objective);
    }
}
