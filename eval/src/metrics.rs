//! Per-image outcomes of a condition, from its logits and the baseline's.
//!
//! Only outputs that are real ImageNet classes take part: for Lucid's 1008 outputs, index 0
//! ("dummy") and 1001–1007 (unused) are never predicted, and probabilities are renormalised
//! over the 1000 classes. Losses are natural-log cross-entropies (nats).

use serde::{Deserialize, Serialize};

use aann_data::ClassOrder;

/// One image under one condition: a line of `records.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The image's stable key.
    pub image: String,
    pub condition: String,
    /// Ground truth as a sorted-synset class index, if labelled.
    #[serde(default)]
    pub label: Option<usize>,
    #[serde(default)]
    pub correct1: Option<bool>,
    #[serde(default)]
    pub correct5: Option<bool>,
    /// Cross-entropy of the true class (nats).
    #[serde(default)]
    pub loss: Option<f64>,
    /// KL(baseline ‖ condition) over the classes (nats); 0 for the baseline.
    pub kl: f64,
    /// Top-5 predicted classes (sorted-synset indices), best first.
    pub top5: Vec<usize>,
    /// Probability of each of `top5`.
    pub top5_prob: Vec<f64>,
    /// The raw logit of the true class.
    #[serde(default)]
    pub true_logit: Option<f64>,
}

/// The outputs that are classes, and their class index.
#[derive(Clone, Debug)]
pub struct OutputClasses {
    /// `(output index, class index)` of every real class output.
    classes: Vec<(usize, usize)>,
    num_outputs: usize,
}

impl OutputClasses {
    pub fn new(order: &ClassOrder) -> Self {
        let classes = (0..order.num_outputs())
            .filter_map(|o| order.class_of_output(o).map(|c| (o, c)))
            .collect();
        OutputClasses {
            classes,
            num_outputs: order.num_outputs(),
        }
    }

    pub fn num_outputs(&self) -> usize {
        self.num_outputs
    }

    /// Log-probabilities over the classes, as `(class, log p)` in output order.
    fn log_probs(&self, logits: &[f32]) -> Vec<(usize, f64, f64)> {
        let max = self
            .classes
            .iter()
            .map(|&(o, _)| f64::from(logits[o]))
            .fold(f64::NEG_INFINITY, f64::max);
        let log_z = max
            + self
                .classes
                .iter()
                .map(|&(o, _)| (f64::from(logits[o]) - max).exp())
                .sum::<f64>()
                .ln();
        self.classes
            .iter()
            .map(|&(o, c)| (c, f64::from(logits[o]) - log_z, f64::from(logits[o])))
            .collect()
    }

    /// Classes with their probabilities, most probable first (ties by class index).
    pub fn ranked(&self, logits: &[f32]) -> Vec<(usize, f64)> {
        let mut ranked: Vec<(usize, f64)> = self
            .log_probs(logits)
            .into_iter()
            .map(|(c, lp, _)| (c, lp.exp()))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// The record of one image: `logits` of the condition, `baseline` logits for the KL.
    pub fn record(
        &self,
        image: &str,
        condition: &str,
        label: Option<usize>,
        logits: &[f32],
        baseline: &[f32],
    ) -> ImageRecord {
        let lp = self.log_probs(logits);
        let lb = self.log_probs(baseline);
        let kl: f64 = lb
            .iter()
            .zip(&lp)
            .map(|((_, b, _), (_, c, _))| b.exp() * (b - c))
            .sum::<f64>()
            .max(0.0);
        let mut ranked: Vec<&(usize, f64, f64)> = lp.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top5: Vec<usize> = ranked.iter().take(5).map(|r| r.0).collect();
        let top5_prob: Vec<f64> = ranked.iter().take(5).map(|r| r.1.exp()).collect();
        let truth = label.and_then(|l| lp.iter().find(|(c, _, _)| *c == l));
        ImageRecord {
            image: image.to_string(),
            condition: condition.to_string(),
            label,
            correct1: label.map(|l| top5.first() == Some(&l)),
            correct5: label.map(|l| top5.contains(&l)),
            loss: truth.map(|t| -t.1),
            kl,
            top5,
            top5_prob,
            true_logit: truth.map(|t| t.2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn order() -> ClassOrder {
        let text: String = (0..1000)
            .map(|i| format!("n{:08} class {i}\n", 1_000_000 + i))
            .collect();
        let synsets = aann_data::Synsets::parse(&text, Path::new("synsets.txt")).unwrap();
        ClassOrder::sorted_synsets(&synsets)
    }

    #[test]
    fn metrics_match_hand_computation() {
        let classes = OutputClasses::new(&order());
        let mut logits = vec![0.0f32; 1000];
        logits[7] = 3.0;
        logits[2] = 2.0;
        let r = classes.record("img", "c", Some(2), &logits, &logits);
        // softmax: z = e^3 + e^2 + 998
        let z = 3f64.exp() + 2f64.exp() + 998.0;
        assert!((r.loss.unwrap() - (z.ln() - 2.0)).abs() < 1e-9);
        assert_eq!(r.top5[..2], [7, 2]);
        assert_eq!(r.correct1, Some(false));
        assert_eq!(r.correct5, Some(true));
        assert!(r.kl.abs() < 1e-12);
        assert_eq!(r.true_logit, Some(2.0));
    }

    #[test]
    fn kl_is_positive_when_the_condition_differs() {
        let classes = OutputClasses::new(&order());
        let base = vec![0.0f32; 1000];
        let mut cond = base.clone();
        cond[0] = 5.0;
        let r = classes.record("img", "c", None, &cond, &base);
        assert!(r.kl > 0.0);
        assert_eq!(r.loss, None);
        assert_eq!(r.correct1, None);
    }
}
