//! ImageNet image sets, label maps, decoding and per-model preprocessing for the aann engine.
//!
//! This crate produces plain `f32` buffers (planar CHW, batched NCHW); it does not depend on burn.
//!
//! - Labels ([`Synsets`], [`Inception5hLabels`], [`ClassOrder`]): images are labelled canonically
//!   by *sorted-synset class index* (0..=999, the order of `synset_words.txt` and of BVLC
//!   GoogLeNet's outputs); a [`ClassOrder`] maps that to a model's output index (inception5h has
//!   1008 outputs: 0 "dummy", 1..=1000 classes in Google's order, 1001..=1007 unused).
//! - Image sets ([`ImageSet`]): a flat folder plus a Caffe `val.txt`, one folder per synset, or a
//!   list file, sorted by key, with `take`/`skip`/`split`, and [`ImageSet::open`] to detect the
//!   layout.
//! - Decoding ([`decode_rgb`]) and preprocessing ([`Resize`], [`InputSpec`], [`Preprocess`]).
//! - Background batching ([`prefetch`] → [`Batch`]es), with failures reported per batch.
//!
//! ```no_run
//! use aann_data::{ClassOrder, ImageSet, OpenOptions, PrefetchConfig, Preprocess, Synsets, prefetch};
//!
//! let synsets = Synsets::load("../shared/data/imagenet-val/synset_words.txt")?;
//! let set = ImageSet::open("../shared/data/imagenet-val/images", &synsets, &OpenOptions::default())?;
//! let order = ClassOrder::sorted_synsets(&synsets);
//! for batch in prefetch(&set.limit(64), Preprocess::caffe(), PrefetchConfig::default())? {
//!     let targets: Vec<usize> = batch
//!         .entries
//!         .iter()
//!         .map(|e| order.output_of_class(e.label.expect("labelled")))
//!         .collect::<Result<_, _>>()?;
//!     // feed batch.pixels (shape batch.shape()) to the model, compare arg-max with targets
//!     # let _ = targets;
//!     for failure in &batch.failures {
//!         eprintln!("skipped: {}", failure.reason);
//!     }
//! }
//! # Ok::<(), aann_data::DataError>(())
//! ```

mod content;
mod decode;
mod error;
mod image_set;
mod labels;
mod pbtxt;
mod prefetch;
mod preprocess;

pub use content::{ContentDigest, check_disjoint, content_digest, split_digest};
pub use decode::{decode_rgb, decode_rgb_from_memory, to_rgb_over_white};
pub use error::{DataError, DecodeError, DecodeErrorKind};
/// The decoded image type ([`image::RgbImage`]), re-exported so callers need not depend on `image`.
pub use image::RgbImage;
pub use image_set::{
    GROUND_TRUTH_FILE_NAME, GroundTruth, IMAGE_EXTENSIONS, ImageEntry, ImageSet, OpenOptions,
    SetSource, Unlabelled, is_image_file_name, stable_key_hash,
};
pub use labels::{
    ClassOrder, IMAGENET_CLASSES, INCEPTION5H_OUTPUTS, Inception5hLabels, Synsets, is_wnid,
    parse_label_strings,
};
pub use pbtxt::{LabelMapEntry, parse_label_map};
pub use prefetch::{Batch, DecodeFailure, PrefetchConfig, Prefetcher, load_batch, prefetch};
pub use preprocess::{ChannelOrder, InputSpec, Preprocess, Rescale, Resize};
