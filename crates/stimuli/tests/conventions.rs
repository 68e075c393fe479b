//! The orientation conventions of the facts sheet: radial angles clockwise from +x with y
//! down, pointing where the curve bulges; x-angle = radial − 180°.

use aann_stimuli::{
    Angle, Coverage, Curve, Edge, GaborPatch, ImageSize, Line, Offset, Stimulus, radial_to_x_angle,
    x_angle_to_radial,
};

const SIZE: ImageSize = ImageSize::square(65);

fn coverage(stimulus: impl Into<Stimulus>) -> Coverage {
    stimulus.into().coverage(SIZE, 4).unwrap()
}

/// Ink centroid relative to the image centre.
fn centroid_offset(map: &Coverage) -> (f64, f64) {
    let (x, y) = map.centroid().unwrap();
    (x - 32.5, y - 32.5)
}

/// The furthest extent of ink (pixels with coverage > 0.5) in each direction, relative to the
/// image centre: (min x, max x, min y, max y) of pixel centres.
fn ink_extent(map: &Coverage) -> (f64, f64, f64, f64) {
    let mut extent = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for y in 0..map.height {
        for x in 0..map.width {
            if map.get(x, y) > 0.5 {
                let (px, py) = (f64::from(x) + 0.5 - 32.5, f64::from(y) + 0.5 - 32.5);
                extent = (
                    extent.0.min(px),
                    extent.1.max(px),
                    extent.2.min(py),
                    extent.3.max(py),
                );
            }
        }
    }
    extent
}

#[test]
fn radial_zero_bulges_right_like_a_closing_parenthesis() {
    // ")" : the apex is the rightmost ink; the arc's ends are up and down at the circle
    // centre's x, 12 px to the left.
    let map = coverage(Curve::new(Offset::ZERO, 12.0, 0.0).with_line_width(2.0));
    let (min_x, max_x, min_y, max_y) = ink_extent(&map);
    assert!((0.0..=1.0).contains(&max_x), "rightmost ink at {max_x}");
    assert!((min_x + 12.0).abs() <= 1.5, "leftmost ink at {min_x}");
    assert!(
        (min_y + 12.0).abs() <= 1.5 && (max_y - 12.0).abs() <= 1.5,
        "ends at {min_y}, {max_y}"
    );
    let (cx, cy) = centroid_offset(&map);
    assert!(cx < -3.0 && cy.abs() < 0.05, "centroid ({cx}, {cy})");
}

#[test]
fn radial_quarter_turns_give_smile_open_paren_and_frown() {
    // Each shape's ink lies behind the apex, opposite the orientation: 90° = "‿" (ink above
    // the apex, the apex the lowest ink), 180° = "(" , 270° = "∩".
    for (theta, expected) in [
        (90.0, (0.0, -1.0)),
        (180.0, (1.0, 0.0)),
        (270.0, (0.0, 1.0)),
    ] {
        let map = coverage(Curve::new(Offset::ZERO, 12.0, theta).with_line_width(2.0));
        let (cx, cy) = centroid_offset(&map);
        let along = cx * expected.0 + cy * expected.1;
        let across = cx * expected.1 - cy * expected.0;
        assert!(
            along > 3.0 && across.abs() < 0.05,
            "{theta}°: centroid ({cx}, {cy})"
        );
    }
    let smile = coverage(Curve::new(Offset::ZERO, 12.0, 90.0).with_line_width(2.0));
    let (_, _, _, max_y) = ink_extent(&smile);
    assert!((0.0..=1.0).contains(&max_y), "lowest ink of ‿ at {max_y}");
}

#[test]
fn radial_243_is_the_upper_left_arc_of_3b_379() {
    // The facts sheet: 3b:379 prefers radial 243°, an arc at the upper-left of its circle
    // ("╭") opening towards the lower right. Its ink lies towards 63° from the apex.
    let map = coverage(Curve::new(Offset::ZERO, 12.0, 243.0).with_line_width(2.0));
    let (cx, cy) = centroid_offset(&map);
    let direction = cy.atan2(cx).to_degrees();
    assert!((direction - 63.0).abs() < 1.0, "ink towards {direction}°");
}

#[test]
fn heatmap_x_angle_zero_opens_right_like_c() {
    // x-angle 0 is "C" opening right: radial 180°, bulging left.
    assert_eq!(x_angle_to_radial(0.0), 180.0);
    let map = coverage(Curve::new(Offset::ZERO, 12.0, x_angle_to_radial(0.0)));
    let (cx, _) = centroid_offset(&map);
    assert!(cx > 3.0, "C's ink lies right of its apex, centroid x {cx}");
    // x-angle 90 opens down ("∩"), i.e. radial 270 bulging up.
    assert_eq!(x_angle_to_radial(90.0), 270.0);
    assert_eq!(radial_to_x_angle(270.0), 90.0);
}

