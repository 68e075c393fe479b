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

mod evaluate;
mod report;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use aann_model::{Family, Tap, Variant};
use aann_stats::Metric;

use crate::EvalError;
use crate::expanded::expansion_block;
use crate::spec::{ImageSetSpec, repository_root};
use crate::tuning::{StimulusKind, TuningSpec};

pub use evaluate::{CheckOptions, check_file, known_random_fixture};
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

/// Defaults for the claims of a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Natural images whose activations define σ (relative to the data root).
    #[serde(default = "default_sigma_set")]
    pub sigma_set: String,
    /// How many of them (first in key order); 0 reads raw activations instead of σ.
    #[serde(default = "default_sigma_images")]
    pub sigma_images: usize,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Orientation step of every sweep that does not set its own.
    #[serde(default = "default_step")]
    pub orientation_step_deg: f64,
    /// Radii of every curve sweep that does not set its own `values` (default: 12 to 400
    /// pixels in 9 steps, as `aann tune`).
    #[serde(default)]
    pub curve_radii: Option<Vec<f64>>,
}

fn default_sigma_set() -> String {
    "imagenet-val/images".into()
}

fn default_sigma_images() -> usize {
    200
}

fn default_batch() -> usize {
    16
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            sigma_set: default_sigma_set(),
            sigma_images: default_sigma_images(),
            batch_size: default_batch(),
            orientation_step_deg: default_step(),
            curve_radii: None,
        }
    }
}

/// The synthetic stimuli a tuning claim sweeps over the unit nearest the image centre
/// (see [`crate::tuning`]); these keys may appear in any claim that measures tuning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// `curve` (radial orientation convention), `line`, `angle` or `edge`.
    #[serde(default = "default_stimulus")]
    pub stimulus: StimulusKind,
    /// Orientation step in degrees over the full period (360° for curves and angles, 180°
    /// for lines and edges); default: the file's `defaults.orientation_step_deg`.
    #[serde(default = "default_step")]
    pub orientation_step_deg: f64,
    /// Second-parameter values (curve radii, angle openings, line lengths); default: the
    /// file's `defaults.curve_radii` for curves, else the stimulus's default rows.
    #[serde(default)]
    pub values: Option<Vec<f64>>,
    /// Stroke width in pixels.
    #[serde(default = "default_line_width")]
    pub line_width: f64,
    /// Natural images defining σ (default: the file's `defaults.sigma_images`).
    #[serde(default)]
    pub sigma_images: Option<usize>,
}

const SWEEP_KEYS: [&str; 5] = [
    "stimulus",
    "orientation_step_deg",
    "values",
    "line_width",
    "sigma_images",
];

fn default_stimulus() -> StimulusKind {
    StimulusKind::Curve
}

fn default_step() -> f64 {
    10.0
}

fn default_line_width() -> f64 {
    3.0
}

impl Default for Sweep {
    fn default() -> Self {
        Sweep {
            stimulus: default_stimulus(),
            orientation_step_deg: default_step(),
            values: None,
            line_width: default_line_width(),
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

    fn validate(&self) -> Result<(), String> {
        let step = self.orientation_step_deg;
        let steps = self.period() / step;
        if step.is_nan() || step <= 0.0 || (steps - steps.round()).abs() > 1e-9 || steps < 4.0 {
            return Err(format!(
                "orientation_step_deg = {step} must divide {}° into at least 4 steps",
                self.period()
            ));
        }
        if self.values.as_ref().is_some_and(Vec::is_empty) {
            return Err("`values` is empty".into());
        }
        if self.line_width.is_nan() || self.line_width <= 0.0 {
            return Err("line_width must be positive".into());
        }
        Ok(())
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

pub use crate::circuits::CircuitKind;
pub use crate::spec::CalibrationScope;

/// How a circuit is built and calibrated (shared by the circuit claims).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitFields {
    pub circuit: CircuitKind,
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

fn default_level() -> f64 {
    0.95
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
    #[serde(default = "default_resamples")]
    pub resamples: usize,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_level")]
    pub level: f64,
    #[serde(skip)]
    pub circuit: Option<CircuitFields>,
}

fn default_resamples() -> usize {
    2000
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    model: Variant,
    #[serde(default)]
    description: String,
    #[serde(default)]
    weights: Option<String>,
    #[serde(default)]
    requires: Requirements,
    #[serde(default)]
    defaults: Defaults,
}

fn take_string(table: &mut toml::Table, key: &str) -> Result<Option<String>, String> {
    match table.remove(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "`{key}` must be a string, not {}",
            other.type_str()
        )),
    }
}

/// Move `keys` of `table` into a table of their own.
fn split_keys(table: &mut toml::Table, keys: &[&str]) -> toml::Table {
    let mut out = toml::Table::new();
    for k in keys {
        if let Some(v) = table.remove(*k) {
            out.insert(k.to_string(), v);
        }
    }
    out
}

fn from_table<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().trim().to_string())
}

