//! Relational properties of the solver on random small caseloads: every schedule passes the
//! independent checker, every request comes back exactly once, the exact MILP matches a
//! brute-force optimum on tiny cases, the bound never exceeds that optimum, and the output
//! does not depend on the thread count.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Timelike, Utc};
use proptest::prelude::*;

use careweek::check::check;
use careweek::model::*;
use careweek::schedule::{Objective, Placed, Schedule, Stats, Status, Unplaced, UnplacedCode};
use careweek::solve::{solve, SolveOptions};
use careweek::time::{ClockTime, DayOfWeek};
use careweek::validate::validate;

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()
}

fn window(a: u32, b: u32) -> Window {
    Window(ClockTime(a), ClockTime(b))
}

/// A random patient: availability hours, a recurring block (day, hour, recovery half-hours),
/// a cap per day, a preferred part of day.
type PatientShape = (
    Option<(u32, u32)>,
    Option<(u32, u32, u32)>,
    Option<u32>,
    Option<PartOfDay>,
);

/// Parameters of one random caseload.
#[derive(Debug, Clone)]
struct Shape {
    days: u32,
    sites: usize,
    travel: u32,
    providers: Vec<(usize, u32, u32, Option<u32>)>, // site, open, close, cap
    patients: Vec<PatientShape>,
    requests: Vec<(usize, usize, u32, u32, bool)>, // patient, provider mask, duration slots, priority, telehealth
    precedence: Option<(usize, usize, u32)>,
    same_day: Option<(usize, usize)>,
    /// Mostly the default weight; else one low enough that a request alone may not be
    /// worth a trip.
    unplaced_per_priority: i64,
}

fn shape(max_requests: usize, days: u32) -> impl Strategy<Value = Shape> {
    let providers = prop::collection::vec(
        (0usize..2, 8u32..11, 12u32..15, prop::option::of(1u32..3)),
        1..=3,
    );
    let patients = prop::collection::vec(
        (
            prop::option::of((8u32..10, 12u32..16)),
            prop::option::of((0u32..2, 9u32..12, 0u32..2)),
            prop::option::of(1u32..3),
            prop::option::of(prop_oneof![
                Just(PartOfDay::Morning),
                Just(PartOfDay::Afternoon)
            ]),
        ),
        1..=3,
    );
    let requests = prop::collection::vec(
        (
            0usize..3,
            1usize..8,
            1u32..4,
            1u32..6,
            prop::bool::weighted(0.2),
        ),
        1..=max_requests,
    );
    (
        providers,
        patients,
        requests,
        1usize..3,
        15u32..60,
        prop::option::of((0usize..8, 0usize..8, 0u32..3)),
        prop::option::weighted(0.3, (0usize..8, 0usize..8)),
        prop_oneof![3 => Just(1000i64), 1 => 5i64..80],
    )
        .prop_map(
            move |(
                providers,
                patients,
                requests,
                sites,
                travel,
                precedence,
                same_day,
                unplaced_per_priority,
            )| Shape {
                days,
                sites,
                travel,
                providers,
                patients,
                requests,
                precedence,
                same_day,
                unplaced_per_priority,
            },
        )
}

fn build(shape: &Shape, grid: u32) -> Input {
    let sites: Vec<Site> = (0..shape.sites)
        .map(|s| Site {
            id: format!("s{s}"),
            name: None,
            timezone: None,
        })
        .collect();
    let travel = if shape.sites > 1 {
        vec![Travel {
            from: "s0".into(),
            to: "s1".into(),
            minutes: shape.travel,
        }]
    } else {
        vec![]
    };
    let providers: Vec<Provider> = shape
        .providers
        .iter()
        .enumerate()
        .map(|(i, &(site, open, close, cap))| {
            let mut hours = BTreeMap::new();
            for d in 0..shape.days as usize {
                hours.insert(DayOfWeek::ALL[d], vec![window(open * 60, close * 60)]);
            }
            Provider {
                id: format!("dr{i}"),
                name: None,
                specialty: "gp".into(),
                site: format!("s{}", site.min(shape.sites - 1)),
                hours,
                exceptions: vec![],
                bookings: vec![],
                max_per_day: cap,
                languages: vec![],
                insurance: None,
                telehealth: true,
            }
        })
        .collect();
    let patients: Vec<Patient> = shape
        .patients
        .iter()
        .enumerate()
        .map(|(i, &(avail, block, cap, prefers))| {
            let availability = avail.map(|(a, b)| {
                (0..shape.days as usize)
                    .map(|d| (DayOfWeek::ALL[d], vec![window(a * 60, b * 60)]))
                    .collect()
            });
            let blocks = block
                .filter(|&(d, _, _)| d < shape.days)
                .map(|(d, h, _)| RecurringBlock {
                    days: vec![DayOfWeek::ALL[d as usize]],
                    start: ClockTime(h * 60),
                    end: ClockTime(h * 60 + 60),
                    label: Some("dialysis".into()),
                })
                .into_iter()
                .collect();
            Patient {
                id: format!("pt{i}"),
                name: None,
                availability,
                availability_overrides: vec![],
                blocks,
                dated_blocks: vec![],
                recovery_min: block.map_or(0, |b| b.2 * 30),
                max_per_day: cap,
                max_trips: None,
                prefers,
                preferred_days: vec![],
                preferred_provider: None,
                language: None,
                telehealth: true,
                insurance: None,
            }
        })
        .collect();
    let np = providers.len();
    let requests: Vec<Request> = shape
        .requests
        .iter()
        .enumerate()
        .map(|(i, &(patient, mask, slots, priority, tele))| {
            let named: Vec<String> = (0..np)
                .filter(|p| mask & (1 << p) != 0)
                .map(|p| format!("dr{p}"))
                .collect();
            Request {
                id: format!("r{i}"),
                patient: format!("pt{}", patient.min(patients.len() - 1)),
                service: None,
                specialty: Some("gp".into()),
                providers: named,
                duration_min: slots * grid,
                modality: if tele {
                    Modality::Telehealth
                } else {
                    Modality::InPerson
                },
                priority,
                earliest: None,
                latest: None,
                preferred_provider: None,
                resources: vec![],
                existing: None,
            }
        })
        .collect();
    let mut links = vec![];
    if let Some((a, b, gap)) = shape.precedence {
        if a < b && b < requests.len() {
            links.push(Link::Precedence {
                before: requests[a].id.clone(),
                after: requests[b].id.clone(),
                min_gap_min: gap * 30,
                max_gap_min: None,
            });
        }
    }
    if let Some((a, b)) = shape.same_day {
        if a < b && b < requests.len() {
            links.push(Link::SameDay {
                requests: vec![requests[a].id.clone(), requests[b].id.clone()],
            });
        }
    }
    Input {
        version: FORMAT_VERSION,
        week: Week {
            start: monday(),
            days: shape.days,
            grid_min: grid,
            timezone: "UTC".into(),
        },
        weights: Weights {
            unplaced_per_priority: shape.unplaced_per_priority,
            ..Weights::default()
        },
        sites,
        travel,
        providers,
        resources: vec![],
        patients,
        requests,
        links,
    }
}

fn options(seed: u64, threads: usize) -> SolveOptions {
    SolveOptions {
        // Under a work budget the time limit is only a guard; a guard that fires makes the
        // result depend on the machine's speed, so it is far above any case's solve time
        // (a slow CI machine once took over 18 s on a case that needs 12 s here).
        time_limit: 600.0,
        threads,
        seed,
        work: Some(60),
        ..Default::default()
    }
}

/// Every schedule of every feasible combination, by brute force over (provider, day, start),
/// judged by the checker alone: the optimum objective.
fn brute_force(input: &Input) -> i64 {
    brute_force_over(input, &every_booking(input))
}

/// Per request: leaving it out, then every booking of it on the grid within its eligible
/// providers' hours (patients' rules are the checker's to judge).
fn every_booking(input: &Input) -> Vec<Vec<Option<Placed>>> {
    let grid = input.week.grid_min;
    let mut choices: Vec<Vec<Option<Placed>>> = Vec::new();
    for req in &input.requests {
        let mut opts = vec![None];
        let eligible: Vec<&Provider> = if req.providers.is_empty() {
            input.providers.iter().collect()
        } else {
            input
                .providers
                .iter()
                .filter(|p| req.providers.contains(&p.id))
                .collect()
        };
        for p in eligible {
            for d in 0..input.week.days {
                let date = monday() + chrono::Duration::days(d as i64);
                let Some(ws) = p.hours.get(&DayOfWeek::of(date)) else {
                    continue;
                };
                for w in ws {
                    let mut t = w.0 .0;
                    while t + req.duration_min <= w.1 .0 {
                        let at = |m: u32| {
                            Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
                                .fixed_offset()
                                + chrono::Duration::minutes(m as i64)
                        };
                        let tele = req.modality == Modality::Telehealth;
                        opts.push(Some(Placed {
                            request: req.id.clone(),
                            patient: req.patient.clone(),
                            provider: p.id.clone(),
                            resources: vec![],
                            site: if tele { None } else { Some(p.site.clone()) },
                            start: at(t),
                            end: at(t + req.duration_min),
                            modality: if tele {
                                Modality::Telehealth
                            } else {
                                Modality::InPerson
                            },
                        }));
                        t += grid;
                    }
                }
            }
        }
        choices.push(opts);
    }
    choices
}

