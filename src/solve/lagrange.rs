//! A Lagrangian lower bound that sees capacity in time and each patient's trips at once.
//!
//! Only three kinds of constraint tie patients together: a provider sees one patient at a
//! time, so does a resource, and a provider has a cap per day. They are moved into the
//! objective with multipliers (`π ≥ 0` per provider or resource and instant, `μ ≥ 0` per
//! provider-day). What is left splits by patient, each solved by a relaxation of their week
//! that keeps whatever is decided by days ([`patient_days`](super::patient_days): which
//! requests go on which day, trips, daily caps, bundles, the days links allow) under option
//! costs raised by the multipliers of what the options occupy. As each patient's minimum is
//! never above their true one,
//!
//! `L(π, μ) = Σ_patients min(...) − Σ π − Σ μ · cap`
//!
//! is a valid bound for every `π, μ ≥ 0`. The multipliers are tuned by projected
//! subgradient steps (first tied per provider and resource for the week, then each
//! instant's own), then each patient's week is solved exactly at the best of them
//! (every rule among the patient's own requests kept, waiting included), by a search over
//! day patterns with each day sequenced exactly (module `week_pricing`), or for patients
//! beyond its scope by a branch and bound over the options whose node bound knows the trips
//! left, the days links still allow and the travel between sites. No LP solver is needed,
//! the work per step is linear in the options, and the patients are evaluated in parallel
//! and summed in a fixed order, so the result does not depend on the thread count.
//! (Patients with more than [`MAX_REQUESTS`](super::patient_days::MAX_REQUESTS) requests
//! fall back to a weaker relaxation that keeps only the trips.)
//!
//! With time to spare, [`column_generation`] takes the multipliers further, once a search
//! has found a good schedule: a restricted master LP (module `master`) over the patients'
//! weeks found so far (the schedule's first) prices capacity, and each patient's week is
//! searched exactly at those prices (a bound, and new weeks for the master), until the
//! master and the bound meet.
//!
//! A provider (or resource) is busy at most once at every instant; it is enough to ask it at
//! the instants some option starts, so those are the only multipliers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::master;
use super::patient_days::{MinimumScratch, WeekShape};
use super::state::{gap_ok, unplaced_weight, State};

/// When to stop improving the multipliers.
pub struct Budget<'a> {
    /// Wall-clock limit.
    pub deadline: Instant,
    /// Stop (with the best bound so far) when set: the caller's cancel flag.
    pub cancel: &'a AtomicBool,
    /// Most subgradient steps.
    pub max_steps: usize,
    /// Most nodes of one patient's exact search.
    pub node_limit: usize,
    /// Under a work budget: the steps' pace may not depend on the clock.
    pub deterministic: bool,
}

impl Budget<'_> {
    /// Whether the bound must stop now: past the deadline, or cancelled.
    fn expired(&self) -> bool {
        Instant::now() >= self.deadline || self.cancel.load(Ordering::Relaxed)
    }
}

/// How many times the step may shrink before it is negligible (0.7^20 ≈ 1e-3).
const STALLS: usize = 20;
/// Fewest steps without a better bound before the step shrinks.
const MIN_PATIENCE: usize = 10;
/// Most steps without a better bound before the step shrinks: beyond it the bound was
/// measured to gain under 1 % (refbench, 300 patients: 98.6k after 2,000 steps, 99.1k
/// after 8,900).
const MAX_PATIENCE: usize = 100;
/// Steps timed to pace the rest by the clock.
const PACE_STEPS: usize = 5;
/// Steps between two re-pacings: the machine's speed varies while the steps run (refbench
/// 3,000 patients, 60 s: 1,074-1,226 steps and bounds 821.8k-848.7k by run when paced once).
const REPACE_EVERY: usize = 50;
/// Share of the steps' time after which they stop if none has improved on zero prices. The
/// first steps overshoot and the value takes a while to climb back: above zero prices
/// after 700 of 3,138 steps at refbench's 1,000 patients (it falls from 129k to -1.3M on
/// the way) and 700 of 2,434 at `careweek generate`'s 1,000; at `careweek generate`'s
/// 3,000 patients (44 ms a step) none of the 314 steps that fit in 15 s ever did, and
/// the time went to waste.
const NO_GAIN_SHARE: f64 = 0.5;
/// The coarse multipliers (one per provider and resource for the week) get this fraction of
/// the steps and of their time, at most.
const COARSE_SHARE_OF_STEPS: usize = 5;
/// Sign-adaptive steps stop when a window of this many has raised the bound by less than
/// [`SIGN_ADAPTIVE_MIN_GAIN`] of its value.
const SIGN_ADAPTIVE_WINDOW: usize = 25;
/// See [`SIGN_ADAPTIVE_WINDOW`].
const SIGN_ADAPTIVE_MIN_GAIN: f64 = 0.005;
/// Decay of the gradient's running first and second moments.
const MOMENT_DECAY: (f64, f64) = (0.9, 0.999);

/// What one option occupies: the provider's instants `[lo, hi)` in the flat multiplier
/// vector, the first of its `resource_count` resources' ranges in `resource_ranges`, and
/// its provider-day cap multiplier (`NO_CAP` when uncapped); and what the patient's
/// relaxation needs of it (its own cost, day and mode). Every step reads every option's, so
/// they are packed in 24 bytes instead of reading the option itself (at 3,000 patients the
/// steps waited on memory).
struct OptionUse {
    lo: u32,
    hi: u32,
    resources: u32,
    cap: u32,
    cost: i32,
    day: u16,
    in_person: bool,
    resource_count: u8,
}

const NO_CAP: u32 = u32::MAX;

/// Largest component whose bound goes on to column generation over patient weeks: a
/// larger one needs more rounds than a long limit leaves (refbench 300 patients, `--seed
/// 7`, a 928-request component at `--time-limit 300`: 8 rounds in the bound's 100 s, the
/// master down from 191k to 68k and the bound not raised).
const COLUMNS_MAX_REQUESTS: usize = 500;
/// Largest component whose column generation may run once its search has stalled
/// ([`columns_late_worthwhile`]), when the time it takes is no longer the search's.
const COLUMNS_LATE_MAX_REQUESTS: usize = 1_500;
/// Least time for column generation run late: its rounds are shorter than early on, as the
/// master starts from a searched schedule's weeks.
const COLUMNS_LATE_MIN_SECONDS: f64 = 8.0;
/// Least time for column generation to start with. Its rounds take a second or more each
/// (an LP and every patient's week searched with [`PRICING_NODES`] times the nodes), and
/// it needs ten or more of them to gain. With HiGHS (an LP of 0.5-1 s a round on
/// refbench's 5-minute grid at 100 patients) 15 s: that caseload at `--time-limit 60`
/// ends at 5.4-5.9 % instead of 9.9 %, and refbench's 100 patients at 2.5 % instead of
/// 3.6 %. The pure-Rust build's first-order master (0.5-5 s a round there) does as well:
/// 4.0-4.5 % instead of 9.5 %. (Its simplex master, rebuilt each round, took 3-9 s a round
/// and 60 s limits gained nothing.) Refbench's 30 patients, an 80-request component: the
/// master and the bound meet at 5509 in 2 s, where the exact pass gave 4984.
const COLUMNS_MIN_SECONDS: f64 = 15.0;
/// Node limit of a patient's week in column generation, in multiples of the exact pass's:
/// at the master's prices many more weeks are close in cost, and a search stopped early
/// leaves a weak lower bound (at 20,000 nodes 38 of 100 patients hit the limit and the
/// bound gained 270 in 27 rounds; at 200,000 about 22 did and it gained 2,670 in 18).
const PRICING_NODES: usize = 10;
/// Weeks a patient's exact search hands back as columns: the best and those it found on
/// the way.
pub(super) const WEEKS_KEPT: usize = 4;

/// A patient's week under the multipliers: its raised cost (or a quick minimum) and the
/// (request, option) pairs chosen.
pub(super) type PatientWeek = (f64, Vec<(usize, u32)>);

/// The requests of one patient in the component.
struct PatientRequests {
    requests: Vec<usize>,
    max_trips: Option<u32>,
    /// Some of the patient's requests were thinned ([`super::domain::Domains::thinned`])
    /// and are left out of `requests`: their week is bounded by the quick minimum alone.
    /// Taking a request out never raises that minimum (its option and its share of the
    /// prices go, a trip may go, caps and links only loosen), so it stays under the
    /// patient's part of any schedule over every option; the exact week counts waiting,
    /// which taking an appointment out of a day can raise.
    partial: bool,
    /// The day-by-day relaxation, for patients with few enough requests.
    shape: Option<WeekShape>,
}

/// Best choice of one request under the current multipliers.
#[derive(Clone, Copy)]
struct Pick {
    cost: f64,
    opt: Option<u32>,
}

const NONE: Pick = Pick {
    cost: f64::INFINITY,
    opt: None,
};

/// The best bound found and the prices behind it.
pub struct Lagrangian {
    /// A lower bound on the component's part of the objective (`-inf` when none was found).
    pub bound: f64,
    /// `prices[r][option]`: for the component's requests, what the best multipliers charge
    /// for the time (and provider-day) the option occupies; empty for other requests.
    pub prices: Vec<Vec<f64>>,
    /// The multipliers of the best bound (instants, then provider-day caps): where
    /// [`column_generation`] starts.
    center: Vec<f64>,
    /// The weeks the exact pass found, as columns to start from.
    weeks: Vec<master::Column>,
    /// Where the master over `weeks` starts (carried from a parent's master).
    warm: Option<master::Warm>,
    /// `guide[r]`: the option the relaxed weeks at the best multipliers give request `r`
    /// (`None` when they leave it out, and for requests outside the component).
    pub guide: Vec<Option<u32>>,
}

impl Lagrangian {
    /// Multipliers carried to a problem that differs only in costs (requests' priorities,
    /// options' costs; the coupling rows are the same), with a bound known to hold there, weeks costed for it
    /// and where its master starts over them (`warm`, its weights those of `weeks`):
    /// where its column generation starts.
    pub(super) fn carried(
        center: Vec<f64>,
        bound: f64,
        weeks: Vec<master::Column>,
        warm: Option<master::Warm>,
    ) -> Lagrangian {
        Lagrangian {
            bound,
            prices: Vec::new(),
            center,
            weeks,
            warm,
            guide: Vec::new(),
        }
    }
}

/// What the bound prices in a component: the instants of its providers and resources and
/// its provider-day caps (the coupling rows, numbered in that order), what every option
/// occupies among them, and the patients' own problems.
struct Relaxation<'s> {
    state: &'s State<'s>,
    instants: usize,
    /// `week_group[i]`: the provider or resource whose instant `i` is, numbered from 0
    /// (`week_groups` of them): the coarse multipliers the first steps tune.
    week_group: Vec<u32>,
    week_groups: usize,
    /// Capacities of the provider-day caps that can bind.
    caps: Vec<f64>,
    /// `uses[r][option]` for the component's requests (empty for others).
    uses: Vec<Vec<OptionUse>>,
    resource_ranges: Vec<(u32, u32)>,
    /// The options again, as the steps scan them ([`Relaxation::cheapest`]).
    scan: OptionScan,
    patients: Vec<PatientRequests>,
    trip: f64,
}

