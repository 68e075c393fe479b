//! Interventions as Python objects: `aann.zero`, `aann.mean`, `aann.resample` and
//! `aann.replace`. Each names a tap and channels; it becomes the model crate's
//! [`Edit`] when a model runs it (the tap is resolved in that model's vocabulary, means
//! and donors are measured with that model through the library's `means` code).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::PyString;

use aann_data::{ImageEntry, ImageSet, OpenOptions, Unlabelled};
use aann_eval::lab::Feed;
use aann_eval::means::{donor_pool, stats};
use aann_model::{ChannelMeans, ChannelSet, DonorPool, Edit, ModelError, Tap};

use crate::replacement::{BoundCircuit, ErrorSlot, PythonCircuit};
use crate::{aann_error, error};

/// Images for means or donors: a list of files, or an image set (a folder, one folder per
/// synset, or a list file) as `aann ablate --reference` opens it.
pub enum ImageSource {
    Files(Vec<PathBuf>),
    Set(PathBuf),
}

impl ImageSource {
    fn extract(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
            return Ok(ImageSource::Set(absolute(&obj.extract::<PathBuf>()?)));
        }
        let files = obj
            .try_iter()
            .map_err(|_| {
                error(format!(
                    "{what} must be a list of image files or the path of an image set"
                ))
            })?
            .map(|item| {
                item.and_then(|i| i.extract::<PathBuf>())
                    .map(|p| absolute(&p))
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(ImageSource::Files(files))
    }

    /// The image set, its first `limit` images when a limit is given.
    pub fn open(&self, feed: &Feed<'_>, limit: Option<usize>) -> PyResult<ImageSet> {
        let set = match self {
            ImageSource::Files(files) => files_set(files)?,
            ImageSource::Set(path) => ImageSet::open(
                path,
                &feed.session.synsets().map_err(aann_error)?,
                &OpenOptions {
                    ground_truth: None,
                    unlabelled: Unlabelled::Allow,
                },
            )
            .map_err(|e| {
                aann_error(
                    anyhow::Error::from(e)
                        .context(format!("opening the image set {}", path.display())),
                )
            })?,
        };
        Ok(match limit {
            Some(n) => set.limit(n),
            None => set,
        })
    }

    fn describe(&self) -> String {
        match self {
            ImageSource::Files(f) => format!("{} images", f.len()),
            ImageSource::Set(p) => p.display().to_string(),
        }
    }
}

/// A set of image files, each keyed by its path as given (as a list file keys them).
pub fn files_set(files: &[PathBuf]) -> PyResult<ImageSet> {
    let entries = files
        .iter()
        .map(|p| ImageEntry {
            key: p.display().to_string(),
            path: p.clone(),
            label: None,
        })
        .collect();
    ImageSet::from_entries(entries, usize::MAX).map_err(aann_error)
}

/// A path made absolute against the working directory (as the command line does).
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Channels as given: a list of indices, or a specification string as `aann ablate
/// --channels` takes it (`379,406`, `320..416`, `family:F.toml` or a family file path).
struct Channels {
    list: Vec<usize>,
    /// The family file a specification named: its path, model and tap.
    family: Option<(PathBuf, aann_model::Variant, String)>,
}

impl Channels {
    fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(spec) = obj.extract::<String>() {
            let parsed = ChannelSet::parse(&spec, &absolute(Path::new("."))).map_err(aann_error)?;
            return Ok(Channels {
                list: parsed.channels.as_slice().to_vec(),
                family: parsed.family.map(|(p, f)| (p, f.model, f.tap)),
            });
        }
        if let Ok(c) = obj.extract::<i64>() {
            return Self::from_list(vec![c]);
        }
        let list = obj
            .try_iter()
            .map_err(|_| error("channels must be a list of channel indices or a specification like \"379,406\", \"320..416\" or \"family:F.toml\""))?
            .map(|item| item.and_then(|i| i.extract::<i64>()))
            .collect::<PyResult<Vec<_>>>()?;
        Self::from_list(list)
    }

    fn from_list(list: Vec<i64>) -> PyResult<Self> {
        let list = list
            .into_iter()
            .map(|c| usize::try_from(c).map_err(|_| error(format!("channel {c} is negative"))))
            .collect::<PyResult<Vec<_>>>()?;
        if list.is_empty() {
            return Err(error("no channels given"));
        }
        Ok(Channels { list, family: None })
    }
}