#[test]
fn circle_centre_is_behind_the_apex() {
    let curve = Curve::new(Offset::new(1.0, 2.0), 10.0, 90.0);
    let centre = curve.circle_centre();
    assert!(
        (centre.dx - 1.0).abs() < 1e-12 && (centre.dy + 8.0).abs() < 1e-12,
        "{centre:?}"
    );
}

#[test]
fn angle_zero_points_right_like_greater_than() {
    // ">" : the apex is the rightmost ink, the arms go up-left and down-left.
    let map = coverage(
        Angle::new(Offset::ZERO, 0.0, 90.0)
            .with_arm_length(14.0)
            .with_line_width(2.0),
    );
    let (min_x, max_x, min_y, max_y) = ink_extent(&map);
    assert!((0.0..=2.0).contains(&max_x), "rightmost ink at {max_x}");
    let reach = 14.0 * std::f64::consts::FRAC_1_SQRT_2;
    assert!((min_x + reach).abs() < 1.5, "leftmost ink at {min_x}");
    assert!(
        (min_y + reach).abs() < 1.5 && (max_y - reach).abs() < 1.5,
        "arms reach {min_y}, {max_y}"
    );
    // No ink in the open side of the corner, 6 px left of the apex on the axis.
    assert_eq!(map.get(26, 32), 0.0);
    // Filled, that spot is inside the triangle.
    let filled = coverage(
        Angle::new(Offset::ZERO, 0.0, 90.0)
            .with_arm_length(14.0)
            .with_fill(true),
    );
    assert_eq!(filled.get(26, 32), 1.0);
}

#[test]
fn line_orientation_is_its_direction_with_y_down() {
    // 45° runs from upper-left to lower-right.
    let map = coverage(Line::new(Offset::ZERO, 45.0).with_length(30.0));
    assert!(map.get(32 - 8, 32 - 8) > 0.9 && map.get(32 + 8, 32 + 8) > 0.9);
    assert_eq!(map.get(32 + 8, 32 - 8), 0.0);
    assert_eq!(map.get(32 - 8, 32 + 8), 0.0);
    // A line and the same line turned by 180° are the same.
    let flipped = coverage(Line::new(Offset::ZERO, 225.0).with_length(30.0));
    for (a, b) in map.values.iter().zip(&flipped.values) {
        assert!((a - b).abs() < 1e-6);
    }
}

#[test]
fn edge_orientation_points_from_foreground_to_background() {
    // 0°: foreground on the left; 90°: foreground on top.
    let right = coverage(Edge::new(Offset::ZERO, 0.0));
    assert_eq!((right.get(10, 32), right.get(50, 32)), (1.0, 0.0));
    let down = coverage(Edge::new(Offset::ZERO, 90.0));
    assert_eq!((down.get(32, 10), down.get(32, 50)), (1.0, 0.0));
    // An edge is the limit of a filled curve of large radius with the same orientation.
    let big = coverage(
        Curve::new(Offset::ZERO, 1.0e5, 0.0)
            .with_line_width(1.0)
            .with_fill(true),
    );
    assert_eq!((big.get(10, 32), big.get(50, 32)), (1.0, 0.0));
}

#[test]
fn gabor_stripes_run_along_the_orientation() {
    // Phase 0: a full-foreground stripe through the centre, running along 30°.
    let gabor = GaborPatch::new(Offset::ZERO, 30.0, 8.0, 6.0);
    let map = coverage(gabor);
    assert!(map.get(32, 32) > 0.95, "centre {}", map.get(32, 32));
    // Pixels whose centres are 4 px from the image centre (32.5, 32.5) along the stripe and
    // across it (half a period: a background stripe).
    let t = 30f64.to_radians();
    let pixel = |dx: f64, dy: f64| ((32.5 + dx).floor() as u32, (32.5 + dy).floor() as u32);
    let along = pixel(4.0 * t.cos(), 4.0 * t.sin());
    let across = pixel(-4.0 * t.sin(), 4.0 * t.cos());
    assert!(
        map.get(along.0, along.1) > 0.7,
        "along the stripe {}",
        map.get(along.0, along.1)
    );
    assert!(
        map.get(across.0, across.1) < 0.3,
        "half a period across {}",
        map.get(across.0, across.1)
    );
    // Far away the patch fades to the midpoint between the colours.
    assert!((map.get(0, 64) - 0.5).abs() < 1e-6);
}
