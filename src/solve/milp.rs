//! The exact MILP over a subset of requests, everything else fixed: the one owner of good_lp
//! variables. Used as the repair step of the neighbourhood search (without the waiting
//! term, see [`Form::Repair`]), as the exact solve of a small component (the subset is the
//! whole component), and relaxed as a lower bound.
//!
//! Model (time-indexed over the requests' remaining options):
//! * `x[r,o]` chooses option `o` of free request `r`; `Σ_o x[r,o] ≤ 1` (`= 1` when forced);
//! * provider-days and resource-days: at every option start, the options covering it sum to
//!   at most 1 (interval cliques), and caps hold on what the fixed part left;
//! * patient-days: for every option, it plus the clashing options (overlap or travel) of each
//!   other free request of the patient sum to at most 1; caps per day;
//! * trips `y[q,d]` above every in-person option of the day, capped by `max_trips`;
//! * waiting: time-indexed idle slots of every patient-day (see `add_waiting`);
//! * precedence: `x[after,o] ≤ Σ x[before, compatible options]`; bundles: equal day sums.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use good_lp::{variable, Constraint, Expression, ProblemVariables, Variable};

use crate::problem::Precedence;

use super::state::{gap_ok, unplaced_weight, State};

/// The outcome of a subset solve.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Chosen option (or none) for each free request, in the order given.
    pub choice: Vec<Option<u32>>,
    /// Whether the backend proved the choice optimal for the subset.
    pub optimal: bool,
    /// The subset's objective as the model counts it (its part of the total).
    pub objective: f64,
    /// A proven lower bound on the model's optimum (its optimum when `optimal`; HiGHS's dual
    /// bound when stopped early). It bounds the subset's true optimum only in
    /// [`Form::Exact`] and [`Form::Relaxed`].
    pub bound: Option<f64>,
}

/// Name of the MILP backend compiled in.
pub fn backend_name() -> &'static str {
    if cfg!(feature = "highs") {
        "highs"
    } else {
        "microlp"
    }
}

/// Solves a pure LP (continuous variables) to optimality; its optimum, or `None`.
pub fn solve_lp(
    vars: ProblemVariables,
    objective: Expression,
    constraints: Vec<Constraint>,
    time_limit: f64,
) -> Option<f64> {
    let solved = run(
        vars,
        objective,
        constraints,
        Vec::new(),
        Limits::time(time_limit),
        &[],
    )
    .ok()?;
    solved.optimal.then_some(solved.value)
}

/// Number of candidate options the subset model would have (for size limits).
pub fn candidate_count(state: &State, free: &[usize]) -> usize {
    free.iter().map(|&r| state.domains.opts[r].len()).sum()
}

/// What a subset model keeps of the objective and of integrality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Every term, integer choices: the subset's true optimum.
    Exact,
    /// Every term, choices relaxed to `[0, 1]`: a lower bound.
    Relaxed,
    /// Integer choices, waiting between appointments left out: the model of a
    /// neighbourhood repair, whose result is judged by the schedule's true total. The
    /// search repairs by [`repair`](super::repair) instead, which its tests check against
    /// this form. (When repairs were MILPs, leaving out the waiting rows made them 6-10
    /// times as fast: refbench at 60 s, 300 patients 133350, 130880, 132965 against 133840,
    /// 134200, 134510 on seeds 0-2.)
    Repair,
}

/// How long a model may run.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// Seconds.
    pub time: f64,
    /// Branch-and-bound nodes (HiGHS only): a work limit that, unlike the clock, ends the
    /// search at the same point on any machine.
    pub nodes: Option<u64>,
    /// Ends the solve early when set (HiGHS's branch and bound only; the pure-Rust
    /// backend's models are small enough to finish within their time limit).
    pub interrupt: Option<&'a AtomicBool>,
}

impl Limits<'_> {
    /// A time limit alone.
    pub fn time(seconds: f64) -> Self {
        Limits {
            time: seconds,
            nodes: None,
            interrupt: None,
        }
    }
}

/// What a backend returns: the values of the choice variables (as `x`), whether proven
/// optimal, the objective's value and a proven lower bound on it (for a MILP stopped early,
/// HiGHS's dual bound; `None` when the backend has none).
struct Solved {
    values: Vec<Vec<f64>>,
    optimal: bool,
    value: f64,
    bound: Option<f64>,
}

/// Why a backend returned no solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The model has no feasible point: proven.
    Infeasible,
    /// A limit was reached first, or the backend failed.
    Unsolved,
}

/// Runs a model on the backend compiled in: HiGHS with the `highs` feature, else the
/// pure-Rust `microlp`.
fn run(
    vars: ProblemVariables,
    objective: Expression,
    constraints: Vec<Constraint>,
    warm: Vec<(Variable, f64)>,
    limits: Limits,
    x: &[Vec<(u32, Variable)>],
) -> Result<Solved, Failure> {
    #[cfg(feature = "highs")]
    return highs_backend::run(vars, objective, constraints, warm, limits, x);
    #[cfg(not(feature = "highs"))]
    embedded::run(vars, objective, constraints, warm, limits.time, x)
}

