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

pub mod bound;
pub mod construct;
pub mod domain;
mod explain;
pub mod lagrange;
pub mod lns;
mod master;
mod merge;
pub mod milp;
pub mod patient_days;
pub mod pins;
#[cfg(not(feature = "highs"))]
mod primal_dual;
pub mod repair;
pub mod state;
#[cfg(test)]
mod test_caseloads;
mod week_pricing;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use petgraph::unionfind::UnionFind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::model::Modality;
use crate::problem::Problem;
use crate::schedule::{Objective, Placed, Schedule, Stats, Status, Unplaced, UnplacedCode};

use domain::Domains;
use state::State;

/// A progress callback, called from solver threads.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Solver options.
#[derive(Clone)]
pub struct SolveOptions {
    /// Wall-clock limit in seconds.
    pub time_limit: f64,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Deterministic work budget: neighbourhood repairs per component (unlimited when
    /// `None`; the search then stops when it stalls or at the time limit). The time limit
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

/// Largest whole component the pure-Rust backend solves under a work budget, where nothing
/// but the guard would stop a slow branch and bound.
const WORK_MICROLP_OPTIONS: usize = 60;

/// Largest whole component HiGHS solves exactly under a work budget.
const WORK_HIGHS_OPTIONS: usize = 1_500;

/// Branch-and-bound nodes of the whole-component MILP under a work budget, where the clock
/// only guards: the search then ends at the same point on any machine.
const EXACT_NODES: u64 = 1_000;

/// Largest component (requests) whose Lagrangian bound solves each patient's week with the
/// full node limit.
const EXACT_WEEKS_FULL_NODES_UP_TO: usize = 5_000;

/// Largest component (in options) given to the exact MILP whole.
fn exact_limit() -> usize {
    if cfg!(feature = "highs") {
        // Measured on refbench instances: HiGHS improves a 1,500- or 5,000-option component
        // within the time share, while at 18,000 it spends half a minute without improving
        // the incumbent or proving a bound, time the search then lacks.
        12_000
    } else {
        600
    }
}

/// Largest component (in options) whose LP relaxation is solved for the bound.
fn relaxation_limit() -> usize {
    if cfg!(feature = "highs") {
        // Above this the relaxation of a component (100,000 options at 300 patients, 320,000
        // at 1,000) finishes late or not at all, never beating the Lagrangian bound, and
        // costs gigabytes.
        12_000
    } else {
        // The pure-Rust simplex rarely finishes these in the time a bound can have.
        0
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
    let run = || solve_in_pool(problem, options, started, threads);
    match pool {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}

struct ComponentResult {
    assign: Vec<(usize, Option<u32>)>,
    bound: f64,
    exact: bool,
    construction: i64,
    iterations: u64,
}

fn solve_in_pool(
    problem: &Problem,
    options: &SolveOptions,
    started: Instant,
    threads: usize,
) -> Schedule {
    // What follows the search (the schedule, its reasons, writing it) takes well under a
    // second even at 3,000 patients (process 55.6 s with the search ending at 55.2 s): a
    // margin of 8 % of the limit, at most 2.5 s.
    let limit = options.time_limit;
    let deadline = started + Duration::from_secs_f64((limit * 0.92).max(limit - 2.5).max(0.05));
    let domains = Domains::build(problem);
    let components = components(problem, &domains);

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
                deadline: own_deadline(k),
                cancel,
                report: &|incumbent, bound| Tracker::update(&tracker, k, incumbent, bound),
            };
            solve_component(&ctx, comp)
        })
        .collect();

    let mut state = State::new(problem, &domains);
    let mut bound = 0.0;
    let mut exact = 0;
    let mut construction = 0;
    let mut iterations = 0;
    for res in &results {
        for &(r, oi) in &res.assign {
            if let Some(oi) = oi {
                state.assign[r] = None;
                state.place(r, oi);
            }
        }
        bound += res.bound;
        exact += usize::from(res.exact);
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
    // Costs are integers: a bound within 1 of the total proves optimality.
    let bound = if total - bound < 1.0 - 1e-6 {
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
        },
    }
}

/// Groups requests that interact (patient, provider, resource, link); each group sorted,
/// groups ordered by their first request. Requests with an empty domain are left out.
fn components(problem: &Problem, domains: &Domains) -> Vec<Vec<usize>> {
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

/// Share of the time left that the Lagrangian bound may take. It stops earlier once its
/// steps no longer gain (300 patients: 3 s of 60), so only large components use it all:
/// refbench at 60 s, 3,000 patients, with the repairs of MILPs, share 0.2 / 0.3 / 0.4: bound
/// 815448 / 840905 / 843668, objective 967495 / 956825 / 966015 (its prices also guide the
/// construction); 1,000 patients 0.2 / 0.3: bound 270794 / 272046 (converged). With the
/// branch-and-bound repairs the search needs less time: 3,000 patients, seeds 0 and 1, share
/// 0.3: gaps 10.0 % and 11.6 % (bound 841646 / 834571); 0.4: 10.3 % and 10.5 % (843506 /
/// 846107, objective 940475 / 945610); 0.5: 9.9 % and 11.0 % (849184 / 834955). The bound
/// varies by run with the steps' pace, which follows the clock.
const BOUND_SHARE: f64 = 0.4;

/// Share of the time left after the quick search that column generation may take (where
/// it runs: [`lagrange::columns_worthwhile`]). Refbench's 5-minute grid at 100 patients,
/// HiGHS, 60 s, share 0.4 / 0.6 / 0.8: objective 62715 / 62730 / 62820, bound 58585 /
/// 59048 / 59269, gap 6.6 / 5.9 / 5.7 %; 100 patients at 0.6: 39110, gap 2.5 % (0.4:
/// 39050, 2.4 %). At long limits it stops well before (300 s: converged after 100 s).
const COLUMNS_SHARE: f64 = 0.6;

/// What every component solve shares.
struct Context<'a> {
    problem: &'a Problem,
    domains: &'a Domains,
    seed: u64,
    work: Option<u64>,
    deadline: Instant,
    cancel: &'a AtomicBool,
    report: &'a (dyn Fn(Option<i64>, Option<f64>) + Sync),
}

fn solve_component(ctx: &Context, comp: &[usize]) -> ComponentResult {
    let (problem, domains, deadline) = (ctx.problem, ctx.domains, ctx.deadline);
    let trace = std::env::var_os("CAREWEEK_TRACE").is_some();
    let t0 = Instant::now();
    let mut state = State::new(problem, domains);
    construct::construct(&mut state, comp);
    let construction = comp_total(&state, comp);
    (ctx.report)(Some(construction), None);
    let size = milp::candidate_count(&state, comp);
    // Each phase gets a share of the time left; under a work budget the phases run to the
    // end of their own work instead (the time limit only guards), so the result does not
    // depend on the machine's speed.
    let share = |f: f64| {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        if ctx.work.is_some() {
            left
        } else {
            left * f
        }
    };
    let stall = if ctx.work.is_some() {
        u64::MAX
    } else {
        400 + 4 * comp.len() as u64
    };
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);
    // Progress at most every 50 ms: the component's total is a sum over all its requests,
    // and a large component improves many times a second.
    let last_report = AtomicU64::new(0);
    let on_improve = |_total: i64, state: &State| {
        let now = t0.elapsed().as_millis() as u64;
        let last = last_report.load(Ordering::Relaxed);
        if now >= last + 50
            && last_report
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            (ctx.report)(Some(comp_total(state, comp)), None);
        }
    };

    let repair_options = if ctx.work.is_some() {
        lns::WORK_REPAIR_OPTIONS
    } else {
        lns::REPAIR_OPTIONS
    };
    let mut exact = false;
    let mut bound: Option<f64> = None;
    // Costs are integers: a total below the bound plus 1 is optimal. `target` is the largest
    // such state total (the component's part plus what lies outside it, the same in every
    // state of this component), at which the searches stop.
    let offset = state.total() - comp_total(&state, comp);
    let target = |bound: Option<f64>| {
        bound.map_or(i64::MIN, |b| (b + 1.0 - 1e-6).ceil() as i64 - 1 + offset)
    };
    let proven = |state: &State, bound: Option<f64>| state.total() <= target(bound);
    let empty = State::new(problem, domains);
    // Node limit of a patient's exact week in the bound (why these: step 1).
    let node_limit = if comp.len() > EXACT_WEEKS_FULL_NODES_UP_TO {
        2_000
    } else {
        20_000
    };
    // The Lagrangian bound's outcome, which column generation may take further.
    let mut lagrangian: Option<lagrange::Lagrangian> = None;
    // The relaxed weeks at the bound's best prices, which guide one kind of neighbourhood.
    let mut guide: Option<Vec<Option<u32>>> = None;

    // 1. The Lagrangian bound first (capacity priced in time, each patient's week exact):
    //    it often proves a small component's construction optimal, and otherwise tells the
    //    searches below when to stop.
    if !ctx.cancel.load(Ordering::Relaxed) {
        let budget = lagrange::Budget {
            deadline: Instant::now() + Duration::from_secs_f64(share(BOUND_SHARE)),
            cancel: ctx.cancel,
            // Under a work budget a fixed number; otherwise the clock decides.
            max_steps: if ctx.work.is_some() { 2_000 } else { 10_000 },
            deterministic: ctx.work.is_some(),
            // Each patient's exact week at the best prices, 20,000 nodes a patient; 2,000 in
            // a component so large that the pass takes seconds the search needs more
            // (refbench 3,000 patients: 20,000 nodes +5358 to the bound in 5.7 s, 2,000
            // +4300 in 1.5 s, and the schedule 4.4k-5.4k better at 60 s on seeds 0 and 1; at
            // 30 patients 2,000 would lose 210 of 4984, at 1,000 670 of 2700 for 1.9 s).
            node_limit,
        };
        let mut relaxed =
            lagrange::lagrangian_bound(&empty, comp, comp_total(&state, comp), budget);
        guide = Some(std::mem::take(&mut relaxed.guide));
        let b = relaxed.bound;
        if b.is_finite() {
            raise(&mut bound, b - 1e-6 * (1.0 + b.abs()));
        }
        exact = proven(&state, bound);
        // The prices that gave the bound also say where contested time is worth most.
        if !exact && b.is_finite() {
            let prices = &relaxed.prices;
            let mut priced = State::new(problem, domains);
            construct::construct_priced(&mut priced, comp, &|r, oi| {
                prices[r][oi as usize].round() as i64
            });
            let (guided, plain) = (comp_total(&priced, comp), comp_total(&state, comp));
            if trace {
                eprintln!("trace: priced construction {guided} against {plain}");
            }
            if guided < plain {
                state = priced;
                on_improve(0, &state);
                exact = proven(&state, bound);
            }
        }
        lagrangian = Some(relaxed);
    }

    // A component holding most of the caseload leaves the other cores idle: search it from
    // several random streams at once (not under a work budget, whose result may not depend
    // on the thread count).
    let workers = rayon::current_num_threads();
    let parallel = ctx.work.is_none() && workers > 1 && comp.len() >= PORTFOLIO_MIN_REQUESTS;
    // A component far larger than a neighbourhood: its searches work on shares of it, on
    // one core too (in turn), as searching a share is far cheaper than the whole.
    let split = (ctx.work.is_none() && comp.len() >= SPLIT_MIN_REQUESTS)
        .then(|| merge::Units::new(&state, comp));
    let portfolio_search = parallel || split.is_some();

    // 2. A quick search: the exact methods below start from its incumbent.
    let mut iterations = 0;
    if !exact {
        let quick = lns::Budget {
            deadline: Instant::now() + Duration::from_secs_f64(share(0.15)),
            max_iterations: ctx.work.map_or(u64::MAX, |w| w / 4),
            stall,
            cancel: ctx.cancel,
            stop: None,
            target: target(bound),
            deterministic: ctx.work.is_some(),
            repair_options,
            movable: None,
            guide: guide.as_deref(),
        };
        iterations = if portfolio_search {
            // Independent streams (one round): where the first search ends up decides much
            // of the rest (refbench, 100 patients: 39.5k or 42.5k by seed), so try several.
            // (Split searches share what they find from the start: see `portfolio`.)
            let whole = quick.deadline.saturating_duration_since(Instant::now());
            portfolio(
                &mut state,
                comp,
                split.as_ref(),
                &mut rng,
                quick,
                workers,
                whole,
                &on_improve,
            )
        } else {
            lns::improve(&mut state, comp, &mut rng, quick, &on_improve)
        };
        exact = proven(&state, bound);
    }
    // 2b. With time for it, column generation takes the Lagrangian bound further. It starts
    //     here rather than with the bound, as its master LP comes down from the schedule's
    //     weeks in fewer rounds the better the schedule (5-minute grid, 100 patients: from
    //     the construction's 48030 the master needed 9 rounds, 23 s, to reach 20.4k; the
    //     quick search's 20.6k is there at once).
    if let Some(from) = lagrangian.take() {
        let seconds = share(COLUMNS_SHARE);
        if !exact
            && ctx.work.is_none()
            && lagrange::columns_worthwhile(comp.len(), seconds)
            && !ctx.cancel.load(Ordering::Relaxed)
        {
            let generated = lagrange::column_generation(
                &empty,
                comp,
                &state,
                comp_total(&state, comp),
                &from,
                lagrange::Budget {
                    deadline: Instant::now() + Duration::from_secs_f64(seconds),
                    cancel: ctx.cancel,
                    max_steps: 0,
                    node_limit,
                    deterministic: false,
                },
            );
            let b = generated.bound;
            if b.is_finite() {
                raise(&mut bound, b - 1e-6 * (1.0 + b.abs()));
            }
            exact = proven(&state, bound);
        }
    }
    if trace {
        eprintln!(
            "trace: comp {} reqs, {size} cand; lagrangian bound {bound:?} at {:.2}s, incumbent {}",
            comp.len(),
            t0.elapsed().as_secs_f64(),
            comp_total(&state, comp)
        );
    }

    // 3. The whole component exactly when small enough (warm-started on the pure-Rust
    //    backend; HiGHS starts cold, see `milp`).
    let exact_size = match ctx.work {
        // Without a time share, only models that finish quickly: HiGHS stops at a node
        // limit but its root cuts alone took 50 s on a 4,800-option week; the pure-Rust
        // backend has no node limit and took minutes on a 250-option component whose
        // waiting rows leave its relaxation weak.
        Some(_) if cfg!(feature = "highs") => WORK_HIGHS_OPTIONS,
        Some(_) => WORK_MICROLP_OPTIONS,
        None => exact_limit(),
    };
    // With a time limit, HiGHS and a component searched by one stream (so a core is free):
    // the MILP runs alongside the search for all the time left instead (step 5).
    let alongside = ctx.work.is_none()
        && cfg!(feature = "highs")
        && !parallel
        && workers > 1
        && size <= exact_size;
    if !exact && size <= exact_size && !alongside && !ctx.cancel.load(Ordering::Relaxed) {
        let out = whole_milp(
            &empty,
            &state,
            comp,
            (share(0.6), ctx.work.map(|_| EXACT_NODES)),
            ctx.cancel,
        );
        if let Some(out) = out {
            adopt_exact(&mut state, comp, &out, &mut bound);
        }
        exact = proven(&state, bound);
    }

    // 4. Relaxations for the bound (a MILP run alongside bounds at least as well).
    if !exact && size <= relaxation_limit() && !alongside {
        if let Some(lp) = milp::solve_subset(
            &empty,
            comp,
            None,
            milp::Form::Relaxed,
            milp::Limits::time(share(0.3)),
            usize::MAX,
        ) {
            if lp.optimal {
                raise(&mut bound, lp.objective - 1e-6);
            }
        }
    }
    if !exact && bound.is_none() {
        if let Some(b) = bound::aggregated_bound(&empty, comp, share(0.3)) {
            raise(&mut bound, b - 1e-6);
        }
    }
    exact = exact || proven(&state, bound);
    (ctx.report)(Some(comp_total(&state, comp)), bound);
    if trace {
        eprintln!(
            "trace: bound {bound:?} at {:.2}s, incumbent {}, exact {exact}",
            t0.elapsed().as_secs_f64(),
            comp_total(&state, comp)
        );
    }

    // 5. Search on with the time (or work) left; alongside it, on another core, the whole
    //    component as one MILP when `alongside`.
    if !exact {
        let stop = AtomicBool::new(false);
        let rest = lns::Budget {
            deadline,
            max_iterations: ctx.work.map_or(u64::MAX, |w| w.saturating_sub(iterations)),
            stall,
            cancel: ctx.cancel,
            stop: alongside.then_some(&stop),
            target: target(bound),
            deterministic: ctx.work.is_some(),
            repair_options,
            movable: None,
            guide: guide.as_deref(),
        };
        let whole = || {
            // HiGHS keeps its time limit to a fraction of a second; the margin keeps the
            // whole process within the caller's.
            let left = deadline
                .saturating_duration_since(Instant::now())
                .as_secs_f64()
                - 0.5;
            if !alongside || left < 1.0 || ctx.cancel.load(Ordering::Relaxed) {
                return None;
            }
            let out = whole_milp(&empty, &state, comp, (left, None), ctx.cancel);
            if out.as_ref().is_some_and(|o| o.optimal) {
                // Nothing left for the search to find.
                stop.store(true, Ordering::Relaxed);
            }
            out
        };
        let search = |mut rng: ChaCha8Rng| {
            let mut state = state.clone();
            let mut iterations = 0;
            let mut best = state.clone();
            loop {
                if portfolio_search {
                    iterations += portfolio(
                        &mut state,
                        comp,
                        split.as_ref(),
                        &mut rng,
                        rest,
                        workers,
                        PORTFOLIO_ROUND,
                        &on_improve,
                    );
                } else {
                    iterations += lns::improve(&mut state, comp, &mut rng, rest, &on_improve);
                }
                if state.total() < best.total() {
                    best = state.clone();
                }
                // A search that stalls with time left is caught in one basin: start again
                // from the best schedule with a part of it rebuilt (time limit only; under a
                // work budget the search stops where it stalls).
                let left = deadline.saturating_duration_since(Instant::now());
                if ctx.work.is_some()
                    || left < RESTART_MIN_TIME
                    || rest.stopped()
                    || proven(&best, bound)
                {
                    break;
                }
                state = best.clone();
                if !shake(&mut state, comp, &mut rng) {
                    break;
                }
                if trace {
                    eprintln!(
                        "trace: restart at {:.2}s from {}, shaken to {}",
                        t0.elapsed().as_secs_f64(),
                        comp_total(&best, comp),
                        comp_total(&state, comp)
                    );
                }
            }
            (best, iterations)
        };
        // A component searched by one stream leaves the other cores idle: with a time limit,
        // and no MILP to run there, a second search from its own random stream goes alongside
        // and the better of the two is kept (where the first searches end up varies by
        // stream: refbench 30 patients, seeds 0-2: 22955, 22945, 22930).
        let second = ctx.work.is_none() && !parallel && workers > 1 && !alongside;
        let second_rng = second.then(|| ChaCha8Rng::seed_from_u64(rng.gen()));
        let partner = || {
            let left = deadline.saturating_duration_since(Instant::now());
            match &second_rng {
                Some(rng) if left >= RESTART_MIN_TIME => (None, Some(search(rng.clone()))),
                Some(_) => (None, None),
                None => (whole(), None),
            }
        };
        // The search on this thread; its partner where another worker takes it (when none
        // does, it comes after the search, finds no time left and returns at once).
        let ((best, done), (whole, other)) = rayon::join(|| search(rng.clone()), partner);
        state = best;
        iterations += done;
        if let Some((other, done)) = other {
            iterations += done;
            if trace {
                eprintln!(
                    "trace: second search: {} against {}",
                    comp_total(&other, comp),
                    comp_total(&state, comp)
                );
            }
            if other.total() < state.total() {
                state = other;
            }
        }
        if trace {
            eprintln!(
                "trace: search done at {:.2}s, {iterations} repairs, incumbent {}",
                t0.elapsed().as_secs_f64(),
                comp_total(&state, comp)
            );
        }
        if let Some(out) = whole {
            adopt_exact(&mut state, comp, &out, &mut bound);
            exact = proven(&state, bound);
            if trace {
                eprintln!(
                    "trace: whole MILP alongside: objective {:.1}, optimal {}, bound {:?}",
                    out.objective, out.optimal, out.bound
                );
            }
        }
    }
    // A request that still fits with a gain (a later move freed its slot, and no
    // neighbourhood tried it there since) is booked: then every request left out costs no
    // less placed, as its reason says.
    construct::fill(&mut state, comp);
    // The last improvement may have fallen between two progress reports.
    (ctx.report)(Some(comp_total(&state, comp)), bound);
    ComponentResult {
        assign: comp.iter().map(|&r| (r, state.assign[r])).collect(),
        bound: bound.unwrap_or(0.0),
        exact,
        construction,
        iterations,
    }
}

