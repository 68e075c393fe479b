//! A circuit as a stand-in for natural neurons: its units, the mapping from natural channels
//! to units by preferred orientation, and the calibration of its output scale.

use std::collections::HashMap;
use std::sync::Arc;

use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use aann_model::{Family, Replacement, ReplacementInputs, Tap};

use crate::accounting::{Accounting, DataDerived};
use crate::group::RotationGroup;

/// A hand-written family of neurons computed from the image or from earlier taps.
pub trait Circuit: Send + Sync {
    /// Short name, e.g. `curves-from-pixels`.
    fn name(&self) -> String;
    /// The rotation family of the output units (unit `k` prefers `group().angle(k)`).
    fn group(&self) -> RotationGroup;
    /// The taps read ([`Tap::INPUT`] for the image).
    fn reads(&self) -> Vec<Tap>;
    /// Pre-activation outputs of every unit, `[N, n, H, W]` on the target tap's grid.
    fn units(&self, taps: &HashMap<Tap, Tensor<4>>) -> Tensor<4>;
    /// What a human set, and what came from data.
    fn accounting(&self) -> Accounting;
    /// Number of units (`group().n`, times the number of scales for a scale family).
    fn unit_count(&self) -> usize {
        self.group().n
    }
    /// Preferred orientation of a unit.
    fn unit_orientation(&self, unit: usize) -> f64 {
        self.group().angle(unit)
    }
    /// The unit standing in for a natural neuron with this preferred orientation (and,
    /// when known, preferred curve radius in pixels).
    fn unit_for(&self, orientation_deg: f64, _preferred_radius: Option<f64>) -> usize {
        self.group().nearest(orientation_deg)
    }
}

/// How a circuit's pre-activations are put on the natural neurons' scale:
/// `output = ReLU(gain · pre + bias)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// `family` (one gain and bias for every neuron) or `neuron` (one pair each).
    pub scope: String,
    /// How the pairs were fitted (least squares unless recorded otherwise).
    #[serde(default)]
    pub fit: CalibrationFit,
    /// Per natural channel of the family (repeated when the scope is `family`).
    pub gains: Vec<f64>,
    pub biases: Vec<f64>,
    /// The image set it was fitted on.
    pub split: String,
    /// Mean squared error of the fit, per neuron, on that split.
    pub mse: Vec<f64>,
}

impl Calibration {
    /// No calibration: gain 1, bias 0.
    pub fn identity(neurons: usize) -> Self {
        Calibration {
            scope: "none".into(),
            fit: CalibrationFit::default(),
            gains: vec![1.0; neurons],
            biases: vec![0.0; neurons],
            split: String::new(),
            mse: Vec::new(),
        }
    }

    /// Scope and fit in words, e.g. `family scope, matched mean and deviation`.
    pub fn describe(&self) -> String {
        let fit = match self.fit {
            CalibrationFit::LeastSquares => "least squares",
            CalibrationFit::Moments => "matched mean and deviation",
        };
        format!("{} scope, {fit}", self.scope)
    }

    /// The fitted numbers, for the accounting.
    pub fn data_derived(&self) -> Option<DataDerived> {
        let (count, values) = match self.scope.as_str() {
            "family" => (2, vec![self.gains[0], self.biases[0]]),
            "neuron" => (2 * self.gains.len(), Vec::new()),
            _ => return None,
        };
        Some(DataDerived {
            name: format!("output gain and bias ({})", self.describe()),
            count,
            kind: "fitted".into(),
            split: self.split.clone(),
            values,
        })
    }
}

/// Natural channels mapped to circuit units: each family neuron gets the unit whose
/// orientation is nearest its preferred orientation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitMapping {
    /// Natural channels, in the order the replacement produces them (sorted).
    pub channels: Vec<usize>,
    /// The unit standing in for each channel.
    pub units: Vec<usize>,
    /// The natural preferred orientations, for reports.
    pub orientations: Vec<f64>,
}

impl UnitMapping {
    /// Map every neuron of a family (which must give orientations) onto a circuit's units
    /// by preferred orientation (and preferred radius, `peak_radius`, when the family
    /// records it and the circuit has scales).
    pub fn by_orientation(family: &Family, circuit: &dyn Circuit) -> Result<Self, String> {
        Self::by_orientation_turned(family, circuit, 0.0)
    }

