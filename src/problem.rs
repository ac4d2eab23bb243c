//! The validated, indexed form of an [`Input`]: ids resolved to indices, wall-clock times
//! resolved to absolute minutes, ready for the solver.
//!
//! Absolute minutes count from the week's first local midnight (in the week's time zone)
//! as elapsed real time, so a week crossing a daylight-saving change keeps precedence gaps
//! and travel right. Built only by [`crate::validate::validate`].

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::model::{Input, Modality, PartOfDay, Weights};
use crate::time::DayOfWeek;

/// A half-open interval `[start, end)` of absolute minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    /// First minute inside.
    pub start: i32,
    /// First minute after.
    pub end: i32,
}

impl Interval {
    /// `[start, end)`.
    pub fn new(start: i32, end: i32) -> Self {
        Interval { start, end }
    }

    /// Whether the two share a minute (touching is not overlapping).
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `other` lies wholly inside.
    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// One planning day.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    /// Local date (week time zone).
    pub date: NaiveDate,
    /// Its weekday.
    pub weekday: DayOfWeek,
    /// Absolute minute of its local midnight.
    pub start: i32,
    /// Absolute minute of the next local midnight (1380 or 1500 long across a DST change).
    pub end: i32,
    /// Absolute minute from which the day's clock change holds (`end` on a day without
    /// one): wall-clock minutes from then on are shifted by the change.
    pub clock_change: i32,
}

/// A site, indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteIx {
    /// Time zone the site's calendars are written in.
    pub tz: Tz,
}

/// A provider, indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderIx {
    /// Site index.
    pub site: usize,
    /// Specialty, as the index of the first provider of the same specialty.
    pub specialty: u32,
    /// Free time per day (index as [`Problem::days`]): working windows minus exceptions and
    /// bookings. Pieces are never merged: an appointment must fit inside one piece.
    pub free: Vec<Vec<Interval>>,
    /// Cap of appointments per day.
    pub max_per_day: Option<u32>,
}

/// A resource, indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceIx {
    /// Kind, as in the input.
    pub kind: String,
    /// Site index, `None` when usable anywhere (and for telehealth).
    pub site: Option<usize>,
    /// Interpreted language, for interpreters.
    pub language: Option<String>,
    /// Free time per day, pieces not merged (a whole day when it has no hours).
    pub free: Vec<Vec<Interval>>,
}

/// One hard block of a patient, with its recovery time.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockIx {
    /// The block itself.
    pub interval: Interval,
    /// End of the recovery after it (`interval.end + recovery_min`).
    pub recovery_end: i32,
    /// Label from the input ("dialysis"), or "block".
    pub label: String,
}

/// A patient, indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientIx {
    /// Availability windows per day, before blocks: from the weekly pattern and the dated
    /// overrides, or the whole day when the patient gave none.
    pub available: Vec<Vec<Interval>>,
    /// Hard blocks with their recovery, in absolute minutes (may cross midnight).
    pub blocks: Vec<BlockIx>,
    /// Cap of appointments per day.
    pub max_per_day: Option<u32>,
    /// Cap of trips per week.
    pub max_trips: Option<u32>,
    /// Preferred part of day.
    pub prefers: Option<PartOfDay>,
    /// Per day: is it a preferred day? All true when the patient gave no preference.
    pub preferred_day: Vec<bool>,
}

/// An existing appointment of a request, indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingIx {
    /// Provider index.
    pub provider: usize,
    /// Absolute start.
    pub start: i32,
    /// In person or telehealth (never `Either`).
    pub modality: Modality,
    /// Resource indices booked.
    pub resources: Vec<usize>,
    /// Must be kept exactly.
    pub pinned: bool,
}

/// A request, indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestIx {
    /// Patient index.
    pub patient: usize,
    /// Provider indices named or of the specialty, before any other rule (insurance,
    /// telehealth, language); the solver filters those and explains what it filtered.
    pub eligible: Vec<usize>,
    /// Minutes, a multiple of the grid.
    pub duration: i32,
    /// Requested modality.
    pub modality: Modality,
    /// Priority 1..=5.
    pub priority: u32,
    /// First allowed day index.
    pub day_lo: usize,
    /// Last allowed day index (may be below `day_lo` only if validation let it through: it
    /// does not).
    pub day_hi: usize,
    /// Preferred provider index (request's own, else the patient's).
    pub preferred_provider: Option<usize>,
    /// Resource kinds needed, one resource each.
    pub resource_kinds: Vec<String>,
    /// Interpreter language needed unless the provider speaks it (the patient's language).
    pub language: Option<String>,
    /// Existing appointment.
    pub existing: Option<ExistingIx>,
}

impl RequestIx {
    /// Whether it has a pinned booking, which must be kept exactly.
    pub fn pinned(&self) -> bool {
        self.existing.as_ref().is_some_and(|e| e.pinned)
    }
}

/// `after` starts within `[before.end + min_gap, before.end + max_gap]`; if `after` is
/// placed, `before` is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precedence {
    /// Request index that comes first.
    pub before: usize,
    /// Request index that comes second.
    pub after: usize,
    /// Minimum minutes.
    pub min_gap: i32,
    /// Maximum minutes.
    pub max_gap: Option<i32>,
    /// Index in the input's `links` of the link it comes from (a precedence or a
    /// back_to_back): its minutes as given, which `min_gap` and `max_gap` cap.
    pub link: usize,
}

