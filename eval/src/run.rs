//! Evaluating conditions over an image set into a results folder.

use std::path::Path;
use std::time::Instant;

use aann_data::{ClassOrder, ContentDigest, ImageSet, content_digest};

use crate::EvalError;
use crate::evaluator::Evaluator;
use crate::lab::arm::into_conditions;
use crate::lab::feed::describe_set;
pub use crate::lab::feed::progress_bar;
use crate::lab::feed::{Feed, Flow};
use crate::lab::{Arm, ArmInfo};
use crate::metrics::{ImageRecord, OutputClasses};
use crate::records::{FailureRecord, RecordStore, RunManifest, discard_run, merge_shards};

/// How a run goes besides its feed (which holds the batch size and the preprocessing).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Stop (as if interrupted) after this many batches: for tests of resumption.
    pub stop_after_batches: Option<usize>,
    /// Evaluate only one part of the set (the images at positions `index`, `index + count`,
    /// …): one job of a sharded run. Its folder is an incomplete run of the whole set,
    /// which [`crate::records::merge_shards`] unites with the other parts.
    pub shard: Option<Shard>,
    /// Arms whose suffixes run stacked in one batch ([`Evaluator::with_arms_per_pass`]);
    /// applied by the callers that build the evaluator from these options.
    pub arms_per_pass: usize,
    /// What the progress bar says the run does (`evaluating` when none).
    pub label: Option<&'static str>,
}

impl RunOptions {
    fn label(&self) -> &'static str {
        self.label.unwrap_or("evaluating")
    }
}

/// One deterministic part of an image set, `index` of `count` (0-based): the set's batches
/// `index`, `index + count`, `index + 2·count`, … (in the set's order, at the run's batch
/// size), so each part samples the whole set, and every image is evaluated in the very batch
/// an unsharded run puts it in: the records are then bit for bit the same (a batch of
/// another size may round the last bits of a logit differently). Written `index/count`,
/// e.g. `--shard 3/8` or `--shard $SLURM_ARRAY_TASK_ID/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether the image at `position` of a set run in batches of `batch` is this shard's.
    pub fn contains(&self, position: usize, batch: usize) -> bool {
        (position / batch.max(1)) % self.count == self.index
    }

    /// The part of `set` this shard evaluates, at batch size `batch`.
    pub fn of(&self, set: &ImageSet, batch: usize) -> ImageSet {
        let keys: std::collections::HashSet<String> = set
            .iter()
            .enumerate()
            .filter(|(i, _)| self.contains(*i, batch))
            .map(|(_, e)| e.key.clone())
            .collect();
        set.filter(|e| keys.contains(&e.key))
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    /// `INDEX/COUNT`, or `auto` / `auto/COUNT` from the scheduler ([`Shard::from_arg`]).
    fn from_str(s: &str) -> Result<Self, String> {
        Shard::from_arg(s, |name| std::env::var(name).ok())
    }
}

