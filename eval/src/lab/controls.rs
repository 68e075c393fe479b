//! Controls: replacements that use the circuit's machinery or its inputs but not its
//! structure. A hand-written circuit that does no better than these has not shown that its
//! orientation structure, arrangement or motif matter.
//!
//! - **shuffled**: the circuit's units assigned to the natural neurons by a seeded random
//!   permutation (the right units, the wrong neurons);
//! - **rotated**: every neuron given the unit of its orientation turned by 90° or 180°;
//! - **relay**: every neuron replaced by the one channel of the circuit's input layer that
//!   best predicts it at its own position on the tune split, calibrated like the circuit
//!   (the trivial baseline a hand-written circuit must beat).
//!
//! Every control is calibrated on the same images with the same fit as the circuit.

use std::collections::HashMap;

use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use aann_circuits::{
    Accounting, Circuit, Periodicity, RotationGroup, UnitMapping, accounting::DataDerived,
};
use aann_data::{ImageSet, Preprocess, stable_key_hash};
use aann_model::{Tap, Variant};

use super::{Session, host_values};
use crate::EvalError;
use crate::circuits::for_each_recorded_batch;
use crate::means::describe_set;

/// What a control is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum Control {
    /// The circuit's units assigned to the neurons by a seeded random permutation.
    Shuffled { seed: u64 },
    /// Every neuron given the unit of its orientation turned by `degrees`.
    Rotated { degrees: i64 },
    /// Every neuron replaced by the best single channel of the relay tap.
    Relay { tap: String },
    /// The upper bound: a linear readout of `tap` fitted to every neuron on tune + dev
    /// (see `crate::lab::readout`): 3×3 on the target's grid, or over the pixel `window`
    /// described: of the image (`bound-readout-pixels`) or of a layer below the circuit's
    /// first (`bound-readout-<tap>`).
    Readout {
        tap: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<String>,
    },
}

impl Control {
    /// The arm's name, e.g. `replace-curves-from-upstream~shuffled`.
    pub fn arm_name(&self, of: &str) -> String {
        match self {
            Control::Shuffled { .. } => format!("{of}~shuffled"),
            Control::Rotated { degrees } => format!("{of}~rot{degrees}"),
            Control::Relay { .. } => "control-relay".into(),
            Control::Readout {
                tap,
                window: Some(_),
            } if Variant::ALL.iter().any(|v| Tap::INPUT.name(*v) == *tap) => {
                "bound-readout-pixels".into()
            }
            Control::Readout {
                tap,
                window: Some(_),
            } => format!("bound-readout-{tap}"),
            Control::Readout { .. } => "bound-readout".into(),
        }
    }
}

/// A seeded permutation of the mapping's units over its neurons (never the identity when
/// the units differ).
pub fn shuffled_mapping(mapping: &UnitMapping, seed: u64) -> UnitMapping {
    let k = mapping.units.len();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|i| stable_key_hash(seed, &i.to_string()));
    let mut units: Vec<usize> = order.iter().map(|i| mapping.units[*i]).collect();
    if units == mapping.units && k > 1 {
        units.rotate_left(1);
    }
    UnitMapping {
        channels: mapping.channels.clone(),
        units,
        orientations: mapping.orientations.clone(),
    }
}

/// Every neuron replaced by one channel of `tap`, position by position.
pub struct Relay {
    tap: Tap,
    variant: Variant,
    /// The relayed channel of `tap` for each unit (unit `k` stands in for the `k`-th
    /// neuron of the family, in channel order).
    pub channels: Vec<usize>,
    /// Each relayed channel's correlation with its neuron on the fitting images.
    pub correlations: Vec<f64>,
    split: String,
    device: burn::tensor::Device,
}

impl Circuit for Relay {
    fn name(&self) -> String {
        format!("relay-of-{}", self.tap.name(self.variant))
    }

    fn group(&self) -> RotationGroup {
        RotationGroup::new(self.channels.len(), Periodicity::Radial)
    }

    fn reads(&self) -> Vec<Tap> {
        vec![self.tap]
    }

    fn units(&self, taps: &HashMap<Tap, Tensor<4>>) -> Tensor<4> {
        let index: Vec<i64> = self.channels.iter().map(|c| *c as i64).collect();
        let k = index.len();
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [k]), &self.device);
        taps[&self.tap].clone().select(1, index)
    }

    fn accounting(&self) -> Accounting {
        let mut a = Accounting::new(self.name());
        a.data_derived.push(DataDerived {
            name: format!(
                "relayed channel of {} per neuron (best correlation)",
                self.tap.name(self.variant)
            ),
            count: self.channels.len(),
            kind: "fitted".into(),
            split: self.split.clone(),
            values: self.channels.iter().map(|c| *c as f64).collect(),
        });
        a
    }
}

