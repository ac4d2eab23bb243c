//! Large-neighbourhood search over one component: free a neighbourhood (around an unplaced
//! request, one patient's week, one provider-day, room to save a patient a trip, room for
//! the week the bound's relaxation gives a patient), repair it exactly by a depth-first
//! branch and bound ([`repair`]) when small enough (greedily otherwise), keep the result
//! when it is no worse.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::construct;
use super::repair;
use super::state::State;
use super::trajectory::{restore, Position, Trajectory};

/// Search limits.
#[derive(Debug, Clone, Copy)]
pub struct Budget<'a> {
    /// Stop at this instant.
    pub deadline: Instant,
    /// Stop after this many repairs.
    pub max_iterations: u64,
    /// Stop after this many repairs in a row without improvement.
    pub stall: u64,
    /// Stop when set (the caller's cancel flag).
    pub cancel: &'a AtomicBool,
    /// Stop when set, too (another search of the same component is done).
    pub stop: Option<&'a AtomicBool>,
    /// Stop once the state's total is at most this: a bound proves nothing better exists
    /// (`i64::MIN` when there is none).
    pub target: i64,
    /// Under a work budget: neighbourhood kinds and repair methods are weighed by their
    /// payoff per repair, so that the search does not depend on the machine's speed
    /// (otherwise per time spent).
    pub deterministic: bool,
    /// Largest neighbourhood (in candidate options) an exact repair takes; see
    /// [`REPAIR_OPTIONS`].
    pub repair_options: usize,
    /// Which requests the search may move (indexed by request; `None`: all of the
    /// component). Parallel searches of one component each move their own share, so that
    /// what they find can be put together.
    pub movable: Option<&'a [bool]>,
    /// The option each request holds in the bound's relaxed weeks (indexed by request;
    /// `None` for a request they leave out), when known: a neighbourhood makes room for a
    /// patient's week where the relaxation put it.
    pub guide: Option<&'a [Option<u32>]>,
    /// Simulated annealing's starting temperature, in objective units: a repair that ends
    /// worse by `d` is kept with probability `exp(-d / T)`, `T` falling linearly to zero
    /// over the search's first [`ANNEAL_TIME`] (all of it when shorter), with late
    /// acceptance after; the search does not stall while it anneals. `None`: late
    /// acceptance throughout (as under a work budget, since the temperature follows the
    /// clock).
    pub anneal: Option<f64>,
}

impl Budget<'_> {
    /// Whether either flag says stop.
    pub fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Largest neighbourhood (in candidate options) repaired exactly; larger ones are repaired
