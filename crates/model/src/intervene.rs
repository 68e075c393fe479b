//! Interventions at named taps: ablations, scaling, clamping and replacement of channels.
//!
//! A [`Condition`] is a named list of [`Edit`]s, each an [`Intervention`] applied to a set
//! of channels at one tap. [`ConditionHooks`] turns a condition into [`Hooks`] for one batch,
//! so the network applies the edits as the taps flow past. Replacement is open-ended: any
//! function of the input image and of this run's activations at earlier taps, behind the
//! [`Replacement`] trait that hand-written circuits implement.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::arch::{Tap, Variant};
use crate::family::ChannelSet;
use crate::hooks::{Halt, Hooks};

/// What a replacement gets to compute from.
pub struct ReplacementInputs<'a> {
    pub variant: Variant,
    /// The tap being replaced and the channels to produce, in this order.
    pub target: Tap,
    pub channels: &'a ChannelSet,
    /// `[N, C, H, W]` of the target tap: the replacement returns `[N, channels.len(), H, W]`.
    pub target_dims: [usize; 4],
    /// This run's values of the taps the replacement [`reads`](Replacement::reads): natural
    /// unless this condition edited them upstream. [`Tap::INPUT`] is the preprocessed image.
    pub taps: &'a HashMap<Tap, Tensor<4>>,
    /// Stable keys of the images in the batch, for per-image determinism.
    pub keys: &'a [String],
    pub device: &'a Device,
}

impl ReplacementInputs<'_> {
    /// The value of a tap the replacement declared in `reads`.
    pub fn tap(&self, tap: Tap) -> &Tensor<4> {
        self.taps.get(&tap).unwrap_or_else(|| {
            panic!(
                "replacement read {} without declaring it in `reads()`",
                tap.name(self.variant)
            )
        })
    }
}

/// Something that computes stand-in activations for a set of channels.
pub trait Replacement: Send + Sync {
    /// Short name for reports, e.g. `curve-circuit`.
    fn name(&self) -> String;
    /// The taps (earlier than the target) whose values `compute` reads; [`Tap::INPUT`] for
    /// the image.
    fn reads(&self) -> Vec<Tap>;
    /// Activations `[N, channels.len(), H, W]` on the target tap's grid.
    fn compute(&self, inputs: &ReplacementInputs<'_>) -> Tensor<4>;
}

/// Where a set of channel means was measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeansProvenance {
    /// The image set (path or name) the means were computed on.
    pub image_set: String,
    pub images: usize,
    /// SHA-256 (or path) of the weights.
    pub weights: String,
}

/// Per-channel means of a tap over an image set: one value per channel (spatially uniform)
/// or one per channel and position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelMeans {
    pub variant: Variant,
    /// Tap name in the model's vocabulary.
    pub tap: String,
    /// `[C, H, W]`, with `H = W = 1` for spatially uniform means.
    pub shape: [usize; 3],
    pub values: Vec<f32>,
    pub provenance: MeansProvenance,
}

impl ChannelMeans {
    pub fn per_position(&self) -> bool {
        self.shape[1] * self.shape[2] > 1
    }

    fn tensor(&self, device: &Device) -> Tensor<4> {
        let [c, h, w] = self.shape;
        Tensor::from_data(TensorData::new(self.values.clone(), [1, c, h, w]), device)
    }
}

/// Activations of donor images at a tap, for resample-ablation: each image's channels are
/// taken from a donor chosen by a seeded hash of the image's key (never itself).
#[derive(Clone, Debug)]
pub struct DonorPool {
    pub keys: Vec<String>,
    /// `[M, C, H, W]` on the model's device.
    pub activations: Tensor<4>,
    pub seed: u64,
}

impl DonorPool {
    /// The donor index for an image: a seeded hash of its key, skipping the image itself.
    pub fn donor_for(&self, key: &str) -> usize {
        let m = self.keys.len();
        let mut i = (stable_hash(self.seed, key) % m as u64) as usize;
        if m > 1 && self.keys[i] == key {
            i = (i + 1) % m;
        }
        i
    }
}

