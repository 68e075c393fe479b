//! The ladder's tables and its waterfall: each level alone against its ablations and
//! controls, the stacks from the bottom, and what each level adds to the stack's loss.

use std::fmt::Write;

use aann_stats::Metric;

use super::{fraction_row, pct};
use crate::experiment::{ExperimentResult, FractionRow, LadderResult};
use crate::lab::{ArmKind, BASELINE, Control, Removal};
use crate::plot::Svg;
use crate::spec::Split;

fn fraction(rows: &[FractionRow], arm: &str, reference: &str, metric: Metric) -> String {
    fraction_row(rows, arm, reference, metric).map_or("-".into(), |f| match &f.result.fraction {
        Some(e) => format!("{} [{}, {}]", pct(e.point), pct(e.ci.lo), pct(e.ci.hi)),
        None => "undefined".into(),
    })
}

/// The arms of one level alone that are its circuit or its controls, circuit first.
fn level_arms<'a>(r: &'a ExperimentResult, arm: &'a str) -> Vec<(&'a str, String)> {
    let mut rows = vec![(arm, "circuit".to_string())];
    for a in &r.conditions {
        if let ArmKind::Ladder { removed } = &a.kind
            && let [one] = removed.as_slice()
            && let Removal::Controlled { control, of } = &one.how
            && of == arm
        {
            let what = match control {
                Control::Shuffled { .. } => "control: shuffled, refitted".to_string(),
                Control::Rotated { degrees, .. } => {
                    format!("control: rotated {degrees}°, refitted")
                }
                other => format!("control {}", other.arm_name("")),
            };
            rows.push((a.name.as_str(), what));
        }
    }
    rows
}

/// Each level alone: the circuit and its controls against the level's own ablations.
fn levels_table(r: &ExperimentResult, l: &LadderResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| level | neurons (tap) | arm | what | CE gap recovered (zero) | KL gap recovered (zero) | CE gap recovered (mean) | units r / R² (test) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for level in &l.levels {
        let mean_arm = format!("{}-mean-ablate", level.name);
        for (arm, what) in level_arms(r, &level.arm) {
            let units = r
                .faithfulness
                .iter()
                .find(|f| f.arm == arm && f.split == Split::Test)
                .map_or("-".into(), |f| {
                    format!("{:.2} / {:.2}", f.median_r, f.median_r2)
                });
            let _ = writeln!(
                s,
                "| {} | {} ({}) | {arm} | {what} | {} | {} | {} | {units} |",
                level.name,
                level.mapping.channels.len(),
                level.tap,
                fraction(&l.fractions, arm, &level.zero_arm, Metric::CrossEntropy),
                fraction(&l.fractions, arm, &level.zero_arm, Metric::KlFromBaseline),
                fraction(&l.fractions, arm, &mean_arm, Metric::CrossEntropy),
            );
        }
    }
    s
}

/// The mean cross-entropy and top-1 of a condition.
fn condition_numbers(r: &ExperimentResult, arm: &str) -> Option<(f64, f64)> {
    r.summary
        .conditions
        .iter()
        .find(|c| c.condition == arm)
        .map(|c| (c.cross_entropy.point, c.top1_accuracy.point))
}

/// The stacks from the bottom, each against the zero-ablation of the same families.
fn stacks_table(r: &ExperimentResult, l: &LadderResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| stack | families replaced | top-1 replaced / zero-ablated | CE replaced / zero-ablated | CE gap recovered | KL gap recovered |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for arm in &l.stack {
        let Some(f) = l
            .fractions
            .iter()
            .find(|f| &f.condition == arm && f.metric == Metric::CrossEntropy)
        else {
            continue;
        };
        let families = r
            .conditions
            .iter()
            .find(|c| &c.name == arm)
            .and_then(|c| match &c.kind {
                ArmKind::Ladder { removed } => Some(
                    removed
                        .iter()
                        .map(|x| x.level.as_str())
                        .collect::<Vec<_>>()
                        .join(" + "),
                ),
                _ => None,
            })
            .unwrap_or_default();
        let (Some((ce, top1)), Some((zce, ztop1))) = (
            condition_numbers(r, arm),
            condition_numbers(r, &f.relative_to),
        ) else {
            continue;
        };
        let _ = writeln!(
            s,
            "| {arm} | {families} | {} / {} | {ce:.3} / {zce:.3} | {} | {} |",
            pct(top1),
            pct(ztop1),
            fraction(&l.fractions, arm, &f.relative_to, Metric::CrossEntropy),
            fraction(&l.fractions, arm, &f.relative_to, Metric::KlFromBaseline),
        );
    }
    s
}

/// A step's label: the level it adds.
fn step_label(r: &ExperimentResult, l: &LadderResult, i: usize) -> String {
    let arm = &l.stack[i];
    r.conditions
        .iter()
        .find(|c| &c.name == arm)
        .and_then(|c| match &c.kind {
            ArmKind::Ladder { removed } => removed.last().map(|x| x.level.clone()),
            _ => None,
        })
        .unwrap_or_else(|| arm.clone())
}

