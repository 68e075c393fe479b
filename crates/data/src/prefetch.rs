//! Batches of model input decoded ahead of time on a background thread, so that the model does not
//! wait on JPEG decoding.
//!
//! A producer thread walks the set in order, decodes each batch's images in parallel with rayon and
//! sends finished batches through a bounded queue ([`PrefetchConfig::batches_ahead`] deep). Images
//! that fail to decode are reported in [`Batch::failures`], never dropped silently; a batch's
//! `entries` and `pixels` hold only the good images, in set order.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, DecodeError, DecodeErrorKind};
use crate::image_set::{ImageEntry, ImageSet};
use crate::preprocess::Preprocess;

/// How [`prefetch`] batches and schedules work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefetchConfig {
    /// Images per batch (the last batch may be shorter).
    pub batch_size: usize,
    /// Finished batches that may wait in the queue (one more is being decoded meanwhile).
    pub batches_ahead: usize,
    /// Position in the set of the first image to load (to resume an interrupted run).
    pub start: usize,
    /// Decode threads: `None` uses rayon's global pool; `Some(n)` a dedicated pool of `n` threads
    /// (so decoding does not compete with a model that also runs on the global pool).
    pub threads: Option<usize>,
}

impl Default for PrefetchConfig {
    fn default() -> Self {
        Self {
            batch_size: 32,
            batches_ahead: 2,
            start: 0,
            threads: None,
        }
    }
}

/// An image that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeFailure {
    /// Position of the image in the set.
    pub position: usize,
    /// The image.
    pub entry: ImageEntry,
    /// What went wrong (names the file).
    pub reason: DecodeError,
}

/// A batch of model input.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Position in the set of the first image this batch covers (good or failed).
    pub first_position: usize,
    /// How many images of the set this batch covers: `entries.len() + failures.len()`. The next
    /// batch starts at `first_position + attempted`.
    pub attempted: usize,
    /// The images that loaded, in set order; `pixels` holds their values in the same order.
    pub entries: Vec<ImageEntry>,
    /// `entries.len() × 3 × height × width` values, each image planar CHW, in the
    /// [`crate::InputSpec`]'s channel order.
    pub pixels: Vec<f32>,
    /// Height of every image.
    pub height: u32,
    /// Width of every image.
    pub width: u32,
    /// The images that did not load, in set order.
    pub failures: Vec<DecodeFailure>,
}

impl Batch {
    /// Number of images that loaded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` if no image of this batch loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tensor shape of `pixels`: `[N, 3, H, W]`.
    pub fn shape(&self) -> [usize; 4] {
        [
            self.entries.len(),
            3,
            self.height as usize,
            self.width as usize,
        ]
    }

    /// The CHW values of the `i`-th good image.
    pub fn image_pixels(&self, i: usize) -> &[f32] {
        let size = 3 * self.height as usize * self.width as usize;
        &self.pixels[i * size..(i + 1) * size]
    }