/// Solves the subset `free` (all unplaced in `state`) in the given [`Form`], warm-started
/// from `warm` (an option per free request) when given on the pure-Rust backend (HiGHS
/// starts cold: it mistook a start for the optimum), within `limits`.
/// `None` when the subset is infeasible, has more than `max_candidates` options that fit the
/// fixed part, or the backend fails.
pub fn solve_subset(
    state: &State,
    free: &[usize],
    warm: Option<&[Option<u32>]>,
    form: Form,
    limits: Limits,
    max_candidates: usize,
) -> Option<Outcome> {
    let model = Model::build(state, free, warm, form, max_candidates)?;
    model.solve(limits)
}

/// Whether every request of a set can be placed beside what is fixed: see [`place_every`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// An option for each request, in the order given: together they keep every rule.
    Placed(Vec<u32>),
    /// No schedule places them all beside what is fixed: proven.
    Impossible,
    /// Not settled within the limits (or the model is over `max_candidates` options).
    Unknown,
}

/// Places every request of `free` (all unplaced in `state`) beside what `state` holds, if
/// that can be done: the [`Form::Repair`] model with each request's choice made an equality.
/// Exact, so [`Placement::Impossible`] is a proof; used for the requests pinned bookings
/// need, which a greedy pass can fail to fit together where a schedule exists.
pub fn place_every(
    state: &State,
    free: &[usize],
    limits: Limits,
    max_candidates: usize,
) -> Placement {
    if free.is_empty() {
        return Placement::Placed(Vec::new());
    }
    if candidate_count(state, free) > max_candidates {
        return Placement::Unknown;
    }
    // Within the count, `build` fails only when a request that must be placed has no
    // option that fits.
    let Some(mut model) = Model::build(state, free, None, Form::Repair, max_candidates) else {
        return Placement::Impossible;
    };
    if model.x.iter().any(Vec::is_empty) {
        return Placement::Impossible;
    }
    for xs in &model.x {
        let row: Expression = xs.iter().map(|t| t.1).sum();
        model.constraints.push(row.eq(1.0));
    }
    let Model {
        vars,
        objective,
        constraints,
        x,
        ..
    } = model;
    match run(vars, objective, constraints, Vec::new(), limits, &x) {
        Ok(solved) => {
            let choice: Option<Vec<u32>> = chosen(&x, &solved.values).into_iter().collect();
            choice.map_or(Placement::Unknown, Placement::Placed)
        }
        Err(Failure::Infeasible) => Placement::Impossible,
        Err(Failure::Unsolved) => Placement::Unknown,
    }
}

/// The option each request's choice variables select (the one at 1), or none.
fn chosen(x: &[Vec<(u32, Variable)>], values: &[Vec<f64>]) -> Vec<Option<u32>> {
    x.iter()
        .zip(values)
        .map(|(xs, vals)| {
            xs.iter()
                .zip(vals)
                .find(|(_, &v)| v > 0.5)
                .map(|((oi, _), _)| *oi)
        })
        .collect()
}

/// An option occupying a provider- or resource-day: (request slot, start, end, variable).
type Occupancy = (usize, i32, i32, Variable);

struct Model {
    vars: ProblemVariables,
    objective: Expression,
    constant: f64,
    constraints: Vec<Constraint>,
    warm: Vec<(Variable, f64)>,
    x: Vec<Vec<(u32, Variable)>>,
    relax: bool,
}

