//! Controls: replacements that use the circuit's machinery or its inputs but not its
//! structure. A hand-written circuit that does no better than these has not shown that its
//! orientation structure, arrangement or motif matter.
//!
//! - **shuffled**: the circuit's units assigned to the natural neurons by a seeded
//!   derangement (the right units, every neuron fed another's);
//! - **rotated**: every neuron given the unit of its orientation turned by 90° or 180°
//!   within the circuit's rotation group;
//! - **relay**: every neuron replaced by the one channel of the circuit's input layer that
//!   best predicts it at its own position on the tune split, calibrated like the circuit
//!   (the trivial baseline a hand-written circuit must beat).
//!
//! The shuffled and rotated controls (and the replacement null's draws) come in two
//! calibrations ([`ControlFit`]): **frozen**, through the circuit's own gains and biases, so
//! that the control differs from the circuit only in which unit feeds which neuron; and
//! **refit**, one positive gain and a bias per neuron moment-matched to the neuron
//! (`CalibrationFit::PositiveMoments`), so that a wrong unit gives the neuron's distribution
//! at the wrong places. Neither can quietly become a constant: every unit is diagnosed
//! (`aann_circuits::diagnose`) and a degenerate control is reported as such, never as beaten.
//! The relay is calibrated on the same images with the circuits' fit.

use std::collections::{HashMap, HashSet};

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use aann_circuits::{
    Accounting, Calibration, CalibrationFit, Circuit, CircuitReplacement, Periodicity,
    RotationGroup, UnitMapping, accounting::DataDerived,
};
use aann_data::{ImageSet, stable_key_hash};
use aann_model::{Tap, Variant};

use super::{channel_index, host_values};
use crate::EvalError;
use crate::circuits::CalibrationData;
use crate::lab::Feed;
use crate::means::describe_set;

/// How a structure control is put on the neurons' scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlFit {
    /// Through the controlled circuit's own calibration, unchanged.
    Frozen,
    /// Refitted per neuron, gain held positive, moment-matched to the neuron.
    Refit,
}

impl ControlFit {
    pub const BOTH: [ControlFit; 2] = [ControlFit::Frozen, ControlFit::Refit];

    pub fn name(self) -> &'static str {
        match self {
            ControlFit::Frozen => "frozen",
            ControlFit::Refit => "refit",
        }
    }

    /// `mapping` driven through `circuit`'s units on the calibration data, calibrated this way.
    pub fn calibrate(
        self,
        circuit: &CircuitReplacement,
        mapping: &UnitMapping,
        data: &CalibrationData,
    ) -> Calibration {
        match self {
            ControlFit::Frozen => data.freeze(mapping, &circuit.calibration),
            ControlFit::Refit => data.calibrate(mapping, true, CalibrationFit::PositiveMoments),
        }
    }
}

