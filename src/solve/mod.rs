//! The solver: domains, structure, construction, improvement, bound. No I/O.
//!
//! 1. [`domain`]: every request's feasible options after the unary rules (parallel); an
//!    empty domain gives the unplaced reason at once.
//! 2. Structure: requests that share a patient, a provider, a resource or a link form
//!    components (petgraph union-find), solved independently and in parallel.
//! 3. [`construct`]: priority construction; after the bound, a second one guided by the
//!    bound's prices (a Lagrangian heuristic), the better kept.
//! 4. [`lns`] improves it: neighbourhoods repaired exactly by a small branch and bound
//!    ([`repair`]) or a randomised greedy,
//!    ejection chains for unplaced requests; a component of 200 requests or more is
//!    searched from one random stream per core, and from 1,500 requests the streams move
//!    shares of its patients dealt anew every half second, what they find put together by
//!    `merge`. A component small enough is also solved exactly by the [`milp`] (the
//!    search's schedule kept when it is no worse).
//! 5. Bound: [`lagrange`] (capacity priced per instant, each patient relaxed to days by
//!    [`patient_days`], then exact at the best prices), a proven optimum per exact
//!    component, and with HiGHS the LP relaxation of the component model.
//!
//! `component` runs these phases on one component within its share of the time; `output`
//! turns the solved state into the schedule's objective terms, appointments and reasons.

mod backtrack;
pub mod bound;
mod branch;
mod component;
pub mod construct;
pub mod domain;
mod explain;
pub mod lagrange;
pub mod lns;
mod master;
pub mod milp;
mod output;
pub mod patient_days;
pub mod pins;
#[cfg(not(feature = "highs"))]
mod primal_dual;
pub mod repair;
mod shares;
pub mod state;
#[cfg(test)]
mod test_caseloads;
mod trajectory;
mod week_pricing;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use petgraph::unionfind::UnionFind;
use rayon::prelude::*;

use crate::problem::Problem;
use crate::schedule::{Schedule, Stats, Status};

use component::{ComponentResult, Context};
use domain::Domains;
pub use output::week_origin;
use output::{objective_terms, placed_list, unplaced_list};
use state::State;

