//! Hand-written CPU kernels for the hot operations of the forward pass on burn's flex
//! backend, on contiguous NCHW `f32` buffers.
//!
//! burn-flex's generic convolution converts every input to NHWC, re-flattens the weights
//! and runs one small GEMM per 512-pixel tile on every call; its LRN would go through a
//! banded `C × C` matrix product (115 M multiply-adds per image for `conv2d2`'s 192
//! channels, where the window needs 6.6 M additions). Here:
//!
//! - convolutions are one GEMM per image (`gemm` crate, the same kernels burn-flex uses):
//!   `W[out, in·k·k] × im2col[in·k·k, H·W]` written straight into the NCHW output, with the
//!   bias preloaded into the destination; 1×1 stride-1 convolutions read the input in place;
//! - batches are split across rayon's threads image by image (a single image instead
//!   parallelises inside the GEMM);
//! - the LRN sums its channel window directly, and raises to `−β` with square roots for the
//!   two exponents the models use (0.5, 0.75);
//! - max-pools skip out-of-range window positions, which is both TF's −∞ padding and Caffe's
//!   ceil-rounded windows that hang over the edge, in one pass per plane.
//!
//! Each result equals the burn reference path up to float rounding (the oracle tests compare
//! every tap with Caffe and TensorFlow at 1e-4 of the tensor's range).

use std::cell::RefCell;
use std::mem::MaybeUninit;

use gemm::Parallelism;
use rayon::prelude::*;

use crate::arch::LrnParams;

