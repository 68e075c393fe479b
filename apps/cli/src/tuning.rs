//! `aann tune` and `aann discover`: neurons probed with synthetic stimuli; and
//! `aann discover-gabors`: the first layer's Gabors, fitted to its filters.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use aann_circuits::GaborLayerSpec;
use aann_data::{ImageSet, OpenOptions, Unlabelled};
use aann_eval::discover::{Candidate, Discovery, DiscoverySpec, FamilyKind, discover};
use aann_eval::discover_gabors::{
    GaborCriteria, GaborGrid, StatedFit, discover_gabors, stated_set_fit,
};
use aann_eval::lab::Session;
use aann_eval::means::ActivationStats;
use aann_eval::plot::{Axis, PolarSeries, heatmap_png, heatmap_svg, polar_svg};
use aann_eval::tuning::{StimulusKind, TuningGrid, TuningSpec, summarize_channel, tune};
use aann_model::{ChannelSet, Tap, Variant};

use crate::common::ModelArgs;

/// Where σ comes from.
#[derive(Args, Debug, Clone)]
pub struct StatsArgs {
    /// Natural images whose activations define the σ scale (default: the data root's
    /// imagenet-val/images).
    #[arg(long)]
    pub stats_from: Option<PathBuf>,
    /// How many of them (first in key order).
    #[arg(long, default_value_t = 200)]
    pub stats_images: usize,
}

impl StatsArgs {
    pub fn load(&self, session: &Session, tap: Tap) -> anyhow::Result<ActivationStats> {
        let root = &session.root;
        let dir = match &self.stats_from {
            Some(p) => p.clone(),
            None => root.require(
                "imagenet-val/images",
                "natural images for activation statistics",
            )?,
        };
        let synsets = root.synsets()?;
        let set = ImageSet::open(
            &dir,
            &synsets,
            &OpenOptions {
                ground_truth: None,
                unlabelled: Unlabelled::Allow,
            },
        )
        .with_context(|| format!("opening {}", dir.display()))?
        .limit(self.stats_images);
        let preprocess = session.variant().preprocess();
        Ok(aann_eval::means::stats(
            &aann_eval::lab::Feed::new(session, preprocess, 16),
            &set,
            tap,
        )?)
    }
}

/// What a stimulus sweep needs: the model, and the natural images that set its σ scale.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub stats: StatsArgs,
}

impl SweepArgs {
    /// The session, and the activation statistics of `tap` on it.
    pub fn open(&self, tap: Tap) -> anyhow::Result<(Session, ActivationStats)> {
        let session = self.model.open()?;
        let stats = self.stats.load(&session, tap)?;
        Ok((session, stats))
    }
}

/// Parse `start:stop:step` (half-open) or a comma-separated list.
pub fn parse_values(s: &str) -> anyhow::Result<Vec<f64>> {
    if let [a, b, c] = s.split(':').collect::<Vec<_>>()[..] {
        let (a, b, c): (f64, f64, f64) = (a.trim().parse()?, b.trim().parse()?, c.trim().parse()?);
        return Ok(aann_stimuli::degrees_range(a, b, c)?);
    }
    s.split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .with_context(|| format!("`{v}` in `{s}` is not a number"))
        })
        .collect()
}

