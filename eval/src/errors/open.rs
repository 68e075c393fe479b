//! The finished run reopened: its resolved spec and recorded calibration, the analysed
//! split, and the condition's circuit rebuilt as the run had it (nothing is refitted).

use std::path::Path;
use std::sync::Arc;

use aann_circuits::{Calibration, CircuitReplacement, UnitMapping};
use aann_data::{ImageSet, Synsets};
use aann_model::{Family, Tap, Variant};

use super::ErrorOptions;
use crate::EvalError;
use crate::circuits::CircuitRegistry;
use crate::evaluator::Evaluator;
use crate::experiment::{calibration_set_of, open_set, preprocess_of};
use crate::lab::arm::into_conditions;
use crate::lab::replace::build_circuit_of;
use crate::lab::{Arm, Feed, Session};
use crate::means::describe_set;
use crate::metrics::ImageRecord;
use crate::records::read_records;
use crate::run::{RunOptions, run_in_memory};
use crate::setup::DataRoot;
use crate::spec::{ExperimentSpec, Split, repository_root};

/// The replacement without channel `k` (index into its mapping): that neuron stays natural.
fn without_neuron(r: &CircuitReplacement, k: usize) -> CircuitReplacement {
    let (mapping, calibration) = drop_neuron(&r.mapping, &r.calibration, k);
    CircuitReplacement {
        circuit: r.circuit.clone(),
        mapping,
        calibration,
        device: r.device.clone(),
    }
}

/// A mapping and its calibration without neuron `k`.
fn drop_neuron(
    mapping: &UnitMapping,
    calibration: &Calibration,
    k: usize,
) -> (UnitMapping, Calibration) {
    let drop = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .enumerate()
            .filter(|(i, _)| *i != k)
            .map(|(_, x)| *x)
            .collect()
    };
    let mut mapping = mapping.clone();
    mapping.channels.remove(k);
    mapping.units.remove(k);
    mapping.orientations.remove(k);
    let mut calibration = calibration.clone();
    calibration.gains = drop(&calibration.gains);
    calibration.biases = drop(&calibration.biases);
    if calibration.mse.len() > k {
        calibration.mse = drop(&calibration.mse);
    }
    if calibration.degenerate.len() > k {
        calibration.degenerate.remove(k);
    }
    (mapping, calibration)
}

/// What the run recorded for the analysed condition.
pub(super) struct Recorded {
    condition: String,
    /// Index of its circuit in the spec.
    index: usize,
    calibration: Calibration,
    mapping: UnitMapping,
}

/// A finished run's resolved spec and, from its `summary.json`, the calibration and unit
/// mapping of `condition` (default: the first circuit).
pub(super) fn open_run(
    results: &Path,
    condition: Option<&str>,
    circuits: &CircuitRegistry,
) -> Result<(ExperimentSpec, Recorded), EvalError> {
    let spec_path = results.join("spec.resolved.toml");
    if !spec_path.is_file() {
        return Err(EvalError::Results(format!(
            "{} is not a finished experiment: it has no spec.resolved.toml (run `aann experiment` first)",
            results.display()
        )));
    }
    let spec = ExperimentSpec::load_with(&spec_path, &[], circuits)?;
    let summary_path = results.join("summary.json");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&summary_path).map_err(|e| EvalError::io(&summary_path, e))?,
    )
    .map_err(|e| EvalError::Results(format!("{}: {e}", summary_path.display())))?;

    // The condition, its circuit spec and its recorded calibration.
    let names: Vec<String> = spec
        .circuits
        .iter()
        .map(|c| c.condition_name(circuits))
        .collect();
    let condition = match condition {
        Some(c) => c.to_string(),
        None => names.first().cloned().ok_or_else(|| {
            EvalError::Results(format!(
                "{} replaced nothing: the error analysis needs a circuit condition",
                results.display()
            ))
        })?,
    };
    let index = names.iter().position(|n| *n == condition).ok_or_else(|| {
        EvalError::Results(format!(
            "no circuit condition `{condition}` in {}; it has {}",
            results.display(),
            names.join(", ")
        ))
    })?;
    let recorded = summary["circuits"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["condition"] == condition.as_str()))
        .ok_or_else(|| {
            EvalError::Results(format!(
                "{} records no calibration for `{condition}`",
                summary_path.display()
            ))
        })?;
    let parse = |key: &str| {
        EvalError::Results(format!(
            "{}: `{key}` of `{condition}` is malformed",
            summary_path.display()
        ))
    };
    let calibration: Calibration = serde_json::from_value(recorded["calibration"].clone())
        .map_err(|_| parse("calibration"))?;
    let mapping: UnitMapping =
        serde_json::from_value(recorded["mapping"].clone()).map_err(|_| parse("mapping"))?;
    Ok((
        spec,
        Recorded {
            condition,
            index,
            calibration,
            mapping,
        },
    ))
}

/// The images of the analysed split: the first `dev_images` of dev, or all of test.
fn analysed_split(
    results: &Path,
    spec: &ExperimentSpec,
    root: &DataRoot,
    synsets: &Synsets,
    options: &ErrorOptions,
) -> Result<ImageSet, EvalError> {
    Ok(match options.split {
        Split::Tune => {
            return Err(EvalError::Spec(
                "the tune split is what the circuit was fitted to: analyse `dev` (or `test`, making no choice from it)".into(),
            ));
        }
        Split::Test => open_set(root, &spec.test, synsets, "test")?,
        Split::Dev => {
            let dev = spec.dev.as_ref().ok_or_else(|| {
                EvalError::Spec(format!(
                    "{} has no dev split: add [dev] to the spec, or analyse the test records with --split test (and make no choice from them)",
                    results.display()
                ))
            })?;
            open_set(root, dev, synsets, "dev")?.limit(options.dev_images)
        }
    })
}

