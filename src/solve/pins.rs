//! Pinned bookings that cannot be kept. A pin is a hard constraint: when one breaks a
//! calendar rule, clashes with another pin, or needs a prerequisite or bundle mate that has
//! no room beside the pins, the week has no feasible schedule. Validation reports such pins
//! (E030) before anything is solved, so the solver never has to drop one.
//!
//! The check is exact for each pin alone and for pins against each other; a required
//! request (a pin's prerequisite or bundle mate) is reported when no option of its own fits
//! beside the pins; and when each fits alone, all required requests are placed together
//! beside the pins, by a search and then the exact model (module `backtrack`), which either
//! proves that no schedule keeps the pins or shows one (the solver's construction falls
//! back on the same placement). Past the search's and the model's limits, what is left is
//! for the solver. Pins that name no unit of a resource kind may take any unit: a search
//! over their units settles whether they clash.

use crate::model::Modality;
use crate::problem::{Interval, Problem};
use crate::time::ClockTime;

use super::domain::{request_domain, Domains};
use super::explain;
use super::state::State;

/// A pinned booking that no feasible schedule keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenPin {
    /// Request index of the pin.
    pub request: usize,
    /// Why it cannot be kept, naming the rule, people and times.
    pub reason: String,
}

/// Every pinned booking that cannot be kept, in request order (one reason each).
pub fn broken_pins(problem: &Problem) -> Vec<BrokenPin> {
    let n = problem.requests.len();
    let pins: Vec<usize> = (0..n).filter(|&r| problem.requests[r].pinned()).collect();
    if pins.is_empty() {
        return Vec::new();
    }
    let required = &problem.required;
    let (mut opts, mut empty) = (vec![Vec::new(); n], vec![None; n]);
    for r in (0..n).filter(|&r| required[r]) {
        match request_domain(problem, r) {
            Ok(found) => opts[r] = found,
            Err(why) => empty[r] = Some(why),
        }
    }
    let domains = Domains::new(problem, opts, empty);
    let needed: Vec<(usize, Vec<usize>)> = pins.iter().map(|&p| (p, needs(problem, p))).collect();
    let mut broken: Vec<BrokenPin> = Vec::new();

    // Each pin alone, against the calendars.
    for &r in &pins {
        if domains.opts[r].is_empty() {
            let reason = slot_conflict(problem, r)
                .or_else(|| domains.empty[r].as_ref().map(|(_, why)| why.clone()))
                .unwrap_or_else(|| explain::pinned_conflict(problem, r));
            flag(&mut broken, r, reason);
        }
    }
    // What a pin needs and can never have.
    for (pin, needs) in &needed {
        let pin = *pin;
        for &m in needs {
            if m != pin && domains.opts[m].is_empty() && !problem.requests[m].pinned() {
                let why = domains.empty[m]
                    .as_ref()
                    .map_or(String::new(), |(_, w)| format!(": {w}"));
                flag(
                    &mut broken,
                    pin,
                    format!(
                        "it needs {}, which has no possible slot{why}",
                        label(problem, m)
                    ),
                );
            }
        }
    }

    // Pins against each other, in time order.
    let mut state = State::new(problem, &domains);
    let mut order: Vec<usize> = pins
        .iter()
        .copied()
        .filter(|&r| !domains.opts[r].is_empty())
        .collect();
    order.sort_by_key(|&r| (domains.opts[r][0].start, r));
    let mut failed: Vec<usize> = Vec::new();
    for &r in &order {
        match first_fit(&state, r) {
            Some(oi) => state.place(r, oi),
            None => failed.push(r),
        }
    }
    // A pin that names no unit of a resource kind it needs has one option per unit: the
    // first that fits may be the one another pin needs. Then only a search over the units
    // tells a clash from a bad choice.
    let units_open = order.iter().any(|&r| domains.opts[r].len() > 1);
    if !failed.is_empty() && units_open {
        // Only the pins tied to a failed one (through time, units, providers, patients or
        // links) can make room for it; the others keep their first fit. Each such group is
        // settled on its own.
        let mut refused: Vec<usize> = Vec::new();
        for group in tied_groups(&state, &order, &failed) {
            match keep_some(&state, &group, &group) {
                Ok(kept) => state = kept,
                // Not settled: left to the solver, as pins the tests below cannot judge are.
                Err(Kept::Unknown) => {}
                // The pins the first fit left out cannot all be kept; as few as can be
                // are refused: each is let back in while the rest still fit.
                Err(_) => {
                    let mut out: Vec<usize> = failed
                        .iter()
                        .copied()
                        .filter(|r| group.contains(r))
                        .collect();
                    let mut i = 0;
                    while i < out.len() {
                        let trial: Vec<usize> = group
                            .iter()
                            .copied()
                            .filter(|p| !out.contains(p) || *p == out[i])
                            .collect();
                        match keep_some(&state, &group, &trial) {
                            Ok(kept) => {
                                state = kept;
                                out.remove(i);
                            }
                            Err(_) => i += 1,
                        }
                    }
                    refused.extend(out);
                }
            }
        }
        failed = refused;
    }
    for r in failed {
        let reason = clash(&mut state, r);
        flag(&mut broken, r, reason);
    }
    // Required requests beside the pins that were kept.
    let mut no_room: Vec<BrokenPin> = Vec::new();
    for m in (0..n).filter(|&m| required[m] && !problem.requests[m].pinned()) {
        if domains.opts[m].is_empty() {
            continue;
        }
        let unplaced = |x: usize| state.assign[x].is_none();
        let fits = (0..domains.opts[m].len() as u32).any(|oi| state.fits(m, oi, &unplaced));
        if !fits {
            for (pin, needs) in &needed {
                let pin = *pin;
                if state.assign[pin].is_some() && needs.contains(&m) {
                    flag(
                        &mut no_room,
                        pin,
                        format!(
                            "it needs {}{}, and no slot for it fits beside the pinned bookings (link gaps, {}'s other appointments, caps or travel)",
                            label(problem, m),
                            relation(problem, m, pin),
                            explain::patient_name(problem, m)
                        ),
                    );
                }
            }
        }
    }
    if !no_room.is_empty() && impossible_with_units_open(&state, &needed) {
        for b in no_room {
            flag(&mut broken, b.request, b.reason);
        }
    }
    if broken.is_empty() {
        competing_needs(&state, &needed, &mut broken);
    }
    broken.sort_by_key(|b| b.request);
    broken
}

