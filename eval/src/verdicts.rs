//! Verdicts a reviewer accepts, read from a finished run's paired comparisons:
//!
//! - **against controls and ablations**: every paired comparison of a circuit with its
//!   controls and the ablations, in cross-entropy and in KL, is one test of one family;
//!   Holm's adjustment holds the family-wise error at `1 − level`, and the words ("beats
//!   it", "worse") come from the adjusted p-values. A control with degenerate units
//!   (`aann_circuits::Degeneracy`) is never "beaten": its rows say it is degenerate and stay
//!   out of the family;
//! - **equivalence** (the "preservation" test of Shi et al., NeurIPS 2024, carried to
//!   vision): a two-one-sided test of whether an arm's cross-entropy and KL lie within
//!   `equivalence_margin` of the zero-ablation's distance from the natural network, Holm
//!   over its own family;
//! - **structure at the units**: each circuit's per-unit r and R² against its relay and its
//!   structure controls, paired across the units (a paired t interval), dev and test;
//! - **identical arms**: two arms with the same loss on every image are a bug until shown
//!   otherwise; they are listed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use aann_circuits::Degeneracy;
use aann_stats::{
    ConditionComparison, ConditionOutcomes, Equivalence, MeanComparison, Metric, compare_means,
    equivalence_test, holm_adjust,
};

use crate::EvalError;
use crate::lab::faithfulness::Faithfulness;
use crate::lab::{Ablation, ArmInfo, ArmKind, BASELINE};
use crate::spec::Split;

/// How an arm's calibrated units stand: how many there are and which degenerated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmCalibration {
    pub arm: String,
    /// The calibration in words (scope and fit).
    pub calibration: String,
    pub units: usize,
    pub degenerate: Vec<DegenerateUnit>,
}

impl ArmCalibration {
    /// The degenerate units in words: `326: gain clipped, 9: constant output`.
    pub fn degenerate_units(&self) -> String {
        self.degenerate
            .iter()
            .map(|d| format!("{}: {}", d.channel, d.why.describe()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One degenerate unit: the natural channel it stands in for, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DegenerateUnit {
    pub channel: usize,
    pub why: Degeneracy,
}

/// What a row of the verdict table says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// The circuit's loss is lower (adjusted p below α).
    Beats,
    /// The circuit's loss is higher (adjusted p below α).
    Worse,
    /// Neither, after adjustment.
    NotDistinguishable,
    /// The other arm is a control with degenerate units: no verdict.
    DegenerateControl,
}

/// One test: a circuit against another arm in one metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictRow {
    pub circuit: String,
    pub against: String,
    pub metric: Metric,
    /// The paired difference circuit − other (its 95% t interval, unadjusted).
    pub difference: aann_stats::Estimate,
    /// The paired t test's two-sided p-value, raw and Holm-adjusted over the family.
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub verdict: Judgement,
}

/// An arm's equivalence to the natural network in one metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquivalenceRow {
    pub arm: String,
    pub metric: Metric,
    /// The margin as a fraction of the zero-ablation's mean difference from the baseline.
    pub margin_fraction: f64,
    #[serde(flatten)]
    pub test: Equivalence,
    /// Holm-adjusted over every equivalence row.
    pub p_adjusted: f64,
    pub equivalent: bool,
}

/// A circuit's per-unit faithfulness against another arm's, paired across the units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitComparison {
    pub circuit: String,
    pub against: String,
    pub split: Split,
    /// `r` or `r2`.
    pub statistic: String,
    /// Circuit − other, unit by unit (positive: the circuit follows its neurons better).
    pub comparison: MeanComparison,
    /// Units where the circuit's value is higher.
    pub circuit_better: usize,
}

/// The verdict tables of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// The multiplicity correction and the family it covers.
    pub correction: String,
    pub family: String,
    pub alpha: f64,
    pub rows: Vec<VerdictRow>,
    pub equivalence: Vec<EquivalenceRow>,
    pub units: Vec<UnitComparison>,
    /// Pairs of arms with identical losses on every image.
    pub identical_arms: Vec<(String, String)>,
}

/// Everything the verdicts are read from.
pub struct VerdictInputs<'a> {
    pub arms: &'a [ArmInfo],
    pub outcomes: &'a [ConditionOutcomes],
    pub versus: &'a [ConditionComparison],
    pub calibrations: &'a [ArmCalibration],
    pub faithfulness: &'a [Faithfulness],
    pub level: f64,
    pub equivalence_margin: f64,
}

