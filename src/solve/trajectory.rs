//! One search trajectory walked by several threads at once.
//!
//! Each thread searches its own copy of the schedule, and every move it keeps is
//! published here, in one order, as the requests it changed and their new options. Before
//! each move a thread replays what the others published since its last look, so all copies
//! walk the same schedule; a move made on a copy that has fallen behind is taken back,
//! the copy catches up, and the move is booked again where it still fits and costs no
//! more than when it was made. So late acceptance's churn, where a large component's search finds its
//! gains, is shared too, unlike searches that run apart and merge at the end of a round
//! (at 3,000 patients only some 6 % of the second search's gains could be carried there:
//! both fill the same free time).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::construct;
use super::state::State;

/// A kept move: the requests it changed (sorted) and the option each holds after it.
struct Move {
    requests: Vec<usize>,
    options: Vec<Option<u32>>,
}

/// What the threads share: the moves in the order they were kept, and the best schedule
/// the trajectory passed through.
struct Shared {
    moves: Vec<Move>,
    best_total: i64,
    /// The component's options at the best (indexed like the component).
    best: Vec<Option<u32>>,
}

/// The trajectory of one component's search, shared by the threads walking it.
pub struct Trajectory<'c> {
    comp: &'c [usize],
    shared: Mutex<Shared>,
    /// `shared.moves.len()`, read without the lock before every move.
    published: AtomicUsize,
    /// Moves published as made, published after being booked again, and refused (traced).
    counts: [AtomicUsize; 3],
}

/// Where one thread's copy stands on a [`Trajectory`]: how many of its moves it holds.
#[derive(Clone, Copy, Default)]
pub struct Position(usize);

impl<'c> Trajectory<'c> {
    /// A trajectory of component `comp` starting at `start` (every thread's copy must start
    /// there too).
    pub fn new(start: &State, comp: &'c [usize]) -> Self {
        Trajectory {
            comp,
            shared: Mutex::new(Shared {
                moves: Vec::new(),
                best_total: start.total(),
                best: comp.iter().map(|&r| start.assign[r]).collect(),
            }),
            published: AtomicUsize::new(0),
            counts: Default::default(),
        }
    }

    /// Brings `state` (at `at`, with no move of its own pending) up to every published
    /// move.
    pub fn catch_up(&self, state: &mut State, at: &mut Position) {
        if self.published.load(Ordering::Acquire) == at.0 {
            return;
        }
        let pending: Vec<(Vec<usize>, Vec<Option<u32>>)> = {
            let shared = self.shared.lock().expect("no thread panics holding it");
            shared.moves[at.0..]
                .iter()
                .map(|m| (m.requests.clone(), m.options.clone()))
                .collect()
        };
        for (requests, options) in &pending {
            // The copy holds what the publishing thread's did when it made the move, so
            // the move fits as it did there.
            for &r in requests {
                state.remove(r);
            }
            restore(state, requests, options);
        }
        at.0 += pending.len();
    }

