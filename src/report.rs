//! Human-readable rendering of a schedule: a calendar per provider and per patient, then the
//! requests that could not be placed, each with its reason.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, FixedOffset};

use crate::model::{Input, Modality};
use crate::schedule::{Placed, Schedule, Status};

fn name_or_id<'a>(name: &'a Option<String>, id: &'a str) -> &'a str {
    name.as_deref().unwrap_or(id)
}

fn day_label(t: &DateTime<FixedOffset>) -> String {
    t.format("%a %d %b").to_string()
}

fn span(p: &Placed) -> String {
    format!("{}–{}", p.start.format("%H:%M"), p.end.format("%H:%M"))
}

fn modality(p: &Placed) -> &'static str {
    match p.modality {
        Modality::Telehealth => "telehealth",
        _ => "in person",
    }
}

/// Renders the week as plain text: header with the objective, bound and gap; one calendar
/// per provider and per patient (local times); the unplaced requests with their reasons.
///
/// # Example
/// ```
/// let input = careweek::generate(&careweek::GenerateOptions { patients: 3, seed: 1, grid_min: 15 });
/// let schedule = careweek::solve(&careweek::validate(input.clone()).unwrap(), &Default::default());
/// let text = careweek::report::render_text(&input, &schedule);
/// assert!(text.contains("Providers"));
/// assert!(text.contains("Patients"));
/// ```
pub fn render_text(input: &Input, schedule: &Schedule) -> String {
    let mut out = String::new();
    let requests: BTreeMap<&str, &crate::model::Request> =
        input.requests.iter().map(|r| (r.id.as_str(), r)).collect();
    let patient_name = |id: &str| -> String {
        input
            .patients
            .iter()
            .find(|p| p.id == id)
            .map_or(id.to_string(), |p| name_or_id(&p.name, &p.id).to_string())
    };
    let provider_name = |id: &str| -> String {
        input
            .providers
            .iter()
            .find(|p| p.id == id)
            .map_or(id.to_string(), |p| name_or_id(&p.name, &p.id).to_string())
    };
    let site_name = |id: &Option<String>| -> String {
        match id {
            None => "—".into(),
            Some(id) => input
                .sites
                .iter()
                .find(|s| &s.id == id)
                .map_or(id.clone(), |s| name_or_id(&s.name, &s.id).to_string()),
        }
    };
    let service = |id: &str| -> String {
        requests.get(id).map_or(id.to_string(), |r| {
            r.service
                .clone()
                .or_else(|| r.specialty.clone())
                .unwrap_or_else(|| id.to_string())
        })
    };

    let total = input.requests.len();
    let o = &schedule.objective;
    let _ = writeln!(
        out,
        "Week of {} ({} days, {})  —  {} of {} requests placed",
        input.week.start,
        input.week.days,
        input.week.timezone,
        schedule.placed.len(),
        total
    );
    let status = match schedule.status {
        Status::Optimal => "proven optimal".to_string(),
        Status::Feasible => format!(
            "within {:.1}% of optimal (bound {})",
            schedule.gap * 100.0,
            schedule.bound
        ),
    };
    let _ = writeln!(out, "Objective {}  —  {status}", o.total);
    let _ = writeln!(
        out,
        "  unplaced {}  trips {}  waiting {}  part of day {}  provider {}  preferred day {}  moved {}",
        o.unplaced, o.trips, o.idle, o.part_of_day, o.provider, o.preferred_day, o.moved
    );
    let _ = writeln!(
        out,
        "  solved in {:.1} s with {} on {} thread(s), seed {}",
        schedule.stats.seconds, schedule.stats.backend, schedule.stats.threads, schedule.stats.seed
    );

    // Providers.
    let _ = writeln!(out, "\nProviders\n=========");
    for prov in &input.providers {
        let mut mine: Vec<&Placed> = schedule
            .placed
            .iter()
            .filter(|p| p.provider == prov.id)
            .collect();
        if mine.is_empty() {
            continue;
        }
        mine.sort_by_key(|p| (p.start, p.request.clone()));
        let _ = writeln!(
            out,
            "\n{} — {}, {}  ({} appointments)",
            name_or_id(&prov.name, &prov.id),
            prov.specialty,
            site_name(&Some(prov.site.clone())),
            mine.len()
        );
        let mut last_day = String::new();
        for p in mine {
            let day = day_label(&p.start);
            let shown = if day == last_day {
                String::new()
            } else {
                day.clone()
            };
            last_day = day;
            let extras = if p.resources.is_empty() {
                String::new()
            } else {
                format!("  + {}", p.resources.join(", "))
            };
            let _ = writeln!(
                out,
                "  {:<10}  {}  {:<24} {:<28} {:<10}{extras}",
                shown,
                span(p),
                patient_name(&p.patient),
                service(&p.request),
                modality(p)
            );
        }
    }

    // Patients.
    let _ = writeln!(out, "\nPatients\n========");
    for q in &input.patients {
        let mut mine: Vec<&Placed> = schedule
            .placed
            .iter()
            .filter(|p| p.patient == q.id)
            .collect();
        let missing = schedule
            .unplaced
            .iter()
            .filter(|u| u.patient == q.id)
            .count();
        if mine.is_empty() && missing == 0 {
            continue;
        }
        mine.sort_by_key(|p| (p.start, p.request.clone()));
        let trips: std::collections::BTreeSet<String> = mine
            .iter()
            .filter(|p| p.modality != Modality::Telehealth)
            .map(|p| day_label(&p.start))
            .collect();
        let _ = writeln!(
            out,
            "\n{}  ({} placed, {} not placed, {} trip(s))",
            name_or_id(&q.name, &q.id),
            mine.len(),
            missing,
            trips.len()
        );
        let mut prev: Option<&Placed> = None;
        for p in mine {
            let day = day_label(&p.start);
            let same_day = prev.is_some_and(|x| day_label(&x.start) == day);
            let shown = if same_day { String::new() } else { day.clone() };
            let wait = match prev {
                Some(x) if same_day => {
                    let m = (p.start - x.end).num_minutes();
                    if m > 0 {
                        format!("  (waits {m} min)")
                    } else {
                        String::new()
                    }
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:<10}  {}  {:<28} {:<26} {:<20} {}{wait}",
                shown,
                span(p),
                service(&p.request),
                provider_name(&p.provider),
                site_name(&p.site),
                modality(p)
            );
            prev = Some(p);
        }
    }

    // Unplaced.
    let _ = writeln!(
        out,
        "\nCould not place ({})\n===============",
        schedule.unplaced.len()
    );
    if schedule.unplaced.is_empty() {
        let _ = writeln!(out, "  every request is placed");
    }
    for u in &schedule.unplaced {
        let priority = requests.get(u.request.as_str()).map_or(0, |r| r.priority);
        let _ = writeln!(
            out,
            "  {} — {} for {} (priority {priority}) [{}]\n      {}",
            u.request,
            service(&u.request),
            patient_name(&u.patient),
            serde_json::to_value(u.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            u.reason
        );
    }
    out
}
