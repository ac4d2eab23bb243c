//! The output format: every request exactly once, placed or unplaced with a reason, plus the
//! objective breakdown, the proven bound and gap, and run statistics.
//!
//! Field names here are read by other tools: keep them stable.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::model::Modality;

/// A solved week. Read back (by `careweek check`), a field it does not have is refused:
/// a misspelt optional one (`resource` for `resources`) would otherwise be dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Format version.
    pub version: u32,
    /// Booked appointments, ordered by start then request id.
    pub placed: Vec<Placed>,
    /// Requests that could not be booked, each with its reason.
    pub unplaced: Vec<Unplaced>,
    /// Objective value and its terms (minimised).
    pub objective: Objective,
    /// A proven lower bound on the optimal objective total.
    pub bound: f64,
    /// `(objective.total - bound) / objective.total`, 0 when both are 0.
    pub gap: f64,
    /// `optimal` when the gap is closed, else `feasible`.
    pub status: Status,
    /// How the run went.
    pub stats: Stats,
}

/// A booked appointment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placed {
    /// Request id.
    pub request: String,
    /// Patient id.
    pub patient: String,
    /// Provider id.
    pub provider: String,
    /// Resource ids booked with it.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Site id; absent for telehealth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Local start with its UTC offset (the site's time zone, or the week's for telehealth).
    pub start: DateTime<FixedOffset>,
    /// Local end with its UTC offset.
    pub end: DateTime<FixedOffset>,
    /// `in_person` or `telehealth`.
    pub modality: Modality,
}

/// Why a request could not be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnplacedCode {
    /// No provider qualifies (specialty, insurance, modality, language).
    NoEligibleProvider,
    /// No eligible provider works within the request's allowed days.
    NoProviderHours,
    /// The patient is never available when an eligible provider works.
    PatientUnavailable,
    /// The patient's hard blocks and recovery leave no slot.
    PatientBlocked,
    /// A needed resource (room, scanner, interpreter) is never free when it could happen.
    NoResource,
    /// Slots exist but other requests of higher priority, the providers' daily limits, or
    /// the patient's own caps and travel take them all.
    Capacity,
    /// A linked request (precedence or bundle) could not be placed compatibly.
    Link,
    /// The patient's cap on trips this week is reached.
    MaxTrips,
    /// A free slot fits, but under the input's weights leaving the request out costs less
    /// than placing it (the trip, waiting and preferences it would bring).
    Outweighed,
}

crate::serde_checks::string_enum!(UnplacedCode {
    NoEligibleProvider = "no_eligible_provider",
    NoProviderHours = "no_provider_hours",
    PatientUnavailable = "patient_unavailable",
    PatientBlocked = "patient_blocked",
    NoResource = "no_resource",
    Capacity = "capacity",
    Link = "link",
    MaxTrips = "max_trips",
    Outweighed = "outweighed",
});

/// A request left unplaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unplaced {
    /// Request id.
    pub request: String,
    /// Patient id.
    pub patient: String,
    /// Stable reason code.
    pub code: UnplacedCode,
    /// A sentence for a coordinator naming the constraint that left no option.
    pub reason: String,
}

/// Objective terms, each already weighted (see [`crate::model::Weights`]); `total` is their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    /// Sum of the terms below.
    pub total: i64,
    /// Unplaced requests (weight × priority).
    pub unplaced: i64,
    /// Patient trips.
    pub trips: i64,
    /// Patient waiting between same-day in-person appointments.
    pub idle: i64,
    /// Appointments outside the preferred part of day.
    pub part_of_day: i64,
    /// Appointments not with the preferred provider.
    pub provider: i64,
    /// Appointments on days the patient did not prefer.
    pub preferred_day: i64,
    /// Existing bookings moved or dropped.
    pub moved: i64,
}

impl Objective {
    /// Recomputes `total` from the terms.
    pub fn with_total(mut self) -> Self {
        self.total = self.unplaced
            + self.trips
            + self.idle
            + self.part_of_day
            + self.provider
            + self.preferred_day
            + self.moved;
        self
    }
}

/// Whether the schedule is proven optimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Objective equals the bound.
    Optimal,
    /// Every hard constraint holds; optimality not proven.
    Feasible,
}

crate::serde_checks::string_enum!(Status {
    Optimal = "optimal",
    Feasible = "feasible",
});

/// Run statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// MILP backend used ("microlp" or "highs").
    pub backend: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Threads used.
    pub threads: usize,
    /// Seed used.
    pub seed: u64,
    /// Requests in the input.
    pub requests: usize,
    /// Feasible (provider, resources, day, start) options over all requests.
    pub options: usize,
    /// Independent groups of interacting requests.
    pub components: usize,
    /// Components solved to proven optimality by the exact MILP.
    pub components_exact: usize,
    /// Objective of the construction before improvement.
    pub construction_objective: i64,
    /// Improvement iterations (neighbourhood repairs) performed.
    pub iterations: u64,
    /// Requests offered only some of their providers' days, to build the options within
    /// the time limit or past 20,000 starts a request. The bound then leaves those
    /// requests out of their patients' weeks and weighs those weeks by a quick relaxation
    /// alone: a bound over the options offered would bound only those.
    #[serde(default)]
    pub thinned: usize,
}