/// The least objective over every combination of `choices` that the checker passes
/// (`i64::MAX` when none does).
fn brute_force_over(input: &Input, choices: &[Vec<Option<Placed>>]) -> i64 {
    let mut best = i64::MAX;
    let mut idx = vec![0usize; choices.len()];
    loop {
        let mut schedule = Schedule {
            version: 1,
            placed: vec![],
            unplaced: vec![],
            objective: Objective::default(),
            bound: 0.0,
            gap: 0.0,
            status: Status::Feasible,
            stats: Stats::default(),
        };
        for (k, &i) in idx.iter().enumerate() {
            match &choices[k][i] {
                Some(p) => schedule.placed.push(p.clone()),
                None => schedule.unplaced.push(Unplaced {
                    request: input.requests[k].id.clone(),
                    patient: input.requests[k].patient.clone(),
                    code: UnplacedCode::Capacity,
                    reason: "not chosen".into(),
                }),
            }
        }
        let report = check(input, &schedule);
        let hard: Vec<_> = report
            .violations
            .iter()
            .filter(|v| v.constraint != "objective_mismatch")
            .collect();
        if hard.is_empty() {
            best = best.min(report.objective.total);
        }
        // Next combination.
        let mut k = 0;
        loop {
            if k == idx.len() {
                return best;
            }
            idx[k] += 1;
            if idx[k] < choices[k].len() {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
    }
}

/// On a 60-minute grid: the schedule passes the checker, its bound is at most the
/// brute-force optimum, its objective at least that, and equal to it when proven optimal.
fn bound_and_optimum_match_brute_force(shape: &Shape, seed: u64) -> Result<(), TestCaseError> {
    let input = build(shape, 60);
    let Ok(problem) = validate(input.clone()) else {
        return Ok(());
    };
    let schedule = solve(&problem, &options(seed, 1));
    assert_valid(&input, &schedule);
    let best = brute_force(&input);
    prop_assert!(
        schedule.bound <= best as f64 + 1e-6,
        "bound {} above optimum {}",
        schedule.bound,
        best
    );
    prop_assert!(schedule.objective.total >= best);
    if schedule.gap == 0.0 {
        prop_assert_eq!(schedule.objective.total, best);
    }
    Ok(())
}

/// A pin: request index, booking index, prerequisites to add (request index, gap in
/// half-hours); indices taken modulo what exists.
type PinShape = (usize, usize, Vec<(usize, u32)>);

/// Pins one or two requests of a random caseload at bookings the brute force enumerates
/// (`pins`: request and booking indices, taken modulo what exists, and prerequisites to
/// add: request index and gap in half-hours), so that what pins need competes for the
/// providers' hours and caps. Validation refuses the
/// pins (E030) exactly when no schedule keeps them, judged by the checker over every
/// combination; when it accepts them, the solver's schedule keeps them and every rule.
fn pins_refused_exactly_when_no_schedule_keeps_them(
    shape: &Shape,
    pins: &[PinShape],
    seed: u64,
) -> Result<(), TestCaseError> {
    let mut input = build(shape, 60);
    let mut choices = every_booking(&input);
    let n = input.requests.len();
    for (r, k, before) in pins {
        let r = r % n;
        for &(b, gap) in before {
            let b = b % n;
            // Links only into pins, from requests no pin follows: no cycle.
            let pinned = |x: usize| pins.iter().any(|p| p.0 % n == x);
            let id = |x: usize| input.requests[x].id.clone();
            let linked = input.links.iter().any(|l| match l {
                Link::Precedence { before, after, .. } => {
                    (before == &id(b) && after == &id(r)) || before == &id(r) && after == &id(b)
                }
                _ => false,
            });
            if b != r && !pinned(b) && !linked {
                input.links.push(Link::Precedence {
                    before: id(b),
                    after: id(r),
                    min_gap_min: gap * 30,
                    max_gap_min: None,
                });
            }
        }
        if choices[r].len() < 2 || input.requests[r].existing.is_some() {
            continue;
        }
        let booking = choices[r][1 + k % (choices[r].len() - 1)]
            .clone()
            .expect("a booking");
        input.requests[r].existing = Some(Existing {
            provider: booking.provider.clone(),
            start: careweek::time::LocalDateTime(booking.start.naive_local()).into(),
            modality: Some(booking.modality),
            resources: vec![],
            pinned: true,
        });
        choices[r] = vec![Some(booking)];
    }
    prop_assume!(input.requests.iter().any(|r| r.existing.is_some()));
    let feasible = brute_force_over(&input, &choices) < i64::MAX;
    match validate(input.clone()) {
        Err(report) => {
            if report.issues.iter().any(|i| i.code == "E030") {
                prop_assert!(!feasible, "a schedule keeps the pins: {:#?}", report.issues);
            }
        }
        Ok(problem) => {
            prop_assert!(
                feasible,
                "no schedule keeps the pins, yet validation passed"
            );
            let schedule = solve(&problem, &options(seed, 1));
            assert_valid(&input, &schedule);
        }
    }
    Ok(())
}

/// The requests a schedule leaves out because the weights make placing them cost more.
fn outweighed(schedule: &Schedule) -> Vec<&Unplaced> {
    schedule
        .unplaced
        .iter()
        .filter(|u| u.code == UnplacedCode::Outweighed)
        .collect()
}

fn assert_valid(input: &Input, schedule: &Schedule) {
    // A request said to be outweighed costs no less placed than left out.
    for u in outweighed(schedule) {
        let figure = |after: &str| -> i64 {
            let rest = &u.reason[u.reason.find(after).expect("figures") + after.len()..];
            let digits: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            digits.parse().expect("a number")
        };
        assert!(figure("would add ") >= figure(" out adds "), "{u:#?}");
    }
    let report = check(input, schedule);
    assert!(
        report.violations.is_empty(),
        "checker found: {:#?}",
        report.violations
    );
    assert_eq!(report.objective, schedule.objective);
    let mut ids: Vec<&str> = schedule
        .placed
        .iter()
        .map(|p| p.request.as_str())
        .chain(schedule.unplaced.iter().map(|u| u.request.as_str()))
        .collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = input.requests.iter().map(|r| r.id.as_str()).collect();
    want.sort_unstable();
    assert_eq!(ids, want, "every request exactly once");
    assert!(schedule.bound <= schedule.objective.total as f64 + 1e-6);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn schedules_pass_the_checker(shape in shape(8, 3), seed in 0u64..1000) {
        let input = build(&shape, 30);
        let Ok(problem) = validate(input.clone()) else { return Ok(()) };
        let schedule = solve(&problem, &options(seed, 2));
        assert_valid(&input, &schedule);
    }

    #[test]
    fn exact_optimum_matches_brute_force(shape in shape(3, 1), seed in 0u64..1000) {
        bound_and_optimum_match_brute_force(&shape, seed)?;
    }

    /// Over two days: trips, the days links leave, travel between sites.
    #[test]
    fn bound_and_optimum_hold_over_two_days(shape in shape(3, 2), seed in 0u64..1000) {
        bound_and_optimum_match_brute_force(&shape, seed)?;
    }

    #[test]
    fn output_does_not_depend_on_threads(shape in shape(8, 2), seed in 0u64..1000) {
        let input = build(&shape, 30);
        let Ok(problem) = validate(input) else { return Ok(()) };
        let one = solve(&problem, &options(seed, 1));
        let two = solve(&problem, &options(seed, 2));
        prop_assert_eq!(one.placed, two.placed);
        prop_assert_eq!(one.objective, two.objective);
    }
}

proptest! {
    // Each case is cheap (a brute force over at most four requests, two days).
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Pins with prerequisites and bundle mates that compete (one or two pins, up to four
    /// requests over two days): refused exactly when nothing keeps them.
    #[test]
    fn pins_are_refused_exactly_when_no_schedule_keeps_them(
        shape in shape(4, 2),
        pins in prop::collection::vec(
            (0usize..4, 0usize..1000, prop::collection::vec((0usize..4, 0u32..3), 0..=2)),
            1..=2,
        ),
        seed in 0u64..1000,
    ) {
        pins_refused_exactly_when_no_schedule_keeps_them(&shape, &pins, seed)?;
    }
}

#[test]
fn tiny_cases_are_solved_to_proven_optimality() {
    let shape = Shape {
        days: 1,
        sites: 2,
        travel: 30,
        providers: vec![(0, 9, 12, None), (1, 9, 13, Some(2))],
        patients: vec![
            (None, None, None, Some(PartOfDay::Morning)),
            (Some((9, 12)), None, Some(2), None),
        ],
        requests: vec![
            (0, 1, 2, 3, false),
            (0, 2, 1, 2, false),
            (1, 3, 2, 5, false),
        ],
        precedence: Some((0, 1, 0)),
        same_day: None,
        unplaced_per_priority: 1000,
    };
    let input = build(&shape, 60);
    let problem = validate(input.clone()).expect("valid");
    let schedule = solve(&problem, &options(7, 1));
    assert_valid(&input, &schedule);
    assert_eq!(schedule.gap, 0.0);
    assert_eq!(schedule.objective.total, brute_force(&input));
}

/// A case CI once found where one and two threads placed two interchangeable requests in
/// swapped order: kept so the thread independence holds on it for good.
#[test]
fn thread_independence_on_interchangeable_requests() {
    let shape = Shape {
        days: 2,
        sites: 2,
        travel: 20,
        providers: vec![(0, 8, 14, None), (1, 8, 14, None), (0, 9, 14, None)],
        patients: vec![(None, Some((0, 9, 0)), Some(2), None)],
        requests: vec![
            (2, 4, 1, 1, false),
            (2, 4, 1, 3, false),
            (0, 5, 2, 4, false),
            (2, 2, 3, 4, false),
        ],
        precedence: None,
        same_day: None,
        unplaced_per_priority: 1000,
    };
    let input = build(&shape, 30);
    let problem = validate(input.clone()).expect("valid shape");
    let one = solve(&problem, &options(760, 1));
    // Its patient may come at most twice a day: two trips at least, which the patient's
    // exact search in the bound sees, so the optimum is proven.
    assert_eq!(one.objective.total, brute_force(&input));
    assert_eq!(one.gap, 0.0);
    for _ in 0..4 {
        let two = solve(&problem, &options(760, 2));
        assert_eq!(one.placed, two.placed);
        assert_eq!(one.objective, two.objective);
    }
}

/// The shipped example week is solved to proven optimality (gap 0), well within a minute:
/// each patient's exact week at the Lagrangian prices meets the schedule found.
#[test]
fn the_example_week_is_proven_optimal() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-week.json");
    let text = std::fs::read_to_string(path).unwrap();
    let problem = validate(careweek::parse_input(&text).unwrap()).unwrap();
    let options = SolveOptions {
        time_limit: 60.0,
        threads: 2,
        ..Default::default()
    };
    let schedule = solve(&problem, &options);
    assert_valid(&problem.input, &schedule);
    assert_eq!(
        schedule.gap, 0.0,
        "objective {} bound {}",
        schedule.objective.total, schedule.bound
    );
    assert_eq!(schedule.bound, schedule.objective.total as f64);
}

/// Without a work budget, a schedule proven optimal before the time limit is the same on
/// every run and for any thread count: the example week and small generated caseloads.
#[test]
fn a_schedule_proven_optimal_is_the_same_whatever_the_thread_count() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-week.json");
    let example = careweek::parse_input(&std::fs::read_to_string(path).unwrap()).unwrap();
    let generated = |patients, seed| {
        careweek::generate::generate(&careweek::generate::GenerateOptions {
            patients,
            seed,
            grid_min: 15,
        })
    };
    // 10 patients, seed 3: proven by the branch and bound; 20 patients, seed 4: by a
    // search restarted from where it stalled.
    for input in [example, generated(10, 3), generated(20, 4)] {
        let problem = validate(input).unwrap();
        let runs: Vec<Schedule> = [1, 2, 8, 2, 1]
            .into_iter()
            .map(|threads| {
                solve(
                    &problem,
                    &SolveOptions {
                        time_limit: 60.0,
                        threads,
                        ..Default::default()
                    },
                )
            })
            .collect();
        for run in &runs {
            assert_valid(&problem.input, run);
            assert_eq!(run.status, Status::Optimal, "gap {}", run.gap);
            assert_eq!(run.placed, runs[0].placed, "threads {}", run.stats.threads);
            assert_eq!(run.unplaced, runs[0].unplaced);
        }
    }
}

/// A component of over 1,500 requests is searched by two streams, each moving its own
/// share of the patients, and what both found is put together: the schedule must still
/// pass the checker and improve on the construction.
#[test]
fn a_large_component_searched_in_shares_gives_a_valid_schedule() {
    let input = careweek::generate(&careweek::GenerateOptions {
        patients: 650,
        seed: 5,
        grid_min: 15,
    });
    let problem = validate(input).unwrap();
    assert!(problem.requests.len() >= 1_500);
    let options = SolveOptions {
        time_limit: 6.0,
        threads: 2,
        ..Default::default()
    };
    let schedule = solve(&problem, &options);
    assert_valid(&problem.input, &schedule);
    assert!(schedule.stats.seconds <= 7.0, "{}", schedule.stats.seconds);
    assert!(
        schedule.objective.total < schedule.stats.construction_objective,
        "{} against {}",
        schedule.objective.total,
        schedule.stats.construction_objective
    );
}

/// `input` solved on one thread under a `work` budget; the schedule has passed the checker.
fn solved_and_checked(input: careweek::Input, work: u64) -> careweek::Schedule {
    let problem = validate(input).unwrap();
    let schedule = solve(
        &problem,
        &SolveOptions {
            work: Some(work),
            ..options(0, 1)
        },
    );
    assert_valid(&problem.input, &schedule);
    schedule
}

/// A request whose free slots all fall on days the patient is at their daily limit is
/// explained by that limit, not by other bookings; and one whose slots are all booked by
/// others says so.
#[test]
fn unplaced_reasons_tell_a_full_day_from_booked_slots() {
    let mut input = careweek::generate(&careweek::GenerateOptions {
        patients: 20,
        seed: 4,
        grid_min: 15,
    });
    let patient = input.patients[0].id.clone();
    input.patients[0].max_per_day = Some(0);
    let schedule = solved_and_checked(input, 200);
    assert!(schedule.placed.iter().all(|p| p.patient != patient));
    let own: Vec<_> = schedule
        .unplaced
        .iter()
        .filter(|u| u.patient == patient)
        .collect();
    assert!(!own.is_empty());
    let by_limit = own
        .iter()
        .filter(|u| u.reason.contains("limit of 0 appointment(s) a day"))
        .count();
    assert!(by_limit > 0, "{own:#?}");
    for u in own.iter().filter(|u| u.code == UnplacedCode::Capacity) {
        assert!(
            u.reason.contains("limit of 0 appointment(s) a day")
                || u.reason.contains("taken by other bookings"),
            "{u:#?}"
        );
    }
}

/// When a provider's daily limit is what holds a request's slots, the reason names the
/// provider, the limit and the days, instead of blaming other bookings.
#[test]
fn a_providers_daily_limit_is_named_when_it_holds_the_slots() {
    let mut input = careweek::generate(&careweek::GenerateOptions {
        patients: 20,
        seed: 4,
        grid_min: 15,
    });
    let capped = input
        .providers
        .iter_mut()
        .find(|p| p.id == "cardiology-1")
        .unwrap();
    capped.max_per_day = Some(1);
    let name = capped.name.clone().unwrap();
    let schedule = solved_and_checked(input, 200);
    let by_cap: Vec<_> = schedule
        .unplaced
        .iter()
        .filter(|u| {
            u.code == UnplacedCode::Capacity
                && u.reason.contains(&format!(
                    "{name} has reached their limit of 1 appointment(s) a day on"
                ))
        })
        .collect();
    assert!(!by_cap.is_empty(), "{:#?}", schedule.unplaced);
    for u in by_cap {
        assert!(!u.reason.contains("taken by other bookings"), "{u:#?}");
    }
}

/// With a low weight on unplaced requests, requests left out although a slot fits are
/// explained by the weights, and each such reason's figures say placing costs more; with the
/// example's own weights none is.
#[test]
fn requests_left_out_by_the_weights_say_so() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-week.json");
    let text = std::fs::read_to_string(path).unwrap();
    let budget = SolveOptions {
        work: Some(300),
        ..options(0, 1)
    };
    for (unplaced_weight, expect_outweighed) in [(10, true), (1000, false)] {
        let mut input = careweek::parse_input(&text).unwrap();
        input.weights.unplaced_per_priority = unplaced_weight;
        let problem = validate(input).unwrap();
        let schedule = solve(&problem, &budget);
        assert_valid(&problem.input, &schedule);
        // (`assert_valid` checked each one's figures.)
        let outweighed = outweighed(&schedule);
        assert_eq!(!outweighed.is_empty(), expect_outweighed, "{outweighed:#?}");
    }
}

