//! The fitted upper bound: a linear readout of everything a circuit may read. For the
//! upstream circuit that is every channel of `inception_3a_output` in the unit's 3×3
//! neighbourhood (2,304 numbers and a bias per neuron), fitted by ridge regression to the
//! natural neuron on tune + dev images, followed by the same ReLU. A hand-written circuit
//! that reaches it has used what its inputs allow linearly; one that beats it has found
//! some of the block's nonlinearity.

use std::collections::HashMap;

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Int, Tensor, TensorData};

use aann_circuits::accounting::DataDerived;
use aann_circuits::{Accounting, Circuit, Periodicity, RotationGroup};
use aann_data::{ImageSet, Preprocess};
use aann_model::{Tap, Variant};

use super::{Session, host_values};
use crate::EvalError;
use crate::circuits::for_each_recorded_batch;
use crate::means::describe_set;

/// Positions of each image used for the fit: every `STRIDE`-th row and column.
const STRIDE: usize = 3;

/// A 3×3 linear readout of one tap per neuron (pre-activation; the replacement applies the
/// ReLU).
pub struct LinearReadout {
    tap: Tap,
    variant: Variant,
    weight: Tensor<4>,
    bias: Tensor<1>,
    /// R² of each neuron's fit on the fitting positions (before the ReLU).
    pub fit_r2: Vec<f64>,
    split: String,
    count: usize,
}

impl Circuit for LinearReadout {
    fn name(&self) -> String {
        format!("readout-of-{}-3x3", self.tap.name(self.variant))
    }

    fn group(&self) -> RotationGroup {
        RotationGroup::new(self.fit_r2.len(), Periodicity::Radial)
    }

    fn reads(&self) -> Vec<Tap> {
        vec![self.tap]
    }

    fn units(&self, taps: &HashMap<Tap, Tensor<4>>) -> Tensor<4> {
        conv2d(
            taps[&self.tap].clone(),
            self.weight.clone(),
            Some(self.bias.clone()),
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
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

/// Fit the readout of `target`'s `channels` from `tap` (same grid) on `sets`, with ridge
/// `lambda` (relative to the mean diagonal of the normal equations).
#[allow(clippy::too_many_arguments)]
pub fn fit_readout(
    session: &Session,
    sets: &[&ImageSet],
    preprocess: &Preprocess,
    tap: Tap,
    target: Tap,
    channels: &[usize],
    lambda: f64,
    batch: usize,
) -> Result<LinearReadout, EvalError> {
    let variant = session.variant();
    let c = tap.channels(variant);
    let k = channels.len();
    let d = c * 9 + 1;
    let device = session.model().device().clone();
    let mut xtx = vec![0f64; d * d];
    let mut xty = vec![0f64; d * k];
    let (mut sy, mut syy) = (vec![0f64; k], vec![0f64; k]);
    let mut rows_total = 0usize;
    let index: Vec<i64> = channels.iter().map(|c| *c as i64).collect();
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [k]), &device);
    for set in sets {
        for_each_recorded_batch(
            session.model(),
            set,
            preprocess,
            &[tap, target],
            batch,
            |_, taps| {
                let x = taps[&tap].clone();
                let y = taps[&target].clone().select(1, index.clone());
                let [n, _, h, w] = x.dims();
                if y.dims()[2..] != [h, w] {
                    return Err(EvalError::Spec(format!(
                        "a readout needs {} on the grid of {}",
                        tap.name(variant),
                        target.name(variant)
                    )));
                }
                let xv = host_values(x)?;
                let yv = host_values(y)?;
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
                        let fr = &mut f[row * d..(row + 1) * d];
                        for ch in 0..c {
                            for di in 0..3 {
                                for dj in 0..3 {
                                    let (ii, jj) = (i as isize + di - 1, j as isize + dj - 1);
                                    if ii >= 0 && jj >= 0 && (ii as usize) < h && (jj as usize) < w
                                    {
                                        fr[ch * 9 + (di * 3 + dj) as usize] = xv
                                            [((img * c + ch) * h + ii as usize) * w + jj as usize];
                                    }
                                }
                            }
                        }
                        fr[d - 1] = 1.0;
                        for u in 0..k {
                            t[row * k + u] = yv[((img * k + u) * h + i) * w + j];
                        }
                    }
                }
                let fm = Tensor::<2>::from_data(TensorData::new(f, [rows, d]), &device);
                let tm = Tensor::<2>::from_data(TensorData::new(t.clone(), [rows, k]), &device);
                let g = host_values(fm.clone().transpose().matmul(fm.clone()))?;
                let b = host_values(fm.transpose().matmul(tm))?;
                for (acc, v) in xtx.iter_mut().zip(g) {
                    *acc += f64::from(v);
                }
                for (acc, v) in xty.iter_mut().zip(b) {
                    *acc += f64::from(v);
                }
                for row in 0..rows {
                    for u in 0..k {
                        let v = f64::from(t[row * k + u]);
                        sy[u] += v;
                        syy[u] += v * v;
                    }
                }
                rows_total += rows;
                Ok(())
            },
        )?;
    }
    if rows_total == 0 {
        return Err(EvalError::Results(
            "no image could be used to fit the readout".into(),
        ));
    }
    // Ridge on every weight (not the bias), relative to the mean diagonal.
    let mean_diag = (0..d - 1).map(|i| xtx[i * d + i]).sum::<f64>() / (d - 1) as f64;
    let mut a = xtx.clone();
    for i in 0..d - 1 {
        a[i * d + i] += lambda * mean_diag;
    }
    let wts = cholesky_solve(&mut a, d, &xty, k).ok_or_else(|| {
        EvalError::Results("the readout's normal equations are not positive definite".into())
    })?;
    // R² on the fitting rows: SSE = y'y − 2 w'X'y + w'X'Xw.
    let n = rows_total as f64;
    let fit_r2 = (0..k)
        .map(|u| {
            let w: Vec<f64> = (0..d).map(|i| wts[i * k + u]).collect();
            let wxy: f64 = (0..d).map(|i| w[i] * xty[i * k + u]).sum();
            let wxxw: f64 = (0..d)
                .map(|i| w[i] * (0..d).map(|j| xtx[i * d + j] * w[j]).sum::<f64>())
                .sum();
            let sse = syy[u] - 2.0 * wxy + wxxw;
            let sst = syy[u] - sy[u] * sy[u] / n;
            if sst > 0.0 { 1.0 - sse / sst } else { 0.0 }
        })
        .collect();
    let mut weight = vec![0f32; k * c * 9];
    let mut bias = vec![0f32; k];
    for u in 0..k {
        for i in 0..d - 1 {
            weight[u * c * 9 + i] = wts[i * k + u] as f32;
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
        weight: Tensor::from_data(TensorData::new(weight, [k, c, 3, 3]), &device),
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
    fn cholesky_solves_a_small_system() {
        // A = [[4, 2], [2, 3]], B = [[2], [1]] → X = [[0.5], [0]].
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&mut a, 2, &[2.0, 1.0], 1).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert!(cholesky_solve(&mut singular, 2, &[1.0, 1.0], 1).is_none());
    }
}
