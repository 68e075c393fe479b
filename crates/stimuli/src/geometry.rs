//! Image coordinates, offsets from the image centre, and angle conventions.
//!
//! # Coordinates
//!
//! Continuous image coordinates have their origin at the top-left corner of the image,
//! `x` pointing right and `y` pointing **down**, in pixels. Pixel `(i, j)` (column `i`,
//! row `j`) covers the unit square `[i, i+1) × [j, j+1)`, so its centre is at
//! `(i + 0.5, j + 0.5)`. The **centre of the image** is the point `(width/2, height/2)`:
//! for an odd size it is the centre of the middle pixel, for an even size the corner shared
//! by the four middle pixels.
//!
//! Stimulus positions are [`Offset`]s from that centre, so the same stimulus stays centred
//! when the image size changes and a quarter-turn of the image about its centre is an exact
//! swap-and-negate of the offset.
//!
//! # Angles
//!
//! All orientations are in degrees, measured **clockwise from +x** in image coordinates
//! (because `y` points down, a positive angle turns from "right" towards "down"), the same
//! convention as the Circuits articles' radial tuning plots. The direction at angle `θ` is
//! `(cos θ, sin θ)`: 0° points right, 90° down, 180° left, 270° up.
//!
//! For curves and angles the orientation is the **radial** angle of the facts sheet: the
//! direction from the circle's centre to the arc's apex, i.e. the side the curve bulges
//! towards. The heatmaps of the synthetic-stimulus figures use the **x-angle**, which is the
//! radial angle minus 180°: on that axis 0° is a "C" opening right. [`radial_to_x_angle`] and
//! [`x_angle_to_radial`] convert between them.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StimulusError, invalid};

/// A displacement from the image centre in pixels: `dx` to the right, `dy` downwards.
///
/// `Offset::ZERO` is the image centre `(width/2, height/2)`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Offset {
    /// Pixels to the right of the image centre.
    pub dx: f64,
    /// Pixels below the image centre.
    pub dy: f64,
}

impl Offset {
    /// The image centre itself.
    pub const ZERO: Offset = Offset { dx: 0.0, dy: 0.0 };

    /// An offset of `dx` pixels right and `dy` pixels down from the image centre.
    pub const fn new(dx: f64, dy: f64) -> Self {
        Offset { dx, dy }
    }

    /// The offset of the continuous image point `(x, y)` in an image of `size`.
    ///
    /// For example the centre of pixel `(i, j)` is `Offset::from_image_point(i + 0.5, j + 0.5, size)`.
    pub fn from_image_point(x: f64, y: f64, size: ImageSize) -> Self {
        Offset {
            dx: x - f64::from(size.width) / 2.0,
            dy: y - f64::from(size.height) / 2.0,
        }
    }

    /// The continuous image point `(x, y)` of this offset in an image of `size`.
    pub fn to_image_point(self, size: ImageSize) -> (f64, f64) {
        (
            self.dx + f64::from(size.width) / 2.0,
            self.dy + f64::from(size.height) / 2.0,
        )
    }

    /// This offset turned a quarter-turn clockwise about the image centre: `(dx, dy) → (−dy, dx)`.
    ///
    /// Exact in floating point (a swap and a negation).
    pub fn rotated_90_cw(self) -> Self {
        Offset {
            dx: -self.dy,
            dy: self.dx,
        }
    }

    /// This offset mirrored left–right about the vertical line through the image centre.
    pub fn mirrored_horizontally(self) -> Self {
        Offset {
            dx: -self.dx,
            dy: self.dy,
        }
    }

    /// The sum of two offsets.
    pub fn translated(self, by: Offset) -> Self {
        Offset {
            dx: self.dx + by.dx,
            dy: self.dy + by.dy,
        }
    }
}

/// Width and height of an image in pixels; both at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageSize {
    /// Number of columns.
    pub width: u32,
    /// Number of rows.
    pub height: u32,
}

/// Largest accepted image side, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 16_384;

impl ImageSize {
    /// A `width × height` size (checked when rendering).
    pub const fn new(width: u32, height: u32) -> Self {
        ImageSize { width, height }
    }

    /// A `side × side` square.
    pub const fn square(side: u32) -> Self {
        ImageSize {
            width: side,
            height: side,
        }
    }

    /// The size of this image after a quarter-turn: width and height swapped.
    pub const fn transposed(self) -> Self {
        ImageSize {
            width: self.height,
            height: self.width,
        }
    }

    /// The image centre `(width/2, height/2)` in continuous image coordinates.
    pub fn centre(self) -> (f64, f64) {
        (f64::from(self.width) / 2.0, f64::from(self.height) / 2.0)
    }

