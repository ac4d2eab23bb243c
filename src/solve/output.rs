//! The schedule's parts from a solved state: the objective by term, the placed
//! appointments in local time, and a reason for every unplaced request.

use chrono::{DateTime, FixedOffset, Utc};

use crate::model::Modality;
use crate::problem::Problem;
use crate::schedule::{Objective, Placed, Unplaced, UnplacedCode};

use super::state::{self, State};
use super::{construct, domain, explain};

pub(super) fn objective_terms(state: &State) -> Objective {
    let problem = state.problem;
    let w = &problem.weights;
    let mut obj = Objective::default();
    for (r, req) in problem.requests.iter().enumerate() {
        match state.placed(r) {
            None => {
                obj.unplaced += w.unplaced_per_priority * req.priority as i64;
                if req.existing.as_ref().is_some_and(|e| !e.pinned) {
                    obj.moved += w.moved;
                }
            }
            Some(o) => {
                let day = o.day as usize;
                let patient = &problem.patients[req.patient];
                if patient
                    .prefers
                    .is_some_and(|p| p != problem.part_of_day(day, o.start))
                {
                    obj.part_of_day += w.part_of_day;
                }
                if req
                    .preferred_provider
                    .is_some_and(|p| p != o.provider as usize)
                {
                    obj.provider += w.provider;
                }
                if !patient.preferred_day[day] {
                    obj.preferred_day += w.preferred_day;
                }
                if req.existing.as_ref().is_some_and(|e| !e.pinned)
                    && !domain::same_as_existing(req.existing.as_ref(), o)
                {
                    obj.moved += w.moved;
                }
            }
        }
    }
    for q in 0..problem.patients.len() {
        for d in 0..problem.days.len() {
            let cost = state.patient_day_cost(q, d, None);
            if cost > 0 {
                obj.trips += w.trip;
                obj.idle += cost - w.trip;
            }
        }
    }
    obj.with_total()
}

/// The instant of absolute minute 0: the week's first local midnight (as validation places
/// it: past the clocks' gap when they skip it).
pub fn week_origin(problem: &Problem) -> DateTime<Utc> {
    crate::validate::instant(problem.tz, problem.input.week.start, 0)
}

fn local(
    problem: &Problem,
    origin: DateTime<Utc>,
    minute: i32,
    site: Option<usize>,
) -> DateTime<FixedOffset> {
    let instant = origin + chrono::Duration::minutes(minute as i64);
    let tz = site.map_or(problem.tz, |s| problem.sites[s].tz);
    instant.with_timezone(&tz).fixed_offset()
}

pub(super) fn placed_list(state: &State) -> Vec<Placed> {
    let problem = state.problem;
    let input = &problem.input;
    let origin = week_origin(problem);
    let mut out: Vec<(i32, Placed)> = (0..problem.requests.len())
        .filter_map(|r| {
            let o = state.placed(r)?;
            let site = o.site.map(|s| s as usize);
            let tz_site = site
                .or(Some(problem.providers[o.provider as usize].site))
                .filter(|_| site.is_some());
            Some((
                o.start,
                Placed {
                    request: input.requests[r].id.clone(),
                    patient: input.patients[problem.requests[r].patient].id.clone(),
                    provider: input.providers[o.provider as usize].id.clone(),
                    resources: o
                        .resources
                        .iter()
                        .map(|&u| input.resources[u as usize].id.clone())
                        .collect(),
                    site: site.map(|s| input.sites[s].id.clone()),
                    start: local(problem, origin, o.start, tz_site),
                    end: local(problem, origin, o.end, tz_site),
                    modality: if site.is_some() {
                        Modality::InPerson
                    } else {
                        Modality::Telehealth
                    },
                },
            ))
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1.request).cmp(&(b.0, &b.1.request)));
    out.into_iter().map(|x| x.1).collect()
}

pub(super) fn unplaced_list(state: &State) -> Vec<Unplaced> {
    let problem = state.problem;
    let input = &problem.input;
    let mut bundles = BundleVerdicts::new();
    (0..problem.requests.len())
        .filter(|&r| state.assign[r].is_none())
        .map(|r| {
            let (code, mut reason) = unplaced_reason(state, r, &mut bundles);
            if state.domains.thinned[r] {
                reason.push_str(THINNED_NOTE);
            }
            Unplaced {
                request: input.requests[r].id.clone(),
                patient: input.patients[problem.requests[r].patient].id.clone(),
                code,
                reason,
            }
        })
        .collect()
}

