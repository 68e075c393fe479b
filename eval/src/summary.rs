//! Turning a results folder into statistics: per-condition accuracies and losses with
//! intervals, and paired comparisons with the baseline.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use aann_stats::{
    ConditionComparison, ConditionOutcomes, ConditionSummary, compare_conditions,
    summarize_condition,
};

use crate::EvalError;
use crate::metrics::ImageRecord;
use crate::records::aligned_by_condition;

/// Statistics of the conditions of one run, on the images every condition has.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSummary {
    pub level: f64,
    /// Images with a record under every condition (and a label).
    pub images: usize,
    pub conditions: Vec<ConditionSummary>,
    /// Each condition against the baseline (difference = condition − baseline).
    pub versus_baseline: Vec<ConditionComparison>,
}

/// Per-condition outcome vectors aligned by image (labelled images only).
pub fn outcomes_by_condition(
    records: &[ImageRecord],
    conditions: &[String],
) -> Result<(Vec<String>, Vec<ConditionOutcomes>), EvalError> {
    let labelled: Vec<ImageRecord> = records
        .iter()
        .filter(|r| r.loss.is_some())
        .cloned()
        .collect();
    let (images, by_condition): (Vec<String>, BTreeMap<String, Vec<ImageRecord>>) =
        aligned_by_condition(&labelled, conditions);
    let mut out = Vec::new();
    for c in conditions {
        let rows = &by_condition[c];
        out.push(ConditionOutcomes::new(
            c,
            rows.iter().map(|r| r.correct1.unwrap_or(false)).collect(),
            rows.iter().map(|r| r.correct5.unwrap_or(false)).collect(),
            rows.iter().map(|r| r.loss.unwrap_or(f64::NAN)).collect(),
            Some(rows.iter().map(|r| r.kl).collect()),
        )?);
    }
    Ok((images, out))
}

/// Summarise a run (`conditions[0]` must be the baseline).
pub fn summarize(
    records: &[ImageRecord],
    conditions: &[String],
    level: f64,
) -> Result<RunSummary, EvalError> {
    let (images, outcomes) = outcomes_by_condition(records, conditions)?;
    if images.len() < 2 {
        return Err(EvalError::Results(format!(
            "only {} labelled image(s) have records under every condition; statistics need at least 2",
            images.len()
        )));
    }
    let summaries = outcomes
        .iter()
        .map(|o| summarize_condition(o, level))
        .collect::<Result<Vec<_>, _>>()?;
    let versus_baseline = outcomes[1..]
        .iter()
        .map(|o| compare_conditions(&outcomes[0], o, level))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RunSummary {
        level,
        images: images.len(),
        conditions: summaries,
        versus_baseline,
    })
}

/// A p-value with three significant digits, in scientific notation below 0.001.
pub fn format_p(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.2e}")
    } else {
        format!("{p:.3}")
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

impl RunSummary {
    /// A plain-text table for the terminal.
    pub fn table(&self) -> String {
        let level = (self.level * 100.0).round();
        let mut s = String::new();
        let _ = writeln!(s, "{} images; {level}% intervals", self.images);
        let _ = writeln!(
            s,
            "{:<24} {:>26} {:>26} {:>26} {:>10}",
            "condition", "top-1", "top-5", "cross-entropy (nats)", "KL"
        );
        for c in &self.conditions {
            let acc = |e: &aann_stats::Estimate| {
                format!("{} [{}, {}]", pct(e.point), pct(e.ci.lo), pct(e.ci.hi))
            };
            let _ = writeln!(
                s,
                "{:<24} {:>26} {:>26} {:>26} {:>10}",
                c.condition,
                acc(&c.top1_accuracy),
                acc(&c.top5_accuracy),
                format!(
                    "{:.4} [{:.4}, {:.4}]",
                    c.cross_entropy.point, c.cross_entropy.ci.lo, c.cross_entropy.ci.hi
                ),
                c.kl_from_baseline
                    .map_or("-".into(), |k| format!("{:.4}", k.point)),
            );
        }
        if !self.versus_baseline.is_empty() {
            let _ = writeln!(s, "\nversus baseline (condition − baseline):");
            for v in &self.versus_baseline {
                let t1 = &v.top1_accuracy;
                let t5 = &v.top5_accuracy;
                let ce = &v.cross_entropy.difference;
                let _ = writeln!(
                    s,
                    "{:<24} top-1 {:+.2} pts [{:+.2}, {:+.2}] (McNemar p={})  top-5 {:+.2} pts [{:+.2}, {:+.2}] (p={})  loss {:+.4} [{:+.4}, {:+.4}] (p={})",
                    v.b,
                    100.0 * t1.difference.point,
                    100.0 * t1.difference.ci.lo,
                    100.0 * t1.difference.ci.hi,
                    format_p(t1.mcnemar.p_value),
                    100.0 * t5.difference.point,
                    100.0 * t5.difference.ci.lo,
                    100.0 * t5.difference.ci.hi,
                    format_p(t5.mcnemar.p_value),
                    ce.point,
                    ce.ci.lo,
                    ce.ci.hi,
                    v.cross_entropy.p_value.map_or("n/a".into(), format_p),
                );
            }
        }
        s
    }
}
