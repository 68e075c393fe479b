//! Experiment specs: a TOML file naming the model, the image sets and their roles, the
//! target family, and the conditions; any value can be overridden from the command line.
//!
//! Paths: image sets and weights are relative to the data root (`AANN_DATA`) unless
//! absolute; family files are relative to the repository (the folder holding `circuits/`,
//! found from the working directory or above the spec file).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::circuits::{CIRCUIT_COMMON_KEYS, CircuitChoice, CircuitRegistry};

/// An image set and its labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSetSpec {
    /// A flat folder (labels from `labels` or a `val.txt` beside it), one folder per
    /// synset, or a list file.
    pub images: String,
    #[serde(default)]
    pub labels: Option<String>,
    /// Skip the first N images in key order (e.g. those a circuit was developed on).
    #[serde(default)]
    pub skip: usize,
    /// Then use only the first N images (0: all).
    #[serde(default)]
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreprocessSpec {
    /// Rescale the shorter side to this many pixels (0: keep).
    pub shorter_side: u32,
    /// Centre crop to this square size (0: none).
    pub crop: u32,
}

impl Default for PreprocessSpec {
    fn default() -> Self {
        PreprocessSpec {
            shorter_side: 256,
            crop: 224,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// The family file of the neurons to ablate and replace.
    pub family: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AblationSpec {
    #[serde(default = "yes")]
    pub zero: bool,
    /// Channel means over the tune split, spatially uniform.
    #[serde(default = "yes")]
    pub mean: bool,
    /// Channels taken from donor images of the tune split.
    #[serde(default)]
    pub resample: bool,
}

fn yes() -> bool {
    true
}

impl Default for AblationSpec {
    fn default() -> Self {
        AblationSpec {
            zero: true,
            mean: true,
            resample: false,
        }
    }
}

/// Scope of a circuit's output calibration: one gain and bias for the whole family, or one
/// pair per neuron.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationScope {
    #[default]
    Family,
    Neuron,
}

impl CalibrationScope {
    pub fn per_neuron(self) -> bool {
        self == CalibrationScope::Neuron
    }
}

/// A circuit condition: `kind` and its own keys (`colour` and `stage` for `pixels`; `early_curves` and
/// `lines` for `upstream`; a user's kind, its own), plus `name`, `calibration`, `fit` and
/// `spec`. Parsing keeps the kind's keys as they are; a [`CircuitRegistry`] checks them
/// ([`ExperimentSpec::load_with`], and every run before it builds anything): any other key
/// is an error that lists the valid ones, so a typo never silently falls back to a default.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CircuitSpec {
    /// Condition name (default: the circuit's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub choice: CircuitChoice,
    /// `family` (one fitted gain and bias) or `neuron` (one pair per neuron).
    pub calibration: CalibrationScope,
    /// How the gain and bias are fitted: `least-squares` (default) or `moments` (the
    /// output's mean and standard deviation match the natural neuron's).
    pub fit: aann_circuits::CalibrationFit,
    /// Hand-set numbers overriding the shipped ones (a TOML file, see `aann circuits spec`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CircuitCommon {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    calibration: CalibrationScope,
    #[serde(default)]
    fit: aann_circuits::CalibrationFit,
    #[serde(default)]
    spec: Option<String>,
}

impl<'de> Deserialize<'de> for CircuitSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        let kind = match table.get("kind") {
            Some(toml::Value::String(k)) => k.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "a [[circuits]] table's `kind` must be a string (e.g. `pixels` or `upstream`), not {other}"
                )));
            }
            None => {
                return Err(D::Error::custom(
                    "a [[circuits]] table needs a `kind` (e.g. `kind = \"pixels\"` or `kind = \"upstream\"`)",
                ));
            }
        };
        let mut common = toml::Table::new();
        for key in &CIRCUIT_COMMON_KEYS[1..] {
            if let Some(v) = table.remove(*key) {
                common.insert(key.to_string(), v);
            }
        }
        let common: CircuitCommon = common.try_into().map_err(D::Error::custom)?;
        table.remove("kind");
        let choice = CircuitChoice::new(kind, table);
        Ok(CircuitSpec {
            name: common.name,
            choice,
            calibration: common.calibration,
            fit: common.fit,
            spec: common.spec,
        })
    }
}