impl std::fmt::Display for ControlFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a control is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum Control {
    /// The circuit's units assigned to the neurons by a seeded derangement. `fit`: how it
    /// is calibrated (none in results written before the two calibrations existed, when the
    /// circuit's own fit was redone on the wrong mapping).
    Shuffled {
        seed: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fit: Option<ControlFit>,
    },
    /// Every neuron given the unit of its orientation turned by `degrees`.
    Rotated {
        degrees: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fit: Option<ControlFit>,
    },
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
            Control::Shuffled { fit, .. } => format!("{of}~shuffled{}", fit_suffix(*fit)),
            Control::Rotated { degrees, fit } => format!("{of}~rot{degrees}{}", fit_suffix(*fit)),
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

fn fit_suffix(fit: Option<ControlFit>) -> String {
    fit.map_or(String::new(), |f| format!("-{f}"))
}

/// A seeded permutation of the mapping's units over its neurons in which no neuron keeps
/// its own unit (a derangement of the unit values: where two neurons share a unit, neither
/// gets it back). `avoid` lists unit vectors already drawn, never drawn again. Seeded
/// shuffles are tried in turn; where no derangement exists (one unit for most neurons), the
/// draw with the fewest neurons left on their own unit is taken. `None` when every draw
/// tried was in `avoid`.
pub fn deranged_mapping(
    mapping: &UnitMapping,
    seed: u64,
    avoid: &HashSet<Vec<usize>>,
) -> Option<UnitMapping> {
    let k = mapping.units.len();
    let mut best: Option<(usize, Vec<usize>)> = None;
    for attempt in 0..4096u64 {
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by_key(|i| stable_key_hash(seed, &format!("{attempt}:{i}")));
        let units: Vec<usize> = order.iter().map(|i| mapping.units[*i]).collect();
        if avoid.contains(&units) {
            continue;
        }
        let kept = units
            .iter()
            .zip(&mapping.units)
            .filter(|(a, b)| a == b)
            .count();
        if best.as_ref().is_none_or(|(b, _)| kept < *b) {
            best = Some((kept, units));
        }
        if kept == 0 {
            break;
        }
    }
    best.map(|(_, units)| UnitMapping {
        channels: mapping.channels.clone(),
        units,
        orientations: mapping.orientations.clone(),
    })
}

/// The shuffled control's mapping: a derangement, seeded.
pub fn shuffled_control(mapping: &UnitMapping, seed: u64) -> UnitMapping {
    deranged_mapping(mapping, seed, &HashSet::new()).expect("nothing to avoid: a draw is found")
}

/// `count` deranged mappings, all different from one another and from the circuit's own,
/// seeded from `seed` (the replacement null). Refused when the mapping has fewer distinct
/// rearrangements than that (a family of one or two neurons, or one unit for all).
pub fn derangements(
    mapping: &UnitMapping,
    seed: u64,
    count: usize,
) -> Result<Vec<UnitMapping>, EvalError> {
    let mut seen: HashSet<Vec<usize>> = HashSet::from([mapping.units.clone()]);
    let mut draws = Vec::with_capacity(count);
    for i in 0..count {
        let m = deranged_mapping(mapping, seed.wrapping_add(i as u64), &seen).ok_or_else(|| {
            EvalError::Spec(format!(
                "mapping_null.shuffles = {count}: only {i} different rearrangements of the unit \
                 mapping {:?} were found; ask for fewer",
                mapping.units
            ))
        })?;
        seen.insert(m.units.clone());
        draws.push(m);
    }
    Ok(draws)
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
        let index = channel_index(&self.channels, &self.device);
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
    feed: &Feed<'_>,
    set: &ImageSet,
    tap: Tap,
    target: Tap,
    channels: &[usize],
) -> Result<Relay, EvalError> {
    let session = feed.session;
    let variant = session.variant();
    let c = tap.channels(variant);
    let k = channels.len();
    let tc = target.channels(variant);
    let (mut sx, mut sxx) = (vec![0f64; c], vec![0f64; c]);
    let (mut sy, mut syy) = (vec![0f64; k], vec![0f64; k]);
    let mut sxy = vec![0f64; c * k];
    let mut count = 0f64;
    let device = session.model().device().clone();
    let index = channel_index(channels, &device);
    feed.recorded(set, &[tap, target], |_, taps| {
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
    })?;
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
        for (tap, window, name) in [
            ("data", window, "bound-readout-pixels"),
            ("input", window, "bound-readout-pixels"),
            ("conv1_7x7_s2", window, "bound-readout-conv1_7x7_s2"),
            ("inception_3a_output", None, "bound-readout"),
        ] {
            assert_eq!(readout(tap, window).arm_name("x"), name, "{tap}");
        }
    }

    fn mapping() -> UnitMapping {
        UnitMapping {
            channels: vec![10, 20, 30, 40, 50],
            units: vec![0, 3, 6, 9, 12],
            orientations: vec![0.0, 45.0, 90.0, 135.0, 180.0],
        }
    }

    #[test]
    fn a_derangement_moves_every_neuron_and_depends_on_its_seed() {
        let m = mapping();
        let none = HashSet::new();
        let a = deranged_mapping(&m, 1, &none).unwrap();
        let mut sorted = a.units.clone();
        sorted.sort();
        assert_eq!(sorted, m.units, "the same units, permuted");
        assert!(a.units.iter().zip(&m.units).all(|(x, y)| x != y), "{a:?}");
        assert_eq!(a.channels, m.channels);
        assert_eq!(shuffled_control(&m, 1), a, "seeded");
        let others: Vec<UnitMapping> = (2..6).map(|s| shuffled_control(&m, s)).collect();
        assert!(others.iter().any(|o| o.units != a.units));
    }

    #[test]
    fn the_null_draws_are_all_different_derangements() {
        // 17 neurons on 16 units, two sharing one (as curves-3b on a 16-unit circuit).
        let m = UnitMapping {
            channels: (0..17).collect(),
            units: (0..16).chain([3]).collect(),
            orientations: vec![0.0; 17],
        };
        let draws = derangements(&m, 7, 300).unwrap();
        let distinct: HashSet<&Vec<usize>> = draws.iter().map(|d| &d.units).collect();
        assert_eq!(distinct.len(), 300);
        for d in &draws {
            assert!(d.units.iter().zip(&m.units).all(|(x, y)| x != y));
            assert_ne!(d.units, m.units);
        }
        // Five neurons on two units: no derangement exists; the fewest are left in place.
        let crowded = UnitMapping {
            channels: (0..5).collect(),
            units: vec![0, 0, 0, 0, 1],
            orientations: vec![0.0; 5],
        };
        let d = shuffled_control(&crowded, 0);
        let kept = d
            .units
            .iter()
            .zip(&crowded.units)
            .filter(|(a, b)| a == b)
            .count();
        assert_eq!(kept, 3, "{d:?}");
        // Only 5 different arrangements of [0, 0, 0, 0, 1] exist, one of them the
        // circuit's own: asking for 5 draws is refused, naming the count found.
        let err = derangements(&crowded, 0, 5).unwrap_err().to_string();
        assert!(err.contains("only 4 different"), "{err}");
        assert_eq!(derangements(&crowded, 0, 4).unwrap().len(), 4);
    }

