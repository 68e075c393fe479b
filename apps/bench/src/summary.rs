//! The summary step at the scale of the full validation set: a synthetic `records.jsonl`
//! of N images × K arms (the shape an experiment writes) is streamed into the summary's
//! [`RecordTable`], summarised, and bootstrapped for every arm's fraction recovered, as
//! `aann experiment` does at the end of a run. Reported: seconds per stage, the records
//! file's size and the process's peak memory, which should not grow with the file.
//!
//! Peak memory is per process, so one size is measured per run (`aann bench
//! --summary-images N`); nothing else runs in that process.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde_json::{Value, json};

use aann_eval::lab::provenance::RESULTS_VERSION;
use aann_eval::lab::provenance::peak_memory_mib;
use aann_eval::lab::{Ablation, ArmInfo, ArmKind, BASELINE};
use aann_eval::metrics::ImageRecord;
use aann_eval::records::read_records;
use aann_eval::records::{RunManifest, merge_shards};
use aann_eval::summary::{RecordTable, summarize};
use aann_stats::{BootstrapConfig, BootstrapInterval, ConditionOutcomes, Metric, PairedBootstrap};

/// A small deterministic generator (SplitMix64) for the synthetic outcomes.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The arms: the baseline, the zero ablation, then `arms − 2` replacements and controls.
fn arm_names(arms: usize) -> Vec<String> {
    let mut names = vec![BASELINE.to_string(), Ablation::Zero.arm_name().to_string()];
    names.extend((2..arms).map(|i| format!("arm-{i:02}")));
    names
}

/// A synthetic `records.jsonl` of `images` images, every arm of `names` on each.
fn write_records(path: &Path, names: &[String], images: usize) -> anyhow::Result<()> {
    write_shard(path, names, images, 0, 1)
}

