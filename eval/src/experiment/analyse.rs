//! Stage 5, analyse: from the records and the nulls, the fractions of the gap each arm
//! recovers, each circuit against its controls image by image, the activation
//! faithfulness of every calibrated arm, and the verdicts.

use std::collections::HashMap;

use aann_stats::{
    BootstrapConfig, BootstrapInterval, ConditionComparison, ConditionOutcomes, Metric,
    PairedBootstrap, compare_conditions,
};

use super::arms::Plan;
use super::evaluate::{MainRun, Records};
use super::inputs::Inputs;
use super::result::FractionRow;
use crate::EvalError;
use crate::lab::faithfulness::{self, Faithfulness};
use crate::lab::{Ablation, ArmInfo, ArmKind, BASELINE, Feed};
use crate::means::describe_set;
use crate::spec::{ExperimentSpec, Split};
use crate::verdicts::{VerdictInputs, Verdicts, judge};

/// The metrics a fraction recovered is taken in.
const FRACTION_METRICS: [Metric; 4] = Metric::REPORT_ORDER;

/// What the analysis found.
pub struct Analysis {
    pub fractions: Vec<FractionRow>,
    /// The lineage's arms against their own references.
    pub lineage: Vec<FractionRow>,
    /// The ladder's arms against the ablations of the same families.
    pub ladder: Vec<FractionRow>,
    /// The single-neuron arms against their neuron's zero-ablation, and each single-neuron
    /// replacement against its zero-ablation and its control, image by image.
    pub neurons: Vec<FractionRow>,
    pub neuron_versus: Vec<ConditionComparison>,
    /// The ladder's replaced stack, step by step: each stack against the one below it
    /// (the lowest level alone against the baseline).
    pub ladder_steps: Vec<ConditionComparison>,
    pub versus_controls: Vec<ConditionComparison>,
    pub faithfulness: Vec<Faithfulness>,
    pub verdicts: Verdicts,
}

pub fn analyse(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    plan: &Plan,
    main: &MainRun,
    records: &Records,
) -> Result<Analysis, EvalError> {
    let st = &spec.statistics;
    let boot = PairedBootstrap::from_conditions(
        &records.outcomes,
        BootstrapConfig {
            resamples: st.resamples,
            seed: st.seed,
            level: st.level,
            interval: BootstrapInterval::Bca,
        },
    )?;
    let (fractions, lineage) = fractions(&boot, plan, &main.arms)?;
    let mut ladder = Vec::new();
    for (arm, reference) in plan.ladder.iter().flat_map(|l| &l.pairs) {
        ladder.extend(fraction_rows(&boot, arm, reference)?);
    }
    let ladder_steps = ladder_steps(plan, main, &records.outcomes, st.level)?;
    let mut neurons = Vec::new();
    let mut neuron_versus = Vec::new();
    if let Some(cards) = &plan.neurons {
        let by_name = outcomes_by_name(main, &records.outcomes);
        for (arm, reference) in &cards.pairs {
            neurons.extend(fraction_rows(&boot, arm, reference)?);
        }
        for (circuit, other) in &cards.versus {
            neuron_versus.push(compare_conditions(
                by_name[other.as_str()],
                by_name[circuit.as_str()],
                st.level,
            )?);
        }
    }
    let versus_controls = versus_controls(plan, main, &records.outcomes, st.level)?;
    let faithfulness = activation_faithfulness(feed, inputs, spec, plan)?;
    let verdicts = judge(&VerdictInputs {
        arms: &main.arms,
        outcomes: &records.outcomes,
        versus: &versus_controls,
        calibrations: &plan.calibrations,
        faithfulness: &faithfulness,
        level: st.level,
        equivalence_margin: st.equivalence_margin,
    })?;
    for (a, b) in &verdicts.identical_arms {
        eprintln!(
            "warning: arms {a} and {b} have the same loss on every test image: one of them \
             is not what it claims to be, or the two are the same arm"
        );
    }
    Ok(Analysis {
        fractions,
        lineage,
        ladder,
        ladder_steps,
        neurons,
        neuron_versus,
        versus_controls,
        faithfulness,
        verdicts,
    })
}

/// Each arm's outcomes by its name.
fn outcomes_by_name<'a>(
    main: &'a MainRun,
    outcomes: &'a [ConditionOutcomes],
) -> HashMap<&'a str, &'a ConditionOutcomes> {
    main.names
        .iter()
        .map(String::as_str)
        .zip(outcomes)
        .collect()
}

/// The fraction of the gap between the clean network and `ablated` that `patched` wins
/// back, in every metric.
fn fraction_rows(
    boot: &PairedBootstrap,
    patched: &str,
    ablated: &str,
) -> Result<Vec<FractionRow>, EvalError> {
    FRACTION_METRICS
        .iter()
        .map(|&metric| {
            Ok(FractionRow {
                condition: patched.to_string(),
                relative_to: ablated.to_string(),
                metric,
                result: boot.fraction_recovered(metric, patched, ablated, BASELINE)?,
            })
        })
        .collect()
}

