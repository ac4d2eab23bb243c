//! Sentences a coordinator understands for requests that could not be placed: each names
//! the rule that left no option, with the people, days and times involved.

use crate::model::{Link, Modality};
use crate::problem::{Precedence, Problem};
use crate::time::{ClockTime, DayOfWeek};

pub(super) fn patient_name(problem: &Problem, r: usize) -> String {
    let p = &problem.input.patients[problem.requests[r].patient];
    p.name.clone().unwrap_or_else(|| p.id.clone())
}

pub(super) fn what(problem: &Problem, r: usize) -> String {
    let req = &problem.input.requests[r];
    req.service
        .clone()
        .or_else(|| req.specialty.clone())
        .unwrap_or_else(|| "appointment".into())
}

pub(super) fn day_label(problem: &Problem, day: usize) -> String {
    let d = &problem.days[day];
    format!("{} {}", d.weekday.short_name(), d.date.format("%d %b"))
}

pub(super) fn day_range(problem: &Problem, r: usize) -> String {
    let req = &problem.requests[r];
    let hi = req.day_hi.min(problem.days.len().saturating_sub(1));
    if req.day_lo == 0 && hi + 1 == problem.days.len() {
        "this week".into()
    } else if req.day_lo == hi {
        format!("on {}", day_label(problem, hi))
    } else {
        format!(
            "between {} and {}",
            day_label(problem, req.day_lo),
            day_label(problem, hi)
        )
    }
}

fn provider_names(problem: &Problem, r: usize) -> Vec<String> {
    problem.requests[r]
        .eligible
        .iter()
        .map(|&p| {
            let prov = &problem.input.providers[p];
            prov.name.clone().unwrap_or_else(|| prov.id.clone())
        })
        .collect()
}

/// The eligible providers' names, the first few of them: a large network's roster would
/// otherwise name dozens in every reason.
fn provider_list(problem: &Problem, r: usize) -> String {
    first_few(provider_names(problem, r)).join(", ")
}

/// No eligible provider passes insurance and modality rules.
pub fn no_eligible_provider(problem: &Problem, r: usize) -> String {
    let req = &problem.requests[r];
    let patient = &problem.input.patients[req.patient];
    let name = patient_name(problem, r);
    if req.eligible.is_empty() {
        return format!("no provider can do the {} for {name}", what(problem, r));
    }
    if let Some(plan) = &patient.insurance {
        let insured = req.eligible.iter().any(|&p| {
            problem.input.providers[p]
                .insurance
                .as_ref()
                .is_none_or(|acc| acc.iter().any(|a| a == plan))
        });
        if !insured {
            return format!(
                "none of the eligible providers ({}) accepts {name}'s insurance plan '{plan}'",
                provider_list(problem, r)
            );
        }
    }
    if req.modality == Modality::Telehealth {
        if !patient.telehealth {
            return format!(
                "the {} is telehealth only, but {name} cannot do telehealth",
                what(problem, r)
            );
        }
        return format!(
            "none of the eligible providers ({}) offers telehealth",
            provider_list(problem, r)
        );
    }
    if req.existing.as_ref().is_some_and(|e| e.pinned) {
        return format!(
            "the pinned booking of {name}'s {} names a provider or modality the request does not allow",
            what(problem, r)
        );
    }
    format!(
        "no eligible provider ({}) fits {name}'s {}",
        provider_list(problem, r),
        what(problem, r)
    )
}

