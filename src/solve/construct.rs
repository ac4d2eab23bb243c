//! Priority construction: requests by effective priority (a prerequisite is as urgent as
//! what depends on it), prerequisites first, most constrained first; each placed at its
//! cheapest feasible option. Same-day bundles are placed whole or not at all.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::domain::ProviderDayRun;
use super::state::{unplaced_weight, State};

/// Insertion order of `requests` for construction and greedy repair.
pub fn order(state: &State, requests: &[usize]) -> Vec<usize> {
    order_with(state, requests, &|r| domain_size(state, r))
}

/// [`order`]'s last criterion among equally urgent requests of equal depth: the number
/// of options.
pub fn domain_size(state: &State, r: usize) -> u64 {
    state.domains.opts[r].len() as u64
}

/// [`order`] with a custom last criterion among equally urgent requests of equal depth
/// (the domain size by default; a random key for diversified repairs).
pub fn order_with(
    state: &State,
    requests: &[usize],
    tiebreak: &dyn Fn(usize) -> u64,
) -> Vec<usize> {
    let mut out = requests.to_vec();
    out.sort_by_key(|&r| order_key(state, r, tiebreak(r)));
    out
}

/// Where `r` comes in [`order_with`] given its `tiebreak`: every request's key differs.
pub fn order_key(state: &State, r: usize, tiebreak: u64) -> impl Ord {
    let problem = state.problem;
    // Pinned bookings first: they are kept exactly, whatever else wants their slot. Then
    // what they need (prerequisites, bundle mates), before anything else can take its room.
    (
        !problem.requests[r].pinned(),
        !state.required(r),
        std::cmp::Reverse(problem.link_order[r].0),
        problem.link_order[r].1,
        tiebreak,
        r,
    )
}

/// Cheapest feasible option of `r` now (on day `on_day` when given), judged by its cost
/// change plus `extra(r, option)`, ties to the earliest start, then the lower index:
/// `(cost change, option, judged)`, `None` if nothing fits. An option that would leave an
/// unplaced successor no possible start is skipped. `extra` must never be negative: a
/// provider-day whose options cost more than the best found, even without it, is passed by.
pub fn best_option(
    state: &State,
    r: usize,
    on_day: Option<usize>,
    ignore: &dyn Fn(usize) -> bool,
    extra: &mut dyn FnMut(usize, u32) -> i64,
) -> Option<(i64, u32, i64)> {
    let problem = state.problem;
    // A pin is placed whatever room it leaves its successors: it has no other option, and
    // leaving it out breaks the pin. (What a pin needs still leaves its successors room:
    // a pin's bundle mate may need its own prerequisite before it.)
    let must = problem.requests[r].pinned();
    // Each unplaced successor's latest start, with its gap (none to keep for a pin).
    let succ_latest: Vec<(i32, Option<i32>)> = if must {
        Vec::new()
    } else {
        state
            .succs(r)
            .iter()
            .map(|&k| problem.precedences[k])
            .filter(|p| state.assign[p.after].is_none())
            .map(|p| (p.min_gap, latest_start_now(state, p.after)))
            .collect()
    };
    let best = cheapest_by_floor(state, r, on_day, |oi| {
        let o = state.opt(r, oi);
        if !state.fits(r, oi, ignore) {
            return None;
        }
        // An option that leaves an unplaced successor no start is left for `fill`, at the
        // end. (Also when the successor can never be placed: booking such prerequisites
        // early instead changed refbench's 30-patient schedule under `--work 300` from
        // 23860 to 25040.)
        let starves = succ_latest
            .iter()
            .any(|&(gap, latest)| latest.is_none_or(|l| o.end + gap > l));
        if starves {
            return None;
        }
        let delta = state.insert_delta(r, oi);
        let added = extra(r, oi);
        debug_assert!(added >= 0, "extra costs are never negative");
        // The option index decides ties, so the delta that rides along never does.
        Some((delta + added, (o.start, oi, delta)))
    });
    best.map(|(judged, (_, oi, delta))| (delta, oi, judged))
}

