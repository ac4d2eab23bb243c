//! The checker on a small hand-built week that exercises every hard rule: the feasible
//! schedule passes with the objective computed by hand, and each mutation that breaks exactly
//! one rule is reported under that rule's `constraint` name with the right request ids.

use careweek::check::{check, CheckReport};
use careweek::model::{Input, Link, Modality};
use careweek::schedule::{Objective, Placed, Schedule, Stats, Status, Unplaced, UnplacedCode};
use chrono::{DateTime, FixedOffset};
use serde_json::json;

/// Week of Mon 2026-03-02 in Paris (no DST change); site "south" is in London, an hour behind.
fn input() -> Input {
    let v = json!({
        "version": 1,
        "week": {"start": "2026-03-02", "days": 5, "grid_min": 15, "timezone": "Europe/Paris"},
        "sites": [{"id": "north"}, {"id": "south", "timezone": "Europe/London"}],
        "travel": [{"from": "south", "to": "north", "minutes": 30}],
        "providers": [
            {"id": "dr-lee", "specialty": "cardiology", "site": "north",
             "hours": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]],
                       "tue": [["08:00", "12:00"], ["13:00", "17:00"]],
                       "wed": [["08:00", "12:00"], ["13:00", "17:00"]]},
             "exceptions": [{"start": "2026-03-03T13:00", "end": "2026-03-03T17:00", "label": "meeting"}],
             "max_per_day": 3, "languages": ["en"], "insurance": ["acme"]},
            {"id": "dr-park", "specialty": "cardiology", "site": "north",
             "hours": {"mon": [["08:00", "12:00"]]}, "telehealth": false},
            {"id": "dr-kim", "specialty": "lab", "site": "south",
             "hours": {"mon": [["07:00", "16:00"]], "tue": [["07:00", "16:00"]]}, "max_per_day": 2},
            {"id": "dr-roy", "specialty": "oncology", "site": "north",
             "hours": {"tue": [["09:00", "17:00"]]}, "languages": ["es"]}
        ],
        "resources": [
            {"id": "echo-1", "kind": "echo", "site": "north", "hours": {"mon": [["08:00", "16:00"]]}},
            {"id": "int-es", "kind": "interpreter", "language": "ES"}
        ],
        "patients": [
            {"id": "chen", "insurance": "acme",
             "availability": {"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]]},
             "availability_overrides": [{"date": "2026-03-04", "windows": []}],
             "prefers": "morning", "preferred_days": ["tue", "thu"], "preferred_provider": "dr-lee",
             "max_per_day": 3, "max_trips": 1},
            {"id": "rob", "language": "es", "prefers": "evening",
             "blocks": [{"days": ["mon", "wed", "fri"], "start": "07:00", "end": "11:00", "label": "dialysis"}],
             "recovery_min": 120},
            {"id": "ana"}
        ],
        "requests": [
            {"id": "r-chen-lab", "patient": "chen", "providers": ["dr-kim"], "duration_min": 15},
            {"id": "r-chen-cardio", "patient": "chen", "specialty": "cardiology", "duration_min": 30},
            {"id": "r-chen-echo", "patient": "chen", "specialty": "cardiology", "duration_min": 30,
             "resources": ["echo"]},
            {"id": "r-rob-onc", "patient": "rob", "providers": ["dr-roy"], "duration_min": 60,
             "priority": 5, "earliest": "2026-03-03",
             "existing": {"provider": "dr-roy", "start": "2026-03-03T13:00", "pinned": true}},
            {"id": "r-rob-cardio", "patient": "rob", "specialty": "cardiology", "duration_min": 30,
             "modality": "telehealth", "preferred_provider": "dr-park",
             "existing": {"provider": "dr-lee", "start": "2026-03-05T10:00"}},
            {"id": "r-rob-lab", "patient": "rob", "providers": ["dr-kim"], "duration_min": 15, "priority": 2},
            {"id": "r-ana-cardio", "patient": "ana", "specialty": "cardiology", "duration_min": 30,
             "modality": "either"}
        ],
        "links": [
            {"kind": "precedence", "before": "r-chen-lab", "after": "r-chen-cardio",
             "min_gap_min": 30, "max_gap_min": 120},
            {"kind": "back_to_back", "first": "r-chen-cardio", "second": "r-chen-echo", "max_wait_min": 0},
            {"kind": "same_day", "requests": ["r-chen-lab", "r-chen-echo"]}
        ]
    });
    serde_json::from_value(v).expect("the hand-built week deserialises")
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("a valid RFC 3339 time")
}

