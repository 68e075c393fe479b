//! The replacement experiment end to end: ablate a neuron family, replace it with
//! hand-written circuits, and measure — with intervals — how much of the network's
//! performance each replacement recovers.
//!
//! Roles of the image sets: everything fitted or measured (channel means, circuit
//! calibration, upstream normalisers, σ scales) comes from the **tune** split; the
//! headline is measured on the **test** split, which must not share an image with it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use aann_circuits::{Accounting, Calibration, CircuitReplacement, UnitMapping};
use aann_data::{
    ClassOrder, ContentDigest, ImageSet, OpenOptions, Preprocess, Rescale, Resize, Synsets,
    Unlabelled, content_digest,
};
use aann_model::{ChannelSet, Family, Intervention, Tap};
use aann_stats::{
    Alternative, BootstrapConfig, BootstrapInterval, FractionRecovered, Metric, NullComparison,
    PairedBootstrap, empirical_p_value, matched_channel_sets, random_channel_sets,
};

use crate::EvalError;
use crate::circuits::CalibrationData;
use crate::circuits::{CircuitChoice, TuningComparison, compare_tuning, median};
use crate::evaluator::Evaluator;
use crate::lab::arm::into_conditions;
use crate::lab::controls::{derangements, fit_relay, shuffled_control};
use crate::lab::faithfulness::{self, Faithfulness};
use crate::lab::lineage::{UpperCircuit, lineage_arms};
use crate::lab::provenance::{ImageListInfo, file_sha256, git_commit};
use crate::lab::readout::{Window, fit_readout};
use crate::lab::{
    Ablation, Arm, ArmInfo, ArmKind, Control, ControlFit, FitSets, Provenance, Session,
    SessionConfig, WeightsChoice, build_replacement_with_data, remapped,
};
use crate::means::{describe_set, donor_pool};
use crate::metrics::ImageRecord;
use crate::records::{RunManifest, discard_run, for_each_record, merge_shards, read_failures};
use crate::run::{RunOptions, Shard, run_conditions};
use crate::setup::DataRoot;
use crate::spec::{ExperimentSpec, ImageSetSpec, Split, repository_root};
use crate::summary::{RecordTable, RunSummary, summarize_outcomes};
use crate::tuning::TuningSpec;
use crate::verdicts::{ArmCalibration, DegenerateUnit, VerdictInputs, Verdicts, judge};

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
    pub metric: String,
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
    pub images_per_second: f64,
    /// Peak resident memory of the process over the run, MiB (Linux; absent elsewhere and
    /// in results written before it was recorded).
    #[serde(default)]
    pub peak_memory_mib: Option<f64>,
    pub headline: String,
    pub command: String,
    pub spec: ExperimentSpec,
}

/// Options of a run that are not part of the experiment.
#[derive(Clone, Debug, Default)]
pub struct ExperimentOptions {
    /// The command line, recorded in the results.
    pub command: String,
    /// Discard the records of an earlier run in the results folder instead of refusing a
    /// different one.
    pub fresh: bool,
    /// The split the test's place is taken by: `Test` for the headline, `Dev` when settings
    /// are being compared (the spec given is then `ExperimentSpec::on_dev`'s).
    pub evaluated_on: Split,
    /// Evaluate one part of the test set (and of the nulls' images) and stop after writing
    /// the records: one job of a sharded run.
    pub shard: Option<Shard>,
    /// Results folders written by the jobs of a sharded run: their records are united in
    /// the results folder first (`merge_shards`), then the run completes there.
    pub merge: Vec<PathBuf>,
}

/// What a job of a sharded run did (it writes records only; no summary).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardReport {
    pub shard: Shard,
    pub out: PathBuf,
    /// Test images in this shard's part, those evaluated now and those already recorded.
    pub images: usize,
    pub images_evaluated: usize,
    pub images_resumed: usize,
    pub seconds: f64,
}

/// A run either completes (the summary and reports are written) or, as one shard of a
/// sharded run, writes its part's records.
#[derive(Clone, Debug)]
pub enum ExperimentOutcome {
    Complete(Box<ExperimentResult>),
    Shard(ShardReport),
}

pub(crate) fn open_set(
    root: &DataRoot,
    spec: &ImageSetSpec,
    synsets: &Synsets,
    role: &str,
) -> Result<ImageSet, EvalError> {
    let path = root.dir.join(&spec.images);
    let path = if Path::new(&spec.images).is_absolute() {
        PathBuf::from(&spec.images)
    } else {
        path
    };
    let labels = spec.labels.as_ref().map(|l| {
        if Path::new(l).is_absolute() {
            PathBuf::from(l)
        } else {
            root.dir.join(l)
        }
    });
    let set = ImageSet::open(
        &path,
        synsets,
        &OpenOptions {
            ground_truth: labels,
            unlabelled: Unlabelled::Reject,
        },
    )
    .map_err(|e| EvalError::Spec(format!("the {role} set {}: {e}", path.display())))?;
    let set = if spec.skip > 0 {
        set.skip(spec.skip)
    } else {
        set
    };
    let set = if spec.limit > 0 {
        set.limit(spec.limit)
    } else {
        set
    };
    if set.is_empty() {
        return Err(EvalError::Spec(format!(
            "the {role} set {} has no image left after skip = {} and limit = {}",
            path.display(),
            spec.skip,
            spec.limit
        )));
    }
    Ok(set)
}

/// Refuse two splits that share an image, by content (a copy under another name is
/// caught): the headline must be measured on images nothing was fitted to.
pub(crate) fn check_disjoint(
    first: (&str, &ImageSet),
    second: (&str, &ImageSet),
) -> Result<(ContentDigest, ContentDigest), EvalError> {
    let a = aann_data::split_digest(first.1)?;
    let b = aann_data::split_digest(second.1)?;
    aann_data::check_disjoint((first.0, &a), (second.0, &b))?;
    Ok((a, b))
}

