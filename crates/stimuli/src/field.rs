//! Evaluating a stimulus at sample points.
//!
//! Every shape becomes a [`Field`]: a function of a sample point (an offset from the image
//! centre) giving the sample's foreground weight in `[0, 1]`, and, for the binary shapes, a
//! 1-Lipschitz signed distance used to skip pixels far from every boundary.
//!
//! # Anti-aliasing model
//!
//! Each sample stands for a small axis-aligned square of side `h` (the sample spacing; the
//! `n × n` squares of a pixel tile it exactly). Its weight is the fraction of that square
//! covered by the shape, computed from distances: a straight boundary at signed distance `d`
//! with unit normal at angle `α` to the image axes cuts the square such that the covered
//! fraction is the distribution function of the square's projection onto the normal — the sum
//! of two uniform variables of half-widths `(h/2)|cos α|` and `(h/2)|sin α|` — evaluated at
//! `−d`. That is exact for half-planes and strips (lines thinner than a sample included) at any
//! angle, so the pixel coverage of a straight boundary is exact and a shape's total ink equals
//! its area up to small errors at corners and from curvature within a sample. Intersections of
//! boundaries (a bar's ends, an arc's radial ends) multiply the fractions.
//!
//! # Exactness under quarter-turns
//!
//! A point is taken into the shape's local frame by undoing the orientation's whole
//! quarter-turns exactly and rotating by the residual angle in `[0°, 90°)`; every quantity
//! below is computed from local coordinates and that residual, and the sample square's
//! projection depends only on `|cos α|` and `|sin α|` as an unordered pair, which a
//! quarter-turn leaves alone. So a turned stimulus evaluated at a turned point gives the same
//! bits.

use std::f64::consts::{FRAC_1_SQRT_2, TAU};

use crate::error::Result;
use crate::geometry::{Offset, SplitAngle, normalize_degrees};
use crate::shapes::Stimulus;

/// `(sin, cos)` of an angle in degrees, exact at multiples of 90°.
fn sin_cos_deg(degrees: f64) -> (f64, f64) {
    let wrapped = normalize_degrees(degrees);
    match wrapped {
        0.0 => (0.0, 1.0),
        90.0 => (1.0, 0.0),
        180.0 => (0.0, -1.0),
        270.0 => (-1.0, 0.0),
        _ => wrapped.to_radians().sin_cos(),
    }
}

/// The projection of a sample square of side `h` onto a boundary's normal: the sum of two
/// uniform variables on `[−major, major]` and `[−minor, minor]`.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    major: f64,
    minor: f64,
}

impl Footprint {
    /// The footprint for a boundary whose unit normal has image-frame components
    /// `(nx, ny)` (up to quarter-turns, which do not matter).
    #[inline]
    fn new(nx: f64, ny: f64, h: f64) -> Self {
        let (x, y) = (nx.abs() * h / 2.0, ny.abs() * h / 2.0);
        Footprint {
            major: x.max(y),
            minor: x.min(y),
        }
    }

    /// The fraction of the sample square on the inner side of a straight boundary at signed
    /// distance `d` from the sample centre (negative inside).
    #[inline]
    fn inside(self, d: f64) -> f64 {
        let (a, b) = (self.major, self.minor);
        // P(t ≤ x) for the projected offset t; the square is inside where d + t ≤ 0.
        let x = -d;
        if x <= -(a + b) {
            0.0
        } else if x >= a + b {
            1.0
        } else if x < b - a {
            let e = x + a + b;
            e * e / (8.0 * a * b)
        } else if x <= a - b {
            (x + a) / (2.0 * a)
        } else {
            let e = a + b - x;
            1.0 - e * e / (8.0 * a * b)
        }
    }

    /// The fraction of the sample square inside a strip of width `width` whose centre line is
    /// at distance `across` from the sample centre.
    #[inline]
    fn strip(self, across: f64, width: f64) -> f64 {
        let a = across.abs();
        self.inside(a - width / 2.0) - self.inside(a + width / 2.0)
    }
}

/// A stimulus prepared for sampling: angle split, constants precomputed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    frame: SplitAngle,
    anchor: Offset,
    kind: FieldKind,
}

#[derive(Debug, Clone, Copy)]
enum WedgeKind {
    /// Span ≤ 180°: intersection of two half-planes.
    Convex,
    /// 180° < span < 360°: union of two half-planes.
    Reflex,
    /// A full circle: no cut.
    Full,
}