/// With the default weights every request is worth placing wherever it fits, so none may
/// come back `outweighed`: the search's last schedule books what still fits with a gain
/// (under this small work budget a later move had freed a slot for a priority-1 request).
#[test]
fn nothing_that_fits_is_left_out_under_the_default_weights() {
    let input = careweek::generate(&careweek::GenerateOptions {
        patients: 120,
        seed: 8,
        grid_min: 15,
    });
    let problem = validate(input).unwrap();
    let schedule = solve(
        &problem,
        &SolveOptions {
            work: Some(2000),
            ..options(0, 2)
        },
    );
    assert_valid(&problem.input, &schedule);
    let outweighed = outweighed(&schedule);
    assert!(outweighed.is_empty(), "{outweighed:#?}");
}

/// Two patients' same-day bundles joined by a back-to-back pair across them: the pair is all
/// or none too, so the four requests stand or fall together. Booked bundle by bundle, one
/// patient's pair was kept and the other's dropped, splitting the back-to-back pair (found
/// by fuzzing a generated caseload; the cardiologist's two mornings cannot take everyone).
#[test]
fn bundles_joined_by_a_shared_request_stay_whole() {
    let hours = |days: &[&str]| -> serde_json::Value {
        days.iter()
            .map(|d| {
                let w = if *d == "tue" {
                    ["15:00", "17:00"]
                } else {
                    ["08:00", "10:00"]
                };
                (d.to_string(), serde_json::json!([w]))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let request = |id: &str, patient: &str, specialty: &str, duration: u32, priority: u32| {
        serde_json::json!({"id": id, "patient": patient, "specialty": specialty,
                           "duration_min": duration, "priority": priority})
    };
    let patient = |id: &str, extra: serde_json::Value| {
        let mut p = serde_json::json!({"id": id, "max_per_day": 3, "insurance": "acme"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    let week = serde_json::json!({
        "version": 1,
        "week": {"start": "2026-03-02", "days": 6, "grid_min": 15, "timezone": "America/New_York"},
        "sites": [{"id": "main"}],
        "providers": [
            {"id": "cardiology-1", "specialty": "cardiology", "site": "main", "languages": ["en"],
             "hours": hours(&["mon", "tue", "wed"])},
            {"id": "nephrology-1", "specialty": "nephrology", "site": "main", "hours": hours(&["mon", "tue"]),
             "bookings": [{"start": "2026-03-04T15:00", "end": "2026-03-04T15:30"}]},
            {"id": "lab-1", "specialty": "lab", "site": "main", "languages": ["en"],
             "hours": hours(&["mon", "tue"]), "telehealth": false}
        ],
        "resources": [{"id": "interpreter-es-1", "kind": "interpreter", "language": "es",
                       "hours": {"mon": [["08:00", "20:00"]], "tue": [["08:00", "20:00"]],
                                 "wed": [["08:00", "20:00"]]}}],
        "patients": [
            patient("p3", serde_json::json!({"max_trips": 2, "prefers": "morning",
                "preferred_provider": "cardiology-1", "language": "es", "telehealth": false})),
            patient("p5", serde_json::json!({"max_trips": 2, "prefers": "morning"})),
            patient("p12", serde_json::json!({"recovery_min": 240, "blocks": [
                {"days": ["tue", "thu", "sat"], "start": "07:00", "end": "11:00"}]})),
            patient("p19", serde_json::json!({"max_trips": 2, "prefers": "morning", "telehealth": false}))
        ],
        "requests": [
            request("p3-1", "p3", "cardiology", 30, 4), request("p3-2", "p3", "lab", 15, 4),
            request("p5-1", "p5", "cardiology", 30, 3), request("p5-2", "p5", "lab", 15, 4),
            request("p12-1", "p12", "nephrology", 45, 5), request("p12-2", "p12", "cardiology", 30, 5),
            request("p19-1", "p19", "cardiology", 30, 3), request("p19-2", "p19", "lab", 15, 4)
        ],
        "links": [
            {"kind": "same_day", "requests": ["p3-2", "p3-1"]},
            {"kind": "same_day", "requests": ["p5-2", "p5-1"]},
            {"kind": "same_day", "requests": ["p19-2", "p19-1"]},
            {"kind": "back_to_back", "first": "p3-1", "second": "p5-2", "max_wait_min": 600}
        ]
    });
    let input = careweek::parse_input(&week.to_string()).unwrap();
    let problem = validate(input.clone()).unwrap();
    // Construction alone, and a little search after it. Everyone fits: p19's bundle on
    // Tuesday (the lab's best slot alone is on Monday, where the cardiologist is full, and
    // construction once gave up on the bundle there instead of trying another day).
    for work in [0, 5, 50] {
        let schedule = solve(
            &problem,
            &SolveOptions {
                work: Some(work),
                ..options(0, 1)
            },
        );
        assert_valid(&input, &schedule);
        assert!(
            schedule.unplaced.is_empty(),
            "work {work}: {:#?}",
            schedule.unplaced
        );
    }
}

/// One patient, Ana Ruiz ("p1"), at one site: the week of these providers, requests and
/// links, solved under a small work budget and checked.
fn ana_ruizs_week(
    providers: serde_json::Value,
    requests: serde_json::Value,
    links: serde_json::Value,
) -> careweek::Schedule {
    let week = serde_json::json!({
        "version": 1,
        "week": {"start": "2026-03-02", "days": 6, "grid_min": 15, "timezone": "America/New_York"},
        "sites": [{"id": "main"}],
        "providers": providers,
        "patients": [{"id": "p1", "name": "Ana Ruiz"}],
        "requests": requests,
        "links": links
    });
    solved_and_checked(careweek::parse_input(&week.to_string()).unwrap(), 20)
}

/// A request whose only obstacle is the gap after its placed prerequisite says so, with
/// the prerequisite's booking: the lab can only be on Friday, the consult after it only
/// Monday to Thursday.
#[test]
fn a_precedence_no_free_slot_keeps_is_told_with_the_prerequisites_booking() {
    let schedule = ana_ruizs_week(
        serde_json::json!([
            {"id": "lab-1", "specialty": "lab", "site": "main", "hours": {"fri": [["08:00", "12:00"]]}},
            {"id": "endo-1", "name": "Dr. Ito", "specialty": "endocrinology", "site": "main",
             "hours": {"mon": [["08:00", "12:00"]], "thu": [["08:00", "12:00"]]}}
        ]),
        serde_json::json!([
            {"id": "lab", "patient": "p1", "specialty": "lab", "duration_min": 15, "priority": 3, "service": "HbA1c"},
            {"id": "review", "patient": "p1", "specialty": "endocrinology", "duration_min": 30, "priority": 3, "service": "diabetes review"}
        ]),
        serde_json::json!([{"kind": "precedence", "before": "lab", "after": "review", "min_gap_min": 900}]),
    );
    assert_eq!(schedule.placed.len(), 1, "{schedule:#?}");
    let review = &schedule.unplaced[0];
    assert_eq!(review.request, "review");
    assert_eq!(review.code, UnplacedCode::Link);
    assert!(
        review.reason.contains(
            "Ana Ruiz's diabetes review must start at least 15 h after the HbA1c (lab) ends, which is booked Fri 06 Mar 08:00–08:15"
        ) && review.reason.contains("with Dr. Ito this week keeps that gap"),
        "{review:#?}"
    );
}

/// Pins with bundle mates and prerequisites (minimised from fuzzing): a pin's unpinned
/// bundle mate, placed with its bundle, took another pin's slot; a pin's mate needed a lab
/// 15 h before it, and the lab went after the pin's day. Every schedule keeps every pin.
#[test]
fn pins_keep_their_slots_against_other_pins_mates_and_prerequisites() {
    for case in [
        "pin-same-day-onezone",
        "pin-same-day-dropped",
        "pin-bundle-pred-149",
        "pin-taken-by-pred-1334",
        // A pin's prerequisite's prerequisite, booked on its preferred day, left the
        // middle one no room before the pin.
        "pin-chain-two-deep",
        // What the pins need competes (a provider's daily cap, a back-to-back partner, a
        // prerequisite's slot): the greedy pass leaves one out, the exact placement of
        // what pins need finds the schedule that keeps them all.
        "pin-needs-compete-precedence",
        "pin-needs-compete-back-to-back",
        "pin-needs-compete-daily-cap",
        "pin-needs-compete-b2b-prerequisite",
        // Two pins hold two of three MRIs; what a third pin needs fits only with the
        // third, which validation's domain did not offer (two units of a kind a slot).
        "pin-needs-third-unit",
        // The greedy pass leaves out a bundle a pin needs; the exact placement, in
        // construction order, took over 5 s and gave up (validation's, in index order,
        // 0.3 s).
        "pin-needs-exact-placement-order",
        // A pin after a chain of five prerequisites across two patients, one of whom may
        // come twice a day: in time order the search met that cap only at the chain's
        // last request, in every branch, and spent its limit; a search in a random order
        // finds a placement at once (found by fuzzing).
        "pin-needs-deep-dead-end",
        // A pin names no MRI and another names the one the first would take: the first
        // takes the other MRI.
        "pin-open-unit-beside-named-unit",
        // A pin names no MRI; a pin's prerequisite can use only one of the two (the other
        // is at another site), the one the first pin would take first.
        "pin-open-unit-and-a-need",
        // Eight pins at 08:00 that name no MRI, eight MRIs; and four sites' scans with
        // MRIs at the sites and four that go anywhere: each pin its own.
        "pin-eight-scans-eight-mris",
        "pin-scans-site-mris-enough",
        // Four chains of twelve requests, each of another patient, gaps of at most 10
        // minutes, half of them pinned: the prerequisites between two pins must fit
        // between the two, which the search of what pins need learnt only a chain's
        // length after placing the last of them; it now narrows every start to the
        // window the gaps leave (found by fuzzing).
        "pin-chains-tight-gaps",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/{case}.json"));
        let input = careweek::parse_input(&std::fs::read_to_string(path).unwrap()).unwrap();
        let pinned: Vec<String> = input
            .requests
            .iter()
            .filter(|r| r.existing.as_ref().is_some_and(|e| e.pinned))
            .map(|r| r.id.clone())
            .collect();
        assert!(!pinned.is_empty(), "{case}");
        for work in [0, 1, 5, 20, 60] {
            let schedule = solved_and_checked(input.clone(), work);
            for id in &pinned {
                assert!(
                    schedule.placed.iter().any(|p| &p.request == id),
                    "{case}, work {work}: pin {id} not placed"
                );
            }
        }
    }
}

/// A same-day bundle whose members are free on different days only: each member's reason
/// says the bundle fits no day and how many slots each has alone, rather than each naming
/// the other as the cause.
#[test]
fn a_bundle_that_fits_no_day_says_so_for_each_member() {
    let schedule = ana_ruizs_week(
        serde_json::json!([
            {"id": "lab-1", "specialty": "lab", "site": "main", "hours": {"mon": [["08:00", "09:00"]]}},
            {"id": "gp-1", "specialty": "primary_care", "site": "main", "hours": {"tue": [["08:00", "09:00"]]}}
        ]),
        serde_json::json!([
            {"id": "urine", "patient": "p1", "specialty": "lab", "duration_min": 15, "priority": 3, "service": "urine test"},
            {"id": "foot", "patient": "p1", "specialty": "primary_care", "duration_min": 15, "priority": 3, "service": "foot check"}
        ]),
        serde_json::json!([{"kind": "back_to_back", "first": "urine", "second": "foot", "max_wait_min": 30}]),
    );
    assert!(schedule.placed.is_empty(), "{schedule:#?}");
    assert_eq!(schedule.unplaced.len(), 2);
    for u in &schedule.unplaced {
        assert_eq!(u.code, UnplacedCode::Link, "{u:#?}");
        assert!(
            u.reason.contains(
                "no day has free slots for them together in the order and gaps their links set"
            ) && u
                .reason
                .contains("free slots for each alone: the urine test 4, the foot check 4"),
            "{u:#?}"
        );
        assert!(!u.reason.contains("cannot be placed compatibly"), "{u:#?}");
    }
}

/// A pinned booking whose successor can never follow it (no cardiologist at all) is kept:
/// construction once skipped its only option as "starving" the successor, and three labs
/// took its slot (found by fuzzing; the fixture is the reduced case). Kept too when the
/// cardiologist exists but cannot start a day after it.
#[test]
fn a_pin_is_kept_when_its_successor_cannot_follow() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pin-before-impossible-successor.json");
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut too_far = base.clone();
    too_far["providers"].as_array_mut().unwrap().push(serde_json::json!(
        {"id": "cardio-1", "specialty": "cardiology", "site": "main", "hours": {"mon": [["08:00", "12:00"]]}}
    ));
    too_far["links"][1]["min_gap_min"] = serde_json::json!(1440);
    for (case, week) in [("no cardiologist", base), ("a day after", too_far)] {
        let input = careweek::parse_input(&week.to_string()).unwrap();
        for work in [0, 1, 5, 10] {
            let schedule = solved_and_checked(input.clone(), work);
            assert!(
                schedule.placed.iter().any(|p| p.request == "p0011-1"),
                "{case}, work {work}: {schedule:#?}"
            );
        }
    }
}

/// A site in another time zone than the week's: its hours are filed under the week's days
/// they fall in. A lab open Mon 18:00-21:00 in New York, in a week planned in UTC, works
/// Mon 23:00 to Tue 02:00 there: all twelve quarter hours are bookable (only the first four
/// were, and a window wholly past UTC midnight was lost, its requests blamed on the
/// patient's availability; found by fuzzing). One in Tokyo, in a week planned in New York,
/// opens on the week's previous date.
#[test]
fn a_sites_hours_count_on_the_weeks_days_they_fall_in() {
    for (week_zone, site_zone, day, window, bookable) in [
        ("UTC", "America/New_York", "mon", ["18:00", "21:00"], 12),
        ("UTC", "America/New_York", "mon", ["20:00", "21:00"], 4),
        (
            "Asia/Tokyo",
            "America/New_York",
            "mon",
            ["12:00", "14:00"],
            8,
        ),
        (
            "America/New_York",
            "Asia/Tokyo",
            "tue",
            ["08:00", "09:00"],
            4,
        ),
        // Mon 08:00 in Tokyo is Sunday evening in New York: outside a Mon-Sat week.
        (
            "America/New_York",
            "Asia/Tokyo",
            "mon",
            ["08:00", "09:00"],
            0,
        ),
    ] {
        let patients: Vec<String> = (0..14).map(|i| format!("p{i}")).collect();
        let week = serde_json::json!({
            "version": 1,
            "week": {"start": "2026-03-02", "days": 6, "grid_min": 15, "timezone": week_zone},
            "sites": [{"id": "main", "timezone": site_zone}],
            "providers": [{"id": "lab-1", "specialty": "lab", "site": "main", "hours": {day: [window]}}],
            "patients": patients.iter().map(|p| serde_json::json!({"id": p})).collect::<Vec<_>>(),
            "requests": patients.iter().map(|p| serde_json::json!(
                {"id": format!("{p}-lab"), "patient": p, "specialty": "lab", "duration_min": 15}
            )).collect::<Vec<_>>()
        });
        let input = careweek::parse_input(&week.to_string()).unwrap();
        let schedule = solved_and_checked(input, 50);
        assert_eq!(
            schedule.placed.len(),
            bookable,
            "{week_zone} week, {site_zone} site, {day} {window:?}: {:#?}",
            schedule.unplaced
        );
    }
}

/// A Tokyo clinic open Monday 08:00-10:00 in a week planned in UTC works Sunday 23:00 to
/// Monday 01:00 of that week; a two-hour appointment would span the week's midnight, which
/// no appointment can: the reason says so, and what to do.
#[test]
fn hours_across_the_weeks_midnight_are_named_in_the_reason() {
    let text = r#"{"version": 1,
        "week": {"start": "2026-03-01", "days": 3, "grid_min": 30, "timezone": "UTC"},
        "sites": [{"id": "s0", "timezone": "Asia/Tokyo"}],
        "providers": [{"id": "d1", "specialty": "lab", "site": "s0",
                       "hours": {"mon": [["08:00", "10:00"]]}}],
        "patients": [{"id": "p0"}],
        "requests": [{"id": "r0", "patient": "p0", "specialty": "lab", "duration_min": 120},
                     {"id": "r1", "patient": "p0", "specialty": "lab", "duration_min": 60}]}"#;
    let schedule = solved_and_checked(careweek::parse_input(text).unwrap(), 50);
    assert_eq!(schedule.placed.len(), 1, "the one-hour request fits");
    let reason = &schedule.unplaced[0].reason;
    assert!(
        reason.contains("across midnight in the week's time zone (UTC)")
            && reason.contains("clinic's time zone (Asia/Tokyo)"),
        "{reason}"
    );
    // The one-hour request moved to 23:30-00:30, inside the hours but across the week's
    // midnight: the checker refuses it.
    let input = careweek::parse_input(text).unwrap();
    let mut moved = schedule.clone();
    let placed = &mut moved.placed[0];
    placed.start = chrono::DateTime::parse_from_rfc3339("2026-03-01T23:30:00+00:00").unwrap();
    placed.end = chrono::DateTime::parse_from_rfc3339("2026-03-02T00:30:00+00:00").unwrap();
    let report = check(&input, &moved);
    assert_eq!(
        report
            .violations
            .iter()
            .map(|v| v.constraint.as_str())
            .collect::<Vec<_>>(),
        ["midnight"]
    );
}

/// A recovery longer than a day reaches into the week from a block days before it: dialysis
/// on Monday 08:00-09:00 with 3,000 minutes' recovery keeps a week that starts on Wednesday
/// free until 11:00 that day, for the solver and the checker alike.
#[test]
fn a_recovery_from_a_block_before_the_week_is_kept() {
    let text = r#"{"version": 1,
        "week": {"start": "2026-03-04", "days": 1, "grid_min": 60, "timezone": "UTC"},
        "sites": [{"id": "s0"}],
        "providers": [{"id": "d1", "specialty": "lab", "site": "s0",
                       "hours": {"wed": [["08:00", "12:00"]]}}],
        "patients": [{"id": "p0", "recovery_min": 3000,
                      "blocks": [{"days": ["mon"], "start": "08:00", "end": "09:00",
                                  "label": "dialysis"}]}],
        "requests": [{"id": "r0", "patient": "p0", "specialty": "lab", "duration_min": 60}]}"#;
    let input = careweek::parse_input(text).unwrap();
    let mut schedule = solved_and_checked(input.clone(), 50);
    assert_eq!(schedule.placed.len(), 1);
    assert_eq!(
        schedule.placed[0].start.to_rfc3339(),
        "2026-03-04T11:00:00+00:00"
    );
    // The same booking at 08:00, inside the recovery, is refused.
    schedule.placed[0].start -= chrono::Duration::hours(3);
    schedule.placed[0].end -= chrono::Duration::hours(3);
    let report = check(&input, &schedule);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.constraint == "patient_block"),
        "{:?}",
        report.violations
    );
}

/// A one-day week starting on Sunday `date` in `zone`: one lab provider working `hours`,
/// one patient, one lab request of `duration` minutes, with `existing` appended to the
/// request (`, "existing": {...}` or nothing).
fn one_lab_sunday(
    zone: &str,
    date: &str,
    grid: u32,
    hours: (&str, &str),
    duration: u32,
    existing: &str,
) -> String {
    let (open, close) = hours;
    format!(
        r#"{{"version": 1,
        "week": {{"start": "{date}", "days": 1, "grid_min": {grid}, "timezone": "{zone}"}},
        "sites": [{{"id": "s0"}}],
        "providers": [{{"id": "d1", "specialty": "lab", "site": "s0",
                       "hours": {{"sun": [["{open}", "{close}"]]}}}}],
        "patients": [{{"id": "p0"}}],
        "requests": [{{"id": "r0", "patient": "p0", "specialty": "lab", "duration_min": {duration}{existing}}}]}}"#
    )
}

