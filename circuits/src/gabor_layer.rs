//! The first layer by hand: analytic Gabors standing in for the Gabor-like filters of the
//! network's first convolution (BVLC `conv1_7x7_s2`, Lucid `conv2d0`).
//!
//! "The first layer constructs a family of Gabor filters using a 7×7 convolution" (Curve
//! Circuits). A first-layer filter is its own receptive field, so a Gabor unit is fully
//! described by five numbers: the direction its stripes run along, the phase of its
//! carrier, its wavelength, the width of its envelope, and its colour. Here the colour is
//! brightness only, the mean of R, G and B (colour-contrast units stay natural), and the other four come from a
//! small stated set: `directions` directions over 360°, `phases_deg` phases, and a few
//! scales (wavelength and envelope width together). Turning a Gabor by 180° is the same as
//! negating its phase (`(θ, φ) ≡ (θ + 180°, −φ)`), so directions cover the full circle and
//! phases only `[0°, 180°]`; every polarity of every orientation is then in the set once
//! (the even phases 0° and 180° twice, as equal units). Each scale and phase is one motif
//! copied by the rotation group of the directions, so a quarter-turn of the image permutes
//! the units exactly.
//!
//! A natural neuron is mapped to the unit nearest its fitted direction, phase and
//! wavelength (the family file's `orientation_deg`, `phase_deg` and `wavelength_px`, which
//! `aann discover-gabors` fits to the network's own filters), and calibrated like every
//! circuit: `ReLU(gain · Gabor * brightness + bias)`.

use std::collections::{BTreeMap, HashMap};

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use aann_model::arch::conv_padding;
use aann_model::{Layer, Tap, Variant};

use crate::accounting::Accounting;
use crate::circuit::Circuit;
use crate::colour::mean_rgb;
use crate::group::{Periodicity, RotationGroup};
use crate::kernel::Kernel;

/// A wavelength and the envelope that goes with it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaborScale {
    /// Wavelength of the carrier, pixels.
    pub wavelength: f64,
    /// Width (standard deviation) of the Gaussian envelope, pixels.
    pub sigma: f64,
}

/// Every hand-set number of the first layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaborLayerSpec {
    /// Directions over 360° (divisible by 4 for exact quarter-turns).
    pub directions: usize,
    /// Carrier phases, degrees, in `[0, 180]`.
    pub phases_deg: Vec<f64>,
    pub scales: Vec<GaborScale>,
    /// Kernel size (odd), the network's first filters' size.
    pub size: usize,
    /// Stride of the first convolution (its output grid).
    pub stride: usize,
}

/// A Gabor kernel with stripes running along `theta_deg`: the carrier
/// `cos(2π u / wavelength + phase)` varies along the normal `u = (−sin θ, cos θ)·(x, y)`,
/// under a Gaussian envelope of width `sigma`; zero mean, so uniform light gives nothing.
pub fn gabor_kernel(theta_deg: f64, scale: GaborScale, phase_deg: f64, size: usize) -> Kernel {
    let t = theta_deg.to_radians();
    let (nx, ny) = (-t.sin(), t.cos());
    let phase = phase_deg.to_radians();
    Kernel::from_fn(size, 1.0, |dx, dy| {
        let u = dx * nx + dy * ny;
        let envelope = (-(dx * dx + dy * dy) / (2.0 * scale.sigma * scale.sigma)).exp();
        envelope * (std::f64::consts::TAU * u / scale.wavelength + phase).cos()
    })
    .zero_mean()
}

/// A Gabor's direction and phase folded so the phase lies in `[0°, 180°]`: `(θ, φ)` and
/// `(θ + 180°, −φ)` are the same filter.
pub fn fold_phase(direction_deg: f64, phase_deg: f64) -> (f64, f64) {
    let phase = phase_deg.rem_euclid(360.0);
    if phase <= 180.0 {
        (direction_deg.rem_euclid(360.0), phase)
    } else {
        ((direction_deg + 180.0).rem_euclid(360.0), 360.0 - phase)
    }
}

impl GaborLayerSpec {
    /// The shipped set: 16 directions, five phases, four scales. Chosen by fitting the
    /// BVLC first filters with a fine grid of Gabors and coarsening it while the mean R²
    /// of the Gabor-like filters stayed near its best (see the families README).
    pub fn standard() -> Self {
        let scale = |wavelength, sigma| GaborScale { wavelength, sigma };
        GaborLayerSpec {
            directions: 16,
            phases_deg: vec![0.0, 45.0, 90.0, 135.0, 180.0],
            scales: vec![
                scale(2.5, 1.5),
                scale(3.5, 1.5),
                scale(5.0, 1.5),
                scale(12.0, 2.5),
            ],
            size: 7,
            stride: 2,
        }
    }

