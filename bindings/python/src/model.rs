//! `aann.Model`: a model loaded once (a library `Session`), run on images with taps read
//! and interventions applied.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use aann_eval::lab::{DeviceChoice, Feed, Flow, Session, SessionConfig, WeightsChoice};
use aann_eval::setup::DataRoot;
use aann_model::{Condition, ConditionHooks, Halt, ModelError, Recorder, Tap, Then, Variant};

use crate::convert::{from_numpy, to_numpy, values};
use crate::interventions::{Intervention, absolute, files_set};
use crate::replacement::ErrorSlot;
use crate::{aann_error, error};

/// What the images of a run are.
enum Images {
    /// Files, preprocessed as the command line does for the model.
    Files(Vec<PathBuf>),
    /// Already-preprocessed pixels `[N, 3, H, W]`.
    Pixels([usize; 4], Vec<f32>),
}

/// One output of a run: per image, its shape (without N) and values.
struct Output {
    name: String,
    per_image: Vec<Option<(Vec<usize>, Vec<f32>)>>,
}

impl Output {
    fn new(name: String, n: usize) -> Self {
        Output {
            name,
            per_image: vec![None; n],
        }
    }

    /// Store a batch's values `[b, ...]` for the images at `positions`.
    fn store(&mut self, positions: &[usize], dims: &[usize], data: &[f32]) {
        let each = data.len() / positions.len().max(1);
        for (i, &p) in positions.iter().enumerate() {
            self.per_image[p] = Some((dims[1..].to_vec(), data[i * each..(i + 1) * each].to_vec()));
        }
    }

    /// All images as one `[N, ...]` array's shape and values.
    fn stacked(self) -> PyResult<(String, Vec<usize>, Vec<f32>)> {
        let n = self.per_image.len();
        let mut shape: Option<Vec<usize>> = None;
        let mut data = Vec::new();
        for item in self.per_image {
            let (dims, v) = item
                .ok_or_else(|| error(format!("{} was not produced for every image", self.name)))?;
            match &shape {
                None => shape = Some(dims),
                Some(s) if *s != dims => {
                    return Err(error(format!(
                        "{} has shape {s:?} for one image and {dims:?} for another: give images of one size",
                        self.name
                    )));
                }
                Some(_) => {}
            }
            data.extend(v);
        }
        let mut full = vec![n];
        full.extend(shape.unwrap_or_default());
        Ok((self.name, full, data))
    }
}

/// InceptionV1 loaded once from the weight files aann reads: BVLC GoogLeNet (`"bvlc"`) or
/// Lucid's inception5h (`"lucid"`).
///
/// `weights` defaults to the model's usual location under the data root (as the command
/// line's `--weights`); `data` is the data root (default `$AANN_DATA`, else
/// `../shared/data`); `cache` the folder of converted weights and cached statistics
/// (default `$AANN_CACHE`, else `~/.cache/aann`); `device` is `"cpu"`, `"cuda"` or `"wgpu"`
/// (the GPU ones need a build with that feature).
///
/// >>> model = aann.Model("bvlc")
/// >>> out = model.run(["cat.jpg"], taps=["inception_3b_output"])
/// >>> out["inception_3b_output"].shape, out["logits"].shape
/// ((1, 480, 28, 28), (1, 1000))
#[pyclass(frozen, module = "aann")]
pub struct Model {
    /// Boxed: a session is aligned beyond what Python's allocator gives an object.
    session: Box<Session>,
}

#[pymethods]
impl Model {
    #[new]
    #[pyo3(signature = (variant, weights=None, data=None, cache=None, device="cpu"))]
    fn new(
        py: Python<'_>,
        variant: &str,
        weights: Option<PathBuf>,
        data: Option<PathBuf>,
        cache: Option<PathBuf>,
        device: &str,
    ) -> PyResult<Self> {
        let variant = Variant::parse(variant).map_err(error)?;
        let device: DeviceChoice = device.parse().map_err(error)?;
        let data = data.map(|d| absolute(&d));
        // As `ModelArgs::open`: the default weights under the data root, the same context.
        let weights = match weights {
            Some(w) => absolute(&w),
            None => DataRoot::resolve(data.as_deref())
                .default_weights(variant)
                .map_err(aann_error)?,
        };
        let config = SessionConfig {
            weights: WeightsChoice::Path(weights.clone()),
            data_root: data,
            cache_dir: cache.map(|c| absolute(&c)),
            device,
            progress: false,
            ..SessionConfig::new(variant)
        };
        let session = py
            .detach(|| guarded(|| Session::open(&config).map_err(anyhow::Error::from)))
            .and_then(|r| {
                r.map_err(|e| {
                    aann_error(e.context(format!(
                        "loading the {variant} model from {}",
                        weights.display()
                    )))
                })
            })?;
        Ok(Model {
            session: Box::new(session),
        })
    }

