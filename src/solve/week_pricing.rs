//! One patient's week priced exactly, by day patterns.
//!
//! Column generation prices every patient's week at the master's duals each round. The
//! option search in [`lagrange`](super::lagrange) branches on options, that is on start
//! times: on a 5-minute grid a request has hundreds, and dozens of patients ran into its
//! node limit every round, which cost seconds a round and left the bound short of the
//! master. This search splits the week the way its cost splits:
//!
//! - **Patterns.** Each request goes on a day in person or by telehealth, or stays
//!   unplaced. Trips, the trip cap, caps per day, bundles and the days a link allows are
//!   decided here, by a depth-first search bounded by each request's cheapest option per
//!   day and mode plus the trips the remaining requests need.
//! - **Days.** A pattern's day is sequenced exactly: overlap, travel between every pair
//!   of sites, same-day links and waiting. For a fixed order of the in-person
//!   appointments the best option of each given the one before is a prefix minimum over
//!   the earlier one's end, per site, so a day costs a few sorts per order. Telehealth
//!   appointments are tried cheapest first around it. Days are memoised across patterns.
//!   An order where travel between non-neighbours is not implied by the neighbours'
//!   (travel times that break the triangle inequality) is solved by a plain search
//!   instead; a link between non-neighbours is left to the splits below.
//! - **Links the days leave open.** When the days' best choices break a link (across
//!   days: a lab in the evening must end 900 minutes before its consult starts; or on one
//!   day between appointments that are not neighbours), the pattern is split on the time
//!   of one of the two requests and each side solved again within its window, until no
//!   link is broken.
//!
//! The minimum is the option search's (a test compares the two), reached with far fewer
//! nodes. Past `node_limit` nodes the search stops and returns the least bound of what it
//! left unexplored, still a lower bound.

use std::collections::HashMap;
use std::time::Instant;

use crate::problem::Problem;

use super::domain::Opt;
use super::lagrange::{PatientWeek, MAX_DAYS, WEEKS_KEPT};
use super::state::{unplaced_weight, State};

/// Most requests of one patient this search takes (sets are `u32` masks; the option
/// search takes the rest).
const MAX_REQUESTS: usize = 16;
/// Most in-person appointments a day ordered by permutation (`5!` orders); more go to
/// the plain search.
const SEQUENCED: usize = 5;
/// Most new days whose subsets the pattern bound enumerates; past it new trips count 0.
const TRIP_SUBSET_DAYS: u32 = 10;
const IN_PERSON: usize = 0;
const TELEHEALTH: usize = 1;
const NO_SITE: u16 = u16::MAX;
const EPS: f64 = 1e-9;

/// One option as this search sees it.
#[derive(Clone, Copy, Debug)]
struct Cand {
    start: i32,
    end: i32,
    /// Site index, [`NO_SITE`] for telehealth.
    site: u16,
    /// Its own cost plus what the prices raise it by.
    cost: f64,
    option: u32,
}

impl Cand {
    fn in_person(&self) -> bool {
        self.site != NO_SITE
    }
}

/// Limits on a request's start and end (absolute minutes), set by splits on links.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Window {
    start_lo: i32,
    start_hi: i32,
    end_lo: i32,
    end_hi: i32,
}

const OPEN: Window = Window {
    start_lo: i32::MIN,
    start_hi: i32::MAX,
    end_lo: i32::MIN,
    end_hi: i32::MAX,
};

impl Window {
    fn admits(&self, c: &Cand) -> bool {
        c.start >= self.start_lo
            && c.start <= self.start_hi
            && c.end >= self.end_lo
            && c.end <= self.end_hi
    }
}

/// One request of the patient.
struct Req {
    request: usize,
    /// Its unplaced weight.
    weight: f64,
    may_skip: bool,
    /// Per day and mode (`day * 2 + mode`): its options, cheapest first.
    cands: Vec<Vec<Cand>>,
    /// Per day and mode: the cheapest option's cost (infinite without one).
    least: Vec<f64>,
    /// Per day and mode: earliest start, latest start, earliest end, latest end.
    extremes: Vec<[i32; 4]>,
    /// Per day: the sites of its in-person options (bit per site).
    sites: Vec<u64>,
    /// Its shortest option.
    min_duration: i32,
}

/// A precedence between two of the patient's requests (indices into the search's order).
#[derive(Clone, Copy)]
struct Link {
    before: usize,
    after: usize,
    min_gap: i32,
    max_gap: Option<i32>,
}

impl Link {
    fn holds(&self, before: &Cand, after: &Cand) -> bool {
        let gap = after.start - before.end;
        gap >= self.min_gap && self.max_gap.is_none_or(|m| gap <= m)
    }
}

/// An earlier option of a chain: its end, its chain's value less the waiting its end
/// saves (`idle · end`), its index.
type Behind = (i32, f64, usize);

/// A day's best sequence: its cost (options, trip, waiting) and the options chosen.
#[derive(Clone)]
struct DayPlan {
    value: f64,
    picks: Vec<(usize, Cand)>,
}

