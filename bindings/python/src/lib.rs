//! `aann` for Python: run InceptionV1 (BVLC GoogLeNet or Lucid's inception5h) with
//! interventions at named taps, splice circuits written in Python into it, run replacement
//! experiments and check claim files — through the same library functions as the `aann`
//! command line.
//!
//! Built with maturin (`bindings/python/pyproject.toml`); the module is `aann`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

mod convert;
mod interventions;
mod model;
mod replacement;
mod runs;

create_exception!(
    aann,
    AannError,
    PyException,
    "An error of aann (unknown tap, channel out of range, missing file, bad spec key, ...), \
     with the message the `aann` command line prints."
);

/// An aann error as a Python `AannError`, worded as the command line prints it: the error,
/// then each cause on its own line.
pub(crate) fn aann_error(err: impl Into<anyhow::Error>) -> PyErr {
    let err: anyhow::Error = err.into();
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    AannError::new_err(message)
}

/// A Python `AannError` with a message of the binding's own.
pub(crate) fn error(message: impl Into<String>) -> PyErr {
    AannError::new_err(message.into())
}

#[pymodule]
#[pyo3(name = "aann")]
fn aann_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("AannError", m.py().get_type::<AannError>())?;
    m.add_class::<model::Model>()?;
    m.add_class::<interventions::Intervention>()?;
    m.add_function(wrap_pyfunction!(interventions::zero, m)?)?;
    m.add_function(wrap_pyfunction!(interventions::mean, m)?)?;
    m.add_function(wrap_pyfunction!(interventions::resample, m)?)?;
    m.add_function(wrap_pyfunction!(interventions::replace, m)?)?;
    m.add_function(wrap_pyfunction!(runs::run_experiment, m)?)?;
    m.add_function(wrap_pyfunction!(runs::read_records, m)?)?;
    m.add_function(wrap_pyfunction!(runs::check_claims, m)?)?;
    Ok(())
}