/// The first option of pin `r` that fits beside what `state` holds (links to requests not
/// placed yet are judged when those are).
fn first_fit(state: &State, r: usize) -> Option<u32> {
    let unplaced = |x: usize| state.assign[x].is_none();
    (0..state.domains.opts[r].len() as u32).find(|&oi| state.fits(r, oi, &unplaced))
}

/// Options tried, in all, by the search over pins' units: a work limit, so that the
/// verdict is the same on any machine.
const PIN_SEARCH_NODES: usize = 200_000;
/// Most pins the search over units takes on (one level deeper per pin; a thread's stack
/// holds several thousand).
const PIN_SEARCH_MAX_PINS: usize = 5_000;

/// What the search over pins' units found.
enum Kept {
    /// Every pin placed (in the state searched).
    All,
    /// No choice of units keeps them all: proven.
    Impossible,
    /// The search reached its limit.
    Unknown,
}

/// Every unit some option of `r` holds, ascending: for a pin that names no unit of a kind,
/// each unit of it that fits.
fn units_of(state: &State, r: usize) -> Vec<u32> {
    let mut units: Vec<u32> = state.domains.opts[r]
        .iter()
        .flat_map(|o| o.resources.iter().copied())
        .collect();
    units.sort_unstable();
    units.dedup();
    units
}