/// The images `index`, `index + count`, … of a synthetic run of `images` images (the same
/// records a whole run has at those images), as one shard's `records.jsonl`.
fn write_shard(
    path: &Path,
    names: &[String],
    images: usize,
    index: usize,
    count: usize,
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut out = BufWriter::new(file);
    let mut rng = SplitMix(0x5EED);
    for i in 0..images {
        let mine = i % count == index;
        let label = (rng.next() % 1000) as usize;
        let base_loss = 3.0 * rng.unit();
        for (k, condition) in names.iter().enumerate() {
            // The ablation costs most, the arms something in between.
            let extra = match k {
                0 => 0.0,
                1 => 0.2 * rng.unit(),
                _ => 0.05 * rng.unit(),
            };
            let loss = base_loss + extra;
            let top5: Vec<usize> = (0..5).map(|_| (rng.next() % 1000) as usize).collect();
            if !mine {
                continue;
            }
            let record = ImageRecord {
                image: format!("ILSVRC2012_val_{:08}", i + 1),
                condition: condition.clone(),
                label: Some(label),
                correct1: Some(loss < 0.7),
                correct5: Some(loss < 2.0),
                loss: Some(loss),
                kl: extra * 0.5,
                top5,
                top5_prob: vec![0.5, 0.2, 0.1, 0.05, 0.02],
                true_logit: Some(10.0 - loss),
            };
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Bootstrap every arm's fraction recovered on every metric, as a run's summary does;
/// how many fractions.
fn bootstrap_fractions(
    outcomes: &[ConditionOutcomes],
    names: &[String],
    resamples: usize,
) -> anyhow::Result<usize> {
    let boot = PairedBootstrap::from_conditions(
        outcomes,
        BootstrapConfig {
            resamples,
            seed: 0,
            level: 0.95,
            interval: BootstrapInterval::Bca,
        },
    )?;
    let mut fractions = 0;
    for arm in &names[2..] {
        for metric in [
            Metric::CrossEntropy,
            Metric::KlFromBaseline,
            Metric::Top1Accuracy,
            Metric::Top5Accuracy,
        ] {
            boot.fraction_recovered(metric, arm, Ablation::Zero.arm_name(), BASELINE)?;
            fractions += 1;
        }
    }
    Ok(fractions)
}

/// The manifest of a synthetic run's folder (every shard's is the same run's).
fn manifest(names: &[String], images: usize) -> RunManifest {
    let conditions = names
        .iter()
        .enumerate()
        .map(|(k, name)| match k {
            0 => ArmInfo::baseline(),
            1 => ArmInfo {
                name: name.clone(),
                kind: ArmKind::Ablate {
                    ablation: Ablation::Zero,
                },
                description: "synthetic".into(),
            },
            _ => ArmInfo {
                name: name.clone(),
                kind: ArmKind::Replace {
                    circuit: name.clone(),
                },
                description: "synthetic".into(),
            },
        })
        .collect();
    RunManifest {
        results_version: RESULTS_VERSION.into(),
        model: "synthetic".into(),
        weights_sha256: "synthetic".into(),
        image_set: "synthetic".into(),
        images,
        images_sha256: format!("synthetic-{images}"),
        preprocess: "synthetic".into(),
        conditions,
        settings: json!({}),
    }
}

/// `shards` shard folders of a synthetic run, merged into `dir` as `aann experiment
/// --merge` does; seconds to write and to merge.
fn write_and_merge(
    dir: &Path,
    names: &[String],
    images: usize,
    shards: usize,
) -> anyhow::Result<(f64, f64)> {
    let manifest = manifest(names, images);
    let t = Instant::now();
    let mut folders = Vec::new();
    for index in 0..shards {
        let folder = dir.join(format!("shard-{index}"));
        std::fs::create_dir_all(&folder)?;
        std::fs::write(
            folder.join("manifest.json"),
            serde_json::to_string(&manifest)?,
        )?;
        write_shard(&folder.join("records.jsonl"), names, images, index, shards)?;
        folders.push(folder);
    }
    let write_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = merge_shards(dir, &folders)?;
    anyhow::ensure!(
        report.records == images * names.len() && report.duplicates == 0,
        "the merge wrote {} records ({} duplicates) of {}",
        report.records,
        report.duplicates,
        images * names.len()
    );
    for folder in folders {
        std::fs::remove_dir_all(folder).ok();
    }
    Ok((write_seconds, t.elapsed().as_secs_f64()))
}

/// Time the summary step on `images` × `arms` synthetic records; returns the JSON row.
/// With `in_memory`, the records are first read into memory whole and the table built
/// from them (how summaries were made before they streamed), for comparison. With
/// `shards` > 1, the records are written as that many shards' folders and merged first
/// (`merge_shards`), the merge's time and peak memory reported on their own.
pub fn summary_case(
    images: usize,
    arms: usize,
    resamples: usize,
    in_memory: bool,
    shards: usize,
) -> anyhow::Result<Value> {
    anyhow::ensure!(
        arms >= 3,
        "--summary-arms: at least 3 (baseline, ablation, one arm)"
    );
    anyhow::ensure!(images >= 2, "--summary-images: at least 2");
    let names = arm_names(arms);
    let dir = std::env::temp_dir().join(format!("aann-bench-summary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("records.jsonl");
    let memory_before = peak_memory_mib();

    // Write the records as a run does, image by image, all arms of an image together (or
    // as the shards of a sharded run, then merged).
    let (write_seconds, merge_seconds) = if shards > 1 {
        let (w, m) = write_and_merge(&dir, &names, images, shards)?;
        (w, Some(m))
    } else {
        let t = Instant::now();
        write_records(&path, &names, images)?;
        (t.elapsed().as_secs_f64(), None)
    };
    let memory_after_merge = peak_memory_mib();
    let file_mib = std::fs::metadata(&path)?.len() as f64 / (1024.0 * 1024.0);

    let t = Instant::now();
    let table = if in_memory {
        let records = read_records(&dir)?;
        RecordTable::from_records(&records, &names)
    } else {
        RecordTable::read(&dir, &names)?
    };
    let read_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let summary = summarize(&table, 0.95)?;
    let summary_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (_, outcomes) = table.outcomes()?;
    let fractions = bootstrap_fractions(&outcomes, &names, resamples)?;
    let bootstrap_seconds = t.elapsed().as_secs_f64();
    let memory_after = peak_memory_mib();
    std::fs::remove_dir_all(&dir).ok();
    anyhow::ensure!(
        summary.images == images,
        "the summary counted {} images of {images}",
        summary.images
    );

    println!(
        "summary step{}: {images} images × {arms} arms; records file {file_mib:.0} MiB (written in {write_seconds:.1} s)",
        if in_memory {
            " (records read into memory first)"
        } else {
            ""
        }
    );
    if let Some(merge) = merge_seconds {
        println!(
            "  written as {shards} shards' folders; merged in {merge:.1} s, peak memory by then {} MiB",
            memory_after_merge.map_or("?".into(), |m| format!("{m:.0}"))
        );
    }
    println!(
        "  stream into the table {read_seconds:.2} s, summarise {summary_seconds:.2} s, bootstrap ({resamples} resamples) and {fractions} fractions {bootstrap_seconds:.2} s"
    );
    if let (Some(before), Some(after)) = (memory_before, memory_after) {
        println!("  peak memory {after:.0} MiB (the process before the step: {before:.0} MiB)");
    }
    Ok(json!({
        "case": if in_memory { "summary step, records in memory" } else { "summary step, streamed" },
        "images": images,
        "arms": arms,
        "records_file_mib": file_mib,
        "write_seconds": write_seconds,
        "shards": shards.max(1),
        "merge_seconds": merge_seconds,
        "peak_memory_mib_after_merge": memory_after_merge,
        "read_seconds": read_seconds,
        "summarize_seconds": summary_seconds,
        "bootstrap_seconds": bootstrap_seconds,
        "resamples": resamples,
        "fractions": fractions,
        "peak_memory_mib_before": memory_before,
        "peak_memory_mib": memory_after,
    }))
}