/// greedily. Refbench at 60 s, 2 threads: 1,000 patients 303040 with 150 options, 303010
/// with 300 and 303805 with 400 (single runs, 1-2 % apart by seed).
pub const REPAIR_OPTIONS: usize = 300;
/// [`REPAIR_OPTIONS`] under a work budget, where a unit of work is a repair: small ones
/// gain more per repair (refbench 100 patients, `--work 300`: 50185 with 60 options, 55585
/// with 300).
pub const WORK_REPAIR_OPTIONS: usize = 60;
/// Search nodes of one exact repair ([`repair::repair`]): a work limit, so a repair ends at
/// the same point on any machine. Refbench 1,000 patients at 60 s: 200 nodes 307090, 500
/// 303040, 2,000 305005, 10,000 306195 (more repairs against fewer proven optimal).
const REPAIR_NODES: u64 = 1_000;
/// Requests freed per neighbourhood.
const MAX_FREE: usize = 14;
/// When the search stalls, neighbourhoods grow by this factor, up to [`MAX_SCALE`] times.
const MAX_SCALE: usize = 4;
/// Neighbourhood kinds: around an unplaced request, a patient's week, a provider-day, a
/// specialty's day, an ejection chain for an unplaced request, a patient's trips drawn
/// together, a patient's week moved to where the bound's relaxation puts it.
const KINDS: usize = 7;
/// The kind that moves a patient's week toward the relaxed one.
const TOWARD_RELAXATION: usize = 6;
/// Options of an unplaced request tried by one ejection chain (a third of it deeper down).
const EJECT_TRIES: usize = 24;
/// Patients drawn to find one whose week differs from the relaxed one.
const GUIDE_TRIES: usize = 8;
/// How many times an ejected request may in turn eject others.
const EJECT_DEPTH: usize = 2;
/// Length of the late-acceptance history, in repairs. Measured at 60 s on refbench (seed
/// 0 unless said): 30 patients 23015 -> 22930, 100 patients 41625 -> 39550 (seed 1 39875
/// -> 39285); in the split searches of a large component, 1,000 patients, seeds 1-4,
/// 305070, 302450, 303085, 304510 against 309740, 309435, 306380, 302705 without, 3,000
/// patients 937980 against 938330. At 300 patients (a component of some 900 requests
/// searched whole) it was worse when first tried, 134045-136715 -> 136195-138665 on three
/// seeds, and was kept to components under 500 requests; with the search of 2026-12-05 it
/// is better there on every seed tried, one run each: seeds 2, 3, 7, 9, 5, 8, 0, 88 67370 /
/// 98235 / 96070 / 124405 / 152305 / 68120 / 74955 / 149100 -> 64890 / 96310 / 94790 /
/// 123755 / 151590 / 66585 / 73500 / 148650.
const LATE_ACCEPTANCE: usize = 100;
/// Longest cooling of an annealed search ([`Budget::anneal`]). A whole component's
/// portfolio searches in rounds of 4 s, each cooling from the full temperature, which is
/// where it was measured.
pub const ANNEAL_TIME: std::time::Duration = std::time::Duration::from_secs(8);
/// Repairs between two listings of the component's unplaced requests (see `improve`).
const UNPLACED_REFRESH: u64 = 64;
/// Share of a split search's draws (one that moves a share of a large component) that
/// take any neighbourhood kind and repair method in use at random rather than by payoff.
/// 60 s, 2 threads, without / with: `careweek generate` 1,000 patients seeds 1 and 3
/// 321970 / 286755 and 405905 / 363370; refbench 3,000 `--seed 7` 1521380 / 1501700-1515565
/// (three runs), 1,000 `--seed 1` 306015 / 294555-298170 (three). A share of 0.5 did no
/// better on any of these four. A component searched whole does without: refbench 300
/// patients, seeds 1-9, one run each, it was behind on seven, and on seeds 2, 5, 7 and 9,
/// two runs each, 0.2-0.9 % behind on average on each.
const EXPLORE_SHARE: f64 = 0.3;
/// Repair methods: exact branch and bound, randomised greedy.
const METHODS: usize = 2;

/// Improves `state` over the requests of `component`; returns the repairs performed.
///
/// Each iteration frees a neighbourhood and repairs it, exactly ([`repair::repair`]) when
/// it is small enough, else (or when exact repairs have not been paying off) with a
/// randomised greedy. Moves that do not worsen the objective are kept, so the search drifts
/// across plateaus; the best state seen is restored at the end. Neighbourhood kinds and repair
/// methods are chosen in proportion to the improvement they have recently brought per
/// second spent (refbench 1,000 patients at 60 s, seeds 1 and 2: 309505 and 305725 counted
/// per repair, 307260 and 300335 per second), under a work budget per repair, so that it
/// gives the same result on any machine; a split search draws a share of them at random
/// (`EXPLORE_SHARE`).
pub fn improve(
    state: &mut State,
    component: &[usize],
    rng: &mut ChaCha8Rng,
    budget: Budget,
    on_improve: &dyn Fn(i64, &State),
) -> u64 {
    improve_on(state, component, rng, budget, on_improve, None)
}