/// The groups of pins of `order` (sorted by start) tied, directly or through others, to one
/// of `failed`, each in `order`'s order. Two pins are tied when they are the same patient's, linked,
/// on the same provider-day with a cap, or at overlapping times with the same provider or
/// a unit both could use: whatever one holds may be what the other needs.
fn tied_groups(state: &State, order: &[usize], failed: &[usize]) -> Vec<Vec<usize>> {
    let problem = state.problem;
    let opts = &state.domains.opts;
    let mut parent: Vec<usize> = (0..order.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let join = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (root(parent, a), root(parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    };
    let at: std::collections::HashMap<usize, usize> =
        order.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    let mut first_of: std::collections::HashMap<(u8, usize), usize> = Default::default();
    let all_units: Vec<Vec<u32>> = order.iter().map(|&r| units_of(state, r)).collect();
    let mut active: Vec<usize> = Vec::new();
    for (i, &r) in order.iter().enumerate() {
        let o = &opts[r][0];
        let capped = problem.providers[o.provider as usize].max_per_day.is_some();
        let mut keys = vec![(0u8, problem.requests[r].patient)];
        if capped {
            keys.push((1, o.provider as usize * problem.days.len() + o.day as usize));
        }
        for key in keys {
            match first_of.get(&key) {
                Some(&j) => join(&mut parent, i, j),
                None => {
                    first_of.insert(key, i);
                }
            }
        }
        active.retain(|&j| opts[order[j]][0].end > o.start);
        for &j in &active {
            let other = &opts[order[j]][0];
            let shared = all_units[i]
                .iter()
                .any(|u| all_units[j].binary_search(u).is_ok());
            if other.provider == o.provider || shared {
                join(&mut parent, i, j);
            }
        }
        active.push(i);
    }
    for p in &problem.precedences {
        if let (Some(&a), Some(&b)) = (at.get(&p.before), at.get(&p.after)) {
            join(&mut parent, a, b);
        }
    }
    for group in &problem.same_day {
        let inside: Vec<usize> = group.iter().filter_map(|m| at.get(m).copied()).collect();
        for pair in inside.windows(2) {
            join(&mut parent, pair[0], pair[1]);
        }
    }
    let mut roots: Vec<usize> = failed
        .iter()
        .filter_map(|r| at.get(r).copied())
        .map(|i| root(&mut parent, i))
        .collect();
    roots.sort_unstable();
    roots.dedup();
    roots
        .iter()
        .map(|&g| {
            (0..order.len())
                .filter(|&i| root(&mut parent, i) == g)
                .map(|i| order[i])
                .collect()
        })
        .collect()
}

/// Whether at the start of one of `group`'s pins, the pins then under way need more units
/// of some kind than can be given them, each its own: a proof that no choice of units keeps
/// them all, found by a largest matching of pins to the units each could use (a pin that
/// needs two of a kind counts twice). The search over units cannot prove this for many
/// interchangeable units in reasonable time (nine pins, eight MRIs).
fn units_short(state: &State, group: &[usize]) -> bool {
    let problem = state.problem;
    let opts = &state.domains.opts;
    for &at in group {
        let t = opts[at][0].start;
        let under_way: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&p| opts[p][0].start <= t && t < opts[p][0].end)
            .collect();
        let mut kinds: Vec<&str> = under_way
            .iter()
            .flat_map(|&p| opts[p][0].resources.iter())
            .map(|&u| problem.input.resources[u as usize].kind.as_str())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let of_kind = |u: &u32| problem.input.resources[*u as usize].kind == kind;
            // One entry per unit of the kind a pin needs: the units it could take.
            let mut wants: Vec<Vec<u32>> = Vec::new();
            for &p in &under_way {
                let need = opts[p][0].resources.iter().filter(|u| of_kind(u)).count();
                let could: Vec<u32> = units_of(state, p).into_iter().filter(of_kind).collect();
                wants.extend(std::iter::repeat_n(could, need));
            }
            if matching_size(&wants) < wants.len() {
                return true;
            }
        }
    }
    false
}

/// The size of a largest matching of the entries of `wants` to distinct units, each entry
/// to one of its own (augmenting paths).
fn matching_size(wants: &[Vec<u32>]) -> usize {
    fn augment(
        i: usize,
        wants: &[Vec<u32>],
        holder: &mut std::collections::HashMap<u32, usize>,
        seen: &mut Vec<u32>,
    ) -> bool {
        for &u in &wants[i] {
            if seen.contains(&u) {
                continue;
            }
            seen.push(u);
            let free = match holder.get(&u) {
                None => true,
                Some(&j) => augment(j, wants, holder, seen),
            };
            if free {
                holder.insert(u, i);
                return true;
            }
        }
        false
    }
    let mut holder = std::collections::HashMap::new();
    (0..wants.len())
        .filter(|&i| augment(i, wants, &mut holder, &mut Vec::new()))
        .count()
}