/// The verdict tables: Holm over the circuit-versus-control family, TOST equivalence, the
/// per-unit comparisons and the identical arms.
pub fn judge(inputs: &VerdictInputs<'_>) -> Result<Verdicts, EvalError> {
    let alpha = alpha_of(inputs.level);
    let degenerate: HashMap<&str, usize> = inputs
        .calibrations
        .iter()
        .filter(|c| !c.degenerate.is_empty())
        .map(|c| (c.arm.as_str(), c.degenerate.len()))
        .collect();
    let mut rows = Vec::new();
    for v in inputs.versus {
        let metrics = std::iter::once((Metric::CrossEntropy, &v.cross_entropy)).chain(
            v.kl_from_baseline
                .iter()
                .map(|k| (Metric::KlFromBaseline, k)),
        );
        for (metric, m) in metrics {
            let degenerate_control = degenerate.contains_key(v.a.as_str());
            rows.push(VerdictRow {
                circuit: v.b.clone(),
                against: v.a.clone(),
                metric,
                difference: m.difference,
                p_value: if degenerate_control { None } else { m.p_value },
                p_adjusted: None,
                verdict: Judgement::DegenerateControl,
            });
        }
    }
    let adjusted = holm_adjust(&rows.iter().map(|r| r.p_value).collect::<Vec<_>>());
    for (row, p) in rows.iter_mut().zip(adjusted) {
        row.p_adjusted = p;
        if degenerate.contains_key(row.against.as_str()) {
            continue;
        }
        row.verdict = match p {
            Some(p) if p < alpha && row.difference.point < 0.0 => Judgement::Beats,
            Some(p) if p < alpha && row.difference.point > 0.0 => Judgement::Worse,
            _ => Judgement::NotDistinguishable,
        };
    }
    let tests = rows.iter().filter(|r| r.p_value.is_some()).count();
    Ok(Verdicts {
        correction: "holm".into(),
        family: format!(
            "every paired comparison of a circuit with its controls, the ablations, (in a \
             lineage) the other stacked circuit and (in a ladder) each level's own ablations \
             and controls, in cross-entropy and in KL: {tests} tests \
             (comparisons with a degenerate control are not tests)"
        ),
        alpha,
        rows,
        equivalence: equivalence(inputs)?,
        units: unit_comparisons(inputs)?,
        identical_arms: identical_arms(inputs.outcomes),
    })
}

/// `1 − level`, rounded to 12 digits (0.05, not 0.050000000000000044).
fn alpha_of(level: f64) -> f64 {
    ((1.0 - level) * 1e12).round() / 1e12
}

/// TOST of every circuit, the relay and the fitted bounds against the baseline, in
/// cross-entropy and KL, the margin a fraction of the zero-ablation's mean difference.
fn equivalence(inputs: &VerdictInputs<'_>) -> Result<Vec<EquivalenceRow>, EvalError> {
    let by_name: HashMap<&str, &ConditionOutcomes> =
        inputs.outcomes.iter().map(|o| (o.name(), o)).collect();
    let (Some(baseline), Some(zero)) = (
        by_name.get(BASELINE),
        by_name.get(Ablation::Zero.arm_name()),
    ) else {
        return Ok(Vec::new());
    };
    let alpha = alpha_of(inputs.level);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut rows = Vec::new();
    let judged = inputs.arms.iter().filter(|a| {
        matches!(
            a.kind,
            ArmKind::Replace { .. }
                | ArmKind::Control {
                    control: crate::lab::Control::Relay { .. }
                        | crate::lab::Control::Readout { .. },
                    ..
                }
        )
    });
    for arm in judged {
        let Some(o) = by_name.get(arm.name.as_str()) else {
            continue;
        };
        for metric in [Metric::CrossEntropy, Metric::KlFromBaseline] {
            let (Some(b), Some(z), Some(x)) = (
                baseline.values(metric),
                zero.values(metric),
                o.values(metric),
            ) else {
                continue;
            };
            let gap = mean(&z) - mean(&b);
            if gap.is_nan() || gap <= 0.0 {
                continue;
            }
            let margin = inputs.equivalence_margin * gap;
            let test = equivalence_test(&b, &x, margin, alpha)?;
            rows.push(EquivalenceRow {
                arm: arm.name.clone(),
                metric,
                margin_fraction: inputs.equivalence_margin,
                test,
                p_adjusted: 1.0,
                equivalent: false,
            });
        }
    }
    let adjusted = holm_adjust(
        &rows
            .iter()
            .map(|r| Some(r.test.p_value))
            .collect::<Vec<_>>(),
    );
    for (row, p) in rows.iter_mut().zip(adjusted) {
        row.p_adjusted = p.unwrap_or(1.0);
        row.equivalent = row.p_adjusted < alpha;
    }
    Ok(rows)
}

