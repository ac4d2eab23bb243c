//! Per-request domains: every feasible (provider, resources, day, start) option after all
//! unary rules, and, when none is left, the rule that emptied it.

use rayon::prelude::*;

use crate::model::Modality;
use crate::problem::{Interval, Problem};
use crate::schedule::UnplacedCode;

use super::explain;
use super::state::{bitmap_span, set_minutes, DayMinutes, MINUTE_WORDS};

/// One way to book a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// Provider index.
    pub provider: u32,
    /// Day index.
    pub day: u16,
    /// Site index for in-person, `None` for telehealth.
    pub site: Option<u16>,
    /// Absolute start minute.
    pub start: i32,
    /// Absolute end minute.
    pub end: i32,
    /// Resource indices booked with it (requested kinds, then an interpreter if needed):
    /// a boxed slice, 8 bytes less than a vector, as there are millions of options.
    pub resources: Box<[u32]>,
    /// Soft cost of this option alone: part of day, provider, preferred day, moved booking.
    pub cost: i64,
}

impl Opt {
    /// The occupied interval.
    pub fn interval(&self) -> Interval {
        Interval::new(self.start, self.end)
    }

    /// Whether the patient travels for it.
    pub fn in_person(&self) -> bool {
        self.site.is_some()
    }
}

/// Options of every request, with the reason of every empty domain.
#[derive(Debug, Clone, Default)]
pub struct Domains {
    /// `opts[r]`, sorted by (day, start, provider, resources).
    pub opts: Vec<Vec<Opt>>,
    /// Why `opts[r]` is empty.
    pub empty: Vec<Option<(UnplacedCode, String)>>,
    /// `slots[r][oi]`: where `opts[r][oi]` sits on its provider's calendar, packed for the
    /// candidate scans (see [`Slot`]).
    pub slots: Vec<Vec<Slot>>,
    /// Bookings allowed per provider-day, indexed as [`Slot::provider_day`] (`u32::MAX`:
    /// no cap).
    pub provider_day_cap: Vec<u32>,
    /// `by_provider_day[r]`: `r`'s option indices ordered by (provider-day, index), so that
    /// a candidate scan can pass over a provider-day with no room for `r` at once (see
    /// [`ProviderDayRun`]). At 3,000 generated patients, where a request has some 1,900
    /// options on providers booked to 94 %, testing each option was half the search's time.
    pub by_provider_day: Vec<Vec<u32>>,
    /// `runs[r]`: where each provider-day's options end in `by_provider_day[r]`.
    pub runs: Vec<Vec<ProviderDayRun>>,
    /// Per provider-day, indexed as [`Slot::provider_day`]: the minutes some option of some
    /// request may occupy, a bit per minute from the day's local midnight. Only free
    /// minutes among these can hold a booking.
    pub open_minutes: Vec<DayMinutes>,
    /// Per provider-day: some option's minutes lie outside the bitmaps, so that free runs
    /// measured on them prove nothing there.
    pub unmapped: Vec<bool>,
    /// `thinned[r]`: `r` is offered only some of its provider-days (see
    /// [`Domains::build_within`]), so a bound over these options bounds only them.
    pub thinned: Vec<bool>,
}

/// The options of one request on one provider-day, as the end of their stretch of
/// [`Domains::by_provider_day`], with the fewest minutes any of them books: when the
/// provider-day has no free run as long, none of them fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderDayRun {
    /// `provider * days + day`.
    pub provider_day: u32,
    /// End (exclusive) of the stretch in `by_provider_day[r]`; it starts where the
    /// previous run ends.
    pub end: u32,
    /// Fewest minutes an option of the stretch books.
    pub minutes: u16,
    /// Least [`Opt::cost`] of the stretch's in-person options (`i32::MAX` when none), and
    /// of its telehealth options: with the patient's day, a floor under what any of them
    /// adds to the objective, so a search for the cheapest option can pass the stretch by.
    pub least_cost: [i32; 2],
}

impl ProviderDayRun {
    /// [`ProviderDayRun::least_cost`]'s index for in-person options.
    pub const IN_PERSON: usize = 0;
    /// [`ProviderDayRun::least_cost`]'s index for telehealth options.
    pub const TELEHEALTH: usize = 1;
}

/// An option's provider-day and minutes of that day, in eight bytes: the candidate scans
/// test every option of a request against the provider's booked minutes, and reading the
/// whole [`Opt`] (then 56 bytes) for it made them wait on memory (a quarter of the search's time at
/// 1,000 patients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// `provider * days + day`.
    pub provider_day: u32,
    /// First minute from the day's local midnight.
    pub lo: u16,
    /// Minute after the last; [`Slot::SLOW`] when the option books resources or its minutes
    /// do not fit the calendar's bitmap: then the full test applies.
    pub hi: u16,
}

