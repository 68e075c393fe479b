//! A feed: how images go through the network. It carries the session (the model on its
//! device), the preprocessing and the batch size, and owns the one batched loop — decode
//! ahead, make the input tensor, hand each batch to a closure — that the experiment, its
//! nulls, calibration, faithfulness, statistics, claims and the command line all use.

use std::collections::HashMap;

use burn::tensor::{Tensor, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use aann_data::{Batch, ImageEntry, ImageSet, PrefetchConfig, Preprocess, prefetch};
use aann_model::{InceptionV1, Tap};

use crate::EvalError;
use crate::lab::Session;

/// Whether the loop goes on after a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// One batch as the loop hands it over: the decoded images (and those that failed) and,
/// when any decoded, their input tensor.
pub struct Fed<'b> {
    /// The batch's position among the set's batches.
    pub index: usize,
    /// The batch's images and failures (its pixels are in `input`).
    pub batch: &'b Batch,
    /// `None` when no image of the batch decoded.
    pub input: Option<Tensor<4>>,
}

/// A named step of a longer job (the experiment's stages), shown on every progress bar
/// the feed draws while it lasts: `[3/6] main run · evaluating`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phase {
    /// 1-based.
    pub index: usize,
    pub of: usize,
    pub name: &'static str,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}/{}] {}", self.index, self.of, self.name)
    }
}

/// The session's model, fed images preprocessed one way in batches of one size.
#[derive(Clone, Copy)]
pub struct Feed<'s> {
    pub session: &'s Session,
    pub preprocess: Preprocess,
    pub batch_size: usize,
    /// Decode threads: `None` shares the model's pool; `Some(n)`, a pool of `n` of its own.
    pub decode_threads: Option<usize>,
    /// The step of a longer job this feed serves, named on its progress bars.
    pub phase: Option<Phase>,
}

impl<'s> Feed<'s> {
    pub fn new(session: &'s Session, preprocess: Preprocess, batch_size: usize) -> Self {
        Feed {
            session,
            preprocess,
            batch_size: batch_size.max(1),
            decode_threads: Some(1),
            phase: None,
        }
    }

    /// The same feed serving `phase` of a longer job.
    pub fn in_phase(self, phase: Phase) -> Self {
        Feed {
            phase: Some(phase),
            ..self
        }
    }

    /// A progress bar over `len` images doing `what`, named with the feed's phase; hidden
    /// when the session shows no progress.
    pub fn bar(&self, len: usize, what: &str) -> ProgressBar {
        let message = match self.phase {
            Some(phase) => format!("{phase} · {what}"),
            None => what.to_string(),
        };
        progress_bar(len as u64, &message, self.progress())
    }

    pub fn model(&self) -> &'s InceptionV1 {
        self.session.model()
    }

    /// Whether progress bars are shown.
    pub fn progress(&self) -> bool {
        self.session.progress
    }

    /// The one batched loop: `set` decoded ahead in batches, each handed to `visit` with its
    /// input tensor, until the set ends or `visit` says stop.
    pub fn batches(
        &self,
        set: &ImageSet,
        mut visit: impl FnMut(Fed<'_>) -> Result<Flow, EvalError>,
    ) -> Result<(), EvalError> {
        if set.is_empty() {
            return Ok(());
        }
        let batches = prefetch(
            set,
            self.preprocess,
            PrefetchConfig {
                batch_size: self.batch_size,
                batches_ahead: 2,
                start: 0,
                threads: self.decode_threads,
            },
        )?;
        for (index, mut batch) in batches.enumerate() {
            // The pixels move into the tensor (no copy); the batch keeps its entries.
            let input = (!batch.entries.is_empty()).then(|| {
                let shape = batch.shape();
                let pixels = std::mem::take(&mut batch.pixels);
                Tensor::<4>::from_data(TensorData::new(pixels, shape), self.model().device())
            });
            if visit(Fed {
                index,
                batch: &batch,
                input,
            })? == Flow::Stop
            {
                break;
            }
        }
        Ok(())
    }

    /// The loop, recording `reads` (and the input, as [`Tap::INPUT`]) and stopping the
    /// forward pass after the last of them; `visit` gets each decoded batch's entries and
    /// taps.
    pub fn recorded(
        &self,
        set: &ImageSet,
        reads: &[Tap],
        mut visit: impl FnMut(&[ImageEntry], &HashMap<Tap, Tensor<4>>) -> Result<(), EvalError>,
    ) -> Result<(), EvalError> {
        let bar = self.bar(set.len(), "recording");
        self.batches(set, |fed| {
            bar.inc(fed.batch.attempted as u64);
            let Some(input) = fed.input else {
                return Ok(Flow::Continue);
            };
            let mut taps = self.model().activations(input.clone(), reads)?;
            taps.insert(Tap::INPUT, input);
            visit(&fed.batch.entries, &taps)?;
            Ok(Flow::Continue)
        })?;
        bar.finish_and_clear();
        Ok(())
    }
}

/// A progress bar with images/s and ETA, hidden when not wanted.
pub fn progress_bar(len: u64, message: &str, visible: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} images ({per_sec}, ETA {eta})",
        )
        .expect("valid template"),
    );
    bar.set_message(message.to_string());
    bar
}

/// A short description of an image set for provenance: its source and size.
pub fn describe_set(set: &ImageSet) -> String {
    format!("{} ({} images)", set.source(), set.len())
}