/// Activations of source images at a tap, patched into other images' runs (activation
/// patching: a clean image's activations into the run of a corrupted one). Each target
/// image, by key, takes the row of its own source; an image without one halts the run.
#[derive(Clone, Debug)]
pub struct PatchSource {
    /// For each target image's key, its source's row in `activations`.
    pub rows: HashMap<String, usize>,
    /// `[M, C, H, W]` on the model's device: the sources' values of the tap.
    pub activations: Tensor<4>,
    /// Where the sources came from, for reports.
    pub description: String,
}

impl PatchSource {
    /// The source row of every image of a batch, or which image has none.
    fn rows_for(&self, keys: &[String]) -> Result<Vec<i64>, String> {
        keys.iter()
            .map(|k| {
                self.rows.get(k).map(|r| *r as i64).ok_or_else(|| {
                    format!(
                        "image `{k}` has no source to patch from ({})",
                        self.description
                    )
                })
            })
            .collect()
    }
}

/// FNV-1a of the seed and key: stable across runs, platforms and batch compositions.
fn stable_hash(seed: u64, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// What to do to a set of channels.
#[derive(Clone)]
pub enum Intervention {
    /// Set the channels to zero.
    ZeroAblate,
    /// Set the channels to their mean over an image set.
    MeanAblate(Arc<ChannelMeans>),
    /// Take the channels from another image.
    ResampleAblate(Arc<DonorPool>),
    /// Take the channels from each image's own source image (activation patching).
    Patch(Arc<PatchSource>),
    /// Multiply the channels by a factor.
    Scale(f32),
    /// Clamp the channels into `[min, max]`.
    Clamp { min: Option<f32>, max: Option<f32> },
    /// Overwrite the channels with a replacement's output.
    Replace(Arc<dyn Replacement>),
}

impl fmt::Debug for Intervention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Intervention {
    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        match self {
            Intervention::ZeroAblate => "zero-ablate".into(),
            Intervention::MeanAblate(m) => format!(
                "mean-ablate ({} means over {} images of {})",
                if m.per_position() {
                    "per-position"
                } else {
                    "spatially uniform"
                },
                m.provenance.images,
                m.provenance.image_set
            ),
            Intervention::ResampleAblate(d) => {
                format!("resample-ablate ({} donors, seed {})", d.keys.len(), d.seed)
            }
            Intervention::Patch(p) => format!("patch from {}", p.description),
            Intervention::Scale(a) => format!("scale ×{a}"),
            Intervention::Clamp { min, max } => format!("clamp to [{min:?}, {max:?}]"),
            Intervention::Replace(r) => format!("replace with {}", r.name()),
        }
    }
}

/// One intervention on a set of channels at one tap.
#[derive(Clone, Debug)]
pub struct Edit {
    pub tap: Tap,
    pub channels: ChannelSet,
    pub intervention: Intervention,
}

/// A named set of edits applied together: one arm of an experiment.
#[derive(Clone, Debug)]
pub struct Condition {
    pub name: String,
    pub edits: Vec<Edit>,
}

impl Condition {
    /// The unmodified network.
    pub fn baseline() -> Self {
        Condition {
            name: "baseline".into(),
            edits: Vec::new(),
        }
    }

    pub fn new(name: impl Into<String>, edits: Vec<Edit>) -> Self {
        Condition {
            name: name.into(),
            edits,
        }
    }

