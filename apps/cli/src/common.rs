//! Arguments shared by commands: which model, which weights, where the data is.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

pub use aann_eval::lab::DeviceChoice;
use aann_eval::lab::{Session, SessionConfig, WeightsChoice};
use aann_eval::setup::DataRoot;
use aann_model::Variant;

/// An error that ends the program with its own exit code (documented where it is used).
#[derive(Debug)]
pub struct ExitWith {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitWith {}

/// A path given on the command line, made absolute against the working directory (so that
/// it means what the user typed wherever it is used later).
pub fn cli_path(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Where a session finds its data and cache, and where it runs: every verb that runs the
/// model takes these.
#[derive(Args, Debug, Clone)]
pub struct SessionArgs {
    /// Data root holding imagenet-val/, labels/, googlenet-bvlc/ (default: $AANN_DATA, else
    /// ../shared/data).
    #[arg(long, env = "AANN_DATA", hide_env_values = true)]
    pub data_root: Option<PathBuf>,
    /// Folder for converted weights and cached statistics (default: $AANN_CACHE or
    /// ~/.cache/aann).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compute device: cpu, cuda or wgpu (the GPU ones need a build with that feature).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Hide progress bars and messages.
    #[arg(long)]
    pub quiet: bool,
}

impl SessionArgs {
    /// The session configuration for a model and weights (paths typed here are relative to
    /// the working directory).
    pub fn config(&self, variant: Variant, weights: WeightsChoice) -> SessionConfig {
        SessionConfig {
            weights,
            data_root: self.data_root.as_deref().map(cli_path),
            cache_dir: self.cache_dir.as_deref().map(cli_path),
            device: self.device,
            progress: !self.quiet,
            ..SessionConfig::new(variant)
        }
    }

    pub fn data_root(&self) -> DataRoot {
        DataRoot::resolve(self.data_root.as_deref().map(cli_path).as_deref())
    }
}

/// Choosing and loading a model.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Which InceptionV1: `lucid` (inception5h) or `bvlc` (BVLC GoogLeNet).
    #[arg(long, value_parser = parse_variant)]
    pub model: Variant,
    /// Weights: inception5h.pth (Lucid), a BVLC per-layer .mat folder, or a safetensors file.
    /// Defaults to the copy under the data root.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    #[command(flatten)]
    pub session: SessionArgs,
}

pub fn parse_variant(s: &str) -> Result<Variant, String> {
    Variant::parse(s)
}

impl ModelArgs {
    pub fn data_root(&self) -> DataRoot {
        self.session.data_root()
    }

    pub fn weights_path(&self) -> anyhow::Result<PathBuf> {
        match &self.weights {
            Some(p) => Ok(p.clone()),
            None => Ok(self.data_root().default_weights(self.model)?),
        }
    }

    /// The session these arguments ask for: the model loaded on the chosen device.
    pub fn open(&self) -> anyhow::Result<Session> {
        let weights = self.weights_path()?;
        Session::open(
            &self
                .session
                .config(self.model, WeightsChoice::Path(cli_path(&weights))),
        )
        .with_context(|| {
            format!(
                "loading the {} model from {}",
                self.model,
                weights.display()
            )
        })
    }
}