impl CircuitSpec {
    /// Its arm's name: `replace-<name>`, or `replace-<the circuit's label>` (e.g.
    /// `replace-curves-from-pixels`; a user's kind is its own label unless it gives one).
    pub fn condition_name(&self, circuits: &CircuitRegistry) -> String {
        format!("replace-{}", self.label(circuits))
    }

    /// Its `name`, or the circuit's label.
    pub fn label(&self, circuits: &CircuitRegistry) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| circuits.label(&self.choice))
    }

    /// The same condition with its circuit checked against `circuits` and its keys
    /// normalised; errors name the table.
    pub fn checked(&self, circuits: &CircuitRegistry) -> Result<CircuitSpec, EvalError> {
        Ok(CircuitSpec {
            choice: circuits.check(&self.choice)?,
            ..self.clone()
        })
    }
}

/// Random-channel null sets: zero-ablations of random channel sets of the family's size at
/// the same tap (excluding the family), to see where the family's effect falls among them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NullSpec {
    pub sets: usize,
    #[serde(default)]
    pub seed: u64,
    /// Evaluate the null sets on the first N test images (0: all).
    #[serde(default)]
    pub images: usize,
    /// Match every set to the family in activation magnitude (mean activation on the tune
    /// split): each family channel is paired with a channel drawn from the `pool` other
    /// channels nearest to it in magnitude. Unmatched sets draw from every other channel.
    #[serde(default)]
    pub matched: bool,
    /// Size of each family channel's pool of magnitude-matched candidates.
    #[serde(default = "default_pool")]
    pub pool: usize,
}

fn default_pool() -> usize {
    10
}

/// Controls of every circuit: the arms a circuit must beat to show that its structure
/// matters (see `crate::lab::controls`). Each is calibrated on the same tune images with
/// the same fit as the circuit it controls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlsSpec {
    /// The circuit's units assigned to the neurons by a random permutation (seed: the
    /// statistics seed).
    #[serde(default)]
    pub shuffled: bool,
    /// Each neuron given the unit of its orientation turned by these angles (degrees).
    #[serde(default)]
    pub rotations: Vec<i64>,
    /// How the shuffled and rotated controls are calibrated, each reported for every
    /// circuit: `frozen` (the circuit's own gain and bias: only the mapping differs) and
    /// `refit` (one positive gain and bias per neuron, moment-matched to the neuron).
    #[serde(default = "both_fits")]
    pub fits: Vec<crate::lab::ControlFit>,
    /// Relay from this tap: every neuron replaced by the one channel of it that best
    /// predicts the neuron at its own position on the tune split (e.g.
    /// `inception_3a_output`, what the upstream circuit reads).
    #[serde(default)]
    pub relay: Option<String>,
    /// How the relay's gain and bias are fitted (like the circuits: moments by default).
    #[serde(default = "moments")]
    pub relay_fit: aann_circuits::CalibrationFit,
    /// The fitted upper bound: a 3×3 linear readout of this tap, ridge-fitted to every
    /// neuron on the calibration images of the tune split plus the dev split (e.g.
    /// `inception_3a_output`, what the upstream circuit reads).
    #[serde(default)]
    pub readout: Option<String>,
    /// The readout's ridge, relative to the mean diagonal of its normal equations.
    #[serde(default = "default_ridge")]
    pub readout_ridge: f64,
    /// The bound of circuits built from pixels: a linear readout of the image itself,
    /// average-pooled, over a window about as wide as the neurons' receptive field, fitted
    /// like `readout` (same images, same ridge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixel_readout: Option<PixelReadoutSpec>,
    /// Bounds of circuits built from pixels that see one fixed nonlinearity first: a linear
    /// readout of a layer below the circuit's first (e.g. BVLC's rectified first filters,
    /// `conv1_7x7_s2`), average-pooled in blocks, over the same window as `pixel_readout`,
    /// fitted like `readout`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub window_readouts: Vec<WindowReadoutSpec>,
}

/// A readout of a layer below the target over a window of pixels around each unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowReadoutSpec {
    /// The layer read (a tap name of the spec's model, finer than the target).
    pub tap: String,
    /// Width of the pooled blocks, in pixels (a whole number of the tap's units).
    pub block: usize,
    /// Width of the window around each unit, in pixels (rounded to whole blocks).
    #[serde(default = "default_pixel_window")]
    pub pixels: usize,
}

