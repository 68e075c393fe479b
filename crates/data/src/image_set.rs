//! Image sets: which image files to evaluate and their ground-truth classes, from a flat folder
//! plus a Caffe-style ground-truth file, a one-folder-per-synset tree, or a list file.
//!
//! Every set is sorted by [`ImageEntry::key`], so its order does not depend on the file system.
//! Labels are stored canonically as sorted-synset class indices (see [`crate::Synsets`]).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::labels::{Synsets, is_wnid};

/// File extensions (compared case-insensitively) of the files a folder scan lists as images.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// `true` if `path` has an image extension ([`IMAGE_EXTENSIONS`], any case) and its name does not
/// start with `.` (hidden files, such as macOS `._name.JPEG` resource forks, are not images).
pub fn is_image_file_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name.starts_with('.') {
        return false;
    }
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|ext| IMAGE_EXTENSIONS.iter().any(|x| ext.eq_ignore_ascii_case(x)))
}

/// One image of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageEntry {
    /// Stable identifier, unique within the set, and the sort key: the file name for a flat
    /// folder, `wnid/relative/path` (with `/`) for synset folders, the path as written for a list
    /// file.
    pub key: String,
    /// Where the image file is.
    pub path: PathBuf,
    /// Ground-truth sorted-synset class index (0..=999), if known.
    pub label: Option<usize>,
}

/// Where an image set's entries came from (for reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetSource {
    /// A flat folder of images, labelled from a Caffe-style ground-truth file if there is one.
    FlatFolder {
        /// The folder.
        dir: PathBuf,
        /// The ground-truth file, if labels came from one.
        ground_truth: Option<PathBuf>,
    },
    /// One folder per synset under `root`.
    SynsetFolders {
        /// The root folder.
        root: PathBuf,
    },
    /// A list file.
    ListFile {
        /// The list file.
        path: PathBuf,
    },
    /// Entries given directly by code.
    Entries,
}

impl fmt::Display for SetSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FlatFolder {
                dir,
                ground_truth: Some(gt),
            } => write!(
                f,
                "flat folder {} labelled by {}",
                dir.display(),
                gt.display()
            ),
            Self::FlatFolder {
                dir,
                ground_truth: None,
            } => write!(f, "flat folder {} (unlabelled)", dir.display()),
            Self::SynsetFolders { root } => {
                write!(f, "one folder per synset under {}", root.display())
            }
            Self::ListFile { path } => write!(f, "list file {}", path.display()),
            Self::Entries => write!(f, "entries given in code"),
        }
    }
}

/// A Caffe-style ground-truth file (`ILSVRC2012_val_00000001.JPEG 65` per line: file name and
/// sorted-synset class index), such as ImageNet's `val.txt`.
#[derive(Debug, Clone)]
pub struct GroundTruth {
    label_of_file: HashMap<String, usize>,
    path: PathBuf,
}

impl GroundTruth {
    /// Reads a ground-truth file; every class index must be below `num_classes`.
    pub fn load(path: impl AsRef<Path>, num_classes: usize) -> Result<Self, DataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        Self::parse(&text, path, num_classes)
    }

    /// Parses the text of a ground-truth file; `path` names it in errors.
    ///
    /// Each non-empty line is exactly a file name and a class index separated by whitespace; a
    /// file name may not appear twice.
    pub fn parse(text: &str, path: &Path, num_classes: usize) -> Result<Self, DataError> {
        let mut label_of_file = HashMap::new();
        let mut line_of_file: HashMap<&str, usize> = HashMap::new();
        for (line_index, line) in text.lines().enumerate() {
            let line_number = line_index + 1;
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [] => continue,
                [file, label] => {
                    let class: usize = label.parse().map_err(|_| {
                        DataError::parse(
                            path,
                            line_number,
                            format!("expected a class index after {file}, found {label:?}"),
                        )
                    })?;
                    if class >= num_classes {
                        return Err(DataError::parse(
                            path,
                            line_number,
                            format!(
                                "class index {class} for {file} is out of range (0..={})",
                                num_classes - 1
                            ),
                        ));
                    }
                    if let Some(first) = line_of_file.insert(file, line_number) {
                        return Err(DataError::parse(
                            path,
                            line_number,
                            format!("{file} is listed twice (first at line {first})"),
                        ));
                    }
                    label_of_file.insert((*file).to_owned(), class);
                }
                _ => {
                    return Err(DataError::parse(
                        path,
                        line_number,
                        format!("expected `<file name> <class index>`, found {line:?}"),
                    ));
                }
            }
        }
        Ok(Self {
            label_of_file,
            path: path.to_path_buf(),
        })
    }

    /// The class of a file name, if listed.
    pub fn label(&self, file_name: &str) -> Option<usize> {
        self.label_of_file.get(file_name).copied()
    }

    /// Number of files listed.
    pub fn len(&self) -> usize {
        self.label_of_file.len()
    }

    /// `true` if no file is listed.
    pub fn is_empty(&self) -> bool {
        self.label_of_file.is_empty()
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether images without a ground-truth label are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Unlabelled {
    /// An image without a label is an error naming it (the default).
    #[default]
    Reject,
    /// Images without a label are listed with `label: None`.
    Allow,
}

/// Options for [`ImageSet::open`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Ground-truth file for a flat folder; when `None`, `val.txt` is looked for in the folder
    /// and then in its parent.
    pub ground_truth: Option<PathBuf>,
    /// Whether images without a label are accepted.
    pub unlabelled: Unlabelled,
}