/// Said of an unplaced request that was offered only part of its providers' days: its
/// reason weighs only those.
const THINNED_NOTE: &str = " (It was offered only some of its providers' days: options \
     past what the time limit leaves time to build, or past 20,000 starts a request, are \
     thinned; a longer time limit offers more of them.)";

/// What a same-day bundle's unbooked members come to, by bundle: each member's reason
/// needs it, and it is the same for all of them (a bundle of 200 took 12 s judged member
/// by member).
type BundleVerdicts = std::collections::HashMap<usize, BundleVerdict>;

/// A same-day bundle judged whole: its unbooked members, their least objective change on
/// any day ([`construct::bundle_change`]), each one's free slots alone, and whether links
/// order them.
struct BundleVerdict {
    members: Vec<usize>,
    change: Option<i64>,
    free: Vec<(usize, usize)>,
    ordered: bool,
}

fn bundle_verdict(state: &State, g: usize) -> BundleVerdict {
    let problem = state.problem;
    let members: Vec<usize> = problem.same_day[g]
        .iter()
        .copied()
        .filter(|&m| state.assign[m].is_none())
        .collect();
    let change = construct::bundle_change(state, &members);
    let free = if change.is_some_and(|c| c >= 0) {
        Vec::new()
    } else {
        members
            .iter()
            .map(|&m| (m, open_slots(state, m).count()))
            .collect()
    };
    let ordered = members.iter().any(|&m| {
        state
            .preds(m)
            .iter()
            .any(|&k| members.contains(&problem.precedences[k].before))
    });
    BundleVerdict {
        members,
        change,
        free,
        ordered,
    }
}

fn unplaced_reason(
    state: &State,
    r: usize,
    bundles: &mut BundleVerdicts,
) -> (UnplacedCode, String) {
    let problem = state.problem;
    if let Some(reason) = &state.domains.empty[r] {
        return reason.clone();
    }
    let bundled_with = |x: usize| state.groups(r).iter().any(|g| state.groups(x).contains(g));
    for &k in state.preds(r) {
        let before = problem.precedences[k].before;
        // A prerequisite in r's own bundle is judged with the bundle below.
        if state.assign[before].is_none() && !bundled_with(before) {
            return (
                UnplacedCode::Link,
                explain::link(problem, r, before, "after"),
            );
        }
    }
    for &g in state.groups(r) {
        if let Some(&m) = problem.same_day[g]
            .iter()
            .find(|&&m| m != r && state.domains.opts[m].is_empty())
        {
            return (
                UnplacedCode::Link,
                explain::link(problem, r, m, "on the same day as"),
            );
        }
    }
    let opts = &state.domains.opts[r];
    let none = |_: usize| false;
    // A same-day bundle is booked whole or not at all: judged whole.
    if let Some(&g) = state.groups(r).iter().find(|&&g| {
        problem.same_day[g]
            .iter()
            .any(|&m| m != r && state.assign[m].is_none())
    }) {
        let verdict = bundles.entry(g).or_insert_with(|| bundle_verdict(state, g));
        let members = &verdict.members;
        let mate = members.iter().copied().find(|&m| m != r).unwrap_or(r);
        let leaving: i64 = members
            .iter()
            .map(|&m| state::unplaced_weight(problem, m))
            .sum();
        return match verdict.change {
            Some(change) if change >= 0 => (
                UnplacedCode::Outweighed,
                explain::outweighed_bundle(problem, r, mate, change + leaving, leaving),
            ),
            _ => (
                UnplacedCode::Link,
                explain::bundle_fits_no_day(problem, r, &verdict.free, verdict.ordered),
            ),
        };
    }
    // A slot that fits as the schedule stands: the weights made leaving it out the cheaper.
    if let Some((delta, oi)) = construct::cheapest_fit(state, r) {
        let o = state.opt(r, oi);
        let leaving = state::unplaced_weight(problem, r);
        return (
            UnplacedCode::Outweighed,
            explain::outweighed(
                problem,
                r,
                o.provider,
                o.day as usize,
                delta + leaving,
                leaving,
            ),
        );
    }
    let fits_but_trips = (0..opts.len() as u32).any(|oi| {
        state.fits_resources(r, oi)
            && state.fits_patient(r, oi, false)
            && !state.fits_patient(r, oi, true)
    });
    if fits_but_trips {
        return (UnplacedCode::MaxTrips, explain::max_trips(problem, r));
    }
    let fits_alone = open_slots(state, r).next().is_some();
    if fits_alone && !(0..opts.len() as u32).any(|oi| state.fits(r, oi, &none)) {
        if let Some(reason) = blocking_precedence(state, r) {
            return (UnplacedCode::Link, reason);
        }
        if let Some(&k) = state.preds(r).first().or(state.succs(r).first()) {
            let p = problem.precedences[k];
            let other = if p.before == r { p.after } else { p.before };
            return (
                UnplacedCode::Link,
                explain::link(problem, r, other, "timed relative to"),
            );
        }
        if let Some(&g) = state.groups(r).first() {
            let other = problem.same_day[g]
                .iter()
                .copied()
                .find(|&m| m != r)
                .unwrap_or(r);
            return (
                UnplacedCode::Link,
                explain::link(problem, r, other, "on the same day as"),
            );
        }
    }
    // Slots the providers and resources leave free, and why the patient's week refuses them.
    let free: Vec<u32> = (0..opts.len() as u32)
        .filter(|&oi| state.fits_resources(r, oi))
        .collect();
    let taken = taken_slots(state, r);
    if free.is_empty() {
        return (
            UnplacedCode::Capacity,
            explain::capacity(problem, r, opts.len(), &taken),
        );
    }
    let patient = problem.requests[r].patient;
    let mut days: Vec<(usize, bool)> = free
        .iter()
        .map(|&oi| {
            let day = state.opt(r, oi).day as usize;
            (day, state.at_daily_limit(patient, day))
        })
        .collect();
    days.sort_unstable();
    days.dedup();
    (
        UnplacedCode::Capacity,
        explain::own_week(problem, r, &days, &taken),
    )
}

