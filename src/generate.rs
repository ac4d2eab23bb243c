//! Synthetic caseloads for tests, benchmarks and demos.
//!
//! A week of a small clinic network in the careweek format, drawn from clinical profiles
//! (cardiac, diabetic, dialysis, oncology, post-operative, shift workers, working people,
//! elderly), with the rules coordinators meet: dialysis blocks and recovery, evening-only
//! availability, interpreters, insurance networks, scanners, precedences, same-day bundles,
//! back-to-back pairs, pinned and movable bookings. Providers are sized so that demanded
//! provider minutes are 75–95 % of the minutes they work, scanners so that they are booked
//! at most 85 % of their week. Deterministic for the same options.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::*;
use crate::time::{BookingStart, ClockTime, DayOfWeek, LocalDateTime};

/// Options of the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Patients on the caseload.
    pub patients: usize,
    /// Seed: same options, same caseload.
    pub seed: u64,
    /// Grid minutes (5 or 15).
    pub grid_min: u32,
}

const SPECIALTIES: [&str; 8] = [
    "cardiology",
    "endocrinology",
    "nephrology",
    "oncology",
    "lab",
    "imaging",
    "primary_care",
    "physiotherapy",
];
/// Most of a scanner's week the imaging asked of it may fill.
const SCANNER_LOAD: f64 = 0.85;
/// Minutes of a scanner's week: 07:00-20:00, six days (the MRI's hours).
const SCANNER_WEEK_MIN: u32 = 6 * 13 * 60;
const PLANS: [&str; 4] = ["medicare", "medicaid", "bluecross", "acme_health"];
const SITES: [(&str, &str); 3] = [
    ("main", "Main Hospital"),
    ("riverside", "Riverside Clinic"),
    ("northgate", "Northgate Clinic"),
];
const FIRST: [&str; 16] = [
    "Ana", "Ben", "Chen", "Dora", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jim", "Kofi", "Lena",
    "Maria", "Nils", "Olga", "Raj",
];
const LAST: [&str; 12] = [
    "Alvarez", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Kowalski",
    "Lopez", "Nguyen",
];

fn w(a: u32, b: u32) -> Window {
    Window(ClockTime(a * 60), ClockTime(b * 60))
}

fn at(date: NaiveDate, minute: u32) -> LocalDateTime {
    LocalDateTime(
        date.and_hms_opt(minute / 60, minute % 60, 0)
            .expect("minute below 1440"),
    )
}

/// Rounds up to the grid.
fn on_grid(minutes: u32, grid: u32) -> u32 {
    minutes.div_ceil(grid) * grid
}

struct Builder {
    rng: ChaCha8Rng,
    grid: u32,
    start: NaiveDate,
    days: u32,
    patients: Vec<Patient>,
    requests: Vec<Request>,
    links: Vec<Link>,
}

impl Builder {
    fn date(&self, d: u32) -> NaiveDate {
        self.start + Days::new(u64::from(d))
    }

    fn request(
        &mut self,
        patient: usize,
        specialty: &str,
        service: &str,
        minutes: u32,
        modality: Modality,
    ) -> String {
        let pid = self.patients[patient].id.clone();
        let id = format!(
            "{pid}-{}",
            self.requests.iter().filter(|r| r.patient == pid).count() + 1
        );
        let priority = *[1, 2, 3, 3, 3, 4, 4, 5]
            .choose(&mut self.rng)
            .expect("non-empty");
        let (mut earliest, mut latest) = (None, None);
        if self.rng.gen_bool(0.2) {
            let a = self.rng.gen_range(0..self.days - 2);
            let b = self.rng.gen_range(a + 2..self.days);
            earliest = Some(self.date(a));
            latest = Some(self.date(b));
        }
        let resources = match (specialty, service) {
            ("imaging", "MRI") => vec!["mri".to_string()],
            ("imaging", _) => vec!["ct".to_string()],
            _ => vec![],
        };
        self.requests.push(Request {
            id: id.clone(),
            patient: pid,
            service: Some(service.into()),
            specialty: Some(specialty.into()),
            providers: vec![],
            duration_min: on_grid(minutes, self.grid),
            modality,
            priority,
            earliest,
            latest,
            preferred_provider: None,
            resources,
            existing: None,
        });
        id
    }

