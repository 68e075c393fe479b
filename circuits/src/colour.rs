//! From the network's input encoding to the channels a circuit sees.
//!
//! The published hand-written network was grayscale, and its authors blame part of its gap
//! on that. Here colour is an option: [`ColourMode::Grayscale`] sees luminance only;
//! [`ColourMode::Opponent`] adds red–green and blue–yellow opponent channels, so an edge
//! between two colours of equal brightness is still an edge. Both are a fixed 1×1 linear
//! map of the input (undoing the model's channel order and mean subtraction).

use serde::{Deserialize, Serialize};

use aann_model::Variant;

/// Which channels the first layer of a pixel circuit reads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "mode", rename_all = "lowercase")]
pub enum ColourMode {
    /// Luminance `0.299 R + 0.587 G + 0.114 B`, centred on mid-grey.
    Grayscale,
    /// Luminance plus red−green and blue−(red+green)/2, the chromatic channels scaled by
    /// `chroma_weight`.
    Opponent { chroma_weight: f64 },
}

impl ColourMode {
    pub fn channels(self) -> usize {
        match self {
            ColourMode::Grayscale => 1,
            ColourMode::Opponent { .. } => 3,
        }
    }

    /// `(weights [channels][3 input planes], bias [channels])` mapping the model's input
    /// encoding to this mode's channels, with intensities in [0, 1].
    pub fn linear_map(self, variant: Variant) -> (Vec<[f64; 3]>, Vec<f64>) {
        let mut weights = Vec::new();
        let mut bias = Vec::new();
        let (w, b) = rgb_combination(variant, [0.299, 0.587, 0.114], -0.5);
        weights.push(w);
        bias.push(b);
        if let ColourMode::Opponent { chroma_weight } = self {
            for (coeffs, offset) in [([1.0, -1.0, 0.0], 0.0), ([-0.5, -0.5, 1.0], 0.0)] {
                let (w, b) = rgb_combination(variant, coeffs.map(|c| c * chroma_weight), offset);
                weights.push(w);
                bias.push(b);
            }
        }
        (weights, bias)
    }
}

/// `(weights [3 input planes], bias)` of `coeffs · (R, G, B) + offset`, with R, G and B
/// intensities in [0, 1], as a linear map of the model's input encoding (undoing its
/// channel order and mean subtraction).
pub fn rgb_combination(variant: Variant, coeffs: [f64; 3], offset: f64) -> ([f64; 3], f64) {
    // Input plane p holds value = a_p · pixel(source_p) + b_p with pixel in 0..255.
    let spec = variant.preprocess().input;
    let zero = spec.encode_pixel([0, 0, 0]);
    let mut w = [0.0; 3];
    let mut b = offset;
    for (colour, px) in [[255u8, 0, 0], [0, 255, 0], [0, 0, 255]]
        .into_iter()
        .enumerate()
    {
        // Which plane carries this colour, and with what gain.
        let enc = spec.encode_pixel(px);
        let plane = (0..3)
            .max_by(|&a, &b| {
                (enc[a] - zero[a])
                    .abs()
                    .total_cmp(&(enc[b] - zero[b]).abs())
            })
            .expect("three planes");
        let gain = f64::from(enc[plane] - zero[plane]) / 255.0;
        // rgb_c = (x_plane − zero_plane) / (gain · 255) ∈ [0, 1].
        w[plane] += coeffs[colour] / (gain * 255.0);
        b += -coeffs[colour] * f64::from(zero[plane]) / (gain * 255.0);
    }
    (w, b)
}

/// Brightness as the network's first filters see it: the plain mean of R, G and B (their
/// luminance parts weight the three planes equally, unlike photometric luminance).
pub fn mean_rgb(variant: Variant) -> [f64; 3] {
    rgb_combination(variant, [1.0 / 3.0; 3], 0.0).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(mode: ColourMode, variant: Variant, rgb: [u8; 3]) -> Vec<f64> {
        let x = variant.preprocess().input.encode_pixel(rgb);
        let (w, b) = mode.linear_map(variant);
        w.iter()
            .zip(&b)
            .map(|(row, bias)| {
                row.iter()
                    .zip(&x)
                    .map(|(a, v)| a * f64::from(*v))
                    .sum::<f64>()
                    + bias
            })
            .collect()
    }

    #[test]
    fn both_encodings_give_the_same_channels() {
        let mode = ColourMode::Opponent { chroma_weight: 1.0 };
        for rgb in [[0, 0, 0], [255, 255, 255], [255, 0, 0], [10, 200, 90]] {
            let a = apply(mode, Variant::Lucid, rgb);
            let b = apply(mode, Variant::Bvlc, rgb);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-6, "{rgb:?}: {a:?} vs {b:?}");
            }
        }
        // White is +0.5 luminance and no chroma; pure red is positive red−green.
        let white = apply(mode, Variant::Bvlc, [255, 255, 255]);
        assert!((white[0] - 0.5).abs() < 1e-6 && white[1].abs() < 1e-6 && white[2].abs() < 1e-6);
        assert!(apply(mode, Variant::Bvlc, [255, 0, 0])[1] > 0.9);
    }
}
