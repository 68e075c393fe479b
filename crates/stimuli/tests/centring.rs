//! Centring: stimuli land where they are asked to, measured from the image centre
//! `(width/2, height/2)`.

use std::f64::consts::PI;

use aann_stimuli::{Angle, Coverage, Curve, GaborPatch, ImageSize, Line, Offset, Stimulus};
use proptest::prelude::*;

fn image_point(offset: Offset, size: ImageSize) -> (f64, f64) {
    offset.to_image_point(size)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A segment is point-symmetric about its centre. When the requested centre lies on the
    /// half-pixel grid, reflecting through it maps pixels onto pixels, so the coverage must be
    /// symmetric to rounding: a misplacement of even 10⁻³ px would break that.
    #[test]
    fn segment_is_point_symmetric_about_its_requested_centre(
        theta in 0.0f64..360.0,
        half_dx in -8i32..8,
        half_dy in -8i32..8,
        length in 1.0f64..12.0,
        width in 0.3f64..4.0,
        side in prop_oneof![Just(32u32), Just(33u32)],
        n in 1u32..=5,
    ) {
        let size = ImageSize::square(side);
        let centre = Offset::new(f64::from(half_dx) / 2.0, f64::from(half_dy) / 2.0);
        let line = Stimulus::from(Line::new(centre, theta).with_length(length).with_line_width(width));
        let coverage = line.coverage(size, n).unwrap();
        let (px, py) = image_point(centre, size);
        let (twice_x, twice_y) = ((2.0 * px) as i64, (2.0 * py) as i64);
        for y in 0..side {
            for x in 0..side {
                let (rx, ry) = (twice_x - 1 - i64::from(x), twice_y - 1 - i64::from(y));
                let reflected = if (0..i64::from(side)).contains(&rx) && (0..i64::from(side)).contains(&ry) {
                    coverage.get(rx as u32, ry as u32)
                } else {
                    0.0
                };
                prop_assert!((coverage.get(x, y) - reflected).abs() < 1e-5,
                    "pixel ({x}, {y}) = {} but its reflection = {reflected}", coverage.get(x, y));
            }
        }
    }

    /// For arbitrary sub-pixel positions, the ink centroid of a short bar is its requested
    /// centre. Measuring a centroid from pixel values puts each pixel's ink at the pixel
    /// centre, which biases it by up to 1/8 px per partly covered pixel along an edge, i.e. at
    /// most 0.25/min(length, width); the tolerance allows that and nothing like a half-pixel
    /// misplacement.
    #[test]
    fn short_bar_centroid_is_its_centre(
        theta in 0.0f64..360.0,
        dx in -4.0f64..4.0,
        dy in -4.0f64..4.0,
        length in 5.0f64..10.0,
        width in 3.0f64..5.0,
        side in prop_oneof![Just(32u32), Just(33u32)],
    ) {
        let size = ImageSize::square(side);
        let centre = Offset::new(dx, dy);
        let line = Stimulus::from(Line::new(centre, theta).with_length(length).with_line_width(width));
        let (cx, cy) = line.coverage(size, 4).unwrap().centroid().unwrap();
        let (ex, ey) = image_point(centre, size);
        let tolerance = 0.25 / width + 0.005;
        prop_assert!((cx - ex).abs() < tolerance && (cy - ey).abs() < tolerance,
            "centroid ({cx}, {cy}) vs requested ({ex}, {ey})");
    }

    /// A 180° arc's ink centroid sits where the geometry of a half annulus puts it: on the
    /// axis through the apex, `r − c` behind the apex, with `c = (4/3π)(R³ − ρ³)/(R² − ρ²)` the
    /// centroid distance of a half annulus of radii `ρ = r − w/2` and `R = r + w/2`.
    ///
    /// The tolerance is the pixel-centre bias of a centroid measured from pixel values on a
    /// thin stroke (a few hundredths of a pixel; rendering the same arc 16× larger agrees with
    /// the formula to 10⁻³ px).
    #[test]
    fn arc_centroid_matches_the_half_annulus(
        theta in 0.0f64..360.0,
        dx in -3.0f64..3.0,
        dy in -3.0f64..3.0,
        radius in 4.0f64..18.0,
        width in 0.5f64..3.0,
    ) {
        let size = ImageSize::square(64);
        let apex = Offset::new(dx, dy);
        let curve = Stimulus::from(Curve::new(apex, radius, theta).with_line_width(width));
        let (cx, cy) = curve.coverage(size, 4).unwrap().centroid().unwrap();
        let (outer, inner) = (radius + width / 2.0, radius - width / 2.0);
        let from_centre = 4.0 / (3.0 * PI) * (outer.powi(3) - inner.powi(3)) / (outer.powi(2) - inner.powi(2));
        let (ax, ay) = image_point(apex, size);
        let t = theta.to_radians();
        let (ex, ey) = (ax - (radius - from_centre) * t.cos(), ay - (radius - from_centre) * t.sin());
        prop_assert!((cx - ex).abs() < 0.06 && (cy - ey).abs() < 0.06,
            "centroid ({cx}, {cy}) vs expected ({ex}, {ey})");
    }

    /// A curve is mirror-symmetric about its axis (the line through the apex along the
    /// orientation). With the axis vertical or horizontal and the apex on the half-pixel grid,
    /// the mirror maps pixels onto pixels, so the coverage must be symmetric to rounding.
    #[test]
    fn curve_is_mirror_symmetric_about_its_axis(
        quarter in 0u32..4,
        half_dx in -6i32..6,
        half_dy in -6i32..6,
        radius in 2.0f64..40.0,
        width in 0.3f64..4.0,
        span in 10.0f64..=360.0,
        fill in any::<bool>(),
    ) {
        let size = ImageSize::new(30, 31);
        let apex = Offset::new(f64::from(half_dx) / 2.0, f64::from(half_dy) / 2.0);
        let theta = 90.0 * f64::from(quarter);
        let curve = Curve::new(apex, radius, theta).with_line_width(width).with_arc_span(span).with_fill(fill);
        let coverage = Stimulus::from(curve).coverage(size, 3).unwrap();
        let (px, py) = image_point(apex, size);
        for y in 0..size.height {
            for x in 0..size.width {
                // Horizontal axis (0°, 180°): mirror rows; vertical axis: mirror columns.
                let (mx, my) = if quarter % 2 == 0 {
                    (i64::from(x), (2.0 * py) as i64 - 1 - i64::from(y))
                } else {
                    ((2.0 * px) as i64 - 1 - i64::from(x), i64::from(y))
                };
                let inside = (0..i64::from(size.width)).contains(&mx) && (0..i64::from(size.height)).contains(&my);
                if inside {
                    let (a, b) = (coverage.get(x, y), coverage.get(mx as u32, my as u32));
                    prop_assert!((a - b).abs() < 1e-5, "pixel ({x}, {y}) = {a}, mirror = {b}");
                }
            }
        }
    }

    /// A phase-0 Gabor patch is point-symmetric about its centre, so the centroid of its
    /// squared modulation is the centre.
    #[test]
    fn gabor_energy_centroid_is_its_centre(
        theta in 0.0f64..360.0,
        dx in -3.0f64..3.0,
        dy in -3.0f64..3.0,
        wavelength in 3.0f64..12.0,
        sigma in 2.0f64..5.0,
    ) {
        let size = ImageSize::new(48, 41);
        let centre = Offset::new(dx, dy);
        let gabor = Stimulus::from(GaborPatch::new(centre, theta, wavelength, sigma));
        let mut map = gabor.coverage(size, 3).unwrap();
        for v in &mut map.values {
            *v = (*v - 0.5).powi(2);
        }
        let (cx, cy) = map.centroid().unwrap();
        let (ex, ey) = image_point(centre, size);
        prop_assert!((cx - ex).abs() < 0.02 && (cy - ey).abs() < 0.02,
            "centroid ({cx}, {cy}) vs requested ({ex}, {ey})");
    }
}

