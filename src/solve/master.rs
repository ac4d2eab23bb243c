//! Column generation over patient weeks, which takes the Lagrangian bound of
//! [`lagrange`](super::lagrange) further: the restricted master LP and the rounds around it.
//!
//! The master chooses, for every patient, a convex combination of the weeks found so far
//! (columns), at least cost, using each coupling row (a provider's or resource's instant,
//! a provider-day cap) at most its capacity:
//!
//! `min Σ_k cost_k λ_k   s.t.   Σ_{k of p} λ_k = 1 (every patient p),   Σ_k a_ik λ_k ≤ cap_i,   λ ≥ 0`.
//!
//! Its optimum bounds the Lagrangian dual from above; the prices are the capacity rows'
//! duals. With HiGHS the LP is kept, each new column added to it, and solved by the
//! interior point method (central prices). Without HiGHS a first-order primal-dual method
//! (module `primal_dual`) solves it, warm-started from the last round's point and only as
//! precisely as the round needs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A week of one patient: its objective and the coupling rows it uses, with multiplicity.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Index of the patient (in the caller's numbering, below the master's `patients`).
    pub patient: usize,
    /// The week's part of the objective.
    pub cost: f64,
    /// (row, times used), rows ascending.
    pub rows: Vec<(u32, f64)>,
    /// The week itself: (request, option) of each appointment it books.
    pub week: Vec<(usize, u32)>,
}

/// Where a master's first solve starts: the weight of each column given with it (in the
/// same order) and the prices, as a solve over those columns ended. A branch's master
/// differs from its parent's in the cost of a few columns, so the parent's end point is
/// a near one; the pure-Rust master starts there rather than from the incumbent's weeks
/// at prices zero (HiGHS's does not take a start).
#[derive(Clone, Debug, Default)]
pub struct Warm {
    pub weights: Vec<f64>,
    pub prices: Vec<f64>,
    /// The first-order method's ratio of dual to primal step (see `primal_dual`).
    pub primal_weight: Option<f64>,
}

/// Weight of the best prices so far in the prices each round tries first (Wentges'
/// smoothing: the master's own prices jump between extreme points, where the Lagrangian
/// is poor).
const SMOOTHING: f64 = 0.5;
/// Node limit, in multiples of the pricing's, of the last search of the patients whose
/// pricing at the best prices stopped at the limit.
const DEEPER_NODES: usize = 10;
/// The master's fall per round (relative) above which the rounds price with the early
/// node limit: while it falls that fast its prices are poor and the bound does not move,
/// so cheap columns are worth more than strong bounds (refbench's 5-minute grid at 100
/// patients, HiGHS, 60 s, a 0.4 share of the time: the first 9 rounds in 5.5 s instead of
/// 12.9 s, gap 6.6 % instead of 7.9 %).
const EARLY_FALL: f64 = 0.01;
/// Share of the master's last lead over the bound within which a master solve that stops
/// at a tolerance (the pure-Rust build's) may be off: early rounds, far from the bound,
/// need only rough prices.
const MASTER_TOLERANCE: f64 = 0.01;

/// The rounds stop when the master's lead over the bound is below this share of the
/// schedule's objective: the bound can rise by no more than the lead, and the gap it
/// reports would move by less than this. Run to this point the rounds raise the bound well
/// past where earlier rules stopped them (a stall in the bound for a few rounds, or a lead
/// under a tenth of the schedule's gap): 60 s, 2 threads, HiGHS, the 5-minute grid at 100
/// patients `--seed 42` 44602 -> 45107 (gap 9.3 % -> 8.2 %), `--seed 1` 59924 -> 60115,
/// `--seed 11` 48742 -> 48876; 60 patients `--seed 7` 14889 -> 15022 (8.7 % -> 7.4 %); the
/// schedules within run-to-run variation, as the rounds take 0.1-1.5 s each there.
const CONVERGED: f64 = 0.001;

