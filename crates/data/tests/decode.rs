//! Decoding: colour models, bit depths, alpha, odd sizes and broken files.

use std::path::{Path, PathBuf};

use aann_data::{DecodeErrorKind, Preprocess, RgbImage, decode_rgb};
use image::{ImageBuffer, Luma, Rgba};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn assert_near(actual: [u8; 3], expected: [u8; 3], tolerance: u8, what: &str) {
    let close = actual
        .iter()
        .zip(expected)
        .all(|(a, e)| a.abs_diff(e) <= tolerance);
    assert!(
        close,
        "{what}: got {actual:?}, expected {expected:?} ± {tolerance}"
    );
}

/// The four-quadrant fixtures: red, green, blue, grey 127 (see tests/fixtures/make_fixtures.py).
fn assert_quadrants(image: &RgbImage, centres: [(u32, u32); 4], what: &str) {
    let expected = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [127, 127, 127]];
    for ((x, y), colour) in centres.into_iter().zip(expected) {
        assert_near(
            image.get_pixel(x, y).0,
            colour,
            6,
            &format!("{what} at ({x},{y})"),
        );
    }
}

const QUADRANT_CENTRES_32: [(u32, u32); 4] = [(8, 8), (24, 8), (8, 24), (24, 24)];

#[test]
fn cmyk_jpeg_with_adobe_marker_decodes_to_the_right_colours() {
    let image = decode_rgb(fixture("cmyk_adobe.jpg")).unwrap();
    assert_eq!(image.dimensions(), (32, 32));
    assert_quadrants(&image, QUADRANT_CENTRES_32, "CMYK");
}

#[test]
fn ycck_jpeg_decodes_to_the_right_colours() {
    let image = decode_rgb(fixture("ycck_adobe.jpg")).unwrap();
    assert_eq!(image.dimensions(), (32, 32));
    assert_quadrants(&image, QUADRANT_CENTRES_32, "YCCK");
}

#[test]
fn progressive_jpeg_of_odd_size() {
    let image = decode_rgb(fixture("progressive_37x23.jpg")).unwrap();
    assert_eq!(image.dimensions(), (37, 23));
    assert_quadrants(&image, [(9, 5), (27, 5), (9, 17), (27, 17)], "progressive");
}

#[test]
fn grayscale_jpeg_and_16_bit_png_become_equal_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let gray =
        ImageBuffer::<Luma<u8>, _>::from_fn(17, 9, |x, _| Luma([if x < 8 { 30 } else { 200 }]));
    let jpeg = dir.path().join("gray.jpg");
    gray.save(&jpeg).unwrap();
    let image = decode_rgb(&jpeg).unwrap();
    assert_eq!(image.dimensions(), (17, 9));
    let [r, g, b] = image.get_pixel(2, 4).0;
    assert!(r == g && g == b, "grey must stay grey: {:?}", [r, g, b]);
    assert!(r.abs_diff(30) <= 3 && image.get_pixel(14, 4).0[0].abs_diff(200) <= 3);

    let gray16 = ImageBuffer::<Luma<u16>, _>::from_fn(5, 3, |x, _| Luma([x as u16 * 16_000]));
    let png = dir.path().join("gray16.png");
    gray16.save(&png).unwrap();
    let image = decode_rgb(&png).unwrap();
    assert_eq!(image.dimensions(), (5, 3));
    for x in 0..5 {
        let expected = ((x as f64 * 16_000.0) / 257.0).round() as u8;
        assert_eq!(image.get_pixel(x, 1).0, [expected; 3], "x = {x}");
    }
}

