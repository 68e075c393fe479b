//! Error analysis of a finished experiment: the images where a replacement and the natural
//! network disagree most, and, on each, how every replaced neuron's artificial activity
//! differs from its natural activity. This is the back-and-forth that improves a circuit:
//! find where it fails, look at which neurons it gets wrong there, change the motif, rerun.
//!
//! Nothing is refitted: the circuit is rebuilt from the run's resolved spec, with the
//! calibration and unit mapping the run recorded in `summary.json`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use aann_circuits::{Calibration, CircuitReplacement, UnitMapping};
use aann_data::ImageSet;
use aann_model::{Family, Tap};

use crate::EvalError;
use crate::evaluator::Evaluator;
use crate::experiment::{calibration_set_of, open_set, preprocess_of, session_config};
use crate::lab::arm::into_conditions;
use crate::lab::replace::build_circuit_of;
use crate::lab::{Arm, DeviceChoice, Feed, Session, SessionConfig};
use crate::means::describe_set;
use crate::metrics::ImageRecord;
use crate::records::read_records;
use crate::run::{RunOptions, run_in_memory};
use crate::spec::{ExperimentSpec, Split, repository_root};

/// How the images are ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ranking {
    /// KL divergence of the replaced network's prediction from the natural one's.
    Kl,
    /// Images whose top-1 correctness the replacement changed: broken first, then fixed,
    /// each by KL.
    Correctness,
}

impl std::str::FromStr for Ranking {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "kl" => Ok(Ranking::Kl),
            "correctness" => Ok(Ranking::Correctness),
            other => Err(format!("rank by `kl` or `correctness`, not `{other}`")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ErrorOptions {
    pub data_root: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub device: DeviceChoice,
    /// The replacement condition (default: the run's first circuit).
    pub condition: Option<String>,
    pub ranking: Ranking,
    /// How many images to list.
    pub top: usize,
    /// How many images (the first of the split) give each neuron's typical error.
    pub reference_images: usize,
    /// Which split to analyse: `dev` (default: where choices are made; its records are
    /// computed now, for the first `dev_images`) or `test` (the run's own records).
    pub split: Split,
    pub dev_images: usize,
    /// On the dev split, also evaluate the replacement with each neuron in turn left
    /// natural: which neuron's circuit costs the most.
    pub leave_one_out: bool,
    pub progress: bool,
}

impl Default for ErrorOptions {
    fn default() -> Self {
        ErrorOptions {
            device: DeviceChoice::Cpu,
            data_root: None,
            cache_dir: None,
            condition: None,
            ranking: Ranking::Kl,
            top: 10,
            reference_images: 64,
            split: Split::Dev,
            dev_images: 200,
            leave_one_out: false,
            progress: false,
        }
    }
}

/// One replaced neuron on one image (or averaged over images): natural against artificial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronDifference {
    pub channel: usize,
    pub orientation_deg: f64,
    /// Spatial means of the natural and the artificial activation.
    pub natural_mean: f64,
    pub artificial_mean: f64,
    /// Root-mean-square difference over positions.
    pub rms_difference: f64,
    /// Correlation over positions (0 where either map is constant).
    pub correlation: f64,
}

/// A listed image: what each network predicted and how the neurons differed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorImage {
    pub image: String,
    pub label: Option<usize>,
    pub label_name: Option<String>,
    pub kl: f64,
    /// Loss change (replaced − natural; absent for unlabelled images).
    pub loss_change: Option<f64>,
    /// Top-1 correctness (absent for unlabelled images).
    pub natural_correct1: Option<bool>,
    pub replaced_correct1: Option<bool>,
    pub natural_top5: Vec<(String, f64)>,
    pub replaced_top5: Vec<(String, f64)>,
    /// Every replaced neuron, worst (largest RMS difference) first.
    pub neurons: Vec<NeuronDifference>,
}

/// A neuron's error on the listed images against its error on typical images of the split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronSummary {
    pub channel: usize,
    pub orientation_deg: f64,
    pub listed_rms: f64,
    pub typical_rms: f64,
    pub listed_correlation: f64,
    pub typical_correlation: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorAnalysis {
    pub results: String,
    /// The split analysed.
    pub split: Split,
    pub condition: String,
    pub ranking: Ranking,
    pub tap: String,
    /// Test images with records for the condition, and how many of those the replacement
    /// broke (natural right, replaced wrong at top-1) and fixed.
    pub images: usize,
    pub broken: usize,
    pub fixed: usize,
    pub listed: Vec<ErrorImage>,
    /// Neurons, worst on the listed images (relative to typical) first.
    pub neurons: Vec<NeuronSummary>,
    pub reference_images: usize,
    /// With `leave_one_out`: each neuron left natural while the circuit replaces the others,
    /// the neuron whose return helps most first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leave_one_out: Vec<LeftNatural>,
}

