//! What the claims of one file share: the model (loaded once, or the reason it is
//! absent), image sets and label files under the data root, σ statistics and tuning maps.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use aann_data::{ClassOrder, ImageSet, OpenOptions, Synsets, Unlabelled};
use aann_model::{Family, Tap, Variant};

use super::report::Outcome;
use super::{Claim, HypothesisFile, Sweep};
use crate::EvalError;
use crate::circuits::CircuitRegistry;
use crate::experiment::open_set;
use crate::lab::{DeviceChoice, Feed, Session, SessionConfig, WeightsChoice};
use crate::means::ActivationStats;
use crate::metrics::ImageRecord;
use crate::setup::DataRoot;
use crate::spec::ImageSetSpec;
use crate::tuning::{TuningGrid, tune};

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
    /// The circuits claims may name (default: the shipped ones).
    pub circuits: CircuitRegistry,
}

impl CheckOptions {
    /// Whether a claim is selected by `only` and `tags`.
    pub fn selects(&self, claim: &Claim) -> bool {
        (self.only.is_empty() || self.only.contains(&claim.name))
            && (self.tags.is_empty() || claim.tags.iter().any(|t| self.tags.contains(t)))
    }

    /// How many claims of `files` these options select. A name in `only` that no file has,
    /// or a selection of nothing, is an error: a check that ran nothing must not pass.
    pub fn selected(&self, files: &[HypothesisFile]) -> Result<usize, EvalError> {
        let paths = || {
            files
                .iter()
                .map(|f| f.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(name) = self
            .only
            .iter()
            .find(|n| !files.iter().any(|f| f.claims.iter().any(|c| &c.name == *n)))
        {
            return Err(EvalError::Spec(format!(
                "no claim is named `{name}` in {}",
                paths()
            )));
        }
        let selected = files
            .iter()
            .map(|f| f.claims.iter().filter(|c| self.selects(c)).count())
            .sum();
        if selected == 0 {
            return Err(EvalError::Spec(format!(
                "no claim of {} is selected by the names and tags given",
                paths()
            )));
        }
        Ok(selected)
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
pub(super) enum Unavailable {
    /// Inputs absent (weights, data) or not the ones the claim applies to: a skip.
    Skip(String),
    /// Inputs present, but evaluation failed: a failure.
    Error(String),
}

/// Errors of evaluation (inputs present, evaluation failed) are failures.
macro_rules! unavailable_from {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Unavailable {
            fn from(e: $error) -> Self {
                Unavailable::Error(e.to_string())
            }
        })*
    };
}

unavailable_from!(
    EvalError,
    aann_model::ModelError,
    aann_stats::StatsError,
    aann_model::UnknownTap,
    aann_data::DataError,
    String,
);

pub(super) type Measured = Result<Outcome, Unavailable>;

/// The model, data and measurements shared by the claims of one file.
pub(super) struct Context<'a> {
    pub(super) file: &'a HypothesisFile,
    pub(super) options: &'a CheckOptions,
    pub(super) root: DataRoot,
    pub(super) cache_dir: PathBuf,
    pub(super) model: Option<Result<Rc<Session>, Unavailable>>,
    pub(super) weights: Option<PathBuf>,
    pub(super) grids: HashMap<String, Rc<TuningGrid>>,
    pub(super) stats: HashMap<(String, usize, String), Rc<ActivationStats>>,
    /// Ablation runs, by tap, channels, ablation and test set (claims on other metrics of
    /// the same run share it).
    pub(super) ablations: HashMap<String, Rc<Records>>,
}

/// Records of a run of conditions over an image set.
pub(super) struct Records {
    pub(super) records: Vec<ImageRecord>,
    pub(super) names: Vec<String>,
    pub(super) failures: usize,
    pub(super) note: String,
}

impl<'a> Context<'a> {
    pub(super) fn new(file: &'a HypothesisFile, options: &'a CheckOptions) -> Self {
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

    pub(super) fn batch(&self) -> usize {
        self.file.defaults.batch_size.max(1)
    }

    pub(super) fn model(&mut self) -> Result<Rc<Session>, Unavailable> {
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
        })?
        .with_circuits(self.options.circuits.clone()))
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

    pub(super) fn class_order(&self) -> Result<ClassOrder, Unavailable> {
        self.synsets()?;
        self.root
            .class_order(self.file.model)
            .map_err(|e| Unavailable::Skip(format!("label files absent: {e}")))
    }

    /// An image set from a spec; unlabelled images allowed unless `labelled`.
    pub(super) fn image_set(
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
    pub(super) fn stats_on(
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
        let feed = Feed::new(model, self.file.model.preprocess(), self.batch());
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

    pub(super) fn sigma_images(&self, sweep: &Sweep) -> usize {
        sweep
            .sigma_images
            .unwrap_or(self.file.defaults.sigma_images)
    }

    /// Natural tuning maps of every channel of `tap` for a sweep (shared by claims).
    pub(super) fn grid(
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

    pub(super) fn family(&self, relative: &str) -> Result<(Family, Tap), Unavailable> {
        let (_, family) = self.file.family(relative)?;
        let tap = family.tap()?;
        Ok((family, tap))
    }
}