/// The pixel readout's window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelReadoutSpec {
    /// The image is average-pooled over `pool × pool` pixel blocks first.
    #[serde(default = "default_pixel_pool")]
    pub pool: usize,
    /// Width of the window around each unit, in pixels (rounded to whole pooled blocks).
    #[serde(default = "default_pixel_window")]
    pub pixels: usize,
}

fn default_pixel_pool() -> usize {
    4
}

fn default_pixel_window() -> usize {
    100
}

fn default_ridge() -> f64 {
    1e-3
}

fn both_fits() -> Vec<crate::lab::ControlFit> {
    crate::lab::ControlFit::BOTH.to_vec()
}

fn moments() -> aann_circuits::CalibrationFit {
    aann_circuits::CalibrationFit::Moments
}

/// The replacement null: shuffles of a circuit's unit mapping, each calibrated like the
/// circuit, evaluated on the first `images` test images; where does the real mapping fall?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingNullSpec {
    pub shuffles: usize,
    /// The circuit arm whose mapping is shuffled (default: the first circuit).
    #[serde(default)]
    pub of: Option<String>,
    #[serde(default)]
    pub seed: u64,
    /// Evaluate on the first N test images (0: all).
    #[serde(default)]
    pub images: usize,
    /// Each draw is a derangement driven through the circuit's own calibration (frozen);
    /// with `refit`, the same draws refitted like the refit controls run beside them.
    #[serde(default = "yes")]
    pub refit: bool,
}

/// How results are resampled and judged (every key may be left out:
/// [`StatisticsSpec::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatisticsSpec {
    pub resamples: usize,
    pub seed: u64,
    pub level: f64,
    /// The equivalence margin: a circuit is "equivalent to the natural network" in a metric
    /// when a two-one-sided test puts its mean difference from the baseline within this
    /// fraction of the zero-ablation's difference (0.2: within a fifth of the gap).
    pub equivalence_margin: f64,
}

/// Bootstrap resamples when a spec (or a claim) does not say.
pub(crate) fn default_resamples() -> usize {
    2000
}

/// Confidence level when a spec (or a claim) does not say.
pub(crate) fn default_level() -> f64 {
    0.95
}

impl Default for StatisticsSpec {
    fn default() -> Self {
        StatisticsSpec {
            resamples: default_resamples(),
            seed: 0,
            level: default_level(),
            equivalence_margin: 0.2,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Results folder (relative to the working directory).
    pub out: String,
    /// Tune images used to calibrate circuits and compute statistics (0: all).
    #[serde(default)]
    pub calibration_images: usize,
    /// How many most-divergent images the report shows per circuit.
    #[serde(default = "default_divergent")]
    pub divergent_images: usize,
    /// Orientations of the curve sweep that compares tuning maps (evenly spaced).
    #[serde(default = "default_tuning_orientations")]
    pub tuning_orientations: usize,
    /// Radii (px) of that sweep (default: 12 to 400 px, nine of them).
    #[serde(default)]
    pub tuning_radii: Option<Vec<f64>>,
    /// Test images (the first N) on which every replacement's units are compared with the
    /// natural neurons, position by position (r and R²); 0: none.
    #[serde(default = "default_faithfulness_images")]
    pub faithfulness_images: usize,
    /// Arms whose suffixes run stacked in one batch (speed only: the records do not
    /// depend on it; see BENCHMARKS.md).
    #[serde(default = "default_arms_per_pass")]
    pub arms_per_pass: usize,
}

fn default_arms_per_pass() -> usize {
    1
}

fn default_faithfulness_images() -> usize {
    100
}

fn default_tuning_orientations() -> usize {
    36
}

fn default_batch() -> usize {
    16
}

fn default_divergent() -> usize {
    12
}

/// The three image splits of an experiment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Channel means, circuit calibration, normalisers: what is fitted.
    Tune,
    /// Where a person or a sweep makes choices (settings, which circuit is the headline).
    Dev,
    /// The headline, read once by a frozen spec.
    #[default]
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Tune => "tune",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tune" => Ok(Split::Tune),
            "dev" => Ok(Split::Dev),
            "test" => Ok(Split::Test),
            other => Err(format!(
                "the split is `tune`, `dev` or `test`, not `{other}`"
            )),
        }
    }
}