/// `$name` runs `$body` compiled for AVX2 and FMA when the CPU has them (the default
/// target only assumes SSE2), else the portable build of the same code.
macro_rules! multiversion {
    ($vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) => $body:ident) => {
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features `avx2` was compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

/// Geometry of one 2-D convolution or pooling window over an NCHW batch.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub k: usize,
    pub stride: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Window {
    fn in_image(&self) -> usize {
        self.c * self.h * self.w
    }

    fn out_plane(&self) -> usize {
        self.oh * self.ow
    }

    fn pointwise(&self) -> bool {
        self.k == 1 && self.stride == 1 && self.pad_top == 0 && self.pad_left == 0
    }
}

thread_local! {
    /// Per-thread im2col scratch, reused across calls.
    static COLUMNS: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `[n, out, oh, ow]` = `bias + conv(x, weight)`, with `weight` `[out, c, k, k]` row-major.
pub(super) fn conv2d(
    x: &[f32],
    win: &Window,
    out_channels: usize,
    weight: &[f32],
    bias: &[f32],
) -> Vec<f32> {
    debug_assert_eq!(x.len(), win.n * win.in_image());
    debug_assert_eq!(weight.len(), out_channels * win.c * win.k * win.k);
    debug_assert_eq!(bias.len(), out_channels);
    let out_image = out_channels * win.out_plane();
    let total = win.n * out_image;
    // Not zeroed: every image's block is first filled with the bias.
    let mut out: Vec<f32> = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    let spare = &mut out.spare_capacity_mut()[..total];
    let threads = rayon::current_num_threads();
    if win.n >= threads || win.n >= 4 {
        spare
            .par_chunks_mut(out_image)
            .zip(x.par_chunks(win.in_image()))
            .for_each(|(o, xi)| {
                let o = fill_rows(o, bias);
                conv_image(xi, o, win, out_channels, weight, Parallelism::None)
            });
    } else {
        let par = if threads > 1 {
            Parallelism::Rayon(threads)
        } else {
            Parallelism::None
        };
        for (o, xi) in spare.chunks_mut(out_image).zip(x.chunks(win.in_image())) {
            let o = fill_rows(o, bias);
            conv_image(xi, o, win, out_channels, weight, par);
        }
    }
    // SAFETY: `fill_rows` initialised all `total` elements.
    unsafe { out.set_len(total) };
    out
}

/// Fill row `i` of `dst` (rows of equal length) with `values[i]`; the initialised slice.
fn fill_rows<'a>(dst: &'a mut [MaybeUninit<f32>], values: &[f32]) -> &'a mut [f32] {
    let row = dst.len() / values.len();
    for (r, v) in dst.chunks_mut(row).zip(values) {
        r.fill(MaybeUninit::new(*v));
    }
    // SAFETY: every element was written just above; `MaybeUninit<f32>` has the layout of
    // `f32`.
    unsafe { &mut *(dst as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// Output pixels per im2col tile: the tile's columns (`in·k·k × TILE`) stay in the
/// core's L2 cache between being written and being packed by the GEMM.
const TILE: usize = 1024;

fn conv_image(
    x: &[f32],
    out: &mut [f32],
    win: &Window,
    out_channels: usize,
    weight: &[f32],
    par: Parallelism,
) {
    // `out` holds the bias; the product is added to it.
    let plane = win.out_plane();
    let depth = win.c * win.k * win.k;
    // out[:, p0..p0+n] += weight × rhs, with rhs `[depth, n]` of row stride `rhs_rs`.
    let run = |rhs: &[f32], rhs_rs: usize, out: &mut [f32], p0: usize, n: usize| {
        debug_assert!(out.len() >= (out_channels - 1) * plane + p0 + n);
        debug_assert!(rhs.len() >= (depth - 1) * rhs_rs + n);
        // SAFETY: `out` is `[out_channels, plane]` and `weight` `[out_channels, depth]`,
        // row-major; `rhs` holds `depth` rows of `n` values `rhs_rs` apart (checked above).
        unsafe {
            gemm::gemm(
                out_channels,
                n,
                depth,
                out.as_mut_ptr().add(p0),
                1,
                plane as isize,
                true,
                weight.as_ptr(),
                1,
                depth as isize,
                rhs.as_ptr(),
                1,
                rhs_rs as isize,
                1.0f32,
                1.0f32,
                false,
                false,
                false,
                par,
            );
        }
    };
    if win.pointwise() {
        run(x, plane, out, 0, plane);
        return;
    }
    COLUMNS.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let Scratch { cols, phases } = &mut *scratch;
        let phased = split_phases(x, win, phases);
        // Whole output rows per tile.
        let rows_per_tile = (TILE / win.ow).max(1);
        for oy0 in (0..win.oh).step_by(rows_per_tile) {
            let oy1 = (oy0 + rows_per_tile).min(win.oh);
            let n = (oy1 - oy0) * win.ow;
            cols.resize(depth * n, 0.0);
            im2col(phased, cols, win, oy0, oy1);
            run(cols, n, out, oy0 * win.ow, n);
        }
    });
}

/// Per-thread scratch: im2col columns and the stride phases of an input image.
#[derive(Default)]
struct Scratch {
    cols: Vec<f32>,
    phases: Vec<f32>,
}

/// For a strided convolution, every input row split into its `stride` phases
/// (`row[p], row[p + s], row[p + 2s], …`, each padded to `ceil(w / s)`), so that im2col
/// copies contiguous runs; for stride 1 the input itself.
fn split_phases<'a>(x: &'a [f32], win: &Window, phases: &'a mut Vec<f32>) -> &'a [f32] {
    let s = win.stride;
    if s == 1 {
        return x;
    }
    let w = win.w;
    let pw = w.div_ceil(s);
    phases.resize(win.c * win.h * s * pw, 0.0);
    for (src, dst) in x.chunks_exact(w).zip(phases.chunks_exact_mut(s * pw)) {
        for (p, d) in dst.chunks_exact_mut(pw).enumerate() {
            for (j, v) in d.iter_mut().enumerate() {
                *v = src.get(p + j * s).copied().unwrap_or(0.0);
            }
        }
    }
    phases
}

/// Output rows `oy0..oy1` of the im2col matrix:
/// `cols[(c, kh, kw), (oy, ox)] = x[c, oy·s + kh − pt, ox·s + kw − pl]`, zero outside.
/// `x` is split into stride phases when the stride is above 1 (see [`split_phases`]).
/// Every element of `cols` (`in·k·k × (oy1 − oy0)·ow`) is written.
fn im2col(x: &[f32], cols: &mut [f32], win: &Window, oy0: usize, oy1: usize) {
    let (h, w, k, s) = (win.h, win.w, win.k, win.stride);
    let ow = win.ow;
    // Length of one (phase-split) input row.
    let (row_len, pw) = if s == 1 {
        (w, w)
    } else {
        (s * w.div_ceil(s), w.div_ceil(s))
    };
    let n = (oy1 - oy0) * ow;
    let mut rows = cols.chunks_exact_mut(n);
    for c in 0..win.c {
        let xc = &x[c * h * row_len..(c + 1) * h * row_len];
        for kh in 0..k {
            for kw in 0..k {
                let dst = rows.next().expect("im2col rows");
                // Output columns whose input column is inside the image.
                let (x0, x1) = valid_range(kw, win.pad_left, s, w, ow);
                for (oy, d) in (oy0..oy1).zip(dst.chunks_exact_mut(ow)) {
                    let iy = (oy * s + kh) as isize - win.pad_top as isize;
                    if iy < 0 || iy >= h as isize || x1 <= x0 {
                        d.fill(0.0);
                        continue;
                    }
                    let src = &xc[iy as usize * row_len..(iy as usize + 1) * row_len];
                    d[..x0].fill(0.0);
                    d[x1..].fill(0.0);
                    // Input column of output column x0, then every s-th: one phase's run.
                    let ix0 = x0 * s + kw - win.pad_left;
                    let (phase, start) = (ix0 % s, ix0 / s);
                    let run = &src[phase * pw + start..phase * pw + start + (x1 - x0)];
                    d[x0..x1].copy_from_slice(run);
                }
            }
        }
    }
}

/// Output positions `[o0, o1)` whose input `o·s + kernel_offset − pad` lies in `[0, size)`.
fn valid_range(
    kernel_offset: usize,
    pad: usize,
    stride: usize,
    size: usize,
    out: usize,
) -> (usize, usize) {
    let o0 = pad.saturating_sub(kernel_offset).div_ceil(stride);
    // o·s + off − pad ≤ size − 1  ⇔  o ≤ (size − 1 + pad − off) / s
    let o1 = if size + pad > kernel_offset {
        ((size - 1 + pad - kernel_offset) / stride + 1).min(out)
    } else {
        0
    };
    (o0.min(o1), o1)
}

/// Max over each window, ignoring positions outside the input: TF's −∞ padding and
/// Caffe's ceil-rounded last window are the same rule.
pub(super) fn max_pool(x: &[f32], win: &Window) -> Vec<f32> {
    let in_plane = win.h * win.w;
    let out_plane = win.out_plane();
    let mut out = vec![0.0f32; win.n * win.c * out_plane];
    if out.is_empty() {
        return out;
    }
    // Planes in parallel, in chunks large enough to amortise the scheduling.
    let per_task = (32768 / in_plane.max(1)).max(1);
    out.par_chunks_mut(out_plane * per_task)
        .zip(x.par_chunks(in_plane * per_task))
        .for_each(|(o, xi)| {
            let mut colmax = vec![0.0f32; win.w];
            for (op, ip) in o.chunks_mut(out_plane).zip(xi.chunks(in_plane)) {
                max_pool_plane(ip, op, &mut colmax, win);
            }
        });
    out
}

/// `f32::max` (NaN is ignored); unlike `if b > a { b } else { a }` it does not turn an
/// in-place update into a masked store, which is slow.
#[inline(always)]
fn max2(a: f32, b: f32) -> f32 {
    a.max(b)
}

multiversion!(fn max_pool_plane(x: &[f32], out: &mut [f32], colmax: &mut [f32], win: &Window) => max_pool_plane_body);

/// One plane: for each output row, the elementwise max of the window's input rows
/// (vectorised), then the max over each window's columns.
#[inline(always)]
fn max_pool_plane_body(x: &[f32], out: &mut [f32], colmax: &mut [f32], win: &Window) {
    let (h, w, k, s) = (win.h, win.w, win.k, win.stride);
    let ow = win.ow;
    for (oy, dst) in out.chunks_exact_mut(ow).enumerate() {
        let start = (oy * s) as isize - win.pad_top as isize;
        let lo = start.max(0) as usize;
        let hi = ((start + k as isize).min(h as isize)) as usize;
        colmax.copy_from_slice(&x[lo * w..(lo + 1) * w]);
        for y in lo + 1..hi {
            for (m, v) in colmax.iter_mut().zip(&x[y * w..(y + 1) * w]) {
                *m = max2(*m, *v);
            }
        }
        if k == 3 && s == 1 && win.pad_left == 1 && w >= 2 && ow == w {
            dst[0] = max2(colmax[0], colmax[1]);
            dst[w - 1] = max2(colmax[w - 2], colmax[w - 1]);
            for ((d, a), (b, c)) in dst[1..w - 1]
                .iter_mut()
                .zip(&colmax[..w - 2])
                .zip(colmax[1..w - 1].iter().zip(&colmax[2..]))
            {
                *d = max2(max2(*a, *b), *c);
            }
        } else {
            let window = |ox: usize| {
                let start = (ox * s) as isize - win.pad_left as isize;
                let lo = start.max(0) as usize;
                let hi = ((start + k as isize).min(w as isize)) as usize;
                colmax[lo + 1..hi]
                    .iter()
                    .fold(colmax[lo], |m, v| max2(m, *v))
            };
            // Windows entirely inside the row: no bounds to check.
            let first = win.pad_left.div_ceil(s).min(ow);
            let last = if w + win.pad_left >= k {
                ((w + win.pad_left - k) / s + 1).clamp(first, ow)
            } else {
                first
            };
            for (ox, d) in dst.iter_mut().enumerate().take(first) {
                *d = window(ox);
            }
            if k == 3 {
                for (ox, d) in dst.iter_mut().enumerate().take(last).skip(first) {
                    let i = ox * s - win.pad_left;
                    *d = max2(max2(colmax[i], colmax[i + 1]), colmax[i + 2]);
                }
            } else {
                for (ox, d) in dst.iter_mut().enumerate().take(last).skip(first) {
                    *d = window(ox);
                }
            }
            for (ox, d) in dst.iter_mut().enumerate().skip(last) {
                *d = window(ox);
            }
        }
    }
}

/// Pixels per LRN task: the squares of one strip of every channel stay in cache.
const LRN_STRIP: usize = 256;

/// Local response normalisation across channels:
/// `y_c = x_c · (bias + alpha · Σ_{|c'−c| ≤ radius} x_{c'}²)^(−beta)`.
pub(super) fn lrn(x: &[f32], n: usize, c: usize, plane: usize, params: LrnParams) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    if out.is_empty() {
        return out;
    }
    debug_assert_eq!(x.len(), n * c * plane);
    let strips = plane.div_ceil(LRN_STRIP);
    let out_ptr = SendPtr(out.as_mut_ptr());
    (0..n * strips).into_par_iter().for_each_init(
        || (vec![0.0f32; c * LRN_STRIP], vec![0.0f32; LRN_STRIP]),
        |(sq, energy), task| {
            let (i, strip) = (task / strips, task % strips);
            let s0 = strip * LRN_STRIP;
            let len = LRN_STRIP.min(plane - s0);
            let img = &x[i * c * plane..(i + 1) * c * plane];
            let strip = Strip {
                c,
                plane,
                s0,
                len,
                params,
            };
            // SAFETY: tasks write disjoint ranges (image i, pixels s0..s0+len of every
            // channel), inside `out`.
            let dst = SendPtr(unsafe { out_ptr.get().add(i * c * plane) });
            lrn_strip(img, dst, strip, sq, energy);
        },
    );
    out
}