/// The replacement with one neuron left natural, on the analysed images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeftNatural {
    pub channel: usize,
    pub orientation_deg: f64,
    /// Mean KL(baseline ‖ replacement) with this neuron natural, and how much lower that is
    /// than with every neuron replaced (as a share of the full replacement's KL too).
    pub kl: f64,
    pub kl_drop: f64,
    pub kl_drop_share: f64,
    /// Mean cross-entropy change, likewise (absent without labels).
    pub loss_drop: Option<f64>,
}

/// The replacement without channel `k` (index into its mapping): that neuron stays natural.
fn without_neuron(r: &CircuitReplacement, k: usize) -> CircuitReplacement {
    let (mapping, calibration) = drop_neuron(&r.mapping, &r.calibration, k);
    CircuitReplacement {
        circuit: r.circuit.clone(),
        mapping,
        calibration,
        device: r.device.clone(),
    }
}

/// A mapping and its calibration without neuron `k`.
fn drop_neuron(
    mapping: &UnitMapping,
    calibration: &Calibration,
    k: usize,
) -> (UnitMapping, Calibration) {
    let drop = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .enumerate()
            .filter(|(i, _)| *i != k)
            .map(|(_, x)| *x)
            .collect()
    };
    let mut mapping = mapping.clone();
    mapping.channels.remove(k);
    mapping.units.remove(k);
    mapping.orientations.remove(k);
    let mut calibration = calibration.clone();
    calibration.gains = drop(&calibration.gains);
    calibration.biases = drop(&calibration.biases);
    if calibration.mse.len() > k {
        calibration.mse = drop(&calibration.mse);
    }
    if calibration.degenerate.len() > k {
        calibration.degenerate.remove(k);
    }
    (mapping, calibration)
}

