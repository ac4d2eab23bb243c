//! Independent schedule checker: re-verifies every hard constraint of a [`Schedule`] against
//! the raw [`Input`] and recomputes the objective.
//!
//! It shares no code with the solver or with [`crate::validate`](mod@crate::validate): it
//! reads the input types directly and does its own time-zone arithmetic on instants, so
//! that a misreading in the solver's indexed model cannot hide itself. Every rule has a stable `constraint` name:
//! `coverage`, `duration`, `grid`, `midnight`, `date_window`, `eligibility`, `insurance`, `modality`,
//! `site`, `provider_hours`, `provider_overlap`, `provider_max_per_day`, `resource`,
//! `resource_hours`, `resource_overlap`, `interpreter`, `patient_availability`,
//! `patient_block`, `patient_overlap`, `travel`, `patient_max_per_day`, `max_trips`,
//! `precedence`, `same_day`, `back_to_back`, `pinned`, `objective_mismatch`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, LocalResult, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::model::{
    DatedInterval, Input, Link, Modality, Patient, Provider, Request, WeeklyWindows,
};
use crate::schedule::{Objective, Placed, Schedule};
use crate::time::{BookingStart, DayOfWeek, LocalDateTime, LONGEST_SKIP_MIN};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// Which rule, e.g. "provider_overlap".
    pub constraint: String,
    /// The request ids involved.
    pub requests: Vec<String>,
    /// A sentence with ids and local times.
    pub message: String,
}

/// What the checker found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckReport {
    /// Every violation; empty when the schedule is feasible.
    pub violations: Vec<Violation>,
    /// The objective recomputed from the input.
    pub objective: Objective,
}

type Instant = DateTime<Utc>;

/// A local wall-clock time as an instant: skipped times move past the gap (at most
/// [`LONGEST_SKIP_MIN`]), repeated ones take the first occurrence.
fn at(tz: Tz, date: NaiveDate, minute: u32) -> Instant {
    // Saturating at the calendar's end: `check` may be given an input validation refuses.
    let date = date
        .checked_add_days(Days::new(u64::from(minute / 1440)))
        .unwrap_or(NaiveDate::MAX);
    let m = minute % 1440;
    let mut naive = date.and_hms_opt(m / 60, m % 60, 0).unwrap_or_default();
    for _ in 0..=LONGEST_SKIP_MIN {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => naive += chrono::Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&naive)
}

fn at_local(tz: Tz, t: LocalDateTime) -> Instant {
    at(tz, t.0.date(), t.0.hour() * 60 + t.0.minute())
}

/// The instant of an existing booking's start: the one its UTC offset names when it has
/// one (which picks the occurrence in a repeated hour), else as [`at_local`].
fn at_booking(tz: Tz, b: BookingStart) -> Instant {
    b.offset()
        .and_then(|_| b.instant(&tz))
        .unwrap_or_else(|| at_local(tz, b.local))
}

/// Whole minutes from `a` to `b` (every booking that passes the grid and duration checks
/// starts and ends on a whole minute).
fn minutes(a: Instant, b: Instant) -> i64 {
    (b - a).num_minutes()
}

/// "30 min", or "30 min 0.5 s" when not whole minutes.
fn span(d: chrono::Duration) -> String {
    let whole = d.num_minutes();
    let rest = d - chrono::Duration::minutes(whole);
    if rest.is_zero() {
        format!("{whole} min")
    } else {
        format!("{whole} min {} s", rest.num_milliseconds() as f64 / 1000.0)
    }
}

struct Appt<'a> {
    placed: &'a Placed,
    req: &'a Request,
    provider: Option<&'a Provider>,
    start: Instant,
    end: Instant,
    date: NaiveDate,
    in_person: bool,
}

struct Checker<'a> {
    input: &'a Input,
    tz: Tz,
    violations: Vec<Violation>,
}

impl Checker<'_> {
    fn flag(&mut self, constraint: &str, requests: &[&str], message: String) {
        self.violations.push(Violation {
            constraint: constraint.into(),
            requests: requests.iter().map(|s| s.to_string()).collect(),
            message,
        });
    }

    fn site_tz(&self, site: &str) -> Tz {
        self.input
            .sites
            .iter()
            .find(|s| s.id == site)
            .and_then(|s| s.timezone.as_deref())
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.tz)
    }

    fn show(&self, t: Instant) -> String {
        t.with_timezone(&self.tz)
            .format("%a %Y-%m-%d %H:%M")
            .to_string()
    }
}