/// Every arm but the baseline against the zero and mean ablations; ablations only against
/// zero-ablation ("how much of the mean-ablation gap does zero-ablation recover" is not a
/// question anyone asks); lineage arms against the arm that zero-ablates the same families.
fn fractions(
    boot: &PairedBootstrap,
    plan: &Plan,
    arms: &[ArmInfo],
) -> Result<(Vec<FractionRow>, Vec<FractionRow>), EvalError> {
    let references: Vec<&ArmInfo> = arms
        .iter()
        .filter(|a| matches!(a.kind.ablation(), Some(Ablation::Zero | Ablation::Mean)))
        .collect();
    let mut fractions = Vec::new();
    for arm in arms.iter().filter(|a| {
        !matches!(
            a.kind,
            ArmKind::Baseline
                | ArmKind::Lineage { .. }
                | ArmKind::Ladder { .. }
                | ArmKind::Neuron { .. }
        )
    }) {
        for reference in &references {
            let is_ablation = arm.kind.ablation().is_some();
            if arm.name == reference.name
                || (is_ablation && reference.kind.ablation() != Some(Ablation::Zero))
            {
                continue;
            }
            fractions.extend(fraction_rows(boot, &arm.name, &reference.name)?);
        }
    }
    let mut lineage = Vec::new();
    for (arm, reference) in plan.lineage.iter().flat_map(|l| &l.pairs) {
        lineage.extend(fraction_rows(boot, arm, reference)?);
    }
    Ok((fractions, lineage))
}

/// Each circuit against each of its controls and the ablations, image by image: the
/// paired difference (circuit − control), not overlapping intervals, says whether the
/// circuit beats it. Then the lineage's stacked arms against each other.
fn versus_controls(
    plan: &Plan,
    main: &MainRun,
    outcomes: &[ConditionOutcomes],
    level: f64,
) -> Result<Vec<ConditionComparison>, EvalError> {
    let by_name = outcomes_by_name(main, outcomes);
    let mut versus = Vec::new();
    for circuit in main.arms.iter().filter(|a| a.kind.is_replacement()) {
        for other in &main.arms {
            let relevant = match &other.kind {
                ArmKind::Control { of, .. } => of.is_none() || of.as_deref() == Some(&circuit.name),
                ArmKind::Ablate { .. } => true,
                _ => false,
            };
            if relevant {
                versus.push(compare_conditions(
                    by_name[other.name.as_str()],
                    by_name[circuit.name.as_str()],
                    level,
                )?);
            }
        }
    }
    for (circuit, other) in plan.ladder.iter().flat_map(|l| &l.versus) {
        versus.push(compare_conditions(
            by_name[other.as_str()],
            by_name[circuit.as_str()],
            level,
        )?);
    }
    if let Some(l) = &plan.lineage {
        for (i, first) in l.stacked.iter().enumerate() {
            for other in &l.stacked[i + 1..] {
                versus.push(compare_conditions(
                    by_name[other.as_str()],
                    by_name[first.as_str()],
                    level,
                )?);
            }
        }
    }
    Ok(versus)
}

/// The waterfall of the ladder: what each level adds to the replaced stack's loss.
fn ladder_steps(
    plan: &Plan,
    main: &MainRun,
    outcomes: &[ConditionOutcomes],
    level: f64,
) -> Result<Vec<ConditionComparison>, EvalError> {
    let Some(l) = &plan.ladder else {
        return Ok(Vec::new());
    };
    let by_name = outcomes_by_name(main, outcomes);
    let mut below = BASELINE;
    let mut steps = Vec::new();
    for arm in &l.stack {
        steps.push(compare_conditions(
            by_name[below],
            by_name[arm.as_str()],
            level,
        )?);
        below = arm;
    }
    Ok(steps)
}

/// r and R² of every replacement's and control's units against the natural neurons, on
/// the first `run.faithfulness_images` of dev and of test; the lineage's lower circuit
/// against the neurons it stands in for.
fn activation_faithfulness(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    plan: &Plan,
) -> Result<Vec<Faithfulness>, EvalError> {
    let mut faithfulness = Vec::new();
    if spec.run.faithfulness_images == 0 {
        return Ok(faithfulness);
    }
    let arms = plan.calibrated();
    let sets = inputs
        .dev
        .iter()
        .map(|d| (Split::Dev, &d.images))
        .chain(std::iter::once((Split::Test, &inputs.test.images)));
    for (split, set) in sets {
        let set = set.limit(spec.run.faithfulness_images);
        if feed.progress() {
            eprintln!(
                "activation faithfulness of {} arms on {}",
                arms.len(),
                describe_set(&set)
            );
        }
        faithfulness.extend(faithfulness::measure(feed, split, &arms, inputs.tap, &set)?);
        if let Some(l) = &plan.lineage {
            let lower = [(l.lower_arm.clone(), l.replacement.clone())];
            faithfulness.extend(faithfulness::measure(
                feed,
                split,
                &lower,
                l.lower_tap,
                &set,
            )?);
        }
        for level in plan.ladder.iter().flat_map(|l| &l.levels) {
            let one = [(level.arm.clone(), level.replacement.clone())];
            faithfulness.extend(faithfulness::measure(feed, split, &one, level.tap, &set)?);
        }
    }
    Ok(faithfulness)
}