/// Where a column generation starts and what limits it.
pub struct Generation<'a> {
    pub patients: usize,
    pub row_capacity: &'a [f64],
    /// Weeks for every patient, making the master feasible (the incumbent's).
    pub start: Vec<Column>,
    /// Where the first solve starts, its weights those of `start`'s columns (a column
    /// that repeats an earlier one adds nothing); `None`: from the first column of each
    /// patient, at prices zero.
    pub warm: Option<Warm>,
    /// The multipliers of the best bound so far, and that bound.
    pub center: Vec<f64>,
    pub bound: f64,
    /// A schedule's objective: nothing is left to prove within 1 of it.
    pub upper: f64,
    /// Node limit of a patient's search in pricing.
    pub nodes: usize,
    /// Node limit while the master still falls fast (its prices are poor then, and the
    /// rounds are there for their columns more than for the bound).
    pub early_nodes: usize,
    pub deadline: Instant,
    pub cancel: &'a AtomicBool,
    /// When the rounds are traced: the bound's start time.
    pub trace: Option<Instant>,
}

/// What a column generation reached.
pub struct Generated {
    /// The best bound: at least the one it started from.
    pub bound: f64,
    pub rounds: usize,
    /// Each patient's week of most weight in the last master solved (empty when none was):
    /// where the master's relaxed schedule points the search.
    pub heaviest: Vec<Vec<(usize, u32)>>,
    /// The multipliers of the best bound: where a changed problem's rounds may start.
    pub center: Vec<f64>,
    /// Every column the master held.
    pub columns: Vec<Column>,
    /// The last master's weight of each of `columns` (all zero when none was solved).
    pub weights: Vec<f64>,
    /// Where the last master solved ended, its weights those of `columns` (`None` when no
    /// master was solved, or the backend does not start from a given point).
    pub warm: Option<Warm>,
}

/// Prices the patients at multipliers with a node limit (all of them, or those marked):
/// each one's lower bound (`-inf` when not asked), whether its search stopped at the node
/// limit short of proving it, and the weeks found as columns.
pub type Pricing<'a> =
    dyn Fn(&[f64], usize, Option<&[bool]>) -> (Vec<f64>, Vec<bool>, Vec<Column>) + 'a;