    /// Publishes the move `state` holds on top of position `at`: `changed` (sorted, no
    /// repeats) held `old` before it. When other moves were published meanwhile, the move
    /// is taken back, the copy catches up, and the move is booked again: kept (and
    /// published) when every booking still fits, what it leaves settled, and it ends at most
    /// `worsening` above where it starts; otherwise the copy is left caught up without it.
    /// Whether the move was kept.
    pub fn publish(
        &self,
        state: &mut State,
        at: &mut Position,
        changed: &[usize],
        old: &[Option<u32>],
        worsening: i64,
    ) -> bool {
        let new: Vec<Option<u32>> = changed.iter().map(|&r| state.assign[r]).collect();
        if new == old {
            return true;
        }
        let mut old = old.to_vec();
        let mut rebooked = false;
        loop {
            {
                let mut shared = self.shared.lock().expect("no thread panics holding it");
                if shared.moves.len() == at.0 {
                    shared.moves.push(Move {
                        requests: changed.to_vec(),
                        options: new.clone(),
                    });
                    at.0 += 1;
                    self.published.store(at.0, Ordering::Release);
                    self.counts[usize::from(rebooked)].fetch_add(1, Ordering::Relaxed);
                    if state.total() < shared.best_total {
                        shared.best_total = state.total();
                        for (b, &r) in shared.best.iter_mut().zip(self.comp) {
                            *b = state.assign[r];
                        }
                    }
                    return true;
                }
            }
            for &r in changed {
                state.remove(r);
            }
            restore(state, changed, &old);
            self.catch_up(state, at);
            let before = state.total();
            old = changed.iter().map(|&r| state.assign[r]).collect();
            rebooked = true;
            for &r in changed {
                state.remove(r);
            }
            let mut touched = changed.to_vec();
            state.with_dependants(&mut touched);
            let booked = construct::book(state, changed, &|r| {
                new[changed.binary_search(&r).expect("changed is sorted")]
            });
            if !booked
                || !state.settled(&touched)
                || state.total() > before.saturating_add(worsening)
            {
                if booked {
                    for &r in changed {
                        state.remove(r);
                    }
                }
                restore(state, changed, &old);
                self.counts[2].fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
    }

    /// The best schedule the trajectory passed through, put on `state` (a copy caught up
    /// with every move) when better than where it ended.
    pub fn finish(&self, state: &mut State) {
        let shared = self.shared.lock().expect("no thread panics holding it");
        if std::env::var_os("CAREWEEK_TRACE").is_some() {
            eprintln!(
                "trace: walk {} moves: {} at once, {} rebooked, {} refused; best {} end {}",
                shared.moves.len(),
                self.counts[0].load(Ordering::Relaxed),
                self.counts[1].load(Ordering::Relaxed),
                self.counts[2].load(Ordering::Relaxed),
                shared.best_total,
                state.total()
            );
        }
        if state.total() > shared.best_total {
            sync(state, self.comp, &shared.best);
        }
    }
}

/// Brings the requests `comp` of `state` to the options `target` (indexed like `comp`),
/// which with the rest of `state` make a schedule: only the requests that differ are
/// taken off and booked again, unchecked (at 3,000 patients, the end of a split round that
/// booked the whole component again took some 11 ms).
pub(super) fn sync(state: &mut State, comp: &[usize], target: &[Option<u32>]) {
    let (requests, options): (Vec<usize>, Vec<Option<u32>>) = comp
        .iter()
        .zip(target)
        .filter(|&(&r, &oi)| state.assign[r] != oi)
        .map(|(&r, &oi)| (r, oi))
        .unzip();
    for &r in &requests {
        state.remove(r);
    }
    restore(state, &requests, &options);
}

/// Books `requests` at `options` (the same order), prerequisites first, unchecked: the
/// caller knows they fit.
pub(super) fn restore(state: &mut State, requests: &[usize], options: &[Option<u32>]) {
    let mut held: Vec<(usize, u32)> = requests
        .iter()
        .zip(options)
        .filter_map(|(&r, &oi)| Some((r, oi?)))
        .collect();
    held.sort_unstable_by_key(|&(r, _)| {
        construct::order_key(state, r, construct::domain_size(state, r))
    });
    for (r, oi) in held {
        state.place(r, oi);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::solve::domain::Domains;
    use crate::solve::lns;
    use crate::solve::shares::Units;
    use crate::solve::test_caseloads::{caseload, placeable, repairs_of};

    /// The schedule `assign` gives, booked from nothing with every placement checked.
    fn rebooked<'a>(start: &State<'a>, comp: &[usize], assign: &[Option<u32>]) -> State<'a> {
        let mut fresh = State::new(start.problem, start.domains);
        for r in 0..assign.len() {
            if !comp.contains(&r) {
                if let Some(oi) = start.assign[r] {
                    fresh.place(r, oi);
                }
            }
        }
        assert!(
            construct::book(&mut fresh, comp, &|r| assign[r]),
            "every booking fits"
        );
        assert!(fresh.settled(comp));
        fresh
    }

    /// A request placed alike in every one of `states`, and another option of it that fits
    /// in each once it is off.
    fn a_move(states: &[&State], skip: &[usize]) -> Option<(usize, u32)> {
        let mut probes: Vec<State> = states.iter().map(|&s| s.clone()).collect();
        let first = &states[0];
        (0..first.assign.len())
            .filter(|r| !skip.contains(r))
            .filter(|&r| {
                first.assign[r].is_some() && states.iter().all(|s| s.assign[r] == first.assign[r])
            })
            .find_map(|r| {
                let held = first.assign[r]?;
                probes.iter_mut().for_each(|p| p.remove(r));
                let other = (0..first.domains.opts[r].len() as u32)
                    .find(|&oi| oi != held && probes.iter().all(|p| p.fits(r, oi, &|_| false)));
                probes.iter_mut().for_each(|p| p.place(r, held));
                Some((r, other?))
            })
    }

    /// Two copies of one greedy schedule of a small caseload on a trajectory from it.
    fn from_one_start(
        test: impl for<'a> FnOnce(&State<'a>, &[usize], &Trajectory, [State<'a>; 2]),
    ) {
        let problem = caseload(30, 5, 15);
        let domains = Domains::build(&problem);
        let comp = placeable(&domains);
        let mut start = State::new(&problem, &domains);
        construct::construct(&mut start, &comp);
        let walk = Trajectory::new(&start, &comp);
        test(&start, &comp, &walk, [start.clone(), start.clone()]);
    }

    #[test]
    fn a_move_made_behind_is_rebooked_after_the_others() {
        from_one_start(|start, comp, walk, [mut first, mut second]| {
            let problem = start.problem;
            let (mut at_first, mut at_second) = (Position::default(), Position::default());

            // The first copy moves one request and publishes at once.
            let (r1, o1) = a_move(&[&first], &[]).expect("some request can move");
            let old1 = [first.assign[r1]];
            first.remove(r1);
            first.place(r1, o1);
            assert!(walk.publish(&mut first, &mut at_first, &[r1], &old1, i64::MAX));

            // The second, still at the start, moves another one: rebooked after the first's.
            let others: Vec<usize> = (0..problem.requests.len())
                .filter(|&r| problem.requests[r].patient == problem.requests[r1].patient)
                .collect();
            let (r2, o2) = a_move(&[&first, &second], &others).expect("another request can move");
            let old2 = [second.assign[r2]];
            second.remove(r2);
            second.place(r2, o2);
            assert!(walk.publish(&mut second, &mut at_second, &[r2], &old2, i64::MAX));
            assert_eq!((second.assign[r1], second.assign[r2]), (Some(o1), Some(o2)));

            walk.catch_up(&mut first, &mut at_first);
            assert_eq!(first.assign, second.assign);
            assert_eq!(first.total(), second.total());
            let fresh = rebooked(start, comp, &first.assign);
            assert_eq!(fresh.total(), first.total());
        });
    }

    #[test]
    fn a_move_that_no_longer_fits_is_refused_and_the_copy_caught_up() {
        from_one_start(|start, comp, walk, [mut first, mut second]| {
            let (problem, domains) = (start.problem, start.domains);
            let (mut at_first, mut at_second) = (Position::default(), Position::default());

            // A request that can move into time another patient's request could take at the
            // start: the first copy makes that move and publishes it at once.
            let rival = |r: usize, o: u32| {
                let patient = problem.requests[r].patient;
                let taken = start.opt(r, o);
                (0..problem.requests.len())
                    .filter(|&x| problem.requests[x].patient != patient)
                    .find_map(|x| {
                        let mut probe = start.clone();
                        probe.remove(x);
                        (0..domains.opts[x].len() as u32)
                            .find(|&oi| {
                                let a = probe.opt(x, oi);
                                a.provider == taken.provider
                                    && a.day == taken.day
                                    && a.start < taken.end
                                    && taken.start < a.end
                                    && probe.fits(x, oi, &|_| false)
                            })
                            .map(|oi| (x, oi))
                    })
            };
            let ((r, o), (x, oi)) = comp
                .iter()
                .filter(|&&r| start.assign[r].is_some())
                .find_map(|&r| {
                    let mut probe = start.clone();
                    let held = probe.assign[r]?;
                    probe.remove(r);
                    (0..domains.opts[r].len() as u32)
                        .filter(|&o| o != held && probe.fits(r, o, &|_| false))
                        .find_map(|o| Some(((r, o), rival(r, o)?)))
                })
                .expect("some move takes time a rival could take");
            let old = [first.assign[r]];
            first.remove(r);
            first.place(r, o);
            assert!(walk.publish(&mut first, &mut at_first, &[r], &old, i64::MAX));

            // The second, still at the start, books the rival there: refused, and the copy
            // left caught up without it.
            let old_x = [second.assign[x]];
            second.remove(x);
            second.place(x, oi);
            assert!(!walk.publish(&mut second, &mut at_second, &[x], &old_x, i64::MAX));
            assert_eq!(second.assign, first.assign);
            assert_eq!(second.total(), first.total());
        });
    }

    #[test]
    fn a_copy_synced_to_another_schedule_stands_where_it_does() {
        from_one_start(|start, comp, _, [mut behind, mut ahead]| {
            // One copy searches on; the other, left at the start, is brought to where the
            // first ended by what differs.
            let everyone = vec![true; start.problem.requests.len()];
            let cancel = AtomicBool::new(false);
            let budget = repairs_of(&cancel, 300, &everyone);
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            lns::improve(&mut ahead, comp, &mut rng, budget, &|_, _| {});
            assert_ne!(ahead.assign, behind.assign, "the search moved something");
            let target: Vec<Option<u32>> = comp.iter().map(|&r| ahead.assign[r]).collect();
            sync(&mut behind, comp, &target);
            assert_eq!(behind.assign, ahead.assign);
            assert_eq!(behind.total(), ahead.total());
            assert_eq!(
                rebooked(start, comp, &behind.assign).total(),
                behind.total()
            );
            // And back: the start again, its total as it was.
            let back: Vec<Option<u32>> = comp.iter().map(|&r| start.assign[r]).collect();
            sync(&mut behind, comp, &back);
            assert_eq!(behind.assign, start.assign);
            assert_eq!(behind.total(), start.total());
        });
    }

    #[test]
    fn threads_walking_one_trajectory_end_on_one_valid_schedule() {
        let problem = caseload(80, 11, 15);
        let domains = Domains::build(&problem);
        let comp = placeable(&domains);
        let mut start = State::new(&problem, &domains);
        construct::construct(&mut start, &comp);
        let units = Units::new(&start, &comp);
        let shares = units.deal(2, problem.requests.len(), &mut ChaCha8Rng::seed_from_u64(3));
        let walk = Trajectory::new(&start, &comp);
        let cancel = AtomicBool::new(false);
        let copies: Vec<(State, Position)> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .iter()
                .enumerate()
                .map(|(k, share)| {
                    let (walk, start, comp, cancel) = (&walk, &start, &comp, &cancel);
                    scope.spawn(move || {
                        let mut own = start.clone();
                        let mut at = Position::default();
                        let budget = repairs_of(cancel, 2_000, share);
                        let mut rng = ChaCha8Rng::seed_from_u64(k as u64);
                        lns::improve_on(
                            &mut own,
                            comp,
                            &mut rng,
                            budget,
                            &|_, _| {},
                            Some((walk, &mut at)),
                        );
                        (own, at)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut ends: Vec<State> = copies
            .into_iter()
            .map(|(mut own, mut at)| {
                walk.catch_up(&mut own, &mut at);
                own
            })
            .collect();
        // Every copy stands on the same schedule, which books from nothing as it is.
        assert_eq!(ends[0].assign, ends[1].assign);
        assert_eq!(ends[0].total(), ends[1].total());
        let fresh = rebooked(&start, &comp, &ends[0].assign);
        assert_eq!(fresh.total(), ends[0].total());
        // Its best is no worse than the start, and is itself a valid schedule.
        let mut best = ends.swap_remove(0);
        walk.finish(&mut best);
        assert!(best.total() < start.total());
        let fresh = rebooked(&start, &comp, &best.assign);
        assert_eq!(fresh.total(), best.total());
    }
}
