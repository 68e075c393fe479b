//! The first layer: a family of Gabor filters, and complex (phase-invariant) Gabors.
//!
//! "The first layer constructs a family of Gabor filters using a 7×7 convolution" and "a 1×1
//! convolution builds complex Gabor filters, invariant to small translations" (Curve
//! Circuits). Each orientation has an even (cosine) and an odd (sine) Gabor; the complex
//! Gabor is their energy `√(even² + odd²)`, which responds to an edge or a thin line of
//! that orientation whatever its phase. Orientations are axial: the stripes run along θ.

use serde::{Deserialize, Serialize};

use crate::group::{Periodicity, RotationGroup};
use crate::kernel::{Kernel, KernelBank};

/// The hand-set numbers of the Gabor family.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaborFamily {
    /// Number of orientations over 180° (divisible by 2 for exact quarter-turns).
    pub orientations: usize,
    /// Wavelength of the carrier, pixels.
    pub wavelength: f64,
    /// Width of the Gaussian envelope, pixels.
    pub sigma: f64,
    /// Kernel size (odd).
    pub size: usize,
}

impl GaborFamily {
    pub fn group(&self) -> RotationGroup {
        RotationGroup::new(self.orientations, Periodicity::Axial)
    }

    pub fn hand_set_numbers(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("Gabor orientations", self.orientations as f64),
            ("Gabor wavelength (px)", self.wavelength),
            ("Gabor envelope sigma (px)", self.sigma),
            ("Gabor kernel size", self.size as f64),
        ]
    }

    /// The even (`phase = 0`) or odd (`phase = 90`) Gabor with stripes along `theta_deg`:
    /// the carrier varies across the stripes, along the normal `(−sin θ, cos θ)`.
    pub fn kernel(&self, theta_deg: f64, odd: bool) -> Kernel {
        let t = theta_deg.to_radians();
        let (nx, ny) = (-t.sin(), t.cos());
        let k = Kernel::from_fn(self.size, 1.0, |dx, dy| {
            let u = dx * nx + dy * ny;
            let envelope = (-(dx * dx + dy * dy) / (2.0 * self.sigma * self.sigma)).exp();
            let phase = std::f64::consts::TAU * u / self.wavelength;
            envelope * if odd { phase.sin() } else { phase.cos() }
        });
        if odd { k } else { k.zero_mean() }
    }

    /// Even and odd kernels for every orientation, `[2·n][1][size][size]` with the even
    /// kernel of orientation `k` at `2k` and the odd one at `2k + 1`; quarter-turns exact.
    pub fn bank(&self) -> KernelBank {
        let g = self.group();
        let shift = g
            .quarter_shift()
            .expect("Gabor orientations divisible by 2");
        let mut bank = KernelBank::zeros(2 * g.n, 1, self.size);
        for k in 0..g.n {
            for (p, odd) in [(0, false), (1, true)] {
                let kernel = if k < shift {
                    self.kernel(g.angle(k), odd)
                } else {
                    bank.kernel(2 * (k - shift) + p, 0).rot90_cw()
                };
                bank.set(2 * k + p, 0, &kernel);
            }
        }
        bank
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family() -> GaborFamily {
        GaborFamily {
            orientations: 8,
            wavelength: 5.0,
            sigma: 1.6,
            size: 7,
        }
    }

    #[test]
    fn even_gabors_ignore_uniform_light() {
        let g = family();
        for k in 0..8 {
            assert!(g.bank().kernel(2 * k, 0).sum().abs() < 1e-5);
        }
    }

    #[test]
    fn stripes_run_along_the_orientation() {
        // The 0° even Gabor is constant along x through the centre row's neighbours: its
        // values vary with y (across horizontal stripes), not with x near the centre.
        let k = family().kernel(0.0, false);
        let m = 3;
        assert!((k.at(m, m - 1) - k.at(m, m + 1)).abs() < 1e-6);
        assert!((k.at(m - 1, m) - k.at(m, m)).abs() > 0.1);
    }

    #[test]
    fn the_bank_matches_evaluated_kernels_within_rounding() {
        let g = family();
        let bank = g.bank();
        for k in 0..8 {
            for odd in [false, true] {
                let direct = g.kernel(g.group().angle(k), odd);
                let from_bank = bank.kernel(2 * k + usize::from(odd), 0);
                for (a, b) in direct.values.iter().zip(&from_bank.values) {
                    assert!((a - b).abs() < 1e-5, "orientation {k} odd {odd}");
                }
            }
        }
    }
}
