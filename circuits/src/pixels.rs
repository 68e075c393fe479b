//! Curve detectors from pixels: a stack of hand-set convolutions on the image, like the
//! published artificial network, on the same grids as the natural network.
//!
//! 1. **Gabors** — a 7×7 stride-2 convolution of luminance (and, optionally, colour
//!    opponent channels) with even and odd Gabor filters at `n` orientations, on the grid of
//!    the network's first convolution.
//! 2. **Complex Gabors** — the energy `√(even² + odd²)` of each orientation, divided by the
//!    local mean energy over orientations (so responses measure orientation, not contrast),
//!    then max-pooled like the network's first pool.
//! 3. **Lines** — complex Gabors tiled along a short straight segment ([`TangentTiling`]),
//!    inhibited by the perpendicular orientation; rectified above a threshold and
//!    max-pooled onto the grid of the mixed3b/inception_3b tap.
//! 4. **Early curves** — lines tiled along a tight arc.
//! 5. **Curves** — early curves and lines tiled along a wider arc, excited by aligned
//!    shapes along the tangent and inhibited by opposite (180°) early curves and
//!    perpendicular lines.
//!
//! Every family is one motif copied by a rotation group, built with exact quarter-turns
//! ([`KernelBank::equivariant`]), so turning the image by 90° permutes every family.
//!
//! The circuit's output is its curves, standing in for the curve detectors of
//! mixed3b/inception_3b; or any family below them ([`PixelStage`]): its early curves for the
//! natural early curves of mixed3a/inception_3a, which the curve detectors read, its pooled
//! lines for the lines of mixed3a/inception_3a, its lines before pooling for the lines of
//! conv2d2/conv2_3x3 (the ladder from pixels, level by level).

use std::collections::HashMap;

use burn::tensor::activation::relu;
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use aann_model::Tap;
use aann_model::Variant;
use aann_model::arch::{conv_padding, stage_pool_padding};

use crate::accounting::Accounting;
use crate::circuit::Circuit;
use crate::colour::ColourMode;
use crate::gabor::GaborFamily;
use crate::group::{Periodicity, RotationGroup};
use crate::kernel::{Kernel, KernelBank};
use crate::motif::{TangentTiling, TargetShape};

/// Every hand-set number of the pixel circuit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelCircuitSpec {
    pub colour: ColourMode,
    pub gabor: GaborFamily,
    /// Constant in the divisive normalisation of complex-Gabor energies.
    pub normalisation: f64,
    pub line_orientations: usize,
    pub line_kernel: usize,
    pub lines: TangentTiling,
    pub line_threshold: f64,
    pub early_orientations: usize,
    pub early_kernel: usize,
    pub early: TangentTiling,
    pub early_threshold: f64,
    pub curve_orientations: usize,
    pub curve_kernel: usize,
    pub curves_from_early: TangentTiling,
    pub curves_from_lines: TangentTiling,
}

impl PixelCircuitSpec {
    /// The shipped settings (set by hand, by looking at tuning maps of the circuit's own
    /// units on synthetic stimuli; see the circuits README).
    pub fn standard(colour: ColourMode) -> Self {
        PixelCircuitSpec {
            colour,
            gabor: GaborFamily {
                orientations: 8,
                wavelength: 5.0,
                sigma: 1.6,
                size: 7,
            },
            normalisation: 0.05,
            line_orientations: 8,
            line_kernel: 5,
            lines: TangentTiling {
                shape: TargetShape::Segment { length: 14.0 },
                spread: 3.0,
                tolerance_deg: 14.0,
                excitation: 1.0,
                perpendicular_inhibition: 0.5,
                opposite_inhibition: 0.0,
                mirror_inhibition: 0.0,
            },
            line_threshold: 0.6,
            early_orientations: 24,
            early_kernel: 5,
            early: TangentTiling {
                shape: TargetShape::Arc {
                    radius: 14.0,
                    half_span_deg: 70.0,
                },
                spread: 5.0,
                tolerance_deg: 20.0,
                excitation: 1.0,
                perpendicular_inhibition: 0.3,
                opposite_inhibition: 0.0,
                mirror_inhibition: 0.0,
            },
            early_threshold: 0.15,
            curve_orientations: 24,
            curve_kernel: 7,
            curves_from_early: TangentTiling {
                shape: TargetShape::Arc {
                    radius: 36.0,
                    half_span_deg: 60.0,
                },
                spread: 6.0,
                tolerance_deg: 20.0,
                excitation: 1.0,
                perpendicular_inhibition: 0.1,
                opposite_inhibition: 0.6,
                mirror_inhibition: 0.0,
            },
            curves_from_lines: TangentTiling {
                shape: TargetShape::Arc {
                    radius: 36.0,
                    half_span_deg: 60.0,
                },
                spread: 6.0,
                tolerance_deg: 15.0,
                excitation: 0.5,
                perpendicular_inhibition: 0.3,
                opposite_inhibition: 0.0,
                mirror_inhibition: 0.0,
            },
        }
    }

