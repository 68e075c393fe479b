//! Receptive-field geometry of every tap, derived from the layer table: where the centre of
//! unit `(i, j)` falls in the input image and how many pixels it can see, so stimuli can be
//! centred on a unit exactly.
//!
//! Coordinates are continuous image coordinates: pixel `(x, y)` covers `[x, x+1) × [y, y+1)`,
//! so the centre of pixel 0 is at 0.5. Along each axis a layer with kernel `k`, stride `s` and
//! leading padding `p` maps the geometry of its input `(jump J, first centre C, field R)` to
//! `(J·s, C + ((k−1)/2 − p)·J, R + (k−1)·J)`. An inception block's output takes the largest
//! field among its branches (all branches share centres: their stride-1 windows are
//! symmetric).

use serde::{Deserialize, Serialize};

use crate::arch::{
    Block, Branch, Conv, Layer, PaddingScheme, Tap, Variant, window_output, window_padding,
};

/// Geometry of one tap along one axis.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisGeometry {
    /// Number of units along the axis.
    pub units: usize,
    /// Distance between neighbouring units' centres, in input pixels.
    pub jump: f64,
    /// Centre of unit 0, in continuous input coordinates.
    pub first_centre: f64,
    /// Receptive-field size in input pixels (ignoring image borders).
    pub field: usize,
}

impl AxisGeometry {
    fn input(pixels: usize) -> Self {
        AxisGeometry {
            units: pixels,
            jump: 1.0,
            first_centre: 0.5,
            field: 1,
        }
    }

    /// Apply a window (kernel, stride, leading padding) producing `units` outputs.
    fn window(self, kernel: usize, stride: usize, pad_begin: usize, units: usize) -> Self {
        AxisGeometry {
            units,
            jump: self.jump * stride as f64,
            first_centre: self.first_centre
                + ((kernel as f64 - 1.0) / 2.0 - pad_begin as f64) * self.jump,
            field: self.field + (kernel - 1) * self.jump as usize,
        }
    }

    /// Centre of unit `i`, in continuous input coordinates.
    pub fn centre(&self, i: usize) -> f64 {
        self.first_centre + i as f64 * self.jump
    }

    /// The unit whose centre is nearest to `x` (ties to the lower index).
    pub fn nearest_unit(&self, x: f64) -> usize {
        let i = ((x - self.first_centre) / self.jump).round();
        (i.max(0.0) as usize).min(self.units.saturating_sub(1))
    }

    /// Input pixels (index range, clipped to the image) that can influence unit `i`.
    pub fn pixels_seen(&self, i: usize, pixels: usize) -> std::ops::RangeInclusive<usize> {
        let half = (self.field as f64 - 1.0) / 2.0;
        let centre_pixel = self.centre(i) - 0.5;
        let lo = (centre_pixel - half).max(0.0) as usize;
        let hi = ((centre_pixel + half) as usize).min(pixels - 1);
        lo..=hi
    }
}

/// Geometry of a tap for an input of `height × width` pixels: `[rows, columns]`.
pub fn tap_geometry(variant: Variant, tap: Tap, height: usize, width: usize) -> [AxisGeometry; 2] {
    [axis(variant, tap, height), axis(variant, tap, width)]
}

fn axis(variant: Variant, tap: Tap, pixels: usize) -> AxisGeometry {
    let scheme = variant.padding();
    let conv = |g: AxisGeometry, k: usize, s: usize| {
        let (pad, _) = window_padding(scheme, g.units, k, s, (k - 1) / 2);
        let out = window_output(scheme, g.units, k, s, (k - 1) / 2, false);
        g.window(k, s, pad, out)
    };
    let max_pool = |g: AxisGeometry| {
        let (pad, _) = window_padding(scheme, g.units, 3, 2, 0);
        let pad = if scheme == PaddingScheme::CaffeCeil {
            0
        } else {
            pad
        };
        let out = window_output(scheme, g.units, 3, 2, 0, true);
        g.window(3, 2, pad, out)
    };
    // A same-size stride-1 window (3×3 / 5×5 convolution or the pool branch).
    let same = |g: AxisGeometry, k: usize| g.window(k, 1, (k - 1) / 2, g.units);

    let mut g = AxisGeometry::input(pixels);
    if tap.layer == Layer::Input {
        return g;
    }
    g = conv(g, 7, 2);
    if tap.layer == Layer::Conv0 {
        return g;
    }
    g = max_pool(g);
    if matches!(tap.layer, Layer::Pool0 | Layer::Lrn0 | Layer::Conv1) {
        return g;
    }
    g = same(g, 3);
    if matches!(tap.layer, Layer::Conv2 | Layer::Lrn1) {
        return g;
    }
    g = max_pool(g);
    if tap.layer == Layer::Pool1 {
        return g;
    }
    for block in Block::ALL {
        if block == Block::B4a || block == Block::B5a {
            let pool = if block == Block::B4a {
                Layer::Pool3
            } else {
                Layer::Pool4
            };
            g = max_pool(g);
            if tap.layer == pool {
                return g;
            }
        }
        match tap.layer {
            Layer::Branch(b, branch) if b == block => {
                return match branch {
                    Branch::B1x1 | Branch::B3x3Reduce | Branch::B5x5Reduce => g,
                    Branch::B3x3 | Branch::Pool | Branch::PoolProj => same(g, 3),
                    Branch::B5x5 => same(g, 5),
                };
            }
            _ => {}
        }
        // The block output: the 5×5 path has the widest field.
        g = same(g, 5);
        if tap.layer == Layer::Mixed(block) {
            return g;
        }
    }
    // Average pool and the classifier see everything the 7×7 pool covers.
    let pooled = g.window(7, 1, 0, g.units.saturating_sub(6).max(1));
    if tap.layer == Layer::AvgPool {
        return pooled;
    }
    AxisGeometry { units: 1, ..pooled }
}

