//! A patient's week relaxed to days: which of their requests go on which day.
//!
//! The Lagrangian bound needs each patient's minimum under priced capacity many times a
//! second. Solving the week exactly is too slow for that; treating the requests apart
//! (only trips shared) is fast but far too weak: it lets an evening-only patient take four
//! appointments in one evening, or a consult on the day of the lab it must follow. This
//! relaxation keeps everything that is decided by days, drops what is decided by minutes:
//!
//! - each request goes on at most one day, in person (that day's cheapest option) or by
//!   telehealth, or stays unplaced (pinned requests must be placed);
//! - a day with an in-person appointment is a trip; at most `max_trips` of them;
//! - at most `max_per_day` appointments a day;
//! - a same-day bundle is placed whole on one day or not at all;
//! - a request follows its prerequisite on a day the link's gaps allow (same day or
//!   earlier, judged from the two requests' options on those days).
//!
//! Overlap, travel and waiting within a day are dropped, so the minimum never exceeds the
//! patient's true minimum. It is a dynamic programme over the days whose state is the set
//! of requests placed so far (and the trips taken, when capped): `3^k` transitions a day
//! for `k` requests, so it serves patients with up to [`MAX_REQUESTS`] requests.

use crate::problem::Problem;

use super::domain::Opt;
use super::state::unplaced_weight;

/// Most requests of one patient the programme takes (`3^12` transitions a day).
pub const MAX_REQUESTS: usize = 12;

/// Most requests of a patient whose programme runs on fixed-size tables (no trip cap):
/// refbench's patients have one to five, and the bound's steps run it for each of them
/// thousands of times, where the general tables' index checks and pointer reloads were
/// a fifth of its instructions.
const SMALL_REQUESTS: usize = 5;
const SMALL_SETS: usize = 1 << SMALL_REQUESTS;
/// Any set of at most [`SMALL_REQUESTS`] requests masked by this indexes the small tables
/// (and proves it to the compiler).
const SMALL_MASK: usize = SMALL_SETS - 1;

/// Buffers of [`WeekShape::minimum`], kept from one patient's call to the next: the bound
/// calls it for every patient at every step.
#[derive(Default)]
pub struct MinimumScratch {
    cost: Vec<f64>,
    next: Vec<f64>,
    came_from: Vec<(u32, u32, bool)>,
    all_tele: Vec<f64>,
    cheapest: Vec<f64>,
    /// [`WeekShape::minimum_small`]'s `came_from`, a table per day.
    small_from: Vec<[(u8, u8, bool); SMALL_SETS]>,
}

/// `v` as `len` copies of `value`.
fn refill<T: Copy>(v: &mut Vec<T>, len: usize, value: T) {
    v.clear();
    v.resize(len, value);
}

/// The fixed part of one patient's relaxation: which sets of requests may share a day.
pub struct WeekShape {
    /// The patient's requests (bit `i` of a set is `requests[i]`).
    pub requests: Vec<usize>,
    /// Per set: the unplaced cost of the requests outside it (infinite when one is
    /// pinned).
    left_out: Vec<f64>,
    /// Trips allowed, counted in the state only when fewer than the days.
    max_trips: Option<usize>,
    /// Per day: the requests with an option that day.
    offered: Vec<u32>,
    /// Per day and set, at `day << k | set`: [`NOT_TOGETHER`] when the set may not share
    /// that day, else the requests outside it that must already be placed on an earlier
    /// day. Flat, as the bound reads it for every patient at every step.
    needs: Vec<u32>,
}

/// In [`WeekShape`]'s `needs`: the set may not share the day.
const NOT_TOGETHER: u32 = u32::MAX;