impl Model {
    fn build(
        state: &State,
        free: &[usize],
        warm: Option<&[Option<u32>]>,
        form: Form,
        max_candidates: usize,
    ) -> Option<Model> {
        let relax = form == Form::Relaxed;
        let problem = state.problem;
        let Candidates {
            slot,
            cand,
            forced,
            links,
            groups,
        } = candidates(state, free, max_candidates)?;
        let is_free = |r: usize| slot[r] != usize::MAX;

        let mut vars = ProblemVariables::new();
        let new_bin = |vars: &mut ProblemVariables| {
            if relax {
                vars.add(variable().min(0.0).max(1.0))
            } else {
                vars.add(variable().binary())
            }
        };
        let mut objective = Expression::from(0.0);
        let mut constant = 0.0;
        let mut constraints: Vec<Constraint> = Vec::new();
        let mut warm_values: Vec<(Variable, f64)> = Vec::new();
        let mut x: Vec<Vec<(u32, Variable)>> = Vec::with_capacity(free.len());
        for (i, &r) in free.iter().enumerate() {
            let w = unplaced_weight(problem, r) as f64;
            constant += w;
            let mut row = Expression::from(0.0);
            let mut xs = Vec::with_capacity(cand[i].len());
            for &oi in &cand[i] {
                let v = new_bin(&mut vars);
                let o = state.opt(r, oi);
                objective += (o.cost as f64 - w) * v;
                row += v;
                xs.push((oi, v));
                let chosen = warm.and_then(|w| w[i]) == Some(oi);
                warm_values.push((v, if chosen { 1.0 } else { 0.0 }));
            }
            if forced[i] {
                constraints.push(row.eq(1.0));
            } else if xs.len() > 1 {
                constraints.push(row.leq(1.0));
            }
            x.push(xs);
        }

        // Provider-days and resource-days: cliques at option starts, residual caps.
        let mut by_provider: BTreeMap<(u32, u16), Vec<Occupancy>> = BTreeMap::new();
        let mut by_resource: BTreeMap<(u32, u16), Vec<Occupancy>> = BTreeMap::new();
        for (i, &r) in free.iter().enumerate() {
            for &(oi, v) in &x[i] {
                let o = state.opt(r, oi);
                by_provider
                    .entry((o.provider, o.day))
                    .or_default()
                    .push((i, o.start, o.end, v));
                for &u in &o.resources {
                    by_resource
                        .entry((u, o.day))
                        .or_default()
                        .push((i, o.start, o.end, v));
                }
            }
        }
        for (&(p, d), items) in &by_provider {
            interval_cliques(items, &mut constraints);
            if let Some(cap) = problem.providers[p as usize].max_per_day {
                let left = cap as i64 - state.provider_day(p as usize, d as usize).len() as i64;
                let requests = distinct(items.iter().map(|t| t.0));
                if requests as i64 > left {
                    let sum: Expression = items.iter().map(|t| t.3).sum();
                    constraints.push(sum.leq(left.max(0) as f64));
                }
            }
        }
        for items in by_resource.values() {
            interval_cliques(items, &mut constraints);
        }

        // Patients.
        let mut by_patient: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, &r) in free.iter().enumerate() {
            by_patient
                .entry(problem.requests[r].patient)
                .or_default()
                .push(i);
        }
        let ndays = problem.days.len();
        for (&q, members) in &by_patient {
            let patient = &problem.patients[q];
            let mut trip_vars: Vec<Variable> = Vec::new();
            let mut fixed_trip_days = 0u32;
            for d in 0..ndays {
                let fixed: Vec<&super::domain::Opt> = state
                    .patient_day(q, d)
                    .iter()
                    .filter_map(|&r| state.placed(r as usize))
                    .collect();
                let fixed_ip: Vec<&&super::domain::Opt> =
                    fixed.iter().filter(|o| o.in_person()).collect();
                if !fixed_ip.is_empty() {
                    fixed_trip_days += 1;
                }
                // Options of each member on this day.
                let day_opts: Vec<Vec<(u32, Variable)>> = members
                    .iter()
                    .map(|&i| {
                        x[i].iter()
                            .copied()
                            .filter(|&(oi, _)| state.opt(free[i], oi).day as usize == d)
                            .collect()
                    })
                    .collect();
                let active = day_opts.iter().filter(|v| !v.is_empty()).count();
                if active == 0 {
                    continue;
                }
                // Clashes between two free requests of the patient.
                if active >= 2 {
                    for (a, ma) in members.iter().enumerate() {
                        for &(oa, va) in &day_opts[a] {
                            let o1 = state.opt(free[*ma], oa);
                            for (b, mb) in members.iter().enumerate() {
                                if a == b || day_opts[b].is_empty() {
                                    continue;
                                }
                                let clash: Vec<Variable> = day_opts[b]
                                    .iter()
                                    .filter(|&&(ob, _)| {
                                        let o2 = state.opt(free[*mb], ob);
                                        let sep = match (o1.site, o2.site) {
                                            (Some(s1), Some(s2)) => {
                                                problem.travel[s1 as usize][s2 as usize]
                                            }
                                            _ => 0,
                                        };
                                        !(o1.end + sep <= o2.start || o2.end + sep <= o1.start)
                                    })
                                    .map(|t| t.1)
                                    .collect();
                                if !clash.is_empty() {
                                    let sum: Expression =
                                        clash.into_iter().sum::<Expression>() + va;
                                    constraints.push(sum.leq(1.0));
                                }
                            }
                        }
                    }
                    if let Some(cap) = patient.max_per_day {
                        let left = cap as i64 - fixed.len() as i64;
                        if (active as i64) > left {
                            let sum: Expression = day_opts.iter().flatten().map(|t| t.1).sum();
                            constraints.push(sum.leq(left.max(0) as f64));
                        }
                    }
                }
                // Trips.
                let ip_rows: Vec<Vec<(u32, Variable, usize)>> = day_opts
                    .iter()
                    .enumerate()
                    .map(|(k, v)| {
                        v.iter()
                            .filter(|&&(oi, _)| state.opt(free[members[k]], oi).in_person())
                            .map(|&(oi, var)| (oi, var, members[k]))
                            .collect()
                    })
                    .collect();
                let ip_active = ip_rows.iter().filter(|v| !v.is_empty()).count();
                if ip_active == 0 {
                    continue;
                }
                if fixed_ip.is_empty() {
                    let y = new_bin(&mut vars);
                    objective += problem.weights.trip as f64 * y;
                    for row in &ip_rows {
                        if !row.is_empty() {
                            let sum: Expression = row.iter().map(|t| t.1).sum();
                            constraints.push(sum.leq(y));
                        }
                    }
                    // Two requests a precedence keeps on different days need a trip each:
                    // `y ≥ x_before,d + x_after,d` is valid and closes the LP's half trips.
                    for p in &links {
                        let row = |r: usize| {
                            ip_rows
                                .iter()
                                .position(|row| row.first().is_some_and(|t| t.2 == r))
                        };
                        let (Some(bi), Some(ai)) = (row(slot[p.before]), row(slot[p.after])) else {
                            continue;
                        };
                        let same_day_possible = ip_rows[bi].iter().any(|&(ob, _, _)| {
                            ip_rows[ai].iter().any(|&(oa, _, _)| {
                                gap_ok(
                                    state.opt(p.before, ob).end,
                                    state.opt(p.after, oa).start,
                                    p.min_gap,
                                    p.max_gap,
                                )
                            })
                        });
                        if !same_day_possible {
                            let sum: Expression =
                                ip_rows[bi].iter().chain(&ip_rows[ai]).map(|t| t.1).sum();
                            constraints.push(sum.leq(y));
                        }
                    }
                    let on = ip_rows
                        .iter()
                        .flatten()
                        .any(|t| warm.and_then(|w| w[t.2]) == Some(t.0));
                    warm_values.push((y, if on { 1.0 } else { 0.0 }));
                    trip_vars.push(y);
                }
                // Waiting.
                if ip_active + fixed_ip.len() >= 2
                    && problem.weights.idle_per_min > 0
                    && form != Form::Repair
                {
                    let items: Vec<Item> = fixed_ip
                        .iter()
                        .map(|o| Item::Fixed(o.start, o.end))
                        .chain(ip_rows.iter().filter(|r| !r.is_empty()).map(|row| {
                            Item::Free(
                                row.iter()
                                    .map(|&(oi, v, m)| {
                                        let o = state.opt(free[m], oi);
                                        (o.start, o.end, v, warm.is_some_and(|w| w[m] == Some(oi)))
                                    })
                                    .collect(),
                            )
                        }))
                        .collect();
                    add_waiting(
                        &items,
                        problem.grid,
                        problem.weights.idle_per_min as f64,
                        relax,
                        &mut vars,
                        &mut objective,
                        &mut constraints,
                        &mut warm_values,
                    );
                }
            }
            if let Some(max) = patient.max_trips {
                let left = max as i64 - fixed_trip_days as i64;
                if (trip_vars.len() as i64) > left {
                    let sum: Expression = trip_vars.iter().copied().sum();
                    constraints.push(sum.leq(left.max(0) as f64));
                }
            }
        }

