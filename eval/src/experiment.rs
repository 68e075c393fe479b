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
    ClassOrder, ImageSet, OpenOptions, Preprocess, Rescale, Resize, Synsets, Unlabelled,
};
use aann_model::{ChannelSet, Condition, Edit, Family, InceptionV1, Intervention, Tap};
use aann_stats::{
    Alternative, BootstrapConfig, BootstrapInterval, FractionRecovered, Metric, NullComparison,
    PairedBootstrap, empirical_p_value, random_channel_sets,
};

use crate::EvalError;
use crate::circuits::{
    TuningComparison, build_circuit, calibrate_with, compare_tuning, median, upstream_tap,
};
use crate::evaluator::Evaluator;
use crate::means::{cached_activation_stats, describe_set, donor_pool};
use crate::metrics::ImageRecord;
use crate::records::{RunManifest, read_failures, read_records};
use crate::run::{RunOptions, run_conditions};
use crate::setup::{DataRoot, load_model};
use crate::spec::{ExperimentSpec, ImageSetSpec, repository_root};
use crate::summary::{RunSummary, outcomes_by_condition, summarize};
use crate::tuning::TuningSpec;

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
    pub images: usize,
    pub sets: Vec<Vec<usize>>,
    /// Mean increase in cross-entropy over the baseline, per null set.
    pub null_loss_increase: Vec<f64>,
    /// The family's own zero-ablation increase on the same images.
    pub family_loss_increase: f64,
    pub comparison: NullComparison,
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

/// Everything an experiment produced: `summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExperimentResult {
    pub name: String,
    pub description: String,
    pub model: String,
    pub weights: String,
    pub weights_sha256: String,
    pub family: FamilyInfo,
    pub tune: SetInfo,
    pub test: SetInfo,
    /// Images of the test set that failed to decode (not counted).
    pub test_failures: Vec<String>,
    pub conditions: Vec<(String, String)>,
    pub summary: RunSummary,
    pub fractions: Vec<FractionRow>,
    pub null: Option<NullResult>,
    pub circuits: Vec<CircuitResult>,
    pub divergent: BTreeMap<String, Vec<DivergentImage>>,
    pub seconds: f64,
    pub images_per_second: f64,
    pub headline: String,
    pub command: String,
    pub spec: ExperimentSpec,
}