fn parse_claim(
    mut table: toml::Table,
    defaults: &Defaults,
) -> Result<(String, Result<Claim, String>), String> {
    let name = take_string(&mut table, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or("has no `name`")?;
    let inner = || -> Result<Claim, String> {
        let kind = take_string(&mut table, "kind")?
            .ok_or(format!("has no `kind` (one of {})", KINDS.join(", ")))?;
        let description = take_string(&mut table, "description")?.unwrap_or_default();
        let tags: Vec<String> = match table.remove("tags") {
            None => Vec::new(),
            Some(v) => v
                .try_into()
                .map_err(|_| "`tags` must be a list of strings".to_string())?,
        };
        let sweep = |table: &mut toml::Table| -> Result<Sweep, String> {
            let mut t = split_keys(table, &SWEEP_KEYS);
            t.entry("orientation_step_deg")
                .or_insert(toml::Value::Float(defaults.orientation_step_deg));
            let mut sweep: Sweep = from_table(t)?;
            if sweep.values.is_none() && sweep.stimulus == StimulusKind::Curve {
                sweep.values = defaults.curve_radii.clone();
            }
            Ok(sweep)
        };
        let circuit = |table: &mut toml::Table| -> Result<CircuitFields, String> {
            from_table(split_keys(table, &CIRCUIT_KEYS))
        };
        let kind = match kind.as_str() {
            "preferred_orientation" => {
                let s = sweep(&mut table)?;
                let mut c: PreferredOrientation = from_table(table)?;
                c.sweep = s;
                ClaimKind::PreferredOrientation(c)
            }
            "tiling" => {
                let s = sweep(&mut table)?;
                let mut c: Tiling = from_table(table)?;
                c.sweep = s;
                ClaimKind::Tiling(c)
            }
            "equivariance" => {
                let s = sweep(&mut table)?;
                let mut c: Equivariance = from_table(table)?;
                c.sweep = s;
                ClaimKind::Equivariance(c)
            }
            "circuit_correlation" => {
                let s = sweep(&mut table)?;
                let f = circuit(&mut table)?;
                let mut c: CircuitCorrelation = from_table(table)?;
                c.sweep = s;
                c.circuit = Some(f);
                ClaimKind::CircuitCorrelation(c)
            }
            "ablation_effect" => ClaimKind::AblationEffect(from_table(table)?),
            "fraction_recovered" => {
                let f = circuit(&mut table)?;
                let mut c: FractionRecoveredClaim = from_table(table)?;
                c.circuit = Some(f);
                ClaimKind::FractionRecovered(c)
            }
            "weight_motif" => ClaimKind::WeightMotif(from_table(table)?),
            other => {
                return Err(format!(
                    "unknown kind `{other}`; expected one of {}",
                    KINDS.join(", ")
                ));
            }
        };
        Ok(Claim {
            name: String::new(),
            description,
            tags,
            kind,
        })
    };
    let claim = inner().map(|mut c| {
        c.name = name.clone();
        c
    });
    Ok((name, claim))
}

impl HypothesisFile {
    /// Read and check a hypothesis file: every error names the file and the claim.
    pub fn load(path: &Path) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        let err = |msg: String| EvalError::Spec(format!("{}: {msg}", path.display()));
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        let claims = match table.remove("claim") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items,
            Some(_) => return Err(err("`claim` must be an array of tables ([[claim]])".into())),
        };
        let header: Header = from_table(table).map_err(err)?;
        let repository = repository_root(path);
        let mut file = HypothesisFile {
            path: path.to_path_buf(),
            model: header.model,
            description: header.description,
            weights: header.weights,
            requires: header.requires,
            defaults: header.defaults,
            claims: Vec::new(),
            repository,
        };
        if claims.is_empty() {
            return Err(err("the file has no [[claim]]".into()));
        }
        let mut names = BTreeSet::new();
        for (i, item) in claims.into_iter().enumerate() {
            let toml::Value::Table(t) = item else {
                return Err(err(format!("claim #{} is not a table", i + 1)));
            };
            let (name, claim) =
                parse_claim(t, &file.defaults).map_err(|m| err(format!("claim #{} {m}", i + 1)))?;
            let claim = claim
                .and_then(|c| file.validate(&c).map(|_| c))
                .map_err(|m| err(format!("claim `{name}`: {m}")))?;
            if !names.insert(name.clone()) {
                return Err(err(format!("two claims are named `{name}`")));
            }
            file.claims.push(claim);
        }
        Ok(file)
    }

    /// A family file, resolved against the repository and checked against the model.
    pub fn family(&self, relative: &str) -> Result<(PathBuf, Family), String> {
        let path = self.repository.join(relative);
        let family = Family::load(&path).map_err(|e| e.to_string())?;
        if family.model != self.model {
            return Err(format!(
                "{} is a {} family, but the file's model is {}",
                path.display(),
                family.model,
                self.model
            ));
        }
        Ok((path, family))
    }

    fn tap(&self, name: &str) -> Result<Tap, String> {
        Tap::parse(name, self.model).map_err(|e| {
            // The full list of taps is long; name the vocabulary instead.
            format!(
                "unknown tap `{}` for the {} model (see `aann taps --model {}`)",
                e.name, self.model, self.model
            )
        })
    }

    fn check_channel(&self, tap: Tap, channel: usize) -> Result<(), String> {
        let width = tap.channels(self.model);
        if channel >= width {
            return Err(format!(
                "channel {channel} is out of range for {} ({width} channels)",
                tap.name(self.model)
            ));
        }
        Ok(())
    }

    fn validate(&self, claim: &Claim) -> Result<(), String> {
        let fraction = |name: &str, v: Option<f64>| match v {
            Some(f) if !(0.0..=1.0).contains(&f) => {
                Err(format!("{name} = {f} must be between 0 and 1"))
            }
            _ => Ok(()),
        };
        let positive = |name: &str, v: f64| {
            if v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be positive"))
            }
        };
        match &claim.kind {
            ClaimKind::PreferredOrientation(c) => {
                c.sweep.validate()?;
                positive("tolerance_deg", c.tolerance_deg)?;
                fraction("min_fraction", c.min_fraction)?;
                match (&c.family, c.channel, c.expected_deg) {
                    (Some(f), None, None) => {
                        let (_, family) = self.family(f)?;
                        let ftap = family.tap().map_err(|e| e.to_string())?;
                        if let Some(t) = &c.tap
                            && self.tap(t)? != ftap
                        {
                            return Err(format!(
                                "tap `{t}` is not the family's tap {}",
                                family.tap
                            ));
                        }
                        if family.neurons.iter().all(|n| n.orientation_deg.is_none()) {
                            return Err(format!("family {f} gives no orientations"));
                        }
                    }
                    (None, Some(ch), Some(_)) => {
                        let tap = c.tap.as_deref().ok_or("a single channel needs `tap`")?;
                        self.check_channel(self.tap(tap)?, ch)?;
                        if c.min_fraction.is_some() {
                            return Err("min_fraction applies to a family".into());
                        }
                    }
                    _ => {
                        return Err(
                            "give either `family`, or `tap`, `channel` and `expected_deg`".into(),
                        );
                    }
                }
            }
            ClaimKind::Tiling(c) => {
                c.sweep.validate()?;
                positive("max_gap_deg", c.max_gap_deg)?;
                let (_, family) = self.family(&c.family)?;
                if family.neurons.len() < 2 {
                    return Err("tiling needs a family of at least 2 neurons".into());
                }
            }
            ClaimKind::Equivariance(c) => {
                c.sweep.validate()?;
                let (_, family) = self.family(&c.family)?;
                if family.neurons.iter().any(|n| n.orientation_deg.is_none()) {
                    return Err(format!(
                        "family {} must give every neuron an orientation",
                        c.family
                    ));
                }
                match c.mode {
                    EquivarianceMode::PeakShift => {
                        let m = c
                            .max_error_deg
                            .ok_or("mode `peak_shift` needs `max_error_deg`")?;
                        positive("max_error_deg", m)?;
                        if c.min_r.is_some() || c.partner_tolerance_deg.is_some() {
                            return Err("min_r and partner_tolerance_deg belong to mode `rot90_permutation`".into());
                        }
                    }
                    EquivarianceMode::Rot90Permutation => {
                        let r = c.min_r.ok_or("mode `rot90_permutation` needs `min_r`")?;
                        if !(-1.0..=1.0).contains(&r) {
                            return Err(format!("min_r = {r} must be between -1 and 1"));
                        }
                        let k = 90.0 / c.sweep.orientation_step_deg;
                        if (k - k.round()).abs() > 1e-9 {
                            return Err(format!(
                                "orientation_step_deg = {} must divide 90° for a 90° rotation",
                                c.sweep.orientation_step_deg
                            ));
                        }
                        if c.max_error_deg.is_some() {
                            return Err("max_error_deg belongs to mode `peak_shift`".into());
                        }
                    }
                }
            }
            ClaimKind::CircuitCorrelation(c) => {
                c.sweep.validate()?;
                if !(-1.0..=1.0).contains(&c.min_r) {
                    return Err(format!("min_r = {} must be between -1 and 1", c.min_r));
                }
                let family = self.validate_circuit(c.circuit.as_ref().expect("parsed"))?;
                if let Some(ch) = c.channel
                    && !family.channels().contains(&ch)
                {
                    return Err(format!("channel {ch} is not in the family"));
                }
                if c.calibration_images == 0 {
                    return Err("calibration_images must be positive".into());
                }
            }
            ClaimKind::AblationEffect(c) => {
                match (&c.family, &c.tap, &c.channels) {
                    (Some(f), None, None) => {
                        self.family(f)?;
                    }
                    (None, Some(t), Some(chs)) => {
                        let tap = self.tap(t)?;
                        if chs.is_empty() {
                            return Err("`channels` is empty".into());
                        }
                        for ch in chs {
                            self.check_channel(tap, *ch)?;
                        }
                    }
                    _ => return Err("give either `family`, or `tap` and `channels`".into()),
                }
                if c.min_change.is_none() && c.max_change.is_none() {
                    return Err("give `min_change` and/or `max_change`".into());
                }
                check_metric(c.metric)?;
                check_level(c.level)?;
                if c.means.is_some() && c.ablation != AblationKind::Mean {
                    return Err("`means` applies to a mean-ablation".into());
                }
            }
            ClaimKind::FractionRecovered(c) => {
                self.validate_circuit(c.circuit.as_ref().expect("parsed"))?;
                check_metric(c.metric)?;
                check_level(c.level)?;
                if c.resamples < aann_stats::MIN_RESAMPLES {
                    return Err(format!(
                        "resamples must be at least {}",
                        aann_stats::MIN_RESAMPLES
                    ));
                }
            }
            ClaimKind::WeightMotif(c) => {
                let (_, from) = self.family(&c.from)?;
                let (_, to) = self.family(&c.to)?;
                let (from_tap, to_tap) = (
                    from.tap().map_err(|e| e.to_string())?,
                    to.tap().map_err(|e| e.to_string())?,
                );
                expansion_block(from_tap, to_tap, self.model)?;
                for (name, v) in [
                    ("aligned_within_deg", c.aligned_within_deg),
                    ("opposite_within_deg", c.opposite_within_deg),
                ] {
                    if let Some(v) = v
                        && !(v > 0.0 && v < 90.0)
                    {
                        return Err(format!("{name} = {v} must be between 0 and 90"));
                    }
                }
                fraction("min_fraction", c.min_fraction)?;
                let need = |field: &str, present: bool| {
                    if present {
                        Ok(())
                    } else {
                        Err(format!(
                            "measure `{}` needs `{field}`",
                            serde_json::to_value(c.measure)
                                .ok()
                                .and_then(|v| v.as_str().map(String::from))
                                .unwrap_or_default()
                        ))
                    }
                };
                match c.measure {
                    MotifMeasure::AlignedVsOpposite
                    | MotifMeasure::OppositeInhibits
                    | MotifMeasure::PairSigns => need("min_fraction", c.min_fraction.is_some())?,
                    MotifMeasure::Tangent => need("max_deg", c.max_deg.is_some())?,
                    MotifMeasure::Falloff => need("min_r", c.min_r.is_some())?,
                }
                if c.measure == MotifMeasure::PairSigns {
                    if c.excite.is_empty() && c.inhibit.is_empty() {
                        return Err(
                            "measure `pair_signs` needs `excite` and/or `inhibit` pairs".into()
                        );
                    }
                    for [u, t] in c.excite.iter().chain(&c.inhibit) {
                        self.check_channel(from_tap, *u)?;
                        self.check_channel(to_tap, *t)?;
                    }
                } else if !c.excite.is_empty() || !c.inhibit.is_empty() {
                    return Err("`excite` and `inhibit` belong to measure `pair_signs`".into());
                }
                if c.measure != MotifMeasure::PairSigns
                    && (from.neurons.iter().any(|n| n.orientation_deg.is_none())
                        || to.neurons.iter().any(|n| n.orientation_deg.is_none()))
                {
                    return Err("both families must give every neuron an orientation".into());
                }
            }
        }
        Ok(())
    }

    fn validate_circuit(&self, c: &CircuitFields) -> Result<Family, String> {
        let (_, family) = self.family(&c.family)?;
        if family.neurons.iter().any(|n| n.orientation_deg.is_none()) {
            return Err(format!(
                "family {} must give every neuron an orientation (circuit units are mapped by orientation)",
                c.family
            ));
        }
        if c.circuit == CircuitKind::Upstream {
            let (early, lines) = self.upstream_families(c);
            self.family(&early)?;
            self.family(&lines)?;
        } else if c.early_curves.is_some() || c.lines.is_some() {
            return Err("`early_curves` and `lines` belong to the `upstream` circuit".into());
        }
        if let Some(spec) = &c.spec {
            let path = self.repository.join(spec);
            if !path.is_file() {
                return Err(format!("circuit spec {} not found", path.display()));
            }
        }
        Ok(family)
    }

    /// The upstream circuit's family files.
    pub fn upstream_families(&self, c: &CircuitFields) -> (String, String) {
        let dir = format!("circuits/families/{}", self.model);
        (
            c.early_curves
                .clone()
                .unwrap_or_else(|| format!("{dir}/early-curves-3a.toml")),
            c.lines
                .clone()
                .unwrap_or_else(|| format!("{dir}/lines-3a.toml")),
        )
    }
}

