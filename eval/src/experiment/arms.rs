//! Stage 2, the arms, calibrated on tune: the ablations, each circuit built, mapped onto
//! the neurons and calibrated, the controls of every circuit (`controls.rs`), and the
//! lineage one level down. Every calibrated arm's units are judged for degeneracy here.

use std::collections::HashMap;
use std::sync::Arc;

use aann_circuits::CircuitReplacement;
use aann_model::Intervention;

use super::controls::{Named, readouts, relay, structure_controls};
use super::inputs::Inputs;
use crate::EvalError;
use crate::circuits::CalibrationData;
use crate::lab::ladder::{Ladder, ladder_arms};
use crate::lab::lineage::{Lineage, UpperCircuit, find_circuit, lineage_arms};
use crate::lab::neurons::{CardCircuit, NeuronCards, neuron_arms};
use crate::lab::{Ablation, Arm, Feed, FitSets, build_replacement_with_data};
use crate::means::donor_pool;
use crate::spec::ExperimentSpec;
use crate::verdicts::{ArmCalibration, DegenerateUnit};

/// Every arm of the experiment, in the order of the records, with what later stages need
/// of them.
pub struct Plan {
    pub arms: Vec<Arm>,
    /// The circuits, in the spec's order.
    pub replacements: Vec<Named>,
    /// Each circuit's recorded calibration data (the controls and the replacement null
    /// are calibrated on it).
    pub calibration_data: HashMap<String, CalibrationData>,
    /// The controls: structure controls, the relay, the fitted readouts.
    pub controls: Vec<Named>,
    pub lineage: Option<Lineage>,
    pub ladder: Option<Ladder>,
    pub neurons: Option<NeuronCards>,
    /// Every calibrated arm's units, judged by one rule.
    pub calibrations: Vec<ArmCalibration>,
}

impl Plan {
    /// The arms of `spec`, each circuit and control fitted on the tune split.
    pub fn build(
        feed: &Feed<'_>,
        inputs: &Inputs,
        spec: &ExperimentSpec,
    ) -> Result<Self, EvalError> {
        let mut arms = ablations(feed, inputs, spec)?;
        let (circuit_arms, replacements, calibration_data) = circuits(feed, inputs, spec)?;
        arms.extend(circuit_arms);
        let mut controls = structure_controls(inputs, spec, &replacements, &calibration_data)?;
        controls.extend(relay(feed, inputs, spec)?);
        controls.extend(readouts(feed, inputs, spec)?);
        arms.extend(controls.iter().map(|(arm, _)| arm.clone()));
        let controls: Vec<Named> = controls
            .into_iter()
            .map(|(arm, r)| (arm.name().to_string(), r))
            .collect();
        let lineage = lineage(feed, inputs, spec, &replacements)?;
        if let Some(l) = &lineage {
            arms.extend(l.arms.iter().cloned());
        }
        let ladder = ladder(feed, inputs, spec, &replacements)?;
        if let Some(l) = &ladder {
            arms.extend(l.arms.iter().cloned());
        }
        let neurons = single_neurons(feed, inputs, spec, &replacements, &calibration_data)?;
        if let Some(n) = &neurons {
            arms.extend(n.arms.iter().cloned());
        }
        let levels: Vec<Named> = ladder
            .iter()
            .flat_map(|l| &l.levels)
            .map(|l| (l.arm.clone(), l.replacement.clone()))
            .collect();
        let calibrations: Vec<ArmCalibration> = replacements
            .iter()
            .chain(&controls)
            .chain(&levels)
            .map(|(arm, r)| arm_calibration(arm, r))
            .collect();
        for c in calibrations.iter().filter(|c| !c.degenerate.is_empty()) {
            eprintln!("warning: {}", describe_degenerate(c));
        }
        Ok(Plan {
            arms,
            replacements,
            calibration_data,
            controls,
            lineage,
            ladder,
            neurons,
            calibrations,
        })
    }

    /// Every replacement and control, for the activation faithfulness.
    pub fn calibrated(&self) -> Vec<Named> {
        self.replacements
            .iter()
            .chain(&self.controls)
            .cloned()
            .collect()
    }
}

/// The ablations the spec asks for: zero, mean (the tune split's channel means) and
/// resample (donors from the calibration images, seeded).
fn ablations(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
) -> Result<Vec<Arm>, EvalError> {
    let (tap, channels) = (inputs.tap, &inputs.channels);
    let mut arms = Vec::new();
    if spec.ablations.zero {
        arms.push(Arm::ablate(
            Ablation::Zero,
            tap,
            channels.clone(),
            Intervention::ZeroAblate,
        ));
    }
    if spec.ablations.mean {
        let means = inputs.stats.uniform_means(feed.session.weights_sha256());
        arms.push(Arm::ablate(
            Ablation::Mean,
            tap,
            channels.clone(),
            Intervention::MeanAblate(Arc::new(means)),
        ));
    }
    if spec.ablations.resample {
        let donors = inputs.calibration.images.limit(128);
        let pool = donor_pool(feed, &donors, tap, spec.statistics.seed)?;
        arms.push(Arm::ablate(
            Ablation::Resample,
            tap,
            channels.clone(),
            Intervention::ResampleAblate(Arc::new(pool)),
        ));
    }
    Ok(arms)
}