/// The component's options laid out for the steps' scan, which reads every option at every
/// step: those without resources packed in 8 bytes, each request's in runs of one day and
/// mode (in option order within a run), so that a run's cheapest is a plain minimum; the
/// few with resources listed apart.
///
/// Options of many requests occupy the same instants of the same provider: their raise
/// under the multipliers is one number, taken once a step ([`Relaxation::step_prices`]).
/// At 3,000 refbench patients 928,743 options share 32,373 such slots.
#[derive(Default)]
struct OptionScan {
    packed: Vec<PackedUse>,
    /// What the options of one slot occupy, by slot.
    slots: Vec<ScanSlot>,
    /// The option index of each of `packed`.
    option: Vec<u32>,
    runs: Vec<ScanRun>,
    /// Options with resources, by request.
    with_resources: Vec<u32>,
    /// `of[r]`: request `r`'s stretch of `runs` and of `with_resources` (empty outside the
    /// component).
    of: Vec<RequestScan>,
}

/// An option without resources: its slot in [`OptionScan::slots`] and its cost.
#[derive(Clone, Copy)]
struct PackedUse {
    slot: u32,
    cost: i32,
}

/// What options without resources may share: their provider's instants `[lo, hi)` and
/// their provider-day cap's multiplier (an always-zero one past the caps when they have
/// none: see [`Relaxation::padded_caps`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ScanSlot {
    lo: u32,
    hi: u32,
    cap: u32,
}

/// The multipliers of one step as the scans read them.
struct StepPrices {
    /// Running sums of the instants' multipliers ([`Relaxation::prefix_of`]).
    prefix: Vec<f64>,
    /// The caps' multipliers, padded ([`Relaxation::padded_caps`]).
    padded_mu: Vec<f64>,
    /// The raise of each of [`OptionScan::slots`].
    slot_raise: Vec<f64>,
}

/// Options `[start, end)` of [`OptionScan::packed`], all of one request, day and mode.
#[derive(Clone, Copy)]
struct ScanRun {
    start: u32,
    end: u32,
    day: u16,
    in_person: bool,
}

/// Where one request's options lie in an [`OptionScan`].
#[derive(Clone, Default)]
struct RequestScan {
    runs: std::ops::Range<u32>,
    with_resources: std::ops::Range<u32>,
}

impl OptionScan {
    /// The layout of `uses` (by request) over `comp`; `caps` multipliers.
    fn new(uses: &[Vec<OptionUse>], comp: &[usize], caps: usize) -> Self {
        let mut scan = OptionScan {
            of: vec![RequestScan::default(); uses.len()],
            ..Default::default()
        };
        let mut order: Vec<u32> = Vec::new();
        let mut slot_of: std::collections::HashMap<ScanSlot, u32> = Default::default();
        for &r in comp {
            let uses = &uses[r];
            let runs_from = scan.runs.len() as u32;
            let resources_from = scan.with_resources.len() as u32;
            order.clear();
            for (oi, u) in uses.iter().enumerate() {
                if u.resource_count == 0 {
                    order.push(oi as u32);
                } else {
                    scan.with_resources.push(oi as u32);
                }
            }
            // Stable: option order within a run, which decides ties as the scan of every
            // option in order would.
            order.sort_by_key(|&oi| (uses[oi as usize].in_person, uses[oi as usize].day));
            for &oi in &order {
                let u = &uses[oi as usize];
                let at = scan.packed.len() as u32;
                let same_run = scan.runs[runs_from as usize..]
                    .last()
                    .is_some_and(|run| run.day == u.day && run.in_person == u.in_person);
                if same_run {
                    scan.runs.last_mut().expect("a run").end = at + 1;
                } else {
                    scan.runs.push(ScanRun {
                        start: at,
                        end: at + 1,
                        day: u.day,
                        in_person: u.in_person,
                    });
                }
                let slot = ScanSlot {
                    lo: u.lo,
                    hi: u.hi,
                    cap: if u.cap == NO_CAP { caps as u32 } else { u.cap },
                };
                let slot = *slot_of.entry(slot).or_insert_with(|| {
                    scan.slots.push(slot);
                    scan.slots.len() as u32 - 1
                });
                scan.packed.push(PackedUse { slot, cost: u.cost });
                scan.option.push(oi);
            }
            scan.of[r] = RequestScan {
                runs: runs_from..scan.runs.len() as u32,
                with_resources: resources_from..scan.with_resources.len() as u32,
            };
        }
        scan
    }
}

impl<'s> Relaxation<'s> {
    /// The coupling rows of `comp`'s options, from an empty `state`.
    fn new(state: &'s State<'s>, comp: &[usize]) -> Self {
        let problem = state.problem;
        let opts = &state.domains.opts;
        let ndays = problem.days.len();

        // Instants at which each provider and resource can be asked, from the options'
        // starts.
        let np = problem.providers.len();
        let mut starts: Vec<Vec<i32>> = vec![Vec::new(); np + problem.resources.len()];
        for &r in comp {
            for o in &opts[r] {
                starts[o.provider as usize].push(o.start);
                for &u in &o.resources {
                    starts[np + u as usize].push(o.start);
                }
            }
        }
        let mut base = vec![0usize; starts.len() + 1];
        // The instants of one provider or resource share a coarse multiplier.
        let mut week_group: Vec<u32> = Vec::new();
        let mut week_groups = 0usize;
        for (k, s) in starts.iter_mut().enumerate() {
            s.sort_unstable();
            s.dedup();
            base[k + 1] = base[k] + s.len();
            if !s.is_empty() {
                week_group.resize(base[k + 1], week_groups as u32);
                week_groups += 1;
            }
        }
        let instants = base[starts.len()];
        let range_of = |k: usize, start: i32, end: i32| {
            let s = &starts[k];
            (
                (base[k] + s.partition_point(|&t| t < start)) as u32,
                (base[k] + s.partition_point(|&t| t < end)) as u32,
            )
        };

        // Provider-day caps that can bind.
        let mut cap_index: Vec<Option<u32>> = vec![None; np * ndays];
        let mut caps: Vec<f64> = Vec::new();
        for &r in comp {
            for o in &opts[r] {
                let p = o.provider as usize;
                if let Some(cap) = problem.providers[p].max_per_day {
                    let slot = &mut cap_index[p * ndays + o.day as usize];
                    if slot.is_none() {
                        *slot = Some(caps.len() as u32);
                        caps.push(f64::from(cap));
                    }
                }
            }
        }

        // What every option occupies.
        let mut resource_ranges: Vec<(u32, u32)> = Vec::new();
        let mut uses: Vec<Vec<OptionUse>> = Vec::with_capacity(problem.requests.len());
        uses.resize_with(problem.requests.len(), Vec::new);
        for &r in comp {
            uses[r] = opts[r]
                .iter()
                .map(|o| {
                    let first = resource_ranges.len() as u32;
                    for &u in &o.resources {
                        resource_ranges.push(range_of(np + u as usize, o.start, o.end));
                    }
                    let (lo, hi) = range_of(o.provider as usize, o.start, o.end);
                    OptionUse {
                        lo,
                        hi,
                        resources: first,
                        cap: cap_index[o.provider as usize * ndays + o.day as usize]
                            .unwrap_or(NO_CAP),
                        // Costs and resources left out only lower the raised cost: the
                        // bound stays valid even for options beyond these widths.
                        cost: i32::try_from(o.cost).unwrap_or(i32::MAX),
                        day: o.day,
                        in_person: o.in_person(),
                        resource_count: o.resources.len().min(255) as u8,
                    }
                })
                .collect();
        }

        // A thinned request is left out of its patient's week: the week's minimum over the
        // rest, taken quickly, bounds the patient's part over every option (see
        // `PatientRequests::partial`), where over the thinned options it would not.
        let mut by_patient: std::collections::BTreeMap<usize, (Vec<usize>, bool)> =
            Default::default();
        for &r in comp {
            let (requests, partial) = by_patient.entry(problem.requests[r].patient).or_default();
            if state.domains.thinned[r] {
                *partial = true;
            } else {
                requests.push(r);
            }
        }
        let patients = by_patient
            .into_iter()
            .filter(|(_, (requests, _))| !requests.is_empty())
            .map(|(q, (requests, partial))| PatientRequests {
                shape: WeekShape::new(problem, opts, &requests),
                requests,
                max_trips: problem.patients[q].max_trips,
                partial,
            })
            .collect();
        Relaxation {
            state,
            instants,
            week_group,
            week_groups,
            scan: OptionScan::new(&uses, comp, caps.len()),
            caps,
            uses,
            resource_ranges,
            patients,
            trip: problem.weights.trip as f64,
        }
    }

    /// The rows option `oi` of `r` occupies: its provider's instants, then each
    /// resource's, as ranges.
    fn ranges_of(&self, r: usize, oi: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let u = &self.uses[r][oi];
        let first = u.resources as usize;
        std::iter::once((u.lo, u.hi)).chain(
            self.resource_ranges[first..first + u.resource_count as usize]
                .iter()
                .copied(),
        )
    }

    /// Running sums of the instants' multipliers, so that a range's total is a difference.
    fn prefix_of(&self, pi: &[f64]) -> Vec<f64> {
        let mut prefix = vec![0.0f64; self.instants + 1];
        running_sums(pi, &mut prefix);
        prefix
    }

    /// The raise of an option's cost under the multipliers (`prefix`: running sums of π,
    /// `mu`: the caps' multipliers).
    fn raise_use(&self, prefix: &[f64], mu: &[f64], u: &OptionUse) -> f64 {
        let mut c = prefix[u.hi as usize] - prefix[u.lo as usize];
        // Most options use no resource: no slice to bound-check for them.
        if u.resource_count != 0 {
            let first = u.resources as usize;
            for &(lo, hi) in &self.resource_ranges[first..first + u.resource_count as usize] {
                c += prefix[hi as usize] - prefix[lo as usize];
            }
        }
        if u.cap != NO_CAP {
            c += mu[u.cap as usize];
        }
        c
    }

    /// The caps' multipliers `mu` and a zero after them, which options without a cap
    /// read in [`OptionScan::packed`].
    fn padded_caps(mu: &[f64]) -> Vec<f64> {
        mu.iter().copied().chain([0.0]).collect()
    }