/// Each circuit's per-unit r and R² against its relay and structure controls.
fn unit_comparisons(inputs: &VerdictInputs<'_>) -> Result<Vec<UnitComparison>, EvalError> {
    let mut rows = Vec::new();
    for circuit in inputs.arms.iter().filter(|a| a.kind.is_replacement()) {
        let others = inputs.arms.iter().filter(|o| match &o.kind {
            ArmKind::Control { of, control } => {
                of.as_deref() == Some(circuit.name.as_str())
                    || matches!(control, crate::lab::Control::Relay { .. })
            }
            _ => false,
        });
        for other in others {
            for mine in inputs.faithfulness.iter().filter(|f| f.arm == circuit.name) {
                let Some(theirs) = inputs
                    .faithfulness
                    .iter()
                    .find(|f| f.arm == other.name && f.split == mine.split)
                else {
                    continue;
                };
                let pairs: Vec<(&crate::lab::faithfulness::UnitFit, _)> = mine
                    .units
                    .iter()
                    .filter_map(|u| {
                        theirs
                            .units
                            .iter()
                            .find(|t| t.channel == u.channel)
                            .map(|t| (u, t))
                    })
                    .collect();
                if pairs.len() < 2 {
                    continue;
                }
                for (statistic, get) in [
                    (
                        "r",
                        (|u: &crate::lab::faithfulness::UnitFit| u.r) as fn(&_) -> f64,
                    ),
                    ("r2", |u| u.r2),
                ] {
                    let circuit_values: Vec<f64> = pairs.iter().map(|(u, _)| get(u)).collect();
                    let other_values: Vec<f64> = pairs.iter().map(|(_, t)| get(t)).collect();
                    rows.push(UnitComparison {
                        circuit: circuit.name.clone(),
                        against: other.name.clone(),
                        split: mine.split,
                        statistic: statistic.into(),
                        comparison: compare_means(&other_values, &circuit_values, inputs.level)?,
                        circuit_better: circuit_values
                            .iter()
                            .zip(&other_values)
                            .filter(|(c, o)| c > o)
                            .count(),
                    });
                }
            }
        }
    }
    Ok(rows)
}

/// Pairs of arms (the baseline aside) whose cross-entropy is the same on every image.
pub fn identical_arms(outcomes: &[ConditionOutcomes]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (i, a) in outcomes.iter().enumerate() {
        for b in &outcomes[i + 1..] {
            if a.name() != BASELINE
                && b.name() != BASELINE
                && a.cross_entropy() == b.cross_entropy()
            {
                pairs.push((a.name().to_string(), b.name().to_string()));
            }
        }
    }
    pairs
}

