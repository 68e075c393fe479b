//! What an image set *is*, independent of what its files are called: the SHA-256 of every
//! image file's bytes, a digest of the whole list, and the check that two splits share no
//! image content (a tune image copied under another name into the test set is refused).

use std::collections::HashMap;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{DataError, ImageSet};

/// The content of an image set: one SHA-256 per image (of the file's bytes), in the set's
/// order, and one digest of the list (keys, labels and contents), for provenance and cache
/// keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentDigest {
    /// `(key, sha256 of the file's bytes)` per image, in the set's order.
    pub images: Vec<(String, String)>,
    /// SHA-256 over every image's key, label and content hash, in order.
    pub list_sha256: String,
}

/// Hash every image file of `set` (in parallel). A file that cannot be read is an error
/// naming it.
pub fn content_digest(set: &ImageSet) -> Result<ContentDigest, DataError> {
    let hashes: Vec<Result<String, DataError>> = set
        .entries()
        .par_iter()
        .map(|e| {
            let bytes = std::fs::read(&e.path).map_err(|err| DataError::io(&e.path, err))?;
            Ok(hex::encode(Sha256::digest(&bytes)))
        })
        .collect();
    let mut images = Vec::with_capacity(set.len());
    let mut list = Sha256::new();
    for (entry, hash) in set.iter().zip(hashes) {
        let hash = hash?;
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
        list_sha256: hex::encode(list.finalize()),
    })
}

/// Refuse two splits that hold the same image content under any names. `first` and
/// `second` are `(role, digest)` pairs, e.g. `("tune", …)` and `("test", …)`.
pub fn check_disjoint(
    first: (&str, &ContentDigest),
    second: (&str, &ContentDigest),
) -> Result<(), DataError> {
    let seen: HashMap<&str, &str> = first
        .1
        .images
        .iter()
        .map(|(k, h)| (h.as_str(), k.as_str()))
        .collect();
    let shared: Vec<String> = second
        .1
        .images
        .iter()
        .filter_map(|(k, h)| seen.get(h.as_str()).map(|f| format!("{k} = {f}")))
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