/// The exact minimum of one patient's own problem under option costs raised by
/// `extra(r, option)`, with the last weeks found (the best last), as
/// `lagrange::patient_week` defines them; `None` when the patient is out of this search's
/// scope (too many requests or days, a site index past 63, a negative link gap) or a
/// day's plain search ran out of nodes.
pub(super) fn price_week(
    state: &State,
    requests: &[usize],
    extra: &dyn Fn(usize, usize) -> f64,
    node_limit: usize,
    deadline: Option<Instant>,
) -> Option<(f64, Vec<PatientWeek>)> {
    price_week_sequencing(state, requests, extra, node_limit, deadline, SEQUENCED)
}

/// [`price_week`] with days of more than `sequenced` in-person appointments solved by the
/// plain search (tests compare the two ways).
pub(super) fn price_week_sequencing(
    state: &State,
    requests: &[usize],
    extra: &dyn Fn(usize, usize) -> f64,
    node_limit: usize,
    deadline: Option<Instant>,
    sequenced: usize,
) -> Option<(f64, Vec<PatientWeek>)> {
    let problem = state.problem;
    let Some(&first) = requests.first() else {
        return Some((0.0, vec![(0.0, Vec::new())]));
    };
    let ndays = problem.days.len();
    if requests.len() > MAX_REQUESTS || ndays > MAX_DAYS {
        return None;
    }
    let patient = &problem.patients[problem.requests[first].patient];
    // Every prerequisite before its successor: a link's successor lies deeper in its
    // longest chain (validation rules out cycles).
    let mut order = requests.to_vec();
    order.sort_by_key(|&r| problem.link_order[r].1);
    let position = |r: usize| order.iter().position(|&x| x == r);
    // Links to requests outside this list are not this search's (as in the option search).
    let mut links = Vec::new();
    for (after, &r) in order.iter().enumerate() {
        for &i in state.preds(r) {
            let p = &problem.precedences[i];
            let Some(before) = position(p.before) else {
                continue;
            };
            if p.min_gap < 0 {
                return None;
            }
            links.push(Link {
                before,
                after,
                min_gap: p.min_gap,
                max_gap: p.max_gap,
            });
        }
    }
    let mut groups: Vec<usize> = order
        .iter()
        .flat_map(|&r| state.groups(r))
        .copied()
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let bundles: Vec<u32> = groups
        .iter()
        .map(|&g| {
            problem.same_day[g]
                .iter()
                .filter_map(|&r| position(r))
                .fold(0u32, |m, i| m | 1 << i)
        })
        .filter(|m| m.count_ones() > 1)
        .collect();
    let mut reqs = Vec::with_capacity(order.len());
    for &r in &order {
        reqs.push(request_of(problem, &state.domains.opts, r, ndays, extra)?);
    }
    let base = reqs.iter().map(|q| q.weight).sum();
    let mut search = Pricing {
        preds: (0..reqs.len())
            .map(|j| (0..links.len()).filter(|&l| links[l].after == j).collect())
            .collect(),
        reqs,
        links,
        bundles,
        ndays,
        trip: problem.weights.trip as f64,
        idle: problem.weights.idle_per_min as f64,
        room: patient.max_per_day.unwrap_or(u32::MAX),
        max_trips: patient.max_trips.unwrap_or(u32::MAX),
        travel: &problem.travel,
        sequenced,
        nodes: 0,
        node_limit,
        deadline,
        best: f64::INFINITY,
        abandoned: f64::INFINITY,
        gave_up: false,
        weeks: Vec::new(),
        memo: HashMap::new(),
        at: vec![None; order.len()],
        count: [0; MAX_DAYS],
    };
    search.explore(0, base, 0);
    if search.gave_up {
        return None;
    }
    Some((search.best.min(search.abandoned), search.weeks))
}

fn request_of(
    problem: &Problem,
    opts: &[Vec<Opt>],
    r: usize,
    ndays: usize,
    extra: &dyn Fn(usize, usize) -> f64,
) -> Option<Req> {
    let mut cands = vec![Vec::new(); ndays * 2];
    let mut min_duration = i32::MAX;
    for (oi, o) in opts[r].iter().enumerate() {
        let site = match o.site {
            Some(s) if s < 64 => s,
            Some(_) => return None,
            None => NO_SITE,
        };
        let mode = if o.in_person() { IN_PERSON } else { TELEHEALTH };
        cands[o.day as usize * 2 + mode].push(Cand {
            start: o.start,
            end: o.end,
            site,
            cost: o.cost as f64 + extra(r, oi),
            option: oi as u32,
        });
        min_duration = min_duration.min(o.end - o.start);
    }
    for list in &mut cands {
        list.sort_by(|a, b| {
            a.cost
                .total_cmp(&b.cost)
                .then(a.start.cmp(&b.start))
                .then(a.option.cmp(&b.option))
        });
    }
    let least = cands
        .iter()
        .map(|l| l.first().map_or(f64::INFINITY, |c| c.cost))
        .collect();
    let extremes = cands
        .iter()
        .map(|l| {
            l.iter().fold(
                [i32::MAX, i32::MIN, i32::MAX, i32::MIN],
                |[a, b, c, d], x| [a.min(x.start), b.max(x.start), c.min(x.end), d.max(x.end)],
            )
        })
        .collect();
    let sites = (0..ndays)
        .map(|d| {
            cands[d * 2 + IN_PERSON]
                .iter()
                .fold(0u64, |m, c| m | 1 << c.site)
        })
        .collect();
    Some(Req {
        request: r,
        weight: unplaced_weight(problem, r) as f64,
        may_skip: !problem.requests[r].pinned(),
        cands,
        least,
        extremes,
        sites,
        min_duration,
    })
}

