//! Criterion benchmarks of the whole solve on generated caseloads of 30, 100 and 300
//! patients under a fixed work budget (so every sample does the same work). The objective,
//! bound and gap of each size are printed beside the timings.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use careweek::generate::{generate, GenerateOptions};
use careweek::solve::{solve, SolveOptions};
use careweek::validate::validate;

fn solve_sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("solve");
    group.sample_size(10);
    for patients in [30usize, 100, 300] {
        let input = generate(&GenerateOptions {
            patients,
            seed: 1,
            grid_min: 15,
        });
        let problem = validate(input).expect("generated caseloads are valid");
        let options = SolveOptions {
            time_limit: 60.0,
            threads: 2,
            seed: 1,
            work: Some(200),
            ..Default::default()
        };
        let schedule = solve(&problem, &options);
        eprintln!(
            "patients {patients}: requests {}, placed {}, objective {}, bound {:.0}, gap {:.2}%",
            problem.requests.len(),
            schedule.placed.len(),
            schedule.objective.total,
            schedule.bound,
            100.0 * schedule.gap
        );
        group.bench_with_input(
            BenchmarkId::from_parameter(patients),
            &problem,
            |b, problem| b.iter(|| solve(problem, &options)),
        );
    }
    group.finish();
}

criterion_group!(benches, solve_sizes);
criterion_main!(benches);
