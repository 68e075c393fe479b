//! Stage 1, the inputs: the three splits opened and checked disjoint by content, the
//! preprocessing, the target family, the calibration images and their statistics, and the
//! files the spec reads. Everything later stages fit or measure comes from here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aann_data::{
    ClassOrder, ContentDigest, ImageSet, OpenOptions, Preprocess, Rescale, Resize, Synsets,
    Unlabelled, content_digest,
};
use aann_model::{ChannelSet, Family, Tap};

use crate::EvalError;
use crate::circuits::CircuitRegistry;
use crate::lab::provenance::{ImageListInfo, file_sha256, git_commit};
use crate::lab::{Feed, Session, SessionConfig, WeightsChoice};
use crate::means::{ActivationStats, describe_set};
use crate::run::DigestedSet;
use crate::setup::DataRoot;
use crate::spec::{ExperimentSpec, ImageSetSpec, repository_root};

/// What the experiment reads, opened and checked once.
pub struct Inputs {
    /// The repository the spec's relative paths resolve against.
    pub repo: PathBuf,
    /// The code's version as the run starts (edits made while it runs do not change it).
    pub commit: String,
    pub synsets: Synsets,
    pub order: ClassOrder,
    pub tune: DigestedSet,
    pub dev: Option<DigestedSet>,
    pub test: DigestedSet,
    /// The tune images calibration and statistics use (`run.calibration_images`).
    pub calibration: DigestedSet,
    pub preprocess: Preprocess,
    pub family: Family,
    pub tap: Tap,
    pub channels: ChannelSet,
    /// The natural channels' statistics at the target tap, on the calibration images.
    pub stats: ActivationStats,
    /// Every file the spec reads besides images and weights, with its SHA-256.
    pub files: BTreeMap<String, String>,
}

impl Inputs {
    /// Open and check everything `spec` names, for `session`'s model.
    pub fn gather(
        session: &Session,
        spec_path: &Path,
        spec: &ExperimentSpec,
    ) -> Result<Self, EvalError> {
        let repo = repository_root(spec_path);
        let commit = git_commit(&repo);
        if session.variant() != spec.model {
            return Err(EvalError::Spec(format!(
                "the session runs {} but the experiment's model is {}",
                session.variant(),
                spec.model
            )));
        }
        check_settings(spec)?;
        // Every circuit is one the session can build, before anything is measured.
        spec.checked(session.circuits())?;
        let root = &session.root;
        let synsets = session.synsets()?;
        let tune = open_set(root, &spec.tune, &synsets, "tune")?;
        let test = open_set(root, &spec.test, &synsets, "test")?;
        let (tune_digest, test_digest) = check_disjoint(("tune", &tune), ("test", &test))?;
        let dev = match &spec.dev {
            Some(d) => {
                let dev = open_set(root, d, &synsets, "dev")?;
                let dev_digest = aann_data::split_digest(&dev)?;
                aann_data::check_disjoint(("tune", &tune_digest), ("dev", &dev_digest))?;
                aann_data::check_disjoint(("dev", &dev_digest), ("test", &test_digest))?;
                Some(DigestedSet {
                    images: dev,
                    digest: dev_digest,
                })
            }
            None => None,
        };
        let preprocess = preprocess_of(spec)?;
        let family = session.family(&repo.join(&spec.target.family), "target.family")?;
        let tap = family.tap()?;
        let channels = ChannelSet::new(family.channels());
        let calibration = calibration_set_of(spec, &tune);
        let calibration_digest = content_digest(&calibration)?;
        let feed = Feed::new(session, preprocess, spec.run.batch_size);
        let stats = crate::means::stats(&feed, &calibration, tap)?;
        let files = spec_files(spec, &repo, session.circuits())?;
        Ok(Inputs {
            order: session.class_order()?,
            commit,
            synsets,
            tune: DigestedSet {
                images: tune,
                digest: tune_digest,
            },
            dev,
            test: DigestedSet {
                images: test,
                digest: test_digest,
            },
            calibration: DigestedSet {
                images: calibration,
                digest: calibration_digest,
            },
            preprocess,
            family,
            tap,
            channels,
            stats,
            files,
            repo,
        })
    }

    /// The image lists of the provenance: every split, and the calibration images.
    pub fn image_lists(&self) -> BTreeMap<String, ImageListInfo> {
        let info = |s: &DigestedSet| ImageListInfo::new(describe_set(&s.images), &s.digest);
        let mut lists = BTreeMap::from([
            ("tune".to_string(), info(&self.tune)),
            ("calibration".to_string(), info(&self.calibration)),
            ("test".to_string(), info(&self.test)),
        ]);
        if let Some(d) = &self.dev {
            lists.insert("dev".into(), info(d));
        }
        lists
    }
}