        // Precedence among free requests.
        for p in &links {
            let (bi, ai) = (slot[p.before], slot[p.after]);
            for &(oa, va) in &x[ai] {
                let s = state.opt(p.after, oa).start;
                let ok: Expression = x[bi]
                    .iter()
                    .filter(|&&(ob, _)| {
                        gap_ok(state.opt(p.before, ob).end, s, p.min_gap, p.max_gap)
                    })
                    .map(|t| t.1)
                    .sum();
                constraints.push(Expression::from(va).leq(ok));
            }
        }
        // Same-day bundles among free requests.
        for &g in &groups {
            let members = &problem.same_day[g];
            let inside: Vec<usize> = members.iter().copied().filter(|&m| is_free(m)).collect();
            for pair in inside.windows(2) {
                let (a, b) = (slot[pair[0]], slot[pair[1]]);
                for d in 0..ndays as u16 {
                    let sa: Expression = x[a]
                        .iter()
                        .filter(|t| state.opt(pair[0], t.0).day == d)
                        .map(|t| t.1)
                        .sum();
                    let sb: Expression = x[b]
                        .iter()
                        .filter(|t| state.opt(pair[1], t.0).day == d)
                        .map(|t| t.1)
                        .sum();
                    constraints.push(sa.eq(sb));
                }
            }
        }

        let warm = if warm.is_some() {
            warm_values
        } else {
            Vec::new()
        };
        Some(Model {
            vars,
            objective,
            constant,
            constraints,
            warm,
            x,
            relax,
        })
    }

    fn solve(self, limits: Limits) -> Option<Outcome> {
        let Model {
            vars,
            objective,
            constant,
            constraints,
            warm,
            x,
            relax,
        } = self;
        if x.iter().all(Vec::is_empty) {
            return Some(Outcome {
                choice: vec![None; x.len()],
                optimal: true,
                objective: constant,
                bound: Some(constant),
            });
        }
        let Solved {
            values,
            optimal,
            value,
            bound,
        } = run(vars, objective.clone(), constraints, warm, limits, &x).ok()?;
        Some(Outcome {
            choice: chosen(&x, &values),
            optimal,
            objective: constant + value,
            // An LP's optimum bounds the subset; a MILP's dual bound only in the exact form,
            // which the caller knows.
            bound: if relax {
                optimal.then_some(constant + value)
            } else {
                bound.map(|b| constant + b)
            },
        })
    }
}