/// Analyse a finished results folder.
pub fn analyse_errors(results: &Path, options: &ErrorOptions) -> Result<ErrorAnalysis, EvalError> {
    let spec_path = results.join("spec.resolved.toml");
    if !spec_path.is_file() {
        return Err(EvalError::Results(format!(
            "{} is not a finished experiment: it has no spec.resolved.toml (run `aann experiment` first)",
            results.display()
        )));
    }
    let spec = ExperimentSpec::load(&spec_path, &[])?;
    let summary_path = results.join("summary.json");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&summary_path).map_err(|e| EvalError::io(&summary_path, e))?,
    )
    .map_err(|e| EvalError::Results(format!("{}: {e}", summary_path.display())))?;

    // The condition, its circuit spec and its recorded calibration.
    let names: Vec<String> = spec.circuits.iter().map(|c| c.condition_name()).collect();
    let condition = match &options.condition {
        Some(c) => c.clone(),
        None => names.first().cloned().ok_or_else(|| {
            EvalError::Results(format!(
                "{} replaced nothing: the error analysis needs a circuit condition",
                results.display()
            ))
        })?,
    };
    let index = names.iter().position(|n| *n == condition).ok_or_else(|| {
        EvalError::Results(format!(
            "no circuit condition `{condition}` in {}; it has {}",
            results.display(),
            names.join(", ")
        ))
    })?;
    let recorded = summary["circuits"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["condition"] == condition.as_str()))
        .ok_or_else(|| {
            EvalError::Results(format!(
                "{} records no calibration for `{condition}`",
                summary_path.display()
            ))
        })?;
    let parse = |key: &str| {
        EvalError::Results(format!(
            "{}: `{key}` of `{condition}` is malformed",
            summary_path.display()
        ))
    };
    let calibration: Calibration = serde_json::from_value(recorded["calibration"].clone())
        .map_err(|_| parse("calibration"))?;
    let mapping: UnitMapping =
        serde_json::from_value(recorded["mapping"].clone()).map_err(|_| parse("mapping"))?;

    // The model, the sets and the circuit, as the run had them.
    let repo = repository_root(results);
    let session = Session::open(&session_config(
        &spec,
        SessionConfig {
            data_root: options.data_root.clone(),
            cache_dir: options.cache_dir.clone(),
            device: options.device,
            progress: options.progress,
            ..SessionConfig::new(spec.model)
        },
    ))?;
    let root = &session.root;
    let synsets = root.synsets()?;
    let tune = open_set(root, &spec.tune, &synsets, "tune")?;
    let images = match options.split {
        Split::Tune => {
            return Err(EvalError::Spec(
                "the tune split is what the circuit was fitted to: analyse `dev` (or `test`, making no choice from it)".into(),
            ));
        }
        Split::Test => open_set(root, &spec.test, &synsets, "test")?,
        Split::Dev => {
            let dev = spec.dev.as_ref().ok_or_else(|| {
                EvalError::Spec(format!(
                    "{} has no dev split: add [dev] to the spec, or analyse the test records with --split test (and make no choice from them)",
                    results.display()
                ))
            })?;
            open_set(root, dev, &synsets, "dev")?.limit(options.dev_images)
        }
    };
    let preprocess = preprocess_of(&spec)?;
    let family_path = repo.join(&spec.target.family);
    let family = Family::load(&family_path)?;
    let tap = family.tap()?;
    let model = session.model();
    let calibration_set = calibration_set_of(&spec, &tune);
    let feed = Feed::new(&session, preprocess, spec.run.batch_size);
    let circuit = build_circuit_of(&feed, &spec.circuits[index], &repo, &calibration_set)?;
    if mapping.units.iter().any(|u| *u >= circuit.unit_count()) {
        return Err(EvalError::Results(format!(
            "the recorded unit mapping of `{condition}` does not fit the circuit the spec builds now ({} units): was the circuit changed since the run?",
            circuit.unit_count()
        )));
    }
    let replacement = Arc::new(CircuitReplacement {
        circuit,
        mapping: mapping.clone(),
        calibration,
        device: model.device().clone(),
    });

    // Rank the images from the records.
    let records = match options.split {
        Split::Test if options.leave_one_out => {
            return Err(EvalError::Spec(
                "--leave-one-out evaluates new arms, which is done on the dev split only".into(),
            ));
        }
        Split::Test => read_records(results)?,
        Split::Dev | Split::Tune => {
            let mut arms = vec![Arm::replace(condition.clone(), tap, replacement.clone())];
            if options.leave_one_out {
                for (k, channel) in replacement.mapping.channels.iter().enumerate() {
                    arms.push(Arm::replace(
                        format!("{condition}~natural-{channel}"),
                        tap,
                        Arc::new(without_neuron(&replacement, k)),
                    ));
                }
            }
            let (conditions, _) = into_conditions(arms, spec.model);
            let evaluator = Evaluator::new(model, conditions)?;
            if options.progress {
                eprintln!(
                    "evaluating `{condition}` on {} (the dev split)",
                    describe_set(&images)
                );
            }
            run_in_memory(
                &feed,
                &evaluator,
                &images,
                &session.class_order()?,
                &RunOptions {
                    progress: options.progress,
                    ..Default::default()
                },
            )?
            .0
        }
    };
    let by_key: HashMap<(&str, &str), &ImageRecord> = records
        .iter()
        .map(|r| ((r.image.as_str(), r.condition.as_str()), r))
        .collect();
    let pairs: Vec<(&ImageRecord, &ImageRecord)> = records
        .iter()
        .filter(|r| r.condition == condition)
        .filter_map(|r| Some((*by_key.get(&(r.image.as_str(), "baseline"))?, r)))
        .collect();
    if pairs.is_empty() {
        return Err(EvalError::Results(format!(
            "{} has no records of `{condition}` next to the baseline",
            results.display()
        )));
    }
    let broken = pairs
        .iter()
        .filter(|(n, r)| n.correct1 == Some(true) && r.correct1 == Some(false))
        .count();
    let fixed = pairs
        .iter()
        .filter(|(n, r)| n.correct1 == Some(false) && r.correct1 == Some(true))
        .count();
    let mut ranked: Vec<(&ImageRecord, &ImageRecord)> = match options.ranking {
        Ranking::Kl => pairs.clone(),
        Ranking::Correctness => pairs
            .iter()
            .copied()
            .filter(|(n, r)| n.correct1.is_some() && n.correct1 != r.correct1)
            .collect(),
    };
    ranked.sort_by(|a, b| {
        let changed = |(n, _): &(&ImageRecord, &ImageRecord)| match options.ranking {
            // Broken (natural right) before fixed.
            Ranking::Correctness => u8::from(n.correct1 != Some(true)),
            Ranking::Kl => 0,
        };
        changed(a).cmp(&changed(b)).then(b.1.kl.total_cmp(&a.1.kl))
    });
    ranked.truncate(options.top);

    let name = |c: usize| synsets.short_name(c).unwrap_or("?").to_string();
    let listed_keys: Vec<&str> = ranked.iter().map(|(n, _)| n.image.as_str()).collect();
    let listed_set = images.filter(|e| listed_keys.contains(&e.key.as_str()));
    let listed_diffs = neuron_differences(&feed, &replacement, tap, &listed_set)?;
    let reference_set = images.limit(options.reference_images);
    let reference_diffs = neuron_differences(&feed, &replacement, tap, &reference_set)?;

    let listed: Vec<ErrorImage> = ranked
        .iter()
        .map(|(n, r)| {
            let mut neurons = listed_diffs
                .get(n.image.as_str())
                .cloned()
                .unwrap_or_default();
            neurons.sort_by(|a, b| b.rms_difference.total_cmp(&a.rms_difference));
            let top5 = |rec: &ImageRecord| {
                rec.top5
                    .iter()
                    .zip(&rec.top5_prob)
                    .map(|(k, p)| (name(*k), *p))
                    .collect()
            };
            ErrorImage {
                image: n.image.clone(),
                label: n.label,
                label_name: n.label.map(name),
                kl: r.kl,
                loss_change: r.loss.zip(n.loss).map(|(a, b)| a - b),
                natural_correct1: n.correct1,
                replaced_correct1: r.correct1,
                natural_top5: top5(n),
                replaced_top5: top5(r),
                neurons,
            }
        })
        .collect();

    let average = |diffs: &HashMap<String, Vec<NeuronDifference>>, j: usize| {
        let rows: Vec<&NeuronDifference> = diffs.values().map(|v| &v[j]).collect();
        let n = rows.len().max(1) as f64;
        (
            (rows.iter().map(|d| d.rms_difference.powi(2)).sum::<f64>() / n).sqrt(),
            rows.iter().map(|d| d.correlation).sum::<f64>() / n,
        )
    };
    let mut neurons: Vec<NeuronSummary> = (0..mapping.channels.len())
        .map(|j| {
            let (listed_rms, listed_correlation) = average(&listed_diffs, j);
            let (typical_rms, typical_correlation) = average(&reference_diffs, j);
            NeuronSummary {
                channel: mapping.channels[j],
                orientation_deg: mapping.orientations[j],
                listed_rms,
                typical_rms,
                listed_correlation,
                typical_correlation,
            }
        })
        .collect();
    neurons.sort_by(|a, b| {
        let ratio = |s: &NeuronSummary| s.listed_rms / s.typical_rms.max(1e-9);
        ratio(b).total_cmp(&ratio(a))
    });

    let mean_of = |arm: &str, f: &dyn Fn(&ImageRecord, &ImageRecord) -> Option<f64>| {
        let v: Vec<f64> = records
            .iter()
            .filter(|r| r.condition == arm)
            .filter_map(|r| f(by_key.get(&(r.image.as_str(), "baseline"))?, r))
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let kl = |_: &ImageRecord, r: &ImageRecord| Some(r.kl);
    let loss = |n: &ImageRecord, r: &ImageRecord| Some(r.loss? - n.loss?);
    let mut leave_one_out = Vec::new();
    if options.leave_one_out {
        let full_kl = mean_of(&condition, &kl).unwrap_or(0.0);
        let full_loss = mean_of(&condition, &loss);
        for (channel, orientation_deg) in mapping.channels.iter().zip(&mapping.orientations) {
            let arm = format!("{condition}~natural-{channel}");
            let arm_kl = mean_of(&arm, &kl).unwrap_or(f64::NAN);
            leave_one_out.push(LeftNatural {
                channel: *channel,
                orientation_deg: *orientation_deg,
                kl: arm_kl,
                kl_drop: full_kl - arm_kl,
                kl_drop_share: if full_kl > 0.0 {
                    (full_kl - arm_kl) / full_kl
                } else {
                    0.0
                },
                loss_drop: full_loss.zip(mean_of(&arm, &loss)).map(|(a, b)| a - b),
            });
        }
        leave_one_out.sort_by(|a, b| b.kl_drop.total_cmp(&a.kl_drop));
    }
    Ok(ErrorAnalysis {
        leave_one_out,
        results: results.display().to_string(),
        split: options.split,
        condition,
        ranking: options.ranking,
        tap: tap.name(spec.model).to_string(),
        images: pairs.len(),
        broken,
        fixed,
        listed,
        neurons,
        reference_images: reference_set.len(),
    })
}

