//! Criterion benchmarks of the solver's phases, each timed on its own, on generated caseloads
//! of 30, 100 and 300 patients (15-minute grid, seed 1), so that a regression in one phase
//! shows up in that phase's group instead of being blurred into the whole solve
//! (`benches/solve.rs`):
//!
//! * `construct/N`: the priority construction ([`construct::construct`]) of the largest
//!   component, from an empty state.
//! * `lns_repair/N`: one LNS run ([`lns::improve`]) of [`LNS_ITERATIONS`] repairs from the
//!   constructed state (a fresh clone and a fresh seeded RNG per iteration).
//! * `lagrangian_bound/N`: [`lagrange::lagrangian_bound`] on the same component with at most
//!   [`LAGRANGE_STEPS`] subgradient steps.
//! * `options/N` and `options_quarter/N`: every request's options ([`Domains::build`]), and
//!   the same within a budget of a quarter of the caseload's starts
//!   ([`Domains::build_within`], what a time limit too short for them all does).
//!
//! The budgets are counted in work (repairs, subgradient steps, search nodes), never in
//! time: the deadlines are far in the future, stalls never stop the search and the LNS runs
//! in its deterministic mode, so every sample does the same work on any machine and a
//! change in the timings means a change in the code, not in how far a time budget got.
//!
//! The component is the largest group of interacting requests (shared patient, provider,
//! resource or link), as [`components`] groups them for the solver. Rayon's global
//! pool is limited to two threads (as `benches/solve.rs` solves with two), which keeps the
//! parallel bound's timings stable and the machine usable.
//!
//! What each phase produced (component objective after construction and after the repairs,
//! the bound) is printed beside each size: a timing means little without it.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use careweek::generate::{generate, GenerateOptions};
use careweek::problem::Problem;
use careweek::solve::domain::Domains;
use careweek::solve::state::State;
use careweek::solve::{components, construct, lagrange, lns};
use careweek::validate::validate;

/// Sizes (patients) of the generated caseloads.
const SIZES: [usize; 3] = [30, 100, 300];
/// Repairs of one LNS run.
const LNS_ITERATIONS: u64 = 8;
/// Subgradient steps of one Lagrangian bound.
const LAGRANGE_STEPS: usize = 50;
/// Nodes of one patient's exact search in the Lagrangian bound (as in the solver).
const LAGRANGE_NODES: usize = 20_000;
/// Seed of the caseloads and of the LNS.
const SEED: u64 = 1;

/// A generated problem, its domains and its largest component.
struct Fixture {
    patients: usize,
    problem: Problem,
    domains: Domains,
    comp: Vec<usize>,
    components: usize,
}

impl Fixture {
    fn new(patients: usize) -> Fixture {
        let input = generate(&GenerateOptions {
            patients,
            seed: SEED,
            grid_min: 15,
        });
        let problem = validate(input).expect("generated caseloads are valid");
        let domains = Domains::build(&problem);
        let mut groups = components(&problem, &domains);
        let components = groups.len();
        // The largest component; the first of equal ones.
        let k = (0..groups.len())
            .max_by_key(|&k| (groups[k].len(), std::cmp::Reverse(k)))
            .expect("generated caseloads have placeable requests");
        let comp = groups.swap_remove(k);
        Fixture {
            patients,
            problem,
            domains,
            comp,
            components,
        }
    }

    /// The component constructed from an empty state.
    fn constructed(&self) -> State<'_> {
        let mut state = State::new(&self.problem, &self.domains);
        construct::construct(&mut state, &self.comp);
        state
    }
}

/// A deadline no run reaches.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(24 * 3600)
}

/// Runs the fixed LNS budget on `state`; returns the repairs performed.
fn repair(state: &mut State, comp: &[usize], cancel: &AtomicBool) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let budget = lns::Budget {
        deadline: far_future(),
        max_iterations: LNS_ITERATIONS,
        stall: u64::MAX,
        cancel,
        stop: None,
        target: i64::MIN,
        deterministic: true,
        repair_options: lns::WORK_REPAIR_OPTIONS,
        movable: None,
        guide: None,
        anneal: None,
    };
    lns::improve(state, comp, &mut rng, budget, &|_, _| {})
}

/// The fixed-budget Lagrangian bound of the component, from an empty state.
fn bound(fx: &Fixture, upper: i64) -> f64 {
    let empty = State::new(&fx.problem, &fx.domains);
    let never = AtomicBool::new(false);
    let budget = lagrange::Budget {
        deadline: far_future(),
        cancel: &never,
        max_steps: LAGRANGE_STEPS,
        node_limit: LAGRANGE_NODES,
        deterministic: true,
    };
    lagrange::lagrangian_bound(&empty, &fx.comp, upper, budget).bound
}

fn phases(c: &mut Criterion) {
    // Fails only when the global pool already exists (then it is left as it is).
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build_global();
    let cancel = AtomicBool::new(false);
    let fixtures: Vec<Fixture> = SIZES.iter().map(|&n| Fixture::new(n)).collect();

    // What each phase produces, once per size.
    let mut uppers = Vec::new();
    for fx in &fixtures {
        let mut state = fx.constructed();
        let constructed = state.component_total(&fx.comp);
        let repairs = repair(&mut state, &fx.comp, &cancel);
        let repaired = state.component_total(&fx.comp);
        let b = bound(fx, repaired);
        eprintln!(
            "patients {}: requests {}, components {}, largest {} requests; \
             construct {constructed}, after {repairs} repairs {repaired}, \
             lagrangian bound {b:.1} ({LAGRANGE_STEPS} steps)",
            fx.patients,
            fx.problem.requests.len(),
            fx.components,
            fx.comp.len(),
        );
        uppers.push(repaired);
    }

    let mut group = c.benchmark_group("options");
    for fx in &fixtures {
        group.bench_with_input(BenchmarkId::from_parameter(fx.patients), fx, |b, fx| {
            b.iter(|| Domains::build(&fx.problem))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("options_quarter");
    for fx in &fixtures {
        let starts: usize = fx
            .domains
            .opts
            .iter()
            .map(|os| {
                os.iter()
                    .map(|o| (o.provider, o.start, o.in_person()))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            })
            .sum();
        group.bench_with_input(BenchmarkId::from_parameter(fx.patients), fx, |b, fx| {
            b.iter(|| Domains::build_within(&fx.problem, starts / 4))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("construct");
    for fx in &fixtures {
        group.bench_with_input(BenchmarkId::from_parameter(fx.patients), fx, |b, fx| {
            b.iter_batched(
                || State::new(&fx.problem, &fx.domains),
                |mut state| {
                    construct::construct(&mut state, &fx.comp);
                    state
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("lns_repair");
    for fx in &fixtures {
        let constructed = fx.constructed();
        group.bench_with_input(BenchmarkId::from_parameter(fx.patients), fx, |b, fx| {
            b.iter_batched(
                || constructed.clone(),
                |mut state| {
                    repair(&mut state, &fx.comp, &cancel);
                    state
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("lagrangian_bound");
    group.sample_size(10);
    for (fx, &upper) in fixtures.iter().zip(&uppers) {
        group.bench_with_input(BenchmarkId::from_parameter(fx.patients), fx, |b, fx| {
            b.iter(|| bound(fx, upper))
        });
    }
    group.finish();
}

criterion_group!(benches, phases);
criterion_main!(benches);
