//! The exact repair of a small neighbourhood by depth-first branch and bound, everything
//! else fixed: the same model as the subset MILP's [`Form::Repair`](super::milp::Form)
//! (every rule, every cost but waiting), without building one.
//!
//! The search's repairs are small (a dozen requests, at most a few hundred options that fit
//! the fixed part) and there are hundreds of thousands of them; building and factorising a
//! MILP for each took most of the search's time. Here the options that exclude each other
//! (same provider or resource at once, the same patient at once or without the travel
//! between, a link's gap, a bundle's day) are listed once as a conflict graph; the search
//! decides the requests one by one, fewest options first and prerequisites before what
//! follows them, and prunes a branch when its cost plus, for every request still open, the
//! cheaper of leaving it unplaced and its cheapest option still free, cannot beat the best
//! so far. The previous booking of the neighbourhood is the first incumbent, so a repair
//! never returns anything worse; the first different schedule of equal cost is taken, so the
//! search still drifts across plateaus.

use super::milp::{candidates, Candidates};
use super::state::{gap_ok, unplaced_weight, State};

/// One candidate option, flattened over the free requests.
struct Cand {
    /// Index of its request in `free`.
    req: usize,
    oi: u32,
    cost: i64,
    day: u16,
    start: i32,
    end: i32,
    site: Option<u16>,
    /// Local index of its provider-day.
    provider_day: usize,
    /// Local index of its patient-day.
    patient_day: usize,
}

/// A local patient-day: what the fixed part leaves of it.
struct PatientDay {
    /// Appointments still allowed that day.
    left: i64,
    /// Whether a fixed in-person appointment already makes it a trip.
    trip: bool,
    /// Local index of its patient.
    patient: usize,
}

/// The search's state.
struct Search<'a> {
    cands: Vec<Cand>,
    /// Conflicts of each candidate, as a range of `edges`.
    conflict_ranges: Vec<(u32, u32)>,
    edges: Vec<u32>,
    /// Per free request: its candidates, cheapest first.
    by_req: Vec<Vec<u32>>,
    unplaced: Vec<i64>,
    forced: &'a [bool],
    /// Per free request: the free requests it must be placed with or left with (bundles),
    /// and its prerequisites among the free requests.
    tied: Vec<Vec<usize>>,
    prereqs: Vec<Vec<usize>>,
    /// Decision order.
    order: Vec<usize>,
    trip_cost: i64,
    provider_left: Vec<i64>,
    patient_days: Vec<PatientDay>,
    trips_left: Vec<i64>,
    // Changing state.
    blocked: Vec<u32>,
    provider_used: Vec<i64>,
    day_used: Vec<i64>,
    in_person: Vec<u32>,
    trips_used: Vec<i64>,
    /// Per free request: undecided (`None`), unplaced (`Some(None)`) or a candidate.
    chosen: Vec<Option<Option<u32>>>,
    cost: i64,
    best: i64,
    best_choice: Option<Vec<Option<u32>>>,
    nodes: u64,
    node_limit: u64,
    /// Per depth, the buffer of that node's values (cost, candidate): a node's values are
    /// gathered anew at every visit, and a repair visits up to its node limit.
    values_at: Vec<Vec<(i64, Option<u32>)>>,
}

/// What a repair chose.
#[derive(Debug, Clone)]
pub struct Repaired {
    /// An option (or none) per free request, in the order given.
    pub choice: Vec<Option<u32>>,
    /// Its cost in the repair model (every cost but waiting) over the free requests.
    pub cost: i64,
    /// Whether the search ended within its node limit: the choice is then optimal.
    pub optimal: bool,
}

