//! Serialisation, errors, colours, sweeps and PNG output.

use aann_stimuli::{
    Angle, Curve, Edge, GaborPatch, ImageSize, Line, Offset, Stimulus, StimulusError,
    StimulusImage, Style, Sweep, degrees_range, render_many,
};

#[test]
fn stimuli_and_styles_round_trip_through_json() {
    let stimuli: Vec<Stimulus> = vec![
        Curve::new(Offset::new(1.5, -2.0), 40.0, 243.0)
            .with_fill(true)
            .into(),
        Line::new(Offset::ZERO, 10.0).into(),
        Line::new(Offset::ZERO, 10.0).with_length(12.0).into(),
        Edge::new(Offset::new(0.0, 3.0), 90.0).into(),
        GaborPatch::new(Offset::ZERO, 45.0, 8.0, 3.0)
            .with_phase(90.0)
            .into(),
        Angle::new(Offset::ZERO, 30.0, 60.0)
            .with_arm_length(20.0)
            .into(),
    ];
    for stimulus in &stimuli {
        let json = serde_json::to_string(stimulus).unwrap();
        assert!(
            json.contains(&format!("\"shape\":\"{}\"", stimulus.kind())),
            "{json}"
        );
        let back: Stimulus = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, stimulus);
    }
    let style = Style::coloured([0.2, 0.4, 0.6], [1.0, 0.9, 0.8]).with_supersampling(3);
    let back: Style = serde_json::from_str(&serde_json::to_string(&style).unwrap()).unwrap();
    assert_eq!(back, style);
}