/// Samoa skipped 2011-12-30 whole (from -10:00 to +14:00): the midnight that ends the 29th
/// is the 31st's. A pin at 23:00 on the 29th was once read as past that midnight (the gap
/// searched for three hours, not a day) and flagged by the checker; a week that starts on
/// the missing day starts at the 31st's midnight.
#[test]
fn a_day_the_clocks_skip_whole_is_handled() {
    let week = |start: &str, days: u32, existing: &str| {
        let text = format!(
            r#"{{"version": 1,
            "week": {{"start": "{start}", "days": {days}, "grid_min": 15, "timezone": "Pacific/Apia"}},
            "sites": [{{"id": "s0"}}],
            "providers": [{{"id": "d1", "specialty": "lab", "site": "s0",
                "hours": {{"thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]],
                           "sat": [["00:00", "24:00"]]}}}}],
            "patients": [{{"id": "p0"}}, {{"id": "p1"}}],
            "requests": [{{"id": "r0", "patient": "p0", "specialty": "lab", "duration_min": 60{existing}}},
                         {{"id": "r1", "patient": "p1", "specialty": "lab", "duration_min": 60,
                           "earliest": "2011-12-31"}}]}}"#
        );
        careweek::parse_input(&text).unwrap()
    };
    for start in ["2011-12-29T23:00", "2011-12-29T23:00-10:00"] {
        for pinned in [true, false] {
            let existing = format!(
                r#", "existing": {{"provider": "d1", "start": "{start}", "pinned": {pinned}}}"#
            );
            let schedule = solved_and_checked(week("2011-12-29", 3, &existing), 20);
            let at = |id: &str| {
                let p = schedule.placed.iter().find(|p| p.request == id).unwrap();
                (p.start.to_rfc3339(), p.end.to_rfc3339())
            };
            assert_eq!(
                at("r0"),
                (
                    "2011-12-29T23:00:00-10:00".into(),
                    "2011-12-31T00:00:00+14:00".into()
                ),
                "{start} pinned {pinned}"
            );
            assert!(at("r1").0.starts_with("2011-12-31T"), "{:?}", at("r1"));
        }
    }
    let schedule = solved_and_checked(week("2011-12-30", 2, ""), 20);
    assert_eq!(schedule.placed.len(), 2);
    for p in &schedule.placed {
        assert!(p.start.to_rfc3339().starts_with("2011-12-31T"), "{p:?}");
        assert!(p.start.to_rfc3339().ends_with("+14:00"), "{p:?}");
    }
}

