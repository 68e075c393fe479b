//! A session: the model loaded once on a chosen device, with the data root and cache that
//! every run of it uses. Nothing that runs the model picks a device or a cache by itself.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use aann_data::{ClassOrder, Synsets};
use aann_model::{Family, InceptionV1, Variant};

use crate::EvalError;
use crate::circuits::CircuitRegistry;
use crate::setup::{DataRoot, LoadedModel, load_model};

/// Where tensors live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    pub fn name(self) -> &'static str {
        match self {
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Cuda => "cuda",
            DeviceChoice::Wgpu => "wgpu",
        }
    }

    /// The burn device, or an error when this build lacks the backend or the machine the
    /// hardware: never a silent fall-back to the CPU.
    pub fn device(self) -> Result<Device, EvalError> {
        match self {
            DeviceChoice::Cpu => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "wgpu")]
            // Initialised now, so that a machine without an adapter gets an error, not a panic.
            DeviceChoice::Wgpu => Device::wgpu_options().init().map_err(|e| {
                EvalError::Device(format!("no wgpu adapter (install a Vulkan driver): {e}"))
            }),
            #[allow(unreachable_patterns)]
            other => Err(EvalError::Device(format!(
                "this aann was built without the {} backend; rebuild with `--features {}`",
                other.name(),
                other.name()
            ))),
        }
    }
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda),
            "wgpu" => Ok(DeviceChoice::Wgpu),
            other => Err(format!(
                "unknown device `{other}`: expected cpu, cuda or wgpu"
            )),
        }
    }
}

/// Which weights a session loads.
#[derive(Clone, Debug, PartialEq)]
pub enum WeightsChoice {
    /// The model's usual location under the data root (or where `aann weights fetch` puts
    /// them).
    Default,
    /// A path as the user typed it (relative to the working directory).
    Path(PathBuf),
    /// A path from a spec or claim file: relative to the data root unless absolute.
    UnderDataRoot(String),
}

/// What a session is built from: the command line or a spec.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub variant: Variant,
    pub weights: WeightsChoice,
    /// Data root (default: `$AANN_DATA`, else `../shared/data`).
    pub data_root: Option<PathBuf>,
    /// Converted weights and cached statistics (default: `$AANN_CACHE`, else `~/.cache/aann`).
    pub cache_dir: Option<PathBuf>,
    pub device: DeviceChoice,
    /// Progress bars on stderr.
    pub progress: bool,
}

impl SessionConfig {
    pub fn new(variant: Variant) -> Self {
        SessionConfig {
            variant,
            weights: WeightsChoice::Default,
            data_root: None,
            cache_dir: None,
            device: DeviceChoice::Cpu,
            progress: false,
        }
    }
}

/// The model on its device, with the data root and cache every run of it uses.
pub struct Session {
    pub root: DataRoot,
    pub cache_dir: PathBuf,
    pub device: DeviceChoice,
    pub progress: bool,
    loaded: LoadedModel,
    circuits: CircuitRegistry,
}

impl Session {
    /// Resolve the data root, the weights and the device, and load the model (converting
    /// its weights into the cache on first use).
    pub fn open(config: &SessionConfig) -> Result<Self, EvalError> {
        let root = DataRoot::resolve(config.data_root.as_deref());
        let weights = match &config.weights {
            WeightsChoice::Default => root.default_weights(config.variant)?,
            WeightsChoice::Path(p) => p.clone(),
            WeightsChoice::UnderDataRoot(w) if Path::new(w).is_absolute() => PathBuf::from(w),
            WeightsChoice::UnderDataRoot(w) => root.dir.join(w),
        };
        let cache_dir = config
            .cache_dir
            .clone()
            .unwrap_or_else(aann_weights::WeightCache::default_dir);
        let device = config.device.device()?;
        let loaded = load_model(config.variant, &weights, Some(&cache_dir), &device)?;
        Ok(Session {
            root,
            cache_dir,
            device: config.device,
            progress: config.progress,
            loaded,
            circuits: CircuitRegistry::shipped(),
        })
    }

    /// The same session building its circuits from `circuits` (the shipped ones and a
    /// user's): every spec, lineage, claim and error analysis run on it looks circuit
    /// kinds up there.
    pub fn with_circuits(mut self, circuits: CircuitRegistry) -> Self {
        self.circuits = circuits;
        self
    }

    /// The circuits this session can build.
    pub fn circuits(&self) -> &CircuitRegistry {
        &self.circuits
    }

    pub fn model(&self) -> &InceptionV1 {
        &self.loaded.model
    }

    pub fn variant(&self) -> Variant {
        self.loaded.model.variant()
    }

    /// A neuron family file, which must be of this session's model; `role` names it in
    /// errors (e.g. `target.family`).
    pub fn family(&self, path: &Path, role: &str) -> Result<Family, EvalError> {
        let family = Family::load(path)?;
        if family.model != self.variant() {
            return Err(EvalError::Spec(format!(
                "{role}: {} is a {} family but the experiment's model is {}",
                path.display(),
                family.model,
                self.variant()
            )));
        }
        Ok(family)
    }

    /// The weight source, as given.
    pub fn weights(&self) -> &Path {
        &self.loaded.weights
    }

    /// SHA-256 of the weight source.
    pub fn weights_sha256(&self) -> &str {
        &self.loaded.weights_sha256
    }

    /// `text` with every path under the data root written as `$AANN_DATA/…`, so that
    /// results files name their inputs the same way on every machine.
    pub fn portable(&self, text: &str) -> String {
        let mut roots = vec![self.root.dir.display().to_string()];
        if let Ok(c) = std::fs::canonicalize(&self.root.dir) {
            roots.push(c.display().to_string());
        }
        roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
        let mut out = text.to_string();
        for r in roots.iter().filter(|r| !r.is_empty() && r.as_str() != ".") {
            out = out.replace(&format!("{r}/"), "$AANN_DATA/");
        }
        out
    }

    /// Compute threads (rayon's pool).
    pub fn threads(&self) -> usize {
        rayon::current_num_threads()
    }

    pub fn synsets(&self) -> Result<Synsets, EvalError> {
        self.root.synsets()
    }

    /// The output order of the model's classifier.
    pub fn class_order(&self) -> Result<ClassOrder, EvalError> {
        self.root.class_order(self.variant())
    }
}