/// The whole component as one exact MILP on the strongest backend, given the schedule
/// `start` as a warm start (used by the pure-Rust backend only), within `(seconds,
/// branch-and-bound nodes)`, stopped early by `cancel`.
fn whole_milp(
    empty: &State,
    start: &State,
    comp: &[usize],
    (time, nodes): (f64, Option<u64>),
    cancel: &AtomicBool,
) -> Option<milp::Outcome> {
    let warm: Vec<Option<u32>> = comp.iter().map(|&r| start.assign[r]).collect();
    milp::solve_subset(
        empty,
        comp,
        Some(&warm),
        milp::Form::Exact,
        milp::Limits {
            time,
            nodes,
            interrupt: Some(cancel),
        },
        usize::MAX,
    )
}

/// Takes the whole-component MILP's schedule when it is no worse, and its bound (the exact
/// form's optimum or, stopped early, its dual bound).
fn adopt_exact(state: &mut State, comp: &[usize], out: &milp::Outcome, bound: &mut Option<f64>) {
    let mut candidate = State::new(state.problem, state.domains);
    if apply(&mut candidate, comp, &out.choice)
        && comp_total(&candidate, comp) <= comp_total(state, comp)
    {
        *state = candidate;
    }
    if let Some(b) = out.bound {
        raise(bound, b - 1e-6 * (1.0 + b.abs()));
    }
}