/// On the day Lord Howe Island's clocks go forward by 30 minutes, a 60-minute grid is the
/// wall clock's: the solver books 11:00 (not 11:30, an hour of elapsed time from
/// midnight), a pin at 11:00 is kept, and the checker refuses 11:30 as off the grid, as
/// validation refuses a pin there.
#[test]
fn the_grid_is_the_wall_clocks_across_a_half_hour_clock_change() {
    let week = |existing: &str| {
        one_lab_sunday(
            "Australia/Lord_Howe",
            "2026-10-04",
            60,
            ("11:00", "13:00"),
            60,
            existing,
        )
    };
    let free = careweek::parse_input(&week("")).unwrap();
    let schedule = solved_and_checked(free.clone(), 20);
    assert_eq!(schedule.placed.len(), 1);
    assert_eq!(
        schedule.placed[0].start.to_rfc3339(),
        "2026-10-04T11:00:00+11:00"
    );
    let pinned =
        week(r#", "existing": {"provider": "d1", "start": "2026-10-04T12:00", "pinned": true}"#);
    let schedule = solved_and_checked(careweek::parse_input(&pinned).unwrap(), 20);
    assert_eq!(
        schedule.placed[0].start.to_rfc3339(),
        "2026-10-04T12:00:00+11:00"
    );
    let off =
        week(r#", "existing": {"provider": "d1", "start": "2026-10-04T11:30", "pinned": true}"#);
    let refused = validate(careweek::parse_input(&off).unwrap()).unwrap_err();
    assert_eq!(refused.issues[0].code, "E022", "{refused:?}");
    let mut moved = schedule.clone();
    moved.placed[0].start =
        chrono::DateTime::parse_from_rfc3339("2026-10-04T11:30:00+11:00").unwrap();
    moved.placed[0].end =
        chrono::DateTime::parse_from_rfc3339("2026-10-04T12:30:00+11:00").unwrap();
    let report = check(&free, &moved);
    assert!(
        report.violations.iter().any(|v| v.constraint == "grid"),
        "{:?}",
        report.violations
    );
}

/// Right after the change (02:00 on Lord Howe Island, both ways), not only hours later: the
/// first start of a window from 03:00 is 03:00 on the wall clock, and a pin there is kept.
#[test]
fn the_grid_is_the_wall_clocks_from_the_change_itself() {
    for date in ["2026-10-04", "2026-04-05"] {
        let week = |existing: &str| {
            one_lab_sunday(
                "Australia/Lord_Howe",
                date,
                60,
                ("03:00", "04:15"),
                60,
                existing,
            )
        };
        let schedule = solved_and_checked(careweek::parse_input(&week("")).unwrap(), 20);
        assert_eq!(schedule.placed.len(), 1, "{date}");
        assert_eq!(
            schedule.placed[0].start.naive_local().to_string(),
            format!("{date} 03:00:00")
        );
        let pinned = week(&format!(
            r#", "existing": {{"provider": "d1", "start": "{date}T03:00", "pinned": true}}"#
        ));
        let schedule = solved_and_checked(careweek::parse_input(&pinned).unwrap(), 20);
        assert_eq!(schedule.placed.len(), 1, "{date}");
    }
}

/// Hours over the hour repeated when New York's clocks go back (01:00-02:00 on 2026-11-01
/// lasts 120 minutes): a 90-minute request fits, and is placed.
#[test]
fn a_window_over_the_repeated_hour_lasts_its_elapsed_minutes() {
    let text = one_lab_sunday(
        "America/New_York",
        "2026-11-01",
        30,
        ("01:00", "02:00"),
        90,
        "",
    );
    let schedule = solved_and_checked(careweek::parse_input(&text).unwrap(), 20);
    assert_eq!(schedule.placed.len(), 1);
    assert_eq!(
        schedule.placed[0].start.to_rfc3339(),
        "2026-11-01T01:00:00-04:00"
    );
}

/// A start copied from the schedule exactly as it prints it (`"2026-03-03T10:00:00-05:00"`)
/// into the input as a pinned booking: the week validates, each pin is kept at that
/// instant with that provider, and the checker finds nothing.
#[test]
fn a_start_copied_from_the_schedule_pins_the_request_there() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-week.json");
    let text = std::fs::read_to_string(path).unwrap();
    let first = solved_and_checked(careweek::parse_input(&text).unwrap(), 50);
    let printed = serde_json::to_value(&first).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut pins = Vec::new();
    for p in printed["placed"].as_array().unwrap() {
        let requests = v["requests"].as_array_mut().unwrap();
        let r = requests
            .iter_mut()
            .find(|r| r["id"] == p["request"])
            .unwrap();
        if r.get("existing").is_some() || pins.len() == 5 {
            continue;
        }
        let start = p["start"].as_str().unwrap().to_string();
        assert!(start.ends_with(":00-05:00"), "{start}");
        r["existing"] = serde_json::json!({"provider": p["provider"], "start": start,
            "modality": p["modality"], "resources": p["resources"], "pinned": true});
        pins.push((p["request"].as_str().unwrap().to_string(), start));
    }
    assert_eq!(pins.len(), 5);
    let input = careweek::parse_input(&v.to_string()).unwrap();
    let again = solved_and_checked(input.clone(), 50);
    assert!(check(&input, &again).violations.is_empty());
    for (id, start) in &pins {
        let was = first.placed.iter().find(|p| &p.request == id).unwrap();
        let now = again.placed.iter().find(|p| &p.request == id).unwrap();
        assert_eq!(now.start.to_rfc3339(), *start, "{id}");
        assert_eq!(now.provider, was.provider, "{id}");
    }
}

/// The schedule gives an in-person start in its site's zone. A start copied from a site an
/// hour behind the week's zone (Chicago against New York), offset included, pins the
/// request at that instant; an offset that is neither zone's is refused.
#[test]
fn a_start_copied_from_a_site_in_another_zone_pins_the_request_there() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-week.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["sites"][1]["timezone"] = "America/Chicago".into();
    let first = solved_and_checked(careweek::parse_input(&v.to_string()).unwrap(), 50);
    let mut pins = Vec::new();
    for p in &first.placed {
        let r = v["requests"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["id"] == p.request.as_str())
            .unwrap();
        if p.site.as_deref() != Some("riverside") || r.get("existing").is_some() || pins.len() == 3
        {
            continue;
        }
        let start = p.start.to_rfc3339();
        assert!(start.ends_with(":00-06:00"), "{start}");
        r["existing"] = serde_json::json!({"provider": p.provider, "start": start,
            "modality": "in_person", "resources": p.resources, "pinned": true});
        pins.push((p.request.clone(), p.start));
    }
    assert!(!pins.is_empty());
    let input = careweek::parse_input(&v.to_string()).unwrap();
    let again = solved_and_checked(input.clone(), 50);
    assert!(check(&input, &again).violations.is_empty());
    for (id, start) in &pins {
        let now = again.placed.iter().find(|p| &p.request == id).unwrap();
        assert_eq!(now.start, *start, "{id}");
    }

    // Denver's offset is neither New York's nor Chicago's.
    let (id, start) = &pins[0];
    let r = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["id"] == id.as_str())
        .unwrap();
    let denver = start.format("%Y-%m-%dT%H:%M:%S-07:00").to_string();
    v["requests"][r]["existing"]["start"] = denver.into();
    let err = validate(careweek::parse_input(&v.to_string()).unwrap()).unwrap_err();
    let path = format!("requests[{r}].existing.start");
    assert!(
        err.issues
            .iter()
            .any(|i| i.code == "E022" && i.path == path && i.message.contains("-07:00")),
        "{err}"
    );
}