/// A progress callback, called from solver threads.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Solver options.
#[derive(Clone)]
pub struct SolveOptions {
    /// Wall-clock limit in seconds: at most a week is used (an infinite limit means a
    /// week); zero, a negative limit or NaN means no time to search beyond the first
    /// schedule.
    pub time_limit: f64,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Deterministic work budget: neighbourhood repairs per component (unlimited when
    /// `None`: a small component is then first solved under a budget of its own, which
    /// is the answer when it proves its schedule optimal; otherwise the search stops when
    /// proven optimal or at the time limit, and the clock decides the output). The time limit
    /// still guards it: give one long enough that the work ends first (the CLI uses 3600 s
    /// under `--work`), or the clock decides the output (at 1,000 patients the bound alone
    /// takes about 9 s).
    pub work: Option<u64>,
    /// Set to true (from any thread) to stop early with the best schedule so far.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Called when the incumbent improves, with the running objective and bound.
    pub progress: Option<ProgressFn>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            time_limit: 10.0,
            threads: 0,
            seed: 0,
            work: None,
            cancel: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for SolveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolveOptions")
            .field("time_limit", &self.time_limit)
            .field("threads", &self.threads)
            .field("seed", &self.seed)
            .field("work", &self.work)
            .field("cancel", &self.cancel.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// A progress report: the objective of the best schedule so far and the bound proven so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Objective total of the incumbent (components not yet constructed count as unplaced).
    pub incumbent: i64,
    /// Lower bound proven so far (components without one count 0).
    pub bound: f64,
    /// Seconds since the solve started.
    pub elapsed: f64,
}

/// Running totals per component, for progress reports.
struct Tracker {
    started: Instant,
    /// Weight of the requests that can never be placed (in no component).
    fixed: i64,
    incumbent: Vec<i64>,
    bound: Vec<f64>,
    callback: Option<ProgressFn>,
}

impl Tracker {
    fn update(tracker: &Mutex<Tracker>, k: usize, incumbent: Option<i64>, bound: Option<f64>) {
        let Ok(mut t) = tracker.lock() else { return };
        // Several searches of a component report (portfolio streams, restarts from a
        // shaken schedule): the component's best so far is the least, its bound the most.
        if let Some(v) = incumbent {
            t.incumbent[k] = t.incumbent[k].min(v);
        }
        if let Some(b) = bound {
            t.bound[k] = t.bound[k].max(b);
        }
        if let Some(cb) = &t.callback {
            let p = Progress {
                incumbent: t.fixed + t.incumbent.iter().sum::<i64>(),
                bound: t.fixed as f64 + t.bound.iter().sum::<f64>(),
                elapsed: t.started.elapsed().as_secs_f64(),
            };
            cb(&p);
        }
    }
}

/// Solves a validated problem: every request comes back placed or unplaced with a reason.
///
/// # Example
/// ```
/// use careweek::{generate::{generate, GenerateOptions}, solve::{solve, SolveOptions}};
/// let input = generate(&GenerateOptions { patients: 8, seed: 1, grid_min: 15 });
/// let problem = careweek::validate::validate(input).unwrap();
/// let schedule = solve(&problem, &SolveOptions { time_limit: 2.0, ..Default::default() });
/// assert_eq!(schedule.placed.len() + schedule.unplaced.len(), problem.requests.len());
/// ```
pub fn solve(problem: &Problem, options: &SolveOptions) -> Schedule {
    let started = Instant::now();
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    // Building options and the first schedule come before any phase watches the clock:
    // past what the limit leaves time for, the requests with the most starts are thinned.
    // Under a work budget the options must not depend on the thread count.
    let cores = if options.work.is_some() {
        1
    } else {
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        threads.min(available)
    };
    let most_starts = domain::STARTS_PER_SECOND_PER_CORE
        * cores as f64
        * (usable_time_limit(options.time_limit) + domain::BUILD_SLACK_SECONDS);
    let most_starts = most_starts.min(usize::MAX as f64) as usize;
    let run = || solve_in_pool(problem, options, started, threads, most_starts);
    match pool {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}

/// Whether `bound` proves `total` optimal: costs are integers, so a bound within 1 does.
fn proves(total: f64, bound: f64) -> bool {
    total - bound < 1.0 - 1e-6
}

/// The longest time limit used, in seconds: a week. Beyond it the deadline arithmetic
/// would overflow, and no caseload needs it; the command line refuses longer limits.
pub const MAX_TIME_LIMIT: f64 = 7.0 * 24.0 * 3600.0;

/// The seconds a time limit allows: at most [`MAX_TIME_LIMIT`] (an infinite limit, whose
/// `Duration` would panic, included), and none for zero, a negative limit or NaN.
pub(crate) fn usable_time_limit(limit: f64) -> f64 {
    // NaN compares false.
    if limit > 0.0 {
        limit.min(MAX_TIME_LIMIT)
    } else {
        0.0
    }
}

/// Fixed part of what follows the search: the schedule, its reasons, writing it.
const TAIL_FIXED_SECONDS: f64 = 1.0;
/// Part of it per option offered (freeing them, the reasons' scans).
const TAIL_SECONDS_PER_OPTION: f64 = 35e-9;

/// How long the components may search within a limit of `limit` seconds: all but a margin
/// for what follows the search, at most 8 % of the limit. From the search's end to the
/// process's it took 0.4 s on refbench 3,000 patients (1.0 million options) and 2.1 s on
/// `careweek generate --patients 3000 --grid 5` (41.5 million); a margin of 2.5 s
/// whatever the size left refbench's 3,000 patients 2 s of their minute unsearched.
fn search_time(limit: f64, options: usize) -> Duration {
    let limit = usable_time_limit(limit);
    let tail = TAIL_FIXED_SECONDS + options as f64 * TAIL_SECONDS_PER_OPTION;
    let margin = (limit * 0.08).min(tail);
    Duration::from_secs_f64((limit - margin).max(0.05))
}

/// [`solve`] on the current thread pool, offering about `most_starts` starts in all (see
/// [`Domains::build_within`]).
fn solve_in_pool(
    problem: &Problem,
    options: &SolveOptions,
    started: Instant,
    threads: usize,
    most_starts: usize,
) -> Schedule {
    let domains = Domains::build_within(problem, most_starts);
    let deadline = started + search_time(options.time_limit, domains.size());
    if std::env::var_os("CAREWEEK_TRACE").is_some() {
        eprintln!(
            "trace: {} options built at {:.2}s ({} requests thinned)",
            domains.size(),
            started.elapsed().as_secs_f64(),
            domains.thinned.iter().filter(|&&t| t).count()
        );
    }
    let components = components(problem, &domains);
    // A component with a thinned request claims only its week bound (see
    // `component::solve_component`): its search may stop at an optimum over the thinned
    // options alone, which proves nothing over every option.
    let thinned: Vec<bool> = components.iter().map(|c| domains.any_thinned(c)).collect();

    let tracker = Mutex::new(Tracker {
        started,
        fixed: (0..problem.requests.len())
            .filter(|&r| domains.opts[r].is_empty())
            .map(|r| state::unplaced_weight(problem, r))
            .sum(),
        incumbent: components
            .iter()
            .map(|c| c.iter().map(|&r| state::unplaced_weight(problem, r)).sum())
            .collect(),
        bound: vec![0.0; components.len()],
        callback: options.progress.clone(),
    });
    let never = AtomicBool::new(false);
    let cancel: &AtomicBool = options.cancel.as_deref().unwrap_or(&never);
    // With a time limit every component would search until the deadline, leaving none for
    // the components that start after it: each gets, when it starts, its share of the time
    // left by its options among the components not started yet, times the workers.
    let weights: Vec<f64> = components
        .iter()
        .map(|c| {
            c.iter()
                .map(|&r| domains.opts[r].len().max(1))
                .sum::<usize>() as f64
        })
        .collect();
    let unstarted = Mutex::new(weights.iter().sum::<f64>());
    let own_deadline = |k: usize| {
        if options.work.is_some() {
            // The clock only guards a work budget.
            return deadline;
        }
        let mut unstarted = unstarted.lock().unwrap_or_else(|e| e.into_inner());
        let share = (threads as f64 * weights[k] / unstarted.max(weights[k])).min(1.0);
        *unstarted -= weights[k];
        let now = Instant::now();
        now + deadline.saturating_duration_since(now).mul_f64(share)
    };
    let results: Vec<ComponentResult> = components
        .par_iter()
        .enumerate()
        .map(|(k, comp)| {
            let ctx = Context {
                problem,
                domains: &domains,
                seed: options.seed.wrapping_add(k as u64),
                work: options.work,
                opening: false,
                deadline: own_deadline(k),
                cancel,
                report: &|incumbent, bound| Tracker::update(&tracker, k, incumbent, bound),
            };
            component::solve(&ctx, comp)
        })
        .collect();

    let mut state = State::new(problem, &domains);
    let mut bound = 0.0;
    let mut exact = 0;
    let mut construction = 0;
    let mut iterations = 0;
    for (res, &thinned) in results.iter().zip(&thinned) {
        for &(r, oi) in &res.assign {
            if let Some(oi) = oi {
                state.assign[r] = None;
                state.place(r, oi);
            }
        }
        bound += res.bound;
        let proven = if thinned {
            proves(res.total as f64, res.bound)
        } else {
            res.exact
        };
        exact += usize::from(proven);
        construction += res.construction;
        iterations += res.iterations;
    }
    // Requests outside every component (empty domains) are unplaced for certain.
    let lonely: i64 = (0..problem.requests.len())
        .filter(|&r| domains.opts[r].is_empty())
        .map(|r| state::unplaced_weight(problem, r))
        .sum();
    bound += lonely as f64;
    construction += lonely;

    let objective = objective_terms(&state);
    debug_assert_eq!(objective.total, state.total());
    let total = objective.total as f64;
    let bound = bound.min(total).max(0.0);
    let bound = if proves(total, bound) {
        total
    } else {
        bound.ceil()
    };
    let gap = if total > 0.0 {
        (total - bound) / total
    } else {
        0.0
    };
    Schedule {
        version: crate::model::FORMAT_VERSION,
        placed: placed_list(&state),
        unplaced: unplaced_list(&state),
        objective,
        bound,
        gap,
        status: if gap <= 0.0 {
            Status::Optimal
        } else {
            Status::Feasible
        },
        stats: Stats {
            backend: milp::backend_name().into(),
            seconds: started.elapsed().as_secs_f64(),
            threads,
            seed: options.seed,
            requests: problem.requests.len(),
            options: domains.size(),
            components: components.len(),
            components_exact: exact,
            construction_objective: construction,
            iterations,
            thinned: domains.thinned.iter().filter(|&&t| t).count(),
        },
    }
}

/// Groups requests that interact (patient, provider, resource, link): the connected
/// components of the caseload's coupling graph, which [`solve`] solves independently and in
/// parallel. Each group sorted, groups ordered by their first request. Requests with an
/// empty domain (no option at all) are left out.
pub fn components(problem: &Problem, domains: &Domains) -> Vec<Vec<usize>> {
    let n = problem.requests.len();
    let np = problem.providers.len();
    let nq = problem.patients.len();
    // Nodes: requests, then providers, resources, patients.
    let mut uf = UnionFind::<usize>::new(n + np + problem.resources.len() + nq);
    for (r, opts) in domains.opts.iter().enumerate() {
        if opts.is_empty() {
            continue;
        }
        uf.union(
            r,
            n + np + problem.resources.len() + problem.requests[r].patient,
        );
        for o in opts {
            uf.union(r, n + o.provider as usize);
            for &u in &o.resources {
                uf.union(r, n + np + u as usize);
            }
        }
    }
    for p in &problem.precedences {
        uf.union(p.before, p.after);
    }
    for g in &problem.same_day {
        for w in g.windows(2) {
            uf.union(w[0], w[1]);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for r in 0..n {
        if !domains.opts[r].is_empty() {
            groups.entry(uf.find(r)).or_default().push(r);
        }
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by_key(|g| g[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::test_caseloads::{large_roster, one_large_specialty};

    /// One thread under a work budget of `work` repairs: the same result on every run.
    fn counted(work: u64) -> SolveOptions {
        SolveOptions {
            time_limit: 120.0,
            threads: 1,
            seed: 1,
            work: Some(work),
            ..Default::default()
        }
    }

    /// The search keeps a margin for what follows it that grows with the options offered,
    /// never more than 8 % of the limit, and never ends before it starts.
    #[test]
    fn the_search_leaves_a_margin_that_grows_with_the_options() {
        let secs = |limit: f64, options: usize| search_time(limit, options).as_secs_f64();
        // Refbench's 3,000 patients: a second and a little, not 2.5 s.
        assert!((secs(60.0, 1_021_280) - (60.0 - 1.0 - 0.0357448)).abs() < 1e-6);
        // 41.5 million options: 2.45 s.
        assert!((secs(60.0, 41_478_373) - (60.0 - 1.0 - 1.45174)).abs() < 1e-4);
        // Short limits: 8 % of them, however many options.
        assert!((secs(10.0, 1_000) - 9.2).abs() < 1e-9);
        assert!((secs(10.0, 100_000_000) - 9.2).abs() < 1e-9);
        assert_eq!(secs(0.0, 1_000), 0.05);
        assert!(secs(300.0, 41_478_373) > secs(60.0, 41_478_373));
        assert!(secs(60.0, 1_000) > secs(60.0, 41_478_373));
        // A limit no clock can hold is a week's; one that is not a limit, none.
        assert!((secs(f64::INFINITY, 1_000) - (MAX_TIME_LIMIT - 1.000035)).abs() < 1e-6);
        assert_eq!(secs(f64::NAN, 1_000), 0.05);
        assert_eq!(secs(-3.0, 1_000), 0.05);
    }

    /// A library caller's time limit that is not a finite positive number still gives a
    /// schedule, every request placed or said why not, rather than a panic.
    #[test]
    fn any_time_limit_gives_a_schedule() {
        let input = crate::generate::generate(&crate::generate::GenerateOptions {
            patients: 6,
            seed: 3,
            grid_min: 15,
        });
        let problem = crate::validate::validate(input.clone()).expect("a generated caseload");
        for (time_limit, work) in [
            (f64::INFINITY, Some(200)),
            (f64::NAN, None),
            (-1.0, None),
            (0.0, None),
        ] {
            let schedule = solve(
                &problem,
                &SolveOptions {
                    time_limit,
                    threads: 1,
                    work,
                    ..Default::default()
                },
            );
            assert_eq!(
                schedule.placed.len() + schedule.unplaced.len(),
                problem.requests.len(),
                "time limit {time_limit}"
            );
            let report = crate::check::check(&input, &schedule);
            assert!(
                report.violations.is_empty(),
                "time limit {time_limit}: {:?}",
                report.violations
            );
        }
    }

    /// The weight of the requests no option is left for: unplaced in every schedule.
    fn never_placed(problem: &Problem, domains: &Domains) -> i64 {
        (0..problem.requests.len())
            .filter(|&r| domains.opts[r].is_empty())
            .map(|r| state::unplaced_weight(problem, r))
            .sum()
    }

    /// A bound over thinned options would bound only those, not the week: a component with
    /// a thinned request claims the Lagrangian's bound with its thinned requests left out of
    /// their patients' weeks, which stays under the optimum over every option, and still
    /// claims more than what no schedule can place (the schedule passes the checker, every
    /// request placed or said why not). Over several caseloads and budgets of starts.
    #[test]
    fn a_thinned_component_bounds_the_week_over_every_option() {
        let options = counted(4_000);
        // Copies of each provider, any of them eligible (many starts a request), or of one
        // specialty's; budgets of starts under which the Lagrangian over the thinned
        // options (column generation after it) bounded 10390, 16575 and 31410 against
        // optima of 10360, 16560 and 31395.
        let cases = [
            (large_roster(5, 6, 15, 12), 686),
            (one_large_specialty(8, 2, 15, 9), 273),
            (large_roster(8, 7, 15, 6), 333),
            (large_roster(6, 1, 15, 9), 600),
        ];
        for (problem, most_starts) in cases {
            let full = solve_in_pool(&problem, &options, Instant::now(), 1, usize::MAX);
            assert_eq!(full.status, Status::Optimal, "{:?}", full.objective);
            assert_eq!(full.stats.thinned, 0);
            let thin = solve_in_pool(&problem, &options, Instant::now(), 1, most_starts);
            assert!(thin.stats.thinned > 0, "nothing thinned");
            let domains = Domains::build_within(&problem, most_starts);
            assert!(components(&problem, &domains)
                .iter()
                .any(|c| domains.any_thinned(c)));
            assert!(
                thin.bound <= full.objective.total as f64,
                "bound {} past the optimum {}",
                thin.bound,
                full.objective.total
            );
            assert!(thin.objective.total >= full.objective.total);
            let never = never_placed(&problem, &domains);
            assert!(thin.bound >= never as f64);
            let report = crate::check::check(&problem.input, &thin);
            assert!(report.violations.is_empty(), "{:?}", report.violations);
            assert_eq!(report.objective, thin.objective);
            assert_eq!(
                thin.placed.len() + thin.unplaced.len(),
                problem.requests.len()
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// On random small rosters whose optimum over every option is proven, any budget of
        /// starts gives a bound at most that optimum.
        #[test]
        fn a_thinned_bound_never_passes_the_optimum(
            patients in 4usize..9,
            seed in 1u64..1_000,
            one_specialty in proptest::bool::ANY,
            copies in 4usize..13,
            share in 0.1f64..0.9,
        ) {
            let problem = if one_specialty {
                one_large_specialty(patients, seed, 15, copies)
            } else {
                large_roster(patients, seed, 15, copies)
            };
            let options = counted(4_000);
            let full = solve_in_pool(&problem, &options, Instant::now(), 1, usize::MAX);
            proptest::prop_assume!(full.status == Status::Optimal);
            let starts = Domains::build_within(&problem, usize::MAX).size();
            let most_starts = (starts as f64 * share) as usize;
            let thin = solve_in_pool(&problem, &options, Instant::now(), 1, most_starts);
            proptest::prop_assert!(
                thin.bound <= full.objective.total as f64,
                "bound {} past the optimum {} ({} thinned)",
                thin.bound,
                full.objective.total,
                thin.stats.thinned
            );
        }
    }

    /// A few thinned requests among many take out only their own part of the bound (the
    /// Lagrangian's over the rest), where a component with one claimed none before.
    #[test]
    fn a_few_thinned_requests_leave_the_rest_of_the_bound() {
        let problem = one_large_specialty(30, 5, 15, 9);
        let options = counted(2_000);
        let full = solve_in_pool(&problem, &options, Instant::now(), 1, usize::MAX);
        let most_starts = 2_800;
        let thin = solve_in_pool(&problem, &options, Instant::now(), 1, most_starts);
        let domains = Domains::build_within(&problem, most_starts);
        let never = never_placed(&problem, &domains);
        assert!(thin.stats.thinned > 0 && thin.stats.thinned * 5 < problem.requests.len());
        assert!(thin.bound <= full.objective.total as f64);
        assert!(
            thin.bound > never as f64 + 0.4 * (full.bound - never as f64),
            "bound {} against {} unthinned, {never} for what no schedule places",
            thin.bound,
            full.bound
        );
    }
}