/// Raises `bound` to `b` when `b` proves more.
fn raise(bound: &mut Option<f64>, b: f64) {
    if bound.is_none_or(|x| b > x) {
        *bound = Some(b);
    }
}

/// Requests of a component from which its search runs on every core (measured at 30
/// patients, an 80-request component: one stream with restarts did better).
const PORTFOLIO_MIN_REQUESTS: usize = 200;
/// Requests of a component whose searches each move their own share of it (in parallel,
/// or in turn on one core)
/// (refbench, 1,000 patients, 60 s, seeds 1-3: 318660, 317570, 317660 with one round's
/// best kept; 308520, 316750, 307490 split; but 300 patients, a 922-request component,
/// 131325 unsplit against 134640 split).
const SPLIT_MIN_REQUESTS: usize = 1_500;
/// Fewest shares of a split component: on one core two shares are searched in turn
/// (refbench, 1,000 patients, 60 s, one thread: seed 0 307045 / 299380 / 300840, seed 2
/// 312985, seed 3 302625, against 321240, 309770, 320570 unsplit; four shares 306315 /
/// 303285 at seed 0; 3,000 patients 943670 against 945470).
/// On two cores four shares (two in turn on each) did no better than two: 304295 / 305540
/// against 298595 / 305395.
const SPLIT_MIN_SHARES: usize = 2;
/// How long split searches run apart: short, as the longer they run the more of what one
/// finds no longer fits beside what the other found.
const SPLIT_ROUND: Duration = Duration::from_millis(500);
/// How long the searches of a portfolio run apart before the best is shared.
const PORTFOLIO_ROUND: Duration = Duration::from_secs(4);