    /// Number of pixels.
    pub fn pixel_count(self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Checks that both sides are between 1 and [`MAX_IMAGE_SIDE`].
    pub fn validate(self) -> Result<()> {
        for (parameter, side) in [("size.width", self.width), ("size.height", self.height)] {
            if side == 0 || side > MAX_IMAGE_SIDE {
                return Err(invalid(
                    parameter,
                    f64::from(side),
                    "image sides must be between 1 and 16384 pixels",
                ));
            }
        }
        Ok(())
    }
}

/// `degrees` wrapped into `[0, 360)`.
pub fn normalize_degrees(degrees: f64) -> f64 {
    let wrapped = degrees.rem_euclid(360.0);
    // rem_euclid can return exactly 360.0 for tiny negative inputs.
    if wrapped >= 360.0 { 0.0 } else { wrapped }
}

/// Converts a radial angle (direction from the circle's centre to the apex, the side the
/// curve bulges towards) to the heatmap x-angle used by the synthetic-stimulus figures and
/// by Lucid's `rounded_corner`: `x = radial − 180°`, wrapped into `[0, 360)`.
///
/// On the x-angle axis a curve at 0° opens to the right ("C"), at 90° opens down ("∩"),
/// at 180° looks like ")" and at 270° like "∪".
pub fn radial_to_x_angle(radial_deg: f64) -> f64 {
    normalize_degrees(radial_deg - 180.0)
}

/// Converts a heatmap x-angle back to the radial convention: `radial = x + 180°`, wrapped
/// into `[0, 360)`. Inverse of [`radial_to_x_angle`].
pub fn x_angle_to_radial(x_angle_deg: f64) -> f64 {
    normalize_degrees(x_angle_deg + 180.0)
}

/// The angles `start, start + step, …` strictly below `stop`, e.g. `degrees_range(0, 360, 5)`
/// gives the 72 orientations 0°, 5°, …, 355°.
///
/// Each value is computed as `start + i·step` (no accumulated rounding), so integer inputs
/// give integer angles.
pub fn degrees_range(start: f64, stop: f64, step: f64) -> Result<Vec<f64>> {
    if !(start.is_finite() && stop.is_finite()) {
        return Err(invalid(
            "range.start/stop",
            if start.is_finite() { stop } else { start },
            "must be finite",
        ));
    }
    if !(step.is_finite() && step > 0.0) {
        return Err(invalid("range.step", step, "must be positive and finite"));
    }
    let count = ((stop - start) / step).ceil();
    if count > 1.0e7 {
        return Err(StimulusError::InvalidParameter {
            parameter: "range.step",
            value: step,
            requirement: "the range would hold more than ten million values",
        });
    }
    let count = count.max(0.0) as usize;
    Ok((0..count)
        .map(|i| start + i as f64 * step)
        .filter(|&angle| angle < stop)
        .collect())
}

/// Orientations are snapped to multiples of this many degrees (2⁻³², about 2.3·10⁻¹⁰°)
/// before rendering. With |angle| ≤ 10⁶ every snapped angle, its sum with 90° and its
/// remainder modulo 360° are exact in `f64`, which is what makes quarter-turns exact.
pub const ORIENTATION_QUANTUM_DEG: f64 = 1.0 / 4_294_967_296.0;

/// `degrees` snapped to a multiple of [`ORIENTATION_QUANTUM_DEG`].
pub(crate) fn snap_degrees(degrees: f64) -> f64 {
    (degrees / ORIENTATION_QUANTUM_DEG).round() * ORIENTATION_QUANTUM_DEG
}

/// `degrees + 90°·quarter_turns`, snapped and wrapped into `[0, 360)` — exactly.
///
/// Used by the `rotated_90_cw` methods so that rotating a stimulus never perturbs the
/// residual angle that the renderer evaluates with `cos`/`sin`.
pub(crate) fn add_quarter_turns(degrees: f64, quarter_turns: i32) -> f64 {
    normalize_degrees(snap_degrees(degrees) + 90.0 * f64::from(quarter_turns))
}

/// An orientation split into whole quarter-turns and a residual angle in `[0°, 90°)`.
///
/// The renderer applies the quarter-turns as exact coordinate swaps and negations and only
/// the residual with `cos`/`sin`; see `render`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SplitAngle {
    /// Number of clockwise quarter-turns, 0..=3.
    pub quarter_turns: u8,
    /// `cos` of the residual angle.
    pub cos: f64,
    /// `sin` of the residual angle.
    pub sin: f64,
}