#[allow(clippy::too_many_arguments)]
fn placed(
    request: &str,
    patient: &str,
    provider: &str,
    resources: &[&str],
    site: Option<&str>,
    start: &str,
    end: &str,
    modality: Modality,
) -> Placed {
    Placed {
        request: request.into(),
        patient: patient.into(),
        provider: provider.into(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
        site: site.map(str::to_string),
        start: t(start),
        end: t(end),
        modality,
    }
}

/// The objective of [`schedule`], by hand (default weights):
/// unplaced r-rob-lab priority 2 → 2000; trips chen Mon + rob Tue → 120; idle chen Mon
/// lab 08:15 → cardio 09:00 (45) + cardio → echo (0) → 45; part of day: rob prefers evening,
/// both his appointments start 13:00 → 40; provider: r-rob-cardio prefers dr-park, placed with
/// dr-lee → 15 (chen's are with dr-lee or dr-lee is not eligible for the lab); preferred day:
/// chen prefers Tue/Thu, her three are on Mon → 30; moved: r-rob-cardio's movable booking was
/// Thu 10:00 → 50.
fn hand_objective() -> Objective {
    Objective {
        total: 0,
        unplaced: 2000,
        trips: 120,
        idle: 45,
        part_of_day: 40,
        provider: 15,
        preferred_day: 30,
        moved: 50,
    }
    .with_total()
}

fn schedule() -> Schedule {
    use Modality::{InPerson, Telehealth};
    Schedule {
        version: 1,
        placed: vec![
            // In London time (the site's zone): 08:00-08:15 in Paris.
            placed(
                "r-chen-lab",
                "chen",
                "dr-kim",
                &[],
                Some("south"),
                "2026-03-02T07:00:00+00:00",
                "2026-03-02T07:15:00+00:00",
                InPerson,
            ),
            placed(
                "r-chen-cardio",
                "chen",
                "dr-lee",
                &[],
                Some("north"),
                "2026-03-02T09:00:00+01:00",
                "2026-03-02T09:30:00+01:00",
                InPerson,
            ),
            placed(
                "r-chen-echo",
                "chen",
                "dr-lee",
                &["echo-1"],
                Some("north"),
                "2026-03-02T09:30:00+01:00",
                "2026-03-02T10:00:00+01:00",
                InPerson,
            ),
            placed(
                "r-ana-cardio",
                "ana",
                "dr-lee",
                &[],
                None,
                "2026-03-02T10:30:00+01:00",
                "2026-03-02T11:00:00+01:00",
                Telehealth,
            ),
            placed(
                "r-rob-onc",
                "rob",
                "dr-roy",
                &[],
                Some("north"),
                "2026-03-03T13:00:00+01:00",
                "2026-03-03T14:00:00+01:00",
                InPerson,
            ),
            // Exactly at the end of dialysis (11:00) plus 120 minutes of recovery.
            placed(
                "r-rob-cardio",
                "rob",
                "dr-lee",
                &["int-es"],
                None,
                "2026-03-04T13:00:00+01:00",
                "2026-03-04T13:30:00+01:00",
                Telehealth,
            ),
        ],
        unplaced: vec![Unplaced {
            request: "r-rob-lab".into(),
            patient: "rob".into(),
            code: UnplacedCode::PatientBlocked,
            reason: "dr-kim's lab hours fall in Robert's dialysis and recovery".into(),
        }],
        objective: hand_objective(),
        bound: 0.0,
        gap: 1.0,
        status: Status::Feasible,
        stats: Stats::default(),
    }
}

fn find<'a>(s: &'a mut Schedule, request: &str) -> &'a mut Placed {
    s.placed
        .iter_mut()
        .find(|p| p.request == request)
        .expect("request is placed in the base schedule")
}