/// Large-neighbourhood searches from the same schedule in parallel, one per worker, each
/// with its own random stream; every `round` the best schedule (ties to the first worker)
/// is where all of them go on from. With `split`, each search moves only its own share of
/// the component's units, dealt at random every [`SPLIT_ROUND`] instead (with fewer workers
/// than [`SPLIT_MIN_SHARES`], a worker searches several shares in turn), and what the
/// others found is carried into the best (see [`merge`]). Returns the repairs performed.
#[allow(clippy::too_many_arguments)]
fn portfolio(
    state: &mut State,
    comp: &[usize],
    split: Option<&merge::Units>,
    rng: &mut ChaCha8Rng,
    budget: lns::Budget,
    workers: usize,
    round: Duration,
    on_improve: &(dyn Fn(i64, &State) + Sync),
) -> u64 {
    let round = if split.is_some() { SPLIT_ROUND } else { round };
    let mut iterations = 0;
    loop {
        let now = Instant::now();
        if now >= budget.deadline || budget.stopped() || state.total() <= budget.target {
            break;
        }
        let left = budget.deadline - now;
        let round_end = if left < 2 * round {
            budget.deadline
        } else {
            now + round
        };
        let seeds: Vec<u64> = (0..workers).map(|_| rng.gen()).collect();
        // Split: at least `SPLIT_MIN_SHARES` shares, worker k searching shares k, k +
        // workers, ... in turn, each for an equal part of the round.
        let parts = if split.is_some() {
            workers.max(SPLIT_MIN_SHARES)
        } else {
            workers
        };
        let shares = split.map(|units| units.deal(parts, state.problem.requests.len(), rng));
        let start: &State = state;
        let results: Vec<(State, u64)> = seeds
            .par_iter()
            .enumerate()
            .map(|(k, &seed)| {
                let mut own = start.clone();
                let mut own_rng = ChaCha8Rng::seed_from_u64(seed);
                let turns: Vec<usize> = (k..parts).step_by(workers).collect();
                let begin = Instant::now();
                let span = round_end.saturating_duration_since(begin);
                let mut done = 0;
                for (j, &share) in turns.iter().enumerate() {
                    let turn = lns::Budget {
                        deadline: begin + span.mul_f64((j + 1) as f64 / turns.len() as f64),
                        movable: shares.as_ref().map(|s| &s[share][..]),
                        ..budget
                    };
                    done += lns::improve(&mut own, comp, &mut own_rng, turn, on_improve);
                }
                (own, done)
            })
            .collect();
        iterations += results.iter().map(|r| r.1).sum::<u64>();
        let before = state.total();
        let mut ranked: Vec<State> = results.into_iter().map(|r| r.0).collect();
        ranked.sort_by_key(State::total);
        let mut ranked = ranked.into_iter();
        let mut best = ranked.next().expect("at least one worker");
        if let Some(units) = split {
            for other in ranked.filter(|o| o.total() < before) {
                merge::carry_over(&mut best, state, &other, units);
            }
        }
        let stalled = best.total() >= before && Instant::now() < round_end;
        *state = best;
        if stalled {
            // Every search stopped early without a better schedule: nothing left to find.
            break;
        }
    }
    iterations
}