#[derive(Args, Debug)]
pub struct TuneArgs {
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// The tap (`mixed3b`, `inception_3b_output`, …).
    #[arg(long)]
    pub tap: String,
    /// Channels: `379,406`, `320..416`, or `family:F.toml`.
    #[arg(long)]
    pub channels: String,
    /// Stimulus family: curve, line, angle or edge.
    #[arg(long, default_value = "curve", value_parser = StimulusKind::parse)]
    pub stimulus: StimulusKind,
    /// Orientations in degrees, `start:stop:step` or a list (radial convention for curves).
    #[arg(long, default_value = "0:360:5")]
    pub orientations: String,
    /// Radii (curves), openings (angles) or lengths (lines; 0 = crossing the frame).
    #[arg(long, alias = "radii")]
    pub values: Option<String>,
    /// Stroke width in pixels.
    #[arg(long, default_value_t = 3.0)]
    pub line_width: f64,
    /// Output folder: tuning.json, heatmap-<channel>.png/.svg, radial-<channel>.svg.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn tune_command(args: TuneArgs) -> anyhow::Result<()> {
    let variant = args.sweep.model.model;
    let tap = Tap::parse(&args.tap, variant)?;
    let spec = ChannelSet::parse(&args.channels, Path::new("."))?;
    spec.channels.check_range(tap, variant)?;
    let mut tuning = match args.stimulus {
        StimulusKind::Line => TuningSpec::lines(),
        _ => TuningSpec::curves(),
    };
    tuning.stimulus = args.stimulus;
    tuning.orientations = parse_values(&args.orientations)?;
    tuning.line_width = args.line_width;
    if let Some(v) = &args.values {
        tuning.values = parse_values(v)?;
    } else if args.stimulus == StimulusKind::Angle {
        tuning.values = vec![30.0, 60.0, 90.0, 120.0, 150.0];
    } else if args.stimulus == StimulusKind::Edge {
        tuning.values = vec![0.0];
    }
    let (session, stats) = args.sweep.open(tap)?;
    let grid = tune(
        session.model(),
        tap,
        spec.channels.as_slice(),
        &tuning,
        Some(&stats),
        None,
    )?;
    std::fs::create_dir_all(&args.out)?;
    let period = if matches!(args.stimulus, StimulusKind::Line | StimulusKind::Edge) {
        180.0
    } else {
        360.0
    };
    println!(
        "{} {} at unit {:?} (centre {:?}); σ from {}",
        variant, grid.tap, grid.unit, grid.unit_centre, stats.image_set
    );
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>8}",
        "channel", "preferred", "circ.var", "peak σ", "echo"
    );
    for k in 0..grid.channels.len() {
        let s = summarize_channel(&grid, k, period);
        println!(
            "{:>8} {:>9.1}° {:>10.3} {:>10.2} {:>8}",
            s.channel,
            s.preferred_deg,
            s.circular_variance,
            s.peak,
            s.echo_ratio.map_or("-".into(), |e| format!("{e:.2}"))
        );
    }
    write_grid(&grid, &args.out, period, None)?;
    std::fs::write(args.out.join("tuning.json"), serde_json::to_string(&grid)?)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// The top of a grid's heatmap colour scale: its largest response (in σ where it has
/// them), at least 1.
fn colour_scale(grid: &TuningGrid) -> f32 {
    grid.sigma
        .as_ref()
        .unwrap_or(&grid.responses)
        .iter()
        .fold(1.0f32, |m, v| m.max(*v))
}