fn check_metric(metric: Metric) -> Result<(), String> {
    if metric == Metric::KlFromBaseline {
        return Err("metric must be cross_entropy, top1_accuracy or top5_accuracy".into());
    }
    Ok(())
}

fn check_level(level: f64) -> Result<(), String> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(format!("level = {level} must be between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<HypothesisFile, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(&path, text).unwrap();
        HypothesisFile::load(&path).map_err(|e| e.to_string())
    }

    const CLAIM: &str = r#"
[[claim]]
name = "a"
kind = "preferred_orientation"
tags = ["cheap"]
tap = "mixed3b"
channel = 379
expected_deg = 243
tolerance_deg = 15
"#;

    #[test]
    fn sweeps_take_the_file_defaults_unless_they_set_their_own() {
        let file = load(&format!(
            "model = \"lucid\"\n[defaults]\norientation_step_deg = 15\ncurve_radii = [20, 40]\n{CLAIM}{}",
            CLAIM
                .replace("name = \"a\"", "name = \"b\"")
                .replace("tolerance_deg = 15", "tolerance_deg = 15\norientation_step_deg = 5\nvalues = [30]")
        ))
        .unwrap();
        let sweep = |i: usize| match &file.claims[i].kind {
            ClaimKind::PreferredOrientation(c) => c.sweep.spec(),
            _ => unreachable!(),
        };
        assert_eq!(sweep(0).orientations.len(), 24);
        assert_eq!(sweep(0).values, vec![20.0, 40.0]);
        assert_eq!(sweep(1).orientations.len(), 72);
        assert_eq!(sweep(1).values, vec![30.0]);
        assert_eq!(file.claims[0].tags, vec!["cheap".to_string()]);
        assert!(!file.requires.trained_weights);
    }

    #[test]
    fn sweep_steps_must_divide_the_circle() {
        let err = load(&format!(
            "model = \"lucid\"\n{}",
            CLAIM.replace(
                "tolerance_deg = 15",
                "tolerance_deg = 15\norientation_step_deg = 7"
            )
        ))
        .unwrap_err();
        assert!(
            err.contains("claim `a`") && err.contains("orientation_step_deg = 7"),
            "{err}"
        );
        let err = load(&format!(
            "model = \"lucid\"\n{}",
            CLAIM.replace("tags = [\"cheap\"]", "tags = \"cheap\"")
        ))
        .unwrap_err();
        assert!(err.contains("`tags` must be a list of strings"), "{err}");
    }
}
