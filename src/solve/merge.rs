//! Putting together what parallel searches of one component found.
//!
//! On a large component, each parallel search moves only its own share of the
//! component's units, dealt at random every round (see `portfolio`). A unit is a set of
//! patients joined by links (precedences and same-day bundles between their requests;
//! usually one patient): the objective is a sum over units, and units interact only
//! through the time and caps of providers and resources. So what one search did to its
//! units can be carried into another's schedule wherever its bookings still fit, and
//! there it gains exactly what it gained in its own search.

use std::collections::BTreeMap;

use petgraph::unionfind::UnionFind;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::construct;
use super::state::State;

/// The units of a component: for each, the requests it holds.
pub struct Units {
    members: Vec<Vec<usize>>,
}

impl Units {
    /// The units of component `comp` (its patients joined by the links among its requests).
    pub fn new(state: &State, comp: &[usize]) -> Self {
        let problem = state.problem;
        let mut joined = UnionFind::<usize>::new(problem.patients.len());
        let patient = |r: usize| problem.requests[r].patient;
        for p in &problem.precedences {
            joined.union(patient(p.before), patient(p.after));
        }
        for group in &problem.same_day {
            for pair in group.windows(2) {
                joined.union(patient(pair[0]), patient(pair[1]));
            }
        }
        let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &r in comp {
            by_root
                .entry(joined.find_mut(patient(r)))
                .or_default()
                .push(r);
        }
        Units {
            members: by_root.into_values().collect(),
        }
    }

    /// Deals the units at random into `parts` shares: for each share, which requests (of
    /// the `requests` in the problem) it may move.
    pub fn deal(&self, parts: usize, requests: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<bool>> {
        let mut shares = vec![vec![false; requests]; parts];
        for members in &self.members {
            let share = &mut shares[rng.gen_range(0..parts)];
            for &r in members {
                share[r] = true;
            }
        }
        shares
    }

    /// Whether any request of unit `u` is booked differently in `a` and `b`.
    fn changed(&self, u: usize, a: &State, b: &State) -> bool {
        self.members[u].iter().any(|&r| a.assign[r] != b.assign[r])
    }
}

/// A provider's (or, after the providers, a resource's) calendar on one day.
type Calendar = (usize, u16);

/// Carries into `kept` what `other` changed in the units that `kept` still has as in
/// `start` (both searches began from `start`). Changes go over in clusters: a unit whose
/// new booking takes time another unit held in `start` moved with it, so the two go
/// together (a unit moved away only to make room costs more on its own). A cluster is
/// carried when none of its units was changed in `kept`, all of its new bookings still
/// fit, and it lowers the total. Returns the units carried.
pub fn carry_over(kept: &mut State, start: &State, other: &State, units: &Units) -> usize {
    let n = units.members.len();
    let moved: Vec<usize> = (0..n).filter(|&u| units.changed(u, other, start)).collect();
    // Where each moved unit was booked in `start`: (provider or resource, day) -> times.
    let np = start.problem.providers.len();
    let mut held: BTreeMap<Calendar, Vec<(i32, i32, usize)>> = BTreeMap::new();
    let bookings = |state: &State, r: usize| -> Vec<(Calendar, (i32, i32))> {
        let Some(o) = state.placed(r) else {
            return Vec::new();
        };
        std::iter::once(o.provider as usize)
            .chain(o.resources.iter().map(|&x| np + x as usize))
            .map(|k| ((k, o.day), (o.start, o.end)))
            .collect()
    };
    for (k, &u) in moved.iter().enumerate() {
        for &r in &units.members[u] {
            for (key, (s, e)) in bookings(start, r) {
                held.entry(key).or_default().push((s, e, k));
            }
        }
    }
    let mut together = UnionFind::<usize>::new(moved.len());
    for (k, &u) in moved.iter().enumerate() {
        for &r in &units.members[u] {
            for (key, (s, e)) in bookings(other, r) {
                for &(s2, e2, k2) in held.get(&key).into_iter().flatten() {
                    if s < e2 && s2 < e {
                        together.union(k, k2);
                    }
                }
            }
        }
    }
    let mut clusters: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (k, &u) in moved.iter().enumerate() {
        clusters.entry(together.find_mut(k)).or_default().push(u);
    }
    let mut carried = 0;
    for cluster in clusters.into_values() {
        if cluster.iter().any(|&u| units.changed(u, kept, start)) {
            continue;
        }
        let requests: Vec<usize> = cluster
            .iter()
            .flat_map(|&u| units.members[u].iter().copied())
            .collect();
        let before = kept.total();
        for &r in &requests {
            kept.remove(r);
        }
        if construct::book(kept, &requests, &|r| other.assign[r])
            && kept.total() < before
            && kept.settled(&requests)
        {
            carried += cluster.len();
            continue;
        }
        // Back to the start's weeks, which fit: nothing else changed since they left.
        for &r in &requests {
            kept.remove(r);
        }
        let restored = construct::book(kept, &requests, &|r| start.assign[r]);
        debug_assert!(restored && kept.total() == before);
    }
    carried
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use rand::SeedableRng;

    use super::*;
    use crate::solve::domain::Domains;
    use crate::solve::lns;
    use crate::solve::test_caseloads::{caseload_with, placeable};

    /// Every booking of `state` placed again on an empty schedule, prerequisites first:
    /// each must fit, and the total must come out the same.
    fn rebuilt_total(state: &State) -> i64 {
        let mut fresh = State::new(state.problem, state.domains);
        let all: Vec<usize> = (0..state.assign.len()).collect();
        for r in construct::order(&fresh, &all) {
            if let Some(oi) = state.assign[r] {
                let pending = |x: usize| state.assign[x].is_some() && fresh.assign[x].is_none();
                assert!(fresh.fits(r, oi, &pending), "request {r} no longer fits");
                fresh.place(r, oi);
            }
        }
        assert!(fresh.settled(&all));
        fresh.total()
    }

    /// A search of `share` from `start` for a fixed number of repairs.
    fn searched<'a>(start: &State<'a>, comp: &[usize], share: &[bool], seed: u64) -> State<'a> {
        let cancel = AtomicBool::new(false);
        let mut state = start.clone();
        let budget = lns::Budget {
            deadline: Instant::now() + Duration::from_secs(3600),
            max_iterations: 300,
            stall: u64::MAX,
            cancel: &cancel,
            stop: None,
            target: i64::MIN,
            deterministic: true,
            repair_options: 60,
            movable: Some(share),
            guide: None,
            anneal: None,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        lns::improve(&mut state, comp, &mut rng, budget, &|_, _| {});
        state
    }