    /// The labels of the good images, in order.
    pub fn labels(&self) -> Vec<Option<usize>> {
        self.entries.iter().map(|e| e.label).collect()
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Loads `entries` (which start at `first_position` in their set) into one batch, decoding in
/// parallel on the current rayon pool. The preprocessing must have a fixed output size
/// ([`crate::Resize::output_size`]); [`prefetch`] checks this.
pub fn load_batch(entries: &[ImageEntry], first_position: usize, preprocess: &Preprocess) -> Batch {
    let (height, width) = preprocess
        .resize
        .output_size()
        .expect("load_batch needs a preprocessing with a fixed output size");
    let results: Vec<Result<Vec<f32>, DecodeError>> = entries
        .par_iter()
        .map(|entry| {
            catch_unwind(AssertUnwindSafe(|| preprocess.load(&entry.path)))
                .unwrap_or_else(|payload| {
                    Err(DecodeError::new(
                        &entry.path,
                        DecodeErrorKind::DecoderPanicked(panic_message(payload.as_ref())),
                    ))
                })
                .map(|(values, _, _)| values)
        })
        .collect();
    let image_size = 3 * height as usize * width as usize;
    let good = results.iter().filter(|r| r.is_ok()).count();
    let mut batch = Batch {
        first_position,
        attempted: entries.len(),
        entries: Vec::with_capacity(good),
        pixels: Vec::with_capacity(good * image_size),
        height,
        width,
        failures: Vec::new(),
    };
    for (offset, (entry, result)) in entries.iter().zip(results).enumerate() {
        match result {
            Ok(values) => {
                debug_assert_eq!(values.len(), image_size);
                batch.entries.push(entry.clone());
                batch.pixels.extend_from_slice(&values);
            }
            Err(reason) => batch.failures.push(DecodeFailure {
                position: first_position + offset,
                entry: entry.clone(),
                reason,
            }),
        }
    }
    batch
}

/// An iterator over batches decoded ahead on a background thread. Dropping it stops the thread
/// (after the batch being decoded, if any).
pub struct Prefetcher {
    receiver: Option<Receiver<Batch>>,
    worker: Option<JoinHandle<()>>,
    remaining_batches: usize,
}

/// Starts decoding `set` from position `config.start` in batches of `config.batch_size`.
///
/// Errors if the configuration is invalid: batch size or queue depth 0, a start beyond the end of
/// the set, a preprocessing without a fixed output size, or a thread pool that cannot be built.
pub fn prefetch(
    set: &ImageSet,
    preprocess: Preprocess,
    config: PrefetchConfig,
) -> Result<Prefetcher, DataError> {
    preprocess.validate()?;
    if preprocess.resize.output_size().is_none() {
        return Err(DataError::Config(
            "batches need images of one size: give a centre crop or an exact rescale".to_owned(),
        ));
    }
    if config.batch_size == 0 {
        return Err(DataError::Config("batch size must be positive".to_owned()));
    }
    if config.batches_ahead == 0 {
        return Err(DataError::Config(
            "batches_ahead must be positive (at least one batch is decoded ahead)".to_owned(),
        ));
    }
    if config.start > set.len() {
        return Err(DataError::Config(format!(
            "start position {} is past the end of the set ({} images)",
            config.start,
            set.len()
        )));
    }
    let pool = match config.threads {
        None => None,
        Some(0) => {
            return Err(DataError::Config(
                "decode threads must be positive".to_owned(),
            ));
        }
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(|i| format!("aann-decode-{i}"))
                .build()
                .map_err(|e| DataError::Config(format!("cannot start {n} decode threads: {e}")))?,
        ),
    };
    let entries: Arc<[ImageEntry]> = set.entries()[config.start..].into();
    let remaining_batches = entries.len().div_ceil(config.batch_size);
    let (sender, receiver) = sync_channel(config.batches_ahead);
    let worker = std::thread::Builder::new()
        .name("aann-prefetch".to_owned())
        .spawn(move || produce(&entries, config, &preprocess, pool.as_ref(), &sender))
        .map_err(|e| DataError::Config(format!("cannot start the prefetch thread: {e}")))?;
    Ok(Prefetcher {
        receiver: Some(receiver),
        worker: Some(worker),
        remaining_batches,
    })
}

fn produce(
    entries: &[ImageEntry],
    config: PrefetchConfig,
    preprocess: &Preprocess,
    pool: Option<&rayon::ThreadPool>,
    sender: &SyncSender<Batch>,
) {
    for (index, chunk) in entries.chunks(config.batch_size).enumerate() {
        let first_position = config.start + index * config.batch_size;
        let batch = match pool {
            Some(pool) => pool.install(|| load_batch(chunk, first_position, preprocess)),
            None => load_batch(chunk, first_position, preprocess),
        };
        if sender.send(batch).is_err() {
            return; // The consumer hung up.
        }
    }
}

impl Iterator for Prefetcher {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let received = self.receiver.as_ref()?.recv();
        match received {
            Ok(batch) => {
                self.remaining_batches -= 1;
                Some(batch)
            }
            Err(_) => {
                // The producer finished or died: surface a panic instead of ending early.
                self.receiver = None;
                if let Some(worker) = self.worker.take()
                    && let Err(payload) = worker.join()
                {
                    std::panic::resume_unwind(payload);
                }
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining_batches, Some(self.remaining_batches))
    }
}

impl ExactSizeIterator for Prefetcher {}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        // Hang up first so a producer blocked on a full queue wakes up and stops.
        self.receiver = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