/// Repairs `free` (all unplaced in `state`; `old` is what they held) exactly within
/// `node_limit` search nodes: the choice of an option (or none) per free request, no worse
/// than `old` in the repair model. `None` when more than `max_candidates` options fit or a
/// request that must be placed has none.
pub fn repair(
    state: &State,
    free: &[usize],
    old: &[Option<u32>],
    max_candidates: usize,
    node_limit: u64,
) -> Option<Repaired> {
    let problem = state.problem;
    let subset: Candidates = candidates(state, free, max_candidates)?;
    let (slot, cand) = (&subset.slot, &subset.cand);

    // Local provider-days, patient-days and patients with what the fixed part leaves.
    let mut provider_keys: Vec<(u32, u16)> = Vec::new();
    let mut provider_left = Vec::new();
    let mut day_keys: Vec<(usize, u16)> = Vec::new();
    let mut patient_days: Vec<PatientDay> = Vec::new();
    let mut patient_keys: Vec<usize> = Vec::new();
    let mut trips_left = Vec::new();
    let mut cands: Vec<Cand> = Vec::with_capacity(cand.iter().map(Vec::len).sum());
    for (i, &r) in free.iter().enumerate() {
        let q = problem.requests[r].patient;
        let patient = &problem.patients[q];
        let pl = match patient_keys.iter().position(|&x| x == q) {
            Some(k) => k,
            None => {
                patient_keys.push(q);
                trips_left.push(
                    patient
                        .max_trips
                        .map_or(i64::MAX, |m| m as i64 - state.trips(q) as i64),
                );
                patient_keys.len() - 1
            }
        };
        for &oi in &cand[i] {
            let o = state.opt(r, oi);
            let pk = (o.provider, o.day);
            let provider_day = match provider_keys.iter().position(|&x| x == pk) {
                Some(k) => k,
                None => {
                    provider_keys.push(pk);
                    provider_left.push(problem.providers[o.provider as usize].max_per_day.map_or(
                        i64::MAX,
                        |cap| {
                            cap as i64
                                - state
                                    .provider_day(o.provider as usize, o.day as usize)
                                    .len() as i64
                        },
                    ));
                    provider_keys.len() - 1
                }
            };
            let dk = (q, o.day);
            let patient_day = match day_keys.iter().position(|&x| x == dk) {
                Some(k) => k,
                None => {
                    let fixed = state.patient_day(q, o.day as usize);
                    day_keys.push(dk);
                    patient_days.push(PatientDay {
                        left: patient
                            .max_per_day
                            .map_or(i64::MAX, |cap| cap as i64 - fixed.len() as i64),
                        trip: fixed
                            .iter()
                            .any(|&x| state.placed(x as usize).is_some_and(|p| p.in_person())),
                        patient: pl,
                    });
                    day_keys.len() - 1
                }
            };
            cands.push(Cand {
                req: i,
                oi,
                cost: o.cost,
                day: o.day,
                start: o.start,
                end: o.end,
                site: o.site,
                provider_day,
                patient_day,
            });
        }
    }

    // Conflicts between candidates of different requests.
    let n = cands.len();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut by_day: Vec<u32> = (0..n as u32).collect();
    by_day.sort_by_key(|&c| cands[c as usize].day);
    let mut lo = 0;
    while lo < n {
        let day = cands[by_day[lo] as usize].day;
        let hi = lo + by_day[lo..].partition_point(|&c| cands[c as usize].day == day);
        for a in lo..hi {
            let (ca, x) = (by_day[a], &cands[by_day[a] as usize]);
            for &cb in &by_day[a + 1..hi] {
                let y = &cands[cb as usize];
                if x.req == y.req {
                    continue;
                }
                let overlap = x.start < y.end && y.start < x.end;
                let clash = if x.patient_day == y.patient_day {
                    let sep = match (x.site, y.site) {
                        (Some(s), Some(t)) => problem.travel[s as usize][t as usize],
                        _ => 0,
                    };
                    !(x.end + sep <= y.start || y.end + sep <= x.start)
                } else {
                    false
                };
                let shared = overlap
                    && (x.provider_day == y.provider_day || {
                        let (ox, oy) = (state.opt(free[x.req], x.oi), state.opt(free[y.req], y.oi));
                        ox.resources.iter().any(|u| oy.resources.contains(u))
                    });
                if clash || shared {
                    pairs.push((ca, cb));
                }
            }
        }
        lo = hi;
    }
    let mut by_req: Vec<Vec<u32>> = vec![Vec::new(); free.len()];
    for (c, x) in cands.iter().enumerate() {
        by_req[x.req].push(c as u32);
    }
    let mut prereqs: Vec<Vec<usize>> = vec![Vec::new(); free.len()];
    for p in &subset.links {
        let (bi, ai) = (slot[p.before], slot[p.after]);
        prereqs[ai].push(bi);
        for &cb in &by_req[bi] {
            for &ca in &by_req[ai] {
                let (b, a) = (&cands[cb as usize], &cands[ca as usize]);
                if !gap_ok(b.end, a.start, p.min_gap, p.max_gap) {
                    pairs.push((cb, ca));
                }
            }
        }
    }
    let mut tied: Vec<Vec<usize>> = vec![Vec::new(); free.len()];
    for &g in &subset.groups {
        let inside: Vec<usize> = problem.same_day[g]
            .iter()
            .map(|&m| slot[m])
            .filter(|&i| i != usize::MAX)
            .collect();
        for (k, &a) in inside.iter().enumerate() {
            for &b in &inside[k + 1..] {
                tied[a].push(b);
                tied[b].push(a);
                for &ca in &by_req[a] {
                    for &cb in &by_req[b] {
                        if cands[ca as usize].day != cands[cb as usize].day {
                            pairs.push((ca, cb));
                        }
                    }
                }
            }
        }
    }
    // Adjacency lists, both directions.
    let mut degree = vec![0u32; n + 1];
    for &(a, b) in &pairs {
        degree[a as usize] += 1;
        degree[b as usize] += 1;
    }
    let mut conflict_ranges = Vec::with_capacity(n);
    let mut at = 0u32;
    for &d in &degree[..n] {
        conflict_ranges.push((at, at));
        at += d;
    }
    let mut edges = vec![0u32; at as usize];
    for &(a, b) in &pairs {
        for (x, y) in [(a, b), (b, a)] {
            let range = &mut conflict_ranges[x as usize];
            edges[range.1 as usize] = y;
            range.1 += 1;
        }
    }
    for list in &mut by_req {
        list.sort_by_key(|&c| (cands[c as usize].cost, c));
    }

    // Fewest options first (the heavier request on ties), prerequisites before what
    // follows them.
    let unplaced: Vec<i64> = free.iter().map(|&r| unplaced_weight(problem, r)).collect();
    let mut order = Vec::with_capacity(free.len());
    let mut done = vec![false; free.len()];
    while order.len() < free.len() {
        let next = (0..free.len())
            .filter(|&i| !done[i] && prereqs[i].iter().all(|&b| done[b]))
            .min_by_key(|&i| (by_req[i].len(), -unplaced[i], i))
            .expect("links among free requests have no cycle");
        done[next] = true;
        order.push(next);
    }

    let mut search = Search {
        blocked: vec![0; n],
        provider_used: vec![0; provider_left.len()],
        day_used: vec![0; patient_days.len()],
        in_person: vec![0; patient_days.len()],
        trips_used: vec![0; trips_left.len()],
        chosen: vec![None; free.len()],
        cost: 0,
        best: i64::MAX,
        best_choice: None,
        nodes: 0,
        node_limit,
        values_at: vec![Vec::new(); free.len()],
        cands,
        conflict_ranges,
        edges,
        by_req,
        unplaced,
        forced: &subset.forced,
        tied,
        prereqs,
        order,
        trip_cost: problem.weights.trip,
        provider_left,
        patient_days,
        trips_left,
    };
    // The old booking, priced by the same rules, is the incumbent to match.
    let old_cost = search.price(old);
    if let Some(cost) = old_cost {
        search.best = cost.saturating_add(1);
    }
    search.dfs(0);
    let optimal = search.nodes < node_limit;
    match search.best_choice {
        Some(choice) => Some(Repaired {
            choice,
            cost: search.best,
            optimal,
        }),
        // Nothing matched the old booking within the limit (or, proven, nothing exists
        // when the old booking was not among the candidates).
        None => old_cost.map(|cost| Repaired {
            choice: old.to_vec(),
            cost,
            optimal,
        }),
    }
}