/// `state` with the pins of `group` taken out and those of `keep` (some of them, by start)
/// placed where they all fit, or why that cannot be shown: [`Kept::Impossible`] when units
/// are short or the search over units is exhausted, [`Kept::Unknown`] past its limits.
fn keep_some<'a>(state: &State<'a>, group: &[usize], keep: &[usize]) -> Result<State<'a>, Kept> {
    if units_short(state, keep) {
        return Err(Kept::Impossible);
    }
    if keep.len() > PIN_SEARCH_MAX_PINS {
        return Err(Kept::Unknown);
    }
    let mut search = state.clone();
    for &p in group {
        if search.assign[p].is_some() {
            search.remove(p);
        }
    }
    let mut nodes = 0;
    match keep_all(&mut search, keep, &mut nodes) {
        Kept::All => Ok(search),
        other => Err(other),
    }
}

/// Places the pins of `order` (from its first, each with the pins before it) at options
/// that fit together, by a depth-first search over their options.
fn keep_all(state: &mut State, order: &[usize], nodes: &mut usize) -> Kept {
    let Some((&r, rest)) = order.split_first() else {
        return Kept::All;
    };
    let mut unknown = false;
    for oi in 0..state.domains.opts[r].len() as u32 {
        *nodes += 1;
        if *nodes > PIN_SEARCH_NODES {
            return Kept::Unknown;
        }
        let unplaced = |x: usize| state.assign[x].is_none();
        if !state.fits(r, oi, &unplaced) {
            continue;
        }
        state.place(r, oi);
        match keep_all(state, rest, nodes) {
            Kept::All => return Kept::All,
            Kept::Unknown => unknown = true,
            Kept::Impossible => {}
        }
        state.remove(r);
        if unknown {
            return Kept::Unknown;
        }
    }
    Kept::Impossible
}

/// Size and time limits (in all) of the exact test of pins' needs taken together. The
/// models are small (what pins need, beside the pins); past these the solver is left to
/// try.
pub(super) const NEEDS_MAX_OPTIONS: usize = 20_000;
pub(super) const NEEDS_SECONDS: f64 = 5.0;