/// Asserts that `report` has a violation named `constraint` whose ids are exactly `ids`
/// (in any order).
fn assert_flags(report: &CheckReport, constraint: &str, ids: &[&str]) {
    let mut want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    want.sort();
    let hit = report.violations.iter().any(|v| {
        let mut got = v.requests.clone();
        got.sort();
        v.constraint == constraint && got == want
    });
    assert!(
        hit,
        "expected a `{constraint}` violation on {want:?}, got {:#?}",
        report.violations
    );
    // Messages are read by people: values as the input writes them, not Rust's debug form.
    for v in &report.violations {
        for debug in ["Some(", "None", "InPerson", "Either"] {
            assert!(!v.message.contains(debug), "{debug} in {:?}", v.message);
        }
    }
}

#[test]
fn the_hand_built_week_is_feasible_with_the_hand_computed_objective() {
    let report = check(&input(), &schedule());
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    assert_eq!(report.objective, hand_objective());
    assert_eq!(report.objective.total, 2300);
}

#[test]
fn coverage_dropped_duplicated_unknown_and_wrong_patient() {
    let input = input();
    let mut s = schedule();
    s.unplaced.clear();
    assert_flags(&check(&input, &s), "coverage", &["r-rob-lab"]);

    let mut s = schedule();
    let dup = s.placed[3].clone();
    s.placed.push(dup);
    assert_flags(&check(&input, &s), "coverage", &["r-ana-cardio"]);

    let mut s = schedule();
    s.unplaced[0].request = "r-nobody".into();
    let report = check(&input, &s);
    assert_flags(&report, "coverage", &["r-nobody"]);
    assert_flags(&report, "coverage", &["r-rob-lab"]);

    let mut s = schedule();
    find(&mut s, "r-ana-cardio").patient = "chen".into();
    assert_flags(&check(&input, &s), "coverage", &["r-ana-cardio"]);

    let mut s = schedule();
    s.unplaced[0].reason = "  ".into();
    assert_flags(&check(&input, &s), "coverage", &["r-rob-lab"]);
}

#[test]
fn duration_and_grid() {
    let input = input();
    let mut s = schedule();
    find(&mut s, "r-ana-cardio").end = t("2026-03-02T11:15:00+01:00");
    assert_flags(&check(&input, &s), "duration", &["r-ana-cardio"]);

    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.start = t("2026-03-02T10:35:00+01:00");
    a.end = t("2026-03-02T11:05:00+01:00");
    let report = check(&input, &s);
    assert_flags(&report, "grid", &["r-ana-cardio"]);
    assert!(report.violations.iter().all(|v| v.constraint == "grid"));

    // Under a minute off counts too: half a second late on the grid, thirty seconds long.
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.start += chrono::Duration::milliseconds(500);
    a.end += chrono::Duration::milliseconds(500);
    let report = check(&input, &s);
    assert_flags(&report, "grid", &["r-ana-cardio"]);
    assert!(report.violations.iter().all(|v| v.constraint == "grid"));
    let mut s = schedule();
    find(&mut s, "r-ana-cardio").end += chrono::Duration::seconds(30);
    let report = check(&input, &s);
    assert_flags(&report, "duration", &["r-ana-cardio"]);
    assert!(
        report.violations.iter().any(|v| v.message.contains("30 s")),
        "{report:?}"
    );
}