/// A curve prepared for sampling.
#[derive(Debug, Clone, Copy)]
struct CurveField {
    radius: f64,
    line_width: f64,
    /// `sin` and `cos` of half the arc span.
    half_span_sin: f64,
    half_span_cos: f64,
    wedge: WedgeKind,
    fill: bool,
}

impl CurveField {
    /// The distances that make up the curve at `(u, v)` in its local frame.
    #[inline]
    fn parts(&self, u: f64, v: f64) -> CurveParts {
        curve_parts(
            u,
            v,
            self.radius,
            self.line_width / 2.0,
            self.half_span_sin,
            self.half_span_cos,
            self.wedge,
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum FieldKind {
    Curve(CurveField),
    Line {
        length: Option<f64>,
        line_width: f64,
    },
    Edge,
    Gabor {
        wavenumber: f64,
        phase: f64,
        two_sigma_squared: f64,
        contrast: f64,
    },
    Angle(AngleField),
}

/// An angle prepared for sampling.
#[derive(Debug, Clone, Copy)]
struct AngleField {
    /// `sin` and `cos` of half the opening.
    half_open_sin: f64,
    half_open_cos: f64,
    arm_length: Option<f64>,
    line_width: f64,
    fill: bool,
}

impl AngleField {
    /// The distances that make up the angle at `(u, v)` in its local frame.
    #[inline]
    fn parts(&self, u: f64, v: f64) -> AngleParts {
        angle_parts(
            u,
            v,
            self.half_open_sin,
            self.half_open_cos,
            self.arm_length,
            self.line_width,
        )
    }
}

impl Field {
    /// Prepares a stimulus for sampling, after validating it.
    pub(crate) fn new(stimulus: &Stimulus) -> Result<Self> {
        stimulus.validate()?;
        let frame = SplitAngle::new(stimulus.orientation_deg());
        let anchor = stimulus.position();
        let kind = match *stimulus {
            Stimulus::Curve(c) => {
                let (half_span_sin, half_span_cos) = sin_cos_deg(c.arc_span_deg / 2.0);
                let wedge = if c.arc_span_deg >= 360.0 {
                    WedgeKind::Full
                } else if c.arc_span_deg <= 180.0 {
                    WedgeKind::Convex
                } else {
                    WedgeKind::Reflex
                };
                FieldKind::Curve(CurveField {
                    radius: c.radius,
                    line_width: c.line_width,
                    half_span_sin,
                    half_span_cos,
                    wedge,
                    fill: c.fill,
                })
            }
            Stimulus::Line(l) => FieldKind::Line {
                length: l.length,
                line_width: l.line_width,
            },
            Stimulus::Edge(_) => FieldKind::Edge,
            Stimulus::Gabor(g) => FieldKind::Gabor {
                wavenumber: TAU / g.wavelength,
                phase: g.phase_deg.to_radians(),
                two_sigma_squared: 2.0 * g.sigma * g.sigma,
                contrast: g.contrast,
            },
            Stimulus::Angle(a) => {
                let (half_open_sin, half_open_cos) = sin_cos_deg(a.opening_deg / 2.0);
                FieldKind::Angle(AngleField {
                    half_open_sin,
                    half_open_cos,
                    arm_length: a.arm_length,
                    line_width: a.line_width,
                    fill: a.fill,
                })
            }
        };
        Ok(Field {
            frame,
            anchor,
            kind,
        })
    }

    /// Whether `signed_distance` is available (all shapes but the Gabor patch).
    pub(crate) fn is_binary(&self) -> bool {
        !matches!(self.kind, FieldKind::Gabor { .. })
    }

    #[inline]
    fn local(&self, x: f64, y: f64) -> (f64, f64) {
        self.frame.to_local(x - self.anchor.dx, y - self.anchor.dy)
    }

    /// The footprint of a sample square of side `h` across a boundary whose unit normal is
    /// `(nu, nv)` in the local frame.
    #[inline]
    fn footprint(&self, nu: f64, nv: f64, h: f64) -> Footprint {
        let (c, s) = (self.frame.cos, self.frame.sin);
        Footprint::new(nu * c - nv * s, nu * s + nv * c, h)
    }

    /// The fraction of a sample square of side `h` inside a half-plane at signed distance `d`
    /// with local unit normal `(nu, nv)`; the footprint is only worked out near the boundary.
    #[inline]
    fn half_plane(&self, d: f64, nu: f64, nv: f64, h: f64) -> f64 {
        // The footprint reaches at most h/√2 from the sample centre.
        if d >= h * FRAC_1_SQRT_2 {
            0.0
        } else if d <= -h * FRAC_1_SQRT_2 {
            1.0
        } else {
            self.footprint(nu, nv, h).inside(d)
        }
    }

    /// Like [`Field::half_plane`] for a strip of width `width` at distance `across`.
    #[inline]
    fn strip(&self, across: f64, width: f64, nu: f64, nv: f64, h: f64) -> f64 {
        let d = across.abs() - width / 2.0;
        if d >= h * FRAC_1_SQRT_2 {
            0.0
        } else {
            self.footprint(nu, nv, h).strip(across, width)
        }
    }

    /// Foreground weight in `[0, 1]` of a sample at offset `(x, y)` from the image centre,
    /// standing for a square of side `h`.
    pub(crate) fn weight(&self, x: f64, y: f64, h: f64) -> f64 {
        let (u, v) = self.local(x, y);
        match self.kind {
            FieldKind::Curve(curve) => {
                let parts = curve.parts(u, v);
                let (nu, nv) = parts.radial_normal;
                let mut stroke = self.strip(parts.radial, curve.line_width, nu, nv, h);
                if stroke > 0.0
                    && let Some((d, (wu, wv))) = parts.wedge
                {
                    stroke *= self.half_plane(d, wu, wv, h);
                }
                if curve.fill {
                    let (d, (fu, fv)) = parts.segment;
                    stroke.max(self.half_plane(d, fu, fv, h))
                } else {
                    stroke
                }
            }
            FieldKind::Line { length, line_width } => {
                let across = self.strip(v, line_width, 0.0, 1.0, h);
                match length {
                    Some(l) if across > 0.0 => across * self.strip(u, l, 1.0, 0.0, h),
                    _ => across,
                }
            }
            FieldKind::Edge => self.half_plane(u, 1.0, 0.0, h),
            FieldKind::Gabor {
                wavenumber,
                phase,
                two_sigma_squared,
                contrast,
            } => {
                let envelope = (-(u * u + v * v) / two_sigma_squared).exp();
                0.5 + 0.5 * contrast * envelope * (wavenumber * v + phase).cos()
            }
            FieldKind::Angle(angle) => {
                let parts = angle.parts(u, v);
                // The two arms are disjoint (each stops at the bisector): coverages add.
                let mut stroke = 0.0;
                for arm in &parts.arms {
                    let (nu, nv) = arm.across_normal;
                    let mut w = self.strip(arm.across, angle.line_width, nu, nv, h);
                    if w > 0.0 {
                        w *= self.half_plane(arm.beyond_bisector, 0.0, arm.side, h);
                    }
                    if w > 0.0
                        && let Some(d) = arm.beyond_end
                    {
                        let (au, av) = arm.along;
                        w *= self.half_plane(d, au, av, h);
                    }
                    stroke += w;
                }
                if angle.fill {
                    let (d, (fu, fv)) = parts.inside;
                    stroke.max(self.half_plane(d, fu, fv, h))
                } else {
                    stroke
                }
            }
        }
    }

    /// A 1-Lipschitz signed distance (negative inside the foreground) at offset `(x, y)`,
    /// such that a sample whose signed distance is at least `h/√2` has weight exactly 0 and
    /// one at most `−h/√2` weight exactly 1. `None` for the Gabor patch.
    pub(crate) fn signed_distance(&self, x: f64, y: f64) -> Option<f64> {
        let (u, v) = self.local(x, y);
        match self.kind {
            FieldKind::Curve(curve) => {
                let parts = curve.parts(u, v);
                let mut stroke = parts.radial.abs() - curve.line_width / 2.0;
                if let Some((d, _)) = parts.wedge {
                    stroke = stroke.max(d);
                }
                Some(if curve.fill {
                    stroke.min(parts.segment.0)
                } else {
                    stroke
                })
            }
            FieldKind::Line { length, line_width } => {
                let across = v.abs() - line_width / 2.0;
                Some(match length {
                    Some(l) => across.max(u.abs() - l / 2.0),
                    None => across,
                })
            }
            FieldKind::Edge => Some(u),
            FieldKind::Gabor { .. } => None,
            FieldKind::Angle(angle) => {
                let parts = angle.parts(u, v);
                let mut stroke = f64::INFINITY;
                for arm in &parts.arms {
                    let mut d =
                        (arm.across.abs() - angle.line_width / 2.0).max(arm.beyond_bisector);
                    if let Some(end) = arm.beyond_end {
                        d = d.max(end);
                    }
                    stroke = stroke.min(d);
                }
                Some(if angle.fill {
                    stroke.min(parts.inside.0)
                } else {
                    stroke
                })
            }
        }
    }
}

/// A signed distance and the local unit normal of the boundary it measures.
type Boundary = (f64, (f64, f64));

/// Distances that make up a curve, in the local frame of its apex (u along the orientation).
struct CurveParts {
    /// Distance from the circle minus the radius: `ρ − r`.
    radial: f64,
    /// Local unit vector from the circle's centre towards the sample.
    radial_normal: (f64, f64),
    /// The nearer boundary of the wedge of the arc's span (negative inside), `None` for a full
    /// circle.
    wedge: Option<Boundary>,
    /// The nearer boundary of the filled segment behind the arc (negative inside).
    segment: Boundary,
}

#[inline]
fn curve_parts(
    u: f64,
    v: f64,
    radius: f64,
    half_width: f64,
    half_span_sin: f64,
    half_span_cos: f64,
    wedge: WedgeKind,
) -> CurveParts {
    // Relative to the circle's centre, which sits `radius` behind the apex.
    let qu = u + radius;
    let qv = v;
    let rho = qu.hypot(qv);
    // ρ − r without cancellation for large radii: (ρ² − r²)/(ρ + r).
    let radial = (u * u + 2.0 * u * radius + v * v) / (rho + radius);
    let radial_normal = if rho > 0.0 {
        (qu / rho, qv / rho)
    } else {
        (1.0, 0.0)
    };
    // Half-planes bounded by the rays at ±half-span from the centre, negative on the apex
    // side; their outward normals are (−sin, ±cos).
    let upper: Boundary = (
        qv * half_span_cos - qu * half_span_sin,
        (-half_span_sin, half_span_cos),
    );
    let lower: Boundary = (
        -qv * half_span_cos - qu * half_span_sin,
        (-half_span_sin, -half_span_cos),
    );
    let wedge = match wedge {
        WedgeKind::Convex => Some(if upper.0 >= lower.0 { upper } else { lower }),
        WedgeKind::Reflex => Some(if upper.0 <= lower.0 { upper } else { lower }),
        WedgeKind::Full => None,
    };
    // The filled segment: inside the stroke's outer edge and beyond the chord joining the
    // arc's ends, at qu = r·cos(half span) with outward normal −u. It contains the stroke
    // (but for slivers at the ends when the span is not 180°), so the union of the two is
    // their maximum.
    let chord = radius * half_span_cos - qu;
    let outer = radial - half_width;
    let segment = if outer >= chord {
        (outer, radial_normal)
    } else {
        (chord, (-1.0, 0.0))
    };
    CurveParts {
        radial,
        radial_normal,
        wedge,
        segment,
    }
}

/// Distances that make up one arm of a corner, in the local frame of the apex.
struct ArmParts {
    /// +1 for the arm on the `v > 0` side, −1 for the other.
    side: f64,
    /// Signed distance across the arm's centre line (negative towards the inside of the corner).
    across: f64,
    /// Local unit normal of the arm's centre line.
    across_normal: (f64, f64),
    /// Local unit vector along the arm, away from the apex.
    along: (f64, f64),
    /// Distance past the arm's far end (positive beyond it), `None` for endless arms.
    beyond_end: Option<f64>,
    /// Signed distance to the bisector, positive on the other arm's side: each arm stops at
    /// the bisector, which is what makes the join a mitre. Its outward normal is `(0, −side)`,
    /// and as only the normal's direction up to sign matters for the footprint, `(0, side)`
    /// serves too.
    beyond_bisector: f64,
}

/// Distances that make up a corner.
struct AngleParts {
    /// The arm leaving the apex along `(−cos b, sin b)` and the one along `(−cos b, −sin b)`.
    arms: [ArmParts; 2],
    /// The nearest boundary of the filled triangle, out to the arms' outer edges (negative
    /// inside).
    inside: Boundary,
}

#[inline]
fn angle_parts(
    u: f64,
    v: f64,
    half_open_sin: f64,
    half_open_cos: f64,
    arm_length: Option<f64>,
    line_width: f64,
) -> AngleParts {
    let arm = |side: f64| {
        let sv = side * v;
        let along = -u * half_open_cos + sv * half_open_sin;
        ArmParts {
            side,
            across: u * half_open_sin + sv * half_open_cos,
            across_normal: (half_open_sin, side * half_open_cos),
            along: (-half_open_cos, side * half_open_sin),
            beyond_end: arm_length.map(|l| along - l),
            beyond_bisector: -sv,
        }
    };
    let arms = [arm(1.0), arm(-1.0)];
    // The filled triangle is bounded by the arms' outer edges (which meet at the mitre tip)
    // and the chord, so it contains the stroke but for slivers at the arms' square ends and
    // the union of the two is their maximum.
    let half_width = line_width / 2.0;
    let wedge: Boundary = if arms[0].across >= arms[1].across {
        (arms[0].across - half_width, arms[0].across_normal)
    } else {
        (arms[1].across - half_width, arms[1].across_normal)
    };
    let inside = match arm_length {
        // The chord joining the arms' ends is at u = −l·cos b; outward normal −u.
        Some(l) => {
            let chord = -l * half_open_cos - u;
            if chord > wedge.0 {
                (chord, (-1.0, 0.0))
            } else {
                wedge
            }
        }
        None => wedge,
    };
    AngleParts { arms, inside }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::{Angle, Curve, Edge, GaborPatch, Line};
    use proptest::prelude::*;

    fn any_stimulus() -> impl Strategy<Value = Stimulus> {
        (
            0usize..5,
            (-10.0f64..10.0, -10.0f64..10.0),
            -400.0f64..400.0,
            0.5f64..100.0,
            (1.0f64..=360.0, 1.0f64..=180.0),
            0.1f64..6.0,
            any::<bool>(),
        )
            .prop_map(
                |(kind, (dx, dy), theta, size, (span, opening), width, flag)| {
                    let at = Offset::new(dx, dy);
                    match kind {
                        0 => Curve::new(at, size, theta)
                            .with_arc_span(span)
                            .with_line_width(width)
                            .with_fill(flag)
                            .into(),
                        1 => {
                            let line = Line::new(at, theta).with_line_width(width);
                            if flag {
                                line.with_length(size).into()
                            } else {
                                line.into()
                            }
                        }
                        2 => Edge::new(at, theta).into(),
                        3 => GaborPatch::new(at, theta, size / 4.0 + 1.0, width + 1.0)
                            .with_phase(span)
                            .into(),
                        _ => {
                            let angle = Angle::new(at, theta, opening)
                                .with_line_width(width)
                                .with_fill(flag);
                            if flag {
                                angle.with_arm_length(size).into()
                            } else {
                                angle.into()
                            }
                        }
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// At the level of single samples, before any averaging or rounding to f32: a turned
        /// stimulus sees a turned sample point exactly as the original sees the original point.
        #[test]
        fn turned_fields_agree_bit_for_bit(
            stimulus in any_stimulus(),
            points in proptest::collection::vec((-30.0f64..30.0, -30.0f64..30.0), 32),
            h in prop_oneof![Just(1.0), Just(0.5), Just(0.25), Just(0.2)],
        ) {
            let original = Field::new(&stimulus).unwrap();
            let turned = Field::new(&stimulus.rotated_90_cw()).unwrap();
            for (x, y) in points {
                prop_assert_eq!(
                    turned.weight(-y, x, h).to_bits(),
                    original.weight(x, y, h).to_bits(),
                    "weight at ({}, {})", x, y
                );
                prop_assert_eq!(
                    turned.signed_distance(-y, x).map(f64::to_bits),
                    original.signed_distance(x, y).map(f64::to_bits),
                    "distance at ({}, {})", x, y
                );
            }
        }
    }

    #[test]
    fn footprint_is_the_square_cut_by_a_line() {
        let h = 0.25;
        // Axis-aligned boundary: a linear ramp over one sample width.
        let axis = Footprint::new(1.0, 0.0, h);
        assert_eq!(axis.inside(0.0), 0.5);
        assert_eq!(axis.inside(0.0625), 0.25);
        assert_eq!(axis.inside(0.125), 0.0);
        assert_eq!(axis.inside(-0.125), 1.0);
        // Diagonal boundary through a corner's neighbourhood: the covered triangle of a unit
        // square cut at distance d from its centre along (1, 1)/√2 has area (√2/2 − d)²
        // (for d ≥ 0, scaled by h²).
        let diagonal = Footprint::new(FRAC_1_SQRT_2, FRAC_1_SQRT_2, 1.0);
        for d in [0.0, 0.1, 0.3, 0.6] {
            let expected = (FRAC_1_SQRT_2 - d).powi(2);
            assert!((diagonal.inside(d) - expected).abs() < 1e-12, "d = {d}");
            assert!(
                (diagonal.inside(-d) - (1.0 - expected)).abs() < 1e-12,
                "d = −{d}"
            );
        }
        // A strip thinner than the sample covers width/h of a centred, axis-aligned sample.
        assert!((axis.strip(0.0, 0.1) - 0.4).abs() < 1e-12);
        assert_eq!(axis.strip(0.3, 2.0), 1.0);
        assert_eq!(axis.strip(1.2, 2.0), 0.0);
    }
}