/// `r`'s options free on the providers', resources' and the patient's side (its links
/// aside).
fn open_slots<'s>(state: &'s State, r: usize) -> impl Iterator<Item = u32> + 's {
    (0..state.domains.opts[r].len() as u32)
        .filter(move |&oi| state.fits_resources(r, oi) && state.fits_patient(r, oi, true))
}

/// The precedence with a placed request that no slot free for `r` (providers, resources
/// and the patient's week) can keep, told with that booking's time; `None` when no single
/// one rules them all out.
fn blocking_precedence(state: &State, r: usize) -> Option<String> {
    let problem = state.problem;
    let open: Vec<u32> = open_slots(state, r).collect();
    let links = state.preds(r).iter().chain(state.succs(r));
    links.copied().find_map(|k| {
        let p = problem.precedences[k];
        let r_first = p.before == r;
        let other = if r_first { p.after } else { p.before };
        let booked = state.placed(other)?;
        let kept = open.iter().any(|&oi| {
            let o = state.opt(r, oi);
            if r_first {
                state::gap_ok(o.end, booked.start, p.min_gap, p.max_gap)
            } else {
                state::gap_ok(booked.end, o.start, p.min_gap, p.max_gap)
            }
        });
        if kept {
            return None;
        }
        let origin = week_origin(problem);
        let site = booked.site.map(|s| s as usize);
        let (from, to) = (
            local(problem, origin, booked.start, site),
            local(problem, origin, booked.end, site),
        );
        let when = format!(
            "{} {}–{}",
            from.format("%a %d %b"),
            from.format("%H:%M"),
            to.format("%H:%M")
        );
        Some(explain::precedence_unkept(
            problem, r, other, r_first, &p, &when,
        ))
    })
}

/// What holds each of `r`'s options the providers' and resources' side refuses: the
/// provider's daily limit, the provider's minutes, or a needed resource.
fn taken_slots(state: &State, r: usize) -> explain::Taken {
    let problem = state.problem;
    let mut taken = explain::Taken::default();
    for oi in 0..state.domains.opts[r].len() as u32 {
        if state.fits_resources(r, oi) {
            continue;
        }
        let o = state.opt(r, oi);
        if state.provider_at_daily_limit(o.provider, o.day as usize) {
            taken.at_cap.push((o.provider, o.day as usize));
        } else if state.provider_booked(o.provider, o.day as usize, o.start, o.end) {
            taken.booked += 1;
        } else {
            taken.resource_booked += 1;
            for &u in &o.resources {
                if state.resource_booked(u, o.day as usize, o.start, o.end) {
                    taken
                        .resource_kinds
                        .push(problem.input.resources[u as usize].kind.clone());
                }
            }
        }
    }
    taken.at_cap.sort_unstable();
    taken.at_cap.dedup();
    taken.resource_kinds.sort();
    taken.resource_kinds.dedup();
    taken
}