/// Whether `[s, e)` lies inside one window of `hours` on `date` (read in `tz`).
fn inside_weekly(tz: Tz, hours: &WeeklyWindows, date: NaiveDate, s: Instant, e: Instant) -> bool {
    let weekday = DayOfWeek::of(date);
    hours.get(&weekday).is_some_and(|ws| {
        ws.iter()
            .any(|w| at(tz, date, w.0.minutes()) <= s && e <= at(tz, date, w.1.minutes()))
    })
}

fn overlaps_dated(
    tz: Tz,
    list: &[DatedInterval],
    s: Instant,
    e: Instant,
) -> Option<&DatedInterval> {
    list.iter()
        .find(|d| at_local(tz, d.start) < e && s < at_local(tz, d.end))
}

/// A modality as the input writes it.
fn modality_name(m: Modality) -> &'static str {
    match m {
        Modality::InPerson => "in_person",
        Modality::Telehealth => "telehealth",
        Modality::Either => "either",
    }
}

/// Where an appointment or unit is, in words: "at site 'north'", or "without a site".
fn site_name(site: Option<&str>) -> String {
    site.map_or("without a site".to_string(), |s| format!("at site '{s}'"))
}

/// The needs left unserved by a largest matching of needs to booked units (`serves[n]`:
/// the units need `n` may take; a unit serves one need), in order. Needs are matched with
/// augmenting paths, those with the fewest units first (the earlier on a tie), so that
/// when two compete for one unit the one reported is the one that unit did not have to
/// serve (a Spanish interpreter booked for a Spanish need and any interpreter: "needs an
/// interpreter").
fn unserved(serves: &[Vec<usize>]) -> Vec<usize> {
    fn augment(
        serves: &[Vec<usize>],
        n: usize,
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        for &u in &serves[n] {
            if seen[u] {
                continue;
            }
            seen[u] = true;
            if owner[u].is_none_or(|m| augment(serves, m, owner, seen)) {
                owner[u] = Some(n);
                return true;
            }
        }
        false
    }
    let units = serves.iter().flatten().max().map_or(0, |&u| u + 1);
    let mut owner: Vec<Option<usize>> = vec![None; units];
    let mut order: Vec<usize> = (0..serves.len()).collect();
    order.sort_by_key(|&n| serves[n].len());
    let mut left: Vec<usize> = order
        .into_iter()
        .filter(|&n| !augment(serves, n, &mut owner, &mut vec![false; units]))
        .collect();
    left.sort_unstable();
    left
}

fn eligible(input: &Input, req: &Request, provider: &str) -> bool {
    if req.providers.is_empty() {
        input
            .providers
            .iter()
            .any(|p| p.id == provider && Some(&p.specialty) == req.specialty.as_ref())
    } else {
        req.providers.iter().any(|p| p == provider)
    }
}