/// New York's clocks repeat 01:00-02:00 on 2026-11-01. The offset the schedule prints picks
/// the occurrence: pins at 01:30-04:00 and at 01:30-05:00 are both kept, an hour apart, the
/// checker holds each to its own, and the input prints them back as given. An offset that
/// is neither occurrence's is refused.
#[test]
fn an_offset_pins_either_occurrence_of_the_repeated_hour() {
    let week = |first: &str, second: &str| {
        let text = one_lab_sunday(
            "America/New_York",
            "2026-11-01",
            30,
            ("00:00", "04:00"),
            30,
            &format!(r#", "existing": {{"provider": "d1", "start": "{first}", "pinned": true}}"#),
        );
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut other = v["requests"][0].clone();
        other["id"] = "r1".into();
        other["existing"]["start"] = second.into();
        v["requests"].as_array_mut().unwrap().push(other);
        careweek::parse_input(&v.to_string()).unwrap()
    };
    let input = week("2026-11-01T01:30:00-04:00", "2026-11-01T01:30-05:00");
    let printed = serde_json::to_value(&input).unwrap();
    assert_eq!(
        printed["requests"][0]["existing"]["start"],
        "2026-11-01T01:30-04:00"
    );
    assert_eq!(
        printed["requests"][1]["existing"]["start"],
        "2026-11-01T01:30-05:00"
    );
    assert_eq!(serde_json::from_value::<Input>(printed).unwrap(), input);

    let schedule = solved_and_checked(input.clone(), 20);
    let placed = |s: &Schedule, id: &str| s.placed.iter().position(|p| p.request == id).unwrap();
    let (a, b) = (placed(&schedule, "r0"), placed(&schedule, "r1"));
    assert_eq!(
        schedule.placed[a].start.to_rfc3339(),
        "2026-11-01T01:30:00-04:00"
    );
    assert_eq!(
        schedule.placed[b].start.to_rfc3339(),
        "2026-11-01T01:30:00-05:00"
    );
    assert_eq!(
        (schedule.placed[b].start - schedule.placed[a].start).num_minutes(),
        60
    );
    // Swapped, each is at the other's occurrence: both pins are broken.
    let mut swapped = schedule.clone();
    let (sa, ea) = (swapped.placed[a].start, swapped.placed[a].end);
    swapped.placed[a].start = swapped.placed[b].start;
    swapped.placed[a].end = swapped.placed[b].end;
    swapped.placed[b].start = sa;
    swapped.placed[b].end = ea;
    let mut broken: Vec<String> = check(&input, &swapped)
        .violations
        .into_iter()
        .filter(|v| v.constraint == "pinned")
        .flat_map(|v| v.requests)
        .collect();
    broken.sort();
    assert_eq!(broken, ["r0", "r1"]);

    // Without an offset 01:30 is the first occurrence, as before: the two pins clash.
    let clash = validate(week("2026-11-01T01:30", "2026-11-01T01:30-04:00")).unwrap_err();
    assert_eq!(clash.issues[0].code, "E030", "{clash:?}");
    let schedule = solved_and_checked(week("2026-11-01T01:30", "2026-11-01T01:30-05:00"), 20);
    assert_eq!(
        schedule.placed[placed(&schedule, "r0")].start.to_rfc3339(),
        "2026-11-01T01:30:00-04:00"
    );

    let refused = validate(week("2026-11-01T01:30-04:00", "2026-11-01T01:30-03:00")).unwrap_err();
    let found: Vec<_> = refused
        .issues
        .iter()
        .map(|i| (i.code.as_str(), i.path.as_str()))
        .collect();
    assert_eq!(found, [("E022", "requests[1].existing.start")]);
    let message = &refused.issues[0].message;
    for part in ["'r1'", "-03:00", "-04:00", "-05:00"] {
        assert!(message.contains(part), "{part} in {message}");
    }
}

/// A pin whose offset is not New York's at that local time is refused (E022), the same on
/// a local time the clocks skip (02:00-03:00 on 2026-03-08) whatever the offset; the
/// zone's offset there is accepted and pins the request at that instant.
#[test]
fn a_pin_whose_offset_is_not_the_zones_is_refused() {
    let week = |date: &str, start: &str| {
        let text = one_lab_sunday(
            "America/New_York",
            date,
            30,
            ("00:00", "12:00"),
            30,
            &format!(r#", "existing": {{"provider": "d1", "start": "{start}", "pinned": true}}"#),
        );
        careweek::parse_input(&text).unwrap()
    };
    for (date, start, zone) in [
        ("2026-03-01", "2026-03-01T10:00-04:00", "is at -05:00"),
        ("2026-03-01", "2026-03-01T10:00Z", "is at -05:00"),
        ("2026-03-08", "2026-03-08T03:00-05:00", "is at -04:00"),
        (
            "2026-03-08",
            "2026-03-08T02:30-05:00",
            "from -05:00 to -04:00",
        ),
        (
            "2026-03-08",
            "2026-03-08T02:00-04:00",
            "from -05:00 to -04:00",
        ),
    ] {
        let refused = validate(week(date, start)).unwrap_err();
        let found: Vec<_> = refused
            .issues
            .iter()
            .map(|i| (i.code.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(found, [("E022", "requests[0].existing.start")], "{start}");
        let message = &refused.issues[0].message;
        assert!(
            message.contains("'r0'") && message.contains(zone),
            "{start}: {message}"
        );
    }
    for (date, start) in [
        ("2026-03-01", "2026-03-01T10:00:00-05:00"),
        ("2026-03-08", "2026-03-08T03:00:00-04:00"),
        ("2026-03-08", "2026-03-08T01:30:00-05:00"),
    ] {
        let schedule = solved_and_checked(week(date, start), 20);
        assert_eq!(schedule.placed[0].start.to_rfc3339(), start);
    }
}

/// A clinic in a zone half an hour off the week's (Kolkata against London): its hours hold
/// no start on the week's 60-minute grid, and the reason says so (not "outside the
/// patient's blocks", which the patient does not have).
#[test]
fn hours_between_the_grids_lines_are_named_in_the_reason() {
    let text = r#"{"version": 1,
        "week": {"start": "2026-07-20", "days": 1, "grid_min": 60, "timezone": "Europe/London"},
        "sites": [{"id": "s0", "timezone": "Asia/Kolkata"}],
        "providers": [{"id": "d0", "specialty": "lab", "site": "s0",
                       "hours": {"mon": [["14:00", "15:00"]]}}],
        "patients": [{"id": "p0"}],
        "requests": [{"id": "lab", "patient": "p0", "specialty": "lab", "duration_min": 60}]}"#;
    let schedule = solved_and_checked(careweek::parse_input(text).unwrap(), 5);
    let unplaced = &schedule.unplaced[0];
    assert_eq!(unplaced.code, UnplacedCode::NoProviderHours);
    assert!(
        unplaced
            .reason
            .contains("holds no start on the week's 60-minute grid")
            && unplaced.reason.contains("Europe/London"),
        "{}",
        unplaced.reason
    );
}

/// A request of a units case: (provider, patient, pinned at an hour, the unit it names,
/// the request it must follow).
type UnitRequest = (usize, usize, Option<u32>, Option<usize>, Option<usize>);

/// A caseload of one morning (08:00-11:00, 60-minute grid) where every request needs an
/// MRI: providers at two sites, MRIs at a site or at none, pins that name a unit or leave
/// it open.
fn units_case(
    provider_sites: &[usize],
    unit_sites: &[Option<usize>],
    requests: &[UnitRequest],
) -> Input {
    let n = requests.len();
    let providers: Vec<serde_json::Value> = provider_sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::json!({"id": format!("d{i}"), "specialty": "img", "site": format!("s{s}"),
                "hours": {"mon": [["08:00", "11:00"]]}})
        })
        .collect();
    let units: Vec<serde_json::Value> = unit_sites
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Some(s) => {
                serde_json::json!({"id": format!("m{i}"), "kind": "mri", "site": format!("s{s}")})
            }
            None => serde_json::json!({"id": format!("m{i}"), "kind": "mri"}),
        })
        .collect();
    let mut links = Vec::new();
    let reqs: Vec<serde_json::Value> = requests
        .iter()
        .enumerate()
        .map(|(i, &(p, q, at, unit, after))| {
            let p = p % provider_sites.len();
            let mut req = serde_json::json!({"id": format!("r{i}"), "patient": format!("p{q}"),
                "providers": [format!("d{p}")], "duration_min": 60, "resources": ["mri"]});
            if let Some(h) = at {
                let mut existing = serde_json::json!({"provider": format!("d{p}"),
                    "start": format!("2026-06-08T{:02}:00", 8 + h), "pinned": true});
                if let Some(u) = unit {
                    existing["resources"] =
                        serde_json::json!([format!("m{}", u % unit_sites.len())]);
                }
                req["existing"] = existing;
            }
            // Links only from a lower index: no cycle.
            if let Some(b) = after.map(|b| b % n).filter(|&b| b < i) {
                links.push(serde_json::json!({"kind": "precedence",
                    "before": format!("r{b}"), "after": format!("r{i}")}));
            }
            req
        })
        .collect();
    let text = serde_json::json!({
        "version": 1,
        "week": {"start": "2026-06-08", "days": 1, "grid_min": 60, "timezone": "UTC"},
        "sites": [{"id": "s0"}, {"id": "s1"}],
        "travel": [{"from": "s0", "to": "s1", "minutes": 0}],
        "providers": providers,
        "resources": units,
        "patients": [{"id": "p0"}, {"id": "p1"}, {"id": "p2"}],
        "requests": reqs,
        "links": links,
    });
    careweek::parse_input(&text.to_string()).expect("a units case parses")
}