struct Pricing<'a> {
    /// The requests, every prerequisite before its successor.
    reqs: Vec<Req>,
    links: Vec<Link>,
    /// Per request: the links it is the successor of.
    preds: Vec<Vec<usize>>,
    /// Same-day bundles (masks over `reqs`): all placed on one day or none.
    bundles: Vec<u32>,
    ndays: usize,
    trip: f64,
    idle: f64,
    room: u32,
    max_trips: u32,
    travel: &'a [Vec<i32>],
    /// Most in-person appointments a day that [`Pricing::sequence`] orders.
    sequenced: usize,
    nodes: usize,
    node_limit: usize,
    /// Past it the node limit is cut to the nodes spent (the clock is read every
    /// [`DEADLINE_EVERY`] nodes): the search ends as if out of nodes.
    deadline: Option<Instant>,
    best: f64,
    /// The least bound of what the node limit left unexplored.
    abandoned: f64,
    /// A day's plain search ran out of nodes: the option search takes over.
    gave_up: bool,
    weeks: Vec<PatientWeek>,
    /// Day plans by (day, requests, those in person), without windows.
    memo: HashMap<(usize, u32, u32), Option<DayPlan>>,
    /// Per request decided so far: its (day, mode), `None` when left unplaced.
    at: Vec<Option<(usize, usize)>>,
    /// Appointments per day in the pattern so far.
    count: [u32; MAX_DAYS],
}

/// How often (in nodes) the search looks at the clock.
const DEADLINE_EVERY: usize = 256;