    /// `"bvlc"` or `"lucid"`.
    #[getter]
    fn variant(&self) -> &'static str {
        self.session.variant().name()
    }

    /// The weight source the model was loaded from.
    #[getter]
    fn weights(&self) -> String {
        self.session.weights().display().to_string()
    }

    /// SHA-256 of the weight source.
    #[getter]
    fn weights_sha256(&self) -> String {
        self.session.weights_sha256().to_string()
    }

    /// Every tap's name in the model's vocabulary, in network order (`aann taps`).
    fn taps(&self) -> Vec<String> {
        let variant = self.session.variant();
        Tap::all().into_iter().map(|t| t.name(variant)).collect()
    }

    /// The number of channels of a tap.
    fn channels(&self, tap: &str) -> PyResult<usize> {
        let variant = self.session.variant();
        Ok(parse_tap(tap, variant)?.channels(variant))
    }

    /// Image files preprocessed as the command line does for this model (shorter side 256,
    /// centre crop 224, the model's channel order and mean): float32 `[N, 3, 224, 224]`.
    fn preprocess<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Images::Files(files) = images_arg(images)? else {
            return Err(error("preprocess takes image files, not an array"));
        };
        let preprocess = self.session.variant().preprocess();
        let (shape, data) = py.detach(|| {
            guarded(|| -> PyResult<(Vec<usize>, Vec<f32>)> {
                let mut data = Vec::new();
                let mut shape = vec![files.len(), 3, 0, 0];
                for f in &files {
                    let (pixels, h, w) = preprocess.load(f).map_err(aann_error)?;
                    shape[2] = h as usize;
                    shape[3] = w as usize;
                    data.extend(pixels);
                }
                Ok((shape, data))
            })
        })??;
        Ok(to_numpy(py, &shape, data)?.into_any())
    }

    /// Run images through the model with `interventions` applied, reading `taps`.
    ///
    /// `images`: a list of image files (preprocessed as the command line does for this
    /// model) or a float32 array of preprocessed pixels `[N, 3, H, W]`. `taps`: tap names in
    /// the model's vocabulary (`Model.taps()`); each is read after the interventions.
    /// `interventions`: from `aann.zero`, `aann.mean`, `aann.resample`, `aann.replace`.
    ///
    /// Returns a dict: each tap name → float32 `[N, C, H, W]` (`[N, C]` for the classifier's
    /// outputs), plus `"logits"` and `"probabilities"` `[N, classes]` (the classifier's
    /// output order: 1000 sorted synsets for BVLC, 1008 inception5h outputs for Lucid),
    /// images in the order given. With `logits=False` the run stops after the last tap
    /// (any input size then works, and there are no `"logits"`). The forward pass runs
    /// without the GIL (a Python replacement takes it back while it runs).
    #[pyo3(signature = (images, taps=None, interventions=None, batch_size=16, logits=true))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
        taps: Option<Vec<String>>,
        interventions: Option<Vec<Bound<'py, Intervention>>>,
        batch_size: usize,
        logits: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let variant = self.session.variant();
        let names = taps.unwrap_or_default();
        let taps = names
            .iter()
            .map(|n| parse_tap(n, variant))
            .collect::<PyResult<Vec<_>>>()?;
        let images = images_arg(images)?;
        let interventions: Vec<Py<Intervention>> = interventions
            .unwrap_or_default()
            .into_iter()
            .map(Bound::unbind)
            .collect();
        let outputs = py.detach(|| {
            guarded(|| self.forward(&images, &names, &taps, &interventions, batch_size, logits))
        })??;
        let dict = PyDict::new(py);
        for output in outputs {
            let (name, shape, data) = output.stacked()?;
            dict.set_item(name, to_numpy(py, &shape, data)?)?;
        }
        Ok(dict)
    }

    /// Activation patching, clean → corrupted (as `aann patch`): run the `corrupted` image
    /// with one tap at a time taken from the `clean` image's run, and measure how much of
    /// the clean answer's logit difference `logit[a] − logit[b]` each patch restores.
    ///
    /// `clean`, `corrupted`: image files (preprocessed as the command line does). `taps`:
    /// each patched alone (default: the four branches of every inception block).
    /// `channels`: patch only these at every tap. `answers`: the class indices `(a, b)`
    /// (default: the clean image's top class and the corrupted image's top other class).
    ///
    /// Returns a dict: `answers`, `clean_difference`, `corrupted_difference`, and `rows`, a
    /// list of dicts (`tap`, `channels`, `logit_difference`, `restored`, `top1`,
    /// `top1_probability`) a DataFrame takes.
    #[pyo3(signature = (clean, corrupted, taps=None, channels=None, answers=None))]
    fn patch<'py>(
        &self,
        py: Python<'py>,
        clean: PathBuf,
        corrupted: PathBuf,
        taps: Option<Vec<String>>,
        channels: Option<Vec<usize>>,
        answers: Option<(usize, usize)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let variant = self.session.variant();
        let taps = match taps {
            Some(names) => names
                .iter()
                .map(|n| parse_tap(n, variant))
                .collect::<PyResult<Vec<_>>>()?,
            None => aann_eval::lab::patch::block_branches(),
        };
        let plan = aann_eval::lab::patch::PatchPlan {
            taps,
            channels: channels.map(aann_model::ChannelSet::new),
            answers,
        };
        let (clean, corrupted) = (absolute(&clean), absolute(&corrupted));
        let report = py.detach(|| {
            guarded(|| -> PyResult<_> {
                let preprocess = variant.preprocess();
                let device = self.session.model().device();
                let load = |path: &Path| -> PyResult<Tensor<4>> {
                    let (pixels, h, w) = preprocess.load(path).map_err(aann_error)?;
                    Ok(Tensor::from_data(
                        TensorData::new(pixels, [1, 3, h as usize, w as usize]),
                        device,
                    ))
                };
                let order = self.session.class_order().map_err(aann_error)?;
                aann_eval::lab::patch::patch_sweep(
                    &self.session,
                    &order,
                    load(&clean)?,
                    load(&corrupted)?,
                    &plan,
                )
                .map_err(aann_error)
            })
        })??;
        let json = serde_json::to_string(&report).map_err(|e| error(e.to_string()))?;
        py.import("json")?.call_method1("loads", (json,))
    }

    fn __repr__(&self) -> String {
        format!(
            "aann.Model({:?}, weights={:?})",
            self.session.variant().name(),
            self.session.weights().display().to_string()
        )
    }
}

