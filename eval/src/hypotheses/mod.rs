//! Regression tests on circuit hypotheses: claims about neurons and circuits, written down in
//! a TOML file and re-checked on every change of the circuit, the model, the weights or the
//! data (`aann check FILE...`).
//!
//! ```toml
//! model = "bvlc"
//! description = "Curve circuits of BVLC GoogLeNet"
//!
//! [[claim]]
//! name = "3b:358 prefers curves bulging right"
//! kind = "preferred_orientation"
//! tags = ["cheap"]
//! tap = "inception_3b_output"
//! channel = 358
//! expected_deg = 0.8
//! tolerance_deg = 15
//! ```
//!
//! Claim kinds ([`ClaimKind`]): `preferred_orientation`, `tiling`, `equivariance`,
//! `circuit_correlation`, `ablation_effect`, `fraction_recovered` and `weight_motif`. Every
//! claim evaluates to an [`Outcome`]: pass, fail, or skipped with the reason (weights or
//! data absent, or weights the claims do not apply to) — a skip is never a pass.
//!
//! Paths: image sets and weights are relative to the data root (`AANN_DATA`, else
//! `../shared/data`) unless absolute; family files are relative to the repository (the
//! folder holding `circuits/`, found from the working directory or above the file).

mod ablation_claims;
mod check;
mod circuit_claims;
mod context;
mod motif_claims;
mod parse;
mod report;
mod text;
mod tuning_claims;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use aann_model::Variant;
use aann_stats::Metric;

use crate::spec::ImageSetSpec;
use crate::spec::{default_level, default_resamples};
use crate::tuning::{StimulusKind, TuningSpec};

pub use check::{CheckOptions, check_file, check_path};
pub use context::known_random_fixture;
pub use report::{CheckReport, ClaimReport, FileReport, Outcome, Status};

/// What the claims of a file need of the weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// The claims were made about trained weights: a known random-weights fixture (such as
    /// the test fixture of the inception5h layout) makes every claim needing weights skip.
    #[serde(default)]
    pub trained_weights: bool,
}

/// Defaults for the claims of a file (every key may be left out: [`Defaults::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Defaults {
    /// Natural images whose activations define σ (relative to the data root).
    pub sigma_set: String,
    /// How many of them (first in key order); 0 reads raw activations instead of σ.
    pub sigma_images: usize,
    pub batch_size: usize,
    /// Orientation step of every sweep that does not set its own.
    pub orientation_step_deg: f64,
    /// Radii of every curve sweep that does not set its own `values` (default: 12 to 400
    /// pixels in 9 steps, as `aann tune`).
    pub curve_radii: Option<Vec<f64>>,
}

/// The orientation step of a sweep when neither it nor the file's defaults set one.
const DEFAULT_STEP_DEG: f64 = 10.0;

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            sigma_set: "imagenet-val/images".into(),
            sigma_images: 200,
            batch_size: 16,
            orientation_step_deg: DEFAULT_STEP_DEG,
            curve_radii: None,
        }
    }
}

/// The synthetic stimuli a tuning claim sweeps over the unit nearest the image centre
/// (see [`crate::tuning`]); these keys may appear in any claim that measures tuning (every
/// one may be left out: [`Sweep::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sweep {
    /// `curve` (radial orientation convention), `line`, `angle` or `edge`.
    pub stimulus: StimulusKind,
    /// Orientation step in degrees over the full period (360° for curves and angles, 180°
    /// for lines and edges); default: the file's `defaults.orientation_step_deg`.
    pub orientation_step_deg: f64,
    /// Second-parameter values (curve radii, angle openings, line lengths); default: the
    /// file's `defaults.curve_radii` for curves, else the stimulus's default rows.
    pub values: Option<Vec<f64>>,
    /// Stroke width in pixels.
    pub line_width: f64,
    /// Natural images defining σ (default: the file's `defaults.sigma_images`).
    pub sigma_images: Option<usize>,
}

const SWEEP_KEYS: [&str; 5] = [
    "stimulus",
    "orientation_step_deg",
    "values",
    "line_width",
    "sigma_images",
];

