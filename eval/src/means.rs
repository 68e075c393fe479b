//! Statistics of natural activations over an image set: per-channel mean and standard
//! deviation (to express responses in σ above the dataset mean, and for mean-ablation),
//! and donor pools for resample-ablation.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use aann_data::{ContentDigest, ImageSet, Preprocess, content_digest};
use aann_model::{ChannelMeans, DonorPool, MeansProvenance, ModelError, Tap};

use crate::EvalError;
use crate::lab::Session;
use crate::lab::feed::{Feed, Flow};

/// Mean and standard deviation of every channel of a tap over images and positions, and
/// optionally the mean at every position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationStats {
    pub model: String,
    pub tap: String,
    pub image_set: String,
    pub images: usize,
    /// Positions per image (`H × W`).
    pub positions: usize,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// `[C, H, W]` means, when per-position means were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_position_mean: Option<(Vec<usize>, Vec<f64>)>,
}

impl ActivationStats {
    /// How many standard deviations above the dataset mean `value` is, for a channel.
    pub fn sigma(&self, channel: usize, value: f64) -> f64 {
        (value - self.mean[channel]) / self.std[channel].max(1e-12)
    }

    /// Spatially uniform channel means, for [`aann_model::Intervention::MeanAblate`].
    pub fn uniform_means(&self, weights: &str) -> ChannelMeans {
        ChannelMeans {
            variant: aann_model::Variant::parse(&self.model).expect("stats name their model"),
            tap: self.tap.clone(),
            shape: [self.mean.len(), 1, 1],
            values: self.mean.iter().map(|v| *v as f32).collect(),
            provenance: MeansProvenance {
                image_set: self.image_set.clone(),
                images: self.images,
                weights: weights.to_string(),
            },
        }
    }

    /// Per-position channel means, if they were computed.
    pub fn positional_means(&self, weights: &str) -> Option<ChannelMeans> {
        let (shape, values) = self.per_position_mean.as_ref()?;
        Some(ChannelMeans {
            variant: aann_model::Variant::parse(&self.model).expect("stats name their model"),
            tap: self.tap.clone(),
            shape: [shape[0], shape[1], shape[2]],
            values: values.iter().map(|v| *v as f32).collect(),
            provenance: MeansProvenance {
                image_set: self.image_set.clone(),
                images: self.images,
                weights: weights.to_string(),
            },
        })
    }
}

