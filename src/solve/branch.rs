//! Branching on placements, which takes a component's bound past its master LP.
//!
//! The master LP over patient weeks ([`lagrange::column_generation`]) may place a contested
//! request in part (three quarters of a priority-4 oncology visit whose slots other
//! patients also need, say), and its value then stays most of that request's weight below
//! every schedule. Splitting on the request closes that: in one branch it is placed, in
//! the other it is not, and each branch's relaxation bounds the schedules of its side.
//! Both are the component's own relaxation with one request's priority changed, so the
//! coupling rows (and the multipliers found so far) carry over unchanged:
//! - *placed*: its weight for being left out is raised above any schedule's total. A
//!   schedule that places it costs what it did, so the relaxation's minimum bounds every
//!   such schedule;
//! - *left out*: its weight is taken away and added back to the bound. A schedule that
//!   leaves it out costs that much less, so the relaxation's minimum plus the weight
//!   bounds every such schedule (placing it is still allowed there, which only weakens
//!   the bound).
//!
//! Where the master places every request whole but books one on a day with a part of its
//! weeks and on another day with the rest, the split is on that day, again by costs
//! alone: *on the day* (placed, and its options on other days cost more than any
//! schedule) and *not on the day* (its options there cost more than any schedule).
//!
//! Each branch's master starts from its parent's columns near the parent's optimum, and
//! at the point where the parent's master ended.
//!
//! The branches are explored lowest bound first; the tree's bound is the least over its
//! open branches, and a branch whose bound leaves no room below the schedule is closed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::construct;
use super::domain::Domains;
use super::lagrange::{self, Lagrangian};
use super::master;
use super::state::{unplaced_weight, State};
use crate::problem::Problem;

/// A request is branched on only when the master places it by at least this much and
/// leaves out at least this much of it.
const FRACTIONAL: f64 = 0.01;

/// Largest component total the tree takes on: each request fixed placed then weighs at
/// most about this much, and thousands of them stay far within the objective's range.
const MAX_UPPER: i64 = 1_000_000_000_000;

/// Most memory the open branches may hold (their masters' columns, chiefly): past it the
/// tree stops where it is, its bound the lowest open branch's, as at its deadline. Each
/// branch keeps its own columns, so a tree grows with the time it is given: refbench's 100
/// patients kept 1,186 open branches after 107 s of a 240 s limit, and the process 1.06 GB
/// (282 MB at 60 s), for a bound 0.3 higher than its root's.
pub(super) const MAX_OPEN_BYTES: usize = 256 << 20;

/// What the branches of one component share.
pub(super) struct Tree<'a> {
    pub problem: &'a Problem,
    pub domains: &'a Domains,
    pub comp: &'a [usize],
    /// Node limit of a patient's exact week in pricing.
    pub node_limit: usize,
    pub cancel: &'a AtomicBool,
    /// Most branches to evaluate (besides the deadline).
    pub max_branches: usize,
    /// Most memory the open branches may hold ([`MAX_OPEN_BYTES`] but in tests).
    pub max_open_bytes: usize,
    pub trace: bool,
}

/// What a tree reached.
pub(super) struct Branched {
    /// Its bound on the component's part of the objective.
    pub bound: f64,
    /// Branches evaluated.
    pub branches: usize,
    /// Of these, branches on a request's day.
    pub on_days: usize,
    /// The best schedule rounded from a branch's master (see [`Tree::rounded`]) when it
    /// beats the one the tree started from: its component total and each request's
    /// option.
    pub rounded: Option<(i64, Vec<Option<u32>>)>,
}

/// Where the tree starts: the column generation of the component as it is.
pub(super) struct Root {
    /// Its bound on the component's part of the objective.
    pub bound: f64,
    /// Its multipliers.
    pub center: Vec<f64>,
    /// Its master's columns and their weights in its last master.
    pub columns: Vec<master::Column>,
    pub weights: Vec<f64>,
    /// Where its master ended, its weights those of `columns`.
    pub warm: Option<master::Warm>,
}

/// Until when a tree splits its lowest branch: any split until `any`, a split on a
/// placement until `placements` (not before `any`). A placement split is what raises the
/// bound (a request placed in part leaves most of its weight below every schedule); a day
/// split adds little (77 patients `--seed 5003`: 800 of them, +27), so where the tree has
/// come to those the time goes back to the search.
#[derive(Clone, Copy, Debug)]
pub(super) struct Deadlines {
    pub any: Instant,
    pub placements: Instant,
}

impl Deadlines {
    /// The same deadline for every split.
    #[cfg(test)]
    pub fn at(deadline: Instant) -> Self {
        Deadlines {
            any: deadline,
            placements: deadline,
        }
    }

    /// The later of the two: when the tree is done at the latest.
    pub fn last(self) -> Instant {
        self.placements.max(self.any)
    }

    /// The deadline of splitting a branch at `split`.
    fn of(self, split: Option<Split>) -> Instant {
        match split {
            Some(Split::Placement(_)) => self.last(),
            _ => self.any,
        }
    }
}

