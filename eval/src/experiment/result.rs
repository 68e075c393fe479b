//! What an experiment produces: `summary.json`, its schema documented in `docs/results.md`.
//! The report writers read these types and nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use aann_circuits::{Accounting, Calibration, UnitMapping};
use aann_stats::{FractionRecovered, Metric, NullComparison};

use crate::circuits::TuningComparison;
use crate::lab::faithfulness::Faithfulness;
use crate::lab::{ArmInfo, ControlFit, Provenance};
use crate::spec::{ExperimentSpec, Split};
use crate::summary::RunSummary;
use crate::verdicts::{ArmCalibration, Verdicts};

/// Where a set came from and how many images it has.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SetInfo {
    pub description: String,
    pub images: usize,
}

/// The family being replaced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FamilyInfo {
    pub path: String,
    pub name: String,
    pub tap: String,
    pub channels: Vec<usize>,
    pub orientations: Vec<Option<f64>>,
}

/// One fraction-recovered result, labelled.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FractionRow {
    pub condition: String,
    pub relative_to: String,
    pub metric: Metric,
    pub result: FractionRecovered,
}

/// The random-channel null.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NullResult {
    /// Whether the sets were matched to the family in activation magnitude.
    pub matched: bool,
    pub images: usize,
    /// Wall time of the null's suffix passes (prefix reuse: one prefix per image).
    #[serde(default)]
    pub seconds: f64,
    pub sets: Vec<Vec<usize>>,
    /// Mean increase in cross-entropy over the baseline, per null set.
    pub null_loss_increase: Vec<f64>,
    /// The family's own zero-ablation increase on the same images.
    pub family_loss_increase: f64,
    pub comparison: NullComparison,
}

/// The replacement null: where the real unit mapping falls among derangements of it, each
/// driven through the circuit's own calibration (frozen), and beside it the same draws
/// refitted (`refit`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MappingNullResult {
    /// The circuit arm whose mapping was shuffled.
    pub of: String,
    pub images: usize,
    /// The real mapping's mean cross-entropy on the same images.
    pub real_loss: f64,
    /// How the draws below were calibrated (none in results written before the two
    /// calibrations existed: the circuit's fit redone for each shuffle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<ControlFit>,
    #[serde(flatten)]
    pub draws: NullDraws,
    /// The same derangements, refitted per neuron with a positive gain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refit: Option<NullDraws>,
    pub seconds: f64,
}

/// The draws of a replacement null under one calibration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NullDraws {
    /// Mean cross-entropy of each shuffled mapping on the null's images.
    pub shuffled_loss: Vec<f64>,
    /// How many shuffles do as well (lower loss is better): the p-value, and the real
    /// mapping's percentile among the draws (its "sufficiency" against random circuits).
    pub comparison: NullComparison,
    /// How many different mean losses the draws gave (as many as draws, unless two
    /// draws collapse to the same output).
    #[serde(default)]
    pub distinct_losses: usize,
    /// Draws with at least one degenerate unit, and degenerate units over all draws.
    #[serde(default)]
    pub degenerate_draws: usize,
    #[serde(default)]
    pub degenerate_units: usize,
}

/// A circuit's description and its tuning against the natural neurons.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CircuitResult {
    pub condition: String,
    pub circuit: String,
    pub accounting: Accounting,
    pub calibration: Calibration,
    pub mapping: UnitMapping,
    pub tuning: Vec<TuningComparison>,
    pub median_tuning_r: f64,
}

/// The circuit standing in for the lineage's lower family.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LineageCircuit {
    /// The lower family's file.
    pub family: String,
    pub circuit: String,
    pub accounting: Accounting,
    pub calibration: Calibration,
    pub mapping: UnitMapping,
}

/// A level of the ladder: its family and the circuit standing in for it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LadderLevel {
    pub name: String,
    /// The family's file and tap.
    pub family: String,
    pub tap: String,
    /// The arm replacing it alone, and its zero-ablation alone.
    pub arm: String,
    pub zero_arm: String,
    pub circuit: String,
    pub accounting: Accounting,
    pub calibration: Calibration,
    pub mapping: UnitMapping,
}