/// The multiply-adds of one `height × width` image: every convolution (with the tap of its
/// output) and the classifier, in network order. Pools, LRN and ReLUs are not counted (they
/// are a few percent of the work and not multiply-adds). FLOPs are twice these.
pub fn multiply_adds(variant: Variant, height: usize, width: usize) -> Vec<(Tap, u64)> {
    let mut out: Vec<(Tap, u64)> = Conv::all()
        .into_iter()
        .map(|conv| {
            let s = conv.shape(variant);
            let tap = Tap::output(conv.layer());
            let [rows, cols] = tap_geometry(variant, tap, height, width);
            let per_unit = s.in_channels * s.kernel * s.kernel * s.out_channels;
            (tap, (rows.units * cols.units * per_unit) as u64)
        })
        .collect();
    let features = Tap::output(Layer::AvgPool).channels(variant);
    out.push((Tap::LOGITS, (features * variant.num_outputs()) as u64));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn googlenet_costs_one_and_a_half_billion_multiply_adds() {
        // "The network ... about 1.5 billion multiply-adds" (Szegedy et al. 2015, §5).
        for variant in Variant::ALL {
            let total: u64 = multiply_adds(variant, 224, 224).iter().map(|m| m.1).sum();
            assert!(
                (1.4e9..1.65e9).contains(&(total as f64)),
                "{variant}: {total}"
            );
        }
        // conv1 at 224: 112 × 112 × 64 × 3 × 7 × 7.
        let first = multiply_adds(Variant::Bvlc, 224, 224)[0];
        assert_eq!(first, (Tap::output(Layer::Conv0), 112 * 112 * 64 * 3 * 49));
    }

    #[test]
    fn lucid_mixed3b_units_are_centred_on_8i_plus_7() {
        // Facts sheet §5: mixed3b unit (i, j) is centred on input pixel (8i+7, 8j+7) at 224.
        let [rows, cols] = tap_geometry(Variant::Lucid, Tap::mixed(Block::B3b), 224, 224);
        assert_eq!(rows.units, 28);
        assert_eq!(cols.jump, 8.0);
        assert_eq!(cols.centre(0), 7.5);
        assert_eq!(cols.centre(13), 8.0 * 13.0 + 7.5);
        // Through 3a's 5x5 and 3b's 5x5 the field is 91 px; 3a's 3x3 path into 3b gives 75.
        assert_eq!(cols.field, 91);
        let b5 = tap_geometry(
            Variant::Lucid,
            Tap::branch(Block::B3b, Branch::B5x5),
            224,
            224,
        )[1];
        assert_eq!(b5.field, 91);
    }

    #[test]
    fn unit_counts_follow_the_forward_pass() {
        // The BVLC reference at 227 and the Lucid fixture at 227×251.
        let g = tap_geometry(Variant::Bvlc, Tap::mixed(Block::B3b), 227, 227);
        assert_eq!(g[0].units, 28);
        let g = tap_geometry(Variant::Lucid, Tap::mixed(Block::B3b), 227, 251);
        assert_eq!((g[0].units, g[1].units), (29, 32));
        let g = tap_geometry(Variant::Lucid, Tap::output(Layer::Conv0), 227, 251);
        assert_eq!((g[0].units, g[1].units), (114, 126));
    }

    #[test]
    fn caffe_units_sit_one_pixel_before_tensorflow_units() {
        // Caffe pads conv1 by 3 on both sides where TF pads (2, 3) at 224: one pixel earlier.
        let caffe = tap_geometry(Variant::Bvlc, Tap::mixed(Block::B3b), 224, 224)[1];
        let tf = tap_geometry(Variant::Lucid, Tap::mixed(Block::B3b), 224, 224)[1];
        assert_eq!(tf.centre(0) - caffe.centre(0), 1.0);
        assert_eq!(caffe.nearest_unit(112.0), 13);
    }
}