    pub fn gabor_group(&self) -> RotationGroup {
        self.gabor.group()
    }

    pub fn line_group(&self) -> RotationGroup {
        RotationGroup::new(self.line_orientations, Periodicity::Axial)
    }

    pub fn early_group(&self) -> RotationGroup {
        RotationGroup::new(self.early_orientations, Periodicity::Radial)
    }

    pub fn curve_group(&self) -> RotationGroup {
        RotationGroup::new(self.curve_orientations, Periodicity::Radial)
    }
}

/// Grid spacing (pixels) of each stage: the network's strides.
const LINE_SPACING: f64 = 4.0;
const CURVE_SPACING: f64 = 8.0;

/// The expanded kernel banks of a spec (device-independent).
#[derive(Clone, Debug)]
pub struct PixelBanks {
    pub colour_weights: Vec<[f64; 3]>,
    pub colour_bias: Vec<f64>,
    pub gabor: KernelBank,
    pub lines: KernelBank,
    pub early: KernelBank,
    pub curves_from_early: KernelBank,
    pub curves_from_lines: KernelBank,
}

impl PixelBanks {
    pub fn build(spec: &PixelCircuitSpec, variant: Variant) -> Self {
        let (colour_weights, colour_bias) = spec.colour.linear_map(variant);
        let tiling = |motif: TangentTiling,
                      out: RotationGroup,
                      inp: RotationGroup,
                      size: usize,
                      spacing: f64| {
            KernelBank::equivariant(out, inp, size, |o, i| {
                Kernel::from_fn(size, spacing, |dx, dy| {
                    motif.weight(out.angle(o), inp.angle(i), inp.periodicity, dx, dy)
                })
            })
        };
        PixelBanks {
            colour_weights,
            colour_bias,
            gabor: spec.gabor.bank(),
            lines: tiling(
                spec.lines,
                spec.line_group(),
                spec.gabor_group(),
                spec.line_kernel,
                LINE_SPACING,
            ),
            early: tiling(
                spec.early,
                spec.early_group(),
                spec.line_group(),
                spec.early_kernel,
                CURVE_SPACING,
            ),
            curves_from_early: tiling(
                spec.curves_from_early,
                spec.curve_group(),
                spec.early_group(),
                spec.curve_kernel,
                CURVE_SPACING,
            ),
            curves_from_lines: tiling(
                spec.curves_from_lines,
                spec.curve_group(),
                spec.line_group(),
                spec.curve_kernel,
                CURVE_SPACING,
            ),
        }
    }

    pub fn expanded_weights(&self) -> usize {
        // The Gabor bank is applied to every colour channel.
        self.colour_weights.len() * 4
            + self.gabor.len() * self.colour_weights.len()
            + self.lines.len()
            + self.early.len()
            + self.curves_from_early.len()
            + self.curves_from_lines.len()
    }
}

/// Which of the pixel circuit's families is its output: each stands in for the natural
/// family on the same grid, one level of the ladder from pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PixelStage {
    /// Lines (stage 3) before pooling, on the grid of conv2d2/conv2_3x3.
    Lines,
    /// Lines after pooling, on the grid of mixed3a/inception_3a.
    PooledLines,
    /// Early curves (stage 4), on the grid of mixed3a/inception_3a.
    EarlyCurves,
    /// Curves (stage 5), on the grid of mixed3b/inception_3b.
    #[default]
    Curves,
}

impl PixelStage {
    pub const ALL: [PixelStage; 4] = [
        PixelStage::Lines,
        PixelStage::PooledLines,
        PixelStage::EarlyCurves,
        PixelStage::Curves,
    ];

    pub fn is_curves(&self) -> bool {
        *self == PixelStage::Curves
    }

    /// The family's name, as circuit names and specs spell it.
    pub fn name(self) -> &'static str {
        match self {
            PixelStage::Lines => "lines",
            PixelStage::PooledLines => "pooled-lines",
            PixelStage::EarlyCurves => "early-curves",
            PixelStage::Curves => "curves",
        }
    }

    /// The layer whose neurons this stage's units stand in for.
    pub fn models(self) -> Tap {
        match self {
            PixelStage::Lines => Tap::output(aann_model::Layer::Conv2),
            PixelStage::PooledLines | PixelStage::EarlyCurves => Tap::mixed(aann_model::Block::B3a),
            PixelStage::Curves => Tap::mixed(aann_model::Block::B3b),
        }
    }
}