/// Pixel `(x, y)` of `coverage` is `want`.
fn assert_pixel(coverage: &Coverage, (x, y): (u32, u32), want: f32, what: &str) {
    assert_eq!(coverage.get(x, y), want, "{what}");
}

/// In an odd-sized image the centre is the middle pixel's centre: a curve with its apex there
/// covers that pixel completely, whatever its orientation; the pixels 3 px beyond the apex
/// and 3 px inside the circle are blank unless the curve is filled.
#[test]
fn curve_apex_pixel_is_inked() {
    let size = ImageSize::square(33);
    for theta in [0.0, 90.0, 180.0, 270.0] {
        let curve = Curve::new(Offset::ZERO, 10.0, theta).with_line_width(2.0);
        let coverage = Stimulus::from(curve).coverage(size, 4).unwrap();
        assert_eq!(coverage.get(16, 16), 1.0, "apex pixel at {theta}°");
        let t: f64 = f64::to_radians(theta);
        let (ux, uy) = (t.cos().round() as i32, t.sin().round() as i32);
        let beyond = ((16 + 3 * ux) as u32, (16 + 3 * uy) as u32);
        let inside = ((16 - 3 * ux) as u32, (16 - 3 * uy) as u32);
        assert_pixel(
            &coverage,
            beyond,
            0.0,
            &format!("beyond the apex at {theta}°"),
        );
        assert_pixel(
            &coverage,
            inside,
            0.0,
            &format!("inside the arc at {theta}°"),
        );
        let filled = Stimulus::from(curve.with_fill(true))
            .coverage(size, 4)
            .unwrap();
        assert_pixel(
            &filled,
            inside,
            1.0,
            &format!("inside the filled arc at {theta}°"),
        );
        assert_pixel(
            &filled,
            beyond,
            0.0,
            &format!("beyond the filled apex at {theta}°"),
        );
    }
}

