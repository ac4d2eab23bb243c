//! One component's solve: the Lagrangian bound, a quick search, column generation, the
//! exact MILP when the component is small enough, then the search for the time (or work)
//! left, from one stream, a portfolio of streams or shares of a split component.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::problem::Problem;

use super::domain::Domains;
use super::state::State;
use super::trajectory::{self, Position, Trajectory};
use super::{bound, branch, construct, lagrange, lns, milp, shares};

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

pub(super) struct ComponentResult {
    pub(super) assign: Vec<(usize, Option<u32>)>,
    /// The component's part of the objective.
    pub(super) total: i64,
    /// A lower bound on that part over every option, thinned ones included (0 when none
    /// was found).
    pub(super) bound: f64,
    /// Proven optimal over the options offered: over every option only when none of the
    /// component's requests is thinned (the caller judges those by `bound`).
    pub(super) exact: bool,
    pub(super) construction: i64,
    pub(super) iterations: u64,
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

/// Share of the time left after column generation that branching on placements may take
/// (beside a search on the other core). Refbench, 60 s, 2 threads, solver seed 1, without
/// / with: 41 patients `--seed 5001` gap 9.97 / 0.35 %, the 5-minute grid at 77 `--seed
/// 5001` 9.36 / 4.38 %, at 60 `--seed 901` 8.19 / 5.77 %, the schedules within their
/// spread.
const BRANCH_SHARE: f64 = 0.5;
/// The same on one core, where the branching takes the search's own time: on refbench's
/// 5-minute grid at 100 patients `--seed 88` (60 s, one thread) half the time left cost
/// the schedule 48105 -> 49075 for no gain in the bound.
const BRANCH_SHARE_ALONE: f64 = 0.25;
/// Share of the time left after column generation that the tree may take while the
/// branch it splits next is split on a placement (past [`BRANCH_SHARE`]; see
/// `branch::Deadlines`), beside a search on the other core. Refbench, 60 s, 2 threads,
/// every split to 0.85 against 0.5: the 5-minute grid at 100 `--seed 88`, where most
/// splits are on days and add little, 49660 / 49855 against 48330 / 47110 (solver seeds
/// 2 / 3), the portfolio's two cores after the tree doing better there; but the trees
/// that split on placements gained: at 60 `--seed 901` bound 18570 -> 18921 (gap 5.06 ->
/// 3.54 %), at 130 `--seed 5003` gap 6.10 -> 5.35 % and 5.82 -> 5.43 %; 300 patients
/// `--seed 8` bound 43664 -> 44250 for its component (7.27 -> 6.39 %), `--seed 2` 65160
/// -> 64300 and 65580 -> 64660 (the search beside the tree, one stream, ahead of the
/// portfolio after it), `--seed 7` 5.30 -> 4.75 %. With day splits kept to half, the 100
/// `--seed 88` grid is back where it was (4.42 -> 2.11 %, 1.55 -> 1.55 %); benches/LOG.md
/// (2026-12-07, ninth session) has the runs on unseen shapes, mixed on one of them.
const PLACEMENT_BRANCH_SHARE: f64 = 0.85;

/// What every component solve shares.
pub(super) struct Context<'a> {
    pub(super) problem: &'a Problem,
    pub(super) domains: &'a Domains,
    pub(super) seed: u64,
    pub(super) work: Option<u64>,
    /// The deterministic opening of a time-limited solve (see [`solve`]): a work budget
    /// whose searches restart where they stall and whose pure-Rust branch and bound takes
    /// the components it would with a time limit, stopped by the opening's deadline (HiGHS
    /// keeps its work-budget limits).
    pub(super) opening: bool,
    pub(super) deadline: Instant,
    pub(super) cancel: &'a AtomicBool,
    pub(super) report: &'a (dyn Fn(Option<i64>, Option<f64>) + Sync),
}

/// Largest component (in options) that gets a deterministic opening: one that small
/// takes a fraction of a second under the opening's work budget (refbench's 100 patients,
/// 18,000 options: 0.3 s), while larger ones are never proven optimal within a minute.
const OPENING_MAX_OPTIONS: usize = 25_000;
/// Most of a component's time share the opening may take.
const OPENING_SHARE: f64 = 0.2;