impl Pricing<'_> {
    /// Counts a node; true when out of nodes (or past the deadline).
    fn spend_node(&mut self) -> bool {
        self.nodes += 1;
        if self.nodes.is_multiple_of(DEADLINE_EVERY)
            && self.deadline.is_some_and(|d| Instant::now() >= d)
        {
            self.node_limit = self.node_limit.min(self.nodes - 1);
        }
        self.nodes > self.node_limit
    }

    /// Explores patterns from request `k` on: `cost` is a lower bound of the pattern so far
    /// (unplaced weights, cheapest options, trips) and `open` its trip days. False when out
    /// of nodes.
    fn explore(&mut self, k: usize, cost: f64, open: u32) -> bool {
        if self.gave_up {
            return false;
        }
        if k == self.reqs.len() {
            return self.finish();
        }
        let node_bound = cost + self.rest(k, open);
        if node_bound >= self.best - EPS {
            return true;
        }
        if self.spend_node() {
            self.abandoned = self.abandoned.min(node_bound);
            return false;
        }
        let mut choices: Vec<(f64, Option<(usize, usize)>)> = Vec::new();
        if self.may_skip(k) {
            choices.push((0.0, None));
        }
        let req = &self.reqs[k];
        for d in 0..self.ndays {
            for mode in [IN_PERSON, TELEHEALTH] {
                let least = req.least[d * 2 + mode];
                if least.is_finite() && self.may_place(k, d, mode, open) {
                    let new_trip = mode == IN_PERSON && open & (1 << d) == 0;
                    let raise = least - req.weight + if new_trip { self.trip } else { 0.0 };
                    choices.push((raise, Some((d, mode))));
                }
            }
        }
        choices.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        // The rest's bound depends on the trip days alone, which most choices keep.
        let mut rests: Vec<(u32, f64)> = Vec::new();
        for (raise, choice) in choices {
            let child_open = match choice {
                Some((d, IN_PERSON)) => open | 1 << d,
                _ => open,
            };
            let rest = match rests.iter().find(|r| r.0 == child_open) {
                Some(&(_, rest)) => rest,
                None => {
                    let rest = self.rest(k + 1, child_open);
                    rests.push((child_open, rest));
                    rest
                }
            };
            if cost + raise + rest >= self.best - EPS {
                continue;
            }
            self.at[k] = choice;
            if let Some((d, _)) = choice {
                self.count[d] += 1;
            }
            let complete = self.explore(k + 1, cost + raise, child_open);
            if let Some((d, _)) = choice {
                self.count[d] -= 1;
            }
            if !complete {
                self.abandoned = self.abandoned.min(node_bound);
                return false;
            }
        }
        true
    }

    /// Whether request `k` may stay unplaced given the decided ones.
    fn may_skip(&self, k: usize) -> bool {
        self.reqs[k].may_skip
            && self
                .bundles
                .iter()
                .filter(|&&b| b & (1 << k) != 0)
                .all(|&b| (0..k).all(|j| b & (1 << j) == 0 || self.at[j].is_none()))
    }

    /// Whether request `k` may go on day `d` in `mode` given the decided ones (trip days
    /// `open`): caps, prerequisites placed on days whose options can keep the gap, bundles.
    fn may_place(&self, k: usize, d: usize, mode: usize, open: u32) -> bool {
        if self.count[d] >= self.room {
            return false;
        }
        if mode == IN_PERSON && open & (1 << d) == 0 && open.count_ones() >= self.max_trips {
            return false;
        }
        let [first_start, last_start, _, _] = self.reqs[k].extremes[d * 2 + mode];
        for &l in &self.preds[k] {
            let link = self.links[l];
            let Some((bd, bm)) = self.at[link.before] else {
                return false;
            };
            let [_, _, first_end, last_end] = self.reqs[link.before].extremes[bd * 2 + bm];
            if last_start - first_end < link.min_gap
                || link.max_gap.is_some_and(|g| first_start - last_end > g)
            {
                return false;
            }
        }
        self.bundles
            .iter()
            .filter(|&&b| b & (1 << k) != 0)
            .all(|&b| {
                (0..k)
                    .filter(|&j| b & (1 << j) != 0)
                    .all(|j| matches!(self.at[j], Some((dj, _)) if dj == d))
            })
    }

    /// The least the requests from `k` on can add to a pattern with trip days `open`:
    /// each its cheapest choice given the days travelled, every set of further trip days
    /// within the cap tried (links and caps per day aside).
    fn rest(&self, k: usize, open: u32) -> f64 {
        let reqs = &self.reqs[k..];
        if reqs.is_empty() {
            return 0.0;
        }
        let mut offered = 0u32;
        for q in reqs {
            for d in 0..self.ndays {
                if q.least[d * 2 + IN_PERSON].is_finite() {
                    offered |= 1 << d;
                }
            }
        }
        let new_days = offered & !open;
        let trips_left = self.max_trips.saturating_sub(open.count_ones());
        let away: Vec<f64> = reqs
            .iter()
            .map(|q| {
                let tele = (0..self.ndays)
                    .map(|d| q.least[d * 2 + TELEHEALTH])
                    .fold(f64::INFINITY, f64::min)
                    - q.weight;
                if q.may_skip {
                    tele.min(0.0)
                } else {
                    tele
                }
            })
            .collect();
        let cost_on = |days: u32, trips: u32| -> f64 {
            let mut total = self.trip * f64::from(trips);
            for (q, &a) in reqs.iter().zip(&away) {
                let mut best = a;
                let mut left = days;
                while left != 0 {
                    let d = left.trailing_zeros() as usize;
                    best = best.min(q.least[d * 2 + IN_PERSON] - q.weight);
                    left &= left - 1;
                }
                total += best;
            }
            total
        };
        if new_days.count_ones() > TRIP_SUBSET_DAYS {
            return cost_on(offered | open, 0);
        }
        let mut least = f64::INFINITY;
        let mut set = new_days;
        loop {
            if set.count_ones() <= trips_left {
                least = least.min(cost_on(set | open, set.count_ones()));
            }
            if set == 0 {
                break;
            }
            set = (set - 1) & new_days;
        }
        least
    }

    /// A complete pattern: its days sequenced, links across days kept by splitting on
    /// time windows. False when out of nodes.
    fn finish(&mut self) -> bool {
        let mut members = [0u32; MAX_DAYS];
        let mut in_person = [0u32; MAX_DAYS];
        for (j, at) in self.at.iter().enumerate() {
            if let Some((d, mode)) = *at {
                members[d] |= 1 << j;
                if mode == IN_PERSON {
                    in_person[d] |= 1 << j;
                }
            }
        }
        let mut windows = vec![OPEN; self.reqs.len()];
        // Pending window sets, each with a bound (its parent's value).
        let mut pending: Vec<(Vec<Window>, f64)> = Vec::new();
        let mut bound = f64::NEG_INFINITY;
        loop {
            if bound < self.best - EPS {
                if let Some((value, picks)) = self.solve_days(&members, &in_person, &windows) {
                    if value < self.best - EPS {
                        match self.broken_link(&picks) {
                            None => self.record(value, &picks),
                            Some((link, b, a)) => {
                                if self.spend_node() {
                                    self.abandoned = self.abandoned.min(value);
                                    for (_, b) in &pending {
                                        self.abandoned = self.abandoned.min(*b);
                                    }
                                    return false;
                                }
                                let (left, right) = split(&windows, link, &b, &a);
                                pending.push((right, value));
                                pending.push((left, value));
                            }
                        }
                    }
                }
                if self.gave_up {
                    return false;
                }
            }
            let Some((next, b)) = pending.pop() else {
                return true;
            };
            windows = next;
            bound = b;
        }
    }

    /// The pattern's value and options with each day sequenced within `windows`; `None`
    /// when a day has no sequence.
    fn solve_days(
        &mut self,
        members: &[u32; MAX_DAYS],
        in_person: &[u32; MAX_DAYS],
        windows: &[Window],
    ) -> Option<(f64, Vec<(usize, Cand)>)> {
        let mut value: f64 = self
            .reqs
            .iter()
            .zip(&self.at)
            .filter(|(_, at)| at.is_none())
            .map(|(q, _)| q.weight)
            .sum();
        let mut picks = Vec::with_capacity(self.reqs.len());
        for d in 0..self.ndays {
            if members[d] == 0 {
                continue;
            }
            let windowed =
                (0..self.reqs.len()).any(|j| members[d] & (1 << j) != 0 && windows[j] != OPEN);
            let plan = if windowed {
                self.plan_day(d, members[d], in_person[d], windows)
            } else {
                let key = (d, members[d], in_person[d]);
                match self.memo.get(&key) {
                    Some(plan) => plan.clone(),
                    None => {
                        let plan = self.plan_day(d, members[d], in_person[d], windows);
                        self.memo.insert(key, plan.clone());
                        plan
                    }
                }
            }?;
            value += plan.value;
            picks.extend_from_slice(&plan.picks);
        }
        picks.sort_by_key(|p| p.0);
        Some((value, picks))
    }

    /// The first link the picks break (across days, or between appointments of one day
    /// that the chain left apart).
    fn broken_link(&self, picks: &[(usize, Cand)]) -> Option<(Link, Cand, Cand)> {
        let pick = |j: usize| picks.iter().find(|p| p.0 == j).map(|p| p.1);
        self.links.iter().find_map(|&link| {
            let (b, a) = (pick(link.before)?, pick(link.after)?);
            (!link.holds(&b, &a)).then_some((link, b, a))
        })
    }

    fn record(&mut self, value: f64, picks: &[(usize, Cand)]) {
        self.best = value;
        if self.weeks.len() == WEEKS_KEPT {
            self.weeks.remove(0);
        }
        let week = picks
            .iter()
            .map(|&(j, c)| (self.reqs[j].request, c.option))
            .collect();
        self.weeks.push((value, week));
    }

    /// Day `d`'s best sequence of `members` (bit per request; those in `in_person` in
    /// person, the others by telehealth) within `windows`: options, trip and waiting.
    fn plan_day(
        &mut self,
        d: usize,
        members: u32,
        in_person: u32,
        windows: &[Window],
    ) -> Option<DayPlan> {
        self.nodes += 1;
        let people: Vec<usize> = bits(in_person).collect();
        let teles: Vec<usize> = bits(members & !in_person).collect();
        if people.len() > self.sequenced {
            return self.search_day(d, members, in_person, windows);
        }
        let trip = if people.is_empty() { 0.0 } else { self.trip };
        // Without telehealth the in-person sequence is the day; with it, the sequence
        // free of the telehealth options bounds every choice of them.
        let free = match self.sequence(d, &people, windows, &[]) {
            Sequenced::Best(v, picks) => (v, picks),
            Sequenced::None => return None,
            Sequenced::Tangled => return self.search_day(d, members, in_person, windows),
        };
        if teles.is_empty() {
            return Some(DayPlan {
                value: free.0 + trip,
                picks: free.1,
            });
        }
        let mut best: Option<DayPlan> = None;
        let mut chosen: Vec<(usize, Cand)> = Vec::with_capacity(teles.len());
        let tangled = self.place_teles(
            d,
            &teles,
            &people,
            windows,
            &mut chosen,
            0.0,
            free.0 + trip,
            &mut best,
        );
        if tangled {
            return self.search_day(d, members, in_person, windows);
        }
        best
    }

    /// Tries the telehealth appointments `teles[chosen.len()..]` cheapest first around the
    /// in-person sequence (whose free value plus trip is `floor`); true when an in-person
    /// order turned out tangled (the caller falls back to the plain search).
    #[allow(clippy::too_many_arguments)]
    fn place_teles(
        &mut self,
        d: usize,
        teles: &[usize],
        people: &[usize],
        windows: &[Window],
        chosen: &mut Vec<(usize, Cand)>,
        cost: f64,
        floor: f64,
        best: &mut Option<DayPlan>,
    ) -> bool {
        // Each choice counts as a node: on a fine grid a day's telehealth candidates are
        // many, and without a limit this search took minutes past the time limit (three
        // patients, 5-minute grid, all-day hours, every request telehealth or in person).
        if self.spend_node() {
            self.gave_up = true;
            return false;
        }
        let best_value = |b: &Option<DayPlan>| b.as_ref().map_or(f64::INFINITY, |p| p.value);
        let i = chosen.len();
        if i == teles.len() {
            // The in-person appointments keep clear of the telehealth ones and keep the
            // links with them.
            let mut kept = windows.to_vec();
            for &(t, c) in chosen.iter() {
                for link in &self.links {
                    if link.before == t && people.contains(&link.after) {
                        let w = &mut kept[link.after];
                        w.start_lo = w.start_lo.max(c.end + link.min_gap);
                        if let Some(g) = link.max_gap {
                            w.start_hi = w.start_hi.min(c.end + g);
                        }
                    }
                    if link.after == t && people.contains(&link.before) {
                        let w = &mut kept[link.before];
                        w.end_hi = w.end_hi.min(c.start - link.min_gap);
                        if let Some(g) = link.max_gap {
                            w.end_lo = w.end_lo.max(c.start - g);
                        }
                    }
                }
            }
            let busy: Vec<(i32, i32)> = chosen.iter().map(|(_, c)| (c.start, c.end)).collect();
            match self.sequence(d, people, &kept, &busy) {
                Sequenced::Best(v, mut picks) => {
                    let trip = if people.is_empty() { 0.0 } else { self.trip };
                    let value = cost + v + trip;
                    if value < best_value(best) - EPS {
                        picks.extend_from_slice(chosen);
                        picks.sort_by_key(|p| p.0);
                        *best = Some(DayPlan { value, picks });
                    }
                }
                Sequenced::None => {}
                Sequenced::Tangled => return true,
            }
            return false;
        }
        let t = teles[i];
        let later: f64 = teles[i + 1..]
            .iter()
            .map(|&u| self.reqs[u].least[d * 2 + TELEHEALTH])
            .sum();
        let count = self.reqs[t].cands[d * 2 + TELEHEALTH].len();
        for ci in 0..count {
            let c = self.reqs[t].cands[d * 2 + TELEHEALTH][ci];
            if cost + c.cost + later + floor >= best_value(best) - EPS {
                break;
            }
            if !windows[t].admits(&c) || !chosen.iter().all(|&(u, x)| self.compatible(t, &c, u, &x))
            {
                continue;
            }
            chosen.push((t, c));
            let tangled = self.place_teles(
                d,
                teles,
                people,
                windows,
                chosen,
                cost + c.cost,
                floor,
                best,
            );
            chosen.pop();
            if tangled {
                return true;
            }
            if self.gave_up {
                return false;
            }
        }
        false
    }

    /// Whether two of the patient's appointments on one day can both be kept: apart (by
    /// the travel between their sites when both are in person) and any link between them
    /// kept.
    fn compatible(&self, i: usize, a: &Cand, j: usize, b: &Cand) -> bool {
        let sep = if a.in_person() && b.in_person() {
            self.travel[a.site as usize][b.site as usize]
        } else {
            0
        };
        if !(a.end + sep <= b.start || b.end + sep <= a.start) {
            return false;
        }
        self.links.iter().all(|l| {
            if l.before == i && l.after == j {
                l.holds(a, b)
            } else if l.before == j && l.after == i {
                l.holds(b, a)
            } else {
                true
            }
        })
    }

    /// The best in-person sequence of `people` on day `d` within `windows`, clear of the
    /// intervals `busy`: the options' cost plus waiting (no trip).
    fn sequence(
        &self,
        d: usize,
        people: &[usize],
        windows: &[Window],
        busy: &[(i32, i32)],
    ) -> Sequenced {
        if people.is_empty() {
            return Sequenced::Best(0.0, Vec::new());
        }
        let lists: Vec<Vec<Cand>> = people
            .iter()
            .map(|&j| {
                let mut list: Vec<Cand> = self.reqs[j].cands[d * 2 + IN_PERSON]
                    .iter()
                    .filter(|c| {
                        windows[j].admits(c)
                            && busy.iter().all(|&(s, e)| c.end <= s || e <= c.start)
                    })
                    .copied()
                    .collect();
                list.sort_by(|a, b| a.end.cmp(&b.end).then(a.option.cmp(&b.option)));
                list
            })
            .collect();
        if lists.iter().any(Vec::is_empty) {
            return Sequenced::None;
        }
        let mut best: Option<(f64, Vec<(usize, Cand)>)> = None;
        let mut perm: Vec<usize> = (0..people.len()).collect();
        loop {
            match self.order_shape(d, people, &perm) {
                Shape::Invalid => {}
                Shape::Tangled => return Sequenced::Tangled,
                Shape::Chain => {
                    if let Some((v, picks)) = self.chain(people, &lists, &perm) {
                        if best.as_ref().is_none_or(|b| v < b.0 - EPS) {
                            best = Some((v, picks));
                        }
                    }
                }
            }
            if !next_permutation(&mut perm) {
                break;
            }
        }
        match best {
            Some((v, picks)) => Sequenced::Best(v, picks),
            None => Sequenced::None,
        }
    }

    /// Whether the time order `perm` of `people` is allowed by the links, and whether
    /// neighbours' separations imply every other pair's travel.
    fn order_shape(&self, d: usize, people: &[usize], perm: &[usize]) -> Shape {
        let at = |i: usize| people[perm[i]];
        let link = |x: usize, y: usize| {
            self.links
                .iter()
                .find(|l| l.before == x && l.after == y)
                .copied()
        };
        for i in 0..perm.len() {
            for j in i + 1..perm.len() {
                if link(at(j), at(i)).is_some() {
                    return Shape::Invalid;
                }
            }
        }
        // A link between non-neighbours is left to the caller: the chain leaves it out (a
        // lower bound), and a pattern whose days break it is split on time windows. Travel
        // between non-neighbours must follow from the neighbours': for every choice of
        // sites along the way, the travel and links' gaps between neighbours plus the
        // appointments between cover the direct travel (as they do whenever travel times
        // keep the triangle inequality).
        let sites = |i: usize| bits64(self.reqs[at(i)].sites[d]);
        for i in 0..perm.len() {
            for first in sites(i) {
                // The least separation from the end of position i at `first` to the start
                // of each later position, per site there.
                let mut reach: Vec<(usize, i64)> = vec![(first, 0)];
                for j in i + 1..perm.len() {
                    let gap = link(at(j - 1), at(j)).map_or(0, |l| l.min_gap);
                    let between = if j > i + 1 {
                        i64::from(self.reqs[at(j - 1)].min_duration)
                    } else {
                        0
                    };
                    reach = sites(j)
                        .map(|c| {
                            let least = reach
                                .iter()
                                .map(|&(b, sep)| {
                                    sep + between + i64::from(self.travel[b][c].max(gap))
                                })
                                .min()
                                .unwrap_or(i64::MAX);
                            (c, least)
                        })
                        .collect();
                    if j > i + 1
                        && reach
                            .iter()
                            .any(|&(c, sep)| sep < i64::from(self.travel[first][c]))
                    {
                        return Shape::Tangled;
                    }
                }
            }
        }
        Shape::Chain
    }

    /// The best chain of options in the order `perm` (each list sorted by end): cost plus
    /// waiting between neighbours, each starting after the one before ends plus travel
    /// and the link's gap (links between non-neighbours left out).
    fn chain(
        &self,
        people: &[usize],
        lists: &[Vec<Cand>],
        perm: &[usize],
    ) -> Option<(f64, Vec<(usize, Cand)>)> {
        // value[i][c]: the best cost of the chain up to position i ending with option c of
        // its list (infinite when none); from[i][c]: the option of position i - 1 behind it.
        let mut value: Vec<Vec<f64>> = Vec::with_capacity(perm.len());
        let mut from: Vec<Vec<usize>> = Vec::with_capacity(perm.len());
        value.push(lists[perm[0]].iter().map(|c| c.cost).collect());
        from.push(vec![usize::MAX; lists[perm[0]].len()]);
        for i in 1..perm.len() {
            let (prev, cur) = (&lists[perm[i - 1]], &lists[perm[i]]);
            let (x, y) = (people[perm[i - 1]], people[perm[i]]);
            let link = self
                .links
                .iter()
                .find(|l| l.before == x && l.after == y)
                .copied();
            // Per site of the earlier one: (end, value - idle * end, index) by end, with a
            // running minimum.
            let mut by_site: Vec<(u16, Vec<Behind>)> = Vec::new();
            for (ci, c) in prev.iter().enumerate() {
                let v = value[i - 1][ci];
                if !v.is_finite() {
                    continue;
                }
                let entry = (c.end, v - self.idle * f64::from(c.end), ci);
                match by_site.iter_mut().find(|s| s.0 == c.site) {
                    Some(s) => s.1.push(entry),
                    None => by_site.push((c.site, vec![entry])),
                }
            }
            if by_site.is_empty() {
                return None;
            }
            let running: Vec<Vec<(f64, usize)>> = by_site
                .iter()
                .map(|(_, list)| {
                    let mut best = (f64::INFINITY, usize::MAX);
                    list.iter()
                        .map(|&(_, v, ci)| {
                            if v < best.0 {
                                best = (v, ci);
                            }
                            best
                        })
                        .collect()
                })
                .collect();
            let mut values = vec![f64::INFINITY; cur.len()];
            let mut froms = vec![usize::MAX; cur.len()];
            for (ci, c) in cur.iter().enumerate() {
                let mut best = (f64::INFINITY, usize::MAX);
                for (s, (site, list)) in by_site.iter().enumerate() {
                    let sep = self.travel[*site as usize][c.site as usize]
                        .max(link.map_or(0, |l| l.min_gap));
                    let latest = c.start - sep;
                    let n = list.partition_point(|e| e.0 <= latest);
                    if n == 0 {
                        continue;
                    }
                    let found = match link.and_then(|l| l.max_gap) {
                        // A longest gap as well: the ends within it, scanned.
                        Some(g) => list[..n].iter().filter(|e| c.start - e.0 <= g).fold(
                            (f64::INFINITY, usize::MAX),
                            |b, e| {
                                if e.1 < b.0 {
                                    (e.1, e.2)
                                } else {
                                    b
                                }
                            },
                        ),
                        None => running[s][n - 1],
                    };
                    if found.0 < best.0 {
                        best = found;
                    }
                }
                if best.0.is_finite() {
                    values[ci] = c.cost + self.idle * f64::from(c.start) + best.0;
                    froms[ci] = best.1;
                }
            }
            value.push(values);
            from.push(froms);
        }
        let last = perm.len() - 1;
        let (mut ci, v) = value[last]
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .map(|(ci, &v)| (ci, v))?;
        let mut picks = Vec::with_capacity(perm.len());
        for i in (0..perm.len()).rev() {
            picks.push((people[perm[i]], lists[perm[i]][ci]));
            ci = from[i][ci];
        }
        picks.sort_by_key(|p| p.0);
        Some((v, picks))
    }

    /// Day `d`'s best sequence by a plain depth-first search over the members' options,
    /// cheapest first: for days the sequencing does not cover.
    fn search_day(
        &mut self,
        d: usize,
        members: u32,
        in_person: u32,
        windows: &[Window],
    ) -> Option<DayPlan> {
        let mut who: Vec<(usize, usize)> = bits(members)
            .map(|j| {
                let mode = if in_person & (1 << j) != 0 {
                    IN_PERSON
                } else {
                    TELEHEALTH
                };
                (j, d * 2 + mode)
            })
            .collect();
        who.sort_by_key(|&(j, slot)| (self.reqs[j].cands[slot].len(), j));
        let lists: Vec<Vec<Cand>> = who
            .iter()
            .map(|&(j, slot)| {
                self.reqs[j].cands[slot]
                    .iter()
                    .filter(|c| windows[j].admits(c))
                    .copied()
                    .collect()
            })
            .collect();
        let later: Vec<f64> = (0..lists.len())
            .map(|i| {
                lists[i + 1..]
                    .iter()
                    .map(|l| l.first().map_or(f64::INFINITY, |c| c.cost))
                    .sum()
            })
            .collect();
        let trip = if in_person != 0 { self.trip } else { 0.0 };
        let mut day = DaySearch {
            who: &who,
            lists: &lists,
            later: &later,
            trip,
            best: None,
            chosen: Vec::with_capacity(who.len()),
            nodes: 0,
        };
        let limit = self.node_limit.saturating_sub(self.nodes);
        let complete = day.descend(self, 0.0, limit);
        self.nodes += day.nodes;
        if !complete {
            self.gave_up = true;
            return None;
        }
        day.best
    }
}

