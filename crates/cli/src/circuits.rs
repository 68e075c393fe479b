//! `aann circuits accounting|compare`: what the shipped circuits are made of, and how their
//! tuning compares with the natural neurons they stand in for.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};

use aann_circuits::{CircuitReplacement, UnitMapping};
use aann_data::{ImageSet, OpenOptions, Unlabelled};
use aann_eval::circuits::{
    CircuitChoice, build_circuit, calibrate, compare_tuning, median, upstream_tap,
};
use aann_eval::plot::{Axis, PolarSeries, heatmap_svg, polar_svg};
use aann_eval::tuning::TuningSpec;
use aann_model::{Family, Variant};

use crate::common::{ModelArgs, parse_variant};
use crate::tuning::StatsArgs;

/// The shipped circuits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CircuitName {
    /// Curves from pixels, grayscale (like the published network).
    Pixels,
    /// Curves from pixels with colour-opponent channels.
    PixelsColour,
    /// Curves from the natural early curves and lines one layer down.
    Upstream,
}

impl CircuitName {
    pub fn choice(self, variant: Variant) -> CircuitChoice {
        match self {
            CircuitName::Pixels => CircuitChoice::Pixels { colour: false },
            CircuitName::PixelsColour => CircuitChoice::Pixels { colour: true },
            CircuitName::Upstream => {
                let dir = format!("circuits/families/{variant}");
                CircuitChoice::Upstream {
                    early_curves: format!("{dir}/early-curves-3a.toml"),
                    lines: format!("{dir}/lines-3a.toml"),
                }
            }
        }
    }
}

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
        #[arg(long, value_enum)]
        circuit: CircuitName,
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
    #[arg(long, value_enum)]
    pub circuit: CircuitName,
    /// Calibrate one gain and bias for the family, or one pair per neuron.
    #[arg(long, default_value = "family")]
    pub calibration: String,
    /// Images of the stats set used to calibrate.
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
    #[arg(long)]
    pub quiet: bool,
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
        CircuitName::Pixels,
        CircuitName::PixelsColour,
        CircuitName::Upstream,
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
    let loaded = args.model.load()?;
    let model = &loaded.model;
    let choice = args.circuit.choice(variant);
    let upstream_stats = match upstream_tap(&choice, &args.root)? {
        Some(tap) => Some(args.stats.load(&args.model, &loaded, tap, !args.quiet)?),
        None => None,
    };
    let spec_text = args
        .spec
        .as_ref()
        .map(std::fs::read_to_string)
        .transpose()?;
    let circuit = build_circuit(
        &choice,
        model,
        &args.root,
        upstream_stats.as_ref(),
        spec_text.as_deref(),
    )?;
    let mapping =
        UnitMapping::by_orientation(&family, circuit.as_ref()).map_err(anyhow::Error::msg)?;
    let root = args.model.data_root();
    let dir = match &args.stats.stats_from {
        Some(p) => p.clone(),
        None => root.require("imagenet-val/images", "natural images")?,
    };
    let set = ImageSet::open(
        &dir,
        &root.synsets()?,
        &OpenOptions {
            ground_truth: None,
            unlabelled: Unlabelled::Allow,
        },
    )?
    .limit(args.calibration_images);
    let preprocess = variant.preprocess();
    let per_neuron = match args.calibration.as_str() {
        "family" => false,
        "neuron" => true,
        other => anyhow::bail!("--calibration must be `family` or `neuron`, not `{other}`"),
    };
    let calibration = calibrate(
        model,
        circuit.as_ref(),
        &mapping,
        target,
        &set,
        &preprocess,
        per_neuron,
        16,
    )?;
    let replacement = Arc::new(CircuitReplacement {
        circuit: circuit.clone(),
        mapping,
        calibration,
        device: model.device().clone(),
    });
    let stats = args.stats.load(&args.model, &loaded, target, !args.quiet)?;
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