    #[test]
    fn what_each_share_found_adds_up() {
        // Without caps a unit's new week can only clash in time, which the clusters see:
        // what one search found is then carried whole.
        let problem = caseload_with(40, 3, 15, |input| {
            for p in &mut input.providers {
                p.max_per_day = None;
            }
        });
        let domains = Domains::build(&problem);
        let comp = placeable(&domains);
        let mut start = State::new(&problem, &domains);
        construct::construct(&mut start, &comp);
        let units = Units::new(&start, &comp);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let shares = units.deal(2, problem.requests.len(), &mut rng);
        let first = searched(&start, &comp, &shares[0], 1);
        let second = searched(&start, &comp, &shares[1], 2);
        assert!(first.total() < start.total() && second.total() < start.total());
        // Each search moved only its own share.
        for (r, was) in start.assign.iter().enumerate() {
            assert!(shares[0][r] || first.assign[r] == *was);
            assert!(shares[1][r] || second.assign[r] == *was);
        }

        // Into an unchanged schedule, the other search's work comes over whole.
        let mut kept = start.clone();
        carry_over(&mut kept, &start, &second, &units);
        assert_eq!(kept.total(), second.total());
        assert_eq!(rebuilt_total(&kept), kept.total());

        // Into the first search's schedule: a valid schedule, better than it by what was
        // carried, or the same when nothing fits beside what it found (both searches may
        // have taken the same free time).
        let mut kept = first.clone();
        let carried = carry_over(&mut kept, &start, &second, &units);
        if carried == 0 {
            assert_eq!(kept.assign, first.assign);
        } else {
            assert!(kept.total() < first.total());
        }
        assert_eq!(rebuilt_total(&kept), kept.total());
    }
}
