//! The column generation's master LP on the pure-Rust build, solved by a first-order
//! primal-dual method: PDHG (primal-dual hybrid gradient) with restarts to the better of
//! the current and the average iterate, and a primal weight balancing the two steps, as in
//! PDLP.
//!
//! The master (module `master`) chooses a convex combination `λ_p` of each patient's weeks,
//! so the primal step is a projection onto one simplex per patient and only the capacity
//! rows `A λ ≤ cap` carry a dual `y ≥ 0`, the prices. For any `y` the restricted
//! Lagrangian `D(y) = Σ_p min_{k of p} (cost_k + a_k · y) − cap · y` is exact and cheap, so
//! the duality gap is measured without a tolerance on dual feasibility. A step costs two
//! passes over the columns' nonzeros; a solve starts where the last one stopped (new
//! columns at weight zero), so a round after a few new columns takes few steps. The
//! prices need not be exact: the bound comes from pricing every patient at them, and any
//! `y ≥ 0` gives a valid one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::lagrange::running_sums;
use super::master::Column;

/// Relative duality gap (of `1 + |P| + |D|`) at which a solve stops as optimal.
const GAP_TOLERANCE: f64 = 1e-5;
/// Capacity excess (rows are instants of capacity 1 and day caps) at which it stops. The
/// master's value only steers column generation (its stopping test), the bound comes from
/// pricing every patient at the prices, valid at any `y ≥ 0`: so a loose primal
/// feasibility. At `1e-4` late rounds took 20,000–37,000 steps, 2–3 s (refbench's 5-minute
/// grid, 100 patients, `--seed 77`: 23 rounds in 31 s, component bound 31243 against a
/// master of 31697); at `1e-2` 1,500–5,000, 0.2–1 s (31 rounds in 12 s, converged,
/// bound 31623), and the search gets the time.
const EXCESS_TOLERANCE: f64 = 1e-2;
/// Steps between the checks of the restart and stopping criteria.
const CHECK_EVERY: usize = 64;
/// PDLP's restart criteria: the error fell to this share of the last restart's...
const SUFFICIENT_DECAY: f64 = 0.2;
/// ... or to this share and rose since the last check...
const NECESSARY_DECAY: f64 = 0.8;
/// ... or this share of all steps ran since it.
const ARTIFICIAL_RESTART: f64 = 0.36;
/// Step size as a share of the largest stable one, `1 / ‖A‖`.
const STEP_SHARE: f64 = 0.95;

/// One patient's columns, flat: costs, and each column's rows as runs of consecutive
/// rows with one factor, `(first row, end, factor)` at `run_starts[k]..run_starts[k + 1]`.
/// An appointment holds a stretch of instants, so the steps price and load a column run
/// by run (see [`running_sums`]).
/// Refbench 300 patients `--seed 2` (2,000 rows, 7 nonzeros a column): 468 -> 410 µs a
/// step over a minute's solves, 634 -> 593 µs at 11,000 columns.
#[derive(Default)]
struct Block {
    costs: Vec<f64>,
    run_starts: Vec<usize>,
    runs: Vec<(u32, u32, f64)>,
}

impl Block {
    fn len(&self) -> usize {
        self.costs.len()
    }

    /// Column `k`'s (row, factor) pairs.
    fn column(&self, k: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.runs(k)
            .iter()
            .flat_map(|&(lo, hi, a)| (lo as usize..hi as usize).map(move |i| (i, a)))
    }

    /// Column `k`'s runs.
    fn runs(&self, k: usize) -> &[(u32, u32, f64)] {
        &self.runs[self.run_starts[k]..self.run_starts[k + 1]]
    }

    /// `cost_k + a_k · y`, given the running sums of `y` ([`running_sums`]).
    fn priced(&self, k: usize, y_sums: &[f64]) -> f64 {
        self.costs[k]
            + self
                .runs(k)
                .iter()
                .map(|&(lo, hi, a)| a * (y_sums[hi as usize] - y_sums[lo as usize]))
                .sum::<f64>()
    }

    /// Adds `amount · a_k` to the rows whose running sums `changes` holds (see
    /// [`loads_from`]).
    fn spread(&self, k: usize, amount: f64, changes: &mut [f64]) {
        for &(lo, hi, a) in self.runs(k) {
            changes[lo as usize] += a * amount;
            changes[hi as usize] -= a * amount;
        }
    }
}