/// Every request some pin needs (not itself a pin), placed together beside the pins by the
/// exact model, when the greedy test above found room for each alone. When they cannot
/// all be placed, the pins whose needs clash are named: a smallest set of pins (each
/// needed for the clash) found by leaving pins' needs out one at a time.
fn competing_needs(state: &State, needed: &[(usize, Vec<usize>)], broken: &mut Vec<BrokenPin>) {
    let problem = state.problem;
    let needs_of = |pins: &[usize]| -> Vec<usize> {
        let mut out: Vec<usize> = needed
            .iter()
            .filter(|(p, _)| pins.contains(p))
            .flat_map(|(_, m)| m.iter().copied())
            .filter(|&m| !problem.requests[m].pinned())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    // One time limit for the test and for naming the pins: a set not made smallest in
    // time is still one whose needs no schedule places.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(NEEDS_SECONDS);
    let impossible = |pins: &[usize]| {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        // Out of time, a pin stays in the set (its search alone may take a second).
        if left.is_zero() {
            return false;
        }
        super::backtrack::place_every(
            state,
            &needs_of(pins),
            super::milp::Limits::time(left.as_secs_f64()),
            NEEDS_MAX_OPTIONS,
        ) == super::milp::Placement::Impossible
    };
    let mut clash: Vec<usize> = needed
        .iter()
        .filter(|(p, m)| state.assign[*p].is_some() && m.len() > 1)
        .map(|(p, _)| *p)
        .collect();
    if clash.is_empty() || !impossible(&clash) || !impossible_with_units_open(state, needed) {
        return;
    }
    let mut i = 0;
    while i < clash.len() && clash.len() > 1 {
        let mut without = clash.clone();
        without.remove(i);
        if impossible(&without) {
            clash = without;
        } else {
            i += 1;
        }
    }
    let wanted = in_words(
        needs_of(&clash)
            .iter()
            .map(|&m| label(problem, m))
            .collect(),
    );
    for &pin in &clash {
        let others: Vec<String> = clash
            .iter()
            .filter(|&&p| p != pin)
            .map(|&p| format!("'{}'", problem.input.requests[p].id))
            .collect();
        let who = match others.len() {
            0 => "it needs".to_string(),
            1 => format!("it and the pinned booking of {} need", others[0]),
            _ => format!("it and the pinned bookings of {} need", in_words(others)),
        };
        flag(
            broken,
            pin,
            format!(
                "{who} {wanted}, and no schedule places them all beside the pinned bookings: they compete for the same providers' time, caps, resources or the patients' travel"
            ),
        );
    }
}

/// Whether what the placed pins need cannot be placed beside them even when the pins that
/// name no unit of a kind may take any unit of it: the proof that a refusal found with those
/// pins at the units first chosen holds for every choice. Only those whose units the needs
/// could use are moved; it is true at once when there are none.
fn impossible_with_units_open(state: &State, needed: &[(usize, Vec<usize>)]) -> bool {
    let problem = state.problem;
    let opts = &state.domains.opts;
    let mut needs: Vec<usize> = needed
        .iter()
        .filter(|(p, _)| state.assign[*p].is_some())
        .flat_map(|(_, m)| m.iter().copied())
        .filter(|&m| !problem.requests[m].pinned())
        .collect();
    needs.sort_unstable();
    needs.dedup();
    // Only a pin whose units what pins need could use (or a pin could use in its place,
    // and so on) matters: the others' units make no room for the needs, and moving them
    // only multiplies the search (six pins with 27 unit choices each, beside prerequisites
    // that need no unit, ran the search to its limit).
    let mut reach: Vec<u32> = needs.iter().flat_map(|&m| units_of(state, m)).collect();
    // Each movable pin with its units, worked out once for the passes below.
    let mut movable: Vec<(usize, Vec<u32>)> = needed
        .iter()
        .map(|(p, _)| *p)
        .filter(|&p| state.assign[p].is_some() && opts[p].len() > 1)
        .map(|p| (p, units_of(state, p)))
        .collect();
    let mut open: Vec<usize> = Vec::new();
    loop {
        let before = open.len();
        movable.retain(|(p, units)| {
            let reached = units.iter().any(|u| reach.contains(u));
            if reached {
                open.push(*p);
                reach.extend(units);
            }
            !reached
        });
        if open.len() == before {
            break;
        }
    }
    if open.is_empty() {
        return true;
    }
    let mut loose = state.clone();
    for &p in &open {
        loose.remove(p);
    }
    let mut free: Vec<usize> = needs.into_iter().chain(open).collect();
    free.sort_unstable();
    free.dedup();
    super::backtrack::place_every(
        &loose,
        &free,
        super::milp::Limits::time(NEEDS_SECONDS),
        NEEDS_MAX_OPTIONS,
    ) == super::milp::Placement::Impossible
}

/// "a", "a and b", "a, b and c".
fn in_words(mut items: Vec<String>) -> String {
    match items.len() {
        0 | 1 => items.pop().unwrap_or_default(),
        _ => {
            let last = items.pop().expect("two or more");
            format!("{} and {last}", items.join(", "))
        }
    }
}

/// Records the first reason found for `pin`.
fn flag(broken: &mut Vec<BrokenPin>, pin: usize, reason: String) {
    if !broken.iter().any(|b| b.request == pin) {
        broken.push(BrokenPin {
            request: pin,
            reason,
        });
    }
}

/// The requests a pin cannot be kept without: itself, its prerequisites and bundle mates,
/// transitively.
fn needs(problem: &Problem, pin: usize) -> Vec<usize> {
    let mut out = vec![pin];
    let mut i = 0;
    while i < out.len() {
        let x = out[i];
        let mut next: Vec<usize> = problem
            .precedences
            .iter()
            .filter(|p| p.after == x)
            .map(|p| p.before)
            .collect();
        for group in problem.same_day.iter().filter(|g| g.contains(&x)) {
            next.extend(group.iter().copied());
        }
        for y in next {
            if !out.contains(&y) {
                out.push(y);
            }
        }
        i += 1;
    }
    out
}

/// How `m` must stand to `pin`, when they are linked directly.
fn relation(problem: &Problem, m: usize, pin: usize) -> String {
    if let Some(p) = problem
        .precedences
        .iter()
        .find(|p| p.before == m && p.after == pin)
    {
        let max = p
            .max_gap
            .map_or(String::new(), |x| format!(" and at most {x} min"));
        return format!(" to end at least {} min{max} before it", p.min_gap);
    }
    if problem
        .same_day
        .iter()
        .any(|g| g.contains(&m) && g.contains(&pin))
    {
        return " on the same day".into();
    }
    String::new()
}

fn label(problem: &Problem, r: usize) -> String {
    format!(
        "the {} ('{}')",
        explain::what(problem, r),
        problem.input.requests[r].id
    )
}

/// The first calendar rule the pinned slot of `r` breaks, if one does.
fn slot_conflict(problem: &Problem, r: usize) -> Option<String> {
    let req = &problem.requests[r];
    let e = req.existing.as_ref()?;
    let raw = problem.input.requests[r].existing.as_ref()?;
    let day = problem.day_of(e.start)?;
    let slot = Interval::new(e.start, e.start + req.duration);
    let when = format!(
        "{} {}–{}",
        explain::day_label(problem, day),
        ClockTime(raw.start.minute_of_day()),
        ClockTime((raw.start.minute_of_day() + req.duration as u32) % (24 * 60))
    );
    let patient = explain::patient_name(problem, r);
    let raw_patient = &problem.input.patients[req.patient];
    let prov = &problem.input.providers[e.provider];
    let prov_name = prov.name.clone().unwrap_or_else(|| prov.id.clone());

    if day < req.day_lo || day > req.day_hi {
        return Some(format!(
            "it is on {}, outside the request's dates ({})",
            explain::day_label(problem, day),
            explain::day_range(problem, r)
        ));
    }
    if req.modality != Modality::Either && req.modality != e.modality {
        return Some(format!(
            "it is booked {}, but the request is to be seen {}",
            modality_words(e.modality),
            modality_words(req.modality)
        ));
    }
    if let (Some(plan), Some(accepted)) = (&raw_patient.insurance, &prov.insurance) {
        if !accepted.iter().any(|a| a == plan) {
            return Some(format!(
                "{prov_name} does not accept {patient}'s insurance plan '{plan}'"
            ));
        }
    }
    if e.modality == Modality::Telehealth && !(prov.telehealth && raw_patient.telehealth) {
        let who = if prov.telehealth {
            patient.clone()
        } else {
            prov_name.clone()
        };
        return Some(format!("it is telehealth, which {who} cannot do"));
    }
    if !problem.providers[e.provider].free[day]
        .iter()
        .any(|w| w.contains(&slot))
    {
        return Some(format!(
            "{prov_name} is not free {when} (outside working hours, or an exception or other booking)"
        ));
    }
    let patient_ix = &problem.patients[req.patient];
    if !patient_ix.available[day].iter().any(|w| w.contains(&slot)) {
        return Some(format!("{patient} is not available {when}"));
    }
    if let Some(b) = patient_ix
        .blocks
        .iter()
        .find(|b| slot.overlaps(&Interval::new(b.interval.start, b.recovery_end)))
    {
        let recovery = if b.recovery_end > b.interval.end {
            " or the recovery after it"
        } else {
            ""
        };
        return Some(format!("{when} overlaps {patient}'s {}{recovery}", b.label));
    }
    for &u in &e.resources {
        let res = &problem.resources[u];
        let id = &problem.input.resources[u].id;
        if !res.free[day].iter().any(|w| w.contains(&slot)) {
            return Some(format!("resource '{id}' is not free {when}"));
        }
        let site_ok = match (res.site, e.modality) {
            (None, _) => true,
            (Some(s), Modality::InPerson) => s == problem.providers[e.provider].site,
            (Some(_), _) => false,
        };
        if !site_ok {
            return Some(format!("resource '{id}' is not at {prov_name}'s site"));
        }
    }
    if !req.resource_kinds.is_empty() || req.language.is_some() {
        return Some(format!(
            "no {} it needs is free at {prov_name}'s site {when}",
            if req.language.is_some() {
                "resource or interpreter"
            } else {
                "resource"
            }
        ));
    }
    None
}

fn modality_words(m: Modality) -> &'static str {
    match m {
        Modality::InPerson => "in person",
        Modality::Telehealth => "as telehealth",
        Modality::Either => "in person or as telehealth",
    }
}

