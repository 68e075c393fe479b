//! The stimulus shapes and their parameters.
//!
//! Every shape is placed by an [`Offset`] from the image centre and oriented by an angle in
//! degrees, clockwise from +x with y down (see [`crate::geometry`]). Lengths, radii and widths
//! are in pixels. "Foreground" is the ink: the stroke of a curve, line or angle, the filled
//! side of an edge, the bright-or-dark bars of a Gabor patch; its colour comes from the
//! [`crate::Style`]. How a shape is sampled is in `field`.

use serde::{Deserialize, Serialize};

use crate::error::{Result, check_finite, check_in_half_open, check_positive};
use crate::geometry::{Offset, add_quarter_turns, normalize_degrees};

/// A circular arc: the curve stimulus of the "Curve Detectors" synthetic tests.
///
/// The arc's midpoint (its **apex**) sits at `apex`; the circle's centre lies `radius`
/// pixels behind it, at `apex − radius·(cos θ, sin θ)` with `θ = orientation_deg`, so the
/// curve bulges towards `θ` (the radial convention of the facts sheet). Radial 0° draws ")",
/// 90° "‿", 180° "(", 270° "∩". The arc extends `arc_span_deg / 2` to either side of the
/// apex as seen from the circle's centre, with square (radial) ends; the published stimuli
/// show about 180° of arc, cropped by the frame when the radius is large, so large radii give
/// nearly straight strokes through the apex.
///
/// With `fill` the segment behind the arc is painted too: the region inside the stroke's outer
/// edge (radius `radius + line_width/2`) and beyond the chord joining the ends of the arc's
/// centre line. For the usual 180° span that is a half-disc of radius `radius + line_width/2`:
/// the solid shape whose curved outline is the stroke's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curve {
    /// Position of the arc's midpoint, relative to the image centre.
    pub apex: Offset,
    /// Radius of the circle through the middle of the stroke, in pixels.
    pub radius: f64,
    /// Radial orientation in degrees: the direction the curve bulges towards.
    pub orientation_deg: f64,
    /// Angle subtended by the arc at the circle's centre, in degrees, in `(0, 360]`.
    #[serde(default = "default_arc_span")]
    pub arc_span_deg: f64,
    /// Width of the stroke in pixels, centred on the circle.
    pub line_width: f64,
    /// Paint the segment behind the arc as well (a half-disc for a 180° span).
    #[serde(default)]
    pub fill: bool,
}

fn default_arc_span() -> f64 {
    180.0
}

impl Curve {
    /// A 180° arc of stroke width 2 px with its apex at `apex`, unfilled.
    pub fn new(apex: Offset, radius: f64, orientation_deg: f64) -> Self {
        Curve {
            apex,
            radius,
            orientation_deg,
            arc_span_deg: 180.0,
            line_width: 2.0,
            fill: false,
        }
    }

    /// The same curve with stroke width `line_width`.
    pub fn with_line_width(self, line_width: f64) -> Self {
        Curve { line_width, ..self }
    }

    /// The same curve with an arc of `arc_span_deg` degrees.
    pub fn with_arc_span(self, arc_span_deg: f64) -> Self {
        Curve {
            arc_span_deg,
            ..self
        }
    }

    /// The same curve, filled or not.
    pub fn with_fill(self, fill: bool) -> Self {
        Curve { fill, ..self }
    }

    /// The centre of the circle, relative to the image centre.
    pub fn circle_centre(&self) -> Offset {
        let t = self.orientation_deg.to_radians();
        Offset::new(
            self.apex.dx - self.radius * t.cos(),
            self.apex.dy - self.radius * t.sin(),
        )
    }

    fn validate(&self) -> Result<()> {
        check_finite("curve.apex.dx", self.apex.dx)?;
        check_finite("curve.apex.dy", self.apex.dy)?;
        check_positive("curve.radius", self.radius)?;
        check_finite("curve.orientation_deg", self.orientation_deg)?;
        check_in_half_open(
            "curve.arc_span_deg",
            self.arc_span_deg,
            0.0,
            360.0,
            "must be in (0, 360] degrees",
        )?;
        check_positive("curve.line_width", self.line_width)
    }
}

/// A straight bar of constant width with square ends.
///
/// `orientation_deg` is the direction the line runs in (a line at θ and at θ + 180° is the
/// same line): 0° horizontal, 90° vertical, 45° from upper-left to lower-right. With
/// `length: None` the line crosses the whole frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Midpoint of the line, relative to the image centre.
    pub centre: Offset,
    /// Direction of the line in degrees.
    pub orientation_deg: f64,
    /// Length in pixels, or `None` for a line that crosses the frame.
    #[serde(default)]
    pub length: Option<f64>,
    /// Width in pixels.
    pub line_width: f64,
}

