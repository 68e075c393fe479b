//! One path from a circuit spec to a replacement: build the circuit (its upstream
//! normalisers from the tune split), map its units onto the family's natural neurons by
//! orientation, and calibrate its output on the tune split, once.

use std::path::Path;
use std::sync::Arc;

use aann_circuits::{Circuit, CircuitReplacement, UnitMapping};
use aann_data::ImageSet;
use aann_model::Family;

use super::{ControlFit, Feed};
use crate::EvalError;
use crate::circuits::{CalibrationData, CircuitInputs};
use crate::means::describe_set;
use crate::spec::CircuitSpec;

/// Build a circuit as `spec` describes it, by the session's registry of circuits. Family
/// and override paths resolve against `repo`; upstream normalisers come from the (cached)
/// statistics of `upstream_set`.
pub fn build_circuit_of(
    feed: &Feed<'_>,
    spec: &CircuitSpec,
    repo: &Path,
    upstream_set: &ImageSet,
) -> Result<Arc<dyn Circuit>, EvalError> {
    let session = feed.session;
    let registry = session.circuits();
    let choice = registry.check(&spec.choice)?;
    let upstream_stats = match registry.upstream_tap(&choice, repo)? {
        Some(up) => Some(crate::means::stats(feed, upstream_set, up)?),
        None => None,
    };
    let override_text = spec
        .spec
        .as_ref()
        .map(|p| std::fs::read_to_string(repo.join(p)).map_err(|e| EvalError::io(&repo.join(p), e)))
        .transpose()?;
    registry.build(
        &choice,
        &CircuitInputs {
            variant: session.variant(),
            device: session.model().device(),
            repo,
            upstream: upstream_stats.as_ref(),
            numbers: override_text.as_deref(),
        },
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
    feed: &Feed<'_>,
    spec: &CircuitSpec,
    family: &Family,
    repo: &Path,
    sets: FitSets<'_>,
) -> Result<Arc<CircuitReplacement>, EvalError> {
    Ok(build_replacement_with_data(feed, spec, family, repo, sets)?.0)
}

/// [`build_replacement`], also returning the recorded calibration data, so that controls
/// (other mappings of the same units) are calibrated on the same data.
pub fn build_replacement_with_data(
    feed: &Feed<'_>,
    spec: &CircuitSpec,
    family: &Family,
    repo: &Path,
    sets: FitSets<'_>,
) -> Result<(Arc<CircuitReplacement>, CalibrationData), EvalError> {
    let session = feed.session;
    let calibration_set = sets.calibration;
    let registry = session.circuits();
    if let Some(models) = registry.stands_in_for(&spec.choice)? {
        let replaces = family.tap()?;
        if models != replaces {
            let variant = session.variant();
            return Err(EvalError::Spec(format!(
                "circuit `{}` builds units that stand in for {}, but the family `{}` it would replace lives at {}{}",
                registry.label(&spec.choice),
                models.name(variant),
                family.name,
                replaces.name(variant),
                stage_hint(&spec.choice.kind, replaces)
            )));
        }
    }
    let circuit = build_circuit_of(feed, spec, repo, sets.upstream)?;
    let mapping = UnitMapping::by_orientation(family, circuit.as_ref()).map_err(EvalError::Spec)?;
    if session.progress {
        eprintln!(
            "calibrating {} on {}",
            circuit.name(),
            describe_set(calibration_set)
        );
    }
    let data = CalibrationData::record(
        feed,
        circuit.as_ref(),
        family.tap()?,
        &mapping.channels,
        calibration_set,
    )?;
    let calibration = data.calibrate(&mapping, spec.calibration.per_neuron(), spec.fit);
    Ok((
        Arc::new(CircuitReplacement {
            circuit,
            mapping,
            calibration,
            device: session.model().device().clone(),
        }),
        data,
    ))
}

/// The same circuit with another mapping of its units onto the neurons, calibrated on the
/// same data as `fit` says (the shuffled and rotated controls, the replacement null).
pub fn remapped(
    replacement: &CircuitReplacement,
    mapping: UnitMapping,
    data: &CalibrationData,
    fit: ControlFit,
) -> Arc<CircuitReplacement> {
    let calibration = fit.calibrate(replacement, &mapping, data);
    Arc::new(CircuitReplacement {
        circuit: replacement.circuit.clone(),
        mapping,
        calibration,
        device: replacement.device.clone(),
    })
}

/// How the shipped pixel circuit is pointed at another layer.
fn stage_hint(kind: &str, replaces: aann_model::Tap) -> String {
    if kind != "pixels" {
        return String::new();
    }
    let stages: Vec<String> = aann_circuits::PixelStage::ALL
        .iter()
        .filter(|s| s.models() == replaces)
        .map(|s| format!("stage = \"{}\"", s.name()))
        .collect();
    if stages.is_empty() {
        " (no stage of the pixel circuit stands in for that layer)".into()
    } else {
        format!(" ({} builds units there)", stages.join(" or "))
    }
}