    fn recorded(units: Vec<Vec<f32>>, natural: Vec<Vec<f32>>) -> CalibrationData {
        CalibrationData {
            units,
            natural: natural.into_iter().enumerate().collect(),
            split: "fixture".into(),
        }
    }

    /// The collapse the card suffered: a control whose unit is anti-correlated with its
    /// neuron. Refitting it the circuit's way (moments) ends at a constant: the control would
    /// equal mean-ablation. Now such a unit is flagged, the frozen control keeps the
    /// circuit's gain and the refit control a positive one: neither is a constant.
    #[test]
    fn an_anti_correlated_control_is_flagged_and_is_no_mean_ablation() {
        let n = 2000;
        let a: Vec<f32> = (0..n)
            .map(|i| ((i * 61 % n) as f32 - 1000.0) / 300.0)
            .collect();
        let b: Vec<f32> = (0..n)
            .map(|i| ((i * 97 % n) as f32 - 1000.0) / 300.0)
            .collect();
        // Neuron 0 follows unit 0, neuron 1 follows unit 1; the units are anti-correlated.
        let y0: Vec<f32> = a.iter().map(|v| v.max(0.0)).collect();
        let y1: Vec<f32> = a
            .iter()
            .zip(&b)
            .map(|(v, w)| ((-v).max(0.0) + 0.05 * w).max(0.0))
            .collect();
        let data = recorded(
            vec![a.clone(), a.iter().map(|v| -v).collect()],
            vec![y0, y1],
        );
        let right = UnitMapping {
            channels: vec![0, 1],
            units: vec![0, 1],
            orientations: vec![0.0, 180.0],
        };
        let circuit_fit = data.calibrate(&right, true, CalibrationFit::Moments);
        assert_eq!(circuit_fit.degenerate_count(), 0, "{circuit_fit:?}");
        let swapped = UnitMapping {
            units: vec![1, 0],
            ..right.clone()
        };
        // The old control: the circuit's fit redone on the wrong mapping is a constant, and
        // says so.
        let redone = data.calibrate(&swapped, true, CalibrationFit::Moments);
        assert_eq!(redone.gains, [0.0, 0.0]);
        assert_eq!(redone.degenerate_count(), 2);
        let circuit = CircuitReplacement {
            circuit: std::sync::Arc::new(Relay {
                tap: Tap::INPUT,
                variant: Variant::Bvlc,
                channels: vec![0, 1],
                correlations: vec![1.0, 1.0],
                split: "fixture".into(),
                device: Default::default(),
            }),
            mapping: right,
            calibration: circuit_fit.clone(),
            device: Default::default(),
        };
        let frozen = ControlFit::Frozen.calibrate(&circuit, &swapped, &data);
        assert_eq!(frozen.gains, circuit_fit.gains);
        assert_eq!(frozen.biases, circuit_fit.biases);
        let refit = ControlFit::Refit.calibrate(&circuit, &swapped, &data);
        assert!(refit.gains.iter().all(|g| *g > 0.0), "{refit:?}");
        assert_eq!(refit.degenerate_count(), 0, "{refit:?}");
        assert_eq!(refit.fit, CalibrationFit::PositiveMoments);
        assert_eq!(refit.scope, "neuron");
    }

    #[test]
    fn control_names_say_what_they_control() {
        assert_eq!(
            Control::Rotated {
                degrees: 90,
                fit: Some(ControlFit::Refit)
            }
            .arm_name("replace-x"),
            "replace-x~rot90-refit"
        );
        assert_eq!(
            Control::Shuffled {
                seed: 0,
                fit: Some(ControlFit::Frozen)
            }
            .arm_name("replace-x"),
            "replace-x~shuffled-frozen"
        );
        // Results written before the two calibrations keep their names.
        assert_eq!(
            Control::Shuffled { seed: 0, fit: None }.arm_name("replace-x"),
            "replace-x~shuffled"
        );
    }
}