pub(crate) fn preprocess_of(spec: &ExperimentSpec) -> Result<Preprocess, EvalError> {
    let mut p = spec.model.preprocess();
    p.resize = Resize {
        rescale: if spec.preprocess.shorter_side == 0 {
            Rescale::Keep
        } else {
            Rescale::ShorterSide(spec.preprocess.shorter_side)
        },
        centre_crop: (spec.preprocess.crop > 0)
            .then_some((spec.preprocess.crop, spec.preprocess.crop)),
    };
    p.resize.validate()?;
    Ok(p)
}

/// The tune images that calibration and statistics use: the first
/// `run.calibration_images` of the tune split (all of it for 0).
pub(crate) fn calibration_set_of(spec: &ExperimentSpec, tune: &ImageSet) -> ImageSet {
    if spec.run.calibration_images > 0 {
        tune.limit(spec.run.calibration_images)
    } else {
        tune.clone()
    }
}

/// The session an experiment spec asks for: its model and weights (relative to the data
/// root), on the device and with the cache the caller chose.
pub fn session_config(spec: &ExperimentSpec, mut base: SessionConfig) -> SessionConfig {
    base.variant = spec.model;
    base.weights = match &spec.weights {
        Some(w) => WeightsChoice::UnderDataRoot(w.clone()),
        None => WeightsChoice::Default,
    };
    base
}

/// Every file a spec reads besides images and weights, with its SHA-256.
fn spec_files(spec: &ExperimentSpec, repo: &Path) -> Result<BTreeMap<String, String>, EvalError> {
    let mut paths = vec![spec.target.family.clone()];
    for c in &spec.circuits {
        if let CircuitChoice::Upstream {
            early_curves,
            lines,
        } = &c.choice
        {
            paths.push(early_curves.clone());
            paths.push(lines.clone());
        }
        paths.extend(c.spec.clone());
    }
    if let Some(l) = &spec.lineage {
        paths.push(l.family.clone());
        paths.extend(l.circuit.spec.clone());
    }
    paths
        .into_iter()
        .map(|p| Ok((p.clone(), file_sha256(&repo.join(&p))?)))
        .collect()
}