/// The least `(judged, key)` that `judge` gives an option of `r` that may fit (on day
/// `on_day` when given; `None` from `judge`: the option is out). What `judge` gives an
/// option must be at least its cost change ([`State::insert_delta`]): provider-days are
/// visited in the order of a floor under that change (the cheapest first), and once the
/// best found is below the next floor the rest are passed by unseen. At 1,000 generated
/// patients a request has some 640 options, most of them on days that would cost a trip
/// more than the best.
fn cheapest_by_floor<K: Ord>(
    state: &State,
    r: usize,
    on_day: Option<usize>,
    mut judge: impl FnMut(u32) -> Option<(i64, K)>,
) -> Option<(i64, K)> {
    // The search's greedy repairs scan options here millions of times a minute: the
    // buffers are the thread's own, taken and given back (a nested scan would take fresh
    // ones).
    let mut floors = FLOORS.take();
    added_floors(state, r, &mut floors);
    let days = floors.len();
    let order = &state.domains.by_provider_day[r];
    let mut runs = RUNS.take();
    runs.clear();
    runs.extend(
        state
            .open_runs(r)
            .filter(|(_, run)| on_day.is_none_or(|d| run.provider_day as usize % days == d))
            .map(|(stretch, run)| {
                let day = run.provider_day as usize % days;
                let kinds = [ProviderDayRun::IN_PERSON, ProviderDayRun::TELEHEALTH];
                let floor = kinds
                    .iter()
                    .filter(|&&k| run.least_cost[k] != i32::MAX)
                    .map(|&k| i64::from(run.least_cost[k]) + floors[day][k])
                    .min()
                    .unwrap_or(i64::MAX);
                (floor, run.end - stretch.len() as u32, run.end)
            }),
    );
    // Stretches come in the order of `order`: ties on the floor keep it.
    runs.sort_unstable_by_key(|&(floor, first, _)| (floor, first));
    let mut best: Option<(i64, K)> = None;
    for &(floor, first, end) in &runs {
        // A stretch whose floor equals the best may still win its tie.
        if best.as_ref().is_some_and(|(judged, _)| floor > *judged) {
            break;
        }
        for &oi in &order[first as usize..end as usize] {
            if let Some(found) = judge(oi) {
                if best.as_ref().is_none_or(|b| found < *b) {
                    best = Some(found);
                }
            }
        }
    }
    FLOORS.set(floors);
    RUNS.set(runs);
    best
}

