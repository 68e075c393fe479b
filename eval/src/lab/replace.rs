//! One path from a circuit spec to a replacement: build the circuit (its upstream
//! normalisers from the tune split), map its units onto the family's natural neurons by
//! orientation, and calibrate its output on the tune split, once.

use std::path::Path;
use std::sync::Arc;

use aann_circuits::{Circuit, CircuitReplacement, UnitMapping};
use aann_data::{ImageSet, Preprocess};
use aann_model::Family;

use super::Session;
use crate::EvalError;
use crate::circuits::{build_circuit, calibrate_with, upstream_tap};
use crate::means::describe_set;
use crate::spec::CircuitSpec;

/// Build a circuit as `spec` describes it. Family and override paths resolve against
/// `repo`; upstream normalisers come from the (cached) statistics of `upstream_set`.
pub fn build_circuit_of(
    session: &Session,
    spec: &CircuitSpec,
    repo: &Path,
    upstream_set: &ImageSet,
    preprocess: &Preprocess,
    batch: usize,
) -> Result<Arc<dyn Circuit>, EvalError> {
    let upstream_stats = match upstream_tap(&spec.choice, repo)? {
        Some(up) => Some(session.stats(upstream_set, preprocess, up, batch)?),
        None => None,
    };
    let override_text = spec
        .spec
        .as_ref()
        .map(|p| std::fs::read_to_string(repo.join(p)).map_err(|e| EvalError::io(&repo.join(p), e)))
        .transpose()?;
    build_circuit(
        &spec.choice,
        session.model(),
        repo,
        upstream_stats.as_ref(),
        override_text.as_deref(),
    )
}

/// The tune images a replacement is fitted on: where its upstream normalisers come from,
/// and where its output gain and bias are calibrated (often the same set).
#[derive(Clone, Copy, Debug)]
pub struct FitSets<'a> {
    pub upstream: &'a ImageSet,
    pub calibration: &'a ImageSet,
}

impl<'a> FitSets<'a> {
    /// One set for both.
    pub fn same(set: &'a ImageSet) -> Self {
        FitSets {
            upstream: set,
            calibration: set,
        }
    }
}

/// Build, map and calibrate the replacement of `family` that `spec` describes.
pub fn build_replacement(
    session: &Session,
    spec: &CircuitSpec,
    family: &Family,
    repo: &Path,
    sets: FitSets<'_>,
    preprocess: &Preprocess,
    batch: usize,
) -> Result<Arc<CircuitReplacement>, EvalError> {
    let calibration_set = sets.calibration;
    let circuit = build_circuit_of(session, spec, repo, sets.upstream, preprocess, batch)?;
    let mapping = UnitMapping::by_orientation(family, circuit.as_ref()).map_err(EvalError::Spec)?;
    if session.progress {
        eprintln!(
            "calibrating {} on {}",
            circuit.name(),
            describe_set(calibration_set)
        );
    }
    let calibration = calibrate_with(
        session.model(),
        circuit.as_ref(),
        &mapping,
        family.tap()?,
        calibration_set,
        preprocess,
        spec.calibration.per_neuron(),
        spec.fit,
        batch,
    )?;
    Ok(Arc::new(CircuitReplacement {
        circuit,
        mapping,
        calibration,
        device: session.model().device().clone(),
    }))
}