impl Line {
    /// A 2 px wide line through `centre` that crosses the frame.
    pub fn new(centre: Offset, orientation_deg: f64) -> Self {
        Line {
            centre,
            orientation_deg,
            length: None,
            line_width: 2.0,
        }
    }

    /// The same line cut to `length` pixels, centred on `centre`.
    pub fn with_length(self, length: f64) -> Self {
        Line {
            length: Some(length),
            ..self
        }
    }

    /// The same line with width `line_width`.
    pub fn with_line_width(self, line_width: f64) -> Self {
        Line { line_width, ..self }
    }

    fn validate(&self) -> Result<()> {
        check_finite("line.centre.dx", self.centre.dx)?;
        check_finite("line.centre.dy", self.centre.dy)?;
        check_finite("line.orientation_deg", self.orientation_deg)?;
        if let Some(length) = self.length {
            check_positive("line.length", length)?;
        }
        check_positive("line.line_width", self.line_width)
    }
}

/// A luminance step: foreground on one side of a straight boundary, background on the other.
///
/// The boundary passes through `point`. `orientation_deg` is the normal pointing from the
/// foreground into the background — the edge "bulges" towards θ like a filled curve of
/// infinite radius: at 0° the foreground fills the left half and the boundary is vertical.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// A point on the boundary, relative to the image centre.
    pub point: Offset,
    /// Direction from the foreground side to the background side, in degrees.
    pub orientation_deg: f64,
}

impl Edge {
    /// An edge through `point` whose foreground lies opposite `orientation_deg`.
    pub fn new(point: Offset, orientation_deg: f64) -> Self {
        Edge {
            point,
            orientation_deg,
        }
    }

    fn validate(&self) -> Result<()> {
        check_finite("edge.point.dx", self.point.dx)?;
        check_finite("edge.point.dy", self.point.dy)?;
        check_finite("edge.orientation_deg", self.orientation_deg)
    }
}

/// A Gabor patch: a sinusoidal grating under an isotropic Gaussian envelope.
///
/// The stripes run along `orientation_deg` (so a Gabor and a [`Line`] with the same
/// orientation are parallel) and the luminance varies across them, along the direction 90°
/// clockwise from the orientation. With `s` that across-stripe coordinate and `d` the distance
/// from `centre`, the foreground weight is
/// `½ + ½·contrast·exp(−d²/2σ²)·cos(2π·s/wavelength + phase)`:
/// the patch fades into the colour halfway between foreground and background, and phase 0°
/// puts a full-foreground stripe through the centre.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaborPatch {
    /// Centre of the envelope, relative to the image centre.
    pub centre: Offset,
    /// Direction the stripes run in, degrees.
    pub orientation_deg: f64,
    /// Period of the grating, in pixels.
    pub wavelength: f64,
    /// Standard deviation of the Gaussian envelope, in pixels.
    pub sigma: f64,
    /// Phase of the carrier at the centre, degrees (0: foreground stripe on the centre).
    #[serde(default)]
    pub phase_deg: f64,
    /// Peak modulation in `(0, 1]`.
    #[serde(default = "default_contrast")]
    pub contrast: f64,
}

fn default_contrast() -> f64 {
    1.0
}

impl GaborPatch {
    /// A full-contrast, phase-0 patch.
    pub fn new(centre: Offset, orientation_deg: f64, wavelength: f64, sigma: f64) -> Self {
        GaborPatch {
            centre,
            orientation_deg,
            wavelength,
            sigma,
            phase_deg: 0.0,
            contrast: 1.0,
        }
    }

    /// The same patch with carrier phase `phase_deg`.
    pub fn with_phase(self, phase_deg: f64) -> Self {
        GaborPatch { phase_deg, ..self }
    }

    /// The same patch with peak modulation `contrast`.
    pub fn with_contrast(self, contrast: f64) -> Self {
        GaborPatch { contrast, ..self }
    }

    fn validate(&self) -> Result<()> {
        check_finite("gabor.centre.dx", self.centre.dx)?;
        check_finite("gabor.centre.dy", self.centre.dy)?;
        check_finite("gabor.orientation_deg", self.orientation_deg)?;
        check_positive("gabor.wavelength", self.wavelength)?;
        check_positive("gabor.sigma", self.sigma)?;
        check_finite("gabor.phase_deg", self.phase_deg)?;
        check_in_half_open(
            "gabor.contrast",
            self.contrast,
            0.0,
            1.0,
            "must be in (0, 1]",
        )
    }
}