#[test]
fn date_window_horizon_and_earliest() {
    let mut input = input();
    input.requests[0].earliest = chrono::NaiveDate::from_ymd_opt(2026, 3, 3);
    assert_flags(&check(&input, &schedule()), "date_window", &["r-chen-lab"]);

    // A Sunday appointment lies outside the Mon-Fri horizon.
    let input = self::input();
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.start = t("2026-03-08T10:30:00+01:00");
    a.end = t("2026-03-08T11:00:00+01:00");
    assert_flags(&check(&input, &s), "date_window", &["r-ana-cardio"]);
}

#[test]
fn eligibility_insurance_modality_and_site() {
    let input = input();
    let mut s = schedule();
    find(&mut s, "r-chen-cardio").provider = "dr-roy".into();
    assert_flags(&check(&input, &s), "eligibility", &["r-chen-cardio"]);

    let mut bad_plan = self::input();
    bad_plan.providers[0].insurance = Some(vec!["other".into()]);
    let report = check(&bad_plan, &schedule());
    assert_flags(&report, "insurance", &["r-chen-cardio"]);
    assert_flags(&report, "insurance", &["r-chen-echo"]);

    // A telehealth request placed in person.
    let mut s = schedule();
    let a = find(&mut s, "r-rob-cardio");
    a.modality = Modality::InPerson;
    a.site = Some("north".into());
    assert_flags(&check(&input, &s), "modality", &["r-rob-cardio"]);

    // Telehealth needs the provider to offer it.
    let mut no_tele = self::input();
    no_tele.providers[0].telehealth = false;
    assert_flags(&check(&no_tele, &schedule()), "modality", &["r-ana-cardio"]);

    let mut s = schedule();
    find(&mut s, "r-chen-cardio").site = Some("south".into());
    let report = check(&input, &s);
    assert_flags(&report, "site", &["r-chen-cardio"]);
    assert!(report.violations.iter().any(|v| v
        .message
        .contains("is at site 'south', expected at site 'north'")));
}

#[test]
fn provider_hours_window_and_exception() {
    let input = input();
    // Lunch break 12:00-13:00: windows are not merged.
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.start = t("2026-03-02T11:45:00+01:00");
    a.end = t("2026-03-02T12:15:00+01:00");
    assert_flags(&check(&input, &s), "provider_hours", &["r-ana-cardio"]);

    // Tuesday afternoon meeting.
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.start = t("2026-03-03T13:30:00+01:00");
    a.end = t("2026-03-03T14:00:00+01:00");
    assert_flags(&check(&input, &s), "provider_hours", &["r-ana-cardio"]);

    // dr-kim's hours are London time: 07:00 Paris is 06:00 there.
    let mut s = schedule();
    let a = find(&mut s, "r-chen-lab");
    a.start = t("2026-03-02T07:00:00+01:00");
    a.end = t("2026-03-02T07:15:00+01:00");
    assert_flags(&check(&input, &s), "provider_hours", &["r-chen-lab"]);
}

#[test]
fn provider_overlap_and_max_per_day() {
    let input = input();
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.start = t("2026-03-02T09:45:00+01:00");
    a.end = t("2026-03-02T10:15:00+01:00");
    assert_flags(
        &check(&input, &s),
        "provider_overlap",
        &["r-chen-echo", "r-ana-cardio"],
    );

    let mut capped = self::input();
    capped.providers[0].max_per_day = Some(2);
    let report = check(&capped, &schedule());
    assert!(report
        .violations
        .iter()
        .any(|v| v.constraint == "provider_max_per_day" && v.requests.len() == 3));
}

#[test]
fn resources_missing_wrong_site_hours_and_overlap() {
    let input = input();
    let mut s = schedule();
    find(&mut s, "r-chen-echo").resources.clear();
    assert_flags(&check(&input, &s), "resource", &["r-chen-echo"]);

    let mut moved = self::input();
    moved.resources[0].site = Some("south".into());
    assert_flags(&check(&moved, &schedule()), "resource", &["r-chen-echo"]);

    let mut late = self::input();
    late.resources[0].hours.as_mut().map(|h| {
        h.insert(
            careweek::time::DayOfWeek::Mon,
            vec![careweek::model::Window(
                careweek::time::ClockTime(600),
                careweek::time::ClockTime(960),
            )],
        )
    });
    assert_flags(
        &check(&late, &schedule()),
        "resource_hours",
        &["r-chen-echo"],
    );

    // The phone interpreter booked twice at once.
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.resources = vec!["int-es".into()];
    a.start = t("2026-03-04T13:00:00+01:00");
    a.end = t("2026-03-04T13:30:00+01:00");
    assert_flags(
        &check(&input, &s),
        "resource_overlap",
        &["r-ana-cardio", "r-rob-cardio"],
    );
}

