//! aann: artificial artificial neural networks.
//!
//! This facade re-exports the library crates so that a researcher can depend on one crate;
//! the command line (`aann`, in `apps/cli`) is built on it and is not part of it.
pub use aann_circuits as circuits;
pub use aann_data as data;
pub use aann_eval as eval;
pub use aann_model as model;
pub use aann_stats as stats;
pub use aann_stimuli as stimuli;
pub use aann_weights as weights;

// README's Rust blocks are compiled and run as tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