/// Each row's load from the changes [`Block::spread`] left at the runs' ends; clears them.
fn loads_from(changes: &mut [f64], load: &mut [f64]) {
    let mut total = 0.0;
    for (l, c) in load.iter_mut().zip(changes.iter_mut()) {
        total += *c;
        *l = total;
        *c = 0.0;
    }
    if let Some(last) = changes.last_mut() {
        *last = 0.0;
    }
}

/// A primal point: each patient's weights.
type Weights = Vec<Vec<f64>>;

/// The master over columns added so far, with the last solve's primal and dual point.
pub struct Master {
    capacities: Vec<f64>,
    blocks: Vec<Block>,
    /// `λ`: on each patient's simplex.
    weights: Weights,
    /// `y`, one per row.
    prices: Vec<f64>,
    /// Ratio of the dual step to the primal step, carried across solves.
    primal_weight: Option<f64>,
}

/// A point with its measures: primal value `P = cost · λ`, the restricted Lagrangian `D(y)`,
/// and the capacity excess `‖(Aλ − cap)⁺‖`.
struct Measured {
    primal: f64,
    dual: f64,
    excess_norm: f64,
    excess_max: f64,
}

impl Measured {
    /// The error PDLP restarts on, in cost units: the gap and the excess weighed by the
    /// primal weight.
    fn error(&self, weight: f64) -> f64 {
        (self.primal - self.dual).hypot(weight * self.excess_norm)
    }

    /// Whether the gap is within `tolerance` (or the relative floor) and the excess too.
    fn optimal(&self, tolerance: f64) -> bool {
        let floor = GAP_TOLERANCE * (1.0 + self.primal.abs() + self.dual.abs());
        (self.primal - self.dual).abs() <= tolerance.max(floor)
            && self.excess_max <= EXCESS_TOLERANCE
    }
}

impl Master {
    /// A master over `patients` and rows of the given capacities.
    pub fn new(patients: usize, capacities: &[f64]) -> Self {
        Master {
            capacities: capacities.to_vec(),
            blocks: (0..patients).map(|_| Block::default()).collect(),
            weights: vec![Vec::new(); patients],
            prices: vec![0.0; capacities.len()],
            primal_weight: None,
        }
    }

    /// The last solve's weight of each patient's columns, in the order added.
    pub fn weights(&self) -> Vec<Vec<f64>> {
        self.weights.clone()
    }

    /// Starts the next solve from `weights` (each patient's, in the order its columns
    /// were added; put back on its simplex, all on its first column where they sum to
    /// nothing), `prices` and the step ratio `primal_weight`: where a solve of a master
    /// with nearly these costs ended. Ignored where the shapes do not match the master's.
    pub fn start_from(
        &mut self,
        mut weights: Vec<Vec<f64>>,
        prices: Vec<f64>,
        primal_weight: Option<f64>,
    ) {
        let fits = prices.len() == self.capacities.len()
            && weights.len() == self.blocks.len()
            && weights
                .iter()
                .zip(&self.blocks)
                .all(|(w, b)| w.len() == b.len());
        if !fits {
            return;
        }
        for w in &mut weights {
            w.iter_mut().for_each(|x| *x = x.max(0.0));
            let sum: f64 = w.iter().sum();
            if sum > 0.0 {
                w.iter_mut().for_each(|x| *x /= sum);
            } else if let Some(first) = w.first_mut() {
                *first = 1.0;
            }
        }
        self.weights = weights;
        self.prices = prices.into_iter().map(|y| y.max(0.0)).collect();
        self.primal_weight = primal_weight.filter(|w| w.is_finite() && *w > 0.0);
    }

    /// The last solve's prices and step ratio: with its weights ([`Master::weights`]),
    /// where a changed master starts ([`Master::start_from`]).
    pub fn end_prices(&self) -> Option<(Vec<f64>, Option<f64>)> {
        Some((self.prices.clone(), self.primal_weight))
    }