/// Rounds of column generation: solve the master over the columns so far; price the
/// patients at its prices smoothed towards the best so far (at the master's own when that
/// brings no new week); add the weeks found. Stops when the master meets the bound, no new
/// week comes, or at the deadline; then, with time left, searches the patients stopped at
/// the node limit at the best prices again, deeper. `constant(duals)` is the Lagrangian's
/// term of the multipliers alone.
pub fn generate_columns(
    start: Generation,
    price: &Pricing,
    constant: &dyn Fn(&[f64]) -> f64,
) -> Generated {
    let Generation {
        patients,
        row_capacity,
        start: first,
        warm,
        mut center,
        mut bound,
        upper,
        nodes,
        early_nodes,
        deadline,
        cancel,
        trace,
    } = start;
    let expired = || Instant::now() >= deadline || cancel.load(Ordering::Relaxed);
    let mut master = Master::new(patients, row_capacity);
    let mut seen: HashSet<(usize, Vec<(u32, u32)>)> = HashSet::new();
    // Every column the master holds (for a changed problem's rounds to start from), and
    // each patient's among them in the order the master holds them.
    let mut held: Vec<Column> = Vec::new();
    let mut weeks: Vec<Vec<usize>> = vec![Vec::new(); patients];
    let mut add = |master: &mut Master, found: Vec<Column>| {
        let mut added = 0;
        for c in found {
            let key = (
                c.patient,
                c.rows.iter().map(|&(i, a)| (i, a as u32)).collect(),
            );
            if seen.insert(key) {
                master.add(&c);
                weeks[c.patient].push(held.len());
                held.push(c);
                added += 1;
            }
        }
        added
    };
    match warm {
        Some(warm) => {
            // Each patient's weights in the order its columns were added.
            let mut weights: Vec<Vec<f64>> = vec![Vec::new(); patients];
            for (k, c) in first.into_iter().enumerate() {
                let p = c.patient;
                if add(&mut master, vec![c]) == 1 {
                    weights[p].push(warm.weights.get(k).copied().unwrap_or(0.0));
                }
            }
            master.start_from(weights, warm.prices, warm.primal_weight);
        }
        None => {
            add(&mut master, first);
        }
    }
    // Each patient's minimum at `center` and whether its search stopped at the limit.
    let mut at_center: Option<(Vec<f64>, Vec<bool>)> = None;
    let mut rounds = 0;
    let mut last_master = f64::INFINITY;
    let mut last_weights: Vec<Vec<f64>> = Vec::new();
    while !expired() && upper - bound >= 1.0 {
        let left = deadline.saturating_duration_since(Instant::now());
        let solving = Instant::now();
        // The master's value matters to within a share of its lead over the bound.
        let tolerance = MASTER_TOLERANCE * (last_master.min(upper) - bound);
        let solved = master.solve(left, tolerance, cancel);
        let master_seconds = solving.elapsed().as_secs_f64();
        let mut at_limit = 0;
        let Some((master_value, lp)) = solved else {
            break;
        };
        last_weights = master.weights();
        if master_value - bound < 1.0 {
            break;
        }
        rounds += 1;
        let falling = master_value < last_master * (1.0 - EARLY_FALL);
        last_master = master_value;
        let round_nodes = if falling { early_nodes } else { nodes };
        let mut added = 0;
        for alpha in [SMOOTHING, 0.0] {
            let duals: Vec<f64> = center
                .iter()
                .zip(&lp)
                .map(|(c, l)| alpha * c + (1.0 - alpha) * l)
                .collect();
            let (lows, limited, found) = price(&duals, round_nodes, None);
            at_limit = limited.iter().filter(|&&l| l).count();
            let value = lows.iter().sum::<f64>() + constant(&duals);
            if value > bound {
                bound = value;
                center = duals;
                at_center = Some((lows, limited));
            }
            added = add(&mut master, found);
            if added > 0 || expired() {
                break;
            }
        }
        if let Some(t0) = trace {
            eprintln!(
                "trace: columns round {rounds}: master {master_value:.1} \
                 ({master_seconds:.2}s), bound {bound:.1}, +{added} columns, {at_limit} \
                 patients at the node limit, at {:.2}s",
                t0.elapsed().as_secs_f64()
            );
        }
        if added == 0 {
            break;
        }
        if master_value - bound < CONVERGED * upper.abs() {
            break;
        }
    }
    // The patients stopped at the node limit hold the bound back most.
    if let Some((mut lows, limited)) = at_center {
        if !expired() && limited.contains(&true) {
            let (deeper, _, _) = price(&center, DEEPER_NODES * nodes, Some(&limited));
            for (low, d) in lows.iter_mut().zip(deeper) {
                *low = low.max(d);
            }
            bound = bound.max(lows.iter().sum::<f64>() + constant(&center));
            if let Some(t0) = trace {
                eprintln!(
                    "trace: columns: {} patients searched deeper, bound {bound:.1} at {:.2}s",
                    limited.iter().filter(|&&l| l).count(),
                    t0.elapsed().as_secs_f64()
                );
            }
        }
    }
    let heaviest = last_weights
        .iter()
        .enumerate()
        .filter_map(|(p, w)| {
            let k = (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b]).then(b.cmp(&a)))?;
            weeks[p].get(k).map(|&i| held[i].week.clone())
        })
        .collect();
    let mut weights = vec![0.0; held.len()];
    for (w, ws) in last_weights.iter().zip(&weeks) {
        for (&x, &i) in w.iter().zip(ws) {
            weights[i] = x;
        }
    }
    let warm = master
        .end_prices()
        .filter(|_| !last_weights.is_empty())
        .map(|(prices, primal_weight)| Warm {
            weights: weights.clone(),
            prices,
            primal_weight,
        });
    Generated {
        bound,
        rounds,
        heaviest,
        center,
        columns: held,
        weights,
        warm,
    }
}