    /// The multipliers `duals` (π then μ) as the scans of one step read them.
    fn step_prices(&self, duals: &[f64]) -> StepPrices {
        let (pi, mu) = duals.split_at(self.instants);
        let prefix = self.prefix_of(pi);
        let padded_mu = Self::padded_caps(mu);
        // As `raise_use` adds it up, so that equal options tie alike.
        let slot_raise = self
            .scan
            .slots
            .iter()
            .map(|s| (prefix[s.hi as usize] - prefix[s.lo as usize]) + padded_mu[s.cap as usize])
            .collect();
        StepPrices {
            prefix,
            padded_mu,
            slot_raise,
        }
    }

    /// A patient's cheapest raised option of each request by day, in person and by
    /// telehealth, from the packed uses alone. The cheapest, and among equals the first in
    /// option order.
    fn cheapest(&self, prices: &StepPrices, pat: &PatientRequests, tables: &mut DayTables) {
        let StepPrices {
            prefix,
            padded_mu,
            slot_raise,
        } = prices;
        let ndays = self.state.problem.days.len();
        let DayTables { in_person, tele } = tables;
        let none = (f64::INFINITY, u32::MAX);
        in_person.clear();
        in_person.resize(pat.requests.len() * ndays, none);
        tele.clear();
        tele.resize(pat.requests.len() * ndays, none);
        let scan = &self.scan;
        for (i, &r) in pat.requests.iter().enumerate() {
            let row = i * ndays..(i + 1) * ndays;
            // This request's rows, by mode: telehealth, in person.
            let by_mode = [&mut tele[row.clone()], &mut in_person[row]];
            let of = &scan.of[r];
            for run in &scan.runs[of.runs.start as usize..of.runs.end as usize] {
                let mut best = (f64::INFINITY, u32::MAX);
                for k in run.start..run.end {
                    let u = &scan.packed[k as usize];
                    let c = f64::from(u.cost) + slot_raise[u.slot as usize];
                    if c < best.0 {
                        best = (c, k);
                    }
                }
                if best.1 != u32::MAX {
                    by_mode[usize::from(run.in_person)][run.day as usize] =
                        (best.0, scan.option[best.1 as usize]);
                }
            }
            let with_resources = of.with_resources.start as usize..of.with_resources.end as usize;
            for &oi in &scan.with_resources[with_resources] {
                let u = &self.uses[r][oi as usize];
                let c = f64::from(u.cost) + self.raise_use(prefix, padded_mu, u);
                let slot = &mut by_mode[usize::from(u.in_person)][u.day as usize];
                if c < slot.0 || (c == slot.0 && oi < slot.1) {
                    *slot = (c, oi);
                }
            }
        }
    }

    /// A patient's quick minimum at the multipliers of one step, in `scratch`'s buffers.
    fn quick_for(
        &self,
        prices: &StepPrices,
        pat: &PatientRequests,
        scratch: &mut QuickScratch,
    ) -> PatientWeek {
        self.cheapest(prices, pat, &mut scratch.tables);
        quick_minimum(
            self.state,
            pat,
            &scratch.tables,
            self.trip,
            &mut scratch.minimum,
        )
    }

    /// The Lagrangian's term of the multipliers alone: `-Σ π - Σ μ · cap`.
    fn constant(&self, duals: &[f64]) -> f64 {
        let (pi, mu) = duals.split_at(self.instants);
        -pi.iter().sum::<f64>() - mu.iter().zip(&self.caps).map(|(m, c)| m * c).sum::<f64>()
    }

    /// The bound at the multipliers with each patient's minimum taken quickly (travel days
    /// enumerated, requests otherwise apart), with the options chosen, for the subgradient.
    fn quick(&self, duals: &[f64]) -> (f64, Vec<PatientWeek>) {
        let prices = self.step_prices(duals);
        let solved: Vec<PatientWeek> = self
            .patients
            .par_iter()
            .map_init(QuickScratch::default, |scratch, pat| {
                self.quick_for(&prices, pat, scratch)
            })
            .collect();
        let value = solved.iter().map(|(c, _)| c).sum::<f64>() + self.constant(duals);
        (value, solved)
    }

    /// The coupling rows a week uses, with multiplicity: its instants, then its provider-day
    /// caps numbered after them (the multipliers' layout).
    fn rows_of(&self, week: &[(usize, u32)]) -> Vec<(u32, f64)> {
        let mut rows: Vec<u32> = Vec::new();
        for &(r, oi) in week {
            for (lo, hi) in self.ranges_of(r, oi as usize) {
                rows.extend(lo..hi);
            }
            let cap = self.uses[r][oi as usize].cap;
            if cap != NO_CAP {
                rows.push(self.instants as u32 + cap);
            }
        }
        rows.sort_unstable();
        let mut counted: Vec<(u32, f64)> = Vec::with_capacity(rows.len());
        for i in rows {
            match counted.last_mut() {
                Some(last) if last.0 == i => last.1 += 1.0,
                _ => counted.push((i, 1.0)),
            }
        }
        counted
    }

    /// Each patient's exact minimum at the multipliers (every rule among the patient's own
    /// requests, waiting included; a lower bound, never below the quick one), whether its
    /// search stopped at `nodes` short of proving it, and, when `columns`, the weeks found
    /// on the way as columns at their own cost; only the patients `redo` marks when given
    /// (the others `-inf`, nothing found). Past the budget's deadline the quick minimum.
    fn price_patients(
        &self,
        duals: &[f64],
        nodes: usize,
        redo: Option<&[bool]>,
        columns: bool,
        budget: &Budget,
    ) -> (Vec<f64>, Vec<bool>, Vec<master::Column>) {
        let mu = &duals[self.instants..];
        let prices = self.step_prices(duals);
        let raised = |r: usize, oi: usize| self.raise_use(&prices.prefix, mu, &self.uses[r][oi]);
        let state = self.state;
        let parts: Vec<(f64, bool, Vec<master::Column>)> = self
            .patients
            .par_iter()
            .enumerate()
            .map_init(
                || {
                    (
                        State::new(state.problem, state.domains),
                        QuickScratch::default(),
                    )
                },
                |(scratch, buffers), (p, pat)| {
                    if redo.is_some_and(|redo| !redo[p]) {
                        return (f64::NEG_INFINITY, false, Vec::new());
                    }
                    let quick = self.quick_for(&prices, pat, buffers);
                    // Past the deadline the quick value stands (still a valid bound), as it
                    // does for a week with thinned requests left out.
                    if budget.expired() || pat.partial {
                        return (quick.0, true, Vec::new());
                    }
                    let (low, weeks) = patient_week(
                        scratch,
                        &pat.requests,
                        &raised,
                        nodes,
                        Some(budget.deadline),
                    );
                    let found = weeks.last().map_or(f64::INFINITY, |w| w.0);
                    let weeks = if columns { weeks } else { Vec::new() };
                    let columns = weeks
                        .into_iter()
                        .map(|(raised_cost, week)| master::Column {
                            patient: p,
                            cost: raised_cost
                                - week
                                    .iter()
                                    .map(|&(r, oi)| raised(r, oi as usize))
                                    .sum::<f64>(),
                            rows: self.rows_of(&week),
                            week,
                        })
                        .collect();
                    let low = low.max(quick.0);
                    (low, low < found - 1e-6, columns)
                },
            )
            .collect();
        let mut lows = Vec::with_capacity(parts.len());
        let mut limited = Vec::with_capacity(parts.len());
        let mut columns = Vec::new();
        for (low, stopped, found) in parts {
            lows.push(low);
            limited.push(stopped);
            columns.extend(found);
        }
        (lows, limited, columns)
    }
}

