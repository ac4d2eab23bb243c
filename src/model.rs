//! The input format: plain serde data describing one week's caseload.
//!
//! Everything here is what a user writes (or an EHR exports). Nothing here knows about the
//! solver. Times are local wall-clock times: a provider's or resource's windows are read in
//! the time zone of its site, a patient's in the week's time zone. "Day" and "part of day"
//! are judged in the week's time zone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::{BookingStart, ClockTime, DayOfWeek, LocalDateTime};

/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// One planning week: the whole caseload, the providers' calendars and the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Format version; must be [`FORMAT_VERSION`].
    pub version: u32,
    /// The horizon and the time grid.
    pub week: Week,
    /// Objective weights; the defaults are documented on [`Weights`].
    #[serde(default)]
    pub weights: Weights,
    /// Clinics and hospitals.
    pub sites: Vec<Site>,
    /// Travel minutes between sites, symmetric; every pair of distinct sites needs one entry.
    #[serde(default)]
    pub travel: Vec<Travel>,
    /// Clinicians.
    pub providers: Vec<Provider>,
    /// Rooms, chairs, scanners, interpreters.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// The caseload.
    pub patients: Vec<Patient>,
    /// What must be booked this week.
    pub requests: Vec<Request>,
    /// Precedences and bundles between requests.
    #[serde(default)]
    pub links: Vec<Link>,
}

/// The planning horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Week {
    /// First day of the week (usually a Monday).
    #[serde(deserialize_with = "crate::serde_checks::date")]
    pub start: chrono::NaiveDate,
    /// Number of days planned, 1..=7 (6 = Monday to Saturday).
    pub days: u32,
    /// Minutes of the time grid: every start and duration is a multiple (5, 10, 15, 30 or 60).
    pub grid_min: u32,
    /// IANA time zone of the week (patients' times, days, parts of day), e.g. "Europe/Paris".
    pub timezone: String,
}

/// Objective weights (minimised). Placing requests dominates, then trips, then waiting,
/// then preferences, then moving existing bookings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// Cost per priority point of a request left unplaced (priority 3 unplaced costs 3×).
    pub unplaced_per_priority: i64,
    /// Cost per patient trip: a (patient, day) with at least one in-person appointment.
    pub trip: i64,
    /// Cost per minute a patient waits between same-day in-person appointments.
    pub idle_per_min: i64,
    /// Cost per appointment outside the patient's preferred part of day.
    pub part_of_day: i64,
    /// Cost per appointment not with the preferred provider.
    pub provider: i64,
    /// Cost per appointment on a day the patient did not list as preferred.
    pub preferred_day: i64,
    /// Cost per existing (not pinned) booking that is moved or dropped.
    pub moved: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            unplaced_per_priority: 1000,
            trip: 60,
            idle_per_min: 1,
            part_of_day: 20,
            provider: 15,
            preferred_day: 10,
            moved: 50,
        }
    }
}

/// A clinic or hospital.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// IANA time zone of the site; the week's time zone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// Travel time between two sites (both directions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Travel {
    /// One site id.
    pub from: String,
    /// The other site id.
    pub to: String,
    /// Minutes from one to the other.
    pub minutes: u32,
}

/// Working windows per weekday; a weekday that is absent means not working / not available.
pub type WeeklyWindows = BTreeMap<DayOfWeek, Vec<Window>>;

/// A half-open wall-clock window `[start, end)` within one day, written `["08:00", "12:00"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window(pub ClockTime, pub ClockTime);

/// A dated interval `[start, end)` in local time (leave, a meeting, a booking, a hard block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedInterval {
    /// Local start, e.g. "2025-03-03T07:00".
    pub start: LocalDateTime,
    /// Local end (may be on a later date).
    pub end: LocalDateTime,
    /// What it is ("annual leave", "team meeting"), shown in explanations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A clinician.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Specialty, e.g. "cardiology"; requests naming a specialty may go to any provider of it.
    pub specialty: String,
    /// Site where in-person appointments take place.
    pub site: String,
    /// Weekly working windows in the site's time zone.
    #[serde(deserialize_with = "crate::serde_checks::unique_keys")]
    pub hours: WeeklyWindows,
    /// Dated exceptions: leave, meetings.
    #[serde(default)]
    pub exceptions: Vec<DatedInterval>,
    /// Existing bookings outside this caseload.
    #[serde(default)]
    pub bookings: Vec<DatedInterval>,
    /// Maximum appointments per day from this caseload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// Languages spoken (lower-case names or codes); a patient speaking one needs no interpreter.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Insurance plans accepted; absent means every plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<Vec<String>>,
    /// Whether this provider offers telehealth.
    #[serde(default = "yes")]
    pub telehealth: bool,
}