#[test]
fn png_alpha_is_composited_over_white() {
    let dir = tempfile::tempdir().unwrap();
    // Opaque red, fully transparent black, half-transparent blue.
    let pixels = [[255, 0, 0, 255], [0, 0, 0, 0], [0, 0, 255, 128]];
    let rgba = ImageBuffer::<Rgba<u8>, _>::from_fn(3, 1, |x, _| Rgba(pixels[x as usize]));
    let path = dir.path().join("alpha.png");
    rgba.save(&path).unwrap();
    let image = decode_rgb(&path).unwrap();
    assert_eq!(image.get_pixel(0, 0).0, [255, 0, 0]);
    assert_eq!(image.get_pixel(1, 0).0, [255, 255, 255]);
    // 128/255 blue over white: R = G = 255 · 127/255 = 127, B = 255.
    assert_eq!(image.get_pixel(2, 0).0, [127, 127, 255]);

    let rgba16 = ImageBuffer::<Rgba<u16>, _>::from_fn(2, 1, |x, _| {
        if x == 0 {
            Rgba([65535, 0, 0, 65535])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let path16 = dir.path().join("alpha16.png");
    rgba16.save(&path16).unwrap();
    let image = decode_rgb(&path16).unwrap();
    assert_eq!(image.get_pixel(0, 0).0, [255, 0, 0]);
    assert_eq!(image.get_pixel(1, 0).0, [255, 255, 255]);
}

#[test]
fn format_comes_from_the_bytes_not_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let png_named_jpeg = dir.path().join("really_a_png.JPEG");
    image::RgbImage::from_pixel(3, 2, image::Rgb([1, 2, 3]))
        .save_with_format(&png_named_jpeg, image::ImageFormat::Png)
        .unwrap();
    let image = decode_rgb(&png_named_jpeg).unwrap();
    assert_eq!(image.get_pixel(2, 1).0, [1, 2, 3]);
}

fn error_kind(path: &Path) -> DecodeErrorKind {
    let err = decode_rgb(path).unwrap_err();
    assert_eq!(err.path, path);
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        err.to_string().contains(name),
        "error must name the file: {err}"
    );
    err.kind
}

#[test]
fn broken_files_are_reported_with_their_name_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::read(fixture("progressive_37x23.jpg")).unwrap();

    let truncated_jpeg = dir.path().join("truncated.jpg");
    std::fs::write(&truncated_jpeg, &real[..real.len() * 2 / 3]).unwrap();
    assert!(matches!(
        error_kind(&truncated_jpeg),
        DecodeErrorKind::Truncated(_)
    ));

    let baseline = dir.path().join("baseline.jpg");
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 7]))
        .save(&baseline)
        .unwrap();
    let bytes = std::fs::read(&baseline).unwrap();
    let truncated_baseline = dir.path().join("truncated_baseline.JPEG");
    std::fs::write(&truncated_baseline, &bytes[..bytes.len() - 40]).unwrap();
    assert!(matches!(
        error_kind(&truncated_baseline),
        DecodeErrorKind::Truncated(_)
    ));

    let png = dir.path().join("ok.png");
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 7]))
        .save(&png)
        .unwrap();
    let bytes = std::fs::read(&png).unwrap();
    let truncated_png = dir.path().join("truncated.png");
    std::fs::write(&truncated_png, &bytes[..bytes.len() / 2]).unwrap();
    let kind = error_kind(&truncated_png);
    assert!(
        matches!(
            kind,
            DecodeErrorKind::Truncated(_) | DecodeErrorKind::Corrupt(_)
        ),
        "{kind:?}"
    );

    // A JPEG header followed by garbage.
    let corrupt = dir.path().join("corrupt.jpg");
    let mut garbage = real[..20].to_vec();
    garbage.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
    std::fs::write(&corrupt, garbage).unwrap();
    let kind = error_kind(&corrupt);
    assert!(
        matches!(
            kind,
            DecodeErrorKind::Corrupt(_) | DecodeErrorKind::Truncated(_)
        ),
        "{kind:?}"
    );

    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "this is not an image").unwrap();
    assert!(matches!(error_kind(&text), DecodeErrorKind::NotAnImage(_)));

    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, "").unwrap();
    assert!(matches!(error_kind(&empty), DecodeErrorKind::NotAnImage(_)));

    let missing = dir.path().join("missing.jpg");
    assert!(matches!(
        error_kind(&missing),
        DecodeErrorKind::Unreadable(_)
    ));
}

#[test]
fn real_imagenet_image_through_the_lucid_preprocessing() {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/imagenet-sample/n01440764/tench.JPEG"
    ));
    let decoded = decode_rgb(&path).unwrap();
    assert_eq!(decoded.width().min(decoded.height()), 256);
    let (values, height, width) = Preprocess::lucid().load(&path).unwrap();
    assert_eq!((height, width), (224, 224));
    assert_eq!(values.len(), 3 * 224 * 224);
    // Pixels 0..255 minus 117: every value in [-117, 138], and a natural photo uses most of it.
    let (min, max) = values
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert!(min >= -117.0 && max <= 138.0, "{min}..{max}");
    assert!(max - min > 150.0, "suspiciously flat: {min}..{max}");
}