/// Least time left for a restart of a stalled search to be worth it.
const RESTART_MIN_TIME: Duration = Duration::from_secs(2);
/// Share of a component's patients whose weeks a restart rebuilds.
const SHAKE_SHARE: f64 = 0.3;

/// Rebuilds the weeks of a random [`SHAKE_SHARE`] of the component's patients with the
/// randomised greedy (what depends on a freed request goes with it). False when the
/// result is not a settled schedule (the caller goes back to the one it had).
fn shake(state: &mut State, comp: &[usize], rng: &mut ChaCha8Rng) -> bool {
    let problem = state.problem;
    let mut patients: Vec<usize> = comp.iter().map(|&r| problem.requests[r].patient).collect();
    patients.sort_unstable();
    patients.dedup();
    let chosen: Vec<bool> = patients
        .iter()
        .map(|_| rng.gen::<f64>() < SHAKE_SHARE)
        .collect();
    let mut free: Vec<usize> = comp
        .iter()
        .copied()
        .filter(|&r| {
            let q = problem.requests[r].patient;
            !problem.requests[r].pinned()
                && chosen[patients
                    .binary_search(&q)
                    .expect("patient of the component")]
        })
        .collect();
    state.with_dependants(&mut free);
    for &r in &free {
        state.remove(r);
    }
    construct::construct_randomized(state, &free, rng, problem.weights.trip.max(1) / 2);
    state.settled(comp)
}