    /// The same, with every neuron given the unit of its preferred orientation turned by
    /// `degrees` (the rotated control: the right motif at the wrong orientation).
    pub fn by_orientation_turned(
        family: &Family,
        circuit: &dyn Circuit,
        degrees: f64,
    ) -> Result<Self, String> {
        let mut rows: Vec<(usize, f64, Option<f64>)> = family
            .neurons
            .iter()
            .map(|n| {
                n.orientation_deg
                    .map(|o| (n.channel, o, n.metrics.get("peak_radius").copied()))
                    .ok_or_else(|| {
                        format!(
                            "family `{}` gives no orientation for channel {}",
                            family.name, n.channel
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        rows.sort_by_key(|r| r.0);
        Ok(UnitMapping {
            channels: rows.iter().map(|r| r.0).collect(),
            units: rows
                .iter()
                .map(|r| circuit.unit_for(r.1 + degrees, r.2))
                .collect(),
            orientations: rows.iter().map(|r| r.1).collect(),
        })
    }
}

/// A circuit standing in for a family's natural channels: implements the model's
/// [`Replacement`] (the `Replace` intervention).
pub struct CircuitReplacement {
    pub circuit: Arc<dyn Circuit>,
    pub mapping: UnitMapping,
    pub calibration: Calibration,
    pub device: Device,
}

impl CircuitReplacement {
    /// Calibrated outputs for the mapped channels, `[N, channels, H, W]`.
    pub fn outputs(&self, taps: &HashMap<Tap, Tensor<4>>) -> Tensor<4> {
        let units = self.circuit.units(taps);
        let index: Vec<i64> = self.mapping.units.iter().map(|u| *u as i64).collect();
        let k = index.len();
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [k]), &self.device);
        let picked = units.select(1, index);
        let gains: Vec<f32> = self.calibration.gains.iter().map(|g| *g as f32).collect();
        let biases: Vec<f32> = self.calibration.biases.iter().map(|b| *b as f32).collect();
        let g = Tensor::<4>::from_data(TensorData::new(gains, [1, k, 1, 1]), &self.device);
        let b = Tensor::<4>::from_data(TensorData::new(biases, [1, k, 1, 1]), &self.device);
        relu(picked * g + b)
    }

    /// The circuit's accounting with the calibration added.
    pub fn accounting(&self) -> Accounting {
        let mut a = self.circuit.accounting();
        if let Some(d) = self.calibration.data_derived() {
            a.data_derived.push(d);
        }
        a
    }
}

impl Replacement for CircuitReplacement {
    fn name(&self) -> String {
        self.circuit.name()
    }

    fn reads(&self) -> Vec<Tap> {
        self.circuit.reads()
    }

    fn compute(&self, inputs: &ReplacementInputs<'_>) -> Tensor<4> {
        assert_eq!(
            inputs.channels.as_slice(),
            self.mapping.channels.as_slice(),
            "the replacement was built for other channels"
        );
        self.outputs(inputs.taps)
    }
}

/// Least-squares fit of `y ≈ ReLU(g · x + b)`: alternating linear least squares on the
/// points that are active (`g·x + b > 0` or `y > 0`), starting from a fit to all points.
pub fn fit_relu_affine(x: &[f32], y: &[f32]) -> (f64, f64, f64) {
    assert_eq!(x.len(), y.len());
    let n = x.len();
    if n == 0 {
        return (1.0, 0.0, 0.0);
    }
    let fit = |active: &dyn Fn(usize) -> bool| {
        let (mut sx, mut sy, mut sxx, mut sxy, mut m) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            if active(i) {
                let (a, b) = (f64::from(x[i]), f64::from(y[i]));
                sx += a;
                sy += b;
                sxx += a * a;
                sxy += a * b;
                m += 1.0;
            }
        }
        if m < 2.0 {
            return None;
        }
        let var = sxx - sx * sx / m;
        if var <= 1e-12 {
            return Some((0.0, sy / m));
        }
        let g = (sxy - sx * sy / m) / var;
        Some((g, (sy - g * sx) / m))
    };
    let (mut g, mut b) = fit(&|_| true).unwrap_or((1.0, 0.0));
    for _ in 0..20 {
        let (g0, b0) = (g, b);
        match fit(&|i| g0 * f64::from(x[i]) + b0 > 0.0 || y[i] > 0.0) {
            Some((g1, b1)) => {
                g = g1;
                b = b1;
            }
            None => break,
        }
        if (g - g0).abs() < 1e-9 * g0.abs().max(1.0) && (b - b0).abs() < 1e-9 * b0.abs().max(1.0) {
            break;
        }
    }
    if g < 0.0 {
        // A negative gain would invert the neuron: the circuit has no predictive value, so
        // fall back to its mean (gain 0).
        g = 0.0;
        b = y.iter().map(|v| f64::from(*v)).sum::<f64>() / n as f64;
    }
    let mse = x
        .iter()
        .zip(y)
        .map(|(a, t)| {
            let p = (g * f64::from(*a) + b).max(0.0);
            (p - f64::from(*t)).powi(2)
        })
        .sum::<f64>()
        / n as f64;
    (g, b, mse)
}

/// How a circuit's output is fitted to the natural neurons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalibrationFit {
    /// Least squares (`fit_relu_affine`): the best pointwise match, but a circuit that
    /// explains part of the variance is shrunk towards the mean (regression attenuation),
    /// so its strong responses come out too weak.
    #[default]
    LeastSquares,
    /// Moment matching (`fit_relu_moments`): the output has the natural neuron's mean and
    /// standard deviation, so strong responses stay strong.
    Moments,
}

/// `y ≈ ReLU(g · x + b)` with the output's mean and standard deviation matched to `y`'s:
/// starting from the least-squares fit, the gain is rescaled by the ratio of standard
/// deviations and the bias moved (bisection; the mean of a ReLU is monotone in its bias)
/// until the means agree, alternately. Returns `(g, b, mse)`.
pub fn fit_relu_moments(x: &[f32], y: &[f32]) -> (f64, f64, f64) {
    let (mut g, mut b, _) = fit_relu_affine(x, y);
    let n = x.len().max(1) as f64;
    let moments = |vals: &mut dyn Iterator<Item = f64>| {
        let (mut s, mut ss) = (0.0, 0.0);
        for v in vals {
            s += v;
            ss += v * v;
        }
        let m = s / n;
        (m, (ss / n - m * m).max(0.0).sqrt())
    };
    let (my, sy) = moments(&mut y.iter().map(|v| f64::from(*v)));
    if g <= 0.0 || sy <= 0.0 {
        return fit_relu_affine(x, y);
    }
    let out = |g: f64, b: f64| {
        let mut it = x.iter().map(move |a| (g * f64::from(*a) + b).max(0.0));
        moments(&mut it)
    };
    for _ in 0..5 {
        let (_, sp) = out(g, b);
        if sp > 0.0 {
            let r = sy / sp;
            g *= r;
            b *= r;
        }
        // Bisection on the bias for the mean.
        let (mut lo, mut hi) = (b - 10.0 * sy - 1.0, b + 10.0 * sy + 1.0);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if out(g, mid).0 < my {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        b = 0.5 * (lo + hi);
    }
    let mse = x
        .iter()
        .zip(y)
        .map(|(a, t)| ((g * f64::from(*a) + b).max(0.0) - f64::from(*t)).powi(2))
        .sum::<f64>()
        / n;
    (g, b, mse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_affine_fit_recovers_a_known_map() {
        let x: Vec<f32> = (0..400).map(|i| (i as f32 - 200.0) / 50.0).collect();
        let y: Vec<f32> = x.iter().map(|v| (3.0 * v - 1.0).max(0.0)).collect();
        let (g, b, mse) = fit_relu_affine(&x, &y);
        assert!(
            (g - 3.0).abs() < 1e-6 && (b + 1.0).abs() < 1e-6 && mse < 1e-10,
            "{g} {b} {mse}"
        );
    }

    #[test]
    fn moment_fit_keeps_the_natural_spread_where_least_squares_shrinks_it() {
        // y = ReLU(3x − 1) + noise that x does not explain: least squares shrinks the
        // output's spread; the moment fit restores the natural mean and deviation.
        let x: Vec<f32> = (0..2000)
            .map(|i| ((i * 37 % 2000) as f32 - 1000.0) / 300.0)
            .collect();
        let y: Vec<f32> = x
            .iter()
            .enumerate()
            .map(|(i, v)| (3.0 * v - 1.0 + 4.0 * (((i * 7919) % 101) as f32 / 50.0 - 1.0)).max(0.0))
            .collect();
        let stats = |g: f64, b: f64| {
            let p: Vec<f64> = x.iter().map(|a| (g * f64::from(*a) + b).max(0.0)).collect();
            let m = p.iter().sum::<f64>() / p.len() as f64;
            (
                m,
                (p.iter().map(|v| (v - m).powi(2)).sum::<f64>() / p.len() as f64).sqrt(),
            )
        };
        let ym = y.iter().map(|v| f64::from(*v)).sum::<f64>() / y.len() as f64;
        let ys =
            (y.iter().map(|v| (f64::from(*v) - ym).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
        let (g, b, _) = fit_relu_affine(&x, &y);
        assert!(stats(g, b).1 < 0.97 * ys);
        let (g, b, _) = fit_relu_moments(&x, &y);
        let (m, s) = stats(g, b);
        assert!(
            (m - ym).abs() < 1e-3 * ym && (s - ys).abs() < 0.02 * ys,
            "{m} {ym} {s} {ys}"
        );
    }
}
