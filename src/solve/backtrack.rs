//! Placing every request of a set beside what a state holds, when all of them must be
//! placed (what pinned bookings need): first by a depth-first search, then, if the search
//! reaches its limit, by the exact MILP ([`milp::place_every`]) when the set is small
//! enough for it.
//!
//! The search takes, at each step, the request with the fewest options that still fit
//! (ties to the lower index; a pin only when one option is left, as it is then no choice
//! and its fixed time bounds what is linked to it). A few short searches try each
//! request's options in a random order from fixed seeds; then one tries them in index
//! order up to its limit. The limits count the options tested, not the clock, so what it
//! settles is settled the same way on any machine. It settles most sets at once: where a
//! placement exists it finds one in a few steps, and where one request has no option left
//! beside the others it proves there is none (`solve --work 20` on fixture
//! `pin-needs-exact-placement-order` 0.10 s instead of 0.56 s with the MILP alone, on the
//! fuzzer's `solver-miss-exact-fallback-timeout` 0.07 s instead of 0.45 s). Proofs that
//! need the MILP's relaxation (too few slots for too many requests) are left to the MILP.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::milp::{self, Limits, Placement};
use super::state::State;

/// Options tested, in all, before the search gives the set to the MILP. A test takes some
/// 20-40 ns, so this is under a second, where the pure-Rust MILP may spend its whole 5 s
/// and settle nothing: a fuzzer's pin whose seven needs cannot all fit (tight gaps and
/// back-to-back links on a 5-minute grid) took 4.7 million tests, 0.13 s, to prove it.
const SEARCH_TESTS: usize = 20_000_000;
/// Shuffled searches tried before the ordered one, and the options each may test.
const SHUFFLED_SEARCHES: usize = 8;
const SHUFFLED_TESTS: usize = 50_000;
/// Most requests the search takes on: it goes one level deeper per request, and a worker
/// thread's stack holds a few thousand levels. Larger sets go to the MILP.
const SEARCH_MAX_REQUESTS: usize = 1_000;

/// Every request of `free` (all unplaced in `state`) placed beside what `state` holds, if
/// that can be done: see the module's documentation. `limits` and `max_candidates` bound
/// the MILP, if the search leaves the set to it.
pub fn place_every(
    state: &State,
    free: &[usize],
    limits: Limits,
    max_candidates: usize,
) -> Placement {
    // The MILP holds every candidate; the search only tests them, so it runs on sets too
    // large for the model (a pin after four prerequisites on a 24-hour, 5-minute grid:
    // 24,000 options, settled in a few thousand tests).
    let fits_model = milp::candidate_count(state, free) <= max_candidates;
    if free.len() > SEARCH_MAX_REQUESTS {
        return if fits_model {
            milp::place_every(state, free, limits, max_candidates)
        } else {
            Placement::Unknown
        };
    }
    match search(state, free, SEARCH_TESTS) {
        Searched::Found(choice) => Placement::Placed(choice),
        Searched::Exhausted => Placement::Impossible,
        Searched::Limit if fits_model && limits.time > 0.0 => {
            milp::place_every(state, free, limits, max_candidates)
        }
        Searched::Limit => Placement::Unknown,
    }
}

/// What the search found.
#[derive(Debug, PartialEq, Eq)]
enum Searched {
    /// An option for each request, in the order given.
    Found(Vec<u32>),
    /// Every branch ended with a request that had no option left: no placement exists.
    Exhausted,
    /// The limit on options tested was reached.
    Limit,
}