/// Per image (by key), every replaced neuron's natural and artificial activation compared.
fn neuron_differences(
    feed: &Feed<'_>,
    replacement: &CircuitReplacement,
    target: Tap,
    set: &ImageSet,
) -> Result<HashMap<String, Vec<NeuronDifference>>, EvalError> {
    let model = feed.model();
    let mapping = &replacement.mapping;
    let k = mapping.channels.len();
    let mut reads = replacement.circuit.reads();
    reads.push(target);
    let index: Vec<i64> = mapping.channels.iter().map(|c| *c as i64).collect();
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [k]), model.device());
    let mut out = HashMap::new();
    feed.recorded(set, &reads, |entries, taps| {
        let natural = taps[&target].clone().select(1, index.clone());
        let artificial = replacement.outputs(taps);
        let [n, _, h, w] = natural.dims();
        let vec = |t: Tensor<4>| {
            t.into_data()
                .try_to_vec::<f32>()
                .map_err(|e| EvalError::Results(format!("{e:?}")))
        };
        let (nat, art) = (vec(natural)?, vec(artificial)?);
        for (i, entry) in entries.iter().enumerate().take(n) {
            let neurons = (0..k)
                .map(|j| {
                    let at = (i * k + j) * h * w;
                    compare_maps(
                        mapping.channels[j],
                        mapping.orientations[j],
                        &nat[at..at + h * w],
                        &art[at..at + h * w],
                    )
                })
                .collect();
            out.insert(entry.key.clone(), neurons);
        }
        Ok(())
    })?;
    Ok(out)
}

