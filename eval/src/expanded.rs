//! Expanded weights: the effective linear kernel from a channel of an inception block's
//! input to a channel of its output, through the branch that computes it.
//!
//! The Circuits articles call these "expanded weights" (the 1×1 bottleneck multiplied into
//! the 3×3 or 5×5 kernel). They are a **linearisation**: the ReLU after the bottleneck and
//! every bias are ignored, so an expanded weight is what an upstream activation of 1 would
//! contribute to the target's pre-activation if every bottleneck unit were in its linear
//! (positive) regime. Signs and spatial layout are meaningful; magnitudes compare channels
//! of equal activation, not typical contributions (upstream channels differ in scale).
//!
//! - 1×1 branch: the 1×1 weight itself (a 1×1 kernel).
//! - 3×3 / 5×5 branch: `E[ky][kx] = Σ_m W_k×k[t, m, ky, kx] · W_reduce[m, u]`.
//! - pool branch: a 3×3 max-pool then a 1×1 convolution; a max has no linear expansion, so
//!   these targets are refused.
//!
//! Kernel position `(ky, kx)` is the input offset `(ky − p, kx − p)` from the output unit
//! (y down, x right): the convolutions are cross-correlations.

use aann_model::arch::{BlockWidths, Conv};
use aann_model::{Block, Branch, InceptionV1, Layer, Tap, Variant};

/// The input of an inception block, as a tap (a stage max-pool for 3a, 4a and 5a).
pub fn block_input_tap(block: Block) -> Tap {
    match block {
        Block::B3a => Tap::output(Layer::Pool1),
        Block::B4a => Tap::output(Layer::Pool3),
        Block::B5a => Tap::output(Layer::Pool4),
        other => {
            let i = Block::ALL
                .iter()
                .position(|b| *b == other)
                .expect("a block");
            Tap::mixed(Block::ALL[i - 1])
        }
    }
}

/// The block whose output `to` is, when `from` is that block's input; otherwise an
/// explanation.
pub fn expansion_block(from: Tap, to: Tap, variant: Variant) -> Result<Block, String> {
    let Layer::Mixed(block) = to.layer else {
        return Err(format!(
            "expanded weights go to an inception block's output; {} is not one",
            to.name(variant)
        ));
    };
    if to.pre_relu || from.pre_relu {
        return Err("expanded weights connect post-ReLU block outputs".into());
    }
    let input = block_input_tap(block);
    if from != input {
        return Err(format!(
            "{}'s input is {}, not {}: expanded weights span one inception block",
            to.name(variant),
            input.name(variant),
            from.name(variant)
        ));
    }
    Ok(block)
}

/// Which branch computes a channel of a block's output, and its index within the branch.
pub fn branch_of(widths: &BlockWidths, channel: usize) -> Option<(Branch, usize)> {
    widths
        .offsets()
        .into_iter()
        .find(|(_, start, end)| (*start..*end).contains(&channel))
        .map(|(b, start, _)| (b, channel - start))
}

fn host(t: burn::tensor::Tensor<4>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 weights")
}

/// The expanded weights of one inception block, ready to be queried per channel pair.
pub struct ExpandedBlock {
    pub block: Block,
    pub variant: Variant,
    widths: BlockWidths,
    input_channels: usize,
    /// `[out, in]` 1×1 weights of the 1×1 branch.
    w1x1: Vec<f32>,
    /// Bottleneck `[r, in]` and kernel `[out, r, k, k]` of the 3×3 and 5×5 branches.
    reduce3: Vec<f32>,
    conv3: Vec<f32>,
    reduce5: Vec<f32>,
    conv5: Vec<f32>,
}

impl ExpandedBlock {
    pub fn new(model: &InceptionV1, block: Block) -> Self {
        let variant = model.variant();
        let w = |branch| host(model.conv_weights(Conv::Branch(block, branch)).0);
        ExpandedBlock {
            block,
            variant,
            widths: variant.widths(block),
            input_channels: aann_model::arch::block_input_channels(block, variant),
            w1x1: w(Branch::B1x1),
            reduce3: w(Branch::B3x3Reduce),
            conv3: w(Branch::B3x3),
            reduce5: w(Branch::B5x5Reduce),
            conv5: w(Branch::B5x5),
        }
    }

