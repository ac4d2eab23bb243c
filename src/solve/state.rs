//! A partial schedule with incremental feasibility checks and objective bookkeeping: the
//! one place that knows how placed appointments interact (overlaps, caps, travel, links).

use crate::problem::Problem;

use super::domain::{Domains, Opt, ProviderDayRun, Slot};

/// Occupied `(start, end, request)` intervals of one provider-day or resource-day.
type Busy = Vec<(i32, i32, u32)>;

/// What a patient's bookings of one day come to.
#[derive(Clone, Copy, Default)]
struct DaySummary {
    /// Trip and waiting ([`State::patient_day_cost`] with nothing added).
    cost: i64,
    /// Whether one of them is in person.
    travels: bool,
}

/// A partial schedule over a problem's domains.
#[derive(Clone)]
pub struct State<'a> {
    /// The problem.
    pub problem: &'a Problem,
    /// The domains options refer to.
    pub domains: &'a Domains,
    /// Chosen option index per request.
    pub assign: Vec<Option<u32>>,
    ndays: usize,
    provider_busy: Vec<Busy>,
    /// The minutes each provider-day is booked, a bit per minute from the day's local
    /// midnight: the overlap test of every candidate scan in one or two word operations
    /// instead of a binary search of the bookings (which was a third of the search's time
    /// at 1,000 patients).
    provider_minutes: Vec<DayMinutes>,
    /// Per provider-day: the longest run of minutes open to some option and not booked, so
    /// that a candidate scan passes over a provider-day with no room at once
    /// ([`State::may_fit`]), and the first minute of one such run: a booking away from it
    /// leaves the longest as it was.
    free_run: Vec<FreeRun>,
    resource_busy: Vec<Busy>,
    patient_day: Vec<Vec<u32>>,
    /// Per patient-day, what its bookings come to, kept by `place` and `remove`: candidate
    /// scans ask for it far more often than bookings change.
    day_summary: Vec<DaySummary>,
    patient_trips: Vec<u32>,
    /// Precedence indices where the request is `after`.
    preds: Vec<Vec<usize>>,
    /// Precedence indices where the request is `before`.
    succs: Vec<Vec<usize>>,
    /// Same-day group indices per request.
    groups: Vec<Vec<usize>>,
    /// Current objective total.
    total: i64,
}

impl<'a> State<'a> {
    /// An empty schedule: nothing placed.
    pub fn new(problem: &'a Problem, domains: &'a Domains) -> Self {
        let n = problem.requests.len();
        let ndays = problem.days.len();
        let mut preds = vec![Vec::new(); n];
        let mut succs = vec![Vec::new(); n];
        for (i, p) in problem.precedences.iter().enumerate() {
            preds[p.after].push(i);
            succs[p.before].push(i);
        }
        let mut groups = vec![Vec::new(); n];
        for (g, members) in problem.same_day.iter().enumerate() {
            for &r in members {
                if !groups[r].contains(&g) {
                    groups[r].push(g);
                }
            }
        }
        let total = (0..n).map(|r| unplaced_weight(problem, r)).sum();
        State {
            problem,
            domains,
            assign: vec![None; n],
            ndays,
            provider_busy: vec![Vec::new(); problem.providers.len() * ndays],
            provider_minutes: vec![[0; MINUTE_WORDS]; problem.providers.len() * ndays],
            free_run: domains
                .open_minutes
                .iter()
                .map(|open| longest_free_run(open, &[0; MINUTE_WORDS], 0))
                .collect(),
            resource_busy: vec![Vec::new(); problem.resources.len() * ndays],
            patient_day: vec![Vec::new(); problem.patients.len() * ndays],
            day_summary: vec![DaySummary::default(); problem.patients.len() * ndays],
            patient_trips: vec![0; problem.patients.len()],
            preds,
            succs,
            groups,
            total,
        }
    }

    /// Whether `r` must be placed in every feasible schedule ([`Problem::required`]).
    pub fn required(&self, r: usize) -> bool {
        self.problem.required[r]
    }

    /// The current objective total.
    pub fn total(&self) -> i64 {
        self.total
    }