    fn follow_up(
        &mut self,
        patient: usize,
        specialty: &str,
        service: &str,
        minutes: u32,
    ) -> String {
        let tele = self.patients[patient].telehealth;
        let modality = match self.rng.gen_range(0..10) {
            0..=2 if tele => Modality::Telehealth,
            3..=4 if tele => Modality::Either,
            _ => Modality::InPerson,
        };
        self.request(patient, specialty, service, minutes, modality)
    }

    fn precedence(&mut self, before: &str, after: &str, min_gap_min: u32) {
        self.links.push(Link::Precedence {
            before: before.into(),
            after: after.into(),
            min_gap_min,
            max_gap_min: None,
        });
    }
}

/// Generates a realistic week.
///
/// # Example
/// ```
/// use careweek::{generate, GenerateOptions};
/// let a = generate(&GenerateOptions { patients: 20, seed: 3, grid_min: 15 });
/// let b = generate(&GenerateOptions { patients: 20, seed: 3, grid_min: 15 });
/// assert_eq!(a, b);
/// assert_eq!(a.patients.len(), 20);
/// assert!(careweek::validate(a).is_ok());
/// ```
pub fn generate(options: &GenerateOptions) -> Input {
    let grid = if [5, 10, 15, 30, 60].contains(&options.grid_min) {
        options.grid_min
    } else {
        15
    };
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).expect("a Monday");
    let mut b = Builder {
        rng: ChaCha8Rng::seed_from_u64(options.seed),
        grid,
        start,
        days: 6,
        patients: Vec::new(),
        requests: Vec::new(),
        links: Vec::new(),
    };
    let weekdays = &DayOfWeek::ALL[..5];

    for i in 0..options.patients {
        let rng = &mut b.rng;
        let profile = rng.gen_range(0..100);
        let name = format!(
            "{} {}",
            FIRST[rng.gen_range(0..FIRST.len())],
            LAST[rng.gen_range(0..LAST.len())]
        );
        let language = match rng.gen_range(0..100) {
            0..=13 => Some("es".to_string()),
            14..=18 => Some("zh".to_string()),
            _ => None,
        };
        let mut p = Patient {
            id: format!("p{:04}", i + 1),
            name: Some(name),
            availability: None,
            availability_overrides: vec![],
            blocks: vec![],
            dated_blocks: vec![],
            recovery_min: 0,
            max_per_day: Some(if rng.gen_bool(0.3) { 2 } else { 3 }),
            max_trips: None,
            prefers: None,
            preferred_days: vec![],
            preferred_provider: None,
            language,
            telehealth: rng.gen_bool(0.7),
            insurance: Some(PLANS[rng.gen_range(0..PLANS.len())].to_string()),
        };
        if rng.gen_bool(0.15) {
            p.prefers = Some(
                *[PartOfDay::Morning, PartOfDay::Afternoon]
                    .choose(rng)
                    .expect("non-empty"),
            );
        }
        if rng.gen_bool(0.1) {
            let mut days: Vec<DayOfWeek> = weekdays.choose_multiple(rng, 3).copied().collect();
            days.sort();
            p.preferred_days = days;
        }
        b.patients.push(p);
        let q = b.patients.len() - 1;
        match profile {
            // Dialysis: three mornings a week, wiped out for hours after.
            0..=9 => {
                let days = if b.rng.gen_bool(0.5) {
                    vec![DayOfWeek::Mon, DayOfWeek::Wed, DayOfWeek::Fri]
                } else {
                    vec![DayOfWeek::Tue, DayOfWeek::Thu, DayOfWeek::Sat]
                };
                let p = &mut b.patients[q];
                p.blocks.push(RecurringBlock {
                    days,
                    start: ClockTime(7 * 60),
                    end: ClockTime(11 * 60),
                    label: Some("dialysis".into()),
                });
                p.recovery_min = *[120, 180, 240].choose(&mut b.rng).expect("non-empty");
                b.request(q, "nephrology", "nephrology review", 45, Modality::InPerson);
                b.follow_up(q, "cardiology", "cardiology consult", 30);
                if b.rng.gen_bool(0.5) {
                    b.request(q, "lab", "blood draw", 15, Modality::InPerson);
                }
            }
            // Cardiac: lab at least the day before the cardiologist, maybe an echo the same day.
            10..=29 => {
                let lab = b.request(q, "lab", "lipid panel", 15, Modality::InPerson);
                let cardio = b.follow_up(q, "cardiology", "cardiology follow-up", 30);
                if b.requests
                    .last()
                    .is_some_and(|r| r.modality == Modality::InPerson)
                    && b.rng.gen_bool(0.4)
                {
                    let echo = b.request(q, "imaging", "echocardiogram", 45, Modality::InPerson);
                    b.links.push(Link::SameDay {
                        requests: vec![cardio.clone(), echo],
                    });
                }
                b.precedence(&lab, &cardio, 900);
            }
            // Diabetic: lab then endocrinology, primary care.
            30..=47 => {
                let lab = b.request(q, "lab", "HbA1c", 15, Modality::InPerson);
                let endo = b.follow_up(q, "endocrinology", "diabetes review", 30);
                b.precedence(&lab, &endo, 900);
                if b.rng.gen_bool(0.5) {
                    let pc = b.request(q, "primary_care", "foot check", 15, Modality::InPerson);
                    if b.rng.gen_bool(0.5) {
                        let draw = b.request(q, "lab", "urine test", 15, Modality::InPerson);
                        b.links.push(Link::BackToBack {
                            first: draw,
                            second: pc,
                            max_wait_min: 30,
                        });
                    }
                }
            }
            // Oncology: scan before the consult, a lab draw.
            48..=57 => {
                let scan = b.request(q, "imaging", "MRI", 45, Modality::InPerson);
                let onc = b.request(q, "oncology", "oncology consult", 45, Modality::InPerson);
                b.precedence(&scan, &onc, 30);
                let lab = b.request(q, "lab", "blood count", 15, Modality::InPerson);
                b.precedence(&lab, &onc, 0);
            }
            // Post-operative: two physiotherapy sessions on different days.
            58..=67 => {
                let a = b.request(q, "physiotherapy", "physiotherapy", 45, Modality::InPerson);
                let c = b.request(q, "physiotherapy", "physiotherapy", 45, Modality::InPerson);
                b.precedence(&a, &c, 900);
                b.follow_up(q, "primary_care", "wound check", 15);
            }
            // Shift workers: twelve-hour day shifts, so evenings and Saturday only.
            68..=77 => {
                let mut avail = BTreeMap::new();
                for &d in weekdays {
                    avail.insert(d, vec![w(19, 21)]);
                }
                avail.insert(DayOfWeek::Sat, vec![w(8, 14)]);
                b.patients[q].availability = Some(avail);
                b.follow_up(q, "primary_care", "annual physical", 30);
                b.request(q, "lab", "blood draw", 15, Modality::InPerson);
            }
            // Working people: before or after work.
            78..=87 => {
                let mut avail = BTreeMap::new();
                for &d in weekdays {
                    avail.insert(d, vec![w(7, 9), w(16, 19)]);
                }
                avail.insert(DayOfWeek::Sat, vec![w(9, 13)]);
                b.patients[q].availability = Some(avail);
                b.follow_up(q, "endocrinology", "thyroid review", 30);
                b.follow_up(q, "primary_care", "check-up", 15);
            }
            // Elderly: mornings, few trips, cardiology and lab the same day.
            _ => {
                let p = &mut b.patients[q];
                p.prefers = Some(PartOfDay::Morning);
                p.max_trips = Some(2);
                p.max_per_day = Some(3);
                let cardio = b.request(
                    q,
                    "cardiology",
                    "heart failure clinic",
                    30,
                    Modality::InPerson,
                );
                let lab = b.request(q, "lab", "electrolytes", 15, Modality::InPerson);
                b.links.push(Link::SameDay {
                    requests: vec![lab, cardio],
                });
                b.follow_up(q, "primary_care", "medication review", 15);
            }
        }
    }

    // Providers sized to the demand: 75-95 % of their working minutes are requested.
    let target_load = b.rng.gen_range(0.75..0.95);
    let mut providers: Vec<Provider> = Vec::new();
    for (s, &spec) in SPECIALTIES.iter().enumerate() {
        let demand: u32 = b
            .requests
            .iter()
            .filter(|r| r.specialty.as_deref() == Some(spec))
            .map(|r| r.duration_min)
            .sum();
        if demand == 0 && options.patients > 0 {
            continue;
        }
        let mut supplied = 0.0;
        let mut k = 0;
        while k == 0 || (demand as f64) / supplied > target_load {
            k += 1;
            let site = match spec {
                "lab" | "primary_care" => SITES[(k - 1) % 3].0,
                "nephrology" | "oncology" | "imaging" => "main",
                _ => SITES[(k - 1 + s) % 3].0,
            };
            let mut hours: WeeklyWindows = BTreeMap::new();
            let style = b.rng.gen_range(0..10);
            for &d in weekdays {
                let day = match style {
                    0..=5 => vec![w(8, 12), w(13, 17)],
                    6..=7 => vec![w(7, 15)],
                    _ => vec![w(12, 20)],
                };
                hours.insert(d, day);
            }
            if style >= 6 || spec == "lab" || spec == "primary_care" {
                hours.insert(DayOfWeek::Sat, vec![w(8, 13)]);
            }
            if b.rng.gen_bool(0.2) {
                // One weekday off.
                let off = weekdays[b.rng.gen_range(0..5)];
                hours.remove(&off);
            }
            let mut exceptions = vec![];
            if b.rng.gen_bool(0.15) {
                let d = b.rng.gen_range(0..5);
                exceptions.push(DatedInterval {
                    start: at(b.date(d), 12 * 60),
                    end: at(b.date(d), 16 * 60),
                    label: Some("team meeting".into()),
                });
            }
            let mut bookings = vec![];
            for _ in 0..b.rng.gen_range(0..3) {
                let d = b.rng.gen_range(0..5);
                let h = b.rng.gen_range(8..16);
                bookings.push(DatedInterval {
                    start: at(b.date(d), h * 60),
                    end: at(b.date(d), h * 60 + 30),
                    label: Some("existing patient".into()),
                });
            }
            supplied += f64::from(free_minutes(&b, &hours, &exceptions, &bookings));
            let id = format!("{}-{k}", spec.replace('_', "-"));
            let languages = match b.rng.gen_range(0..10) {
                0..=1 => vec!["en".to_string(), "es".to_string()],
                2 => vec!["en".to_string(), "zh".to_string()],
                _ => vec!["en".to_string()],
            };
            let insurance = if k >= 2 && b.rng.gen_bool(0.35) {
                let mut plans: Vec<String> = PLANS
                    .choose_multiple(&mut b.rng, 2)
                    .map(|s| s.to_string())
                    .collect();
                plans.sort();
                Some(plans)
            } else {
                None
            };
            providers.push(Provider {
                id: id.clone(),
                name: Some(format!("Dr. {}", LAST[(k * 7 + s) % LAST.len()])),
                specialty: spec.into(),
                site: site.into(),
                hours,
                exceptions,
                bookings,
                max_per_day: if b.rng.gen_bool(0.2) { Some(12) } else { None },
                languages,
                insurance,
                telehealth: !matches!(spec, "lab" | "imaging" | "physiotherapy"),
            });
        }
        // A whole extra provider can leave the specialty under-loaded: the last one works
        // part time, an hour less at a time, until the load is back near the target.
        let last = providers
            .last_mut()
            .expect("the loop adds at least one provider");
        let free_of = |b: &Builder, p: &Provider| {
            f64::from(free_minutes(b, &p.hours, &p.exceptions, &p.bookings))
        };
        let others = supplied - free_of(&b, last);
        let load_with = |p: &Provider| f64::from(demand) / (others + free_of(&b, p));
        while load_with(last) < target_load {
            let mut trimmed = last.clone();
            if !trim_an_hour(&mut trimmed.hours) || load_with(&trimmed) > 0.94 {
                break;
            }
            *last = trimmed;
        }
    }

    // Continuity of care: some patients prefer the cardiologist or GP they know.
    for q in 0..b.patients.len() {
        if b.rng.gen_bool(0.2) {
            let pid = b.patients[q].id.clone();
            let specs: Vec<String> = b
                .requests
                .iter()
                .filter(|r| r.patient == pid)
                .filter_map(|r| r.specialty.clone())
                .collect();
            if let Some(spec) = specs
                .iter()
                .find(|s| *s == "cardiology" || *s == "primary_care")
            {
                let of: Vec<&Provider> =
                    providers.iter().filter(|p| &p.specialty == spec).collect();
                if let Some(p) = of.choose(&mut b.rng) {
                    b.patients[q].preferred_provider = Some(p.id.clone());
                }
            }
        }
    }

    let n_es = b
        .patients
        .iter()
        .filter(|p| p.language.as_deref() == Some("es"))
        .count();
    let n_zh = b
        .patients
        .iter()
        .filter(|p| p.language.as_deref() == Some("zh"))
        .count();
    // Scanners are sized like providers: enough that the imaging asked of each kind is at
    // most `SCANNER_LOAD` of a scanner's week (07:00-20:00, six days). A single MRI for a
    // network of thousands of patients would turn most of its imaging away.
    let demanded = |kind: &str| -> u32 {
        b.requests
            .iter()
            .filter(|r| r.resources.iter().any(|k| k == kind))
            .map(|r| r.duration_min)
            .sum()
    };
    let scanners = |kind: &str| {
        let week = f64::from(SCANNER_WEEK_MIN);
        ((f64::from(demanded(kind)) / (SCANNER_LOAD * week)).ceil() as usize).max(1)
    };
    let mut resources = Vec::new();
    for (kind, count) in [("mri", scanners("mri")), ("ct", scanners("ct"))] {
        for k in 0..count {
            resources.push(Resource {
                id: if k == 0 {
                    format!("{kind}-main")
                } else {
                    format!("{kind}-main-{}", k + 1)
                },
                kind: kind.into(),
                site: Some("main".into()),
                language: None,
                // The CT is open around the clock; its radiologists' hours bound it.
                hours: (kind == "mri").then(|| {
                    DayOfWeek::ALL[..6]
                        .iter()
                        .map(|&d| (d, vec![w(7, 20)]))
                        .collect()
                }),
                exceptions: vec![],
            });
        }
    }
    let interpreters = |lang: &str, count: usize, resources: &mut Vec<Resource>| {
        for k in 0..count {
            resources.push(Resource {
                id: format!("interpreter-{lang}-{}", k + 1),
                kind: "interpreter".into(),
                site: None,
                language: Some(lang.into()),
                hours: Some(
                    DayOfWeek::ALL[..6]
                        .iter()
                        .map(|&d| (d, vec![w(8, 20)]))
                        .collect(),
                ),
                exceptions: vec![],
            });
        }
    };
    interpreters("es", n_es.div_ceil(12).max(1), &mut resources);
    interpreters("zh", n_zh.div_ceil(12).max(1), &mut resources);

    add_existing_bookings(&mut b, &providers);

    Input {
        version: FORMAT_VERSION,
        week: Week {
            start,
            days: b.days,
            grid_min: grid,
            timezone: "America/New_York".into(),
        },
        weights: Weights::default(),
        sites: SITES
            .iter()
            .map(|&(id, name)| Site {
                id: id.into(),
                name: Some(name.into()),
                timezone: Some("America/New_York".into()),
            })
            .collect(),
        travel: vec![
            Travel {
                from: "main".into(),
                to: "riverside".into(),
                minutes: 15,
            },
            Travel {
                from: "main".into(),
                to: "northgate".into(),
                minutes: 40,
            },
            Travel {
                from: "riverside".into(),
                to: "northgate".into(),
                minutes: 35,
            },
        ],
        providers,
        resources,
        patients: b.patients,
        requests: b.requests,
        links: b.links,
    }
}