#[cfg(not(feature = "highs"))]
pub use super::primal_dual::Master;
#[cfg(feature = "highs")]
pub use primal_form::Master;

/// With HiGHS: the master itself, each new column added to the solved LP, which is solved
/// again by the interior point method; the prices are its capacity rows' duals.
#[cfg(feature = "highs")]
mod primal_form {
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    use highs::{ColProblem, HighsModelStatus, Model, Row, Sense, SolvedModel};

    use super::{zero_clocks, Column};

    pub struct Master {
        rows: Vec<Row>,
        patients: Vec<Row>,
        has_column: Vec<bool>,
        /// The patient of each column, in the order added.
        column_patient: Vec<usize>,
        /// The LP between solves; `solved` after one.
        model: Option<Model>,
        solved: Option<SolvedModel>,
        failed: bool,
    }

    impl Master {
        /// A master over `patients` and rows of the given capacities.
        pub fn new(patients: usize, capacities: &[f64]) -> Self {
            let mut problem = ColProblem::default();
            let rows = capacities.iter().map(|&c| problem.add_row(..=c)).collect();
            let patient_rows = (0..patients).map(|_| problem.add_row(1.0..=1.0)).collect();
            let mut model = Model::new(problem);
            model.make_quiet();
            model.set_option("threads", 1);
            // The interior point method, without crossover, gives prices from the middle of
            // the optimal face rather than a vertex's, which steer the pricing better while
            // the master is degenerate (5-minute grid, 100 patients, `--time-limit 300`: the
            // master left the schedule's value in 3 rounds instead of 6, the bound 17389
            // instead of 17295) and are found faster (0.5-1 s a solve instead of 1-1.5 s
            // from the last basis by the simplex method).
            model.set_option("presolve", "off");
            model.set_option("solver", "ipm");
            model.set_option("run_crossover", "off");
            model.set_sense(Sense::Minimise);
            Master {
                rows,
                patients: patient_rows,
                has_column: vec![false; patients],
                column_patient: Vec::new(),
                model: Some(model),
                solved: None,
                failed: false,
            }
        }

        /// Adds a column, for the next [`Master::solve`].
        pub fn add(&mut self, column: &Column) {
            if self.failed {
                return;
            }
            self.has_column[column.patient] = true;
            let model = match (self.model.take(), self.solved.take()) {
                (Some(model), _) => model,
                (None, Some(solved)) => Model::from(solved),
                (None, None) => return,
            };
            let model = self.model.insert(model);
            let factors = std::iter::once((self.patients[column.patient], 1.0))
                .chain(column.rows.iter().map(|&(i, a)| (self.rows[i as usize], a)));
            if model.try_add_column(column.cost, 0.0.., factors).is_err() {
                self.failed = true;
            }
            self.column_patient.push(column.patient);
        }

        /// HiGHS's interior point method starts from its own point: a given one is not
        /// taken.
        pub fn start_from(
            &mut self,
            _weights: Vec<Vec<f64>>,
            _prices: Vec<f64>,
            _primal_weight: Option<f64>,
        ) {
        }

        /// Nothing to start a changed master from (see [`Master::start_from`]).
        pub fn end_prices(&self) -> Option<(Vec<f64>, Option<f64>)> {
            None
        }

        /// The last solve's weight of each patient's columns, in the order added (empty
        /// before a solve).
        pub fn weights(&self) -> Vec<Vec<f64>> {
            let Some(s) = self.solved.as_ref() else {
                return Vec::new();
            };
            let mut weights = vec![Vec::new(); self.has_column.len()];
            for (&p, &x) in self.column_patient.iter().zip(s.get_solution().columns()) {
                weights[p].push(x);
            }
            weights
        }