    /// Adds a column, for the next [`Master::solve`]; a patient's first column starts
    /// with all its weight.
    pub fn add(&mut self, column: &Column) {
        let block = &mut self.blocks[column.patient];
        if block.run_starts.is_empty() {
            block.run_starts.push(0);
        }
        block.costs.push(column.cost);
        let first_run = block.runs.len();
        for &(i, a) in &column.rows {
            let tail = &mut block.runs[first_run..];
            match tail.last_mut() {
                Some(last) if last.1 == i && last.2 == a => last.1 = i + 1,
                _ => block.runs.push((i, i + 1, a)),
            }
        }
        block.run_starts.push(block.runs.len());
        let weights = &mut self.weights[column.patient];
        weights.push(if weights.is_empty() { 1.0 } else { 0.0 });
    }

    /// The master's optimum (to `tolerance`, at least a relative `1e-5`, or the best point
    /// reached within `time_limit` or when `cancel` is set) and its prices, one per row;
    /// `None` when a patient has no column yet.
    pub fn solve(
        &mut self,
        time_limit: Duration,
        tolerance: f64,
        cancel: &AtomicBool,
    ) -> Option<(f64, Vec<f64>)> {
        if self.blocks.iter().any(|b| b.len() == 0) {
            return None;
        }
        let deadline = Instant::now() + time_limit;
        let norm = self.operator_norm();
        let step = STEP_SHARE / norm.max(1e-9);
        let mut weight = self.primal_weight.unwrap_or_else(|| self.initial_weight());

        let mut x = self.weights.clone();
        let mut y = self.prices.clone();
        let zeros = |w: &Weights| -> Weights { w.iter().map(|b| vec![0.0; b.len()]).collect() };
        let (mut sum_x, mut sum_y) = (zeros(&x), vec![0.0; y.len()]);
        let mut next_x = zeros(&x);
        let mut averaged = 0usize;
        let mut restart_x = x.clone();
        let mut restart_y = y.clone();
        let mut restart_error = self.measure(&x, &y).error(weight);
        let mut last_error = restart_error;
        let mut steps = 0usize;
        let mut since_restart = 0usize;
        let mut load = vec![0.0; y.len()];
        let mut y_sums = vec![0.0; y.len() + 1];
        let mut changes = vec![0.0; y.len() + 1];
        loop {
            let (tau, sigma) = (step / weight, step * weight);
            // Primal: λ' = proj(λ − τ (cost + Aᵀ y)); dual: y' = (y + σ (A (2λ' − λ) − cap))⁺.
            running_sums(&y, &mut y_sums);
            self.blocks
                .par_iter()
                .zip(&x)
                .zip(&mut next_x)
                .for_each_init(Vec::new, |active, ((block, xs), next)| {
                    for (k, n) in next.iter_mut().enumerate() {
                        *n = xs[k] - tau * block.priced(k, &y_sums);
                    }
                    project_to_simplex(next, active);
                });
            for ((block, xs), next) in self.blocks.iter().zip(&x).zip(&next_x) {
                for (k, (old, new)) in xs.iter().zip(next).enumerate() {
                    let extrapolated = 2.0 * new - old;
                    if extrapolated != 0.0 {
                        block.spread(k, extrapolated, &mut changes);
                    }
                }
            }
            loads_from(&mut changes, &mut load);
            for ((yi, l), cap) in y.iter_mut().zip(&load).zip(&self.capacities) {
                *yi = (*yi + sigma * (l - cap)).max(0.0);
            }
            std::mem::swap(&mut x, &mut next_x);
            for (s, v) in sum_x.iter_mut().flatten().zip(x.iter().flatten()) {
                *s += v;
            }
            for (s, v) in sum_y.iter_mut().zip(&y) {
                *s += v;
            }
            averaged += 1;
            steps += 1;
            since_restart += 1;
            if !steps.is_multiple_of(CHECK_EVERY) {
                continue;
            }
            let current = self.measure(&x, &y);
            let scale = 1.0 / averaged as f64;
            let avg_x: Weights = sum_x
                .iter()
                .map(|b| b.iter().map(|s| s * scale).collect())
                .collect();
            let avg_y: Vec<f64> = sum_y.iter().map(|s| s * scale).collect();
            let average = self.measure(&avg_x, &avg_y);
            let (use_average, best) = if average.error(weight) < current.error(weight) {
                (true, average)
            } else {
                (false, current)
            };
            let error = best.error(weight);
            let done = best.optimal(tolerance)
                || Instant::now() >= deadline
                || cancel.load(Ordering::Relaxed);
            let restart = done
                || error <= SUFFICIENT_DECAY * restart_error
                || (error <= NECESSARY_DECAY * restart_error && error > last_error)
                || since_restart as f64 >= ARTIFICIAL_RESTART * steps as f64;
            last_error = error;
            if !restart {
                continue;
            }
            if use_average {
                x = avg_x;
                y = avg_y;
            }
            if done {
                self.weights = x;
                self.prices = y;
                self.primal_weight = Some(weight);
                return Some((best.primal, self.prices.clone()));
            }
            // PDLP's primal weight update: towards the ratio of the dual's move to the
            // primal's since the last restart, smoothed.
            let moved_x = distance(x.iter().flatten(), restart_x.iter().flatten());
            let moved_y = distance(y.iter(), restart_y.iter());
            if moved_x > 1e-10 && moved_y > 1e-10 {
                weight = (0.5 * (moved_y / moved_x).ln() + 0.5 * weight.ln()).exp();
            }
            restart_x.clone_from(&x);
            restart_y.clone_from(&y);
            // The restart point is the one `best` measured.
            restart_error = best.error(weight);
            last_error = restart_error;
            sum_x.iter_mut().flatten().for_each(|s| *s = 0.0);
            sum_y.iter_mut().for_each(|s| *s = 0.0);
            averaged = 0;
            since_restart = 0;
        }
    }

