//! Per-image outcomes of one evaluated condition, and the per-condition and
//! pairwise summaries that reports print.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::binary::{BinaryComparison, compare_binary};
use crate::error::{Result, StatsError};
use crate::estimate::{Estimate, check_finite, check_level, check_same_length};
use crate::mean::{MeanComparison, compare_means, nonnegative_mean_with_ci};
use crate::proportion::proportion_with_ci;

/// A per-image metric of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Cross-entropy loss of the true label, in nats. Lower is better.
    CrossEntropy,
    /// KL(baseline ‖ condition) of the predicted class distributions, in
    /// nats. Lower is closer to the baseline.
    KlFromBaseline,
    /// 1 if the true label is the top-1 prediction, else 0. Higher is better.
    Top1Accuracy,
    /// 1 if the true label is among the top-5 predictions, else 0.
    Top5Accuracy,
}

impl Metric {
    /// Every metric, in the order reports should print them: the losses
    /// first, because a continuous loss detects much smaller effects than
    /// 0/1 accuracy on the same images.
    pub const REPORT_ORDER: [Metric; 4] = [
        Metric::CrossEntropy,
        Metric::KlFromBaseline,
        Metric::Top1Accuracy,
        Metric::Top5Accuracy,
    ];

    /// The snake_case name used in serialised output.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::CrossEntropy => "cross_entropy",
            Metric::KlFromBaseline => "kl_from_baseline",
            Metric::Top1Accuracy => "top1_accuracy",
            Metric::Top5Accuracy => "top5_accuracy",
        }
    }

    /// Whether larger values mean better task performance. (For
    /// [`Metric::KlFromBaseline`], smaller means closer to the baseline.)
    pub fn higher_is_better(&self) -> bool {
        matches!(self, Metric::Top1Accuracy | Metric::Top5Accuracy)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The per-image outcomes of one named condition (baseline, an ablation, a
/// replacement, a random-channel null set, …), aligned by image with every
/// other condition of the same evaluation. Validated on construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionOutcomes {
    name: String,
    correct_top1: Vec<bool>,
    correct_top5: Vec<bool>,
    cross_entropy: Vec<f64>,
    kl_from_baseline: Option<Vec<f64>>,
}

impl ConditionOutcomes {
    /// Builds and validates the outcomes of condition `name`.
    ///
    /// Errors: empty input, vectors of different lengths, a non-finite loss or
    /// KL, or an image correct at top-1 but not at top-5.
    pub fn new(
        name: impl Into<String>,
        correct_top1: Vec<bool>,
        correct_top5: Vec<bool>,
        cross_entropy: Vec<f64>,
        kl_from_baseline: Option<Vec<f64>>,
    ) -> Result<Self> {
        let name = name.into();
        let n = correct_top1.len();
        if n == 0 {
            return Err(StatsError::Empty {
                what: format!("outcomes of condition {name:?}"),
            });
        }
        check_same_length(
            n,
            correct_top5.len(),
            &format!("{name}: correct_top1 vs correct_top5"),
        )?;
        check_same_length(
            n,
            cross_entropy.len(),
            &format!("{name}: correct_top1 vs cross_entropy"),
        )?;
        check_finite(&cross_entropy, &format!("{name}: cross_entropy"))?;
        if let Some(kl) = &kl_from_baseline {
            check_same_length(
                n,
                kl.len(),
                &format!("{name}: correct_top1 vs kl_from_baseline"),
            )?;
            check_finite(kl, &format!("{name}: kl_from_baseline"))?;
        }
        if let Some(index) = correct_top1
            .iter()
            .zip(&correct_top5)
            .position(|(&top1, &top5)| top1 && !top5)
        {
            return Err(StatsError::Top1NotInTop5 {
                condition: name,
                index,
            });
        }
        Ok(ConditionOutcomes {
            name,
            correct_top1,
            correct_top5,
            cross_entropy,
            kl_from_baseline,
        })
    }

    /// The condition's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of images.
    pub fn n_images(&self) -> usize {
        self.correct_top1.len()
    }

    /// Per-image top-1 correctness.
    pub fn correct_top1(&self) -> &[bool] {
        &self.correct_top1
    }

    /// Per-image top-5 correctness.
    pub fn correct_top5(&self) -> &[bool] {
        &self.correct_top5
    }

    /// Per-image cross-entropy loss.
    pub fn cross_entropy(&self) -> &[f64] {
        &self.cross_entropy
    }

    /// Per-image KL(baseline ‖ condition), if it was evaluated.
    pub fn kl_from_baseline(&self) -> Option<&[f64]> {
        self.kl_from_baseline.as_deref()
    }

    /// The per-image values of `metric` as numbers (accuracies as 0/1), or
    /// `None` for KL when it was not evaluated.
    pub fn values(&self, metric: Metric) -> Option<Vec<f64>> {
        let from_bools = |v: &[bool]| v.iter().map(|&x| if x { 1.0 } else { 0.0 }).collect();
        match metric {
            Metric::Top1Accuracy => Some(from_bools(&self.correct_top1)),
            Metric::Top5Accuracy => Some(from_bools(&self.correct_top5)),
            Metric::CrossEntropy => Some(self.cross_entropy.clone()),
            Metric::KlFromBaseline => self.kl_from_baseline.clone(),
        }
    }
}

/// Per-condition summary: accuracies with Wilson intervals, mean losses with
/// Student-t intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionSummary {
    /// The condition's name.
    pub condition: String,
    /// Number of images.
    pub n_images: usize,
    /// Mean cross-entropy (nats), Student-t interval.
    pub cross_entropy: Estimate,
    /// Mean KL(baseline ‖ condition) (nats), Student-t interval, if evaluated.
    pub kl_from_baseline: Option<Estimate>,
    /// Top-1 accuracy, Wilson interval.
    pub top1_accuracy: Estimate,
    /// Top-5 accuracy, Wilson interval.
    pub top5_accuracy: Estimate,
}