/// Checks `schedule` against `input`.
///
/// # Example
/// ```
/// use careweek::{check, generate, solve, validate, GenerateOptions, SolveOptions};
/// let input = generate(&GenerateOptions { patients: 5, seed: 2, grid_min: 15 });
/// let schedule = solve(&validate(input.clone()).unwrap(), &SolveOptions { time_limit: 2.0, ..Default::default() });
/// let report = check(&input, &schedule);
/// assert!(report.violations.is_empty(), "{:?}", report.violations);
/// assert_eq!(report.objective, schedule.objective);
/// ```
pub fn check(input: &Input, schedule: &Schedule) -> CheckReport {
    let tz: Tz = input.week.timezone.parse().unwrap_or(Tz::UTC);
    let mut c = Checker {
        input,
        tz,
        violations: Vec::new(),
    };
    let requests: HashMap<&str, &Request> =
        input.requests.iter().map(|r| (r.id.as_str(), r)).collect();
    let providers: HashMap<&str, &Provider> =
        input.providers.iter().map(|p| (p.id.as_str(), p)).collect();
    let patients: HashMap<&str, &Patient> =
        input.patients.iter().map(|p| (p.id.as_str(), p)).collect();
    let first = input.week.start;
    let last = first
        // Validation allows 1 to 7 days (E006); an input it refuses is checked as one week.
        .checked_add_days(Days::new(u64::from(input.week.days.clamp(1, 7)) - 1))
        .unwrap_or(NaiveDate::MAX);

    // 1. Coverage.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in schedule
        .placed
        .iter()
        .map(|p| p.request.as_str())
        .chain(schedule.unplaced.iter().map(|u| u.request.as_str()))
    {
        *seen.entry(id).or_default() += 1;
    }
    for r in &input.requests {
        match seen.get(r.id.as_str()).copied().unwrap_or(0) {
            0 => c.flag(
                "coverage",
                &[&r.id],
                format!("request '{}' is neither placed nor unplaced", r.id),
            ),
            1 => {}
            n => c.flag(
                "coverage",
                &[&r.id],
                format!("request '{}' appears {n} times", r.id),
            ),
        }
    }
    for (id, _) in seen.iter().filter(|(id, _)| !requests.contains_key(*id)) {
        c.flag(
            "coverage",
            &[id],
            format!("unknown request '{id}' in the schedule"),
        );
    }
    for u in &schedule.unplaced {
        if let Some(r) = requests.get(u.request.as_str()) {
            if r.patient != u.patient {
                c.flag(
                    "coverage",
                    &[&u.request],
                    format!(
                        "unplaced '{}' names patient '{}', not '{}'",
                        u.request, u.patient, r.patient
                    ),
                );
            }
        }
        if u.reason.trim().is_empty() {
            c.flag(
                "coverage",
                &[&u.request],
                format!("unplaced '{}' has no reason", u.request),
            );
        }
    }

    // Per-appointment rules.
    let mut appts: Vec<Appt> = Vec::new();
    for p in &schedule.placed {
        let Some(&req) = requests.get(p.request.as_str()) else {
            continue;
        };
        let id = p.request.as_str();
        let start = p.start.with_timezone(&Utc);
        let end = p.end.with_timezone(&Utc);
        let date = start.with_timezone(&tz).date_naive();
        let provider = providers.get(p.provider.as_str()).copied();
        let patient = patients.get(req.patient.as_str()).copied();
        if p.patient != req.patient {
            c.flag(
                "coverage",
                &[id],
                format!(
                    "'{id}' is placed for patient '{}', but it is '{}''s request",
                    p.patient, req.patient
                ),
            );
        }
        // Exactly, to the nanosecond: whole minutes alone would pass an end 30 s late.
        if end - start != chrono::Duration::minutes(i64::from(req.duration_min)) {
            c.flag(
                "duration",
                &[id],
                format!(
                    "'{id}' lasts {}, not {} min",
                    span(end - start),
                    req.duration_min
                ),
            );
        }
        // On the wall clock, as validation reads pinned bookings: the same as minutes since
        // midnight except after a clock change by less than the grid (Lord Howe's 30
        // minutes against a 60-minute grid).
        let local = start.with_timezone(&tz).time();
        let wall = i64::from(local.hour() * 60 + local.minute());
        if wall.rem_euclid(i64::from(input.week.grid_min.max(1))) != 0
            || local.second() != 0
            || local.nanosecond() != 0
        {
            c.flag(
                "grid",
                &[id],
                format!(
                    "'{id}' starts at {}, off the {}-minute grid",
                    c.show(start),
                    input.week.grid_min
                ),
            );
        }
        // A day of the week's zone is one provider-day, one trip and one patient-day: an
        // appointment lies within one (it may end at the next midnight).
        if end > at(tz, date, 1440) {
            c.flag(
                "midnight",
                &[id],
                format!(
                    "'{id}' runs from {} to {}, across midnight in the week's time zone",
                    c.show(start),
                    c.show(end)
                ),
            );
        }
        if date < first || date > last {
            c.flag(
                "date_window",
                &[id],
                format!("'{id}' on {date} is outside the week {first} – {last}"),
            );
        }
        if req.earliest.is_some_and(|e| date < e) || req.latest.is_some_and(|l| date > l) {
            c.flag(
                "date_window",
                &[id],
                format!(
                    "'{id}' on {date} is outside its dates {} – {}",
                    req.earliest.map_or("any".to_string(), |d| d.to_string()),
                    req.latest.map_or("any".to_string(), |d| d.to_string())
                ),
            );
        }
        let in_person = p.modality == Modality::InPerson;
        let modality_ok = match req.modality {
            Modality::Either => p.modality != Modality::Either,
            m => p.modality == m,
        };
        if !modality_ok {
            c.flag(
                "modality",
                &[id],
                format!(
                    "'{id}' is {}, the request asks {}",
                    modality_name(p.modality),
                    modality_name(req.modality)
                ),
            );
        }
        // An unknown provider is flagged, but the appointment still takes part in every rule
        // that does not need the provider (resources, patient, links, objective).
        if provider.is_none() {
            c.flag(
                "eligibility",
                &[id],
                format!("'{id}' is with unknown provider '{}'", p.provider),
            );
        }
        if let Some(prov) = provider {
            if !eligible(input, req, &prov.id) {
                c.flag(
                    "eligibility",
                    &[id],
                    format!("'{id}' is with '{}', who is not eligible for it", prov.id),
                );
            }
            if let (Some(plan), Some(accepted)) = (
                patient.and_then(|q| q.insurance.as_ref()),
                prov.insurance.as_ref(),
            ) {
                if !accepted.contains(plan) {
                    c.flag(
                        "insurance",
                        &[id],
                        format!(
                            "'{id}': provider '{}' does not accept plan '{plan}'",
                            prov.id
                        ),
                    );
                }
            }
            if p.modality == Modality::Telehealth
                && !(prov.telehealth && patient.is_some_and(|q| q.telehealth))
            {
                c.flag(
                    "modality",
                    &[id],
                    format!(
                    "'{id}' is telehealth but provider '{}' or the patient does not do telehealth",
                    prov.id
                ),
                );
            }
            let expected_site = in_person.then(|| prov.site.clone());
            if p.site != expected_site {
                c.flag(
                    "site",
                    &[id],
                    format!(
                        "'{id}' is {}, expected {}",
                        site_name(p.site.as_deref()),
                        site_name(expected_site.as_deref())
                    ),
                );
            }

            // Provider hours, exceptions and bookings, in the provider's site time zone.
            let ptz = c.site_tz(&prov.site);
            let pdate = start.with_timezone(&ptz).date_naive();
            if !inside_weekly(ptz, &prov.hours, pdate, start, end) {
                c.flag(
                    "provider_hours",
                    &[id],
                    format!(
                        "'{id}' at {} is outside {}'s working hours",
                        c.show(start),
                        prov.id
                    ),
                );
            }
            let cuts: Vec<DatedInterval> = prov
                .exceptions
                .iter()
                .chain(&prov.bookings)
                .cloned()
                .collect();
            if let Some(cut) = overlaps_dated(ptz, &cuts, start, end) {
                c.flag(
                    "provider_hours",
                    &[id],
                    format!(
                        "'{id}' at {} overlaps {}'s {} {} – {}",
                        c.show(start),
                        prov.id,
                        cut.label.as_deref().unwrap_or("unavailability"),
                        cut.start,
                        cut.end
                    ),
                );
            }
        }

        // Resources and the interpreter.
        let mut needed: Vec<(String, Option<String>)> =
            req.resources.iter().map(|k| (k.clone(), None)).collect();
        if let (Some(lang), Some(prov)) = (patient.and_then(|q| q.language.as_ref()), provider) {
            if !prov.languages.iter().any(|l| l.eq_ignore_ascii_case(lang)) {
                // First: on a tie it is the need a Spanish interpreter serves.
                needed.insert(0, ("interpreter".into(), Some(lang.clone())));
            }
        }
        // Which booked unit may serve which need: a unit serves one need at most, and the
        // needs are matched to the units as a whole (augmenting paths), not greedily in
        // list order, so that an "interpreter" need taking the one Spanish interpreter
        // listed first does not leave the patient's Spanish need unserved when another
        // interpreter listed would do for the first.
        let serves: Vec<Vec<usize>> = needed
            .iter()
            .map(|(kind, lang)| {
                // A unit listed twice is one unit: only its first listing serves.
                (0..p.resources.len())
                    .filter(|&i| !p.resources[..i].contains(&p.resources[i]))
                    .filter(|&i| {
                        input.resources.iter().any(|res| {
                            res.id == p.resources[i]
                                && &res.kind == kind
                                && lang.as_ref().is_none_or(|l| {
                                    res.language
                                        .as_ref()
                                        .is_some_and(|x| x.eq_ignore_ascii_case(l))
                                })
                        })
                    })
                    .collect()
            })
            .collect();
        for n in unserved(&serves) {
            let (kind, lang) = &needed[n];
            let rule = if lang.is_some() {
                "interpreter"
            } else {
                "resource"
            };
            let what = lang
                .as_ref()
                .map_or(kind.clone(), |l| format!("{l} interpreter"));
            c.flag(
                rule,
                &[id],
                format!("'{id}' needs a {what} and has none booked"),
            );
        }
        for (i, u) in p.resources.iter().enumerate() {
            if p.resources[..i].contains(u) {
                // Once, at its second listing.
                if p.resources[..i].iter().filter(|x| *x == u).count() == 1 {
                    c.flag(
                        "resource",
                        &[id],
                        format!("'{id}' books resource '{u}' more than once"),
                    );
                }
                continue;
            }
            let Some(res) = input.resources.iter().find(|r| &r.id == u) else {
                c.flag(
                    "resource",
                    &[id],
                    format!("'{id}' books unknown resource '{u}'"),
                );
                continue;
            };
            let site_ok = match (&res.site, &p.site) {
                (None, _) => true,
                (Some(a), Some(b)) => a == b,
                (Some(_), None) => false,
            };
            if !site_ok {
                c.flag(
                    "resource",
                    &[id],
                    format!(
                        "'{id}' {} uses resource '{u}' {}",
                        site_name(p.site.as_deref()),
                        site_name(res.site.as_deref())
                    ),
                );
            }
            let rtz = res.site.as_deref().map_or(tz, |s| c.site_tz(s));
            let rdate = start.with_timezone(&rtz).date_naive();
            if let Some(h) = &res.hours {
                if !inside_weekly(rtz, h, rdate, start, end) {
                    c.flag(
                        "resource_hours",
                        &[id],
                        format!(
                            "'{id}' at {} is outside the hours of resource '{u}'",
                            c.show(start)
                        ),
                    );
                }
            }
            if overlaps_dated(rtz, &res.exceptions, start, end).is_some() {
                c.flag(
                    "resource_hours",
                    &[id],
                    format!(
                        "'{id}' at {} falls in an exception of resource '{u}'",
                        c.show(start)
                    ),
                );
            }
        }

        // Patient availability and blocks (week time zone).
        if let Some(q) = patient {
            let over = q.availability_overrides.iter().find(|o| o.date == date);
            let ok = match (over, &q.availability) {
                (Some(o), _) => o.windows.iter().any(|w| {
                    at(tz, date, w.0.minutes()) <= start && end <= at(tz, date, w.1.minutes())
                }),
                (None, Some(weekly)) => inside_weekly(tz, weekly, date, start, end),
                (None, None) => true,
            };
            if !ok {
                c.flag(
                    "patient_availability",
                    &[id],
                    format!(
                        "'{id}' at {} is outside {}'s availability",
                        c.show(start),
                        q.id
                    ),
                );
            }
            let recovery = i64::from(q.recovery_min);
            let mut blocks: Vec<(Instant, Instant, String)> = Vec::new();
            // The week before too: a block's recovery may reach days ahead.
            let mut d = first.checked_sub_days(Days::new(7)).unwrap_or(first);
            while d <= last {
                for b in q
                    .blocks
                    .iter()
                    .filter(|b| b.days.contains(&DayOfWeek::of(d)))
                {
                    let bs = at(tz, d, b.start.minutes());
                    let be = if b.end > b.start {
                        at(tz, d, b.end.minutes())
                    } else {
                        at(tz, d, b.end.minutes() + 1440)
                    };
                    blocks.push((bs, be, b.label.clone().unwrap_or_else(|| "block".into())));
                }
                match d.succ_opt() {
                    Some(next) => d = next,
                    None => break,
                }
            }
            for b in &q.dated_blocks {
                blocks.push((
                    at_local(tz, b.start),
                    at_local(tz, b.end),
                    b.label.clone().unwrap_or_else(|| "block".into()),
                ));
            }
            for (bs, be, label) in blocks {
                let until = be
                    .checked_add_signed(chrono::Duration::minutes(recovery))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                if bs < end && start < until {
                    c.flag(
                        "patient_block",
                        &[id],
                        format!("'{id}' at {} overlaps {}'s {label} {} – {} or its {recovery} min recovery", c.show(start), q.id, c.show(bs), c.show(be)),
                    );
                }
            }
        }

        // Pinned bookings.
        if let Some(e) = req.existing.as_ref().filter(|e| e.pinned) {
            let want_mod = e.modality.unwrap_or(req.modality);
            let same = p.provider == e.provider
                && start == at_booking(tz, e.start)
                && p.modality == want_mod
                && e.resources.iter().all(|u| p.resources.contains(u));
            if !same {
                c.flag(
                    "pinned",
                    &[id],
                    format!(
                        "'{id}' is pinned to {} at {} but placed with {} at {}",
                        e.provider,
                        e.start,
                        p.provider,
                        c.show(start)
                    ),
                );
            }
        }
        appts.push(Appt {
            placed: p,
            req,
            provider,
            start,
            end,
            date,
            in_person,
        });
    }
    let placed_ids: Vec<&str> = schedule.placed.iter().map(|p| p.request.as_str()).collect();
    for r in &input.requests {
        if let Some(e) = r.existing.as_ref().filter(|e| e.pinned) {
            if !placed_ids.contains(&r.id.as_str()) {
                c.flag(
                    "pinned",
                    &[&r.id],
                    format!(
                        "'{}' is pinned to {} at {} but not placed",
                        r.id, e.provider, e.start
                    ),
                );
            }
        }
    }

    // Pairwise rules: providers, resources, patients.
    let mut by_provider: BTreeMap<&str, Vec<&Appt>> = BTreeMap::new();
    let mut by_resource: BTreeMap<&str, Vec<&Appt>> = BTreeMap::new();
    let mut by_patient: BTreeMap<&str, Vec<&Appt>> = BTreeMap::new();
    for a in &appts {
        by_provider
            .entry(a.placed.provider.as_str())
            .or_default()
            .push(a);
        for (i, u) in a.placed.resources.iter().enumerate() {
            // A unit listed twice is flagged above, not as overlapping itself.
            if !a.placed.resources[..i].contains(u) {
                by_resource.entry(u.as_str()).or_default().push(a);
            }
        }
        by_patient
            .entry(a.req.patient.as_str())
            .or_default()
            .push(a);
    }
    for (pid, list) in &by_provider {
        let mut list = list.clone();
        list.sort_by_key(|a| (a.start, a.placed.request.as_str()));
        for i in 0..list.len() {
            for j in i + 1..list.len() {
                let (a, b) = (list[i], list[j]);
                if b.start < a.end {
                    c.flag(
                        "provider_overlap",
                        &[&a.placed.request, &b.placed.request],
                        format!(
                            "'{}' and '{}' overlap for provider {pid} at {}",
                            a.placed.request,
                            b.placed.request,
                            c.show(b.start)
                        ),
                    );
                }
            }
        }
        if let Some(cap) = list
            .first()
            .and_then(|a| a.provider)
            .and_then(|p| p.max_per_day)
        {
            let mut per_day: BTreeMap<NaiveDate, Vec<&str>> = BTreeMap::new();
            for a in &list {
                per_day.entry(a.date).or_default().push(&a.placed.request);
            }
            for (d, ids) in per_day {
                if ids.len() as u32 > cap {
                    c.flag(
                        "provider_max_per_day",
                        &ids,
                        format!(
                            "provider {pid} has {} appointments on {d}, cap {cap}",
                            ids.len()
                        ),
                    );
                }
            }
        }
    }
    for (u, list) in &by_resource {
        for i in 0..list.len() {
            for j in i + 1..list.len() {
                let (a, b) = (list[i], list[j]);
                if a.start < b.end && b.start < a.end {
                    c.flag(
                        "resource_overlap",
                        &[&a.placed.request, &b.placed.request],
                        format!(
                            "'{}' and '{}' both use resource {u} at {}",
                            a.placed.request,
                            b.placed.request,
                            c.show(a.start.max(b.start))
                        ),
                    );
                }
            }
        }
    }
    let travel = |a: &str, b: &str| -> i64 {
        if a == b {
            return 0;
        }
        input
            .travel
            .iter()
            .find(|t| (t.from == a && t.to == b) || (t.from == b && t.to == a))
            .map_or(0, |t| i64::from(t.minutes))
    };
    for (qid, list) in &by_patient {
        let q = patients.get(qid).copied();
        let mut list = list.clone();
        list.sort_by_key(|a| (a.start, a.placed.request.as_str()));
        for i in 0..list.len() {
            for j in i + 1..list.len() {
                let (a, b) = (list[i], list[j]);
                if b.start < a.end {
                    c.flag(
                        "patient_overlap",
                        &[&a.placed.request, &b.placed.request],
                        format!(
                            "'{}' and '{}' of {qid} overlap at {}",
                            a.placed.request,
                            b.placed.request,
                            c.show(b.start)
                        ),
                    );
                } else if a.date == b.date && a.in_person && b.in_person {
                    let (sa, sb) = (
                        a.placed.site.as_deref().unwrap_or(""),
                        b.placed.site.as_deref().unwrap_or(""),
                    );
                    let need = travel(sa, sb);
                    if minutes(a.end, b.start) < need {
                        c.flag(
                            "travel",
                            &[&a.placed.request, &b.placed.request],
                            format!("{qid} has {} min from '{}' at {sa} to '{}' at {sb}; travel takes {need} min", minutes(a.end, b.start), a.placed.request, b.placed.request),
                        );
                    }
                }
            }
        }
        let mut per_day: BTreeMap<NaiveDate, Vec<&Appt>> = BTreeMap::new();
        for a in &list {
            per_day.entry(a.date).or_default().push(a);
        }
        if let Some(cap) = q.and_then(|q| q.max_per_day) {
            for (d, day) in &per_day {
                if day.len() as u32 > cap {
                    let ids: Vec<&str> = day.iter().map(|a| a.placed.request.as_str()).collect();
                    c.flag(
                        "patient_max_per_day",
                        &ids,
                        format!("{qid} has {} appointments on {d}, cap {cap}", day.len()),
                    );
                }
            }
        }
        if let Some(cap) = q.and_then(|q| q.max_trips) {
            let trips: Vec<&NaiveDate> = per_day
                .iter()
                .filter(|(_, day)| day.iter().any(|a| a.in_person))
                .map(|(d, _)| d)
                .collect();
            if trips.len() as u32 > cap {
                let ids: Vec<&str> = list
                    .iter()
                    .filter(|a| a.in_person)
                    .map(|a| a.placed.request.as_str())
                    .collect();
                c.flag(
                    "max_trips",
                    &ids,
                    format!("{qid} travels on {} days, cap {cap}", trips.len()),
                );
            }
        }
    }

    // Links.
    let by_id: HashMap<&str, &Appt> = appts
        .iter()
        .map(|a| (a.placed.request.as_str(), a))
        .collect();
    for link in &input.links {
        match link {
            Link::Precedence {
                before,
                after,
                min_gap_min,
                max_gap_min,
            } => {
                let (b, a) = (by_id.get(before.as_str()), by_id.get(after.as_str()));
                match (b, a) {
                    (None, Some(_)) => c.flag(
                        "precedence",
                        &[before, after],
                        format!(
                            "'{after}' is placed but '{before}', which must come first, is not"
                        ),
                    ),
                    (Some(b), Some(a)) => {
                        let gap = minutes(b.end, a.start);
                        if gap < i64::from(*min_gap_min)
                            || max_gap_min.is_some_and(|m| gap > i64::from(m))
                        {
                            c.flag(
                                "precedence",
                                &[before, after],
                                format!("'{after}' starts {gap} min after '{before}' ends; allowed {min_gap_min}..{}", max_gap_min.map_or("∞".into(), |m| m.to_string())),
                            );
                        }
                    }
                    _ => {}
                }
            }
            Link::SameDay { requests: members } => {
                let placed: Vec<&&Appt> = members
                    .iter()
                    .filter_map(|m| by_id.get(m.as_str()))
                    .collect();
                let ids: Vec<&str> = members.iter().map(String::as_str).collect();
                if !placed.is_empty() && placed.len() < members.len() {
                    c.flag(
                        "same_day",
                        &ids,
                        format!(
                            "only {} of the same-day bundle {ids:?} are placed",
                            placed.len()
                        ),
                    );
                } else if placed.windows(2).any(|w| w[0].date != w[1].date) {
                    c.flag(
                        "same_day",
                        &ids,
                        format!("the same-day bundle {ids:?} is spread over several days"),
                    );
                }
            }
            Link::BackToBack {
                first,
                second,
                max_wait_min,
            } => {
                let (f, s) = (by_id.get(first.as_str()), by_id.get(second.as_str()));
                match (f, s) {
                    (Some(f), Some(s)) => {
                        let wait = minutes(f.end, s.start);
                        if f.date != s.date || wait < 0 || wait > i64::from(*max_wait_min) {
                            c.flag("back_to_back", &[first, second], format!("'{second}' starts {wait} min after '{first}' ends; allowed 0..{max_wait_min}, same day"));
                        }
                    }
                    (None, None) => {}
                    _ => c.flag(
                        "back_to_back",
                        &[first, second],
                        format!(
                            "only one of the back-to-back pair '{first}', '{second}' is placed"
                        ),
                    ),
                }
            }
        }
    }

    // Objective.
    let objective = recompute(input, &appts, schedule);
    let o = &schedule.objective;
    let terms = [
        ("total", o.total, objective.total),
        ("unplaced", o.unplaced, objective.unplaced),
        ("trips", o.trips, objective.trips),
        ("idle", o.idle, objective.idle),
        ("part_of_day", o.part_of_day, objective.part_of_day),
        ("provider", o.provider, objective.provider),
        ("preferred_day", o.preferred_day, objective.preferred_day),
        ("moved", o.moved, objective.moved),
    ];
    let differing: Vec<String> = terms
        .iter()
        .filter(|t| t.1 != t.2)
        .map(|(n, r, x)| format!("{n}: reported {r}, recomputed {x}"))
        .collect();
    if !differing.is_empty() {
        c.flag(
            "objective_mismatch",
            &[],
            format!("objective differs: {}", differing.join("; ")),
        );
    }
    CheckReport {
        violations: c.violations,
        objective,
    }
}

