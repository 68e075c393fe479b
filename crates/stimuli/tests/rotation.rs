//! Exact quarter-turns: rendering a stimulus turned 90° about the image centre equals turning
//! its image by 90°, bit for bit; mirror images agree up to rounding.

use aann_stimuli::{Angle, Curve, Edge, GaborPatch, ImageSize, Line, Offset, Stimulus, Style};
use proptest::prelude::*;

fn offset(extent: f64) -> impl Strategy<Value = Offset> {
    (-extent..extent, -extent..extent).prop_map(|(dx, dy)| Offset::new(dx, dy))
}

fn orientation() -> impl Strategy<Value = f64> {
    prop_oneof![
        // Arbitrary reals, including negative and beyond one turn.
        -720.0f64..720.0,
        // Whole and half degrees, as sweeps use.
        (0i32..720).prop_map(|half_degrees| f64::from(half_degrees) / 2.0),
    ]
}

fn stimulus() -> impl Strategy<Value = Stimulus> {
    let curve = (
        offset(12.0),
        0.5f64..300.0,
        orientation(),
        prop_oneof![Just(180.0), 1.0f64..=360.0],
        0.1f64..8.0,
        any::<bool>(),
    )
        .prop_map(
            |(apex, radius, orientation_deg, arc_span_deg, line_width, fill)| {
                Stimulus::Curve(Curve {
                    apex,
                    radius,
                    orientation_deg,
                    arc_span_deg,
                    line_width,
                    fill,
                })
            },
        );
    let line = (
        offset(12.0),
        orientation(),
        proptest::option::of(0.2f64..40.0),
        0.1f64..8.0,
    )
        .prop_map(|(centre, orientation_deg, length, line_width)| {
            Stimulus::Line(Line {
                centre,
                orientation_deg,
                length,
                line_width,
            })
        });
    let edge = (offset(12.0), orientation())
        .prop_map(|(point, orientation_deg)| Stimulus::Edge(Edge::new(point, orientation_deg)));
    let gabor = (
        offset(12.0),
        orientation(),
        1.0f64..30.0,
        0.5f64..15.0,
        -360.0f64..360.0,
        0.05f64..=1.0,
    )
        .prop_map(
            |(centre, orientation_deg, wavelength, sigma, phase_deg, contrast)| {
                Stimulus::Gabor(GaborPatch {
                    centre,
                    orientation_deg,
                    wavelength,
                    sigma,
                    phase_deg,
                    contrast,
                })
            },
        );
    let angle = (
        offset(12.0),
        orientation(),
        1.0f64..=180.0,
        proptest::option::of(0.5f64..40.0),
        0.1f64..8.0,
        any::<bool>(),
    )
        .prop_map(
            |(apex, orientation_deg, opening_deg, arm_length, line_width, fill)| {
                Stimulus::Angle(Angle {
                    apex,
                    orientation_deg,
                    opening_deg,
                    arm_length,
                    line_width,
                    fill,
                })
            },
        );
    prop_oneof![curve, line, edge, gabor, angle]
}

fn style() -> impl Strategy<Value = Style> {
    (
        1u32..=5,
        any::<bool>(),
        0.0f32..=1.0,
        0.0f32..=1.0,
        0.0f32..=1.0,
    )
        .prop_map(|(supersampling, grey, r, g, b)| {
            let style = if grey {
                Style::grey(r, g)
            } else {
                Style::coloured([r, g, b], [b, r, g])
            };
            style.with_supersampling(supersampling)
        })
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// The core property, for square and non-square images of every shape.
    #[test]
    fn rendering_a_turned_stimulus_equals_turning_the_image(
        stimulus in stimulus(),
        width in 1u32..=24,
        height in 1u32..=24,
        style in style(),
    ) {
        let size = ImageSize::new(width, height);
        let turned_image = stimulus.render(size, &style).unwrap().rotate90_cw();
        let rendered_turned = stimulus.rotated_90_cw().render(size.transposed(), &style).unwrap();
        prop_assert_eq!(rendered_turned.size(), turned_image.size());
        prop_assert_eq!(bits(&rendered_turned.rgb), bits(&turned_image.rgb), "{:?}", stimulus);
    }

    /// Four quarter-turns of the stimulus render exactly the original image.
    #[test]
    fn four_quarter_turns_render_the_original(stimulus in stimulus(), side in 1u32..=20, n in 1u32..=4) {
        let size = ImageSize::square(side);
        let original = stimulus.coverage(size, n).unwrap();
        let full_turn = stimulus.rotated_90_cw().rotated_90_cw().rotated_90_cw().rotated_90_cw();
        prop_assert_eq!(bits(&full_turn.coverage(size, n).unwrap().values), bits(&original.values));
    }

    /// The user-level statement for hand-written stimuli: orientation + 90° and the position
    /// rotated about the centre, with orientations on a sweep's grid of half degrees.
    #[test]
    fn hand_rotated_curves_match_the_turned_image(
        half_degrees in 0i32..720,
        radius in 1.0f64..200.0,
        width in 0.3f64..6.0,
        apex in offset(8.0),
        side in 1u32..=28,
    ) {
        let theta = f64::from(half_degrees) / 2.0;
        let size = ImageSize::square(side);
        let curve = Curve::new(apex, radius, theta).with_line_width(width);
        let turned = Curve::new(Offset::new(-apex.dy, apex.dx), radius, theta + 90.0).with_line_width(width);
        let style = Style::black_on_white();
        let expected = Stimulus::from(curve).render(size, &style).unwrap().rotate90_cw();
        let actual = Stimulus::from(turned).render(size, &style).unwrap();
        prop_assert_eq!(bits(&actual.rgb), bits(&expected.rgb));
    }

    /// Mirror images are not bit-exact (the residual angle changes) but agree to rounding.
    #[test]
    fn mirrored_stimulus_renders_the_flipped_image(stimulus in stimulus(), width in 1u32..=20, height in 1u32..=20) {
        let size = ImageSize::new(width, height);
        let flipped = stimulus.coverage(size, 3).unwrap().flip_horizontal();
        let mirrored = stimulus.mirrored_horizontally().coverage(size, 3).unwrap();
        for (a, b) in flipped.values.iter().zip(&mirrored.values) {
            prop_assert!((a - b).abs() < 1e-4, "{a} vs {b} for {stimulus:?}");
        }
    }
}

/// The rotation property is not vacuous: an asymmetric stimulus changes when turned, and a
/// renderer that fed `θ + 90°` straight into `cos`/`sin` would not be bit-exact.
#[test]
fn turning_changes_asymmetric_stimuli_and_naive_trig_is_not_exact() {
    let size = ImageSize::square(32);
    let curve = Stimulus::from(Curve::new(Offset::new(1.3, -2.1), 9.0, 17.3));
    let image = curve.coverage(size, 4).unwrap();
    assert_ne!(image.values, image.rotate90_cw().values);

    // Naive trigonometry for θ and θ + 90° does not give swapped cos/sin bit for bit.
    let mut mismatches = 0;
    for tenth in 0..900 {
        let theta = f64::from(tenth) / 10.0 + 0.05;
        let (s0, c0) = theta.to_radians().sin_cos();
        let (s1, c1) = (theta + 90.0).to_radians().sin_cos();
        if c1.to_bits() != (-s0).to_bits() || s1.to_bits() != c0.to_bits() {
            mismatches += 1;
        }
    }
    assert!(
        mismatches > 100,
        "naive trig matched too often: {mismatches}"
    );
}
