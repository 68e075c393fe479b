//! Evaluating claims: loading the model and data a claim needs (or saying why they are
//! absent), measuring, and judging the measurement against the claim's threshold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use aann_circuits::CircuitReplacement;
use aann_data::{ClassOrder, ImageSet, OpenOptions, Synsets, Unlabelled};
use aann_model::{ChannelSet, Condition, Edit, Family, Intervention, Tap, Variant};
use aann_stats::{
    BootstrapConfig, BootstrapInterval, Estimate, Metric, PairedBootstrap, compare_conditions,
};

use super::report::{ClaimReport, FileReport, Outcome};
use super::{
    AblationEffect, AblationKind, CircuitCorrelation, CircuitFields, Claim, ClaimKind,
    Equivariance, EquivarianceMode, FractionRecoveredClaim, HypothesisFile, MotifMeasure,
    PreferredOrientation, Sweep, Tiling, WeightMotif,
};
use crate::EvalError;
use crate::circuits::{median, pearson, replacement_condition};
use crate::evaluator::Evaluator;
use crate::expanded::{ExpandedBlock, expansion_block, positive_axis};
use crate::experiment::{check_disjoint, open_set};
use crate::lab::{
    DeviceChoice, Feed, FitSets, Session, SessionConfig, WeightsChoice, build_replacement,
};
use crate::means::{ActivationStats, describe_set};
use crate::metrics::ImageRecord;
use crate::run::RunOptions;
use crate::setup::DataRoot;
use crate::spec::CircuitSpec;
use crate::spec::ImageSetSpec;
use crate::summary::outcomes_by_condition;
use crate::tuning::{TuningGrid, angular_distance, summarize_channel, tune};

/// How to run a check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Data root (default: `$AANN_DATA`, else `../shared/data`).
    pub data_root: Option<PathBuf>,
    /// Weights to check instead of the file's (or the model's default location).
    pub weights: Option<PathBuf>,
    /// Folder for converted weights and cached statistics (default: `$AANN_CACHE` or
    /// `~/.cache/aann`).
    pub cache_dir: Option<PathBuf>,
    /// Check only the claims with these names (all when empty).
    pub only: Vec<String>,
    /// Check only the claims with at least one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Where the model runs.
    pub device: DeviceChoice,
    pub progress: bool,
}

impl CheckOptions {
    /// Whether a claim is selected by `only` and `tags`.
    pub fn selects(&self, claim: &Claim) -> bool {
        (self.only.is_empty() || self.only.contains(&claim.name))
            && (self.tags.is_empty() || claim.tags.iter().any(|t| self.tags.contains(t)))
    }
}

/// Weight files known to hold random (untrained) weights, by SHA-256.
const RANDOM_FIXTURES: [(&str, &str); 1] = [(
    "37a5b690df983a9709fdedb4b8053660f0aa3eac152cf1b67f65e40870fbc79f",
    "inception5h-random.pth, the seeded random-weights test fixture of the inception5h layout",
)];

/// What a known random-weights fixture is, by the SHA-256 of its source.
pub fn known_random_fixture(sha256: &str) -> Option<&'static str> {
    RANDOM_FIXTURES
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case(sha256))
        .map(|(_, what)| *what)
}

/// Why a claim was not measured.
#[derive(Clone, Debug)]
enum Unavailable {
    /// Inputs absent (weights, data) or not the ones the claim applies to: a skip.
    Skip(String),
    /// Inputs present, but evaluation failed: a failure.
    Error(String),
}

impl From<EvalError> for Unavailable {
    fn from(e: EvalError) -> Self {
        Unavailable::Error(e.to_string())
    }
}

impl From<aann_model::ModelError> for Unavailable {
    fn from(e: aann_model::ModelError) -> Self {
        Unavailable::Error(e.to_string())
    }
}

impl From<aann_stats::StatsError> for Unavailable {
    fn from(e: aann_stats::StatsError) -> Self {
        Unavailable::Error(e.to_string())
    }
}

impl From<aann_model::UnknownTap> for Unavailable {
    fn from(e: aann_model::UnknownTap) -> Self {
        Unavailable::Error(e.to_string())
    }
}

impl From<aann_data::DataError> for Unavailable {
    fn from(e: aann_data::DataError) -> Self {
        Unavailable::Error(e.to_string())
    }
}

impl From<String> for Unavailable {
    fn from(e: String) -> Self {
        Unavailable::Error(e)
    }
}

type Measured = Result<Outcome, Unavailable>;

/// The model, data and measurements shared by the claims of one file.
struct Context<'a> {
    file: &'a HypothesisFile,
    options: &'a CheckOptions,
    root: DataRoot,
    cache_dir: PathBuf,
    model: Option<Result<Rc<Session>, Unavailable>>,
    weights: Option<PathBuf>,
    grids: HashMap<String, Rc<TuningGrid>>,
    stats: HashMap<(String, usize, String), Rc<ActivationStats>>,
    /// Ablation runs, by tap, channels, ablation and test set (claims on other metrics of
    /// the same run share it).
    ablations: HashMap<String, Rc<Records>>,
}

/// Records of a run of conditions over an image set.
struct Records {
    records: Vec<ImageRecord>,
    names: Vec<String>,
    failures: usize,
    note: String,
}

impl<'a> Context<'a> {
    fn new(file: &'a HypothesisFile, options: &'a CheckOptions) -> Self {
        Context {
            file,
            options,
            root: DataRoot::resolve(options.data_root.as_deref()),
            cache_dir: options
                .cache_dir
                .clone()
                .unwrap_or_else(aann_weights::WeightCache::default_dir),
            model: None,
            weights: None,
            grids: HashMap::new(),
            stats: HashMap::new(),
            ablations: HashMap::new(),
        }
    }

    fn batch(&self) -> usize {
        self.file.defaults.batch_size.max(1)
    }

    fn model(&mut self) -> Result<Rc<Session>, Unavailable> {
        if self.model.is_none() {
            let loaded = self.load().map(Rc::new);
            self.model = Some(loaded);
        }
        self.model.clone().expect("set above")
    }

