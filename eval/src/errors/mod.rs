//! Error analysis of a finished experiment: the images where a replacement and the natural
//! network disagree most, and, on each, how every replaced neuron's artificial activity
//! differs from its natural activity. This is the back-and-forth that improves a circuit:
//! find where it fails, look at which neurons it gets wrong there, change the motif, rerun.
//!
//! Nothing is refitted: the circuit is rebuilt from the run's resolved spec, with the
//! calibration and unit mapping the run recorded in `summary.json`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use aann_circuits::{CircuitReplacement, UnitMapping};
use aann_data::{ImageSet, Synsets};
use aann_model::Tap;

use crate::EvalError;
use crate::circuits::CircuitRegistry;
use crate::experiment::session_config;
use crate::lab::{BASELINE, channel_index};
use crate::lab::{DeviceChoice, Feed, Session, SessionConfig};
use crate::metrics::ImageRecord;
use crate::spec::Split;

mod markdown;
mod open;

pub use markdown::{errors_markdown, write_errors};
use open::{Opened, open_run};

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
    /// The circuits the run's spec may name (default: the shipped ones).
    pub circuits: CircuitRegistry,
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
            circuits: CircuitRegistry::shipped(),
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

/// Analyse a finished results folder.
pub fn analyse_errors(results: &Path, options: &ErrorOptions) -> Result<ErrorAnalysis, EvalError> {
    let (spec, recorded) = open_run(results, options.condition.as_deref(), &options.circuits)?;
    let session = Session::open(&session_config(
        &spec,
        SessionConfig {
            data_root: options.data_root.clone(),
            cache_dir: options.cache_dir.clone(),
            device: options.device,
            progress: options.progress,
            ..SessionConfig::new(spec.model)
        },
    ))?
    .with_circuits(options.circuits.clone());
    let run = Opened::rebuild(results, &spec, &session, recorded, options)?;
    let records = run.records(options)?;
    let ranked = rank(results, &records, &run.condition, options)?;

    let listed_keys: Vec<&str> = ranked
        .listed
        .iter()
        .map(|(n, _)| n.image.as_str())
        .collect();
    let listed_set = run.images.filter(|e| listed_keys.contains(&e.key.as_str()));
    let listed_diffs = neuron_differences(&run.feed, &run.replacement, run.tap, &listed_set)?;
    let reference_set = run.images.limit(options.reference_images);
    let reference_diffs = neuron_differences(&run.feed, &run.replacement, run.tap, &reference_set)?;

    let mapping = &run.replacement.mapping;
    let listed = error_images(&ranked.listed, &listed_diffs, &run.synsets);
    let neurons = neuron_summaries(mapping, &listed_diffs, &reference_diffs);
    let leave_one_out = if options.leave_one_out {
        left_natural(&records, &run.condition, mapping)
    } else {
        Vec::new()
    };
    Ok(ErrorAnalysis {
        leave_one_out,
        results: results.display().to_string(),
        split: options.split,
        ranking: options.ranking,
        tap: run.tap.name(spec.model).to_string(),
        images: ranked.images,
        broken: ranked.broken,
        fixed: ranked.fixed,
        listed,
        neurons,
        reference_images: reference_set.len(),
        condition: run.condition,
    })
}

/// Natural and replaced records of one image.
type Pair<'r> = (&'r ImageRecord, &'r ImageRecord);

/// The analysed images, ranked.
struct Ranked<'r> {
    /// How many images have records of the condition next to the baseline, and on how
    /// many of them the replacement broke and fixed the top-1 answer.
    images: usize,
    broken: usize,
    fixed: usize,
    /// The `top` listed, first first.
    listed: Vec<Pair<'r>>,
}

/// The records of `condition` paired with the baseline's of the same image.
fn baseline_pairs<'r>(records: &'r [ImageRecord], condition: &str) -> Vec<Pair<'r>> {
    let by_key: HashMap<(&str, &str), &ImageRecord> = records
        .iter()
        .map(|r| ((r.image.as_str(), r.condition.as_str()), r))
        .collect();
    records
        .iter()
        .filter(|r| r.condition == condition)
        .filter_map(|r| Some((*by_key.get(&(r.image.as_str(), BASELINE))?, r)))
        .collect()
}

/// Rank the images from the records.
fn rank<'r>(
    results: &Path,
    records: &'r [ImageRecord],
    condition: &str,
    options: &ErrorOptions,
) -> Result<Ranked<'r>, EvalError> {
    let pairs = baseline_pairs(records, condition);
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
    let mut ranked: Vec<Pair<'r>> = match options.ranking {
        Ranking::Kl => pairs.clone(),
        Ranking::Correctness => pairs
            .iter()
            .copied()
            .filter(|(n, r)| n.correct1.is_some() && n.correct1 != r.correct1)
            .collect(),
    };
    ranked.sort_by(|a, b| {
        let changed = |(n, _): &Pair<'_>| match options.ranking {
            // Broken (natural right) before fixed.
            Ranking::Correctness => u8::from(n.correct1 != Some(true)),
            Ranking::Kl => 0,
        };
        changed(a).cmp(&changed(b)).then(b.1.kl.total_cmp(&a.1.kl))
    });
    ranked.truncate(options.top);
    Ok(Ranked {
        images: pairs.len(),
        broken,
        fixed,
        listed: ranked,
    })
}

/// The listed images, each with its neurons worst first.
fn error_images(
    ranked: &[Pair<'_>],
    diffs: &HashMap<String, Vec<NeuronDifference>>,
    synsets: &Synsets,
) -> Vec<ErrorImage> {
    let name = |c: usize| synsets.short_name(c).unwrap_or("?").to_string();
    ranked
        .iter()
        .map(|(n, r)| {
            let mut neurons = diffs.get(n.image.as_str()).cloned().unwrap_or_default();
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
        .collect()
}

/// Each neuron's error on the listed images against the reference images, worst
/// relative to typical first.
fn neuron_summaries(
    mapping: &UnitMapping,
    listed: &HashMap<String, Vec<NeuronDifference>>,
    reference: &HashMap<String, Vec<NeuronDifference>>,
) -> Vec<NeuronSummary> {
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
            let (listed_rms, listed_correlation) = average(listed, j);
            let (typical_rms, typical_correlation) = average(reference, j);
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
    neurons
}

/// Each neuron left natural against the full replacement `condition`, from the records
/// of the leave-one-out arms; the neuron whose return helps most first.
fn left_natural(
    records: &[ImageRecord],
    condition: &str,
    mapping: &UnitMapping,
) -> Vec<LeftNatural> {
    let by_key: HashMap<(&str, &str), &ImageRecord> = records
        .iter()
        .map(|r| ((r.image.as_str(), r.condition.as_str()), r))
        .collect();
    let mean_of = |arm: &str, f: &dyn Fn(&ImageRecord, &ImageRecord) -> Option<f64>| {
        let v: Vec<f64> = records
            .iter()
            .filter(|r| r.condition == arm)
            .filter_map(|r| f(by_key.get(&(r.image.as_str(), BASELINE))?, r))
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let kl = |_: &ImageRecord, r: &ImageRecord| Some(r.kl);
    let loss = |n: &ImageRecord, r: &ImageRecord| Some(r.loss? - n.loss?);
    let full_kl = mean_of(condition, &kl).unwrap_or(0.0);
    let full_loss = mean_of(condition, &loss);
    let mut leave_one_out = Vec::new();
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
    leave_one_out
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
    let index = channel_index(&mapping.channels, model.device());
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

#[cfg(test)]
mod tests {
    use super::*;

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