/// Why pin `r` does not fit beside the pins placed so far: the pin it clashes with, when
/// taking one away makes room, else the caps those pins fill together.
fn clash(state: &mut State, r: usize) -> String {
    let problem = state.problem;
    let placed: Vec<usize> = (0..problem.requests.len())
        .filter(|&x| state.assign[x].is_some())
        .collect();
    for &q in &placed {
        let Some(kept_at) = state.assign[q] else {
            continue;
        };
        state.remove(q);
        let fits = first_fit(state, r);
        state.place(q, kept_at);
        if let Some(oi) = fits {
            return format!(
                "it clashes with the pinned booking of {}: {}",
                label(problem, q),
                clash_kind(state, r, oi, q)
            );
        }
    }
    let q = problem.requests[r].patient;
    let o = state.opt(r, 0);
    let patient = &problem.input.patients[q];
    let mut caps = Vec::new();
    if let Some(max) = patient.max_trips {
        caps.push(format!(
            "{}'s cap of {max} trip(s) a week",
            explain::patient_name(problem, r)
        ));
    }
    if let Some(max) = patient.max_per_day {
        caps.push(format!(
            "{}'s cap of {max} appointment(s) a day",
            explain::patient_name(problem, r)
        ));
    }
    let prov = &problem.input.providers[o.provider as usize];
    if let Some(max) = prov.max_per_day {
        caps.push(format!(
            "{}'s cap of {max} appointment(s) a day",
            prov.name.clone().unwrap_or_else(|| prov.id.clone())
        ));
    }
    format!(
        "together with the other pinned bookings it exceeds {}",
        if caps.is_empty() {
            "a cap".to_string()
        } else {
            caps.join(" or ")
        }
    )
}

