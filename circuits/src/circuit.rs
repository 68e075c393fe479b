//! A circuit as a stand-in for natural neurons: its units, the mapping from natural channels
//! to units by preferred orientation, and the calibration of its output scale.

use std::collections::{BTreeMap, HashMap};
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
    /// The unit standing in for a natural neuron with this preferred orientation; a
    /// circuit with more than one unit per orientation (scales, phases) chooses among them
    /// by the neuron's measured numbers (the family file's `metrics`, e.g. `peak_radius`),
    /// and says which one it needs when a family does not give it.
    fn unit_for(
        &self,
        orientation_deg: f64,
        _metrics: &BTreeMap<String, f64>,
    ) -> Result<usize, String> {
        Ok(self.group().nearest(orientation_deg))
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
    /// Per natural channel, why its calibrated unit no longer follows its input (none: it
    /// does), judged on the fitting images by [`diagnose`]. Empty in results written before
    /// degeneracies were recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degenerate: Vec<Option<Degeneracy>>,
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
            degenerate: vec![None; neurons],
        }
    }

    /// How many of the calibrated units are degenerate.
    pub fn degenerate_count(&self) -> usize {
        self.degenerate.iter().filter(|d| d.is_some()).count()
    }

    /// Scope and fit in words, e.g. `family scope, matched mean and deviation`.
    pub fn describe(&self) -> String {
        format!("{} scope, {}", self.scope, self.fit.describe())
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
    /// by preferred orientation (and, for a circuit with several units per orientation,
    /// the neuron's measured numbers: [`Circuit::unit_for`]).
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
        let mut rows: Vec<(usize, f64, &BTreeMap<String, f64>)> = family
            .neurons
            .iter()
            .map(|n| {
                n.orientation_deg
                    .map(|o| (n.channel, o, &n.metrics))
                    .ok_or_else(|| {
                        format!(
                            "family `{}` gives no orientation for channel {}",
                            family.name, n.channel
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        rows.sort_by_key(|r| r.0);
        let units = rows
            .iter()
            .map(|r| {
                circuit
                    .unit_for(r.1 + degrees, r.2)
                    .map_err(|e| format!("family `{}`, channel {}: {e}", family.name, r.0))
            })
            .collect::<Result<_, _>>()?;
        Ok(UnitMapping {
            channels: rows.iter().map(|r| r.0).collect(),
            units,
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

    /// The same replacement standing in for one of its neurons only (its unit and its
    /// calibration, unchanged): a single-neuron replacement. `None` when `channel` is not
    /// one of the mapped channels.
    pub fn only(&self, channel: usize) -> Option<CircuitReplacement> {
        let i = self.mapping.channels.iter().position(|c| *c == channel)?;
        let pick = |v: &Vec<f64>| v.get(i).map_or_else(Vec::new, |x| vec![*x]);
        let c = &self.calibration;
        Some(CircuitReplacement {
            circuit: self.circuit.clone(),
            mapping: UnitMapping {
                channels: vec![channel],
                units: vec![self.mapping.units[i]],
                orientations: vec![self.mapping.orientations[i]],
            },
            calibration: Calibration {
                scope: c.scope.clone(),
                fit: c.fit,
                gains: pick(&c.gains),
                biases: pick(&c.biases),
                split: c.split.clone(),
                mse: pick(&c.mse),
                degenerate: c.degenerate.get(i).map_or_else(Vec::new, |d| vec![*d]),
            },
            device: self.device.clone(),
        })
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
    /// Moment matching with the gain held positive (`fit_relu_positive_moments`): never a
    /// constant, never an inverted neuron, the gain bounded by [`GAIN_BOUND`]: a unit that
    /// does not predict its neuron still gives the neuron's distribution, at the places where
    /// the unit responds. The refit structure controls use it, one pair per neuron.
    PositiveMoments,
}

impl CalibrationFit {
    /// The fit in words.
    pub fn describe(self) -> &'static str {
        match self {
            CalibrationFit::LeastSquares => "least squares",
            CalibrationFit::Moments => "matched mean and deviation",
            CalibrationFit::PositiveMoments => "matched mean and deviation, positive gain",
        }
    }

    /// `(gain, bias, mse)` of this fit of `y ≈ ReLU(g · x + b)`.
    pub fn fit(self, x: &[f32], y: &[f32]) -> (f64, f64, f64) {
        match self {
            CalibrationFit::LeastSquares => fit_relu_affine(x, y),
            CalibrationFit::Moments => fit_relu_moments(x, y),
            CalibrationFit::PositiveMoments => fit_relu_positive_moments(x, y),
        }
    }

    /// The fit with its diagnosis: a unit that no longer follows its input says why.
    pub fn fit_unit(self, x: &[f32], y: &[f32]) -> UnitCalibration {
        let (gain, bias, mse) = self.fit(x, y);
        let mut degenerate = diagnose(x, y, gain, bias);
        if self == CalibrationFit::PositiveMoments
            && degenerate.is_none()
            && gain > 0.0
            && gain >= 0.999_999 * gain_bound(x, y)
        {
            degenerate = Some(Degeneracy::GainClipped);
        }
        UnitCalibration {
            gain,
            bias,
            mse,
            degenerate,
        }
    }
}

/// One neuron's calibrated gain and bias, and whether its output still follows its input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitCalibration {
    pub gain: f64,
    pub bias: f64,
    pub mse: f64,
    pub degenerate: Option<Degeneracy>,
}

/// Why a calibrated unit `ReLU(g · x + b)` no longer carries its input's structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Degeneracy {
    /// The input barely varies on the fitting images (its deviation below 10⁻⁶ of its
    /// scale): any gain that gave it the neuron's spread would explode.
    FlatInput,
    /// The gain is zero or negative: the least-squares slope was not positive, so the fit
    /// fell back to the neuron's mean (a constant) or would invert the neuron.
    NonPositiveGain,
    /// The output is (nearly) constant on the fitting images: its deviation is below 1% of
    /// the neuron's, e.g. the ReLU clips every position.
    ConstantOutput,
    /// The gain reached its bound ([`GAIN_BOUND`] × the ratio of the deviations).
    GainClipped,
    /// The neuron, the gain or the bias is not a finite number.
    NotFinite,
}

impl Degeneracy {
    /// In words, for cards and warnings.
    pub fn describe(self) -> &'static str {
        match self {
            Degeneracy::FlatInput => "flat input",
            Degeneracy::NonPositiveGain => "gain ≤ 0 (a constant)",
            Degeneracy::ConstantOutput => "constant output",
            Degeneracy::GainClipped => "gain clipped",
            Degeneracy::NotFinite => "not finite",
        }
    }
}

/// The largest gain a positive moment fit may take, in units of `sd(y) / sd(x)`: a ReLU
/// that passes 1% of a Gaussian input needs about 7; a larger one means the unit fires almost
/// nowhere and the fit would blow its few responses up.
pub const GAIN_BOUND: f64 = 20.0;

fn mean_sd(v: &mut dyn Iterator<Item = f64>) -> (f64, f64) {
    let (mut n, mut s, mut ss) = (0.0, 0.0, 0.0);
    for x in v {
        n += 1.0;
        s += x;
        ss += x * x;
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let m = s / n;
    (m, (ss / n - m * m).max(0.0).sqrt())
}

/// Whether the input `x` is flat: its deviation is below 10⁻⁶ of its largest magnitude (or
/// zero).
fn is_flat(x: &[f32]) -> bool {
    let (_, sx) = mean_sd(&mut x.iter().map(|v| f64::from(*v)));
    let scale = x.iter().fold(0f64, |m, v| m.max(f64::from(v.abs())));
    sx <= 1e-6 * scale || sx == 0.0
}

fn gain_bound(x: &[f32], y: &[f32]) -> f64 {
    let (_, sx) = mean_sd(&mut x.iter().map(|v| f64::from(*v)));
    let (_, sy) = mean_sd(&mut y.iter().map(|v| f64::from(*v)));
    if sx > 0.0 { GAIN_BOUND * sy / sx } else { 0.0 }
}

/// The stated rule by which every calibrated unit of every arm is judged, on the images it
/// was fitted on: a number that is not finite first, then a flat input, then a gain ≤ 0,
/// then an output whose deviation is below 1% of the neuron's. A neuron that itself never varies is not held against the unit.
pub fn diagnose(x: &[f32], y: &[f32], gain: f64, bias: f64) -> Option<Degeneracy> {
    let (my, sy) = mean_sd(&mut y.iter().map(|v| f64::from(*v)));
    if !(my.is_finite() && sy.is_finite() && gain.is_finite() && bias.is_finite()) {
        return Some(Degeneracy::NotFinite);
    }
    if sy == 0.0 {
        return None;
    }
    if is_flat(x) {
        return Some(Degeneracy::FlatInput);
    }
    if gain <= 0.0 {
        return Some(Degeneracy::NonPositiveGain);
    }
    let (_, so) = mean_sd(&mut x.iter().map(|a| (gain * f64::from(*a) + bias).max(0.0)));
    (so < 0.01 * sy).then_some(Degeneracy::ConstantOutput)
}

/// The inputs of a unit sorted, with suffix sums: the mean and deviation of
/// `ReLU(g · x + b)` for any `g > 0` and `b` in `O(log n)` (the positions above `−b/g` by
/// binary search, their sums of `x` and `x²` from the suffix sums).
struct SortedInput {
    x: Vec<f64>,
    /// `s1[i] = Σ_{j ≥ i} x_j`, `s2[i] = Σ_{j ≥ i} x_j²` (one more entry, 0, at the end).
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl SortedInput {
    fn new(x: &[f32]) -> Self {
        let mut x: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
        x.sort_by(f64::total_cmp);
        let n = x.len();
        let (mut s1, mut s2) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        for i in (0..n).rev() {
            s1[i] = s1[i + 1] + x[i];
            s2[i] = s2[i + 1] + x[i] * x[i];
        }
        SortedInput { x, s1, s2 }
    }

    /// Mean and population deviation of `ReLU(g · x + b)`, `g > 0`.
    fn moments(&self, g: f64, b: f64) -> (f64, f64) {
        let n = self.x.len().max(1) as f64;
        let i = self.x.partition_point(|v| g * v + b <= 0.0);
        let k = (self.x.len() - i) as f64;
        let sum = g * self.s1[i] + b * k;
        let sq = g * g * self.s2[i] + 2.0 * g * b * self.s1[i] + b * b * k;
        let m = sum / n;
        (m, (sq / n - m * m).max(0.0).sqrt())
    }
}

/// `y ≈ ReLU(g · x + b)` with the output's mean and standard deviation matched to `y`'s and
/// the gain held positive: it starts from `g = sd(y) / sd(x)` whatever the sign of the
/// correlation, rescales the gain by the ratio of deviations and moves the bias (bisection:
/// the mean of a ReLU is monotone in its bias) until both agree, and never lets the gain pass
/// [`GAIN_BOUND`] × `sd(y) / sd(x)`. A flat input gets gain 0 and the neuron's mean (and is
/// diagnosed as flat). Returns `(g, b, mse)`.
pub fn fit_relu_positive_moments(x: &[f32], y: &[f32]) -> (f64, f64, f64) {
    assert_eq!(x.len(), y.len());
    let n = x.len().max(1) as f64;
    let (_, sx) = mean_sd(&mut x.iter().map(|v| f64::from(*v)));
    let (my, sy) = mean_sd(&mut y.iter().map(|v| f64::from(*v)));
    let mse = |g: f64, b: f64| {
        x.iter()
            .zip(y)
            .map(|(a, t)| ((g * f64::from(*a) + b).max(0.0) - f64::from(*t)).powi(2))
            .sum::<f64>()
            / n
    };
    if x.is_empty() || is_flat(x) || sy.is_nan() || sy <= 0.0 {
        return (0.0, my, mse(0.0, my));
    }
    let bound = GAIN_BOUND * sy / sx;
    let sorted = SortedInput::new(x);
    let reach = sorted.x[0].abs().max(sorted.x[sorted.x.len() - 1].abs());
    // The bias that gives the neuron's mean at gain `g` (bisection: every position clipped
    // at the low end, every one above the mean at the high end).
    let mean_bias = |g: f64| {
        let (mut lo, mut hi) = (-g * reach - 1.0, my + g * reach + 1.0);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if sorted.moments(g, mid).0 < my {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    let mut g = sy / sx;
    let mut b = mean_bias(g);
    for _ in 0..50 {
        let g0 = g;
        let (_, sp) = sorted.moments(g, b);
        g = if sp > 0.0 {
            (g * sy / sp).min(bound)
        } else {
            bound
        };
        b = mean_bias(g);
        if (g - g0).abs() <= 1e-9 * g0 {
            break;
        }
    }
    (g, b, mse(g, b))
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

    /// y = ReLU(x) + noise, and the control's input is −x: anti-correlated with its neuron.
    fn anti_correlated() -> (Vec<f32>, Vec<f32>) {
        let x: Vec<f32> = (0..3000)
            .map(|i| ((i * 61 % 3000) as f32 - 1500.0) / 500.0)
            .collect();
        let y: Vec<f32> = x
            .iter()
            .enumerate()
            .map(|(i, v)| (v + 0.5 * (((i * 7919) % 97) as f32 / 48.0 - 1.0)).max(0.0))
            .collect();
        (x.iter().map(|v| -v).collect(), y)
    }

    #[test]
    fn an_anti_correlated_input_is_flagged_by_the_moment_fit_and_kept_alive_by_the_positive_one() {
        let (x, y) = anti_correlated();
        let ym = y.iter().map(|v| f64::from(*v)).sum::<f64>() / y.len() as f64;
        let ys =
            (y.iter().map(|v| (f64::from(*v) - ym).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
        // The circuit's own fit falls back to the neuron's mean: a constant, and it says so.
        let moments = CalibrationFit::Moments.fit_unit(&x, &y);
        assert_eq!(moments.gain, 0.0);
        assert_eq!(moments.degenerate, Some(Degeneracy::NonPositiveGain));
        // The refit: positive gain, the neuron's mean and spread, at the wrong places.
        let refit = CalibrationFit::PositiveMoments.fit_unit(&x, &y);
        assert!(refit.gain > 0.0, "{refit:?}");
        assert_eq!(refit.degenerate, None, "{refit:?}");
        let out: Vec<f64> = x
            .iter()
            .map(|a| (refit.gain * f64::from(*a) + refit.bias).max(0.0))
            .collect();
        let m = out.iter().sum::<f64>() / out.len() as f64;
        let sd = (out.iter().map(|v| (v - m).powi(2)).sum::<f64>() / out.len() as f64).sqrt();
        assert!((m - ym).abs() < 1e-3 * ym, "{m} {ym}");
        assert!((sd - ys).abs() < 0.02 * ys, "{sd} {ys}");
        // And it is no mean-ablation: it follows its (wrong) input.
        let xm = x.iter().map(|v| f64::from(*v)).sum::<f64>() / x.len() as f64;
        let cov: f64 = x
            .iter()
            .zip(&out)
            .map(|(a, o)| (f64::from(*a) - xm) * (o - m))
            .sum();
        assert!(cov > 0.0);
    }

    #[test]
    fn a_neuron_too_sparse_for_its_unit_gets_a_clipped_gain_and_says_so() {
        // The neuron fires at 2 positions in 2,000 (mean/deviation 0.03); a uniform input
        // would need a gain of about 10⁴ × sd(y)/sd(x) to match that: the bound holds it.
        let x: Vec<f32> = (0..2000)
            .map(|i| ((i * 37 % 2000) as f32 - 1000.0) / 1000.0)
            .collect();
        let y: Vec<f32> = (0..2000)
            .map(|i| if i % 1000 == 7 { 100.0 } else { 0.0 })
            .collect();
        let refit = CalibrationFit::PositiveMoments.fit_unit(&x, &y);
        let (_, sx) = mean_sd(&mut x.iter().map(|v| f64::from(*v)));
        let (_, sy) = mean_sd(&mut y.iter().map(|v| f64::from(*v)));
        assert!(
            (refit.gain - GAIN_BOUND * sy / sx).abs() < 1e-6 * refit.gain,
            "{refit:?}"
        );
        assert_eq!(refit.degenerate, Some(Degeneracy::GainClipped), "{refit:?}");
        // A flat input is named as such, and gets the neuron's mean.
        let flat = vec![2.5f32; 2000];
        let f = CalibrationFit::PositiveMoments.fit_unit(&flat, &y);
        assert_eq!(f.degenerate, Some(Degeneracy::FlatInput));
        assert_eq!(f.gain, 0.0);
    }

    proptest::proptest! {
        /// Whatever the data, no fit returns a (nearly) constant output without saying why;
        /// an unflagged positive moment fit has the neuron's mean and deviation; a neuron that
        /// never varies is never held against its unit.
        #[test]
        fn no_fit_is_silently_constant(
            xs in proptest::collection::vec(-50.0f32..50.0, 20..200),
            slope in -3.0f32..3.0,
            noise in 0.0f32..5.0,
            offset in -20.0f32..20.0,
        ) {
            let y: Vec<f32> = xs
                .iter()
                .enumerate()
                .map(|(i, v)| (slope * v + offset + noise * (((i * 7919) % 13) as f32 / 6.0 - 1.0)).max(0.0))
                .collect();
            let (my, sy) = mean_sd(&mut y.iter().map(|v| f64::from(*v)));
            for fit in [CalibrationFit::LeastSquares, CalibrationFit::Moments, CalibrationFit::PositiveMoments] {
                let u = fit.fit_unit(&xs, &y);
                let (mo, so) = mean_sd(&mut xs.iter().map(|a| (u.gain * f64::from(*a) + u.bias).max(0.0)));
                proptest::prop_assert!(u.gain.is_finite() && u.bias.is_finite());
                if sy > 0.0 && so < 0.01 * sy {
                    proptest::prop_assert!(u.degenerate.is_some(), "{fit:?} {u:?}");
                }
                if sy == 0.0 {
                    proptest::prop_assert!(u.degenerate.is_none(), "{fit:?} {u:?}");
                }
                if fit == CalibrationFit::PositiveMoments {
                    proptest::prop_assert!(u.gain >= 0.0);
                    if u.degenerate.is_none() && sy > 0.0 {
                        proptest::prop_assert!((mo - my).abs() <= 1e-6 * my.max(1.0), "{mo} {my}");
                        proptest::prop_assert!((so - sy).abs() <= 1e-2 * sy, "{so} {sy}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_neuron_that_never_varies_and_a_nan_are_judged_by_the_rule() {
        let x: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let still = vec![1.5f32; 100];
        for fit in [CalibrationFit::Moments, CalibrationFit::PositiveMoments] {
            assert_eq!(fit.fit_unit(&x, &still).degenerate, None, "{fit:?}");
        }
        let mut y: Vec<f32> = x.iter().map(|v| v * 0.5).collect();
        y[7] = f32::NAN;
        assert_eq!(diagnose(&x, &y, 1.0, 0.0), Some(Degeneracy::NotFinite));
        assert_eq!(diagnose(&x, &x, f64::NAN, 0.0), Some(Degeneracy::NotFinite));
    }

    #[test]
    fn the_sorted_moments_equal_the_direct_ones() {
        let x: Vec<f32> = (0..997)
            .map(|i| ((i * 389 % 997) as f32 - 400.0) / 37.0)
            .collect();
        let sorted = SortedInput::new(&x);
        for (g, b) in [
            (1.0, 0.0),
            (0.3, 2.5),
            (4.0, -30.0),
            (2.0, -1e6),
            (0.5, 1e3),
        ] {
            let direct = mean_sd(&mut x.iter().map(|a| (g * f64::from(*a) + b).max(0.0)));
            let fast = sorted.moments(g, b);
            assert!(
                (direct.0 - fast.0).abs() <= 1e-9 * direct.0.abs().max(1.0),
                "{direct:?} {fast:?}"
            );
            assert!(
                (direct.1 - fast.1).abs() <= 1e-6 * direct.1.abs().max(1.0),
                "{direct:?} {fast:?}"
            );
        }
    }
}
