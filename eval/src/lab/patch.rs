//! Activation patching, clean → corrupted: run a corrupted image with one tap's channels
//! taken from a clean image's run, tap by tap, and see how much of the clean answer comes
//! back — what a TransformerLens user reaches for first to find where a difference between
//! two inputs is carried.
//!
//! The measure is the logit difference between two answers: `a`, the clean image's class
//! (its top-1 unless given), and `b`, the corrupted image's (its top-1, or its second when
//! that is `a`). A patch *restores* `(LD_patched − LD_corrupted) / (LD_clean −
//! LD_corrupted)` of it: 0 when the tap carries none of the difference, 1 when all of it.

use std::collections::HashMap;
use std::sync::Arc;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use aann_model::{
    Branch, ChannelSet, Condition, ConditionHooks, Edit, Halt, Intervention, Layer, ModelError,
    PatchSource, Recorder, Tap,
};

use super::{Session, host_values};
use crate::EvalError;
use crate::metrics::OutputClasses;
use aann_data::ClassOrder;

/// The key the corrupted image runs under (its patch source is row 0).
const CORRUPTED: &str = "corrupted";

/// What to patch and which answers to compare.
#[derive(Clone, Debug)]
pub struct PatchPlan {
    /// The taps, each patched alone (all of its channels, or `channels`).
    pub taps: Vec<Tap>,
    /// Patch only these channels at every tap (each must exist at every tap).
    pub channels: Option<ChannelSet>,
    /// The two classes (`a` the clean answer, `b` the corrupted one); chosen from the
    /// clean and corrupted runs' top classes when none.
    pub answers: Option<(usize, usize)>,
}

/// One tap patched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchRow {
    pub tap: String,
    /// Channels patched.
    pub channels: usize,
    /// `logit[a] − logit[b]` of the patched run.
    pub logit_difference: f64,
    /// The share of the clean–corrupted difference the patch restores.
    pub restored: f64,
    /// The patched run's top class and its probability.
    pub top1: usize,
    pub top1_probability: f64,
}

/// A patching sweep over taps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchReport {
    /// The clean answer `a` and the corrupted answer `b` (class indices).
    pub answers: (usize, usize),
    pub clean_difference: f64,
    pub corrupted_difference: f64,
    pub rows: Vec<PatchRow>,
}