#[test]
fn interpreter_of_the_wrong_language() {
    let mut input = input();
    input.resources[1].language = Some("fr".into());
    assert_flags(
        &check(&input, &schedule()),
        "interpreter",
        &["r-rob-cardio"],
    );

    // A provider who speaks the language needs none (case-insensitive).
    let mut speaks = self::input();
    speaks.providers[0].languages.push("ES".into());
    let mut s = schedule();
    find(&mut s, "r-rob-cardio").resources.clear();
    assert!(check(&speaks, &s).violations.is_empty());
}

#[test]
fn units_serve_needs_whatever_order_they_are_listed_in() {
    // r-rob-cardio needs an interpreter of any language, and (dr-lee speaks no Spanish)
    // a Spanish one for rob: the French unit serves the first, the Spanish one the second.
    let mut input = input();
    input.resources.push(
        serde_json::from_value(json!({"id": "int-fr", "kind": "interpreter", "language": "fr"}))
            .expect("a resource"),
    );
    input.requests[4].resources = vec!["interpreter".into()];
    for order in [["int-fr", "int-es"], ["int-es", "int-fr"]] {
        let mut s = schedule();
        find(&mut s, "r-rob-cardio").resources = order.iter().map(|u| u.to_string()).collect();
        let report = check(&input, &s);
        assert!(
            report.violations.is_empty(),
            "{order:?}: {:#?}",
            report.violations
        );
    }
    // One unit for two needs: one of them is unserved.
    let mut s = schedule();
    find(&mut s, "r-rob-cardio").resources = vec!["int-es".into()];
    assert_flags(&check(&input, &s), "resource", &["r-rob-cardio"]);
    // The same unit listed twice is one unit, said plainly (not as overlapping itself).
    let mut s = schedule();
    find(&mut s, "r-rob-cardio").resources = vec!["int-es".into(), "int-es".into()];
    let report = check(&input, &s);
    assert!(report
        .violations
        .iter()
        .any(|v| v.constraint == "resource" && v.message.contains("more than once")));
    assert!(
        report
            .violations
            .iter()
            .all(|v| v.constraint != "resource_overlap"),
        "{:#?}",
        report.violations
    );
}

#[test]
fn patient_availability_and_override() {
    let mut input = input();
    input.patients[0].availability_overrides[0].date =
        chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date");
    let report = check(&input, &schedule());
    for id in ["r-chen-lab", "r-chen-cardio", "r-chen-echo"] {
        assert_flags(&report, "patient_availability", &[id]);
    }
}

#[test]
fn patient_block_recovery() {
    let input = input();
    // 11:30 on Wednesday is inside the 120 minutes of recovery after dialysis.
    let mut s = schedule();
    let a = find(&mut s, "r-rob-cardio");
    a.start = t("2026-03-04T11:30:00+01:00");
    a.end = t("2026-03-04T12:00:00+01:00");
    let report = check(&input, &s);
    assert_flags(&report, "patient_block", &["r-rob-cardio"]);
    assert!(report
        .violations
        .iter()
        .all(|v| v.constraint != "provider_hours"));
}

#[test]
fn patient_overlap_and_travel() {
    let input = input();
    let mut s = schedule();
    let a = find(&mut s, "r-chen-lab");
    a.start = t("2026-03-02T08:15:00+00:00");
    a.end = t("2026-03-02T08:30:00+00:00");
    assert_flags(
        &check(&input, &s),
        "patient_overlap",
        &["r-chen-lab", "r-chen-cardio"],
    );

    let mut far = self::input();
    far.travel[0].minutes = 60;
    assert_flags(
        &check(&far, &schedule()),
        "travel",
        &["r-chen-lab", "r-chen-cardio"],
    );
}

