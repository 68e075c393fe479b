//! `aann patch`: activation patching from a clean image into a corrupted one, tap by tap
//! (`aann_eval::lab::patch`).

use std::path::{Path, PathBuf};

use clap::Args;

use aann_eval::lab::patch::{PatchPlan, block_branches, patch_sweep};
use aann_model::{ChannelSet, Tap, Variant};

use crate::common::{ModelArgs, cli_path};
use crate::inspect::{GeometryArgs, read_input};

#[derive(Args, Debug)]
pub struct PatchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// The clean image (or a preprocessed NCHW .npy): where the patched activations come from.
    #[arg(long)]
    pub clean: PathBuf,
    /// The corrupted image: the run the activations are patched into.
    #[arg(long)]
    pub corrupted: PathBuf,
    /// Taps to patch, each alone, comma-separated (default: every branch of every inception
    /// block; a whole layer or block output carries everything downstream needs, so
    /// patching all of its channels restores the clean run exactly).
    #[arg(long, value_delimiter = ',')]
    pub taps: Vec<String>,
    /// Patch only these channels at each tap (`379,406`, `320..416`, `family:F.toml`).
    #[arg(long)]
    pub channels: Option<String>,
    /// The two answers compared, as class indices `A,B` (default: the clean image's top
    /// class and the corrupted image's top class other than it).
    #[arg(long, value_delimiter = ',', num_args = 2)]
    pub answers: Vec<usize>,
    /// Also write the sweep as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn taps_of(names: &[String], variant: Variant) -> anyhow::Result<Vec<Tap>> {
    if names.is_empty() {
        return Ok(block_branches());
    }
    Ok(names
        .iter()
        .map(|n| Tap::parse(n.trim(), variant))
        .collect::<Result<_, _>>()?)
}

pub fn patch(args: PatchArgs) -> anyhow::Result<()> {
    let variant = args.model.model;
    let taps = taps_of(&args.taps, variant)?;
    let channels = args
        .channels
        .as_deref()
        .map(|c| ChannelSet::parse(c, &cli_path(Path::new("."))).map(|s| s.channels))
        .transpose()?;
    let preprocess = args.geometry.preprocess(variant)?;
    let root = args.model.data_root();
    let order = root.class_order(variant)?;
    let synsets = root.synsets()?;
    let session = args.model.open()?;
    let clean = read_input(&args.clean, &preprocess, session.model())?;
    let corrupted = read_input(&args.corrupted, &preprocess, session.model())?;
    let plan = PatchPlan {
        taps,
        channels,
        answers: (args.answers.len() == 2).then(|| (args.answers[0], args.answers[1])),
    };
    let report = patch_sweep(&session, &order, clean, corrupted, &plan)?;
    let name = |c: usize| synsets.name(c).unwrap_or("?").to_string();
    let (a, b) = report.answers;
    println!(
        "answers: a = {a} ({}), b = {b} ({}); logit[a] − logit[b]: clean {:.3}, corrupted {:.3}",
        name(a),
        name(b),
        report.clean_difference,
        report.corrupted_difference
    );
    println!(
        "{:<32} {:>8} {:>10} {:>9}  top-1 of the patched run",
        "tap", "channels", "logit diff", "restored"
    );
    for row in &report.rows {
        println!(
            "{:<32} {:>8} {:>10.3} {:>8.1}%  {} ({:.3})",
            row.tap,
            row.channels,
            row.logit_difference,
            100.0 * row.restored,
            name(row.top1),
            row.top1_probability
        );
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
