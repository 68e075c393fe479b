//! Each circuit's tuning maps against the natural neurons' (synthetic curves at every
//! orientation and radius), written beside the records as `tuning-<arm>.json`.

use std::path::Path;

use serde::Serialize;

use super::arms::Plan;
use super::inputs::Inputs;
use super::result::CircuitResult;
use crate::EvalError;
use crate::circuits::{compare_tuning, median};
use crate::lab::Feed;
use crate::spec::ExperimentSpec;
use crate::tuning::TuningSpec;

pub fn tuning_maps(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    plan: &Plan,
    out: &Path,
) -> Result<Vec<CircuitResult>, EvalError> {
    let mut sweep = TuningSpec::curves();
    let n = spec.run.tuning_orientations;
    sweep.orientations = (0..n).map(|i| 360.0 * i as f64 / n as f64).collect();
    if let Some(radii) = &spec.run.tuning_radii {
        sweep.values = radii.clone();
    }
    let mut circuits = Vec::new();
    for (condition, replacement) in &plan.replacements {
        let (natural, artificial, tuning) = compare_tuning(
            feed.model(),
            inputs.tap,
            replacement.clone(),
            &sweep,
            &inputs.stats,
        )?;
        let rs: Vec<f64> = tuning.iter().map(|t| t.correlation).collect();
        write_json(
            &out.join(format!("tuning-{condition}.json")),
            &(natural, artificial),
        )?;
        circuits.push(CircuitResult {
            condition: condition.clone(),
            circuit: replacement.circuit.name(),
            accounting: replacement.accounting(),
            calibration: replacement.calibration.clone(),
            mapping: replacement.mapping.clone(),
            median_tuning_r: median(&rs),
            tuning,
        });
    }
    Ok(circuits)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), EvalError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| EvalError::Results(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| EvalError::write(path, e))
}
