//! Large-neighbourhood search over one component: free a neighbourhood (around an unplaced
//! request, one patient's week, one provider-day), repair it exactly with the subset MILP
//! when small enough (greedily otherwise), keep the result when it is no worse.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::construct;
use super::milp;
use super::state::State;

/// Search limits.
#[derive(Debug, Clone, Copy)]
pub struct Budget<'a> {
    /// Stop at this instant.
    pub deadline: Instant,
    /// Stop after this many repairs.
    pub max_iterations: u64,
    /// Stop after this many repairs in a row without improvement.
    pub stall: u64,
    /// Stop when set.
    pub cancel: &'a AtomicBool,
}

/// Largest neighbourhood (in candidate options) repaired by the MILP.
const MILP_OPTIONS: usize = 2500;
/// Requests freed per neighbourhood.
const MAX_FREE: usize = 14;

/// Improves `state` over the requests of `component`; returns the repairs performed.
pub fn improve(
    state: &mut State,
    component: &[usize],
    rng: &mut ChaCha8Rng,
    budget: Budget,
    on_improve: &dyn Fn(i64, &State),
) -> u64 {
    let problem = state.problem;
    let mut patients: Vec<usize> = component
        .iter()
        .map(|&r| problem.requests[r].patient)
        .collect();
    patients.sort_unstable();
    patients.dedup();
    let mut by_patient: Vec<Vec<usize>> = vec![Vec::new(); problem.patients.len()];
    for &r in component {
        by_patient[problem.requests[r].patient].push(r);
    }
    let placeable: Vec<usize> = component
        .iter()
        .copied()
        .filter(|&r| !state.domains.opts[r].is_empty())
        .collect();
    if placeable.is_empty() {
        return 0;
    }
    let mut iterations = 0;
    let mut since_improvement = 0;
    while iterations < budget.max_iterations
        && since_improvement < budget.stall
        && Instant::now() < budget.deadline
        && !budget.cancel.load(Ordering::Relaxed)
    {
        iterations += 1;
        let kind = rng.gen_range(0..3);
        let mut free: Vec<usize> = match kind {
            0 => around_unplaced(state, &placeable, &by_patient, rng),
            1 => {
                let q = patients[rng.gen_range(0..patients.len())];
                by_patient[q].clone()
            }
            _ => provider_day(state, &placeable, &by_patient, rng),
        };
        if free.is_empty() {
            since_improvement += 1;
            continue;
        }
        free.sort_unstable();
        free.dedup();
        // Whatever depends on a freed request leaves with it.
        let mut i = 0;
        while i < free.len() {
            for d in state.dependants(free[i]) {
                if !free.contains(&d) {
                    free.push(d);
                }
            }
            i += 1;
        }
        free.sort_unstable();
        let before = state.total();
        let old: Vec<Option<u32>> = free.iter().map(|&r| state.assign[r]).collect();
        for &r in &free {
            state.remove(r);
        }
        let repaired = milp_repair(state, &free, &old);
        if !repaired {
            let mut order = free.clone();
            order.shuffle(rng);
            construct::construct(state, &order);
        }
        let after = state.total();
        if after < before {
            since_improvement = 0;
            on_improve(after, state);
        } else {
            since_improvement += 1;
        }
        if after > before || !state.bundles_complete(&free) {
            for &r in &free {
                state.remove(r);
            }
            restore(state, &free, &old);
        }
    }
    iterations
}

fn restore(state: &mut State, free: &[usize], old: &[Option<u32>]) {
    // Prerequisites first, so nothing placed ever lacks its `before`.
    let order = construct::order(state, free);
    for r in order {
        let i = free.iter().position(|&x| x == r).expect("in free");
        if let Some(oi) = old[i] {
            state.place(r, oi);
        }
    }
}

/// Repairs `free` with the exact subset MILP; false (state untouched) when it fails.
fn milp_repair(state: &mut State, free: &[usize], old: &[Option<u32>]) -> bool {
    let Some(outcome) = milp::solve_subset(state, free, Some(old), false, 2.0, MILP_OPTIONS) else {
        return false;
    };
    let order = construct::order(state, free);
    let mut placed = Vec::new();
    for r in order {
        let i = free.iter().position(|&x| x == r).expect("in free");
        if let Some(oi) = outcome.choice[i] {
            let pending = |x: usize| free.contains(&x) && state.assign[x].is_none();
            if !state.fits(r, oi, &pending) {
                for &p in &placed {
                    state.remove(p);
                }
                return false;
            }
            state.place(r, oi);
            placed.push(r);
        }
    }
    true
}

fn around_unplaced(
    state: &State,
    placeable: &[usize],
    by_patient: &[Vec<usize>],
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let unplaced: Vec<usize> = placeable
        .iter()
        .copied()
        .filter(|&r| state.assign[r].is_none())
        .collect();
    let Some(&r) = unplaced
        .choose_weighted(rng, |&r| state.problem.requests[r].priority)
        .ok()
    else {
        return provider_day(state, placeable, by_patient, rng);
    };
    let opts = &state.domains.opts[r];
    let o = &opts[rng.gen_range(0..opts.len())];
    let q = state.problem.requests[r].patient;
    let mut free = by_patient[q].clone();
    for &(s, e, x) in state.provider_day(o.provider as usize, o.day as usize) {
        if s < o.end + 60 && o.start - 60 < e {
            free.push(x as usize);
        }
    }
    for &u in &o.resources {
        for &(s, e, x) in state.resource_day(u as usize, o.day as usize) {
            if s < o.end && o.start < e {
                free.push(x as usize);
            }
        }
    }
    free.truncate(MAX_FREE);
    free
}

fn provider_day(
    state: &State,
    placeable: &[usize],
    by_patient: &[Vec<usize>],
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let r = placeable[rng.gen_range(0..placeable.len())];
    let opts = &state.domains.opts[r];
    let o = &opts[rng.gen_range(0..opts.len())];
    let mut free = vec![r];
    let day = state.provider_day(o.provider as usize, o.day as usize);
    for &(_, _, x) in day {
        free.push(x as usize);
        if free.len() >= MAX_FREE {
            break;
        }
    }
    let q = state.problem.requests[r].patient;
    free.extend(by_patient[q].iter().copied());
    free.truncate(MAX_FREE + 4);
    free
}