/// A plain search of one day.
struct DaySearch<'a> {
    who: &'a [(usize, usize)],
    lists: &'a [Vec<Cand>],
    /// Per member: the least the members after it cost.
    later: &'a [f64],
    trip: f64,
    best: Option<DayPlan>,
    chosen: Vec<(usize, Cand)>,
    nodes: usize,
}

impl DaySearch<'_> {
    /// False when out of `limit` nodes.
    fn descend(&mut self, pricing: &Pricing, cost: f64, limit: usize) -> bool {
        let i = self.chosen.len();
        let best = self.best.as_ref().map_or(f64::INFINITY, |p| p.value);
        if i == self.who.len() {
            let mut spans: Vec<(i32, i32)> = self
                .chosen
                .iter()
                .filter(|(_, c)| c.in_person())
                .map(|(_, c)| (c.start, c.end))
                .collect();
            spans.sort_unstable();
            let idle: i32 = spans.windows(2).map(|p| (p[1].0 - p[0].1).max(0)).sum();
            let value = cost + self.trip + pricing.idle * f64::from(idle);
            if value < best - EPS {
                let mut picks = self.chosen.clone();
                picks.sort_by_key(|p| p.0);
                self.best = Some(DayPlan { value, picks });
            }
            return true;
        }
        let j = self.who[i].0;
        for c in &self.lists[i] {
            let best = self.best.as_ref().map_or(f64::INFINITY, |p| p.value);
            if cost + c.cost + self.later[i] + self.trip >= best - EPS {
                break;
            }
            if !self
                .chosen
                .iter()
                .all(|&(u, x)| pricing.compatible(j, c, u, &x))
            {
                continue;
            }
            self.nodes += 1;
            if self.nodes > limit {
                return false;
            }
            self.chosen.push((j, *c));
            let complete = self.descend(pricing, cost + c.cost, limit);
            self.chosen.pop();
            if !complete {
                return false;
            }
        }
        true
    }
}