/// The Lagrangian bound of the component `comp` (`state`: empty; the steps stop once the
/// bound is within 1 of a schedule's objective, `upper`): capacity priced in time, each
/// patient's week relaxed to days while the multipliers are tuned, then searched exactly
/// at the best of them.
pub fn lagrangian_bound(state: &State, comp: &[usize], upper: i64, budget: Budget) -> Lagrangian {
    let problem = state.problem;
    let opts = &state.domains.opts;
    let rel = Relaxation::new(state, comp);
    let upper = upper as f64;
    let n = rel.instants + rel.caps.len();
    let trace = std::env::var_os("CAREWEEK_TRACE").is_some();
    let t0 = Instant::now();
    // The exact evaluation after the steps needs its share of the time.
    let steps_until = t0 + budget.deadline.saturating_duration_since(t0).mul_f64(0.75);

    // First one multiplier per provider and resource for the whole week (every instant of
    // it priced alike, the caps as they are), then every instant's own from there. The
    // coarse multipliers see what is short over the week, a scanner booked three times
    // over, in a few dozen steps; the fine ones, started from zero, overshoot on every
    // instant wanted at the same hour and take hundreds of steps to climb back, more than
    // fit in the time from a few thousand patients of dense caseloads (one MRI for 3,000
    // generated patients: the bound 270.6k with the fine steps alone, 427.4k with the
    // coarse first). Per provider-day they swing as patients leave a priced day en masse
    // for the next; where nothing is short over the week they stop after one window.
    let coarse_of: Vec<u32> = rel
        .week_group
        .iter()
        .copied()
        .chain((0..rel.caps.len() as u32).map(|c| rel.week_groups as u32 + c))
        .collect();
    let coarse_steps = (budget.max_steps / COARSE_SHARE_OF_STEPS).max(1);
    let coarse_until = t0
        + steps_until
            .saturating_duration_since(t0)
            .div_f64(COARSE_SHARE_OF_STEPS as f64);
    let coarse = ascend(
        &rel,
        Some((&coarse_of, rel.week_groups + rel.caps.len())),
        vec![0.0; n],
        f64::NEG_INFINITY,
        upper,
        Pace {
            max_steps: coarse_steps,
            until: coarse_until,
            give_up_share: None,
            sign_adaptive: true,
        },
        &budget,
    );
    // Each instant's own multipliers, from the coarse ones' best.
    let per_instant = |max_steps: usize, sign_adaptive: bool| {
        ascend(
            &rel,
            None,
            coarse.best_duals.clone(),
            coarse.best,
            upper,
            Pace {
                max_steps,
                until: steps_until,
                give_up_share: Some(NO_GAIN_SHARE),
                sign_adaptive,
            },
            &budget,
        )
    };
    let fine = (upper - coarse.best >= 1.0)
        .then(|| per_instant(budget.max_steps.saturating_sub(coarse.steps), false));
    // Adam's steps gave up without gaining (they overshoot and never climb back where
    // few fit): the sign-adaptive steps, which start small, get the rest of the time,
    // under the same rule. On a 3,000-patient caseload with one MRI they took the bound
    // from 427k to 1.14M in 75 steps; where Adam gains (refbench) they do worse, and do
    // not run.
    let fine = match fine {
        Some(adam)
            if !budget.deterministic
                && adam.best <= coarse.best
                && upper - adam.best >= 1.0
                && Instant::now() < steps_until =>
        {
            let signed = per_instant(
                budget.max_steps.saturating_sub(coarse.steps + adam.steps),
                true,
            );
            if trace {
                eprintln!(
                    "trace: lagrangian: {} Adam steps gained nothing; {} sign-adaptive, bound {:.1}",
                    adam.steps, signed.steps, signed.best
                );
            }
            Some(Ascent {
                steps: adam.steps + signed.steps,
                ..signed
            })
        }
        other => other,
    };
    if trace {
        eprintln!(
            "trace: lagrangian: {} coarse steps, bound {:.1}; {} fine, bound {:.1} at {:.2}s",
            coarse.steps,
            coarse.best,
            fine.as_ref().map_or(0, |f| f.steps),
            fine.as_ref().map_or(coarse.best, |f| f.best),
            t0.elapsed().as_secs_f64()
        );
    }
    let quick_zero = coarse.start;
    let Ascent {
        mut best,
        best_duals,
        ..
    } = match fine {
        Some(fine) if fine.best > coarse.best => fine,
        _ => coarse,
    };
    let mut prices = vec![Vec::new(); problem.requests.len()];
    if !best.is_finite() {
        return Lagrangian {
            bound: best,
            prices,
            center: best_duals,
            weeks: Vec::new(),
            warm: None,
            guide: vec![None; problem.requests.len()],
        };
    }
    {
        let (pi, mu) = best_duals.split_at(rel.instants);
        let prefix = rel.prefix_of(pi);
        for &r in comp {
            prices[r] = rel.uses[r]
                .iter()
                .map(|u| rel.raise_use(&prefix, mu, u))
                .collect();
        }
    }
    // What the relaxed weeks at the best prices place: where the search looks for room.
    let (value, solved) = rel.quick(&best_duals);
    let mut guide = vec![None; problem.requests.len()];
    for &(r, oi) in solved.iter().flat_map(|(_, c)| c) {
        guide[r] = Some(oi);
    }
    if trace {
        let chosen: Vec<(usize, usize)> = solved
            .iter()
            .flat_map(|(_, c)| c.iter().map(|&(r, oi)| (r, oi as usize)))
            .collect();
        let placed: std::collections::BTreeSet<usize> = chosen.iter().map(|c| c.0).collect();
        let trips: std::collections::BTreeSet<(usize, u16)> = chosen
            .iter()
            .filter(|&&(r, oi)| opts[r][oi].in_person())
            .map(|&(r, oi)| (problem.requests[r].patient, opts[r][oi].day))
            .collect();
        let option_cost: i64 = chosen.iter().map(|&(r, oi)| opts[r][oi].cost).sum();
        let paid: f64 = chosen.iter().map(|&(r, oi)| prices[r][oi]).sum();
        let unplaced: i64 = comp
            .iter()
            .filter(|r| !placed.contains(r))
            .map(|&r| unplaced_weight(problem, r))
            .sum();
        eprintln!(
            "trace: relaxed at best: value {value:.1}, placed {}/{}, unplaced {unplaced}, \
             trips {} ({:.0}), option cost {option_cost}, paid {paid:.1}, constant {:.1}",
            placed.len(),
            comp.len(),
            trips.len(),
            trips.len() as f64 * rel.trip,
            rel.constant(&best_duals)
        );
    }
    // Each patient exactly at the best multipliers, then with none when they differ (with
    // few steps the exact weeks alone can be worth more). Subgradient steps on the exact
    // weeks were measured to add under 0.3 % to the bound at 30 and 100 patients while
    // taking 10-20 s from the search at 100-1,000.
    let zero = best_duals.iter().all(|&m| m == 0.0);
    let quick_best = best;
    let mut center = best_duals.clone();
    // The weeks found on the way, kept for column generation when it may follow.
    let keep_weeks = comp.len() <= COLUMNS_LATE_MAX_REQUESTS && !budget.deterministic;
    let mut weeks = Vec::new();
    let candidates = [Some(best_duals), (!zero).then(|| vec![0.0; n])];
    for (k, duals) in candidates.into_iter().flatten().enumerate() {
        if budget.expired() || upper - best < 1.0 {
            break;
        }
        // Without multipliers the exact weeks gain about what they gained with them: not
        // worth the time when the quick bound at zero is far below.
        if k == 1 && quick_zero + 2.0 * (best - quick_best) <= best {
            break;
        }
        let (lows, _, found) =
            rel.price_patients(&duals, budget.node_limit, None, keep_weeks, &budget);
        weeks.extend(found);
        let value = lows.iter().sum::<f64>() + rel.constant(&duals);
        if value > best {
            best = value;
            center = duals;
        }
        if trace {
            eprintln!(
                "trace: lagrangian: exact patients, bound {best:.1} at {:.2}s",
                t0.elapsed().as_secs_f64()
            );
        }
    }
    Lagrangian {
        bound: best,
        prices,
        center,
        weeks,
        warm: None,
        guide,
    }
}

/// How long one ascent may run.
struct Pace {
    max_steps: usize,
    until: Instant,
    /// Share of the time after which the ascent stops if none of its steps has improved
    /// on where it started (never under a work budget).
    give_up_share: Option<f64>,
    /// Each coordinate by its own sign-adaptive step instead of Adam's.
    sign_adaptive: bool,
}

/// Where an ascent got: its best value and multipliers (π then μ), its steps, and the
/// value where it started.
struct Ascent {
    best: f64,
    best_duals: Vec<f64>,
    steps: usize,
    start: f64,
}

/// Projected subgradient ascent on the day-by-day relaxation from `duals` (π then μ,
/// `best`: a value already reached, kept unless beaten). With `coarse` `(coordinate of
/// each multiplier, coordinates)` the multipliers move tied, each coordinate by the sum
/// of its multipliers' gradients.
///
/// Every `π, μ ≥ 0` gives a valid bound, so the steps are free to be whatever climbs
/// fastest: each coordinate moves by its own normalised gradient (first and second
/// moments, as in Adam), at most `rate · θ` a step, or with `pace.sign_adaptive` by its
/// own step grown and halved by the gradient's sign ([`sign_adaptive_step`]). A global Polyak step was measured to
/// crawl where many instants are contested (it took 8,000 steps to reach 172k at 1,000
/// patients, this 1,700 to 180k). θ shrinks when the bound stalls; the ascent stops when
/// θ is negligible.
fn ascend(
    rel: &Relaxation,
    coarse: Option<(&[u32], usize)>,
    mut duals: Vec<f64>,
    best: f64,
    upper: f64,
    pace: Pace,
    budget: &Budget,
) -> Ascent {
    let n = duals.len();
    let coords = coarse.map_or(n, |(_, m)| m);
    let mut y: Vec<f64> = match coarse {
        // Tied multipliers start equal: at zero.
        Some(_) => vec![0.0; coords],
        None => duals.clone(),
    };
    let mut out = Ascent {
        best,
        best_duals: duals.clone(),
        steps: 0,
        start: f64::NEG_INFINITY,
    };
    // Each kind of step keeps its own state per coordinate: Adam the gradient's moments,
    // the sign-adaptive steps their own step and the sign of their last gradient.
    let per_coordinate =
        |kind_used: bool, value: f64| vec![value; if kind_used { coords } else { 0 }];
    let adam = !pace.sign_adaptive;
    let (mut first_moment, mut second_moment) =
        (per_coordinate(adam, 0.0), per_coordinate(adam, 0.0));
    let grid = f64::from(rel.state.problem.grid.max(1));
    // About 20 minutes of waiting per grid step of provider time at the largest step.
    let rate = 20.0 * grid;
    let mut own_step = per_coordinate(!adam, grid / 15.0);
    let mut last_sign = per_coordinate(!adam, 0.0);
    let mut grad: Vec<f64> = Vec::with_capacity(coords);
    let mut window_best = f64::NEG_INFINITY;
    let mut theta = 1.0f64;
    let mut shrinks = 0;
    let mut since_best = 0;
    let mut patience = pace.max_steps.div_ceil(STALLS).max(MIN_PATIENCE);
    let t0 = Instant::now();
    let give_up_at = pace
        .give_up_share
        .map(|share| t0 + pace.until.saturating_duration_since(t0).mul_f64(share));
    let mut steps = 0;
    while steps < pace.max_steps
        && Instant::now() < pace.until
        && !budget.cancel.load(Ordering::Relaxed)
    {
        steps += 1;
        if let Some((coord_of, _)) = coarse {
            for (d, &c) in duals.iter_mut().zip(coord_of) {
                *d = y[c as usize];
            }
        }
        let (value, solved) = rel.quick(&duals);
        if !value.is_finite() {
            break;
        }
        if steps == 1 {
            out.start = value;
            window_best = value;
        }
        if value > out.best + 1e-9 {
            out.best = value;
            out.best_duals.clone_from(&duals);
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= patience {
                theta *= 0.7;
                shrinks += 1;
                since_best = 0;
            }
        }
        if upper - out.best < 1.0 || theta < 1e-3 {
            break;
        }
        if pace.sign_adaptive && steps % SIGN_ADAPTIVE_WINDOW == 0 {
            // Sign-adaptive steps that have stopped paying: for tied multipliers nothing is
            // short over a whole week (the fine ones will do better with the time); for
            // the fine ones they have converged, or never will.
            if out.best - window_best < SIGN_ADAPTIVE_MIN_GAIN * window_best.abs().max(1.0) {
                break;
            }
            window_best = out.best;
        }
        if !budget.deterministic
            && out.best <= out.start
            && give_up_at.is_some_and(|at| Instant::now() >= at)
        {
            // Part of the time gone and nothing above the start yet: the overshoot of the
            // first steps will not be climbed back in the rest (see [`NO_GAIN_SHARE`]);
            // the search has better use for it.
            break;
        }
        if (steps == PACE_STEPS || steps % REPACE_EVERY == 0) && !budget.deterministic {
            // As many stalls as the time left allows.
            let per_step = t0.elapsed().as_secs_f64() / steps as f64;
            let left = pace
                .until
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            let affordable = ((left / per_step) as usize).min(pace.max_steps - steps);
            patience = (affordable / STALLS.saturating_sub(shrinks).max(1))
                .clamp(MIN_PATIENCE, MAX_PATIENCE);
        }

        // Subgradient: how much each instant and provider-day is over-used by the choices.
        let mut use_diff = vec![0i64; rel.instants + 1];
        let mut cap_use = vec![0.0f64; rel.caps.len()];
        for (_, chosen) in &solved {
            for &(r, oi) in chosen {
                for (lo, hi) in rel.ranges_of(r, oi as usize) {
                    use_diff[lo as usize] += 1;
                    use_diff[hi as usize] -= 1;
                }
                let cap = rel.uses[r][oi as usize].cap;
                if cap != NO_CAP {
                    cap_use[cap as usize] += 1.0;
                }
            }
        }
        let mut running = 0i64;
        let fine_grad = (0..rel.instants)
            .map(|i| {
                running += use_diff[i];
                running as f64 - 1.0
            })
            .chain(cap_use.iter().zip(&rel.caps).map(|(u, c)| u - c));
        grad.clear();
        match coarse {
            Some((coord_of, _)) => {
                grad.resize(coords, 0.0);
                for (gi, &c) in fine_grad.zip(coord_of) {
                    grad[c as usize] += gi;
                }
            }
            None => grad.extend(fine_grad),
        }
        let moved = if pace.sign_adaptive {
            sign_adaptive_step(&mut y, &grad, &mut last_sign, &mut own_step, theta, rate)
        } else {
            adam_step(
                &mut y,
                &grad,
                (&mut first_moment, &mut second_moment),
                steps,
                rate * theta,
            )
        };
        if !moved {
            // The relaxed choices keep every coupling constraint: nothing left to tune.
            break;
        }
        if coarse.is_none() {
            duals.clone_from(&y);
        }
    }
    out.steps = steps;
    out
}

