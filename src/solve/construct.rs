//! Priority construction: requests by effective priority (a prerequisite is as urgent as
//! what depends on it), prerequisites first, most constrained first; each placed at its
//! cheapest feasible option. Same-day bundles are placed whole or not at all.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::state::State;

/// Insertion order of `requests` for construction and greedy repair.
pub fn order(state: &State, requests: &[usize]) -> Vec<usize> {
    order_with(state, requests, &|r| state.domains.opts[r].len() as u64)
}

/// [`order`] with a custom last criterion among equally urgent requests of equal depth
/// (the domain size by default; a random key for diversified repairs).
pub fn order_with(
    state: &State,
    requests: &[usize],
    tiebreak: &dyn Fn(usize) -> u64,
) -> Vec<usize> {
    let problem = state.problem;
    let mut out = requests.to_vec();
    // Pinned bookings first: they are kept exactly, whatever else wants their slot. Then
    // what they need (prerequisites, bundle mates), before anything else can take its room.
    out.sort_by_key(|&r| {
        (
            !problem.requests[r].pinned(),
            !state.required(r),
            std::cmp::Reverse(problem.link_order[r].0),
            problem.link_order[r].1,
            tiebreak(r),
            r,
        )
    });
    out
}

/// Cheapest feasible option of `r` now, judged by its cost change plus `extra(r, option)`,
/// ties to the earliest start: `(cost change, option, judged)`, `None` if nothing fits.
/// An option that would leave an unplaced successor no possible start is skipped.
pub fn best_option(
    state: &State,
    r: usize,
    ignore: &dyn Fn(usize) -> bool,
    extra: &mut dyn FnMut(usize, u32) -> i64,
) -> Option<(i64, u32, i64)> {
    let problem = state.problem;
    let mut best: Option<(i64, i32, u32, i64)> = None;
    for (oi, o) in state.domains.opts[r].iter().enumerate() {
        let oi = oi as u32;
        if !state.fits(r, oi, ignore) {
            continue;
        }
        let starves = state.succs(r).iter().any(|&k| {
            let p = problem.precedences[k];
            state.assign[p.after].is_none()
                && state
                    .domains
                    .latest_start(p.after)
                    .is_none_or(|l| o.end + p.min_gap > l)
        });
        if starves {
            continue;
        }
        let delta = state.insert_delta(r, oi);
        let judged = delta + extra(r, oi);
        if best.is_none_or(|(c, s, _, _)| (judged, o.start) < (c, s)) {
            best = Some((judged, o.start, oi, delta));
        }
    }
    best.map(|(judged, _, oi, delta)| (delta, oi, judged))
}

/// Books `requests` (all unbooked) at the options `choice` gives them (none: left out),
/// prerequisites first, each checked against everything booked; all or nothing (on a
/// clash the ones booked so far are taken off again and the answer is false).
pub fn book(state: &mut State, requests: &[usize], choice: &dyn Fn(usize) -> Option<u32>) -> bool {
    let mut booked = Vec::new();
    for r in order(state, requests) {
        let Some(oi) = choice(r) else {
            continue;
        };
        let pending = |x: usize| requests.contains(&x) && state.assign[x].is_none();
        if !state.fits(r, oi, &pending) {
            for &b in &booked {
                state.remove(b);
            }
            return false;
        }
        state.place(r, oi);
        booked.push(r);
    }
    true
}

/// Places the given requests greedily in [`order`]; returns how many were placed.
pub fn construct(state: &mut State, requests: &[usize]) -> usize {
    let order = order(state, requests);
    insert_in_order(state, requests, &order, &mut |_, _| 0, false)
}

/// Construction guided by prices on the options (a Lagrangian heuristic): each request
/// takes the option cheapest with its price added, and only when that beats leaving it
/// out, so that contested time goes where the prices say it is worth most; a plain pass
/// then places what still fits.
pub fn construct_priced(
    state: &mut State,
    requests: &[usize],
    price: &dyn Fn(usize, u32) -> i64,
) -> usize {
    let order = order(state, requests);
    insert_in_order(state, requests, &order, &mut |r, oi| price(r, oi), true)
        + insert_in_order(state, requests, &order, &mut |_, _| 0, false)
}

/// A diversified greedy repair: random order among equally urgent requests, and option costs
/// blurred by up to `noise` so that near-ties go different ways.
pub fn construct_randomized(
    state: &mut State,
    requests: &[usize],
    rng: &mut ChaCha8Rng,
    noise: i64,
) -> usize {
    let keys: Vec<(usize, u64)> = requests.iter().map(|&r| (r, rng.gen())).collect();
    let key = |r: usize| keys.iter().find(|k| k.0 == r).map_or(0, |k| k.1);
    let order = order_with(state, requests, &key);
    let mut blur = |_, _| {
        if noise > 0 {
            rng.gen_range(0..noise)
        } else {
            0
        }
    };
    insert_in_order(state, requests, &order, &mut blur, false)
}

/// Places `order` greedily, each request at its best option judged with `extra`; placed
/// when that lowers the objective (`strict`: when it does so with `extra` counted too).
fn insert_in_order(
    state: &mut State,
    requests: &[usize],
    order: &[usize],
    extra: &mut dyn FnMut(usize, u32) -> i64,
    strict: bool,
) -> usize {
    let in_scope = {
        let mut v = vec![false; state.problem.requests.len()];
        for &r in requests {
            v[r] = true;
        }
        v
    };
    let mut placed = 0;
    for &r in order {
        if state.assign[r].is_some() || state.domains.opts[r].is_empty() {
            continue;
        }
        let groups = state.groups(r).to_vec();
        if groups.is_empty() {
            // A pin comes before its prerequisites (it has one option, they adapt to it):
            // their gaps are checked when they are placed.
            let pin = state.problem.requests[r].pinned();
            let waiting = |x: usize| pin && in_scope[x] && state.assign[x].is_none();
            if let Some((delta, oi, judged)) = best_option(state, r, &waiting, extra) {
                if (if strict { judged } else { delta }) < 0 || forced(state, r) {
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
        placed += place_bundle(state, &members, extra, strict);
    }
    placed
}

/// Places all of `members` or none; returns how many were placed.
fn place_bundle(
    state: &mut State,
    members: &[usize],
    extra: &mut dyn FnMut(usize, u32) -> i64,
    strict: bool,
) -> usize {
    let mut done: Vec<usize> = Vec::new();
    let mut total_delta = 0;
    // Members are ordered prerequisites first; links to members not yet placed are checked
    // when those are placed.
    let pending = |m: usize| members.contains(&m);
    for &m in members {
        let ignore = |x: usize| pending(x) && !done_contains(state, x);
        match best_option(state, m, &ignore, extra) {
            Some((delta, oi, judged)) => {
                state.place(m, oi);
                total_delta += if strict { judged } else { delta };
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

/// Whether `r` must be placed whatever it costs (a pinned booking or what one needs).
pub fn forced(state: &State, r: usize) -> bool {
    state.required(r)
}