/// Run an experiment: conditions on the test set (resumable), statistics, tuning maps,
/// divergent images; writes `summary.json`, `summary.md` and `report.html` into the
/// results folder and returns the result.
pub fn run_experiment(
    session: &Session,
    spec_path: &Path,
    spec: &ExperimentSpec,
    options: &ExperimentOptions,
) -> Result<ExperimentOutcome, EvalError> {
    let start = Instant::now();
    let repo = repository_root(spec_path);
    // The code's version as the run starts (edits made while it runs do not change it).
    let commit = git_commit(&repo);
    let variant = spec.model;
    if session.variant() != variant {
        return Err(EvalError::Spec(format!(
            "the session runs {} but the experiment's model is {variant}",
            session.variant()
        )));
    }
    let root = &session.root;
    let synsets = session.synsets()?;
    let order: ClassOrder = session.class_order()?;
    let tune = open_set(root, &spec.tune, &synsets, "tune")?;
    let test = open_set(root, &spec.test, &synsets, "test")?;
    let (tune_digest, test_digest) = check_disjoint(("tune", &tune), ("test", &test))?;
    let dev = match &spec.dev {
        Some(d) => {
            let dev = open_set(root, d, &synsets, "dev")?;
            let dev_digest = aann_data::split_digest(&dev)?;
            aann_data::check_disjoint(("tune", &tune_digest), ("dev", &dev_digest))?;
            aann_data::check_disjoint(("dev", &dev_digest), ("test", &test_digest))?;
            Some((dev, dev_digest))
        }
        None => None,
    };
    let preprocess = preprocess_of(spec)?;
    let family = session.family(&repo.join(&spec.target.family), "target.family")?;
    let tap = family.tap()?;
    let channels = ChannelSet::new(family.channels());
    if spec.run.tuning_orientations == 0 {
        return Err(EvalError::Spec(
            "run.tuning_orientations must be at least 1".into(),
        ));
    }
    let st = &spec.statistics;
    if st.level.is_nan() || st.level <= 0.5 || st.level >= 1.0 {
        return Err(EvalError::Spec(format!(
            "statistics.level = {}: expected a confidence level between 0.5 and 1 (e.g. 0.95)",
            st.level
        )));
    }
    if !st.equivalence_margin.is_finite() || st.equivalence_margin <= 0.0 {
        return Err(EvalError::Spec(format!(
            "statistics.equivalence_margin = {}: expected a positive fraction of the \
             zero-ablation's gap (e.g. 0.2)",
            st.equivalence_margin
        )));
    }

    let model = session.model();
    let calibration_set = calibration_set_of(spec, &tune);
    let calibration_digest = content_digest(&calibration_set)?;
    let batch = spec.run.batch_size;
    let stats = session.stats(&calibration_set, &preprocess, tap, batch)?;
    let files = spec_files(spec, &repo)?;

    // The arms.
    let mut arms = Vec::new();
    if spec.ablations.zero {
        arms.push(Arm::ablate(
            Ablation::Zero,
            tap,
            channels.clone(),
            Intervention::ZeroAblate,
        ));
    }
    if spec.ablations.mean {
        arms.push(Arm::ablate(
            Ablation::Mean,
            tap,
            channels.clone(),
            Intervention::MeanAblate(Arc::new(stats.uniform_means(session.weights_sha256()))),
        ));
    }
    if spec.ablations.resample {
        let pool = donor_pool(
            model,
            &calibration_set.limit(128),
            &preprocess,
            tap,
            spec.statistics.seed,
            batch,
        )?;
        arms.push(Arm::ablate(
            Ablation::Resample,
            tap,
            channels.clone(),
            Intervention::ResampleAblate(Arc::new(pool)),
        ));
    }
    let mut replacements = Vec::new();
    let mut calibration_data = HashMap::new();
    for c in &spec.circuits {
        let (replacement, data) = build_replacement_with_data(
            session,
            c,
            &family,
            &repo,
            FitSets::same(&calibration_set),
            &preprocess,
            batch,
        )?;
        arms.push(Arm::replace(c.condition_name(), tap, replacement.clone()));
        replacements.push((c.condition_name(), replacement));
        calibration_data.insert(c.condition_name(), data);
    }

    // Controls: the same units mapped wrongly (deranged, or turned within the rotation
    // group), each frozen through the circuit's calibration and refitted; and the relay of
    // the best single channel.
    let mut controls: Vec<(String, Arc<CircuitReplacement>)> = Vec::new();
    for (name, replacement) in &replacements {
        let data = &calibration_data[name];
        // The wrong mappings, each then calibrated every way the spec asks.
        let mut wrong: Vec<(Option<i64>, UnitMapping)> = Vec::new();
        if spec.controls.shuffled {
            wrong.push((
                None,
                shuffled_control(&replacement.mapping, spec.statistics.seed),
            ));
        }
        for degrees in &spec.controls.rotations {
            let mapping = UnitMapping::by_orientation_turned(
                &family,
                replacement.circuit.as_ref(),
                *degrees as f64,
            )
            .map_err(EvalError::Spec)?;
            wrong.push((Some(*degrees), mapping));
        }
        let wrong = spec.controls.fits.iter().flat_map(|&how| {
            wrong.iter().map(move |(turn, mapping)| {
                let fit = Some(how);
                let control = match turn {
                    None => Control::Shuffled {
                        seed: spec.statistics.seed,
                        fit,
                    },
                    Some(degrees) => Control::Rotated {
                        degrees: *degrees,
                        fit,
                    },
                };
                (control, mapping.clone(), how)
            })
        });
        for (control, mapping, how) in wrong {
            let r = remapped(replacement, mapping, data, how);
            let arm = Arm::control(control, Some(name.clone()), tap, r.clone());
            controls.push((arm.name().to_string(), r));
            arms.push(arm);
        }
    }
    let orientations: Vec<f64> = family
        .neurons
        .iter()
        .map(|n| n.orientation_deg.unwrap_or(f64::NAN))
        .collect();
    let mut by_channel: Vec<(usize, f64)> = channels
        .as_slice()
        .iter()
        .map(|c| {
            let o = family
                .neurons
                .iter()
                .position(|n| n.channel == *c)
                .map_or(f64::NAN, |i| orientations[i]);
            (*c, o)
        })
        .collect();
    by_channel.sort_by_key(|x| x.0);
    let family_channels: Vec<usize> = by_channel.iter().map(|x| x.0).collect();
    // A control with one unit per neuron (the relay, the readout): unit k stands in for the
    // k-th channel of the family.
    let identity_mapping = UnitMapping {
        channels: family_channels.clone(),
        units: (0..family_channels.len()).collect(),
        orientations: by_channel.iter().map(|x| x.1).collect(),
    };
    if let Some(relay_tap) = &spec.controls.relay {
        let relay_tap = Tap::parse(relay_tap, variant)
            .map_err(|e| EvalError::Spec(format!("controls.relay: {e}")))?;
        let relay = fit_relay(
            session,
            &calibration_set,
            &preprocess,
            relay_tap,
            tap,
            channels.as_slice(),
            batch,
        )?;
        let mapping = identity_mapping.clone();
        let data = CalibrationData::record(
            model,
            &relay,
            tap,
            &mapping.channels,
            &calibration_set,
            &preprocess,
            batch,
        )?;
        let calibration = data.calibrate(&mapping, false, spec.controls.relay_fit);
        let (arm, r) = family_control(
            Control::Relay {
                tap: relay_tap.name(variant),
            },
            Arc::new(relay),
            mapping,
            calibration,
            tap,
            model.device(),
        );
        controls.push((arm.name().to_string(), r));
        arms.push(arm);
    }
    // The fitted bounds: readouts of what the circuits read, fitted on tune + dev.
    let mut readouts: Vec<(Tap, Window, Option<String>)> = Vec::new();
    if let Some(readout_tap) = &spec.controls.readout {
        let readout_tap = Tap::parse(readout_tap, variant)
            .map_err(|e| EvalError::Spec(format!("controls.readout: {e}")))?;
        readouts.push((readout_tap, Window::NEIGHBOURHOOD, None));
    }
    if let Some(p) = &spec.controls.pixel_readout {
        let window = Window::over(variant, Tap::INPUT, tap, p.pool, p.pixels)
            .map_err(|e| EvalError::Spec(format!("controls.pixel_readout: {e}")))?;
        readouts.push((Tap::INPUT, window, Some(window.describe(p.pool))));
    }
    for (i, r) in spec.controls.window_readouts.iter().enumerate() {
        let at = format!("controls.window_readouts[{i}]");
        let readout_tap =
            Tap::parse(&r.tap, variant).map_err(|e| EvalError::Spec(format!("{at}: {e}")))?;
        let window = Window::over(variant, readout_tap, tap, r.block, r.pixels)
            .map_err(|e| EvalError::Spec(format!("{at}: {e}")))?;
        readouts.push((readout_tap, window, Some(window.describe(r.block))));
    }
    for (readout_tap, window, described) in readouts {
        let mut fit_sets = vec![&calibration_set];
        if let Some((d, _)) = &dev {
            fit_sets.push(d);
        }
        if session.progress {
            eprintln!(
                "fitting the linear readout of {} on {} images",
                readout_tap.name(variant),
                fit_sets.iter().map(|s| s.len()).sum::<usize>()
            );
        }
        let readout = fit_readout(
            session,
            &fit_sets,
            &preprocess,
            readout_tap,
            window,
            tap,
            &family_channels,
            spec.controls.readout_ridge,
            batch,
        )?;
        let mut calibration = Calibration::identity(family_channels.len());
        calibration.split = "none: the readout is fitted to the neurons directly".into();
        let (arm, r) = family_control(
            Control::Readout {
                tap: readout_tap.name(variant),
                window: described,
            },
            Arc::new(readout),
            identity_mapping.clone(),
            calibration,
            tap,
            model.device(),
        );
        controls.push((arm.name().to_string(), r));
        arms.push(arm);
    }

    // The lineage study one level down: its arms come last.
    let lineage = match &spec.lineage {
        Some(l) => {
            let upper: Vec<UpperCircuit<'_>> = spec
                .circuits
                .iter()
                .zip(&replacements)
                .map(|(c, (arm, replacement))| UpperCircuit {
                    name: c
                        .name
                        .clone()
                        .unwrap_or_else(|| c.choice.name().to_string()),
                    arm: arm.clone(),
                    replacement,
                })
                .collect();
            let built = lineage_arms(
                session,
                l,
                &repo,
                FitSets::same(&calibration_set),
                &preprocess,
                batch,
                tap,
                &channels,
                &upper,
            )?;
            arms.extend(built.arms.iter().cloned());
            Some(built)
        }
        None => None,
    };

    // Every calibrated arm's units, judged by one rule; degenerate ones said aloud.
    let calibrations: Vec<ArmCalibration> = replacements
        .iter()
        .chain(&controls)
        .map(|(arm, r)| arm_calibration(arm, r))
        .collect();
    for c in calibrations.iter().filter(|c| !c.degenerate.is_empty()) {
        eprintln!("warning: {}", describe_degenerate(c));
    }

    // The main run.
    let out = PathBuf::from(&spec.run.out);
    if options.fresh {
        discard_run(&out)?;
    }
    if !options.merge.is_empty() {
        let merged = merge_shards(&out, &options.merge)?;
        if session.progress {
            eprintln!(
                "merged {} shard folder(s) into {}: {} records ({} already there), {} undecodable image(s)",
                options.merge.len(),
                out.display(),
                merged.records,
                merged.duplicates,
                merged.failures
            );
        }
    }
    let (conditions, arm_info) = into_conditions(arms, variant);
    let evaluator = Evaluator::new(model, conditions)?.with_arms_per_pass(spec.run.arms_per_pass);
    let names: Vec<String> = evaluator.condition_names();
    let mut settings = serde_json::json!({
        "target": spec.target,
        "ablations": spec.ablations,
        "circuits": spec.circuits,
        "controls": spec.controls,
        "calibration_images_sha256": calibration_digest.list_sha256,
        "files": files,
        "resample_seed": spec.ablations.resample.then_some(spec.statistics.seed),
        "batch_size": batch,
        "evaluated_on": options.evaluated_on,
    });
    // Only when there is one, so that runs from before lineages existed still resume.
    if let Some(l) = &spec.lineage {
        settings["lineage"] = serde_json::json!(l);
    }
    let manifest = RunManifest::new(
        variant.name(),
        session.weights_sha256(),
        describe_set(&test),
        &test_digest,
        &preprocess,
        arm_info.clone(),
        settings,
    );
    let run_options = RunOptions {
        batch_size: batch,
        progress: session.progress,
        shard: options.shard,
        arms_per_pass: spec.run.arms_per_pass,
        ..Default::default()
    };
    if session.progress {
        eprintln!(
            "{} conditions × {} test images; shared prefix up to {}; results in {}",
            names.len(),
            test.len(),
            evaluator.checkpoint().name(variant),
            out.display()
        );
    }
    let stats_run = run_conditions(
        model,
        &evaluator,
        &test,
        &preprocess,
        &order,
        &manifest,
        &out,
        &run_options,
    )?;
    if session.progress && stats_run.images_resumed > 0 {
        eprintln!(
            "resumed: {} test image(s) already had every record in {}; {} evaluated now",
            stats_run.images_resumed,
            out.display(),
            stats_run.images_evaluated
        );
    }
    // The two nulls: sub-runs of their own (only their records, for a shard).
    let null_context = NullContext {
        session,
        tap,
        test: &test,
        preprocess: &preprocess,
        order: &order,
        out: &out,
        options: &run_options,
    };
    let run_nulls = |main: Option<&RecordTable>| -> Result<_, EvalError> {
        let null = match (&spec.null, spec.ablations.zero) {
            (Some(n), true) if n.sets > 0 => run_null(null_context, &family, &stats.mean, n, main)?,
            _ => None,
        };
        let mapping_null = match &spec.mapping_null {
            Some(m) if m.shuffles > 0 => {
                let (of, replacement) = mapping_null_of(m, &replacements)?;
                let data = &calibration_data[&of];
                run_mapping_null(null_context, &of, replacement, data, m, main)?
            }
            _ => None,
        };
        Ok((null, mapping_null))
    };
    if let Some(shard) = options.shard {
        // One job of a sharded run: the nulls' records of its part too, then stop.
        run_nulls(None)?;
        return Ok(ExperimentOutcome::Shard(ShardReport {
            shard,
            out: out.clone(),
            images: shard.of(&test, batch).len(),
            images_evaluated: stats_run.images_evaluated,
            images_resumed: stats_run.images_resumed,
            seconds: start.elapsed().as_secs_f64(),
        }));
    }
    let table = RecordTable::read(&out, &names)?;
    let failures = read_failures(&out)?;
    for f in &failures {
        eprintln!("skipped (cannot be decoded): {}: {}", f.path, f.reason);
    }
    // One set of outcome vectors for the summary, the fractions and the comparisons.
    let (summary, outcomes) = table
        .outcomes()
        .and_then(|(images, outcomes)| {
            let summary = summarize_outcomes(images.len(), &outcomes, spec.statistics.level)?;
            Ok((summary, outcomes))
        })
        .map_err(|e| {
            EvalError::Results(format!(
                "no image could be evaluated usefully ({e}); {} of {} test images failed to decode",
                failures.len(),
                test.len()
            ))
        })?;

    // Fractions recovered: every arm but the baseline against the zero and mean ablations;
    // ablations only against zero-ablation ("how much of the mean-ablation gap does
    // zero-ablation recover" is not a question anyone asks).
    let boot = PairedBootstrap::from_conditions(
        &outcomes,
        BootstrapConfig {
            resamples: spec.statistics.resamples,
            seed: spec.statistics.seed,
            level: spec.statistics.level,
            interval: BootstrapInterval::Bca,
        },
    )?;
    let references: Vec<&ArmInfo> = arm_info
        .iter()
        .filter(|a| matches!(a.kind.ablation(), Some(Ablation::Zero | Ablation::Mean)))
        .collect();
    let fraction_metrics = [
        Metric::CrossEntropy,
        Metric::KlFromBaseline,
        Metric::Top1Accuracy,
        Metric::Top5Accuracy,
    ];
    let mut fractions = Vec::new();
    // Lineage arms are measured against their own references, below.
    for arm in arm_info
        .iter()
        .filter(|a| !matches!(a.kind, ArmKind::Baseline | ArmKind::Lineage { .. }))
    {
        for reference in &references {
            let is_ablation = arm.kind.ablation().is_some();
            if arm.name == reference.name
                || (is_ablation && reference.kind.ablation() != Some(Ablation::Zero))
            {
                continue;
            }
            for metric in fraction_metrics {
                let result =
                    boot.fraction_recovered(metric, &arm.name, &reference.name, "baseline")?;
                fractions.push(FractionRow {
                    condition: arm.name.clone(),
                    relative_to: reference.name.clone(),
                    metric: metric.name().to_string(),
                    result,
                });
            }
        }
    }

    // The lineage: each arm with replacements against the zero-ablation of the same
    // families.
    let mut lineage_fractions = Vec::new();
    for (arm, reference) in lineage.iter().flat_map(|l| &l.pairs) {
        for metric in fraction_metrics {
            lineage_fractions.push(FractionRow {
                condition: arm.clone(),
                relative_to: reference.clone(),
                metric: metric.name().to_string(),
                result: boot.fraction_recovered(metric, arm, reference, "baseline")?,
            });
        }
    }

    // The random-channel null and the replacement null.
    let (null, mapping_null) = run_nulls(Some(&table))?;

    // Each circuit against each of its controls and the ablations, image by image: the
    // paired difference (circuit − control), not overlapping intervals, says whether the
    // circuit beats it.
    let by_name: HashMap<&str, &aann_stats::ConditionOutcomes> = names
        .iter()
        .map(String::as_str)
        .zip(outcomes.iter())
        .collect();
    let mut versus_controls = Vec::new();
    for circuit in arm_info.iter().filter(|a| a.kind.is_replacement()) {
        for other in &arm_info {
            let relevant = match &other.kind {
                ArmKind::Control { of, .. } => of.is_none() || of.as_deref() == Some(&circuit.name),
                ArmKind::Ablate { .. } => true,
                _ => false,
            };
            if relevant {
                versus_controls.push(aann_stats::compare_conditions(
                    by_name[other.name.as_str()],
                    by_name[circuit.name.as_str()],
                    spec.statistics.level,
                )?);
            }
        }
    }
    // The lineage's stacked arms against each other: which upper circuit does better on
    // the artificial early curves.
    if let Some(l) = &lineage {
        for (i, first) in l.stacked.iter().enumerate() {
            for other in &l.stacked[i + 1..] {
                versus_controls.push(aann_stats::compare_conditions(
                    by_name[other.as_str()],
                    by_name[first.as_str()],
                    spec.statistics.level,
                )?);
            }
        }
    }

    // Activation faithfulness of every replacement and control on test images.
    let mut faithful_arms = replacements.clone();
    faithful_arms.extend(controls.iter().cloned());
    let mut faithfulness = Vec::new();
    if spec.run.faithfulness_images > 0 {
        let sets = dev
            .iter()
            .map(|(d, _)| ("dev", d))
            .chain(std::iter::once(("test", &test)));
        for (split, set) in sets {
            let set = set.limit(spec.run.faithfulness_images);
            if session.progress {
                eprintln!(
                    "activation faithfulness of {} arms on {}",
                    faithful_arms.len(),
                    describe_set(&set)
                );
            }
            faithfulness.extend(faithfulness::measure(
                session,
                split,
                &faithful_arms,
                tap,
                &set,
                &preprocess,
                batch,
            )?);
            // The lineage's lower circuit against the natural neurons it stands in for.
            if let Some(l) = &lineage {
                faithfulness.extend(faithfulness::measure(
                    session,
                    split,
                    &[(l.lower_arm.clone(), l.replacement.clone())],
                    l.lower_tap,
                    &set,
                    &preprocess,
                    batch,
                )?);
            }
        }
    }

    // The verdicts: Holm over the comparisons, equivalence, the units' structure test.
    let verdicts = judge(&VerdictInputs {
        arms: &arm_info,
        outcomes: &outcomes,
        versus: &versus_controls,
        calibrations: &calibrations,
        faithfulness: &faithfulness,
        level: spec.statistics.level,
        equivalence_margin: spec.statistics.equivalence_margin,
    })?;
    for (a, b) in &verdicts.identical_arms {
        eprintln!(
            "warning: arms {a} and {b} have the same loss on every test image: one of them \
             is not what it claims to be, or the two are the same arm"
        );
    }

    // Tuning maps of each circuit against the natural neurons.
    let mut circuits = Vec::new();
    let mut sweep = TuningSpec::curves();
    let n = spec.run.tuning_orientations;
    sweep.orientations = (0..n).map(|i| 360.0 * i as f64 / n as f64).collect();
    if let Some(radii) = &spec.run.tuning_radii {
        sweep.values = radii.clone();
    }
    for (condition, replacement) in &replacements {
        let (natural, artificial, tuning) =
            compare_tuning(model, tap, replacement.clone(), &sweep, &stats)?;
        let rs: Vec<f64> = tuning.iter().map(|t| t.correlation).collect();
        write_json(
            &out.join(format!("tuning-{condition}.json")),
            &(natural, artificial),
        )?;
        circuits.push(CircuitResult {
            condition: condition.clone(),
            circuit: replacement.circuit.name(),
            accounting: replacement.accounting(),
            calibration: replacement.calibration.clone(),
            mapping: replacement.mapping.clone(),
            median_tuning_r: median(&rs),
            tuning,
        });
    }

    // The images each replacement changes most.
    let divergent = divergent_images(
        &out,
        &table,
        &test,
        &synsets,
        &replacements,
        spec.run.divergent_images,
    )?;

    let family_info = FamilyInfo {
        path: spec.target.family.clone(),
        name: family.name.clone(),
        tap: tap.name(variant),
        channels: channels.as_slice().to_vec(),
        orientations: family.neurons.iter().map(|n| n.orientation_deg).collect(),
    };
    let mut headline = headline(&family_info, &summary, &fractions, &circuits);
    if options.evaluated_on != Split::Test {
        headline = format!(
            "[{} split: for comparing settings, not a headline] {headline}",
            options.evaluated_on
        );
    }
    let mut seeds = BTreeMap::from([("bootstrap".to_string(), spec.statistics.seed)]);
    if let Some(n) = &spec.null {
        seeds.insert("null".into(), n.seed);
    }
    if spec.ablations.resample {
        seeds.insert("resample".into(), spec.statistics.seed);
    }
    let mut image_lists = BTreeMap::from([
        (
            "tune".to_string(),
            ImageListInfo::new(describe_set(&tune), &tune_digest),
        ),
        (
            "calibration".to_string(),
            ImageListInfo::new(describe_set(&calibration_set), &calibration_digest),
        ),
        (
            "test".to_string(),
            ImageListInfo::new(describe_set(&test), &test_digest),
        ),
    ]);
    if let Some((d, digest)) = &dev {
        image_lists.insert("dev".into(), ImageListInfo::new(describe_set(d), digest));
    }
    let provenance = Provenance {
        aann_version: env!("CARGO_PKG_VERSION").into(),
        results_version: crate::lab::RESULTS_VERSION.into(),
        git_commit: commit,
        spec_sha256: aann_weights::sha256_hex(spec.to_toml().as_bytes()),
        model: variant.name().into(),
        weights: session.weights().display().to_string(),
        weights_sha256: session.weights_sha256().into(),
        image_lists,
        files,
        seeds,
        device: session.device.name().into(),
        threads: session.threads(),
    };
    let result = ExperimentResult {
        name: spec.name.clone(),
        description: spec.description.clone(),
        model: variant.name().into(),
        weights: session.weights().display().to_string(),
        weights_sha256: session.weights_sha256().into(),
        provenance,
        family: family_info,
        tune: SetInfo {
            description: describe_set(&tune),
            images: tune.len(),
        },
        evaluated_on: options.evaluated_on,
        test: SetInfo {
            description: describe_set(&test),
            images: test.len(),
        },
        test_failures: failures
            .iter()
            .map(|f| format!("{}: {}", f.path, f.reason))
            .collect(),
        conditions: arm_info,
        summary,
        fractions,
        lineage: lineage_fractions,
        lineage_circuit: lineage.as_ref().map(|l| LineageCircuit {
            family: spec
                .lineage
                .as_ref()
                .map(|s| s.family.clone())
                .unwrap_or_default(),
            circuit: l.replacement.circuit.name(),
            accounting: l.replacement.accounting(),
            calibration: l.replacement.calibration.clone(),
            mapping: l.replacement.mapping.clone(),
        }),
        null,
        versus_controls,
        mapping_null,
        calibrations,
        verdicts,
        faithfulness,
        circuits,
        divergent,
        images_resumed: stats_run.images_resumed,
        images_evaluated: stats_run.images_evaluated,
        seconds: start.elapsed().as_secs_f64(),
        images_per_second: stats_run.images_per_second(),
        peak_memory_mib: crate::lab::provenance::peak_memory_mib(),
        headline,
        command: options.command.clone(),
        spec: spec.clone(),
    };
    // Inputs under the data root are named `$AANN_DATA/…` in the results file.
    let summary_path = out.join("summary.json");
    let text =
        serde_json::to_string_pretty(&result).map_err(|e| EvalError::Results(e.to_string()))?;
    std::fs::write(&summary_path, session.portable(&text))
        .map_err(|e| EvalError::write(&summary_path, e))?;
    let resolved = out.join("spec.resolved.toml");
    std::fs::write(&resolved, spec.to_toml()).map_err(|e| EvalError::write(&resolved, e))?;
    crate::report::write_reports(&result, &out, |t| session.portable(t))?;
    Ok(ExperimentOutcome::Complete(Box::new(result)))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), EvalError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| EvalError::Results(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| EvalError::write(path, e))
}