/// The two metrics' judgements of one circuit–control pair in words, as the card prints
/// them; for a control (not an ablation) a tie says the control recovers as much.
pub fn in_words(ce: Option<&VerdictRow>, kl: Option<&VerdictRow>, is_control: bool) -> String {
    use Judgement::*;
    let j = |r: Option<&VerdictRow>| r.map_or(NotDistinguishable, |r| r.verdict);
    match (j(ce), j(kl)) {
        (DegenerateControl, _) | (_, DegenerateControl) => "degenerate control: no verdict".into(),
        (Beats, Beats) => "beats it (CE and KL)".into(),
        (Beats, Worse) => "beats it in CE, worse in KL".into(),
        (Beats, _) => "beats it in CE only".into(),
        (Worse, Beats) => "beats it in KL, worse in CE".into(),
        (_, Beats) => "beats it in KL only".into(),
        (Worse, Worse) => "worse (CE and KL)".into(),
        (Worse, _) => "worse in CE".into(),
        (_, Worse) => "worse in KL".into(),
        _ if is_control => "not distinguishable: the control recovers as much".into(),
        _ => "not distinguishable (CE and KL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aann_stats::compare_conditions;

    fn outcomes(name: &str, ce: Vec<f64>) -> ConditionOutcomes {
        let n = ce.len();
        let kl = ce.iter().map(|v| (v - 1.0).abs()).collect();
        ConditionOutcomes::new(name, vec![true; n], vec![true; n], ce, Some(kl)).unwrap()
    }

    fn arm(name: &str, kind: ArmKind) -> ArmInfo {
        ArmInfo {
            name: name.into(),
            kind,
            description: String::new(),
        }
    }

    #[test]
    fn verdicts_come_from_holm_adjusted_p_and_a_degenerate_control_is_never_beaten() {
        let n = 40;
        let wiggle = |i: usize| ((i * 7919) % 13) as f64 / 100.0;
        let baseline = outcomes("baseline", (0..n).map(|i| 1.0 + wiggle(i)).collect());
        let circuit = outcomes("c", (0..n).map(|i| 1.02 + wiggle(i)).collect());
        // A control a little worse: raw p about 0.035 in CE and in KL, two tests, so Holm
        // doubles it past 0.05; and a degenerate one far worse.
        let close = outcomes(
            "c~rot90-frozen",
            (0..n)
                .map(|i| 1.02 + wiggle(i) + 0.007 + if i % 2 == 0 { 0.02 } else { -0.02 })
                .collect(),
        );
        let degenerate = outcomes(
            "c~shuffled-frozen",
            (0..n).map(|i| 1.5 + wiggle(i)).collect(),
        );
        let versus = vec![
            compare_conditions(&close, &circuit, 0.95).unwrap(),
            compare_conditions(&degenerate, &circuit, 0.95).unwrap(),
        ];
        let raw = versus[0].cross_entropy.p_value.unwrap();
        assert!(raw < 0.05, "{raw}");
        let calibrations = vec![ArmCalibration {
            arm: "c~shuffled-frozen".into(),
            calibration: "frozen".into(),
            units: 17,
            degenerate: vec![DegenerateUnit {
                channel: 3,
                why: Degeneracy::ConstantOutput,
            }],
        }];
        let arms = vec![
            arm("baseline", ArmKind::Baseline),
            arm(
                "c",
                ArmKind::Replace {
                    circuit: "c".into(),
                },
            ),
        ];
        let all = [baseline, circuit, close, degenerate];
        let v = judge(&VerdictInputs {
            arms: &arms,
            outcomes: &all,
            versus: &versus,
            calibrations: &calibrations,
            faithfulness: &[],
            level: 0.95,
            equivalence_margin: 0.2,
        })
        .unwrap();
        assert_eq!(v.rows.len(), 4);
        let degenerate_rows: Vec<&VerdictRow> = v
            .rows
            .iter()
            .filter(|r| r.against == "c~shuffled-frozen")
            .collect();
        assert!(
            degenerate_rows
                .iter()
                .all(|r| r.verdict == Judgement::DegenerateControl
                    && r.p_value.is_none()
                    && r.p_adjusted.is_none())
        );
        // Two tests in the family (CE and KL of the close control): significant raw, not
        // after Holm.
        let ce = &v.rows[0];
        assert_eq!(ce.metric, Metric::CrossEntropy);
        let adjusted = ce.p_adjusted.unwrap();
        assert!(raw > 0.02 && raw < 0.05, "{raw}");
        assert!((adjusted - 2.0 * raw).abs() < 1e-12, "{raw} {adjusted}");
        assert_eq!(ce.verdict, Judgement::NotDistinguishable);
        assert_eq!(
            in_words(Some(&v.rows[0]), Some(&v.rows[1]), true),
            "not distinguishable: the control recovers as much"
        );
        assert_eq!(
            in_words(Some(degenerate_rows[0]), Some(degenerate_rows[1]), true),
            "degenerate control: no verdict"
        );
        assert!(v.identical_arms.is_empty());
    }

    #[test]
    fn identical_arms_are_found() {
        let a = outcomes("a", vec![1.0, 2.0, 3.0]);
        let b = outcomes("b", vec![1.0, 2.0, 3.0]);
        let c = outcomes("c", vec![1.0, 2.0, 3.1]);
        let base = outcomes("baseline", vec![1.0, 2.0, 3.0]);
        assert_eq!(
            identical_arms(&[base, a, b, c]),
            vec![("a".to_string(), "b".to_string())]
        );
    }

    #[test]
    fn an_arm_close_to_the_baseline_is_equivalent_and_the_ablation_is_not() {
        let n = 200;
        let wiggle = |i: usize| ((i * 7919) % 101) as f64 / 100.0;
        let all = [
            outcomes("baseline", (0..n).map(|i| 1.0 + wiggle(i)).collect()),
            outcomes(
                "zero-ablate",
                (0..n).map(|i| 1.5 + wiggle(i) * 1.1).collect(),
            ),
            outcomes("near", (0..n).map(|i| 1.02 + wiggle(i)).collect()),
            outcomes("far", (0..n).map(|i| 1.3 + wiggle(i)).collect()),
        ];
        let arms = vec![
            arm(
                "near",
                ArmKind::Replace {
                    circuit: "near".into(),
                },
            ),
            arm(
                "far",
                ArmKind::Replace {
                    circuit: "far".into(),
                },
            ),
        ];
        let rows = equivalence(&VerdictInputs {
            arms: &arms,
            outcomes: &all,
            versus: &[],
            calibrations: &[],
            faithfulness: &[],
            level: 0.95,
            equivalence_margin: 0.2,
        })
        .unwrap();
        let find = |a: &str| {
            rows.iter()
                .find(|r| r.arm == a && r.metric == Metric::CrossEntropy)
                .unwrap()
        };
        assert!(find("near").equivalent, "{:?}", find("near"));
        assert!(!find("far").equivalent, "{:?}", find("far"));
        // The margin is a fifth of the zero-ablation's gap (0.5 + 0.1 × mean wiggle).
        let gap = find("near").test.margin / 0.2;
        assert!(gap > 0.5 && gap < 0.6, "{gap}");
    }
}