/// No eligible provider has a long enough free window in the allowed days.
pub fn no_provider_hours(problem: &Problem, r: usize) -> String {
    let req = &problem.requests[r];
    let off_all_week = req
        .eligible
        .iter()
        .all(|&p| problem.input.providers[p].has_no_hours());
    if off_all_week {
        return format!(
            "{} {} no working hours this week (none in their calendar), so {}'s {} cannot be booked",
            and_list(&first_few(provider_names(problem, r))),
            if req.eligible.len() == 1 { "has" } else { "have" },
            patient_name(problem, r),
            what(problem, r)
        );
    }
    let reason = format!(
        "no {}-minute window free in the calendars of {} {} for {}'s {}",
        // As given: the indexed duration is capped at a year or so.
        problem.input.requests[r].duration_min,
        provider_list(problem, r),
        day_range(problem, r),
        patient_name(problem, r),
        what(problem, r)
    );
    // Longer than any window in the providers' weekly hours: likely a slip in the
    // duration's unit or in the hours, which the coordinator should hear about.
    let longest = req
        .eligible
        .iter()
        .flat_map(|&p| problem.input.providers[p].hours.values().flatten())
        .filter(|w| w.1 > w.0)
        .map(|w| i64::from(w.1.minutes() - w.0.minutes()))
        .max()
        .unwrap_or(0);
    if longest > 0 && longest < i64::from(req.duration) {
        return format!(
            "{reason}: it lasts longer than any of their working windows (the longest is \
             {longest} min); check the duration's unit (minutes) or the providers' hours"
        );
    }
    match split_at_midnight(problem, r) {
        Some(p) => {
            let prov = &problem.input.providers[p];
            format!(
                "{reason}: {}'s hours run across midnight in the week's time zone ({}), and an \
                 appointment cannot span midnight; plan the week in the clinic's time zone ({})",
                prov.name.as_deref().unwrap_or(&prov.id),
                problem.tz.name(),
                problem.sites[problem.providers[p].site].tz.name()
            )
        }
        None => reason,
    }
}

/// Where every window of the providers' free time that the patient can come in is long
/// enough for the request but holds no start on the week's grid (hours of a site in
/// another time zone fall between the grid's lines).
pub fn off_grid(problem: &Problem, r: usize) -> String {
    format!(
        "the free time of {} that {} can come in {} holds no start on the week's {}-minute grid \
         (the grid runs on the week's time zone, {}, and the clinic's hours fall between its \
         lines): use a finer grid_min, or plan the week in the clinic's time zone",
        provider_list(problem, r),
        patient_name(problem, r),
        day_range(problem, r),
        problem.grid,
        problem.tz.name()
    )
}

/// An eligible provider with free time long enough for the request only where it runs on
/// across the week's midnight (a clinic in another time zone), if any.
fn split_at_midnight(problem: &Problem, r: usize) -> Option<usize> {
    let req = &problem.requests[r];
    let length = |i: &crate::problem::Interval| i.end - i.start;
    req.eligible.iter().copied().find(|&p| {
        let free = &problem.providers[p].free;
        let fits_in_a_day = free.iter().flatten().any(|i| length(i) >= req.duration);
        !fits_in_a_day && problem.days.windows(2).enumerate().any(|(d, pair)| {
            let before = free[d].iter().find(|i| i.end == pair[0].end);
            let after = free[d + 1].iter().find(|i| i.start == pair[1].start);
            matches!((before, after), (Some(a), Some(b)) if length(a) + length(b) >= req.duration)
        })
    })
}

fn availability_summary(problem: &Problem, r: usize) -> String {
    let patient = &problem.input.patients[problem.requests[r].patient];
    match &patient.availability {
        None => "at clinic hours".into(),
        Some(week) => {
            let mut parts = Vec::new();
            for (day, windows) in week {
                let w: Vec<String> = windows.iter().map(|w| format!("{}–{}", w.0, w.1)).collect();
                if !w.is_empty() {
                    parts.push(format!("{} {}", day.short_name(), w.join(", ")));
                }
            }
            if parts.is_empty() {
                "never".into()
            } else {
                format!("only {}", parts.join("; "))
            }
        }
    }
}

/// The patient is never available when an eligible provider is free.
pub fn patient_unavailable(problem: &Problem, r: usize) -> String {
    let req = &problem.requests[r];
    format!(
        "{} is available {} and no eligible provider ({}) has {} free minutes then {}",
        patient_name(problem, r),
        availability_summary(problem, r),
        provider_list(problem, r),
        req.duration,
        day_range(problem, r)
    )
}

/// The patient's blocks and recovery leave no slot.
pub fn patient_blocked(problem: &Problem, r: usize) -> String {
    let req = &problem.requests[r];
    let patient = &problem.input.patients[req.patient];
    let mut blocks: Vec<String> = patient
        .blocks
        .iter()
        .map(|b| {
            let days: Vec<&str> = b.days.iter().map(|d: &DayOfWeek| d.short_name()).collect();
            format!(
                "{} ({} {}–{})",
                b.label.as_deref().unwrap_or("block"),
                days.join("/"),
                b.start,
                b.end
            )
        })
        .collect();
    for b in &patient.dated_blocks {
        blocks.push(format!(
            "{} ({} to {})",
            b.label.as_deref().unwrap_or("block"),
            b.start,
            b.end
        ));
    }
    let recovery = if patient.recovery_min > 0 {
        format!(
            " and {} of recovery after each",
            duration_words(patient.recovery_min)
        )
    } else {
        String::new()
    };
    format!(
        "no {} slot with {} outside {}'s {}{} {}",
        what(problem, r),
        provider_list(problem, r),
        patient_name(problem, r),
        blocks.join(", "),
        recovery,
        day_range(problem, r)
    )
}