/// One sign-adaptive step (resilient propagation): each coordinate by its own step, grown
/// while its gradient keeps its sign and halved when it flips, at most `rate`; whether any
/// moved. A scanner booked three times over climbs fast, and a day that patients leave en
/// masse for a few units of price settles instead of swinging.
fn sign_adaptive_step(
    y: &mut [f64],
    grad: &[f64],
    last_sign: &mut [f64],
    own_step: &mut [f64],
    theta: f64,
    rate: f64,
) -> bool {
    let mut moved = false;
    for (((m, &g), last), step) in y.iter_mut().zip(grad).zip(last_sign).zip(own_step) {
        // A zero multiplier with a negative gradient stays zero.
        let g = if g < 0.0 && *m <= 0.0 { 0.0 } else { g };
        let sign = if g > 0.0 {
            1.0
        } else if g < 0.0 {
            -1.0
        } else {
            0.0
        };
        if sign * *last > 0.0 {
            *step = (*step * 1.2).min(rate);
        } else if sign * *last < 0.0 {
            // Overshot: smaller next time, and no move this step.
            *step *= 0.5;
            *last = 0.0;
            moved = true;
            continue;
        }
        *last = sign;
        *m = (*m + theta * sign * *step).max(0.0);
        moved |= g != 0.0;
    }
    moved
}

/// One Adam step of at most `step` per coordinate (`moments`: the gradient's running
/// first and second moments, `steps` so far for their bias correction); whether any moved.
fn adam_step(
    y: &mut [f64],
    grad: &[f64],
    moments: (&mut [f64], &mut [f64]),
    steps: usize,
    step: f64,
) -> bool {
    let (c1, c2) = (
        1.0 - MOMENT_DECAY.0.powi(steps as i32),
        1.0 - MOMENT_DECAY.1.powi(steps as i32),
    );
    let mut moved = false;
    for (((m, &g), m1), m2) in y.iter_mut().zip(grad).zip(moments.0).zip(moments.1) {
        // A zero multiplier with a negative gradient stays zero.
        let g = if g < 0.0 && *m <= 0.0 { 0.0 } else { g };
        *m1 = MOMENT_DECAY.0 * *m1 + (1.0 - MOMENT_DECAY.0) * g;
        *m2 = MOMENT_DECAY.1 * *m2 + (1.0 - MOMENT_DECAY.1) * g * g;
        if *m2 > 0.0 {
            *m = (*m + step * (*m1 / c1) / ((*m2 / c2).sqrt() + 1e-9)).max(0.0);
            moved |= g != 0.0;
        }
    }
    moved
}

/// Whether column generation over a component of `requests` requests is worth starting
/// with `seconds` for it: not too large, and with time for its rounds.
pub fn columns_worthwhile(requests: usize, seconds: f64) -> bool {
    requests <= COLUMNS_MAX_REQUESTS && seconds >= COLUMNS_MIN_SECONDS
}

/// Whether column generation over a component of `requests` requests is worth running
/// once the component's search has stalled, with `seconds` for it: a component too large
/// for it to run before the search ([`columns_worthwhile`]) but not so large that its
/// master cannot come down within a share of a minute.
pub fn columns_late_worthwhile(requests: usize, seconds: f64) -> bool {
    requests > COLUMNS_MAX_REQUESTS
        && requests <= COLUMNS_LATE_MAX_REQUESTS
        && seconds >= COLUMNS_LATE_MIN_SECONDS
}

/// Takes the Lagrangian bound `from` further by column generation over patient weeks: the
/// restricted master LP (module `master`) over the weeks found so far prices capacity; each
/// patient's week is searched exactly at those prices (smoothed towards the best so far),
/// which gives a bound and new columns, until the master and the bound meet or the budget
/// is spent. The master starts from the weeks of `incumbent`, a schedule of the component
/// (the better it is, the fewer rounds the master needs to come down from it), whose
/// objective is `upper`, and those of the exact pass. Returns the bound (at least
/// `from.bound`) and the rounds run. Not for a work budget, whose rounds the clock may not
/// decide.
pub fn column_generation(
    state: &State,
    comp: &[usize],
    incumbent: &State,
    upper: i64,
    from: &Lagrangian,
    budget: Budget,
) -> master::Generated {
    let rel = Relaxation::new(state, comp);
    let mut start: Vec<master::Column> = rel
        .patients
        .iter()
        .enumerate()
        .map(|(p, pat)| {
            let week: Vec<(usize, u32)> = pat
                .requests
                .iter()
                .filter_map(|&r| Some((r, incumbent.assign[r]?)))
                .collect();
            master::Column {
                patient: p,
                cost: incumbent.component_total(&pat.requests) as f64,
                rows: rel.rows_of(&week),
                week,
            }
        })
        .collect();
    // Started warm, the carried weeks come first: the incumbent's repeat some of them, and
    // the first of two equal columns is the one kept, with its weight.
    let warm = from.warm.clone().map(|mut warm| {
        // The carried weeks' weights, then none on the incumbent's.
        warm.weights.resize(from.weeks.len(), 0.0);
        warm.weights.resize(from.weeks.len() + start.len(), 0.0);
        warm
    });
    if warm.is_some() {
        start.splice(0..0, from.weeks.iter().cloned());
    } else {
        start.extend(from.weeks.iter().cloned());
    }
    let row_capacity: Vec<f64> = std::iter::repeat_n(1.0, rel.instants)
        .chain(rel.caps.iter().copied())
        .collect();
    let trace = std::env::var_os("CAREWEEK_TRACE").is_some();
    master::generate_columns(
        master::Generation {
            patients: rel.patients.len(),
            row_capacity: &row_capacity,
            start,
            warm,
            center: from.center.clone(),
            bound: from.bound,
            upper: upper as f64,
            nodes: PRICING_NODES * budget.node_limit,
            early_nodes: budget.node_limit,
            deadline: budget.deadline,
            cancel: budget.cancel,
            trace: trace.then(Instant::now),
        },
        &|duals: &[f64], nodes: usize, redo: Option<&[bool]>| {
            rel.price_patients(duals, nodes, redo, true, &budget)
        },
        &|duals: &[f64]| rel.constant(duals),
    )
}

/// One patient's quick minimum and the options chosen: relaxed to days when the patient's
/// shape is known, else with the requests apart.
fn quick_minimum(
    state: &State,
    pat: &PatientRequests,
    tables: &DayTables,
    trip: f64,
    scratch: &mut MinimumScratch,
) -> PatientWeek {
    match &pat.shape {
        Some(shape) => shape.minimum(&tables.in_person, &tables.tele, trip, scratch),
        None => relaxed_minimum(state, pat, tables, trip),
    }
}

/// A patient's cheapest raised option of each request on each day, in person and by
/// telehealth: `(cost, option)` at `request index × days + day`, infinite where none.
#[derive(Default)]
struct DayTables {
    in_person: Vec<(f64, u32)>,
    tele: Vec<(f64, u32)>,
}

/// The buffers of one patient's quick minimum, kept from one patient to the next within a
/// worker: the steps take every patient's thousands of times.
#[derive(Default)]
struct QuickScratch {
    tables: DayTables,
    minimum: MinimumScratch,
}

/// One patient's minimum with the requests apart except for travel days: every set of
/// travel days (within `max_trips`) is tried, each request then takes its cheapest choice.
/// Returns the minimum and the options chosen.
fn relaxed_minimum(
    state: &State,
    pat: &PatientRequests,
    tables: &DayTables,
    trip: f64,
) -> (f64, Vec<(usize, u32)>) {
    let problem = state.problem;
    let ndays = problem.days.len();
    let k = pat.requests.len();
    let mut unplaced = vec![NONE; k];
    let mut tele = vec![NONE; k];
    let as_pick = |&(cost, oi): &(f64, u32)| Pick {
        cost,
        opt: (oi != u32::MAX).then_some(oi),
    };
    let in_person: Vec<Pick> = tables.in_person.iter().map(as_pick).collect();
    for (i, &r) in pat.requests.iter().enumerate() {
        let pinned = problem.requests[r]
            .existing
            .as_ref()
            .is_some_and(|e| e.pinned);
        if !pinned {
            unplaced[i].cost = unplaced_weight(problem, r) as f64;
        }
        // Telehealth needs no trip: its cheapest option on any day.
        for d in 0..ndays {
            let pick = as_pick(&tables.tele[i * ndays + d]);
            if pick.cost < tele[i].cost {
                tele[i] = pick;
            }
        }
    }
    let days_used: u32 = (0..ndays)
        .filter(|&d| (0..k).any(|i| in_person[i * ndays + d].opt.is_some()))
        .fold(0, |m, d| m | 1 << d);
    let pick = |i: usize, set: u32| {
        let mut pick = if unplaced[i].cost <= tele[i].cost {
            unplaced[i]
        } else {
            tele[i]
        };
        let mut s = set;
        while s != 0 {
            let d = s.trailing_zeros() as usize;
            if in_person[i * ndays + d].cost < pick.cost {
                pick = in_person[i * ndays + d];
            }
            s &= s - 1;
        }
        pick
    };
    let mut best_cost = f64::INFINITY;
    let mut best_set = 0u32;
    // Every subset of the days with an in-person option, from all of them down to none.
    let mut set = days_used;
    loop {
        let trips = set.count_ones();
        if pat.max_trips.is_none_or(|m| trips <= m) {
            let cost = trip * f64::from(trips) + (0..k).map(|i| pick(i, set).cost).sum::<f64>();
            if cost < best_cost {
                best_cost = cost;
                best_set = set;
            }
        }
        if set == 0 {
            break;
        }
        set = (set - 1) & days_used;
    }
    let chosen = (0..k)
        .filter_map(|i| pick(i, best_set).opt.map(|oi| (pat.requests[i], oi)))
        .collect();
    (best_cost, chosen)
}