impl Provider {
    /// Whether the provider has no working window this week (on leave, say).
    pub fn has_no_hours(&self) -> bool {
        self.hours.values().all(Vec::is_empty)
    }
}

/// A room, chair, scanner or interpreter: something an appointment may need besides the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Unique id.
    pub id: String,
    /// Kind, e.g. "mri", "dialysis_chair", "interpreter"; requests ask for a kind.
    pub kind: String,
    /// Site the resource is at; absent means usable from any site and for telehealth (e.g. a
    /// phone interpreter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// For interpreters: the language interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Weekly windows in the site's (or week's) time zone; absent means always available.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::serde_checks::unique_keys_opt"
    )]
    pub hours: Option<WeeklyWindows>,
    /// Dated unavailability (maintenance, leave, other bookings).
    #[serde(default)]
    pub exceptions: Vec<DatedInterval>,
}

/// Part of the day, judged by an appointment's start: morning before 12:00, afternoon
/// 12:00–17:00, evening from 17:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartOfDay {
    /// Starts before 12:00.
    Morning,
    /// Starts 12:00–16:59.
    Afternoon,
    /// Starts 17:00 or later.
    Evening,
}

crate::serde_checks::string_enum!(PartOfDay { Morning = "morning", Afternoon = "afternoon", Evening = "evening" });

/// A recurring hard block, e.g. dialysis Mon/Wed/Fri 07:00–11:00 or a work shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringBlock {
    /// Weekdays it recurs on.
    pub days: Vec<DayOfWeek>,
    /// Local start.
    pub start: ClockTime,
    /// Local end; an end at or before the start runs past midnight (a night shift).
    pub end: ClockTime,
    /// What it is ("dialysis", "night shift"), shown in explanations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Availability replaced on one date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateWindows {
    /// The date.
    #[serde(deserialize_with = "crate::serde_checks::date")]
    pub date: chrono::NaiveDate,
    /// Windows that date; empty means not available at all.
    pub windows: Vec<Window>,
}

/// A person on the caseload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Weekly availability in the week's time zone; absent means any time clinics are open.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::serde_checks::unique_keys_opt"
    )]
    pub availability: Option<WeeklyWindows>,
    /// Availability replaced on specific dates.
    #[serde(default)]
    pub availability_overrides: Vec<DateWindows>,
    /// Recurring hard blocks (dialysis, work shifts).
    #[serde(default)]
    pub blocks: Vec<RecurringBlock>,
    /// Dated hard blocks.
    #[serde(default)]
    pub dated_blocks: Vec<DatedInterval>,
    /// No appointment may start or run within this many minutes after a block ends.
    #[serde(default)]
    pub recovery_min: u32,
    /// Maximum appointments per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// Maximum trips (days with an in-person appointment) this week.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trips: Option<u32>,
    /// Preferred part of day (soft).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefers: Option<PartOfDay>,
    /// Preferred weekdays (soft); empty means no preference.
    #[serde(default)]
    pub preferred_days: Vec<DayOfWeek>,
    /// Preferred provider for all of this patient's requests (soft); a request's own
    /// `preferred_provider` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_provider: Option<String>,
    /// Language the patient needs; unless the provider speaks it, an interpreter resource of
    /// that language is booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Whether the patient can do telehealth.
    #[serde(default = "yes")]
    pub telehealth: bool,
    /// Insurance plan; only providers accepting it are eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<String>,
}

/// How an appointment takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// At the provider's site.
    InPerson,
    /// Remote: no site, no travel.
    Telehealth,
    /// Whichever fits better.
    Either,
}

crate::serde_checks::string_enum!(Modality { InPerson = "in_person", Telehealth = "telehealth", Either = "either" });

/// An existing appointment of a request: kept exactly when pinned, otherwise movable at a cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Existing {
    /// Provider booked.
    pub provider: String,
    /// Local start in the week's time zone, `"2026-03-03T10:00"`, optionally with the UTC
    /// offset the schedule prints for it, `"2026-03-03T10:00:00-05:00"`: that offset must be
    /// the week zone's at that local time, where it picks the occurrence in the hour repeated
    /// when daylight saving ends, or the provider's site zone's (the schedule gives an
    /// in-person start in its site's zone); E022 otherwise. Without one, the week zone's
    /// earlier occurrence is meant.
    pub start: BookingStart,
    /// Modality booked; the request's modality when absent (must not be `either` then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modality: Option<Modality>,
    /// Resources booked, if any.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Kept exactly (a hard constraint) when true; movable with [`Weights::moved`] when false.
    #[serde(default)]
    pub pinned: bool,
}