impl Default for Sweep {
    fn default() -> Self {
        Sweep {
            stimulus: StimulusKind::Curve,
            orientation_step_deg: DEFAULT_STEP_DEG,
            values: None,
            line_width: 3.0,
            sigma_images: None,
        }
    }
}

impl Sweep {
    /// The orientation period: 180° for axial stimuli (lines, edges), else 360°.
    pub fn period(&self) -> f64 {
        match self.stimulus {
            StimulusKind::Line | StimulusKind::Edge => 180.0,
            _ => 360.0,
        }
    }

    /// The tuning spec this sweep renders.
    pub fn spec(&self) -> TuningSpec {
        let base = match self.stimulus {
            StimulusKind::Line => TuningSpec::lines(),
            _ => TuningSpec::curves(),
        };
        let steps = (self.period() / self.orientation_step_deg).round() as usize;
        let values = self.values.clone().unwrap_or_else(|| match self.stimulus {
            StimulusKind::Curve => base.values.clone(),
            StimulusKind::Line | StimulusKind::Edge => vec![0.0],
            StimulusKind::Angle => vec![30.0, 60.0, 90.0, 120.0, 150.0],
        });
        TuningSpec {
            stimulus: self.stimulus,
            orientations: (0..steps)
                .map(|i| i as f64 * self.orientation_step_deg)
                .collect(),
            values,
            line_width: self.line_width,
            ..base
        }
    }
}

/// A neuron's preferred orientation on a stimulus family: one channel with an expected
/// angle, or every neuron of a family file against the angle the file gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferredOrientation {
    /// The tap (default: the family's).
    #[serde(default)]
    pub tap: Option<String>,
    #[serde(default)]
    pub channel: Option<usize>,
    #[serde(default)]
    pub expected_deg: Option<f64>,
    /// A family file: every neuron with an orientation is checked.
    #[serde(default)]
    pub family: Option<String>,
    pub tolerance_deg: f64,
    /// For a family, the fraction of neurons that must be within the tolerance (default 1).
    #[serde(default)]
    pub min_fraction: Option<f64>,
    /// Each checked neuron must also peak at least this high (σ, or raw without σ).
    #[serde(default)]
    pub min_peak: Option<f64>,
    #[serde(skip)]
    pub sweep: Sweep,
}

/// A family's measured preferred orientations cover the circle: no gap between
/// neighbouring orientations exceeds `max_gap_deg`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiling {
    pub family: String,
    pub max_gap_deg: f64,
    #[serde(skip)]
    pub sweep: Sweep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquivarianceMode {
    /// Rotating the stimulus by one step moves the family's population peak (the
    /// orientation decoded from the responses and the family's orientations) by one step.
    PeakShift,
    /// Rotating the stimulus by 90° permutes the channels: the tuning map of the neuron
    /// preferring θ, shifted by 90°, matches the map of the neuron preferring θ + 90°.
    Rot90Permutation,
}

/// A family's rotational equivariance, measured on its tuning maps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivariance {
    pub family: String,
    pub mode: EquivarianceMode,
    /// `peak_shift`: the root-mean-square deviation of the per-step peak shift from the
    /// rotation step must be at most this.
    #[serde(default)]
    pub max_error_deg: Option<f64>,
    /// `rot90_permutation`: the median correlation with the predicted partner must be at
    /// least this.
    #[serde(default)]
    pub min_r: Option<f64>,
    /// `rot90_permutation`: neurons whose nearest partner is further than this from
    /// θ + 90° are left out (default 20°).
    #[serde(default)]
    pub partner_tolerance_deg: Option<f64>,
    #[serde(skip)]
    pub sweep: Sweep,
}

pub use crate::spec::CalibrationScope;