impl Model {
    /// The run, without the GIL.
    fn forward(
        &self,
        images: &Images,
        names: &[String],
        taps: &[Tap],
        interventions: &[Py<Intervention>],
        batch_size: usize,
        logits: bool,
    ) -> PyResult<Vec<Output>> {
        if !logits && taps.is_empty() {
            return Err(error("logits=False and no taps: nothing to read"));
        }
        let variant = self.session.variant();
        let feed = Feed::new(&self.session, variant.preprocess(), batch_size);
        let errors = ErrorSlot::default();
        let edits = interventions
            .iter()
            .map(|i| i.get().edit(&feed, &errors))
            .collect::<PyResult<Vec<_>>>()?;
        let condition = Condition::new("python", edits);
        condition.validate(variant).map_err(aann_error)?;
        let n = match images {
            Images::Files(f) => f.len(),
            Images::Pixels(shape, _) => shape[0],
        };
        let mut outputs: Vec<Output> = names
            .iter()
            .map(|name| Output::new(name.clone(), n))
            .chain(
                ["logits", "probabilities"]
                    .into_iter()
                    .filter(|_| logits)
                    .map(|k| Output::new(k.into(), n)),
            )
            .collect();
        let model = self.session.model();
        let mut batch = |keys: &[String], positions: &[usize], input: Tensor<4>| -> PyResult<()> {
            let mut hooks = Then(
                ConditionHooks::new(&condition, variant, model.device(), keys, HashMap::new()),
                if logits {
                    Recorder::through(taps)
                } else {
                    Recorder::until_last(taps)
                },
            );
            let run = model.run(Tap::INPUT, input, &mut hooks);
            if let Some(err) = errors.take() {
                return Err(err);
            }
            let classified = match run {
                Ok(l) => Some(l),
                Err(Halt::Stopped(..)) if !logits => None,
                Err(Halt::Stopped(tap, _)) => {
                    return Err(error(format!("the run stopped at {tap:?}")));
                }
                Err(Halt::Invalid(msg)) => return Err(aann_error(ModelError::Input(msg))),
            };
            let mut recorded = hooks.1.recorded;
            for (k, tap) in taps.iter().enumerate() {
                let x = recorded
                    .get(tap)
                    .cloned()
                    .ok_or_else(|| error(format!("{} was not produced", names[k])))?;
                let dims = x.dims();
                let dims: Vec<usize> = if tap.layer.is_flat() {
                    dims[..2].to_vec()
                } else {
                    dims.to_vec()
                };
                outputs[k].store(positions, &dims, &values(x).map_err(error)?);
            }
            recorded.clear();
            let Some(l) = classified else {
                return Ok(());
            };
            let probabilities = softmax(l.clone(), 1);
            for (k, t) in [l, probabilities].into_iter().enumerate() {
                let dims = t.dims();
                let v = t
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .map_err(|e| error(format!("cannot read the logits back: {e:?}")))?;
                outputs[taps.len() + k].store(positions, &dims, &v);
            }
            Ok(())
        };
        match images {
            Images::Pixels(shape, data) => {
                if logits {
                    model.check_classifier_input(*shape).map_err(aann_error)?;
                }
                let keys: Vec<String> = (0..shape[0]).map(|i| format!("array[{i}]")).collect();
                let positions: Vec<usize> = (0..shape[0]).collect();
                let input =
                    Tensor::<4>::from_data(TensorData::new(data.clone(), *shape), model.device());
                batch(&keys, &positions, input)?;
            }
            Images::Files(files) => {
                let set = files_set(files)?;
                let position: HashMap<String, usize> = files
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.display().to_string(), i))
                    .collect();
                let mut failed: Option<PyErr> = None;
                feed.batches(&set, |fed| {
                    if let Some(f) = fed.batch.failures.first() {
                        failed = Some(aann_error(f.reason.clone()));
                        return Ok(Flow::Stop);
                    }
                    let Some(input) = fed.input else {
                        return Ok(Flow::Continue);
                    };
                    let keys: Vec<String> =
                        fed.batch.entries.iter().map(|e| e.key.clone()).collect();
                    let positions: Vec<usize> = keys.iter().map(|k| position[k]).collect();
                    match batch(&keys, &positions, input) {
                        Ok(()) => Ok(Flow::Continue),
                        Err(e) => {
                            failed = Some(e);
                            Ok(Flow::Stop)
                        }
                    }
                })
                .map_err(aann_error)?;
                if let Some(e) = failed {
                    return Err(e);
                }
            }
        }
        Ok(outputs)
    }
}

