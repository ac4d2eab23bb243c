//! Human-readable rendering of a schedule, for the coordinator who books the week: a header
//! with the objective, bound and gap; a calendar per provider and per patient in local time;
//! then every request that could not be placed, with its reason.
//!
//! Plain text only: aligned columns (widths counted in characters, so accented names keep
//! the alignment), no colour codes, no trailing spaces, and a stable order (input order of
//! providers and patients, appointments by start then request id) so two runs diff cleanly.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use chrono::{DateTime, FixedOffset, NaiveDate};
use chrono_tz::Tz;

use crate::model::{Input, Modality, Request};
use crate::schedule::{Placed, Schedule, Status, UnplacedCode};

/// Names and lookups shared by every section, by id (a calendar of thousands of patients
/// looks names up once per appointment).
struct Names<'a> {
    input: &'a Input,
    requests: HashMap<&'a str, (usize, &'a Request)>,
    patients: HashMap<&'a str, Option<&'a str>>,
    providers: HashMap<&'a str, Option<&'a str>>,
    sites: HashMap<&'a str, Option<&'a str>>,
    /// The week's time zone (`None` when it does not parse: times then show as given).
    week_zone: Option<Tz>,
    /// Each site's time zone, the week's where it names none.
    site_zones: HashMap<&'a str, Tz>,
}

impl<'a> Names<'a> {
    fn new(input: &'a Input) -> Self {
        let week_zone: Option<Tz> = input.week.timezone.parse().ok();
        let requests = input
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), (i, r)))
            .collect();
        // The first of duplicate ids names them, as a search in input order would.
        fn named<'a>(
            entries: impl DoubleEndedIterator<Item = (&'a str, Option<&'a String>)>,
        ) -> HashMap<&'a str, Option<&'a str>> {
            entries
                .rev()
                .map(|(id, name)| (id, name.map(String::as_str)))
                .collect()
        }
        Names {
            input,
            requests,
            patients: named(
                input
                    .patients
                    .iter()
                    .map(|p| (p.id.as_str(), p.name.as_ref())),
            ),
            providers: named(
                input
                    .providers
                    .iter()
                    .map(|p| (p.id.as_str(), p.name.as_ref())),
            ),
            sites: named(input.sites.iter().map(|s| (s.id.as_str(), s.name.as_ref()))),
            week_zone,
            site_zones: input
                .sites
                .iter()
                .rev()
                .filter_map(|s| {
                    let zone = match &s.timezone {
                        Some(z) => z.parse().ok(),
                        None => week_zone,
                    };
                    Some((s.id.as_str(), zone?))
                })
                .collect(),
        }
    }

    /// The time zone of a site, the week's when the site is unknown.
    fn site_zone(&self, site: &str) -> Option<Tz> {
        self.site_zones.get(site).copied().or(self.week_zone)
    }

    fn patient(&self, id: &str) -> String {
        self.patients
            .get(id)
            .copied()
            .flatten()
            .unwrap_or(id)
            .to_string()
    }

    fn provider(&self, id: &str) -> String {
        self.providers
            .get(id)
            .copied()
            .flatten()
            .unwrap_or(id)
            .to_string()
    }

    fn site(&self, id: &str) -> String {
        self.sites
            .get(id)
            .copied()
            .flatten()
            .unwrap_or(id)
            .to_string()
    }

    /// What the appointment is: the service, else the specialty, else the request id.
    fn service(&self, request: &str) -> String {
        self.requests
            .get(request)
            .and_then(|(_, r)| r.service.clone().or_else(|| r.specialty.clone()))
            .unwrap_or_else(|| request.to_string())
    }

    /// Position in the input, for a stable order of things the schedule lists.
    fn order(&self, request: &str) -> usize {
        self.requests.get(request).map_or(usize::MAX, |(i, _)| *i)
    }

    /// What became of the request's existing booking, if it had one: kept as pinned, kept,
    /// or moved (from when, and from whom when the provider changed).
    fn booking(&self, p: &Placed) -> String {
        let Some(existing) = self
            .requests
            .get(p.request.as_str())
            .and_then(|(_, r)| r.existing.as_ref())
        else {
            return String::new();
        };
        if existing.pinned {
            return "pinned booking".into();
        }
        // The booking is written in the week's time zone or with its offset; the placement
        // carries its own offset, so compare instants (a naive comparison when the zone is
        // unknown).
        let booked = self
            .week_zone
            .and_then(|tz| existing.start.instant(&tz).map(|t| t == p.start));
        let same_time = booked.unwrap_or(existing.start.naive() == p.start.naive_local());
        if same_time && existing.provider == p.provider {
            return "booking kept".into();
        }
        let mut from = format!(
            "moved from {} {}",
            existing.start.naive().format("%a %d %b"),
            existing.start.naive().format("%H:%M")
        );
        if existing.provider != p.provider {
            let _ = write!(from, " with {}", self.provider(&existing.provider));
        }
        from
    }

    fn travel(&self, a: &str, b: &str) -> Option<u32> {
        if a == b {
            return Some(0);
        }
        self.input
            .travel
            .iter()
            .find(|t| (t.from == a && t.to == b) || (t.from == b && t.to == a))
            .map(|t| t.minutes)
    }
}