enum Kind {
    Zero,
    Mean {
        images: ImageSource,
        limit: Option<usize>,
        /// Means measured for a model (by its weights' checksum), reused by later runs.
        cached: Mutex<Option<(String, Arc<ChannelMeans>)>>,
    },
    Resample {
        donors: ImageSource,
        limit: Option<usize>,
        seed: u64,
        cached: Mutex<Option<(String, Arc<DonorPool>)>>,
    },
    Replace(Arc<PythonCircuit>),
}

/// An intervention on channels at one tap, to pass to `Model.run`: made by `aann.zero`,
/// `aann.mean`, `aann.resample` or `aann.replace`.
#[pyclass(frozen, module = "aann")]
pub struct Intervention {
    tap: String,
    channels: Channels,
    kind: Kind,
}

#[pymethods]
impl Intervention {
    /// The tap, as given.
    #[getter]
    fn tap(&self) -> &str {
        &self.tap
    }

    /// The channels, in the order given.
    #[getter]
    fn channels(&self) -> Vec<usize> {
        self.channels.list.clone()
    }

    /// `zero`, `mean`, `resample` or `replace`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.kind {
            Kind::Zero => "zero",
            Kind::Mean { .. } => "mean",
            Kind::Resample { .. } => "resample",
            Kind::Replace(_) => "replace",
        }
    }

    fn __repr__(&self) -> String {
        let what = match &self.kind {
            Kind::Zero => String::new(),
            Kind::Mean { images, .. } => format!(", images={}", images.describe()),
            Kind::Resample { donors, seed, .. } => {
                format!(", donors={}, seed={seed}", donors.describe())
            }
            Kind::Replace(c) => format!(", fn={}, reads={:?}", c.name, c.reads),
        };
        format!(
            "aann.{}({:?}, {:?}{what})",
            self.kind(),
            self.tap,
            self.channels.list
        )
    }
}

impl Intervention {
    /// The edit this intervention makes on the feed's model (means and donors measured
    /// now, or reused for the same weights).
    pub fn edit(&self, feed: &Feed<'_>, errors: &ErrorSlot) -> PyResult<Edit> {
        let session = feed.session;
        let variant = session.variant();
        let tap = Tap::parse(&self.tap, variant).map_err(|e| aann_error(ModelError::from(e)))?;
        if let Some((path, model, family_tap)) = &self.channels.family
            && (*model != variant || Tap::parse(family_tap, *model).ok() != Some(tap))
        {
            return Err(error(format!(
                "family file {} is for {model} at {family_tap}, not {variant} at {}",
                path.display(),
                self.tap
            )));
        }
        let channels = ChannelSet::new(self.channels.list.clone());
        channels.check_range(tap, variant).map_err(aann_error)?;
        let weights = session.weights_sha256().to_string();
        let intervention = match &self.kind {
            Kind::Zero => aann_model::Intervention::ZeroAblate,
            Kind::Mean {
                images,
                limit,
                cached,
            } => {
                let mut cached = cached.lock().unwrap_or_else(|p| p.into_inner());
                let means = match cached.as_ref() {
                    Some((w, m)) if *w == weights => m.clone(),
                    _ => {
                        let set = images.open(feed, *limit)?;
                        let stats = stats(feed, &set, tap).map_err(aann_error)?;
                        let means = Arc::new(stats.uniform_means(&weights));
                        *cached = Some((weights, means.clone()));
                        means
                    }
                };
                aann_model::Intervention::MeanAblate(means)
            }
            Kind::Resample {
                donors,
                limit,
                seed,
                cached,
            } => {
                let mut cached = cached.lock().unwrap_or_else(|p| p.into_inner());
                let pool = match cached.as_ref() {
                    Some((w, p)) if *w == weights => p.clone(),
                    _ => {
                        let set = donors.open(feed, *limit)?;
                        let pool =
                            Arc::new(donor_pool(feed, &set, tap, *seed).map_err(aann_error)?);
                        *cached = Some((weights, pool.clone()));
                        pool
                    }
                };
                aann_model::Intervention::ResampleAblate(pool)
            }
            Kind::Replace(circuit) => aann_model::Intervention::Replace(Arc::new(
                BoundCircuit::new(circuit.clone(), variant, tap, errors.clone())?,
            )),
        };
        Ok(Edit {
            tap,
            channels,
            intervention,
        })
    }
}