#[test]
fn hand_written_json_gets_documented_defaults() {
    let curve: Stimulus = serde_json::from_str(
        r#"{"shape":"curve","apex":{"dx":0,"dy":0},"radius":30,"orientation_deg":90,"line_width":2}"#,
    )
    .unwrap();
    assert_eq!(curve, Stimulus::from(Curve::new(Offset::ZERO, 30.0, 90.0)));
    let style: Style =
        serde_json::from_str(r#"{"foreground":[0,0,0],"background":[1,1,1]}"#).unwrap();
    assert_eq!(style, Style::black_on_white());
    let typo = serde_json::from_str::<Stimulus>(
        r#"{"shape":"line","centre":{"dx":0,"dy":0},"orientation_deg":0,"line_width":2,"lenght":3}"#,
    );
    assert!(typo.is_err(), "unknown fields are rejected");
}

#[test]
fn bad_parameters_are_errors_that_name_them() {
    let size = ImageSize::square(16);
    let cases: Vec<(Stimulus, &str)> = vec![
        (Curve::new(Offset::ZERO, -5.0, 0.0).into(), "curve.radius"),
        (
            Curve::new(Offset::ZERO, 5.0, 0.0)
                .with_line_width(0.0)
                .into(),
            "curve.line_width",
        ),
        (
            Curve::new(Offset::ZERO, 5.0, 0.0)
                .with_arc_span(400.0)
                .into(),
            "curve.arc_span_deg",
        ),
        (
            Curve::new(Offset::new(2e6, 0.0), 5.0, 0.0).into(),
            "curve.apex.dx",
        ),
        (
            Line::new(Offset::ZERO, f64::NAN).into(),
            "line.orientation_deg",
        ),
        (
            GaborPatch::new(Offset::ZERO, 0.0, 0.0, 3.0).into(),
            "gabor.wavelength",
        ),
        (
            GaborPatch::new(Offset::ZERO, 0.0, 5.0, -1.0).into(),
            "gabor.sigma",
        ),
        (
            Angle::new(Offset::ZERO, 0.0, 0.0).into(),
            "angle.opening_deg",
        ),
        (
            Angle::new(Offset::ZERO, 0.0, 90.0)
                .with_arm_length(-1.0)
                .into(),
            "angle.arm_length",
        ),
    ];
    for (stimulus, parameter) in cases {
        let error = stimulus.render(size, &Style::default()).unwrap_err();
        assert!(
            matches!(error, StimulusError::InvalidParameter { parameter: p, .. } if p == parameter),
            "{error}"
        );
        assert!(error.to_string().contains(parameter), "{error}");
    }
    let line = Stimulus::from(Line::new(Offset::ZERO, 0.0));
    let error = line
        .render(ImageSize::new(16, 0), &Style::default())
        .unwrap_err();
    assert!(error.to_string().contains("size.height"), "{error}");
    let error = line
        .render(size, &Style::default().with_supersampling(0))
        .unwrap_err();
    assert!(error.to_string().contains("style.supersampling"), "{error}");
    let error = line.render(size, &Style::grey(1.5, 0.0)).unwrap_err();
    assert!(error.to_string().contains("style.foreground[0]"), "{error}");
}

#[test]
fn colours_and_polarity() {
    let size = ImageSize::square(21);
    let curve = Stimulus::from(Curve::new(Offset::ZERO, 8.0, 0.0));
    let dark = curve.render(size, &Style::black_on_white()).unwrap();
    let light = curve
        .render(size, &Style::black_on_white().inverted())
        .unwrap();
    // The apex pixel (the centre pixel of an odd image) is ink: black, or white when inverted.
    assert_eq!(dark.pixel(10, 10), [0.0; 3]);
    assert_eq!(light.pixel(10, 10), [1.0; 3]);
    assert_eq!(dark.pixel(0, 0), [1.0; 3]);
    // Inverting swaps every pixel's value v for 1 − v in black and white.
    for (a, b) in dark.rgb.iter().zip(&light.rgb) {
        assert!((a + b - 1.0).abs() < 1e-6);
    }
    // Colour: each pixel is the coverage-weighted mix of the two colours.
    let (fg, bg) = ([0.9, 0.3, 0.1], [0.1, 0.4, 0.8]);
    let coloured = curve.render(size, &Style::coloured(fg, bg)).unwrap();
    let coverage = curve.coverage(size, Style::DEFAULT_SUPERSAMPLING).unwrap();
    for (index, &t) in coverage.values.iter().enumerate() {
        for c in 0..3 {
            let expected = (1.0 - t) * bg[c] + t * fg[c];
            assert!((coloured.rgb[3 * index + c] - expected).abs() < 1e-6);
        }
    }
    // Grey styles give equal channels; luminance is the grey level.
    let grey = curve.render(size, &Style::grey(0.2, 0.7)).unwrap();
    let luminance = grey.luminance();
    for (p, l) in grey.rgb.chunks_exact(3).zip(&luminance) {
        assert!(p[0] == p[1] && p[1] == p[2] && (p[0] - l).abs() < 1e-6);
    }
    // Planar layout.
    let chw = coloured.to_chw();
    let pixels = size.pixel_count();
    assert_eq!(chw.len(), 3 * pixels);
    assert_eq!(chw[2 * pixels + 10 * 21 + 10], coloured.pixel(10, 10)[2]);
}

#[test]
fn sweep_enumerates_radius_rows_and_orientation_columns() {
    let orientations = degrees_range(0.0, 360.0, 90.0).unwrap();
    let radii = vec![100.0, 20.0, 8.0];
    let template = Curve::new(Offset::ZERO, 1.0, 0.0).with_line_width(1.5);
    let sweep = Sweep::curves(template, orientations, radii).unwrap();
    assert_eq!((sweep.rows(), sweep.columns(), sweep.len()), (3, 4, 12));
    assert_eq!(sweep.value_name(), "radius");
    let cell = sweep.cell(6).unwrap();
    assert_eq!(
        (cell.row, cell.column, cell.orientation_deg, cell.value),
        (1, 2, 180.0, 20.0)
    );
    assert_eq!(
        cell.stimulus,
        Stimulus::from(Curve {
            radius: 20.0,
            orientation_deg: 180.0,
            ..template
        })
    );
    assert!(sweep.cell(12).is_none());

    let size = ImageSize::square(24);
    let style = Style::black_on_white();
    let all = sweep.render_all(size, &style).unwrap();
    assert_eq!(all.len(), 12);
    for (index, rendered) in all.iter().enumerate() {
        assert_eq!(rendered.cell.index, index);
        assert_eq!(
            rendered.image,
            rendered.cell.stimulus.render(size, &style).unwrap()
        );
    }
    let middle = sweep.render_range(4..8, size, &style).unwrap();
    assert_eq!(middle.len(), 4);
    assert_eq!(middle[0], all[4]);
    assert_eq!(sweep.render_range(10..99, size, &style).unwrap().len(), 2);
    // Map each image to its sorted pixel values: a quarter-turn permutes pixels exactly, so
    // the four orientations of a row give identical multisets.
    let histograms = sweep
        .map_rendered(size, &style, |_, image| {
            let mut bits: Vec<u32> = image.rgb.iter().map(|v| v.to_bits()).collect();
            bits.sort_unstable();
            bits
        })
        .unwrap();
    assert_eq!(histograms.len(), 12);
    for row in histograms.chunks(4) {
        assert!(row.iter().all(|h| h == &row[0]));
    }
    assert_ne!(histograms[0], histograms[4], "different radii differ");
    // Cells serialise for JSON results.
    let json = serde_json::to_string(&cell).unwrap();
    assert!(json.contains("\"orientation_deg\":180.0"), "{json}");

    assert!(Sweep::curves(template, vec![], vec![1.0]).is_err());
    let bad = Sweep::curves(template, vec![0.0], vec![-1.0]).unwrap();
    assert!(
        bad.render_all(size, &style)
            .unwrap_err()
            .to_string()
            .contains("curve.radius")
    );
}

#[test]
fn angle_sweep_and_render_many() {
    let sweep = Sweep::angles(
        Angle::new(Offset::ZERO, 0.0, 90.0),
        vec![0.0, 45.0],
        vec![60.0, 120.0],
    )
    .unwrap();
    let cell = sweep.cell(3).unwrap();
    assert!(
        matches!(cell.stimulus, Stimulus::Angle(a) if a.orientation_deg == 45.0 && a.opening_deg == 120.0)
    );
    let stimuli: Vec<Stimulus> = sweep.cells().map(|cell| cell.stimulus).collect();
    let images = render_many(&stimuli, ImageSize::square(16), &Style::default()).unwrap();
    assert_eq!(images.len(), 4);
    assert_eq!(
        images[3],
        stimuli[3]
            .render(ImageSize::square(16), &Style::default())
            .unwrap()
    );
}

#[test]
fn png_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curve.png");
    let image = Stimulus::from(Curve::new(Offset::ZERO, 10.0, 45.0))
        .render(
            ImageSize::new(30, 20),
            &Style::coloured([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]),
        )
        .unwrap();
    image.save_png(&path).unwrap();
    let decoded = image::open(&path).unwrap().to_rgb8();
    assert_eq!(decoded.dimensions(), (30, 20));
    assert_eq!(decoded.into_raw(), image.to_rgb8());

    let missing = dir.path().join("no/such/dir/x.png");
    let error = image.save_png(&missing).unwrap_err();
    assert!(matches!(error, StimulusError::Png { .. }));
    assert!(error.to_string().contains("x.png"), "{error}");

    let sheet =
        StimulusImage::tile(&[image.clone(), image.clone(), image], 2, 1, [0.5; 3]).unwrap();
    assert_eq!(sheet.size(), ImageSize::new(61, 41));
}
