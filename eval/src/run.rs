//! Evaluating conditions over an image set into a results folder.

use std::path::Path;
use std::time::Instant;

use burn::tensor::{Tensor, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use aann_data::{ClassOrder, ImageSet, PrefetchConfig, Preprocess, prefetch};
use aann_model::InceptionV1;

use crate::EvalError;
use crate::evaluator::Evaluator;
use crate::metrics::OutputClasses;
use crate::records::{FailureRecord, RecordStore, RunManifest};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub batch_size: usize,
    /// Threads decoding images ahead of the model.
    pub decode_threads: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Stop (as if interrupted) after this many batches: for tests of resumption.
    pub stop_after_batches: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            batch_size: 16,
            decode_threads: 1,
            progress: true,
            stop_after_batches: None,
        }
    }
}

/// What a call to [`run_conditions`] did.
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Images evaluated by this call (not counting those already in the folder).
    pub images_evaluated: usize,
    /// Images skipped because every condition already had a record.
    pub images_resumed: usize,
    /// Images that failed to decode in this call.
    pub failures: usize,
    pub seconds: f64,
    /// Whether the run stopped early (see [`RunOptions::stop_after_batches`]).
    pub interrupted: bool,
}

impl RunStats {
    pub fn images_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.images_evaluated as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// A progress bar with images/s and ETA, hidden when not wanted.
pub fn progress_bar(len: u64, message: &str, visible: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} images ({per_sec}, ETA {eta})",
        )
        .expect("valid template"),
    );
    bar.set_message(message.to_string());
    bar
}

/// Evaluate every condition of `evaluator` on `set`, appending records to `out_dir`.
/// Images already complete in the folder are skipped; the manifest must match.
#[allow(clippy::too_many_arguments)]
pub fn run_conditions(
    model: &InceptionV1,
    evaluator: &Evaluator<'_>,
    set: &ImageSet,
    preprocess: &Preprocess,
    order: &ClassOrder,
    manifest: &RunManifest,
    out_dir: &Path,
    options: &RunOptions,
) -> Result<RunStats, EvalError> {
    let mut store = RecordStore::open(out_dir, manifest)?;
    let names: Vec<String> = evaluator.condition_names();
    let todo = set.filter(|e| !store.is_complete(&e.key, &names));
    let resumed = set.len() - todo.len();
    let classes = OutputClasses::new(order);
    let bar = progress_bar(todo.len() as u64, "evaluating", options.progress);
    let start = Instant::now();
    let mut stats = RunStats {
        images_evaluated: 0,
        images_resumed: resumed,
        failures: 0,
        seconds: 0.0,
        interrupted: false,
    };
    if todo.is_empty() {
        bar.finish_and_clear();
        return Ok(stats);
    }
    let batches = prefetch(
        &todo,
        *preprocess,
        PrefetchConfig {
            batch_size: options.batch_size,
            batches_ahead: 2,
            start: 0,
            threads: Some(options.decode_threads.max(1)),
        },
    )?;
    for (i, batch) in batches.enumerate() {
        if options.stop_after_batches == Some(i) {
            stats.interrupted = true;
            break;
        }
        for f in &batch.failures {
            store.append_failure(FailureRecord {
                image: f.entry.key.clone(),
                path: f.entry.path.display().to_string(),
                reason: f.reason.to_string(),
            })?;
            stats.failures += 1;
        }
        if !batch.entries.is_empty() {
            let shape = batch.shape();
            let input = Tensor::<4>::from_data(
                TensorData::new(batch.pixels.clone(), shape),
                model.device(),
            );
            let keys: Vec<String> = batch.entries.iter().map(|e| e.key.clone()).collect();
            let logits = evaluator.evaluate(input, &keys)?;
            let logits: Vec<Vec<f32>> = logits
                .into_iter()
                .map(|l| l.into_data().try_to_vec::<f32>().expect("f32 logits"))
                .collect();
            let outputs = classes.num_outputs();
            let mut records = Vec::with_capacity(keys.len() * names.len());
            for (j, entry) in batch.entries.iter().enumerate() {
                let base = &logits[0][j * outputs..(j + 1) * outputs];
                for (c, name) in names.iter().enumerate() {
                    if store.has(&entry.key, name) {
                        continue;
                    }
                    let l = &logits[c][j * outputs..(j + 1) * outputs];
                    records.push(classes.record(&entry.key, name, entry.label, l, base));
                }
            }
            store.append(&records)?;
            stats.images_evaluated += batch.entries.len();
        }
        bar.inc(batch.attempted as u64);
    }
    bar.finish_and_clear();
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}