    /// Option `oi` of request `r`.
    pub fn opt(&self, r: usize, oi: u32) -> &'a Opt {
        &self.domains.opts[r][oi as usize]
    }

    /// The chosen option of `r`, if placed.
    pub fn placed(&self, r: usize) -> Option<&'a Opt> {
        self.assign[r].map(|oi| self.opt(r, oi))
    }

    /// Precedence indices where `r` comes second.
    pub fn preds(&self, r: usize) -> &[usize] {
        &self.preds[r]
    }

    /// Precedence indices where `r` comes first.
    pub fn succs(&self, r: usize) -> &[usize] {
        &self.succs[r]
    }

    /// Same-day groups of `r`.
    pub fn groups(&self, r: usize) -> &[usize] {
        &self.groups[r]
    }

    /// Requests placed for patient `q` on day `d`.
    pub fn patient_day(&self, q: usize, d: usize) -> &[u32] {
        &self.patient_day[q * self.ndays + d]
    }

    /// Requests placed with provider `p` on day `d`, as `(start, end, request)`.
    pub fn provider_day(&self, p: usize, d: usize) -> &[(i32, i32, u32)] {
        &self.provider_busy[p * self.ndays + d]
    }

    /// Requests booked on resource `u` on day `d`.
    pub fn resource_day(&self, u: usize, d: usize) -> &[(i32, i32, u32)] {
        &self.resource_busy[u * self.ndays + d]
    }

    /// Days patient `q` travels, so far.
    pub fn trips(&self, q: usize) -> u32 {
        self.patient_trips[q]
    }

    /// Whether option `oi` of unplaced `r` fits everything placed, with every link to
    /// requests for which `ignore` is true left to the caller.
    pub fn fits(&self, r: usize, oi: u32, ignore: &dyn Fn(usize) -> bool) -> bool {
        self.fits_resources(r, oi)
            && self.fits_patient(r, oi, true)
            && self.fits_links(r, oi, ignore)
    }

    /// The options of `r` that may fit the providers' calendars, in the order of
    /// [`Domains::by_provider_day`] (not by index): those of a provider-day at its cap or
    /// without a free run as long as they are left out, all of which
    /// [`State::fits_resources`] would refuse. Callers that pick one option break ties by
    /// index, so that the order does not matter.
    pub fn may_fit(&self, r: usize) -> impl Iterator<Item = u32> + '_ {
        self.open_runs(r)
            .flat_map(|(stretch, _)| stretch.iter().copied())
    }

    /// [`State::may_fit`] run by run: each provider-day's stretch of
    /// [`Domains::by_provider_day`] that may hold an option of `r`, with its run.
    pub fn open_runs(&self, r: usize) -> impl Iterator<Item = (&[u32], &ProviderDayRun)> + '_ {
        let order = &self.domains.by_provider_day[r];
        let mut start = 0usize;
        self.domains.runs[r].iter().filter_map(move |run| {
            let stretch = &order[start..run.end as usize];
            start = run.end as usize;
            let pd = run.provider_day as usize;
            let cap = self.domains.provider_day_cap[pd];
            let full = cap != u32::MAX && self.provider_busy[pd].len() as u32 >= cap;
            let no_room = !self.domains.unmapped[pd] && self.free_run[pd].len < run.minutes;
            (!(full || no_room)).then_some((stretch, run))
        })
    }

    /// Provider, resources: overlap and provider cap.
    pub fn fits_resources(&self, r: usize, oi: u32) -> bool {
        let slot = self.domains.slots[r][oi as usize];
        let pd = slot.provider_day as usize;
        let cap = self.domains.provider_day_cap[pd];
        if cap != u32::MAX && self.provider_busy[pd].len() as u32 >= cap {
            return false;
        }
        if slot.hi != Slot::SLOW {
            return !any_minute(
                &self.provider_minutes[pd],
                slot.lo as usize,
                slot.hi as usize,
            );
        }
        // An option with resources, or minutes its day's bitmap does not cover.
        let o = self.opt(r, oi);
        let d = o.day as usize;
        let taken = match self.minutes_of(d, o.start, o.end) {
            Some((lo, hi)) => any_minute(&self.provider_minutes[pd], lo, hi),
            None => overlaps(&self.provider_busy[pd], o.start, o.end),
        };
        !taken
            && o.resources.iter().all(|&u| {
                !overlaps(
                    &self.resource_busy[u as usize * self.ndays + d],
                    o.start,
                    o.end,
                )
            })
    }

    /// Whether `provider` has reached their `max_per_day` on `day`.
    pub fn provider_at_daily_limit(&self, provider: u32, day: usize) -> bool {
        let pd = provider as usize * self.ndays + day;
        let cap = self.domains.provider_day_cap[pd];
        cap != u32::MAX && self.provider_busy[pd].len() as u32 >= cap
    }

    /// Whether other bookings hold any of `provider`'s minutes in `[start, end)` on `day`.
    pub fn provider_booked(&self, provider: u32, day: usize, start: i32, end: i32) -> bool {
        overlaps(
            &self.provider_busy[provider as usize * self.ndays + day],
            start,
            end,
        )
    }

    /// Whether other bookings hold resource `unit` in `[start, end)` on `day`.
    pub fn resource_booked(&self, unit: u32, day: usize, start: i32, end: i32) -> bool {
        overlaps(
            &self.resource_busy[unit as usize * self.ndays + day],
            start,
            end,
        )
    }

    /// Whether `patient` already has as many appointments on `day` as they allow a day.
    pub fn at_daily_limit(&self, patient: usize, day: usize) -> bool {
        self.problem.patients[patient]
            .max_per_day
            .is_some_and(|cap| self.patient_day[patient * self.ndays + day].len() as u32 >= cap)
    }

    /// Patient: one at a time, travel, cap per day and (if `trips`) the trip cap.
    pub fn fits_patient(&self, r: usize, oi: u32, trips: bool) -> bool {
        let o = self.opt(r, oi);
        let q = self.problem.requests[r].patient;
        let d = o.day as usize;
        let patient = &self.problem.patients[q];
        let today = &self.patient_day[q * self.ndays + d];
        if self.at_daily_limit(q, d) {
            return false;
        }
        let mut travels_today = false;
        for &r2 in today {
            let o2 = self
                .placed(r2 as usize)
                .expect("listed requests are placed");
            let sep = match (o.site, o2.site) {
                (Some(a), Some(b)) => {
                    travels_today = true;
                    self.problem.travel[a as usize][b as usize]
                }
                _ => 0,
            };
            if !(o.end + sep <= o2.start || o2.end + sep <= o.start) {
                return false;
            }
        }
        if trips && o.in_person() && !travels_today {
            if let Some(max) = patient.max_trips {
                if !self.travels(q, d) && self.patient_trips[q] >= max {
                    return false;
                }
            }
        }
        true
    }

    /// Precedences and same-day bundles with placed requests (and unplaced prerequisites),
    /// leaving out the linked requests `ignore` names. `ignore` is asked only about a link
    /// that would refuse the option: a bundle of hundreds asks it of every mate for every
    /// option (a 200-request same-day bundle spent 40 s in it).
    pub fn fits_links(&self, r: usize, oi: u32, ignore: &dyn Fn(usize) -> bool) -> bool {
        let o = self.opt(r, oi);
        for &i in &self.preds[r] {
            let p = self.problem.precedences[i];
            let kept = self
                .placed(p.before)
                .is_some_and(|b| gap_ok(b.end, o.start, p.min_gap, p.max_gap));
            if !kept && !ignore(p.before) {
                return false;
            }
        }
        for &i in &self.succs[r] {
            let p = self.problem.precedences[i];
            if let Some(a) = self.placed(p.after) {
                if !gap_ok(o.end, a.start, p.min_gap, p.max_gap) && !ignore(p.after) {
                    return false;
                }
            }
        }
        for &g in &self.groups[r] {
            for &m in &self.problem.same_day[g] {
                if m == r {
                    continue;
                }
                if let Some(x) = self.placed(m) {
                    if x.day != o.day && !ignore(m) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Objective change if `r` were placed with option `oi` (negative is better).
    pub fn insert_delta(&self, r: usize, oi: u32) -> i64 {
        let o = self.opt(r, oi);
        let q = self.problem.requests[r].patient;
        let d = o.day as usize;
        let before = self.patient_day_cost(q, d, None);
        let after = self.patient_day_cost(q, d, Some(o));
        Self::booking_change(self.problem, r, o, before, after)
    }

    /// The objective's change when `r` is booked at `o` and its patient's day goes from
    /// costing `day_without` to `day_with`.
    fn booking_change(
        problem: &Problem,
        r: usize,
        o: &Opt,
        day_without: i64,
        day_with: i64,
    ) -> i64 {
        o.cost - unplaced_weight(problem, r) + day_with - day_without
    }

    /// Trip and idle cost of patient `q` on day `d`, with `extra` added.
    pub fn patient_day_cost(&self, q: usize, d: usize, extra: Option<&Opt>) -> i64 {
        match extra {
            None => self.day_summary[q * self.ndays + d].cost,
            Some(_) => self.count_day(q, d, extra).cost,
        }
    }

    /// Patient `q`'s day `d` with `extra` added, counted from the bookings.
    fn count_day(&self, q: usize, d: usize, extra: Option<&Opt>) -> DaySummary {
        // A day holds a few appointments: their spans go on the stack (this runs for every
        // candidate a search weighs), on the heap only past that.
        let mut stack = [(0i32, 0i32); 8];
        let mut heap: Vec<(i32, i32)> = Vec::new();
        let mut n = 0;
        let in_person = self.patient_day[q * self.ndays + d]
            .iter()
            .filter_map(|&r| self.placed(r as usize))
            .chain(extra)
            .filter(|o| o.in_person());
        for o in in_person {
            if n < stack.len() {
                stack[n] = (o.start, o.end);
            } else {
                if heap.is_empty() {
                    heap.extend_from_slice(&stack);
                }
                heap.push((o.start, o.end));
            }
            n += 1;
        }
        if n == 0 {
            return DaySummary::default();
        }
        let spans = if n <= stack.len() {
            &mut stack[..n]
        } else {
            &mut heap[..]
        };
        spans.sort_unstable();
        let w = &self.problem.weights;
        let idle: i64 = spans
            .windows(2)
            .map(|p| (p[1].0 - p[0].1).max(0) as i64)
            .sum();
        DaySummary {
            cost: w.trip + w.idle_per_min * idle,
            travels: true,
        }
    }

    /// The part of the objective that belongs to a component's requests (each placed one's
    /// option cost, each unplaced one's weight) and to their patients' days (trips and
    /// waiting): what components searched apart compare their schedules by.
    pub fn component_total(&self, comp: &[usize]) -> i64 {
        let problem = self.problem;
        let mut patients: Vec<usize> = comp.iter().map(|&r| problem.requests[r].patient).collect();
        patients.sort_unstable();
        patients.dedup();
        let requests: i64 = comp
            .iter()
            .map(|&r| match self.placed(r) {
                Some(o) => o.cost,
                None => unplaced_weight(problem, r),
            })
            .sum();
        let days: i64 = patients
            .iter()
            .flat_map(|&q| (0..problem.days.len()).map(move |d| (q, d)))
            .map(|(q, d)| self.patient_day_cost(q, d, None))
            .sum();
        requests + days
    }

    /// Places `r` with option `oi` (no check: call [`State::fits`] first).
    pub fn place(&mut self, r: usize, oi: u32) {
        debug_assert!(self.assign[r].is_none());
        let o = self.opt(r, oi);
        let q = self.problem.requests[r].patient;
        let d = o.day as usize;
        let had_trip = self.travels(q, d);
        // The day with `o` is what the day's summary becomes: counted once, for both.
        let day_before = self.patient_day_cost(q, d, None);
        let day_after = self.count_day(q, d, Some(o));
        let delta = Self::booking_change(self.problem, r, o, day_before, day_after.cost);
        let pd = o.provider as usize * self.ndays + d;
        insert_sorted(&mut self.provider_busy[pd], (o.start, o.end, r as u32));
        if let Some((lo, hi)) = self.minutes_of(d, o.start, o.end) {
            set_minutes(&mut self.provider_minutes[pd], lo, hi, true);
            // Booking minutes only shortens the runs it falls in.
            let longest = self.free_run[pd];
            let at = usize::from(longest.at);
            if lo < at + usize::from(longest.len) && at < hi {
                self.free_run[pd] = longest_free_run(
                    &self.domains.open_minutes[pd],
                    &self.provider_minutes[pd],
                    0,
                );
            }
        }
        for &u in &o.resources {
            insert_sorted(
                &mut self.resource_busy[u as usize * self.ndays + d],
                (o.start, o.end, r as u32),
            );
        }
        self.patient_day[q * self.ndays + d].push(r as u32);
        self.assign[r] = Some(oi);
        self.day_summary[q * self.ndays + d] = day_after;
        if !had_trip && self.travels(q, d) {
            self.patient_trips[q] += 1;
        }
        self.total += delta;
    }

    /// Unplaces `r` (no cascade: see [`State::dependants`]).
    pub fn remove(&mut self, r: usize) {
        let Some(oi) = self.assign[r] else { return };
        let o = self.opt(r, oi);
        let q = self.problem.requests[r].patient;
        let d = o.day as usize;
        let had_trip = self.travels(q, d);
        let day_with = self.patient_day_cost(q, d, None);
        let pd = o.provider as usize * self.ndays + d;
        self.provider_busy[pd].retain(|x| x.2 != r as u32);
        if let Some((lo, hi)) = self.minutes_of(d, o.start, o.end) {
            // Bookings that overlap (none a checked placement makes) keep their minutes.
            let day_start = self.problem.days[d].start;
            let minutes = &mut self.provider_minutes[pd];
            set_minutes(minutes, lo, hi, false);
            for &(start, end, _) in &self.provider_busy[pd] {
                if start < o.end && o.start < end {
                    let (a, b) = (start.max(o.start), end.min(o.end));
                    set_minutes(
                        minutes,
                        (a - day_start) as usize,
                        (b - day_start) as usize,
                        true,
                    );
                }
            }
            // Freeing minutes only lengthens the runs that take them in: the longest is the
            // old one or one of those, which lie within the words around the freed minutes.
            let open = &self.domains.open_minutes[pd];
            let (first, last) = words_around(open, minutes, lo, hi);
            let near = longest_free_run(&open[first..=last], &minutes[first..=last], first);
            if near.len > self.free_run[pd].len {
                self.free_run[pd] = near;
            }
        }
        for &u in &o.resources {
            self.resource_busy[u as usize * self.ndays + d].retain(|x| x.2 != r as u32);
        }
        self.patient_day[q * self.ndays + d].retain(|&x| x != r as u32);
        self.assign[r] = None;
        self.summarise_day(q, d);
        if had_trip && !self.travels(q, d) {
            self.patient_trips[q] -= 1;
        }
        let day_without = self.patient_day_cost(q, d, None);
        self.total -= Self::booking_change(self.problem, r, o, day_without, day_with);
    }

    /// Appointments of patient `q` on day `d` (in person or not).
    pub fn patient_day_count(&self, q: usize, d: usize) -> usize {
        self.patient_day[q * self.ndays + d].len()
    }

    /// Whether patient `q` comes in person on day `d`.
    pub fn travels(&self, q: usize, d: usize) -> bool {
        self.day_summary[q * self.ndays + d].travels
    }

    /// Counts patient `q`'s day `d` anew into its summary, after a booking changed.
    fn summarise_day(&mut self, q: usize, d: usize) {
        self.day_summary[q * self.ndays + d] = self.count_day(q, d, None);
    }

    /// Requests that must leave with `r`: placed successors (transitively) and bundle mates.
    pub fn dependants(&self, r: usize) -> Vec<usize> {
        let mut out = vec![r];
        self.add_leaving_with(&mut out);
        out
    }

    /// Adds to `list` the placed successors and bundle mates of its members, and theirs in
    /// turn, without a list per member (this runs in every repair).
    fn add_leaving_with(&self, list: &mut Vec<usize>) {
        let mut i = 0;
        while i < list.len() {
            let x = list[i];
            let successors = self.succs[x]
                .iter()
                .map(|&k| self.problem.precedences[k].after);
            let bundled = self.groups[x]
                .iter()
                .flat_map(|&g| self.problem.same_day[g].iter().copied());
            for y in successors.chain(bundled) {
                if self.assign[y].is_some() && !list.contains(&y) {
                    list.push(y);
                }
            }
            i += 1;
        }
    }

    /// Adds to `free` whatever must leave with its members ([`State::dependants`]), then
    /// sorts it and drops repeats.
    pub fn with_dependants(&self, free: &mut Vec<usize>) {
        self.add_leaving_with(free);
        free.sort_unstable();
        free.dedup();
    }

    /// Whether `requests` may stay as they are after a repair: every pinned booking among
    /// them placed, every placed one with its prerequisites placed, every same-day bundle
    /// they belong to all placed or all unplaced.
    pub fn settled(&self, requests: &[usize]) -> bool {
        requests.iter().all(|&r| {
            if self.problem.requests[r].pinned() && self.assign[r].is_none() {
                return false;
            }
            if self.assign[r].is_some()
                && self.preds[r]
                    .iter()
                    .any(|&k| self.assign[self.problem.precedences[k].before].is_none())
            {
                return false;
            }
            self.groups[r].iter().all(|&g| {
                let members = &self.problem.same_day[g];
                let placed = members
                    .iter()
                    .filter(|&&m| self.assign[m].is_some())
                    .count();
                placed == 0 || placed == members.len()
            })
        })
    }
}

/// Cost of leaving `r` unplaced: priority weight, plus the moved weight for a movable booking.
pub fn unplaced_weight(problem: &Problem, r: usize) -> i64 {
    let req = &problem.requests[r];
    let mut w = problem.weights.unplaced_per_priority * req.priority as i64;
    if req.existing.as_ref().is_some_and(|e| !e.pinned) {
        w += problem.weights.moved;
    }
    w
}

/// Whether `after_start - before_end` lies in `[min, max]`.
pub fn gap_ok(before_end: i32, after_start: i32, min: i32, max: Option<i32>) -> bool {
    let gap = after_start - before_end;
    gap >= min && max.is_none_or(|m| gap <= m)
}

/// Minutes after a day's local midnight the booking bitmaps cover (25 hours and more:
/// a DST day's last minute, and a site an hour or so east of the week's time zone).
pub(super) const MINUTE_WORDS: usize = 24;
/// Minutes from a day's local midnight that its bitmap holds.
const BITMAP_MINUTES: usize = 64 * MINUTE_WORDS;

/// A provider-day's booked minutes, a bit per minute from the day's local midnight.
pub(super) type DayMinutes = [u64; MINUTE_WORDS];

impl State<'_> {
    /// `[start, end)` as bit positions of day `d`'s minutes, if the bitmap covers it.
    fn minutes_of(&self, d: usize, start: i32, end: i32) -> Option<(usize, usize)> {
        bitmap_span(self.problem, d, start, end)
    }
}

/// `[start, end)` as bit positions of day `d`'s booking bitmap (minutes from the day's
/// local midnight), if the bitmap covers it.
pub fn bitmap_span(problem: &Problem, d: usize, start: i32, end: i32) -> Option<(usize, usize)> {
    let day_start = problem.days[d].start;
    let (lo, hi) = (start - day_start, end - day_start);
    (0 <= lo && lo < hi && hi as usize <= BITMAP_MINUTES).then_some((lo as usize, hi as usize))
}

/// The minutes `[lo, hi)` as (word index, bits of that word).
fn word_masks(lo: usize, hi: usize) -> impl Iterator<Item = (usize, u64)> {
    (lo / 64..hi.div_ceil(64)).map(move |w| {
        let (a, b) = (lo.max(w * 64) - w * 64, hi.min(w * 64 + 64) - w * 64);
        (w, (u64::MAX >> (64 - (b - a))) << a)
    })
}

/// A provider-day's longest run of free minutes: its length, and its first minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FreeRun {
    len: u16,
    at: u16,
}

/// The longest run of minutes set in `open` and clear in `booked`, across words (the
/// earliest of the longest); `first_word`: the day's word `open[0]` is.
fn longest_free_run(open: &[u64], booked: &[u64], first_word: usize) -> FreeRun {
    let (mut best, mut best_at) = (0u32, 0u32);
    // The run reaching the current word: its length and first minute.
    let (mut run, mut run_at) = (0u32, 0u32);
    let mut keep = |len: u32, at: u32| {
        if len > best {
            (best, best_at) = (len, at);
        }
    };
    for (k, (&o, &b)) in open.iter().zip(booked).enumerate() {
        let base = ((first_word + k) * 64) as u32;
        let free = o & !b;
        if free == u64::MAX {
            if run == 0 {
                run_at = base;
            }
            run += 64;
            continue;
        }
        // The run carried in from the last word ends in this one's lowest clear bit.
        let carried = free.trailing_ones();
        if run + carried > 0 {
            keep(run + carried, if run > 0 { run_at } else { base });
        }
        let (len, at) = longest_run_in_word(free);
        keep(len, base + at);
        run = free.leading_ones();
        run_at = base + 64 - run;
    }
    keep(run, run_at);
    FreeRun {
        len: best.min(u32::from(u16::MAX)) as u16,
        at: best_at.min(u32::from(u16::MAX)) as u16,
    }
}

/// The words of a day that hold every free run taking in a minute of `[lo, hi)`: from
/// that of `lo` and of `hi - 1`, outwards across words whose edge minute is free, as far
/// as a word not wholly free.
fn words_around(open: &DayMinutes, booked: &DayMinutes, lo: usize, hi: usize) -> (usize, usize) {
    let free = |w: usize| open[w] & !booked[w];
    let mut first = lo / 64;
    while first > 0 && free(first - 1) >> 63 == 1 {
        first -= 1;
        if free(first) != u64::MAX {
            break;
        }
    }
    let mut last = (hi - 1) / 64;
    while last + 1 < MINUTE_WORDS && free(last + 1) & 1 == 1 {
        last += 1;
        if free(last) != u64::MAX {
            break;
        }
    }
    (first, last)
}

/// The longest run of set bits in `x`, one run at a time: a day's word holds a few runs,
/// and this runs at every placement and removal (shortening every run by one bit per step
/// instead took an eighth of a search's time at 300 patients).
fn longest_run_in_word(mut x: u64) -> (u32, u32) {
    let (mut best, mut best_at) = (0, 0);
    let mut at = 0;
    while x != 0 {
        let skip = x.trailing_zeros();
        x >>= skip;
        at += skip;
        let run = x.trailing_ones();
        if run > best {
            (best, best_at) = (run, at);
        }
        x = x.checked_shr(run).unwrap_or(0);
        at += run;
    }
    (best, best_at)
}

/// Whether any minute in `[lo, hi)` is booked.
fn any_minute(minutes: &DayMinutes, lo: usize, hi: usize) -> bool {
    word_masks(lo, hi).any(|(w, bits)| minutes[w] & bits != 0)
}

/// Marks the minutes `[lo, hi)` booked (`on`) or free.
pub(super) fn set_minutes(minutes: &mut DayMinutes, lo: usize, hi: usize, on: bool) {
    for (w, bits) in word_masks(lo, hi) {
        if on {
            minutes[w] |= bits;
        } else {
            minutes[w] &= !bits;
        }
    }
}

/// Whether `[start, end)` overlaps an interval of `busy` (sorted by start, disjoint: one
/// booking at a time), by binary search: only the last interval starting before `end` can.
fn overlaps(busy: &Busy, start: i32, end: i32) -> bool {
    let k = busy.partition_point(|&(s, _, _)| s < end);
    k > 0 && busy[k - 1].1 > start
}

fn insert_sorted(v: &mut Busy, x: (i32, i32, u32)) {
    let i = v.partition_point(|y| y.0 < x.0);
    v.insert(i, x);
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::solve::test_caseloads::{caseload_with, placeable};

    /// Through random placements and removals (some forced past `fits`, so bookings
    /// overlap), the minute bitmaps say a provider is taken exactly when the bookings list
    /// does, and `fits_resources` (on packed slots where it can) agrees with the bookings,
    /// the provider's cap and the resources' calendars.
    #[test]
    fn booked_minutes_agree_with_the_bookings() {
        for (seed, grid_min) in [(1, 15), (2, 5)] {
            // Tight caps on every other provider, so that the cap test is exercised.
            let problem = caseload_with(30, seed, grid_min, |input| {
                for provider in input.providers.iter_mut().step_by(2) {
                    provider.max_per_day = Some(4);
                }
            });
            let domains = Domains::build(&problem);
            let mut state = State::new(&problem, &domains);
            let placeable = placeable(&domains);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (mut checked, mut taken, mut capped, mut passed_over) = (0, 0, 0, 0);
            for step in 0..3_000 {
                let r = placeable[rng.gen_range(0..placeable.len())];
                if state.assign[r].is_some() {
                    state.remove(r);
                } else {
                    let oi = rng.gen_range(0..domains.opts[r].len()) as u32;
                    if step % 10 == 0 || state.fits_resources(r, oi) {
                        state.place(r, oi);
                    }
                }
                // The free runs kept up move by move are those counted afresh.
                for (pd, kept) in state.free_run.iter().enumerate() {
                    let fresh =
                        longest_free_run(&domains.open_minutes[pd], &state.provider_minutes[pd], 0);
                    assert_eq!(kept.len, fresh.len, "provider-day {pd} at step {step}");
                    assert!(
                        all_free(
                            &domains.open_minutes[pd],
                            &state.provider_minutes[pd],
                            *kept
                        ),
                        "provider-day {pd} at step {step}: {kept:?}"
                    );
                }
                let r = placeable[rng.gen_range(0..placeable.len())];
                let may_fit: std::collections::BTreeSet<u32> = state.may_fit(r).collect();
                assert_eq!(
                    state.may_fit(r).count(),
                    may_fit.len(),
                    "request {r}: an option offered twice"
                );
                passed_over += domains.opts[r].len() - may_fit.len();
                for (oi, o) in domains.opts[r].iter().enumerate() {
                    let (p, d) = (o.provider as usize, o.day as usize);
                    let listed =
                        overlaps(&state.provider_busy[p * state.ndays + d], o.start, o.end);
                    let (lo, hi) = state
                        .minutes_of(d, o.start, o.end)
                        .expect("generated options lie within their day");
                    let pd = p * state.ndays + d;
                    assert_eq!(
                        any_minute(&state.provider_minutes[pd], lo, hi),
                        listed,
                        "request {r} option {oi} at step {step}"
                    );
                    let full = problem.providers[p]
                        .max_per_day
                        .is_some_and(|cap| state.provider_busy[pd].len() as u32 >= cap);
                    let resource_taken = o.resources.iter().any(|&u| {
                        overlaps(
                            &state.resource_busy[u as usize * state.ndays + d],
                            o.start,
                            o.end,
                        )
                    });
                    assert_eq!(
                        state.fits_resources(r, oi as u32),
                        !(full || listed || resource_taken),
                        "request {r} option {oi} at step {step}"
                    );
                    assert!(
                        may_fit.contains(&(oi as u32)) || !state.fits_resources(r, oi as u32),
                        "request {r} option {oi} fits but was passed over at step {step}"
                    );
                    checked += 1;
                    taken += usize::from(listed);
                    capped += usize::from(full);
                }
            }
            assert!(
                checked > 10_000 && taken > checked / 20 && capped > 0 && passed_over > 0,
                "{checked} {taken} {capped} {passed_over}"
            );
        }
    }

    #[test]
    fn free_runs_are_measured_across_words() {
        let mut open = [0u64; MINUTE_WORDS];
        let mut booked = [0u64; MINUTE_WORDS];
        assert_eq!(longest_free_run(&open, &booked, 0).len, 0);
        // Open 08:00-17:00 (minutes 480-1020, words 7-15), booked 10:00-16:30 but for
        // 12:00-12:20.
        set_minutes(&mut open, 480, 1020, true);
        assert_eq!(longest_free_run(&open, &booked, 0).len, 540);
        set_minutes(&mut booked, 600, 990, true);
        set_minutes(&mut booked, 720, 740, false);
        // Free: 08:00-10:00 (120), 12:00-12:20 (20), 16:30-17:00 (30).
        assert_eq!(longest_free_run(&open, &booked, 0).len, 120);
        set_minutes(&mut booked, 480, 560, true);
        assert_eq!(longest_free_run(&open, &booked, 0).len, 40);
        // A run inside one word, and one ending on a word's last bit.
        set_minutes(&mut booked, 560, 600, true);
        assert_eq!(longest_free_run(&open, &booked, 0).len, 30);
        let mut open = [0u64; MINUTE_WORDS];
        set_minutes(&mut open, 70, 100, true);
        set_minutes(&mut open, 100, 128, true);
        assert_eq!(longest_free_run(&open, &[0; MINUTE_WORDS], 0).len, 58);
        set_minutes(&mut open, 128, 129, true);
        assert_eq!(longest_free_run(&open, &[0; MINUTE_WORDS], 0).len, 59);
    }

    /// Whether every minute of `run` is open and not booked.
    fn all_free(open: &DayMinutes, booked: &DayMinutes, run: FreeRun) -> bool {
        (run.at..run.at + run.len).all(|m| {
            let (w, b) = (usize::from(m) / 64, m % 64);
            open[w] >> b & 1 == 1 && booked[w] >> b & 1 == 0
        })
    }

    /// The run-by-run count agrees with counting bit by bit, on random days whose free
    /// minutes come in runs of every length (a whole word, none, and across words).
    #[test]
    fn free_runs_agree_with_a_minute_by_minute_count() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..2_000 {
            let mut open = [0u64; MINUTE_WORDS];
            let mut booked = [0u64; MINUTE_WORDS];
            for _ in 0..rng.gen_range(0..12) {
                let lo = rng.gen_range(0..BITMAP_MINUTES);
                let hi = rng.gen_range(lo + 1..=BITMAP_MINUTES.min(lo + 200));
                set_minutes(&mut open, lo, hi, true);
            }
            for _ in 0..rng.gen_range(0..20) {
                let lo = rng.gen_range(0..BITMAP_MINUTES);
                let hi = rng.gen_range(lo + 1..=BITMAP_MINUTES.min(lo + 90));
                set_minutes(&mut booked, lo, hi, true);
            }
            let (mut best, mut run) = (0u16, 0u16);
            for m in 0..MINUTE_WORDS * 64 {
                let (w, b) = (m / 64, m % 64);
                if open[w] >> b & 1 == 1 && booked[w] >> b & 1 == 0 {
                    run += 1;
                    best = best.max(run);
                } else {
                    run = 0;
                }
            }
            let found = longest_free_run(&open, &booked, 0);
            assert_eq!(found.len, best);
            assert!(all_free(&open, &booked, found), "{found:?}");
            // Counted over the words from the fifth on, its minutes are the day's.
            let tail = longest_free_run(&open[5..], &booked[5..], 5);
            assert!(tail.len == 0 || usize::from(tail.at) >= 5 * 64, "{tail:?}");
        }
    }
}