/// Places a subset solution in prerequisite order, checking every placement.
fn apply(state: &mut State, comp: &[usize], choice: &[Option<u32>]) -> bool {
    construct::book(state, comp, &|r| {
        choice[comp.iter().position(|&x| x == r).expect("member")]
    }) && state.settled(comp)
}

/// The part of the objective that belongs to a component's requests and patients.
fn comp_total(state: &State, comp: &[usize]) -> i64 {
    let problem = state.problem;
    let mut total = 0;
    let mut patients: Vec<usize> = comp.iter().map(|&r| problem.requests[r].patient).collect();
    patients.sort_unstable();
    patients.dedup();
    for &r in comp {
        total += match state.placed(r) {
            Some(o) => o.cost,
            None => state::unplaced_weight(problem, r),
        };
    }
    for q in patients {
        for d in 0..problem.days.len() {
            total += state.patient_day_cost(q, d, None);
        }
    }
    total
}

fn objective_terms(state: &State) -> Objective {
    let problem = state.problem;
    let w = &problem.weights;
    let mut obj = Objective::default();
    for (r, req) in problem.requests.iter().enumerate() {
        match state.placed(r) {
            None => {
                obj.unplaced += w.unplaced_per_priority * req.priority as i64;
                if req.existing.as_ref().is_some_and(|e| !e.pinned) {
                    obj.moved += w.moved;
                }
            }
            Some(o) => {
                let day = o.day as usize;
                let patient = &problem.patients[req.patient];
                if patient
                    .prefers
                    .is_some_and(|p| p != problem.part_of_day(day, o.start))
                {
                    obj.part_of_day += w.part_of_day;
                }
                if req
                    .preferred_provider
                    .is_some_and(|p| p != o.provider as usize)
                {
                    obj.provider += w.provider;
                }
                if !patient.preferred_day[day] {
                    obj.preferred_day += w.preferred_day;
                }
                if req.existing.as_ref().is_some_and(|e| !e.pinned)
                    && !domain::same_as_existing(req.existing.as_ref(), o)
                {
                    obj.moved += w.moved;
                }
            }
        }
    }
    for q in 0..problem.patients.len() {
        for d in 0..problem.days.len() {
            let cost = state.patient_day_cost(q, d, None);
            if cost > 0 {
                obj.trips += w.trip;
                obj.idle += cost - w.trip;
            }
        }
    }
    obj.with_total()
}