/// The name of the ground-truth file [`ImageSet::open`] looks for beside a flat folder.
pub const GROUND_TRUTH_FILE_NAME: &str = "val.txt";

/// An ordered list of images to evaluate, sorted by key, keys unique.
#[derive(Debug, Clone)]
pub struct ImageSet {
    entries: Vec<ImageEntry>,
    source: SetSource,
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut paths = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        paths.push(item.map_err(|e| DataError::io(dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

fn utf8_file_name(path: &Path) -> Result<&str, DataError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| DataError::layout(path, "file name is not valid UTF-8"))
}

/// Whether `path` is a folder (following symbolic links).
fn is_dir(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

/// Whether `path` is a regular file (following symbolic links).
fn is_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Image files directly in `dir` (not in subfolders), sorted.
fn images_in(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(read_dir_sorted(dir)?
        .into_iter()
        .filter(|p| is_image_file_name(p) && is_file(p))
        .collect())
}

/// Image files anywhere under `dir`, as `(path relative to dir with '/', path)`, sorted.
fn images_under(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), DataError> {
    for path in read_dir_sorted(dir)? {
        let name = utf8_file_name(&path)?;
        if is_dir(&path) {
            if !name.starts_with('.') {
                images_under(&path, &format!("{prefix}{name}/"), out)?;
            }
        } else if is_image_file_name(&path) {
            out.push((format!("{prefix}{name}"), path));
        }
    }
    Ok(())
}

/// A stable 64-bit hash of `key` under `seed`: FNV-1a over the seed's little-endian bytes and the
/// key's UTF-8 bytes, finished with the SplitMix64 mixer. Fixed here (not `std`'s hasher, which
/// may change between Rust releases) so that splits are reproducible everywhere.
pub fn stable_key_hash(seed: u64, key: &str) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = FNV_OFFSET;
    for &b in seed.to_le_bytes().iter().chain(key.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl ImageSet {
    /// A set from entries given in code: sorted by key; keys must be unique; every label must be
    /// below `num_classes`.
    pub fn from_entries(
        mut entries: Vec<ImageEntry>,
        num_classes: usize,
    ) -> Result<Self, DataError> {
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        if let Some(pair) = entries.windows(2).find(|w| w[0].key == w[1].key) {
            return Err(DataError::Config(format!(
                "image key {:?} appears twice ({} and {})",
                pair[0].key,
                pair[0].path.display(),
                pair[1].path.display()
            )));
        }
        if let Some(bad) = entries
            .iter()
            .find(|e| e.label.is_some_and(|l| l >= num_classes))
        {
            return Err(DataError::ClassOutOfRange {
                class: bad.label.unwrap_or_default(),
                num_classes,
                context: format!("the label of {}", bad.path.display()),
            });
        }
        Ok(Self {
            entries,
            source: SetSource::Entries,
        })
    }

    /// The image files directly inside `dir` (not subfolders), keyed by file name and labelled
    /// from `ground_truth`. Only files present in the folder are listed; an image the ground
    /// truth does not list is an error naming it, unless `unlabelled` is [`Unlabelled::Allow`].
    /// With `ground_truth: None` every image is unlabelled (and `unlabelled` must be `Allow`).
    pub fn flat_folder(
        dir: impl AsRef<Path>,
        ground_truth: Option<&GroundTruth>,
        unlabelled: Unlabelled,
    ) -> Result<Self, DataError> {
        let dir = dir.as_ref();
        if ground_truth.is_none() && unlabelled == Unlabelled::Reject {
            return Err(DataError::layout(
                dir,
                "a flat folder without a ground-truth file has no labels; give a ground-truth \
                 file or allow unlabelled images",
            ));
        }
        let mut entries = Vec::new();
        for path in images_in(dir)? {
            let key = utf8_file_name(&path)?.to_owned();
            let label = match ground_truth {
                Some(gt) => match (gt.label(&key), unlabelled) {
                    (Some(label), _) => Some(label),
                    (None, Unlabelled::Allow) => None,
                    (None, Unlabelled::Reject) => {
                        return Err(DataError::UnlabelledImage {
                            image: path,
                            ground_truth: gt.path().to_path_buf(),
                        });
                    }
                },
                None => None,
            };
            entries.push(ImageEntry { key, path, label });
        }
        Ok(Self {
            entries,
            source: SetSource::FlatFolder {
                dir: dir.to_path_buf(),
                ground_truth: ground_truth.map(|gt| gt.path().to_path_buf()),
            },
        })
    }

    /// One folder per synset (ImageFolder layout): every non-hidden subfolder of `root` must be
    /// named by a WNID of `synsets` (otherwise an error names it); its images, at any depth,
    /// get that synset's class. Files directly in `root` are ignored.
    pub fn synset_folders(root: impl AsRef<Path>, synsets: &Synsets) -> Result<Self, DataError> {
        let root = root.as_ref();
        let mut entries = Vec::new();
        let mut folders = 0;
        for folder in read_dir_sorted(root)? {
            if !is_dir(&folder) {
                continue;
            }
            let wnid = utf8_file_name(&folder)?;
            if wnid.starts_with('.') {
                continue;
            }
            let class = synsets
                .index_of(wnid)
                .ok_or_else(|| DataError::UnknownSynsetFolder {
                    folder: folder.clone(),
                    synsets: synsets.source().to_path_buf(),
                })?;
            folders += 1;
            let mut images = Vec::new();
            images_under(&folder, &format!("{wnid}/"), &mut images)?;
            entries.extend(images.into_iter().map(|(key, path)| ImageEntry {
                key,
                path,
                label: Some(class),
            }));
        }
        if folders == 0 {
            return Err(DataError::layout(root, "no synset folders found"));
        }
        Ok(Self {
            entries: sorted(entries),
            source: SetSource::SynsetFolders {
                root: root.to_path_buf(),
            },
        })
    }

    /// A list file: one image per line, `path [label]`, where `label` is a sorted-synset class
    /// index or a WNID. Relative paths resolve against the list file's folder; the key is the
    /// path as written. Blank lines and lines starting with `#` are skipped. Paths may not
    /// contain whitespace. Every listed file must exist, and a path may not be listed twice.
    /// An unlabelled line is an error naming it unless `unlabelled` is [`Unlabelled::Allow`].
    pub fn list_file(
        path: impl AsRef<Path>,
        synsets: &Synsets,
        unlabelled: Unlabelled,
    ) -> Result<Self, DataError> {
        let list = path.as_ref();
        let text = std::fs::read_to_string(list).map_err(|e| DataError::io(list, e))?;
        let base = list.parent().unwrap_or(Path::new(""));
        let mut entries = Vec::new();
        let mut line_of_key: HashMap<String, usize> = HashMap::new();
        for (line_index, line) in text.lines().enumerate() {
            let line_number = line_index + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = trimmed.split_whitespace().collect();
            let (written, label) = match fields.as_slice() {
                [written] => (*written, None),
                [written, label] => (*written, Some(*label)),
                _ => {
                    return Err(DataError::parse(
                        list,
                        line_number,
                        format!(
                            "expected `<path> [label]` (paths without whitespace), found {trimmed:?}"
                        ),
                    ));
                }
            };
            let label = match label {
                None if unlabelled == Unlabelled::Allow => None,
                None => {
                    return Err(DataError::parse(
                        list,
                        line_number,
                        format!(
                            "{written} has no label (expected `<path> <class index or WNID>`, or \
                             allow unlabelled images)"
                        ),
                    ));
                }
                Some(label) => Some(
                    parse_list_label(label, synsets)
                        .map_err(|message| DataError::parse(list, line_number, message))?,
                ),
            };
            let image_path = base.join(written);
            if !is_file(&image_path) {
                return Err(DataError::parse(
                    list,
                    line_number,
                    format!("image file {} does not exist", image_path.display()),
                ));
            }
            if let Some(first) = line_of_key.insert(written.to_owned(), line_number) {
                return Err(DataError::parse(
                    list,
                    line_number,
                    format!("{written} is listed twice (first at line {first})"),
                ));
            }
            entries.push(ImageEntry {
                key: written.to_owned(),
                path: image_path,
                label,
            });
        }
        Ok(Self {
            entries: sorted(entries),
            source: SetSource::ListFile {
                path: list.to_path_buf(),
            },
        })
    }

    /// Opens an image set, detecting its layout from `path`:
    /// - a file: a list file ([`ImageSet::list_file`]);
    /// - a folder with a ground-truth file in `options`: a flat folder labelled by it;
    /// - a folder holding image files directly: a flat folder, labelled by `val.txt` in the folder
    ///   or else in its parent (or unlabelled, if `options.unlabelled` allows; otherwise an error
    ///   saying where the ground truth was looked for);
    /// - a folder holding only subfolders: one folder per synset ([`ImageSet::synset_folders`]).
    ///
    /// A folder holding both images and WNID-named subfolders is refused as ambiguous.
    pub fn open(
        path: impl AsRef<Path>,
        synsets: &Synsets,
        options: &OpenOptions,
    ) -> Result<Self, DataError> {
        let path = path.as_ref();
        let metadata = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
        if metadata.is_file() {
            return Self::list_file(path, synsets, options.unlabelled);
        }
        if let Some(gt) = &options.ground_truth {
            let gt = GroundTruth::load(gt, synsets.len())?;
            return Self::flat_folder(path, Some(&gt), options.unlabelled);
        }
        let images = images_in(path)?;
        let children = read_dir_sorted(path)?;
        let wnid_folder = children
            .iter()
            .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(is_wnid) && is_dir(p));
        match (images.first(), wnid_folder) {
            (Some(image), Some(folder)) => Err(DataError::layout(
                path,
                format!(
                    "holds both image files (e.g. {}) and synset folders (e.g. {}); cannot tell \
                     whether it is a flat folder or one folder per synset",
                    image.display(),
                    folder.display()
                ),
            )),
            (Some(_), None) => {
                let candidates: Vec<PathBuf> = std::iter::once(path.join(GROUND_TRUTH_FILE_NAME))
                    .chain(
                        path.parent()
                            .map(|parent| parent.join(GROUND_TRUTH_FILE_NAME)),
                    )
                    .collect();
                match candidates.iter().find(|c| is_file(c)) {
                    Some(gt) => {
                        let gt = GroundTruth::load(gt, synsets.len())?;
                        Self::flat_folder(path, Some(&gt), options.unlabelled)
                    }
                    None if options.unlabelled == Unlabelled::Allow => {
                        Self::flat_folder(path, None, Unlabelled::Allow)
                    }
                    None => Err(DataError::layout(
                        path,
                        format!(
                            "a flat folder of {} images but no ground-truth file (looked for {}); \
                             give one, or allow unlabelled images",
                            images.len(),
                            candidates
                                .iter()
                                .map(|c| c.display().to_string())
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    )),
                }
            }
            (None, _) if children.iter().any(|p| is_dir(p)) => Self::synset_folders(path, synsets),
            (None, _) => Err(DataError::layout(
                path,
                format!(
                    "no images (files ending in {}) and no synset folders",
                    IMAGE_EXTENSIONS.join("/")
                ),
            )),
        }
    }

    /// The entries, sorted by key.
    pub fn entries(&self) -> &[ImageEntry] {
        &self.entries
    }

    /// Consumes the set, returning its entries.
    pub fn into_entries(self) -> Vec<ImageEntry> {
        self.entries
    }

    /// Where the entries came from.
    pub fn source(&self) -> &SetSource {
        &self.source
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` if the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Iterates the entries in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ImageEntry> {
        self.entries.iter()
    }

    /// Number of entries that have a label.
    pub fn labelled_count(&self) -> usize {
        self.entries.iter().filter(|e| e.label.is_some()).count()
    }

    fn with_entries(&self, entries: Vec<ImageEntry>) -> Self {
        Self {
            entries,
            source: self.source.clone(),
        }
    }

    /// The first `n` entries (all, if fewer).
    pub fn take(&self, n: usize) -> Self {
        self.with_entries(self.entries.iter().take(n).cloned().collect())
    }

    /// Same as [`ImageSet::take`]: at most `n` images, the first in key order.
    pub fn limit(&self, n: usize) -> Self {
        self.take(n)
    }

    /// All but the first `n` entries.
    pub fn skip(&self, n: usize) -> Self {
        self.with_entries(self.entries.iter().skip(n).cloned().collect())
    }

    /// The entries for which `keep` is true.
    pub fn filter(&self, mut keep: impl FnMut(&ImageEntry) -> bool) -> Self {
        self.with_entries(self.entries.iter().filter(|e| keep(e)).cloned().collect())
    }

    /// Splits the set into disjoint named parts whose sizes are roughly proportional to
    /// `weights`, by a seeded hash of each key ([`stable_key_hash`]). An image's part depends only
    /// on its key, the seed and the weights, so it is the same however the set was listed or
    /// limited. Returned in the order of `parts`, each sorted by key. Names must be unique and
    /// the weights must not all be zero.
    pub fn split(
        &self,
        seed: u64,
        parts: &[(&str, u32)],
    ) -> Result<Vec<(String, ImageSet)>, DataError> {
        let total: u64 = parts.iter().map(|&(_, w)| u64::from(w)).sum();
        if total == 0 {
            return Err(DataError::Config(
                "split needs at least one part with a non-zero weight".to_owned(),
            ));
        }
        let mut names = BTreeSet::new();
        if let Some((name, _)) = parts.iter().find(|(name, _)| !names.insert(*name)) {
            return Err(DataError::Config(format!(
                "split part {name:?} is named twice"
            )));
        }
        let mut split: Vec<Vec<ImageEntry>> = vec![Vec::new(); parts.len()];
        for entry in &self.entries {
            // Map the hash uniformly onto 0..total, then find the part owning that slot.
            let slot =
                ((u128::from(stable_key_hash(seed, &entry.key)) * u128::from(total)) >> 64) as u64;
            let mut upper = 0;
            let part = parts
                .iter()
                .position(|&(_, w)| {
                    upper += u64::from(w);
                    slot < upper
                })
                .expect("slot < total");
            split[part].push(entry.clone());
        }
        Ok(parts
            .iter()
            .zip(split)
            .map(|(&(name, _), entries)| (name.to_owned(), self.with_entries(entries)))
            .collect())
    }
}

impl<'a> IntoIterator for &'a ImageSet {
    type Item = &'a ImageEntry;
    type IntoIter = std::slice::Iter<'a, ImageEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

fn sorted(mut entries: Vec<ImageEntry>) -> Vec<ImageEntry> {
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    entries
}

/// A list-file label: a class index below `synsets.len()` or a known WNID.
fn parse_list_label(label: &str, synsets: &Synsets) -> Result<usize, String> {
    if let Ok(index) = label.parse::<usize>() {
        return synsets.check_index(index).map_err(|e| e.to_string());
    }
    if is_wnid(label) {
        return synsets.index_of(label).ok_or_else(|| {
            format!(
                "unknown synset {label} (not listed in {})",
                synsets.source().display()
            )
        });
    }
    Err(format!(
        "expected a class index (0..={}) or a WNID like n01440764 as the label, found {label:?}",
        synsets.len() - 1
    ))
}

#[cfg(test)]
mod tests;