/// What a branch fixes about one request, on top of its parent's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fix {
    /// Placed: its weight for being left out is raised above any schedule's total.
    Placed(usize),
    /// Left out: its weight is taken away and added back to the bound.
    LeftOut(usize),
    /// Placed on this day: placed, and its options on other days cost more than any
    /// schedule's total.
    OnDay(usize, u16),
    /// Not placed on this day: its options there cost more than any schedule's total.
    NotOnDay(usize, u16),
}

impl Fix {
    fn request(self) -> usize {
        match self {
            Fix::Placed(r) | Fix::LeftOut(r) | Fix::OnDay(r, _) | Fix::NotOnDay(r, _) => r,
        }
    }
}

/// Where to split a branch: on a request its master places in part, or, where it places
/// every request whole, on a request placed on a day by some of its weeks and on another
/// day by others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Split {
    Placement(usize),
    Day(usize, u16),
}

impl Split {
    /// The two branches' fixes.
    fn sides(self) -> [Fix; 2] {
        match self {
            Split::Placement(r) => [Fix::Placed(r), Fix::LeftOut(r)],
            Split::Day(r, d) => [Fix::OnDay(r, d), Fix::NotOnDay(r, d)],
        }
    }
}

/// An open branch: what is fixed on the way to it.
struct Node {
    fixed: Vec<Fix>,
    bound: f64,
    center: Vec<f64>,
    /// Its master's columns, costed for its problem, and where its master ended: where
    /// its branches' masters start.
    columns: Vec<master::Column>,
    warm: Option<master::Warm>,
    /// Where to split it next (`None`: its master places every request whole, each on one
    /// day).
    split: Option<Split>,
}

impl Node {
    /// What the branch holds on the heap, about.
    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let columns: usize = self
            .columns
            .iter()
            .map(|c| {
                size_of::<master::Column>()
                    + c.rows.len() * size_of::<(u32, f64)>()
                    + c.week.len() * size_of::<(usize, u32)>()
            })
            .sum();
        let warm = self
            .warm
            .as_ref()
            .map_or(0, |w| (w.weights.len() + w.prices.len()) * size_of::<f64>());
        columns + warm + self.fixed.len() * size_of::<Fix>() + self.center.len() * size_of::<f64>()
    }
}