/// One LRN task: pixels `s0..s0+len` of every one of the `c` channels of an image whose
/// planes hold `plane` pixels, normalised with `params`.
#[derive(Clone, Copy)]
struct Strip {
    c: usize,
    plane: usize,
    s0: usize,
    len: usize,
    params: LrnParams,
}

multiversion!(fn lrn_strip(
    img: &[f32],
    dst: SendPtr,
    strip: Strip,
    sq: &mut [f32],
    energy: &mut [f32],
) => lrn_strip_body);

/// Pixels `s0..s0+len` of every channel of one image.
#[inline(always)]
fn lrn_strip_body(img: &[f32], dst: SendPtr, strip: Strip, sq: &mut [f32], energy: &mut [f32]) {
    let Strip {
        c,
        plane,
        s0,
        len,
        params: p,
    } = strip;
    for ch in 0..c {
        let src = &img[ch * plane + s0..ch * plane + s0 + len];
        for (d, v) in sq[ch * len..(ch + 1) * len].iter_mut().zip(src) {
            *d = v * v;
        }
    }
    let energy = &mut energy[..len];
    for ch in 0..c {
        let lo = ch.saturating_sub(p.radius);
        let hi = (ch + p.radius + 1).min(c);
        energy.copy_from_slice(&sq[lo * len..(lo + 1) * len]);
        for j in lo + 1..hi {
            for (e, v) in energy.iter_mut().zip(&sq[j * len..(j + 1) * len]) {
                *e += v;
            }
        }
        let src = &img[ch * plane + s0..ch * plane + s0 + len];
        // SAFETY: the caller owns pixels s0..s0+len of every channel of `dst`.
        let out = unsafe { std::slice::from_raw_parts_mut(dst.get().add(ch * plane + s0), len) };
        scale_by_energy(out, src, energy, p.bias, p.alpha, p.beta);
    }
}