/// A replacement experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub model: aann_model::Variant,
    /// Weights (default: the model's usual location under the data root).
    #[serde(default)]
    pub weights: Option<String>,
    /// Where family selection, channel means and calibration are computed.
    pub tune: ImageSetSpec,
    /// Where the headline is measured: never the same images as `tune`.
    pub test: ImageSetSpec,
    /// Where choices are made (circuit settings, which circuit is the headline): disjoint
    /// from both; the experiment measures activation faithfulness there too.
    #[serde(default)]
    pub dev: Option<ImageSetSpec>,
    #[serde(default)]
    pub preprocess: PreprocessSpec,
    pub target: TargetSpec,
    #[serde(default)]
    pub ablations: AblationSpec,
    #[serde(default)]
    pub circuits: Vec<CircuitSpec>,
    #[serde(default)]
    pub controls: ControlsSpec,
    #[serde(default)]
    pub null: Option<NullSpec>,
    #[serde(default)]
    pub mapping_null: Option<MappingNullSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<LineageSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ladder: Option<LadderSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_neurons: Option<SingleNeuronsSpec>,
    #[serde(default)]
    pub statistics: StatisticsSpec,
    pub run: RunSpec,
}

/// The lineage study, one level down: the family the target's circuits read (e.g. the
/// early curves of inception_3a under the curve detectors of inception_3b) zero-ablated
/// and replaced by its own hand-written circuit, alone, and together with the target
/// family: zero-ablated, and replaced by each circuit of `under`, which then reads the
/// artificial units instead of the natural ones. Arms: `<name>-zero-ablate`,
/// `<name>-<circuit>`, `<name>-and-target-zero-ablate` and `<name>-and-<under circuit>`;
/// fractions recovered are taken against the zero-ablation of the same families.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineageSpec {
    /// Names the arms (e.g. `early-curves-3a`).
    pub name: String,
    /// The lower family's file (relative to the repository).
    pub family: String,
    /// Its circuit, a `[[circuits]]` table (e.g. `{ kind = "pixels", stage =
    /// "early-curves", fit = "moments" }`), calibrated on the tune split like the others.
    pub circuit: CircuitSpec,
    /// Circuits of `[[circuits]]` (by name, e.g. `upstream-echo`) stacked on the lower
    /// circuit; each must read the lower family's tap.
    #[serde(default)]
    pub under: Vec<String>,
}

/// The ladder from pixels: families below the target, each taken out and rebuilt by its
/// own circuit, alone (against its zero- and mean-ablation and its circuit's shuffled and
/// rotated controls, refitted per neuron) and stacked from the bottom (against the
/// zero-ablation of the same families). Arms: `<level>-zero-ablate`, `<level>-mean-ablate`,
/// `<level>-<circuit>` and its controls, then `up-to-<level>-zero-ablate` and
/// `up-to-<level>-replace` for every stack of two levels or more, and, with `top`,
/// `up-to-target-…` with the target family replaced by that circuit too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderSpec {
    /// From the bottom up.
    pub levels: Vec<LevelSpec>,
    /// A circuit of `[[circuits]]` (by name) replacing the target family on top of the
    /// whole stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<String>,
    /// The rotated control's turn, degrees (none: no rotated control).
    #[serde(default = "default_ladder_rotation")]
    pub rotation: Option<i64>,
}

fn default_ladder_rotation() -> Option<i64> {
    Some(90)
}

/// Single-neuron cards: every neuron of the target family taken out alone — zero-ablated,
/// replaced by its own unit of each circuit named here (with that circuit's calibration),
/// and by the unit of its orientation turned by `rotation` (refitted per neuron). Arms:
/// `n<channel>-zero-ablate`, `n<channel>-<circuit arm>` and its `~rot<degrees>-refit`
/// control; fractions against the neuron's own zero-ablation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SingleNeuronsSpec {
    /// Circuits of `[[circuits]]`, by name.
    pub circuits: Vec<String>,
    /// The rotated control's turn, degrees.
    #[serde(default = "default_neuron_rotation")]
    pub rotation: i64,
}

fn default_neuron_rotation() -> i64 {
    90
}

/// One level of the ladder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    /// Names the level's arms (e.g. `lines-conv2`).
    pub name: String,
    /// The family file (relative to the repository).
    pub family: String,
    /// Its circuit, a `[[circuits]]` table, calibrated on the tune split like the others.
    pub circuit: CircuitSpec,
}