/// The ladder from pixels (`[ladder]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LadderResult {
    pub levels: Vec<LadderLevel>,
    /// Every ladder arm against the ablation of the same families.
    pub fractions: Vec<FractionRow>,
    /// The replaced stack, bottom up (the lowest level alone first).
    pub stack: Vec<String>,
    /// Each stack against the one below it (`b` − `a`; the first against the baseline):
    /// what each level adds to the loss.
    pub steps: Vec<aann_stats::ConditionComparison>,
}

/// Single-neuron cards (`[single_neurons]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NeuronsResult {
    pub neurons: Vec<crate::lab::neurons::NeuronArms>,
    /// Each single-neuron arm against its neuron's zero-ablation.
    pub fractions: Vec<FractionRow>,
    /// Each single-neuron replacement (`b`) against its zero-ablation and its rotated
    /// control (`a`), image by image.
    pub comparisons: Vec<aann_stats::ConditionComparison>,
}

/// An image where a replacement and the natural network disagree.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DivergentImage {
    pub image: String,
    pub path: String,
    pub label: Option<usize>,
    pub label_name: Option<String>,
    pub kl: f64,
    /// Top-5 classes (name, probability) under the baseline, the zero-ablation and the
    /// replacement.
    pub top5: BTreeMap<String, Vec<(String, f64)>>,
}

/// Everything an experiment produced: `summary.json` (schema: `docs/results.md`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExperimentResult {
    pub name: String,
    pub description: String,
    pub model: String,
    pub weights: String,
    pub weights_sha256: String,
    /// Where every number came from: commit, spec hash, weights, image lists, seeds.
    pub provenance: Provenance,
    pub family: FamilyInfo,
    pub tune: SetInfo,
    /// The split `test` holds: the test split, or the dev split for a run that compares
    /// settings (`aann experiment --on dev`).
    #[serde(default)]
    pub evaluated_on: Split,
    pub test: SetInfo,
    /// Images of the test set that failed to decode (not counted).
    pub test_failures: Vec<String>,
    /// The arms, baseline first, each with its kind.
    pub conditions: Vec<ArmInfo>,
    pub summary: RunSummary,
    pub fractions: Vec<FractionRow>,
    /// The lineage study (`[lineage]`): each arm with replacements against the
    /// zero-ablation of the same families.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<FractionRow>,
    /// The lineage's lower circuit: its numbers, calibration and unit mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage_circuit: Option<LineageCircuit>,
    /// The ladder from pixels (`[ladder]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ladder: Option<LadderResult>,
    /// Single-neuron cards (`[single_neurons]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neurons: Option<NeuronsResult>,
    pub null: Option<NullResult>,
    /// Each circuit against its controls and the ablations: paired differences
    /// (`b` − `a`, `b` the circuit).
    pub versus_controls: Vec<aann_stats::ConditionComparison>,
    pub mapping_null: Option<MappingNullResult>,
    /// Every replacement's and control's calibration: its units and which degenerated.
    #[serde(default)]
    pub calibrations: Vec<ArmCalibration>,
    /// The verdicts: Holm-adjusted comparisons with the controls, equivalence to the
    /// natural network, per-unit structure tests, identical arms.
    #[serde(default)]
    pub verdicts: Verdicts,
    /// Every replacement's and control's units against the natural neurons (r, R²).
    pub faithfulness: Vec<Faithfulness>,
    pub circuits: Vec<CircuitResult>,
    pub divergent: BTreeMap<String, Vec<DivergentImage>>,
    /// Test images whose records were reused from an earlier (interrupted) run of the
    /// same experiment, and those evaluated by this one.
    pub images_resumed: usize,
    pub images_evaluated: usize,
    pub seconds: f64,
    /// Where the time went, stage by stage (absent in results written before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<super::clock::StageTime>,
    pub images_per_second: f64,
    /// Peak resident memory of the process over the run, MiB (Linux; absent elsewhere and
    /// in results written before it was recorded).
    #[serde(default)]
    pub peak_memory_mib: Option<f64>,
    pub headline: String,
    pub command: String,
    pub spec: ExperimentSpec,
}