/// Zero-ablate `channels` at `tap`.
///
/// `channels` is a list of indices or a specification string as `aann ablate --channels`
/// takes it: `"379,406"`, `"320..416"`, `"320-415"`, `"family:circuits/families/bvlc/curves-3b.toml"`.
///
/// >>> model.run(images, interventions=[aann.zero("inception_3b_output", [9, 66])])
#[pyfunction]
pub fn zero(tap: String, channels: &Bound<'_, PyAny>) -> PyResult<Intervention> {
    Ok(Intervention {
        tap,
        channels: Channels::extract(channels)?,
        kind: Kind::Zero,
    })
}

/// Mean-ablate `channels` at `tap`: set them to their (spatially uniform) means over
/// `images`, measured with the model that runs this intervention (cached by content in the
/// model's cache folder, as `aann ablate --mode mean` does).
///
/// `images` is a list of image files or the path of an image set (a flat folder, one folder
/// per synset, or a list file); `limit` keeps its first images only.
#[pyfunction]
#[pyo3(signature = (tap, channels, images, limit=None))]
pub fn mean(
    tap: String,
    channels: &Bound<'_, PyAny>,
    images: &Bound<'_, PyAny>,
    limit: Option<usize>,
) -> PyResult<Intervention> {
    Ok(Intervention {
        tap,
        channels: Channels::extract(channels)?,
        kind: Kind::Mean {
            images: ImageSource::extract(images, "images")?,
            limit,
            cached: Mutex::new(None),
        },
    })
}

/// Resample-ablate `channels` at `tap`: each image takes them from a donor image of
/// `donors`, chosen by a seeded hash of the image's key (never itself), as
/// `aann ablate --mode resample` does. An image given by path is keyed by its path as given;
/// an array's images are keyed `array[i]`.
#[pyfunction]
#[pyo3(signature = (tap, channels, donors, seed=0, limit=None))]
pub fn resample(
    tap: String,
    channels: &Bound<'_, PyAny>,
    donors: &Bound<'_, PyAny>,
    seed: u64,
    limit: Option<usize>,
) -> PyResult<Intervention> {
    Ok(Intervention {
        tap,
        channels: Channels::extract(channels)?,
        kind: Kind::Resample {
            donors: ImageSource::extract(donors, "donors")?,
            limit,
            seed,
            cached: Mutex::new(None),
        },
    })
}

/// Replace `channels` at `tap` with a circuit written in Python.
///
/// `fn` is called once per batch with a dict: tap name → float32 array `[N, C, H, W]` of
/// each tap in `reads` (this run's values, after any earlier intervention; `"data"` or
/// `"input"` — the model's input tap — is the preprocessed image). It returns a float32
/// array `[N, len(channels), H, W]` on `tap`'s grid, its channels in the order of
/// `channels`. Every tap read must come before `tap` in the network.
///
/// >>> def circuit(taps):
/// ...     x = taps["inception_3a_output"]
/// ...     return np.maximum(x[:, :10], 0).astype(np.float32)
/// >>> aann.replace("inception_3b_output", list(range(10)), circuit, reads=["inception_3a_output"])
#[pyfunction]
#[pyo3(signature = (tap, channels, r#fn, reads))]
pub fn replace(
    tap: String,
    channels: &Bound<'_, PyAny>,
    r#fn: &Bound<'_, PyAny>,
    reads: Vec<String>,
) -> PyResult<Intervention> {
    if !r#fn.is_callable() {
        return Err(error(format!(
            "the replacement for {tap} must be callable (a function of a dict of taps)"
        )));
    }
    let channels = Channels::extract(channels)?;
    let mut seen = channels.list.clone();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(error(format!(
            "channel {} is given twice: a replacement's output channels must be distinct",
            w[0]
        )));
    }
    let name = r#fn
        .getattr("__name__")
        .and_then(|n| n.extract::<String>())
        .unwrap_or_else(|_| "python".into());
    Ok(Intervention {
        tap,
        kind: Kind::Replace(Arc::new(PythonCircuit {
            func: r#fn.clone().unbind(),
            name,
            reads,
            channels: channels.list.clone(),
        })),
        channels,
    })
}