impl WeekShape {
    /// The shape of one patient's `requests` (all of the same patient, at most
    /// [`MAX_REQUESTS`]), `None` when there are more.
    pub fn new(problem: &Problem, opts: &[Vec<Opt>], requests: &[usize]) -> Option<WeekShape> {
        let k = requests.len();
        if k > MAX_REQUESTS {
            return None;
        }
        let ndays = problem.days.len();
        let patient = problem.requests[*requests.first()?].patient;
        let pat = &problem.patients[patient];
        let bit = |r: usize| requests.iter().position(|&x| x == r).map(|i| 1u32 << i);
        let unplaced: Vec<f64> = requests
            .iter()
            .map(|&r| {
                if problem.requests[r].pinned() {
                    f64::INFINITY
                } else {
                    unplaced_weight(problem, r) as f64
                }
            })
            .collect();
        let offered = (0..ndays)
            .map(|d| {
                (0..k)
                    .filter(|&i| opts[requests[i]].iter().any(|o| o.day as usize == d))
                    .fold(0u32, |m, i| m | 1 << i)
            })
            .collect();

        // Bundles among these requests: a set holds all of one or none of it.
        let bundles: Vec<u32> = problem
            .same_day
            .iter()
            .map(|g| g.iter().filter_map(|&r| bit(r)).fold(0, |m, b| m | b))
            .filter(|m| m.count_ones() > 1)
            .collect();

        // Links among these requests, with the day pairs their gaps allow.
        struct Link {
            before: u32,
            after: u32,
            /// `allowed[db * ndays + da]`.
            allowed: Vec<bool>,
        }
        let span = |r: usize, d: usize| {
            opts[r].iter().filter(|o| o.day as usize == d).fold(
                None,
                |acc: Option<(i32, i32, i32, i32)>, o| {
                    let (s0, s1, e0, e1) = acc.unwrap_or((o.start, o.start, o.end, o.end));
                    Some((
                        s0.min(o.start),
                        s1.max(o.start),
                        e0.min(o.end),
                        e1.max(o.end),
                    ))
                },
            )
        };
        let links: Vec<Link> = problem
            .precedences
            .iter()
            .filter_map(|p| {
                let (before, after) = (bit(p.before)?, bit(p.after)?);
                let mut allowed = vec![false; ndays * ndays];
                let after_spans: Vec<_> = (0..ndays).map(|d| span(p.after, d)).collect();
                for db in 0..ndays {
                    let Some((_, _, end_lo, end_hi)) = span(p.before, db) else {
                        continue;
                    };
                    for da in db..ndays {
                        let Some((start_lo, start_hi, _, _)) = after_spans[da] else {
                            continue;
                        };
                        // Some pair of options may have a gap in [min, max].
                        let (gap_lo, gap_hi) = (start_lo - end_hi, start_hi - end_lo);
                        allowed[db * ndays + da] =
                            gap_hi >= p.min_gap && p.max_gap.is_none_or(|m| gap_lo <= m);
                    }
                }
                Some(Link {
                    before,
                    after,
                    allowed,
                })
            })
            .collect();

        let cap = pat.max_per_day.map_or(k, |c| c as usize);
        let needs = (0..ndays)
            .flat_map(|d| (0..1u32 << k).map(move |set| (d, set)))
            .map(|(d, set)| {
                if set.count_ones() as usize > cap
                    || bundles.iter().any(|&b| set & b != 0 && set & b != b)
                {
                    return NOT_TOGETHER;
                }
                let mut need = 0;
                for link in links.iter().filter(|l| set & l.after != 0) {
                    if set & link.before != 0 {
                        if !link.allowed[d * ndays + d] {
                            return NOT_TOGETHER;
                        }
                    } else if (0..d).any(|db| link.allowed[db * ndays + d]) {
                        need |= link.before;
                    } else {
                        return NOT_TOGETHER;
                    }
                }
                need
            })
            .collect();
        let left_out = (0..1usize << k)
            .map(|placed| {
                (0..k)
                    .filter(|&i| placed & 1 << i == 0)
                    .map(|i| unplaced[i])
                    .sum::<f64>()
            })
            .collect();
        Some(WeekShape {
            requests: requests.to_vec(),
            left_out,
            max_trips: pat.max_trips.map(|m| m as usize).filter(|&m| m < ndays),
            offered,
            needs,
        })
    }