/// Rows of cells printed with each column padded to its widest cell; the last cell of a row
/// is not padded, so no line ends in spaces.
#[derive(Default)]
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn write(&self, out: &mut String, indent: &str) {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                let cells = self.rows.iter().filter_map(|r| r.get(c));
                cells.map(|s| s.chars().count()).max().unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::from(indent);
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if c + 1 < row.len() {
                    let pad = widths[c].saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// An appointment's start and end on the wall clock of `zone` (as the schedule gives them
/// when the zone is unknown).
fn local(p: &Placed, zone: Option<Tz>) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    let at = |t: &DateTime<FixedOffset>| zone.map_or(*t, |z| t.with_timezone(&z).fixed_offset());
    (at(&p.start), at(&p.end))
}

fn day_label(t: &DateTime<FixedOffset>) -> String {
    t.format("%a %d %b").to_string()
}

/// Start and end times, saying so when the clocks change in between (01:30-01:30 is an
/// hour when they go back).
fn span((start, end): (DateTime<FixedOffset>, DateTime<FixedOffset>)) -> String {
    let change = match end
        .offset()
        .local_minus_utc()
        .cmp(&start.offset().local_minus_utc())
    {
        std::cmp::Ordering::Less => " (clocks go back)",
        std::cmp::Ordering::Greater => " (clocks go forward)",
        std::cmp::Ordering::Equal => "",
    };
    format!("{}-{}{change}", start.format("%H:%M"), end.format("%H:%M"))
}

fn modality(m: Modality) -> &'static str {
    match m {
        Modality::InPerson => "in person",
        Modality::Telehealth => "telehealth",
        Modality::Either => "either",
    }
}

fn resources(p: &Placed) -> String {
    if p.resources.is_empty() {
        String::new()
    } else {
        format!("+ {}", p.resources.join(", "))
    }
}

fn code_name(code: UnplacedCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}\n{}", "=".repeat(title.chars().count()));
}

/// Sorted by start instant, then request id: the order every calendar uses.
fn sorted<'s>(placed: impl Iterator<Item = &'s Placed>) -> Vec<&'s Placed> {
    let mut v: Vec<&Placed> = placed.collect();
    v.sort_by(|a, b| (a.start, &a.request).cmp(&(b.start, &b.request)));
    v
}

/// Renders the week as plain text: a header with the status, the placed count, the
/// objective and its terms, the bound and the gap; one calendar per provider and per
/// patient, each on one clock (a provider's in the time zone of their site, telehealth
/// included; a patient's in the week's, with the local time added for an appointment at a
/// site in another zone); then "Could not place" with every unplaced request and its
/// reason.
///
/// Ids the input does not know (a schedule from another input) are shown as they are rather
/// than rejected: rendering never fails.
///
/// # Example
/// ```
/// let input = careweek::generate(&careweek::GenerateOptions { patients: 3, seed: 1, grid_min: 15 });
/// let options = careweek::SolveOptions { time_limit: 2.0, ..Default::default() };
/// let schedule = careweek::solve(&careweek::validate(input.clone()).unwrap(), &options);
/// let text = careweek::report::render_text(&input, &schedule);
/// assert!(text.contains("Providers"));
/// assert!(text.contains("Patients"));
/// assert!(text.contains("Could not place"));
/// ```
pub fn render_text(input: &Input, schedule: &Schedule) -> String {
    let names = Names::new(input);
    let mut out = String::new();
    header(&mut out, input, schedule);
    providers(&mut out, &names, schedule);
    patients(&mut out, &names, schedule);
    unplaced(&mut out, &names, schedule);
    out
}