    fn load(&mut self) -> Result<Session, Unavailable> {
        let variant = self.file.model;
        let path = match (&self.options.weights, &self.file.weights) {
            (Some(p), _) => p.clone(),
            (None, Some(w)) => self.resolve(w),
            (None, None) => self.root.default_weights(variant).map_err(|e| {
                let usual = match variant {
                    Variant::Lucid => "inception5h.pth",
                    Variant::Bvlc => "googlenet-bvlc/params",
                };
                Unavailable::Skip(format!(
                    "weights absent (expected e.g. {}): {e}",
                    self.root.dir.join(usual).display()
                ))
            })?,
        };
        if !path.exists() {
            return Err(Unavailable::Skip(format!(
                "weights absent: no {variant} weights at {}",
                path.display()
            )));
        }
        self.weights = Some(path.clone());
        let sha = aann_weights::sha256_source(&path).map_err(|e| e.to_string())?;
        if self.file.requires.trained_weights
            && let Some(what) = known_random_fixture(&sha)
        {
            return Err(Unavailable::Skip(format!(
                "random weights fixture: {} is {what}; these claims are about the trained {variant} weights",
                path.display()
            )));
        }
        if self.options.progress {
            eprintln!("loading the {variant} model from {}", path.display());
        }
        Ok(Session::open(&SessionConfig {
            weights: WeightsChoice::Path(path),
            data_root: Some(self.root.dir.clone()),
            cache_dir: Some(self.cache_dir.clone()),
            device: self.options.device,
            progress: self.options.progress,
            ..SessionConfig::new(variant)
        })?)
    }

    /// A path relative to the data root (or absolute).
    fn resolve(&self, relative: &str) -> PathBuf {
        if Path::new(relative).is_absolute() {
            PathBuf::from(relative)
        } else {
            self.root.dir.join(relative)
        }
    }

    /// A data path that must exist, or a skip naming where it was expected.
    fn data(&self, relative: &str, what: &str) -> Result<PathBuf, Unavailable> {
        let p = self.resolve(relative);
        if p.exists() {
            Ok(p)
        } else {
            Err(Unavailable::Skip(format!(
                "{what} absent: expected at {} (data root {} from {}; set AANN_DATA or --data-root)",
                p.display(),
                self.root.dir.display(),
                self.root.origin
            )))
        }
    }

    fn synsets(&self) -> Result<Synsets, Unavailable> {
        self.data("imagenet-val/synset_words.txt", "the synset list")?;
        Ok(self.root.synsets()?)
    }

    fn class_order(&self) -> Result<ClassOrder, Unavailable> {
        self.synsets()?;
        self.root
            .class_order(self.file.model)
            .map_err(|e| Unavailable::Skip(format!("label files absent: {e}")))
    }

    /// An image set from a spec; unlabelled images allowed unless `labelled`.
    fn image_set(
        &self,
        spec: &ImageSetSpec,
        role: &str,
        labelled: bool,
    ) -> Result<ImageSet, Unavailable> {
        self.data(&spec.images, &format!("the {role} image set"))?;
        if let Some(l) = &spec.labels {
            self.data(l, &format!("the {role} labels"))?;
        }
        let synsets = self.synsets()?;
        if labelled {
            return Ok(open_set(&self.root, spec, &synsets, role)?);
        }
        let set = ImageSet::open(
            self.resolve(&spec.images),
            &synsets,
            &OpenOptions {
                ground_truth: spec.labels.as_ref().map(|l| self.resolve(l)),
                unlabelled: Unlabelled::Allow,
            },
        )
        .map_err(|e| format!("the {role} set {}: {e}", spec.images))?;
        let set = if spec.skip > 0 {
            set.skip(spec.skip)
        } else {
            set
        };
        Ok(if spec.limit > 0 {
            set.limit(spec.limit)
        } else {
            set
        })
    }

    /// Activation statistics of `tap` over the first `n` images of `set` (through the
    /// cache in the cache folder).
    fn stats_on(
        &mut self,
        model: &Session,
        tap: Tap,
        set_spec: &ImageSetSpec,
        role: &str,
    ) -> Result<Rc<ActivationStats>, Unavailable> {
        let key = (
            tap.name(self.file.model),
            set_spec.limit,
            format!("{}|{}", set_spec.images, set_spec.skip),
        );
        if let Some(s) = self.stats.get(&key) {
            return Ok(s.clone());
        }
        let set = self.image_set(set_spec, role, false)?;
        let feed = Feed::new(&model, self.file.model.preprocess(), self.batch());
        let stats = crate::means::stats(&feed, &set, tap)?;
        let stats = Rc::new(stats);
        self.stats.insert(key, stats.clone());
        Ok(stats)
    }

    /// σ statistics of a tap over the file's σ set, or `None` for raw activations.
    fn sigma_stats(
        &mut self,
        model: &Session,
        tap: Tap,
        n: usize,
    ) -> Result<Option<Rc<ActivationStats>>, Unavailable> {
        if n == 0 {
            return Ok(None);
        }
        let spec = ImageSetSpec {
            images: self.file.defaults.sigma_set.clone(),
            labels: None,
            skip: 0,
            limit: n,
        };
        self.stats_on(model, tap, &spec, "σ").map(Some)
    }

    fn sigma_images(&self, sweep: &Sweep) -> usize {
        sweep
            .sigma_images
            .unwrap_or(self.file.defaults.sigma_images)
    }

    /// Natural tuning maps of every channel of `tap` for a sweep (shared by claims).
    fn grid(
        &mut self,
        model: &Session,
        tap: Tap,
        sweep: &Sweep,
    ) -> Result<Rc<TuningGrid>, Unavailable> {
        let n = self.sigma_images(sweep);
        let mut spec = sweep.spec();
        spec.batch_size = self.batch();
        let key = format!(
            "{}|{n}|{}",
            tap.name(self.file.model),
            serde_json::to_string(&spec).expect("specs serialise")
        );
        if let Some(g) = self.grids.get(&key) {
            return Ok(g.clone());
        }
        let stats = self.sigma_stats(model, tap, n)?;
        let channels: Vec<usize> = (0..tap.channels(self.file.model)).collect();
        let grid = Rc::new(tune(
            model.model(),
            tap,
            &channels,
            &spec,
            stats.as_deref(),
            None,
        )?);
        self.grids.insert(key, grid.clone());
        Ok(grid)
    }

    fn family(&self, relative: &str) -> Result<(Family, Tap), Unavailable> {
        let (_, family) = self.file.family(relative)?;
        let tap = family.tap()?;
        Ok((family, tap))
    }
}