fn search(state: &State, free: &[usize], tests: usize) -> Searched {
    let problem = state.problem;
    // A bundle mate outside the set and unplaced can never join: as the MILP's candidates
    // have it, the member has no option.
    let cut_off = free.iter().any(|&r| {
        state.groups(r).iter().any(|&g| {
            problem.same_day[g]
                .iter()
                .any(|&m| !free.contains(&m) && state.assign[m].is_none())
        })
    });
    if cut_off {
        return Searched::Exhausted;
    }
    // Short searches that try each request's options in a random order first: where
    // placements are many but the first options in time order lead into a dead end found
    // only deep down (a patient's daily cap met by the last of a chain of prerequisites),
    // one of them finds a placement in a few thousand tests where the ordered search
    // spends its whole limit. The seeds are fixed, so the verdict is the same on any
    // machine. A search that ends exhausted has tried every option, in whatever order.
    // Their tests come on top of the ordered search's `tests`, which keeps its whole limit
    // for the proofs it makes.
    let mut shuffled = (tests / 4).min(SHUFFLED_SEARCHES * SHUFFLED_TESTS);
    let mut seed = 0;
    while shuffled > 0 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut short = SHUFFLED_TESTS.min(shuffled);
        let before = short;
        let outcome = run(state, free, &mut short, Some(&mut rng));
        shuffled -= before - short;
        if !matches!(outcome, Searched::Limit) {
            return outcome;
        }
        seed += 1;
    }
    let mut budget = tests;
    run(state, free, &mut budget, None)
}

/// One depth-first search over `free`, its options in index order or, with `rng`, in a
/// random order at each step.
fn run(
    state: &State,
    free: &[usize],
    budget: &mut usize,
    rng: Option<&mut ChaCha8Rng>,
) -> Searched {
    let mut work = state.clone();
    let mut left: Vec<usize> = free.to_vec();
    match descend(&mut work, &mut left, budget, rng) {
        Step::Found => {
            let choice = free
                .iter()
                .map(|&r| work.assign[r])
                .collect::<Option<Vec<u32>>>();
            choice.map_or(Searched::Limit, Searched::Found)
        }
        Step::Exhausted => Searched::Exhausted,
        Step::Limit => Searched::Limit,
    }
}

enum Step {
    Found,
    Exhausted,
    Limit,
}

/// Places the requests of `left` (leaving them placed in `state` on success). Links to
/// requests still in `left` are judged when those are placed, as the greedy pass does.
fn descend(
    state: &mut State,
    left: &mut Vec<usize>,
    budget: &mut usize,
    mut rng: Option<&mut ChaCha8Rng>,
) -> Step {
    if left.is_empty() {
        return Step::Found;
    }
    // The request with the fewest fitting options; one with none ends the branch. Pins
    // (whose options differ only in the units they take) come last: chosen first, their
    // units multiply the search before the others' room is tried (six pins naming no MRI
    // beside prerequisites that could never fit reached the limit).
    // A pin with one option left is no choice, and its fixed time bounds everything linked
    // to it: it goes first (a pin after four prerequisites left them free to be tried
    // across the whole week before its link could fail).
    let Some(window) = windows(state, left) else {
        return Step::Exhausted;
    };
    let pinned = |r: usize| state.problem.requests[r].pinned();
    let only_pins = left.iter().all(|&r| pinned(r));
    let mut best: Option<(usize, Vec<u32>)> = None;
    // Counting stops one past the fewest so far: only the fewest are needed, and of the
    // others only that they have one (a pin: whether it has one or more).
    for (i, &r) in left.iter().enumerate() {
        let waiting = |x: usize| left.contains(&x);
        let fewest = best.as_ref().map_or(usize::MAX, |b| b.1.len());
        let enough = if !only_pins && pinned(r) { 2 } else { fewest };
        let mut fitting: Vec<u32> = Vec::new();
        let (earliest, latest) = window[i];
        for oi in state.may_fit(r) {
            if *budget == 0 {
                return Step::Limit;
            }
            *budget -= 1;
            let start = state.opt(r, oi).start;
            if start < earliest || start > latest {
                continue;
            }
            // `State::fits`, its cheapest test (the links' gaps) first.
            if state.fits_links(r, oi, &waiting)
                && state.fits_resources(r, oi)
                && state.fits_patient(r, oi, true)
            {
                fitting.push(oi);
                if fitting.len() >= enough {
                    break;
                }
            }
        }
        if fitting.is_empty() {
            return Step::Exhausted;
        }
        let deferred = !only_pins && pinned(r) && fitting.len() > 1;
        if !deferred && fitting.len() < fewest {
            best = Some((i, fitting));
        }
    }
    let (i, mut fitting) = best.expect("left is not empty");
    fitting.sort_unstable();
    if let Some(rng) = rng.as_deref_mut() {
        fitting.shuffle(rng);
    }
    let r = left.remove(i);
    for oi in fitting {
        state.place(r, oi);
        match descend(state, left, budget, rng.as_deref_mut()) {
            Step::Found => return Step::Found,
            Step::Limit => {
                state.remove(r);
                left.insert(i, r);
                return Step::Limit;
            }
            Step::Exhausted => state.remove(r),
        }
    }
    left.insert(i, r);
    Step::Exhausted
}