/// Heatmaps (PNG and SVG) and radial curves for every channel of a grid.
pub fn write_grid(
    grid: &TuningGrid,
    dir: &Path,
    period: f64,
    only: Option<&[usize]>,
) -> anyhow::Result<()> {
    let max = colour_scale(grid);
    let unit = if grid.sigma.is_some() {
        "σ"
    } else {
        "activation"
    };
    let kind = format!("{:?}", grid.spec.stimulus).to_lowercase();
    for (k, ch) in grid.channels.iter().enumerate() {
        if only.is_some_and(|o| !o.contains(ch)) {
            continue;
        }
        let s = summarize_channel(grid, k, period);
        let map = grid.map(k);
        let stem = format!("{kind}-{ch}");
        heatmap_png(
            &dir.join(format!("{stem}.png")),
            map,
            grid.rows(),
            grid.columns(),
            (0.0, f64::from(max)),
            8,
            true,
        )?;
        let title = format!(
            "{} {}:{ch} — {} tuning, preferred {:.0}°",
            grid.model, grid.tap, kind, s.preferred_deg
        );
        std::fs::write(
            dir.join(format!("{stem}.svg")),
            heatmap_svg(
                &title,
                map,
                Axis {
                    values: &grid.spec.orientations,
                    label: "orientation (°)",
                },
                Axis {
                    values: &grid.spec.values,
                    label: grid.spec.stimulus.value_name(),
                },
                (0.0, f64::from(max)),
                unit,
            ),
        )?;
        let curve: Vec<(f64, f64)> = grid
            .spec
            .orientations
            .iter()
            .copied()
            .zip(grid.radial_curve(k))
            .collect();
        std::fs::write(
            dir.join(format!("{stem}-radial.svg")),
            polar_svg(
                &format!("{}:{ch} radial tuning", grid.tap),
                &[PolarSeries {
                    name: "natural",
                    colour: "#1f77b4",
                    points: curve,
                }],
                &[(s.preferred_deg, "#d62728")],
            ),
        )?;
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// The tap to search (`mixed3b`, `inception_3b_output`, …).
    #[arg(long)]
    pub tap: String,
    /// The family: curves or lines.
    #[arg(long, value_parser = FamilyKind::parse)]
    pub family: FamilyKind,
    /// Keep at most this many members (best scores first); 0 keeps every eligible channel.
    #[arg(long, default_value_t = 0)]
    pub top: usize,
    /// Minimum peak response (σ above the dataset mean) of a member.
    #[arg(long, default_value_t = 15.0)]
    pub min_peak_sigma: f64,
    /// Maximum circular variance of a member's radial tuning curve.
    #[arg(long, default_value_t = 0.15)]
    pub max_circular_variance: f64,
    /// Maximum response to the other shape (lines for curves), relative to the peak.
    #[arg(long, default_value_t = 0.3)]
    pub max_other_ratio: f64,
    /// Maximum echo (response 180° away relative to the peak; curves).
    #[arg(long, default_value_t = 0.2)]
    pub max_echo: f64,
    /// Output folder: discovery.json, family.toml, heatmaps of the members, members.png.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the family file here (e.g. circuits/families/bvlc-curves-3b.toml).
    #[arg(long)]
    pub family_out: Option<PathBuf>,
}

fn print_candidates(title: &str, rows: &[Candidate]) {
    println!("{title}");
    println!(
        "{:>8} {:>10} {:>9} {:>9} {:>9} {:>6} {:>7}  doubts",
        "channel", "preferred", "peak σ", "other σ", "circ.var", "echo", "score"
    );
    for c in rows {
        println!(
            "{:>8} {:>9.1}° {:>9.2} {:>9.2} {:>9.3} {:>6} {:>7.2}  {}",
            c.channel,
            c.preferred_deg,
            c.peak_sigma,
            c.other_peak_sigma,
            c.circular_variance,
            c.echo_ratio.map_or("-".into(), |e| format!("{e:.2}")),
            c.score,
            c.doubts.join("; ")
        );
    }
}

pub fn discover_command(args: DiscoverArgs) -> anyhow::Result<()> {
    let variant: Variant = args.sweep.model.model;
    let tap = Tap::parse(&args.tap, variant)?;
    let (session, stats) = args.sweep.open(tap)?;
    let mut spec = DiscoverySpec::new(args.family);
    spec.top = args.top;
    spec.min_peak_sigma = args.min_peak_sigma;
    spec.max_circular_variance = args.max_circular_variance;
    spec.max_other_ratio = args.max_other_ratio;
    spec.max_echo = args.max_echo;
    eprintln!(
        "sweeping {} channels of {} with {} curve and {} line stimuli",
        tap.channels(variant),
        args.tap,
        spec.curves.orientations.len() * spec.curves.values.len(),
        spec.lines.orientations.len() * spec.lines.values.len()
    );
    let found: Discovery = discover(session.model(), tap, &stats, &spec)?;
    std::fs::create_dir_all(&args.out)?;
    print_candidates(
        "top 20 channels by score:",
        &found.ranking[..found.ranking.len().min(20)],
    );
    println!();
    print_candidates(
        &format!(
            "family ({} members, largest orientation gap {:.0}°):",
            found.members.len(),
            found.largest_gap_deg
        ),
        &found.members,
    );
    let command: Vec<String> = std::env::args().collect();
    let source = format!("aann {}", command[1..].join(" "));
    let family = found.family(variant, &source);
    family.save(&args.out.join("family.toml"))?;
    if let Some(path) = &args.family_out {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        family.save(path)?;
        eprintln!("wrote family file {}", path.display());
    }
    let members: Vec<usize> = found.members.iter().map(|c| c.channel).collect();
    write_grid(&found.curves, &args.out, 360.0, Some(&members))?;
    write_grid(&found.lines, &args.out, 180.0, Some(&members))?;
    contact_sheet(&found, &members, &args.out.join("members.png"))?;
    // Keep the JSON small: grids only for the top 40 channels.
    let keep: Vec<usize> = found.ranking.iter().take(40).map(|c| c.channel).collect();
    let mut slim = found.clone();
    slim.curves = subset(&found.curves, &keep);
    slim.lines = subset(&found.lines, &keep);
    std::fs::write(
        args.out.join("discovery.json"),
        serde_json::to_string(&slim)?,
    )?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// A grid restricted to some channels.
pub fn subset(grid: &TuningGrid, channels: &[usize]) -> TuningGrid {
    let n = grid.rows() * grid.columns();
    let ks: Vec<usize> = channels
        .iter()
        .filter_map(|c| grid.channel_index(*c))
        .collect();
    let pick = |v: &Vec<f32>| {
        ks.iter()
            .flat_map(|k| v[k * n..(k + 1) * n].to_vec())
            .collect::<Vec<f32>>()
    };
    TuningGrid {
        channels: ks.iter().map(|k| grid.channels[*k]).collect(),
        responses: pick(&grid.responses),
        sigma: grid.sigma.as_ref().map(pick),
        ..grid.clone()
    }
}

/// One PNG with every member's curve heatmap, in family order, for a quick look.
fn contact_sheet(found: &Discovery, members: &[usize], path: &Path) -> anyhow::Result<()> {
    let grid = &found.curves;
    let (rows, cols, cell) = (grid.rows() as u32, grid.columns() as u32, 6u32);
    let (w, h, gap) = (cols * cell, rows * cell, 6u32);
    let max = colour_scale(grid);
    let per_row = 2u32;
    let n = members.len().max(1) as u32;
    let mut img = image::RgbImage::from_pixel(
        per_row * (w + gap) + gap,
        n.div_ceil(per_row) * (h + gap) + gap,
        image::Rgb([255, 255, 255]),
    );
    for (i, ch) in members.iter().enumerate() {
        let k = grid.channel_index(*ch).context("member in grid")?;
        let map = grid.map(k);
        let (ox, oy) = (
            gap + (i as u32 % per_row) * (w + gap),
            gap + (i as u32 / per_row) * (h + gap),
        );
        for y in 0..h {
            for x in 0..w {
                let r = rows as usize - 1 - (y / cell) as usize;
                let c = (x / cell) as usize;
                let v = f64::from(map[r * cols as usize + c]);
                img.put_pixel(
                    ox + x,
                    oy + y,
                    image::Rgb(aann_eval::plot::colour(v, 0.0, f64::from(max))),
                );
            }
        }
    }
    img.save(path)?;
    Ok(())
}

#[derive(Args, Debug)]
pub struct DiscoverGaborsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Smallest share of a filter's energy one brightness Gabor must explain.
    #[arg(long, default_value_t = GaborCriteria::default().min_r2)]
    pub min_r2: f64,
    /// Largest share of a filter's energy outside brightness (mean R, G, B).
    #[arg(long, default_value_t = GaborCriteria::default().max_colour_fraction)]
    pub max_colour_fraction: f64,
    /// Output folder: discovery.json (every filter's fit) and family.toml.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the family file here (e.g. circuits/families/bvlc/gabors-conv1.toml).
    #[arg(long)]
    pub family_out: Option<PathBuf>,
}

/// `aann discover-gabors`: every first-layer filter fitted with analytic Gabors.
pub fn discover_gabors_command(args: DiscoverGaborsArgs) -> anyhow::Result<()> {
    let variant = args.model.model;
    let session = args.model.open()?;
    let criteria = GaborCriteria {
        min_r2: args.min_r2,
        max_colour_fraction: args.max_colour_fraction,
    };
    let found = discover_gabors(session.model(), &criteria, &GaborGrid::default())?;
    println!(
        "{:>8} {:>10} {:>8} {:>11} {:>8} {:>6} {:>7}  member",
        "channel", "direction", "phase", "wavelength", "sigma", "R²", "colour"
    );
    for f in &found.fits {
        println!(
            "{:>8} {:>9.1}° {:>7.0}° {:>9.1}px {:>6.1}px {:>6.2} {:>7.2}  {}",
            f.channel,
            f.direction_deg,
            f.phase_deg,
            f.wavelength_px,
            f.sigma_px,
            f.r2,
            f.colour_fraction,
            if f.member { "yes" } else { "" }
        );
    }
    let members = found.members().count();
    println!(
        "{members} of {} filters are Gabors; the other {} stay natural",
        found.fits.len(),
        found.fits.len() - members
    );
    let command: Vec<String> = std::env::args().collect();
    let source = format!("aann {}", command[1..].join(" "));
    let family = found.family(variant, &source);
    let stated = stated_set_fit(session.model(), &family, &GaborLayerSpec::standard())?;
    if !stated.is_empty() {
        let mean =
            |f: fn(&StatedFit) -> f64| stated.iter().map(f).sum::<f64>() / stated.len() as f64;
        println!(
            "the shipped hand-written layer (kind = \"gabors\"): the unit each member is mapped to \
             explains a mean R² of {:.3} of its brightness part (the best unit of the set: {:.3}; \
             the free fits: {:.3})",
            mean(|s| s.mapped_r2),
            mean(|s| s.best_r2),
            found
                .members()
                .map(|f| f.r2 / (1.0 - f.colour_fraction))
                .sum::<f64>()
                / stated.len() as f64
        );
    }
    std::fs::create_dir_all(&args.out)?;
    family.save(&args.out.join("family.toml"))?;
    std::fs::write(
        args.out.join("discovery.json"),
        serde_json::to_string_pretty(&found)?,
    )?;
    if let Some(path) = &args.family_out {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        family.save(path)?;
        eprintln!("wrote family file {}", path.display());
    }
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