    /// `P`, `D(y)` and the excess of a point.
    fn measure(&self, x: &Weights, y: &[f64]) -> Measured {
        let mut load = vec![0.0; self.capacities.len()];
        let mut changes = vec![0.0; self.capacities.len() + 1];
        let mut y_sums = vec![0.0; y.len() + 1];
        running_sums(y, &mut y_sums);
        let mut primal = 0.0;
        let mut dual = -self
            .capacities
            .iter()
            .zip(y)
            .map(|(c, y)| c * y)
            .sum::<f64>();
        for (block, xs) in self.blocks.iter().zip(x) {
            let mut cheapest = f64::INFINITY;
            for (k, &xk) in xs.iter().enumerate() {
                primal += block.costs[k] * xk;
                if xk != 0.0 {
                    block.spread(k, xk, &mut changes);
                }
                cheapest = cheapest.min(block.priced(k, &y_sums));
            }
            dual += cheapest;
        }
        loads_from(&mut changes, &mut load);
        let (mut excess_norm, mut excess_max) = (0.0f64, 0.0f64);
        for (l, cap) in load.iter().zip(&self.capacities) {
            let excess = (l - cap).max(0.0);
            excess_norm += excess * excess;
            excess_max = excess_max.max(excess);
        }
        Measured {
            primal,
            dual,
            excess_norm: excess_norm.sqrt(),
            excess_max,
        }
    }

    /// `‖A‖₂` of the capacity rows over the columns, by power iteration on `AᵀA`, raised
    /// by a margin for the iteration's shortfall.
    fn operator_norm(&self) -> f64 {
        let mut v: Weights = self.weights.iter().map(|b| vec![1.0; b.len()]).collect();
        let mut rows = vec![0.0; self.capacities.len()];
        let mut estimate = 0.0;
        for _ in 0..30 {
            rows.iter_mut().for_each(|r| *r = 0.0);
            for (block, vs) in self.blocks.iter().zip(&v) {
                for (k, vk) in vs.iter().enumerate() {
                    for (i, a) in block.column(k) {
                        rows[i] += a * vk;
                    }
                }
            }
            for (block, vs) in self.blocks.iter().zip(v.iter_mut()) {
                for (k, vk) in vs.iter_mut().enumerate() {
                    *vk = block.column(k).map(|(i, a)| a * rows[i]).sum();
                }
            }
            let length = v.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
            if length <= 0.0 {
                return 1.0;
            }
            estimate = length.sqrt();
            v.iter_mut().flatten().for_each(|x| *x /= length);
        }
        1.05 * estimate
    }

    /// PDLP's starting primal weight, `‖cost‖ / ‖cap‖`.
    fn initial_weight(&self) -> f64 {
        let cost = self
            .blocks
            .iter()
            .flat_map(|b| &b.costs)
            .map(|c| c * c)
            .sum::<f64>();
        let cap = self.capacities.iter().map(|c| c * c).sum::<f64>();
        if cost > 0.0 && cap > 0.0 {
            (cost / cap).sqrt()
        } else {
            1.0
        }
    }
}