fn header(out: &mut String, input: &Input, schedule: &Schedule) {
    let week = &input.week;
    let last = week
        .start
        .checked_add_days(chrono::Days::new(u64::from(week.days.saturating_sub(1))))
        .unwrap_or(week.start);
    let _ = writeln!(
        out,
        "Week {} to {} ({}), {}-minute grid",
        fmt_date(week.start),
        fmt_date(last),
        week.timezone,
        week.grid_min
    );
    let o = &schedule.objective;
    let status = match schedule.status {
        Status::Optimal => "optimal (proven)",
        Status::Feasible => "feasible (optimality not proven)",
    };
    let requests = schedule.placed.len() + schedule.unplaced.len();
    let mut t = Table::default();
    t.push(vec!["Status".into(), status.into()]);
    t.push(vec![
        "Placed".into(),
        format!(
            "{} of {} requests ({} could not be placed)",
            schedule.placed.len(),
            requests,
            schedule.unplaced.len()
        ),
    ]);
    t.push(vec![
        "Objective".into(),
        format!(
            "{} = unplaced {} + trips {} + idle between visits {} + part of day {} + provider {} + preferred day {} + moved {}",
            o.total, o.unplaced, o.trips, o.idle, o.part_of_day, o.provider, o.preferred_day, o.moved
        ),
    ]);
    t.push(vec![
        "Bound".into(),
        format!(
            "{}  (gap {:.1}%)",
            fmt_number(schedule.bound),
            schedule.gap * 100.0
        ),
    ]);
    let s = &schedule.stats;
    t.push(vec![
        "Solver".into(),
        format!(
            "{}, {}, seed {}, {:.1} s, {}",
            s.backend,
            plural(s.threads, "thread", "threads"),
            s.seed,
            s.seconds,
            plural(s.iterations as usize, "repair", "repairs")
        ),
    ]);
    t.write(out, "");
}

fn fmt_date(d: NaiveDate) -> String {
    d.format("%a %d %b %Y").to_string()
}