/// Check every selected claim of a file. Claims whose weights or data are absent are
/// skipped with the reason; a claim that cannot be evaluated for another reason fails.
pub fn check_file(file: &HypothesisFile, options: &CheckOptions) -> FileReport {
    let mut ctx = Context::new(file, options);
    let mut claims = Vec::new();
    for claim in file.claims.iter().filter(|c| options.selects(c)) {
        if options.progress {
            eprintln!("checking `{}` ({})", claim.name, claim.kind.name());
        }
        let start = Instant::now();
        let threshold = threshold_text(claim);
        let outcome = match evaluate(&mut ctx, claim, &threshold) {
            Ok(o) => o,
            Err(Unavailable::Skip(reason)) => Outcome::skipped(reason, threshold),
            Err(Unavailable::Error(e)) => Outcome::error(e, threshold),
        };
        claims.push(ClaimReport {
            name: claim.name.clone(),
            kind: claim.kind.name().to_string(),
            tags: claim.tags.clone(),
            outcome,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let weights_sha256 = match &ctx.model {
        Some(Ok(m)) => Some(m.weights_sha256().to_string()),
        _ => None,
    };
    FileReport {
        path: file.path.display().to_string(),
        model: file.model.to_string(),
        weights: ctx.weights.as_ref().map(|p| p.display().to_string()),
        weights_sha256,
        claims,
    }
}

fn evaluate(ctx: &mut Context<'_>, claim: &Claim, threshold: &str) -> Measured {
    match &claim.kind {
        ClaimKind::PreferredOrientation(c) => preferred_orientation(ctx, c, threshold),
        ClaimKind::Tiling(c) => tiling(ctx, c, threshold),
        ClaimKind::Equivariance(c) => equivariance(ctx, c, threshold),
        ClaimKind::CircuitCorrelation(c) => circuit_correlation(ctx, c, threshold),
        ClaimKind::AblationEffect(c) => ablation_effect(ctx, c, threshold),
        ClaimKind::FractionRecovered(c) => fraction_recovered(ctx, c, threshold),
        ClaimKind::WeightMotif(c) => weight_motif(ctx, c, threshold),
    }
}

fn pct(f: f64) -> String {
    format!("{:.0}%", 100.0 * f)
}

fn level_text(level: f64) -> String {
    format!("{}%", (level * 100.0 * 10.0).round() / 10.0)
}

/// The threshold of a claim, in words (shown for skipped claims too).
fn threshold_text(claim: &Claim) -> String {
    match &claim.kind {
        ClaimKind::PreferredOrientation(c) => {
            let peak = c
                .min_peak
                .map_or(String::new(), |p| format!(", peak ≥ {p}"));
            match (&c.family, c.expected_deg) {
                (Some(f), _) => format!(
                    "≥ {} of {} within ±{}° of its orientation{peak}",
                    pct(c.min_fraction.unwrap_or(1.0)),
                    file_name(f),
                    c.tolerance_deg
                ),
                (None, Some(e)) => format!("within ±{}° of {e}°{peak}", c.tolerance_deg),
                _ => String::new(),
            }
        }
        ClaimKind::Tiling(c) => format!("largest gap ≤ {}°", c.max_gap_deg),
        ClaimKind::Equivariance(c) => match c.mode {
            EquivarianceMode::PeakShift => format!(
                "RMS shift error ≤ {}° per {}° step",
                c.max_error_deg.unwrap_or(0.0),
                c.sweep.orientation_step_deg
            ),
            EquivarianceMode::Rot90Permutation => {
                format!("median r ≥ {} with the 90° partner", c.min_r.unwrap_or(0.0))
            }
        },
        ClaimKind::CircuitCorrelation(c) => match c.channel {
            Some(ch) => format!("r ≥ {} (channel {ch})", c.min_r),
            None => format!("median r ≥ {}", c.min_r),
        },
        ClaimKind::AblationEffect(c) => {
            let mut parts = Vec::new();
            if let Some(m) = c.min_change {
                parts.push(format!("lower bound ≥ {m}"));
            }
            if let Some(m) = c.max_change {
                parts.push(format!("upper bound ≤ {m}"));
            }
            format!(
                "Δ{} {} CI {}",
                c.metric,
                level_text(c.level),
                parts.join(", ")
            )
        }
        ClaimKind::FractionRecovered(c) => format!(
            "{} BCa lower bound ≥ {}",
            level_text(c.level),
            c.min_lower_bound
        ),
        ClaimKind::WeightMotif(c) => match c.measure {
            MotifMeasure::AlignedVsOpposite => format!(
                "≥ {} of targets: aligned > opposite",
                pct(c.min_fraction.unwrap_or(0.0))
            ),
            MotifMeasure::OppositeInhibits => format!(
                "≥ {} of opposite pairs inhibit",
                pct(c.min_fraction.unwrap_or(0.0))
            ),
            MotifMeasure::PairSigns => format!(
                "≥ {} of pairs have the claimed sign",
                pct(c.min_fraction.unwrap_or(0.0))
            ),
            MotifMeasure::Tangent => {
                format!(
                    "median axis error ≤ {}° (chance 45°)",
                    c.max_deg.unwrap_or(0.0)
                )
            }
            MotifMeasure::Falloff => format!("r(cos Δθ, weight) ≥ {}", c.min_r.unwrap_or(0.0)),
        },
    }
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or(path.to_string(), |n| n.to_string_lossy().into_owned())
}

fn sigma_word(grid: &TuningGrid) -> &'static str {
    if grid.sigma.is_some() { "σ" } else { " (raw)" }
}

/// Neurons of a family with their orientations.
fn oriented(family: &Family) -> Vec<(usize, f64)> {
    family
        .neurons
        .iter()
        .filter_map(|n| n.orientation_deg.map(|o| (n.channel, o)))
        .collect()
}

fn preferred_orientation(ctx: &mut Context<'_>, c: &PreferredOrientation, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (tap, targets) = match &c.family {
        Some(f) => {
            let (family, tap) = ctx.family(f)?;
            (tap, oriented(&family))
        }
        None => (
            Tap::parse(c.tap.as_deref().unwrap_or_default(), ctx.file.model)?,
            vec![(
                c.channel.expect("validated"),
                c.expected_deg.expect("validated"),
            )],
        ),
    };
    let grid = ctx.grid(&model, tap, &c.sweep)?;
    let period = c.sweep.period();
    let unit = sigma_word(&grid);
    let rows: Vec<(usize, f64, f64, f64, bool)> = targets
        .iter()
        .map(|&(ch, expected)| {
            let k = grid.channel_index(ch).expect("all channels are tuned");
            let s = summarize_channel(&grid, k, period);
            let err = angular_distance(s.preferred_deg, expected, period);
            let ok = err <= c.tolerance_deg && c.min_peak.is_none_or(|p| s.peak >= p);
            (ch, expected, s.preferred_deg, s.peak, ok)
        })
        .collect();
    let describe = |r: &(usize, f64, f64, f64, bool)| {
        format!(
            "channel {}: preferred {:.1}° vs {:.1}° ({:.1}° off), peak {:.1}{unit}",
            r.0,
            r.2,
            r.1,
            angular_distance(r.2, r.1, period),
            r.3
        )
    };
    let sweep = format!(
        "{:?} sweep of {} orientations × {} values at {}",
        c.sweep.stimulus,
        grid.columns(),
        grid.rows(),
        grid.tap
    )
    .to_lowercase();
    if c.family.is_none() {
        let r = &rows[0];
        return Ok(Outcome::judged(
            r.4,
            r.2,
            "°",
            thr,
            format!("{}; {sweep}", describe(r)),
        ));
    }
    let ok = rows.iter().filter(|r| r.4).count();
    let fraction = ok as f64 / rows.len() as f64;
    let mut bad: Vec<&(usize, f64, f64, f64, bool)> = rows.iter().filter(|r| !r.4).collect();
    bad.sort_by(|a, b| {
        angular_distance(b.2, b.1, period).total_cmp(&angular_distance(a.2, a.1, period))
    });
    let worst = rows
        .iter()
        .max_by(|a, b| {
            angular_distance(a.2, a.1, period).total_cmp(&angular_distance(b.2, b.1, period))
        })
        .expect("a family has neurons");
    let mut detail = format!(
        "{ok} of {} neurons within ±{}° (largest error {:.1}°, channel {}); {sweep}",
        rows.len(),
        c.tolerance_deg,
        angular_distance(worst.2, worst.1, period),
        worst.0
    );
    for r in bad.iter().take(6) {
        detail.push_str(&format!("\noutside: {}", describe(r)));
    }
    Ok(Outcome::judged(
        fraction >= c.min_fraction.unwrap_or(1.0),
        fraction,
        "fraction",
        thr,
        detail,
    ))
}

fn tiling(ctx: &mut Context<'_>, c: &Tiling, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (family, tap) = ctx.family(&c.family)?;
    let grid = ctx.grid(&model, tap, &c.sweep)?;
    let period = c.sweep.period();
    let mut measured: Vec<(f64, usize)> = family
        .channels()
        .iter()
        .map(|&ch| {
            let k = grid.channel_index(ch).expect("all channels are tuned");
            (summarize_channel(&grid, k, period).preferred_deg, ch)
        })
        .collect();
    measured.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = measured.len();
    let (gap, from, to) = (0..n)
        .map(|i| {
            let (a, b) = (measured[i], measured[(i + 1) % n]);
            ((b.0 - a.0).rem_euclid(period), a, b)
        })
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .expect("at least 2 neurons");
    let list: Vec<String> = measured
        .iter()
        .map(|(o, ch)| format!("{ch}:{o:.0}°"))
        .collect();
    Ok(Outcome::judged(
        gap <= c.max_gap_deg,
        gap,
        "°",
        thr,
        format!(
            "{n} neurons measured at {}; largest gap {gap:.1}° between channel {} ({:.1}°) and channel {} ({:.1}°)",
            list.join(", "),
            from.1,
            from.0,
            to.1,
            to.0
        ),
    ))
}

fn equivariance(ctx: &mut Context<'_>, c: &Equivariance, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (family, tap) = ctx.family(&c.family)?;
    let grid = ctx.grid(&model, tap, &c.sweep)?;
    let period = c.sweep.period();
    let step = c.sweep.orientation_step_deg;
    let neurons = oriented(&family);
    let index: Vec<usize> = neurons
        .iter()
        .map(|(ch, _)| grid.channel_index(*ch).expect("all channels are tuned"))
        .collect();
    let cols = grid.columns();
    match c.mode {
        EquivarianceMode::PeakShift => {
            let scale = 360.0 / period;
            let curves: Vec<Vec<f64>> = index.iter().map(|&k| grid.radial_curve(k)).collect();
            let mut decoded = Vec::with_capacity(cols);
            for j in 0..cols {
                let (mut x, mut y) = (0.0, 0.0);
                for ((_, theta), curve) in neurons.iter().zip(&curves) {
                    let a = (theta * scale).to_radians();
                    x += curve[j] * a.cos();
                    y += curve[j] * a.sin();
                }
                if x == 0.0 && y == 0.0 {
                    return Ok(Outcome {
                        status: super::Status::Fail,
                        measured: None,
                        unit: "°".into(),
                        threshold: thr.into(),
                        detail: format!(
                            "no neuron of the family responds to the stimulus at {}°: the population peak is undefined",
                            grid.spec.orientations[j]
                        ),
                    });
                }
                decoded.push((y.atan2(x).to_degrees() / scale).rem_euclid(period));
            }
            let wrap = |d: f64| {
                let d = d.rem_euclid(period);
                if d > period / 2.0 { d - period } else { d }
            };
            let shifts: Vec<f64> = (0..cols)
                .map(|j| wrap(decoded[(j + 1) % cols] - decoded[j]))
                .collect();
            let rms = (shifts.iter().map(|s| (s - step).powi(2)).sum::<f64>() / cols as f64).sqrt();
            let (lo, hi) = shifts
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
                    (a.min(*s), b.max(*s))
                });
            let mean = shifts.iter().sum::<f64>() / cols as f64;
            let (mut ox, mut oy) = (0.0, 0.0);
            for (d, o) in decoded.iter().zip(&grid.spec.orientations) {
                let a = ((d - o) * scale).to_radians();
                ox += a.cos();
                oy += a.sin();
            }
            let offset = wrap(oy.atan2(ox).to_degrees() / scale);
            Ok(Outcome::judged(
                rms <= c.max_error_deg.expect("validated"),
                rms,
                "°",
                thr,
                format!(
                    "the population peak (responses × the family's {} orientations) moves {mean:.1}° per {step}° rotation on average (from {lo:.1}° to {hi:.1}°) over {cols} stimulus orientations; decoded − stimulus orientation {offset:+.1}° on average",
                    neurons.len()
                ),
            ))
        }
        EquivarianceMode::Rot90Permutation => {
            let q = (90.0 / step).round() as usize;
            let tolerance = c.partner_tolerance_deg.unwrap_or(20.0);
            let rows = grid.rows();
            let shifted = |k: usize| -> Vec<f32> {
                let map = grid.map(k);
                let mut out = vec![0f32; map.len()];
                for r in 0..rows {
                    for j in 0..cols {
                        // Neuron k's response to the stimulus 90° before j.
                        out[r * cols + j] = map[r * cols + (j + cols - q % cols) % cols];
                    }
                }
                out
            };
            let mut rs = Vec::new();
            let mut gaps = Vec::new();
            let mut best_matches = 0;
            let mut excluded = Vec::new();
            let mut worst: Option<(f64, usize, usize)> = None;
            for (i, &(ch, theta)) in neurons.iter().enumerate() {
                let target = (theta + 90.0).rem_euclid(period);
                let partner = neurons
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .min_by(|a, b| {
                        angular_distance(a.1.1, target, period)
                            .total_cmp(&angular_distance(b.1.1, target, period))
                    })
                    .map(|(j, n)| (j, angular_distance(n.1, target, period)));
                let Some((j, gap)) = partner.filter(|p| p.1 <= tolerance) else {
                    excluded.push(ch);
                    continue;
                };
                let rotated = shifted(index[i]);
                let r = pearson(&rotated, grid.map(index[j]));
                let best = (0..neurons.len())
                    .filter(|&m| m != i)
                    .max_by(|&a, &b| {
                        pearson(&rotated, grid.map(index[a]))
                            .total_cmp(&pearson(&rotated, grid.map(index[b])))
                    })
                    .expect("a partner exists");
                if best == j {
                    best_matches += 1;
                }
                gaps.push(gap);
                if worst.is_none_or(|w| r < w.0) {
                    worst = Some((r, ch, neurons[j].0));
                }
                rs.push(r);
            }
            if rs.is_empty() {
                return Ok(Outcome {
                    status: super::Status::Fail,
                    measured: None,
                    unit: "r".into(),
                    threshold: thr.into(),
                    detail: format!(
                        "no neuron of the family has a partner within {tolerance}° of its orientation + 90°"
                    ),
                });
            }
            let med = median(&rs);
            let mut detail = format!(
                "{} neurons with a partner within {tolerance}° of θ + 90° (median {:.1}° off): median r {med:.3}; the partner is the best match among the family for {best_matches} of them",
                rs.len(),
                median(&gaps)
            );
            if let Some((r, a, b)) = worst {
                detail.push_str(&format!("; lowest r {r:.3} ({a} → {b})"));
            }
            if !excluded.is_empty() {
                detail.push_str(&format!(
                    "; left out (no partner): {}",
                    excluded
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Ok(Outcome::judged(
                med >= c.min_r.expect("validated"),
                med,
                "r",
                thr,
                detail,
            ))
        }
    }
}

/// A circuit built for a claim, with its natural channels mapped to units and calibrated.
struct BuiltCircuit {
    tap: Tap,
    family_name: String,
    replacement: Arc<CircuitReplacement>,
    note: String,
}

fn build(
    ctx: &mut Context<'_>,
    model: &Session,
    fields: &CircuitFields,
    calibration_set: &ImageSetSpec,
    upstream_set: &ImageSetSpec,
) -> Result<BuiltCircuit, Unavailable> {
    let (family, tap) = ctx.family(&fields.family)?;
    let repo = ctx.file.repository.clone();
    let (early_curves, lines) = ctx.file.upstream_families(fields);
    let spec = CircuitSpec {
        name: None,
        choice: fields
            .circuit
            .choice_with(ctx.file.model, Some(early_curves), Some(lines)),
        calibration: fields.calibration,
        fit: fields.fit,
        spec: fields.spec.clone(),
    };
    let upstream = ctx.image_set(upstream_set, "upstream normaliser", false)?;
    let set = ctx.image_set(calibration_set, "calibration", false)?;
    let feed = Feed::new(model, ctx.file.model.preprocess(), ctx.batch());
    let replacement = build_replacement(
        &feed,
        &spec,
        &family,
        &repo,
        FitSets {
            upstream: &upstream,
            calibration: &set,
        },
    )?;
    let (circuit, mapping, calibration) = (
        &replacement.circuit,
        &replacement.mapping,
        &replacement.calibration,
    );
    let note = format!(
        "{}{} for {} neurons of {} ({} calibration on {} images)",
        circuit.name(),
        fields
            .spec
            .as_ref()
            .map_or(String::new(), |p| format!(" (numbers from {p})")),
        mapping.channels.len(),
        file_name(&fields.family),
        calibration.scope,
        set.len()
    );
    Ok(BuiltCircuit {
        tap,
        family_name: family.name.clone(),
        replacement,
        note,
    })
}

fn circuit_correlation(ctx: &mut Context<'_>, c: &CircuitCorrelation, thr: &str) -> Measured {
    let model = ctx.model()?;
    let fields = c.circuit.as_ref().expect("parsed");
    let calibration_set = ImageSetSpec {
        images: c
            .calibration_set
            .clone()
            .unwrap_or_else(|| "imagenet-val/images".into()),
        labels: None,
        skip: 0,
        limit: c.calibration_images,
    };
    let upstream_set = ImageSetSpec {
        images: ctx.file.defaults.sigma_set.clone(),
        labels: None,
        skip: 0,
        limit: ctx.sigma_images(&c.sweep).max(1),
    };
    let built = build(ctx, &model, fields, &calibration_set, &upstream_set)?;
    let natural = ctx.grid(&model, built.tap, &c.sweep)?;
    let mut spec = c.sweep.spec();
    spec.batch_size = ctx.batch();
    let condition = replacement_condition(
        &built.replacement.circuit.name(),
        built.tap,
        built.replacement.clone(),
    );
    let mapping = &built.replacement.mapping;
    let artificial = tune(
        model.model(),
        built.tap,
        &mapping.channels,
        &spec,
        None,
        Some(&condition),
    )?;
    // Pearson r is unchanged by σ scaling, so raw artificial maps compare with σ maps.
    let rows: Vec<(usize, usize, f64)> = mapping
        .channels
        .iter()
        .enumerate()
        .map(|(k, &ch)| {
            let nat = natural.channel_index(ch).expect("all channels are tuned");
            (
                ch,
                mapping.units[k],
                pearson(natural.map(nat), artificial.map(k)),
            )
        })
        .collect();
    let rs: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let constant = (0..mapping.channels.len())
        .filter(|&k| {
            let m = artificial.map(k);
            m.iter().all(|v| *v == m[0])
        })
        .count();
    let gains = &built.replacement.calibration.gains;
    let note = if constant > 0 {
        format!(
            "; {constant} of {} artificial neurons are constant over the sweep (r = 0): calibrated gains {} (a gain of 0 means the units did not predict the natural neurons on the calibration images)",
            rows.len(),
            if gains.iter().all(|g| *g == gains[0]) {
                format!("{:.3} for the family", gains[0])
            } else {
                format!(
                    "from {:.3} to {:.3}",
                    gains.iter().copied().fold(f64::INFINITY, f64::min),
                    gains.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                )
            }
        )
    } else {
        String::new()
    };
    let (lo, hi) = (
        rows.iter()
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .expect("neurons"),
        rows.iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .expect("neurons"),
    );
    let sweep = format!(
        "{} orientations × {} values",
        artificial.columns(),
        artificial.rows()
    );
    Ok(match c.channel {
        Some(ch) => {
            let r = rows.iter().find(|r| r.0 == ch).expect("validated");
            Outcome::judged(
                r.2 >= c.min_r,
                r.2,
                "r",
                thr,
                format!(
                    "channel {ch} ↔ unit {}: r {:.3} over {sweep}; {}{note}",
                    r.1, r.2, built.note
                ),
            )
        }
        None => {
            let med = median(&rs);
            Outcome::judged(
                med >= c.min_r,
                med,
                "r",
                thr,
                format!(
                    "median r {med:.3} over {sweep} (lowest {:.3}: channel {} ↔ unit {}; highest {:.3}: channel {} ↔ unit {}); {}{note}",
                    lo.2, lo.0, lo.1, hi.2, hi.0, hi.1, built.note
                ),
            )
        }
    })
}

/// Evaluate conditions (baseline first) over an image set, keeping the records in memory
/// (through the one runner, [`crate::run::run_in_memory`]).
fn run_in_memory(
    feed: &Feed<'_>,
    conditions: Vec<Condition>,
    set: &ImageSet,
    order: &ClassOrder,
    progress: bool,
) -> Result<(Vec<ImageRecord>, Vec<String>, usize), Unavailable> {
    let evaluator = Evaluator::new(feed.model(), conditions)?;
    let options = RunOptions {
        progress,
        ..Default::default()
    };
    let (records, failures) = crate::run::run_in_memory(feed, &evaluator, set, order, &options)?;
    Ok((records, evaluator.condition_names(), failures))
}

fn ablation_edit(
    ctx: &mut Context<'_>,
    model: &Session,
    kind: AblationKind,
    tap: Tap,
    channels: &ChannelSet,
    means: &ImageSetSpec,
    test: &ImageSet,
) -> Result<(Edit, String), Unavailable> {
    let (intervention, note) = match kind {
        AblationKind::Zero => (Intervention::ZeroAblate, "zero-ablation".to_string()),
        AblationKind::Mean => {
            let set = ctx.image_set(means, "means", false)?;
            check_disjoint(("means", &set), ("test", test))?;
            let stats = ctx.stats_on(model, tap, means, "means")?;
            (
                Intervention::MeanAblate(Arc::new(stats.uniform_means(model.weights_sha256()))),
                format!("mean-ablation (means over {})", describe_set(&set)),
            )
        }
    };
    Ok((
        Edit {
            tap,
            channels: channels.clone(),
            intervention,
        },
        note,
    ))
}

fn metric_estimate(cmp: &aann_stats::ConditionComparison, metric: Metric) -> Estimate {
    match metric {
        Metric::CrossEntropy => cmp.cross_entropy.difference,
        Metric::Top1Accuracy => cmp.top1_accuracy.difference,
        Metric::Top5Accuracy => cmp.top5_accuracy.difference,
        Metric::KlFromBaseline => {
            cmp.kl_from_baseline
                .as_ref()
                .expect("both conditions have KL")
                .difference
        }
    }
}

fn metric_unit(metric: Metric) -> &'static str {
    match metric {
        Metric::CrossEntropy | Metric::KlFromBaseline => "nats",
        _ => "",
    }
}

fn ablation_effect(ctx: &mut Context<'_>, c: &AblationEffect, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (tap, channels, what) = match &c.family {
        Some(f) => {
            let (family, tap) = ctx.family(f)?;
            (
                tap,
                ChannelSet::new(family.channels()),
                format!("the {} {}", family.neurons.len(), family.name),
            )
        }
        None => {
            let tap = Tap::parse(c.tap.as_deref().unwrap_or_default(), ctx.file.model)?;
            let set = ChannelSet::new(c.channels.clone().unwrap_or_default());
            let what = format!("channels {set}");
            (tap, set, what)
        }
    };
    let order = ctx.class_order()?;
    let test = ctx.image_set(&c.test, "test", true)?;
    let means = c.means.clone().unwrap_or(ImageSetSpec {
        images: "imagenet-val/images".into(),
        labels: None,
        skip: 0,
        limit: 100,
    });
    let key = format!(
        "{}|{channels}|{:?}|{:?}|{:?}",
        tap.name(ctx.file.model),
        c.ablation,
        c.test,
        means
    );
    let run = match ctx.ablations.get(&key) {
        Some(r) => r.clone(),
        None => {
            let (edit, note) =
                ablation_edit(ctx, &model, c.ablation, tap, &channels, &means, &test)?;
            let feed = Feed::new(&model, ctx.file.model.preprocess(), ctx.batch());
            let (records, names, failures) = run_in_memory(
                &feed,
                vec![Condition::new("ablated", vec![edit])],
                &test,
                &order,
                ctx.options.progress,
            )?;
            let run = Rc::new(Records {
                records,
                names,
                failures,
                note,
            });
            ctx.ablations.insert(key, run.clone());
            run
        }
    };
    let (records, names, failures, note) = (&run.records, &run.names, run.failures, &run.note);
    let (images, outcomes) = outcomes_by_condition(records, names)?;
    if images.len() < 2 {
        return Err(Unavailable::Error(format!(
            "only {} labelled image(s) of the test set could be evaluated",
            images.len()
        )));
    }
    let cmp = compare_conditions(&outcomes[0], &outcomes[1], c.level)?;
    let e = metric_estimate(&cmp, c.metric);
    let pass =
        c.min_change.is_none_or(|m| e.ci.lo >= m) && c.max_change.is_none_or(|m| e.ci.hi <= m);
    let (base, abl) = match c.metric {
        Metric::CrossEntropy => (
            cmp.cross_entropy.mean_a.point,
            cmp.cross_entropy.mean_b.point,
        ),
        Metric::Top1Accuracy => (
            cmp.top1_accuracy.proportion_a.point,
            cmp.top1_accuracy.proportion_b.point,
        ),
        _ => (
            cmp.top5_accuracy.proportion_a.point,
            cmp.top5_accuracy.proportion_b.point,
        ),
    };
    Ok(Outcome::judged(
        pass,
        e.point,
        metric_unit(c.metric),
        thr,
        format!(
            "{} of {what} at {}: {} {base:.4} → {abl:.4}, change {:+.4} [{:+.4}, {:+.4}] ({} {}) on {} images of {}{}",
            note,
            tap.name(ctx.file.model),
            c.metric,
            e.point,
            e.ci.lo,
            e.ci.hi,
            level_text(c.level),
            e.method.description(),
            images.len(),
            test.source(),
            if failures > 0 {
                format!(" ({failures} failed to decode)")
            } else {
                String::new()
            }
        ),
    ))
}

