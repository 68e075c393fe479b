//! Stage 3, evaluate on test: every arm on every test image, with prefix reuse, into the
//! results folder's records (resumable; one part of it for a shard), then the records read
//! back as one table of outcomes.

use std::path::PathBuf;

use aann_stats::ConditionOutcomes;

use super::ExperimentOptions;
use super::inputs::Inputs;
use crate::EvalError;
use crate::lab::{Arm, ArmInfo, Feed};
use crate::records::{FailureRecord, read_failures};
use crate::run::{RunOptions, RunStats, prepare_folder, run_arms};
use crate::spec::ExperimentSpec;
use crate::summary::{RecordTable, RunSummary, summarize_outcomes};

/// The main run: its arms as the results describe them, and what the run did.
pub struct MainRun {
    pub out: PathBuf,
    /// The arms, baseline first, each with its kind.
    pub arms: Vec<ArmInfo>,
    pub names: Vec<String>,
    pub stats: RunStats,
    /// How the nulls' sub-runs go: like the main run.
    pub options: RunOptions,
}

/// Evaluate `arms` on the test split into `run.out` (after discarding an earlier run for
/// `--fresh`, or uniting the shards of `--merge`).
pub fn main_run(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    arms: Vec<Arm>,
    options: &ExperimentOptions,
) -> Result<MainRun, EvalError> {
    let out = PathBuf::from(&spec.run.out);
    prepare_folder(&out, options.fresh, &options.merge, feed.progress())?;
    let run_options = RunOptions {
        progress: feed.progress(),
        shard: options.shard,
        arms_per_pass: spec.run.arms_per_pass,
        ..Default::default()
    };
    let run = run_arms(
        feed,
        arms,
        &inputs.test,
        &inputs.order,
        &out,
        settings(inputs, spec, options),
        &run_options,
    )?;
    Ok(MainRun {
        out,
        arms: run.arms,
        names: run.names,
        stats: run.stats,
        options: run_options,
    })
}

/// What a results folder must have been run with to be resumed: everything that decides
/// the arms, besides the model, the weights, the test images and the preprocessing.
fn settings(
    inputs: &Inputs,
    spec: &ExperimentSpec,
    options: &ExperimentOptions,
) -> serde_json::Value {
    let mut settings = serde_json::json!({
        "target": spec.target,
        "ablations": spec.ablations,
        "circuits": spec.circuits,
        "controls": spec.controls,
        "calibration_images_sha256": inputs.calibration.digest.list_sha256,
        "files": inputs.files,
        "resample_seed": spec.ablations.resample.then_some(spec.statistics.seed),
        "batch_size": spec.run.batch_size,
        "evaluated_on": options.evaluated_on,
    });
    // Only when there is one, so that runs from before lineages existed still resume.
    if let Some(l) = &spec.lineage {
        settings["lineage"] = serde_json::json!(l);
    }
    if let Some(l) = &spec.ladder {
        settings["ladder"] = serde_json::json!(l);
    }
    if let Some(n) = &spec.single_neurons {
        settings["single_neurons"] = serde_json::json!(n);
    }
    settings
}

/// The main run's records, read back: the table, the images that failed to decode, and
/// one set of outcome vectors for the summary, the fractions and the comparisons.
pub struct Records {
    pub table: RecordTable,
    pub failures: Vec<FailureRecord>,
    pub summary: RunSummary,
    pub outcomes: Vec<ConditionOutcomes>,
}

impl Records {
    pub fn read(main: &MainRun, inputs: &Inputs, spec: &ExperimentSpec) -> Result<Self, EvalError> {
        let table = RecordTable::read(&main.out, &main.names)?;
        let failures = read_failures(&main.out)?;
        for f in &failures {
            eprintln!("skipped (cannot be decoded): {}: {}", f.path, f.reason);
        }
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
                    inputs.test.images.len()
                ))
            })?;
        Ok(Records {
            table,
            failures,
            summary,
            outcomes,
        })
    }
}
