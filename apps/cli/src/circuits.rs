//! `aann circuits accounting|compare`: what the shipped circuits are made of, and how their
//! tuning compares with the natural neurons they stand in for.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use aann_circuits::CalibrationFit;
use aann_data::{ImageSet, OpenOptions, Rescale, Resize, Unlabelled};
use aann_eval::circuits::{
    CircuitInputs, CircuitRegistry, TuningComparison, compare_tuning, median,
};
use aann_eval::lab::{Feed, FitSets, build_replacement, faithfulness};
use aann_eval::means::ActivationStats;
use aann_eval::plot::{PolarSeries, polar_svg};
use aann_eval::report::{tuning_heatmap, tuning_scale};
use aann_eval::spec::{CalibrationScope, CircuitSpec, Split};
use aann_eval::tuning::{TuningGrid, TuningSpec};
use aann_model::{Family, Variant};

use crate::common::{ModelArgs, cli_path, parse_variant};
use crate::tuning::StatsArgs;

#[derive(Args, Debug)]
pub struct CircuitsArgs {
    #[command(subcommand)]
    pub command: CircuitsCommand,
}

#[derive(Subcommand, Debug)]
pub enum CircuitsCommand {
    /// Print how many numbers each circuit's author set, the weights they expand to, and
    /// what comes from data.
    Accounting {
        #[arg(long, value_parser = parse_variant, default_value = "bvlc")]
        model: Variant,
        /// Folder the family files are found under (default: the repository root).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Calibrate a circuit on natural images, then compare its tuning maps with the natural
    /// neurons' on curve stimuli (correlation per neuron, maps side by side).
    Compare(Box<CompareArgs>),
    /// Print a circuit's shipped hand-set numbers as TOML (edit and pass back with --spec).
    Spec {
        /// pixels, pixels-colour, pixels-early-curves or upstream.
        #[arg(long)]
        circuit: String,
        #[arg(long, value_parser = parse_variant, default_value = "bvlc")]
        model: Variant,
    },
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub stats: StatsArgs,
    /// The family the circuit stands in for (its orientations map neurons to units).
    #[arg(long)]
    pub family: PathBuf,
    /// pixels, pixels-colour, pixels-early-curves or upstream.
    #[arg(long)]
    pub circuit: String,
    /// Calibrate one gain and bias for the family, or one pair per neuron.
    #[arg(long, default_value = "family", value_parser = parse_scope)]
    pub calibration: CalibrationScope,
    /// How the gain and bias are fitted: least-squares or moments.
    #[arg(long, default_value = "least-squares", value_parser = parse_fit)]
    pub fit: CalibrationFit,
    /// The first images of the natural set calibrate the circuit (and give the upstream
    /// normalisers): the tune split, as in the experiments.
    #[arg(long, default_value_t = 300)]
    pub calibration_images: usize,
    /// Natural images after the first `--dev-skip` (the dev split) on which each unit is
    /// compared with its neuron, position by position (r, R²); 0 skips it.
    #[arg(long, default_value_t = 200)]
    pub dev_images: usize,
    #[arg(long, default_value_t = 300)]
    pub dev_skip: usize,
    /// Preprocessing of the natural images: rescale the shorter side, then centre-crop
    /// (the experiments' test preprocessing).
    #[arg(long, default_value_t = 256)]
    pub shorter_side: u32,
    #[arg(long, default_value_t = 224)]
    pub crop: u32,
    /// Folder the family files are found under.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Hand-set numbers to use instead of the shipped ones (TOML, see `aann circuits spec`).
    #[arg(long)]
    pub spec: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_scope(s: &str) -> Result<CalibrationScope, String> {
    match s {
        "family" => Ok(CalibrationScope::Family),
        "neuron" => Ok(CalibrationScope::Neuron),
        other => Err(format!("`{other}`: expected `family` or `neuron`")),
    }
}

fn parse_fit(s: &str) -> Result<CalibrationFit, String> {
    match s {
        "least-squares" => Ok(CalibrationFit::LeastSquares),
        "moments" => Ok(CalibrationFit::Moments),
        other => Err(format!("`{other}`: expected `least-squares` or `moments`")),
    }
}

pub fn circuits(args: CircuitsArgs) -> anyhow::Result<()> {
    match args.command {
        CircuitsCommand::Accounting { model, root } => accounting(model, &root),
        CircuitsCommand::Compare(a) => compare(*a),
        CircuitsCommand::Spec { circuit, model } => {
            let registry = CircuitRegistry::shipped();
            let choice = registry.named(&circuit, model, Default::default())?;
            print!("{}", registry.numbers(&choice)?);
            Ok(())
        }
    }
}

fn accounting(variant: Variant, root: &Path) -> anyhow::Result<()> {
    let device = burn::tensor::Device::flex();
    let registry = CircuitRegistry::shipped();
    for name in registry.names() {
        let choice = registry.named(&name, variant, Default::default())?;
        // Normalisers are measured at run time; the count does not depend on them.
        let upstream = registry
            .upstream_tap(&choice, root)?
            .map(|tap| ActivationStats {
                model: variant.to_string(),
                tap: tap.name(variant),
                image_set: "the tune split (at run time)".into(),
                images: 0,
                positions: 0,
                mean: vec![0.0; tap.channels(variant)],
                std: vec![1.0; tap.channels(variant)],
                per_position_mean: None,
            });
        let circuit = registry.build(
            &choice,
            &CircuitInputs {
                variant,
                device: &device,
                repo: root,
                upstream: upstream.as_ref(),
                numbers: None,
            },
        )?;
        println!("{}", circuit.accounting().table());
    }
    println!(
        "Every circuit also fits an output gain and bias on the tune split when used (2 numbers per family, or 2 per neuron with --calibration neuron)."
    );
    Ok(())
}

fn compare(args: CompareArgs) -> anyhow::Result<()> {
    let variant = args.model.model;
    let family = Family::load(&args.family)?;
    anyhow::ensure!(
        family.model == variant,
        "{} is a {} family",
        args.family.display(),
        family.model
    );
    let target = family.tap()?;
    let session = args.model.open()?;
    let (calibration_set, dev) = compare_sets(&args, &session)?;
    let mut preprocess = variant.preprocess();
    preprocess.resize = Resize {
        rescale: Rescale::ShorterSide(args.shorter_side),
        centre_crop: Some((args.crop, args.crop)),
    };
    preprocess.resize.validate()?;
    let spec = CircuitSpec {
        name: None,
        choice: session
            .circuits()
            .named(&args.circuit, variant, Default::default())?,
        calibration: args.calibration,
        fit: args.fit,
        spec: args
            .spec
            .as_deref()
            .map(|p| cli_path(p).display().to_string()),
    };
    let feed = Feed::new(&session, preprocess, 16);
    let replacement = build_replacement(
        &feed,
        &spec,
        &family,
        &cli_path(&args.root),
        FitSets::same(&calibration_set),
    )?;
    // The units on natural dev images: where a person comparing circuits may look.
    let named = [(replacement.circuit.name(), replacement.clone())];
    let units = faithfulness::measure(&feed, Split::Dev, &named, target, &dev)?;
    let stats = args.stats.load(&session, target)?;
    let (natural, artificial, comparisons) = compare_tuning(
        session.model(),
        target,
        replacement.clone(),
        &TuningSpec::curves(),
        &stats,
    )?;
    std::fs::create_dir_all(&args.out)?;
    println!(
        "{} standing in for {} ({} neurons); calibration {:?}",
        replacement.circuit.name(),
        args.family.display(),
        comparisons.len(),
        replacement.calibration.scope
    );
    let on_dev = units.first();
    if let Some(f) = on_dev {
        println!("units against their neurons on {} (dev)", f.images);
    }
    println!(
        "{:>8} {:>10} {:>6} {:>10} {:>10} {:>8} {:>8}",
        "channel", "natural°", "unit", "unit°", "tuning r", "dev r", "dev R²"
    );
    let max = tuning_scale(&natural, &artificial);
    for (k, c) in comparisons.iter().enumerate() {
        let fit = on_dev.and_then(|f| f.units.iter().find(|u| u.channel == c.channel));
        let (r, r2) = fit.map_or(("-".to_string(), "-".to_string()), |u| {
            (format!("{:.3}", u.r), format!("{:.3}", u.r2))
        });
        println!(
            "{:>8} {:>9.1}° {:>6} {:>9.1}° {:>10.3} {:>8} {:>8}",
            c.channel,
            c.natural_orientation_deg,
            c.unit,
            c.unit_orientation_deg,
            c.correlation,
            r,
            r2
        );
        draw_channel(&args.out, variant, (&natural, &artificial), k, c, max)?;
    }
    let rs: Vec<f64> = comparisons.iter().map(|c| c.correlation).collect();
    println!("median tuning r = {:.3}", median(&rs));
    if let Some(f) = on_dev {
        println!(
            "median on dev images: r = {:.3}, R² = {:.3}",
            f.median_r, f.median_r2
        );
    }
    println!("{}", replacement.accounting().table());
    std::fs::write(
        args.out.join("comparison.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "circuit": replacement.circuit.name(),
            "family": args.family,
            "calibration": replacement.calibration,
            "accounting": replacement.accounting(),
            "comparisons": comparisons,
            "median_r": median(&rs),
            "dev_units": on_dev,
            "natural": natural,
            "artificial": artificial,
        }))?,
    )?;
    Ok(())
}