/// The options of a subset's free requests that fit everything fixed (links among free
/// requests are left to the caller), and what ties the free requests together.
pub(super) struct Candidates {
    /// Per request of the problem: its index in `free`, or `usize::MAX`.
    pub slot: Slots,
    /// Per free request: its options that fit the fixed part.
    pub cand: Vec<Vec<u32>>,
    /// Per free request: whether it must be placed (pinned, or something fixed and placed
    /// needs it).
    pub forced: Vec<bool>,
    /// Links between two free requests, each once, in the problem's order.
    pub links: Vec<Precedence>,
    /// Same-day bundles holding a free request.
    pub groups: Vec<usize>,
}

/// Where each free request sits in `free` (`usize::MAX` for the others), found by binary
/// search, so that a repair of a dozen requests does not fill a table over the whole
/// caseload (9,101 requests at 3,000 patients).
pub(super) struct Slots(Vec<(usize, usize)>);

impl Slots {
    fn new(free: &[usize]) -> Slots {
        let mut at: Vec<(usize, usize)> = free.iter().enumerate().map(|(i, &r)| (r, i)).collect();
        at.sort_unstable();
        Slots(at)
    }
}

impl std::ops::Index<usize> for Slots {
    type Output = usize;

    fn index(&self, r: usize) -> &usize {
        match self.0.binary_search_by_key(&r, |t| t.0) {
            Ok(k) => &self.0[k].1,
            Err(_) => &usize::MAX,
        }
    }
}

/// The [`Candidates`] of `free` (all unplaced in `state`); `None` when they number more
/// than `max_candidates` or a request that must be placed has none.
pub(super) fn candidates(
    state: &State,
    free: &[usize],
    max_candidates: usize,
) -> Option<Candidates> {
    let problem = state.problem;
    let slot = Slots::new(free);
    let is_free = |r: usize| slot[r] != usize::MAX;

    // Links and bundles among free requests, each once, in the problem's order.
    let mut inner: Vec<usize> = free
        .iter()
        .flat_map(|&r| state.succs(r).iter().copied())
        .filter(|&k| is_free(problem.precedences[k].after))
        .collect();
    inner.sort_unstable();
    inner.dedup();
    let links: Vec<Precedence> = inner.iter().map(|&k| problem.precedences[k]).collect();
    let mut groups: Vec<usize> = free
        .iter()
        .flat_map(|&r| state.groups(r).iter().copied())
        .collect();
    groups.sort_unstable();
    groups.dedup();

    // Candidates: options that fit everything fixed; links among free requests are
    // modelled. Counting stops as soon as there are too many.
    let mut cand: Vec<Vec<u32>> = Vec::with_capacity(free.len());
    let mut count = 0;
    for &r in free {
        let blocked_bundle = state.groups(r).iter().any(|&g| {
            problem.same_day[g]
                .iter()
                .any(|&m| !is_free(m) && state.assign[m].is_none())
        });
        let fitting: Vec<u32> = if blocked_bundle {
            Vec::new()
        } else {
            let mut fitting: Vec<u32> = state
                .may_fit(r)
                .filter(|&oi| {
                    state.fits_resources(r, oi)
                        && state.fits_patient(r, oi, false)
                        && state.fits_links(r, oi, &is_free)
                })
                .collect();
            // In index order, which the model's columns follow.
            fitting.sort_unstable();
            fitting
        };
        count += fitting.len();
        if count > max_candidates {
            return None;
        }
        cand.push(fitting);
    }
    // An `after` option with no compatible `before` option can never be chosen.
    for p in &links {
        let (bi, ai) = (slot[p.before], slot[p.after]);
        let before_ends: Vec<i32> = cand[bi]
            .iter()
            .map(|&o| state.opt(p.before, o).end)
            .collect();
        cand[ai].retain(|&o| {
            let s = state.opt(p.after, o).start;
            before_ends
                .iter()
                .any(|&e| gap_ok(e, s, p.min_gap, p.max_gap))
        });
    }

    let mut forced = vec![false; free.len()];
    for (i, &r) in free.iter().enumerate() {
        if problem.requests[r]
            .existing
            .as_ref()
            .is_some_and(|e| e.pinned)
        {
            forced[i] = true;
        }
        for &k in state.succs(r) {
            let a = problem.precedences[k].after;
            if !is_free(a) && state.assign[a].is_some() {
                forced[i] = true;
            }
        }
        for &g in state.groups(r) {
            if problem.same_day[g]
                .iter()
                .any(|&m| !is_free(m) && state.assign[m].is_some())
            {
                forced[i] = true;
            }
        }
        if forced[i] && cand[i].is_empty() {
            return None;
        }
    }
    Some(Candidates {
        slot,
        cand,
        forced,
        links,
        groups,
    })
}