/// The exact minimum of one patient's own problem — every constraint among the patient's
/// requests kept (overlap, travel, caps, links, trips, waiting), those with other patients
/// dropped — with each option's cost raised by `extra(r, option)`. Depth-first branch and
/// bound from an empty `state` (left empty on return). Past `node_limit` nodes, the least of
/// the best week found and the bounds of the subtrees left unexplored: still a lower bound.
/// With it, the last weeks the search found, the best last: their raised cost (the
/// patient's objective plus the raises) and the (request, option) pairs placed.
///
/// Solved by day patterns ([`week_pricing`](super::week_pricing)), or by a search over
/// options for the patients out of that one's scope.
fn patient_week(
    state: &mut State,
    requests: &[usize],
    extra: &dyn Fn(usize, usize) -> f64,
    node_limit: usize,
    deadline: Option<Instant>,
) -> (f64, Vec<PatientWeek>) {
    if let Some(found) =
        super::week_pricing::price_week(state, requests, extra, node_limit, deadline)
    {
        return found;
    }
    option_search(state, requests, extra, node_limit, deadline)
}

/// How often (in options looked at) the option search reads the clock.
const DEADLINE_EVERY: usize = 1024;

/// [`patient_week`] by a branch and bound over the options, stopped as if out of nodes
/// past `deadline`.
fn option_search(
    state: &mut State,
    requests: &[usize],
    extra: &dyn Fn(usize, usize) -> f64,
    node_limit: usize,
    deadline: Option<Instant>,
) -> (f64, Vec<PatientWeek>) {
    let problem = state.problem;
    let Some(&first) = requests.first() else {
        return (0.0, vec![(0.0, Vec::new())]);
    };
    let patient = problem.requests[first].patient;
    let ndays = problem.days.len();
    let order = super::construct::order(state, requests);
    let mut steps: Vec<Step> = Vec::with_capacity(order.len());
    let mut base = 0.0;
    for &r in &order {
        let w = unplaced_weight(problem, r) as f64;
        base += w;
        let pinned = problem.requests[r]
            .existing
            .as_ref()
            .is_some_and(|e| e.pinned);
        let opts = &state.domains.opts[r];
        let mut options: Vec<(f64, u32)> = (0..opts.len())
            .map(|oi| (opts[oi].cost as f64 + extra(r, oi), oi as u32))
            .collect();
        options.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut tele = vec![f64::INFINITY; ndays];
        let mut in_person = vec![f64::INFINITY; ndays];
        let mut starts = vec![[(i32::MAX, i32::MIN); 2]; ndays];
        let mut sites = vec![0u64; ndays];
        for &(raised, oi) in &options {
            let o = &opts[oi as usize];
            let d = o.day as usize;
            if let Some(site) = o.site.filter(|&x| x < 64) {
                sites[d] |= 1 << site;
            }
            let (slot, mode) = if o.in_person() {
                (&mut in_person[d], 0)
            } else {
                (&mut tele[d], 1)
            };
            *slot = slot.min(raised - w);
            let span = &mut starts[d][mode];
            *span = (span.0.min(o.start), span.1.max(o.start));
        }
        let preds = problem
            .precedences
            .iter()
            .filter(|p| p.after == r)
            .filter_map(|p| {
                let before = order.iter().position(|&x| x == p.before)?;
                Some((before, p.min_gap, p.max_gap))
            })
            .collect();
        let mates = problem
            .same_day
            .iter()
            .filter(|g| g.contains(&r))
            .flatten()
            .filter(|&&m| m != r)
            .filter_map(|&m| order.iter().position(|&x| x == m))
            .collect();
        steps.push(Step {
            request: r,
            options,
            may_skip: !pinned,
            weight: w,
            tele,
            in_person,
            starts,
            sites,
            preds,
            mates,
        });
    }
    // `offered[k]`: the days on which the steps from `k` on have an in-person option.
    let mut offered = vec![0u32; steps.len() + 1];
    for k in (0..steps.len()).rev() {
        let own = (0..ndays)
            .filter(|&d| steps[k].in_person[d].is_finite())
            .fold(0, |m, d| m | 1 << d);
        offered[k] = offered[k + 1] | own;
    }
    let mut search = Search {
        steps: &steps,
        offered: &offered,
        patient,
        ndays,
        trip: problem.weights.trip as f64,
        max_trips: problem.patients[patient].max_trips,
        max_per_day: problem.patients[patient].max_per_day,
        best: f64::INFINITY,
        nodes: 0,
        node_limit,
        looked: 0,
        deadline,
        abandoned: f64::INFINITY,
        travel: &problem.travel,
        idle_per_min: problem.weights.idle_per_min as f64,
        grid: gaps_grid(problem),
        weeks: Vec::new(),
        penalties: Vec::new(),
        aways: Vec::new(),
        in_person_by_day: Vec::new(),
    };
    let day = search.day_state(state, 0);
    search.descend(state, 0, base, &day);
    (search.best.min(search.abandoned), search.weeks)
}

/// One request of a patient's search: its options by raised cost, whether it may stay
/// unplaced, and the least its placement can change the objective by day.
struct Step {
    request: usize,
    options: Vec<(f64, u32)>,
    may_skip: bool,
    /// Its unplaced weight.
    weight: f64,
    /// The least change by a telehealth option of each day (infinite without one).
    tele: Vec<f64>,
    /// The least change by an in-person option of each day, trip and waiting aside.
    in_person: Vec<f64>,
    /// Per day, the earliest and latest start of its in-person (`[0]`) and telehealth
    /// (`[1]`) options.
    starts: Vec<[(i32, i32); 2]>,
    /// Per day, the sites of its in-person options (bit per site index).
    sites: Vec<u64>,
    /// Its prerequisites among the patient's steps: (step index, min gap, max gap).
    preds: Vec<(usize, i32, Option<i32>)>,
    /// The steps it must share a day with (same-day bundles).
    mates: Vec<usize>,
}

/// Where a patient's partial week stands: the days they come in on, the cost of their
/// waiting so far by day and the appointments each day still has room for.
struct DayState {
    open: u32,
    /// Per day (fixed arrays: a node's day state is built without allocating them).
    waiting: [f64; MAX_DAYS],
    room: [u32; MAX_DAYS],
    /// Per step, the days its in-person (`[0]`) and telehealth (`[1]`) options may still
    /// come on, given where its prerequisites were placed (none once one was left out).
    allowed: Vec<[u32; 2]>,
    /// Per day, the sites the patient already comes to (bit per site index).
    sites: [u64; MAX_DAYS],
}

/// Most days in a week (day sets are `u32` masks).
pub(super) const MAX_DAYS: usize = 32;

struct Search<'s> {
    steps: &'s [Step],
    /// `offered[k]`: the days on which the steps from `k` on have an in-person option.
    offered: &'s [u32],
    patient: usize,
    ndays: usize,
    trip: f64,
    max_trips: Option<u32>,
    max_per_day: Option<u32>,
    best: f64,
    nodes: usize,
    node_limit: usize,
    /// Options looked at, and the time past which the search stops as if out of nodes.
    looked: usize,
    deadline: Option<Instant>,
    /// The least lower bound of the subtrees left unexplored at the node limit (infinite
    /// while none is): with `best`, a lower bound on the patient's minimum all the same.
    abandoned: f64,
    /// Travel minutes between sites.
    travel: &'s [Vec<i32>],
    idle_per_min: f64,
    /// Grid minutes.
    grid: i32,
    /// The last weeks found, each better than those before, the best last.
    weeks: Vec<PatientWeek>,
    /// Scratch for [`Search::rest`].
    penalties: Vec<f64>,
    aways: Vec<f64>,
    in_person_by_day: Vec<f64>,
}