/// [`improve`], walking `walk`'s trajectory with other threads when given: each move kept
/// is published there and the others' moves replayed first (see [`Trajectory`]); the
/// state then ends where the trajectory stands, and [`Trajectory::finish`] puts the best
/// of it back.
pub(super) fn improve_on(
    state: &mut State,
    component: &[usize],
    rng: &mut ChaCha8Rng,
    budget: Budget,
    on_improve: &dyn Fn(i64, &State),
    mut walk: Option<(&Trajectory, &mut Position)>,
) -> u64 {
    let problem = state.problem;
    let movable = |r: usize| budget.movable.is_none_or(|m| m[r]);
    let mut patients: Vec<usize> = component
        .iter()
        .filter(|&&r| movable(r))
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
        .filter(|&r| movable(r) && !state.domains.opts[r].is_empty())
        .collect();
    if placeable.is_empty() {
        return 0;
    }
    let mut best_total = state.total();
    let mut best: Vec<Option<u32>> = component.iter().map(|&r| state.assign[r]).collect();
    // Recent payoff of each (kind, method): an exponential average of the gain per repair.
    let mut payoff = [[1.0f64; METHODS]; KINDS];
    let explore = if budget.movable.is_some() {
        EXPLORE_SHARE
    } else {
        0.0
    };
    if budget.guide.is_none() {
        // Nothing to move toward: never drawn.
        payoff[TOWARD_RELAXATION] = [0.0; METHODS];
    }
    // The component's unplaced requests, which three kinds of neighbourhood draw from:
    // listed anew every `UNPLACED_REFRESH` repairs rather than by a pass over the whole
    // component at every draw (a tenth of the search's time at 3,000 patients); a request
    // placed since is passed over where it is drawn, one left out since waits for the next
    // listing.
    let mut unplaced: Vec<usize> = Vec::new();
    let mut iterations = 0;
    let mut since_improvement = 0;
    // Neighbourhoods start small (cheap, exact repairs) and grow when the search stalls.
    let mut scale = 1;
    // Late acceptance: a repair may also end no worse than the schedule of
    // `LATE_ACCEPTANCE` repairs ago, so the search can cross small ridges (one more trip, a
    // few minutes of waiting) on its way to a better schedule.
    let mut history = vec![state.total(); LATE_ACCEPTANCE];
    let anneal_from = Instant::now();
    let anneal_span = budget
        .deadline
        .saturating_duration_since(anneal_from)
        .min(ANNEAL_TIME)
        .as_secs_f64();
    while iterations < budget.max_iterations
        && best_total > budget.target
        && (since_improvement < budget.stall || scale < MAX_SCALE)
        && Instant::now() < budget.deadline
        && !budget.stopped()
    {
        if since_improvement >= budget.stall {
            scale *= 2;
            since_improvement = 0;
        }
        let limit = MAX_FREE * scale;
        if let Some((trajectory, at)) = walk.as_mut() {
            trajectory.catch_up(state, at);
        }
        if iterations % UNPLACED_REFRESH == 0 {
            unplaced.clear();
            unplaced.extend(placeable.iter().filter(|&&r| state.assign[r].is_none()));
        }
        iterations += 1;
        let (kind, method) = pick(&payoff, explore, rng);
        let repair_started = Instant::now();
        // Payoff per repair under a work budget; else per 100 µs spent, so that costly
        // kinds (ejection chains, greedy repairs of big neighbourhoods) are drawn for what
        // they gain in the time they take.
        let weigh = |gain: f64| {
            if budget.deterministic {
                gain + 0.05
            } else {
                let micros = repair_started.elapsed().as_secs_f64() * 1e6;
                (gain + 0.05) * 100.0 / micros.max(1.0)
            }
        };
        if kind == 4 {
            let before = state.total();
            let log = eject_chain(state, &unplaced, &movable, rng);
            // What the chain itself gained, before any catching up with the trajectory.
            let gain = (before - state.total()).max(0) as f64;
            if let Some((trajectory, at)) = walk.as_mut() {
                if state.total() < before {
                    // The first entry of each request holds its option before the chain.
                    let mut changed: Vec<(usize, Option<u32>)> = Vec::with_capacity(log.len());
                    for &(r, oi) in &log {
                        if !changed.iter().any(|c| c.0 == r) {
                            changed.push((r, oi));
                        }
                    }
                    changed.sort_unstable_by_key(|c| c.0);
                    let (requests, old): (Vec<usize>, Vec<Option<u32>>) =
                        changed.into_iter().unzip();
                    // A chain is kept only where it gains: so too after catching up.
                    trajectory.publish(state, at, &requests, &old, -1);
                }
            }
            payoff[kind][method] = 0.9 * payoff[kind][method] + 0.1 * weigh(gain);
            let now = state.total();
            if now < best_total {
                best_total = now;
                if walk.is_none() {
                    for (k, &r) in component.iter().enumerate() {
                        best[k] = state.assign[r];
                    }
                }
                since_improvement = 0;
                on_improve(now, state);
            } else {
                since_improvement += 1;
            }
            continue;
        }
        let mut free: Vec<usize> = match kind {
            0 => around_unplaced(state, &placeable, &unplaced, &by_patient, rng, limit),
            1 => {
                let q = patients[rng.gen_range(0..patients.len())];
                by_patient[q].clone()
            }
            2 => provider_day(state, &placeable, &by_patient, rng, limit),
            5 => one_trip_less(state, &patients, &by_patient, rng, limit),
            TOWARD_RELAXATION => match budget.guide {
                Some(guide) => toward_relaxation(state, &patients, &by_patient, guide, rng, limit),
                None => Vec::new(),
            },
            _ => specialty_day(state, &placeable, &unplaced, rng, limit),
        };
        free.retain(|&r| movable(r));
        if free.is_empty() {
            since_improvement += 1;
            continue;
        }
        free.sort_unstable();
        free.dedup();
        // Whatever depends on a freed request leaves with it.
        state.with_dependants(&mut free);
        let before = state.total();
        let old: Vec<Option<u32>> = free.iter().map(|&r| state.assign[r]).collect();
        for &r in &free {
            state.remove(r);
        }
        let repaired = method == 0 && exact_repair(state, &free, &old, budget.repair_options);
        if !repaired {
            construct::construct_randomized(state, &free, rng, problem.weights.trip.max(1) / 2);
        }
        let after = state.total();
        let gain = (before - after).max(0) as f64;
        payoff[kind][method] = 0.9 * payoff[kind][method] + 0.1 * weigh(gain);
        let slot = iterations as usize % LATE_ACCEPTANCE;
        let temperature = budget
            .anneal
            // The repair's own start time: no second clock read per repair.
            .map(|t0| {
                let cooled = repair_started.duration_since(anneal_from).as_secs_f64();
                t0 * (1.0 - cooled / anneal_span)
            })
            .filter(|&t| t > 0.0);
        let rejected = match temperature {
            Some(t) => {
                since_improvement = 0;
                after > before && rng.gen::<f64>() >= (-((after - before) as f64) / t).exp()
            }
            None => after > before && after > history[slot],
        };
        if rejected || !state.settled(&free) {
            for &r in &free {
                state.remove(r);
            }
            restore(state, &free, &old);
        } else if let Some((trajectory, at)) = walk.as_mut() {
            trajectory.publish(state, at, &free, &old, (after - before).max(0));
        }
        let now = state.total();
        history[slot] = now;
        if now < best_total {
            best_total = now;
            if walk.is_none() {
                for (k, &r) in component.iter().enumerate() {
                    best[k] = state.assign[r];
                }
            }
            since_improvement = 0;
            on_improve(now, state);
        } else {
            since_improvement += 1;
        }
    }
    if walk.is_none() && state.total() > best_total {
        for &r in component {
            state.remove(r);
        }
        let all: Vec<usize> = component.to_vec();
        restore(state, &all, &best);
    }
    iterations
}

