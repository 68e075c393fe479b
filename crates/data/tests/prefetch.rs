//! Background batching: every image exactly once, in order, with failures reported.

use std::collections::BTreeSet;
use std::path::Path;

use aann_data::{
    DecodeErrorKind, ImageEntry, ImageSet, InputSpec, PrefetchConfig, Preprocess, Rescale, Resize,
    prefetch,
};

const IMAGES: usize = 23;
/// Positions (in key order) of the files that are not valid images.
const BROKEN: [usize; 3] = [4, 5, 17];

/// A set of `IMAGES` 8×6 images named `img00.png`…; image `i` is filled with red = 10·i (so its
/// values identify it), except the `BROKEN` ones, which are a truncated JPEG or text.
fn make_set(dir: &Path) -> ImageSet {
    let mut entries = Vec::new();
    for i in 0..IMAGES {
        let path = dir.join(format!("img{i:02}.png"));
        if BROKEN.contains(&i) {
            if i % 2 == 0 {
                std::fs::write(&path, "not an image").unwrap();
            } else {
                let jpeg = dir.join("whole.jpg");
                image::RgbImage::from_pixel(32, 32, image::Rgb([9, 9, 9]))
                    .save(&jpeg)
                    .unwrap();
                let bytes = std::fs::read(&jpeg).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
            }
        } else {
            image::RgbImage::from_pixel(8, 6, image::Rgb([10 * i as u8, 0, 0]))
                .save(&path)
                .unwrap();
        }
        entries.push(ImageEntry {
            key: format!("img{i:02}.png"),
            path,
            label: Some(i % 3),
        });
    }
    entries.reverse(); // from_entries sorts them back.
    ImageSet::from_entries(entries, 1000).unwrap()
}

fn preprocess() -> Preprocess {
    Preprocess {
        resize: Resize {
            rescale: Rescale::Keep,
            centre_crop: Some((4, 6)),
        },
        input: InputSpec::lucid(),
    }
}

/// The image index encoded in a good image's first value (red − 117 = 10·i − 117).
fn index_from_pixels(values: &[f32]) -> usize {
    ((values[0] + 117.0) / 10.0).round() as usize
}

#[test]
fn every_image_once_in_order_with_failures_reported() {
    let dir = tempfile::tempdir().unwrap();
    let set = make_set(dir.path());
    for threads in [None, Some(2)] {
        let config = PrefetchConfig {
            batch_size: 5,
            batches_ahead: 2,
            start: 0,
            threads,
        };
        let batches: Vec<_> = prefetch(&set, preprocess(), config).unwrap().collect();
        assert_eq!(batches.len(), 5, "23 images in batches of 5");
        let mut next_position = 0;
        let mut good = Vec::new();
        let mut failed = Vec::new();
        for batch in &batches {
            assert_eq!(batch.first_position, next_position);
            assert_eq!(batch.attempted, batch.entries.len() + batch.failures.len());
            next_position += batch.attempted;
            assert_eq!(batch.shape(), [batch.entries.len(), 3, 4, 6]);
            assert_eq!(batch.pixels.len(), batch.entries.len() * 3 * 4 * 6);
            for (i, entry) in batch.entries.iter().enumerate() {
                // The pixels at slot i are those of entry i.
                let index: usize = entry.key[3..5].parse().unwrap();
                assert_eq!(
                    index_from_pixels(batch.image_pixels(i)),
                    index,
                    "{}",
                    entry.key
                );
                good.push(index);
            }
            for failure in &batch.failures {
                assert_eq!(set.entries()[failure.position], failure.entry);
                assert_eq!(failure.reason.path, failure.entry.path);
                assert!(matches!(
                    failure.reason.kind,
                    DecodeErrorKind::NotAnImage(_) | DecodeErrorKind::Truncated(_)
                ));
                failed.push(failure.position);
            }
        }
        assert_eq!(next_position, IMAGES);
        assert_eq!(failed, BROKEN.to_vec());
        let expected_good: Vec<usize> = (0..IMAGES).filter(|i| !BROKEN.contains(i)).collect();
        assert_eq!(good, expected_good, "good images in set order");
        // Batch 1 (positions 5..10) lost position 5; batch 0 lost position 4.
        assert_eq!(batches[0].entries.len(), 4);
        assert_eq!(batches[1].failures.len(), 1);
        assert_eq!(batches[4].attempted, 3);
        assert_eq!(
            batches[0].labels(),
            vec![Some(0), Some(1), Some(2), Some(0)]
        );
    }
}

#[test]
fn resume_from_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let set = make_set(dir.path());
    let config = PrefetchConfig {
        batch_size: 4,
        start: 18,
        ..PrefetchConfig::default()
    };
    let prefetcher = prefetch(&set, preprocess(), config).unwrap();
    assert_eq!(prefetcher.len(), 2);
    let batches: Vec<_> = prefetcher.collect();
    assert_eq!(batches[0].first_position, 18);
    assert_eq!(batches[1].first_position, 22);
    let keys: BTreeSet<_> = batches
        .iter()
        .flat_map(|b| b.entries.iter().map(|e| e.key.clone()))
        .collect();
    let expected: BTreeSet<_> = (18..IMAGES).map(|i| format!("img{i:02}.png")).collect();
    assert_eq!(keys, expected);

    let at_end = PrefetchConfig {
        start: IMAGES,
        ..PrefetchConfig::default()
    };
    assert_eq!(prefetch(&set, preprocess(), at_end).unwrap().count(), 0);
    let past_end = PrefetchConfig {
        start: IMAGES + 1,
        ..PrefetchConfig::default()
    };
    assert!(prefetch(&set, preprocess(), past_end).is_err());
}

#[test]
fn dropping_early_stops_the_producer() {
    let dir = tempfile::tempdir().unwrap();
    let set = make_set(dir.path());
    let config = PrefetchConfig {
        batch_size: 1,
        batches_ahead: 1,
        ..PrefetchConfig::default()
    };
    let mut prefetcher = prefetch(&set, preprocess(), config).unwrap();
    assert_eq!(prefetcher.next().unwrap().first_position, 0);
    drop(prefetcher); // Must not hang on the producer blocked on a full queue.
}

#[test]
fn invalid_configurations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let set = make_set(dir.path());
    let no_fixed_size = Preprocess {
        resize: Resize::none(),
        input: InputSpec::caffe(),
    };
    let err = prefetch(&set, no_fixed_size, PrefetchConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("one size"), "{err}");
    let zero_batch = PrefetchConfig {
        batch_size: 0,
        ..PrefetchConfig::default()
    };
    assert!(prefetch(&set, preprocess(), zero_batch).is_err());
    let zero_threads = PrefetchConfig {
        threads: Some(0),
        ..PrefetchConfig::default()
    };
    assert!(prefetch(&set, preprocess(), zero_threads).is_err());
}