/// For each natural channel of `target`, the channel of `tap` (on the same grid) whose
/// activation correlates best with it, position by position, over `set`.
pub fn fit_relay(
    session: &Session,
    set: &ImageSet,
    preprocess: &Preprocess,
    tap: Tap,
    target: Tap,
    channels: &[usize],
    batch: usize,
) -> Result<Relay, EvalError> {
    let variant = session.variant();
    let c = tap.channels(variant);
    let k = channels.len();
    let tc = target.channels(variant);
    let (mut sx, mut sxx) = (vec![0f64; c], vec![0f64; c]);
    let (mut sy, mut syy) = (vec![0f64; k], vec![0f64; k]);
    let mut sxy = vec![0f64; c * k];
    let mut count = 0f64;
    let device = session.model().device().clone();
    let index: Vec<i64> = channels.iter().map(|c| *c as i64).collect();
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [k]), &device);
    for_each_recorded_batch(
        session.model(),
        set,
        preprocess,
        &[tap, target],
        batch,
        |_, taps| {
            let x = taps[&tap].clone();
            let y = taps[&target].clone();
            let [n, _, h, w] = x.dims();
            let [_, t, hy, wy] = y.dims();
            if (h, w) != (hy, wy) || t != tc {
                return Err(EvalError::Spec(format!(
                    "a relay needs {} on the grid of {} ({h}×{w} vs {hy}×{wy})",
                    tap.name(variant),
                    target.name(variant)
                )));
            }
            let y = y.select(1, index.clone());
            let m = n * h * w;
            let xm = x.swap_dims(0, 1).reshape([c, m]);
            let ym = y.swap_dims(0, 1).reshape([k, m]);
            let cross = host(xm.clone().matmul(ym.clone().transpose()))?;
            let xs = host(xm.clone().sum_dim(1))?;
            let xss = host((xm.clone() * xm).sum_dim(1))?;
            let ys = host(ym.clone().sum_dim(1))?;
            let yss = host((ym.clone() * ym).sum_dim(1))?;
            for i in 0..c {
                sx[i] += xs[i];
                sxx[i] += xss[i];
                for j in 0..k {
                    sxy[i * k + j] += cross[i * k + j];
                }
            }
            for j in 0..k {
                sy[j] += ys[j];
                syy[j] += yss[j];
            }
            count += m as f64;
            Ok(())
        },
    )?;
    if count == 0.0 {
        return Err(EvalError::Results(format!(
            "no image of {} could be used to fit the relay",
            describe_set(set)
        )));
    }
    let mut best = Vec::with_capacity(k);
    for j in 0..k {
        let vy = syy[j] - sy[j] * sy[j] / count;
        let (mut bc, mut br) = (0usize, f64::NEG_INFINITY);
        for i in 0..c {
            let vx = sxx[i] - sx[i] * sx[i] / count;
            let cov = sxy[i * k + j] - sx[i] * sy[j] / count;
            let r = if vx > 0.0 && vy > 0.0 {
                cov / (vx * vy).sqrt()
            } else {
                0.0
            };
            if r > br {
                (bc, br) = (i, r);
            }
        }
        best.push((bc, br));
    }
    Ok(Relay {
        tap,
        variant,
        channels: best.iter().map(|b| b.0).collect(),
        correlations: best.iter().map(|b| b.1).collect(),
        split: describe_set(set),
        device,
    })
}

fn host<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>, EvalError> {
    Ok(host_values(t)?.into_iter().map(f64::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readouts_are_named_by_what_they_read() {
        let readout = |tap: &str, window: Option<&str>| Control::Readout {
            tap: tap.into(),
            window: window.map(String::from),
        };
        let window = Some("7×7 blocks of 16×16 pixels, about 112 px");
        // The image of either model is "pixels"; any other windowed layer is named.
        assert_eq!(
            readout("data", window).arm_name("x"),
            "bound-readout-pixels"
        );
        assert_eq!(
            readout("input", window).arm_name("x"),
            "bound-readout-pixels"
        );
        assert_eq!(
            readout("conv1_7x7_s2", window).arm_name("x"),
            "bound-readout-conv1_7x7_s2"
        );
        assert_eq!(
            readout("inception_3a_output", None).arm_name("x"),
            "bound-readout"
        );
    }

    fn mapping() -> UnitMapping {
        UnitMapping {
            channels: vec![10, 20, 30, 40, 50],
            units: vec![0, 3, 6, 9, 12],
            orientations: vec![0.0, 45.0, 90.0, 135.0, 180.0],
        }
    }

    #[test]
    fn a_shuffle_permutes_the_units_and_depends_on_its_seed() {
        let m = mapping();
        let a = shuffled_mapping(&m, 1);
        let mut sorted = a.units.clone();
        sorted.sort();
        assert_eq!(sorted, m.units, "the same units, permuted");
        assert_ne!(a.units, m.units);
        assert_eq!(a.channels, m.channels);
        assert_eq!(shuffled_mapping(&m, 1), a, "seeded");
        let others: Vec<UnitMapping> = (2..6).map(|s| shuffled_mapping(&m, s)).collect();
        assert!(others.iter().any(|o| o.units != a.units));
    }

    #[test]
    fn control_names_say_what_they_control() {
        assert_eq!(
            Control::Rotated { degrees: 90 }.arm_name("replace-x"),
            "replace-x~rot90"
        );
        assert_eq!(
            Control::Shuffled { seed: 0 }.arm_name("replace-x"),
            "replace-x~shuffled"
        );
    }
}