/// A tap name in the model's vocabulary, or `AannError` listing the near ones.
fn parse_tap(name: &str, variant: Variant) -> PyResult<Tap> {
    Tap::parse(name, variant).map_err(|e| aann_error(ModelError::from(e)))
}

/// `images` as files or pixels.
fn images_arg(images: &Bound<'_, PyAny>) -> PyResult<Images> {
    if images.is_instance_of::<PyString>() || images.hasattr("__fspath__")? {
        return Ok(Images::Files(vec![absolute(&images.extract::<PathBuf>()?)]));
    }
    if images.hasattr("__array_interface__")? || images.hasattr("__array__")? {
        let (shape, data) = from_numpy(images, "images")?;
        let shape: [usize; 4] = match shape.as_slice() {
            [n, 3, h, w] => [*n, 3, *h, *w],
            _ => {
                return Err(error(format!(
                    "images as an array must be preprocessed pixels [N, 3, H, W], not shape {shape:?}"
                )));
            }
        };
        return Ok(Images::Pixels(shape, data));
    }
    let files = images
        .try_iter()
        .map_err(|_| error("images must be a list of image files or a float32 array [N, 3, H, W]"))?
        .map(|i| i.and_then(|i| i.extract::<PathBuf>()).map(|p| absolute(&p)))
        .collect::<PyResult<Vec<_>>>()?;
    if files.is_empty() {
        return Err(error("no images given"));
    }
    Ok(Images::Files(files))
}

/// `f`, with a panic turned into an `AannError` instead of crossing into Python.
pub fn guarded<T>(f: impl FnOnce() -> T) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        error(format!("internal error in aann (please report it): {what}"))
    })
}