/// A corner: two straight arms of equal length meeting at `apex` with a mitred (sharp) join.
///
/// `orientation_deg` follows the curve's radial convention: it points from the inside of the
/// corner through the apex, i.e. the way the corner "bulges". At 0° the corner looks like ">"
/// (the x-angle convention of Lucid's `rounded_corner` calls the same stimulus 180°). The arms
/// leave the apex in the directions `θ + 180° ± opening/2`, so the angle between them is
/// `opening_deg`; 180° gives a straight line through the apex across the orientation, small
/// openings give sharp wedges (whose mitre tip reaches `line_width / (2·sin(opening/2))` beyond
/// the apex). With `arm_length: None` the arms run out of the frame. With `fill` the triangle
/// between the arms is painted too: the region inside the arms' outer edges and closed by the
/// chord joining the ends of their centre lines.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Angle {
    /// The corner point (where the arms' centre lines meet), relative to the image centre.
    pub apex: Offset,
    /// Direction from the inside of the corner through the apex, degrees.
    pub orientation_deg: f64,
    /// Angle between the two arms, degrees, in `(0, 180]`.
    pub opening_deg: f64,
    /// Length of each arm's centre line from the apex, pixels, or `None` to leave the frame.
    #[serde(default)]
    pub arm_length: Option<f64>,
    /// Width of the arms in pixels.
    pub line_width: f64,
    /// Paint the triangle between the arms as well.
    #[serde(default)]
    pub fill: bool,
}

impl Angle {
    /// A corner with arms that leave the frame, 2 px wide, unfilled.
    pub fn new(apex: Offset, orientation_deg: f64, opening_deg: f64) -> Self {
        Angle {
            apex,
            orientation_deg,
            opening_deg,
            arm_length: None,
            line_width: 2.0,
            fill: false,
        }
    }

    /// The same corner with arms of `arm_length` pixels.
    pub fn with_arm_length(self, arm_length: f64) -> Self {
        Angle {
            arm_length: Some(arm_length),
            ..self
        }
    }

    /// The same corner with arms `line_width` wide.
    pub fn with_line_width(self, line_width: f64) -> Self {
        Angle { line_width, ..self }
    }

    /// The same corner, filled or not.
    pub fn with_fill(self, fill: bool) -> Self {
        Angle { fill, ..self }
    }

    fn validate(&self) -> Result<()> {
        check_finite("angle.apex.dx", self.apex.dx)?;
        check_finite("angle.apex.dy", self.apex.dy)?;
        check_finite("angle.orientation_deg", self.orientation_deg)?;
        check_in_half_open(
            "angle.opening_deg",
            self.opening_deg,
            0.0,
            180.0,
            "must be in (0, 180] degrees",
        )?;
        if let Some(length) = self.arm_length {
            check_positive("angle.arm_length", length)?;
        }
        check_positive("angle.line_width", self.line_width)
    }
}

/// Any stimulus. Serialised with a `"shape"` tag, e.g.
/// `{"shape":"curve","apex":{"dx":0.0,"dy":0.0},"radius":40.0,"orientation_deg":90.0,…}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Stimulus {
    /// A circular arc (see [`Curve`]).
    Curve(Curve),
    /// A straight bar (see [`Line`]).
    Line(Line),
    /// A luminance step (see [`Edge`]).
    Edge(Edge),
    /// A Gabor patch (see [`GaborPatch`]).
    Gabor(GaborPatch),
    /// A corner (see [`Angle`]).
    Angle(Angle),
}

impl From<Curve> for Stimulus {
    fn from(curve: Curve) -> Self {
        Stimulus::Curve(curve)
    }
}
impl From<Line> for Stimulus {
    fn from(line: Line) -> Self {
        Stimulus::Line(line)
    }
}
impl From<Edge> for Stimulus {
    fn from(edge: Edge) -> Self {
        Stimulus::Edge(edge)
    }
}
impl From<GaborPatch> for Stimulus {
    fn from(gabor: GaborPatch) -> Self {
        Stimulus::Gabor(gabor)
    }
}
impl From<Angle> for Stimulus {
    fn from(angle: Angle) -> Self {
        Stimulus::Angle(angle)
    }
}

