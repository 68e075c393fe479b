//! `aann ablate`: channels at a tap ablated over an image set, against the baseline.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};

use aann_data::{ImageSet, OpenOptions, Unlabelled};
use aann_eval::lab::{Ablation, Arm, Feed};
use aann_eval::means::{describe_set, donor_pool};
use aann_eval::run::{DigestedSet, RunOptions, Shard, prepare_folder, run_arms};
use aann_eval::summary::{RecordTable, summarize};
use aann_model::{ChannelSet, Intervention, Tap};

use crate::common::{ModelArgs, cli_path};
use crate::inspect::GeometryArgs;

/// How the channels are ablated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AblationMode {
    /// Set to zero.
    Zero,
    /// Set to the channel's mean over an image set (spatially uniform).
    Mean,
    /// Taken from another image of a donor set.
    Resample,
}

#[derive(Args, Debug)]
pub struct AblateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// Image set: a flat folder (with val.txt beside it or --labels), one folder per synset,
    /// or a list file.
    #[arg(long)]
    pub data: PathBuf,
    /// Caffe-style ground-truth file for a flat folder (`name.JPEG class`).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// The tap to ablate (`mixed3b`, `inception_3b_output`, …).
    #[arg(long)]
    pub tap: String,
    /// Channels: `379,406`, `320..416`, `320-415`, or a family file (`family:F.toml`).
    #[arg(long)]
    pub channels: String,
    /// Ablation modes (several give several conditions).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "zero")]
    pub mode: Vec<AblationMode>,
    /// Image set for channel means (mean mode) and donors (resample mode); default: --data.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Images of the reference set used for means / donors.
    #[arg(long, default_value_t = 256)]
    pub reference_limit: usize,
    /// Seed for resample-ablation donors.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Evaluate only the first N images (in key order).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Results folder (re-running the same command resumes there).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Discard the records of an earlier run in the results folder and start over.
    #[arg(long)]
    pub fresh: bool,
    /// Run one part of the image set, INDEX/COUNT (0-based), or `auto` in a SLURM job array
    /// (`auto/COUNT` in a Kubernetes Indexed Job), and write its records only.
    #[arg(long, conflicts_with = "merge")]
    pub shard: Option<Shard>,
    /// The results folders of a sharded run's jobs: united in --out, then the run completes.
    #[arg(long, num_args = 1.., value_name = "SHARD_DIR")]
    pub merge: Vec<PathBuf>,
}

fn open_set(
    path: &std::path::Path,
    labels: Option<&PathBuf>,
    root: &aann_eval::setup::DataRoot,
) -> anyhow::Result<ImageSet> {
    let synsets = root.synsets()?;
    let path = cli_path(path);
    let set = ImageSet::open(
        &path,
        &synsets,
        &OpenOptions {
            ground_truth: labels.map(|l| cli_path(l)),
            unlabelled: Unlabelled::Reject,
        },
    )
    .with_context(|| format!("opening the image set {}", path.display()))?;
    Ok(set)
}