impl Search<'_> {
    /// The cost of a full choice in the repair model, or `None` when it uses an option that
    /// is not a candidate.
    fn price(&self, choice: &[Option<u32>]) -> Option<i64> {
        let mut total = 0;
        let mut trips = vec![false; self.patient_days.len()];
        for (i, c) in choice.iter().enumerate() {
            match c {
                None => total += self.unplaced[i],
                Some(oi) => {
                    let &c = self.by_req[i]
                        .iter()
                        .find(|&&c| self.cands[c as usize].oi == *oi)?;
                    let x = &self.cands[c as usize];
                    total += x.cost;
                    let pd = x.patient_day;
                    if x.site.is_some() && !self.patient_days[pd].trip && !trips[pd] {
                        trips[pd] = true;
                        total += self.trip_cost;
                    }
                }
            }
        }
        Some(total)
    }

    /// Cost of what is decided plus, for every request from `k` on, the cheaper of leaving
    /// it unplaced and its cheapest candidate not in conflict with what is decided.
    fn bound(&self, k: usize) -> i64 {
        let mut lb = self.cost;
        for &i in &self.order[k..] {
            let free_cand = self.by_req[i]
                .iter()
                .find(|&&c| self.blocked[c as usize] == 0)
                .map(|&c| self.cands[c as usize].cost);
            let leave = (!self.forced[i]).then_some(self.unplaced[i]);
            match (free_cand, leave) {
                (Some(a), Some(b)) => lb += a.min(b),
                (Some(a), None) | (None, Some(a)) => lb += a,
                (None, None) => return i64::MAX,
            }
        }
        lb
    }

    fn dfs(&mut self, k: usize) {
        self.nodes += 1;
        if k == self.order.len() {
            if self.cost < self.best {
                self.best = self.cost;
                self.best_choice = Some(
                    self.chosen
                        .iter()
                        .map(|c| c.flatten().map(|c| self.cands[c as usize].oi))
                        .collect(),
                );
            }
            return;
        }
        if self.bound(k) >= self.best {
            return;
        }
        let i = self.order[k];
        // What ties and prerequisites decided so far allow.
        let decided = |j: usize| self.chosen[j];
        let must_leave = self.tied[i]
            .iter()
            .chain(&self.prereqs[i])
            .any(|&j| decided(j) == Some(None));
        let must_place = self.tied[i]
            .iter()
            .any(|&j| matches!(decided(j), Some(Some(_))));
        if must_leave && must_place {
            return;
        }
        let mut values = std::mem::take(&mut self.values_at[k]);
        values.clear();
        if !must_leave {
            for &c in &self.by_req[i] {
                if self.blocked[c as usize] > 0 {
                    continue;
                }
                let x = &self.cands[c as usize];
                let pd = &self.patient_days[x.patient_day];
                if self.provider_used[x.provider_day] >= self.provider_left[x.provider_day]
                    || self.day_used[x.patient_day] >= pd.left
                {
                    continue;
                }
                let new_trip = x.site.is_some() && !pd.trip && self.in_person[x.patient_day] == 0;
                if new_trip && self.trips_used[pd.patient] >= self.trips_left[pd.patient] {
                    continue;
                }
                let extra = if new_trip { self.trip_cost } else { 0 };
                values.push((x.cost + extra, Some(c)));
            }
        }
        if !self.forced[i] && !must_place {
            values.push((self.unplaced[i], None));
        }
        values.sort_by_key(|&(cost, c)| (cost, c.map_or(u32::MAX, |c| c)));
        for &(marginal, value) in &values {
            if self.cost + marginal >= self.best || self.nodes >= self.node_limit {
                break;
            }
            self.apply(i, value, marginal, true);
            self.dfs(k + 1);
            self.apply(i, value, marginal, false);
        }
        self.values_at[k] = values;
    }

    /// Books (`on`) or takes back the choice `value` of request `i`.
    fn apply(&mut self, i: usize, value: Option<u32>, marginal: i64, on: bool) {
        let step: i64 = if on { 1 } else { -1 };
        self.cost += step * marginal;
        self.chosen[i] = on.then_some(value);
        let Some(c) = value else {
            return;
        };
        let x = &self.cands[c as usize];
        let (pd, prov, ip) = (x.patient_day, x.provider_day, x.site.is_some());
        let (lo, hi) = self.conflict_ranges[c as usize];
        for &y in &self.edges[lo as usize..hi as usize] {
            if on {
                self.blocked[y as usize] += 1;
            } else {
                self.blocked[y as usize] -= 1;
            }
        }
        self.provider_used[prov] += step;
        self.day_used[pd] += step;
        if ip {
            let day = &self.patient_days[pd];
            if !day.trip && ((on && self.in_person[pd] == 0) || (!on && self.in_person[pd] == 1)) {
                self.trips_used[day.patient] += step;
            }
            if on {
                self.in_person[pd] += 1;
            } else {
                self.in_person[pd] -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::solve::construct;
    use crate::solve::domain::Domains;
    use crate::solve::milp::{self, Form, Limits};
    use crate::solve::test_caseloads::caseload;

    /// On neighbourhoods of constructed schedules (a provider-day's bookings and one
    /// patient's week), the branch and bound finds the subset MILP's optimum, and what it
    /// chooses books cleanly at the cost it reports.
    #[test]
    fn finds_the_repair_milps_optimum() {
        let mut compared = 0;
        for seed in 1..=3 {
            let problem = caseload(40, seed, 15);
            let domains = Domains::build(&problem);
            let mut state = State::new(&problem, &domains);
            let all: Vec<usize> = (0..problem.requests.len()).collect();
            construct::construct(&mut state, &all);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..40 {
                let r = rng.gen_range(0..all.len());
                let mut free: Vec<usize> = match state.placed(r) {
                    Some(o) => state
                        .provider_day(o.provider as usize, o.day as usize)
                        .iter()
                        .map(|t| t.2 as usize)
                        .collect(),
                    None => vec![r],
                };
                let q = rng.gen_range(0..problem.patients.len());
                free.extend(all.iter().filter(|&&x| problem.requests[x].patient == q));
                free.sort_unstable();
                free.dedup();
                free.shuffle(&mut rng);
                free.truncate(10);
                free.sort_unstable();
                state.with_dependants(&mut free);
                let old: Vec<Option<u32>> = free.iter().map(|&x| state.assign[x]).collect();
                let mut scratch = state.clone();
                for &x in &free {
                    scratch.remove(x);
                }
                let idle_blind =
                    |s: &State| s.total() - crate::solve::output::objective_terms(s).idle;
                let before = idle_blind(&scratch);
                let weights: i64 = free.iter().map(|&x| unplaced_weight(&problem, x)).sum();
                let Some(found) = repair(&scratch, &free, &old, 120, 10_000_000) else {
                    continue;
                };
                assert!(found.optimal, "10 requests finish within the node limit");
                let exact = milp::solve_subset(
                    &scratch,
                    &free,
                    Some(&old),
                    Form::Repair,
                    Limits::time(60.0),
                    120,
                )
                .expect("the MILP solves what the branch and bound did");
                assert!(exact.optimal);
                assert_eq!(
                    found.cost,
                    exact.objective.round() as i64,
                    "seed {seed}, neighbourhood {free:?}"
                );
                let choice = found.choice.clone();
                assert!(construct::book(&mut scratch, &free, &|x| {
                    choice[free.iter().position(|&y| y == x).expect("in free")]
                }));
                assert!(scratch.settled(&free));
                // Waiting is the one cost the repair does not count.
                assert_eq!(idle_blind(&scratch) - before, found.cost - weights);
                compared += 1;
            }
        }
        assert!(compared >= 60, "only {compared} neighbourhoods compared");
    }
}