fn fraction_recovered(ctx: &mut Context<'_>, c: &FractionRecoveredClaim, thr: &str) -> Measured {
    let model = ctx.model()?;
    let fields = c.circuit.as_ref().expect("parsed");
    let order = ctx.class_order()?;
    let test = ctx.image_set(&c.test, "test", true)?;
    let tune_set = ctx.image_set(&c.tune, "tune", false)?;
    check_disjoint(("tune", &tune_set), ("test", &test))?;
    let built = build(ctx, &model, fields, &c.tune, &c.tune)?;
    let channels = ChannelSet::new(built.replacement.mapping.channels.clone());
    let (edit, note) = ablation_edit(
        ctx,
        &model,
        c.relative_to,
        built.tap,
        &channels,
        &c.tune,
        &test,
    )?;
    let replace = Edit {
        tap: built.tap,
        channels: channels.clone(),
        intervention: Intervention::Replace(built.replacement.clone()),
    };
    let feed = Feed::new(&model, ctx.file.model.preprocess(), ctx.batch());
    let (records, names, failures) = run_in_memory(
        &feed,
        vec![
            Condition::new("ablated", vec![edit]),
            Condition::new("replaced", vec![replace]),
        ],
        &test,
        &order,
        ctx.options.progress,
    )?;
    let (images, outcomes) = outcomes_by_condition(&records, &names)?;
    let boot = PairedBootstrap::from_conditions(
        &outcomes,
        BootstrapConfig {
            resamples: c.resamples,
            seed: c.seed,
            level: c.level,
            interval: BootstrapInterval::Bca,
        },
    )?;
    let f = boot.fraction_recovered(c.metric, "replaced", "ablated", "baseline")?;
    let gap = format!(
        "m_B − m_A = {:+.4} [{:+.4}, {:+.4}], m_R − m_A = {:+.4} [{:+.4}, {:+.4}]",
        f.denominator.point,
        f.denominator.ci.lo,
        f.denominator.ci.hi,
        f.numerator.point,
        f.numerator.ci.lo,
        f.numerator.ci.hi
    );
    let context = format!(
        "{} images of {}{}; {note} of the {} {}; {}",
        images.len(),
        test.source(),
        if failures > 0 {
            format!(" ({failures} failed to decode)")
        } else {
            String::new()
        },
        channels.len(),
        built.family_name,
        built.note
    );
    Ok(match &f.fraction {
        None => Outcome {
            status: super::Status::Fail,
            measured: None,
            unit: "fraction".into(),
            threshold: thr.into(),
            detail: format!(
                "the fraction recovered is undefined: {}; {gap}; {context}",
                match &f.status {
                    aann_stats::FractionStatus::Undefined { reason } => reason.clone(),
                    aann_stats::FractionStatus::Defined => String::new(),
                }
            ),
        },
        Some(e) => Outcome::judged(
            e.ci.lo >= c.min_lower_bound,
            e.point,
            "fraction",
            thr,
            format!(
                "recovers {:.1}% [{:.1}%, {:.1}%] of the {} gap ({} BCa, {} resamples); {gap}; {context}",
                100.0 * e.point,
                100.0 * e.ci.lo,
                100.0 * e.ci.hi,
                c.metric,
                level_text(c.level),
                c.resamples
            ),
        ),
    })
}

