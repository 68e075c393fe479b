//! What an image set *is*, independent of what its files are called: the SHA-256 of every
//! image file's bytes and of its decoded pixels, a digest of the whole list, and the check
//! that two splits share no image content (a tune image copied under another name into the
//! test set is refused, and so is one saved again in another lossless format).

use std::collections::HashMap;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::decode::decode_rgb_from_memory;
use crate::{DataError, ImageSet};

/// The content of an image set: one SHA-256 per image (of the file's bytes), in the set's
/// order, and one digest of the list (keys, labels and contents), for provenance and cache
/// keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentDigest {
    /// `(key, sha256 of the file's bytes)` per image, in the set's order.
    pub images: Vec<(String, String)>,
    /// SHA-256 of each image's decoded pixels (width, height, RGB bytes), in the set's
    /// order, `None` for a file that does not decode; empty unless the digest was taken
    /// by [`split_digest`] (decoding is only worth it where splits are compared).
    pub pixels: Vec<Option<String>>,
    /// SHA-256 over every image's key, label and content hash, in order.
    pub list_sha256: String,
}

/// Hash every image file of `set` (in parallel): the identity of a list, for provenance and
/// cache keys. A file that cannot be read is an error naming it.
pub fn content_digest(set: &ImageSet) -> Result<ContentDigest, DataError> {
    digest(set, false)
}

/// The same, with every image's decoded pixels hashed too: what [`check_disjoint`] needs to
/// catch a picture saved again in another file.
pub fn split_digest(set: &ImageSet) -> Result<ContentDigest, DataError> {
    digest(set, true)
}

fn digest(set: &ImageSet, decoded: bool) -> Result<ContentDigest, DataError> {
    let hashes: Vec<Result<(String, Option<String>), DataError>> = set
        .entries()
        .par_iter()
        .map(|e| {
            let bytes = std::fs::read(&e.path).map_err(|err| DataError::io(&e.path, err))?;
            if !decoded {
                return Ok((hex::encode(Sha256::digest(&bytes)), None));
            }
            let pixels = decode_rgb_from_memory(&bytes, &e.path).ok().map(|image| {
                let mut h = Sha256::new();
                h.update(image.width().to_le_bytes());
                h.update(image.height().to_le_bytes());
                h.update(image.as_raw());
                hex::encode(h.finalize())
            });
            Ok((hex::encode(Sha256::digest(&bytes)), pixels))
        })
        .collect();
    let mut images = Vec::with_capacity(set.len());
    let mut pixels = Vec::with_capacity(set.len());
    let mut list = Sha256::new();
    for (entry, hash) in set.iter().zip(hashes) {
        let (hash, image_pixels) = hash?;
        if decoded {
            pixels.push(image_pixels);
        }
        list.update(entry.key.as_bytes());
        list.update([0]);
        list.update(format!("{:?}", entry.label).as_bytes());
        list.update([0]);
        list.update(hash.as_bytes());
        list.update([b'\n']);
        images.push((entry.key.clone(), hash));
    }
    Ok(ContentDigest {
        images,
        pixels,
        list_sha256: hex::encode(list.finalize()),
    })
}

