//! The fitted upper bound: a linear readout of everything a circuit may read. For the
//! upstream circuit that is every channel of `inception_3a_output` in the unit's 3×3
//! neighbourhood (2,304 numbers and a bias per neuron), fitted by ridge regression to the
//! natural neuron on tune + dev images, followed by the same ReLU. A hand-written circuit
//! that reaches it has used what its inputs allow linearly; one that beats it has found
//! some of the block's nonlinearity.

use std::collections::HashMap;

use burn::tensor::module::{avg_pool2d, conv2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, PadMode};
use burn::tensor::{Device, Tensor, TensorData};

use aann_circuits::accounting::DataDerived;
use aann_circuits::{Accounting, Circuit, Periodicity, RotationGroup};
use aann_data::ImageSet;
use aann_model::{Tap, Variant};

use super::{channel_index, host_values};
use crate::EvalError;
use crate::lab::Feed;
use crate::means::describe_set;

/// Positions of each image used for the fit: every `STRIDE`-th row and column.
const STRIDE: usize = 3;

/// Where a readout looks: the tap average-pooled over `pool × pool` units every
/// `pool_stride` units (blocks), then a `size × size` window of every `dilation`-th block
/// whose centre follows the target unit (`stride` blocks per target unit, the window starting
/// `pad_lo` blocks before `stride · i`; zeros beyond the border).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub pool: usize,
    pub pool_stride: usize,
    pub size: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad_lo: usize,
}

impl Window {
    /// The 3×3 neighbourhood on the target's own grid (`inception_3a` → `inception_3b`).
    pub const NEIGHBOURHOOD: Window = Window {
        pool: 1,
        pool_stride: 1,
        size: 3,
        stride: 1,
        dilation: 1,
        pad_lo: 1,
    };

    /// A window of about `pixels` input pixels around each unit of `target` on `tap`,
    /// average-pooled in blocks `block` pixels wide: the readout a circuit from pixels is
    /// measured against (`tap` the image itself, or a layer below the circuit's first).
    /// Blocks wider than the target's step overlap (one block per target unit) and the
    /// window takes every block it needs to tile its width without overlap.
    pub fn over(
        variant: Variant,
        tap: Tap,
        target: Tap,
        block: usize,
        pixels: usize,
    ) -> Result<Window, String> {
        let [_, from] = aann_model::geometry::tap_geometry(variant, tap, 224, 224);
        let [_, to] = aann_model::geometry::tap_geometry(variant, target, 224, 224);
        let (unit, step_to) = (from.jump as usize, to.jump as usize);
        let name = tap.name(variant);
        let target_name = target.name(variant);
        if unit == 0 || step_to < unit || !step_to.is_multiple_of(unit) {
            return Err(format!(
                "{name} ({unit} px per unit) is coarser than {target_name} ({step_to} px per unit): a readout over a window reads a layer below the target"
            ));
        }
        let step = block.min(step_to);
        if block == 0
            || !block.is_multiple_of(unit)
            || !step_to.is_multiple_of(step)
            || !block.is_multiple_of(step)
        {
            return Err(format!(
                "a block of {block} px on {name}: expected a whole number of its {unit}-px units that divides {target_name}'s {step_to}-px step or is a multiple of it"
            ));
        }
        if pixels < block {
            return Err(format!(
                "a window of {pixels} px is narrower than one {block}-px block"
            ));
        }
        let (pool, pool_stride) = (block / unit, step / unit);
        let size = (pixels / block) | 1;
        let dilation = block / step;
        // Block k covers units [pool_stride·k, pool_stride·k + pool): centre
        // first + unit·(pool_stride·k + (pool − 1)/2). Put the window's centre on the
        // block nearest the target unit's centre.
        let first_block = from.first_centre + from.jump * (pool as f64 - 1.0) / 2.0;
        let offset =
            ((to.first_centre - first_block) / (from.jump * pool_stride as f64)).round() as isize;
        Ok(Window {
            pool,
            pool_stride,
            size,
            stride: step_to / step,
            dilation,
            pad_lo: ((dilation * (size / 2)) as isize - offset).max(0) as usize,
        })
    }