/// Summarises one condition at confidence `level`.
///
/// Errors: fewer than 2 images or `level` outside (0, 1).
pub fn summarize_condition(outcomes: &ConditionOutcomes, level: f64) -> Result<ConditionSummary> {
    check_level(level)?;
    Ok(ConditionSummary {
        condition: outcomes.name.clone(),
        n_images: outcomes.n_images(),
        cross_entropy: nonnegative_mean_with_ci(&outcomes.cross_entropy, level)?,
        kl_from_baseline: outcomes
            .kl_from_baseline
            .as_deref()
            .map(|kl| nonnegative_mean_with_ci(kl, level))
            .transpose()?,
        top1_accuracy: proportion_with_ci(&outcomes.correct_top1, level)?,
        top5_accuracy: proportion_with_ci(&outcomes.correct_top5, level)?,
    })
}

/// Paired comparison of two conditions on the same images; every difference
/// is `b − a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionComparison {
    /// Name of condition `a` (the reference).
    pub a: String,
    /// Name of condition `b`.
    pub b: String,
    /// Number of paired images.
    pub n_images: usize,
    /// Cross-entropy: paired t interval and test.
    pub cross_entropy: MeanComparison,
    /// KL(baseline ‖ ·): paired t interval and test, if both conditions have it.
    pub kl_from_baseline: Option<MeanComparison>,
    /// Top-1 accuracy: Newcombe paired interval and exact McNemar test.
    pub top1_accuracy: BinaryComparison,
    /// Top-5 accuracy: Newcombe paired interval and exact McNemar test.
    pub top5_accuracy: BinaryComparison,
}

/// Compares conditions `a` and `b` image by image at confidence `level`.
///
/// Errors: different numbers of images, fewer than 2 images, or `level`
/// outside (0, 1).
pub fn compare_conditions(
    a: &ConditionOutcomes,
    b: &ConditionOutcomes,
    level: f64,
) -> Result<ConditionComparison> {
    check_level(level)?;
    check_same_length(
        a.n_images(),
        b.n_images(),
        &format!("conditions {:?} and {:?}", a.name, b.name),
    )?;
    let kl_from_baseline = match (&a.kl_from_baseline, &b.kl_from_baseline) {
        (Some(kl_a), Some(kl_b)) => Some(compare_means(kl_a, kl_b, level)?),
        _ => None,
    };
    Ok(ConditionComparison {
        a: a.name.clone(),
        b: b.name.clone(),
        n_images: a.n_images(),
        cross_entropy: compare_means(&a.cross_entropy, &b.cross_entropy, level)?,
        kl_from_baseline,
        top1_accuracy: compare_binary(&a.correct_top1, &b.correct_top1, level)?,
        top5_accuracy: compare_binary(&a.correct_top5, &b.correct_top5, level)?,
    })
}