/// A control that stands in for the whole family with one unit per neuron (the relay, the
/// readout), as an arm and its replacement.
fn family_control(
    control: Control,
    circuit: Arc<dyn aann_circuits::Circuit>,
    mapping: UnitMapping,
    calibration: Calibration,
    tap: Tap,
    device: &burn::tensor::Device,
) -> (Arm, Arc<CircuitReplacement>) {
    let r = Arc::new(CircuitReplacement {
        circuit,
        mapping,
        calibration,
        device: device.clone(),
    });
    (Arm::control(control, None, tap, r.clone()), r)
}

/// The circuit whose unit mapping the replacement null shuffles (`mapping_null.of`, else
/// the first circuit).
fn mapping_null_of<'r>(
    m: &crate::spec::MappingNullSpec,
    replacements: &'r [(String, Arc<CircuitReplacement>)],
) -> Result<(String, &'r CircuitReplacement), EvalError> {
    let of =
        m.of.clone()
            .or_else(|| replacements.first().map(|r| r.0.clone()))
            .ok_or_else(|| EvalError::Spec("mapping_null needs a circuit to shuffle".into()))?;
    let (_, replacement) = replacements.iter().find(|r| r.0 == of).ok_or_else(|| {
        EvalError::Spec(format!(
            "mapping_null.of = `{of}` is not a circuit arm; the circuits are {}",
            replacements
                .iter()
                .map(|r| r.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok((of, replacement.as_ref()))
}

/// A sub-run of a results folder (the nulls): `arms` over `set` into their own resumable
/// folder, through the one runner; returns the arm names (baseline first) and the records.
fn run_sub(
    ctx: NullContext<'_>,
    arms: Vec<Arm>,
    set: &ImageSet,
    dir: &Path,
    settings: serde_json::Value,
) -> Result<(Vec<String>, RecordTable), EvalError> {
    let NullContext {
        session,
        preprocess,
        order,
        options,
        ..
    } = ctx;
    let variant = session.variant();
    let (conditions, arm_info) = into_conditions(arms, variant);
    let evaluator =
        Evaluator::new(session.model(), conditions)?.with_arms_per_pass(options.arms_per_pass);
    let manifest = RunManifest::new(
        variant.name(),
        session.weights_sha256(),
        describe_set(set),
        &content_digest(set)?,
        preprocess,
        arm_info,
        settings,
    );
    run_conditions(
        session.model(),
        &evaluator,
        set,
        preprocess,
        order,
        &manifest,
        dir,
        options,
    )?;
    let names = evaluator.condition_names();
    let table = RecordTable::read(dir, &names)?;
    Ok((names, table))
}

/// What the nulls share: the session, the target tap, the test images and how they are
/// run, and the results folder their sub-runs live in.
#[derive(Clone, Copy)]
struct NullContext<'a> {
    session: &'a Session,
    tap: Tap,
    test: &'a ImageSet,
    preprocess: &'a Preprocess,
    order: &'a ClassOrder,
    out: &'a Path,
    options: &'a RunOptions,
}

fn run_null(
    ctx: NullContext<'_>,
    family: &Family,
    magnitudes: &[f64],
    spec: &crate::spec::NullSpec,
    main: Option<&RecordTable>,
) -> Result<Option<NullResult>, EvalError> {
    let start = Instant::now();
    let variant = ctx.session.variant();
    let size = family.neurons.len();
    let sets = if spec.matched {
        matched_channel_sets(
            magnitudes,
            &family.channels(),
            spec.sets,
            spec.pool,
            spec.seed,
        )?
    } else {
        random_channel_sets(
            ctx.tap.channels(variant),
            size,
            spec.sets,
            spec.seed,
            &family.channels(),
        )?
    };
    let arms: Vec<Arm> = sets
        .iter()
        .enumerate()
        .map(|(i, set)| Arm::null_set(i, ctx.tap, set.clone()))
        .collect();
    let subset = if spec.images > 0 {
        ctx.test.limit(spec.images)
    } else {
        ctx.test.clone()
    };
    if ctx.options.progress {
        eprintln!(
            "random-channel null: {} sets of {size} channels on {} images",
            sets.len(),
            subset.len()
        );
    }
    let (names, table) = run_sub(
        ctx,
        arms,
        &subset,
        &ctx.out.join("null"),
        serde_json::json!({ "null": spec, "batch_size": ctx.options.batch_size }),
    )?;
    // A shard writes records only.
    let Some(main) = main else {
        return Ok(None);
    };
    let keys: HashSet<&str> = subset.iter().map(|e| e.key.as_str()).collect();
    // The mean increase of the loss over the baseline on the subset, image by image.
    let mean_increase = |table: &RecordTable, condition: &str| -> f64 {
        let diffs: Vec<f64> = table
            .column(condition)
            .into_iter()
            .filter(|(image, _)| keys.contains(image))
            .filter_map(|(image, o)| Some(o.loss? - table.get(image, "baseline")?.loss?))
            .collect();
        diffs.iter().sum::<f64>() / diffs.len().max(1) as f64
    };
    let null_loss_increase: Vec<f64> = names[1..]
        .iter()
        .map(|n| mean_increase(&table, n))
        .collect();
    let family_loss_increase = mean_increase(main, Ablation::Zero.arm_name());
    let comparison = empirical_p_value(
        family_loss_increase,
        &null_loss_increase,
        Alternative::Greater,
    )?;
    Ok(Some(NullResult {
        seconds: start.elapsed().as_secs_f64(),
        matched: spec.matched,
        images: subset.len(),
        sets,
        null_loss_increase,
        family_loss_increase,
        comparison,
    }))
}

fn run_mapping_null(
    ctx: NullContext<'_>,
    of: &str,
    replacement: &CircuitReplacement,
    data: &CalibrationData,
    spec: &crate::spec::MappingNullSpec,
    main: Option<&RecordTable>,
) -> Result<Option<MappingNullResult>, EvalError> {
    let start = Instant::now();
    let fits: Vec<ControlFit> = if spec.refit {
        ControlFit::BOTH.to_vec()
    } else {
        vec![ControlFit::Frozen]
    };
    // The same derangements under each calibration, all different from one another.
    let draws = derangements(&replacement.mapping, spec.seed, spec.shuffles)?;
    let mut arms = Vec::new();
    // Per calibration, each draw's arm name and its number of degenerate units.
    let mut by_fit: HashMap<ControlFit, Vec<(String, usize)>> = HashMap::new();
    for &fit in &fits {
        for (i, mapping) in draws.iter().enumerate() {
            let r = remapped(replacement, mapping.clone(), data, fit);
            let arm = Arm::mapping_null(of, i, fit, ctx.tap, r.clone());
            by_fit
                .entry(fit)
                .or_default()
                .push((arm.name().to_string(), r.calibration.degenerate_count()));
            arms.push(arm);
        }
    }
    let subset = if spec.images > 0 {
        ctx.test.limit(spec.images)
    } else {
        ctx.test.clone()
    };
    if ctx.options.progress {
        eprintln!(
            "replacement null: {} derangements of {of}'s unit mapping ({}) on {} images",
            spec.shuffles,
            fits.iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(" and "),
            subset.len()
        );
    }
    let (_, table) = run_sub(
        ctx,
        arms,
        &subset,
        &ctx.out.join("mapping-null"),
        serde_json::json!({
            "mapping_null": spec,
            "of": of,
            "calibration": replacement.calibration,
            "batch_size": ctx.options.batch_size,
        }),
    )?;
    // A shard writes records only.
    let Some(main) = main else {
        return Ok(None);
    };
    let keys: HashSet<&str> = subset.iter().map(|e| e.key.as_str()).collect();
    let mean_loss = |table: &RecordTable, condition: &str| -> f64 {
        let losses: Vec<f64> = table
            .column(condition)
            .into_iter()
            .filter(|(image, _)| keys.contains(image))
            .filter_map(|(_, o)| o.loss)
            .collect();
        losses.iter().sum::<f64>() / losses.len().max(1) as f64
    };
    let real_loss = mean_loss(main, of);
    let per_fit = |fit: ControlFit| -> Result<NullDraws, EvalError> {
        let arms = &by_fit[&fit];
        let shuffled_loss: Vec<f64> = arms.iter().map(|(n, _)| mean_loss(&table, n)).collect();
        let mut distinct: Vec<u64> = shuffled_loss.iter().map(|l| l.to_bits()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let counts: Vec<usize> = arms.iter().map(|(_, c)| *c).collect();
        Ok(NullDraws {
            comparison: empirical_p_value(real_loss, &shuffled_loss, Alternative::Less)?,
            distinct_losses: distinct.len(),
            degenerate_draws: counts.iter().filter(|c| **c > 0).count(),
            degenerate_units: counts.iter().sum(),
            shuffled_loss,
        })
    };
    let frozen = per_fit(ControlFit::Frozen)?;
    let refit = if spec.refit {
        Some(per_fit(ControlFit::Refit)?)
    } else {
        None
    };
    Ok(Some(MappingNullResult {
        of: of.to_string(),
        images: subset.len(),
        real_loss,
        fit: Some(ControlFit::Frozen),
        draws: frozen,
        refit,
        seconds: start.elapsed().as_secs_f64(),
    }))
}

/// An arm's calibration as the results record it: its units and the degenerate ones.
fn arm_calibration(arm: &str, r: &CircuitReplacement) -> ArmCalibration {
    ArmCalibration {
        arm: arm.to_string(),
        calibration: r.calibration.describe(),
        units: r.mapping.channels.len(),
        degenerate: r
            .mapping
            .channels
            .iter()
            .zip(&r.calibration.degenerate)
            .filter_map(|(c, d)| d.map(|why| DegenerateUnit { channel: *c, why }))
            .collect(),
    }
}

/// A console line for an arm with degenerate units.
fn describe_degenerate(c: &ArmCalibration) -> String {
    format!(
        "{}: {} of {} units degenerate ({})",
        c.arm,
        c.degenerate.len(),
        c.units,
        c.degenerate_units()
    )
}

fn divergent_images(
    out: &Path,
    table: &RecordTable,
    test: &ImageSet,
    synsets: &Synsets,
    replacements: &[(String, Arc<CircuitReplacement>)],
    count: usize,
) -> Result<BTreeMap<String, Vec<DivergentImage>>, EvalError> {
    // The images each replacement moves most, from the table; then one more pass over the
    // records for their top-5 lists (the table keeps no lists).
    let shown = ["baseline", Ablation::Zero.arm_name()];
    let mut chosen: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
    // image → arm → its record, once found.
    let mut wanted: HashMap<String, HashMap<String, Option<ImageRecord>>> = HashMap::new();
    for (condition, _) in replacements {
        let mut rows = table.column(condition);
        rows.sort_by(|a, b| b.1.kl.total_cmp(&a.1.kl));
        rows.truncate(count);
        for (image, _) in &rows {
            for c in shown
                .iter()
                .copied()
                .chain(std::iter::once(condition.as_str()))
            {
                wanted
                    .entry(image.to_string())
                    .or_default()
                    .insert(c.to_string(), None);
            }
        }
        chosen.insert(condition, rows.iter().map(|(i, o)| (*i, o.kl)).collect());
    }
    if !wanted.is_empty() {
        for_each_record(out, |r| {
            if let Some(slot) = wanted
                .get_mut(r.image.as_str())
                .and_then(|arms| arms.get_mut(r.condition.as_str()))
                && slot.is_none()
            {
                *slot = Some(r);
            }
            Ok(())
        })?;
    }
    let paths: HashMap<&str, String> = test
        .iter()
        .map(|e| (e.key.as_str(), e.path.display().to_string()))
        .collect();
    let name = |c: usize| synsets.short_name(c).unwrap_or("?").to_string();
    let mut result = BTreeMap::new();
    for (condition, rows) in chosen {
        let list = rows
            .into_iter()
            .map(|(image, kl)| {
                let mut top5 = BTreeMap::new();
                let mut label = None;
                for c in shown.iter().copied().chain(std::iter::once(condition)) {
                    if let Some(Some(rec)) = wanted.get(image).and_then(|arms| arms.get(c)) {
                        label = label.or(rec.label);
                        top5.insert(
                            c.to_string(),
                            rec.top5
                                .iter()
                                .zip(&rec.top5_prob)
                                .map(|(k, p)| (name(*k), *p))
                                .collect(),
                        );
                    }
                }
                DivergentImage {
                    image: image.to_string(),
                    path: paths.get(image).cloned().unwrap_or_default(),
                    label,
                    label_name: label.map(name),
                    kl,
                    top5,
                }
            })
            .collect();
        result.insert(condition.to_string(), list);
    }
    Ok(result)
}

/// One sentence with the experiment's main number.
fn headline(
    family: &FamilyInfo,
    summary: &RunSummary,
    fractions: &[FractionRow],
    circuits: &[CircuitResult],
) -> String {
    let mut parts = vec![format!(
        "{} images; ablating the {} {} channels at {}",
        summary.images,
        family.channels.len(),
        family.name,
        family.tap
    )];
    if let Some(z) = summary
        .versus_baseline
        .iter()
        .find(|v| v.b == Ablation::Zero.arm_name())
    {
        parts.push(format!(
            "(zero) raises the loss by {:+.4} nats [{:+.4}, {:+.4}] and changes top-1 by {:+.2} points",
            z.cross_entropy.difference.point,
            z.cross_entropy.difference.ci.lo,
            z.cross_entropy.difference.ci.hi,
            100.0 * z.top1_accuracy.difference.point
        ));
    }
    let mut s = parts.join(" ");
    for c in circuits {
        if let Some(f) = fractions.iter().find(|f| {
            f.condition == c.condition
                && f.relative_to == Ablation::Zero.arm_name()
                && f.metric == Metric::CrossEntropy.name()
        }) {
            match &f.result.fraction {
                Some(e) => s.push_str(&format!(
                    "; {} recovers {:.0}% [{:.0}%, {:.0}%] of the zero-ablation cross-entropy gap",
                    c.condition,
                    100.0 * e.point,
                    100.0 * e.ci.lo,
                    100.0 * e.ci.hi
                )),
                None => s.push_str(&format!(
                    "; {}: fraction recovered undefined (the ablation's effect is not significant)",
                    c.condition
                )),
            }
        }
    }
    s.push('.');
    s
}