impl Stimulus {
    /// The shape's name as used in the serialised tag: `curve`, `line`, `edge`, `gabor`, `angle`.
    pub fn kind(&self) -> &'static str {
        match self {
            Stimulus::Curve(_) => "curve",
            Stimulus::Line(_) => "line",
            Stimulus::Edge(_) => "edge",
            Stimulus::Gabor(_) => "gabor",
            Stimulus::Angle(_) => "angle",
        }
    }

    /// Checks every parameter; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        match self {
            Stimulus::Curve(s) => s.validate(),
            Stimulus::Line(s) => s.validate(),
            Stimulus::Edge(s) => s.validate(),
            Stimulus::Gabor(s) => s.validate(),
            Stimulus::Angle(s) => s.validate(),
        }
    }

    /// The orientation in degrees (radial for curves and angles; see each shape).
    pub fn orientation_deg(&self) -> f64 {
        match self {
            Stimulus::Curve(s) => s.orientation_deg,
            Stimulus::Line(s) => s.orientation_deg,
            Stimulus::Edge(s) => s.orientation_deg,
            Stimulus::Gabor(s) => s.orientation_deg,
            Stimulus::Angle(s) => s.orientation_deg,
        }
    }

    /// The anchor point: a curve's or angle's apex, a line's or Gabor's centre, an edge's point.
    pub fn position(&self) -> Offset {
        match self {
            Stimulus::Curve(s) => s.apex,
            Stimulus::Line(s) => s.centre,
            Stimulus::Edge(s) => s.point,
            Stimulus::Gabor(s) => s.centre,
            Stimulus::Angle(s) => s.apex,
        }
    }

    /// The same stimulus with orientation `orientation_deg`.
    pub fn with_orientation(mut self, orientation_deg: f64) -> Self {
        *self.orientation_mut() = orientation_deg;
        self
    }

    /// The same stimulus with its anchor point moved to `position`.
    pub fn with_position(mut self, position: Offset) -> Self {
        *self.position_mut() = position;
        self
    }

    /// The same stimulus moved by `by`.
    pub fn translated(self, by: Offset) -> Self {
        let position = self.position().translated(by);
        self.with_position(position)
    }

    /// The stimulus turned a quarter-turn clockwise about the image centre: orientation + 90°,
    /// anchor `(dx, dy) → (−dy, dx)`.
    ///
    /// Rendering the result into the transposed size gives exactly (bit for bit) the
    /// original's image turned by [`crate::StimulusImage::rotate90_cw`]. The orientation is
    /// snapped to a multiple of [`crate::geometry::ORIENTATION_QUANTUM_DEG`] and wrapped into
    /// `[0, 360)`, which the renderer does anyway, so the rotated stimulus renders with exactly
    /// the same residual angle.
    pub fn rotated_90_cw(self) -> Self {
        let orientation = add_quarter_turns(self.orientation_deg(), 1);
        let position = self.position().rotated_90_cw();
        self.with_orientation(orientation).with_position(position)
    }

    /// The stimulus mirrored left–right about the vertical line through the image centre:
    /// orientation θ → 180° − θ, anchor `dx → −dx`, and a Gabor's phase negated.
    ///
    /// Its rendering equals [`crate::StimulusImage::flip_horizontal`] of the original's up
    /// to floating-point rounding (the residual angle changes, so this is not bit-exact).
    pub fn mirrored_horizontally(self) -> Self {
        let orientation = normalize_degrees(180.0 - self.orientation_deg());
        let position = self.position().mirrored_horizontally();
        let mut mirrored = self.with_orientation(orientation).with_position(position);
        if let Stimulus::Gabor(g) = &mut mirrored {
            g.phase_deg = -g.phase_deg;
        }
        mirrored
    }

    fn orientation_mut(&mut self) -> &mut f64 {
        match self {
            Stimulus::Curve(s) => &mut s.orientation_deg,
            Stimulus::Line(s) => &mut s.orientation_deg,
            Stimulus::Edge(s) => &mut s.orientation_deg,
            Stimulus::Gabor(s) => &mut s.orientation_deg,
            Stimulus::Angle(s) => &mut s.orientation_deg,
        }
    }

    fn position_mut(&mut self) -> &mut Offset {
        match self {
            Stimulus::Curve(s) => &mut s.apex,
            Stimulus::Line(s) => &mut s.centre,
            Stimulus::Edge(s) => &mut s.point,
            Stimulus::Gabor(s) => &mut s.centre,
            Stimulus::Angle(s) => &mut s.apex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_parameter() {
        let bad = Stimulus::from(Curve::new(Offset::ZERO, -3.0, 0.0));
        let message = bad.validate().unwrap_err().to_string();
        assert!(
            message.contains("curve.radius") && message.contains("-3"),
            "{message}"
        );
        let bad = Stimulus::from(Angle::new(Offset::ZERO, 0.0, 190.0));
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("angle.opening_deg")
        );
        let bad = Stimulus::from(GaborPatch::new(Offset::ZERO, 0.0, 8.0, 3.0).with_contrast(0.0));
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("gabor.contrast")
        );
        let bad = Stimulus::from(Line::new(Offset::new(f64::NAN, 0.0), 0.0));
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("line.centre.dx")
        );
        let bad = Stimulus::from(Line::new(Offset::ZERO, 0.0).with_length(0.0));
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("line.length")
        );
        let bad = Stimulus::from(Edge::new(Offset::ZERO, f64::INFINITY));
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("edge.orientation_deg")
        );
    }
}