    /// The window's width in blocks' units of the pooled tap, first to last tap inclusive.
    fn extent(&self) -> usize {
        self.dilation * (self.size - 1) + 1
    }

    /// Padding after the input so that `target` outputs come out of `input` pooled units.
    fn pad_hi(&self, input: usize, target: usize) -> usize {
        ((target - 1) * self.stride + self.extent()).saturating_sub(input + self.pad_lo)
    }

    /// In words, for the card: `7×7 blocks of 16×16 pixels, about 112 px`.
    pub fn describe(&self, block_pixels: usize) -> String {
        format!(
            "{}×{} blocks of {}×{} pixels, about {} px",
            self.size,
            self.size,
            block_pixels,
            block_pixels,
            self.size * block_pixels
        )
    }
}

/// A linear readout of one tap per neuron over a window (pre-activation; the replacement
/// applies the ReLU).
pub struct LinearReadout {
    tap: Tap,
    variant: Variant,
    window: Window,
    weight: Tensor<4>,
    bias: Tensor<1>,
    /// The target's grid (rows, columns) at the fitting input size.
    target_size: [usize; 2],
    /// R² of each neuron's fit on the fitting positions (before the ReLU).
    pub fit_r2: Vec<f64>,
    split: String,
    count: usize,
}

impl Circuit for LinearReadout {
    fn name(&self) -> String {
        let w = &self.window;
        if w.pool > 1 || w.dilation > 1 {
            format!(
                "readout-of-{}-{}x{}-pooled-{}",
                self.tap.name(self.variant),
                w.size,
                w.size,
                w.pool
            )
        } else {
            format!(
                "readout-of-{}-{}x{}",
                self.tap.name(self.variant),
                w.size,
                w.size
            )
        }
    }

    fn group(&self) -> RotationGroup {
        RotationGroup::new(self.fit_r2.len(), Periodicity::Radial)
    }

    fn reads(&self) -> Vec<Tap> {
        vec![self.tap]
    }

    fn units(&self, taps: &HashMap<Tap, Tensor<4>>) -> Tensor<4> {
        let w = &self.window;
        let x = pooled(taps[&self.tap].clone(), w);
        let [_, _, h, wd] = x.dims();
        let x = x.pad(
            (
                w.pad_lo,
                w.pad_hi(wd, self.target_size[1]),
                w.pad_lo,
                w.pad_hi(h, self.target_size[0]),
            ),
            PadMode::Constant(0.0),
        );
        conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            ConvOptions::new([w.stride, w.stride], [0, 0], [w.dilation, w.dilation], 1),
        )
    }

    fn accounting(&self) -> Accounting {
        let mut a = Accounting::new(self.name());
        a.data_derived.push(DataDerived {
            name: "readout weights and biases (ridge regression)".into(),
            count: self.count,
            kind: "fitted".into(),
            split: self.split.clone(),
            values: Vec::new(),
        });
        a
    }
}

/// `x` average-pooled into the window's blocks (unchanged for blocks of one unit).
fn pooled(x: Tensor<4>, w: &Window) -> Tensor<4> {
    if w.pool > 1 || w.pool_stride > 1 {
        avg_pool2d(
            x,
            AvgPoolOptions::new([w.pool, w.pool]).with_stride([w.pool_stride, w.pool_stride]),
        )
    } else {
        x
    }
}

/// The fit's features of one target position: every channel's window (zeros beyond the
/// border) in the order of the readout's weights, then a 1 for the bias. `x` holds
/// `channels × rows × cols` pooled values of one image.
fn window_features(
    x: &[f32],
    [channels, rows, cols]: [usize; 3],
    window: &Window,
    (i, j): (usize, usize),
    out: &mut [f32],
) {
    let size = window.size;
    let per_channel = size * size;
    let (i0, j0) = (
        (i * window.stride) as isize - window.pad_lo as isize,
        (j * window.stride) as isize - window.pad_lo as isize,
    );
    let step = window.dilation as isize;
    for ch in 0..channels {
        for di in 0..size {
            for dj in 0..size {
                let (ii, jj) = (i0 + di as isize * step, j0 + dj as isize * step);
                out[ch * per_channel + di * size + dj] =
                    if ii >= 0 && jj >= 0 && (ii as usize) < rows && (jj as usize) < cols {
                        x[(ch * rows + ii as usize) * cols + jj as usize]
                    } else {
                        0.0
                    };
            }
        }
    }
    out[channels * per_channel] = 1.0;
}