    pub fn group(&self) -> RotationGroup {
        RotationGroup::new(self.directions, Periodicity::Radial)
    }

    pub fn unit_count(&self) -> usize {
        self.directions * self.phases_deg.len() * self.scales.len()
    }

    /// Unit index of (scale, phase, direction): scale-major, then phase, then direction.
    pub fn unit(&self, scale: usize, phase: usize, direction: usize) -> usize {
        (scale * self.phases_deg.len() + phase) * self.directions + direction
    }

    /// `(scale, phase, direction)` of a unit.
    pub fn parts(&self, unit: usize) -> (usize, usize, usize) {
        let d = self.directions;
        let p = self.phases_deg.len();
        (unit / (d * p), (unit / d) % p, unit % d)
    }

    pub fn kernel(&self, unit: usize) -> Kernel {
        let (s, p, d) = self.parts(unit);
        gabor_kernel(
            self.group().angle(d),
            self.scales[s],
            self.phases_deg[p],
            self.size,
        )
    }

    /// The unit nearest a Gabor of this direction, phase and wavelength (wavelengths
    /// compared on a log scale).
    pub fn nearest(&self, direction_deg: f64, phase_deg: f64, wavelength: f64) -> usize {
        let (direction, phase) = fold_phase(direction_deg, phase_deg);
        let p = nearest_index(&self.phases_deg, |q| (q - phase).abs());
        let s = nearest_index(&self.scales, |sc| {
            (sc.wavelength.ln() - wavelength.ln()).abs()
        });
        self.unit(s, p, self.group().nearest(direction))
    }

    pub fn check(&self) -> Result<(), String> {
        if self.directions == 0 || !self.directions.is_multiple_of(4) {
            return Err(format!(
                "directions = {}: a multiple of 4 is needed for exact quarter-turns",
                self.directions
            ));
        }
        if self.size.is_multiple_of(2) {
            return Err(format!("size = {}: kernels have odd sizes", self.size));
        }
        if self.phases_deg.is_empty() || self.scales.is_empty() {
            return Err("at least one phase and one scale".into());
        }
        if let Some(p) = self.phases_deg.iter().find(|p| !(0.0..=180.0).contains(*p)) {
            return Err(format!("phase {p}° is outside [0°, 180°]"));
        }
        if let Some(s) = self
            .scales
            .iter()
            .find(|s| !(s.wavelength > 0.0 && s.sigma > 0.0))
        {
            return Err(format!(
                "scale {s:?}: wavelength and sigma must be positive"
            ));
        }
        Ok(())
    }
}

fn nearest_index<T>(values: &[T], distance: impl Fn(&T) -> f64) -> usize {
    values
        .iter()
        .enumerate()
        .min_by(|a, b| distance(a.1).total_cmp(&distance(b.1)))
        .map_or(0, |(i, _)| i)
}

/// The first layer on a device: one brightness Gabor per unit, on the first convolution's
/// grid.
pub struct GaborLayerCircuit {
    pub spec: GaborLayerSpec,
    variant: Variant,
    weights: Tensor<4>,
}

impl GaborLayerCircuit {
    pub fn new(spec: GaborLayerSpec, variant: Variant, device: &Device) -> Result<Self, String> {
        spec.check()?;
        // Luminance of the network's input planes, folded into every kernel: like the
        // network's own filters, the circuit sees the padded input's zeros at the border.
        let brightness = mean_rgb(variant);
        let (n, k) = (spec.unit_count(), spec.size);
        let mut w = Vec::with_capacity(n * 3 * k * k);
        for u in 0..n {
            let kernel = spec.kernel(u);
            for plane in brightness {
                w.extend(kernel.values.iter().map(|v| v * plane as f32));
            }
        }
        Ok(GaborLayerCircuit {
            weights: Tensor::from_data(TensorData::new(w, [n, 3, k, k]), device),
            spec,
            variant,
        })
    }

    /// The layer whose neurons the units stand in for.
    pub fn models() -> Tap {
        Tap::output(Layer::Conv0)
    }
}

impl Circuit for GaborLayerCircuit {
    fn name(&self) -> String {
        "gabors-from-pixels".into()
    }

    fn group(&self) -> RotationGroup {
        self.spec.group()
    }

    fn reads(&self) -> Vec<Tap> {
        vec![Tap::INPUT]
    }

