//! Finding the data and weights a run needs: the `AANN_DATA` root, label maps, default
//! weight locations, and loading a model through the weight cache.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use aann_data::{ClassOrder, Inception5hLabels, Synsets};
use aann_model::{InceptionV1, Variant};
use aann_weights::WeightCache;

use crate::EvalError;

/// The data root: `--data-root`, else `$AANN_DATA`, else `../shared/data` or `data/` when
/// they exist. A root may be the `data` folder itself or its parent.
#[derive(Clone, Debug)]
pub struct DataRoot {
    pub dir: PathBuf,
    /// How the root was found, for error messages.
    pub origin: String,
}

impl DataRoot {
    pub fn resolve(explicit: Option<&Path>) -> Self {
        let normalise = |p: PathBuf| {
            if p.join("data").is_dir() && !p.join("imagenet-val").is_dir() {
                p.join("data")
            } else {
                p
            }
        };
        if let Some(p) = explicit {
            return DataRoot {
                dir: normalise(p.to_path_buf()),
                origin: "--data-root".into(),
            };
        }
        if let Some(p) = std::env::var_os("AANN_DATA") {
            return DataRoot {
                dir: normalise(PathBuf::from(p)),
                origin: "$AANN_DATA".into(),
            };
        }
        for candidate in ["../shared/data", "data"] {
            let p = PathBuf::from(candidate);
            if p.is_dir() {
                return DataRoot {
                    dir: p,
                    origin: format!("the default location {candidate}"),
                };
            }
        }
        DataRoot {
            dir: PathBuf::from("data"),
            origin: "the default location data/ (absent: set AANN_DATA or --data-root)".into(),
        }
    }

    /// A file or folder under the root, or an error saying where it was looked for.
    pub fn require(&self, relative: &str, what: &str) -> Result<PathBuf, EvalError> {
        let p = self.dir.join(relative);
        if p.exists() {
            Ok(p)
        } else {
            Err(EvalError::Spec(format!(
                "{what} not found at {} (data root {} from {}); set AANN_DATA to the folder holding imagenet-val/, labels/, googlenet-bvlc/, or pass the path explicitly",
                p.display(),
                self.dir.display(),
                self.origin
            )))
        }
    }

    pub fn synsets(&self) -> Result<Synsets, EvalError> {
        Ok(Synsets::load(self.require(
            "imagenet-val/synset_words.txt",
            "synset list (synset_words.txt)",
        )?)?)
    }

    /// The output order of a model's classifier.
    pub fn class_order(&self, variant: Variant) -> Result<ClassOrder, EvalError> {
        let synsets = self.synsets()?;
        Ok(match variant {
            Variant::Bvlc => ClassOrder::sorted_synsets(&synsets),
            Variant::Lucid => {
                let labels = Inception5hLabels::load(
                    self.require(
                        "labels/imagenet_2012_challenge_label_map_proto.pbtxt",
                        "inception5h label map",
                    )?,
                    self.require(
                        "labels/imagenet_comp_graph_label_strings.txt",
                        "inception5h label strings",
                    )?,
                )?;
                ClassOrder::inception5h(&synsets, &labels)?
            }
        })
    }

    /// Where a model's weights are expected when `--weights` is not given: under the data
    /// root, else where `aann weights fetch` puts them.
    pub fn default_weights(&self, variant: Variant) -> Result<PathBuf, EvalError> {
        let fetched = aann_weights::fetch::default_dir();
        let (candidates, fetched_names, hint): (&[&str], &[&str], &str) = match variant {
            Variant::Bvlc => (
                &["googlenet-bvlc/params", "bvlc_googlenet.caffemodel"],
                &["bvlc_googlenet.caffemodel"],
                "pass --weights (bvlc_googlenet.caffemodel or the per-layer .mat folder) or run `aann weights fetch bvlc`",
            ),
            Variant::Lucid => (
                &[
                    "inception5h/inception5h.pth",
                    "inception5h.pth",
                    "inception5h.zip",
                ],
                &["inception5h.zip", "inception5h.pth"],
                "pass --weights (inception5h.pth, inception5h.zip or tensorflow_inception_graph.pb) or run `aann weights fetch lucid`",
            ),
        };
        for c in candidates {
            if self.dir.join(c).exists() {
                return Ok(self.dir.join(c));
            }
        }
        for c in fetched_names {
            if fetched.join(c).exists() {
                return Ok(fetched.join(c));
            }
        }
        Err(EvalError::Spec(format!(
            "no {variant} weights found under the data root {} ({}) or in {}: {hint}",
            self.dir.display(),
            self.origin,
            fetched.display()
        )))
    }
}

/// A model loaded through the cache, with the checksum of its weight source.
pub struct LoadedModel {
    pub model: InceptionV1,
    pub weights: PathBuf,
    pub weights_sha256: String,
}

/// Load a model (converting its weights into the cache on first use).
pub fn load_model(
    variant: Variant,
    weights: &Path,
    cache_dir: Option<&Path>,
    device: &Device,
) -> Result<LoadedModel, EvalError> {
    let cache = WeightCache::new(
        cache_dir
            .map(Path::to_path_buf)
            .unwrap_or_else(WeightCache::default_dir),
    );
    let weights_sha256 =
        aann_weights::sha256_source(weights).map_err(aann_model::ModelError::from)?;
    let model = InceptionV1::load(variant, weights, &cache, device)?;
    Ok(LoadedModel {
        model,
        weights: weights.to_path_buf(),
        weights_sha256,
    })
}