impl Shard {
    /// A shard as typed: `INDEX/COUNT` (0-based), or `auto` — the index and count a
    /// scheduler gives its job: a SLURM job array's `SLURM_ARRAY_TASK_ID` (less
    /// `SLURM_ARRAY_TASK_MIN`) of `SLURM_ARRAY_TASK_COUNT`; with the count fixed as
    /// `auto/COUNT`, the array id itself (so one shard can be submitted again alone), or a
    /// Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`. `env` reads a variable.
    pub fn from_arg(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let (head, count) = match s.split_once('/') {
            Some((h, c)) => (h.trim(), Some(c.trim())),
            None => (s.trim(), None),
        };
        if head != "auto" {
            return Self::explicit(s, head, count);
        }
        let number = |name: &str| -> Result<Option<usize>, String> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("--shard auto: {name} = `{v}` is not a whole number"))
                })
                .transpose()
        };
        let given = count
            .map(|c| {
                c.parse::<usize>().map_err(|_| {
                    format!("--shard `{s}`: the count after `auto/` must be a whole number")
                })
            })
            .transpose()?;
        let (index, count) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            match given {
                // The array's ids are the shards' indices, so that one shard can be
                // submitted again on its own (`sbatch --array=K`).
                Some(count) => (id, count),
                // The whole array at once: its ids from SLURM_ARRAY_TASK_MIN on.
                None => {
                    let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
                    let count = number("SLURM_ARRAY_TASK_COUNT")?.ok_or(
                        "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT \
                         is not; give the count as --shard auto/COUNT",
                    )?;
                    let index = id
                        .checked_sub(min)
                        .ok_or("--shard auto: SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?;
                    (index, count)
                }
            }
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = given.ok_or(
                "--shard auto: JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) gives the index \
                 only; give the job's completions as --shard auto/COUNT",
            )?;
            (index, count)
        } else {
            return Err(
                "--shard auto reads the shard from a scheduler, but none is set: neither \
                 SLURM_ARRAY_TASK_ID (a SLURM job array) nor JOB_COMPLETION_INDEX (a Kubernetes \
                 Indexed Job); give the shard as INDEX/COUNT, e.g. --shard 0/4"
                    .into(),
            );
        };
        if count == 0 || index >= count {
            return Err(format!(
                "--shard auto: the scheduler gives index {index} of {count} jobs; an index runs \
                 from 0 to COUNT − 1 (is the array's range 0-{}?)",
                count.max(1) - 1
            ));
        }
        Ok(Shard { index, count })
    }

    fn explicit(s: &str, index: &str, count: Option<&str>) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{s}`: a shard is INDEX/COUNT with 0 ≤ INDEX < COUNT (0-based), e.g. `0/4` … \
                 `3/4`, or `auto` in a SLURM job array"
            )
        };
        let count = count.ok_or_else(bad)?;
        if count.contains('/') {
            return Err(bad());
        }
        let index: usize = index.parse().map_err(|_| bad())?;
        let count: usize = count.parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            progress: true,
            stop_after_batches: None,
            shard: None,
            arms_per_pass: 1,
            label: None,
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

/// One evaluated batch: its records (every condition of every decoded image, baseline
/// first) and the images that failed to decode.
struct BatchRecords {
    records: Vec<ImageRecord>,
    failures: Vec<FailureRecord>,
    attempted: usize,
}

/// The loop that runs conditions over images: the feed's batches, every condition of each
/// evaluated with prefix reuse, logits turned into records, each batch handed to `sink`
/// (which returns `false` to stop early). Records of the results folder and the in-memory
/// runs of claims both come from here.
fn evaluate_batches(
    feed: &Feed<'_>,
    evaluator: &Evaluator<'_>,
    set: &ImageSet,
    order: &ClassOrder,
    mut sink: impl FnMut(usize, BatchRecords) -> Result<bool, EvalError>,
) -> Result<(), EvalError> {
    let names: Vec<String> = evaluator.condition_names();
    let classes = OutputClasses::new(order);
    let outputs = classes.num_outputs();
    feed.batches(set, |fed| {
        let batch = fed.batch;
        let failures = batch
            .failures
            .iter()
            .map(|f| FailureRecord {
                image: f.entry.key.clone(),
                path: f.entry.path.display().to_string(),
                reason: f.reason.to_string(),
            })
            .collect();
        let mut records = Vec::with_capacity(batch.entries.len() * names.len());
        if let Some(input) = fed.input {
            let keys: Vec<String> = batch.entries.iter().map(|e| e.key.clone()).collect();
            let logits: Vec<Vec<f32>> = evaluator
                .evaluate(input, &keys)?
                .into_iter()
                .map(|l| l.into_data().try_to_vec::<f32>().expect("f32 logits"))
                .collect();
            for (j, entry) in batch.entries.iter().enumerate() {
                let base = &logits[0][j * outputs..(j + 1) * outputs];
                for (c, name) in names.iter().enumerate() {
                    let l = &logits[c][j * outputs..(j + 1) * outputs];
                    records.push(classes.record(&entry.key, name, entry.label, l, base));
                }
            }
        }
        let go_on = sink(
            fed.index,
            BatchRecords {
                records,
                failures,
                attempted: batch.attempted,
            },
        )?;
        Ok(if go_on { Flow::Continue } else { Flow::Stop })
    })
}

/// `bar`, hidden unless the run shows progress.
fn visible(bar: indicatif::ProgressBar, progress: bool) -> indicatif::ProgressBar {
    if !progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// Evaluate every condition of `evaluator` on `set`, keeping the records in memory (for
/// measurements that need no results folder, such as claims). Returns the records and the
/// number of images that failed to decode.
pub fn run_in_memory(
    feed: &Feed<'_>,
    evaluator: &Evaluator<'_>,
    set: &ImageSet,
    order: &ClassOrder,
    options: &RunOptions,
) -> Result<(Vec<ImageRecord>, usize), EvalError> {
    let bar = visible(feed.bar(set.len(), options.label()), options.progress);
    let mut records = Vec::new();
    let mut failures = 0;
    evaluate_batches(feed, evaluator, set, order, |_, b| {
        failures += b.failures.len();
        records.extend(b.records);
        bar.inc(b.attempted as u64);
        Ok(true)
    })?;
    bar.finish_and_clear();
    Ok((records, failures))
}

/// Evaluate every condition of `evaluator` on `set`, appending records to `out_dir`.
/// Images already complete in the folder are skipped; the manifest must match.
pub fn run_conditions(
    feed: &Feed<'_>,
    evaluator: &Evaluator<'_>,
    set: &ImageSet,
    order: &ClassOrder,
    manifest: &RunManifest,
    out_dir: &Path,
    options: &RunOptions,
) -> Result<RunStats, EvalError> {
    let mut store = RecordStore::open(out_dir, manifest)?;
    let names: Vec<String> = evaluator.condition_names();
    let part = match options.shard {
        Some(shard) => shard.of(set, feed.batch_size),
        None => set.clone(),
    };
    let todo = part.filter(|e| !store.is_complete(&e.key, &names));
    let resumed = part.len() - todo.len();
    let bar = visible(feed.bar(todo.len(), options.label()), options.progress);
    let start = Instant::now();
    let mut stats = RunStats {
        images_evaluated: 0,
        images_resumed: resumed,
        failures: 0,
        seconds: 0.0,
        interrupted: false,
    };
    evaluate_batches(feed, evaluator, &todo, order, |i, b| {
        if options.stop_after_batches == Some(i) {
            stats.interrupted = true;
            return Ok(false);
        }
        for f in b.failures {
            store.append_failure(f)?;
            stats.failures += 1;
        }
        let images = b.records.len() / names.len().max(1);
        // Only the pairs the folder lacks are written (an image may be partly done).
        store.append(&b.records)?;
        stats.images_evaluated += images;
        bar.inc(b.attempted as u64);
        Ok(true)
    })?;
    bar.finish_and_clear();
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}

/// An image set with the digest of its contents, computed once and named in the manifests
/// of every run over it.
pub struct DigestedSet {
    pub images: ImageSet,
    pub digest: ContentDigest,
}

impl DigestedSet {
    /// `images` with the digest of their files' bytes.
    pub fn new(images: ImageSet) -> Result<Self, EvalError> {
        let digest = content_digest(&images)?;
        Ok(DigestedSet { images, digest })
    }
}

/// A run of typed arms: the arms as the results describe them (baseline first), their
/// names, and what the run did.
pub struct ArmsRun {
    pub arms: Vec<ArmInfo>,
    pub names: Vec<String>,
    pub stats: RunStats,
}

/// The one way to run arms into a results folder (the experiment, its nulls, `aann
/// ablate`): the arms become conditions with prefix reuse, the folder's manifest says what
/// was run (`settings`: whatever else decides the records), and every arm is evaluated on
/// every image of `set` not already recorded there.
pub fn run_arms(
    feed: &Feed<'_>,
    arms: Vec<Arm>,
    set: &DigestedSet,
    order: &ClassOrder,
    out: &Path,
    settings: serde_json::Value,
    options: &RunOptions,
) -> Result<ArmsRun, EvalError> {
    let DigestedSet {
        images: set,
        digest,
    } = set;
    let session = feed.session;
    let variant = session.variant();
    let (conditions, arm_info) = into_conditions(arms, variant);
    let evaluator =
        Evaluator::new(feed.model(), conditions)?.with_arms_per_pass(options.arms_per_pass);
    let names = evaluator.condition_names();
    let manifest = RunManifest::new(
        variant.name(),
        session.weights_sha256(),
        describe_set(set),
        digest,
        &feed.preprocess,
        arm_info.clone(),
        settings,
    );
    if options.progress {
        let images = match options.shard {
            Some(shard) => format!(
                "{} images (shard {}/{} of {})",
                shard.of(set, feed.batch_size).len(),
                shard.index,
                shard.count,
                set.len()
            ),
            None => format!("{} images", set.len()),
        };
        eprintln!(
            "{} conditions × {images}; shared prefix up to {}; results in {}",
            names.len(),
            evaluator.checkpoint().name(variant),
            out.display()
        );
    }
    let stats = run_conditions(feed, &evaluator, set, order, &manifest, out, options)?;
    if options.progress && stats.images_resumed > 0 {
        eprintln!(
            "resumed: {} image(s) already had every record in {}; {} evaluated now",
            stats.images_resumed,
            out.display(),
            stats.images_evaluated
        );
    }
    Ok(ArmsRun {
        arms: arm_info,
        names,
        stats,
    })
}