/// Euclidean projection of `values` onto the simplex `{x ≥ 0, Σ x = 1}`, in place;
/// `active` is scratch.
///
/// The projection subtracts one threshold and clips at zero. Michelot's method finds it
/// without sorting: the threshold that spreads the excess over the values still in play,
/// then again over those above it, until none drops out. Each pass keeps the largest
/// value, and the threshold only rises, so it ends within as many passes as values, and
/// in a few on a master's blocks: 1.6-1.9 times as fast as sorting on blocks of 50-100
/// columns, the same on 5 (the sort was a ninth of a 300-patient minute's samples).
fn project_to_simplex(values: &mut [f64], active: &mut Vec<f64>) {
    if values.is_empty() {
        return;
    }
    let mut threshold = (values.iter().sum::<f64>() - 1.0) / values.len() as f64;
    active.clear();
    active.extend(values.iter().copied().filter(|&v| v > threshold));
    let mut kept = values.len();
    while active.len() < kept {
        kept = active.len();
        threshold = (active.iter().sum::<f64>() - 1.0) / kept as f64;
        active.retain(|&v| v > threshold);
    }
    for v in values {
        *v = (*v - threshold).max(0.0);
    }
}

fn distance<'a>(a: impl Iterator<Item = &'a f64>, b: impl Iterator<Item = &'a f64>) -> f64 {
    a.zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// The master's optimum by the simplex method, for comparison.
    fn exact_value(patients: usize, capacities: &[f64], columns: &[Column]) -> f64 {
        use good_lp::{variable, variables, Expression, Solution, SolverModel};
        let mut vars = variables!();
        let lambda: Vec<_> = columns
            .iter()
            .map(|_| vars.add(variable().min(0.0)))
            .collect();
        let cost: Expression = columns.iter().zip(&lambda).map(|(c, &l)| c.cost * l).sum();
        let mut model = vars.minimise(cost).using(good_lp::microlp);
        for p in 0..patients {
            let sum: Expression = columns
                .iter()
                .zip(&lambda)
                .filter(|(c, _)| c.patient == p)
                .map(|(_, &l)| l)
                .sum();
            model = model.with(sum.eq(1.0));
        }
        for (i, &cap) in capacities.iter().enumerate() {
            let load: Expression = columns
                .iter()
                .zip(&lambda)
                .flat_map(|(c, &l)| {
                    c.rows
                        .iter()
                        .filter(|r| r.0 as usize == i)
                        .map(move |r| r.1 * l)
                })
                .sum();
            model = model.with(load.leq(cap));
        }
        let solution = model.solve().expect("the master is feasible");
        columns
            .iter()
            .zip(&lambda)
            .map(|(c, &l)| c.cost * solution.value(l))
            .sum()
    }

    /// A week using no row for every patient, so that a master over them is feasible.
    fn weeks_using_no_row(patients: usize) -> Vec<Column> {
        (0..patients)
            .map(|p| Column {
                patient: p,
                cost: 200.0,
                rows: vec![],
                week: vec![],
            })
            .collect()
    }

    /// Random masters: the value matches the simplex method's, and the prices are nearly
    /// optimal duals (the restricted Lagrangian at them comes within the tolerance of it),
    /// also after columns are added to a solved master.
    #[test]
    fn matches_the_simplex_method_on_random_masters() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for case in 0..12 {
            let (patients, rows) = (rng.gen_range(2..12), rng.gen_range(1..20));
            let capacities: Vec<f64> = (0..rows).map(|_| rng.gen_range(1..3) as f64).collect();
            let column = |patient: usize, rng: &mut ChaCha8Rng| {
                let mut used: Vec<(u32, f64)> = Vec::new();
                for i in 0..rows as u32 {
                    if rng.gen_bool(0.3) {
                        used.push((i, rng.gen_range(1..3) as f64));
                    }
                }
                Column {
                    patient,
                    cost: rng.gen_range(0..100) as f64 + 5.0 * (rows - used.len()) as f64,
                    rows: used,
                    week: vec![],
                }
            };
            let mut columns = weeks_using_no_row(patients);
            let mut master = Master::new(patients, &capacities);
            for c in &columns {
                master.add(c);
            }
            for round in 0..3 {
                for _ in 0..2 * patients {
                    let c = column(rng.gen_range(0..patients), &mut rng);
                    master.add(&c);
                    columns.push(c);
                }
                let (value, prices) = master
                    .solve(Duration::from_secs(20), 0.0, &AtomicBool::new(false))
                    .expect("solves");
                let exact = exact_value(patients, &capacities, &columns);
                let tolerance = 1e-3 * (1.0 + exact.abs());
                assert!(
                    (value - exact).abs() <= tolerance,
                    "case {case} round {round}: {value} vs {exact}"
                );
                let lagrangian: f64 = (0..patients)
                    .map(|p| {
                        columns
                            .iter()
                            .filter(|c| c.patient == p)
                            .map(|c| {
                                c.cost
                                    + c.rows
                                        .iter()
                                        .map(|&(i, a)| a * prices[i as usize])
                                        .sum::<f64>()
                            })
                            .fold(f64::INFINITY, f64::min)
                    })
                    .sum::<f64>()
                    - capacities
                        .iter()
                        .zip(&prices)
                        .map(|(c, y)| c * y)
                        .sum::<f64>();
                assert!(prices.iter().all(|&y| y >= 0.0));
                assert!(
                    lagrangian <= exact + tolerance,
                    "case {case}: weak duality {lagrangian} vs {exact}"
                );
                assert!(
                    lagrangian >= exact - tolerance,
                    "case {case} round {round}: prices give {lagrangian}, optimum {exact}"
                );
            }
        }
    }

    /// A master started where another ended (the branch's case: the same columns, one
    /// patient's costs changed) reaches the simplex method's value of its own costs; a
    /// start of the wrong shape is ignored.
    #[test]
    fn a_warm_start_reaches_the_changed_masters_optimum() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let never = AtomicBool::new(false);
        for case in 0..10 {
            let (patients, rows) = (rng.gen_range(2..10), rng.gen_range(1..15));
            let capacities: Vec<f64> = (0..rows).map(|_| rng.gen_range(1..3) as f64).collect();
            let mut columns = weeks_using_no_row(patients);
            for _ in 0..4 * patients {
                let used: Vec<(u32, f64)> = (0..rows as u32)
                    .filter(|_| rng.gen_bool(0.3))
                    .map(|i| (i, 1.0))
                    .collect();
                columns.push(Column {
                    patient: rng.gen_range(0..patients),
                    cost: rng.gen_range(0..100) as f64 + 5.0 * (rows - used.len()) as f64,
                    rows: used,
                    week: vec![],
                });
            }
            let mut parent = Master::new(patients, &capacities);
            columns.iter().for_each(|c| parent.add(c));
            parent
                .solve(Duration::from_secs(20), 0.0, &never)
                .expect("solves");
            let weights = parent.weights();
            let (prices, primal_weight) = parent.end_prices().expect("a point");
            // One patient's weeks cost more (or less), as a branch's do.
            let changed = rng.gen_range(0..patients);
            let change = if case % 2 == 0 { 150.0 } else { -40.0 };
            for c in columns.iter_mut().filter(|c| c.patient == changed) {
                if c.rows.len() % 2 == 0 {
                    c.cost += change;
                }
            }
            let exact = exact_value(patients, &capacities, &columns);
            let tolerance = 1e-3 * (1.0 + exact.abs());
            let started_from = |prices: Vec<f64>| {
                let mut master = Master::new(patients, &capacities);
                columns.iter().for_each(|c| master.add(c));
                master.start_from(weights.clone(), prices, primal_weight);
                let solved = master.solve(Duration::from_secs(20), 0.0, &never);
                solved.expect("solves").0
            };
            let warm = started_from(prices);
            assert!(
                (warm - exact).abs() <= tolerance,
                "case {case}: warm {warm} vs {exact}"
            );
            // Prices for another master's rows: ignored, and the solve starts cold.
            let ignored = started_from(vec![1.0; rows + 1]);
            assert!(
                (ignored - exact).abs() <= tolerance,
                "case {case}: ignored start {ignored} vs {exact}"
            );
        }
    }

    #[test]
    fn projection_lands_on_the_simplex() {
        let mut scratch = Vec::new();
        let mut values = [0.5, 2.0, -1.0, 0.3];
        project_to_simplex(&mut values, &mut scratch);
        assert_eq!(values, [0.0, 1.0, 0.0, 0.0]);
        let mut values = [0.6, 0.6, 0.0];
        project_to_simplex(&mut values, &mut scratch);
        assert_eq!(values, [0.5, 0.5, 0.0]);
    }

    #[test]
    fn runs_price_and_load_as_the_rows_do() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for case in 0..200 {
            let rows = rng.gen_range(1..40u32);
            let mut master = Master::new(1, &vec![1.0; rows as usize]);
            let mut columns = Vec::new();
            // Stretches of rows with one factor, as an appointment's instants are, and
            // single rows.
            for _ in 0..rng.gen_range(1..6) {
                let mut used: Vec<(u32, f64)> = Vec::new();
                let mut i = rng.gen_range(0..rows);
                while i < rows {
                    let len = rng.gen_range(1..6).min(rows - i);
                    let factor = rng.gen_range(1..3) as f64;
                    used.extend((i..i + len).map(|r| (r, factor)));
                    i += len + rng.gen_range(0..4);
                }
                let column = Column {
                    patient: 0,
                    cost: rng.gen_range(0..50) as f64,
                    rows: used,
                    week: vec![],
                };
                master.add(&column);
                columns.push(column);
            }
            let block = &master.blocks[0];
            let y: Vec<f64> = (0..rows).map(|_| rng.gen_range(0.0..10.0)).collect();
            let mut sums = vec![0.0; y.len() + 1];
            running_sums(&y, &mut sums);
            let mut changes = vec![0.0; y.len() + 1];
            let mut expected = vec![0.0; y.len()];
            for (k, column) in columns.iter().enumerate() {
                let direct = column.cost
                    + column
                        .rows
                        .iter()
                        .map(|&(i, a)| a * y[i as usize])
                        .sum::<f64>();
                let by_runs = block.priced(k, &sums);
                assert!(
                    (direct - by_runs).abs() < 1e-9,
                    "case {case}: {direct} against {by_runs}"
                );
                let amount = rng.gen_range(-1.0..1.0);
                block.spread(k, amount, &mut changes);
                for &(i, a) in &column.rows {
                    expected[i as usize] += a * amount;
                }
                assert!(block
                    .column(k)
                    .eq(column.rows.iter().map(|&(i, a)| (i as usize, a))));
            }
            let rows: usize = columns.iter().map(|c| c.rows.len()).sum();
            assert!(block.runs.len() <= rows);
            let mut load = vec![0.0; y.len()];
            loads_from(&mut changes, &mut load);
            for (got, want) in load.iter().zip(&expected) {
                assert!(
                    (got - want).abs() < 1e-9,
                    "case {case}: load {got} against {want}"
                );
            }
            assert!(changes.iter().all(|&c| c == 0.0), "changes are cleared");
        }
    }

    /// The projection by sorting (the textbook one): the threshold is set by the largest
    /// count of top values that all stay above it.
    fn projected_by_sorting(values: &[f64]) -> Vec<f64> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(|a, b| b.total_cmp(a));
        let (mut sum, mut threshold) = (0.0, 0.0);
        for (j, v) in sorted.iter().enumerate() {
            sum += v;
            let t = (sum - 1.0) / (j + 1) as f64;
            if v - t > 0.0 {
                threshold = t;
            }
        }
        values.iter().map(|v| (v - threshold).max(0.0)).collect()
    }

    #[test]
    fn projection_matches_the_sorted_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut scratch = Vec::new();
        for case in 0..2_000 {
            let n = rng.gen_range(1..60);
            // Near a vertex, spread, negative, far off: what a step may leave.
            let scale = [0.01, 0.5, 3.0, 100.0][case % 4];
            let mut values: Vec<f64> = (0..n).map(|_| rng.gen_range(-scale..scale)).collect();
            if case % 3 == 0 {
                values[rng.gen_range(0..n)] += 1.0;
            }
            let expected = projected_by_sorting(&values);
            project_to_simplex(&mut values, &mut scratch);
            let sum: f64 = values.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "case {case}: sum {sum}");
            for (got, want) in values.iter().zip(&expected) {
                assert!(
                    *got >= 0.0 && (got - want).abs() < 1e-9,
                    "case {case}: {got} against {want}"
                );
            }
        }
    }
}
