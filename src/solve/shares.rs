//! The shares of a large component that its parallel searches each move.
//!
//! On a large component, each search moves only its own share of the component's units,
//! dealt at random every round (see `portfolio`), and all of them walk one trajectory
//! (see `trajectory`). A unit is a set of patients joined by links (precedences and
//! same-day bundles between their requests; usually one patient): what depends on a moved
//! request is in its unit, so a search never needs to move another share's requests, and
//! searches of different shares meet only in the time and caps of providers and resources.

use std::collections::BTreeMap;

use petgraph::unionfind::UnionFind;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

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
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use rand::SeedableRng;

    use super::*;
    use crate::solve::construct;
    use crate::solve::domain::Domains;
    use crate::solve::lns;
    use crate::solve::test_caseloads::{caseload, placeable, repairs_of};

    #[test]
    fn each_search_moves_only_its_own_share() {
        let problem = caseload(40, 3, 15);
        let domains = Domains::build(&problem);
        let comp = placeable(&domains);
        let mut start = State::new(&problem, &domains);
        construct::construct(&mut start, &comp);
        let units = Units::new(&start, &comp);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let shares = units.deal(2, problem.requests.len(), &mut rng);
        // Every request of the component in exactly one share, each patient's in one.
        for &r in &comp {
            assert!(shares[0][r] != shares[1][r]);
        }
        for &r in &comp {
            for &x in &comp {
                if problem.requests[r].patient == problem.requests[x].patient {
                    assert_eq!(shares[0][r], shares[0][x]);
                }
            }
        }
        let cancel = AtomicBool::new(false);
        for (k, share) in shares.iter().enumerate() {
            let mut state = start.clone();
            let budget = repairs_of(&cancel, 300, share);
            let mut rng = ChaCha8Rng::seed_from_u64(k as u64 + 1);
            lns::improve(&mut state, &comp, &mut rng, budget, &|_, _| {});
            assert!(state.total() < start.total());
            for (r, was) in start.assign.iter().enumerate() {
                assert!(share[r] || state.assign[r] == *was);
            }
        }
    }
}