impl Search<'_> {
    /// The least the steps from `k` on can change the objective when the patient already
    /// comes in on the days of `open`: each further travel day costs a trip (every subset
    /// of them within `max_trips` is tried), each request then takes its cheapest choice.
    ///
    /// Waiting already there counts as removable on the days that the steps from `fill` on
    /// can come on.
    fn rest(&mut self, k: usize, day: &DayState, fill: usize) -> f64 {
        let open = day.open;
        let steps = &self.steps[k..];
        let offered = self.offered[k];
        let fillable = self.offered[fill];
        // Later placements can take waiting off a day only by coming on it, and at most all
        // of it: waiting never goes below zero.
        let refill: f64 = (0..self.ndays)
            .filter(|&d| fillable & (1 << d) != 0 && day.room[d] > 0)
            .map(|d| day.waiting[d])
            .sum();
        // The waiting a day's first appointment at a new site adds is shared among the
        // steps that could bring one, so that it is counted at most once per day.
        let mut sharers = [1.0f64; MAX_DAYS];
        for (d, sharer) in sharers.iter_mut().enumerate().take(self.ndays) {
            let n = steps
                .iter()
                .enumerate()
                .filter(|&(j, s)| {
                    day.allowed[k + j][0] & (1 << d) != 0
                        && s.sites[d] != 0
                        && s.sites[d] & day.sites[d] == 0
                })
                .count();
            *sharer = n.max(1) as f64;
        }
        let new_days = offered & !open;
        let trips_left = self
            .max_trips
            .map_or(u32::MAX, |m| m.saturating_sub(open.count_ones()));
        // What does not depend on the travel days: each step's best away from them (by
        // telehealth or left out) and its least in person by day (infinite where it cannot).
        let ndays = self.ndays;
        let mut aways = std::mem::take(&mut self.aways);
        let mut in_person_by_day = std::mem::take(&mut self.in_person_by_day);
        aways.clear();
        in_person_by_day.clear();
        for (j, s) in steps.iter().enumerate() {
            let [in_days, tele_days] = day.allowed[k + j];
            let mut tele = f64::INFINITY;
            let mut left = tele_days;
            while left != 0 {
                let d = left.trailing_zeros() as usize;
                tele = tele.min(s.tele[d]);
                left &= left - 1;
            }
            aways.push(if s.may_skip { tele.min(0.0) } else { tele });
            let can = offered & in_days;
            in_person_by_day.extend((0..ndays).map(|d| {
                if can & (1 << d) != 0 {
                    s.in_person[d] + self.travel_floor(s, day, d) / sharers[d]
                } else {
                    f64::INFINITY
                }
            }));
        }
        let mut least = f64::INFINITY;
        let mut set = new_days;
        let mut penalties = std::mem::take(&mut self.penalties);
        loop {
            if set.count_ones() <= trips_left {
                let days = set | open;
                // The patient's cap per day bounds how many can come in person on these days.
                let capacity: u32 = (0..self.ndays)
                    .filter(|&d| days & (1 << d) != 0)
                    .map(|d| day.room[d])
                    .fold(0u32, u32::saturating_add);
                let mut cost = self.trip * f64::from(set.count_ones());
                penalties.clear();
                for (j, &away) in aways.iter().enumerate() {
                    let by_day = &in_person_by_day[j * ndays..(j + 1) * ndays];
                    let mut in_person = f64::INFINITY;
                    let mut left = days;
                    while left != 0 {
                        let d = left.trailing_zeros() as usize;
                        in_person = in_person.min(by_day[d]);
                        left &= left - 1;
                    }
                    if in_person < away {
                        cost += in_person;
                        penalties.push(away - in_person);
                    } else {
                        cost += away;
                    }
                }
                // Those over the capacity stay away: the ones that lose least by it.
                if penalties.len() > capacity as usize {
                    let over = penalties.len() - capacity as usize;
                    penalties.sort_by(f64::total_cmp);
                    cost += penalties[..over].iter().sum::<f64>();
                }
                least = least.min(cost);
            }
            if set == 0 {
                break;
            }
            set = (set - 1) & new_days;
        }
        self.penalties = penalties;
        self.aways = aways;
        self.in_person_by_day = in_person_by_day;
        least - refill
    }

    /// The least waiting that coming in person on day `d` adds when every site the step
    /// could use that day differs from every site the patient already comes to then: it
    /// lies before, after or between those appointments, a travel time (rounded up to the
    /// grid) apart. Several such steps on one day may add it only once. (Inside
    /// a gap it takes that gap's waiting, which [`Search::rest`] counts as removable; the
    /// gap held the travel both ways and the appointment, so the floor still holds.)
    fn travel_floor(&self, step: &Step, day: &DayState, d: usize) -> f64 {
        let (mine, theirs) = (step.sites[d], day.sites[d]);
        if mine == 0 || theirs == 0 || mine & theirs != 0 || self.idle_per_min == 0.0 {
            return 0.0;
        }
        let mut least = i32::MAX;
        let mut a = mine;
        while a != 0 {
            let x = a.trailing_zeros() as usize;
            let mut b = theirs;
            while b != 0 {
                let y = b.trailing_zeros() as usize;
                least = least.min(self.travel[x][y]);
                b &= b - 1;
            }
            a &= a - 1;
        }
        // Starts and durations sit on the grid, so does every gap.
        let gap = (least.max(0) + self.grid - 1) / self.grid * self.grid;
        self.idle_per_min * f64::from(gap)
    }

    /// Where the week stands with the first `decided` steps placed or left out.
    fn day_state(&self, state: &State, decided: usize) -> DayState {
        let mut open = 0u32;
        let mut waiting = [0.0; MAX_DAYS];
        let mut room = [0; MAX_DAYS];
        let mut sites = [0u64; MAX_DAYS];
        for d in 0..self.ndays {
            if state.travels(self.patient, d) {
                open |= 1 << d;
                waiting[d] = state.patient_day_cost(self.patient, d, None) as f64 - self.trip;
            }
            let booked = state.patient_day_count(self.patient, d) as u32;
            room[d] = self
                .max_per_day
                .map_or(u32::MAX, |m| m.saturating_sub(booked));
            sites[d] = state
                .patient_day(self.patient, d)
                .iter()
                .filter_map(|&r| state.placed(r as usize)?.site)
                .filter(|&x| x < 64)
                .fold(0u64, |m, x| m | 1 << x);
        }
        let all = (1u32 << self.ndays) - 1;
        let allowed = self
            .steps
            .iter()
            .map(|step| {
                let mut masks = [all, all];
                for &(b, min_gap, max_gap) in &step.preds {
                    let Some(placed) = state.placed(self.steps[b].request) else {
                        if b < decided {
                            masks = [0, 0];
                        }
                        continue;
                    };
                    let (lo, hi) = (
                        placed.end + min_gap,
                        max_gap.map_or(i32::MAX, |g| placed.end.saturating_add(g)),
                    );
                    for (mode, mask) in masks.iter_mut().enumerate() {
                        for (d, span) in step.starts.iter().enumerate() {
                            let (first, last) = span[mode];
                            if last < lo || first > hi {
                                *mask &= !(1 << d);
                            }
                        }
                    }
                }
                for &m in &step.mates {
                    match state.placed(self.steps[m].request) {
                        Some(o) => masks = masks.map(|mask| mask & 1 << o.day),
                        None if m < decided => masks = [0, 0],
                        None => {}
                    }
                }
                masks
            })
            .collect();
        DayState {
            open,
            waiting,
            room,
            allowed,
            sites,
        }
    }

    /// Explores step `k` on with the objective so far `cost` and the week standing as
    /// `day` (the first `k` steps decided); false when out of nodes.
    fn descend(&mut self, state: &mut State, k: usize, cost: f64, day: &DayState) -> bool {
        if k == self.steps.len() {
            if cost < self.best {
                self.best = cost;
                if self.weeks.len() == WEEKS_KEPT {
                    self.weeks.remove(0);
                }
                let week = self
                    .steps
                    .iter()
                    .filter_map(|s| Some((s.request, state.assign[s.request]?)))
                    .collect();
                self.weeks.push((cost, week));
            }
            return true;
        }
        let steps = self.steps;
        let step = &steps[k];
        let r = step.request;
        // Without this step's own trip and day (but with the waiting it may fill): a weaker
        // but option-independent bound for the loop.
        let after = self.rest(k + 1, day, k);
        let undecided = |x: usize| {
            steps[k + 1..].iter().any(|s| s.request == x) || steps.iter().all(|s| s.request != x)
        };
        let [in_days, tele_days] = day.allowed[k];
        let last = k + 1 == steps.len();
        for &(raised, oi) in &step.options {
            if cost + raised - step.weight + after >= self.best - 1e-9 {
                // Options are sorted: none after this one can do better either.
                break;
            }
            // Options passed over are not nodes, yet on a fine grid they are many: the
            // clock is read every so many options looked at.
            self.looked += 1;
            if self.looked.is_multiple_of(DEADLINE_EVERY)
                && self.deadline.is_some_and(|d| Instant::now() >= d)
            {
                self.node_limit = self.nodes;
                self.abandon(k, day, cost, cost + raised - step.weight + after);
                return false;
            }
            // Cheap rejections first, not counted as nodes: a day its prerequisites or
            // bundle mates rule out, a gap to a placed prerequisite.
            let o = &state.domains.opts[r][oi as usize];
            let days = if o.in_person() { in_days } else { tele_days };
            if days & (1 << o.day) == 0
                || step.preds.iter().any(|&(b, min_gap, max_gap)| {
                    state
                        .placed(steps[b].request)
                        .is_some_and(|p| !gap_ok(p.end, o.start, min_gap, max_gap))
                })
            {
                continue;
            }
            // The last step's cost is known before placing it.
            if last
                && cost + state.insert_delta(r, oi) as f64 + (raised - o.cost as f64)
                    >= self.best - 1e-9
            {
                continue;
            }
            self.nodes += 1;
            if self.nodes > self.node_limit {
                // This option and the ones after it, and leaving the step out, are abandoned.
                self.abandon(k, day, cost, cost + raised - step.weight + after);
                return false;
            }
            if !state.fits(r, oi, &undecided) {
                continue;
            }
            let delta = state.insert_delta(r, oi) as f64
                + (raised - state.domains.opts[r][oi as usize].cost as f64);
            state.place(r, oi);
            let child = self.day_state(state, k + 1);
            let bound = cost + delta + self.rest(k + 1, &child, k + 1);
            let complete = if bound < self.best - 1e-9 {
                self.descend(state, k + 1, cost + delta, &child)
            } else {
                true
            };
            state.remove(r);
            if !complete {
                // What the child left is abandoned there; here the options after this one
                // (none cheaper) and leaving the step out.
                self.abandon(k, day, cost, cost + raised - step.weight + after);
                return false;
            }
        }
        // A bundle is placed whole or not at all: a step whose mate is placed stays too.
        let mate_placed = step
            .mates
            .iter()
            .any(|&m| state.placed(steps[m].request).is_some());
        if step.may_skip && !mate_placed && cost + self.rest(k + 1, day, k + 1) < self.best - 1e-9 {
            let child = self.day_state(state, k + 1);
            return self.descend(state, k + 1, cost, &child);
        }
        true
    }

    /// Notes what step `k` leaves unexplored at the node limit, with the objective so far
    /// `cost`: its options from one bounded by `options_bound` on, and leaving it out.
    fn abandon(&mut self, k: usize, day: &DayState, cost: f64, options_bound: f64) {
        let mut bound = options_bound;
        if self.steps[k].may_skip {
            bound = bound.min(cost + self.rest(k + 1, day, k + 1));
        }
        self.abandoned = self.abandoned.min(bound);
    }
}

/// The step every gap between two appointments of a day is a multiple of: the grid, unless
/// a clock change by a part of it (30 minutes on Lord Howe, against a 60-minute grid)
/// moves the grid's lines within a day, where gaps of any minute count can occur.
fn gaps_grid(problem: &crate::problem::Problem) -> i32 {
    let grid = problem.grid.max(1);
    let change_in_steps = problem
        .days
        .iter()
        .all(|d| (d.end - d.start - 1440) % grid == 0);
    if change_in_steps {
        grid
    } else {
        1
    }
}