/// The run's circuit for the recorded condition, rebuilt from its spec (fitted to the
/// run's calibration set) with the recorded calibration and mapping; and the tap it
/// replaces.
fn rebuild_replacement(
    feed: &Feed<'_>,
    spec: &ExperimentSpec,
    repo: &Path,
    tune: &ImageSet,
    recorded: &Recorded,
) -> Result<(Tap, Arc<CircuitReplacement>), EvalError> {
    let family = Family::load(&repo.join(&spec.target.family))?;
    let tap = family.tap()?;
    let calibration_set = calibration_set_of(spec, tune);
    let circuit = build_circuit_of(feed, &spec.circuits[recorded.index], repo, &calibration_set)?;
    if recorded
        .mapping
        .units
        .iter()
        .any(|u| *u >= circuit.unit_count())
    {
        return Err(EvalError::Results(format!(
            "the recorded unit mapping of `{}` does not fit the circuit the spec builds now ({} units): was the circuit changed since the run?",
            recorded.condition,
            circuit.unit_count()
        )));
    }
    let replacement = Arc::new(CircuitReplacement {
        circuit,
        mapping: recorded.mapping.clone(),
        calibration: recorded.calibration.clone(),
        device: feed.model().device().clone(),
    });
    Ok((tap, replacement))
}

/// A finished run opened for analysis: the analysed condition's circuit rebuilt, and the
/// images of the analysed split.
pub(super) struct Opened<'s> {
    results: &'s Path,
    variant: Variant,
    pub(super) feed: Feed<'s>,
    pub(super) synsets: Synsets,
    pub(super) images: ImageSet,
    pub(super) condition: String,
    pub(super) tap: Tap,
    pub(super) replacement: Arc<CircuitReplacement>,
}

impl<'s> Opened<'s> {
    /// The model, the sets and the circuit, as the run had them.
    pub(super) fn rebuild(
        results: &'s Path,
        spec: &ExperimentSpec,
        session: &'s Session,
        recorded: Recorded,
        options: &ErrorOptions,
    ) -> Result<Opened<'s>, EvalError> {
        let repo = repository_root(results);
        let root = &session.root;
        let synsets = root.synsets()?;
        let tune = open_set(root, &spec.tune, &synsets, "tune")?;
        let images = analysed_split(results, spec, root, &synsets, options)?;
        let preprocess = preprocess_of(spec)?;
        let feed = Feed::new(session, preprocess, spec.run.batch_size);
        let (tap, replacement) = rebuild_replacement(&feed, spec, &repo, &tune, &recorded)?;
        Ok(Opened {
            results,
            variant: spec.model,
            feed,
            synsets,
            images,
            condition: recorded.condition,
            tap,
            replacement,
        })
    }

    /// The records of the analysed images: the run's own on test; on dev, evaluated now
    /// (with `leave_one_out`, also with each neuron in turn left natural).
    pub(super) fn records(&self, options: &ErrorOptions) -> Result<Vec<ImageRecord>, EvalError> {
        let condition = &self.condition;
        match options.split {
            Split::Test if options.leave_one_out => Err(EvalError::Spec(
                "--leave-one-out evaluates new arms, which is done on the dev split only".into(),
            )),
            Split::Test => read_records(self.results),
            Split::Dev | Split::Tune => {
                let replacement = &self.replacement;
                let mut arms = vec![Arm::replace(
                    condition.clone(),
                    self.tap,
                    replacement.clone(),
                )];
                if options.leave_one_out {
                    for (k, channel) in replacement.mapping.channels.iter().enumerate() {
                        arms.push(Arm::replace(
                            format!("{condition}~natural-{channel}"),
                            self.tap,
                            Arc::new(without_neuron(replacement, k)),
                        ));
                    }
                }
                let (conditions, _) = into_conditions(arms, self.variant);
                let evaluator = Evaluator::new(self.feed.model(), conditions)?;
                if options.progress {
                    eprintln!(
                        "evaluating `{condition}` on {} (the dev split)",
                        describe_set(&self.images)
                    );
                }
                Ok(run_in_memory(
                    &self.feed,
                    &evaluator,
                    &self.images,
                    &self.feed.session.class_order()?,
                    &RunOptions {
                        progress: options.progress,
                        ..Default::default()
                    },
                )?
                .0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neuron_left_natural_leaves_the_others_as_they_were() {
        let mapping = UnitMapping {
            channels: vec![9, 66, 206],
            units: vec![11, 5, 0],
            orientations: vec![175.3, 85.5, 11.3],
        };
        let calibration = Calibration {
            scope: "neuron".into(),
            fit: Default::default(),
            gains: vec![1.0, 2.0, 3.0],
            biases: vec![-0.1, -0.2, -0.3],
            split: "tune".into(),
            mse: vec![0.5, 0.6, 0.7],
            degenerate: vec![None, Some(aann_circuits::Degeneracy::ConstantOutput), None],
        };
        let (m, c) = drop_neuron(&mapping, &calibration, 1);
        assert_eq!(m.channels, [9, 206]);
        assert_eq!(m.units, [11, 0]);
        assert_eq!(m.orientations, [175.3, 11.3]);
        assert_eq!(c.gains, [1.0, 3.0]);
        assert_eq!(c.biases, [-0.1, -0.3]);
        assert_eq!(c.mse, [0.5, 0.7]);
        assert_eq!(c.degenerate, [None, None]);
    }
}
