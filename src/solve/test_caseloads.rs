//! Generated caseloads for the solver's unit tests: built, optionally edited, validated.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::generate::{generate, GenerateOptions};
use crate::model::{Input, Provider};
use crate::problem::Problem;
use crate::solve::domain::Domains;
use crate::solve::lns;
use crate::validate::validate;

/// A generated caseload, validated.
pub fn caseload(patients: usize, seed: u64, grid_min: u32) -> Problem {
    caseload_with(patients, seed, grid_min, |_| {})
}

/// A generated caseload, changed by `edit` before it is validated (to tighten caps, say).
pub fn caseload_with(
    patients: usize,
    seed: u64,
    grid_min: u32,
    edit: impl FnOnce(&mut Input),
) -> Problem {
    let mut input = generate(&GenerateOptions {
        patients,
        seed,
        grid_min,
    });
    edit(&mut input);
    validate(input).expect("generated caseloads are valid")
}

/// A generated caseload whose every provider has `copies` more like them, any of them
/// eligible for every request of their specialty, as a large network's roster offers:
/// many starts a request.
pub fn large_roster(patients: usize, seed: u64, grid_min: u32, copies: usize) -> Problem {
    caseload_with(patients, seed, grid_min, |input| {
        copy_providers(input, copies, |_| true);
        for request in &mut input.requests {
            request.providers.clear();
        }
    })
}

/// Adds `copies` copies of each provider `which` selects, each with an id of its own.
fn copy_providers(input: &mut Input, copies: usize, which: impl Fn(&Provider) -> bool) {
    let originals: Vec<Provider> = input
        .providers
        .iter()
        .filter(|p| which(p))
        .cloned()
        .collect();
    for k in 0..copies {
        for p in &originals {
            let mut copy = p.clone();
            copy.id = format!("{}-{k}", p.id);
            input.providers.push(copy);
        }
    }
}

/// A generated caseload whose first provider's specialty has `copies` more of each of its
/// providers, any of them eligible for that specialty's requests: those requests have many
/// more starts than the rest.
pub fn one_large_specialty(patients: usize, seed: u64, grid_min: u32, copies: usize) -> Problem {
    caseload_with(patients, seed, grid_min, |input| {
        let specialty = input.providers[0].specialty.clone();
        copy_providers(input, copies, |p| p.specialty == specialty);
        for request in &mut input.requests {
            if request.specialty.as_ref() == Some(&specialty) {
                request.providers.clear();
            }
        }
    })
}

/// The requests with at least one option, ascending.
pub fn placeable(domains: &Domains) -> Vec<usize> {
    (0..domains.opts.len())
        .filter(|&r| !domains.opts[r].is_empty())
        .collect()
}

/// A search budget of `repairs` repairs, counted as under `--work` (the clock only a
/// guard), moving only the requests `movable` marks.
pub fn repairs_of<'a>(
    cancel: &'a AtomicBool,
    repairs: u64,
    movable: &'a [bool],
) -> lns::Budget<'a> {
    lns::Budget {
        deadline: Instant::now() + Duration::from_secs(3600),
        max_iterations: repairs,
        stall: u64::MAX,
        cancel,
        stop: None,
        target: i64::MIN,
        deterministic: true,
        repair_options: 60,
        movable: Some(movable),
        guide: None,
        anneal: None,
    }
}