/// Solves one component. With a time limit, a small component is first solved under a
/// work budget (the opening): when that proves its schedule optimal before the clock
/// intervenes, it is the answer, the same on every run and for any thread count. Otherwise
/// the time-limited solve goes on from the opening's schedule and bound.
pub(super) fn solve(ctx: &Context, comp: &[usize]) -> ComponentResult {
    let options: usize = comp.iter().map(|&r| ctx.domains.opts[r].len()).sum();
    if ctx.work.is_some() || options > OPENING_MAX_OPTIONS || ctx.cancel.load(Ordering::Relaxed) {
        return solve_component(ctx, comp, None);
    }
    let now = Instant::now();
    let until = now
        + ctx
            .deadline
            .saturating_duration_since(now)
            .mul_f64(OPENING_SHARE);
    let opening = Context {
        work: Some((200 * comp.len() as u64).clamp(2_000, 20_000)),
        opening: true,
        deadline: until,
        ..*ctx
    };
    let first = solve_component(&opening, comp, None);
    // Finished before its deadline: no phase was cut by the clock.
    if first.exact && Instant::now() < until {
        return first;
    }
    let second = solve_component(ctx, comp, Some(&first));
    let iterations = first.iterations + second.iterations;
    let bound = first.bound.max(second.bound);
    let mut best = if first.total < second.total {
        first
    } else {
        second
    };
    best.bound = bound;
    best.iterations = iterations;
    best
}

