//! Single-neuron cards: each neuron of the target family taken out alone — zero-ablated,
//! and replaced by its own unit of a circuit (the circuit's calibration for that neuron,
//! unchanged), and by the unit of its orientation turned (refitted per neuron, the
//! rotated control) — everything else natural. One neuron's effect on the loss is small,
//! so each is measured where it is: against its own ablation, with an interval, in KL
//! (which sees every change of the output) as well as in cross-entropy.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use aann_circuits::{CircuitReplacement, UnitMapping};
use aann_model::{ChannelSet, Edit, Family, Intervention, Tap};

use super::arm::{Arm, ArmKind, Removal};
use super::controls::{Control, ControlFit};
use super::replace::remapped;
use crate::EvalError;
use crate::circuits::CalibrationData;

/// A circuit of the experiment whose neurons get cards.
pub struct CardCircuit<'a> {
    /// Its name in the spec (`upstream-echo`, `curves-from-pixels`).
    pub name: String,
    /// Its family arm (`replace-…`) and replacement.
    pub arm: String,
    pub replacement: &'a Arc<CircuitReplacement>,
    /// The data it was calibrated on (its controls are refitted on the same).
    pub data: &'a CalibrationData,
}

/// One neuron's arms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronArms {
    pub channel: usize,
    pub orientation_deg: Option<f64>,
    /// The neuron zero-ablated alone.
    pub zero: String,
    /// Per circuit: its single-neuron replacement and that replacement's rotated control.
    pub circuits: Vec<NeuronCircuitArms>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronCircuitArms {
    /// The circuit's family arm.
    pub circuit: String,
    pub replace: String,
    pub control: String,
}

/// Every single-neuron arm, and how they are compared.
pub struct NeuronCards {
    pub arms: Vec<Arm>,
    pub neurons: Vec<NeuronArms>,
    /// `(arm, its neuron's zero-ablation)`: the fractions recovered.
    pub pairs: Vec<(String, String)>,
    /// `(replacement, other)`: each single-neuron replacement against its zero-ablation and
    /// its rotated control, image by image.
    pub versus: Vec<(String, String)>,
}

fn neuron_arm(name: &str, channel: usize, how: Removal, edit: Edit) -> Arm {
    Arm::with_kind(name, ArmKind::Neuron { channel, how }, vec![edit])
}

/// The single-neuron arms of `family` (at `tap`) for each of `circuits`; the rotated
/// control turns each neuron's orientation by `degrees`.
pub fn neuron_arms(
    family: &Family,
    tap: Tap,
    circuits: &[CardCircuit<'_>],
    degrees: i64,
) -> Result<NeuronCards, EvalError> {
    // Each circuit's rotated mapping, refitted per neuron on its own calibration data.
    let turned: Vec<Arc<CircuitReplacement>> = circuits
        .iter()
        .map(|c| {
            let mapping = UnitMapping::by_orientation_turned(
                family,
                c.replacement.circuit.as_ref(),
                degrees as f64,
            )
            .map_err(EvalError::Spec)?;
            Ok(remapped(c.replacement, mapping, c.data, ControlFit::Refit))
        })
        .collect::<Result<_, EvalError>>()?;
    let orientation: HashMap<usize, f64> = family
        .neurons
        .iter()
        .filter_map(|n| n.orientation_deg.map(|o| (n.channel, o)))
        .collect();
    let mut channels: Vec<usize> = family.neurons.iter().map(|n| n.channel).collect();
    channels.sort_unstable();
    let mut cards = NeuronCards {
        arms: Vec::new(),
        neurons: Vec::new(),
        pairs: Vec::new(),
        versus: Vec::new(),
    };
    let one = |r: &CircuitReplacement, channel: usize| {
        r.only(channel).map(Arc::new).ok_or_else(|| {
            EvalError::Spec(format!(
                "single neurons: channel {channel} is not mapped by {}",
                r.circuit.name()
            ))
        })
    };
    for &channel in &channels {
        let only = ChannelSet::new(vec![channel]);
        let edit = |intervention| Edit {
            tap,
            channels: only.clone(),
            intervention,
        };
        let zero = format!("n{channel}-zero-ablate");
        cards.arms.push(neuron_arm(
            &zero,
            channel,
            Removal::ZeroAblated,
            edit(Intervention::ZeroAblate),
        ));
        let mut arms = Vec::new();
        for (c, rotated) in circuits.iter().zip(&turned) {
            let replace = format!("n{channel}-{}", c.arm);
            let control_kind = Control::Rotated {
                degrees,
                fit: Some(ControlFit::Refit),
            };
            let control = control_kind.arm_name(&replace);
            cards.arms.push(neuron_arm(
                &replace,
                channel,
                Removal::Replaced { by: c.arm.clone() },
                edit(Intervention::Replace(one(c.replacement, channel)?)),
            ));
            cards.arms.push(neuron_arm(
                &control,
                channel,
                Removal::Controlled {
                    control: control_kind,
                    of: replace.clone(),
                },
                edit(Intervention::Replace(one(rotated, channel)?)),
            ));
            cards.pairs.push((replace.clone(), zero.clone()));
            cards.pairs.push((control.clone(), zero.clone()));
            cards.versus.push((replace.clone(), zero.clone()));
            cards.versus.push((replace.clone(), control.clone()));
            arms.push(NeuronCircuitArms {
                circuit: c.arm.clone(),
                replace,
                control,
            });
        }
        cards.neurons.push(NeuronArms {
            channel,
            orientation_deg: orientation.get(&channel).copied(),
            zero,
            circuits: arms,
        });
    }
    Ok(cards)
}