impl Tree<'_> {
    /// The tree's bound on the component's part of the objective by `deadlines`, at least
    /// `root.bound`. `incumbent` is a schedule's option per request (the master's first
    /// columns), `upper` its component total.
    pub fn bound(
        &self,
        root: Root,
        incumbent: &[Option<u32>],
        upper: i64,
        deadlines: Deadlines,
    ) -> Branched {
        // A request fixed placed weighs more than any schedule: kept far from overflow.
        if self.problem.weights.unplaced_per_priority <= 0 || upper > MAX_UPPER {
            return Branched {
                bound: root.bound,
                branches: 0,
                on_days: 0,
                rounded: None,
            };
        }
        let t0 = Instant::now();
        // Columns number the component's patients in order (see `lagrange`).
        let mut patients: Vec<usize> = self
            .comp
            .iter()
            .map(|&r| self.problem.requests[r].patient)
            .collect();
        patients.sort_unstable();
        patients.dedup();
        let split = self.split_on(&[], &root.columns, &root.weights);
        let mut rounded: Option<(i64, Vec<Option<u32>>)> = None;
        // The best rounded total, kept or not (for the trace).
        let mut best_rounded = i64::MAX;
        let mut keep_if_better = |candidate: (i64, Vec<Option<u32>>)| {
            best_rounded = best_rounded.min(candidate.0);
            let best = rounded.as_ref().map_or(upper, |r| r.0);
            if candidate.0 < best {
                rounded = Some(candidate);
            }
        };
        keep_if_better(self.rounded(&root.columns, &root.weights));
        let mut open = vec![Node {
            fixed: Vec::new(),
            bound: root.bound,
            center: root.center,
            columns: root.columns,
            warm: root.warm,
            split,
        }];
        let mut open_bytes = open[0].heap_bytes();
        let (mut evaluated, mut on_days) = (0, 0);
        loop {
            // The lowest open branch: the tree's bound (every branch closed: the schedule's
            // own total, which no schedule beats then).
            let Some(k) = (0..open.len()).min_by(|&a, &b| open[a].bound.total_cmp(&open[b].bound))
            else {
                return Branched {
                    bound: upper as f64,
                    branches: evaluated,
                    on_days,
                    rounded,
                };
            };
            // No schedule of a branch is below its bound, nor below the schedule's total
            // once the bound leaves no room under it (the objective is in whole units).
            let lowest = open[k].bound.min(upper as f64);
            let deadline = deadlines.of(open[k].split);
            let stop = Instant::now() >= deadline
                || self.cancel.load(Ordering::Relaxed)
                || evaluated >= self.max_branches
                || open_bytes > self.max_open_bytes;
            if stop || lowest > upper as f64 - 1.0 || open[k].split.is_none() {
                if self.trace {
                    eprintln!(
                        "trace: branching: {evaluated} branches ({on_days} on days), {} open ({} MB), bound {:.1} -> {lowest:.1} in {:.2}s; best rounded {} (from {upper})",
                        open.len(),
                        open_bytes >> 20,
                        root.bound,
                        t0.elapsed().as_secs_f64(),
                        best_rounded
                    );
                }
                return Branched {
                    bound: lowest,
                    branches: evaluated,
                    on_days,
                    rounded,
                };
            }
            let node = open.swap_remove(k);
            open_bytes -= node.heap_bytes();
            let split = node.split.expect("checked above");
            for fix in split.sides() {
                let mut fixed = node.fixed.clone();
                fixed.push(fix);
                let (child, candidate) =
                    self.evaluate(fixed, &node, &patients, incumbent, upper, deadline);
                keep_if_better(candidate);
                evaluated += 1;
                on_days += usize::from(matches!(split, Split::Day(..)));
                if child.bound <= upper as f64 - 1.0 {
                    open_bytes += child.heap_bytes();
                    open.push(child);
                }
            }
        }
    }

    /// Request `r`'s priority in the branch with `fixed`.
    fn priority(&self, fixed: &[Fix], r: usize, raised: u32) -> u32 {
        let own = self.problem.requests[r].priority;
        let mut placed = false;
        for &fix in fixed.iter().filter(|f| f.request() == r) {
            match fix {
                Fix::LeftOut(_) => return 0,
                Fix::Placed(_) | Fix::OnDay(..) => placed = true,
                Fix::NotOnDay(..) => {}
            }
        }
        if placed {
            own.saturating_add(raised)
        } else {
            own
        }
    }

    /// Whether `fixed` rules out request `r` on `day` (the extra cost of its options
    /// there).
    fn day_ruled_out(fixed: &[Fix], r: usize, day: u16) -> bool {
        fixed.iter().any(|&f| match f {
            Fix::OnDay(q, d) => q == r && d != day,
            Fix::NotOnDay(q, d) => q == r && d == day,
            _ => false,
        })
    }

    /// A schedule of the component from a master's `columns` at `weights`: each patient's
    /// heaviest week that fits what is booked already (a lighter weighed one where it
    /// clashes), booked whole, the patients the master is surest of first; then what is
    /// left placed greedily. Deep in the tree the masters come near a schedule, often one
    /// the search has not reached (a patient whose two visits must be a day apart, each
    /// booked where the other needs to go). Its component total and each request's
    /// option, judged on the component's own costs (a branch's options are the
    /// component's, at other costs).
    fn rounded(&self, columns: &[master::Column], weights: &[f64]) -> (i64, Vec<Option<u32>>) {
        let patients = columns.iter().map(|c| c.patient + 1).max().unwrap_or(0);
        // Per patient, its weighed columns, heaviest (then cheapest) first.
        let mut weighed: Vec<Vec<usize>> = vec![Vec::new(); patients];
        for (k, (c, &w)) in columns.iter().zip(weights).enumerate() {
            if w > 0.0 {
                weighed[c.patient].push(k);
            }
        }
        let heavier = |a: &usize, b: &usize| {
            weights[*b]
                .total_cmp(&weights[*a])
                .then(columns[*a].cost.total_cmp(&columns[*b].cost))
                .then(a.cmp(b))
        };
        for ks in &mut weighed {
            ks.sort_by(heavier);
        }
        let mut order: Vec<&Vec<usize>> = weighed.iter().filter(|ks| !ks.is_empty()).collect();
        order.sort_by(|a, b| heavier(&a[0], &b[0]));
        let mut state = State::new(self.problem, self.domains);
        // Each patient's heaviest week that fits what is booked already.
        for ks in order {
            for &k in ks {
                let week = &columns[k].week;
                let requests: Vec<usize> = week.iter().map(|&(r, _)| r).collect();
                let option = |r: usize| week.iter().find(|&&(q, _)| q == r).map(|&(_, oi)| oi);
                if construct::book(&mut state, &requests, &option) {
                    break;
                }
            }
        }
        construct::construct(&mut state, self.comp);
        (state.component_total(self.comp), state.assign)
    }

    /// The branch of `parent` with `fixed`: its relaxation's bound (at least the
    /// parent's) and where to split it next, and its master rounded to a schedule
    /// ([`Tree::rounded`]). `patients`: the component's, in the columns' numbering.
    fn evaluate(
        &self,
        fixed: Vec<Fix>,
        parent: &Node,
        patients: &[usize],
        incumbent: &[Option<u32>],
        upper: i64,
        deadline: Instant,
    ) -> (Node, (i64, Vec<Option<u32>>)) {
        let mut problem = self.problem.clone();
        // Above any schedule's total: the relaxation places the request wherever it can.
        let raised: u32 = (upper.max(0) / self.problem.weights.unplaced_per_priority + 2)
            .try_into()
            .unwrap_or(u32::MAX / 2);
        // An option ruled out costs more than any schedule's total (within the 32 bits
        // pricing keeps an option's cost in: any extra cost keeps the bound valid).
        let ruled_out = (upper.max(0) + 1).min(i64::from(i32::MAX / 4));
        for &fix in &fixed {
            let r = fix.request();
            problem.requests[r].priority = self.priority(&fixed, r, raised);
        }
        // What the left-out requests' weights take from every schedule of the branch.
        let offset: i64 = fixed
            .iter()
            .filter_map(|&f| match f {
                Fix::LeftOut(r) => Some(r),
                _ => None,
            })
            .map(|r| unplaced_weight(self.problem, r) - unplaced_weight(&problem, r))
            .sum();
        // Days ruled out: their options cost more (a copy of the options only then).
        let day_fixed = fixed
            .iter()
            .any(|f| matches!(f, Fix::OnDay(..) | Fix::NotOnDay(..)));
        let own_domains;
        let domains = if day_fixed {
            let mut d = self.domains.clone();
            for &fix in &fixed {
                let r = fix.request();
                if let Fix::OnDay(..) | Fix::NotOnDay(..) = fix {
                    for o in d.opts[r].iter_mut() {
                        if Self::day_ruled_out(&[fix], r, o.day) {
                            o.cost = o.cost.saturating_add(ruled_out);
                        }
                    }
                }
            }
            own_domains = d;
            &own_domains
        } else {
            self.domains
        };
        let empty = State::new(&problem, domains);
        let mut start = State::new(&problem, domains);
        construct::book(&mut start, self.comp, &|r| incumbent[r]);
        // The parent's columns, costed for this branch: only the last fix weighs
        // otherwise, in the weeks of its request's patient that leave it out (its weight
        // changed) or book it on a day ruled out.
        let &last = fixed.last().expect("a branch fixes a request");
        let r = last.request();
        let weight_change = self.problem.weights.unplaced_per_priority as f64
            * (self.priority(&fixed, r, raised) as f64
                - self.priority(&parent.fixed, r, raised) as f64);
        let patient = patients
            .binary_search(&self.problem.requests[r].patient)
            .ok();
        let columns: Vec<master::Column> = parent
            .columns
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if Some(c.patient) == patient {
                    match c.week.iter().find(|&&(q, _)| q == r) {
                        None => c.cost += weight_change,
                        Some(&(_, oi)) => {
                            let day = self.domains.opts[r][oi as usize].day;
                            if Self::day_ruled_out(&[last], r, day) {
                                c.cost += ruled_out as f64;
                            }
                        }
                    }
                }
                c
            })
            .collect();
        // A week priced above the patient's cheapest by more than the parent's gap.
        let slack = upper as f64 - parent.bound;
        let (columns, warm) = keep_near(columns, parent.warm.as_ref(), slack);
        let from = Lagrangian::carried(
            parent.center.clone(),
            parent.bound - offset as f64,
            columns,
            warm,
        );
        let generated = lagrange::column_generation(
            &empty,
            self.comp,
            &start,
            upper - offset,
            &from,
            lagrange::Budget {
                deadline,
                cancel: self.cancel,
                max_steps: 0,
                node_limit: self.node_limit,
                deterministic: false,
            },
        );
        let split = self.split_on(&fixed, &generated.columns, &generated.weights);
        let rounded = self.rounded(&generated.columns, &generated.weights);
        let node = Node {
            bound: (generated.bound + offset as f64).max(parent.bound),
            center: generated.center,
            columns: generated.columns,
            warm: generated.warm,
            fixed,
            split,
        };
        (node, rounded)
    }

    /// Where to split a branch whose master weighs its `columns` at `weights`: of the
    /// requests placed in part and not fixed yet, the one whose smaller part (placed or
    /// left out) weighs most; where none is, of the requests booked on a day by a part of
    /// their weeks (and not settled there yet), the one whose smaller part (on that day or
    /// off it) weighs most.
    fn split_on(
        &self,
        fixed: &[Fix],
        columns: &[master::Column],
        weights: &[f64],
    ) -> Option<Split> {
        let open = |r: usize| !self.problem.requests[r].pinned();
        let in_part = |x: f64| (FRACTIONAL..=1.0 - FRACTIONAL).contains(&x);
        let score = |r: usize, x: f64| unplaced_weight(self.problem, r) as f64 * x.min(1.0 - x);
        let by_placement = summed(columns, weights, |r, _| r)
            .into_iter()
            .filter(|&(r, x)| {
                in_part(x)
                    && open(r)
                    && !fixed
                        .iter()
                        .any(|&f| matches!(f, Fix::Placed(q) | Fix::LeftOut(q) if q == r))
            })
            .map(|(r, x)| (r, score(r, x)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(r, _)| Split::Placement(r));
        if by_placement.is_some() {
            return by_placement;
        }
        summed(columns, weights, |r, oi| {
            (r, self.domains.opts[r][oi as usize].day)
        })
        .into_iter()
        .filter(|&((r, d), x)| {
            in_part(x)
                && open(r)
                && !fixed.iter().any(|&f| match f {
                    Fix::OnDay(q, _) => q == r,
                    Fix::NotOnDay(q, e) => q == r && e == d,
                    _ => false,
                })
        })
        .map(|((r, d), x)| (r, d, score(r, x)))
        .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)).then(b.1.cmp(&a.1)))
        .map(|(r, d, _)| Split::Day(r, d))
    }
}

