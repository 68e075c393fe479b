//! Arguments shared by commands: which model, which weights, where the data is.

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::Device;
use clap::{Args, ValueEnum};

use aann_eval::setup::{DataRoot, LoadedModel, load_model};
use aann_model::Variant;

/// Where tensors live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    /// burn's pure-Rust CPU backend (flex).
    #[default]
    Cpu,
    /// NVIDIA GPU through burn-cuda (build with `--features cuda`).
    Cuda,
    /// Any GPU through wgpu/Vulkan (build with `--features wgpu`).
    Wgpu,
}

impl DeviceChoice {
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "wgpu")]
            // Initialised now, so that a machine without an adapter gets an error, not a panic.
            DeviceChoice::Wgpu => Device::wgpu_options()
                .init()
                .map_err(|e| anyhow::anyhow!("no wgpu adapter (install a Vulkan driver): {e}")),
            #[allow(unreachable_patterns)]
            other => anyhow::bail!(
                "this aann was built without the {other:?} backend; rebuild with `--features {}`",
                format!("{other:?}").to_lowercase()
            ),
        }
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
    /// Data root holding imagenet-val/, labels/, googlenet-bvlc/ (default: $AANN_DATA).
    #[arg(long, env = "AANN_DATA", hide_env_values = true)]
    pub data_root: Option<PathBuf>,
    /// Folder for converted weights (default: $AANN_CACHE or ~/.cache/aann).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compute device.
    #[arg(long, value_enum, default_value_t)]
    pub device: DeviceChoice,
}

pub fn parse_variant(s: &str) -> Result<Variant, String> {
    Variant::parse(s)
}

impl ModelArgs {
    pub fn data_root(&self) -> DataRoot {
        DataRoot::resolve(self.data_root.as_deref())
    }

    pub fn weights_path(&self) -> anyhow::Result<PathBuf> {
        match &self.weights {
            Some(p) => Ok(p.clone()),
            None => Ok(self.data_root().default_weights(self.model)?),
        }
    }

    pub fn load(&self) -> anyhow::Result<LoadedModel> {
        let weights = self.weights_path()?;
        let device = self.device.device()?;
        load_model(self.model, &weights, self.cache_dir.as_deref(), &device).with_context(|| {
            format!(
                "loading the {} model from {}",
                self.model,
                weights.display()
            )
        })
    }
}