thread_local! {
    /// [`cheapest_by_floor`]'s day floors.
    static FLOORS: std::cell::Cell<Vec<[i64; 2]>> = const { std::cell::Cell::new(Vec::new()) };
    /// [`cheapest_by_floor`]'s open stretches: floor, then where the stretch lies in
    /// [`super::domain::Domains::by_provider_day`].
    static RUNS: std::cell::Cell<Vec<(i64, u32, u32)>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Per day, a floor under what one more option of `r` adds to the objective beyond its own
/// [`Opt::cost`], in person and by telehealth (indexed as [`ProviderDayRun::least_cost`]),
/// written over `floors`: the unplaced weight comes off; an in-person option starts a trip
/// (on a day without one) or at most takes the patient's waiting of the day away (on a day
/// with one); telehealth adds nothing to the patient's day.
fn added_floors(state: &State, r: usize, floors: &mut Vec<[i64; 2]>) {
    let problem = state.problem;
    let q = problem.requests[r].patient;
    let trip = problem.weights.trip;
    let left_out = unplaced_weight(problem, r);
    floors.clear();
    floors.extend((0..problem.days.len()).map(|d| {
        let day = state.patient_day_cost(q, d, None);
        // A day's cost is its trip and its waiting, nothing when it has no trip.
        let in_person = if day == 0 { trip } else { trip - day };
        let mut floor = [0; 2];
        floor[ProviderDayRun::IN_PERSON] = in_person - left_out;
        floor[ProviderDayRun::TELEHEALTH] = -left_out;
        floor
    }));
}

/// How far down a chain of prerequisites [`latest_start_now`] follows successors.
const LATEST_START_DEPTH: u32 = 8;

/// The latest start among `r`'s options now: on the day of a placed same-day bundle mate
/// when it has one (a pin's mate is bound to the pin's day, and its prerequisite must leave
/// it room there), and early enough for its successors: a placed one's start, or an
/// unplaced one's own latest start, less the gap and `r`'s duration. Followed down the
/// chain, so that the prerequisite of a pin's prerequisite leaves the middle one room.
fn latest_start_now(state: &State, r: usize) -> Option<i32> {
    latest_start_within(state, r, LATEST_START_DEPTH)
}

fn latest_start_within(state: &State, r: usize, depth: u32) -> Option<i32> {
    let problem = state.problem;
    let mut cap = i32::MAX;
    if depth > 0 {
        for &k in state.succs(r) {
            let p = problem.precedences[k];
            let next = match state.placed(p.after) {
                Some(o) => Some(o.start),
                None => latest_start_within(state, p.after, depth - 1),
            };
            if let Some(start) = next {
                cap = cap.min(start - p.min_gap - problem.requests[r].duration);
            }
        }
    }
    let mate_day = state
        .groups(r)
        .iter()
        .flat_map(|&g| &problem.same_day[g])
        .find_map(|&m| state.placed(m).map(|o| o.day));
    // Options are sorted by day, then start.
    let opts = &state.domains.opts[r];
    let on_day = match mate_day {
        Some(day) => {
            &opts[opts.partition_point(|o| o.day < day)..opts.partition_point(|o| o.day <= day)]
        }
        None => &opts[..],
    };
    on_day[..on_day.partition_point(|o| o.start <= cap)]
        .last()
        .map(|o| o.start)
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

/// Places the given requests greedily in [`order`]; returns how many were placed. When the
/// greedy pass leaves out a request that pinned bookings need, what they need is placed
/// first by the exact model instead, and the rest greedily after it.
pub fn construct(state: &mut State, requests: &[usize]) -> usize {
    construct_within(state, requests, super::pins::NEEDS_SECONDS)
}

/// [`construct`], its exact placement of what pins need given at most `seconds`.
pub fn construct_within(state: &mut State, requests: &[usize], seconds: f64) -> usize {
    let order = order(state, requests);
    let placed = insert_in_order(state, requests, &order, &mut |_, _| 0, false);
    let needed_out = requests.iter().any(|&r| {
        state.required(r) && state.assign[r].is_none() && !state.domains.opts[r].is_empty()
    });
    if !needed_out {
        return placed;
    }
    // Pins stay where they are, but those that name no unit of a kind they need may take
    // another unit of it, as validation's test lets them.
    let mut exact = state.clone();
    for &r in requests {
        let fixed = exact.problem.requests[r].pinned() && exact.domains.opts[r].len() == 1;
        if exact.assign[r].is_some() && !fixed {
            exact.remove(r);
        }
    }
    // In index order, as validation's test of the same requests has them: the same model,
    // which the branch and bound settles as fast (in construction order one took over 5 s
    // where validation's took 0.3 s).
    let mut needed: Vec<usize> = requests
        .iter()
        .copied()
        .filter(|&r| exact.required(r) && exact.assign[r].is_none())
        .collect();
    needed.sort_unstable();
    // At most the time validation's test of the same requests had.
    let limits = super::milp::Limits::time(seconds.min(super::pins::NEEDS_SECONDS));
    let super::milp::Placement::Placed(choice) =
        super::backtrack::place_every(&exact, &needed, limits, super::pins::NEEDS_MAX_OPTIONS)
    else {
        return placed;
    };
    if !book(&mut exact, &needed, &|r| {
        needed.binary_search(&r).ok().map(|i| choice[i])
    }) {
        return placed;
    }
    insert_in_order(&mut exact, requests, &order, &mut |_, _| 0, false);
    *state = exact;
    requests
        .iter()
        .filter(|&&r| state.assign[r].is_some())
        .count()
}

/// The last pass over a finished schedule: [`construct`], then each request still out
/// (outside same-day bundles, which construction books whole) booked at its cheapest
/// option that fits, when that lowers the objective, even where it leaves an unplaced
/// successor no start (construction keeps such room for later, and there is no later).
/// Returns how many were placed.
pub fn fill(state: &mut State, requests: &[usize]) -> usize {
    let mut placed = construct(state, requests);
    for r in order(state, requests) {
        if state.assign[r].is_some() || !state.groups(r).is_empty() {
            continue;
        }
        if let Some((delta, oi)) = cheapest_fit(state, r) {
            if delta < 0 {
                state.place(r, oi);
                placed += 1;
            }
        }
    }
    placed
}

/// The cheapest option of unplaced `r` that fits everything placed, links included:
/// `(cost change, option)`, ties to the lower option; `None` if nothing fits.
pub fn cheapest_fit(state: &State, r: usize) -> Option<(i64, u32)> {
    let none = |_: usize| false;
    cheapest_by_floor(state, r, None, |oi| {
        state
            .fits(r, oi, &none)
            .then(|| (state.insert_delta(r, oi), oi))
    })
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
    // Each option's blur is drawn from the option itself and a salt of this repair, not
    // from the stream in the order options are looked at: the search for the cheapest
    // passes most of them by, and which it looks at must not change what the others get.
    let salt: u64 = rng.gen();
    let mut blur = |r: usize, oi: u32| {
        if noise > 0 {
            (splitmix(salt ^ ((r as u64) << 32 | u64::from(oi))) % noise as u64) as i64
        } else {
            0
        }
    };
    insert_in_order(state, requests, &order, &mut blur, false)
}

/// SplitMix64's finaliser: a well-mixed 64-bit value from any 64-bit input.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
    // Bundles that did not fit since the last placement: each of their members would try
    // the same bundle again in the same state, to the same end (a same-day bundle of 200
    // five-minute requests took 200 tries of 7 passes over 200,000 options).
    let mut failed_bundles: Vec<Vec<usize>> = Vec::new();
    let mut failed_at = usize::MAX;
    // Pins first, each at its one option, before a bundle mate or a prerequisite of another
    // pin can take its slot (validation has checked the pins against each other). Placed
    // with their bundles instead, a pin's mate once took the slot of a pin met later.
    for &r in order {
        if state.assign[r].is_some() || !state.problem.requests[r].pinned() {
            continue;
        }
        let waiting = |x: usize| in_scope[x] && state.assign[x].is_none();
        if let Some((_, oi, _)) = best_option(state, r, None, &waiting, &mut |_, _| 0) {
            state.place(r, oi);
            placed += 1;
        }
    }
    // Requests that fit but cost more than leaving them out, alone: a trip is paid once
    // for a day, so with a patient's other such requests on the same day they may gain.
    // (Not when prices judge: what they leave out is contested, and a plain pass follows.)
    let mut uphill: Vec<usize> = Vec::new();
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
            if let Some((delta, oi, judged)) = best_option(state, r, None, &waiting, extra) {
                if (if strict { judged } else { delta }) < 0 || forced(state, r) {
                    state.place(r, oi);
                    placed += 1;
                } else if !strict {
                    uphill.push(r);
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
        if failed_at != placed {
            failed_bundles.clear();
            failed_at = placed;
        }
        if failed_bundles.contains(&members) {
            continue;
        }
        let booked = place_bundle(state, &members, extra, strict);
        if booked == 0 {
            failed_bundles.push(members);
        }
        placed += booked;
    }
    placed + place_companions(state, order, &in_scope, &uphill, extra)
}

/// Tries together each patient's requests left out although one of them fits (`uphill`):
/// the first of those on each day in turn, then the patient's other unplaced requests in
/// `order` each at its best option given what is placed (left out where none fits). The
/// best day is kept when together they lower the objective, so a trip paid once serves
/// several requests. Returns how many are placed.
fn place_companions(
    state: &mut State,
    order: &[usize],
    in_scope: &[bool],
    uphill: &[usize],
    extra: &mut dyn FnMut(usize, u32) -> i64,
) -> usize {
    let patient = |r: usize| state.problem.requests[r].patient;
    let mut placed = 0;
    let mut seen: Vec<usize> = Vec::new();
    for &anchor in uphill {
        let q = patient(anchor);
        if seen.contains(&q) || state.assign[anchor].is_some() {
            continue;
        }
        seen.push(q);
        let members: Vec<usize> = std::iter::once(anchor)
            .chain(order.iter().copied().filter(|&r| {
                r != anchor
                    && in_scope[r]
                    && patient(r) == q
                    && state.assign[r].is_none()
                    && !state.domains.opts[r].is_empty()
                    && state.groups(r).is_empty()
            }))
            .collect();
        if members.len() < 2 {
            continue;
        }
        if let Some(booked) = best_day(state, &members, false, extra) {
            placed += booked;
        }
    }
    placed
}

/// Places `members` in turn, each at its best option given those placed before it, the
/// first on `first_day` when given. `all_or_nothing` (a bundle): links among the members
/// are checked as they are placed, and if one does not fit none is placed (`None`); else
/// one that does not fit is left out, and `None` only when the first does not fit. Returns
/// the objective change (`strict`: with `extra`) and the (request, option) pairs placed,
/// in order.
fn place_greedily(
    state: &mut State,
    members: &[usize],
    first_day: Option<usize>,
    all_or_nothing: bool,
    extra: &mut dyn FnMut(usize, u32) -> i64,
    strict: bool,
) -> Option<(i64, Vec<(usize, u32)>)> {
    let mut done: Vec<(usize, u32)> = Vec::new();
    let mut total = 0;
    for (i, &m) in members.iter().enumerate() {
        let ignore = |x: usize| all_or_nothing && members.contains(&x) && state.assign[x].is_none();
        let on_day = first_day.filter(|_| i == 0);
        match best_option(state, m, on_day, &ignore, extra) {
            Some((delta, oi, judged)) => {
                state.place(m, oi);
                total += if strict { judged } else { delta };
                done.push((m, oi));
            }
            _ if i == 0 || all_or_nothing => {
                unplace(state, &done);
                return None;
            }
            _ => {}
        }
    }
    Some((total, done))
}

/// Takes off what [`place_greedily`] placed, last first.
fn unplace(state: &mut State, done: &[(usize, u32)]) {
    for &(r, _) in done.iter().rev() {
        state.remove(r);
    }
}

/// [`place_greedily`] (not `strict`) with the first member on each day in turn: the day
/// that lowers the objective most is booked again, exactly as it was found (`extra` may
/// be random, so the pairs are replayed rather than searched again). Returns how many were
/// placed, `None` when no day lowers the objective.
fn best_day(
    state: &mut State,
    members: &[usize],
    all_or_nothing: bool,
    extra: &mut dyn FnMut(usize, u32) -> i64,
) -> Option<usize> {
    let mut best: Option<(i64, Vec<(usize, u32)>)> = None;
    for day in 0..state.problem.days.len() {
        let Some((total, done)) =
            place_greedily(state, members, Some(day), all_or_nothing, extra, false)
        else {
            continue;
        };
        unplace(state, &done);
        if total < 0 && best.as_ref().is_none_or(|(t, _)| total < *t) {
            best = Some((total, done));
        }
    }
    let (_, done) = best?;
    for &(r, oi) in &done {
        state.place(r, oi);
    }
    Some(done.len())
}

/// Places all of `members` or none: each at its best option in turn, kept when together
/// they lower the objective (or one must be placed); if not, or if they do not fit whole
/// that way, and not `strict`, the first member is tried on each day in turn and the best
/// day kept. Returns how many were placed.
///
/// (The first member's best option alone may fall on a day the others cannot share, such
/// as a lab's free Monday when the cardiologist's Monday is full: a bundle that fitted whole
/// on Tuesday was never booked, by construction or by any repair.)
fn place_bundle(
    state: &mut State,
    members: &[usize],
    extra: &mut dyn FnMut(usize, u32) -> i64,
    strict: bool,
) -> usize {
    if let Some((total, done)) = place_greedily(state, members, None, true, extra, strict) {
        if total < 0 || members.iter().any(|&m| forced(state, m)) {
            return done.len();
        }
        unplace(state, &done);
    }
    if strict {
        return 0;
    }
    best_day(state, members, true, extra).unwrap_or(0)
}

/// The least objective change of booking the same-day bundle `members` (all unbooked)
/// whole, each member at its best option in turn from the first's day, over every day, on
/// a copy of `state`; `None` when it fits whole on no day.
pub fn bundle_change(state: &State, members: &[usize]) -> Option<i64> {
    let mut trial = state.clone();
    let members = order(&trial, members);
    (0..state.problem.days.len())
        .filter_map(|day| {
            let (change, done) =
                place_greedily(&mut trial, &members, Some(day), true, &mut |_, _| 0, false)?;
            unplace(&mut trial, &done);
            Some(change)
        })
        .min()
}

/// Whether `r` must be placed whatever it costs (a pinned booking or what one needs).
pub fn forced(state: &State, r: usize) -> bool {
    state.required(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::domain::Domains;
    use crate::solve::test_caseloads::{caseload_with, placeable};

    /// [`best_option`] and [`cheapest_fit`] pass provider-days by on a floor under their
    /// cost; they must pick what a look at every option picks. Half-built schedules of generated caseloads
    /// (both grids, patients with waiting and trips to lose), with no extra cost and with
    /// a blur drawn per option; on every day and on one.
    #[test]
    fn best_option_picks_what_a_scan_of_every_option_picks() {
        use rand::SeedableRng;
        let exhaustive =
            |state: &State, r: usize, on_day: Option<usize>, extra: &dyn Fn(usize, u32) -> i64| {
                let none = |_: usize| false;
                let succ_latest: Vec<(i32, Option<i32>)> = state
                    .succs(r)
                    .iter()
                    .map(|&k| state.problem.precedences[k])
                    .filter(|p| state.assign[p.after].is_none())
                    .map(|p| (p.min_gap, latest_start_now(state, p.after)))
                    .collect();
                state
                    .may_fit(r)
                    .filter(|&oi| on_day.is_none_or(|d| state.opt(r, oi).day as usize == d))
                    .filter(|&oi| state.fits(r, oi, &none))
                    .filter(|&oi| {
                        let end = state.opt(r, oi).end;
                        !succ_latest
                            .iter()
                            .any(|&(gap, latest)| latest.is_none_or(|l| end + gap > l))
                    })
                    .map(|oi| {
                        let delta = state.insert_delta(r, oi);
                        (delta + extra(r, oi), state.opt(r, oi).start, oi, delta)
                    })
                    .min()
                    .map(|(judged, _, oi, delta)| (delta, oi, judged))
            };
        let mut compared = 0;
        for (seed, grid) in [(1, 15), (2, 5), (3, 15)] {
            let problem = caseload_with(60, seed, grid, |input| {
                input.weights.idle_per_min = 3;
            });
            let domains = Domains::build(&problem);
            let all = placeable(&domains);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut state = State::new(&problem, &domains);
            construct(&mut state, &all);
            // Take every third request off again, at random, and ask for each.
            let mut taken: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&r| state.assign[r].is_some() && rng.gen_range(0..3) == 0)
                .collect();
            taken.sort_unstable();
            state.with_dependants(&mut taken);
            for &r in &taken {
                state.remove(r);
            }
            let salt: u64 = rng.gen();
            let blur =
                |r: usize, oi: u32| (splitmix(salt ^ (r as u64) << 32 ^ u64::from(oi)) % 40) as i64;
            let none = |_: usize| false;
            for &r in &taken {
                let zero = |_: usize, _: u32| 0i64;
                let extras: [&dyn Fn(usize, u32) -> i64; 2] = [&zero, &blur];
                let day = rng.gen_range(0..problem.days.len());
                for extra in extras {
                    for on_day in [None, Some(day)] {
                        let got = best_option(&state, r, on_day, &none, &mut |r, oi| extra(r, oi));
                        let want = exhaustive(&state, r, on_day, extra);
                        assert_eq!(got, want, "request {r} on {on_day:?}");
                        compared += 1;
                    }
                }
                let every_fit = state
                    .may_fit(r)
                    .filter(|&oi| state.fits(r, oi, &none))
                    .map(|oi| (state.insert_delta(r, oi), oi))
                    .min();
                assert_eq!(cheapest_fit(&state, r), every_fit, "request {r}");
                // Book it where it goes, so that later ones meet fuller days.
                if let Some((delta, oi, _)) = best_option(&state, r, None, &none, &mut |_, _| 0) {
                    if delta < 0 {
                        state.place(r, oi);
                    }
                }
            }
        }
        assert!(compared > 100, "{compared} requests compared");
    }

    /// When a request alone costs no less than leaving it out (its weight is at most the
    /// trip), construction still books a patient's requests together on one day, where
    /// the trip pays for itself (not only same-day bundles); and what it books never costs
    /// more than leaving it out.
    #[test]
    fn requests_too_cheap_alone_go_together_on_one_day() {
        let mut shared_days = 0;
        for seed in 1..=3 {
            let problem = caseload_with(40, seed, 15, |input| {
                input.weights.unplaced_per_priority = 15;
                input.weights.trip = 75;
            });
            let domains = Domains::build(&problem);
            let all = placeable(&domains);
            let mut state = State::new(&problem, &domains);
            let empty_total = state.total();
            construct(&mut state, &all);
            assert!(state.total() <= empty_total);
            // Patient-days with two or more in-person bookings, none worth a trip alone.
            let days = problem.days.len();
            for q in 0..problem.patients.len() {
                for d in 0..days {
                    let booked = state.patient_day(q, d);
                    let in_person = booked
                        .iter()
                        .filter(|&&r| state.placed(r as usize).is_some_and(|o| o.in_person()))
                        .count();
                    // (A same-day bundle is booked whole anyway.)
                    let cheap = booked.iter().all(|&r| {
                        15 * i64::from(problem.requests[r as usize].priority) <= 75
                            && state.groups(r as usize).is_empty()
                    });
                    if in_person >= 2 && in_person == booked.len() && cheap {
                        shared_days += 1;
                    }
                }
            }
        }
        assert!(shared_days > 0, "no day shared by requests too cheap alone");
    }
}
