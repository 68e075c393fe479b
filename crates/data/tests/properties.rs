//! Property tests: the label-map parser round-trips, broken bytes never decode or panic, and
//! rescaled sizes keep the shorter side and the aspect ratio.

use std::path::Path;

use aann_data::{DecodeErrorKind, Rescale, Resize, decode_rgb_from_memory, parse_label_map};
use proptest::prelude::*;

fn layout() -> impl Strategy<Value = (String, String)> {
    // Whitespace and comments between tokens, as the text format allows.
    (
        prop::sample::select(vec![" ", "  ", "\n", "\n  ", " # note\n"]),
        prop::sample::select(vec!["", ":"]),
    )
        .prop_map(|(gap, colon)| (gap.to_owned(), colon.to_owned()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn label_map_round_trips(
        entries in prop::collection::vec((0u32..5000, 0u32..100_000_000), 0..20),
        (gap, colon) in layout(),
    ) {
        let mut text = String::from("# header\n");
        let mut lines = Vec::new();
        for (target, digits) in &entries {
            lines.push(text.matches('\n').count() + 1);
            text.push_str(&format!(
                "entry{colon}{gap}{{{gap}target_class:{gap}{target}{gap}target_class_string: \"n{digits:08}\"{gap}}}\n"
            ));
        }
        let parsed = parse_label_map(&text, Path::new("m.pbtxt")).unwrap();
        prop_assert_eq!(parsed.len(), entries.len());
        for ((entry, (target, digits)), line) in parsed.iter().zip(&entries).zip(lines) {
            prop_assert_eq!(entry.target_class, *target);
            prop_assert_eq!(&entry.target_class_string, &format!("n{digits:08}"));
            prop_assert_eq!(entry.line, line);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), jpeg_head in any::<bool>()) {
        let mut data = if jpeg_head { vec![0xFF, 0xD8, 0xFF] } else { Vec::new() };
        data.extend(bytes);
        // Must return (Ok or a classified error), not panic.
        let _ = decode_rgb_from_memory(&data, Path::new("random.jpg"));
    }

    #[test]
    fn every_strict_prefix_of_a_jpeg_is_refused(width in 1u32..40, height in 1u32..40, cut in 0.0f64..1.0) {
        let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 9) as u8, (y * 11) as u8, 77]));
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&image).unwrap();
        let whole = decode_rgb_from_memory(&bytes, Path::new("whole.jpg")).unwrap();
        prop_assert_eq!(whole.dimensions(), (width, height));
        let length = ((bytes.len() as f64) * cut) as usize;
        let err = decode_rgb_from_memory(&bytes[..length], Path::new("cut.jpg")).unwrap_err();
        let refused = matches!(
            err.kind,
            DecodeErrorKind::Truncated(_) | DecodeErrorKind::Corrupt(_) | DecodeErrorKind::NotAnImage(_)
        );
        prop_assert!(refused, "{:?}", err);
    }

    #[test]
    fn shorter_side_rescale_keeps_aspect(width in 1u32..5000, height in 1u32..5000, side in 1u32..600) {
        let resize = Resize { rescale: Rescale::ShorterSide(side), centre_crop: None };
        let (w, h) = resize.rescaled_size(width, height);
        prop_assert_eq!(w.min(h), side);
        // The longer side is floor(longer · side / shorter).
        let (long, short, new_long) = if width <= height { (height, width, h) } else { (width, height, w) };
        let exact = u64::from(long) * u64::from(side);
        prop_assert!(u64::from(new_long) * u64::from(short) <= exact);
        prop_assert!(exact < (u64::from(new_long) + 1) * u64::from(short));
    }
}