/// What each level adds to the replaced stack's loss.
fn waterfall_table(r: &ExperimentResult, l: &LadderResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| step | level added (hand-written) | Δ cross-entropy over the stack below | p | Δ KL | stack's Δ cross-entropy from the baseline |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let mut total = 0.0;
    for (i, step) in l.steps.iter().enumerate() {
        let d = &step.cross_entropy.difference;
        total += d.point;
        let kl = step.kl_from_baseline.as_ref().map_or("-".into(), |k| {
            format!(
                "{:+.4} [{:+.4}, {:+.4}]",
                k.difference.point, k.difference.ci.lo, k.difference.ci.hi
            )
        });
        let below = if step.a == BASELINE {
            "baseline".to_string()
        } else {
            step.a.clone()
        };
        let _ = writeln!(
            s,
            "| {} | {} (over {below}) | {:+.4} [{:+.4}, {:+.4}] | {} | {kl} | {total:+.4} |",
            i + 1,
            step_label(r, l, i),
            d.point,
            d.ci.lo,
            d.ci.hi,
            step.cross_entropy
                .p_value
                .map_or("n/a".into(), crate::summary::format_p),
        );
    }
    s
}

/// The ladder's tables (empty without a ladder).
pub fn ladder_tables(r: &ExperimentResult) -> String {
    let Some(l) = &r.ladder else {
        return String::new();
    };
    format!(
        "Each level alone (everything else natural), against its own zero- and mean-ablation; its controls are the same units on the wrong neurons, refitted per neuron.\n\n{}\nStacked from the bottom, each stack against the zero-ablation of the same families.\n\n{}\nThe waterfall: what each hand-written level adds to the stack's loss (paired t intervals).\n\n{}",
        levels_table(r, l),
        stacks_table(r, l),
        waterfall_table(r, l)
    )
}

/// The waterfall as a figure: one bar per level, from the loss of the stack below to the
/// loss with the level added, with the step's paired interval.
pub fn waterfall_svg(r: &ExperimentResult) -> Option<String> {
    let l = r.ladder.as_ref()?;
    if l.steps.is_empty() {
        return None;
    }
    let labels: Vec<String> = (0..l.steps.len()).map(|i| step_label(r, l, i)).collect();
    let (left, top, bar_w, gap, plot_h) = (70.0, 40.0, 70.0, 30.0, 220.0);
    let n = l.steps.len() as f64;
    let width = left + n * (bar_w + gap) + 40.0;
    let height = top + plot_h + 70.0;
    let mut cum = vec![0.0];
    for s in &l.steps {
        cum.push(cum.last().unwrap() + s.cross_entropy.difference.point);
    }
    let lo = l
        .steps
        .iter()
        .zip(&cum)
        .map(|(s, c)| c + s.cross_entropy.difference.ci.lo)
        .chain(cum.iter().copied())
        .fold(0.0_f64, f64::min);
    let hi = l
        .steps
        .iter()
        .zip(&cum)
        .map(|(s, c)| c + s.cross_entropy.difference.ci.hi)
        .chain(cum.iter().copied())
        .fold(0.0_f64, f64::max);
    let span = (hi - lo).max(1e-6) * 1.1;
    let y = |v: f64| top + plot_h - (v - lo) / span * plot_h;
    let mut svg = Svg::new(width, height);
    svg.text(
        10.0,
        18.0,
        "The ladder's waterfall: Δ cross-entropy (nats) each hand-written level adds",
        13.0,
        "start",
    );
    svg.line(left, y(0.0), width - 20.0, y(0.0), "#444", 1.0);
    svg.text(left - 6.0, y(0.0) + 4.0, "0", 10.0, "end");
    svg.text(left - 6.0, y(hi) + 4.0, &format!("{hi:+.3}"), 10.0, "end");
    for (i, (step, label)) in l.steps.iter().zip(&labels).enumerate() {
        let x = left + gap / 2.0 + i as f64 * (bar_w + gap);
        let (from, to) = (cum[i], cum[i + 1]);
        let colour = if to >= from { "#d62728" } else { "#2ca02c" };
        svg.rect(
            x,
            y(from.max(to)),
            bar_w,
            (y(from.min(to)) - y(from.max(to))).max(1.0),
            colour,
            None,
        );
        let d = &step.cross_entropy.difference;
        let cx = x + bar_w / 2.0;
        svg.line(cx, y(from + d.ci.lo), cx, y(from + d.ci.hi), "#222", 1.5);
        svg.text(cx, top + plot_h + 16.0, label, 10.0, "middle");
        svg.text(
            cx,
            top + plot_h + 30.0,
            &format!("{:+.3}", d.point),
            10.0,
            "middle",
        );
    }
    Some(svg.finish())
}