impl ExperimentSpec {
    /// The same experiment evaluated on its dev split instead of the test split: where
    /// settings are compared and chosen. The dev images take the test's place (the readout
    /// bound is then fitted on tune only), and the results go to `<run.out>-dev`, so a
    /// dev run never mixes with the test run's records.
    pub fn on_dev(&self) -> Result<ExperimentSpec, EvalError> {
        let dev = self.dev.clone().ok_or_else(|| {
            EvalError::Spec(format!(
                "experiment `{}` has no [dev] split to evaluate on",
                self.name
            ))
        })?;
        let mut spec = self.clone();
        spec.test = dev;
        spec.dev = None;
        spec.run.out = format!("{}-dev", self.run.out.trim_end_matches('/'));
        Ok(spec)
    }

    /// Read a spec, applying `key=value` overrides (dotted keys, TOML values; a value that
    /// does not parse as TOML is taken as a string), e.g. `test.images=/data/val`,
    /// `test.limit=1000`, `run.out=results/x`.
    /// Circuits are checked against the shipped ones ([`ExperimentSpec::load_with`] for a
    /// registry of one's own).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        Self::load_with(path, overrides, &CircuitRegistry::shipped())
    }

    /// [`ExperimentSpec::load`] with the circuits a registry knows: every `[[circuits]]`
    /// table and the lineage's circuit checked and normalised against it.
    pub fn load_with(
        path: &Path,
        overrides: &[String],
        circuits: &CircuitRegistry,
    ) -> Result<Self, EvalError> {
        let spec = Self::parse(path, overrides)?;
        spec.checked(circuits)
            .map_err(|e| EvalError::Spec(format!("{}: {e}", path.display())))
    }

    /// Every circuit checked against `circuits` and normalised (its keys as the kind
    /// writes them, defaults filled in).
    pub fn checked(&self, circuits: &CircuitRegistry) -> Result<Self, EvalError> {
        let mut spec = self.clone();
        for c in &mut spec.circuits {
            *c = c.checked(circuits)?;
        }
        if let Some(l) = &mut spec.lineage {
            l.circuit = l.circuit.checked(circuits)?;
        }
        for level in spec.ladder.iter_mut().flat_map(|l| &mut l.levels) {
            level.circuit = level.circuit.checked(circuits)?;
        }
        Ok(spec)
    }

    fn parse(path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        let mut value: toml::Value = toml::from_str(&text)
            .map_err(|e| EvalError::Spec(format!("{}: {e}", path.display())))?;
        for o in overrides {
            apply_override(&mut value, o)?;
        }
        value
            .try_into()
            .map_err(|e: toml::de::Error| EvalError::Spec(format!("{}: {e}", path.display())))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("specs serialise")
    }
}