#[test]
fn patient_max_per_day_and_max_trips() {
    let mut input = input();
    input.patients[0].max_per_day = Some(2);
    let report = check(&input, &schedule());
    assert!(report
        .violations
        .iter()
        .any(|v| v.constraint == "patient_max_per_day" && v.requests.len() == 3));

    let mut input = self::input();
    input.patients[0].max_trips = Some(0);
    assert!(check(&input, &schedule())
        .violations
        .iter()
        .any(|v| v.constraint == "max_trips" && v.requests.iter().any(|r| r == "r-chen-cardio")));
}

#[test]
fn links_precedence_same_day_back_to_back() {
    let mut input = input();
    if let Link::Precedence { min_gap_min, .. } = &mut input.links[0] {
        *min_gap_min = 60;
    }
    assert_flags(
        &check(&input, &schedule()),
        "precedence",
        &["r-chen-lab", "r-chen-cardio"],
    );

    // `after` placed without `before`.
    let input = self::input();
    let mut s = schedule();
    let lab = s.placed.remove(0);
    s.unplaced.push(Unplaced {
        request: lab.request,
        patient: lab.patient,
        code: UnplacedCode::Capacity,
        reason: "dropped".into(),
    });
    assert_flags(
        &check(&input, &s),
        "precedence",
        &["r-chen-lab", "r-chen-cardio"],
    );

    let mut split = self::input();
    split.links.push(Link::SameDay {
        requests: vec!["r-chen-cardio".into(), "r-rob-onc".into()],
    });
    assert!(check(&split, &schedule())
        .violations
        .iter()
        .any(|v| v.constraint == "same_day" && v.requests.iter().any(|r| r == "r-rob-onc")));

    let mut s = schedule();
    let a = find(&mut s, "r-chen-echo");
    a.start = t("2026-03-02T09:45:00+01:00");
    a.end = t("2026-03-02T10:15:00+01:00");
    assert_flags(
        &check(&input, &s),
        "back_to_back",
        &["r-chen-cardio", "r-chen-echo"],
    );
}

#[test]
fn pinned_booking_moved_or_stripped() {
    let input = input();
    let mut s = schedule();
    let a = find(&mut s, "r-rob-onc");
    a.start = t("2026-03-03T14:00:00+01:00");
    a.end = t("2026-03-03T15:00:00+01:00");
    assert_flags(&check(&input, &s), "pinned", &["r-rob-onc"]);

    let mut s = schedule();
    let onc = s.placed.remove(4);
    s.unplaced.push(Unplaced {
        request: onc.request,
        patient: onc.patient,
        code: UnplacedCode::Capacity,
        reason: "dropped".into(),
    });
    assert_flags(&check(&input, &s), "pinned", &["r-rob-onc"]);
}

#[test]
fn objective_mismatch_names_the_term() {
    let input = input();
    let mut s = schedule();
    s.objective.idle = 30;
    s.objective = s.objective.with_total();
    let report = check(&input, &s);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.constraint == "objective_mismatch" && v.message.contains("idle")),
        "{:#?}",
        report.violations
    );
    assert_eq!(report.objective, hand_objective());
}

/// Europe/Paris, week Mon 2026-10-19 to Sun 10-25; clocks go back at 03:00 on Sunday 25.
fn dst_input(min_gap: u32) -> Input {
    let v = json!({
        "version": 1,
        "week": {"start": "2026-10-19", "days": 7, "grid_min": 15, "timezone": "Europe/Paris"},
        "sites": [{"id": "north"}],
        "providers": [{"id": "dr-lee", "specialty": "cardiology", "site": "north",
                       "hours": {"sat": [["08:00", "12:00"]], "sun": [["08:00", "12:00"]]}}],
        "patients": [{"id": "chen", "prefers": "morning"}],
        "requests": [
            {"id": "r-a", "patient": "chen", "specialty": "cardiology", "duration_min": 30},
            {"id": "r-b", "patient": "chen", "specialty": "cardiology", "duration_min": 30}
        ],
        "links": [{"kind": "precedence", "before": "r-a", "after": "r-b", "min_gap_min": min_gap}]
    });
    serde_json::from_value(v).expect("the DST week deserialises")
}