/// Working minutes of a provider over the week: weekly hours minus dated exceptions and
/// bookings, counted exactly (overlaps with breaks or each other are not subtracted twice).
fn free_minutes(
    b: &Builder,
    hours: &WeeklyWindows,
    exceptions: &[DatedInterval],
    bookings: &[DatedInterval],
) -> u32 {
    let mut total = 0;
    for d in 0..b.days {
        let date = b.date(d);
        let Some(windows) = hours.get(&DayOfWeek::of(date)) else {
            continue;
        };
        let day_start = at(date, 0).0;
        for win in windows {
            let (lo, hi) = (win.0 .0, win.1 .0);
            let mut busy = vec![false; (hi - lo) as usize];
            for iv in exceptions.iter().chain(bookings) {
                let from = (iv.start.0 - day_start).num_minutes().max(i64::from(lo));
                let to = (iv.end.0 - day_start).num_minutes().min(i64::from(hi));
                for m in from..to {
                    busy[(m - i64::from(lo)) as usize] = true;
                }
            }
            total += busy.iter().filter(|&&b| !b).count() as u32;
        }
    }
    total
}

/// Shortens the provider's longest day by an hour, at its end or (every other weekday) at
/// its start, dropping a window when two hours or less are left, as long as another window
/// remains. Part-time hours are thus spread over the week, as clinic sessions are, instead
/// of piling on Monday where a patient unavailable that day could never be seen. False
/// when nothing can be trimmed.
fn trim_an_hour(hours: &mut WeeklyWindows) -> bool {
    let windows: usize = hours.values().map(Vec::len).sum();
    let length = |list: &Vec<Window>| -> u32 { list.iter().map(|w| w.1 .0 - w.0 .0).sum() };
    // Longest day first, the later of equally long days.
    let Some(day) = hours
        .iter()
        .filter(|(_, l)| !l.is_empty())
        .max_by_key(|(d, l)| (length(l), **d))
        .map(|(d, _)| *d)
    else {
        return false;
    };
    // Mornings kept on alternate days, afternoons on the others: a patient free only late
    // in the day can still be seen.
    let from_start = (day as usize) % 2 == 1;
    let list = hours.get_mut(&day).expect("chosen from the map");
    let i = if from_start { 0 } else { list.len() - 1 };
    let window = &mut list[i];
    if window.1 .0 - window.0 .0 > 120 {
        if from_start {
            window.0 .0 += 60;
        } else {
            window.1 .0 -= 60;
        }
    } else if windows > 1 {
        list.remove(i);
        if list.is_empty() {
            hours.remove(&day);
        }
    } else {
        return false;
    }
    true
}