impl SplitAngle {
    /// Splits `degrees` (snapped, wrapped) into quarter-turns and a residual.
    pub fn new(degrees: f64) -> Self {
        let wrapped = normalize_degrees(snap_degrees(degrees));
        let quarter_turns = if wrapped >= 270.0 {
            3
        } else if wrapped >= 180.0 {
            2
        } else if wrapped >= 90.0 {
            1
        } else {
            0
        };
        // Exact: both are multiples of the quantum below 2^10.
        let residual = (wrapped - 90.0 * f64::from(quarter_turns)).to_radians();
        SplitAngle {
            quarter_turns,
            cos: residual.cos(),
            sin: residual.sin(),
        }
    }

    /// Expresses the image-frame vector `(x, y)` in the frame whose +u axis points along this
    /// orientation: `u` is the component along it, `v` the component 90° clockwise from it.
    ///
    /// The quarter-turns are undone exactly first, so two orientations that differ by whole
    /// quarter-turns see bit-identical `(u, v)` for correspondingly rotated inputs.
    pub fn to_local(self, x: f64, y: f64) -> (f64, f64) {
        // Undo `quarter_turns` clockwise quarter-turns: a clockwise quarter-turn maps
        // (x, y) → (−y, x), its inverse maps (x, y) → (y, −x).
        let (x, y) = match self.quarter_turns {
            0 => (x, y),
            1 => (y, -x),
            2 => (-x, -y),
            _ => (-y, x),
        };
        (x * self.cos + y * self.sin, -x * self.sin + y * self.cos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_angle_quarter_turns_are_exact() {
        for degrees in [0.0, 0.1, 17.3, 89.999_999, 123.456, -33.0, 359.9, 1234.5] {
            let base = SplitAngle::new(degrees);
            let turned = SplitAngle::new(add_quarter_turns(degrees, 1));
            assert_eq!(
                turned.quarter_turns,
                (base.quarter_turns + 1) % 4,
                "{degrees}"
            );
            assert_eq!(turned.cos.to_bits(), base.cos.to_bits(), "{degrees}");
            assert_eq!(turned.sin.to_bits(), base.sin.to_bits(), "{degrees}");
            // A point rotated clockwise by a quarter-turn has the same local coordinates
            // under the rotated orientation.
            let (x, y) = (0.37, -2.9);
            assert_eq!(base.to_local(x, y), turned.to_local(-y, x));
        }
    }

    #[test]
    fn to_local_measures_along_the_orientation() {
        // 90° points down in image coordinates: a point below the origin is at u > 0.
        let down = SplitAngle::new(90.0);
        assert_eq!(down.to_local(0.0, 2.0), (2.0, 0.0));
        // 30°: the unit vector at 30° is (1, 0) locally.
        let a = SplitAngle::new(30.0);
        let t = 30f64.to_radians();
        let (u, v) = a.to_local(t.cos(), t.sin());
        assert!((u - 1.0).abs() < 1e-15 && v.abs() < 1e-15);
        // 90° clockwise from the orientation is +v.
        let (u, v) = a.to_local(
            (t + std::f64::consts::FRAC_PI_2).cos(),
            (t + std::f64::consts::FRAC_PI_2).sin(),
        );
        assert!(u.abs() < 1e-15 && (v - 1.0).abs() < 1e-15);
    }

    #[test]
    fn x_angle_round_trip_and_examples() {
        assert_eq!(radial_to_x_angle(0.0), 180.0);
        assert_eq!(radial_to_x_angle(243.0), 63.0);
        assert_eq!(x_angle_to_radial(0.0), 180.0);
        assert_eq!(x_angle_to_radial(270.0), 90.0);
        for radial in degrees_range(0.0, 360.0, 7.5).unwrap() {
            assert_eq!(x_angle_to_radial(radial_to_x_angle(radial)), radial);
        }
    }

    #[test]
    fn degrees_range_is_half_open_and_exact() {
        let angles = degrees_range(0.0, 360.0, 5.0).unwrap();
        assert_eq!(angles.len(), 72);
        assert_eq!(angles[71], 355.0);
        assert!(angles.iter().all(|a| a.fract() == 0.0));
        assert!(degrees_range(0.0, 360.0, 0.0).is_err());
        assert!(degrees_range(10.0, 0.0, 1.0).unwrap().is_empty());
    }

    #[test]
    fn image_size_validation_names_the_side() {
        let err = ImageSize::new(0, 5).validate().unwrap_err().to_string();
        assert!(err.contains("size.width"), "{err}");
        assert!(ImageSize::new(3, 5).validate().is_ok());
    }

    #[test]
    fn offsets_round_trip_through_image_points() {
        let size = ImageSize::new(7, 10);
        let o = Offset::from_image_point(3.5, 5.0, size);
        assert_eq!(o, Offset::new(0.0, 0.0));
        assert_eq!(Offset::new(1.0, -2.0).to_image_point(size), (4.5, 3.0));
    }
}
