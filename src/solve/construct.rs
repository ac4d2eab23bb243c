//! Priority construction: requests by effective priority (a prerequisite is as urgent as
//! what depends on it), prerequisites first, most constrained first; each placed at its
//! cheapest feasible option. Same-day bundles are placed whole or not at all.

use super::state::State;

/// Insertion order of `requests` for construction and greedy repair.
pub fn order(state: &State, requests: &[usize]) -> Vec<usize> {
    let problem = state.problem;
    let n = problem.requests.len();
    let mut eff: Vec<u32> = problem.requests.iter().map(|r| r.priority).collect();
    let mut depth = vec![0u32; n];
    // Bellman-Ford style relaxation; validation guarantees no cycles, the bound guards anyway.
    for _ in 0..=problem.precedences.len().min(n) {
        let mut changed = false;
        for p in &problem.precedences {
            if eff[p.before] < eff[p.after] {
                eff[p.before] = eff[p.after];
                changed = true;
            }
            if depth[p.after] <= depth[p.before] {
                depth[p.after] = depth[p.before] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = requests.to_vec();
    // Pinned bookings first: they are kept exactly, whatever else wants their slot.
    out.sort_by_key(|&r| {
        let pinned = problem.requests[r]
            .existing
            .as_ref()
            .is_some_and(|e| e.pinned);
        (
            !pinned,
            std::cmp::Reverse(eff[r]),
            depth[r],
            state.domains.opts[r].len(),
            r,
        )
    });
    out
}

/// Latest possible absolute start of each request over its domain.
pub fn latest_starts(state: &State) -> Vec<i32> {
    state
        .domains
        .opts
        .iter()
        .map(|opts| opts.iter().map(|o| o.start).max().unwrap_or(i32::MIN))
        .collect()
}

/// Cheapest feasible option of `r` now, ties to the earliest start; `None` if nothing fits.
/// An option that would leave an unplaced successor no possible start is skipped.
pub fn best_option(
    state: &State,
    r: usize,
    latest: &[i32],
    ignore: &dyn Fn(usize) -> bool,
) -> Option<(i64, u32)> {
    let problem = state.problem;
    let mut best: Option<(i64, i32, u32)> = None;
    for (oi, o) in state.domains.opts[r].iter().enumerate() {
        let oi = oi as u32;
        if !state.fits(r, oi, ignore) {
            continue;
        }
        let starves = state.succs(r).iter().any(|&k| {
            let p = problem.precedences[k];
            state.assign[p.after].is_none() && o.end + p.min_gap > latest[p.after]
        });
        if starves {
            continue;
        }
        let delta = state.insert_delta(r, oi);
        if best.is_none_or(|(c, s, _)| (delta, o.start) < (c, s)) {
            best = Some((delta, o.start, oi));
        }
    }
    best.map(|(c, _, oi)| (c, oi))
}

/// Places the given requests greedily in [`order`]; returns how many were placed.
pub fn construct(state: &mut State, requests: &[usize]) -> usize {
    let latest = latest_starts(state);
    let order = order(state, requests);
    let in_scope = {
        let mut v = vec![false; state.problem.requests.len()];
        for &r in requests {
            v[r] = true;
        }
        v
    };
    let mut placed = 0;
    let no_ignore = |_: usize| false;
    for &r in &order {
        if state.assign[r].is_some() || state.domains.opts[r].is_empty() {
            continue;
        }
        let groups = state.groups(r).to_vec();
        if groups.is_empty() {
            if let Some((delta, oi)) = best_option(state, r, &latest, &no_ignore) {
                if delta < 0 || forced(state, r) {
                    state.place(r, oi);
                    placed += 1;
                }
            }
            continue;
        }
        // A bundle: place every member (in construction order) or none.
        let mut members: Vec<usize> = groups
            .iter()
            .flat_map(|&g| state.problem.same_day[g].iter().copied())
            .filter(|&m| in_scope[m] && state.assign[m].is_none())
            .collect();
        members.sort_unstable();
        members.dedup();
        let members: Vec<usize> = order
            .iter()
            .copied()
            .filter(|m| members.contains(m))
            .collect();
        placed += place_bundle(state, &members, &latest);
    }
    placed
}

/// Places all of `members` or none; returns how many were placed.
pub fn place_bundle(state: &mut State, members: &[usize], latest: &[i32]) -> usize {
    let mut done: Vec<usize> = Vec::new();
    let mut total_delta = 0;
    // Members are ordered prerequisites first; links to members not yet placed are checked
    // when those are placed.
    let pending = |m: usize| members.contains(&m);
    for &m in members {
        let ignore = |x: usize| pending(x) && !done_contains(state, x);
        match best_option(state, m, latest, &ignore) {
            Some((delta, oi)) => {
                state.place(m, oi);
                total_delta += delta;
                done.push(m);
            }
            None => {
                for &x in &done {
                    state.remove(x);
                }
                return 0;
            }
        }
    }
    if total_delta >= 0 && !members.iter().any(|&m| forced(state, m)) {
        for &x in &done {
            state.remove(x);
        }
        return 0;
    }
    done.len()
}

fn done_contains(state: &State, x: usize) -> bool {
    state.assign[x].is_some()
}

/// Whether `r` must be placed whatever it costs (a pinned booking).
pub fn forced(state: &State, r: usize) -> bool {
    state.problem.requests[r]
        .existing
        .as_ref()
        .is_some_and(|e| e.pinned)
}