/// The sums a least-squares fit of `k` targets on `d` features needs: `X'X`, `X'Y`, and
/// each target's sum and sum of squares, over `rows` rows.
struct NormalEquations {
    d: usize,
    k: usize,
    xtx: Vec<f64>,
    xty: Vec<f64>,
    sy: Vec<f64>,
    syy: Vec<f64>,
    rows: usize,
}

impl NormalEquations {
    fn new(d: usize, k: usize) -> NormalEquations {
        NormalEquations {
            d,
            k,
            xtx: vec![0f64; d * d],
            xty: vec![0f64; d * k],
            sy: vec![0f64; k],
            syy: vec![0f64; k],
            rows: 0,
        }
    }

    /// Add `rows` rows of features `f` (`rows × d`) and targets `t` (`rows × k`); the
    /// products are taken on `device`.
    fn add(
        &mut self,
        f: Vec<f32>,
        t: Vec<f32>,
        rows: usize,
        device: &Device,
    ) -> Result<(), EvalError> {
        let (d, k) = (self.d, self.k);
        let fm = Tensor::<2>::from_data(TensorData::new(f, [rows, d]), device);
        let tm = Tensor::<2>::from_data(TensorData::new(t.clone(), [rows, k]), device);
        let g = host_values(fm.clone().transpose().matmul(fm.clone()))?;
        let b = host_values(fm.transpose().matmul(tm))?;
        for (acc, v) in self.xtx.iter_mut().zip(g) {
            *acc += f64::from(v);
        }
        for (acc, v) in self.xty.iter_mut().zip(b) {
            *acc += f64::from(v);
        }
        for row in 0..rows {
            for u in 0..k {
                let v = f64::from(t[row * k + u]);
                self.sy[u] += v;
                self.syy[u] += v * v;
            }
        }
        self.rows += rows;
        Ok(())
    }

    /// The ridge solution (`d × k`, row-major), with ridge `lambda` on every weight (not
    /// the bias, the last feature) relative to the mean diagonal.
    fn solve(&self, lambda: f64) -> Result<Vec<f64>, EvalError> {
        let d = self.d;
        let mean_diag = (0..d - 1).map(|i| self.xtx[i * d + i]).sum::<f64>() / (d - 1) as f64;
        let mut a = self.xtx.clone();
        for i in 0..d - 1 {
            a[i * d + i] += lambda * mean_diag;
        }
        cholesky_solve(&mut a, d, &self.xty, self.k).ok_or_else(|| {
            EvalError::Results("the readout's normal equations are not positive definite".into())
        })
    }

    /// R² of each target on the fitting rows: SSE = y'y − 2 w'X'y + w'X'Xw.
    fn fit_r2(&self, wts: &[f64]) -> Vec<f64> {
        let (d, k) = (self.d, self.k);
        let n = self.rows as f64;
        (0..k)
            .map(|u| {
                let w: Vec<f64> = (0..d).map(|i| wts[i * k + u]).collect();
                let wxy: f64 = (0..d).map(|i| w[i] * self.xty[i * k + u]).sum();
                let wxxw: f64 = (0..d)
                    .map(|i| w[i] * (0..d).map(|j| self.xtx[i * d + j] * w[j]).sum::<f64>())
                    .sum();
                let sse = self.syy[u] - 2.0 * wxy + wxxw;
                let sst = self.syy[u] - self.sy[u] * self.sy[u] / n;
                if sst > 0.0 { 1.0 - sse / sst } else { 0.0 }
            })
            .collect()
    }
}