fn dst_schedule(b_start: &str, b_end: &str, objective: Objective) -> Schedule {
    use Modality::InPerson;
    Schedule {
        version: 1,
        placed: vec![
            placed(
                "r-a",
                "chen",
                "dr-lee",
                &[],
                Some("north"),
                "2026-10-24T10:00:00+02:00",
                "2026-10-24T10:30:00+02:00",
                InPerson,
            ),
            placed(
                "r-b",
                "chen",
                "dr-lee",
                &[],
                Some("north"),
                b_start,
                b_end,
                InPerson,
            ),
        ],
        unplaced: vec![],
        objective,
        bound: 0.0,
        gap: 0.0,
        status: Status::Feasible,
        stats: Stats::default(),
    }
}

#[test]
fn dst_week_over_the_last_sunday_of_october() {
    // Two trips, nothing else.
    let objective = Objective {
        trips: 120,
        ..Default::default()
    }
    .with_total();
    // Sunday 10:30 CET is 25 elapsed hours after Saturday 10:30 CEST: 1500 minutes.
    let ok = dst_schedule(
        "2026-10-25T10:30:00+01:00",
        "2026-10-25T11:00:00+01:00",
        objective,
    );
    let report = check(&dst_input(1500), &ok);
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    assert_eq!(report.objective, objective);

    // One more minute of gap than elapsed time allows.
    assert_flags(&check(&dst_input(1501), &ok), "precedence", &["r-a", "r-b"]);

    // With the summer offset, 08:00+02:00 is 07:00 local after the change: before hours.
    let early = dst_schedule(
        "2026-10-25T08:00:00+02:00",
        "2026-10-25T08:30:00+02:00",
        objective,
    );
    assert_flags(&check(&dst_input(0), &early), "provider_hours", &["r-b"]);
    // Written with the right offset it is fine.
    let right = dst_schedule(
        "2026-10-25T08:00:00+01:00",
        "2026-10-25T08:30:00+01:00",
        objective,
    );
    let report = check(&dst_input(0), &right);
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
}

#[test]
fn nonsense_schedules_do_not_panic() {
    let input = input();
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.provider = "dr-nobody".into();
    a.resources = vec!["ghost".into()];
    a.site = Some("nowhere".into());
    a.end = t("1970-01-01T00:00:00+00:00");
    let report = check(&input, &s);
    assert_flags(&report, "eligibility", &["r-ana-cardio"]);
    assert_flags(&report, "duration", &["r-ana-cardio"]);
    assert_flags(&report, "resource", &["r-ana-cardio"]);
}

#[test]
fn night_shift_before_the_week_and_its_recovery_reach_into_monday() {
    let mut input = input();
    // Sunday 22:00 to Monday 06:00, then 180 minutes of recovery: Monday until 09:00.
    input.patients[2].blocks.push(
        serde_json::from_value(
            json!({"days": ["sun"], "start": "22:00", "end": "06:00", "label": "night shift"}),
        )
        .expect("a block"),
    );
    input.patients[2].recovery_min = 180;
    // r-ana-cardio at Monday 10:30 is clear of it.
    assert!(check(&input, &schedule()).violations.is_empty());
    let mut s = schedule();
    let a = find(&mut s, "r-ana-cardio");
    a.start = t("2026-03-02T08:30:00+01:00");
    a.end = t("2026-03-02T09:00:00+01:00");
    assert_flags(&check(&input, &s), "patient_block", &["r-ana-cardio"]);
}
