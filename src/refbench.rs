//! The neutral benchmark format (`refbench`): import an instance as an [`Input`] whose
//! objective equals the benchmark's, and export a [`Schedule`] as a benchmark solution.
//!
//! How the benchmark's readings map onto the careweek model:
//! - days count from `week_start` (a Monday) in a UTC week, so minutes are wall-clock minutes
//!   and day `d` uses the `hours` and `available` keyed `d % 7`, as the benchmark reads them
//!   (whatever weekday `week_start` falls on);
//! - `blocked` intervals become provider bookings (cut out of the working windows, which are
//!   never merged, so "inside one window, overlapping no blocked interval" is kept);
//! - patient `blocks` become dated blocks with the patient's `recovery_min`;
//! - eligibility is the `eligible` list alone (named providers); a request with an empty
//!   list gets a specialty no provider has, so it comes back unplaced;
//! - every provider and patient may use telehealth (the request alone decides);
//! - weights 1000 × priority unplaced, 60 a trip, 1 an idle minute, 20 part of day, 15
//!   preferred provider, nothing for preferred days or moved bookings (the benchmark has
//!   neither); trips, idle (between in-person appointments, travel included) and part of day
//!   (telehealth included) are read exactly as the benchmark reads them.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::validate::without_bom;

use crate::model::*;
use crate::schedule::Schedule;
use crate::time::{ClockTime, DayOfWeek, LocalDateTime};
use crate::validate::ValidationReport;

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RbInstance {
    #[serde(default)]
    name: Option<String>,
    #[serde(deserialize_with = "crate::serde_checks::date")]
    week_start: NaiveDate,
    days: u32,
    grid_min: u32,
    sites: Vec<RbSite>,
    #[serde(deserialize_with = "crate::serde_checks::unique_keys")]
    travel_min: BTreeMap<String, u32>,
    providers: Vec<RbProvider>,
    patients: Vec<RbPatient>,
    requests: Vec<RbRequest>,
    #[serde(default)]
    precedences: Vec<RbPrecedence>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RbSite {
    id: String,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RbProvider {
    id: String,
    specialty: String,
    site: String,
    #[serde(deserialize_with = "crate::serde_checks::unique_keys")]
    hours: BTreeMap<String, Vec<(u32, u32)>>,
    #[serde(default)]
    blocked: Vec<(u32, u32, u32)>,
    #[serde(default)]
    max_per_day: Option<u32>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RbPatient {
    id: String,
    #[serde(default, deserialize_with = "crate::serde_checks::unique_keys_opt")]
    available: Option<BTreeMap<String, Vec<(u32, u32)>>>,
    #[serde(default)]
    blocks: Vec<(u32, u32, u32)>,
    #[serde(default)]
    recovery_min: u32,
    #[serde(default)]
    max_per_day: Option<u32>,
    #[serde(default)]
    prefers: Option<PartOfDay>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RbRequest {
    id: String,
    patient: String,
    specialty: String,
    duration_min: u32,
    eligible: Vec<String>,
    priority: u32,
    earliest_day: u32,
    latest_day: u32,
    #[serde(default)]
    telehealth: bool,
    #[serde(default)]
    preferred_provider: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RbPrecedence {
    before: String,
    after: String,
    #[serde(default)]
    min_gap_min: u32,
    #[serde(default)]
    max_gap_min: Option<u32>,
}

/// Top-level keys of a refbench instance that the careweek format does not have.
const INSTANCE_KEYS: [&str; 4] = ["week_start", "grid_min", "travel_min", "precedences"];

/// Keys, at any depth, of a refbench instance that the careweek format has nowhere.
const ONLY_INSTANCE_KEYS: [&str; 6] = [
    "week_start",
    "travel_min",
    "precedences",
    "blocked",
    "eligible",
    "earliest_day",
];

/// Whether JSON text looks like a refbench instance: an object without careweek's `version`
/// and with one of the instance's own top-level keys (`week_start`, `grid_min`, `travel_min`,
/// `precedences`). Text that is not JSON looks like one when it has no `"version"` key and
/// one that only instances have (`"week_start"`, `"travel_min"`, `"eligible"`, …), so that a
/// broken instance is reported as one (its syntax error, its missing field) rather than as a
/// careweek input full of unknown fields.
///
/// # Example
/// ```
/// assert!(careweek::refbench::is_refbench(r#"{"grid_min": 15, "travel_min": {}}"#));
/// assert!(careweek::refbench::is_refbench(r#"{"name": "w1", "week_start": "2025-03-03", "grid_min": 15}"#));
/// assert!(careweek::refbench::is_refbench(r#"{"name": "w1", "week_start": "2025-03-03", "travel_"#));
/// assert!(!careweek::refbench::is_refbench(r#"{"version": 1, "week": {}}"#));
/// assert!(!careweek::refbench::is_refbench("not json"));
/// ```
pub fn is_refbench(text: &str) -> bool {
    let text = without_bom(text);
    match serde_json::from_str::<Value>(text) {
        Ok(v) => v.as_object().is_some_and(|o| {
            !o.contains_key("version") && INSTANCE_KEYS.iter().any(|k| o.contains_key(*k))
        }),
        Err(_) => {
            let key = |k: &str| {
                text.match_indices(&format!("\"{k}\""))
                    .any(|(i, m)| text[i + m.len()..].trim_start().starts_with(':'))
            };
            !key("version") && ONLY_INSTANCE_KEYS.iter().any(|k| key(k))
        }
    }
}

fn report(code: &str, path: &str, message: String, hint: &str) -> ValidationReport {
    ValidationReport::single(code, path, message, hint)
}

fn clock(path: &str, minute: u32) -> Result<ClockTime, ValidationReport> {
    if minute > 1440 {
        return Err(report(
            "R002",
            path,
            format!("minute {minute} is past the end of the day"),
            "minutes run from 0 to 1440",
        ));
    }
    Ok(ClockTime(minute))
}

fn local(date: NaiveDate, minute: u32) -> Option<LocalDateTime> {
    let date = date.checked_add_days(Days::new(u64::from(minute / 1440)))?;
    let m = minute % 1440;
    date.and_hms_opt(m / 60, m % 60, 0).map(LocalDateTime)
}

/// Weekly windows keyed `"0"`..`"6"`: key `k` holds for the days `d` with `d % 7 == k`, that is
/// for the weekday of `start + k` (Monday when `week_start` is a Monday, as it should be).
fn weekly(
    path: &str,
    hours: &BTreeMap<String, Vec<(u32, u32)>>,
    start: NaiveDate,
) -> Result<WeeklyWindows, ValidationReport> {
    let mut out = WeeklyWindows::new();
    for (key, windows) in hours {
        // Exactly "0" to "6" (so no two keys name one day): the benchmark looks days up by
        // that text, so "00" or "+1" would name a day it never sees.
        let day = (key.len() == 1)
            .then(|| key.parse::<usize>().ok())
            .flatten()
            .filter(|&d| d < 7)
            .ok_or_else(|| {
                report(
                    "R003",
                    &format!("{path}.{key}"),
                    format!("weekday key '{key}'"),
                    "keys are \"0\" (the weekday of week_start) to \"6\"",
                )
            })?;
        let mut list = Vec::new();
        for (i, &(s, e)) in windows.iter().enumerate() {
            let p = format!("{path}.{key}[{i}]");
            list.push(Window(clock(&p, s)?, clock(&p, e)?));
        }
        let weekday = (day + start.weekday().num_days_from_monday() as usize) % 7;
        out.insert(DayOfWeek::ALL[weekday], list);
    }
    Ok(out)
}

/// The date of day `day` counted from `start`; a day index past the calendar is an R002 at
/// `path`.
fn day_date(start: NaiveDate, day: u32, path: &str) -> Result<NaiveDate, ValidationReport> {
    start
        .checked_add_days(Days::new(u64::from(day)))
        .ok_or_else(|| {
            report(
                "R002",
                path,
                format!("day {day} is past the end of the calendar"),
                "days count from week_start: 0 to days - 1",
            )
        })
}

fn dated(
    date0: NaiveDate,
    (day, s, e): (u32, u32, u32),
    label: &str,
    path: &str,
) -> Result<DatedInterval, ValidationReport> {
    let date = day_date(date0, day, path)?;
    // Minutes of the day, as for hours: a longer block is one per day.
    clock(path, s)?;
    clock(path, e)?;
    if e <= s {
        return Err(report(
            "R002",
            path,
            format!("{label} from minute {s} to {e} of day {day} ends at or before it starts"),
            "give [day, start_min, end_min] with start_min < end_min <= 1440",
        ));
    }
    let at = |minute: u32| {
        local(date, minute).ok_or_else(|| {
            report(
                "R002",
                path,
                format!("minute {minute} of day {day} is past the end of the calendar"),
                "minutes count from midnight of the day: 0 to 1440",
            )
        })
    };
    Ok(DatedInterval {
        start: at(s)?,
        end: at(e)?,
        label: Some(label.into()),
    })
}

/// Parses a refbench instance into an [`Input`].
///
/// # Errors
/// A [`ValidationReport`] naming the JSON path of a malformed field (R001 syntax, type or
/// unknown field; R002 a minute or day out of range; R003 a malformed key; R004 travel
/// minutes that contradict each other), or the report of [`crate::validate::validate`] with
/// the instance's own paths.
pub fn import(text: &str) -> Result<Input, ValidationReport> {
    if let Some(kind) = crate::validate::json_other_than_object(without_bom(text)) {
        return Err(report(
            "R001",
            "$",
            format!("the instance is {kind}; a refbench instance is one JSON object {{\"week_start\": …}}"),
            "pass one instance per file, as the benchmark's gen.py writes it",
        ));
    }
    let mut de = serde_json::Deserializer::from_str(without_bom(text));
    let rb: RbInstance = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| {
            let path = crate::validate::json_error_path(&e.path().to_string());
            let message = crate::validate::plain_type_message(&e.into_inner().to_string());
            let message = if crate::validate::array_too_long(&message, &path) {
                "more elements than this array takes: a window is [start, end] in minutes, a provider's blocked or a patient's block [day, start, end]".to_string()
            } else {
                message
            };
            report(
                "R001",
                &path,
                message,
                "follow the instance format of the benchmark's PROBLEM.md",
            )
        })
        .and_then(|rb| {
            de.end().map(|()| rb).map_err(|e| {
                report(
                    "R001",
                    "$",
                    e.to_string(),
                    "remove what follows the top-level object",
                )
            })
        })?;
    // Written out so that an array read by position into a struct is found.
    if let Some(path) = crate::validate::array_read_as_object(text, &rb) {
        return Err(report(
            "R001",
            &path,
            "invalid type: array, expected an object".to_string(),
            "write this value as an object with named fields, as the benchmark's gen.py does: an array would be read by position",
        ));
    }
    let start = rb.week_start;
    // One entry per pair of distinct sites; both directions, if given, must agree.
    let mut pairs: BTreeMap<(&str, &str), (&str, u32)> = BTreeMap::new();
    for (key, &minutes) in &rb.travel_min {
        let Some((a, b)) = key.split_once('|') else {
            return Err(report(
                "R003",
                &format!("travel_min.{key}"),
                format!("key '{key}'"),
                "keys are \"siteA|siteB\"",
            ));
        };
        if a == b {
            if minutes != 0 {
                return Err(report(
                    "R004",
                    &format!("travel_min.{key}"),
                    format!("travel from site '{a}' to itself is {minutes} min"),
                    "travel within a site is 0: write 0 or leave the key out",
                ));
            }
            continue;
        }
        let pair = if a < b { (a, b) } else { (b, a) };
        match pairs.get(&pair) {
            Some(&(other, m)) if m != minutes => {
                return Err(report(
                    "R004",
                    &format!("travel_min.{key}"),
                    format!("travel_min.{key} is {minutes} min but travel_min.{other} is {m} min"),
                    "travel is symmetric: give both directions the same minutes",
                ));
            }
            Some(_) => {}
            None => {
                pairs.insert(pair, (key.as_str(), minutes));
            }
        }
    }
    let mut travel = Vec::new();
    let mut travel_keys = Vec::new();
    for ((a, b), (key, minutes)) in pairs {
        travel.push(Travel {
            from: a.into(),
            to: b.into(),
            minutes,
        });
        travel_keys.push(key.to_string());
    }
    let mut providers = Vec::new();
    for (i, p) in rb.providers.iter().enumerate() {
        providers.push(Provider {
            id: p.id.clone(),
            name: None,
            specialty: p.specialty.clone(),
            site: p.site.clone(),
            hours: weekly(&format!("providers[{i}].hours"), &p.hours, start)?,
            exceptions: vec![],
            bookings: p
                .blocked
                .iter()
                .enumerate()
                .map(|(j, &b)| dated(start, b, "blocked", &format!("providers[{i}].blocked[{j}]")))
                .collect::<Result<_, _>>()?,
            max_per_day: p.max_per_day,
            languages: vec![],
            insurance: None,
            telehealth: true,
        });
    }
    let mut patients = Vec::new();
    for (i, q) in rb.patients.iter().enumerate() {
        patients.push(Patient {
            id: q.id.clone(),
            name: None,
            availability: q
                .available
                .as_ref()
                .map(|a| weekly(&format!("patients[{i}].available"), a, start))
                .transpose()?,
            availability_overrides: vec![],
            blocks: vec![],
            dated_blocks: q
                .blocks
                .iter()
                .enumerate()
                .map(|(j, &b)| dated(start, b, "block", &format!("patients[{i}].blocks[{j}]")))
                .collect::<Result<_, _>>()?,
            recovery_min: q.recovery_min,
            max_per_day: q.max_per_day,
            max_trips: None,
            prefers: q.prefers,
            preferred_days: vec![],
            preferred_provider: None,
            language: None,
            telehealth: true,
            insurance: None,
        });
    }
    let mut requests = Vec::new();
    for (i, r) in rb.requests.iter().enumerate() {
        let earliest = day_date(
            start,
            r.earliest_day,
            &format!("requests[{i}].earliest_day"),
        )?;
        let latest = day_date(start, r.latest_day, &format!("requests[{i}].latest_day"))?;
        requests.push(Request {
            id: r.id.clone(),
            patient: r.patient.clone(),
            service: None,
            specialty: Some(if r.eligible.is_empty() {
                format!("{} (no eligible provider)", r.specialty)
            } else {
                r.specialty.clone()
            }),
            providers: r.eligible.clone(),
            duration_min: r.duration_min,
            modality: if r.telehealth {
                Modality::Telehealth
            } else {
                Modality::InPerson
            },
            priority: r.priority,
            earliest: Some(earliest),
            latest: Some(latest),
            preferred_provider: r.preferred_provider.clone(),
            resources: vec![],
            existing: None,
        });
    }
    let links = rb
        .precedences
        .iter()
        .map(|p| Link::Precedence {
            before: p.before.clone(),
            after: p.after.clone(),
            min_gap_min: p.min_gap_min,
            max_gap_min: p.max_gap_min,
        })
        .collect();
    let _ = rb.name;
    let input = Input {
        version: FORMAT_VERSION,
        week: Week {
            start,
            days: rb.days,
            grid_min: rb.grid_min,
            timezone: "UTC".into(),
        },
        weights: Weights {
            unplaced_per_priority: 1000,
            trip: 60,
            idle_per_min: 1,
            part_of_day: 20,
            provider: 15,
            preferred_day: 0,
            moved: 0,
        },
        sites: rb
            .sites
            .iter()
            .map(|s| Site {
                id: s.id.clone(),
                name: None,
                timezone: None,
            })
            .collect(),
        travel,
        providers,
        resources: vec![],
        patients,
        requests,
        links,
    };
    // Validated here so that a rule broken names the instance's own field, not the
    // careweek field it became.
    crate::validate::validate_as(input.clone(), crate::validate::Rules::Refbench).map_err(|mut report| {
        for issue in &mut report.issues {
            issue.path = instance_path(&issue.path, &travel_keys, start);
            // The instance counts days from week_start; it has no dates to check.
            if issue.code == "E021" {
                issue.hint = "days count from week_start: 0 to days - 1".into();
            }
            // The careweek hint would ask for a `travel` entry the instance cannot have.
            if issue.code == "E014" && issue.path == "travel_min" {
                issue.hint = "add a \"siteA|siteB\": minutes key to travel_min for every pair of distinct sites".into();
            }
        }
        report
    })?;
    Ok(input)
}

/// The path in the refbench instance of a value at `path` in the imported [`Input`], e.g.
/// `requests[3].earliest` → `requests[3].earliest_day`, `links[2]` → `precedences[2]`,
/// `providers[0].hours.mon[1]` → `providers[0].hours.0[1]` (weekday keys count from the
/// weekday of `start`, the instance's `week_start`, as [`weekly`] reads them).
fn instance_path(path: &str, travel_keys: &[String], start: NaiveDate) -> String {
    let first_weekday = start.weekday().num_days_from_monday() as usize;
    let split = |segment: &str| -> (String, String) {
        match segment.find('[') {
            Some(k) => (segment[..k].to_string(), segment[k..].to_string()),
            None => (segment.to_string(), String::new()),
        }
    };
    let segments: Vec<(String, String)> = path.split('.').map(split).collect();
    let Some((top, index)) = segments.first() else {
        return path.to_string();
    };
    let mut out: Vec<String> = Vec::new();
    let rest = &segments[1..];
    match top.as_str() {
        "week" => {
            let field = rest
                .first()
                .map_or("week_start", |(name, _)| match name.as_str() {
                    "days" => "days",
                    "grid_min" => "grid_min",
                    _ => "week_start",
                });
            return field.to_string();
        }
        "travel" => {
            // travel[i] came from one key of travel_min.
            let key = index
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<usize>()
                .ok()
                .and_then(|i| travel_keys.get(i));
            return key.map_or("travel_min".to_string(), |k| format!("travel_min.{k}"));
        }
        "links" => out.push(format!("precedences{index}")),
        _ => out.push(format!("{top}{index}")),
    }
    let mut parent = top.as_str();
    let mut key: String;
    for (name, index) in rest {
        let renamed = match (parent, name.as_str()) {
            ("providers", "bookings" | "exceptions") => "blocked",
            ("patients", "dated_blocks") => "blocks",
            ("patients", "availability" | "availability_overrides") => "available",
            ("requests", "earliest") => "earliest_day",
            ("requests", "latest") => "latest_day",
            ("requests", "providers") => "eligible",
            ("requests", "modality") => "telehealth",
            ("hours" | "available", day) => {
                match DayOfWeek::ALL.iter().position(|w| w.key() == day) {
                    Some(weekday) => {
                        key = ((weekday + 7 - first_weekday) % 7).to_string();
                        key.as_str()
                    }
                    None => day,
                }
            }
            (_, other) => other,
        };
        out.push(format!("{renamed}{index}"));
        parent = match renamed {
            "hours" => "hours",
            "available" => "available",
            _ => "",
        };
    }
    out.join(".")
}

/// Writes a schedule of an imported instance as a refbench solution (JSON value): day index
/// and minute of day per assignment, the unscheduled ids, and the objective, bound and gap.
///
/// # Example
/// ```
/// # use careweek::schedule::*;
/// let input = careweek::generate(&careweek::GenerateOptions { patients: 2, seed: 1, grid_min: 15 });
/// let schedule = careweek::solve(&careweek::validate(input.clone()).unwrap(), &Default::default());
/// let out = careweek::refbench::export(&input, &schedule);
/// let n = out["assignments"].as_array().unwrap().len() + out["unscheduled"].as_array().unwrap().len();
/// assert_eq!(n, input.requests.len());
/// ```
pub fn export(input: &Input, schedule: &Schedule) -> Value {
    let start = input.week.start;
    let tz: chrono_tz::Tz = input.week.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let assignments: Vec<Value> = schedule
        .placed
        .iter()
        .map(|p| {
            let local = p.start.with_timezone(&tz).naive_local();
            let day = (local.date() - start).num_days();
            let minute = local
                .time()
                .signed_duration_since(chrono::NaiveTime::MIN)
                .num_minutes();
            json!({"request": p.request, "provider": p.provider, "day": day, "start_min": minute})
        })
        .collect();
    let unscheduled: Vec<&str> = schedule
        .unplaced
        .iter()
        .map(|u| u.request.as_str())
        .collect();
    json!({
        "assignments": assignments,
        "unscheduled": unscheduled,
        "objective": schedule.objective.total,
        "bound": schedule.bound,
        "gap": schedule.gap,
        "status": schedule.status,
        "solver": format!("careweek {} ({})", env!("CARGO_PKG_VERSION"), schedule.stats.backend),
        "seconds": schedule.stats.seconds,
    })
}