fn weight_motif(ctx: &mut Context<'_>, c: &WeightMotif, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (from, from_tap) = ctx.family(&c.from)?;
    let (to, to_tap) = ctx.family(&c.to)?;
    let variant = ctx.file.model;
    let block = expansion_block(from_tap, to_tap, variant)?;
    let expanded = ExpandedBlock::new(model.model(), block);
    let header = format!(
        "expanded weights {} → {} (bottleneck ReLU and biases ignored)",
        from_tap.name(variant),
        to_tap.name(variant)
    );
    if c.measure == MotifMeasure::PairSigns {
        let mut right = 0;
        let mut wrong = Vec::new();
        let pairs: Vec<([usize; 2], bool)> = c
            .excite
            .iter()
            .map(|p| (*p, true))
            .chain(c.inhibit.iter().map(|p| (*p, false)))
            .collect();
        for ([u, t], excite) in &pairs {
            let (_, k) = expanded.kernel(*u, *t)?;
            let sum: f64 = k.iter().map(|v| f64::from(*v)).sum();
            if (sum > 0.0) == *excite && sum != 0.0 {
                right += 1;
            } else {
                wrong.push(format!(
                    "{u} → {t} claimed {} but sums to {sum:+.4}",
                    if *excite { "excitatory" } else { "inhibitory" }
                ));
            }
        }
        let fraction = right as f64 / pairs.len() as f64;
        let mut detail = format!(
            "{right} of {} pairs have the claimed sign of their summed {header}",
            pairs.len()
        );
        for w in &wrong {
            detail.push_str(&format!("\n{w}"));
        }
        return Ok(Outcome::judged(
            fraction >= c.min_fraction.expect("validated"),
            fraction,
            "fraction",
            thr,
            detail,
        ));
    }
    let aligned = c.aligned_within_deg.unwrap_or(45.0);
    let opposite = c.opposite_within_deg.unwrap_or(45.0);
    let ups = oriented(&from);
    let mut excluded = Vec::new();
    // Per target: (channel, θ, kernel size, [(θ_u, net, positive, kernel)]).
    let mut targets = Vec::new();
    for (t, theta_t) in oriented(&to) {
        let mut row = Vec::new();
        let mut size = 0;
        let mut refused = None;
        for &(u, theta_u) in &ups {
            match expanded.kernel(u, t) {
                Ok((k, w)) => {
                    size = k;
                    let net: f64 = w.iter().map(|v| f64::from(*v)).sum();
                    let pos: f64 = w.iter().map(|v| f64::from(v.max(0.0))).sum();
                    row.push((angular_distance(theta_u, theta_t, 360.0), net, pos, w));
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        match refused {
            Some(e) => excluded.push(format!("{t} ({e})")),
            None => targets.push((t, theta_t, size, row)),
        }
    }
    let excluded_note = if excluded.is_empty() {
        String::new()
    } else {
        format!("; left out: {}", excluded.join(", "))
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    match c.measure {
        MotifMeasure::AlignedVsOpposite => {
            let (mut wins, mut counted) = (0, 0);
            let (mut net_a, mut net_o, mut pos_a, mut pos_o) = (vec![], vec![], vec![], vec![]);
            let mut losers = Vec::new();
            for (t, _, _, row) in &targets {
                let a: Vec<&(f64, f64, f64, Vec<f32>)> =
                    row.iter().filter(|r| r.0 <= aligned).collect();
                let o: Vec<&(f64, f64, f64, Vec<f32>)> =
                    row.iter().filter(|r| r.0 >= 180.0 - opposite).collect();
                if a.is_empty() || o.is_empty() {
                    continue;
                }
                counted += 1;
                let na = mean(&a.iter().map(|r| r.1).collect::<Vec<_>>());
                let no = mean(&o.iter().map(|r| r.1).collect::<Vec<_>>());
                net_a.push(na);
                net_o.push(no);
                pos_a.push(mean(&a.iter().map(|r| r.2).collect::<Vec<_>>()));
                pos_o.push(mean(&o.iter().map(|r| r.2).collect::<Vec<_>>()));
                if na > no {
                    wins += 1;
                } else {
                    losers.push(format!("{t} ({na:+.4} vs {no:+.4})"));
                }
            }
            if counted == 0 {
                return Err(Unavailable::Error(format!(
                    "no target has both aligned (≤ {aligned}°) and opposite (≥ {}°) upstream neurons",
                    180.0 - opposite
                )));
            }
            let fraction = wins as f64 / counted as f64;
            let mut detail = format!(
                "{wins} of {counted} targets: mean net weight of aligned upstream (Δθ ≤ {aligned}°) {:+.4} vs opposite (Δθ ≥ {}°) {:+.4}; summed positive weight {:.4} vs {:.4}; {header}{excluded_note}",
                mean(&net_a),
                180.0 - opposite,
                mean(&net_o),
                mean(&pos_a),
                mean(&pos_o)
            );
            if !losers.is_empty() {
                detail.push_str(&format!("\nnot so for: {}", losers.join(", ")));
            }
            Ok(Outcome::judged(
                fraction >= c.min_fraction.expect("validated"),
                fraction,
                "fraction",
                thr,
                detail,
            ))
        }
        MotifMeasure::OppositeInhibits => {
            let nets: Vec<f64> = targets
                .iter()
                .flat_map(|(_, _, _, row)| row.iter().filter(|r| r.0 >= 180.0 - opposite))
                .map(|r| r.1)
                .collect();
            if nets.is_empty() {
                return Err(Unavailable::Error(format!(
                    "no (upstream, target) pair is within {opposite}° of opposite"
                )));
            }
            let neg = nets.iter().filter(|n| **n < 0.0).count();
            let fraction = neg as f64 / nets.len() as f64;
            Ok(Outcome::judged(
                fraction >= c.min_fraction.expect("validated"),
                fraction,
                "fraction",
                thr,
                format!(
                    "{neg} of {} opposite pairs (Δθ ≥ {}°) have a negative net weight (mean {:+.4}); {header}{excluded_note}",
                    nets.len(),
                    180.0 - opposite,
                    mean(&nets)
                ),
            ))
        }
        MotifMeasure::Tangent => {
            let mut errors = Vec::new();
            let mut anisotropy = Vec::new();
            for (_, theta_t, k, row) in &targets {
                if *k < 3 {
                    continue;
                }
                for r in row.iter().filter(|r| r.0 <= aligned) {
                    if let Some((axis, aniso)) = positive_axis(*k, &r.3) {
                        errors.push(angular_distance(axis, theta_t + 90.0, 180.0));
                        anisotropy.push(aniso);
                    }
                }
            }
            if errors.is_empty() {
                return Err(Unavailable::Error(
                    "no aligned pair has a spatial kernel (3×3 or larger) with positive weights"
                        .into(),
                ));
            }
            let med = median(&errors);
            Ok(Outcome::judged(
                med <= c.max_deg.expect("validated"),
                med,
                "°",
                thr,
                format!(
                    "{} aligned pairs (Δθ ≤ {aligned}°): the principal axis of the positive weights is {med:.1}° (median) from the target's tangent at its apex (orientation + 90°); median anisotropy {:.2} (0 = round, 1 = a line); {header}{excluded_note}",
                    errors.len(),
                    median(&anisotropy)
                ),
            ))
        }
        MotifMeasure::Falloff => {
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for (_, _, _, row) in &targets {
                let scale = row.iter().map(|r| r.1.abs()).fold(0.0, f64::max);
                if scale <= 0.0 {
                    continue;
                }
                for r in row {
                    xs.push(r.0.to_radians().cos() as f32);
                    ys.push((r.1 / scale) as f32);
                }
            }
            let r = pearson(&xs, &ys);
            Ok(Outcome::judged(
                r >= c.min_r.expect("validated"),
                r,
                "r",
                thr,
                format!(
                    "Pearson r between cos(Δθ) and the net weight (divided per target by its largest |net| from the family) over {} pairs of {} targets; {header}{excluded_note}",
                    xs.len(),
                    targets.len()
                ),
            ))
        }
        MotifMeasure::PairSigns => unreachable!("handled above"),
    }
}