/// For each request of `left`, the earliest and latest start its precedences allow, through
/// chains of unplaced requests, given where the placed ones are; `None` when some request
/// has no start left. A pin's prerequisites linked by tight gaps to it and to an earlier
/// pin must fit between the two: without the windows the search placed the last of them
/// anywhere near the later pin and found out only the chain's length later that its first
/// could not reach the earlier one (28 chains of 12 requests, gaps of at most an hour, a
/// fifth of them pinned: still unsettled after 20 million tests).
fn windows(state: &State, left: &[usize]) -> Option<Vec<(i32, i32)>> {
    // Far enough from the ends of `i32` that a chain's gaps and durations added on cannot
    // overflow.
    const UNBOUNDED: (i32, i32) = (i32::MIN / 4, i32::MAX / 4);
    let problem = state.problem;
    let linked = |r: usize| !state.preds(r).is_empty() || !state.succs(r).is_empty();
    if !left.iter().any(|&r| linked(r)) {
        return Some(vec![UNBOUNDED; left.len()]);
    }
    // (request, its index in `left`), by request: looked up once per link end.
    let mut index: Vec<(usize, usize)> = left.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    index.sort_unstable();
    let at = |r: usize| {
        index
            .binary_search_by_key(&r, |&(x, _)| x)
            .ok()
            .map(|k| index[k].1)
    };
    let mut window: Vec<(i32, i32)> = vec![UNBOUNDED; left.len()];
    // (before, after, min gap, max gap, before's duration) with each end either a request
    // of `left` (its index there) or placed (its start, fixed).
    enum End {
        Left(usize),
        Placed(i32),
    }
    let mut links: Vec<(End, End, i32, Option<i32>, i32)> = Vec::new();
    for (i, &r) in left.iter().enumerate() {
        for &k in state.preds(r) {
            let p = problem.precedences[k];
            if at(p.before).is_some() {
                continue; // listed from its own side below
            }
            if let Some(b) = state.placed(p.before) {
                links.push((
                    End::Placed(b.start),
                    End::Left(i),
                    p.min_gap,
                    p.max_gap,
                    b.end - b.start,
                ));
            }
        }
        for &k in state.succs(r) {
            let p = problem.precedences[k];
            let duration = problem.requests[r].duration;
            if let Some(j) = at(p.after) {
                links.push((End::Left(i), End::Left(j), p.min_gap, p.max_gap, duration));
            } else if let Some(a) = state.placed(p.after) {
                links.push((
                    End::Left(i),
                    End::Placed(a.start),
                    p.min_gap,
                    p.max_gap,
                    duration,
                ));
            }
        }
    }
    if links.is_empty() {
        return Some(window);
    }
    let range = |w: &[(i32, i32)], e: &End| match *e {
        End::Left(i) => w[i],
        End::Placed(t) => (t, t),
    };
    // Bellman-Ford over the gaps: a chain through every request settles within as many
    // passes; one still moving after that is a cycle of gaps no times meet.
    for _ in 0..=left.len() {
        let mut moved = false;
        for (before, after, min_gap, max_gap, duration) in &links {
            let (b_lo, b_hi) = range(&window, before);
            if let End::Left(j) = *after {
                let hi = max_gap.map_or(i32::MAX, |max| b_hi + duration + max);
                moved |= narrow(&mut window[j], b_lo + duration + min_gap, hi)?;
            }
            if let End::Left(i) = *before {
                let (a_lo, a_hi) = range(&window, after);
                let lo = max_gap.map_or(i32::MIN, |max| a_lo - duration - max);
                moved |= narrow(&mut window[i], lo, a_hi - duration - min_gap)?;
            }
        }
        if !moved {
            return Some(window);
        }
    }
    None
}

