//! A lower bound for components too large for the LP relaxation of the time-indexed model:
//! the LP relaxation of an aggregated model whose decisions are (request, provider, day,
//! modality) and whose capacities are minutes. Every schedule maps to a feasible point of it
//! at no greater cost (waiting is dropped, costs take each group's cheapest option), so its
//! optimum is a valid bound.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use good_lp::{variable, Expression, ProblemVariables, Variable};

use super::state::{unplaced_weight, State};

/// Share of the time limit the model's construction may take; the rest is the LP's.
const BUILD_SHARE: f64 = 0.5;

/// The aggregated LP bound of a component, or `None` if the backend did not solve it within
/// `time_limit` seconds, or if building the model alone would take more than half of
/// them (15,240 requests with 61 million options took 6 s to build and
/// solve nothing, past the solve's deadline).
pub fn aggregated_bound(state: &State, comp: &[usize], time_limit: f64) -> Option<f64> {
    let started = Instant::now();
    let build_by = started + Duration::from_secs_f64(time_limit.max(0.0) * BUILD_SHARE);
    let problem = state.problem;
    let mut vars = ProblemVariables::new();
    let mut objective = Expression::from(0.0);
    let mut constant = 0.0;
    let mut constraints = Vec::new();
    // (provider, day) -> [(duration, var)], (patient, day) -> ..., trips per (patient, day).
    let mut provider_day: BTreeMap<(u32, u16), Vec<(f64, Variable)>> = BTreeMap::new();
    let mut patient_day: BTreeMap<(usize, u16), Vec<(f64, Variable)>> = BTreeMap::new();
    let mut in_person: BTreeMap<(usize, u16, usize), Vec<Variable>> = BTreeMap::new();
    let mut per_request: BTreeMap<usize, Vec<Variable>> = BTreeMap::new();
    for (k, &r) in comp.iter().enumerate() {
        if k % 64 == 0 && Instant::now() > build_by {
            return None;
        }
        let w = unplaced_weight(problem, r) as f64;
        constant += w;
        let q = problem.requests[r].patient;
        let dur = problem.requests[r].duration as f64;
        let mut groups: BTreeMap<(u32, u16, bool), i64> = BTreeMap::new();
        for o in &state.domains.opts[r] {
            let cost = groups
                .entry((o.provider, o.day, o.in_person()))
                .or_insert(i64::MAX);
            *cost = (*cost).min(o.cost);
        }
        let mut row = Vec::new();
        for (&(p, d, ip), &cost) in &groups {
            let z = vars.add(variable().min(0.0).max(1.0));
            objective += (cost as f64 - w) * z;
            provider_day.entry((p, d)).or_default().push((dur, z));
            patient_day.entry((q, d)).or_default().push((dur, z));
            if ip {
                in_person.entry((q, d, r)).or_default().push(z);
            }
            row.push(z);
        }
        per_request.insert(r, row.clone());
        let sum: Expression = row.iter().copied().sum();
        if problem.requests[r]
            .existing
            .as_ref()
            .is_some_and(|e| e.pinned)
        {
            constraints.push(sum.eq(1.0));
        } else {
            constraints.push(sum.leq(1.0));
        }
    }
    for (&(p, d), items) in &provider_day {
        let free: i32 = problem.providers[p as usize].free[d as usize]
            .iter()
            .map(|w| w.end - w.start)
            .sum();
        let load: Expression = items.iter().map(|&(dur, z)| dur * z).sum();
        constraints.push(load.leq(free as f64));
        if let Some(cap) = problem.providers[p as usize].max_per_day {
            let count: Expression = items.iter().map(|&(_, z)| z).sum();
            constraints.push(count.leq(cap as f64));
        }
    }
    for (&(q, d), items) in &patient_day {
        let patient = &problem.patients[q];
        let free: i32 = patient.available[d as usize]
            .iter()
            .map(|w| w.end - w.start)
            .sum();
        let load: Expression = items.iter().map(|&(dur, z)| dur * z).sum();
        constraints.push(load.leq(free as f64));
        if let Some(cap) = patient.max_per_day {
            let count: Expression = items.iter().map(|&(_, z)| z).sum();
            constraints.push(count.leq(cap as f64));
        }
    }
    let mut trips: BTreeMap<usize, Vec<Variable>> = BTreeMap::new();
    let mut trip_var: BTreeMap<(usize, u16), Variable> = BTreeMap::new();
    for (&(q, d, _), zs) in &in_person {
        let y = *trip_var.entry((q, d)).or_insert_with(|| {
            let y = vars.add(variable().min(0.0).max(1.0));
            objective += problem.weights.trip as f64 * y;
            trips.entry(q).or_default().push(y);
            y
        });
        let sum: Expression = zs.iter().copied().sum();
        constraints.push(sum.leq(y));
    }
    for (q, ys) in &trips {
        if let Some(max) = problem.patients[*q].max_trips {
            let sum: Expression = ys.iter().copied().sum();
            constraints.push(sum.leq(max as f64));
        }
    }
    for p in &problem.precedences {
        if let (Some(a), Some(b)) = (per_request.get(&p.after), per_request.get(&p.before)) {
            let sa: Expression = a.iter().copied().sum();
            let sb: Expression = b.iter().copied().sum();
            constraints.push(sa.leq(sb));
        }
    }
    if Instant::now() > build_by {
        return None;
    }
    let left = time_limit - started.elapsed().as_secs_f64();
    let value = super::milp::solve_lp(vars, objective, constraints, left)?;
    Some(constant + value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::construct;
    use crate::solve::domain::Domains;
    use crate::solve::test_caseloads::{caseload, placeable};

    /// The bound is positive and at most what a schedule of the component costs; with no
    /// time it is not built.
    #[test]
    fn aggregated_bound_is_below_a_schedule_and_gives_up_without_time() {
        for (seed, grid_min) in [(3, 15), (4, 5)] {
            let problem = caseload(12, seed, grid_min);
            let domains = Domains::build(&problem);
            let comp = placeable(&domains);
            let empty = State::new(&problem, &domains);
            let bound = aggregated_bound(&empty, &comp, 30.0).expect("a small LP is solved");
            let mut state = State::new(&problem, &domains);
            construct::construct(&mut state, &comp);
            // The component's part of the schedule's total: requests without options are
            // outside it.
            let outside: i64 = (0..problem.requests.len())
                .filter(|r| !comp.contains(r))
                .map(|r| unplaced_weight(&problem, r))
                .sum();
            let schedule = (state.total() - outside) as f64;
            assert!(bound > 0.0, "seed {seed}: bound {bound}");
            assert!(
                bound <= schedule + 1e-6,
                "seed {seed}: bound {bound} above the schedule's {schedule}"
            );
            assert_eq!(aggregated_bound(&empty, &comp, 0.0), None);
        }
    }
}