/// Every booking of each request of a units case: at each hour of its provider's morning
/// with each MRI, or left out; a pin at its hour, with the unit it names or any.
fn every_booking_with_units(input: &Input) -> Vec<Vec<Option<Placed>>> {
    let at = |h: u32| {
        Utc.with_ymd_and_hms(2026, 6, 8, h, 0, 0)
            .unwrap()
            .fixed_offset()
    };
    input
        .requests
        .iter()
        .map(|req| {
            let provider = &req.providers[0];
            let site = input
                .providers
                .iter()
                .find(|p| &p.id == provider)
                .map(|p| p.site.clone());
            let pin = req.existing.as_ref();
            let mut out = vec![None];
            for h in 8..11 {
                if pin.is_some_and(|e| e.start.naive().hour() != h) {
                    continue;
                }
                for unit in &input.resources {
                    if pin
                        .is_some_and(|e| !e.resources.is_empty() && !e.resources.contains(&unit.id))
                    {
                        continue;
                    }
                    out.push(Some(Placed {
                        request: req.id.clone(),
                        patient: req.patient.clone(),
                        provider: provider.clone(),
                        resources: vec![unit.id.clone()],
                        site: site.clone(),
                        start: at(h),
                        end: at(h + 1),
                        modality: Modality::InPerson,
                    }));
                }
            }
            out
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Pins that name no MRI (and so may take any that fits), beside pins that name one and
    /// requests pins need: refused exactly when no choice of units keeps them all.
    #[test]
    fn pins_that_name_no_unit_are_refused_exactly_when_no_units_keep_them(
        provider_sites in prop::collection::vec(0usize..2, 1..=3),
        unit_sites in prop::collection::vec(prop::option::of(0usize..2), 1..=3),
        requests in prop::collection::vec(
            (0usize..3, 0usize..3, prop::option::weighted(0.7, 0u32..3),
             prop::option::weighted(0.3, 0usize..3), prop::option::weighted(0.3, 0usize..4)),
            2..=4,
        ),
        seed in 0u64..1000,
    ) {
        let input = units_case(&provider_sites, &unit_sites, &requests);
        prop_assume!(input.requests.iter().any(|r| r.existing.is_some()));
        let feasible = brute_force_over(&input, &every_booking_with_units(&input)) < i64::MAX;
        match validate(input.clone()) {
            Err(report) => {
                let refused = report.issues.iter().any(|i| i.code == "E030");
                prop_assert!(!refused || !feasible, "a schedule keeps the pins: {:#?}", report.issues);
                prop_assert!(refused || feasible, "other issues: {:#?}", report.issues);
            }
            Ok(problem) => {
                prop_assert!(feasible, "no schedule keeps the pins, yet validation passed");
                let schedule = solve(&problem, &options(seed, 1));
                assert_valid(&input, &schedule);
            }
        }
    }
}

/// Two providers booked every 5 minutes of a week by pins that name no MRI (3,456 pins,
/// two MRIs), and a third provider's pin at the last slot: the last cannot be kept, and
/// the search over units, confined to the pins tied to it, says so. (Searched over every
/// pin in time order, it backtracked through the week's first pins, gave up, and the
/// solve exited 1 with the last pin left out.)
#[test]
fn a_clash_of_units_at_the_end_of_a_fully_pinned_week_is_refused() {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat"];
    let hours: serde_json::Map<String, serde_json::Value> = days
        .iter()
        .map(|d| (d.to_string(), serde_json::json!([["00:00", "24:00"]])))
        .collect();
    let providers: Vec<serde_json::Value> = (0..3)
        .map(|i| serde_json::json!({"id": format!("d{i}"), "specialty": "img", "site": "s0", "hours": hours}))
        .collect();
    let (mut patients, mut requests) = (Vec::new(), Vec::new());
    let mut pin = |provider: usize, day: usize, minute: usize| {
        let n = requests.len();
        patients.push(serde_json::json!({"id": format!("p{n}")}));
        requests.push(
            serde_json::json!({"id": format!("r{n}"), "patient": format!("p{n}"),
            "providers": [format!("d{provider}")], "duration_min": 5, "resources": ["mri"],
            "existing": {"provider": format!("d{provider}"), "pinned": true,
                "start": format!("2026-06-{:02}T{:02}:{:02}", 8 + day, minute / 60, minute % 60)}}),
        );
    };
    for day in 0..6 {
        for minute in (0..24 * 60).step_by(5) {
            pin(0, day, minute);
            pin(1, day, minute);
        }
    }
    pin(2, 5, 23 * 60 + 55);
    let text = serde_json::json!({
        "version": 1,
        "week": {"start": "2026-06-08", "days": 6, "grid_min": 5, "timezone": "UTC"},
        "sites": [{"id": "s0"}],
        "providers": providers,
        "resources": [{"id": "m0", "kind": "mri"}, {"id": "m1", "kind": "mri"}],
        "patients": patients,
        "requests": requests,
    });
    let input = careweek::parse_input(&text.to_string()).unwrap();
    let report = validate(input).expect_err("the last pin cannot be kept");
    let refused: Vec<&str> = report
        .issues
        .iter()
        .filter(|i| i.code == "E030")
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(refused, ["requests[3456].existing"], "{:#?}", report.issues);
}

/// Three pins at 08:00 that name no MRI, two MRIs: the refusal names every MRI the last
/// could use and the pin holding each.
#[test]
fn a_refusal_for_want_of_units_names_each_unit_and_its_holder() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad_input/pinned-bookings-want-more-units.json");
    let input = careweek::parse_input(&std::fs::read_to_string(path).unwrap()).unwrap();
    let report = validate(input).expect_err("three pins, two MRIs");
    let e030: Vec<&str> = report
        .issues
        .iter()
        .filter(|i| i.code == "E030")
        .map(|i| i.message.as_str())
        .collect();
    assert_eq!(e030.len(), 1, "{e030:#?}");
    assert!(
        e030[0].contains("every one it could use is held by a pinned booking at overlapping times: 'm0' by 'a' and 'm1' by 'b'"),
        "{}",
        e030[0]
    );
}
