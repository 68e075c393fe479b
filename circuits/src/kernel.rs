//! Square convolution kernels and banks of them, built from continuous templates so that a
//! quarter-turn of the image is exactly a quarter-turn of the kernels.
//!
//! Coordinates follow the image: x to the right, y down, angles clockwise from +x. A kernel
//! of odd size `k` has its centre at index `k / 2`; tap `(row, column)` sits at offset
//! `((column − k/2)·spacing, (row − k/2)·spacing)` pixels from the unit it feeds, where
//! `spacing` is the stride of the grid the kernel reads.

use crate::group::RotationGroup;

/// A square kernel, row-major, rows top to bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub size: usize,
    pub values: Vec<f32>,
}

impl Kernel {
    /// Evaluate `f(dx, dy)` (pixels) at every tap of a `size × size` kernel on a grid of
    /// `spacing` pixels.
    pub fn from_fn(size: usize, spacing: f64, f: impl Fn(f64, f64) -> f64) -> Self {
        assert!(size % 2 == 1, "kernels have odd sizes");
        let c = (size / 2) as f64;
        let mut values = Vec::with_capacity(size * size);
        for r in 0..size {
            for col in 0..size {
                values.push(f((col as f64 - c) * spacing, (r as f64 - c) * spacing) as f32);
            }
        }
        Kernel { size, values }
    }

    pub fn at(&self, row: usize, col: usize) -> f32 {
        self.values[row * self.size + col]
    }

    /// The kernel turned 90° clockwise (as seen on screen, y down): the tap at offset
    /// `(dx, dy)` moves to `(−dy, dx)`. Exact: a permutation of values.
    pub fn rot90_cw(&self) -> Self {
        let k = self.size;
        let mut values = vec![0.0; k * k];
        for r in 0..k {
            for c in 0..k {
                // New tap (r, c) at offset (c − m, r − m) came from offset (r − m, m − c),
                // i.e. from row (2m − c) = k−1−c, column r.
                values[r * k + c] = self.values[(k - 1 - c) * k + r];
            }
        }
        Kernel { size: k, values }
    }

    pub fn sum(&self) -> f64 {
        self.values.iter().map(|v| f64::from(*v)).sum()
    }

    /// Subtract the mean so the kernel ignores uniform input.
    pub fn zero_mean(mut self) -> Self {
        let m = (self.sum() / self.values.len() as f64) as f32;
        for v in &mut self.values {
            *v -= m;
        }
        self
    }
}

/// Weights from an input family to an output family: `[out][in]` kernels, flattened to the
/// OIHW layout burn's convolutions take.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelBank {
    pub outputs: usize,
    pub inputs: usize,
    pub size: usize,
    /// `[out][in][row][col]`.
    pub values: Vec<f32>,
}

impl KernelBank {
    pub fn zeros(outputs: usize, inputs: usize, size: usize) -> Self {
        KernelBank {
            outputs,
            inputs,
            size,
            values: vec![0.0; outputs * inputs * size * size],
        }
    }

    pub fn kernel(&self, out: usize, input: usize) -> Kernel {
        let n = self.size * self.size;
        let start = (out * self.inputs + input) * n;
        Kernel {
            size: self.size,
            values: self.values[start..start + n].to_vec(),
        }
    }

    pub fn set(&mut self, out: usize, input: usize, k: &Kernel) {
        assert_eq!(k.size, self.size);
        let n = self.size * self.size;
        let start = (out * self.inputs + input) * n;
        self.values[start..start + n].copy_from_slice(&k.values);
    }

    /// Build a bank between two rotation families from a template, exactly equivariant:
    /// the template is evaluated only for the outputs of the first quarter-turn; every
    /// other output is the quarter-turned kernel of the neuron a quarter-turn earlier,
    /// reading the input neuron a quarter-turn earlier. So for an image turned by 90°,
    /// output `k` becomes output `k + shift` exactly (up to floating-point summation order).
    ///
    /// `template(out, in)` returns the kernel between output neuron `out` and input `in`
    /// (`in` ranges over `inputs.n`; extra non-family inputs are not supported here).
    pub fn equivariant(
        outputs: RotationGroup,
        inputs: RotationGroup,
        size: usize,
        template: impl Fn(usize, usize) -> Kernel,
    ) -> Self {
        let out_shift = outputs
            .quarter_shift()
            .expect("outputs: 90° must permute the family");
        let in_shift = inputs
            .quarter_shift()
            .expect("inputs: 90° must permute the family");
        let mut bank = KernelBank::zeros(outputs.n, inputs.n, size);
        let base = if out_shift == 0 { outputs.n } else { out_shift };
        for o in 0..base.min(outputs.n) {
            for i in 0..inputs.n {
                bank.set(o, i, &template(o, i));
            }
        }
        for o in base..outputs.n {
            // o = prev + out_shift; input i of o is input (i − in_shift) of prev, turned.
            let prev = o - out_shift;
            for i in 0..inputs.n {
                let src = (i + inputs.n - in_shift) % inputs.n;
                let k = bank.kernel(prev, src).rot90_cw();
                bank.set(o, i, &k);
            }
        }
        bank
    }

    /// Number of weights.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Periodicity;

    #[test]
    fn rot90_moves_taps_clockwise() {
        // A single tap to the right of centre moves below the centre (y down).
        let k = Kernel::from_fn(
            3,
            1.0,
            |dx, dy| if dx == 1.0 && dy == 0.0 { 1.0 } else { 0.0 },
        );
        let r = k.rot90_cw();
        assert_eq!(r.at(2, 1), 1.0);
        assert_eq!(r.sum(), 1.0);
        assert_eq!(k.rot90_cw().rot90_cw().rot90_cw().rot90_cw(), k);
    }

    #[test]
    fn rot90_agrees_with_a_rotated_template() {
        // A template f(dx, dy) turned 90° clockwise is f evaluated at the pre-image point.
        let f = |dx: f64, dy: f64| (0.3 * dx - 0.7 * dy + 0.1 * dx * dy).sin();
        let k = Kernel::from_fn(5, 2.0, f);
        let turned = Kernel::from_fn(5, 2.0, |dx, dy| f(dy, -dx));
        assert_eq!(k.rot90_cw(), turned);
    }

    #[test]
    fn equivariant_banks_are_quarter_turn_permutations() {
        let out = RotationGroup::new(8, Periodicity::Radial);
        let inp = RotationGroup::new(4, Periodicity::Axial);
        let bank = KernelBank::equivariant(out, inp, 3, |o, i| {
            Kernel::from_fn(3, 1.0, |dx, dy| {
                (o as f64 + 1.0) * dx + (i as f64) * dy * dy
            })
        });
        for o in 0..8 {
            for i in 0..4 {
                let turned = bank.kernel(o, i).rot90_cw();
                assert_eq!(
                    bank.kernel((o + 2) % 8, (i + 2) % 4),
                    turned,
                    "out {o}, in {i}"
                );
            }
        }
    }
}
