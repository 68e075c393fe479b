//! Rotation groups: how one motif is copied into a family.
//!
//! A family of `n` neurons is one motif rotated by multiples of `period / n` degrees. Curves
//! have a direction (the side they bulge towards), so their period is 360°; lines and
//! edges are axial (a line at θ is the line at θ + 180°), so their period is 180°. When `n`
//! is divisible by 4 (curves) or 2 (axial families), a quarter-turn of the image is a pure
//! permutation of the family: neuron `k` becomes neuron `k + quarter_shift()`.
//!
//! A motif that is its own mirror image about its axis (a curve about the direction it
//! bulges, a line about itself) makes the family a dihedral group: mirroring the image
//! left to right is a permutation too, orientation θ going to 180° − θ (neuron
//! [`mirror`](RotationGroup::mirror)).

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

    /// The neuron that neuron `k` becomes when the image is mirrored left to right (x →
    /// −x): a preferred orientation θ goes to 180° − θ (radial convention: 0° bulges
    /// right, 90° down; an axial family's line at θ goes to the line at −θ). `None` when
    /// 180° is not a whole number of steps (an odd number of curve orientations), so the
    /// mirror image of a neuron is not a neuron of the family.
    pub fn mirror(&self, k: usize) -> Option<usize> {
        let half = 180.0 / self.step();
        (half.fract() == 0.0).then(|| (half as usize % self.n + self.n - k % self.n) % self.n)
    }

    /// Whether mirroring permutes the family (with the quarter-turns, the dihedral group of
    /// the square acts on it).
    pub fn is_dihedral(&self) -> bool {
        self.mirror(0).is_some() && self.quarter_shift().is_some()
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
    fn mirroring_sends_theta_to_180_minus_theta_and_is_an_involution() {
        let curves = RotationGroup::new(16, Periodicity::Radial);
        // 0° (bulging right) becomes 180° (bulging left); 90° (down) stays.
        assert_eq!(curves.mirror(0), Some(8));
        assert_eq!(curves.mirror(4), Some(4));
        assert_eq!(curves.mirror(3), Some(5));
        let lines = RotationGroup::new(8, Periodicity::Axial);
        // The line at 22.5° becomes the line at 157.5°; horizontal and vertical stay.
        assert_eq!(lines.mirror(1), Some(7));
        assert_eq!(lines.mirror(0), Some(0));
        assert_eq!(lines.mirror(4), Some(4));
        for g in [curves, lines, RotationGroup::new(24, Periodicity::Radial)] {
            for k in 0..g.n {
                let m = g.mirror(k).unwrap();
                assert_eq!(g.mirror(m), Some(k), "an involution");
                let want = (180.0 - g.angle(k)).rem_euclid(g.periodicity.period());
                assert!(g.periodicity.difference(g.angle(m), want).abs() < 1e-9);
                // Mirror, turn, mirror is the turn the other way.
                let back = g.mirror(g.rotate(g.mirror(k).unwrap(), 1)).unwrap();
                assert_eq!(g.rotate(back, 1), k);
            }
            assert!(g.is_dihedral());
        }
        let odd = RotationGroup::new(9, Periodicity::Radial);
        assert_eq!(odd.mirror(0), None);
        assert!(!odd.is_dihedral());
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