impl Slot {
    /// `hi` of a slot whose option needs the full test.
    pub const SLOW: u16 = u16::MAX;

    /// The slot of option `o`.
    pub fn of(problem: &Problem, o: &Opt) -> Slot {
        let provider_day = o.provider * problem.days.len() as u32 + u32::from(o.day);
        let span =
            bitmap_span(problem, o.day as usize, o.start, o.end).filter(|_| o.resources.is_empty());
        match span {
            Some((lo, hi)) => Slot {
                provider_day,
                lo: lo as u16,
                hi: hi as u16,
            },
            None => Slot {
                provider_day,
                lo: 0,
                hi: Slot::SLOW,
            },
        }
    }
}

/// A request's option indices grouped by provider-day, and the runs that delimit them.
fn provider_day_runs(problem: &Problem, opts: &[Opt]) -> (Vec<u32>, Vec<ProviderDayRun>) {
    let days = problem.days.len() as u32;
    let provider_day = |o: &Opt| o.provider * days + u32::from(o.day);
    let mut order: Vec<u32> = (0..opts.len() as u32).collect();
    order.sort_by_key(|&oi| (provider_day(&opts[oi as usize]), oi));
    let mut runs: Vec<ProviderDayRun> = Vec::new();
    for (k, &oi) in order.iter().enumerate() {
        let o = &opts[oi as usize];
        let pd = provider_day(o);
        let minutes = (o.end - o.start).clamp(0, i32::from(u16::MAX)) as u16;
        let kind = if o.in_person() {
            ProviderDayRun::IN_PERSON
        } else {
            ProviderDayRun::TELEHEALTH
        };
        let cost = o.cost.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        match runs.last_mut() {
            Some(run) if run.provider_day == pd => {
                run.end = k as u32 + 1;
                run.minutes = run.minutes.min(minutes);
                run.least_cost[kind] = run.least_cost[kind].min(cost);
            }
            _ => {
                let mut least_cost = [i32::MAX; 2];
                least_cost[kind] = cost;
                runs.push(ProviderDayRun {
                    provider_day: pd,
                    end: k as u32 + 1,
                    minutes,
                    least_cost,
                });
            }
        }
    }
    (order, runs)
}

impl Domains {
    /// The latest absolute start among `r`'s options (options are sorted by start).
    pub fn latest_start(&self, r: usize) -> Option<i32> {
        self.opts[r].last().map(|o| o.start)
    }

    /// Builds every domain, in parallel over requests.
    pub fn build(problem: &Problem) -> Domains {
        Self::build_within(problem, usize::MAX)
    }

    /// Builds every domain, offering about `most_starts` starts in all at most: past that,
    /// the requests with the most starts are offered only some of their provider-days,
    /// drawn over their providers and days, down to [`MIN_STARTS`] a request (never what
    /// pins need, nor the provider an existing booking holds). Each request is offered
    /// about [`MAX_STARTS`] at most in any case.
    pub fn build_within(problem: &Problem, most_starts: usize) -> Domains {
        let n = problem.requests.len();
        let counts: Vec<usize> = (0..n)
            .into_par_iter()
            .map(|r| start_count(problem, r, &candidates(problem, r)))
            .collect();
        let cap = starts_cap(problem, &counts, most_starts);
        let (found, thinned): (Vec<Found>, Vec<bool>) = (0..n)
            .into_par_iter()
            .map(|r| {
                let (found, thinned) = request_domain_within(problem, r, cap);
                // Thinning must never decide that a request cannot be placed (the kept
                // starts may all fall in a patient's blocks): then it is offered all.
                match found {
                    Ok(opts) if !opts.is_empty() => (Ok(opts), thinned),
                    _ if thinned => request_domain_within(problem, r, usize::MAX),
                    found => (found, false),
                }
            })
            .unzip();
        let (opts, empty) = found
            .into_iter()
            .map(|found| match found {
                Ok(opts) if !opts.is_empty() => (opts, None),
                Ok(_) => (
                    Vec::new(),
                    Some((
                        UnplacedCode::Capacity,
                        "no option left after the pinned booking".into(),
                    )),
                ),
                Err(reason) => (Vec::new(), Some(reason)),
            })
            .unzip();
        let mut domains = Domains::new(problem, opts, empty);
        domains.thinned = thinned;
        domains.propagate_links(problem);
        domains
    }

    /// Whether some request of `comp` is offered only part of its starts.
    pub fn any_thinned(&self, comp: &[usize]) -> bool {
        comp.iter().any(|&r| self.thinned[r])
    }