fn to_f64(t: Tensor<4>) -> Vec<f64> {
    t.into_data()
        .try_to_vec::<f32>()
        .expect("f32 activations")
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Per-channel statistics of `tap` over `set` (natural network, prefix only).
pub fn activation_stats(
    feed: &Feed<'_>,
    set: &ImageSet,
    tap: Tap,
    per_position: bool,
) -> Result<ActivationStats, EvalError> {
    let model = feed.model();
    let variant = model.variant();
    let c = tap.channels(variant);
    let mut sum = vec![0f64; c];
    let mut sum_sq = vec![0f64; c];
    let mut pos_sum: Option<(Vec<usize>, Vec<f64>)> = None;
    let mut images = 0usize;
    let mut positions = 0usize;
    let bar = feed.bar(set.len(), &format!("statistics of {}", tap.name(variant)));
    feed.batches(set, |fed| {
        bar.inc(fed.batch.attempted as u64);
        let Some(input) = fed.input else {
            return Ok(Flow::Continue);
        };
        let mut acts = model.activations(input, &[tap])?;
        let x = acts
            .remove(&tap)
            .ok_or_else(|| ModelError::Input("tap not produced".into()))?;
        let [n, _, h, w] = x.dims();
        images += n;
        positions = h * w;
        let s = to_f64(x.clone().sum_dim(0).sum_dim(2).sum_dim(3));
        let s2 = to_f64((x.clone() * x.clone()).sum_dim(0).sum_dim(2).sum_dim(3));
        for ch in 0..c {
            sum[ch] += s[ch];
            sum_sq[ch] += s2[ch];
        }
        if per_position {
            let p = to_f64(x.sum_dim(0));
            let entry = pos_sum.get_or_insert_with(|| (vec![c, h, w], vec![0f64; c * h * w]));
            if entry.0 != [c, h, w] {
                return Err(EvalError::Results(format!(
                    "per-position means need images of one size; got {h}×{w} after {}×{}",
                    entry.0[1], entry.0[2]
                )));
            }
            for (a, b) in entry.1.iter_mut().zip(p) {
                *a += b;
            }
        }
        Ok(Flow::Continue)
    })?;
    bar.finish_and_clear();
    if images == 0 {
        return Err(EvalError::Results(format!(
            "no image of {} could be used to compute statistics",
            describe_set(set)
        )));
    }
    let count = (images * positions) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    let std: Vec<f64> = sum_sq
        .iter()
        .zip(&mean)
        .map(|(s2, m)| (s2 / count - m * m).max(0.0).sqrt())
        .collect();
    let per_position_mean =
        pos_sum.map(|(shape, v)| (shape, v.into_iter().map(|s| s / images as f64).collect()));
    Ok(ActivationStats {
        model: variant.name().to_string(),
        tap: tap.name(variant),
        image_set: describe_set(set),
        images,
        positions,
        mean,
        std,
        per_position_mean,
    })
}

/// Natural activations at `tap` of the images of `set`, as a donor pool.
pub fn donor_pool(
    feed: &Feed<'_>,
    set: &ImageSet,
    tap: Tap,
    seed: u64,
) -> Result<DonorPool, EvalError> {
    let mut keys = Vec::new();
    let mut parts = Vec::new();
    feed.recorded(set, &[tap], |entries, taps| {
        parts.push(taps[&tap].clone());
        keys.extend(entries.iter().map(|e| e.key.clone()));
        Ok(())
    })?;
    if keys.len() < 2 {
        return Err(EvalError::Results(format!(
            "resample-ablation needs at least 2 donor images; {} has {}",
            describe_set(set),
            keys.len()
        )));
    }
    Ok(DonorPool {
        keys,
        activations: Tensor::cat(parts, 0),
        seed,
    })
}

pub use crate::lab::feed::describe_set;

/// Per-channel statistics of `tap` over `set`, through the session's cache, keyed by what
/// they are computed from: the images' contents (after skip and limit), the
/// preprocessing, the weights' checksum and the tap. Two different subsets of one folder
/// never share an entry.
pub fn stats(feed: &Feed<'_>, set: &ImageSet, tap: Tap) -> Result<ActivationStats, EvalError> {
    let digest = content_digest(set)?;
    let path = stats_cache_path(feed.session, &digest, &feed.preprocess, tap);
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(stats) = serde_json::from_str::<ActivationStats>(&text)
    {
        return Ok(stats);
    }
    let stats = activation_stats(feed, set, tap, false)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EvalError::write(dir, e))?;
    }
    let tmp = aann_weights::cache::unique_temporary(&path);
    std::fs::write(
        &tmp,
        serde_json::to_string(&stats).expect("stats serialise"),
    )
    .map_err(|e| EvalError::write(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| EvalError::write(&path, e))?;
    Ok(stats)
}

/// Where [`stats`] caches the statistics of a set with this content.
pub fn stats_cache_path(
    session: &Session,
    digest: &ContentDigest,
    preprocess: &Preprocess,
    tap: Tap,
) -> PathBuf {
    let variant = session.variant();
    let key = format!(
        "{}|{}|{}|{:?}",
        digest.list_sha256,
        tap.name(variant),
        session.weights_sha256(),
        preprocess
    );
    let hash = aann_weights::sha256_hex(key.as_bytes());
    let sha = session.weights_sha256();
    session.cache_dir.join("stats").join(format!(
        "{}-{}-{}-{}.json",
        variant,
        &sha[..sha.len().min(12)],
        tap.name(variant),
        &hash[..24]
    ))
}
