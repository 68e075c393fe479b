//! Rotation groups: how one motif is copied into a family.
//!
//! A family of `n` neurons is one motif rotated by multiples of `period / n` degrees. Curves
//! have a direction (the side they bulge towards), so their period is 360°; lines and
//! edges are axial (a line at θ is the line at θ + 180°), so their period is 180°. When `n`
//! is divisible by 4 (curves) or 2 (axial families), a quarter-turn of the image is a pure
//! permutation of the family: neuron `k` becomes neuron `k + quarter_shift()`.

use serde::{Deserialize, Serialize};

/// Whether orientations repeat every 360° (curves, angles) or every 180° (lines, edges).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Periodicity {
    /// Directed: 360°.
    Radial,
    /// Undirected: 180°.
    Axial,
}

impl Periodicity {
    pub fn period(self) -> f64 {
        match self {
            Periodicity::Radial => 360.0,
            Periodicity::Axial => 180.0,
        }
    }

    /// Signed difference `a − b` wrapped into `(−period/2, period/2]`.
    pub fn difference(self, a: f64, b: f64) -> f64 {
        let p = self.period();
        let d = (a - b).rem_euclid(p);
        if d > p / 2.0 { d - p } else { d }
    }
}

/// The rotations that copy a motif into `n` neurons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationGroup {
    pub n: usize,
    pub periodicity: Periodicity,
}

impl RotationGroup {
    pub fn new(n: usize, periodicity: Periodicity) -> Self {
        assert!(n > 0, "a family has at least one neuron");
        RotationGroup { n, periodicity }
    }

    /// Degrees between neighbouring neurons.
    pub fn step(&self) -> f64 {
        self.periodicity.period() / self.n as f64
    }

    /// Preferred orientation of neuron `k`.
    pub fn angle(&self, k: usize) -> f64 {
        (k % self.n) as f64 * self.step()
    }

    /// The neuron whose orientation is nearest `degrees`.
    pub fn nearest(&self, degrees: f64) -> usize {
        let k = (degrees.rem_euclid(self.periodicity.period()) / self.step()).round() as usize;
        k % self.n
    }

    /// How many neurons a quarter-turn (90°) of the image moves along the family, if it is
    /// a whole number.
    pub fn quarter_shift(&self) -> Option<usize> {
        let shift = 90.0 / self.step();
        (shift.fract() == 0.0).then_some(shift as usize % self.n)
    }

    /// Neuron `k` after `turns` quarter-turns (requires [`quarter_shift`](Self::quarter_shift)).
    pub fn rotate(&self, k: usize, turns: usize) -> usize {
        let shift = self
            .quarter_shift()
            .expect("90° is a multiple of the group's step");
        (k + turns * shift) % self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_turns_permute_divisible_families() {
        let curves = RotationGroup::new(24, Periodicity::Radial);
        assert_eq!(curves.quarter_shift(), Some(6));
        assert_eq!(curves.rotate(20, 1), 2);
        let lines = RotationGroup::new(8, Periodicity::Axial);
        assert_eq!(lines.quarter_shift(), Some(4));
        assert_eq!(lines.rotate(5, 1), 1);
        assert_eq!(
            RotationGroup::new(10, Periodicity::Radial).quarter_shift(),
            None
        );
    }

    #[test]
    fn nearest_wraps_around() {
        let g = RotationGroup::new(24, Periodicity::Radial);
        assert_eq!(g.nearest(243.0), 16);
        assert_eq!(g.nearest(358.0), 0);
        assert_eq!(Periodicity::Axial.difference(170.0, 10.0), -20.0);
        assert_eq!(Periodicity::Radial.difference(10.0, 350.0), 20.0);
    }
}