    fn units(&self, taps: &HashMap<Tap, Tensor<4>>) -> Tensor<4> {
        let input = taps
            .get(&Tap::INPUT)
            .expect("the Gabor layer reads the input")
            .clone();
        let [_, _, h, w] = input.dims();
        let (k, s) = (self.spec.size, self.spec.stride);
        let pad = conv_padding(self.variant, h, w, k, s);
        conv2d(
            input,
            self.weights.clone(),
            None,
            ConvOptions::new_with_padding([s, s], pad, [1, 1], 1),
        )
    }

    fn accounting(&self) -> Accounting {
        let s = &self.spec;
        let mut a = Accounting::new(self.name());
        let mut numbers = vec![
            ("directions", s.directions as f64),
            ("kernel size", s.size as f64),
        ];
        numbers.extend(s.phases_deg.iter().map(|p| ("phase (deg)", *p)));
        for sc in &s.scales {
            numbers.push(("wavelength (px)", sc.wavelength));
            numbers.push(("envelope sigma (px)", sc.sigma));
        }
        a.hand_set("Gabors", numbers);
        a.hand_set(
            "colour",
            vec![("brightness: weight of each of R, G, B", 1.0 / 3.0)],
        );
        a.expanded_weights = s.unit_count() * 3 * s.size * s.size;
        a
    }

    fn unit_count(&self) -> usize {
        self.spec.unit_count()
    }

    fn unit_orientation(&self, unit: usize) -> f64 {
        self.spec.group().angle(self.spec.parts(unit).2)
    }

    fn unit_for(
        &self,
        orientation_deg: f64,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<usize, String> {
        let get = |key: &str| {
            metrics.get(key).copied().ok_or_else(|| {
                format!(
                    "a Gabor unit is chosen by direction, `{key}` and the other of \
                     `phase_deg`/`wavelength_px`; the family gives no `{key}` \
                     (`aann discover-gabors` writes both)"
                )
            })
        };
        Ok(self
            .spec
            .nearest(orientation_deg, get("phase_deg")?, get("wavelength_px")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_turn_is_the_negated_phase() {
        let sc = GaborScale {
            wavelength: 3.5,
            sigma: 1.5,
        };
        for (theta, phase) in [(0.0, 30.0), (67.5, 90.0), (200.0, 135.0)] {
            let a = gabor_kernel(theta, sc, phase, 7);
            let b = gabor_kernel(theta + 180.0, sc, -phase, 7);
            for (x, y) in a.values.iter().zip(&b.values) {
                assert!((x - y).abs() < 1e-5, "θ {theta} φ {phase}");
            }
            let (d, p) = fold_phase(theta, -phase);
            assert_eq!(
                (d, p),
                ((theta + 180.0_f64).rem_euclid(360.0), phase),
                "folding"
            );
        }
    }

    #[test]
    fn a_quarter_turn_of_a_unit_is_the_unit_four_directions_on() {
        let spec = GaborLayerSpec::standard();
        let shift = spec.group().quarter_shift().unwrap();
        assert_eq!(shift, 4);
        for u in [0, 3, 17, 40, 95, 250, 319] {
            let (s, p, d) = spec.parts(u);
            let turned = spec.kernel(u).rot90_cw();
            let other = spec.kernel(spec.unit(s, p, (d + shift) % spec.directions));
            for (x, y) in turned.values.iter().zip(&other.values) {
                assert!((x - y).abs() < 1e-5, "unit {u}");
            }
        }
    }

    #[test]
    fn nearest_finds_each_unit_from_its_own_numbers_and_any_polarity() {
        let spec = GaborLayerSpec::standard();
        assert_eq!(spec.unit_count(), 320);
        for u in 0..spec.unit_count() {
            let (s, p, d) = spec.parts(u);
            let (theta, phase, lambda) = (
                spec.group().angle(d),
                spec.phases_deg[p],
                spec.scales[s].wavelength,
            );
            let found = spec.nearest(theta, phase, lambda);
            // The even phases of opposite directions are the same filter.
            let same = spec.kernel(found);
            for (x, y) in same.values.iter().zip(&spec.kernel(u).values) {
                assert!((x - y).abs() < 1e-5, "unit {u} → {found}");
            }
            // The negated filter is the phase plus 180°.
            let neg = spec.kernel(spec.nearest(theta, phase + 180.0, lambda));
            for (x, y) in neg.values.iter().zip(&spec.kernel(u).values) {
                assert!((x + y).abs() < 1e-5, "unit {u} negated");
            }
        }
    }

    #[test]
    fn bad_sets_are_refused_by_name() {
        let mut spec = GaborLayerSpec::standard();
        spec.directions = 6;
        assert!(spec.check().unwrap_err().contains("multiple of 4"));
        let mut spec = GaborLayerSpec::standard();
        spec.phases_deg.push(270.0);
        assert!(spec.check().unwrap_err().contains("270"));
    }
}
