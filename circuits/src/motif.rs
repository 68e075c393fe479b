//! The motif every family after the Gabors is built from: **tiling along the tangent**.
//!
//! "Each layer builds a contrast detector by tiling a simpler one along its tangent. The
//! weight is most positive when the two shapes are aligned and most negative when they are
//! perpendicular" (Curve Circuits). A target neuron looks for a shape — a straight segment
//! for a line, an arc for a curve — through the centre of its receptive field. Every point
//! of that shape has a position and a tangent; an upstream neuron at that position whose
//! own orientation matches the tangent there excites the target. Upstream neurons that
//! disagree are inhibited: lines perpendicular to the target's tangent, and curves facing
//! the opposite way (180°) — the inhibition that removes a curve detector's echo.

use serde::{Deserialize, Serialize};

use crate::group::Periodicity;

/// The shape a target neuron looks for, centred on its unit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "shape", rename_all = "lowercase")]
pub enum TargetShape {
    /// A straight segment of `length` pixels, along the target's orientation.
    Segment { length: f64 },
    /// A circular arc of `radius` pixels whose apex is at the unit and which bulges towards
    /// the target's (radial) orientation; `half_span_deg` degrees of arc on each side.
    Arc { radius: f64, half_span_deg: f64 },
    /// The unit's own position: the tangent tiling collapsed onto the centre, for an arc
    /// too small to span more than one upstream unit. Radial (bulge) direction = the
    /// target's orientation, tangent perpendicular to it, as at an arc's apex.
    Point,
}

/// A point of the target shape: its offset from the unit (pixels) and the tangent and
/// radial (bulge) directions there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShapePoint {
    pub dx: f64,
    pub dy: f64,
    /// Direction of the shape's tangent (axial).
    pub tangent_deg: f64,
    /// Direction the shape bulges towards here (radial; for a segment, its normal).
    pub radial_deg: f64,
}

impl TargetShape {
    /// Points along the shape for a target of orientation `orientation_deg` (the line's
    /// direction for a segment, the bulge direction for an arc), `samples` of them.
    pub fn points(&self, orientation_deg: f64, samples: usize) -> Vec<ShapePoint> {
        let samples = samples.max(2);
        match *self {
            TargetShape::Segment { length } => (0..samples)
                .map(|i| {
                    let t = (i as f64 / (samples - 1) as f64 - 0.5) * length;
                    let a = orientation_deg.to_radians();
                    ShapePoint {
                        dx: t * a.cos(),
                        dy: t * a.sin(),
                        tangent_deg: orientation_deg,
                        radial_deg: orientation_deg + 90.0,
                    }
                })
                .collect(),
            TargetShape::Arc {
                radius,
                half_span_deg,
            } => (0..samples)
                .map(|i| {
                    let alpha = (i as f64 / (samples - 1) as f64 * 2.0 - 1.0) * half_span_deg;
                    let rho = orientation_deg + alpha;
                    // Apex at the origin: the circle's centre is −r·(cos φ, sin φ).
                    let (p, r0) = (rho.to_radians(), orientation_deg.to_radians());
                    ShapePoint {
                        dx: radius * (p.cos() - r0.cos()),
                        dy: radius * (p.sin() - r0.sin()),
                        tangent_deg: rho + 90.0,
                        radial_deg: rho,
                    }
                })
                .collect(),
            TargetShape::Point => vec![
                ShapePoint {
                    dx: 0.0,
                    dy: 0.0,
                    tangent_deg: orientation_deg + 90.0,
                    radial_deg: orientation_deg,
                };
                samples
            ],
        }
    }
}