    /// The patient's relaxed minimum given, for each of its requests (in the order given to
    /// [`WeekShape::new`]) and day, the cheapest in-person and telehealth `(cost, option)`
    /// at `request index × days + day` (infinite where none), and a trip costing `trip`;
    /// with the (request, option) pairs of a minimising plan.
    pub fn minimum(
        &self,
        in_person: &[(f64, u32)],
        tele: &[(f64, u32)],
        trip: f64,
        scratch: &mut MinimumScratch,
    ) -> (f64, Vec<(usize, u32)>) {
        if self.max_trips.is_none() && self.requests.len() <= SMALL_REQUESTS {
            self.minimum_small(in_person, tele, trip, scratch)
        } else {
            self.minimum_general(in_person, tele, trip, scratch)
        }
    }

    /// [`WeekShape::minimum`] for a patient of at most [`SMALL_REQUESTS`] requests and no
    /// trip cap, on fixed-size tables: the same programme, the same sums in the same order,
    /// so the same minimum and plan.
    fn minimum_small(
        &self,
        in_person: &[(f64, u32)],
        tele: &[(f64, u32)],
        trip: f64,
        scratch: &mut MinimumScratch,
    ) -> (f64, Vec<(usize, u32)>) {
        const INF: f64 = f64::INFINITY;
        const M: usize = SMALL_MASK;
        let k = self.requests.len();
        debug_assert!(k <= SMALL_REQUESTS && self.max_trips.is_none());
        let ndays = self.offered.len();
        let sets = 1usize << k;
        let mut cost = [INF; SMALL_SETS];
        cost[0] = 0.0;
        let mut all_tele = [0.0f64; SMALL_SETS];
        let mut cheapest = [0.0f64; SMALL_SETS];
        let from_days = &mut scratch.small_from;
        from_days.clear();
        from_days.resize(ndays, [(u8::MAX, 0, false); SMALL_SETS]);
        for (d, from) in from_days.iter_mut().enumerate() {
            for set in 1..sets {
                let i = set.trailing_zeros() as usize;
                let rest = set & (set - 1);
                let (t, p) = (tele[i * ndays + d].0, in_person[i * ndays + d].0);
                all_tele[set & M] = all_tele[rest & M] + t;
                cheapest[set & M] = cheapest[rest & M] + t.min(p);
            }
            let mut needs = [NOT_TOGETHER; SMALL_SETS];
            needs[..sets].copy_from_slice(&self.needs[d * sets..(d + 1) * sets]);
            let mut next = cost;
            let offered = self.offered[d] as usize;
            for placed in 0..sets {
                let base = cost[placed & M];
                if base == INF {
                    continue;
                }
                let base_trip = base + trip;
                let open = offered & !placed;
                let mut set = open;
                while set != 0 {
                    if needs[set & M] as usize & !placed == 0 {
                        let to = (placed | set) & M;
                        let by_tele = base + all_tele[set & M];
                        let by_trip = base_trip + cheapest[set & M];
                        let (value, trip) = if by_trip < by_tele {
                            (by_trip, true)
                        } else {
                            (by_tele, false)
                        };
                        if value < next[to] {
                            next[to] = value;
                            from[to] = (placed as u8, set as u8, trip);
                        }
                    }
                    set = (set - 1) & open;
                }
            }
            cost = next;
        }

        let Some((value, end)) = self.best_end(&cost[..sets], sets) else {
            return (INF, Vec::new());
        };
        let chosen = self.plan(end, in_person, tele, |d, idx| {
            let (prev, set, by_trip) = from_days[d][idx & M];
            (prev != u8::MAX).then_some((usize::from(prev), usize::from(set), by_trip))
        });
        (value, chosen)
    }