/// In an even-sized image the centre is a pixel corner: the four pixels around it share the
/// ink of a small centred dot-like line equally.
#[test]
fn even_image_centre_is_the_middle_corner() {
    let size = ImageSize::square(32);
    let dot = Stimulus::from(
        Line::new(Offset::ZERO, 0.0)
            .with_length(1.0)
            .with_line_width(1.0),
    );
    let coverage = dot.coverage(size, 4).unwrap();
    for (x, y) in [(15, 15), (16, 15), (15, 16), (16, 16)] {
        assert_eq!(coverage.get(x, y), 0.25, "pixel ({x}, {y})");
    }
    assert_eq!(coverage.total(), 1.0);
    assert_eq!(size.centre(), (16.0, 16.0));
}

/// An angle is symmetric about its orientation axis and its ink lies behind the apex, at
/// about half the arm length times cos(opening/2).
#[test]
fn angle_centroid_lies_on_its_axis_behind_the_apex() {
    let size = ImageSize::square(80);
    for (theta, opening) in [(0.0, 90.0), (37.0, 60.0), (200.0, 120.0), (300.0, 45.0)] {
        let apex = Offset::new(1.25, -0.5);
        let angle = Angle::new(apex, theta, opening)
            .with_arm_length(20.0)
            .with_line_width(1.5);
        let (cx, cy) = Stimulus::from(angle)
            .coverage(size, 4)
            .unwrap()
            .centroid()
            .unwrap();
        let (ax, ay) = apex.to_image_point(size);
        let t: f64 = f64::to_radians(theta);
        let along = (cx - ax) * t.cos() + (cy - ay) * t.sin();
        let across = -(cx - ax) * t.sin() + (cy - ay) * t.cos();
        let expected = -10.0 * f64::to_radians(opening / 2.0).cos();
        assert!(across.abs() < 0.02, "off-axis by {across} at {theta}°");
        assert!(
            (along - expected).abs() < 0.2,
            "along {along} vs {expected} at {theta}°"
        );
    }
}