fn recompute(input: &Input, appts: &[Appt], schedule: &Schedule) -> Objective {
    let tz: Tz = input.week.timezone.parse().unwrap_or(Tz::UTC);
    let w = &input.weights;
    let mut o = Objective::default();
    let placed: HashMap<&str, &Appt> = appts
        .iter()
        .map(|a| (a.placed.request.as_str(), a))
        .collect();
    for r in &input.requests {
        if !placed.contains_key(r.id.as_str())
            && schedule.unplaced.iter().any(|u| u.request == r.id)
        {
            o.unplaced += w.unplaced_per_priority * i64::from(r.priority);
            if r.existing.as_ref().is_some_and(|e| !e.pinned) {
                o.moved += w.moved;
            }
        }
    }
    let mut days: BTreeMap<(&str, NaiveDate), Vec<(Instant, Instant)>> = BTreeMap::new();
    for a in appts {
        let Some(q) = input.patients.iter().find(|q| q.id == a.req.patient) else {
            continue;
        };
        let local = a.start.with_timezone(&tz);
        let minute = local.hour() * 60 + local.minute();
        let part = if minute < 720 {
            crate::model::PartOfDay::Morning
        } else if minute < 1020 {
            crate::model::PartOfDay::Afternoon
        } else {
            crate::model::PartOfDay::Evening
        };
        if q.prefers.is_some_and(|p| p != part) {
            o.part_of_day += w.part_of_day;
        }
        let preferred = a.req.preferred_provider.clone().or_else(|| {
            q.preferred_provider
                .clone()
                .filter(|p| eligible(input, a.req, p))
        });
        if preferred.is_some_and(|p| p != a.placed.provider) {
            o.provider += w.provider;
        }
        if !q.preferred_days.is_empty() && !q.preferred_days.contains(&DayOfWeek::of(a.date)) {
            o.preferred_day += w.preferred_day;
        }
        if let Some(e) = a.req.existing.as_ref().filter(|e| !e.pinned) {
            if e.provider != a.placed.provider || at_booking(tz, e.start) != a.start {
                o.moved += w.moved;
            }
        }
        if a.in_person {
            days.entry((q.id.as_str(), a.date))
                .or_default()
                .push((a.start, a.end));
        }
    }
    for spans in days.values_mut() {
        spans.sort();
        o.trips += w.trip;
        let idle: i64 = spans
            .windows(2)
            .map(|p| minutes(p[0].1, p[1].0).max(0))
            .sum();
        o.idle += w.idle_per_min * idle;
    }
    o.with_total()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Window;
    use crate::time::ClockTime;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    /// The library's `check` takes any input, also one validation refuses: a week at the
    /// calendar's end gives a report, not a panic.
    #[test]
    fn a_week_past_the_calendars_end_is_checked_without_a_panic() {
        let mut input = crate::generate(&crate::GenerateOptions {
            patients: 3,
            seed: 1,
            grid_min: 15,
        });
        let problem = crate::validate(input.clone()).expect("generated caseloads are valid");
        let schedule = crate::solve(
            &problem,
            &crate::SolveOptions {
                time_limit: 1.0,
                ..Default::default()
            },
        );
        input.week.start = NaiveDate::MAX;
        input.week.days = u32::MAX;
        let report = check(&input, &schedule);
        assert!(
            !report.violations.is_empty(),
            "last week's bookings fall outside a week at the calendar's end"
        );
    }

    #[test]
    fn local_times_become_instants_across_daylight_saving() {
        let paris: Tz = "Europe/Paris".parse().expect("a known zone");
        // 2026-03-29: 02:00-03:00 does not exist; a skipped time moves past the gap.
        let skipped = at(paris, date(2026, 3, 29), 150);
        assert_eq!(skipped.to_rfc3339(), "2026-03-29T01:00:00+00:00");
        // 2026-10-25: 02:00-03:00 happens twice; the first (summer) occurrence is taken.
        let repeated = at(paris, date(2026, 10, 25), 150);
        assert_eq!(repeated.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        // That Sunday has 25 hours: midnight to midnight is 1500 elapsed minutes.
        assert_eq!(
            minutes(
                at(paris, date(2026, 10, 25), 0),
                at(paris, date(2026, 10, 25), 1440)
            ),
            1500
        );
    }

    #[test]
    fn weekly_windows_are_not_merged() {
        let utc = Tz::UTC;
        let monday = date(2026, 3, 2);
        let mut hours = WeeklyWindows::new();
        hours.insert(
            DayOfWeek::Mon,
            vec![
                Window(ClockTime(480), ClockTime(720)),
                Window(ClockTime(720), ClockTime(1020)),
            ],
        );
        let inside = |s: u32, e: u32| {
            inside_weekly(utc, &hours, monday, at(utc, monday, s), at(utc, monday, e))
        };
        assert!(inside(480, 720));
        assert!(inside(720, 750));
        // Touching windows still do not make one window.
        assert!(!inside(705, 735));
        assert!(!inside(470, 500));
        // Tuesday has no windows at all.
        let tuesday = date(2026, 3, 3);
        assert!(!inside_weekly(
            utc,
            &hours,
            tuesday,
            at(utc, tuesday, 600),
            at(utc, tuesday, 630)
        ));
    }
}
