//! Error types: [`DataError`] for label maps, image sets and configuration; [`DecodeError`] for a
//! single image that could not be decoded or preprocessed.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while reading label maps, listing image sets or checking a
/// configuration. Every variant names the file (and line, where there is one) or the class
/// concerned, and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A line of a text file does not have the expected form.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was found and what was expected.
        message: String,
    },

    /// A file is well-formed line by line but wrong as a whole (e.g. empty, or too few lines).
    #[error("{}: {message}", path.display())]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// An image in a flat folder has no line in the ground-truth file.
    #[error(
        "image {} has no line in ground-truth file {} (list only labelled images, or allow \
         unlabelled images explicitly)",
        image.display(),
        ground_truth.display()
    )]
    UnlabelledImage {
        /// The image file.
        image: PathBuf,
        /// The ground-truth file that was searched.
        ground_truth: PathBuf,
    },

    /// A subfolder of a one-folder-per-synset root is not named by a known WNID.
    #[error(
        "folder {} is not a synset listed in {}: every subfolder of a one-folder-per-synset \
         root must be named by a WNID such as n01440764",
        folder.display(),
        synsets.display()
    )]
    UnknownSynsetFolder {
        /// The offending folder.
        folder: PathBuf,
        /// The synset list it was looked up in.
        synsets: PathBuf,
    },

    /// A WNID was looked up that the synset list does not contain.
    #[error("unknown synset {wnid:?}: not listed in {}", synsets.display())]
    UnknownWnid {
        /// The WNID looked up.
        wnid: String,
        /// The synset list it was looked up in.
        synsets: PathBuf,
    },

    /// A class index is not below the number of classes.
    #[error("class index {class} is out of range: {context} has {num_classes} classes (0..={})", num_classes.saturating_sub(1))]
    ClassOutOfRange {
        /// The offending index.
        class: usize,
        /// How many classes there are.
        num_classes: usize,
        /// Where the classes come from (a file, or a class order's name).
        context: String,
    },

    /// A class has no output in a model's class order.
    #[error("class {class} ({wnid}, {name}) has no output in the {order} class order")]
    NoOutputForClass {
        /// Sorted-synset index of the class.
        class: usize,
        /// Its WNID.
        wnid: String,
        /// Its human-readable name.
        name: String,
        /// Name of the class order.
        order: String,
    },

    /// The layout of an image set could not be determined, or it holds nothing usable.
    #[error("{}: {message}", path.display())]
    Layout {
        /// The path given as the image set.
        path: PathBuf,
        /// Why it cannot be used.
        message: String,
    },

    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Two image sets that must be disjoint (tune, dev, test) hold the same image content,
    /// whatever the files are called.
    #[error(
        "the {first} and {second} sets share {count} image(s) by content, e.g. {}: \
         nothing fitted or chosen on one split may be measured on another",
        examples.join(", ")
    )]
    SharedImages {
        /// The roles of the two sets (e.g. `tune`, `test`).
        first: String,
        second: String,
        /// How many images of the second set have the content of an image of the first.
        count: usize,
        /// Up to five pairs, `second-key = first-key`.
        examples: Vec<String>,
    },
}

impl DataError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn parse(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self::Parse {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_file(path: &Path, message: impl Into<String>) -> Self {
        Self::InvalidFile {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn layout(path: &Path, message: impl Into<String>) -> Self {
        Self::Layout {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Why one image could not be turned into model input. Always carries the image's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct DecodeError {
    /// The image file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn new(path: &Path, kind: DecodeErrorKind) -> Self {
        Self {
            path: path.to_path_buf(),
            kind,
        }
    }
}

/// The reason inside a [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The file could not be read (missing, permissions, I/O error).
    Unreadable(String),
    /// The bytes are not in any recognised image format (or the file is empty).
    NotAnImage(String),
    /// A recognised format this crate does not decode (only JPEG and PNG are enabled).
    UnsupportedFormat(String),
    /// The data ends before the image does.
    Truncated(String),
    /// The data is malformed.
    Corrupt(String),
    /// The image is smaller than the centre crop asked for.
    TooSmallForCrop {
        /// Image width after rescaling.
        width: u32,
        /// Image height after rescaling.
        height: u32,
        /// Crop width.
        crop_width: u32,
        /// Crop height.
        crop_height: u32,
    },
    /// The decoder panicked (a bug in a decoder; reported rather than aborting the run).
    DecoderPanicked(String),
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(why) => write!(f, "cannot read file: {why}"),
            Self::NotAnImage(why) => write!(f, "not an image: {why}"),
            Self::UnsupportedFormat(why) => {
                write!(
                    f,
                    "unsupported image format (only JPEG and PNG are decoded): {why}"
                )
            }
            Self::Truncated(why) => write!(f, "truncated image: {why}"),
            Self::Corrupt(why) => write!(f, "corrupt image: {why}"),
            Self::TooSmallForCrop {
                width,
                height,
                crop_width,
                crop_height,
            } => write!(
                f,
                "image is {width}x{height} (WxH) after rescaling, smaller than the \
                 {crop_width}x{crop_height} centre crop"
            ),
            Self::DecoderPanicked(why) => write!(f, "the image decoder panicked: {why}"),
        }
    }
}
