//! `aann circuits accounting|compare`: what the shipped circuits are made of, and how their
//! tuning compares with the natural neurons they stand in for.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use aann_circuits::CalibrationFit;
use aann_data::{ImageSet, OpenOptions, Unlabelled};
use aann_eval::circuits::{CircuitChoice, CircuitKind, compare_tuning, median};
use aann_eval::lab::{FitSets, build_replacement};
use aann_eval::plot::{Axis, PolarSeries, heatmap_svg, polar_svg};
use aann_eval::spec::{CalibrationScope, CircuitSpec};
use aann_eval::tuning::TuningSpec;
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
        #[arg(long)]
        circuit: CircuitKind,
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
    #[arg(long)]
    pub circuit: CircuitKind,
    /// Calibrate one gain and bias for the family, or one pair per neuron.
    #[arg(long, default_value = "family", value_parser = parse_scope)]
    pub calibration: CalibrationScope,
    /// How the gain and bias are fitted: least-squares or moments.
    #[arg(long, default_value = "least-squares", value_parser = parse_fit)]
    pub fit: CalibrationFit,
    /// Images of the stats set used to calibrate (and for the upstream normalisers).
    #[arg(long, default_value_t = 100)]
    pub calibration_images: usize,
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
            print!(
                "{}",
                aann_eval::circuits::circuit_spec_toml(&circuit.choice(model))
            );
            Ok(())
        }
    }
}

fn accounting(variant: Variant, root: &Path) -> anyhow::Result<()> {
    let device = burn::tensor::Device::flex();
    for name in [
        CircuitKind::Pixels,
        CircuitKind::PixelsColour,
        CircuitKind::Upstream,
    ] {
        let choice = name.choice(variant);
        let accounting = match &choice {
            CircuitChoice::Pixels { colour } => {
                let mode = if *colour {
                    aann_circuits::ColourMode::Opponent { chroma_weight: 1.0 }
                } else {
                    aann_circuits::ColourMode::Grayscale
                };
                aann_circuits::Circuit::accounting(&aann_circuits::PixelCurveCircuit::new(
                    aann_circuits::PixelCircuitSpec::standard(mode),
                    variant,
                    &device,
                ))
            }
            CircuitChoice::Upstream {
                early_curves,
                lines,
            } => {
                let early = Family::load(&root.join(early_curves))?;
                let lines = Family::load(&root.join(lines))?;
                // Normalisers are measured at run time; the count does not depend on them.
                let ones = vec![1.0; 1024];
                aann_circuits::Circuit::accounting(
                    &aann_circuits::UpstreamCurveCircuit::new(
                        aann_circuits::UpstreamCircuitSpec::standard(),
                        variant,
                        &early,
                        &lines,
                        &ones,
                        "the tune split (at run time)",
                        &device,
                    )
                    .map_err(anyhow::Error::msg)?,
                )
            }
        };
        println!("{}", accounting.table());
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
    let model = session.model();
    let root = &session.root;
    let dir = match &args.stats.stats_from {
        Some(p) => cli_path(p),
        None => root.require("imagenet-val/images", "natural images")?,
    };
    let calibration_set = ImageSet::open(
        &dir,
        &root.synsets()?,
        &OpenOptions {
            ground_truth: None,
            unlabelled: Unlabelled::Allow,
        },
    )?
    .limit(args.calibration_images);
    let spec = CircuitSpec {
        name: None,
        choice: args.circuit.choice(variant),
        calibration: args.calibration,
        fit: args.fit,
        spec: args
            .spec
            .as_deref()
            .map(|p| cli_path(p).display().to_string()),
    };
    let replacement = build_replacement(
        &session,
        &spec,
        &family,
        &cli_path(&args.root),
        FitSets::same(&calibration_set),
        &variant.preprocess(),
        16,
    )?;
    let circuit = replacement.circuit.clone();
    let stats = args.stats.load(&session, target)?;
    let spec = TuningSpec::curves();
    let (natural, artificial, comparisons) =
        compare_tuning(model, target, replacement.clone(), &spec, &stats)?;
    std::fs::create_dir_all(&args.out)?;
    println!(
        "{} standing in for {} ({} neurons); calibration {:?}",
        circuit.name(),
        args.family.display(),
        comparisons.len(),
        replacement.calibration.scope
    );
    println!(
        "{:>8} {:>10} {:>6} {:>10} {:>8}",
        "channel", "natural°", "unit", "unit°", "r"
    );
    let max = natural
        .sigma
        .iter()
        .chain(artificial.sigma.iter())
        .flatten()
        .fold(1.0f32, |m, v| m.max(*v));
    for (k, c) in comparisons.iter().enumerate() {
        println!(
            "{:>8} {:>9.1}° {:>6} {:>9.1}° {:>8.3}",
            c.channel, c.natural_orientation_deg, c.unit, c.unit_orientation_deg, c.correlation
        );
        for (label, grid) in [("natural", &natural), ("artificial", &artificial)] {
            std::fs::write(
                args.out.join(format!("{}-{label}.svg", c.channel)),
                heatmap_svg(
                    &format!(
                        "{} {}:{} {label} (r = {:.2})",
                        variant, natural.tap, c.channel, c.correlation
                    ),
                    grid.map(k),
                    Axis {
                        values: &grid.spec.orientations,
                        label: "orientation (°)",
                    },
                    Axis {
                        values: &grid.spec.values,
                        label: "radius",
                    },
                    (0.0, f64::from(max)),
                    "σ",
                ),
            )?;
        }
        let curve = |g: &aann_eval::tuning::TuningGrid| {
            g.spec
                .orientations
                .iter()
                .copied()
                .zip(g.radial_curve(k))
                .collect()
        };
        std::fs::write(
            args.out.join(format!("{}-radial.svg", c.channel)),
            polar_svg(
                &format!("{}:{} radial tuning", natural.tap, c.channel),
                &[
                    PolarSeries {
                        name: "natural",
                        colour: "#1f77b4",
                        points: curve(&natural),
                    },
                    PolarSeries {
                        name: "artificial",
                        colour: "#ff7f0e",
                        points: curve(&artificial),
                    },
                ],
                &[],
            ),
        )?;
    }
    let rs: Vec<f64> = comparisons.iter().map(|c| c.correlation).collect();
    println!("median r = {:.3}", median(&rs));
    println!("{}", replacement.accounting().table());
    std::fs::write(
        args.out.join("comparison.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "circuit": circuit.name(),
            "family": args.family,
            "calibration": replacement.calibration,
            "accounting": replacement.accounting(),
            "comparisons": comparisons,
            "median_r": median(&rs),
            "natural": natural,
            "artificial": artificial,
        }))?,
    )?;
    Ok(())
}
