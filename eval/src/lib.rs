//! The experiment runner: conditions evaluated over image sets with prefix reuse, per-image
//! records in resumable results folders, activation statistics, and (in later modules)
//! experiment specs and reports.

pub mod circuits;
pub mod discover;
pub mod discover_gabors;
pub mod errors;
pub mod evaluator;
pub mod expanded;
pub mod experiment;
pub mod hypotheses;
pub mod lab;
pub mod means;
pub mod metrics;
pub mod plot;
pub mod records;
pub mod report;
pub mod run;
pub mod setup;
pub mod spec;
pub mod summary;
pub mod tuning;
pub mod verdicts;

use std::path::{Path, PathBuf};

pub use evaluator::Evaluator;
pub use metrics::{ImageRecord, OutputClasses};
pub use records::{RecordStore, RunManifest};
pub use run::{RunOptions, RunStats, run_conditions};

/// Errors of the experiment runner; each names the file, image or condition at fault.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Model(#[from] aann_model::ModelError),
    #[error(transparent)]
    Data(#[from] aann_data::DataError),
    #[error(transparent)]
    Stats(#[from] aann_stats::StatsError),
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The device asked for cannot be used (backend not built in, no hardware).
    #[error("{0}")]
    Device(String),
    /// A results folder holds a different run than the one asked for.
    #[error("{0}")]
    StaleResults(String),
    #[error("{0}")]
    Results(String),
    #[error("{0}")]
    Spec(String),
}

impl EvalError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        EvalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        EvalError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}