/// A needed resource is never free when the appointment could happen.
pub fn no_resource(problem: &Problem, r: usize, kind: &str) -> String {
    format!(
        "no {kind} is free at any time {} and the provider could see {} for the {}",
        patient_name(problem, r),
        day_range(problem, r).replace("this week", "this week,"),
        what(problem, r)
    )
    .replace(", and", " and")
}

/// The pinned booking breaks a rule.
pub fn pinned_conflict(problem: &Problem, r: usize) -> String {
    format!(
        "the pinned booking of {}'s {} is outside the provider's, patient's or resources' free time",
        patient_name(problem, r),
        what(problem, r)
    )
}

/// What holds the slots the providers' and resources' side refuses a request.
#[derive(Debug, Default)]
pub struct Taken {
    /// (provider, day) pairs whose provider has reached their `max_per_day` that day.
    pub at_cap: Vec<(u32, usize)>,
    /// Slots whose provider minutes other bookings hold.
    pub booked: usize,
    /// Slots whose provider is free but a needed resource is booked, and those resources'
    /// kinds.
    pub resource_booked: usize,
    pub resource_kinds: Vec<String>,
}

impl Taken {
    fn is_empty(&self) -> bool {
        self.at_cap.is_empty() && self.booked == 0 && self.resource_booked == 0
    }

    /// "Dr A has reached their limit of 3 appointment(s) a day on Mon 07 Dec, 12 are taken
    /// by other bookings and at 4 the mri is booked".
    fn clauses(&self, problem: &Problem) -> String {
        let mut clauses = Vec::new();
        let mut providers: Vec<u32> = self.at_cap.iter().map(|c| c.0).collect();
        providers.sort_unstable();
        providers.dedup();
        for p in providers {
            let prov = &problem.input.providers[p as usize];
            let mut days: Vec<usize> = self
                .at_cap
                .iter()
                .filter(|c| c.0 == p)
                .map(|c| c.1)
                .collect();
            days.sort_unstable();
            days.dedup();
            let labels: Vec<String> = days.iter().map(|&d| day_label(problem, d)).collect();
            clauses.push(format!(
                "{} has reached their limit of {} appointment(s) a day on {}",
                prov.name.as_deref().unwrap_or(&prov.id),
                problem.providers[p as usize].max_per_day.unwrap_or(0),
                and_list(&labels)
            ));
        }
        if self.booked > 0 {
            clauses.push(format!(
                "{} slot(s) are taken by other bookings",
                self.booked
            ));
        }
        if self.resource_booked > 0 {
            clauses.push(format!(
                "at {} slot(s) the {} needed is booked",
                self.resource_booked,
                and_list(&self.resource_kinds)
            ));
        }
        and_list(&clauses)
    }
}

/// Slots exist, but other bookings or the providers' daily limits take them.
pub fn capacity(problem: &Problem, r: usize, slots: usize, taken: &Taken) -> String {
    let head = format!(
        "all {slots} possible slot(s) for {}'s {} with {} {} are",
        patient_name(problem, r),
        what(problem, r),
        provider_list(problem, r),
        day_range(problem, r),
    );
    if taken.at_cap.is_empty() && taken.resource_booked == 0 {
        return format!("{head} taken by other bookings");
    }
    format!("{head} taken: {}", taken.clauses(problem))
}