/// Narrows `window` to `[lo, hi]`: `None` when nothing is left, else whether it moved.
fn narrow(window: &mut (i32, i32), lo: i32, hi: i32) -> Option<bool> {
    let narrowed = (window.0.max(lo), window.1.min(hi));
    if narrowed.0 > narrowed.1 {
        return None;
    }
    let moved = narrowed != *window;
    *window = narrowed;
    Some(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::construct::construct;
    use crate::solve::domain::Domains;
    use crate::solve::test_caseloads::{caseload, placeable};

    /// The search and the MILP are two independent ways to the same verdict: on sets of
    /// requests taken out of generated weeks (some that fit back, some with an unplaced
    /// request that may not), they agree, and what the search places keeps every rule.
    #[test]
    fn the_search_and_the_milp_agree_on_what_can_be_placed_together() {
        let (mut found, mut exhausted) = (0, 0);
        for seed in 0..6 {
            let problem = caseload(12, seed, 30);
            let domains = Domains::build(&problem);
            let all = placeable(&domains);
            let mut state = State::new(&problem, &domains);
            construct(&mut state, &all);
            let unplaced: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&r| state.assign[r].is_none())
                .collect();
            for round in 0..8 {
                let mut trial = state.clone();
                let mut free: Vec<usize> = all
                    .iter()
                    .copied()
                    .filter(|&r| trial.assign[r].is_some() && (r + round) % 5 == 0)
                    .take(8)
                    .collect();
                for &r in &free {
                    trial.remove(r);
                }
                if round % 2 == 1 && !unplaced.is_empty() {
                    free.push(unplaced[round % unplaced.len()]);
                }
                let searched = search(&trial, &free, usize::MAX);
                let exact = milp::place_every(&trial, &free, Limits::time(60.0), usize::MAX);
                match (&searched, &exact) {
                    (Searched::Found(choice), Placement::Placed(_)) => {
                        for (&r, &oi) in free.iter().zip(choice) {
                            trial.place(r, oi);
                        }
                        for (&r, &oi) in free.iter().zip(choice) {
                            trial.remove(r);
                            assert!(
                                trial.fits(r, oi, &|_| false),
                                "seed {seed}: {r} breaks a rule"
                            );
                            trial.place(r, oi);
                        }
                        found += 1;
                    }
                    (Searched::Exhausted, Placement::Impossible) => exhausted += 1,
                    _ => panic!("seed {seed} round {round}: search {searched:?}, MILP {exact:?}"),
                }
            }
        }
        assert!(
            found >= 10 && exhausted >= 5,
            "found {found}, exhausted {exhausted}"
        );
    }

    /// The limit counts options tested: with none to test, the search settles nothing.
    #[test]
    fn the_search_stops_at_its_limit() {
        let problem = caseload(6, 1, 30);
        let domains = Domains::build(&problem);
        let state = State::new(&problem, &domains);
        // A request with no links: alone, it fits.
        let free: Vec<usize> = placeable(&domains)
            .into_iter()
            .filter(|&r| {
                state.groups(r).is_empty()
                    && !problem
                        .precedences
                        .iter()
                        .any(|p| p.before == r || p.after == r)
            })
            .take(1)
            .collect();
        assert_eq!(free.len(), 1);
        assert_eq!(search(&state, &free, 0), Searched::Limit);
        assert!(matches!(
            search(&state, &free, usize::MAX),
            Searched::Found(_)
        ));
    }
}