fn distinct(it: impl Iterator<Item = usize>) -> usize {
    let mut v: Vec<usize> = it.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

/// For intervals of several requests on one provider-day (or resource-day): at every
/// interval start, the intervals covering it sum to at most 1.
fn interval_cliques(items: &[(usize, i32, i32, Variable)], constraints: &mut Vec<Constraint>) {
    if distinct(items.iter().map(|t| t.0)) < 2 {
        return;
    }
    let mut points: Vec<i32> = items.iter().map(|t| t.1).collect();
    points.sort_unstable();
    points.dedup();
    let mut last: Option<Vec<usize>> = None;
    for t in points {
        let covering: Vec<usize> = (0..items.len())
            .filter(|&k| items[k].1 <= t && t < items[k].2)
            .collect();
        if distinct(covering.iter().map(|&k| items[k].0)) < 2 {
            continue;
        }
        // Consecutive points often give the same clique or a subset of the previous one.
        if let Some(prev) = &last {
            if covering.iter().all(|k| prev.contains(k)) {
                continue;
            }
        }
        let sum: Expression = covering.iter().map(|&k| items[k].3).sum();
        constraints.push(sum.leq(1.0));
        last = Some(covering);
    }
}

/// The pure-Rust backend, always compiled in.
#[cfg(not(feature = "highs"))]
mod embedded {
    use good_lp::solvers::microlp::microlp;
    use good_lp::{
        Constraint, Expression, ProblemVariables, Solution, SolutionStatus, SolverModel, Variable,
    };
    use good_lp::{WithInitialSolution, WithTimeLimit};

    use super::{Failure, Solved};

    pub fn run(
        vars: ProblemVariables,
        objective: Expression,
        constraints: Vec<Constraint>,
        warm: Vec<(Variable, f64)>,
        time_limit: f64,
        x: &[Vec<(u32, Variable)>],
    ) -> Result<Solved, Failure> {
        let mut model = vars
            .minimise(objective.clone())
            .using(microlp)
            .with_time_limit(time_limit.max(0.01));
        if !warm.is_empty() {
            model = model.with_initial_solution(warm);
        }
        for c in constraints {
            model.add_constraint(c);
        }
        let sol = model.solve().map_err(|e| match e {
            good_lp::ResolutionError::Infeasible => Failure::Infeasible,
            _ => Failure::Unsolved,
        })?;
        let values = x
            .iter()
            .map(|xs| xs.iter().map(|&(_, v)| sol.value(v)).collect())
            .collect();
        let optimal = matches!(sol.status(), SolutionStatus::Optimal);
        let value = sol.eval(&objective);
        Ok(Solved {
            values,
            optimal,
            value,
            bound: optimal.then_some(value),
        })
    }
}

/// HiGHS, with the `highs` feature. Driven through its own model (good_lp builds it) so
/// that a MILP stopped by its time limit still reports its proven dual bound.
#[cfg(feature = "highs")]
mod highs_backend {
    use ::highs::{HighsModelStatus, HighsSolutionStatus};
    use good_lp::solvers::highs::highs;
    use good_lp::{Constraint, Expression, ProblemVariables, Solution, SolverModel, Variable};
    use std::collections::HashMap;

    use super::{Failure, Solved};

    /// Column values in good_lp's variable order (`column`: a variable's position there).
    struct Columns<'a> {
        values: &'a [f64],
        column: &'a HashMap<Variable, usize>,
    }

    impl Solution for Columns<'_> {
        fn status(&self) -> good_lp::SolutionStatus {
            good_lp::SolutionStatus::Optimal
        }
        fn value(&self, variable: Variable) -> f64 {
            self.values[self.column[&variable]]
        }
    }

    pub fn run(
        vars: ProblemVariables,
        objective: Expression,
        constraints: Vec<Constraint>,
        warm: Vec<(Variable, f64)>,
        limits: super::Limits,
        x: &[Vec<(u32, Variable)>],
    ) -> Result<Solved, Failure> {
        // good_lp makes one HiGHS column per variable, in the order they were added.
        let column: HashMap<Variable, usize> = vars
            .iter_variables_with_def()
            .enumerate()
            .map(|(k, (v, _))| (v, k))
            .collect();
        let columns = column.len();
        let mut problem = vars.minimise(objective.clone()).using(highs);
        for c in constraints {
            problem.add_constraint(c);
        }
        let mut model = problem.try_into_inner().map_err(|_| Failure::Unsolved)?;
        model.make_quiet();
        model.set_option("time_limit", limits.time.max(0.01));
        model.set_option("threads", 1);
        model.set_option("mip_rel_gap", 0.0);
        // Every cost is an integer: a remaining gap below 1 proves optimality.
        model.set_option("mip_abs_gap", 0.999);
        if let Some(nodes) = limits.nodes {
            model.set_option("mip_max_nodes", nodes.min(i32::MAX as u64) as i32);
        }
        if let Some(flag) = limits.interrupt {
            super::interrupt::watch(&mut model, flag);
        }
        // No MIP start: with one, HiGHS returned the start (or near it) as proven optimal
        // where a better schedule existed, on 9 of 240 small subset models (repair and
        // exact forms, e.g. 15115 against 12185; cold runs and `microlp` agree on all 240;
        // `repair::tests` keeps checking it). A start's only use was pruning; callers keep
        // their own incumbent when the MILP's schedule is worse.
        let _ = warm;
        let solved = model.try_solve().map_err(|_| Failure::Unsolved)?;
        let optimal = match solved.status() {
            HighsModelStatus::Optimal
            | HighsModelStatus::ObjectiveBound
            | HighsModelStatus::ObjectiveTarget => true,
            HighsModelStatus::ReachedTimeLimit
            | HighsModelStatus::ReachedSolutionLimit
            | HighsModelStatus::ReachedInterrupt
            | HighsModelStatus::ReachedIterationLimit
            | HighsModelStatus::ReachedMemoryLimit => false,
            HighsModelStatus::Infeasible => return Err(Failure::Infeasible),
            _ => return Err(Failure::Unsolved),
        };
        if solved.primal_solution_status() != HighsSolutionStatus::Feasible {
            return Err(Failure::Unsolved);
        }
        let solution = solved.get_solution();
        let cols = solution.columns();
        let value = objective.eval_with(&Columns {
            values: cols,
            column: &column,
        });
        // HiGHS leaves the objective's constant out of its own figures.
        let constant = objective.eval_with(&Columns {
            values: &vec![0.0; columns],
            column: &column,
        });
        let bound = if optimal {
            Some(value)
        } else {
            solved
                .double_info_value(c"mip_dual_bound")
                .ok()
                .filter(|b| b.is_finite())
                .map(|b| b + constant)
        };
        Ok(Solved {
            values: x
                .iter()
                .map(|xs| xs.iter().map(|&(_, v)| cols[column[&v]]).collect())
                .collect(),
            optimal,
            value,
            bound,
        })
    }
}