fn compare_maps(
    channel: usize,
    orientation_deg: f64,
    nat: &[f32],
    art: &[f32],
) -> NeuronDifference {
    let n = nat.len().max(1) as f64;
    let mean = |v: &[f32]| v.iter().map(|x| f64::from(*x)).sum::<f64>() / n;
    let (mn, ma) = (mean(nat), mean(art));
    let (mut sxy, mut sxx, mut syy, mut sd) = (0.0, 0.0, 0.0, 0.0);
    for (x, y) in nat.iter().zip(art) {
        let (dx, dy) = (f64::from(*x) - mn, f64::from(*y) - ma);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
        sd += (f64::from(*y) - f64::from(*x)).powi(2);
    }
    let correlation = if sxx > 1e-12 && syy > 1e-12 {
        sxy / (sxx * syy).sqrt()
    } else {
        0.0
    };
    NeuronDifference {
        channel,
        orientation_deg,
        natural_mean: mn,
        artificial_mean: ma,
        rms_difference: (sd / n).sqrt(),
        correlation,
    }
}

/// The analysis as Markdown (what `aann errors` prints and writes next to the run).
pub fn errors_markdown(a: &ErrorAnalysis) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Where `{}` disagrees with the natural network\n\n{} {} images; the replacement broke the top-1 answer on {} and fixed it on {}. Images ranked by {}; activations compared at `{}`.\n",
        a.condition,
        a.images,
        a.split.name(),
        a.broken,
        a.fixed,
        match a.ranking {
            Ranking::Kl => "KL(natural ‖ replaced)",
            Ranking::Correctness => "changed top-1 correctness (broken first), then KL",
        },
        a.tap
    );
    let _ = writeln!(
        s,
        "## Neurons\n\nRMS difference of artificial from natural activation on the listed images and on {} typical {} images; mean correlation over positions. Worst relative to typical first.\n",
        a.reference_images,
        a.split.name()
    );
    let _ = writeln!(
        s,
        "| channel | orientation | RMS listed | RMS typical | ratio | r listed | r typical |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for n in &a.neurons {
        let _ = writeln!(
            s,
            "| {} | {:.0}° | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            n.channel,
            n.orientation_deg,
            n.listed_rms,
            n.typical_rms,
            n.listed_rms / n.typical_rms.max(1e-9),
            n.listed_correlation,
            n.typical_correlation
        );
    }
    if !a.leave_one_out.is_empty() {
        let _ = writeln!(
            s,
            "\n## Each neuron left natural\n\nThe replacement with one neuron natural and the other {} replaced, on the same {} images: how much lower its mean KL from the natural network is than with every neuron replaced. The neuron whose circuit costs the most first.\n",
            a.leave_one_out.len() - 1,
            a.images
        );
        let _ = writeln!(
            s,
            "| channel | orientation | mean KL | KL drop | share of the circuit's KL | loss drop |\n| ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for l in &a.leave_one_out {
            let _ = writeln!(
                s,
                "| {} | {:.0}° | {:.4} | {:+.4} | {:.1}% | {} |",
                l.channel,
                l.orientation_deg,
                l.kl,
                l.kl_drop,
                100.0 * l.kl_drop_share,
                l.loss_drop.map_or("–".to_string(), |d| format!("{d:+.4}"))
            );
        }
    }
    let _ = writeln!(s, "\n## Images\n");
    for (i, img) in a.listed.iter().enumerate() {
        let top = |v: &[(String, f64)]| {
            v.iter()
                .take(3)
                .map(|(c, p)| format!("{c} {:.0}%", p * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mark = |ok: Option<bool>| match ok {
            Some(true) => "right",
            Some(false) => "wrong",
            None => "unlabelled",
        };
        let _ = writeln!(
            s,
            "{}. **{}** ({}) — KL {:.3}, loss {}; natural {} ({}), replaced {} ({})",
            i + 1,
            img.image,
            img.label_name.as_deref().unwrap_or("unlabelled"),
            img.kl,
            img.loss_change
                .map_or("–".to_string(), |d| format!("{d:+.3}")),
            mark(img.natural_correct1),
            top(&img.natural_top5),
            mark(img.replaced_correct1),
            top(&img.replaced_top5),
        );
        let worst: Vec<String> = img
            .neurons
            .iter()
            .take(3)
            .map(|n| {
                format!(
                    "{} ({:.0}°): natural {:.2}, artificial {:.2}, RMS {:.2}, r {:.2}",
                    n.channel,
                    n.orientation_deg,
                    n.natural_mean,
                    n.artificial_mean,
                    n.rms_difference,
                    n.correlation
                )
            })
            .collect();
        let _ = writeln!(s, "   worst neurons: {}", worst.join("; "));
    }
    s
}

/// Write `errors-<condition>.json` and `.md` into the results folder.
pub fn write_errors(a: &ErrorAnalysis, results: &Path) -> Result<Vec<PathBuf>, EvalError> {
    let json = results.join(format!("errors-{}.json", a.condition));
    let md = results.join(format!("errors-{}.md", a.condition));
    std::fs::write(
        &json,
        serde_json::to_string_pretty(a).expect("analyses serialise"),
    )
    .map_err(|e| EvalError::write(&json, e))?;
    std::fs::write(&md, errors_markdown(a)).map_err(|e| EvalError::write(&md, e))?;
    Ok(vec![json, md])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neuron_left_natural_leaves_the_others_as_they_were() {
        let mapping = UnitMapping {
            channels: vec![9, 66, 206],
            units: vec![11, 5, 0],
            orientations: vec![175.3, 85.5, 11.3],
        };
        let calibration = Calibration {
            scope: "neuron".into(),
            fit: Default::default(),
            gains: vec![1.0, 2.0, 3.0],
            biases: vec![-0.1, -0.2, -0.3],
            split: "tune".into(),
            mse: vec![0.5, 0.6, 0.7],
            degenerate: vec![None, Some(aann_circuits::Degeneracy::ConstantOutput), None],
        };
        let (m, c) = drop_neuron(&mapping, &calibration, 1);
        assert_eq!(m.channels, [9, 206]);
        assert_eq!(m.units, [11, 0]);
        assert_eq!(m.orientations, [175.3, 11.3]);
        assert_eq!(c.gains, [1.0, 3.0]);
        assert_eq!(c.biases, [-0.1, -0.3]);
        assert_eq!(c.mse, [0.5, 0.7]);
        assert_eq!(c.degenerate, [None, None]);
    }

    #[test]
    fn identical_maps_have_no_difference_and_full_correlation() {
        let d = compare_maps(3, 90.0, &[0.0, 1.0, 2.0, 5.0], &[0.0, 1.0, 2.0, 5.0]);
        assert_eq!(d.rms_difference, 0.0);
        assert!((d.correlation - 1.0).abs() < 1e-12);
        let flat = compare_maps(3, 90.0, &[1.0; 4], &[0.0, 1.0, 2.0, 5.0]);
        assert_eq!(flat.correlation, 0.0);
        assert!((flat.artificial_mean - 2.0).abs() < 1e-12);
    }

    #[test]
    fn rankings_parse() {
        assert_eq!("kl".parse::<Ranking>(), Ok(Ranking::Kl));
        assert!("loss".parse::<Ranking>().unwrap_err().contains("`loss`"));
    }
}