/// The fitting rows of a batch: the window features (and the constant 1) of the pooled
/// tap `x` (`n × c × xh × xw`) at every `STRIDE`-th target position, and the `k`
/// targets of `y` (`n × k × h × w`) there. Returns features, targets and the row count.
fn fitting_rows(
    x: &[f32],
    [n, c, xh, xw]: [usize; 4],
    y: &[f32],
    [k, h, w]: [usize; 3],
    window: &Window,
) -> (Vec<f32>, Vec<f32>, usize) {
    let d = c * window.size * window.size + 1;
    let positions: Vec<(usize, usize)> = (STRIDE / 2..h)
        .step_by(STRIDE)
        .flat_map(|i| (STRIDE / 2..w).step_by(STRIDE).map(move |j| (i, j)))
        .collect();
    let rows = n * positions.len();
    let mut f = vec![0f32; rows * d];
    let mut t = vec![0f32; rows * k];
    for img in 0..n {
        for (p, &(i, j)) in positions.iter().enumerate() {
            let row = img * positions.len() + p;
            window_features(
                &x[img * c * xh * xw..(img + 1) * c * xh * xw],
                [c, xh, xw],
                window,
                (i, j),
                &mut f[row * d..(row + 1) * d],
            );
            for u in 0..k {
                t[row * k + u] = y[((img * k + u) * h + i) * w + j];
            }
        }
    }
    (f, t, rows)
}

/// Fit the readout of `target`'s `channels` from `tap` over `window` on `sets`, with ridge
/// `lambda` (relative to the mean diagonal of the normal equations).
pub fn fit_readout(
    feed: &Feed<'_>,
    sets: &[&ImageSet],
    tap: Tap,
    window: Window,
    target: Tap,
    channels: &[usize],
    lambda: f64,
) -> Result<LinearReadout, EvalError> {
    let session = feed.session;
    let variant = session.variant();
    let c = tap.channels(variant);
    let k = channels.len();
    let taps_per_channel = window.size * window.size;
    let d = c * taps_per_channel + 1;
    let mut target_size = [0usize; 2];
    let device = session.model().device().clone();
    let mut sums = NormalEquations::new(d, k);
    let index = channel_index(channels, &device);
    for set in sets {
        feed.recorded(set, &[tap, target], |_, taps| {
            let x = pooled(taps[&tap].clone(), &window);
            let y = taps[&target].clone().select(1, index.clone());
            let [n, _, xh, xw] = x.dims();
            let [_, _, h, w] = y.dims();
            if (h - 1) * window.stride >= xh + window.pad_lo
                || (w - 1) * window.stride >= xw + window.pad_lo
            {
                return Err(EvalError::Spec(format!(
                    "a readout of {} (pooled {}×) with stride {} does not cover the {h}×{w} grid of {}",
                    tap.name(variant),
                    window.pool,
                    window.stride,
                    target.name(variant)
                )));
            }
            target_size = [h, w];
            let (xv, yv) = (host_values(x)?, host_values(y)?);
            let (f, t, rows) = fitting_rows(&xv, [n, c, xh, xw], &yv, [k, h, w], &window);
            sums.add(f, t, rows, &device)
        })?;
    }
    if sums.rows == 0 {
        return Err(EvalError::Results(
            "no image could be used to fit the readout".into(),
        ));
    }
    let wts = sums.solve(lambda)?;
    let fit_r2 = sums.fit_r2(&wts);
    let mut weight = vec![0f32; k * (d - 1)];
    let mut bias = vec![0f32; k];
    for u in 0..k {
        for i in 0..d - 1 {
            weight[u * (d - 1) + i] = wts[i * k + u] as f32;
        }
        bias[u] = wts[(d - 1) * k + u] as f32;
    }
    let split = sets
        .iter()
        .map(|s| describe_set(s))
        .collect::<Vec<_>>()
        .join(" + ");
    Ok(LinearReadout {
        tap,
        variant,
        window,
        target_size,
        weight: Tensor::from_data(
            TensorData::new(weight, [k, c, window.size, window.size]),
            &device,
        ),
        bias: Tensor::from_data(TensorData::new(bias, [k]), &device),
        fit_r2,
        split,
        count: k * d,
    })
}