/// A bound is a float; show it as an integer when it is one.
fn fmt_number(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// The items of `list` by the key `of` gives, each group in list order.
fn grouped<'s, T>(list: &'s [T], of: impl Fn(&'s T) -> &'s str) -> HashMap<&'s str, Vec<&'s T>> {
    let mut groups: HashMap<&str, Vec<&T>> = HashMap::new();
    for item in list {
        groups.entry(of(item)).or_default().push(item);
    }
    groups
}

fn providers(out: &mut String, names: &Names, schedule: &Schedule) {
    section(out, "Providers");
    let by_provider = grouped(&schedule.placed, |p| p.provider.as_str());
    for prov in &names.input.providers {
        let none = Vec::new();
        let mine = by_provider.get(prov.id.as_str()).unwrap_or(&none);
        let mine = sorted(mine.iter().copied());
        // One clock for the whole calendar: the provider's site's, telehealth included.
        let zone = names.site_zone(&prov.site);
        let own_clock = match zone.filter(|&z| Some(z) != names.week_zone) {
            Some(z) => format!(", {} time", z.name()),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "\n{} ({}, {}{own_clock}): {}",
            names.provider(&prov.id),
            prov.specialty,
            names.site(&prov.site),
            if mine.is_empty() && prov.has_no_hours() {
                "no working hours this week".to_string()
            } else if mine.is_empty() {
                "no appointments this week".to_string()
            } else {
                plural(mine.len(), "appointment", "appointments")
            }
        );
        let mut t = Table::default();
        for p in mine {
            let times = local(p, zone);
            t.push(vec![
                day_label(&times.0),
                span(times),
                format!(
                    "{} ({})",
                    names.patient(&p.patient),
                    names.service(&p.request)
                ),
                modality(p.modality).into(),
                resources(p),
                names.booking(p),
            ]);
        }
        t.write(out, "  ");
    }
}

fn patients(out: &mut String, names: &Names, schedule: &Schedule) {
    section(out, "Patients");
    let mut seen = BTreeSet::new();
    let ids = names.input.patients.iter().map(|p| p.id.as_str());
    // Patients the input does not list still get a calendar, after the known ones.
    let stray = schedule.placed.iter().map(|p| p.patient.as_str());
    let stray = stray.chain(schedule.unplaced.iter().map(|u| u.patient.as_str()));
    let placed_of = grouped(&schedule.placed, |p| p.patient.as_str());
    let unplaced_of = grouped(&schedule.unplaced, |u| u.patient.as_str());
    for id in ids.chain(stray) {
        if !seen.insert(id) {
            continue;
        }
        let mine = sorted(placed_of.get(id).into_iter().flatten().copied());
        let mut missing: Vec<_> = unplaced_of.get(id).cloned().unwrap_or_default();
        if mine.is_empty() && missing.is_empty() {
            continue;
        }
        missing.sort_by_key(|u| names.order(&u.request));
        // One clock for the whole calendar, the week's: an appointment at a site in
        // another time zone also says its time there.
        let zone = names.week_zone;
        let day = |p: &Placed| local(p, zone).0.date_naive();
        let trips: BTreeSet<NaiveDate> = mine
            .iter()
            .filter(|p| p.modality == Modality::InPerson)
            .map(|p| day(p))
            .collect();
        let mut summary = vec![plural(mine.len(), "appointment", "appointments")];
        summary.push(plural(trips.len(), "trip", "trips"));
        if !missing.is_empty() {
            summary.push(format!("{} not placed", missing.len()));
        }
        let _ = writeln!(out, "\n{}: {}", names.patient(id), summary.join(", "));
        let mut t = Table::default();
        let mut last_in_person: Option<&Placed> = None;
        for p in mine {
            let mut note = String::new();
            if p.modality == Modality::InPerson {
                if let Some(prev) = last_in_person.filter(|prev| day(prev) == day(p)) {
                    note = between(names, prev, p);
                }
                last_in_person = Some(p);
            }
            let times = local(p, zone);
            let there = p
                .site
                .as_deref()
                .and_then(|s| names.site_zone(s))
                .filter(|&z| Some(z) != zone)
                .map(|z| {
                    let there = local(p, Some(z));
                    format!("{} {} {} time", day_label(&there.0), span(there), z.name())
                });
            t.push(vec![
                day_label(&times.0),
                span(times),
                names.service(&p.request),
                names.provider(&p.provider),
                p.site.as_deref().map_or("-".into(), |s| names.site(s)),
                modality(p.modality).into(),
                [there.unwrap_or_default(), note, names.booking(p)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            ]);
        }
        for u in missing {
            t.push(vec![
                "not placed".into(),
                String::new(),
                names.service(&u.request),
                format!("[{}]", code_name(u.code)),
            ]);
        }
        t.write(out, "  ");
    }
}

/// What happens between two same-day in-person appointments: the travel to a different
/// site and the wait left over. (The objective's idle term counts both: the patient's time
/// between visits.)
fn between(names: &Names, prev: &Placed, next: &Placed) -> String {
    let gap = (next.start - prev.end).num_minutes();
    let travel = match (&prev.site, &next.site) {
        (Some(a), Some(b)) if a != b => names.travel(a, b).map(i64::from),
        _ => None,
    };
    let mut parts = Vec::new();
    if let (Some(minutes), Some(from)) = (travel, &prev.site) {
        parts.push(format!("travel {minutes} min from {}", names.site(from)));
    }
    let wait = gap - travel.unwrap_or(0);
    if wait > 0 {
        parts.push(format!("waits {wait} min"));
    }
    parts.join(", ")
}

fn unplaced(out: &mut String, names: &Names, schedule: &Schedule) {
    section(
        out,
        &format!("Could not place ({})", schedule.unplaced.len()),
    );
    if schedule.unplaced.is_empty() {
        let _ = writeln!(out, "  every request is placed");
        return;
    }
    let mut list: Vec<_> = schedule.unplaced.iter().collect();
    list.sort_by_key(|u| (names.order(&u.request), u.request.clone()));
    for u in list {
        let priority = names
            .requests
            .get(u.request.as_str())
            .map(|(_, r)| r.priority);
        let _ = writeln!(
            out,
            "  {}  {} for {}{}  [{}]\n      {}",
            u.request,
            names.service(&u.request),
            names.patient(&u.patient),
            priority.map_or(String::new(), |p| format!(", priority {p}")),
            code_name(u.code),
            u.reason
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Objective, Stats, Unplaced};

    fn input() -> Input {
        serde_json::from_value(serde_json::json!({
            "version": 1,
            "week": {"start": "2026-03-02", "days": 6, "grid_min": 15,
                     "timezone": "America/New_York"},
            "sites": [{"id": "main", "name": "Main Hospital"},
                      {"id": "north", "name": "Northgate Clinic"}],
            "travel": [{"from": "main", "to": "north", "minutes": 40}],
            "providers": [
                {"id": "dr-lee", "name": "Dr. Lee", "specialty": "cardiology", "site": "main",
                 "hours": {"tue": [["08:00", "17:00"]]}},
                {"id": "lab-1", "specialty": "lab", "site": "north",
                 "hours": {"tue": [["07:00", "15:00"]]}},
                {"id": "dr-idle", "name": "Dr. Idle", "specialty": "oncology", "site": "main",
                 "hours": {"mon": [["08:00", "09:00"]]}}
            ],
            "resources": [{"id": "interpreter-es", "kind": "interpreter", "language": "es"}],
            "patients": [
                {"id": "chen", "name": "Mrs. Chen"},
                {"id": "josé", "name": "José Ramírez", "language": "es"},
                {"id": "nobody", "name": "Nobody Booked"}
            ],
            "requests": [
                {"id": "chen-card", "patient": "chen", "service": "cardiology follow-up",
                 "specialty": "cardiology", "duration_min": 30},
                {"id": "chen-lab", "patient": "chen", "service": "lab draw",
                 "specialty": "lab", "duration_min": 15},
                {"id": "chen-tele", "patient": "chen", "specialty": "cardiology",
                 "duration_min": 15, "modality": "telehealth"},
                {"id": "jose-card", "patient": "josé", "service": "cardiology consult",
                 "specialty": "cardiology", "duration_min": 30, "priority": 4}
            ]
        }))
        .expect("a well-formed test input")
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("a test date-time")
    }

    fn placed(
        request: &str,
        patient: &str,
        provider: &str,
        site: Option<&str>,
        start: &str,
        end: &str,
        resources: &[&str],
    ) -> Placed {
        Placed {
            request: request.into(),
            patient: patient.into(),
            provider: provider.into(),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            site: site.map(str::to_string),
            start: at(start),
            end: at(end),
            modality: if site.is_some() {
                Modality::InPerson
            } else {
                Modality::Telehealth
            },
        }
    }

    fn schedule() -> Schedule {
        Schedule {
            version: 1,
            placed: vec![
                placed(
                    "chen-lab",
                    "chen",
                    "lab-1",
                    Some("north"),
                    "2026-03-03T08:00:00-05:00",
                    "2026-03-03T08:15:00-05:00",
                    &[],
                ),
                placed(
                    "chen-card",
                    "chen",
                    "dr-lee",
                    Some("main"),
                    "2026-03-03T09:00:00-05:00",
                    "2026-03-03T09:30:00-05:00",
                    &["interpreter-es"],
                ),
                placed(
                    "chen-tele",
                    "chen",
                    "dr-lee",
                    None,
                    "2026-03-03T10:00:00-05:00",
                    "2026-03-03T10:15:00-05:00",
                    &[],
                ),
            ],
            unplaced: vec![Unplaced {
                request: "jose-card".into(),
                patient: "josé".into(),
                code: UnplacedCode::PatientUnavailable,
                reason: "José Ramírez is available only Mon 19:00-21:00".into(),
            }],
            objective: Objective {
                unplaced: 4000,
                trips: 60,
                idle: 5,
                ..Default::default()
            }
            .with_total(),
            bound: 4000.0,
            gap: 65.0 / 4065.0,
            status: Status::Feasible,
            stats: Stats {
                backend: "microlp".into(),
                threads: 2,
                ..Default::default()
            },
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn header_has_status_counts_objective_bound_and_gap() {
        let text = render_text(&input(), &schedule());
        let l = lines(&text);
        assert_eq!(
            l[0],
            "Week Mon 02 Mar 2026 to Sat 07 Mar 2026 (America/New_York), 15-minute grid"
        );
        assert!(l.contains(&"Status     feasible (optimality not proven)"));
        assert!(l.contains(&"Placed     3 of 4 requests (1 could not be placed)"));
        assert!(l.contains(
            &"Objective  4065 = unplaced 4000 + trips 60 + idle between visits 5 + part of day 0 + provider 0 + preferred day 0 + moved 0"
        ));
        assert!(l.contains(&"Bound      4000  (gap 1.6%)"));
    }

    #[test]
    fn provider_calendar_lists_each_appointment_with_aligned_columns() {
        let text = render_text(&input(), &schedule());
        let l = lines(&text);
        assert!(l.contains(&"Dr. Lee (cardiology, Main Hospital): 2 appointments"));
        assert!(l.contains(
            &"  Tue 03 Mar  09:00-09:30  Mrs. Chen (cardiology follow-up)  in person   + interpreter-es"
        ));
        assert!(
            l.contains(&"  Tue 03 Mar  10:00-10:15  Mrs. Chen (cardiology)            telehealth")
        );
        // A provider without a name is shown by id; one without appointments says so.
        assert!(l.contains(&"lab-1 (lab, Northgate Clinic): 1 appointment"));
        assert!(l.contains(&"Dr. Idle (oncology, Main Hospital): no appointments this week"));
        assert!(l.iter().all(|line| line == &line.trim_end()));
    }

    #[test]
    fn patient_calendar_shows_travel_wait_and_what_was_not_placed() {
        let text = render_text(&input(), &schedule());
        let l = lines(&text);
        assert!(l.contains(&"Mrs. Chen: 3 appointments, 1 trip"));
        assert!(l.contains(
            &"  Tue 03 Mar  08:00-08:15  lab draw              lab-1    Northgate Clinic  in person"
        ));
        // 45 minutes between the two in-person visits: 40 on the road, 5 waiting.
        assert!(l.contains(
            &"  Tue 03 Mar  09:00-09:30  cardiology follow-up  Dr. Lee  Main Hospital     in person   travel 40 min from Northgate Clinic, waits 5 min"
        ));
        // Telehealth has no site and does not count as waiting time.
        assert!(l.contains(&"  Tue 03 Mar  10:00-10:15  cardiology            Dr. Lee  -                 telehealth"));
        assert!(l.contains(&"José Ramírez: 0 appointments, 0 trips, 1 not placed"));
        assert!(l.contains(&"  not placed    cardiology consult  [patient_unavailable]"));
        assert!(!text.contains("Nobody Booked"));
    }

    #[test]
    fn could_not_place_lists_each_request_with_its_reason() {
        let text = render_text(&input(), &schedule());
        let tail = text
            .split_once("Could not place (1)\n===================\n")
            .expect("the section")
            .1;
        assert_eq!(
            tail,
            "  jose-card  cardiology consult for José Ramírez, priority 4  [patient_unavailable]\n      José Ramírez is available only Mon 19:00-21:00\n"
        );
    }

    #[test]
    fn order_is_stable_and_uses_the_offsets_given() {
        let mut s = schedule();
        let text = render_text(&input(), &s);
        s.placed.reverse();
        assert_eq!(render_text(&input(), &s), text);
    }

    /// Each calendar keeps one clock: a provider's is their site's, telehealth included, in
    /// start order; a patient's is the week's, with a far site's local time beside it.
    #[test]
    fn each_calendar_keeps_one_clock_across_time_zones() {
        let mut input = input();
        input.sites[1].timezone = Some("Asia/Tokyo".into());
        input.providers[0].site = "north".into();
        let mut s = schedule();
        // Dr. Lee in Tokyo: in person Tue 09:00 there (Mon 19:00 in New York), telehealth
        // at Tue 10:00 there, written in New York's offset.
        s.placed[1].site = Some("north".into());
        s.placed[1].start = at("2026-03-03T09:00:00+09:00");
        s.placed[1].end = at("2026-03-03T09:30:00+09:00");
        s.placed[2].start = at("2026-03-02T20:00:00-05:00");
        s.placed[2].end = at("2026-03-02T20:15:00-05:00");
        s.placed.truncate(3);
        s.placed.remove(0);
        let text = render_text(&input, &s);
        let l = lines(&text);
        let lee = l
            .iter()
            .position(|x| x.starts_with("Dr. Lee (cardiology, Northgate Clinic, Asia/Tokyo time)"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            l[lee + 1].starts_with("  Tue 03 Mar  09:00-09:30  Mrs. Chen"),
            "{text}"
        );
        assert!(
            l[lee + 2].starts_with("  Tue 03 Mar  10:00-10:15  Mrs. Chen"),
            "{text}"
        );
        let chen = l.iter().position(|x| x.starts_with("Mrs. Chen:")).unwrap();
        assert!(
            l[chen + 1].starts_with("  Mon 02 Mar  19:00-19:30  cardiology follow-up")
                && l[chen + 1].contains("Tue 03 Mar 09:00-09:30 Asia/Tokyo time"),
            "{text}"
        );
        assert!(
            l[chen + 2].starts_with("  Mon 02 Mar  20:00-20:15"),
            "{text}"
        );
    }

    /// An appointment over the hour repeated when the clocks go back says so.
    #[test]
    fn a_clock_change_within_an_appointment_is_named() {
        let mut s = schedule();
        s.placed[0].start = at("2026-11-01T01:30:00-04:00");
        s.placed[0].end = at("2026-11-01T01:30:00-05:00");
        assert!(render_text(&input(), &s).contains("01:30-01:30 (clocks go back)"));
    }

    #[test]
    fn existing_bookings_show_as_pinned_kept_or_moved() {
        let mut input = input();
        let existing = |v: serde_json::Value| Some(serde_json::from_value(v).expect("a booking"));
        input.requests[0].existing = existing(serde_json::json!(
            {"provider": "dr-lee", "start": "2026-03-03T09:00", "pinned": true}));
        input.requests[1].existing = existing(serde_json::json!(
            {"provider": "dr-lee", "start": "2026-03-03T07:30"}));
        input.requests[2].existing = existing(serde_json::json!(
            {"provider": "dr-lee", "start": "2026-03-03T10:00", "modality": "telehealth"}));
        let text = render_text(&input, &schedule());
        let line = |start: &str| {
            let found = text.lines().find(|l| l.starts_with(start));
            found.unwrap_or_else(|| panic!("no line {start:?} in\n{text}"))
        };
        assert!(line("  Tue 03 Mar  09:00-09:30  Mrs. Chen (")
            .ends_with("+ interpreter-es  pinned booking"));
        assert!(line("  Tue 03 Mar  08:00-08:15  Mrs. Chen (")
            .ends_with("  moved from Tue 03 Mar 07:30 with Dr. Lee"));
        assert!(line("  Tue 03 Mar  10:00-10:15  Mrs. Chen (").ends_with("booking kept"));
        assert!(line("  Tue 03 Mar  09:00-09:30  cardiology follow-up")
            .ends_with("waits 5 min; pinned booking"));
        // A start with the offset the schedule prints is the same booking.
        input.requests[2].existing = existing(serde_json::json!(
            {"provider": "dr-lee", "start": "2026-03-03T10:00:00-05:00", "modality": "telehealth"}));
        let text = render_text(&input, &schedule());
        assert!(text
            .lines()
            .any(|l| l.starts_with("  Tue 03 Mar  10:00-10:15  Mrs. Chen (")
                && l.ends_with("booking kept")));
    }

    #[test]
    fn everything_placed_and_unknown_ids_do_not_fail() {
        let mut s = schedule();
        s.unplaced.clear();
        s.placed[0].patient = "ghost".into();
        s.placed[0].provider = "dr-ghost".into();
        let text = render_text(&input(), &s);
        assert!(text.contains("Could not place (0)"));
        assert!(text.contains("  every request is placed"));
        assert!(text.contains("ghost: 1 appointment, 1 trip"));
    }
}
