//! Circuits in experiments: building them for a model by name ([`CircuitRegistry`]),
//! calibrating their output scale on the tune split, and comparing their tuning maps with
//! the natural neurons'.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use aann_circuits::{
    Calibration, CalibrationFit, Circuit, CircuitReplacement, UnitCalibration, UnitMapping,
};
use aann_data::ImageSet;
use aann_model::{ChannelSet, Condition, Edit, InceptionV1, Intervention, Tap};

use crate::EvalError;
use crate::lab::Feed;
use crate::means::{ActivationStats, describe_set};
use crate::tuning::{TuningGrid, TuningSpec, tune};

mod registry;
mod shipped;

pub use registry::{
    CIRCUIT_COMMON_KEYS, CircuitChoice, CircuitEntry, CircuitInputs, CircuitRegistry,
};
pub use shipped::{PixelKeys, UpstreamKeys, upstream_circuit};

/// Every unit of a circuit and every natural neuron of a family, position by position, on
/// the calibration images: recorded once, so that any mapping of units onto neurons (the
/// circuit's own, and the shuffled or rotated controls) is calibrated on the same data with
/// the same budget, without running the model again.
pub struct CalibrationData {
    /// Per circuit unit, its pre-activation at every (image, position).
    pub units: Vec<Vec<f32>>,
    /// Per natural channel, its activation at the same (image, position)s.
    pub natural: HashMap<usize, Vec<f32>>,
    /// The image set, for provenance.
    pub split: String,
}

impl CalibrationData {
    /// Record `circuit`'s units and the natural `channels` at `target` over `set`.
    pub fn record(
        feed: &Feed<'_>,
        circuit: &dyn Circuit,
        target: Tap,
        channels: &[usize],
        set: &ImageSet,
    ) -> Result<Self, EvalError> {
        let model = feed.model();
        let units_c = circuit.unit_count();
        let target_c = target.channels(model.variant());
        let mut units: Vec<Vec<f32>> = vec![Vec::new(); units_c];
        let mut natural: HashMap<usize, Vec<f32>> =
            channels.iter().map(|c| (*c, Vec::new())).collect();
        let mut reads = circuit.reads();
        reads.push(target);
        feed.recorded(set, &reads, |_, taps| {
            let u = circuit.units(taps);
            let nat = taps[&target].clone();
            let [n, _, h, w] = nat.dims();
            let u = u
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| EvalError::Results(format!("{e:?}")))?;
            let nat = nat
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| EvalError::Results(format!("{e:?}")))?;
            for img in 0..n {
                for (k, unit) in units.iter_mut().enumerate() {
                    let at = (img * units_c + k) * h * w;
                    unit.extend_from_slice(&u[at..at + h * w]);
                }
                for (ch, values) in natural.iter_mut() {
                    let at = (img * target_c + ch) * h * w;
                    values.extend_from_slice(&nat[at..at + h * w]);
                }
            }
            Ok(())
        })?;
        Ok(CalibrationData {
            units,
            natural,
            split: describe_set(set),
        })
    }

    /// The gain and bias (one for the family, or one per neuron) that put the mapped units
    /// on their natural neurons' scale, each unit diagnosed (`aann_circuits::diagnose`).
    pub fn calibrate(
        &self,
        mapping: &UnitMapping,
        per_neuron: bool,
        fit: CalibrationFit,
    ) -> Calibration {
        let pairs = self.pairs(mapping);
        let k = pairs.len();
        let split = self.split.clone();
        if per_neuron {
            let fits: Vec<UnitCalibration> =
                pairs.iter().map(|(x, y)| fit.fit_unit(x, y)).collect();
            Calibration {
                scope: "neuron".into(),
                fit,
                gains: fits.iter().map(|f| f.gain).collect(),
                biases: fits.iter().map(|f| f.bias).collect(),
                split,
                mse: fits.iter().map(|f| f.mse).collect(),
                degenerate: fits.iter().map(|f| f.degenerate).collect(),
            }
        } else {
            let x: Vec<f32> = pairs.iter().flat_map(|(x, _)| x.iter().copied()).collect();
            let y: Vec<f32> = pairs.iter().flat_map(|(_, y)| y.iter().copied()).collect();
            let pooled = fit.fit_unit(&x, &y);
            let mut calibration = Calibration {
                scope: "family".into(),
                fit,
                gains: vec![pooled.gain; k],
                biases: vec![pooled.bias; k],
                split,
                mse: Vec::new(),
                degenerate: Vec::new(),
            };
            self.judge(mapping, &mut calibration);
            // A clipped pooled gain is every unit's.
            if pooled.degenerate == Some(aann_circuits::Degeneracy::GainClipped) {
                for d in calibration.degenerate.iter_mut().filter(|d| d.is_none()) {
                    *d = pooled.degenerate;
                }
            }
            calibration
        }
    }

    /// Another mapping driven through `calibration` unchanged (the frozen controls and the
    /// replacement null: each neuron keeps the circuit's gain and bias, only the unit feeding
    /// it changes), its units judged on these images.
    pub fn freeze(&self, mapping: &UnitMapping, calibration: &Calibration) -> Calibration {
        let mut frozen = calibration.clone();
        self.judge(mapping, &mut frozen);
        frozen
    }

    /// Each mapped unit's mean squared error and diagnosis under `calibration`'s gains.
    fn judge(&self, mapping: &UnitMapping, calibration: &mut Calibration) {
        let pairs = self.pairs(mapping);
        calibration.mse = pairs
            .iter()
            .enumerate()
            .map(|(k, (xs, ys))| {
                let (g, b) = (calibration.gains[k], calibration.biases[k]);
                xs.iter()
                    .zip(ys.iter())
                    .map(|(a, t)| ((g * f64::from(*a) + b).max(0.0) - f64::from(*t)).powi(2))
                    .sum::<f64>()
                    / xs.len().max(1) as f64
            })
            .collect();
        calibration.degenerate = pairs
            .iter()
            .enumerate()
            .map(|(k, (x, y))| {
                aann_circuits::diagnose(x, y, calibration.gains[k], calibration.biases[k])
            })
            .collect();
    }

    fn pairs(&self, mapping: &UnitMapping) -> Vec<(&[f32], &[f32])> {
        mapping
            .channels
            .iter()
            .zip(&mapping.units)
            .map(|(ch, unit)| (self.units[*unit].as_slice(), self.natural[ch].as_slice()))
            .collect()
    }
}