/// Solve `A X = B` for symmetric positive definite `A` (`n × n`, overwritten by its
/// Cholesky factor) and `B` (`n × m`, row-major); `None` when `A` is not positive definite.
fn cholesky_solve(a: &mut [f64], n: usize, b: &[f64], m: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut s = a[j * n + j];
        for p in 0..j {
            s -= a[j * n + p] * a[j * n + p];
        }
        if s <= 0.0 {
            return None;
        }
        let l = s.sqrt();
        a[j * n + j] = l;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for p in 0..j {
                s -= a[i * n + p] * a[j * n + p];
            }
            a[i * n + j] = s / l;
        }
    }
    let mut x = b.to_vec();
    for col in 0..m {
        for i in 0..n {
            let mut s = x[i * m + col];
            for p in 0..i {
                s -= a[i * n + p] * x[p * m + col];
            }
            x[i * m + col] = s / a[i * n + i];
        }
        for i in (0..n).rev() {
            let mut s = x[i * m + col];
            for p in i + 1..n {
                s -= a[p * n + i] * x[p * m + col];
            }
            x[i * m + col] = s / a[i * n + i];
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixel_window_sits_on_the_unit_and_the_readout_reads_it() {
        // BVLC inception_3b at 224: units 8 px apart, the first centred at 6.5 px. Pooled by
        // 4 (56 blocks), a 25-block window (100 px), 2 blocks per unit, centred on block
        // 2i + 1 (pixels 8i + 4 … 8i + 8).
        let target = Tap::mixed(aann_model::Block::B3b);
        let w = Window::over(Variant::Bvlc, Tap::INPUT, target, 4, 100).unwrap();
        assert_eq!(
            w,
            Window {
                pool: 4,
                pool_stride: 4,
                size: 25,
                stride: 2,
                dilation: 1,
                pad_lo: 11
            }
        );
        assert_eq!(w.pad_hi(56, 28), 12);
        // units() is the fit's features times the weights: one weight on the window's
        // centre reads pooled block (2i + 1, 2j + 1) for unit (i, j).
        let device = burn::tensor::Device::default();
        let mut weight = vec![0f32; 3 * 25 * 25];
        weight[25 * 12 + 12] = 1.0; // channel 0, the centre tap
        let readout = LinearReadout {
            tap: Tap::INPUT,
            variant: Variant::Bvlc,
            window: w,
            target_size: [28, 28],
            weight: Tensor::from_data(TensorData::new(weight, [1, 3, 25, 25]), &device),
            bias: Tensor::from_data(TensorData::new(vec![0f32], [1]), &device),
            fit_r2: vec![0.0],
            split: String::new(),
            count: 0,
        };
        let pixels: Vec<f32> = (0..3 * 224 * 224).map(|i| (i % 997) as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(pixels.clone(), [1, 3, 224, 224]), &device);
        let units = readout.units(&HashMap::from([(Tap::INPUT, x)]));
        assert_eq!(units.dims(), [1, 1, 28, 28]);
        let got = units.into_data().try_to_vec::<f32>().unwrap();
        for (i, j) in [(0, 0), (5, 9), (27, 27)] {
            let (bi, bj) = (2 * i + 1, 2 * j + 1);
            let block: f32 = (0..4)
                .flat_map(|y| (0..4).map(move |x| (4 * bi + y, 4 * bj + x)))
                .map(|(y, x)| pixels[y * 224 + x])
                .sum::<f32>()
                / 16.0;
            assert!((got[i * 28 + j] - block).abs() < 1e-3, "unit ({i}, {j})");
        }
    }

    #[test]
    fn a_window_of_the_first_filters_reads_overlapping_blocks_the_fit_and_the_units_agree() {
        // BVLC conv1_7x7_s2 at 224: 112 units 2 px apart, the first centred at 0.5 px.
        // Blocks of 16 px (8 units) every 8 px (4 units): 27 blocks, block k centred at
        // 7.5 + 8k px, next to inception_3b's unit k (6.5 + 8k px). The window takes every
        // second block (they tile 112 px without overlap), 7 of them, centred on block i.
        let target = Tap::mixed(aann_model::Block::B3b);
        let conv0 = Tap::output(aann_model::Layer::Conv0);
        let w = Window::over(Variant::Bvlc, conv0, target, 16, 100).unwrap();
        assert_eq!(
            w,
            Window {
                pool: 8,
                pool_stride: 4,
                size: 7,
                stride: 1,
                dilation: 2,
                pad_lo: 6
            }
        );
        assert_eq!(w.describe(16), "7×7 blocks of 16×16 pixels, about 112 px");
        assert_eq!(w.pad_hi(27, 28), 7);
        // Blocks that neither divide the target's 8-px step nor are a multiple of it, and
        // a layer coarser than the target, are refused with the reason.
        let err = Window::over(Variant::Bvlc, conv0, target, 12, 100).unwrap_err();
        assert!(err.contains("12 px") && err.contains("8-px step"), "{err}");
        let err = Window::over(
            Variant::Bvlc,
            Tap::mixed(aann_model::Block::B4a),
            target,
            16,
            100,
        )
        .unwrap_err();
        assert!(err.contains("coarser than inception_3b_output"), "{err}");

        // units() (pool, pad, dilated convolution) equals the fit's features times the
        // weights, position by position, borders included.
        let device = burn::tensor::Device::default();
        let (c, k) = (2, 3);
        let per_unit = c * 49;
        let weight: Vec<f32> = (0..k * per_unit)
            .map(|i| ((i * 7919) % 23) as f32 / 23.0 - 0.5)
            .collect();
        let bias = vec![0.25f32, -0.5, 1.0];
        let readout = LinearReadout {
            tap: conv0,
            variant: Variant::Bvlc,
            window: w,
            target_size: [28, 28],
            weight: Tensor::from_data(TensorData::new(weight.clone(), [k, c, 7, 7]), &device),
            bias: Tensor::from_data(TensorData::new(bias.clone(), [k]), &device),
            fit_r2: vec![0.0; k],
            split: String::new(),
            count: 0,
        };
        let values: Vec<f32> = (0..c * 112 * 112)
            .map(|i| ((i * 31) % 101) as f32)
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(values, [1, c, 112, 112]), &device);
        let units = readout.units(&HashMap::from([(conv0, x.clone())]));
        assert_eq!(units.dims(), [1, k, 28, 28]);
        let got = units.into_data().try_to_vec::<f32>().unwrap();
        let blocks = pooled(x, &w);
        assert_eq!(blocks.dims(), [1, c, 27, 27]);
        let blocks = blocks.into_data().try_to_vec::<f32>().unwrap();
        let mut f = vec![0f32; per_unit + 1];
        for (i, j) in [(0, 0), (3, 20), (13, 14), (27, 27), (27, 0)] {
            window_features(&blocks, [c, 27, 27], &w, (i, j), &mut f);
            for u in 0..k {
                let want: f32 = (0..per_unit)
                    .map(|p| f[p] * weight[u * per_unit + p])
                    .sum::<f32>()
                    + bias[u] * f[per_unit];
                let have = got[(u * 28 + i) * 28 + j];
                assert!(
                    (have - want).abs() < 1e-3 * want.abs().max(1.0),
                    "unit {u} at ({i}, {j}): {have} vs {want}"
                );
            }
        }
        // The centre tap of unit (13, 14) is block (13, 14); the corner tap block (7, 8).
        window_features(&blocks, [c, 27, 27], &w, (13, 14), &mut f);
        assert_eq!(f[24], blocks[13 * 27 + 14]);
        assert_eq!(f[0], blocks[7 * 27 + 8]);
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        // A = [[4, 2], [2, 3]], B = [[2], [1]] → X = [[0.5], [0]].
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&mut a, 2, &[2.0, 1.0], 1).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert!(cholesky_solve(&mut singular, 2, &[1.0, 1.0], 1).is_none());
    }
}