/// A results folder made ready for a run: its records discarded (`fresh`), or the folders
/// of a sharded run's jobs united in it (`merge`).
pub fn prepare_folder(
    out: &Path,
    fresh: bool,
    merge: &[std::path::PathBuf],
    progress: bool,
) -> Result<(), EvalError> {
    if fresh {
        discard_run(out)?;
    }
    if !merge.is_empty() {
        let merged = merge_shards(out, merge)?;
        if progress {
            eprintln!(
                "merged {} shard folder(s) into {}: {} records ({} already there), {} undecodable image(s)",
                merge.len(),
                out.display(),
                merged.records,
                merged.duplicates,
                merged.failures
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_partition_positions() {
        let s: Shard = "1/3".parse().unwrap();
        assert_eq!(s, Shard { index: 1, count: 3 });
        assert_eq!(s.to_string(), "1/3");
        let parts: Vec<Vec<usize>> = (0..3)
            .map(|i| {
                (0..10)
                    .filter(|p| Shard { index: i, count: 3 }.contains(*p, 2))
                    .collect()
            })
            .collect();
        // Ten images in batches of 2 (batches 0..5) dealt to three shards.
        assert_eq!(parts, [vec![0, 1, 6, 7], vec![2, 3, 8, 9], vec![4, 5]]);
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2", "1/2/3"] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(err.contains("INDEX/COUNT"), "{bad}: {err}");
        }
    }

    #[test]
    fn auto_shards_come_from_the_scheduler() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::from_arg("auto", slurm),
            Ok(Shard { index: 3, count: 4 })
        );
        // An array numbered 1-4 is shards 0..4.
        let from_one = env(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::from_arg("auto", from_one),
            Ok(Shard { index: 0, count: 4 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "5")]);
        assert_eq!(
            Shard::from_arg("auto/8", k8s),
            Ok(Shard { index: 5, count: 8 })
        );
        let err = Shard::from_arg("auto", k8s).unwrap_err();
        assert!(err.contains("auto/COUNT"), "{err}");
        let err = Shard::from_arg("auto", env(&[])).unwrap_err();
        assert!(
            err.contains("SLURM_ARRAY_TASK_ID") && err.contains("INDEX/COUNT"),
            "{err}"
        );
        let beyond = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(
            Shard::from_arg("auto", beyond)
                .unwrap_err()
                .contains("index 4 of 4")
        );
        let garbled = env(&[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(
            Shard::from_arg("auto", garbled)
                .unwrap_err()
                .contains("`x`")
        );
        // With the count fixed, the array id is the index: one shard submitted again alone
        // (`sbatch --array=1`, where SLURM counts 1 job from 1) is still shard 1 of 2.
        let alone = env(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ]);
        assert_eq!(
            Shard::from_arg("auto/2", alone),
            Ok(Shard { index: 1, count: 2 })
        );
        assert_eq!(
            Shard::from_arg("auto", alone),
            Ok(Shard { index: 0, count: 1 })
        );
        // Explicit shards ignore the scheduler.
        assert_eq!(
            Shard::from_arg("1/2", slurm),
            Ok(Shard { index: 1, count: 2 })
        );
    }
}