    /// What the condition does, in the model's vocabulary, e.g. `zero-ablate of
    /// inception_3b_output channels 9,66` (edits joined by `; `; empty for the baseline).
    pub fn describe(&self, variant: Variant) -> String {
        self.edits
            .iter()
            .map(|e| {
                format!(
                    "{} of {} channels {}",
                    e.intervention.describe(),
                    e.tap.name(variant),
                    e.channels
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The earliest tap this condition edits, if any.
    pub fn earliest_edit(&self) -> Option<Tap> {
        self.edits.iter().map(|e| e.tap).min_by_key(|t| t.order())
    }

    /// Taps read by this condition's replacements.
    pub fn reads(&self) -> Vec<Tap> {
        let mut taps: Vec<Tap> = self
            .edits
            .iter()
            .filter_map(|e| match &e.intervention {
                Intervention::Replace(r) => Some(r.reads()),
                _ => None,
            })
            .flatten()
            .collect();
        taps.sort_by_key(|t| t.order());
        taps.dedup();
        taps
    }

    /// Check the edits: channels in range, replacements reading only earlier taps.
    pub fn validate(&self, variant: Variant) -> crate::Result<()> {
        for edit in &self.edits {
            edit.channels.check_range(edit.tap, variant)?;
            if let Intervention::Replace(r) = &edit.intervention {
                for read in r.reads() {
                    if read.order() >= edit.tap.order() {
                        return Err(crate::ModelError::Channels(format!(
                            "replacement {} for {} reads {}, which is not earlier in the network",
                            r.name(),
                            edit.tap.name(variant),
                            read.name(variant)
                        )));
                    }
                }
            }
            if let Intervention::MeanAblate(m) = &edit.intervention {
                let tap = Tap::parse(&m.tap, m.variant)?;
                if tap != edit.tap || m.variant != variant {
                    return Err(crate::ModelError::Channels(format!(
                        "means were computed at {} of the {} model, not at {} of {}",
                        m.tap,
                        m.variant,
                        edit.tap.name(variant),
                        variant
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A condition applied to one batch: the [`Hooks`] the network runs with.
pub struct ConditionHooks<'a> {
    condition: &'a Condition,
    variant: Variant,
    device: Device,
    keys: &'a [String],
    /// Taps some replacement reads, recorded as they pass (after this condition's edits).
    reads: Vec<Tap>,
    recorded: HashMap<Tap, Tensor<4>>,
}

impl<'a> ConditionHooks<'a> {
    /// Hooks for one batch. `recorded` holds values of read taps that a shared prefix
    /// already computed (the evaluator's prefix reuse); the rest are recorded on the way.
    pub fn new(
        condition: &'a Condition,
        variant: Variant,
        device: &Device,
        keys: &'a [String],
        recorded: HashMap<Tap, Tensor<4>>,
    ) -> Self {
        ConditionHooks {
            reads: condition.reads(),
            condition,
            variant,
            device: device.clone(),
            keys,
            recorded,
        }
    }

    fn apply(&self, edit: &Edit, x: Tensor<4>) -> Result<Tensor<4>, Halt> {
        let dims = x.dims();
        let [n, c, h, w] = dims;
        let channels = edit.channels.as_slice();
        let mut mask = vec![0.0f32; c];
        for &ch in channels {
            mask[ch] = 1.0;
        }
        let keep: Vec<f32> = mask.iter().map(|m| 1.0 - m).collect();
        let as4 =
            |v: Vec<f32>| Tensor::<4>::from_data(TensorData::new(v, [1, c, 1, 1]), &self.device);
        let out = match &edit.intervention {
            Intervention::ZeroAblate => x * as4(keep),
            Intervention::Scale(a) => {
                let factor: Vec<f32> = mask
                    .iter()
                    .map(|m| if *m > 0.0 { *a } else { 1.0 })
                    .collect();
                x * as4(factor)
            }
            Intervention::Clamp { min, max } => {
                let mut y = x.clone();
                if let Some(lo) = min {
                    y = y.clamp_min(*lo);
                }
                if let Some(hi) = max {
                    y = y.clamp_max(*hi);
                }
                x * as4(keep) + y * as4(mask)
            }
            Intervention::MeanAblate(means) => {
                let [mc, mh, mw] = means.shape;
                if mc != c || (mh * mw > 1 && (mh, mw) != (h, w)) {
                    return Err(Halt::Invalid(format!(
                        "means for {} have shape {:?} but the tap is {c}×{h}×{w} (per-position means need the same input size)",
                        means.tap, means.shape
                    )));
                }
                x * as4(keep) + means.tensor(&self.device) * as4(mask)
            }
            Intervention::ResampleAblate(pool) => {
                let pd = pool.activations.dims();
                if pd[1..] != dims[1..] {
                    return Err(Halt::Invalid(format!(
                        "donor activations are {:?} but the tap is {:?}",
                        &pd[1..],
                        &dims[1..]
                    )));
                }
                let donors: Vec<i64> = self.keys.iter().map(|k| pool.donor_for(k) as i64).collect();
                let index = Tensor::<1, Int>::from_data(TensorData::new(donors, [n]), &self.device);
                let donor = pool.activations.clone().select(0, index);
                x * as4(keep) + donor * as4(mask)
            }
            Intervention::Patch(source) => {
                let sd = source.activations.dims();
                if sd[1..] != dims[1..] {
                    return Err(Halt::Invalid(format!(
                        "patch source activations are {:?} but {} is {:?}",
                        &sd[1..],
                        edit.tap.name(self.variant),
                        &dims[1..]
                    )));
                }
                let rows = source.rows_for(self.keys).map_err(Halt::Invalid)?;
                let index = Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), &self.device);
                let patched = source.activations.clone().select(0, index);
                x * as4(keep) + patched * as4(mask)
            }
            Intervention::Replace(replacement) => {
                let inputs = ReplacementInputs {
                    variant: self.variant,
                    target: edit.tap,
                    channels: &edit.channels,
                    target_dims: dims,
                    taps: &self.recorded,
                    keys: self.keys,
                    device: &self.device,
                };
                let r = replacement.compute(&inputs);
                let expected = [n, channels.len(), h, w];
                if r.dims() != expected {
                    return Err(Halt::Invalid(format!(
                        "replacement {} returned {:?} for {}, expected {:?}",
                        replacement.name(),
                        r.dims(),
                        edit.tap.name(self.variant),
                        expected
                    )));
                }
                // Scatter the k replacement channels into place: append a zero channel and
                // gather, so that channel c takes replacement slot pos(c) or the zero slot.
                let k = channels.len();
                let slots: Vec<i64> = (0..c)
                    .map(|ch| channels.binary_search(&ch).map_or(k as i64, |p| p as i64))
                    .collect();
                let padded = Tensor::cat(vec![r, Tensor::zeros([n, 1, h, w], &self.device)], 1);
                let index = Tensor::<1, Int>::from_data(TensorData::new(slots, [c]), &self.device);
                x * as4(keep) + padded.select(1, index)
            }
        };
        Ok(out)
    }
}

impl Hooks for ConditionHooks<'_> {
    fn wants(&self, tap: Tap) -> bool {
        self.reads.contains(&tap) || self.condition.edits.iter().any(|e| e.tap == tap)
    }

    fn at(&mut self, tap: Tap, mut x: Tensor<4>) -> Result<Tensor<4>, Halt> {
        for edit in self.condition.edits.iter().filter(|e| e.tap == tap) {
            x = self.apply(edit, x)?;
        }
        if self.reads.contains(&tap) {
            self.recorded.insert(tap, x.clone());
        }
        Ok(x)
    }
}

/// Several conditions' hooks over one batch that holds each condition's own copy of the
/// images: condition `k` owns rows `k·rows .. (k+1)·rows`, and its edits and reads see only
/// those. Conditions that start from the same checkpoint thus run their suffixes as one
/// large batch (better GEMM efficiency; one dispatch instead of many on a GPU).
pub struct StackedHooks<'a> {
    hooks: Vec<ConditionHooks<'a>>,
    rows: usize,
}

impl<'a> StackedHooks<'a> {
    pub fn new(hooks: Vec<ConditionHooks<'a>>, rows: usize) -> Self {
        StackedHooks { hooks, rows }
    }
}

impl Hooks for StackedHooks<'_> {
    fn wants(&self, tap: Tap) -> bool {
        self.hooks.iter().any(|h| h.wants(tap))
    }

    fn at(&mut self, tap: Tap, x: Tensor<4>) -> Result<Tensor<4>, Halt> {
        if !self.wants(tap) {
            return Ok(x);
        }
        let rows = self.rows;
        let parts = self
            .hooks
            .iter_mut()
            .enumerate()
            .map(|(k, h)| {
                let part = x.clone().narrow(0, k * rows, rows);
                if h.wants(tap) {
                    h.at(tap, part)
                } else {
                    Ok(part)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Tensor::cat(parts, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn donors_are_deterministic_and_never_the_image_itself() {
        let keys: Vec<String> = (0..10).map(|i| format!("img{i}")).collect();
        let pool = DonorPool {
            keys: keys.clone(),
            activations: Tensor::zeros([10, 1, 1, 1], &Device::default()),
            seed: 7,
        };
        for k in &keys {
            let d = pool.donor_for(k);
            assert_ne!(&pool.keys[d], k);
            assert_eq!(d, pool.donor_for(k));
        }
        let other = DonorPool {
            seed: 8,
            ..pool.clone()
        };
        assert!(
            keys.iter().any(|k| pool.donor_for(k) != other.donor_for(k)),
            "the seed matters"
        );
    }

    fn patch_edit(source: PatchSource) -> Condition {
        Condition::new(
            "patch",
            vec![Edit {
                tap: Tap::INPUT,
                channels: ChannelSet::new(vec![1]),
                intervention: Intervention::Patch(Arc::new(source)),
            }],
        )
    }

    #[test]
    fn patching_takes_each_images_own_source_in_the_patched_channels_only() {
        let device = Device::default();
        // Two sources, channel c of source s holding 10·(s+1) + c.
        let sources: Vec<f32> = (0..2)
            .flat_map(|s| (0..3).map(move |c| 10.0 * (s as f32 + 1.0) + c as f32))
            .collect();
        let source = PatchSource {
            rows: [("b".to_string(), 0), ("a".to_string(), 1)].into(),
            activations: Tensor::from_data(TensorData::new(sources, [2, 3, 1, 1]), &device),
            description: "two clean images".into(),
        };
        let condition = patch_edit(source);
        let keys = vec!["a".to_string(), "b".to_string()];
        let hooks = ConditionHooks::new(&condition, Variant::Bvlc, &device, &keys, HashMap::new());
        let x = Tensor::<4>::from_data(TensorData::new(vec![-1.0f32; 6], [2, 3, 1, 1]), &device);
        let out = hooks.apply(&condition.edits[0], x).unwrap();
        let got = out.into_data().try_to_vec::<f32>().unwrap();
        // Image a takes source 1's channel 1 (21), image b source 0's (11); the rest stay.
        assert_eq!(got, vec![-1.0, 21.0, -1.0, -1.0, 11.0, -1.0]);
    }

    #[test]
    fn an_image_without_a_source_is_named_and_a_wrong_shape_refused() {
        let device = Device::default();
        let source = PatchSource {
            rows: [("a".to_string(), 0)].into(),
            activations: Tensor::zeros([1, 3, 1, 1], &device),
            description: "clean.jpg".into(),
        };
        let condition = patch_edit(source);
        let keys = vec!["stranger".to_string()];
        let hooks = ConditionHooks::new(&condition, Variant::Bvlc, &device, &keys, HashMap::new());
        let x = Tensor::<4>::zeros([1, 3, 1, 1], &device);
        match hooks.apply(&condition.edits[0], x) {
            Err(Halt::Invalid(m)) => {
                assert!(m.contains("`stranger`") && m.contains("clean.jpg"), "{m}")
            }
            other => panic!("expected an error, got {:?}", other.map(|t| t.dims())),
        }
        let keys = vec!["a".to_string()];
        let hooks = ConditionHooks::new(&condition, Variant::Bvlc, &device, &keys, HashMap::new());
        let x = Tensor::<4>::zeros([1, 3, 2, 2], &device);
        match hooks.apply(&condition.edits[0], x) {
            Err(Halt::Invalid(m)) => assert!(m.contains("[3, 1, 1]"), "{m}"),
            other => panic!("expected an error, got {:?}", other.map(|t| t.dims())),
        }
    }
}