/// `sums[i]` = `values[0] + … + values[i - 1]` (as many as `sums` has room for after
/// `sums[0] = 0`): a stretch's total is then one difference.
pub(super) fn running_sums(values: &[f64], sums: &mut [f64]) {
    let mut total = 0.0;
    sums[0] = 0.0;
    for (s, v) in sums[1..].iter_mut().zip(values) {
        total += v;
        *s = total;
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::solve::domain::Domains;
    use crate::solve::test_caseloads::caseload as generated;
    use crate::solve::week_pricing;

    /// The steps' packed scan picks, for every request, day and mode, what a look at every
    /// option in order picks: the cheapest raised option, the first among equals. Generated
    /// caseloads with scanners (options with resources) and provider caps on every other
    /// provider, at random multipliers, half of them zero so that ties occur.
    #[test]
    fn the_packed_scan_picks_what_every_option_in_order_picks() {
        use crate::solve::test_caseloads::caseload_with;
        for (seed, grid_min) in [(3, 15), (4, 5)] {
            let problem = caseload_with(40, seed, grid_min, |input| {
                for provider in input.providers.iter_mut().step_by(2) {
                    provider.max_per_day = Some(5);
                }
            });
            let domains = Domains::build(&problem);
            let comp: Vec<usize> = (0..problem.requests.len()).collect();
            let empty = State::new(&problem, &domains);
            let rel = Relaxation::new(&empty, &comp);
            assert!(!rel.caps.is_empty(), "capped provider-days");
            assert!(
                !rel.scan.with_resources.is_empty(),
                "options with resources"
            );
            let ndays = problem.days.len();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..5 {
                let mut draw = |len: usize| -> Vec<f64> {
                    (0..len)
                        .map(|_| {
                            if rng.gen_bool(0.5) {
                                0.0
                            } else {
                                f64::from(rng.gen_range(0..40)) / 4.0
                            }
                        })
                        .collect()
                };
                let (pi, mu) = (draw(rel.instants), draw(rel.caps.len()));
                let prefix = rel.prefix_of(&pi);
                let duals: Vec<f64> = pi.iter().chain(&mu).copied().collect();
                let prices = rel.step_prices(&duals);
                let mut tables = DayTables::default();
                for pat in &rel.patients {
                    rel.cheapest(&prices, pat, &mut tables);
                    for (i, &r) in pat.requests.iter().enumerate() {
                        let mut seen = vec![[(f64::INFINITY, u32::MAX); 2]; ndays];
                        for (oi, u) in rel.uses[r].iter().enumerate() {
                            let c = f64::from(u.cost) + rel.raise_use(&prefix, &mu, u);
                            let slot = &mut seen[u.day as usize][usize::from(u.in_person)];
                            if c < slot.0 {
                                *slot = (c, oi as u32);
                            }
                        }
                        for (d, [tele, in_person]) in seen.iter().enumerate() {
                            assert_eq!(tables.tele[i * ndays + d], *tele, "request {r}, day {d}");
                            assert_eq!(
                                tables.in_person[i * ndays + d],
                                *in_person,
                                "request {r}, day {d}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Gaps are counted in grid steps unless a clock change moves the grid's lines.
    #[test]
    fn gaps_keep_to_the_grid_unless_a_change_moves_its_lines() {
        let week = |zone: &str, start: &str, grid: u32| {
            let text = format!(
                r#"{{"version": 1, "week": {{"start": "{start}", "days": 1, "grid_min": {grid}, "timezone": "{zone}"}},
                "sites": [{{"id": "s"}}], "providers": [{{"id": "d", "specialty": "lab", "site": "s",
                "hours": {{"sun": [["08:00", "12:00"]]}}}}], "patients": [{{"id": "p"}}],
                "requests": [{{"id": "r", "patient": "p", "specialty": "lab", "duration_min": 60}}]}}"#
            );
            crate::validate(crate::parse_input(&text).unwrap()).unwrap()
        };
        assert_eq!(gaps_grid(&week("Europe/Paris", "2026-10-25", 60)), 60);
        assert_eq!(
            gaps_grid(&week("Australia/Lord_Howe", "2026-10-04", 30)),
            30
        );
        assert_eq!(gaps_grid(&week("Australia/Lord_Howe", "2026-10-04", 60)), 1);
        assert_eq!(
            gaps_grid(&week("Australia/Lord_Howe", "2026-10-11", 60)),
            60
        );
    }

    /// A scanner open two hours of the week for every MRI of the caseload: within a few
    /// hundred steps the bound learns that all but two of them are turned away.
    #[test]
    fn a_scanner_short_for_the_week_raises_the_bound() {
        use crate::model::{WeeklyWindows, Window};
        use crate::solve::test_caseloads::caseload_with;
        use crate::time::{ClockTime, DayOfWeek};
        let never = AtomicBool::new(false);
        let problem = caseload_with(120, 4, 15, |input| {
            input
                .resources
                .retain(|u| u.kind != "mri" || u.id == "mri-main");
            for u in input.resources.iter_mut().filter(|u| u.kind == "mri") {
                let mut hours = WeeklyWindows::new();
                hours.insert(
                    DayOfWeek::ALL[0],
                    vec![Window(ClockTime(8 * 60), ClockTime(10 * 60))],
                );
                u.hours = Some(hours);
            }
        });
        let domains = Domains::build(&problem);
        let scans: Vec<usize> = (0..problem.requests.len())
            .filter(|&r| {
                domains.opts[r].iter().any(|o| {
                    o.resources
                        .iter()
                        .any(|&u| problem.resources[u as usize].kind == "mri")
                })
            })
            .collect();
        assert!(scans.len() >= 5, "{} MRIs on the caseload", scans.len());
        let mut weights: Vec<i64> = scans
            .iter()
            .map(|&r| unplaced_weight(&problem, r))
            .collect();
        weights.sort_unstable();
        // Two 45-minute scans fit in two hours: the others are left out, the lightest
        // at best.
        let turned_away: i64 = weights[..weights.len() - 2].iter().sum();
        let all: Vec<usize> = (0..problem.requests.len()).collect();
        let empty = State::new(&problem, &domains);
        let bound = |max_steps| {
            let budget = Budget {
                deadline: Instant::now() + std::time::Duration::from_secs(3600),
                cancel: &never,
                max_steps,
                node_limit: 2_000,
                deterministic: true,
            };
            lagrangian_bound(&empty, &all, i64::MAX / 4, budget).bound
        };
        let (priced, unpriced) = (bound(300), bound(1));
        assert!(
            priced - unpriced >= 0.8 * turned_away as f64,
            "bound {priced} against {unpriced} at zero prices: at least {turned_away} of scans \
             cannot fit"
        );
    }

    /// With time for it (a far deadline, no work budget), column generation runs and the
    /// bound stays valid: never above the objective of a good schedule of the caseload,
    /// nor below the bound without it.
    #[test]
    fn column_generation_keeps_the_bound_valid() {
        let never = AtomicBool::new(false);
        let mut rounds = 0;
        for (patients, seed, grid_min) in [(8, 11, 15), (14, 12, 5), (24, 13, 15)] {
            let problem = generated(patients, seed, grid_min);
            let domains = Domains::build(&problem);
            let schedule = crate::solve::solve(
                &problem,
                &crate::solve::SolveOptions {
                    time_limit: 600.0,
                    threads: 1,
                    seed,
                    work: Some(300),
                    ..Default::default()
                },
            );
            let all: Vec<usize> = (0..problem.requests.len()).collect();
            let empty = State::new(&problem, &domains);
            let mut incumbent = State::new(&problem, &domains);
            super::super::construct::construct(&mut incumbent, &all);
            let budget = || Budget {
                deadline: Instant::now() + std::time::Duration::from_secs(3600),
                cancel: &never,
                max_steps: 2_000,
                node_limit: 2_000,
                deterministic: false,
            };
            let upper = incumbent.total();
            let without = lagrangian_bound(&empty, &all, upper, budget());
            let with = column_generation(&empty, &all, &incumbent, upper, &without, budget());
            let best = schedule.objective.total as f64;
            assert!(
                with.bound <= best + 1e-6,
                "{patients} patients: bound {} above a schedule's {best}",
                with.bound
            );
            assert!(
                with.bound >= without.bound,
                "{patients} patients: {} with columns, {} without",
                with.bound,
                without.bound
            );
            rounds += with.rounds;
        }
        assert!(rounds > 0, "column generation never ran");
    }

    /// The search by day patterns finds the option search's minimum, and a week of that
    /// cost, on patients of both grids under random prices.
    #[test]
    fn day_patterns_find_the_option_search_minimum() {
        let mut compared = 0;
        for (seed, grid_min, patients) in [(3, 15, 60), (4, 5, 40), (11, 15, 60), (12, 5, 40)] {
            let problem = generated(patients, seed, grid_min);
            let domains = Domains::build(&problem);
            let mut state = State::new(&problem, &domains);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for scale in [0.0, 30.0, 3000.0] {
                let extra: Vec<Vec<f64>> = domains
                    .opts
                    .iter()
                    .map(|os| os.iter().map(|_| rng.gen_range(0.0..=scale)).collect())
                    .collect();
                let raised = |r: usize, oi: usize| extra[r][oi];
                for q in 0..problem.patients.len() {
                    let requests: Vec<usize> = (0..problem.requests.len())
                        .filter(|&r| problem.requests[r].patient == q)
                        .collect();
                    let by_options =
                        option_search(&mut state, &requests, &raised, usize::MAX, None);
                    // Days sequenced by order (as run), and by the plain search (the
                    // fallback for days the ordering does not cover).
                    let (low, weeks) =
                        week_pricing::price_week(&state, &requests, &raised, usize::MAX, None)
                            .expect("generated patients are in scope");
                    let plain = week_pricing::price_week_sequencing(
                        &state,
                        &requests,
                        &raised,
                        usize::MAX,
                        None,
                        0,
                    )
                    .expect("generated patients are in scope")
                    .0;
                    assert!(
                        (low - by_options.0).abs() < 1e-6 && (plain - low).abs() < 1e-6,
                        "seed {seed}, patient {q}, scale {scale}: {low} by days, {plain} by \
                         days searched plainly, {} by options",
                        by_options.0
                    );
                    // The best week found is a real week of that cost.
                    let (cost, week) = weeks.last().expect("a week");
                    assert!((cost - low).abs() < 1e-6);
                    for &(r, oi) in week {
                        assert!(state.fits(r, oi, &|_| false), "seed {seed}, patient {q}");
                        state.place(r, oi);
                    }
                    let placed: f64 = week.iter().map(|&(r, oi)| raised(r, oi as usize)).sum();
                    let objective = state.total() as f64
                        - (0..problem.requests.len())
                            .filter(|&r| problem.requests[r].patient != q)
                            .map(|r| unplaced_weight(&problem, r) as f64)
                            .sum::<f64>();
                    assert!(
                        (objective + placed - cost).abs() < 1e-6,
                        "seed {seed}, patient {q}: week costs {} not {cost}",
                        objective + placed
                    );
                    for &(r, _) in week {
                        state.remove(r);
                    }
                    compared += 1;
                }
            }
        }
        assert!(compared > 500, "{compared}");
    }

    /// A patient's exact search stopped at a node limit still bounds the patient's true
    /// minimum from below (the best week found or a subtree left unexplored), for every
    /// limit; without one it is that minimum.
    #[test]
    fn node_limited_patient_minimum_stays_a_lower_bound() {
        for (seed, grid_min) in [(3, 15), (4, 5)] {
            let problem = generated(40, seed, grid_min);
            let domains = Domains::build(&problem);
            let mut state = State::new(&problem, &domains);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Random prices on the options, as the multipliers would set them.
            let extra: Vec<Vec<f64>> = domains
                .opts
                .iter()
                .map(|os| os.iter().map(|_| rng.gen_range(0.0..3000.0)).collect())
                .collect();
            let raised = |r: usize, oi: usize| extra[r][oi];
            let (mut limited, mut below) = (0, 0);
            for q in 0..problem.patients.len() {
                let requests: Vec<usize> = (0..problem.requests.len())
                    .filter(|&r| problem.requests[r].patient == q && !domains.opts[r].is_empty())
                    .collect();
                if requests.len() < 3 {
                    continue;
                }
                let exact = patient_week(&mut state, &requests, &raised, usize::MAX, None).0;
                assert!(exact.is_finite(), "patient {q}");
                for limit in [1, 3, 10, 30, 100, 300] {
                    let bound = patient_week(&mut state, &requests, &raised, limit, None).0;
                    assert!(
                        bound <= exact + 1e-6,
                        "patient {q}, limit {limit}: {bound} above the minimum {exact}"
                    );
                    limited += 1;
                    below += usize::from(bound < exact - 1e-6);
                }
            }
            // The limits did cut searches short, and the test saw it.
            assert!(limited > 50 && below > 10, "{limited} {below}");
        }
    }
}