/// The pixel circuit on a device.
pub struct PixelCurveCircuit {
    pub spec: PixelCircuitSpec,
    /// The family it outputs.
    pub output: PixelStage,
    variant: Variant,
    banks: PixelBanks,
    colour_w: Tensor<4>,
    colour_b: Tensor<1>,
    gabor_w: Tensor<4>,
    energy_w: Tensor<4>,
    lines_w: Tensor<4>,
    early_w: Tensor<4>,
    curves_w: Tensor<4>,
}

fn tensor4(values: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

impl PixelCurveCircuit {
    pub fn new(spec: PixelCircuitSpec, variant: Variant, device: &Device) -> Self {
        let banks = PixelBanks::build(&spec, variant);
        let c = spec.colour.channels();
        let g = spec.gabor_group().n;
        let k = spec.gabor.size;
        // Colour map as a 1×1 convolution.
        let colour_w: Vec<f32> = banks
            .colour_weights
            .iter()
            .flat_map(|r| r.map(|v| v as f32))
            .collect();
        let colour_b: Vec<f32> = banks.colour_bias.iter().map(|v| *v as f32).collect();
        // Gabors applied to each colour channel separately: block-diagonal [c·2g, c, k, k].
        let mut gabor = vec![0f32; c * 2 * g * c * k * k];
        for ch in 0..c {
            for f in 0..2 * g {
                let kernel = banks.gabor.kernel(f, 0);
                let out = ch * 2 * g + f;
                let start = (out * c + ch) * k * k;
                gabor[start..start + k * k].copy_from_slice(&kernel.values);
            }
        }
        // Energy: sum of squared even and odd responses over colour channels, per orientation.
        let mut energy = vec![0f32; g * c * 2 * g];
        for o in 0..g {
            for ch in 0..c {
                for p in 0..2 {
                    energy[o * c * 2 * g + ch * 2 * g + 2 * o + p] = 1.0;
                }
            }
        }
        let (lg, eg, cg) = (
            spec.line_group().n,
            spec.early_group().n,
            spec.curve_group().n,
        );
        let curves_in = eg + lg;
        let ck = spec.curve_kernel;
        let mut curves = vec![0f32; cg * curves_in * ck * ck];
        for o in 0..cg {
            for i in 0..eg {
                let start = (o * curves_in + i) * ck * ck;
                curves[start..start + ck * ck]
                    .copy_from_slice(&banks.curves_from_early.kernel(o, i).values);
            }
            for i in 0..lg {
                let start = (o * curves_in + eg + i) * ck * ck;
                curves[start..start + ck * ck]
                    .copy_from_slice(&banks.curves_from_lines.kernel(o, i).values);
            }
        }
        PixelCurveCircuit {
            colour_w: tensor4(colour_w, [c, 3, 1, 1], device),
            colour_b: Tensor::from_data(TensorData::new(colour_b, [c]), device),
            gabor_w: tensor4(gabor, [c * 2 * g, c, k, k], device),
            energy_w: tensor4(energy, [g, c * 2 * g, 1, 1], device),
            lines_w: tensor4(
                banks.lines.values.clone(),
                [lg, g, spec.line_kernel, spec.line_kernel],
                device,
            ),
            early_w: tensor4(
                banks.early.values.clone(),
                [eg, lg, spec.early_kernel, spec.early_kernel],
                device,
            ),
            curves_w: tensor4(curves, [cg, curves_in, ck, ck], device),
            spec,
            output: PixelStage::Curves,
            variant,
            banks,
        }
    }

    /// The same circuit with `stage` as its output.
    pub fn with_output(mut self, stage: PixelStage) -> Self {
        self.output = stage;
        self
    }

    fn same(kernel: usize) -> ConvOptions<2> {
        ConvOptions::new([1, 1], [kernel / 2, kernel / 2], [1, 1], 1)
    }

    fn pool(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let (padding, ceil) = stage_pool_padding(self.variant, h, w);
        max_pool2d(
            x,
            MaxPoolOptions::new([3, 3])
                .with_stride([2, 2])
                .with_padding_pairs(padding)
                .with_ceil_mode(ceil),
        )
    }

    /// Every stage's output for a batch of network inputs: complex Gabors (after pooling),
    /// lines (on the tap grid), early curves and curves (pre-activation).
    pub fn stages(&self, input: Tensor<4>) -> PixelStages {
        let (complex, lines, early) = self.through_early_curves(input);
        let curves = conv2d(
            Tensor::cat(vec![early.clone(), lines.clone()], 1),
            self.curves_w.clone(),
            None,
            Self::same(self.spec.curve_kernel),
        );
        PixelStages {
            complex,
            lines,
            early,
            curves,
        }
    }

    /// Stages 1–4: complex Gabors, pooled lines and early curves.
    fn through_early_curves(&self, input: Tensor<4>) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
        let (complex, lines) = self.through_lines(input);
        let lines = self.pool(lines);
        let early = relu(
            conv2d(
                lines.clone(),
                self.early_w.clone(),
                None,
                Self::same(self.spec.early_kernel),
            )
            .sub_scalar(self.spec.early_threshold),
        );
        (complex, lines, early)
    }

    /// Stages 1–3: complex Gabors (pooled) and lines before their pooling.
    fn through_lines(&self, input: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let [_, _, h, w] = input.dims();
        let col = conv2d(
            input,
            self.colour_w.clone(),
            Some(self.colour_b.clone()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        let pad = conv_padding(self.variant, h, w, self.spec.gabor.size, 2);
        let gabor = conv2d(
            col,
            self.gabor_w.clone(),
            None,
            ConvOptions::new_with_padding([2, 2], pad, [1, 1], 1),
        );
        let energy = conv2d(
            gabor.clone() * gabor,
            self.energy_w.clone(),
            None,
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        )
        .add_scalar(1e-6)
        .sqrt();
        let norm = energy
            .clone()
            .mean_dim(1)
            .add_scalar(self.spec.normalisation);
        let complex = self.pool(energy / norm);
        let lines = relu(
            conv2d(
                complex.clone(),
                self.lines_w.clone(),
                None,
                Self::same(self.spec.line_kernel),
            )
            .sub_scalar(self.spec.line_threshold),
        );
        (complex, lines)
    }

    pub fn banks(&self) -> &PixelBanks {
        &self.banks
    }
}

/// Intermediate families of the pixel circuit, for inspection and tests.
pub struct PixelStages {
    pub complex: Tensor<4>,
    pub lines: Tensor<4>,
    pub early: Tensor<4>,
    pub curves: Tensor<4>,
}

impl Circuit for PixelCurveCircuit {
    fn name(&self) -> String {
        let family = self.output.name();
        match self.spec.colour {
            ColourMode::Grayscale => format!("{family}-from-pixels"),
            ColourMode::Opponent { .. } => format!("{family}-from-pixels-colour"),
        }
    }

    fn group(&self) -> RotationGroup {
        match self.output {
            PixelStage::Lines | PixelStage::PooledLines => self.spec.line_group(),
            PixelStage::EarlyCurves => self.spec.early_group(),
            PixelStage::Curves => self.spec.curve_group(),
        }
    }

    fn reads(&self) -> Vec<Tap> {
        vec![Tap::INPUT]
    }

    fn units(&self, taps: &HashMap<Tap, Tensor<4>>) -> Tensor<4> {
        let input = taps
            .get(&Tap::INPUT)
            .expect("the pixel circuit reads the input")
            .clone();
        match self.output {
            PixelStage::Lines => self.through_lines(input).1,
            PixelStage::PooledLines => self.through_early_curves(input).1,
            PixelStage::EarlyCurves => self.through_early_curves(input).2,
            PixelStage::Curves => self.stages(input).curves,
        }
    }

    fn accounting(&self) -> Accounting {
        let s = &self.spec;
        let b = &self.banks;
        let mut a = Accounting::new(self.name());
        a.hand_set(
            "colour",
            match s.colour {
                ColourMode::Grayscale => vec![],
                ColourMode::Opponent { chroma_weight } => vec![("chroma weight", chroma_weight)],
            },
        );
        a.hand_set("Gabors", s.gabor.hand_set_numbers());
        a.hand_set(
            "complex Gabors",
            vec![("divisive normalisation constant", s.normalisation)],
        );
        let mut lines = s.lines.hand_set_numbers();
        lines.extend([
            ("orientations", s.line_orientations as f64),
            ("kernel size", s.line_kernel as f64),
            ("threshold", s.line_threshold),
        ]);
        a.hand_set("lines from complex Gabors", lines);
        // Only the stages computed are part of this circuit.
        let curve_weights = b.curves_from_early.len() + b.curves_from_lines.len();
        a.expanded_weights = b.expanded_weights() - curve_weights - b.early.len();
        if matches!(self.output, PixelStage::Lines | PixelStage::PooledLines) {
            return a;
        }
        let mut early = s.early.hand_set_numbers();
        early.extend([
            ("orientations", s.early_orientations as f64),
            ("kernel size", s.early_kernel as f64),
            ("threshold", s.early_threshold),
        ]);
        a.hand_set("early curves from lines", early);
        a.expanded_weights += b.early.len();
        if self.output == PixelStage::EarlyCurves {
            return a;
        }
        let mut curves = s.curves_from_early.hand_set_numbers();
        curves.extend([
            ("orientations", s.curve_orientations as f64),
            ("kernel size", s.curve_kernel as f64),
        ]);
        a.hand_set("curves from early curves", curves);
        a.hand_set("curves from lines", s.curves_from_lines.hand_set_numbers());
        a.expanded_weights += curve_weights;
        a
    }
}