pub fn ablate(args: AblateArgs) -> anyhow::Result<()> {
    let variant = args.model.model;
    let root = args.model.data_root();
    let tap = Tap::parse(&args.tap, variant)?;
    let channels = channels_of(&args, tap)?;
    let mut set = open_set(&args.data, args.labels.as_ref(), &root)?;
    if let Some(n) = args.limit {
        set = set.limit(n);
    }
    let order = root.class_order(variant)?;
    let session = args.model.open()?;
    let feed = Feed::new(
        &session,
        args.geometry.preprocess(variant)?,
        args.batch_size,
    );
    let reference = match &args.reference {
        Some(p) => open_set(p, None, &root)?,
        None => set.clone(),
    }
    .limit(args.reference_limit);
    let arms = arms(&args, &feed, tap, &channels, &reference)?;
    let reference_digest = aann_data::content_digest(&reference)?;
    let set = DigestedSet::new(set)?;
    let names: Vec<&str> = arms.iter().map(|a| a.name()).collect();
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!(
            "ablate-{}-{}-{}-{}",
            variant,
            args.tap,
            names.join("+"),
            &aann_weights::sha256_hex(
                format!(
                    "{channels}|{}|{}|{}",
                    set.digest.list_sha256, reference_digest.list_sha256, args.seed
                )
                .as_bytes()
            )[..16]
        ))
    });
    let merge: Vec<PathBuf> = args.merge.iter().map(|p| cli_path(p)).collect();
    prepare_folder(&out, args.fresh, &merge, true)?;
    let options = RunOptions {
        progress: !args.model.session.quiet,
        shard: args.shard,
        ..Default::default()
    };
    let settings = serde_json::json!({
        "reference_images_sha256": reference_digest.list_sha256,
        "seed": args.seed,
        "batch_size": args.batch_size,
    });
    let run = run_arms(&feed, arms, &set, &order, &out, settings, &options)?;
    let (stats, names) = (run.stats, run.names);
    eprintln!(
        "evaluated {} images in {:.1} s ({:.2} images/s; {} resumed from earlier runs; {} failed to decode)",
        stats.images_evaluated,
        stats.seconds,
        stats.images_per_second(),
        stats.images_resumed,
        stats.failures
    );
    if let Some(shard) = args.shard {
        println!(
            "shard {shard}: records in {}; when every shard is done, run the same command with --merge <the shards' folders> --out <results folder>",
            out.display()
        );
        return Ok(());
    }
    let failures = aann_eval::records::read_failures(&out)?;
    for f in &failures {
        eprintln!("skipped {}: {}", f.path, f.reason);
    }
    let summary = summarize(&RecordTable::read(&out, &names)?, 0.95)?;
    println!(
        "{} at {} channels {} ({} channels)",
        variant,
        args.tap,
        channels,
        channels.len()
    );
    print!("{}", summary.table());
    if !failures.is_empty() {
        println!(
            "{} image(s) could not be decoded and are not counted (see {}/failures.jsonl)",
            failures.len(),
            out.display()
        );
    }
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(())
}

/// The channels to ablate, checked against the tap (and against a family file's own tap).
fn channels_of(args: &AblateArgs, tap: Tap) -> anyhow::Result<ChannelSet> {
    let variant = args.model.model;
    let spec = ChannelSet::parse(&args.channels, &cli_path(std::path::Path::new(".")))?;
    spec.channels.check_range(tap, variant)?;
    if let Some((path, family)) = &spec.family {
        anyhow::ensure!(
            family.model == variant && family.tap()? == tap,
            "family file {} is for {} at {}, not {} at {}",
            path.display(),
            family.model,
            family.tap,
            variant,
            args.tap
        );
    }
    Ok(spec.channels)
}

/// One ablation arm per `--mode`: zero, mean (the reference images' channel means) or
/// resample (donors from the reference images).
fn arms(
    args: &AblateArgs,
    feed: &Feed<'_>,
    tap: Tap,
    channels: &ChannelSet,
    reference: &ImageSet,
) -> anyhow::Result<Vec<Arm>> {
    let mut arms = Vec::new();
    for mode in &args.mode {
        let (ablation, intervention) = match mode {
            AblationMode::Zero => (Ablation::Zero, Intervention::ZeroAblate),
            AblationMode::Mean => {
                eprintln!(
                    "computing channel means of {} on {}",
                    args.tap,
                    describe_set(reference)
                );
                let stats = aann_eval::means::stats(feed, reference, tap)?;
                let means = stats.uniform_means(feed.session.weights_sha256());
                (Ablation::Mean, Intervention::MeanAblate(Arc::new(means)))
            }
            AblationMode::Resample => {
                eprintln!(
                    "collecting donor activations from {}",
                    describe_set(reference)
                );
                let pool = donor_pool(feed, reference, tap, args.seed)?;
                (
                    Ablation::Resample,
                    Intervention::ResampleAblate(Arc::new(pool)),
                )
            }
        };
        arms.push(Arm::ablate(ablation, tap, channels.clone(), intervention));
    }
    Ok(arms)
}