/// What the weeks of a master give each key of their bookings (a request, or a request
/// and its day: `key(request, option)`), summed over the weeks at their `weights`, in key
/// order; keys only weeks of no weight book are left out.
fn summed<K: Ord + Copy>(
    columns: &[master::Column],
    weights: &[f64],
    key: impl Fn(usize, u32) -> K,
) -> Vec<(K, f64)> {
    let key = &key;
    let mut sums: Vec<(K, f64)> = columns
        .iter()
        .zip(weights)
        .filter(|&(_, &w)| w > 0.0)
        .flat_map(|(c, &w)| c.week.iter().map(move |&(r, oi)| (key(r, oi), w)))
        .collect();
    sums.sort_by_key(|&(k, _)| k);
    sums.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1 += later.1;
        }
        same
    });
    sums
}

/// The columns worth a branch's master, from its parent's costed for the branch, and
/// where that master starts over them: those with weight in the parent's last master, and
/// those within `slack` of the patient's cheapest at its prices. The others only slow the
/// master (each of its steps passes over every column: a 5-minute-grid branch's first
/// solve took 7,000 steps, 0.6 s, over its parent's 2,600 columns), and pricing finds
/// again any the branch needs. Without a warm start, all of them.
fn keep_near(
    columns: Vec<master::Column>,
    warm: Option<&master::Warm>,
    slack: f64,
) -> (Vec<master::Column>, Option<master::Warm>) {
    let Some(warm) = warm.filter(|w| w.weights.len() == columns.len()) else {
        return (columns, None);
    };
    let priced: Vec<f64> = columns
        .iter()
        .map(|c| {
            c.cost
                + c.rows
                    .iter()
                    .map(|&(i, a)| a * warm.prices.get(i as usize).copied().unwrap_or(0.0))
                    .sum::<f64>()
        })
        .collect();
    let patients = columns.iter().map(|c| c.patient + 1).max().unwrap_or(0);
    let mut cheapest = vec![f64::INFINITY; patients];
    for (c, &p) in columns.iter().zip(&priced) {
        cheapest[c.patient] = cheapest[c.patient].min(p);
    }
    let mut kept = Vec::new();
    let mut weights = Vec::new();
    for ((c, p), &w) in columns.into_iter().zip(priced).zip(&warm.weights) {
        if w > 1e-9 || p - cheapest[c.patient] <= slack {
            kept.push(c);
            weights.push(w);
        }
    }
    let warm = master::Warm {
        weights,
        ..warm.clone()
    };
    (kept, Some(warm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::parse_caseload;
    use crate::schedule::Status;
    use crate::solve::{solve, SolveOptions};
    use crate::validate::validate;
    use std::time::Duration;

    const FAR: Duration = Duration::from_secs(3600);

    /// The component's root (Lagrangian bound, then column generation from the
    /// construction) and the tree's outcome from it, at most `max_branches` branches; the
    /// construction's total (the tree's upper bound).
    fn root_and_tree(problem: &Problem, max_branches: usize) -> (f64, Branched, i64) {
        root_and_tree_by(problem, max_branches, Deadlines::at(Instant::now() + FAR))
    }

    /// Deadlines past for any split, far off for placement splits.
    fn placements_only() -> Deadlines {
        let now = Instant::now();
        Deadlines {
            any: now,
            placements: now + FAR,
        }
    }

    /// [`root_and_tree`] with the tree's `deadlines`.
    fn root_and_tree_by(
        problem: &Problem,
        max_branches: usize,
        deadlines: Deadlines,
    ) -> (f64, Branched, i64) {
        root_and_tree_within(problem, max_branches, MAX_OPEN_BYTES, deadlines)
    }

    /// [`root_and_tree_by`] with the open branches' memory held to `max_open_bytes`.
    fn root_and_tree_within(
        problem: &Problem,
        max_branches: usize,
        max_open_bytes: usize,
        deadlines: Deadlines,
    ) -> (f64, Branched, i64) {
        let never = AtomicBool::new(false);
        let domains = Domains::build(problem);
        let all: Vec<usize> = (0..problem.requests.len()).collect();
        let empty = State::new(problem, &domains);
        let mut incumbent = State::new(problem, &domains);
        construct::construct(&mut incumbent, &all);
        let budget = || lagrange::Budget {
            deadline: Instant::now() + FAR,
            cancel: &never,
            max_steps: 2_000,
            node_limit: 20_000,
            deterministic: false,
        };
        let upper = incumbent.total();
        let relaxed = lagrange::lagrangian_bound(&empty, &all, upper, budget());
        let generated =
            lagrange::column_generation(&empty, &all, &incumbent, upper, &relaxed, budget());
        let tree = Tree {
            problem,
            domains: &domains,
            comp: &all,
            node_limit: 20_000,
            cancel: &never,
            max_branches,
            max_open_bytes,
            trace: false,
        };
        let root = Root {
            bound: generated.bound,
            center: generated.center,
            columns: generated.columns,
            weights: generated.weights,
            warm: generated.warm,
        };
        let root_bound = root.bound;
        let upper = incumbent.total();
        let branched = tree.bound(root, &incumbent.assign, upper, deadlines);
        (root_bound, branched, upper)
    }

    /// The tree's rounded schedule, when it has one: below the construction's total and
    /// not below the `optimum`, booked whole on an empty week at that total, and kept
    /// by the independent checker. Whether it is the optimum.
    fn rounded_is_a_schedule(
        problem: &Problem,
        branched: &Branched,
        upper: i64,
        optimum: f64,
        case: u64,
    ) -> Option<bool> {
        let (total, assign) = branched.rounded.as_ref()?;
        assert!(
            *total < upper,
            "case {case}: rounded {total} kept, not below {upper}"
        );
        assert!(
            *total as f64 >= optimum - 1e-6,
            "case {case}: rounded {total} below the optimum {optimum}"
        );
        let domains = Domains::build(problem);
        let mut state = State::new(problem, &domains);
        let all: Vec<usize> = (0..problem.requests.len()).collect();
        assert!(
            construct::book(&mut state, &all, &|r| assign[r]),
            "case {case}: the rounded schedule does not book"
        );
        assert_eq!(state.total(), *total, "case {case}");
        let schedule = crate::schedule::Schedule {
            version: crate::model::FORMAT_VERSION,
            placed: super::super::output::placed_list(&state),
            unplaced: super::super::output::unplaced_list(&state),
            objective: super::super::output::objective_terms(&state),
            bound: 0.0,
            gap: 0.0,
            status: Status::Feasible,
            stats: Default::default(),
        };
        let report = crate::check::check(&problem.input, &schedule);
        assert!(
            report.violations.is_empty(),
            "case {case}: {:?}",
            report.violations
        );
        assert_eq!(report.objective.total, *total, "case {case}");
        Some(*total as f64 <= optimum + 1e-6)
    }

    /// A caseload of one Monday, one site, providers each open for one hour (`(id,
    /// hour)`), and patients whose visits (`(id, provider, priority)`, an hour each) are
    /// booked together or not at all.
    fn one_hour_slots(
        providers: &[(String, u32)],
        patients: &[Vec<(String, String, u32)>],
    ) -> Problem {
        one_hour_slots_on(&["mon"], providers, patients)
    }

    /// [`one_hour_slots`] over the first `days` of the week, each provider open the same
    /// hour on each.
    fn one_hour_slots_on(
        days: &[&str],
        providers: &[(String, u32)],
        patients: &[Vec<(String, String, u32)>],
    ) -> Problem {
        let providers: Vec<String> = providers
            .iter()
            .map(|(id, hour)| {
                let hours: Vec<String> = days
                    .iter()
                    .map(|day| format!(r#""{day}": [["{hour:02}:00", "{:02}:00"]]"#, hour + 1))
                    .collect();
                format!(
                    r#"{{"id": "{id}", "specialty": "clinic", "site": "main",
                        "hours": {{{}}}}}"#,
                    hours.join(", ")
                )
            })
            .collect();
        let mut requests = Vec::new();
        let mut links = Vec::new();
        for (k, visits) in patients.iter().enumerate() {
            for (id, provider, priority) in visits {
                requests.push(format!(
                    r#"{{"id": "{id}", "patient": "p{k}", "providers": ["{provider}"],
                        "duration_min": 60, "priority": {priority}}}"#
                ));
            }
            if visits.len() >= 2 {
                let ids: Vec<String> = visits.iter().map(|v| format!("\"{}\"", v.0)).collect();
                links.push(format!(
                    r#"{{"kind": "same_day", "requests": [{}]}}"#,
                    ids.join(", ")
                ));
            }
        }
        let patients: Vec<String> = (0..patients.len())
            .map(|k| format!(r#"{{"id": "p{k}"}}"#))
            .collect();
        let text = format!(
            r#"{{"version": 1,
                "week": {{"start": "2026-03-02", "days": {}, "grid_min": 15, "timezone": "UTC"}},
                "sites": [{{"id": "main", "timezone": "UTC"}}],
                "providers": [{}], "patients": [{}], "requests": [{}], "links": [{}]}}"#,
            days.len(),
            providers.join(", "),
            patients.join(", "),
            requests.join(", "),
            links.join(", ")
        );
        validate(parse_caseload(&text).expect("parses")).expect("valid")
    }

    /// Three patients, each with two priority-5 visits booked together or not at all, on
    /// three one-hour slots that each patient shares with another: a, slots x and y; b, y
    /// and z; c, z and x. Only one patient's pair fits, but half of each does at once: the
    /// master LP's bound is half a pair below the optimum. Splitting on a half-placed
    /// visit proves the optimum.
    /// The columns a branch keeps: those with weight and those near the patient's
    /// cheapest at the parent's prices, each with its weight; without a start, all.
    #[test]
    fn a_branch_keeps_the_columns_near_its_parents_optimum() {
        let column = |patient: usize, cost: f64, rows: Vec<(u32, f64)>| master::Column {
            patient,
            cost,
            rows,
            week: vec![],
        };
        let columns = vec![
            column(0, 10.0, vec![(0, 1.0)]), // priced 15, weighed
            column(0, 100.0, vec![]),        // 85 above patient 0's cheapest: dropped
            column(1, 50.0, vec![(0, 1.0)]), // priced 55, patient 1's cheapest
            column(1, 60.0, vec![]),         // 5 above it, and weighed
            column(1, 80.0, vec![]),         // 25 above it: dropped
        ];
        let warm = master::Warm {
            weights: vec![1.0, 0.0, 0.0, 1.0, 0.0],
            prices: vec![5.0],
            primal_weight: Some(2.0),
        };
        let (kept, start) = keep_near(columns.clone(), Some(&warm), 20.0);
        let costs: Vec<f64> = kept.iter().map(|c| c.cost).collect();
        assert_eq!(costs, vec![10.0, 50.0, 60.0]);
        let start = start.expect("a start over the kept columns");
        assert_eq!(start.weights, vec![1.0, 0.0, 1.0]);
        assert_eq!(start.prices, vec![5.0]);
        let (all, none) = keep_near(columns.clone(), None, 20.0);
        assert_eq!(all, columns);
        assert!(none.is_none());
    }

    #[test]
    fn splitting_a_half_placed_visit_closes_an_odd_cycle() {
        let providers: Vec<(String, u32)> = [("x", 9), ("y", 10), ("z", 11)]
            .map(|(id, h)| (id.to_string(), h))
            .to_vec();
        let visits = |a: (&str, &str), b: (&str, &str)| {
            vec![
                (a.0.to_string(), a.1.to_string(), 5),
                (b.0.to_string(), b.1.to_string(), 5),
            ]
        };
        let problem = one_hour_slots(
            &providers,
            &[
                visits(("a1", "x"), ("a2", "y")),
                visits(("b1", "y"), ("b2", "z")),
                visits(("c1", "z"), ("c2", "x")),
            ],
        );
        // One pair placed (one trip), two left out.
        let w = &problem.weights;
        let optimum = (4 * 5 * w.unplaced_per_priority + w.trip) as f64;
        let (root, branched, _) = root_and_tree(&problem, 100);
        assert!(
            root < optimum - 1_000.0,
            "the master LP's bound {root} should lie half a pair below the optimum {optimum}"
        );
        assert!(
            (branched.bound - optimum).abs() < 1e-6,
            "the tree's bound {} should prove the optimum {optimum} (root {root}, {} branches)",
            branched.bound,
            branched.branches
        );
        assert!(branched.branches >= 2);
        // Its splits are all on placements: they go on past the deadline of any split.
        let (_, branched, _) = root_and_tree_by(&problem, 100, placements_only());
        assert!(
            (branched.bound - optimum).abs() < 1e-6 && branched.on_days == 0,
            "placement splits alone: bound {} against the optimum {optimum}",
            branched.bound
        );
        let (_, branched, _) = root_and_tree_by(&problem, 100, Deadlines::at(Instant::now()));
        assert_eq!(branched.branches, 0, "a tree past its deadlines split");
    }

    /// Random caseloads of that kind (3-7 patients with 2-3 visits each on 3-5 one-hour
    /// slots, priorities 1-5), their optimum proven by the exact model under a work budget
    /// (where no tree runs): the tree's bound never passes the optimum, and on most of
    /// them it rises past a master LP that stays below it.
    #[test]
    fn branching_on_random_shared_slots_stays_at_most_the_optimum() {
        let (fractional, raised, _) = random_shared_slots(&["mon"], 7);
        assert!(fractional >= 5, "only {fractional} roots below the optimum");
        assert!(raised * 2 > fractional, "{raised} of {fractional} raised");
    }

    /// The same over two days, where a master may book each pair whole but on either day
    /// in part: the tree also splits on days, and stays at most the optimum.
    #[test]
    fn branching_on_days_stays_at_most_the_optimum() {
        let (fractional, raised, on_days) = random_shared_slots(&["mon", "tue"], 8);
        assert!(on_days > 0, "no branch on a day");
        assert!(fractional >= 5, "only {fractional} roots below the optimum");
        assert!(raised > 0, "none of {fractional} raised");
    }

    /// A tree whose open branches pass its memory stops there, with its root's bound
    /// (the lowest open branch's): on the random cases where the tree would branch, no
    /// branch is evaluated past a budget of one byte, and the bound is the root's, at most
    /// the whole tree's.
    #[test]
    fn a_tree_out_of_memory_stops_at_its_bound_so_far() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut stopped = 0;
        for case in 0..20 {
            let problem = random_pairs(&["mon"], &mut rng);
            let (_, free, _) = root_and_tree(&problem, 60);
            if free.branches == 0 {
                continue;
            }
            let far = Deadlines::at(Instant::now() + FAR);
            let (root, held, upper) = root_and_tree_within(&problem, 60, 1, far);
            assert_eq!(held.branches, 0, "case {case}: branched past the memory");
            assert!(
                (held.bound - root.min(upper as f64)).abs() < 1e-6,
                "case {case}: bound {} against the root's {root}",
                held.bound
            );
            assert!(held.bound <= free.bound + 1e-6, "case {case}");
            stopped += 1;
        }
        assert!(stopped >= 3, "only {stopped} cases branched at all");
    }

    /// Past the deadline of any split, a tree splits on placements alone (until theirs):
    /// no branch on a day, and placement splits still raise bounds.
    #[test]
    fn past_any_split_only_placements_are_split() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let (mut raised, mut split) = (0, 0);
        for case in 0..20 {
            let problem = random_pairs(&["mon", "tue"], &mut rng);
            let (root, branched, _) = root_and_tree_by(&problem, 60, placements_only());
            assert_eq!(
                branched.on_days, 0,
                "case {case}: a day split past its deadline"
            );
            split += usize::from(branched.branches > 0);
            raised += usize::from(branched.bound > root + 1.0);
        }
        assert!(
            raised > 0,
            "no bound raised by placement splits ({split} trees split)"
        );
    }

    /// A caseload of 3-7 patients with 2-3 bundled visits each (priorities 1-5) on 3-5
    /// shared one-hour slots over `days`.
    fn random_pairs(days: &[&str], rng: &mut rand_chacha::ChaCha8Rng) -> Problem {
        use rand::Rng;
        let slots = rng.gen_range(3..=5);
        let providers: Vec<(String, u32)> = (0..slots)
            .map(|i| (format!("s{i}"), 8 + i as u32))
            .collect();
        let patients: Vec<Vec<(String, String, u32)>> = (0..rng.gen_range(3..=7))
            .map(|k| {
                let mut chosen: Vec<usize> = Vec::new();
                while chosen.len() < rng.gen_range(2..=3) {
                    let s = rng.gen_range(0..slots);
                    if !chosen.contains(&s) {
                        chosen.push(s);
                    }
                }
                chosen
                    .iter()
                    .enumerate()
                    .map(|(j, &s)| (format!("p{k}v{j}"), format!("s{s}"), rng.gen_range(1..=5)))
                    .collect()
            })
            .collect();
        one_hour_slots_on(days, &providers, &patients)
    }

    /// 40 random caseloads of bundled visits on shared one-hour slots over `days`, each
    /// optimum proven by the exact model under a work budget (where no tree runs): the
    /// tree's bound lies between its root's and the optimum. Returns how many roots were
    /// below the optimum, how many of those the tree raised, and its branches on days.
    fn random_shared_slots(days: &[&str], seed: u64) -> (usize, usize, usize) {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (mut fractional, mut raised, mut on_days) = (0, 0, 0);
        let (mut rounded_to_optimum, mut rounded_above_optimum) = (0, 0);
        for case in 0..40 {
            let problem = random_pairs(days, &mut rng);
            let schedule = solve(
                &problem,
                &SolveOptions {
                    time_limit: 600.0,
                    threads: 1,
                    seed: case,
                    work: Some(2_000),
                    ..Default::default()
                },
            );
            assert_eq!(
                schedule.status,
                Status::Optimal,
                "case {case}: too large to prove"
            );
            let optimum = schedule.objective.total as f64;
            let (root, branched, upper) = root_and_tree(&problem, 60);
            match rounded_is_a_schedule(&problem, &branched, upper, optimum, case) {
                Some(true) => rounded_to_optimum += 1,
                Some(false) => rounded_above_optimum += 1,
                None => {}
            }
            assert!(
                branched.bound <= optimum + 1e-6,
                "case {case}: the tree's bound {} passes the optimum {optimum} (root {root})",
                branched.bound
            );
            assert!(
                branched.bound >= root - 1e-6,
                "case {case}: the tree's bound {} below its root's {root}",
                branched.bound
            );
            on_days += branched.on_days;
            if root < optimum - 1.0 {
                fractional += 1;
                if branched.bound > root + 1.0 {
                    raised += 1;
                }
            }
        }
        eprintln!(
            "{days:?}: {fractional} of 40 below the optimum at the root, {raised} raised by \
             the tree, {on_days} branches on days; a master rounded below the construction \
             {rounded_to_optimum} times to the optimum, {rounded_above_optimum} times above it"
        );
        assert!(
            rounded_to_optimum > 0,
            "no master rounded to the optimum where the construction missed it"
        );
        (fractional, raised, on_days)
    }
}