/// One appointment to book this week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Unique id.
    pub id: String,
    /// Patient id.
    pub patient: String,
    /// What it is ("echocardiogram"), shown in calendars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Specialty; any provider of it is eligible unless `providers` names some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialty: Option<String>,
    /// Named eligible providers; when empty, every provider of `specialty`.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Minutes; a multiple of the grid.
    pub duration_min: u32,
    /// In person, telehealth or either.
    #[serde(default = "in_person")]
    pub modality: Modality,
    /// 1 (routine) to 5 (urgent).
    #[serde(default = "priority_three")]
    pub priority: u32,
    /// Not before this date.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::serde_checks::date_opt"
    )]
    pub earliest: Option<chrono::NaiveDate>,
    /// Not after this date (due date).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::serde_checks::date_opt"
    )]
    pub latest: Option<chrono::NaiveDate>,
    /// Preferred provider (continuity of care, soft); one eligible for the request (E031).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_provider: Option<String>,
    /// Resource kinds needed, one resource of each (e.g. ["mri"]).
    #[serde(default)]
    pub resources: Vec<String>,
    /// An existing appointment for this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<Existing>,
}

/// A rule between requests (of the same patient as a rule, though not required).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    try_from = "RawLink"
)]
pub enum Link {
    /// `after` starts at least `min_gap_min` (and at most `max_gap_min`) minutes after
    /// `before` ends, in elapsed time across days. If `after` is placed, `before` must be.
    Precedence {
        /// Request that comes first.
        before: String,
        /// Request that comes second.
        after: String,
        /// Minimum minutes from the end of `before` to the start of `after`.
        #[serde(default)]
        min_gap_min: u32,
        /// Maximum minutes, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_gap_min: Option<u32>,
    },
    /// All placed on the same day, or none placed.
    SameDay {
        /// The requests of the bundle (two or more).
        requests: Vec<String>,
    },
    /// `second` starts when `first` ends (up to `max_wait_min` later), same day; both or neither.
    BackToBack {
        /// Request that comes first.
        first: String,
        /// Request that follows.
        second: String,
        /// Largest allowed wait between them.
        #[serde(default)]
        max_wait_min: u32,
    },
}

/// A link as written, every kind's fields optional: read field by field (serde's tagged
/// enums buffer their content, so a wrong value would be blamed on the link, not the field),
/// then checked against its kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    kind: LinkKind,
    before: Option<String>,
    after: Option<String>,
    min_gap_min: Option<u32>,
    max_gap_min: Option<u32>,
    requests: Option<Vec<String>>,
    first: Option<String>,
    second: Option<String>,
    max_wait_min: Option<u32>,
}

#[derive(Clone, Copy)]
enum LinkKind {
    Precedence,
    SameDay,
    BackToBack,
}

crate::serde_checks::string_enum!(LinkKind {
    Precedence = "precedence",
    SameDay = "same_day",
    BackToBack = "back_to_back",
});

impl TryFrom<RawLink> for Link {
    type Error = String;

    fn try_from(raw: RawLink) -> Result<Self, String> {
        let (kind, fields): (&str, &[&str]) = match raw.kind {
            LinkKind::Precedence => (
                "precedence",
                &["before", "after", "min_gap_min", "max_gap_min"],
            ),
            LinkKind::SameDay => ("same_day", &["requests"]),
            LinkKind::BackToBack => ("back_to_back", &["first", "second", "max_wait_min"]),
        };
        let given = [
            ("before", raw.before.is_some()),
            ("after", raw.after.is_some()),
            ("min_gap_min", raw.min_gap_min.is_some()),
            ("max_gap_min", raw.max_gap_min.is_some()),
            ("requests", raw.requests.is_some()),
            ("first", raw.first.is_some()),
            ("second", raw.second.is_some()),
            ("max_wait_min", raw.max_wait_min.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(n, g)| *g && !fields.contains(n)) {
            return Err(format!(
                "unknown field `{name}` for a {kind} link, expected one of {}",
                fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let need = |value: Option<String>, name: &str| {
            value.ok_or_else(|| format!("missing field `{name}` (a {kind} link names it)"))
        };
        Ok(match raw.kind {
            LinkKind::Precedence => Link::Precedence {
                before: need(raw.before, "before")?,
                after: need(raw.after, "after")?,
                min_gap_min: raw.min_gap_min.unwrap_or(0),
                max_gap_min: raw.max_gap_min,
            },
            LinkKind::SameDay => Link::SameDay {
                requests: raw.requests.ok_or_else(|| {
                    "missing field `requests` (a same_day link lists them)".to_string()
                })?,
            },
            LinkKind::BackToBack => Link::BackToBack {
                first: need(raw.first, "first")?,
                second: need(raw.second, "second")?,
                max_wait_min: raw.max_wait_min.unwrap_or(0),
            },
        })
    }
}

fn yes() -> bool {
    true
}

fn in_person() -> Modality {
    Modality::InPerson
}

fn priority_three() -> u32 {
    3
}