    /// [`WeekShape::minimum`] on tables sized to the patient, for any shape.
    fn minimum_general(
        &self,
        in_person: &[(f64, u32)],
        tele: &[(f64, u32)],
        trip: f64,
        scratch: &mut MinimumScratch,
    ) -> (f64, Vec<(usize, u32)>) {
        const INF: f64 = f64::INFINITY;
        let k = self.requests.len();
        let ndays = self.offered.len();
        let sets = 1usize << k;

        // States: (trips taken, requests placed); trips only counted when capped.
        let levels = self.max_trips.map_or(1, |m| m + 1);
        let states = levels * sets;
        let MinimumScratch {
            cost,
            next,
            came_from,
            all_tele,
            cheapest,
            ..
        } = scratch;
        refill(cost, states, INF);
        cost[0] = 0.0;
        // Per day and state reached that day: (previous state, set placed that day, by
        // trip), day `d`'s at `d * states`.
        came_from.clear();
        refill(all_tele, sets, 0.0);
        refill(cheapest, sets, 0.0);
        for d in 0..ndays {
            // Every set's cost on day d, all by telehealth or with a trip.
            for set in 1..sets {
                let i = set.trailing_zeros() as usize;
                let rest = set & (set - 1);
                let (t, p) = (tele[i * ndays + d].0, in_person[i * ndays + d].0);
                all_tele[set] = all_tele[rest] + t;
                cheapest[set] = cheapest[rest] + t.min(p);
            }
            next.clear();
            next.extend_from_slice(cost);
            came_from.resize((d + 1) * states, (u32::MAX, 0u32, false));
            let from = &mut came_from[d * states..];
            let offered = self.offered[d] as usize;
            let needs = &self.needs[d * sets..(d + 1) * sets];
            let counts_trips = self.max_trips.is_some();
            if !counts_trips {
                // One level: a set goes by telehealth or with a trip, whichever is cheaper
                // (telehealth on a tie), into the same state.
                for (placed, &base) in cost[..sets].iter().enumerate() {
                    if base == INF {
                        continue;
                    }
                    let base_trip = base + trip;
                    let open = offered & !placed;
                    let mut set = open;
                    while set != 0 {
                        if needs[set] as usize & !placed == 0 {
                            let to = placed | set;
                            let by_tele = base + all_tele[set];
                            let by_trip = base_trip + cheapest[set];
                            let (value, trip) = if by_trip < by_tele {
                                (by_trip, true)
                            } else {
                                (by_tele, false)
                            };
                            if value < next[to] {
                                next[to] = value;
                                from[to] = (placed as u32, set as u32, trip);
                            }
                        }
                        set = (set - 1) & open;
                    }
                }
                std::mem::swap(cost, next);
                continue;
            }
            for level in 0..levels {
                let up = level + 1;
                let (at, up_at) = (level * sets, up * sets);
                for (placed, &base) in cost[at..at + sets].iter().enumerate() {
                    if base == INF {
                        continue;
                    }
                    let open = offered & !placed;
                    let mut set = open;
                    while set != 0 {
                        let need = needs[set] as usize;
                        if need & !placed == 0 {
                            // (`NOT_TOGETHER` is never within `placed`.)
                            let to = placed | set;
                            let by_tele = base + all_tele[set];
                            let idx = at + to;
                            if by_tele < next[idx] {
                                next[idx] = by_tele;
                                from[idx] = ((at + placed) as u32, set as u32, false);
                            }
                            let by_trip = base + trip + cheapest[set];
                            if up < levels && by_trip < by_tele {
                                let idx = up_at + to;
                                if by_trip < next[idx] {
                                    next[idx] = by_trip;
                                    from[idx] = ((at + placed) as u32, set as u32, true);
                                }
                            }
                        }
                        set = (set - 1) & open;
                    }
                }
            }
            std::mem::swap(cost, next);
        }

        let Some((value, end)) = self.best_end(cost, sets) else {
            return (INF, Vec::new());
        };
        let chosen = self.plan(end, in_person, tele, |d, idx| {
            let (prev, set, by_trip) = came_from[d * states + idx];
            (prev != u32::MAX).then_some((prev as usize, set as usize, by_trip))
        });
        (value, chosen)
    }

    /// The programme's cheapest end, requests left out paying their unplaced cost:
    /// `(total, state)` over the states' `cost` (`sets` states a trip level), `None` when
    /// none is reached.
    fn best_end(&self, cost: &[f64], sets: usize) -> Option<(f64, usize)> {
        let mut best = (f64::INFINITY, 0usize);
        for (idx, &c) in cost.iter().enumerate() {
            if c == f64::INFINITY {
                continue;
            }
            let total = c + self.left_out[idx % sets];
            if total < best.0 {
                best = (total, idx);
            }
        }
        (best.0 != f64::INFINITY).then_some(best)
    }

