//! Running several conditions on a batch while computing the shared prefix once.
//!
//! Every condition leaves the network untouched before its earliest edit. The evaluator
//! runs the natural network once, up to the latest checkpoint (a stage output) that is not
//! after any condition's first edit, records there what replacements will read, and then
//! runs only the suffix per condition, starting from that checkpoint's natural value.

use std::collections::HashMap;

use burn::tensor::Tensor;

use aann_model::network::checkpoint_for;
use aann_model::{
    Condition, ConditionHooks, Halt, InceptionV1, ModelError, NoHooks, Recorder, StackedHooks, Tap,
};

use crate::lab::BASELINE;

/// Conditions evaluated together; index 0 is always the unmodified baseline.
pub struct Evaluator<'m> {
    model: &'m InceptionV1,
    conditions: Vec<Condition>,
    checkpoint: Tap,
    prefix_reads: Vec<Tap>,
    arms_per_pass: usize,
}

impl<'m> Evaluator<'m> {
    /// `conditions` must not include the baseline; it is added first.
    pub fn new(model: &'m InceptionV1, conditions: Vec<Condition>) -> Result<Self, ModelError> {
        let variant = model.variant();
        let mut names = std::collections::HashSet::from([BASELINE.to_string()]);
        for c in &conditions {
            c.validate(variant)?;
            if !names.insert(c.name.clone()) {
                return Err(ModelError::Channels(format!(
                    "two conditions are named `{}`; condition names must be unique (and not `baseline`)",
                    c.name
                )));
            }
        }
        // The latest checkpoint whose hooks still precede every edit; with no edits at all,
        // everything up to the classifier is shared.
        let checkpoint = conditions
            .iter()
            .filter_map(Condition::earliest_edit)
            .map(checkpoint_for)
            .min_by_key(|t| t.order())
            .unwrap_or(Tap::output(aann_model::Layer::AvgPool));
        let mut prefix_reads: Vec<Tap> = conditions
            .iter()
            .flat_map(Condition::reads)
            .filter(|t| t.order() < checkpoint.order())
            .collect();
        prefix_reads.sort_by_key(|t| t.order());
        prefix_reads.dedup();
        let mut all = vec![Condition::baseline()];
        all.extend(conditions);
        Ok(Evaluator {
            model,
            conditions: all,
            checkpoint,
            prefix_reads,
            arms_per_pass: 1,
        })
    }

    /// Run up to `k` conditions' suffixes as one batch (their copies of the checkpoint's
    /// value stacked along the batch axis); 1 runs them one after another. The records do
    /// not depend on it (tested); the speed does (see BENCHMARKS.md).
    pub fn with_arms_per_pass(mut self, k: usize) -> Self {
        self.arms_per_pass = k.max(1);
        self
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The conditions' names, baseline first.
    pub fn condition_names(&self) -> Vec<String> {
        self.conditions.iter().map(|c| c.name.clone()).collect()
    }

    /// The checkpoint after which conditions diverge.
    pub fn checkpoint(&self) -> Tap {
        self.checkpoint
    }

    /// Logits `[N, outputs]` of every condition (baseline first) for one batch.
    pub fn evaluate(
        &self,
        input: Tensor<4>,
        keys: &[String],
    ) -> Result<Vec<Tensor<2>>, ModelError> {
        let variant = self.model.variant();
        let device = self.model.device().clone();
        // Shared prefix: natural activations up to the checkpoint.
        let (shared, recorded) = if self.checkpoint == Tap::INPUT {
            let mut recorded = HashMap::new();
            if self.prefix_reads.contains(&Tap::INPUT) {
                recorded.insert(Tap::INPUT, input.clone());
            }
            (input, recorded)
        } else {
            let mut recorder = Recorder::stopping_at(&self.prefix_reads, self.checkpoint);
            match self.model.run(Tap::INPUT, input, &mut recorder) {
                Err(Halt::Stopped(_, x)) => (*x, recorder.recorded),
                Err(Halt::Invalid(msg)) => return Err(ModelError::Input(msg)),
                Ok(_) => unreachable!("the recorder stops at the checkpoint"),
            }
        };
        let mut logits = Vec::with_capacity(self.conditions.len());
        if self.arms_per_pass > 1 {
            let rows = shared.dims()[0];
            for group in self.conditions.chunks(self.arms_per_pass) {
                let hooks = group
                    .iter()
                    .map(|c| ConditionHooks::new(c, variant, &device, keys, recorded.clone()))
                    .collect();
                let mut stacked = StackedHooks::new(hooks, rows);
                let input = Tensor::cat(vec![shared.clone(); group.len()], 0);
                let out = match self.model.run(self.checkpoint, input, &mut stacked) {
                    Ok(l) => l,
                    Err(Halt::Invalid(msg)) => {
                        let names: Vec<&str> = group.iter().map(|c| c.name.as_str()).collect();
                        return Err(ModelError::Input(format!(
                            "conditions {}: {msg}",
                            names.join(", ")
                        )));
                    }
                    Err(Halt::Stopped(tap, _)) => {
                        unreachable!("condition hooks never stop ({tap:?})")
                    }
                };
                for k in 0..group.len() {
                    logits.push(out.clone().narrow(0, k * rows, rows));
                }
            }
            return Ok(logits);
        }
        for condition in &self.conditions {
            let result = if condition.edits.is_empty() {
                self.model
                    .run(self.checkpoint, shared.clone(), &mut NoHooks)
            } else {
                let mut hooks =
                    ConditionHooks::new(condition, variant, &device, keys, recorded.clone());
                self.model.run(self.checkpoint, shared.clone(), &mut hooks)
            };
            match result {
                Ok(l) => logits.push(l),
                Err(Halt::Invalid(msg)) => {
                    return Err(ModelError::Input(format!(
                        "condition {}: {msg}",
                        condition.name
                    )));
                }
                Err(Halt::Stopped(tap, _)) => {
                    unreachable!("condition hooks never stop ({tap:?})")
                }
            }
        }
        Ok(logits)
    }

    /// The same, running each condition as an independent full pass (no prefix reuse).
    /// Used to check [`evaluate`](Self::evaluate), and as the reference in benchmarks.
    pub fn evaluate_independently(
        &self,
        input: Tensor<4>,
        keys: &[String],
    ) -> Result<Vec<Tensor<2>>, ModelError> {
        let variant = self.model.variant();
        let device = self.model.device().clone();
        self.conditions
            .iter()
            .map(|condition| {
                let mut hooks =
                    ConditionHooks::new(condition, variant, &device, keys, HashMap::new());
                self.model
                    .run(Tap::INPUT, input.clone(), &mut hooks)
                    .map_err(|h| match h {
                        Halt::Invalid(msg) => ModelError::Input(msg),
                        Halt::Stopped(..) => unreachable!(),
                    })
            })
            .collect()
    }
}