        /// The master's optimum and its prices, one per row; `None` when the LP fails,
        /// takes longer than `time_limit` or a patient has no column yet. Solved to
        /// HiGHS's own tolerance, whatever `_tolerance`; a solve takes about a second, so
        /// it does not watch `_cancel`.
        pub fn solve(
            &mut self,
            time_limit: Duration,
            _tolerance: f64,
            _cancel: &AtomicBool,
        ) -> Option<(f64, Vec<f64>)> {
            if self.failed || self.has_column.contains(&false) {
                return None;
            }
            if let Some(mut model) = self.model.take() {
                model.set_option("time_limit", time_limit.as_secs_f64().max(0.01));
                // HiGHS's clock runs on across solves of one instance and its time limit
                // counts from its first: without this, a master kept for minutes failed
                // with "time limit reached" once its solves added up to the time left
                // (5-minute grid, 60 s: after 15 rounds, with 9 s still to go).
                zero_clocks(&mut model);
                match model.try_solve() {
                    Ok(s) if s.status() == HighsModelStatus::Optimal => self.solved = Some(s),
                    _ => {
                        self.failed = true;
                        return None;
                    }
                }
            }
            let s = self.solved.as_ref()?;
            let duals = s.get_solution();
            // A `≤` row's dual is at most zero in a minimisation: the price is its negation.
            let prices = duals.dual_rows()[..self.rows.len()]
                .iter()
                .map(|&d| (-d).max(0.0))
                .collect();
            Some((s.objective_value(), prices))
        }
    }
}

/// Resets a HiGHS instance's clocks (`Highs_zeroAllClocks`, the C API's own remedy for its
/// cumulative time limit): with the branch and bound's interrupt (`milp`), the places the
/// crate needs `unsafe`.
#[cfg(feature = "highs")]
#[allow(unsafe_code)]
fn zero_clocks(model: &mut highs::Model) {
    // SAFETY: the pointer is the live HiGHS instance that `model` owns, used only for the
    // duration of the call, which touches nothing but that instance's timers.
    unsafe {
        highs_sys::Highs_zeroAllClocks(model.as_mut_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

    /// Two patients, one row of capacity 1: each has a week using the row (cost 1) and one
    /// without it (cost 5 and 3). The optimum gives the row to patient 0 (who saves 4 by
    /// it, patient 1 only 2) and prices it between the two savings, at 2..=4, where the
    /// Lagrangian meets the LP's value.
    #[test]
    fn master_prices_a_shared_row() {
        let mut master = Master::new(2, &[1.0]);
        for (patient, cost, rows) in [
            (0, 1.0, vec![(0, 1.0)]),
            (0, 5.0, vec![]),
            (1, 1.0, vec![(0, 1.0)]),
            (1, 3.0, vec![]),
        ] {
            master.add(&Column {
                patient,
                cost,
                rows,
                week: vec![],
            });
        }
        let (value, prices) = master
            .solve(LIMIT, 0.0, &AtomicBool::new(false))
            .expect("the LP solves");
        assert!((value - 4.0).abs() < 1e-6, "{value}");
        assert!((2.0 - 1e-6..=4.0 + 1e-6).contains(&prices[0]), "{prices:?}");
        // The weights say the same: patient 0's week on the row, patient 1's off it.
        let weights = master.weights();
        assert!(weights[0][0] > 0.9 && weights[1][1] > 0.9, "{weights:?}");
        // The Lagrangian at these prices equals the LP's value (strong duality).
        let lagrangian = (1.0 + prices[0]).min(5.0) + (1.0 + prices[0]).min(3.0) - prices[0];
        assert!((lagrangian - value).abs() < 1e-6, "{lagrangian} vs {value}");
        // A new column counts: patient 0 gets a week off the row at 1.5, so the row goes to
        // patient 1 and its price falls to between the new savings, 0.5..=2.
        master.add(&Column {
            patient: 0,
            cost: 1.5,
            rows: vec![],
            week: vec![],
        });
        let (value, prices) = master
            .solve(LIMIT, 0.0, &AtomicBool::new(false))
            .expect("the LP solves");
        assert!((value - 2.5).abs() < 1e-6, "{value}");
        assert!((0.5 - 1e-6..=2.0 + 1e-6).contains(&prices[0]), "{prices:?}");
    }
}