#[inline(always)]
fn scale_by_energy(dst: &mut [f32], x: &[f32], energy: &[f32], bias: f32, alpha: f32, beta: f32) {
    let it = dst.iter_mut().zip(x).zip(energy);
    if beta == 0.5 {
        for ((d, v), e) in it {
            *d = v / (bias + alpha * e).sqrt();
        }
    } else if beta == 0.75 {
        for ((d, v), e) in it {
            let r = (bias + alpha * e).sqrt();
            *d = v / (r * r.sqrt());
        }
    } else {
        for ((d, v), e) in it {
            *d = v * (bias + alpha * e).powf(-beta);
        }
    }
}

/// In-place ReLU that lets NaN through, as burn's does.
pub(super) fn relu_in_place(x: &mut [f32]) {
    x.par_chunks_mut(1 << 16).for_each(relu_chunk);
}

multiversion!(fn relu_chunk(x: &mut [f32]) => relu_chunk_body);

#[inline(always)]
fn relu_chunk_body(x: &mut [f32]) {
    for v in x {
        // Zero the bits of values ≤ 0 (NaN passes): an unconditional store, where
        // `if x <= 0.0 { *v = 0.0 }` would become a slow masked store.
        let x = *v;
        let keep = if x <= 0.0 { 0 } else { u32::MAX };
        *v = f32::from_bits(x.to_bits() & keep);
    }
}

