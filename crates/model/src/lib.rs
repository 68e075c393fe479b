//! InceptionV1 in burn, from one architecture table, for both trainings aann supports:
//! Lucid's InceptionV1 (TensorFlow "inception5h") and BVLC GoogLeNet (Caffe).
//!
//! - [`arch`]: the layer table, tap names in each model's vocabulary, padding and LRN rules.
//! - [`network`]: weights on a device and the forward pass, which hands every tap to
//!   [`hooks::Hooks`] so callers can read, edit or stop at any layer.

pub mod arch;
pub mod family;
pub mod geometry;
pub mod hooks;
pub mod intervene;
pub mod network;

use std::path::PathBuf;

pub use arch::{Block, Branch, Layer, Tap, UnknownTap, Variant};
pub use family::{ChannelSet, ChannelSpec, Family, FamilyNeuron};
pub use hooks::{Halt, Hooks, NoHooks, Recorder, Then};
pub use intervene::{
    ChannelMeans, Condition, ConditionHooks, DonorPool, Edit, Intervention, MeansProvenance,
    PatchSource, Replacement, ReplacementInputs, StackedHooks,
};
pub use network::InceptionV1;

/// Errors building or running a model. Each names the file, tap or size at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Weights(#[from] aann_weights::WeightsError),
    #[error(
        "{path} holds {found} weights, but the {expected} model was asked for (use --model {found})"
    )]
    WrongVariant {
        path: PathBuf,
        expected: Variant,
        found: Variant,
    },
    #[error(transparent)]
    UnknownTap(#[from] UnknownTap),
    #[error("bad input: {0}")]
    Input(String),
    #[error("family file {path}: {reason}")]
    Family { path: PathBuf, reason: String },
    #[error("{0}")]
    Channels(String),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;