enum Sequenced {
    /// The best value (options and waiting) and options.
    Best(f64, Vec<(usize, Cand)>),
    /// No sequence.
    None,
    /// An order whose constraints between non-neighbours the chain cannot see.
    Tangled,
}

enum Shape {
    /// A link forbids the order.
    Invalid,
    /// Neighbours' separations imply every other pair's.
    Chain,
    Tangled,
}

/// Splits the window set `windows` on a link broken by `b` (before) and `a` (after) into
/// two that both exclude the pair and together keep every choice that holds the link.
fn split(windows: &[Window], link: Link, b: &Cand, a: &Cand) -> (Vec<Window>, Vec<Window>) {
    let (mut left, mut right) = (windows.to_vec(), windows.to_vec());
    if a.start - b.end < link.min_gap {
        // Either the earlier one ends before it does now, or the later one starts at
        // least the gap after that end.
        let t = b.end;
        left[link.before].end_hi = left[link.before].end_hi.min(t - 1);
        right[link.before].end_lo = right[link.before].end_lo.max(t);
        right[link.after].start_lo = right[link.after].start_lo.max(t + link.min_gap);
    } else {
        // Too far apart: either the later one starts before it does now, or the earlier
        // one ends within the longest gap of that start.
        let g = link
            .max_gap
            .expect("a link broken by too short a gap is handled above");
        let t = a.start;
        left[link.after].start_hi = left[link.after].start_hi.min(t - 1);
        right[link.after].start_lo = right[link.after].start_lo.max(t);
        right[link.before].end_lo = right[link.before].end_lo.max(t - g);
    }
    (left, right)
}

fn bits(mask: u32) -> impl Iterator<Item = usize> {
    (0..32).filter(move |&i| mask & (1 << i) != 0)
}

fn bits64(mask: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |&i| mask & (1 << i) != 0)
}

/// The next permutation in lexicographic order; false after the last.
fn next_permutation(p: &mut [usize]) -> bool {
    let Some(i) = (1..p.len()).rev().find(|&i| p[i - 1] < p[i]) else {
        return false;
    };
    let j = (i..p.len())
        .rev()
        .find(|&j| p[j] > p[i - 1])
        .expect("p[i] qualifies");
    p.swap(i - 1, j);
    p[i..].reverse();
    true
}