/// Gives a few simple requests an existing booking (half pinned) that keeps every hard rule:
/// inside the provider's hours and the patient's availability, clear of blocks, bookings and
/// each other, one per patient and provider-day, and only for requests without links,
/// resources, interpreters, caps on trips, or insurance limits.
fn add_existing_bookings(b: &mut Builder, providers: &[Provider]) {
    let linked: Vec<String> = b
        .links
        .iter()
        .flat_map(|l| match l {
            Link::Precedence { before, after, .. } => vec![before.clone(), after.clone()],
            Link::SameDay { requests } => requests.clone(),
            Link::BackToBack { first, second, .. } => vec![first.clone(), second.clone()],
        })
        .collect();
    let mut used_patients: Vec<String> = Vec::new();
    let mut used_provider_days: Vec<(String, u32)> = Vec::new();
    for r in 0..b.requests.len() {
        let req = &b.requests[r];
        let Some(patient) = b.patients.iter().find(|p| p.id == req.patient) else {
            continue;
        };
        if linked.contains(&req.id)
            || !req.resources.is_empty()
            || patient.language.is_some()
            || patient.max_trips.is_some()
            || !patient.blocks.is_empty()
            || req.modality != Modality::InPerson
            || req.earliest.is_some()
            || used_patients.contains(&patient.id)
        {
            continue;
        }
        if !b.rng.gen_bool(0.25) {
            continue;
        }
        let candidates: Vec<&Provider> = providers
            .iter()
            .filter(|p| Some(&p.specialty) == req.specialty.as_ref() && p.insurance.is_none())
            .collect();
        // The first free slot over the candidates and weekdays, in random order: inside the
        // provider's hours and the patient's availability, clear of leave and bookings.
        let mut order: Vec<(usize, u32)> = (0..candidates.len())
            .flat_map(|c| (0..5).map(move |d| (c, d)))
            .collect();
        order.shuffle(&mut b.rng);
        let dur = req.duration_min;
        let latest = req.latest;
        let grid = b.grid;
        let slot = order.into_iter().find_map(|(c, day)| {
            let prov = candidates[c];
            let date = b.date(day);
            if used_provider_days.contains(&(prov.id.clone(), day))
                || latest.is_some_and(|l| date > l)
            {
                return None;
            }
            let clashes = |list: &[DatedInterval], start: u32, end: u32| {
                list.iter()
                    .any(|iv| iv.start < at(date, end) && at(date, start) < iv.end)
            };
            let patient_ok = |start: u32, end: u32| match &patient.availability {
                None => true,
                Some(a) => a
                    .get(&DayOfWeek::of(date))
                    .is_some_and(|ws| ws.iter().any(|w| w.0 .0 <= start && end <= w.1 .0)),
            };
            let windows = prov.hours.get(&DayOfWeek::of(date))?;
            windows.iter().find_map(|win| {
                let (lo, hi) = (on_grid(win.0 .0, grid), win.1 .0);
                (lo..=hi.checked_sub(dur)?)
                    .step_by(grid as usize)
                    .find(|&start| {
                        let end = start + dur;
                        !clashes(&prov.exceptions, start, end)
                            && !clashes(&prov.bookings, start, end)
                            && patient_ok(start, end)
                    })
                    .map(|start| (prov, day, date, start))
            })
        });
        let Some((prov, day, date, start)) = slot else {
            continue;
        };
        // The first booking is pinned and the second movable, so every caseload with two
        // bookings shows both kinds.
        let pinned = match used_patients.len() {
            0 => true,
            1 => false,
            _ => b.rng.gen_bool(0.5),
        };
        used_patients.push(patient.id.clone());
        used_provider_days.push((prov.id.clone(), day));
        let req = &mut b.requests[r];
        req.providers = candidates.iter().map(|p| p.id.clone()).collect();
        req.existing = Some(Existing {
            provider: prov.id.clone(),
            start: BookingStart::new(at(date, start)),
            modality: Some(Modality::InPerson),
            resources: vec![],
            pinned,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_options_same_caseload_and_seeds_differ() {
        let o = GenerateOptions {
            patients: 40,
            seed: 9,
            grid_min: 15,
        };
        let a = serde_json::to_string(&generate(&o)).unwrap();
        assert_eq!(a, serde_json::to_string(&generate(&o)).unwrap());
        let other = serde_json::to_string(&generate(&GenerateOptions { seed: 10, ..o })).unwrap();
        assert_ne!(a, other);
    }

    #[test]
    fn durations_sit_on_the_grid() {
        for grid in [5, 15] {
            let input = generate(&GenerateOptions {
                patients: 30,
                seed: 1,
                grid_min: grid,
            });
            assert!(input
                .requests
                .iter()
                .all(|r| r.duration_min % grid == 0 && r.duration_min > 0));
        }
    }

    #[test]
    fn scanners_grow_with_the_imaging_asked_of_them() {
        for (patients, seed) in [(40, 3), (1000, 1), (3000, 1)] {
            let input = generate(&GenerateOptions {
                patients,
                seed,
                grid_min: 15,
            });
            for kind in ["mri", "ct"] {
                let scanners = input.resources.iter().filter(|r| r.kind == kind).count();
                let asked: u32 = input
                    .requests
                    .iter()
                    .filter(|r| r.resources.iter().any(|k| k == kind))
                    .map(|r| r.duration_min)
                    .sum();
                let week = f64::from(SCANNER_WEEK_MIN);
                assert!(scanners >= 1, "{patients} patients: no {kind}");
                assert!(
                    f64::from(asked) <= SCANNER_LOAD * week * scanners as f64,
                    "{patients} patients: {asked} minutes of {kind} on {scanners} scanner(s)"
                );
                if patients == 3000 {
                    assert!(scanners > 1, "3000 patients on one {kind}");
                }
            }
        }
    }
}