/// A (neighbourhood kind, repair method) drawn in proportion to its payoff, or with
/// probability `explore` at random among those in use.
fn pick(payoff: &[[f64; METHODS]; KINDS], explore: f64, rng: &mut ChaCha8Rng) -> (usize, usize) {
    // Now and then any kind and method in use, whatever its recent payoff: a kind whose
    // gains come rarely but large (around an unplaced request) is otherwise starved by one
    // that gains a little often (the specialty day repaired greedily took 80 % of the
    // search's time on 1,000 generated patients).
    if explore > 0.0 && rng.gen::<f64>() < explore {
        let open = || {
            (0..KINDS)
                .flat_map(|k| (0..METHODS).map(move |m| (k, m)))
                .filter(|&(k, m)| payoff[k][m] > 0.0)
        };
        if let Some(pair) = open().nth(rng.gen_range(0..open().count().max(1))) {
            return pair;
        }
    }
    let total: f64 = payoff.iter().flatten().sum();
    let mut x = rng.gen::<f64>() * total;
    for (k, row) in payoff.iter().enumerate() {
        for (m, &p) in row.iter().enumerate() {
            if x < p {
                return (k, m);
            }
            x -= p;
        }
    }
    (KINDS - 1, METHODS - 1)
}

/// Repairs `free` exactly (see [`repair::repair`]); false (state untouched) when the
/// neighbourhood has more than `max_options` candidates or cannot be booked.
fn exact_repair(
    state: &mut State,
    free: &[usize],
    old: &[Option<u32>],
    max_options: usize,
) -> bool {
    let Some(repaired) = repair::repair(state, free, old, max_options, REPAIR_NODES) else {
        return false;
    };
    construct::book(state, free, &|r| {
        repaired.choice[free.iter().position(|&x| x == r).expect("in free")]
    })
}

/// The requests of `listed` still unplaced.
fn still_unplaced(state: &State, listed: &[usize]) -> Vec<usize> {
    listed
        .iter()
        .copied()
        .filter(|&r| state.assign[r].is_none())
        .collect()
}