#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: used only to hand disjoint output ranges to rayon tasks.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}
impl SendPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window of a `k × k` op with stride `s` over an `[n, c, h, w]` batch, leading
    /// padding `[top, left]` and output size `[oh, ow]`.
    fn window(
        [n, c, h, w]: [usize; 4],
        k: usize,
        s: usize,
        [pad_top, pad_left]: [usize; 2],
        [oh, ow]: [usize; 2],
    ) -> Window {
        Window {
            n,
            c,
            h,
            w,
            k,
            stride: s,
            pad_top,
            pad_left,
            oh,
            ow,
        }
    }

    /// Direct convolution with explicit bounds checks.
    fn naive_conv(x: &[f32], win: &Window, out_c: usize, wt: &[f32], bias: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; win.n * out_c * win.oh * win.ow];
        for n in 0..win.n {
            for o in 0..out_c {
                for oy in 0..win.oh {
                    for ox in 0..win.ow {
                        let mut acc = bias[o];
                        for c in 0..win.c {
                            for kh in 0..win.k {
                                for kw in 0..win.k {
                                    let iy = (oy * win.stride + kh) as isize - win.pad_top as isize;
                                    let ix =
                                        (ox * win.stride + kw) as isize - win.pad_left as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= win.h as isize
                                        || ix >= win.w as isize
                                    {
                                        continue;
                                    }
                                    acc += wt[((o * win.c + c) * win.k + kh) * win.k + kw]
                                        * x[((n * win.c + c) * win.h + iy as usize) * win.w
                                            + ix as usize];
                                }
                            }
                        }
                        out[((n * out_c + o) * win.oh + oy) * win.ow + ox] = acc;
                    }
                }
            }
        }
        out
    }

    fn pseudo(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn conv_matches_direct_computation_with_odd_padding_and_strides() {
        for (n, c, h, w, k, s, pt, pl, out_c) in [
            (
                2usize, 3usize, 9usize, 11usize, 7usize, 2usize, 2usize, 3usize, 5usize,
            ),
            (1, 4, 8, 8, 3, 1, 1, 1, 6),
            (3, 5, 7, 6, 5, 1, 2, 2, 4),
            (5, 6, 4, 5, 1, 1, 0, 0, 7),
            (1, 2, 6, 6, 3, 2, 0, 1, 3),
            // Several im2col tiles, stride phases.
            (1, 2, 70, 40, 3, 1, 1, 1, 3),
            (2, 3, 61, 75, 7, 2, 2, 3, 4),
            (1, 2, 50, 47, 5, 3, 1, 2, 2),
        ] {
            let oh = (h + 2 * pt).saturating_sub(k) / s + 1;
            let ow = (w + 2 * pl).saturating_sub(k) / s + 1;
            let win = window([n, c, h, w], k, s, [pt, pl], [oh, ow]);
            let x = pseudo(n * c * h * w, 1);
            let wt = pseudo(out_c * c * k * k, 2);
            let b = pseudo(out_c, 3);
            let got = conv2d(&x, &win, out_c, &wt, &b);
            let want = naive_conv(&x, &win, out_c, &wt, &b);
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() < 1e-4, "{g} vs {e} for {win:?}");
            }
        }
    }

    #[test]
    fn max_pool_ignores_positions_outside_the_input() {
        // 1×1×3×4, 3×3 stride 2, one pixel of padding at the end (TF SAME / Caffe ceil).
        let x = vec![1., -2., 3., -4., -5., 6., -7., 8., 9., -10., 11., -12.];
        let win = Window {
            n: 1,
            c: 1,
            h: 3,
            w: 4,
            k: 3,
            stride: 2,
            pad_top: 0,
            pad_left: 0,
            oh: 2,
            ow: 2,
        };
        assert_eq!(max_pool(&x, &win), vec![11., 11., 11., 11.]);
        let x: Vec<f32> = (0..12).map(|v| -(v as f32)).collect();
        assert_eq!(max_pool(&x, &win), vec![0., -2., -8., -10.]);
    }

    #[test]
    fn max_pool_matches_direct_computation() {
        for (n, c, h, w, k, s, pt, pl) in [
            (
                2usize, 3usize, 9usize, 11usize, 3usize, 2usize, 0usize, 0usize,
            ),
            (1, 2, 12, 12, 3, 2, 0, 0),
            (1, 2, 13, 10, 3, 2, 1, 1),
            (2, 2, 8, 9, 3, 1, 1, 1),
            (1, 1, 10, 10, 5, 3, 2, 1),
        ] {
            // Ceil rounding: windows may hang over the end.
            let oh = (h + pt).saturating_sub(k).div_ceil(s) + 1;
            let ow = (w + pl).saturating_sub(k).div_ceil(s) + 1;
            let win = window([n, c, h, w], k, s, [pt, pl], [oh, ow]);
            let x = pseudo(n * c * h * w, 5);
            let got = max_pool(&x, &win);
            for p in 0..n * c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut m = f32::NEG_INFINITY;
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * s + ky) as isize - pt as isize;
                                let ix = (ox * s + kx) as isize - pl as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    m = m.max(x[(p * h + iy as usize) * w + ix as usize]);
                                }
                            }
                        }
                        assert_eq!(got[(p * oh + oy) * ow + ox], m, "{win:?} at {p} {oy} {ox}");
                    }
                }
            }
        }
    }

    #[test]
    fn lrn_matches_the_formula() {
        let (n, c, plane) = (2, 7, 5);
        let x = pseudo(n * c * plane, 4);
        for (radius, bias, alpha, beta) in [
            (2usize, 1.0f32, 0.3f32, 0.75f32),
            (5, 2.0, 0.5, 0.5),
            (1, 1.5, 0.2, 0.6),
        ] {
            let params = LrnParams {
                radius,
                bias,
                alpha,
                beta,
            };
            let got = lrn(&x, n, c, plane, params);
            for i in 0..n {
                for ch in 0..c {
                    for p in 0..plane {
                        let e: f32 = (ch.saturating_sub(radius)..(ch + radius + 1).min(c))
                            .map(|j| x[(i * c + j) * plane + p].powi(2))
                            .sum();
                        let v = x[(i * c + ch) * plane + p];
                        let want = v * (bias + alpha * e).powf(-beta);
                        let g = got[(i * c + ch) * plane + p];
                        assert!(
                            (g - want).abs() <= 1e-6 * want.abs().max(1.0),
                            "{g} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