/// The hand-set numbers of one tangent-tiling motif.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TangentTiling {
    pub shape: TargetShape,
    /// Spatial spread (pixels) of each shape point's footprint.
    pub spread: f64,
    /// Orientation tolerance (degrees, Gaussian width) for an upstream neuron to count as
    /// aligned with the tangent.
    pub tolerance_deg: f64,
    /// Total weight of the aligned upstream neurons along the shape.
    pub excitation: f64,
    /// Inhibition, at the unit, by upstream neurons perpendicular to the target's tangent.
    pub perpendicular_inhibition: f64,
    /// Inhibition, at the unit, by upstream curves facing the opposite way (radial
    /// upstream families only): echo removal.
    pub opposite_inhibition: f64,
    /// For arcs: inhibition along the *mirrored* arc (the same arc bulging the other way),
    /// relative to the excitation. A straight line fits both arcs equally and cancels; only
    /// the flanks, where the two arcs part, carry evidence of which way a curve bends.
    #[serde(default)]
    pub mirror_inhibition: f64,
}

impl TangentTiling {
    /// Number of hand-set scalars in this motif (for the accounting).
    pub fn hand_set_numbers(&self) -> Vec<(&'static str, f64)> {
        let mut v = match self.shape {
            TargetShape::Segment { length } => vec![("segment length (px)", length)],
            TargetShape::Arc {
                radius,
                half_span_deg,
            } => {
                vec![
                    ("arc radius (px)", radius),
                    ("arc half-span (deg)", half_span_deg),
                ]
            }
            TargetShape::Point => Vec::new(),
        };
        v.extend([
            ("spread (px)", self.spread),
            ("orientation tolerance (deg)", self.tolerance_deg),
            ("excitation", self.excitation),
            ("perpendicular inhibition", self.perpendicular_inhibition),
            ("opposite inhibition", self.opposite_inhibition),
        ]);
        if let TargetShape::Arc { .. } = self.shape {
            v.push(("mirror-arc inhibition", self.mirror_inhibition));
        }
        v
    }

