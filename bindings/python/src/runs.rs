//! The experiment, its records, and claim files: the functions the command line's
//! `experiment` and `check` verbs call.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use aann_eval::experiment::{ExperimentOptions, ExperimentOutcome, session_config};
use aann_eval::hypotheses::{CheckOptions, check_path};
use aann_eval::lab::{DeviceChoice, Session, SessionConfig, WeightsChoice};
use aann_eval::spec::{ExperimentSpec, Split};

use crate::convert::to_python;
use crate::interventions::absolute;
use crate::model::guarded;
use crate::{aann_error, error};

/// A Python value as TOML text, for a `--set KEY=VALUE` override.
fn toml_value(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if v.is_instance_of::<PyBool>() {
        return Ok(if v.extract::<bool>()? {
            "true"
        } else {
            "false"
        }
        .into());
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(v.extract::<i64>()?.to_string());
    }
    if v.is_instance_of::<PyFloat>() {
        let x = v.extract::<f64>()?;
        return Ok(if x.is_nan() {
            "nan".into()
        } else if x.is_infinite() {
            if x > 0.0 { "inf" } else { "-inf" }.into()
        } else {
            format!("{x:?}")
        });
    }
    if v.is_instance_of::<PyString>() || v.hasattr("__fspath__")? {
        let s = v.extract::<PathBuf>()?.display().to_string();
        return Ok(format!(
            "\"{}\"",
            s.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let items = d
            .iter()
            .map(|(k, v)| Ok(format!("{} = {}", k.extract::<String>()?, toml_value(&v)?)))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(format!("{{ {} }}", items.join(", ")));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let items = v
            .try_iter()?
            .map(|i| toml_value(&i?))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(format!("[{}]", items.join(", ")));
    }
    Err(error(format!(
        "override value {} cannot be written as TOML (use bool, int, float, str, list or dict)",
        v.repr()?
    )))
}

fn device_arg(device: &str) -> PyResult<DeviceChoice> {
    device.parse().map_err(error)
}

/// Run a replacement experiment from a spec, as `aann experiment SPEC` does: the same
/// library function (`run_experiment`), the same `summary.json` and reports in the
/// results folder. Returns the result (what `summary.json` holds) as a dict.
///
/// `overrides`: `{"test.limit": 12, "circuits": []}` — each as `--set KEY=VALUE` (values
/// written as TOML). `out`: the results folder (`run.out`); re-running resumes there, and
/// `fresh=True` discards an earlier run's records. `on`: `"test"` (the headline) or `"dev"`.
///
/// >>> summary = aann.run_experiment("eval/experiments/curves-bvlc.toml",
/// ...                               {"test.limit": 16}, out="results/py-curves")
/// >>> [f["condition"] for f in summary["fractions"]]
#[pyfunction]
#[pyo3(signature = (spec, overrides=None, out=None, fresh=false, on="test", data=None, cache=None, device="cpu", progress=false))]
#[allow(clippy::too_many_arguments)]
pub fn run_experiment<'py>(
    py: Python<'py>,
    spec: PathBuf,
    overrides: Option<Bound<'py, PyDict>>,
    out: Option<PathBuf>,
    fresh: bool,
    on: &str,
    data: Option<PathBuf>,
    cache: Option<PathBuf>,
    device: &str,
    progress: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let spec_path = absolute(&spec);
    let mut sets = Vec::new();
    if let Some(o) = &overrides {
        for (k, v) in o.iter() {
            sets.push(format!("{}={}", k.extract::<String>()?, toml_value(&v)?));
        }
    }
    if let Some(o) = &out {
        sets.push(format!(
            "run.out={}",
            toml_value(&PyString::new(py, &o.display().to_string()))?
        ));
    }
    let split = match on {
        "test" => Split::Test,
        "dev" => Split::Dev,
        other => {
            return Err(error(format!(
                "on={other:?}: evaluate on \"test\" or \"dev\" (the tune split is what circuits are calibrated on)"
            )));
        }
    };
    let device = device_arg(device)?;
    let command = format!(
        "aann.run_experiment({:?}, {})",
        spec.display().to_string(),
        sets.iter()
            .map(|s| format!("--set {s}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let result = py
        .detach(|| {
            guarded(|| -> anyhow::Result<_> {
                let spec = ExperimentSpec::load(&spec_path, &sets)?;
                let spec = match split {
                    Split::Dev => spec.on_dev()?,
                    _ => spec,
                };
                let base = SessionConfig {
                    weights: WeightsChoice::Default,
                    data_root: data.as_deref().map(absolute),
                    cache_dir: cache.as_deref().map(absolute),
                    device,
                    progress,
                    ..SessionConfig::new(spec.model)
                };
                let session = Session::open(&session_config(&spec, base))?;
                let options = ExperimentOptions {
                    command,
                    fresh,
                    evaluated_on: split,
                    shard: None,
                    merge: Vec::new(),
                };
                let outcome =
                    aann_eval::experiment::run_experiment(&session, &spec_path, &spec, &options)?;
                let ExperimentOutcome::Complete(result) = outcome else {
                    anyhow::bail!("the run stopped as one shard of a sharded run");
                };
                aann_eval::report::write_reports(&result, Path::new(&spec.run.out), |t| {
                    session.portable(t)
                })?;
                Ok(result)
            })
        })?
        .map_err(aann_error)?;
    to_python(py, &result)
}

/// The per-image records of a results folder (`records.jsonl`, as `run_experiment` and
/// `aann ablate` write them): a list of dicts, one per image and condition, that
/// `pandas.DataFrame` takes.
#[pyfunction]
pub fn read_records<'py>(py: Python<'py>, folder: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let folder = absolute(&folder);
    let records = py
        .detach(|| guarded(|| aann_eval::records::read_records(&folder)))?
        .map_err(aann_error)?;
    to_python(py, &records)
}

/// Check the claims of a hypothesis file (`aann check FILE`) with the library's
/// `check_path`. Returns one dict per selected claim: `name`, `kind`, `tags`, `status`
/// (`"pass"`, `"fail"` or `"skipped"`, with its `reason`), `measured` (None when nothing
/// was measured), `unit`, `threshold` (in words), `detail`, `seconds`.
///
/// `tags` / `only` select claims by tag / name (as `--tag` / `--only`); `weights` checks
/// them on other weights than the file's.
///
/// >>> [(c["name"], c["status"]) for c in aann.check_claims("eval/hypotheses/bvlc.toml", tags=["cheap"])]
#[pyfunction]
#[pyo3(signature = (path, tags=None, only=None, weights=None, data=None, cache=None, device="cpu", progress=false))]
#[allow(clippy::too_many_arguments)]
pub fn check_claims<'py>(
    py: Python<'py>,
    path: PathBuf,
    tags: Option<Vec<String>>,
    only: Option<Vec<String>>,
    weights: Option<PathBuf>,
    data: Option<PathBuf>,
    cache: Option<PathBuf>,
    device: &str,
    progress: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let path = absolute(&path);
    let options = CheckOptions {
        data_root: data.as_deref().map(absolute),
        weights: weights.as_deref().map(absolute),
        cache_dir: cache.as_deref().map(absolute),
        only: only.unwrap_or_default(),
        tags: tags.unwrap_or_default(),
        device: device_arg(device)?,
        progress,
        circuits: aann_eval::circuits::CircuitRegistry::shipped(),
    };
    let report = py
        .detach(|| {
            guarded(|| -> anyhow::Result<_> {
                // As `aann check`: a name that is not there, or nothing selected, is an error.
                Ok(check_path(&path, &options)?)
            })
        })?
        .map_err(aann_error)?;
    to_python(py, &report.claims)
}