    /// Domains of the given options (and reasons for the empty ones), with their slots.
    pub fn new(
        problem: &Problem,
        opts: Vec<Vec<Opt>>,
        empty: Vec<Option<(UnplacedCode, String)>>,
    ) -> Domains {
        let slots = opts
            .par_iter()
            .map(|os| os.iter().map(|o| Slot::of(problem, o)).collect())
            .collect();
        let provider_day_cap = problem
            .providers
            .iter()
            .flat_map(|p| {
                std::iter::repeat_n(p.max_per_day.unwrap_or(u32::MAX), problem.days.len())
            })
            .collect();
        let days = problem.days.len();
        let provider_days = problem.providers.len() * days;
        let mut open_minutes = vec![[0u64; MINUTE_WORDS]; provider_days];
        let mut unmapped = vec![false; provider_days];
        for os in &opts {
            for o in os {
                let pd = o.provider as usize * days + o.day as usize;
                match bitmap_span(problem, o.day as usize, o.start, o.end) {
                    Some((lo, hi)) => set_minutes(&mut open_minutes[pd], lo, hi, true),
                    None => unmapped[pd] = true,
                }
            }
        }
        let (by_provider_day, runs) = opts
            .par_iter()
            .map(|os| provider_day_runs(problem, os))
            .unzip();
        Domains {
            opts,
            empty,
            slots,
            provider_day_cap,
            by_provider_day,
            runs,
            open_minutes,
            unmapped,
            thinned: vec![false; problem.requests.len()],
        }
    }