type Circuits = (Vec<Arm>, Vec<Named>, HashMap<String, CalibrationData>);

/// Each circuit of the spec built, mapped onto the family and calibrated on tune.
fn circuits(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
) -> Result<Circuits, EvalError> {
    let mut arms = Vec::new();
    let mut replacements = Vec::new();
    let mut calibration_data = HashMap::new();
    let registry = feed.session.circuits();
    for c in &spec.circuits {
        let name = c.condition_name(registry);
        let (replacement, data) = build_replacement_with_data(
            feed,
            c,
            &inputs.family,
            &inputs.repo,
            FitSets::same(&inputs.calibration.images),
        )?;
        arms.push(Arm::replace(name.clone(), inputs.tap, replacement.clone()));
        replacements.push((name.clone(), replacement));
        calibration_data.insert(name, data);
    }
    Ok((arms, replacements, calibration_data))
}

/// The lineage study one level down (`[lineage]`): its arms come last.
fn lineage(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    replacements: &[Named],
) -> Result<Option<Lineage>, EvalError> {
    let Some(l) = &spec.lineage else {
        return Ok(None);
    };
    let upper = upper_circuits(feed, spec, replacements);
    let built = lineage_arms(
        feed,
        l,
        &inputs.repo,
        FitSets::same(&inputs.calibration.images),
        (inputs.tap, &inputs.channels),
        &upper,
    )?;
    Ok(Some(built))
}

/// The ladder from pixels (`[ladder]`): its arms come after the lineage's.
fn ladder(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    replacements: &[Named],
) -> Result<Option<Ladder>, EvalError> {
    let Some(l) = &spec.ladder else {
        return Ok(None);
    };
    let circuits = upper_circuits(feed, spec, replacements);
    let top = l
        .top
        .as_deref()
        .map(|wanted| find_circuit(&circuits, wanted, "ladder.top"))
        .transpose()?;
    Ok(Some(ladder_arms(
        feed,
        l,
        &inputs.repo,
        FitSets::same(&inputs.calibration.images),
        (inputs.tap, &inputs.channels),
        top,
        (&inputs.tune.images, spec.statistics.seed),
    )?))
}

/// Single-neuron cards (`[single_neurons]`): their arms come last.
fn single_neurons(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    replacements: &[Named],
    calibration_data: &HashMap<String, CalibrationData>,
) -> Result<Option<NeuronCards>, EvalError> {
    let Some(n) = &spec.single_neurons else {
        return Ok(None);
    };
    let circuits = upper_circuits(feed, spec, replacements);
    let chosen = n
        .circuits
        .iter()
        .map(|wanted| {
            let c = find_circuit(&circuits, wanted, "single_neurons.circuits")?;
            Ok(CardCircuit {
                name: c.name.clone(),
                arm: c.arm.clone(),
                replacement: c.replacement,
                data: &calibration_data[&c.arm],
            })
        })
        .collect::<Result<Vec<_>, EvalError>>()?;
    Ok(Some(neuron_arms(
        &inputs.family,
        inputs.tap,
        &chosen,
        n.rotation,
    )?))
}

/// The experiment's circuits as a lineage or a ladder stacks them.
fn upper_circuits<'a>(
    feed: &Feed<'_>,
    spec: &ExperimentSpec,
    replacements: &'a [Named],
) -> Vec<UpperCircuit<'a>> {
    spec.circuits
        .iter()
        .zip(replacements)
        .map(|(c, (arm, replacement))| UpperCircuit {
            name: c.label(feed.session.circuits()),
            arm: arm.clone(),
            replacement,
        })
        .collect()
}

/// An arm's calibration as the results record it: its units and the degenerate ones.
pub(crate) fn arm_calibration(arm: &str, r: &CircuitReplacement) -> ArmCalibration {
    ArmCalibration {
        arm: arm.to_string(),
        calibration: r.calibration.describe(),
        units: r.mapping.channels.len(),
        degenerate: r
            .mapping
            .channels
            .iter()
            .zip(&r.calibration.degenerate)
            .filter_map(|(c, d)| d.map(|why| DegenerateUnit { channel: *c, why }))
            .collect(),
    }
}

/// A console line for an arm with degenerate units.
fn describe_degenerate(c: &ArmCalibration) -> String {
    format!(
        "{}: {} of {} units degenerate ({})",
        c.arm,
        c.degenerate.len(),
        c.units,
        c.degenerate_units()
    )
}