/// Some slots are free on the providers' and resources' side, but each clashes with the
/// patient's own week: `days` lists each such day and whether the patient's daily limit is
/// already reached on it; `taken` says what holds the other slots.
pub fn own_week(problem: &Problem, r: usize, days: &[(usize, bool)], taken: &Taken) -> String {
    let name = patient_name(problem, r);
    let patient = &problem.input.patients[problem.requests[r].patient];
    let labels = |capped: bool| -> Vec<String> {
        days.iter()
            .filter(|d| d.1 == capped)
            .map(|&(d, _)| day_label(problem, d))
            .collect()
    };
    let mut clauses = Vec::new();
    let at_limit = labels(true);
    if !at_limit.is_empty() {
        clauses.push(format!(
            "on {} {name} has reached their limit of {} appointment(s) a day",
            and_list(&at_limit),
            patient.max_per_day.unwrap_or(0)
        ));
    }
    let clashing = labels(false);
    if !clashing.is_empty() {
        clauses.push(format!(
            "on {} they overlap {name}'s other appointments or leave no time to travel between sites",
            and_list(&clashing)
        ));
    }
    let rest = if !taken.is_empty() {
        format!("; of the other slots, {}", taken.clauses(problem))
    } else {
        String::new()
    };
    format!(
        "the free slots for {name}'s {} with {} {} do not fit {name}'s week: {}{rest}",
        what(problem, r),
        provider_list(problem, r),
        day_range(problem, r),
        clauses.join(", and ")
    )
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A free slot fits, but placing the request would add `placing` to the objective against
/// `leaving` for leaving it out.
pub fn outweighed(
    problem: &Problem,
    r: usize,
    provider: u32,
    day: usize,
    placing: i64,
    leaving: i64,
) -> String {
    let prov = &problem.input.providers[provider as usize];
    format!(
        "{}'s {} fits a free slot with {} on {}, but under the weights given placing it would add {placing} to the objective (trip, waiting, preferences) and leaving it out adds {leaving}; raise weights.unplaced_per_priority to have it placed",
        patient_name(problem, r),
        what(problem, r),
        prov.name.as_deref().unwrap_or(&prov.id),
        day_label(problem, day),
    )
}

/// A same-day bundle fits free slots whole, but placing it would add `placing` to the
/// objective against `leaving` for leaving it out.
pub fn outweighed_bundle(
    problem: &Problem,
    r: usize,
    mate: usize,
    placing: i64,
    leaving: i64,
) -> String {
    format!(
        "{}'s {} and the {} ({}), booked on the same day, fit free slots together, but under the weights given placing them would add {placing} to the objective (trip, waiting, preferences) and leaving them out adds {leaving}; raise weights.unplaced_per_priority to have them placed",
        patient_name(problem, r),
        what(problem, r),
        what(problem, mate),
        problem.input.requests[mate].id
    )
}

/// A same-day bundle (with `r`) that fits whole on no day as the week stands; `free` holds
/// each member with how many slots it would have alone; `ordered`: links among the members
/// also set their order and gaps (back to back, say).
pub fn bundle_fits_no_day(
    problem: &Problem,
    r: usize,
    free: &[(usize, usize)],
    ordered: bool,
) -> String {
    let others: Vec<String> = free
        .iter()
        .filter(|&&(m, _)| m != r)
        .map(|&(m, _)| {
            format!(
                "the {} ({})",
                what(problem, m),
                problem.input.requests[m].id
            )
        })
        .collect();
    let alone: Vec<String> = free
        .iter()
        .map(|&(m, n)| format!("the {} {n}", what(problem, m)))
        .collect();
    format!(
        "{}'s {} is booked on one day with {}, and as the week stands no day has free slots for them together{} (free slots for each alone: {})",
        patient_name(problem, r),
        what(problem, r),
        and_list(&first_few(others)),
        if ordered { " in the order and gaps their links set" } else { "" },
        first_few(alone).join(", ")
    )
}

/// Most items a sentence lists; the rest are counted.
const LISTED: usize = 8;

/// `items`, the last of the first [`LISTED`] replaced by how many more there are when they
/// are more (a bundle of hundreds would otherwise name every mate in each reason).
fn first_few(mut items: Vec<String>) -> Vec<String> {
    if items.len() > LISTED {
        let more = items.len() - (LISTED - 1);
        items.truncate(LISTED - 1);
        items.push(format!("{more} more"));
    }
    items
}

/// A linked request could not be placed compatibly.
pub fn link(problem: &Problem, r: usize, other: usize, relation: &str) -> String {
    format!(
        "{}'s {} must be {relation} the {} ({}), which cannot be placed compatibly",
        patient_name(problem, r),
        what(problem, r),
        what(problem, other),
        problem.input.requests[other].id
    )
}

/// No free slot keeps the gap of precedence `p` with `other`, booked at `when`; `r_first`:
/// `r` comes before `other`.
pub fn precedence_unkept(
    problem: &Problem,
    r: usize,
    other: usize,
    r_first: bool,
    p: &Precedence,
    when: &str,
) -> String {
    // The gaps as the input gives them (the problem caps minutes far past any week).
    let (min_gap, max_gap) = match &problem.input.links[p.link] {
        Link::Precedence {
            min_gap_min,
            max_gap_min,
            ..
        } => (*min_gap_min, *max_gap_min),
        Link::BackToBack { max_wait_min, .. } => (0, Some(*max_wait_min)),
        // Not a source of precedences; the problem's minutes, should it become one.
        Link::SameDay { .. } => (p.min_gap.max(0) as u32, p.max_gap.map(|m| m.max(0) as u32)),
    };
    let gap = match (min_gap > 0, max_gap) {
        (true, Some(max)) => format!(
            "at least {} and at most {} ",
            duration_words(min_gap),
            duration_words(max)
        ),
        (true, None) => format!("at least {} ", duration_words(min_gap)),
        (false, Some(max)) => format!("at most {} ", duration_words(max)),
        (false, None) => String::new(),
    };
    let (other_what, other_id) = (what(problem, other), &problem.input.requests[other].id);
    let order = if r_first {
        format!("end {gap}before the {other_what} ({other_id}) starts")
    } else {
        format!("start {gap}after the {other_what} ({other_id}) ends")
    };
    format!(
        "{}'s {} must {order}, which is booked {when}; none of the free slots with {} {} {}",
        patient_name(problem, r),
        what(problem, r),
        provider_list(problem, r),
        day_range(problem, r),
        match (gap.is_empty(), r_first) {
            (false, _) => "keeps that gap",
            (true, true) => "is before it",
            (true, false) => "is after it",
        }
    )
}

/// A linked request can never be placed this week, for `why` (its own reason).
pub fn link_never(
    problem: &Problem,
    r: usize,
    other: usize,
    relation: &str,
    why: Option<&str>,
) -> String {
    format!(
        "{}'s {} must be {relation} the {} ({}), which can never be placed this week{}",
        patient_name(problem, r),
        what(problem, r),
        what(problem, other),
        problem.input.requests[other].id,
        why.map_or(String::new(), |w| format!(": {w}"))
    )
}

/// The patient's trip cap is used up.
pub fn max_trips(problem: &Problem, r: usize) -> String {
    let patient = &problem.input.patients[problem.requests[r].patient];
    format!(
        "{} can make at most {} trip(s) this week and the {} fits none of the days already used",
        patient_name(problem, r),
        patient.max_trips.unwrap_or(0),
        what(problem, r)
    )
}

fn duration_words(minutes: u32) -> String {
    if minutes.is_multiple_of(60) {
        format!("{} h", minutes / 60)
    } else {
        format!("{} min", minutes)
    }
}

#[allow(dead_code)]
fn clock(minutes: u32) -> String {
    ClockTime(minutes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_name_the_first_few_and_count_the_rest() {
        let items = |n: usize| (1..=n).map(|i| format!("r{i}")).collect::<Vec<_>>();
        assert_eq!(first_few(items(3)), items(3));
        assert_eq!(first_few(items(LISTED)), items(LISTED));
        let long = first_few(items(100));
        assert_eq!(long.len(), LISTED);
        assert_eq!(long[LISTED - 2], format!("r{}", LISTED - 1));
        assert_eq!(long[LISTED - 1], format!("{} more", 100 - (LISTED - 1)));
        assert_eq!(
            and_list(&first_few(items(10))),
            "r1, r2, r3, r4, r5, r6, r7 and 3 more"
        );
    }

    /// A roster of dozens of eligible providers is named by its first few in a reason (a
    /// network with 20 copies of each provider named 84 in every reason).
    #[test]
    fn reasons_name_the_first_few_of_a_large_roster() {
        let problem = crate::solve::test_caseloads::large_roster(6, 1, 15, 9);
        let r = (0..problem.requests.len())
            .max_by_key(|&r| problem.requests[r].eligible.len())
            .expect("requests");
        let eligible = problem.requests[r].eligible.len();
        assert!(eligible > LISTED, "{eligible} eligible");
        let list = provider_list(&problem, r);
        assert_eq!(list.split(", ").count(), LISTED, "{list}");
        assert!(
            list.ends_with(&format!("{} more", eligible - (LISTED - 1))),
            "{list}"
        );
    }
}