/// How a circuit is built and calibrated (shared by the circuit claims).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitFields {
    /// A circuit's name: `pixels`, `pixels-colour`, `pixels-early-curves`, `upstream`, or a
    /// kind registered by a user ([`crate::circuits::CircuitRegistry`]).
    pub circuit: String,
    /// The family the circuit stands in for (its orientations map neurons to units).
    pub family: String,
    /// Upstream families of the `upstream` circuit (default: the model's
    /// `early-curves-3a.toml` and `lines-3a.toml` under `circuits/families/<model>/`).
    #[serde(default)]
    pub early_curves: Option<String>,
    #[serde(default)]
    pub lines: Option<String>,
    #[serde(default = "default_scope")]
    pub calibration: CalibrationScope,
    /// How the gain and bias are fitted: `least-squares` (default) or `moments`.
    #[serde(default)]
    pub fit: aann_circuits::CalibrationFit,
    /// Hand-set numbers overriding the shipped ones (a TOML file relative to the
    /// repository, see `aann circuits spec`).
    #[serde(default)]
    pub spec: Option<String>,
}

fn default_scope() -> CalibrationScope {
    CalibrationScope::Family
}

const CIRCUIT_KEYS: [&str; 7] = [
    "circuit",
    "family",
    "early_curves",
    "lines",
    "calibration",
    "fit",
    "spec",
];

/// Correlation between artificial neurons and their natural counterparts over a stimulus
/// sweep (Pearson r of the tuning maps, per neuron).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitCorrelation {
    /// One neuron of the family (default: the median over the family).
    #[serde(default)]
    pub channel: Option<usize>,
    pub min_r: f64,
    /// Images the calibration is fitted on (relative to the data root; default
    /// `imagenet-val/images`).
    #[serde(default)]
    pub calibration_set: Option<String>,
    #[serde(default = "default_calibration_images")]
    pub calibration_images: usize,
    #[serde(skip)]
    pub circuit: Option<CircuitFields>,
    #[serde(skip)]
    pub sweep: Sweep,
}

fn default_calibration_images() -> usize {
    32
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AblationKind {
    Zero,
    /// Channel means over the `means` set, spatially uniform.
    Mean,
}

impl AblationKind {
    /// The experiment's ablation this claim's ablation is (its arm and arm name).
    pub fn ablation(self) -> crate::lab::Ablation {
        match self {
            AblationKind::Zero => crate::lab::Ablation::Zero,
            AblationKind::Mean => crate::lab::Ablation::Mean,
        }
    }
}

/// An ablation's effect on a metric over an image set: the paired change (ablated −
/// baseline) with its confidence interval must lie above `min_change` and/or below
/// `max_change`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AblationEffect {
    /// The channels: a family file, or `tap` and `channels`.
    #[serde(default)]
    pub family: Option<String>,
    #[serde(default)]
    pub tap: Option<String>,
    #[serde(default)]
    pub channels: Option<Vec<usize>>,
    pub ablation: AblationKind,
    pub metric: Metric,
    pub test: ImageSetSpec,
    /// Where mean-ablation's means come from (default: the first 100 images of
    /// `imagenet-val/images`); must not share an image with `test`.
    #[serde(default)]
    pub means: Option<ImageSetSpec>,
    /// The interval's lower bound must be at least this.
    #[serde(default)]
    pub min_change: Option<f64>,
    /// The interval's upper bound must be at most this.
    #[serde(default)]
    pub max_change: Option<f64>,
    #[serde(default = "default_level")]
    pub level: f64,
}

/// A replacement's fraction recovered, `(m_R − m_A)/(m_B − m_A)`, with a lower bound on
/// its BCa bootstrap interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FractionRecoveredClaim {
    /// The ablation the fraction is relative to.
    pub relative_to: AblationKind,
    pub metric: Metric,
    /// Calibration and channel means come from here; never the same images as `test`.
    pub tune: ImageSetSpec,
    pub test: ImageSetSpec,
    pub min_lower_bound: f64,
    /// Bootstrap resamples (at least [`aann_stats::MIN_RESAMPLES`]; default 2000).
    #[serde(default = "default_resamples")]
    pub resamples: usize,
    /// The bootstrap's seed: the same seed, the same interval.
    #[serde(default)]
    pub seed: u64,
    /// The interval's confidence level (default 0.95).
    #[serde(default = "default_level")]
    pub level: f64,
    #[serde(skip)]
    pub circuit: Option<CircuitFields>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotifMeasure {
    /// Per target neuron, the mean net (signed) expanded weight of aligned upstream neurons
    /// exceeds that of opposite ones; measured: the fraction of targets where it does.
    AlignedVsOpposite,
    /// Opposite-orientation upstream neurons are net inhibitory; measured: the fraction of
    /// (opposite upstream, target) pairs with a negative net weight.
    OppositeInhibits,
    /// Aligned upstream neurons excite along the target's tangent; measured: the median
    /// angle between the principal axis of an aligned kernel's positive weights and the
    /// tangent at the target curve's apex (45° is chance).
    Tangent,
    /// Net weight falls off with the orientation difference; measured: Pearson r between
    /// cos(Δθ) and the net weight normalised per target.
    Falloff,
    /// Named pairs have the claimed sign; measured: the fraction that do.
    PairSigns,
}