/// Placed requests whose provider or resource bookings overlap option `oi` of `r`.
fn blockers(state: &State, r: usize, oi: u32) -> Vec<usize> {
    let o = state.opt(r, oi);
    let day = o.day as usize;
    let mut out: Vec<usize> = state
        .provider_day(o.provider as usize, day)
        .iter()
        .filter(|&&(s, e, _)| s < o.end && o.start < e)
        .map(|&(_, _, x)| x as usize)
        .collect();
    for &u in &o.resources {
        out.extend(
            state
                .resource_day(u as usize, day)
                .iter()
                .filter(|&&(s, e, _)| s < o.end && o.start < e)
                .map(|&(_, _, x)| x as usize),
        );
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// When `r`'s option `oi` lies on a provider-day at its daily cap that the bookings in
/// `ejected` do not relieve, one more of that day's bookings, drawn at random. Without it
/// a chain passed over every option on a full day with nothing overlapping it, and full
/// days are where contested providers' requests are left out (refbench's physios take six
/// a day). 60 s, 2 threads, with / without, one run each: refbench 1,000 `--seed 1`
/// 294960 / 295670, 3,000 `--seed 5` 1150920 / 1154450, the 5-minute grid at 100
/// `--seed 88` 50195 / 50620, 300 `--seed 7` 94545 and 94375 / 94830 and 95145; at 300
/// `--seed 0`, `2`, `3`, `5`, `8` and `77` within the spread by run (1-3 %).
fn at_cap_blocker(
    state: &State,
    r: usize,
    oi: u32,
    ejected: &mut Vec<usize>,
    rng: &mut ChaCha8Rng,
) {
    let o = state.opt(r, oi);
    let day = o.day as usize;
    if !state.provider_at_daily_limit(o.provider, day) {
        return;
    }
    // A day at its cap holds exactly that many bookings: ejecting any one relieves it.
    let booked = state.provider_day(o.provider as usize, day);
    if booked
        .iter()
        .any(|&(_, _, x)| ejected.contains(&(x as usize)))
    {
        return;
    }
    if let Some(&(_, _, x)) = booked.choose(rng) {
        ejected.push(x as usize);
    }
}

/// An ejection chain for an unplaced request drawn by priority: see [`chain`]. Makes room
/// where a greedy repair, which puts the most urgent request back first, would retake the
/// same slot, and where a scarce provider's week must shift by more than one booking.
/// Returns the chain's log: each step's request and its option before the step (empty
/// when nothing moved).
fn eject_chain(
    state: &mut State,
    listed: &[usize],
    movable: &dyn Fn(usize) -> bool,
    rng: &mut ChaCha8Rng,
) -> Log {
    let unplaced = still_unplaced(state, listed);
    let Ok(&r) = unplaced.choose_weighted(rng, |&r| state.problem.requests[r].priority) else {
        return Log::new();
    };
    let mut log = Vec::new();
    chain(state, r, EJECT_DEPTH, movable, rng, &mut log);
    log
}

/// Every placement and removal of a chain, to undo it: `(request, its option before)`.
type Log = Vec<(usize, Option<u32>)>;

fn logged_place(state: &mut State, log: &mut Log, r: usize, oi: u32) {
    log.push((r, None));
    state.place(r, oi);
}

fn logged_remove(state: &mut State, log: &mut Log, r: usize) {
    if let Some(oi) = state.assign[r] {
        log.push((r, Some(oi)));
        state.remove(r);
    }
}

/// Undoes the log back to its length `mark`, newest first, so every step is undone in the
/// state it was made in (and the running total comes back exactly).
fn undo(state: &mut State, log: &mut Log, mark: usize) {
    while log.len() > mark {
        let (r, old) = log.pop().expect("longer than mark");
        match old {
            None => state.remove(r),
            Some(oi) => state.place(r, oi),
        }
    }
}

/// Places unplaced `r` at one of a few of its options by ejecting the one or two bookings in
/// the way (overlapping it, or one of a provider-day at its cap); each ejected request (with
/// what depends on it) goes back at its best free option or, with `depth` left, by a chain
/// of its own, else stays out. The first move that lowers the total is kept; otherwise the
/// state is left as it was.
fn chain(
    state: &mut State,
    r: usize,
    depth: usize,
    movable: &dyn Fn(usize) -> bool,
    rng: &mut ChaCha8Rng,
    log: &mut Log,
) {
    let n = state.domains.opts[r].len();
    let wanted = if depth == EJECT_DEPTH {
        EJECT_TRIES
    } else {
        EJECT_TRIES / 3
    };
    // A few options drawn at random: shuffling all of them took 5 % of the search's time.
    let tries: Vec<u32> = rand::seq::index::sample(rng, n, wanted.min(n))
        .into_iter()
        .map(|oi| oi as u32)
        .collect();
    let none = |_: usize| false;
    let before = state.total();
    for oi in tries {
        let mut ejected = blockers(state, r, oi);
        at_cap_blocker(state, r, oi, &mut ejected, rng);
        if ejected.is_empty() || ejected.len() > 2 {
            continue;
        }
        let mut moved = ejected;
        state.with_dependants(&mut moved);
        if !moved.iter().all(|&x| movable(x)) {
            continue;
        }
        if !fits_once_moved(state, r, oi, &moved) {
            continue;
        }
        let mark = log.len();
        for &x in &moved {
            logged_remove(state, log, x);
        }
        if state.fits(r, oi, &none) {
            logged_place(state, log, r, oi);
            for x in construct::order(state, &moved) {
                if let Some((_, o)) = construct::cheapest_fit(state, x) {
                    logged_place(state, log, x, o);
                } else if depth > 0 {
                    chain(state, x, depth - 1, movable, rng, log);
                }
            }
            moved.push(r);
            if state.total() < before && state.settled(&moved) {
                return;
            }
        }
        undo(state, log, mark);
    }
}

/// Whether `r`'s option `oi` may fit once `moved` leave, judged before they do: the
/// patient's own day (when none of `moved` is theirs) and the links to requests that stay.
/// False only where [`State::fits`] would refuse after the removal, which then need not be
/// made and undone. Under `--work 200000` on refbench's 3,000 patients, 3.4 million of the
/// chains' 9.4 million tries were refused after the removal: 0.8 million by the patient's
/// own day, 2.6 million by a link (a precedence's gap, a prerequisite left out, a bundle
/// mate's day). The same run takes 4 % less time, its output unchanged.
fn fits_once_moved(state: &State, r: usize, oi: u32, moved: &[usize]) -> bool {
    let q = state.problem.requests[r].patient;
    let patient_untouched = moved
        .iter()
        .all(|&x| state.problem.requests[x].patient != q);
    (!patient_untouched || state.fits_patient(r, oi, true))
        && state.fits_links(r, oi, &|x| moved.contains(&x))
}

fn around_unplaced(
    state: &State,
    placeable: &[usize],
    listed: &[usize],
    by_patient: &[Vec<usize>],
    rng: &mut ChaCha8Rng,
    limit: usize,
) -> Vec<usize> {
    let unplaced = still_unplaced(state, listed);
    let Some(&r) = unplaced
        .choose_weighted(rng, |&r| state.problem.requests[r].priority)
        .ok()
    else {
        return provider_day(state, placeable, by_patient, rng, limit);
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
    free.truncate(limit);
    free
}

fn provider_day(
    state: &State,
    placeable: &[usize],
    by_patient: &[Vec<usize>],
    rng: &mut ChaCha8Rng,
    limit: usize,
) -> Vec<usize> {
    let r = placeable[rng.gen_range(0..placeable.len())];
    let opts = &state.domains.opts[r];
    let o = &opts[rng.gen_range(0..opts.len())];
    let mut free = vec![r];
    let day = state.provider_day(o.provider as usize, o.day as usize);
    for &(_, _, x) in day {
        free.push(x as usize);
        if free.len() >= limit {
            break;
        }
    }
    let q = state.problem.requests[r].patient;
    free.extend(by_patient[q].iter().copied());
    free.truncate(limit + 4);
    free
}

/// Every request booked with the providers of one specialty on one day (a random one among
/// those a random request could use), plus the unplaced requests of that specialty.
fn specialty_day(
    state: &State,
    placeable: &[usize],
    listed: &[usize],
    rng: &mut ChaCha8Rng,
    limit: usize,
) -> Vec<usize> {
    let problem = state.problem;
    let r = placeable[rng.gen_range(0..placeable.len())];
    let opts = &state.domains.opts[r];
    let day = opts[rng.gen_range(0..opts.len())].day;
    let specialty_of = |p: usize| problem.providers[p].specialty;
    let specialty = specialty_of(opts[0].provider as usize);
    let mut free = Vec::new();
    for p in (0..problem.providers.len()).filter(|&p| specialty_of(p) == specialty) {
        free.extend(
            state
                .provider_day(p, day as usize)
                .iter()
                .map(|t| t.2 as usize),
        );
    }
    free.shuffle(rng);
    free.truncate(limit);
    // Only requests a provider of the specialty could see, and only their options of that
    // day (options are sorted by day): a scan of every option of every unplaced request took
    // a third of the search's time at 3,000 generated patients.
    let mut unplaced: Vec<usize> = listed
        .iter()
        .copied()
        .filter(|&x| {
            if state.assign[x].is_some()
                || !problem.requests[x]
                    .eligible
                    .iter()
                    .any(|&p| specialty_of(p) == specialty)
            {
                return false;
            }
            let opts = &state.domains.opts[x];
            let from = opts.partition_point(|o| o.day < day);
            opts[from..]
                .iter()
                .take_while(|o| o.day == day)
                .any(|o| specialty_of(o.provider as usize) == specialty)
        })
        .collect();
    unplaced.shuffle(rng);
    unplaced.truncate(limit / 2);
    free.extend(unplaced);
    free
}

/// A patient whose week differs from the bound's relaxed one (`guide`), freed with the
/// bookings in the way of each relaxed option it does not hold: the relaxation, priced
/// for the whole caseload, often knows which days a patient's week fits best.
fn toward_relaxation(
    state: &State,
    patients: &[usize],
    by_patient: &[Vec<usize>],
    guide: &[Option<u32>],
    rng: &mut ChaCha8Rng,
    limit: usize,
) -> Vec<usize> {
    // The relaxed option of `r`, when `r` does not hold it.
    let elsewhere = |r: usize| guide[r].filter(|&oi| state.assign[r] != Some(oi));
    for _ in 0..GUIDE_TRIES {
        let q = patients[rng.gen_range(0..patients.len())];
        if by_patient[q].iter().all(|&r| elsewhere(r).is_none()) {
            continue;
        }
        let mut free = by_patient[q].clone();
        for &r in &by_patient[q] {
            if let Some(oi) = elsewhere(r) {
                free.extend(blockers(state, r, oi));
            }
        }
        free.truncate(limit.max(by_patient[q].len()));
        return free;
    }
    Vec::new()
}

/// A patient who travels on more than one day, and room for their week on one of those
/// days: the patient's requests plus, for each booked on another day, the bookings in the
/// way of one of its options on that day. A repair can then save a trip by moving others.
fn one_trip_less(
    state: &State,
    patients: &[usize],
    by_patient: &[Vec<usize>],
    rng: &mut ChaCha8Rng,
    limit: usize,
) -> Vec<usize> {
    let travelling: Vec<usize> = patients
        .iter()
        .copied()
        .filter(|&q| state.trips(q) >= 2)
        .collect();
    let Some(&q) = travelling.choose(rng) else {
        return Vec::new();
    };
    let mut days: Vec<u16> = by_patient[q]
        .iter()
        .filter_map(|&r| state.placed(r))
        .filter(|o| o.in_person())
        .map(|o| o.day)
        .collect();
    days.sort_unstable();
    days.dedup();
    let Some(&day) = days.choose(rng) else {
        return Vec::new();
    };
    let mut free = by_patient[q].clone();
    for &r in &by_patient[q] {
        if state.placed(r).is_some_and(|o| o.day == day) {
            continue;
        }
        let that_day: Vec<u32> = (0..state.domains.opts[r].len() as u32)
            .filter(|&oi| state.opt(r, oi).day == day)
            .collect();
        if let Some(&oi) = that_day.choose(rng) {
            free.extend(blockers(state, r, oi));
        }
    }
    free.truncate(limit.max(by_patient[q].len()));
    free
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::solve::domain::Domains;
    use crate::solve::test_caseloads::{caseload, caseload_with, placeable};

    /// The check before a chain's removal refuses only options that the state with the
    /// removal made would refuse: every option of every unplaced request of half-built
    /// generated schedules, with what is in its way (and what leaves with it) taken off.
    #[test]
    fn the_check_before_a_removal_refuses_only_what_the_removal_would_not_admit() {
        let none = |_: usize| false;
        let (mut refused, mut admitted) = (0, 0);
        for (seed, grid) in [(1, 15), (2, 5), (4, 15)] {
            let problem = caseload(40, seed, grid);
            let domains = Domains::build(&problem);
            let comp = placeable(&domains);
            let mut state = State::new(&problem, &domains);
            construct::construct(&mut state, &comp);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut taken: Vec<usize> = comp
                .iter()
                .copied()
                .filter(|&r| state.assign[r].is_some() && rng.gen_range(0..3) == 0)
                .collect();
            state.with_dependants(&mut taken);
            for &r in &taken {
                state.remove(r);
            }
            for &r in comp.iter().filter(|&&r| state.assign[r].is_none()) {
                for oi in 0..domains.opts[r].len() as u32 {
                    let mut moved = blockers(&state, r, oi);
                    state.with_dependants(&mut moved);
                    let before = fits_once_moved(&state, r, oi, &moved);
                    let mut after = state.clone();
                    for &x in &moved {
                        after.remove(x);
                    }
                    let fits = after.fits(r, oi, &none);
                    assert!(before || !fits, "request {r} option {oi} refused before");
                    refused += usize::from(!before);
                    admitted += usize::from(fits);
                }
            }
        }
        assert!(
            refused > 0 && admitted > 0,
            "{refused} refused, {admitted} admitted"
        );
    }

    #[test]
    fn a_week_moved_toward_the_relaxation_frees_what_is_in_its_way() {
        let problem = caseload(30, 5, 15);
        let domains = Domains::build(&problem);
        let comp = placeable(&domains);
        let mut state = State::new(&problem, &domains);
        construct::construct(&mut state, &comp);
        let mut by_patient: Vec<Vec<usize>> = vec![Vec::new(); problem.patients.len()];
        for &r in &comp {
            by_patient[problem.requests[r].patient].push(r);
        }
        // A placed request and an option of it that another patient's booking holds.
        let (r, oi, in_the_way) = comp
            .iter()
            .filter(|&&r| state.assign[r].is_some())
            .find_map(|&r| {
                (0..domains.opts[r].len() as u32).find_map(|oi| {
                    let q = problem.requests[r].patient;
                    let others: Vec<usize> = blockers(&state, r, oi)
                        .into_iter()
                        .filter(|&x| problem.requests[x].patient != q)
                        .collect();
                    (!others.is_empty()).then_some((r, oi, others))
                })
            })
            .expect("a constructed week has contested time");
        let q = problem.requests[r].patient;
        let mut rng = ChaCha8Rng::seed_from_u64(1);

        let mut guide = vec![None; problem.requests.len()];
        guide[r] = Some(oi);
        let free = toward_relaxation(&state, &[q], &by_patient, &guide, &mut rng, 1_000);
        assert!(by_patient[q].iter().all(|x| free.contains(x)));
        assert!(in_the_way.iter().all(|x| free.contains(x)));

        // A week already where the relaxation puts it gives no neighbourhood.
        guide[r] = state.assign[r];
        let free = toward_relaxation(&state, &[q], &by_patient, &guide, &mut rng, 1_000);
        assert!(free.is_empty());
    }

    #[test]
    fn a_chain_at_a_providers_daily_cap_ejects_one_of_that_days_bookings() {
        let problem = caseload_with(40, 3, 15, |input| {
            for p in &mut input.providers {
                p.max_per_day = Some(2);
            }
        });
        let domains = Domains::build(&problem);
        let comp = placeable(&domains);
        let mut state = State::new(&problem, &domains);
        construct::construct(&mut state, &comp);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // An unplaced request's option on a day at its cap where no booking overlaps it.
        let (r, oi) = comp
            .iter()
            .filter(|&&r| state.assign[r].is_none())
            .find_map(|&r| {
                (0..domains.opts[r].len() as u32)
                    .find(|&oi| {
                        let o = state.opt(r, oi);
                        state.provider_at_daily_limit(o.provider, o.day as usize)
                            && blockers(&state, r, oi).is_empty()
                    })
                    .map(|oi| (r, oi))
            })
            .expect("caps of two a day leave requests out at a full day");
        let o = state.opt(r, oi);
        let day: Vec<usize> = state
            .provider_day(o.provider as usize, o.day as usize)
            .iter()
            .map(|&(_, _, x)| x as usize)
            .collect();

        let mut ejected = Vec::new();
        at_cap_blocker(&state, r, oi, &mut ejected, &mut rng);
        assert_eq!(ejected.len(), 1);
        let x = ejected[0];
        assert!(day.contains(&x));
        assert!(!state.fits_resources(r, oi));
        let old = state.assign[x].expect("booked");
        state.remove(x);
        assert!(state.fits_resources(r, oi));
        state.place(x, old);

        // A booking of that day already being ejected relieves the cap: nothing is added.
        let mut ejected = vec![x];
        at_cap_blocker(&state, r, oi, &mut ejected, &mut rng);
        assert_eq!(ejected, [x]);
    }
}