/// Refuse two splits that hold the same image content under any names: the same file bytes,
/// or (for digests taken by [`split_digest`]) the same decoded pixels. `first` and
/// `second` are `(role, digest)` pairs, e.g. `("tune", …)` and `("test", …)`.
pub fn check_disjoint(
    first: (&str, &ContentDigest),
    second: (&str, &ContentDigest),
) -> Result<(), DataError> {
    // The same file bytes, or the same decoded pixels in another file.
    let files: HashMap<&str, &str> = first
        .1
        .images
        .iter()
        .map(|(k, h)| (h.as_str(), k.as_str()))
        .collect();
    let decoded: HashMap<&str, &str> = first
        .1
        .images
        .iter()
        .zip(&first.1.pixels)
        .filter_map(|((k, _), p)| Some((p.as_deref()?, k.as_str())))
        .collect();
    let shared: Vec<String> = second
        .1
        .images
        .iter()
        .enumerate()
        .filter_map(|(i, (k, h))| match files.get(h.as_str()) {
            Some(f) => Some(format!("{k} = {f}")),
            None => second
                .1
                .pixels
                .get(i)
                .and_then(|p| decoded.get(p.as_deref()?))
                .map(|f| format!("{k} = {f} (the same pixels in another file)")),
        })
        .collect();
    if shared.is_empty() {
        return Ok(());
    }
    Err(DataError::SharedImages {
        first: first.0.to_string(),
        second: second.0.to_string(),
        count: shared.len(),
        examples: shared.into_iter().take(5).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ImageEntry;

    fn set_of(dir: &std::path::Path, files: &[(&str, &[u8])]) -> ImageSet {
        let entries = files
            .iter()
            .map(|(name, bytes)| {
                let path = dir.join(name);
                std::fs::write(&path, bytes).unwrap();
                ImageEntry {
                    key: name.to_string(),
                    path,
                    label: Some(1),
                }
            })
            .collect();
        ImageSet::from_entries(entries, 1000).unwrap()
    }

    #[test]
    fn a_renamed_copy_is_caught_and_distinct_sets_pass() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let tune = set_of(a.path(), &[("x.jpg", b"one"), ("y.jpg", b"two")]);
        let test = set_of(b.path(), &[("renamed.jpg", b"two"), ("z.jpg", b"three")]);
        let (dt, ds) = (
            content_digest(&tune).unwrap(),
            content_digest(&test).unwrap(),
        );
        let err = check_disjoint(("tune", &dt), ("test", &ds)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("share 1 image"), "{text}");
        assert!(text.contains("renamed.jpg = y.jpg"), "{text}");
        let other = set_of(b.path(), &[("z.jpg", b"three")]);
        check_disjoint(("tune", &dt), ("test", &content_digest(&other).unwrap())).unwrap();
    }

    /// A small JPEG, and its decoded pixels saved again as a PNG: other bytes, same pixels.
    fn jpeg_and_png() -> (Vec<u8>, Vec<u8>) {
        let img =
            image::RgbImage::from_fn(9, 7, |x, y| image::Rgb([x as u8 * 20, y as u8 * 30, 77]));
        let encode = |img: &image::RgbImage, format| {
            let mut bytes = std::io::Cursor::new(Vec::new());
            img.write_to(&mut bytes, format).unwrap();
            bytes.into_inner()
        };
        let jpeg = encode(&img, image::ImageFormat::Jpeg);
        let decoded = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        (jpeg, encode(&decoded, image::ImageFormat::Png))
    }

    #[test]
    fn the_same_pixels_in_another_lossless_file_are_caught() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let (jpeg, png) = jpeg_and_png();
        assert_ne!(jpeg, png);
        let tune = set_of(a.path(), &[("x.jpg", &jpeg), ("y.jpg", b"two")]);
        let test = set_of(b.path(), &[("saved-again.png", &png)]);
        let (dt, ds) = (split_digest(&tune).unwrap(), split_digest(&test).unwrap());
        assert_eq!(dt.pixels[1], None, "not an image: no pixel hash");
        assert_eq!(dt.pixels[0], ds.pixels[0]);
        let text = check_disjoint(("tune", &dt), ("test", &ds))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("saved-again.png = x.jpg (the same pixels in another file)"),
            "{text}"
        );
        // A digest of the bytes alone decodes nothing and sees two different files.
        assert!(content_digest(&tune).unwrap().pixels.is_empty());
        check_disjoint(
            ("tune", &content_digest(&tune).unwrap()),
            ("test", &content_digest(&test).unwrap()),
        )
        .unwrap();
    }

    #[test]
    fn the_list_digest_changes_with_content_and_membership() {
        let a = tempfile::tempdir().unwrap();
        let one = content_digest(&set_of(a.path(), &[("x.jpg", b"one")])).unwrap();
        let two = content_digest(&set_of(a.path(), &[("x.jpg", b"uno")])).unwrap();
        assert_ne!(one.list_sha256, two.list_sha256);
        let same = content_digest(&set_of(a.path(), &[("x.jpg", b"uno")])).unwrap();
        assert_eq!(two, same);
    }
}