/// Set `a.b.c=value` in a TOML document.
pub fn apply_override(doc: &mut toml::Value, assignment: &str) -> Result<(), EvalError> {
    let (key, raw) = assignment.split_once('=').ok_or_else(|| {
        EvalError::Spec(format!(
            "override `{assignment}` must look like key.path=value"
        ))
    })?;
    let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = key.trim().split('.').collect();
    let mut node = doc;
    for (i, part) in parts.iter().enumerate() {
        let table = node.as_table_mut().ok_or_else(|| {
            EvalError::Spec(format!(
                "override `{key}`: `{}` is not a table",
                parts[..i].join(".")
            ))
        })?;
        if i + 1 == parts.len() {
            table.insert(part.to_string(), value);
            return Ok(());
        }
        node = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    Ok(())
}

/// The repository root: the working directory, else the nearest ancestor of `spec_path`,
/// else the nearest ancestor of the working directory, that holds `circuits/families`.
pub fn repository_root(spec_path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if cwd.join("circuits/families").is_dir() {
        return cwd;
    }
    let nearest = |start: &Path| {
        start
            .ancestors()
            .find(|d| d.join("circuits/families").is_dir())
            .map(Path::to_path_buf)
    };
    spec_path
        .parent()
        .and_then(nearest)
        .or_else(|| nearest(&cwd))
        .unwrap_or(cwd)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
name = "t"
model = "bvlc"
[tune]
images = "imagenet-val/images"
limit = 100
[test]
images = "imagenet-sample"
[target]
family = "circuits/families/bvlc/curves-3b.toml"
[[circuits]]
kind = "pixels"
colour = true
[[circuits]]
kind = "upstream"
early_curves = "a.toml"
lines = "b.toml"
calibration = "neuron"
[run]
out = "results/t"
"#;

    #[test]
    fn statistics_keys_left_out_take_the_defaults_and_unknown_ones_are_refused() {
        let s: StatisticsSpec = toml::from_str("seed = 3").unwrap();
        assert_eq!((s.resamples, s.seed, s.level), (2000, 3, 0.95));
        assert_eq!(s.equivalence_margin, 0.2);
        assert_eq!(
            toml::from_str::<StatisticsSpec>("").unwrap(),
            StatisticsSpec::default()
        );
        let err = toml::from_str::<StatisticsSpec>("levle = 0.9").unwrap_err();
        assert!(err.message().contains("unknown field `levle`"), "{err}");
    }

    #[test]
    fn specs_parse_and_overrides_apply() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, SPEC).unwrap();
        let spec = ExperimentSpec::load(
            &path,
            &[
                "test.images=/data/val".into(),
                "test.limit=1000".into(),
                "run.out=elsewhere".into(),
                "null.sets=5".into(),
            ],
        )
        .unwrap();
        assert_eq!(spec.test.images, "/data/val");
        assert_eq!(spec.test.limit, 1000);
        assert_eq!(spec.run.out, "elsewhere");
        assert_eq!(spec.null.as_ref().unwrap().sets, 5);
        assert_eq!(
            spec.circuits[0].choice,
            CircuitChoice::new("pixels", toml::toml! { colour = true })
        );
        assert_eq!(spec.circuits[1].calibration, CalibrationScope::Neuron);
        assert_eq!(
            spec.circuits[0].condition_name(&CircuitRegistry::shipped()),
            "replace-curves-from-pixels-colour"
        );
        // Round trip through TOML.
        let again: ExperimentSpec = toml::from_str(&spec.to_toml()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn a_dev_run_evaluates_the_dev_split_in_its_own_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, SPEC).unwrap();
        let spec = ExperimentSpec::load(&path, &[]).unwrap();
        let err = spec.on_dev().unwrap_err().to_string();
        assert!(err.contains("no [dev] split"), "{err}");
        let spec = ExperimentSpec::load(
            &path,
            &[
                "dev.images=imagenet-val/images".into(),
                "dev.skip=300".into(),
            ],
        )
        .unwrap();
        let dev = spec.on_dev().unwrap();
        assert_eq!(dev.test.images, "imagenet-val/images");
        assert_eq!(dev.test.skip, 300);
        assert_eq!(dev.dev, None);
        assert_eq!(dev.run.out, "results/t-dev");
        assert_eq!(dev.tune, spec.tune);
        assert_eq!(dev.circuits, spec.circuits);
        assert_eq!("dev".parse::<Split>().unwrap(), Split::Dev);
        assert!("devv".parse::<Split>().unwrap_err().contains("`devv`"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, SPEC.replace("limit = 100", "limt = 100")).unwrap();
        let err = ExperimentSpec::load(&path, &[]).unwrap_err().to_string();
        assert!(err.contains("limt"), "{err}");
        let err = ExperimentSpec::load(&path, &["novalue".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("novalue"), "{err}");
    }

    /// A typo inside `[[circuits]]` is refused with the valid keys, for every kind and for
    /// the shared keys; so is a misspelt value.
    #[test]
    fn typos_in_circuit_tables_are_errors_naming_the_valid_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        for (from, to, expect) in [
            ("colour = true", "color = true", "unknown key `color`"),
            (
                "lines = \"b.toml\"",
                "line = \"b.toml\"",
                "unknown key `line`",
            ),
            (
                "calibration = \"neuron\"",
                "calibraton = \"neuron\"",
                "unknown key `calibraton`",
            ),
            (
                "calibration = \"neuron\"",
                "specs = \"x.toml\"",
                "unknown key `specs`",
            ),
            (
                "calibration = \"neuron\"",
                "calibration = \"neurons\"",
                "neurons",
            ),
            ("calibration = \"neuron\"", "fit = \"moment\"", "moment"),
            (
                "kind = \"pixels\"",
                "kind = \"pixel\"",
                "unknown circuit kind `pixel`",
            ),
        ] {
            assert!(SPEC.contains(from), "{from}");
            std::fs::write(&path, SPEC.replace(from, to)).unwrap();
            let err = ExperimentSpec::load(&path, &[]).unwrap_err().to_string();
            assert!(err.contains(expect), "{to}: {err}");
            if expect.starts_with("unknown key") {
                assert!(
                    err.contains("valid keys: kind, name, calibration, fit, spec"),
                    "{err}"
                );
            }
        }
    }
}