    /// Empties the domain of every request that can never be placed because a request it
    /// depends on cannot: the `after` of an impossible `before`, and every member of a
    /// same-day bundle with an impossible member. Runs to a fixpoint.
    fn propagate_links(&mut self, problem: &Problem) {
        loop {
            let mut changed = false;
            for p in &problem.precedences {
                if self.opts[p.before].is_empty() && !self.opts[p.after].is_empty() {
                    self.kill(problem, p.after, p.before, "after");
                    changed = true;
                }
            }
            for group in &problem.same_day {
                if let Some(&dead) = group.iter().find(|&&m| self.opts[m].is_empty()) {
                    for &m in group {
                        if !self.opts[m].is_empty() {
                            self.kill(problem, m, dead, "on the same day as");
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn kill(&mut self, problem: &Problem, r: usize, cause: usize, relation: &str) {
        let why = self.empty[cause]
            .as_ref()
            .map(|(_, reason)| reason.as_str());
        let reason = explain::link_never(problem, r, cause, relation, why);
        self.opts[r].clear();
        self.slots[r].clear();
        self.by_provider_day[r].clear();
        self.runs[r].clear();
        self.thinned[r] = false;
        self.empty[r] = Some((UnplacedCode::Link, reason));
    }

    /// Total number of options.
    pub fn size(&self) -> usize {
        self.opts.iter().map(Vec::len).sum()
    }
}

/// Which unary rule a candidate failed, in the order they are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    ProviderHours,
    PatientAvailable,
    /// A window long enough, but no start in it on the grid.
    OffGrid,
    PatientBlocks,
    Resources,
    Done,
}

/// A request's options, or why it has none.
type Found = Result<Vec<Opt>, (UnplacedCode, String)>;

/// `r`'s options, each request offered about [`MAX_STARTS`] starts at most (what pins
/// need: all).
pub(super) fn request_domain(
    problem: &Problem,
    r: usize,
) -> Result<Vec<Opt>, (UnplacedCode, String)> {
    request_domain_within(problem, r, MAX_STARTS).0
}

/// `r`'s options from whole provider-days holding about `most` starts in all (all of them
/// for what pins need), and whether some provider-day was left out.
fn request_domain_within(problem: &Problem, r: usize, most: usize) -> (Found, bool) {
    let candidates = candidates(problem, r);
    let kept = if problem.required[r] {
        None
    } else {
        kept_provider_days(problem, r, &candidates, most)
    };
    let thinned = kept.is_some();
    (
        options_of(problem, r, &candidates, kept.as_deref()),
        thinned,
    )
}

/// The (provider, modality) pairs `r` may be booked with: eligible, insured, telehealth
/// where both sides take it, and only the pin's own when it is pinned.
fn candidates(problem: &Problem, r: usize) -> Vec<(usize, Modality)> {
    let req = &problem.requests[r];
    let raw_patient = &problem.input.patients[req.patient];
    let modes: &[Modality] = match req.modality {
        Modality::InPerson => &[Modality::InPerson],
        Modality::Telehealth => &[Modality::Telehealth],
        Modality::Either => &[Modality::InPerson, Modality::Telehealth],
    };
    let mut candidates: Vec<(usize, Modality)> = Vec::new();
    for &p in &req.eligible {
        let prov = &problem.input.providers[p];
        let insured = match (&raw_patient.insurance, &prov.insurance) {
            (Some(plan), Some(accepted)) => accepted.iter().any(|a| a == plan),
            _ => true,
        };
        if !insured {
            continue;
        }
        for &mode in modes {
            let ok = match mode {
                Modality::Telehealth => prov.telehealth && raw_patient.telehealth,
                _ => true,
            };
            if ok {
                candidates.push((p, mode));
            }
        }
    }
    if let Some(e) = req.existing.as_ref().filter(|e| e.pinned) {
        candidates.retain(|&(p, m)| p == e.provider && m == e.modality);
    }
    candidates
}

/// `r`'s options with `candidates`, on the provider-days `kept` marks (indexed as
/// [`provider_day_starts`]; all when `None`).
fn options_of(
    problem: &Problem,
    r: usize,
    candidates: &[(usize, Modality)],
    kept: Option<&[bool]>,
) -> Result<Vec<Opt>, (UnplacedCode, String)> {
    let req = &problem.requests[r];
    let patient = &problem.patients[req.patient];
    let pinned = req.existing.as_ref().filter(|e| e.pinned);
    // A request pins need is offered every unit that fits (the pins may hold the first
    // ones), so that validation's exact test of what pins need is exact; others two of
    // each kind a slot (see `push_with_resources`).
    let units_per_kind = if problem.required[r] {
        usize::MAX
    } else {
        UNITS_PER_KIND
    };
    // The units an existing booking holds are offered first, so that it can be kept.
    let booked: Vec<u32> = req
        .existing
        .iter()
        .flat_map(|e| e.resources.iter().map(|&u| u as u32))
        .collect();

    if candidates.is_empty() {
        return Err((
            UnplacedCode::NoEligibleProvider,
            explain::no_eligible_provider(problem, r),
        ));
    }

    let dur = req.duration;
    let mut furthest = Stage::ProviderHours;
    let mut missing_kind: Option<String> = None;
    let mut out = Vec::new();
    let day_hi = req.day_hi.min(problem.days.len().saturating_sub(1));
    let span = (req.day_lo..=day_hi).count();
    for (ci, &(p, mode)) in candidates.iter().enumerate() {
        let prov = &problem.providers[p];
        let site = (mode == Modality::InPerson).then_some(prov.site);
        let kinds = needed_kinds(problem, r, p);
        for day in req.day_lo..=day_hi {
            if kept.is_some_and(|k| !k[ci * span + day - req.day_lo]) {
                continue;
            }
            for piece in &prov.free[day] {
                if piece.end - piece.start < dur {
                    continue;
                }
                furthest = furthest.max(Stage::PatientAvailable);
                for avail in &patient.available[day] {
                    let lo = piece.start.max(avail.start);
                    let hi = piece.end.min(avail.end);
                    if hi - lo < dur {
                        continue;
                    }
                    // Starts on the wall clock's grid (as validation and the checker
                    // read it): past a clock change in the night, the day's minutes are
                    // shifted by the change.
                    let first = problem.next_on_grid(day, lo);
                    furthest = furthest.max(if first + dur <= hi {
                        Stage::PatientBlocks
                    } else {
                        Stage::OffGrid
                    });
                    let mut t = first;
                    while t + dur <= hi {
                        let slot = Interval::new(t, t + dur);
                        let blocked = patient.blocks.iter().any(|b| {
                            slot.overlaps(&Interval::new(b.interval.start, b.recovery_end))
                        });
                        if !blocked {
                            furthest = furthest.max(Stage::Resources);
                            let before = out.len();
                            push_with_resources(
                                problem,
                                p,
                                day,
                                site,
                                slot,
                                &kinds,
                                &booked,
                                units_per_kind,
                                &mut out,
                            );
                            if out.len() > before {
                                furthest = Stage::Done;
                            } else if missing_kind.is_none() {
                                missing_kind = kinds
                                    .iter()
                                    .find(|k| k.units.is_empty())
                                    .map(|k| k.name.clone());
                                if missing_kind.is_none() {
                                    missing_kind = kinds.first().map(|k| k.name.clone());
                                }
                            }
                        }
                        t = problem.next_on_grid(day, t + 1);
                    }
                }
            }
        }
    }
    // A pin keeps its provider, start and the units it names; units it does not name are
    // left open (one option per combination that fits), for validation and the solver
    // to choose where two such pins want the same unit.
    if let Some(e) = pinned {
        out.retain(|o| {
            o.start == e.start
                && e.resources
                    .iter()
                    .all(|&x| o.resources.contains(&(x as u32)))
        });
    }
    if out.is_empty() {
        let reason = match furthest {
            Stage::ProviderHours => (
                UnplacedCode::NoProviderHours,
                explain::no_provider_hours(problem, r),
            ),
            Stage::PatientAvailable => (
                UnplacedCode::PatientUnavailable,
                explain::patient_unavailable(problem, r),
            ),
            Stage::OffGrid => (UnplacedCode::NoProviderHours, explain::off_grid(problem, r)),
            Stage::PatientBlocks => (
                UnplacedCode::PatientBlocked,
                explain::patient_blocked(problem, r),
            ),
            Stage::Resources => (
                UnplacedCode::NoResource,
                explain::no_resource(problem, r, missing_kind.as_deref().unwrap_or("resource")),
            ),
            Stage::Done => (UnplacedCode::Capacity, explain::pinned_conflict(problem, r)),
        };
        return Err(reason);
    }
    for o in &mut out {
        o.cost = option_cost(problem, r, o);
    }
    out.sort_by(|a, b| {
        (a.day, a.start, a.provider, &a.resources, a.site).cmp(&(
            b.day,
            b.start,
            b.provider,
            &b.resources,
            b.site,
        ))
    });
    // Pushed one by one, the vector holds up to twice the options it keeps: millions of
    // them stay for the whole solve.
    out.shrink_to_fit();
    Ok(out)
}

/// A resource kind a request needs with a given provider, and the units that could serve.
struct Kind {
    name: String,
    units: Vec<usize>,
}

fn needed_kinds(problem: &Problem, r: usize, p: usize) -> Vec<Kind> {
    let req = &problem.requests[r];
    let mut kinds: Vec<Kind> = req
        .resource_kinds
        .iter()
        .map(|k| Kind {
            name: k.clone(),
            units: (0..problem.resources.len())
                .filter(|&u| &problem.resources[u].kind == k)
                .collect(),
        })
        .collect();
    if let Some(lang) = &req.language {
        let speaks = problem.input.providers[p]
            .languages
            .iter()
            .any(|l| l.eq_ignore_ascii_case(lang));
        if !speaks {
            kinds.push(Kind {
                name: format!("{lang} interpreter"),
                units: (0..problem.resources.len())
                    .filter(|&u| {
                        let res = &problem.resources[u];
                        res.kind == "interpreter"
                            && res
                                .language
                                .as_deref()
                                .is_some_and(|l| l.eq_ignore_ascii_case(lang))
                    })
                    .collect(),
            });
        }
    }
    kinds
}

/// Units of each resource kind offered at a slot (see [`push_with_resources`]).
const UNITS_PER_KIND: usize = 2;

/// About the most starts a request is offered (before units are combined with them): past
/// that it is offered only some of its provider-days (see [`Domains::build_within`]). A
/// caseload where every request may go to any of 600 providers open all week on a
/// 5-minute grid built 500,000 options a request, 13 GB and 150 s at `--time-limit 1`;
/// the densest benchmark caseloads offer some 5,000 starts a request, none of which this
/// thins.
pub const MAX_STARTS: usize = 20_000;

/// Fewest starts a request is thinned to when the caseload's starts are past the budget
/// of [`Domains::build_within`]: a search needs a choice of days and hours.
pub const MIN_STARTS: usize = 64;

/// Starts the build of every domain may offer per second of the time limit (and of
/// [`BUILD_SLACK_SECONDS`]) and per core (see [`Domains::build_within`]). Building the
/// options and the first schedule over them took 2.8 s at `--time-limit 1` on two cores
/// for `careweek generate --patients 3000` (14.4 million options) and 12.3 s at
/// `--time-limit 10` on its 5-minute grid (41.5 million); at this rate they end within
/// 0.45 s of their limits from 1 s on, on one core or two.
pub const STARTS_PER_SECOND_PER_CORE: f64 = 1.2e6;

/// Seconds of the one past the time limit that a run may take which the options' build
/// may use too (see [`STARTS_PER_SECOND_PER_CORE`]): a caseload of a couple of million
/// options (refbench's 3,000 patients on the 5-minute grid, 2.6 million, built in 0.4 s)
/// is then not thinned at `--time-limit 1`, nor any small one at any limit.
pub const BUILD_SLACK_SECONDS: f64 = 0.5;

/// The most starts a request may be offered so that all requests together offer at most
/// `most` (when it can: never under [`MIN_STARTS`] a request), the requests with the most
/// starts given up first; at most [`MAX_STARTS`]. `counts[r]`: `r`'s starts. What pins
/// need is never thinned, so it counts in full.
fn starts_cap(problem: &Problem, counts: &[usize], most: usize) -> usize {
    let (mut fixed, mut free) = (0usize, Vec::new());
    for (r, &c) in counts.iter().enumerate() {
        if problem.required[r] {
            fixed += c;
        } else {
            free.push(c);
        }
    }
    if fixed.saturating_add(free.iter().sum::<usize>()) <= most {
        return MAX_STARTS;
    }
    free.sort_unstable();
    let budget = most.saturating_sub(fixed);
    let mut used = 0usize;
    let mut cap = free.last().copied().unwrap_or(MAX_STARTS);
    for (i, &c) in free.iter().enumerate() {
        let rest = free.len() - i;
        if used + c * rest > budget {
            cap = (budget - used) / rest;
            break;
        }
        used += c;
    }
    cap.clamp(MIN_STARTS, MAX_STARTS)
}

/// The starts request `r` would be offered with `candidates` (provider, modality) before
/// patient blocks and units, per candidate and day (`ci * days + day - day_lo`, over its
/// days), counted a day's free stretch at a time.
fn provider_day_starts(
    problem: &Problem,
    r: usize,
    candidates: &[(usize, Modality)],
) -> Vec<usize> {
    let req = &problem.requests[r];
    let patient = &problem.patients[req.patient];
    let day_hi = req.day_hi.min(problem.days.len().saturating_sub(1));
    let grid = problem.grid.max(1);
    let mut starts = Vec::with_capacity(candidates.len() * (req.day_lo..=day_hi).count());
    for &(p, _) in candidates {
        for day in req.day_lo..=day_hi {
            let mut count = 0;
            for piece in &problem.providers[p].free[day] {
                for avail in &patient.available[day] {
                    let room =
                        piece.end.min(avail.end) - piece.start.max(avail.start) - req.duration;
                    if room >= 0 {
                        count += (room / grid) as usize + 1;
                    }
                }
            }
            starts.push(count);
        }
    }
    starts
}

/// The starts request `r` would be offered (see [`provider_day_starts`]).
fn start_count(problem: &Problem, r: usize, candidates: &[(usize, Modality)]) -> usize {
    provider_day_starts(problem, r, candidates).iter().sum()
}

/// Which of `r`'s provider-days (indexed as [`provider_day_starts`]) to offer so that they
/// hold about `most` starts, or `None` for all. Whole provider-days, so that the requests
/// a day keeps can still pack it back to back (every k-th start instead left gaps between
/// bookings: 2,071 of 7,677 requests unplaced against 591 on `careweek generate
/// --patients 3000`). They are taken in an order drawn by a hash, so that they spread over
/// the providers and days and each provider-day keeps about as many requests as another;
/// the provider an existing booking holds keeps all its days.
fn kept_provider_days(
    problem: &Problem,
    r: usize,
    candidates: &[(usize, Modality)],
    most: usize,
) -> Option<Vec<bool>> {
    let starts = provider_day_starts(problem, r, candidates);
    if starts.iter().sum::<usize>() <= most {
        return None;
    }
    let span = starts.len() / candidates.len().max(1);
    let booked_with = problem.requests[r].existing.as_ref().map(|e| e.provider);
    let mut kept = vec![false; starts.len()];
    let mut taken = 0;
    let mut order = Vec::new();
    for (i, &n) in starts.iter().enumerate() {
        let (p, _) = candidates[i / span];
        if booked_with == Some(p) {
            kept[i] = true;
            taken += n;
        } else if n > 0 {
            order.push((draw(r, p, i), i));
        }
    }
    order.sort_unstable();
    for (_, i) in order {
        if taken >= most {
            break;
        }
        kept[i] = true;
        taken += starts[i];
    }
    Some(kept)
}

/// A pseudo-random number of request `r`, provider `p` and slot `i`: splitmix64's finaliser.
fn draw(r: usize, p: usize, i: usize) -> u64 {
    let mut h = (r as u64) << 40 ^ (p as u64) << 20 ^ i as u64;
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Appends one option per combination of free resource units (`units_per_kind` fitting
/// units of a kind only, turning with the slot, to keep domains compact: units of a kind
/// are interchangeable apart from their calendars).
#[allow(clippy::too_many_arguments)]
fn push_with_resources(
    problem: &Problem,
    p: usize,
    day: usize,
    site: Option<usize>,
    slot: Interval,
    kinds: &[Kind],
    booked: &[u32],
    units_per_kind: usize,
    out: &mut Vec<Opt>,
) {
    // Which fitting units come first turns with the provider, day and start, so that every
    // unit of a kind serves some options: with the same first two everywhere, a third MRI
    // or interpreter would never be booked.
    let turn = p + day + slot.start.div_euclid(problem.grid.max(1)).unsigned_abs() as usize;
    let mut per_kind: Vec<Vec<u32>> = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let fitting: Vec<u32> = kind
            .units
            .iter()
            .copied()
            .filter(|&u| {
                let res = &problem.resources[u];
                let site_ok = match (res.site, site) {
                    (None, _) => true,
                    (Some(rs), Some(s)) => rs == s,
                    (Some(_), None) => false,
                };
                site_ok && res.free[day].iter().any(|w| w.contains(&slot))
            })
            .map(|u| u as u32)
            .collect();
        let free: Vec<u32> = fitting
            .iter()
            .filter(|u| booked.contains(u))
            .chain(
                (0..fitting.len())
                    .map(|k| &fitting[(turn + k) % fitting.len()])
                    .filter(|u| !booked.contains(u)),
            )
            .take(units_per_kind)
            .copied()
            .collect();
        if free.is_empty() {
            return;
        }
        per_kind.push(free);
    }
    let mut combos: Vec<Vec<u32>> = vec![Vec::new()];
    for units in &per_kind {
        let mut next = Vec::new();
        for c in &combos {
            for &u in units {
                if !c.contains(&u) {
                    let mut n = c.clone();
                    n.push(u);
                    next.push(n);
                }
            }
        }
        combos = next;
    }
    for resources in combos {
        out.push(Opt {
            provider: p as u32,
            day: day as u16,
            site: site.map(|s| s as u16),
            start: slot.start,
            end: slot.end,
            resources: resources.into_boxed_slice(),
            cost: 0,
        });
    }
}

fn option_cost(problem: &Problem, r: usize, o: &Opt) -> i64 {
    let w = &problem.weights;
    let req = &problem.requests[r];
    let patient = &problem.patients[req.patient];
    let day = o.day as usize;
    let mut cost = 0;
    if let Some(pref) = patient.prefers {
        if problem.part_of_day(day, o.start) != pref {
            cost += w.part_of_day;
        }
    }
    if let Some(pp) = req.preferred_provider {
        if pp != o.provider as usize {
            cost += w.provider;
        }
    }
    if !patient.preferred_day[day] {
        cost += w.preferred_day;
    }
    if let Some(e) = &req.existing {
        if !e.pinned && !same_as_existing(req.existing.as_ref(), o) {
            cost += w.moved;
        }
    }
    cost
}

/// Whether an option reproduces the request's existing booking.
pub fn same_as_existing(existing: Option<&crate::problem::ExistingIx>, o: &Opt) -> bool {
    existing.is_some_and(|e| e.provider == o.provider as usize && e.start == o.start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::test_caseloads::{caseload, caseload_with, large_roster};

    /// Options are the bulk of the memory (3,000 generated patients: 14 million of them);
    /// 56 bytes each while resources were a vector, 1.47 GB peak there against 1.37 GB.
    #[test]
    fn an_option_takes_48_bytes() {
        assert!(
            std::mem::size_of::<Opt>() <= 48,
            "{}",
            std::mem::size_of::<Opt>()
        );
    }

    /// Three scanners alike: each of them is offered with some option (only two per
    /// option, to keep domains compact), so the third can be booked too.
    #[test]
    fn every_unit_of_a_kind_is_offered() {
        let problem = caseload_with(60, 2, 15, |input| {
            let mri = input
                .resources
                .iter()
                .find(|u| u.kind == "mri")
                .expect("generated caseloads have an MRI")
                .clone();
            input.resources.retain(|u| u.kind != "mri");
            for k in 1..=3 {
                let mut unit = mri.clone();
                unit.id = format!("mri-{k}");
                input.resources.push(unit);
            }
        });
        let domains = Domains::build(&problem);
        let offered: std::collections::BTreeSet<u32> = domains
            .opts
            .iter()
            .flatten()
            .flat_map(|o| o.resources.iter().copied())
            .filter(|&u| problem.resources[u as usize].kind == "mri")
            .collect();
        assert_eq!(offered.len(), 3, "MRI units offered: {offered:?}");
    }

    /// A thousand providers of each specialty on a 5-minute grid: each request is offered
    /// about `MAX_STARTS` starts, whole provider-days drawn over its providers and days
    /// (not the first ones), each kept provider-day with every start it had.
    #[test]
    fn starts_past_the_most_a_search_weighs_are_thinned_by_whole_provider_days() {
        use std::collections::{BTreeMap, BTreeSet};
        let problem = large_roster(6, 3, 5, 1000);
        let domains = Domains::build(&problem);
        let starts_by_day = |opts: &[Opt]| {
            let mut by_day: BTreeMap<(u32, u16), BTreeSet<i32>> = BTreeMap::new();
            for o in opts {
                by_day
                    .entry((o.provider, o.day))
                    .or_default()
                    .insert(o.start);
            }
            by_day
        };
        let mut thinned = 0;
        for (r, opts) in domains.opts.iter().enumerate() {
            let kept = starts_by_day(opts);
            let starts: usize = kept.values().map(BTreeSet::len).sum();
            // The draw keeps about one provider-day in k: within a few per cent.
            assert!(starts <= MAX_STARTS * 11 / 10, "request {r}: {starts}");
            if !domains.thinned[r] {
                continue;
            }
            thinned += 1;
            let all = starts_by_day(
                &request_domain_within(&problem, r, usize::MAX)
                    .0
                    .expect("options"),
            );
            for (key, kept_starts) in &kept {
                assert_eq!(kept_starts, &all[key], "request {r}, provider-day {key:?}");
            }
            // Spread over the roster and the week, not its first providers or days.
            let eligible = problem.requests[r].eligible.len();
            let providers: BTreeSet<u32> = kept.keys().map(|&(p, _)| p).collect();
            let days: BTreeSet<u16> = kept.keys().map(|&(_, d)| d).collect();
            let late = providers
                .iter()
                .filter(|&&p| problem.requests[r].eligible[eligible / 2..].contains(&(p as usize)))
                .count();
            assert!(
                late * 10 > providers.len() * 4 && late * 10 < providers.len() * 6,
                "request {r}: {late} of {} providers from the roster's second half",
                providers.len()
            );
            let open_days: BTreeSet<u16> = all.keys().map(|&(_, d)| d).collect();
            assert_eq!(days, open_days, "request {r}");
        }
        assert!(thinned > 0, "no request was thinned");
    }

    /// The cap shared by every request: the requests with the most starts give up first,
    /// and what pins need counts in full.
    #[test]
    fn the_starts_cap_is_filled_from_the_requests_with_fewest_starts() {
        let mut problem = caseload(4, 1, 15);
        let n = problem.requests.len();
        assert!(n >= 4, "{n} requests");
        problem.required = vec![false; n];
        let mut counts = vec![100; n];
        counts[0] = 10_000;
        counts[1] = 5_000;
        let others = 100 * (n - 2);
        // Room for all: no cap below the one a request always has.
        assert_eq!(starts_cap(&problem, &counts, usize::MAX), MAX_STARTS);
        assert_eq!(starts_cap(&problem, &counts, 15_000 + others), MAX_STARTS);
        // 2,000 short: the largest alone gives them up.
        assert_eq!(starts_cap(&problem, &counts, 13_000 + others), 8_000);
        // 6,000 short: the two largest share what is left.
        assert_eq!(starts_cap(&problem, &counts, 9_000 + others), 4_500);
        // Too little for anyone: never below the floor.
        assert_eq!(starts_cap(&problem, &counts, 10), MIN_STARTS);
        // What pins need is never thinned, so it takes its share first.
        problem.required[0] = true;
        assert_eq!(
            starts_cap(&problem, &counts, 15_000 + others - 1_000),
            4_000
        );
    }

    /// A tight budget thins the requests with many starts to near the cap it sets, and
    /// empties no domain that was not empty.
    #[test]
    fn a_budget_of_starts_thins_without_emptying_a_domain() {
        let problem = caseload(120, 2, 5);
        let n = problem.requests.len();
        let starts = |opts: &[Opt]| {
            opts.iter()
                .map(|o| (o.provider, o.start, o.in_person()))
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let full = Domains::build(&problem);
        assert!(full.thinned.iter().all(|&t| !t));
        let counts: Vec<usize> = (0..n)
            .map(|r| start_count(&problem, r, &candidates(&problem, r)))
            .collect();
        let budget = counts.iter().sum::<usize>() / 3;
        let cap = starts_cap(&problem, &counts, budget);
        assert!(cap > MIN_STARTS && cap < MAX_STARTS, "cap {cap}");
        let thin = Domains::build_within(&problem, budget);
        assert!(thin.thinned.iter().any(|&t| t));
        let kept: usize = thin.opts.iter().map(|os| starts(os)).sum();
        let all: usize = full.opts.iter().map(|os| starts(os)).sum();
        let capped: usize = counts.iter().map(|&c| c.min(cap)).sum();
        // Whole provider-days: a request's last one may take it past the cap.
        assert!(
            kept * 2 <= capped * 3 && kept * 2 < all,
            "{kept} of {all} starts kept against {capped} under the cap"
        );
        for r in 0..n {
            assert_eq!(
                thin.opts[r].is_empty(),
                full.opts[r].is_empty(),
                "request {r}"
            );
            assert!(
                thin.opts[r].iter().all(|o| full.opts[r].contains(o)),
                "request {r}"
            );
        }
    }
}