/// Stops HiGHS's branch and bound when a flag is set, through its C callback: with the
/// master LP's clock reset (`master`), the places the crate needs `unsafe` (the default
/// build forbids it).
#[cfg(feature = "highs")]
#[allow(unsafe_code)]
mod interrupt {
    use std::os::raw::{c_char, c_int, c_void};
    use std::sync::atomic::{AtomicBool, Ordering};

    use highs_sys::{
        kHighsCallbackMipInterrupt, kHighsStatusOk, HighsCallbackDataIn, HighsCallbackDataOut,
        Highs_setCallback, Highs_startCallback,
    };

    unsafe extern "C" fn on_callback(
        kind: c_int,
        _message: *const c_char,
        _out: *const HighsCallbackDataOut,
        data_in: *mut HighsCallbackDataIn,
        flag: *mut c_void,
    ) {
        if kind != kHighsCallbackMipInterrupt || data_in.is_null() || flag.is_null() {
            return;
        }
        // SAFETY: `flag` is the `&AtomicBool` given to `watch`, which outlives the solve
        // (HiGHS calls back only during it); `data_in` is HiGHS's, valid for this call.
        unsafe {
            if (*(flag as *const AtomicBool)).load(Ordering::Relaxed) {
                (*data_in).user_interrupt = 1;
            }
        }
    }

    /// Has `model`'s branch and bound stop once `flag` is set; `flag` must outlive the
    /// model's solve. False when HiGHS refused the callback (the solve then runs to its
    /// limits).
    pub fn watch(model: &mut highs::Model, flag: &AtomicBool) -> bool {
        let highs = model.as_mut_ptr();
        let data = flag as *const AtomicBool as *mut c_void;
        // SAFETY: `highs` is a live HiGHS instance owned by `model`; the callback only reads
        // `data` as the `AtomicBool` it is, for as long as the caller keeps it alive.
        unsafe {
            Highs_setCallback(highs, Some(on_callback), data) == kHighsStatusOk
                && Highs_startCallback(highs, kHighsCallbackMipInterrupt) == kHighsStatusOk
        }
    }
}

/// One in-person appointment of a patient-day in the waiting model: fixed, or a choice among
/// options `(start, end, variable, chosen in the warm start)`.
enum Item {
    Fixed(i32, i32),
    Free(Vec<(i32, i32, Variable, bool)>),
}