/// Each unit of `kind` pin `r` could use, with the placed booking that holds it during
/// `r`'s slot: "'m0' by 'a', 'm1' by 'b'".
fn holders(state: &State, r: usize, kind: &str) -> String {
    let problem = state.problem;
    let o = state.opt(r, 0);
    let named: Vec<String> = units_of(state, r)
        .into_iter()
        .filter(|&u| problem.input.resources[u as usize].kind == kind)
        .map(|u| {
            let holder = state
                .resource_day(u as usize, o.day as usize)
                .iter()
                .find(|&&(s, e, x)| x as usize != r && s < o.end && o.start < e);
            let id = &problem.input.resources[u as usize].id;
            match holder {
                Some(&(_, _, x)) => {
                    format!("'{id}' by '{}'", problem.input.requests[x as usize].id)
                }
                None => format!("'{id}'"),
            }
        })
        .collect();
    in_words(named)
}

/// What rule two pins break together.
fn clash_kind(state: &State, r: usize, oi: u32, q: usize) -> String {
    let problem = state.problem;
    let (a, b) = (state.opt(r, oi), state.placed(q).expect("placed"));
    let overlap = a.interval().overlaps(&b.interval());
    let linked = problem
        .precedences
        .iter()
        .any(|p| (p.before, p.after) == (r, q) || (p.before, p.after) == (q, r));
    let bundled = problem
        .same_day
        .iter()
        .any(|g| g.contains(&r) && g.contains(&q));
    if a.provider == b.provider && overlap {
        return "both are with the same provider at overlapping times".into();
    }
    if let Some(u) = a.resources.iter().find(|u| b.resources.contains(u)) {
        if overlap {
            let resource = &problem.input.resources[*u as usize];
            if state.domains.opts[r].len() > 1 {
                return format!(
                    "it names no unit of '{}', and every one it could use is held by a pinned booking at overlapping times: {}",
                    resource.kind,
                    holders(state, r, &resource.kind)
                );
            }
            return format!("both need resource '{}' at overlapping times", resource.id);
        }
    }
    if linked {
        return "the time between them breaks the precedence linking them".into();
    }
    if bundled && a.day != b.day {
        return "they must be on the same day".into();
    }
    let same_patient = problem.requests[r].patient == problem.requests[q].patient;
    if same_patient && a.day == b.day {
        if overlap {
            return format!(
                "{} cannot be at both at once",
                explain::patient_name(problem, r)
            );
        }
        if let (Some(x), Some(y)) = (a.site, b.site) {
            let minutes = problem.travel[x as usize][y as usize];
            if minutes > 0 {
                return format!(
                    "{} needs {minutes} min to travel between their sites",
                    explain::patient_name(problem, r)
                );
            }
        }
    }
    "together they exceed a cap (appointments a day or trips a week)".into()
}