/// Patch every tap of `plan` from `clean` into `corrupted` (one image each, `[1, 3, H, W]`,
/// preprocessed the same way).
pub fn patch_sweep(
    session: &Session,
    order: &ClassOrder,
    clean: Tensor<4>,
    corrupted: Tensor<4>,
    plan: &PatchPlan,
) -> Result<PatchReport, EvalError> {
    let model = session.model();
    let variant = model.variant();
    if clean.dims()[0] != 1 || clean.dims() != corrupted.dims() {
        return Err(EvalError::Spec(format!(
            "patching takes one clean and one corrupted image of the same size, got {:?} and {:?}",
            clean.dims(),
            corrupted.dims()
        )));
    }
    if let Some(tap) = plan
        .taps
        .iter()
        .find(|t| t.layer.is_flat() || **t == Tap::INPUT)
    {
        return Err(EvalError::Spec(format!(
            "{} cannot be patched: patch a tap between the input and the classifier",
            tap.name(variant)
        )));
    }
    let classes = OutputClasses::new(order);
    // One clean run gives its logits and every tap to patch from.
    let mut recorder = Recorder::through(&plan.taps);
    let clean_logits = match model.run(Tap::INPUT, clean, &mut recorder) {
        Ok(logits) => host_values(logits)?,
        Err(Halt::Invalid(m)) => return Err(ModelError::Input(m).into()),
        Err(Halt::Stopped(..)) => unreachable!("a recorder through the taps never stops"),
    };
    let recorded = recorder.recorded;
    let corrupted_logits = host_values(model.forward(corrupted.clone())?)?;
    let answers = match plan.answers {
        Some(ab) => ab,
        None => choose_answers(&classes, &clean_logits, &corrupted_logits),
    };
    let (a, b) = (
        order.output_of_class(answers.0)?,
        order.output_of_class(answers.1)?,
    );
    let difference = |logits: &[f32]| f64::from(logits[a]) - f64::from(logits[b]);
    let (clean_d, corrupted_d) = (difference(&clean_logits), difference(&corrupted_logits));
    let keys = vec![CORRUPTED.to_string()];
    let mut rows = Vec::with_capacity(plan.taps.len());
    for &tap in &plan.taps {
        let channels = plan
            .channels
            .clone()
            .unwrap_or_else(|| ChannelSet::new((0..tap.channels(variant)).collect()));
        let condition = Condition::new(
            format!("patch {}", tap.name(variant)),
            vec![Edit {
                tap,
                channels: channels.clone(),
                intervention: Intervention::Patch(Arc::new(PatchSource {
                    rows: HashMap::from([(CORRUPTED.to_string(), 0)]),
                    activations: recorded[&tap].clone(),
                    description: "the clean image".into(),
                })),
            }],
        );
        condition.validate(variant)?;
        let mut hooks =
            ConditionHooks::new(&condition, variant, model.device(), &keys, HashMap::new());
        let logits = match model.run(Tap::INPUT, corrupted.clone(), &mut hooks) {
            Ok(logits) => host_values(logits)?,
            Err(Halt::Invalid(m)) => return Err(ModelError::Input(m).into()),
            Err(Halt::Stopped(..)) => unreachable!("patching hooks never stop"),
        };
        let d = difference(&logits);
        let (top1, top1_probability) = classes.ranked(&logits)[0];
        rows.push(PatchRow {
            tap: tap.name(variant).to_string(),
            channels: channels.as_slice().len(),
            logit_difference: d,
            restored: restored(d, clean_d, corrupted_d),
            top1,
            top1_probability,
        });
    }
    Ok(PatchReport {
        answers,
        clean_difference: clean_d,
        corrupted_difference: corrupted_d,
        rows,
    })
}

/// The taps patched when none are named: the four branches of every inception block
/// (after their ReLU), the parts a block's output is the concatenation of. (A whole layer
/// or block output carries everything downstream needs: patching all of its channels
/// restores the clean run exactly.)
pub fn block_branches() -> Vec<Tap> {
    Tap::all()
        .into_iter()
        .filter(|t| {
            !t.pre_relu
                && matches!(
                    t.layer,
                    Layer::Branch(
                        _,
                        Branch::B1x1 | Branch::B3x3 | Branch::B5x5 | Branch::PoolProj
                    )
                )
        })
        .collect()
}

/// The clean run's top class, and the corrupted run's top class other than it.
fn choose_answers(classes: &OutputClasses, clean: &[f32], corrupted: &[f32]) -> (usize, usize) {
    let a = classes.ranked(clean)[0].0;
    let b = classes
        .ranked(corrupted)
        .into_iter()
        .map(|(c, _)| c)
        .find(|c| *c != a)
        .expect("more than one class");
    (a, b)
}

/// The share of the clean–corrupted logit difference a patched run restores (NaN when the
/// two images do not differ on it).
pub fn restored(patched: f64, clean: f64, corrupted: f64) -> f64 {
    let gap = clean - corrupted;
    if gap.abs() < 1e-9 {
        f64::NAN
    } else {
        (patched - corrupted) / gap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restoring_is_zero_at_the_corrupted_run_and_one_at_the_clean() {
        assert_eq!(restored(-2.0, 3.0, -2.0), 0.0);
        assert_eq!(restored(3.0, 3.0, -2.0), 1.0);
        assert_eq!(restored(0.5, 3.0, -2.0), 0.5);
        assert!(restored(1.0, 1.0, 1.0).is_nan());
    }
}
