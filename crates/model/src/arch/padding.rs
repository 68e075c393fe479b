//! Padding and output sizes of window ops (convolutions and pools) in each padding scheme.

use super::{PaddingScheme, Variant};

/// Padding `(begin, end)` of one spatial dimension for a window of size `kernel` and
/// `stride` over `input` pixels, and whether the output size is rounded up (Caffe pooling).
pub fn window_padding(
    scheme: PaddingScheme,
    input: usize,
    kernel: usize,
    stride: usize,
    caffe_pad: usize,
) -> (usize, usize) {
    match scheme {
        PaddingScheme::TfSame => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + kernel).saturating_sub(input);
            (total / 2, total - total / 2)
        }
        PaddingScheme::CaffeCeil => (caffe_pad, caffe_pad),
    }
}

/// Output size of a window op in a scheme (Caffe max-pools round up, convolutions down).
pub fn window_output(
    scheme: PaddingScheme,
    input: usize,
    kernel: usize,
    stride: usize,
    caffe_pad: usize,
    ceil: bool,
) -> usize {
    match scheme {
        PaddingScheme::TfSame => input.div_ceil(stride),
        PaddingScheme::CaffeCeil => {
            let span = input + 2 * caffe_pad - kernel;
            let mut out = if ceil {
                span.div_ceil(stride) + 1
            } else {
                span / stride + 1
            };
            // Caffe drops a last window that would start inside the padding only.
            if ceil && caffe_pad > 0 && (out - 1) * stride >= input + caffe_pad {
                out -= 1;
            }
            out
        }
    }
}

/// Padding `[(top, bottom), (left, right)]` of a `kernel × kernel` convolution with
/// `stride` over an `h × w` input, as the variant pads its own convolutions (TF "SAME", or
/// Caffe's symmetric `(kernel − 1) / 2`). Circuits use it to mirror the network's grids.
pub fn conv_padding(
    variant: Variant,
    h: usize,
    w: usize,
    kernel: usize,
    stride: usize,
) -> [(usize, usize); 2] {
    let s = variant.padding();
    [
        window_padding(s, h, kernel, stride, (kernel - 1) / 2),
        window_padding(s, w, kernel, stride, (kernel - 1) / 2),
    ]
}

/// Padding and rounding of the 3×3 stride-2 max-pool between stages over an `h × w` input:
/// TF pads with −∞ ("SAME"), Caffe pads nothing and rounds the output size up.
pub fn stage_pool_padding(variant: Variant, h: usize, w: usize) -> ([(usize, usize); 2], bool) {
    match variant.padding() {
        PaddingScheme::TfSame => (
            [
                window_padding(PaddingScheme::TfSame, h, 3, 2, 0),
                window_padding(PaddingScheme::TfSame, w, 3, 2, 0),
            ],
            false,
        ),
        PaddingScheme::CaffeCeil => ([(0, 0), (0, 0)], true),
    }
}