/// Settings no later stage could use: refused before any image is read.
fn check_settings(spec: &ExperimentSpec) -> Result<(), EvalError> {
    if spec.run.tuning_orientations == 0 {
        return Err(EvalError::Spec(
            "run.tuning_orientations must be at least 1".into(),
        ));
    }
    let st = &spec.statistics;
    if st.level.is_nan() || st.level <= 0.5 || st.level >= 1.0 {
        return Err(EvalError::Spec(format!(
            "statistics.level = {}: expected a confidence level between 0.5 and 1 (e.g. 0.95)",
            st.level
        )));
    }
    if !st.equivalence_margin.is_finite() || st.equivalence_margin <= 0.0 {
        return Err(EvalError::Spec(format!(
            "statistics.equivalence_margin = {}: expected a positive fraction of the \
             zero-ablation's gap (e.g. 0.2)",
            st.equivalence_margin
        )));
    }
    Ok(())
}

pub fn open_set(
    root: &DataRoot,
    spec: &ImageSetSpec,
    synsets: &Synsets,
    role: &str,
) -> Result<ImageSet, EvalError> {
    let path = root.dir.join(&spec.images);
    let path = if Path::new(&spec.images).is_absolute() {
        PathBuf::from(&spec.images)
    } else {
        path
    };
    let labels = spec.labels.as_ref().map(|l| {
        if Path::new(l).is_absolute() {
            PathBuf::from(l)
        } else {
            root.dir.join(l)
        }
    });
    let set = ImageSet::open(
        &path,
        synsets,
        &OpenOptions {
            ground_truth: labels,
            unlabelled: Unlabelled::Reject,
        },
    )
    .map_err(|e| EvalError::Spec(format!("the {role} set {}: {e}", path.display())))?;
    let set = if spec.skip > 0 {
        set.skip(spec.skip)
    } else {
        set
    };
    let set = if spec.limit > 0 {
        set.limit(spec.limit)
    } else {
        set
    };
    if set.is_empty() {
        return Err(EvalError::Spec(format!(
            "the {role} set {} has no image left after skip = {} and limit = {}",
            path.display(),
            spec.skip,
            spec.limit
        )));
    }
    Ok(set)
}

/// Refuse two splits that share an image, by content (a copy under another name is
/// caught): the headline must be measured on images nothing was fitted to.
pub(crate) fn check_disjoint(
    first: (&str, &ImageSet),
    second: (&str, &ImageSet),
) -> Result<(ContentDigest, ContentDigest), EvalError> {
    let a = aann_data::split_digest(first.1)?;
    let b = aann_data::split_digest(second.1)?;
    aann_data::check_disjoint((first.0, &a), (second.0, &b))?;
    Ok((a, b))
}

pub(crate) fn preprocess_of(spec: &ExperimentSpec) -> Result<Preprocess, EvalError> {
    let mut p = spec.model.preprocess();
    p.resize = Resize {
        rescale: if spec.preprocess.shorter_side == 0 {
            Rescale::Keep
        } else {
            Rescale::ShorterSide(spec.preprocess.shorter_side)
        },
        centre_crop: (spec.preprocess.crop > 0)
            .then_some((spec.preprocess.crop, spec.preprocess.crop)),
    };
    p.resize.validate()?;
    Ok(p)
}

/// The tune images that calibration and statistics use: the first
/// `run.calibration_images` of the tune split (all of it for 0).
pub(crate) fn calibration_set_of(spec: &ExperimentSpec, tune: &ImageSet) -> ImageSet {
    if spec.run.calibration_images > 0 {
        tune.limit(spec.run.calibration_images)
    } else {
        tune.clone()
    }
}

/// The session an experiment spec asks for: its model and weights (relative to the data
/// root), on the device and with the cache the caller chose.
pub fn session_config(spec: &ExperimentSpec, mut base: SessionConfig) -> SessionConfig {
    base.variant = spec.model;
    base.weights = match &spec.weights {
        Some(w) => WeightsChoice::UnderDataRoot(w.clone()),
        None => WeightsChoice::Default,
    };
    base
}

/// Every file a spec reads besides images and weights, with its SHA-256.
fn spec_files(
    spec: &ExperimentSpec,
    repo: &Path,
    circuits: &CircuitRegistry,
) -> Result<BTreeMap<String, String>, EvalError> {
    let mut paths = vec![spec.target.family.clone()];
    for c in &spec.circuits {
        paths.extend(circuits.files(&c.choice)?);
        paths.extend(c.spec.clone());
    }
    if let Some(l) = &spec.lineage {
        paths.push(l.family.clone());
        paths.extend(l.circuit.spec.clone());
    }
    for level in spec.ladder.iter().flat_map(|l| &l.levels) {
        paths.push(level.family.clone());
        paths.extend(circuits.files(&level.circuit.choice)?);
        paths.extend(level.circuit.spec.clone());
    }
    paths
        .into_iter()
        .map(|p| Ok((p.clone(), file_sha256(&repo.join(&p))?)))
        .collect()
}