    /// The weight from an upstream neuron of orientation `upstream_deg` (of the given
    /// periodicity) at offset `(dx, dy)` pixels, to a target of orientation `target_deg`.
    pub fn weight(
        &self,
        target_deg: f64,
        upstream_deg: f64,
        upstream: Periodicity,
        dx: f64,
        dy: f64,
    ) -> f64 {
        let tuning = |d: f64| (-0.5 * (d / self.tolerance_deg).powi(2)).exp();
        let footprint = |px: f64, py: f64| {
            let (ex, ey) = (dx - px, dy - py);
            (-(ex * ex + ey * ey) / (2.0 * self.spread * self.spread)).exp()
        };
        // Excitation: aligned upstream neurons along the shape (and, for arcs, inhibition
        // along the mirrored arc).
        let along = |orientation: f64| {
            const SAMPLES: usize = 25;
            let mut sum = 0.0;
            for p in self.shape.points(orientation, SAMPLES) {
                let mismatch = match upstream {
                    Periodicity::Axial => {
                        Periodicity::Axial.difference(upstream_deg, p.tangent_deg)
                    }
                    Periodicity::Radial => {
                        Periodicity::Radial.difference(upstream_deg, p.radial_deg)
                    }
                };
                sum += tuning(mismatch) * footprint(p.dx, p.dy);
            }
            sum / SAMPLES as f64
        };
        let mut excite = self.excitation * along(target_deg);
        if self.mirror_inhibition != 0.0 && matches!(self.shape, TargetShape::Arc { .. }) {
            excite -= self.mirror_inhibition * self.excitation * along(target_deg + 180.0);
        }
        // Inhibition at the unit itself.
        let centre = footprint(0.0, 0.0);
        let (tangent, radial) = match self.shape {
            TargetShape::Segment { .. } => (target_deg, target_deg + 90.0),
            TargetShape::Arc { .. } | TargetShape::Point => (target_deg + 90.0, target_deg),
        };
        let inhibit = match upstream {
            Periodicity::Axial => {
                self.perpendicular_inhibition
                    * tuning(Periodicity::Axial.difference(upstream_deg, tangent + 90.0))
            }
            Periodicity::Radial => {
                self.opposite_inhibition
                    * tuning(Periodicity::Radial.difference(upstream_deg, radial + 180.0))
                    + self.perpendicular_inhibition
                        * (tuning(Periodicity::Radial.difference(upstream_deg, radial + 90.0))
                            + tuning(Periodicity::Radial.difference(upstream_deg, radial - 90.0)))
            }
        };
        excite - inhibit * centre
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arc() -> TangentTiling {
        TangentTiling {
            shape: TargetShape::Arc {
                radius: 30.0,
                half_span_deg: 60.0,
            },
            spread: 5.0,
            tolerance_deg: 20.0,
            excitation: 1.0,
            perpendicular_inhibition: 0.3,
            opposite_inhibition: 0.5,
            mirror_inhibition: 0.0,
        }
    }

    #[test]
    fn arcs_bulge_towards_their_orientation() {
        // Radial 0° bulges right: every point is at or left of the apex, ends to the left.
        let pts = TargetShape::Arc {
            radius: 10.0,
            half_span_deg: 90.0,
        }
        .points(0.0, 5);
        assert!(pts.iter().all(|p| p.dx <= 1e-9));
        assert!((pts[0].dx + 10.0).abs() < 1e-9 && (pts[0].dy + 10.0).abs() < 1e-9);
        assert!((pts[2].dx).abs() < 1e-9 && (pts[2].dy).abs() < 1e-9);
    }

    #[test]
    fn aligned_curves_excite_and_opposite_curves_inhibit() {
        let m = arc();
        let aligned = m.weight(90.0, 90.0, Periodicity::Radial, 0.0, 0.0);
        let opposite = m.weight(90.0, 270.0, Periodicity::Radial, 0.0, 0.0);
        let perpendicular = m.weight(90.0, 0.0, Periodicity::Radial, 0.0, 0.0);
        assert!(aligned > 0.0 && opposite < 0.0, "{aligned} {opposite}");
        assert!(opposite < perpendicular, "the echo is inhibited most");
    }

    #[test]
    fn lines_excite_along_the_tangent_and_inhibit_across_it() {
        let m = arc();
        // A curve bulging down (90°) has a horizontal tangent at its apex.
        let along = m.weight(90.0, 0.0, Periodicity::Axial, 0.0, 0.0);
        let across = m.weight(90.0, 90.0, Periodicity::Axial, 0.0, 0.0);
        assert!(along > 0.0 && across < 0.0, "{along} {across}");
    }

    #[test]
    fn mirror_inhibition_cancels_straight_lines_at_the_centre() {
        let m = TangentTiling {
            mirror_inhibition: 1.0,
            perpendicular_inhibition: 0.0,
            ..arc()
        };
        // A line along the apex tangent at the unit fits both arcs: no net weight.
        assert!(m.weight(90.0, 0.0, Periodicity::Axial, 0.0, 0.0).abs() < 1e-9);
        // On the flank of a curve bulging down (ends rising up), the line tilted like this
        // arc's flank excites; at the mirrored arc's flank it inhibits.
        let flank = TargetShape::Arc {
            radius: 30.0,
            half_span_deg: 60.0,
        }
        .points(90.0, 5)[0];
        let w = m.weight(
            90.0,
            flank.tangent_deg,
            Periodicity::Axial,
            flank.dx,
            flank.dy,
        );
        let mirrored = m.weight(
            90.0,
            180.0 - flank.tangent_deg,
            Periodicity::Axial,
            flank.dx,
            -flank.dy,
        );
        assert!(w > 0.0 && mirrored < 0.0, "{w} {mirrored}");
    }

    #[test]
    fn the_template_is_rotation_equivariant() {
        // Turning target, upstream and offset by 90° clockwise leaves the weight unchanged.
        let m = arc();
        for (t, u, dx, dy) in [
            (10.0, 40.0, 3.0, -7.0),
            (200.0, 185.0, -12.0, 5.0),
            (77.0, 160.0, 0.0, 9.0),
        ] {
            for up in [Periodicity::Radial, Periodicity::Axial] {
                let a = m.weight(t, u, up, dx, dy);
                let b = m.weight(t + 90.0, u + 90.0, up, -dy, dx);
                assert!((a - b).abs() < 1e-9, "{a} {b}");
            }
        }
    }
}