    /// The options of the plan that ends in state `end`, walked back through the days:
    /// `came_from(day, state)` is the state before that day, the set placed on it and
    /// whether by a trip, or `None` where the state was carried over unchanged.
    fn plan(
        &self,
        end: usize,
        in_person: &[(f64, u32)],
        tele: &[(f64, u32)],
        came_from: impl Fn(usize, usize) -> Option<(usize, usize, bool)>,
    ) -> Vec<(usize, u32)> {
        let ndays = self.offered.len();
        let mut chosen = Vec::new();
        let mut idx = end;
        for d in (0..ndays).rev() {
            let Some((prev, set, by_trip)) = came_from(d, idx) else {
                continue;
            };
            let mut s = set;
            while s != 0 {
                let i = s.trailing_zeros() as usize;
                let (t, p) = (tele[i * ndays + d], in_person[i * ndays + d]);
                let oi = if by_trip && p.0 < t.0 { p.1 } else { t.1 };
                chosen.push((self.requests[i], oi));
                s &= s - 1;
            }
            idx = prev;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// A random shape of `k` requests over `ndays` days, no trip cap: days that offer some
    /// of them, sets that may not share a day (over a daily cap, or at random, as links and
    /// bundles make them), sets that need others on an earlier day, and pinned requests.
    fn random_shape(k: usize, ndays: usize, rng: &mut ChaCha8Rng) -> WeekShape {
        let sets = 1usize << k;
        let cap = rng.gen_range(1..=k as u32);
        let offered = (0..ndays).map(|_| rng.gen_range(0..sets as u32)).collect();
        let needs = (0..ndays * sets)
            .map(|i| {
                let set = (i % sets) as u32;
                if set.count_ones() > cap || rng.gen_bool(0.1) {
                    NOT_TOGETHER
                } else if rng.gen_bool(0.2) {
                    rng.gen_range(0..sets as u32) & !set
                } else {
                    0
                }
            })
            .collect();
        let unplaced: Vec<f64> = (0..k)
            .map(|_| {
                if rng.gen_bool(0.1) {
                    f64::INFINITY
                } else {
                    f64::from(rng.gen_range(1..5)) * 1000.0
                }
            })
            .collect();
        let left_out = (0..sets)
            .map(|placed| {
                (0..k)
                    .filter(|&i| placed & 1 << i == 0)
                    .map(|i| unplaced[i])
                    .sum()
            })
            .collect();
        WeekShape {
            requests: (100..100 + k).collect(),
            left_out,
            max_trips: None,
            offered,
            needs,
        }
    }

    /// Cheapest `(cost, option)` tables with missing entries and ties.
    fn random_table(len: usize, rng: &mut ChaCha8Rng) -> Vec<(f64, u32)> {
        (0..len)
            .map(|_| {
                if rng.gen_bool(0.3) {
                    (f64::INFINITY, u32::MAX)
                } else {
                    (f64::from(rng.gen_range(0..40)) * 25.0, rng.gen_range(0..50))
                }
            })
            .collect()
    }

    /// The fixed-size programme finds what the general one finds, bit for bit: the same
    /// minimum and the same plan, ties and all, over one scratch reused across shapes.
    #[test]
    fn small_tables_find_the_general_programmes_minimum_and_plan() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut scratch = MinimumScratch::default();
        let mut feasible = 0;
        for case in 0..3_000 {
            let k = rng.gen_range(1..=SMALL_REQUESTS);
            let ndays = rng.gen_range(1..=7);
            let shape = random_shape(k, ndays, &mut rng);
            let in_person = random_table(k * ndays, &mut rng);
            let tele = random_table(k * ndays, &mut rng);
            let trip = f64::from(rng.gen_range(0..4)) * 50.0;
            let small = shape.minimum_small(&in_person, &tele, trip, &mut scratch);
            let general = shape.minimum_general(&in_person, &tele, trip, &mut scratch);
            assert_eq!(small.0.to_bits(), general.0.to_bits(), "case {case}");
            assert_eq!(small.1, general.1, "case {case}");
            feasible += usize::from(small.0.is_finite() && !small.1.is_empty());
        }
        assert!(feasible > 1_000, "only {feasible} cases placed anything");
    }
}