/// A condition replacing a family's channels with a calibrated circuit.
pub fn replacement_condition(
    name: &str,
    target: Tap,
    replacement: Arc<CircuitReplacement>,
) -> Condition {
    Condition::new(
        name,
        vec![Edit {
            tap: target,
            channels: ChannelSet::new(replacement.mapping.channels.clone()),
            intervention: Intervention::Replace(replacement),
        }],
    )
}

/// One natural neuron's tuning map next to its artificial stand-in's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TuningComparison {
    pub channel: usize,
    pub unit: usize,
    pub natural_orientation_deg: f64,
    pub unit_orientation_deg: f64,
    /// Pearson correlation of the two maps over every stimulus (radius × orientation).
    pub correlation: f64,
}

/// Tuning maps of the natural channels and of the replacement (reading the replaced tap),
/// and their per-neuron correlations.
pub fn compare_tuning(
    model: &InceptionV1,
    target: Tap,
    replacement: Arc<CircuitReplacement>,
    spec: &TuningSpec,
    stats: &ActivationStats,
) -> Result<(TuningGrid, TuningGrid, Vec<TuningComparison>), EvalError> {
    let channels = replacement.mapping.channels.clone();
    let natural = tune(model, target, &channels, spec, Some(stats), None)?;
    let condition = replacement_condition(&replacement.circuit.name(), target, replacement.clone());
    let artificial = tune(
        model,
        target,
        &channels,
        spec,
        Some(stats),
        Some(&condition),
    )?;
    let circuit = replacement.circuit.clone();
    let comparisons = channels
        .iter()
        .enumerate()
        .map(|(k, &ch)| TuningComparison {
            channel: ch,
            unit: replacement.mapping.units[k],
            natural_orientation_deg: replacement.mapping.orientations[k],
            unit_orientation_deg: circuit.unit_orientation(replacement.mapping.units[k]),
            correlation: pearson(natural.map(k), artificial.map(k)),
        })
        .collect();
    Ok((natural, artificial, comparisons))
}

/// Pearson correlation (0 when either side is constant).
pub fn pearson(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let mb = b.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(*x) - ma, f64::from(*y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Median of a list (0 for an empty list).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