/// Waiting of one patient-day, time-indexed and exact on the grid: slot `[t, t + grid)` is
/// idle when some appointment has ended by `t`, another starts at or after `t + grid`, and
/// none covers the slot. With `ended_i(t)`, `later_j(t)` and `busy(t)` as running sums of the
/// option variables, `w_t ≥ ended_i(t) + later_j(t) − 1 − busy(t)` for every ordered pair
/// `i ≠ j`; the cost is `grid × Σ w_t`. Unlike a big-M span, its LP relaxation stays tight.
#[allow(clippy::too_many_arguments)]
fn add_waiting(
    items: &[Item],
    grid: i32,
    weight: f64,
    relax: bool,
    vars: &mut ProblemVariables,
    objective: &mut Expression,
    constraints: &mut Vec<Constraint>,
    warm_values: &mut Vec<(Variable, f64)>,
) {
    let spans = items.iter().flat_map(|it| match it {
        Item::Fixed(s, e) => vec![(*s, *e)],
        Item::Free(opts) => opts.iter().map(|o| (o.0, o.1)).collect(),
    });
    let (lo, hi) = spans.fold((i32::MAX, i32::MIN), |(a, b), (s, e)| (a.min(s), b.max(e)));
    if lo >= hi {
        return;
    }
    let slots: Vec<i32> = (0..)
        .map(|k| lo + k * grid)
        .take_while(|&t| t < hi)
        .collect();
    let n = slots.len();
    // Running sums as expressions of at most a few terms each, through auxiliary variables.
    let running = |vars: &mut ProblemVariables,
                   constraints: &mut Vec<Constraint>,
                   warm_values: &mut Vec<(Variable, f64)>,
                   opts: &[(i32, i32, Variable, bool)],
                   ended: bool|
     -> Vec<Expression> {
        // ended: value at slot k = Σ x over options with end ≤ slot start; later: start ≥ slot end.
        let mut out = vec![Expression::from(0.0); n];
        let mut warm_on = vec![false; n];
        let mut prev: Option<Variable> = None;
        let order: Vec<usize> = if ended {
            (0..n).collect()
        } else {
            (0..n).rev().collect()
        };
        for k in order {
            let t = slots[k];
            let new: Vec<&(i32, i32, Variable, bool)> = opts
                .iter()
                .filter(|o| {
                    if ended {
                        o.1 <= t && o.1 > t - grid
                    } else {
                        o.0 >= t + grid && o.0 < t + 2 * grid
                    }
                })
                .collect();
            let on_now = opts
                .iter()
                .any(|o| o.3 && if ended { o.1 <= t } else { o.0 >= t + grid });
            warm_on[k] = on_now;
            if prev.is_none() && new.is_empty() {
                continue;
            }
            let v = vars.add(variable().min(0.0).max(1.0));
            let mut def = Expression::from(0.0);
            if let Some(p) = prev {
                def += p;
            }
            for o in new {
                def += o.2;
            }
            constraints.push(Expression::from(v).eq(def));
            warm_values.push((v, if on_now { 1.0 } else { 0.0 }));
            out[k] = Expression::from(v);
            prev = Some(v);
        }
        out
    };
    let mut ended: Vec<Vec<Expression>> = Vec::new();
    let mut later: Vec<Vec<Expression>> = Vec::new();
    let mut busy: Vec<Expression> = vec![Expression::from(0.0); n];
    let mut busy_warm = vec![0.0; n];
    for it in items {
        match it {
            Item::Fixed(s, e) => {
                ended.push(
                    slots
                        .iter()
                        .map(|&t| Expression::from(if *e <= t { 1.0 } else { 0.0 }))
                        .collect(),
                );
                later.push(
                    slots
                        .iter()
                        .map(|&t| Expression::from(if *s >= t + grid { 1.0 } else { 0.0 }))
                        .collect(),
                );
                for (k, &t) in slots.iter().enumerate() {
                    if *s <= t && t < *e {
                        busy[k] += 1.0;
                        busy_warm[k] += 1.0;
                    }
                }
            }
            Item::Free(opts) => {
                ended.push(running(vars, constraints, warm_values, opts, true));
                later.push(running(vars, constraints, warm_values, opts, false));
                for o in opts {
                    for (k, &t) in slots.iter().enumerate() {
                        if o.0 <= t && t < o.1 {
                            busy[k] += o.2;
                            if o.3 {
                                busy_warm[k] += 1.0;
                            }
                        }
                    }
                }
            }
        }
    }
    let _ = relax;
    for k in 0..n {
        let w = vars.add(variable().min(0.0).max(1.0));
        *objective += weight * grid as f64 * w;
        for (i, ended_i) in ended.iter().enumerate() {
            for (j, later_j) in later.iter().enumerate() {
                if i != j {
                    let idle_if = ended_i[k].clone() + later_j[k].clone() - 1.0 - busy[k].clone();
                    constraints.push(Expression::from(w).geq(idle_if));
                }
            }
        }
        // Warm value: idle slot in the warm start.
        let warm_ended = items.iter().any(|it| match it {
            Item::Fixed(_, e) => *e <= slots[k],
            Item::Free(opts) => opts.iter().any(|o| o.3 && o.1 <= slots[k]),
        });
        let warm_later = items.iter().any(|it| match it {
            Item::Fixed(st, _) => *st >= slots[k] + grid,
            Item::Free(opts) => opts.iter().any(|o| o.3 && o.0 >= slots[k] + grid),
        });
        let idle_now = warm_ended && warm_later && busy_warm[k] < 0.5;
        warm_values.push((w, if idle_now { 1.0 } else { 0.0 }));
    }
}