/// The calibration images and the dev images of a comparison, checked disjoint.
fn compare_sets(
    args: &CompareArgs,
    session: &aann_eval::lab::Session,
) -> anyhow::Result<(ImageSet, ImageSet)> {
    let root = &session.root;
    let dir = match &args.stats.stats_from {
        Some(p) => cli_path(p),
        None => root.require("imagenet-val/images", "natural images")?,
    };
    let natural = ImageSet::open(
        &dir,
        &root.synsets()?,
        &OpenOptions {
            ground_truth: None,
            unlabelled: Unlabelled::Allow,
        },
    )?;
    let calibration_set = natural.limit(args.calibration_images);
    let dev = natural.skip(args.dev_skip).limit(args.dev_images);
    if !dev.is_empty() {
        aann_data::check_disjoint(
            ("calibration", &aann_data::split_digest(&calibration_set)?),
            ("dev", &aann_data::split_digest(&dev)?),
        )?;
    }
    Ok((calibration_set, dev))
}

/// One neuron's natural and artificial tuning maps (`k`-th of the family) and their radial
/// curves, as SVG files in `out`.
fn draw_channel(
    out: &Path,
    variant: Variant,
    (natural, artificial): (&TuningGrid, &TuningGrid),
    k: usize,
    c: &TuningComparison,
    max: f32,
) -> anyhow::Result<()> {
    for (label, grid) in [("natural", natural), ("artificial", artificial)] {
        let title = format!(
            "{} {}:{} {label} (r = {:.2})",
            variant, natural.tap, c.channel, c.correlation
        );
        std::fs::write(
            out.join(format!("{}-{label}.svg", c.channel)),
            tuning_heatmap(&title, grid, k, max),
        )?;
    }
    let curve = |g: &TuningGrid| {
        g.spec
            .orientations
            .iter()
            .copied()
            .zip(g.radial_curve(k))
            .collect()
    };
    std::fs::write(
        out.join(format!("{}-radial.svg", c.channel)),
        polar_svg(
            &format!("{}:{} radial tuning", natural.tap, c.channel),
            &[
                PolarSeries {
                    name: "natural",
                    colour: "#1f77b4",
                    points: curve(natural),
                },
                PolarSeries {
                    name: "artificial",
                    colour: "#ff7f0e",
                    points: curve(artificial),
                },
            ],
            &[],
        ),
    )?;
    Ok(())
}