/// A weight-level motif between two families, on the expanded weights between their taps
/// (see [`crate::expanded`]: a linearisation that ignores the bottleneck ReLU).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightMotif {
    /// Upstream family (at the target block's input).
    pub from: String,
    /// Target family (at an inception block's output).
    pub to: String,
    pub measure: MotifMeasure,
    /// Upstream neurons within this angle of a target are aligned (default 45°).
    #[serde(default)]
    pub aligned_within_deg: Option<f64>,
    /// Upstream neurons within this angle of the target's opposite are opposite (default 45°).
    #[serde(default)]
    pub opposite_within_deg: Option<f64>,
    /// `pair_signs`: `[upstream, target]` channel pairs claimed excitatory / inhibitory.
    #[serde(default)]
    pub excite: Vec<[usize; 2]>,
    #[serde(default)]
    pub inhibit: Vec<[usize; 2]>,
    #[serde(default)]
    pub min_fraction: Option<f64>,
    #[serde(default)]
    pub max_deg: Option<f64>,
    #[serde(default)]
    pub min_r: Option<f64>,
}

#[cfg(test)]
impl WeightMotif {
    /// A motif claim of `measure` between no families, with no thresholds (for tests of
    /// its checks and measures).
    pub(crate) fn bare(measure: MotifMeasure) -> Self {
        WeightMotif {
            from: String::new(),
            to: String::new(),
            measure,
            aligned_within_deg: None,
            opposite_within_deg: None,
            excite: Vec::new(),
            inhibit: Vec::new(),
            min_fraction: None,
            max_deg: None,
            min_r: None,
        }
    }
}

/// What a claim says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClaimKind {
    PreferredOrientation(PreferredOrientation),
    Tiling(Tiling),
    Equivariance(Equivariance),
    CircuitCorrelation(CircuitCorrelation),
    AblationEffect(AblationEffect),
    FractionRecovered(FractionRecoveredClaim),
    WeightMotif(WeightMotif),
}

pub const KINDS: [&str; 7] = [
    "preferred_orientation",
    "tiling",
    "equivariance",
    "circuit_correlation",
    "ablation_effect",
    "fraction_recovered",
    "weight_motif",
];

impl ClaimKind {
    pub fn name(&self) -> &'static str {
        match self {
            ClaimKind::PreferredOrientation(_) => KINDS[0],
            ClaimKind::Tiling(_) => KINDS[1],
            ClaimKind::Equivariance(_) => KINDS[2],
            ClaimKind::CircuitCorrelation(_) => KINDS[3],
            ClaimKind::AblationEffect(_) => KINDS[4],
            ClaimKind::FractionRecovered(_) => KINDS[5],
            ClaimKind::WeightMotif(_) => KINDS[6],
        }
    }
}

/// One claim of a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Free labels; `cheap` marks claims quick enough for every test run.
    #[serde(default)]
    pub tags: Vec<String>,
    pub kind: ClaimKind,
}

/// A hypothesis file.
#[derive(Clone, Debug, PartialEq)]
pub struct HypothesisFile {
    pub path: PathBuf,
    pub model: Variant,
    pub description: String,
    /// Weights (relative to the data root); default: the model's usual location.
    pub weights: Option<String>,
    pub requires: Requirements,
    pub defaults: Defaults,
    pub claims: Vec<Claim>,
    /// The folder family paths resolve against.
    pub repository: PathBuf,
}