/// Solves one component within `ctx`'s budget, from `start` (the opening's outcome) when
/// given and better than the construction.
fn solve_component(
    ctx: &Context,
    comp: &[usize],
    start: Option<&ComponentResult>,
) -> ComponentResult {
    let (problem, domains, deadline) = (ctx.problem, ctx.domains, ctx.deadline);
    let trace = std::env::var_os("CAREWEEK_TRACE").is_some();
    let t0 = Instant::now();
    let mut state = State::new(problem, domains);
    let left = deadline.saturating_duration_since(Instant::now());
    construct::construct_within(&mut state, comp, left.as_secs_f64());
    let construction = state.component_total(comp);
    (ctx.report)(Some(construction), None);
    let size = milp::candidate_count(&state, comp);
    if let Some(start) = start.filter(|s| s.total < construction) {
        let mut from = State::new(problem, domains);
        let choice: Vec<Option<u32>> = start.assign.iter().map(|&(_, oi)| oi).collect();
        if apply(&mut from, comp, &choice) {
            state = from;
        }
    }
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
    // Under a work budget the search runs to the end of it; the opening's searches stop when
    // they stall, to restart as a time-limited search does.
    let stall = if ctx.work.is_some() && !ctx.opening {
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
            (ctx.report)(Some(state.component_total(comp)), None);
        }
    };

    let repair_options = if ctx.work.is_some() && !ctx.opening {
        lns::WORK_REPAIR_OPTIONS
    } else {
        lns::REPAIR_OPTIONS
    };
    let mut exact = false;
    let mut bound: Option<f64> = start.map(|s| s.bound).filter(|&b| b > 0.0);
    // With a thinned request every bound below but the Lagrangian's bounds only the thinned
    // options, whose optimum may lie above the week's: `bound` then only tells the searches
    // when nothing better is left among those, and `week_bound` (the Lagrangian's, with the
    // thinned requests left out of their patients' weeks) is what the component claims.
    let thinned = domains.any_thinned(comp);
    let mut week_bound: Option<f64> = if thinned { bound } else { None };
    let claimed = |bound: Option<f64>, week_bound: Option<f64>| {
        if thinned {
            week_bound
        } else {
            bound
        }
    };
    // Costs are integers: a total below the bound plus 1 is optimal. `target` is the largest
    // such state total (the component's part plus what lies outside it, the same in every
    // state of this component), at which the searches stop.
    let offset = state.total() - state.component_total(comp);
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
    let columns = ColumnRun {
        ctx,
        empty: &empty,
        comp,
        node_limit,
        last: std::sync::Mutex::new(None),
    };
    // The Lagrangian bound's outcome, which column generation may take further.
    let mut lagrangian: Option<lagrange::Lagrangian> = None;
    // The relaxed weeks at the bound's best prices, which guide one kind of neighbourhood.
    let mut guide: Option<Vec<Option<u32>>> = None;

    // 1. The Lagrangian bound first (capacity priced in time, each patient's week exact):
    //    it often proves a small component's construction optimal, and otherwise tells the
    //    searches below when to stop. Not once the time is up: its set-up alone takes a
    //    second on 14 million options (`careweek generate --patients 3000`), which a short
    //    time limit has already spent on the options and the construction.
    if !ctx.cancel.load(Ordering::Relaxed) && Instant::now() < deadline {
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
            lagrange::lagrangian_bound(&empty, comp, state.component_total(comp), budget);
        guide = Some(std::mem::take(&mut relaxed.guide));
        let b = relaxed.bound;
        if b.is_finite() {
            raise(&mut bound, b - 1e-6 * (1.0 + b.abs()));
            if thinned {
                raise(&mut week_bound, b - 1e-6 * (1.0 + b.abs()));
            }
        }
        exact = proven(&state, bound);
        // The prices that gave the bound also say where contested time is worth most.
        if !exact && b.is_finite() {
            let prices = &relaxed.prices;
            let mut priced = State::new(problem, domains);
            construct::construct_priced(&mut priced, comp, &|r, oi| {
                prices[r][oi as usize].round() as i64
            });
            let (guided, plain) = (priced.component_total(comp), state.component_total(comp));
            if trace {
                eprintln!("trace: priced construction {guided} against {plain}");
            }
            if guided < plain {
                state = priced;
                on_improve(0, &state);
                exact = proven(&state, bound);
            }
        }
        // Column generation prices exact weeks, waiting counted: not with thinned requests
        // left out (see `lagrange::PatientRequests::partial`).
        lagrangian = Some(relaxed).filter(|_| !thinned);
    }

    // A component holding most of the caseload leaves the other cores idle: search it from
    // several random streams at once (not under a work budget, whose result may not depend
    // on the thread count).
    let workers = rayon::current_num_threads();
    let parallel = ctx.work.is_none() && workers > 1 && comp.len() >= PORTFOLIO_MIN_REQUESTS;
    // A component far larger than a neighbourhood: its searches work on shares of it, on
    // one core too (in turn), as searching a share is far cheaper than the whole.
    let split = (ctx.work.is_none() && comp.len() >= SPLIT_MIN_REQUESTS)
        .then(|| shares::Units::new(&state, comp));
    let portfolio_search = parallel || split.is_some();
    // A whole component's searches anneal; a split one's rounds (a fraction of a second
    // each) would spend them hot: refbench 1,000 `--seed 1` ended at 307755 annealed
    // against 297045.
    let anneal = (ctx.work.is_none() && split.is_none())
        .then_some(ANNEAL_TRIPS * problem.weights.trip as f64)
        .filter(|&t| t > 0.0);

    // Branching on placements from the last column generation (see `ColumnRun::branch`),
    // beside a search, for a share of the time left.
    let branch_share = if workers > 1 {
        BRANCH_SHARE
    } else {
        BRANCH_SHARE_ALONE
    };
    let branch_beside = |state: &mut State,
                         bound: &mut Option<f64>,
                         rng: &mut ChaCha8Rng,
                         guide: Option<&[Option<u32>]>| {
        let now = Instant::now();
        let any = now + Duration::from_secs_f64(share(branch_share));
        // Splits on placements go on longer where the search has a core of its own.
        let deadlines = branch::Deadlines {
            any,
            placements: if workers > 1 {
                now + Duration::from_secs_f64(share(PLACEMENT_BRANCH_SHARE))
            } else {
                any
            },
        };
        let beside = lns::Budget {
            // The search stops with the tree.
            deadline: deadlines.last(),
            max_iterations: u64::MAX,
            stall: u64::MAX,
            cancel: ctx.cancel,
            stop: None,
            target: target(*bound),
            deterministic: false,
            repair_options,
            movable: None,
            guide,
            anneal,
        };
        columns.branch(state, bound, rng, (beside, deadlines), &on_improve)
    };

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
            anneal,
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
    let seconds = share(COLUMNS_SHARE);
    if let Some(from) = lagrangian.take_if(|_| {
        !exact
            && ctx.work.is_none()
            && lagrange::columns_worthwhile(comp.len(), seconds)
            && !ctx.cancel.load(Ordering::Relaxed)
    }) {
        // The master's heaviest weeks guide the search better than the Lagrangian's
        // relaxed ones (60 s, 2 threads, solver seeds 1-3: refbench 100 patients
        // `--seed 88` 53660 / 53710 / 53680 -> 52865 / 52810 / 52995, gaps 5.9 % ->
        // 4.4-4.7 %; the 5-minute grid `--seed 77` 57185-57275 -> 56470-56700; `--seed
        // 88` within its spread, 50350-51725 -> 50385-51980).
        if let (Some(heaviest), _) = columns.run(&state, &from, seconds, &mut bound) {
            guide = Some(heaviest);
        }
        exact = proven(&state, bound);
        // 2c. Where the master LP still places requests in part, branching on them takes
        //     the bound further (see `branch`), beside a search when there is a core for
        //     each.
        if !exact {
            iterations += branch_beside(&mut state, &mut bound, &mut rng, guide.as_deref());
            exact = proven(&state, bound);
        }
    }
    // A component too large for that, searched from every core: column generation runs
    // now, its master LP on one core, while the other core searches on (its pricing is a
    // small part). Run late instead, once the search stalls, it took both cores' search
    // for its seconds, and did not run at all when the search had not stalled by some 45 s
    // of the minute (refbench 300 patients, 60 s, 2 threads, seeds 2, 3, 7, 8, solver seeds
    // 1 and 2: late, it ran in five runs of eight, so that `--seed 7` kept the Lagrangian's
    // 87881 where it reaches 88800; mean gap 8.4 % -> 7.9 %, the objective lower in five
    // runs of eight; 7.2 % with the same started from the search loop).
    let seconds = share(LATE_COLUMNS_SHARE);
    if let Some(from) = lagrangian.take_if(|_| {
        !exact
            && parallel
            && lagrange::columns_late_worthwhile(comp.len(), seconds)
            && !ctx.cancel.load(Ordering::Relaxed)
    }) {
        let columns_done = AtomicBool::new(false);
        let mut side = state.clone();
        let mut side_rng = ChaCha8Rng::seed_from_u64(rng.gen());
        let side_budget = lns::Budget {
            deadline,
            max_iterations: u64::MAX,
            stall: u64::MAX,
            cancel: ctx.cancel,
            stop: Some(&columns_done),
            target: target(bound),
            deterministic: false,
            repair_options,
            movable: None,
            guide: guide.as_deref(),
            anneal,
        };
        let ((heaviest, rounds), searched) = rayon::join(
            || {
                let out = columns.run(&state, &from, seconds, &mut bound);
                columns_done.store(true, Ordering::Relaxed);
                out
            },
            || lns::improve(&mut side, comp, &mut side_rng, side_budget, &on_improve),
        );
        if trace {
            eprintln!(
                "trace: column generation beside the search: {rounds} rounds at {:.2}s, search {} -> {}",
                t0.elapsed().as_secs_f64(),
                state.component_total(comp),
                side.component_total(comp)
            );
        }
        iterations += searched;
        state = side;
        if heaviest.is_some() {
            guide = heaviest;
        }
        exact = proven(&state, bound);
        // Then branching on placements from its master, on the core it took (refbench
        // 300 patients, 60 s, solver seed 1: four branches in 19 s, bound +0 to +81 on
        // `--seed 2`, `7`, `8`, the schedules within their spread).
        if !exact {
            iterations += branch_beside(&mut state, &mut bound, &mut rng, guide.as_deref());
            exact = proven(&state, bound);
        }
    }
    if trace {
        eprintln!(
            "trace: comp {} reqs, {size} cand; lagrangian bound {bound:?} at {:.2}s, incumbent {}",
            comp.len(),
            t0.elapsed().as_secs_f64(),
            state.component_total(comp)
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
        // The opening's branch and bound is stopped by its deadline, and proves only when
        // it finishes first.
        Some(_) if ctx.opening => exact_limit(),
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
    (ctx.report)(
        Some(state.component_total(comp)),
        claimed(bound, week_bound),
    );
    if trace {
        eprintln!(
            "trace: bound {bound:?} at {:.2}s, incumbent {}, exact {exact}",
            t0.elapsed().as_secs_f64(),
            state.component_total(comp)
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
            anneal,
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
        // On one core, a component too large for column generation before the search gets
        // it once the search stalls (the Lagrangian's outcome is left only then: see 2b),
        // when the time it takes no longer buys the schedule anything. Components that
        // large are never searched by a second stream, so it runs once; each search returns
        // its bound.
        let late_columns = std::sync::Mutex::new(lagrangian.filter(|_| ctx.work.is_none()));
        let search = |mut rng: ChaCha8Rng| {
            let mut state = state.clone();
            let mut iterations = 0;
            let mut best = state.clone();
            let mut bound = bound;
            // The late column generation's master points the search on from there.
            let mut late_guide: Option<Vec<Option<u32>>> = None;
            loop {
                // A whole component's portfolio is restarted after `BASIN_TIME` even while it
                // still gains (a shares' search is not: each restart rebuilds far more).
                let basin_end = if parallel && split.is_none() && comp.len() >= BASIN_MIN_REQUESTS {
                    (Instant::now() + BASIN_TIME).min(deadline)
                } else {
                    deadline
                };
                let budget = lns::Budget {
                    deadline: basin_end,
                    max_iterations: rest.max_iterations.saturating_sub(iterations),
                    target: target(bound),
                    guide: late_guide.as_deref().or(rest.guide),
                    ..rest
                };
                if portfolio_search {
                    iterations += portfolio(
                        &mut state,
                        comp,
                        split.as_ref(),
                        &mut rng,
                        budget,
                        workers,
                        PORTFOLIO_ROUND,
                        &on_improve,
                    );
                } else {
                    iterations += lns::improve(&mut state, comp, &mut rng, budget, &on_improve);
                }
                if state.total() < best.total() {
                    best = state.clone();
                }
                // A search that stalls with time left is caught in one basin: start again
                // from the best schedule with a part of it rebuilt (with a time limit while
                // some is left; in the opening while its work lasts; under a work budget
                // the search runs to its end instead).
                let spent = if ctx.opening {
                    iterations >= rest.max_iterations || Instant::now() >= deadline
                } else {
                    ctx.work.is_some()
                        || deadline.saturating_duration_since(Instant::now()) < RESTART_MIN_TIME
                };
                if spent || rest.stopped() || proven(&best, bound) {
                    break;
                }
                let from = late_columns.lock().map_or(None, |mut late| late.take());
                if let Some(from) = from {
                    let seconds = deadline
                        .saturating_duration_since(Instant::now())
                        .as_secs_f64()
                        * LATE_COLUMNS_SHARE;
                    if lagrange::columns_late_worthwhile(comp.len(), seconds) {
                        let (heaviest, rounds) = columns.run(&best, &from, seconds, &mut bound);
                        if heaviest.is_some() {
                            late_guide = heaviest;
                        }
                        if trace {
                            eprintln!(
                                "trace: late column generation at {:.2}s: {rounds} rounds, bound {bound:?}",
                                t0.elapsed().as_secs_f64(),
                            );
                        }
                        if proven(&best, bound) {
                            break;
                        }
                    }
                }
                state = best.clone();
                if !shake(&mut state, comp, &mut rng) {
                    break;
                }
                if trace {
                    eprintln!(
                        "trace: restart at {:.2}s from {}, shaken to {}",
                        t0.elapsed().as_secs_f64(),
                        best.component_total(comp),
                        state.component_total(comp)
                    );
                }
            }
            (best, iterations, bound)
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
        let ((best, done, raised), (whole, other)) = rayon::join(|| search(rng.clone()), partner);
        if let Some(b) = raised {
            raise(&mut bound, b);
        }
        state = best;
        iterations += done;
        if let Some((other, done, _)) = other {
            iterations += done;
            if trace {
                eprintln!(
                    "trace: second search: {} against {}",
                    other.component_total(comp),
                    state.component_total(comp)
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
                state.component_total(comp)
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
    exact = exact || proven(&state, bound);
    // The last improvement may have fallen between two progress reports.
    (ctx.report)(
        Some(state.component_total(comp)),
        claimed(bound, week_bound),
    );
    ComponentResult {
        assign: comp.iter().map(|&r| (r, state.assign[r])).collect(),
        total: state.component_total(comp),
        bound: claimed(bound, week_bound).unwrap_or(0.0),
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
        && candidate.component_total(comp) <= state.component_total(comp)
    {
        *state = candidate;
    }
    if let Some(b) = out.bound {
        raise(bound, b - 1e-6 * (1.0 + b.abs()));
    }
}

/// A component's column generation: what every run of it shares.
struct ColumnRun<'a> {
    ctx: &'a Context<'a>,
    empty: &'a State<'a>,
    comp: &'a [usize],
    node_limit: usize,
    /// The last run's outcome, where branching starts.
    last: std::sync::Mutex<Option<branch::Root>>,
}

impl ColumnRun<'_> {
    /// Column generation from the Lagrangian outcome `from` and the schedule `incumbent`,
    /// for at most `seconds`: raises `bound`, and returns the search's guide from the
    /// master's heaviest weeks (`None` when no master was solved) and the rounds run.
    fn run(
        &self,
        incumbent: &State,
        from: &lagrange::Lagrangian,
        seconds: f64,
        bound: &mut Option<f64>,
    ) -> (Option<Vec<Option<u32>>>, usize) {
        let generated = lagrange::column_generation(
            self.empty,
            self.comp,
            incumbent,
            incumbent.component_total(self.comp),
            from,
            lagrange::Budget {
                deadline: Instant::now() + Duration::from_secs_f64(seconds),
                cancel: self.ctx.cancel,
                max_steps: 0,
                node_limit: self.node_limit,
                deterministic: false,
            },
        );
        let b = generated.bound;
        if b.is_finite() {
            raise(bound, b - 1e-6 * (1.0 + b.abs()));
            if let Ok(mut last) = self.last.lock() {
                *last = Some(branch::Root {
                    bound: b,
                    center: generated.center,
                    columns: generated.columns,
                    weights: generated.weights,
                    warm: generated.warm,
                });
            }
        }
        let guide = (!generated.heaviest.is_empty())
            .then(|| heaviest_guide(self.ctx.problem, &generated.heaviest));
        (guide, generated.rounds)
    }

    /// Branching on placements from the last column generation's master (when it left
    /// requests placed in part) until `deadlines`: raises `bound`, with a search of
    /// `state` under `side` beside it when there is a core for each (stopped with the
    /// tree). Returns that search's repairs.
    fn branch(
        &self,
        state: &mut State,
        bound: &mut Option<f64>,
        rng: &mut ChaCha8Rng,
        (side, deadlines): (lns::Budget, branch::Deadlines),
        on_improve: &(dyn Fn(i64, &State) + Sync),
    ) -> u64 {
        let Some(root) = self.last.lock().ok().and_then(|mut last| last.take()) else {
            return 0;
        };
        if self.ctx.cancel.load(Ordering::Relaxed) {
            return 0;
        }
        let trace = std::env::var_os("CAREWEEK_TRACE").is_some();
        let tree = branch::Tree {
            problem: self.ctx.problem,
            domains: self.ctx.domains,
            comp: self.comp,
            node_limit: self.node_limit,
            cancel: self.ctx.cancel,
            max_branches: usize::MAX,
            max_open_bytes: branch::MAX_OPEN_BYTES,
            trace,
        };
        let incumbent = state.assign.clone();
        let upper = state.component_total(self.comp);
        let tree_done = AtomicBool::new(false);
        let grow = || {
            let branched = tree.bound(root, &incumbent, upper, deadlines);
            tree_done.store(true, Ordering::Relaxed);
            branched
        };
        let mut searched = 0;
        let branched = if rayon::current_num_threads() > 1 {
            let mut beside = state.clone();
            let mut side_rng = ChaCha8Rng::seed_from_u64(rng.gen());
            let side = lns::Budget {
                stop: Some(&tree_done),
                ..side
            };
            let (branched, repairs) = rayon::join(grow, || {
                lns::improve(&mut beside, self.comp, &mut side_rng, side, on_improve)
            });
            if trace {
                eprintln!(
                    "trace: branching beside the search: {} branches ({} on days), search {} -> {}",
                    branched.branches,
                    branched.on_days,
                    state.component_total(self.comp),
                    beside.component_total(self.comp)
                );
            }
            searched = repairs;
            *state = beside;
            branched
        } else {
            grow()
        };
        // A branch's master rounded to a better schedule than the search's: the search
        // goes on from there.
        if let Some((total, assign)) = &branched.rounded {
            let before = state.component_total(self.comp);
            if *total < before {
                let mut adopted = state.clone();
                for &r in self.comp {
                    if adopted.assign[r].is_some() {
                        adopted.remove(r);
                    }
                }
                if construct::book(&mut adopted, self.comp, &|r| assign[r]) {
                    if trace {
                        eprintln!("trace: a branch's master rounded: {before} -> {total}");
                    }
                    *state = adopted;
                    on_improve(0, state);
                }
            }
        }
        let b = branched.bound;
        raise(bound, b - 1e-6 * (1.0 + b.abs()));
        searched
    }
}

/// The search's guide from the weeks a master LP weighs most: the option each request
/// has in its patient's week (`None` where it is left out, and outside the component).
fn heaviest_guide(problem: &Problem, heaviest: &[Vec<(usize, u32)>]) -> Vec<Option<u32>> {
    let mut guide = vec![None; problem.requests.len()];
    for &(r, oi) in heaviest.iter().flatten() {
        guide[r] = Some(oi);
    }
    guide
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
/// How long the shares dealt to split searches last before they are dealt anew and the
/// round's best schedule is where the next starts. On one trajectory, the shorter the
/// better so far (refbench, 60 s, 2 threads, one run each). 125 ms against 250 ms: 3,000
/// patients `--seed 13` 1182525 / 1198075, with solver seed 2 1191370 / 1193480, `--seed 7`
/// 1508370 / 1505140, `--seed 5` 1148825 / 1157155. 250 ms against 500 ms: `--seed 13`
/// 1194935 / 1209195 and 1193750 / 1207095, `--seed 7` 1515240 / 1523305, `--seed 5`
/// 1163275 / 1169145, `--seed 23` 1333785 / 1332550, `--seed 17` 1283755 / 1283475;
/// 1,000 patients `--seed 13` 356670 / 357750, `--seed 11` 583985 / 581780. Rounds of
/// 2 s against 500 ms: `--seed 13` 1203055 / 1200845, `--seed 7` 1521865 / 1519530,
/// `--seed 5` 1164625 / 1161765, 1,000 `--seed 13` 364020 / 361385. Rounds of 62 ms
/// against 125 ms, with the workers' copies kept from round to round: `--seed 13` 1185945 /
/// 1196700, `--seed 7` 1527180 / 1520150, `--seed 5` 1156005 / 1151080, `--seed 23`
/// 1353205 / 1329465 (behind on three of four).
const SPLIT_ROUND: Duration = Duration::from_millis(125);
/// Starting temperature of an annealed search ([`lns::Budget::anneal`]), in trips: a
/// repair one trip worse is kept at first with probability 0.55. Refbench, 60 s, 2 threads,
/// against late acceptance alone: the 5-minute grid at 100 patients `--seed 88` 47545 /
/// 48135 / 47265 (solver seeds 1-3) against 50170 / 51180 / 50130; 300 patients better in
/// seven runs of ten (seeds 0, 2, 3, 7, 8, 77). A start of one trip did better on 300
/// `--seed 2` and worse on the 5-minute grid (49980); 2.5 trips worse on both.
const ANNEAL_TRIPS: f64 = 100.0 / 60.0;

/// How long the searches of a portfolio run apart before the best is shared.
const PORTFOLIO_ROUND: Duration = Duration::from_secs(4);

/// Large-neighbourhood searches from the same schedule in parallel, one per worker, each
/// with its own random stream; every `round` the best schedule (ties to the first worker)
/// is where all of them go on from. With `split`, each search moves only its own share of
/// the component's units, dealt at random every [`SPLIT_ROUND`] instead (with fewer workers
/// than [`SPLIT_MIN_SHARES`], a worker searches several shares in turn), and the searches
/// walk one trajectory, each replaying the moves the others keep (see [`Trajectory`]):
/// run apart and merged at the end of a round instead, only some 6 % of the second
/// search's gains could be carried at 3,000 patients, both having filled the same free
/// time (refbench, 60 s, 2 threads, one run each, merged against one trajectory: 3,000
/// `--seed 13` 1208575 / 1201695, `--seed 7` 1528815 / 1518195, `--seed 5` 1173450 /
/// 1157990, `--seed 23` 1338830 / 1322395, `--seed 13` solver seed 2 1204480 / 1203165;
/// 1,000 `--seed 13` 364550 / 361935). Returns the repairs performed.
#[allow(clippy::too_many_arguments)]
fn portfolio(
    state: &mut State,
    comp: &[usize],
    split: Option<&shares::Units>,
    rng: &mut ChaCha8Rng,
    budget: lns::Budget,
    workers: usize,
    round: Duration,
    on_improve: &(dyn Fn(i64, &State) + Sync),
) -> u64 {
    let round = if split.is_some() { SPLIT_ROUND } else { round };
    let mut iterations = 0;
    let mut others: Vec<State> = Vec::new();
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
        let before = state.total();
        // Worker 0 searches `state` itself; the others keep their copies from round to
        // round, brought to the round's start by what differs: a fresh copy each round,
        // and the whole component booked again at its end, had taken 3,000 patients' two
        // cores 12 ms of every 137 ms round.
        let start: Vec<Option<u32>> = comp.iter().map(|&r| state.assign[r]).collect();
        while others.len() + 1 < workers {
            others.push(state.clone());
        }
        // Split searches on more than one core walk one trajectory; the others run apart
        // and the best of them is kept.
        let walk = (shares.is_some() && workers > 1).then(|| Trajectory::new(state, comp));
        let mut copies: Vec<&mut State> = std::iter::once(&mut *state)
            .chain(others.iter_mut())
            .collect();
        let results: Vec<(Position, u64)> = copies
            .par_iter_mut()
            .zip(seeds.par_iter())
            .enumerate()
            .map(|(k, (own, &seed))| {
                if k > 0 {
                    trajectory::sync(own, comp, &start);
                }
                let mut at = Position::default();
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
                    let on = walk.as_ref().map(|w| (w, &mut at));
                    done += lns::improve_on(own, comp, &mut own_rng, turn, on_improve, on);
                }
                (at, done)
            })
            .collect();
        iterations += results.iter().map(|r| r.1).sum::<u64>();
        match &walk {
            Some(walk) => {
                let mut at = results[0].0;
                walk.catch_up(state, &mut at);
                walk.finish(state);
            }
            None => {
                // The best search (ties to the first) is where all go on from.
                let best = (1..workers).fold(0, |best, k| {
                    if copies[k].total() < copies[best].total() {
                        k
                    } else {
                        best
                    }
                });
                if best > 0 {
                    let target: Vec<Option<u32>> =
                        comp.iter().map(|&r| copies[best].assign[r]).collect();
                    trajectory::sync(copies[0], comp, &target);
                }
            }
        }
        let stalled = state.total() >= before && Instant::now() < round_end;
        if stalled {
            // Every search stopped early without a better schedule: nothing left to find.
            break;
        }
    }
    iterations
}

/// Share of the time left that column generation over a component too large to run it
/// before the search may take: beside the search (more than one core, see 2b) or, on one
/// core, once the search has stalled. At first it ran late on every core count: refbench's
/// 300 patients (one component of 900-950 requests), 60 s, 2 threads, solver seeds 1-3,
/// default build: it converges in 8-9 s (17-19 rounds) and raises the bound on `--seed 2`
/// 59138 -> 60050-60071, `--seed 77` 69111 -> 69475-69499, `--seed 3` 90999 ->
/// 91794-91818; mean gap of the nine runs 10.0 % -> 9.0 % (8.7 % in a second set) with the
/// search as it was, and 8.3 % with the master's heaviest weeks as the search's guide
/// afterwards (better than without on `--seed 2` in three runs of three, mixed on the
/// others).
const LATE_COLUMNS_SHARE: f64 = 0.5;

/// Longest a portfolio searching a whole component stays in one basin before a restart.
/// Its rounds keep finding a little (refbench 300 patients: 15-50 a round of 0.5-2 s), so
/// that a search may never stall within the minute, while most of what a long run gains
/// comes after restarts. Refbench 300 patients, 60 s, 2 threads, seeds 2, 7 and 8, solver
/// seeds 1 and 2: mean total 76450 with no limit (no restart at all in one run), 76318 with
/// 12 s, 75818 with 20 s; mean gap 8.80 / 8.27 / 8.13 %. With 20 s on seeds 3, 0, 77 and 1
/// (one run each): 96150, 73950, 75000, 129880 against 96440, 74205, 74775, 129730.
const BASIN_TIME: Duration = Duration::from_secs(20);

/// Fewest requests of a component whose portfolio [`BASIN_TIME`] restarts: it was measured
/// on components of 880-950 requests; at 100 patients (refbench's 5-minute grid, `--seed
/// 88`, a 318-request component) two runs with it ended at 51705 and 49480, two without at
/// 49335 and 50185.
const BASIN_MIN_REQUESTS: usize = 500;

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