/// Options of a run that are not part of the experiment.
#[derive(Clone, Debug, Default)]
pub struct ExperimentOptions {
    pub data_root: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub progress: bool,
    /// The command line, recorded in the results.
    pub command: String,
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
    Ok(if spec.limit > 0 {
        set.limit(spec.limit)
    } else {
        set
    })
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Refuse tune and test sets that share an image.
pub(crate) fn check_disjoint(tune: &ImageSet, test: &ImageSet) -> Result<(), EvalError> {
    let tune_paths: HashSet<PathBuf> = tune.iter().map(|e| canonical(&e.path)).collect();
    let shared: Vec<&str> = test
        .iter()
        .filter(|e| tune_paths.contains(&canonical(&e.path)))
        .map(|e| e.key.as_str())
        .take(5)
        .collect();
    if !shared.is_empty() {
        return Err(EvalError::Spec(format!(
            "the tune and test sets share images (e.g. {}): the headline must be measured on images nothing was fitted to",
            shared.join(", ")
        )));
    }
    Ok(())
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

/// The weights a spec names (relative to the data root), or the model's default.
pub(crate) fn weights_of(root: &DataRoot, spec: &ExperimentSpec) -> Result<PathBuf, EvalError> {
    Ok(match &spec.weights {
        Some(w) if Path::new(w).is_absolute() => PathBuf::from(w),
        Some(w) => root.dir.join(w),
        None => root.default_weights(spec.model)?,
    })
}

/// Build one of a spec's circuits: its upstream normalisers come from the (cached)
/// statistics of `calibration_set`, its hand-set numbers from the shipped spec or the
/// override file the spec names.
#[allow(clippy::too_many_arguments)]
pub(crate) fn circuit_of(
    c: &crate::spec::CircuitSpec,
    model: &InceptionV1,
    weights_sha256: &str,
    repo: &Path,
    calibration_set: &ImageSet,
    preprocess: &Preprocess,
    cache_dir: &Path,
    batch: usize,
    progress: bool,
) -> Result<Arc<dyn aann_circuits::Circuit>, EvalError> {
    let upstream_stats = match upstream_tap(&c.choice, repo)? {
        Some(up) => Some(cached_activation_stats(
            model,
            weights_sha256,
            calibration_set,
            preprocess,
            up,
            cache_dir,
            batch,
            progress,
        )?),
        None => None,
    };
    let override_text = c
        .spec
        .as_ref()
        .map(|p| std::fs::read_to_string(repo.join(p)).map_err(|e| EvalError::io(&repo.join(p), e)))
        .transpose()?;
    build_circuit(
        &c.choice,
        model,
        repo,
        upstream_stats.as_ref(),
        override_text.as_deref(),
    )
}

/// Run an experiment: conditions on the test set (resumable), statistics, tuning maps,
/// divergent images; writes `summary.json`, `summary.md` and `report.html` into the
/// results folder and returns the result.
pub fn run_experiment(
    spec_path: &Path,
    spec: &ExperimentSpec,
    options: &ExperimentOptions,
) -> Result<ExperimentResult, EvalError> {
    let start = Instant::now();
    let repo = repository_root(spec_path);
    let root = DataRoot::resolve(options.data_root.as_deref());
    let variant = spec.model;
    let synsets = root.synsets()?;
    let order: ClassOrder = root.class_order(variant)?;
    let tune = open_set(&root, &spec.tune, &synsets, "tune")?;
    let test = open_set(&root, &spec.test, &synsets, "test")?;
    check_disjoint(&tune, &test)?;
    let preprocess = preprocess_of(spec)?;
    let family_path = repo.join(&spec.target.family);
    let family = Family::load(&family_path)?;
    if family.model != variant {
        return Err(EvalError::Spec(format!(
            "{} is a {} family but the experiment's model is {variant}",
            family_path.display(),
            family.model
        )));
    }
    let tap = family.tap()?;
    let channels = ChannelSet::new(family.channels());

    let weights = weights_of(&root, spec)?;
    let cache_dir = options
        .cache_dir
        .clone()
        .unwrap_or_else(aann_weights::WeightCache::default_dir);
    let device = burn::tensor::Device::default();
    let loaded = load_model(variant, &weights, Some(&cache_dir), &device)?;
    let model = &loaded.model;
    let calibration_set = calibration_set_of(spec, &tune);
    let batch = spec.run.batch_size;
    let stats = cached_activation_stats(
        model,
        &loaded.weights_sha256,
        &calibration_set,
        &preprocess,
        tap,
        &cache_dir,
        batch,
        options.progress,
    )?;

    // Conditions.
    let mut conditions = Vec::new();
    let edit = |intervention: Intervention| Edit {
        tap,
        channels: channels.clone(),
        intervention,
    };
    if spec.ablations.zero {
        conditions.push(Condition::new(
            "zero-ablate",
            vec![edit(Intervention::ZeroAblate)],
        ));
    }
    if spec.ablations.mean {
        conditions.push(Condition::new(
            "mean-ablate",
            vec![edit(Intervention::MeanAblate(Arc::new(
                stats.uniform_means(&loaded.weights_sha256),
            )))],
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
        conditions.push(Condition::new(
            "resample-ablate",
            vec![edit(Intervention::ResampleAblate(Arc::new(pool)))],
        ));
    }
    let mut replacements = Vec::new();
    for c in &spec.circuits {
        let circuit = circuit_of(
            c,
            model,
            &loaded.weights_sha256,
            &repo,
            &calibration_set,
            &preprocess,
            &cache_dir,
            batch,
            options.progress,
        )?;
        let mapping =
            UnitMapping::by_orientation(&family, circuit.as_ref()).map_err(EvalError::Spec)?;
        let per_neuron = match c.calibration.as_str() {
            "family" => false,
            "neuron" => true,
            other => {
                return Err(EvalError::Spec(format!(
                    "calibration must be `family` or `neuron`, not `{other}`"
                )));
            }
        };
        if options.progress {
            eprintln!(
                "calibrating {} on {}",
                circuit.name(),
                describe_set(&calibration_set)
            );
        }
        let calibration = calibrate_with(
            model,
            circuit.as_ref(),
            &mapping,
            tap,
            &calibration_set,
            &preprocess,
            per_neuron,
            c.fit,
            batch,
        )?;
        let replacement = Arc::new(CircuitReplacement {
            circuit,
            mapping,
            calibration,
            device: model.device().clone(),
        });
        conditions.push(Condition::new(
            c.condition_name(),
            vec![edit(Intervention::Replace(replacement.clone()))],
        ));
        replacements.push((c.condition_name(), replacement));
    }

    // The main run.
    let out = PathBuf::from(&spec.run.out);
    let evaluator = Evaluator::new(model, conditions)?;
    let names: Vec<String> = evaluator.condition_names();
    let condition_info: Vec<(String, String)> = evaluator
        .conditions()
        .iter()
        .map(|c| (c.name.clone(), c.describe(variant)))
        .collect();
    let manifest = RunManifest {
        model: variant.name().into(),
        weights_sha256: loaded.weights_sha256.clone(),
        image_set: describe_set(&test),
        images: test.len(),
        preprocess: format!("{preprocess:?}"),
        conditions: condition_info.clone(),
    };
    let run_options = RunOptions {
        batch_size: batch,
        progress: options.progress,
        ..Default::default()
    };
    if options.progress {
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
    let records = read_records(&out)?;
    let failures = read_failures(&out)?;
    let summary = summarize(&records, &names, spec.statistics.level)?;

    // Fractions recovered.
    let (_, outcomes) = outcomes_by_condition(&records, &names)?;
    let boot = PairedBootstrap::from_conditions(
        &outcomes,
        BootstrapConfig {
            resamples: spec.statistics.resamples,
            seed: spec.statistics.seed,
            level: spec.statistics.level,
            interval: BootstrapInterval::Bca,
        },
    )?;
    let mut fractions = Vec::new();
    let references: Vec<&str> = ["zero-ablate", "mean-ablate"]
        .into_iter()
        .filter(|r| names.iter().any(|n| n == r))
        .collect();
    for name in names.iter().filter(|n| n.as_str() != "baseline") {
        for reference in &references {
            // Ablations are compared with zero-ablation only: "how much of the mean-ablation
            // gap does zero-ablation recover" is not a question anyone asks.
            let is_ablation = name.ends_with("-ablate");
            if name == reference || (is_ablation && *reference != "zero-ablate") {
                continue;
            }
            for metric in [
                Metric::CrossEntropy,
                Metric::Top1Accuracy,
                Metric::Top5Accuracy,
            ] {
                let result = boot.fraction_recovered(metric, name, reference, "baseline")?;
                fractions.push(FractionRow {
                    condition: name.clone(),
                    relative_to: reference.to_string(),
                    metric: metric.name().to_string(),
                    result,
                });
            }
        }
    }

    // Random-channel null.
    let null = match (&spec.null, spec.ablations.zero) {
        (Some(n), true) if n.sets > 0 => Some(run_null(
            model,
            &loaded.weights_sha256,
            variant,
            tap,
            &family,
            n,
            &test,
            &preprocess,
            &order,
            &out,
            &run_options,
            &records,
            &stats_run,
        )?),
        _ => None,
    };

    // Tuning maps of each circuit against the natural neurons.
    let mut circuits = Vec::new();
    let mut sweep = TuningSpec::curves();
    if spec.run.tuning_orientations == 0 {
        return Err(EvalError::Spec(
            "run.tuning_orientations must be at least 1".into(),
        ));
    }
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
        &records,
        &test,
        &order,
        &synsets,
        &replacements,
        spec.run.divergent_images,
    );

    let family_info = FamilyInfo {
        path: spec.target.family.clone(),
        name: family.name.clone(),
        tap: tap.name(variant),
        channels: channels.as_slice().to_vec(),
        orientations: family.neurons.iter().map(|n| n.orientation_deg).collect(),
    };
    let headline = headline(&family_info, &summary, &fractions, &circuits);
    let result = ExperimentResult {
        name: spec.name.clone(),
        description: spec.description.clone(),
        model: variant.name().into(),
        weights: weights.display().to_string(),
        weights_sha256: loaded.weights_sha256.clone(),
        family: family_info,
        tune: SetInfo {
            description: describe_set(&tune),
            images: tune.len(),
        },
        test: SetInfo {
            description: describe_set(&test),
            images: test.len(),
        },
        test_failures: failures
            .iter()
            .map(|f| format!("{}: {}", f.path, f.reason))
            .collect(),
        conditions: condition_info,
        summary,
        fractions,
        null,
        circuits,
        divergent,
        seconds: start.elapsed().as_secs_f64(),
        images_per_second: stats_run.images_per_second(),
        headline,
        command: options.command.clone(),
        spec: spec.clone(),
    };
    write_json(&out.join("summary.json"), &result)?;
    std::fs::write(out.join("spec.resolved.toml"), spec.to_toml())
        .map_err(|e| EvalError::io(&out, e))?;
    crate::report::write_reports(&result, &out)?;
    Ok(result)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), EvalError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| EvalError::Results(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| EvalError::io(path, e))
}

#[allow(clippy::too_many_arguments)]
fn run_null(
    model: &InceptionV1,
    weights_sha256: &str,
    variant: aann_model::Variant,
    tap: Tap,
    family: &Family,
    spec: &crate::spec::NullSpec,
    test: &ImageSet,
    preprocess: &Preprocess,
    order: &ClassOrder,
    out: &Path,
    options: &RunOptions,
    main_records: &[ImageRecord],
    _main: &crate::run::RunStats,
) -> Result<NullResult, EvalError> {
    let size = family.neurons.len();
    let sets = random_channel_sets(
        tap.channels(variant),
        size,
        spec.sets,
        spec.seed,
        &family.channels(),
    )?;
    let conditions: Vec<Condition> = sets
        .iter()
        .enumerate()
        .map(|(i, set)| {
            Condition::new(
                format!("null-{i:02}"),
                vec![Edit {
                    tap,
                    channels: ChannelSet::new(set.clone()),
                    intervention: Intervention::ZeroAblate,
                }],
            )
        })
        .collect();
    let subset = if spec.images > 0 {
        test.limit(spec.images)
    } else {
        test.clone()
    };
    let evaluator = Evaluator::new(model, conditions)?;
    let names: Vec<String> = evaluator.condition_names();
    let manifest = RunManifest {
        model: variant.name().into(),
        weights_sha256: weights_sha256.into(),
        image_set: describe_set(&subset),
        images: subset.len(),
        preprocess: format!("{preprocess:?}"),
        conditions: names
            .iter()
            .zip(std::iter::once(vec![]).chain(sets.iter().cloned()))
            .map(|(n, s)| {
                (
                    n.clone(),
                    format!("zero-ablate channels {}", ChannelSet::new(s)),
                )
            })
            .collect(),
    };
    let dir = out.join("null");
    if options.progress {
        eprintln!(
            "random-channel null: {} sets of {size} channels on {} images",
            sets.len(),
            subset.len()
        );
    }
    run_conditions(
        model, &evaluator, &subset, preprocess, order, &manifest, &dir, options,
    )?;
    let records = read_records(&dir)?;
    let keys: HashSet<&str> = subset.iter().map(|e| e.key.as_str()).collect();
    let mean_increase = |records: &[ImageRecord], condition: &str| -> f64 {
        let base: HashMap<&str, f64> = records
            .iter()
            .filter(|r| r.condition == "baseline" && keys.contains(r.image.as_str()))
            .filter_map(|r| r.loss.map(|l| (r.image.as_str(), l)))
            .collect();
        let diffs: Vec<f64> = records
            .iter()
            .filter(|r| r.condition == condition)
            .filter_map(|r| Some(r.loss? - base.get(r.image.as_str())?))
            .collect();
        diffs.iter().sum::<f64>() / diffs.len().max(1) as f64
    };
    let null_loss_increase: Vec<f64> = names[1..]
        .iter()
        .map(|n| mean_increase(&records, n))
        .collect();
    let family_loss_increase = mean_increase(main_records, "zero-ablate");
    let comparison = empirical_p_value(
        family_loss_increase,
        &null_loss_increase,
        Alternative::Greater,
    )?;
    Ok(NullResult {
        images: subset.len(),
        sets,
        null_loss_increase,
        family_loss_increase,
        comparison,
    })
}

fn divergent_images(
    records: &[ImageRecord],
    test: &ImageSet,
    order: &ClassOrder,
    synsets: &Synsets,
    replacements: &[(String, Arc<CircuitReplacement>)],
    count: usize,
) -> BTreeMap<String, Vec<DivergentImage>> {
    let _ = order;
    let by_key: HashMap<(&str, &str), &ImageRecord> = records
        .iter()
        .map(|r| ((r.image.as_str(), r.condition.as_str()), r))
        .collect();
    let paths: HashMap<&str, String> = test
        .iter()
        .map(|e| (e.key.as_str(), e.path.display().to_string()))
        .collect();
    let name = |c: usize| synsets.short_name(c).unwrap_or("?").to_string();
    let mut out = BTreeMap::new();
    for (condition, _) in replacements {
        let mut rows: Vec<&ImageRecord> = records
            .iter()
            .filter(|r| &r.condition == condition)
            .collect();
        rows.sort_by(|a, b| b.kl.total_cmp(&a.kl));
        let list = rows
            .into_iter()
            .take(count)
            .map(|r| {
                let mut top5 = BTreeMap::new();
                for c in ["baseline", "zero-ablate", condition.as_str()] {
                    if let Some(rec) = by_key.get(&(r.image.as_str(), c)) {
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
                    image: r.image.clone(),
                    path: paths.get(r.image.as_str()).cloned().unwrap_or_default(),
                    label: r.label,
                    label_name: r.label.map(name),
                    kl: r.kl,
                    top5,
                }
            })
            .collect();
        out.insert(condition.clone(), list);
    }
    out
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
        .find(|v| v.b == "zero-ablate")
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
                && f.relative_to == "zero-ablate"
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