/// The instant of absolute minute 0: the week's first local midnight.
pub fn week_origin(problem: &Problem) -> DateTime<Utc> {
    let midnight = problem.input.week.start.and_time(chrono::NaiveTime::MIN);
    problem
        .tz
        .from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            problem
                .tz
                .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

fn local(
    problem: &Problem,
    origin: DateTime<Utc>,
    minute: i32,
    site: Option<usize>,
) -> DateTime<FixedOffset> {
    let instant = origin + chrono::Duration::minutes(minute as i64);
    let tz = site.map_or(problem.tz, |s| problem.sites[s].tz);
    instant.with_timezone(&tz).fixed_offset()
}

fn placed_list(state: &State) -> Vec<Placed> {
    let problem = state.problem;
    let input = &problem.input;
    let origin = week_origin(problem);
    let mut out: Vec<(i32, Placed)> = (0..problem.requests.len())
        .filter_map(|r| {
            let o = state.placed(r)?;
            let site = o.site.map(|s| s as usize);
            let tz_site = site
                .or(Some(problem.providers[o.provider as usize].site))
                .filter(|_| site.is_some());
            Some((
                o.start,
                Placed {
                    request: input.requests[r].id.clone(),
                    patient: input.patients[problem.requests[r].patient].id.clone(),
                    provider: input.providers[o.provider as usize].id.clone(),
                    resources: o
                        .resources
                        .iter()
                        .map(|&u| input.resources[u as usize].id.clone())
                        .collect(),
                    site: site.map(|s| input.sites[s].id.clone()),
                    start: local(problem, origin, o.start, tz_site),
                    end: local(problem, origin, o.end, tz_site),
                    modality: if site.is_some() {
                        Modality::InPerson
                    } else {
                        Modality::Telehealth
                    },
                },
            ))
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1.request).cmp(&(b.0, &b.1.request)));
    out.into_iter().map(|x| x.1).collect()
}

fn unplaced_list(state: &State) -> Vec<Unplaced> {
    let problem = state.problem;
    let input = &problem.input;
    (0..problem.requests.len())
        .filter(|&r| state.assign[r].is_none())
        .map(|r| {
            let (code, reason) = unplaced_reason(state, r);
            Unplaced {
                request: input.requests[r].id.clone(),
                patient: input.patients[problem.requests[r].patient].id.clone(),
                code,
                reason,
            }
        })
        .collect()
}

fn unplaced_reason(state: &State, r: usize) -> (UnplacedCode, String) {
    let problem = state.problem;
    if let Some(reason) = &state.domains.empty[r] {
        return reason.clone();
    }
    for &k in state.preds(r) {
        let before = problem.precedences[k].before;
        if state.assign[before].is_none() {
            return (
                UnplacedCode::Link,
                explain::link(problem, r, before, "after"),
            );
        }
    }
    for &g in state.groups(r) {
        if let Some(&m) = problem.same_day[g]
            .iter()
            .find(|&&m| m != r && state.domains.opts[m].is_empty())
        {
            return (
                UnplacedCode::Link,
                explain::link(problem, r, m, "on the same day as"),
            );
        }
    }
    let opts = &state.domains.opts[r];
    let none = |_: usize| false;
    // A same-day bundle is booked whole or not at all: judged whole.
    if let Some(&g) = state.groups(r).iter().find(|&&g| {
        problem.same_day[g]
            .iter()
            .any(|&m| m != r && state.assign[m].is_none())
    }) {
        let members: Vec<usize> = problem.same_day[g]
            .iter()
            .copied()
            .filter(|&m| state.assign[m].is_none())
            .collect();
        let mate = members.iter().copied().find(|&m| m != r).unwrap_or(r);
        let leaving: i64 = members
            .iter()
            .map(|&m| state::unplaced_weight(problem, m))
            .sum();
        return match construct::bundle_change(state, &members) {
            Some(change) if change >= 0 => (
                UnplacedCode::Outweighed,
                explain::outweighed_bundle(problem, r, mate, change + leaving, leaving),
            ),
            _ => (
                UnplacedCode::Link,
                explain::link(problem, r, mate, "on the same day as"),
            ),
        };
    }
    // A slot that fits as the schedule stands: the weights made leaving it out the cheaper.
    if let Some((delta, oi)) = construct::cheapest_fit(state, r) {
        let o = state.opt(r, oi);
        let leaving = state::unplaced_weight(problem, r);
        return (
            UnplacedCode::Outweighed,
            explain::outweighed(
                problem,
                r,
                o.provider,
                o.day as usize,
                delta + leaving,
                leaving,
            ),
        );
    }
    let fits_but_trips = (0..opts.len() as u32).any(|oi| {
        state.fits_resources(r, oi)
            && state.fits_patient(r, oi, false)
            && !state.fits_patient(r, oi, true)
    });
    if fits_but_trips {
        return (UnplacedCode::MaxTrips, explain::max_trips(problem, r));
    }
    let fits_alone = (0..opts.len() as u32)
        .any(|oi| state.fits_resources(r, oi) && state.fits_patient(r, oi, true));
    if fits_alone && !(0..opts.len() as u32).any(|oi| state.fits(r, oi, &none)) {
        if let Some(&k) = state.preds(r).first().or(state.succs(r).first()) {
            let p = problem.precedences[k];
            let other = if p.before == r { p.after } else { p.before };
            return (
                UnplacedCode::Link,
                explain::link(problem, r, other, "timed relative to"),
            );
        }
        if let Some(&g) = state.groups(r).first() {
            let other = problem.same_day[g]
                .iter()
                .copied()
                .find(|&m| m != r)
                .unwrap_or(r);
            return (
                UnplacedCode::Link,
                explain::link(problem, r, other, "on the same day as"),
            );
        }
    }
    // Slots the providers and resources leave free, and why the patient's week refuses them.
    let free: Vec<u32> = (0..opts.len() as u32)
        .filter(|&oi| state.fits_resources(r, oi))
        .collect();
    if free.is_empty() {
        return (
            UnplacedCode::Capacity,
            explain::capacity(problem, r, opts.len()),
        );
    }
    let patient = problem.requests[r].patient;
    let mut days: Vec<(usize, bool)> = free
        .iter()
        .map(|&oi| {
            let day = state.opt(r, oi).day as usize;
            (day, state.at_daily_limit(patient, day))
        })
        .collect();
    days.sort_unstable();
    days.dedup();
    (
        UnplacedCode::Capacity,
        explain::own_week(problem, r, &days, opts.len() - free.len()),
    )
}