    /// The expanded kernel from input channel `from` to output channel `to` (`k × k`,
    /// row-major, y down), with `k`; an error for pool-branch targets.
    pub fn kernel(&self, from: usize, to: usize) -> Result<(usize, Vec<f32>), String> {
        let cin = self.input_channels;
        if from >= cin {
            return Err(format!("input channel {from} is out of range (0..{cin})"));
        }
        let (branch, local) = branch_of(&self.widths, to).ok_or_else(|| {
            format!(
                "output channel {to} is out of range (0..{})",
                self.widths.output()
            )
        })?;
        let (reduce, conv, r, k) = match branch {
            Branch::B1x1 => return Ok((1, vec![self.w1x1[local * cin + from]])),
            Branch::B3x3 => (&self.reduce3, &self.conv3, self.widths.b3x3_reduce, 3),
            Branch::B5x5 => (&self.reduce5, &self.conv5, self.widths.b5x5_reduce, 5),
            _ => {
                return Err(format!(
                    "output channel {to} is in the pool branch (3×3 max-pool, then 1×1): a max-pool has no linear expansion"
                ));
            }
        };
        let mut out = vec![0f32; k * k];
        for m in 0..r {
            let a = reduce[m * cin + from];
            if a == 0.0 {
                continue;
            }
            let base = (local * r + m) * k * k;
            for (o, w) in out.iter_mut().zip(&conv[base..base + k * k]) {
                *o += a * w;
            }
        }
        Ok((k, out))
    }
}

/// The principal axis of a kernel's positive part, in degrees clockwise from +x (y down),
/// in `[0, 180)`, with its anisotropy `(λ1 − λ2)/(λ1 + λ2)` (0: no preferred axis, 1: a
/// line); `None` when the kernel has no positive weight or is 1×1.
pub fn positive_axis(k: usize, kernel: &[f32]) -> Option<(f64, f64)> {
    if k < 2 {
        return None;
    }
    let c = (k as f64 - 1.0) / 2.0;
    let (mut sxx, mut syy, mut sxy, mut total) = (0.0, 0.0, 0.0, 0.0);
    for ky in 0..k {
        for kx in 0..k {
            let w = f64::from(kernel[ky * k + kx].max(0.0));
            let (x, y) = (kx as f64 - c, ky as f64 - c);
            sxx += w * x * x;
            syy += w * y * y;
            sxy += w * x * y;
            total += w;
        }
    }
    if total <= 0.0 || sxx + syy <= 0.0 {
        return None;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let spread = ((sxx - syy).powi(2) + 4.0 * sxy * sxy).sqrt();
    Some((angle.to_degrees().rem_euclid(180.0), spread / (sxx + syy)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_inputs_follow_the_stages() {
        assert_eq!(block_input_tap(Block::B3b), Tap::mixed(Block::B3a));
        assert_eq!(block_input_tap(Block::B4a), Tap::output(Layer::Pool3));
        let v = Variant::Bvlc;
        assert_eq!(
            expansion_block(Tap::mixed(Block::B3a), Tap::mixed(Block::B3b), v),
            Ok(Block::B3b)
        );
        let err = expansion_block(Tap::mixed(Block::B3a), Tap::mixed(Block::B4a), v).unwrap_err();
        assert!(err.contains("pool3_3x3_s2"), "{err}");
    }

    #[test]
    fn channels_map_to_their_branch() {
        let w = Variant::Lucid.widths(Block::B3b);
        assert_eq!(branch_of(&w, 379), Some((Branch::B5x5, 59)));
        assert_eq!(branch_of(&w, 9), Some((Branch::B1x1, 9)));
        assert_eq!(branch_of(&w, 200), Some((Branch::B3x3, 72)));
        assert_eq!(branch_of(&w, 420), Some((Branch::PoolProj, 4)));
        assert_eq!(branch_of(&w, 480), None);
    }

    #[test]
    fn the_axis_of_a_line_of_weights_is_its_direction() {
        // A horizontal row through the centre of a 5×5 kernel: axis 0°.
        let mut k = vec![0f32; 25];
        for x in 0..5 {
            k[2 * 5 + x] = 1.0;
        }
        let (a, aniso) = positive_axis(5, &k).unwrap();
        assert!(
            a.min(180.0 - a) < 1e-9 && (aniso - 1.0).abs() < 1e-9,
            "{a} {aniso}"
        );
        // The main diagonal (top-left to bottom-right, y down): 45° clockwise from +x.
        let mut k = vec![0f32; 25];
        for i in 0..5 {
            k[i * 5 + i] = 1.0;
            k[i * 5 + (4 - i)] = -1.0;
        }
        let (a, _) = positive_axis(5, &k).unwrap();
        assert!((a - 45.0).abs() < 1e-9, "{a}");
        assert_eq!(positive_axis(5, &[-1.0; 25]), None);
    }
}