/// The validated problem.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The input it was built from (ids and labels for reporting).
    pub input: Input,
    /// Grid minutes.
    pub grid: i32,
    /// Week time zone.
    pub tz: Tz,
    /// The planning days.
    pub days: Vec<Day>,
    /// Sites, index as `input.sites`.
    pub sites: Vec<SiteIx>,
    /// Travel minutes `[site][site]`, 0 on the diagonal.
    pub travel: Vec<Vec<i32>>,
    /// Providers, index as `input.providers`.
    pub providers: Vec<ProviderIx>,
    /// Resources, index as `input.resources`.
    pub resources: Vec<ResourceIx>,
    /// Patients, index as `input.patients`.
    pub patients: Vec<PatientIx>,
    /// Requests, index as `input.requests`.
    pub requests: Vec<RequestIx>,
    /// Precedences (including the ordering half of back-to-back links).
    pub precedences: Vec<Precedence>,
    /// All-or-nothing same-day groups (same-day links and back-to-back pairs).
    pub same_day: Vec<Vec<usize>>,
    /// Per request: whether every feasible schedule places it (see [`required_requests`]).
    pub required: Vec<bool>,
    /// Per request: `(urgency, depth)` for construction order (see [`link_order`]).
    pub link_order: Vec<(u32, u32)>,
    /// Objective weights.
    pub weights: Weights,
}

/// Per request: its urgency (a prerequisite is as urgent as the most urgent request that
/// depends on it, directly or not) and its depth (how many prerequisites come before it in
/// the longest chain), so that construction places prerequisites first and by what rests on
/// them.
pub fn link_order(requests: &[RequestIx], precedences: &[Precedence]) -> Vec<(u32, u32)> {
    let n = requests.len();
    let mut urgency: Vec<u32> = requests.iter().map(|r| r.priority).collect();
    let mut depth = vec![0u32; n];
    // Bellman-Ford style relaxation; validation guarantees no cycles, the bound guards anyway.
    for _ in 0..=precedences.len().min(n) {
        let mut changed = false;
        for p in precedences {
            if urgency[p.before] < urgency[p.after] {
                urgency[p.before] = urgency[p.after];
                changed = true;
            }
            if depth[p.after] <= depth[p.before] {
                depth[p.after] = depth[p.before] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    urgency.into_iter().zip(depth).collect()
}

/// Per request: whether every feasible schedule places it. Pinned bookings are kept; a
/// placed request needs its prerequisites placed, and a bundle is placed whole; so the
/// prerequisites and bundle mates of a required request are required too (to a fixpoint).
pub fn required_requests(
    requests: &[RequestIx],
    precedences: &[Precedence],
    same_day: &[Vec<usize>],
) -> Vec<bool> {
    let mut required: Vec<bool> = requests.iter().map(RequestIx::pinned).collect();
    loop {
        let mut changed = false;
        for p in precedences {
            if required[p.after] && !required[p.before] {
                required[p.before] = true;
                changed = true;
            }
        }
        for group in same_day {
            if group.iter().any(|&m| required[m]) {
                for &m in group {
                    if !required[m] {
                        required[m] = true;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return required;
        }
    }
}

impl Problem {
    /// The day index containing absolute minute `t`, if within the horizon.
    pub fn day_of(&self, t: i32) -> Option<usize> {
        self.days.iter().position(|d| d.start <= t && t < d.end)
    }

    /// Local minute of the day (week time zone) of absolute minute `t` on day `day`.
    pub fn minute_of_day(&self, day: usize, t: i32) -> i32 {
        t - self.days[day].start - self.minute_shift(day, t)
    }

    /// How far the wall clock at absolute minute `t` of day `day` is behind the minutes
    /// elapsed since local midnight: the day's clock change once it has happened, else 0.
    pub fn minute_shift(&self, day: usize, t: i32) -> i32 {
        let d = &self.days[day];
        if t >= d.clock_change {
            (d.end - d.start) - 1440
        } else {
            0
        }
    }

    /// The first absolute minute at or after `t` on day `day` whose wall-clock time is on
    /// the grid. A change of 30 minutes (Lord Howe) moves the grid's lines by half a step
    /// of a 60-minute grid.
    pub fn next_on_grid(&self, day: usize, t: i32) -> i32 {
        let start = self.days[day].start;
        let at = |t: i32| t + (start + self.minute_shift(day, t) - t).rem_euclid(self.grid);
        let first = at(t);
        if self.minute_shift(day, first) == self.minute_shift(day, t) {
            first
        } else {
            // The change came between: the lines after it count from the change.
            at(self.days[day].clock_change)
        }
    }

    /// Part of day of an appointment starting at absolute minute `t` on day `day`.
    pub fn part_of_day(&self, day: usize, t: i32) -> PartOfDay {
        let m = self.minute_of_day(day, t);
        if m < 720 {
            PartOfDay::Morning
        } else if m < 1020 {
            PartOfDay::Afternoon
        } else {
            PartOfDay::Evening
        }
    }
}
