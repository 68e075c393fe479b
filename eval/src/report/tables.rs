//! The Markdown tables of a report: the faithfulness card, the circuits against their
//! controls (verdicts), equivalence, structure at the units, the conditions and the
//! fractions recovered, and the README's block of them.

use std::fmt::Write;

use aann_stats::{Estimate, Metric};

use super::{fraction_row, pct, zero_ablation};
use crate::experiment::{ExperimentResult, FractionRow};
use crate::lab::{ArmInfo, ArmKind, BASELINE, Control, ControlFit, Removal};
use crate::spec::Split;
use crate::summary::format_p;

/// A fraction recovered with its interval, or `undefined` (the row's reference had no
/// effect to recover).
fn fraction_text(f: &FractionRow, undefined: &str) -> String {
    match &f.result.fraction {
        Some(e) => format!("{} [{}, {}]", pct(e.point), pct(e.ci.lo), pct(e.ci.hi)),
        None => undefined.into(),
    }
}

/// What an arm is, in the card's words.
fn kind_text(a: &ArmInfo) -> String {
    match &a.kind {
        ArmKind::Baseline => BASELINE.into(),
        ArmKind::Ablate { ablation } => format!("{ablation:?} ablation").to_lowercase(),
        ArmKind::Replace { .. } => "circuit".into(),
        ArmKind::Control { control, .. } => match control {
            Control::Shuffled { fit, .. } => format!("control: shuffled mapping{}", fit_text(*fit)),
            Control::Rotated { degrees, fit } => {
                format!("control: rotated {degrees}°{}", fit_text(*fit))
            }
            Control::Relay { tap } => format!("control: relay of one {tap} channel"),
            Control::Readout { tap, window } => format!(
                "bound: fitted linear readout of {tap} ({})",
                window.as_deref().unwrap_or("3×3")
            ),
        },
        ArmKind::NullSet { .. } => "null set".into(),
        ArmKind::MappingNull { .. } => "mapping null".into(),
        ArmKind::Lineage { lower, upper } => match upper {
            None => format!("lineage: lower family {}", removal_text(lower)),
            Some(u) => format!(
                "lineage: lower family {}, target {}",
                removal_text(lower),
                removal_text(u)
            ),
        },
        ArmKind::Neuron { channel, how } => format!("neuron {channel} {}", removal_text(how)),
        ArmKind::Ladder { removed } => {
            let parts: Vec<String> = removed
                .iter()
                .map(|r| format!("{} {}", r.level, removal_text(&r.how)))
                .collect();
            format!("ladder: {}", parts.join(", "))
        }
    }
}

/// How a lineage or ladder arm took a family out, in the card's words.
fn removal_text(r: &Removal) -> String {
    match r {
        Removal::ZeroAblated => "zero-ablated".into(),
        Removal::MeanAblated => "mean-ablated".into(),
        Removal::Replaced { by } => format!("replaced by {by}"),
        Removal::Controlled { control, .. } => match control {
            Control::Shuffled { .. } => "shuffled control".into(),
            Control::Rotated { degrees, .. } => format!("rotated {degrees}° control"),
            other => format!("control {}", other.arm_name("")),
        },
    }
}

fn fit_text(fit: Option<ControlFit>) -> String {
    match fit {
        Some(ControlFit::Frozen) => ", circuit's calibration".into(),
        Some(ControlFit::Refit) => ", refitted per neuron".into(),
        None => String::new(),
    }
}

fn estimate_text(e: &Estimate, digits: usize) -> String {
    format!(
        "{:.d$} [{:.d$}, {:.d$}]",
        e.point,
        e.ci.lo,
        e.ci.hi,
        d = digits
    )
}

/// The faithfulness card (Markdown): every arm on the same test images, with the fraction
/// of the zero-ablation gap it recovers in cross-entropy and KL, and how well its units
/// match the natural neurons position by position.
pub fn card_table(r: &ExperimentResult) -> String {
    let mut s = String::new();
    // Results that record calibrations get a column of degenerate units.
    let with_calibrations = !r.calibrations.is_empty();
    let _ = writeln!(
        s,
        "| arm | what | top-1 | top-5 | cross-entropy | KL(baseline ‖ arm) | CE gap recovered | KL gap recovered | units r / R² (test) |{}",
        if with_calibrations {
            " degenerate units |"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "|---|---|---|---|---|---|---|---|---|{}",
        if with_calibrations { "---|" } else { "" }
    );
    // Against zero-ablation; a lineage, ladder or single-neuron arm against the
    // zero-ablation of its own families, named.
    let fraction = |arm: &str, metric: Metric| {
        if let Some(f) = fraction_row(&r.fractions, arm, zero_ablation(), metric) {
            return fraction_text(f, "undefined");
        }
        r.lineage
            .iter()
            .chain(r.ladder.iter().flat_map(|l| &l.fractions))
            .chain(r.neurons.iter().flat_map(|n| &n.fractions))
            .find(|f| f.condition == arm && f.metric == metric)
            .map_or("-".into(), |f| {
                format!("{} (of {})", fraction_text(f, "undefined"), f.relative_to)
            })
    };
    for (a, c) in r.conditions.iter().zip(&r.summary.conditions) {
        let fit = r
            .faithfulness
            .iter()
            .find(|f| f.arm == a.name && f.split == Split::Test)
            .map_or("-".into(), |f| {
                format!("{:.2} / {:.2}", f.median_r, f.median_r2)
            });
        let degenerate = if with_calibrations {
            r.calibrations
                .iter()
                .find(|c| c.arm == a.name)
                .map_or(" - |".into(), |c| {
                    format!(" {} of {} |", c.degenerate.len(), c.units)
                })
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |{degenerate}",
            a.name,
            kind_text(a),
            pct(c.top1_accuracy.point),
            pct(c.top5_accuracy.point),
            estimate_text(&c.cross_entropy, 3),
            c.kl_from_baseline
                .as_ref()
                .map_or("-".into(), |k| estimate_text(k, 4)),
            fraction(&a.name, Metric::CrossEntropy),
            fraction(&a.name, Metric::KlFromBaseline),
            fit
        );
    }
    s
}

/// A short card of the `arms` named, in that order (Markdown): what each is, its top-1,
/// top-5 and cross-entropy, and the share of the zero-ablation's gaps it recovers. An
/// unknown arm is an error naming the result's arms.
pub fn headline_table(r: &ExperimentResult, arms: &[String]) -> Result<String, String> {
    let mut s = String::from(
        "| arm | what | top-1 | top-5 | cross-entropy | CE gap recovered | KL gap recovered |\n|---|---|---|---|---|---|---|\n",
    );
    for name in arms {
        let Some((a, c)) = r
            .conditions
            .iter()
            .zip(&r.summary.conditions)
            .find(|(a, _)| &a.name == name)
        else {
            let known: Vec<&str> = r.conditions.iter().map(|a| a.name.as_str()).collect();
            return Err(format!(
                "no arm `{name}` in this result; its arms: {}",
                known.join(", ")
            ));
        };
        let fraction = |metric: Metric| {
            fraction_row(&r.fractions, name, zero_ablation(), metric)
                .map_or("-".into(), |f| fraction_text(f, "undefined"))
        };
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            kind_text(a),
            pct(c.top1_accuracy.point),
            pct(c.top5_accuracy.point),
            estimate_text(&c.cross_entropy, 3),
            fraction(Metric::CrossEntropy),
            fraction(Metric::KlFromBaseline),
        );
    }
    Ok(s)
}

/// Each circuit against each of its controls and the ablations (Markdown): the paired
/// difference circuit − control in cross-entropy and KL, and whether the circuit beats it
/// (the interval excludes 0 on the circuit's side).
pub fn controls_table(r: &ExperimentResult) -> String {
    if !r.verdicts.rows.is_empty() {
        return verdict_table(r);
    }
    let mut s = String::new();
    if r.versus_controls.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "| circuit | against | Δ cross-entropy (circuit − it) | Δ KL | verdict |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for v in &r.versus_controls {
        let ce = &v.cross_entropy.difference;
        let kl = v.kl_from_baseline.as_ref().map(|k| &k.difference);
        let beats = |e: &Estimate| e.ci.hi < 0.0;
        let worse = |e: &Estimate| e.ci.lo > 0.0;
        let kl_beats = kl.is_some_and(beats);
        let kl_worse = kl.is_some_and(worse);
        let verdict = match (beats(ce), kl_beats, worse(ce), kl_worse) {
            (true, true, _, _) => "beats it (CE and KL)",
            (true, false, _, true) => "beats it in CE, worse in KL",
            (true, false, _, false) => "beats it in CE only",
            (false, true, true, _) => "beats it in KL, worse in CE",
            (false, true, false, _) => "beats it in KL only",
            (_, _, true, true) => "worse (CE and KL)",
            (_, _, true, false) => "worse in CE",
            (_, _, false, true) => "worse in KL",
            _ => "not distinguishable (CE and KL)",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:+.4} [{:+.4}, {:+.4}] | {} | {verdict} |",
            v.b,
            v.a,
            ce.point,
            ce.ci.lo,
            ce.ci.hi,
            kl.map_or("-".into(), |k| format!(
                "{:+.4} [{:+.4}, {:+.4}]",
                k.point, k.ci.lo, k.ci.hi
            )),
        );
    }
    s
}

/// The verdict table (Markdown): each circuit against each of its controls and the
/// ablations, the paired difference in cross-entropy and KL with its interval and its
/// Holm-adjusted p-value, and the verdict read from the adjusted p-values.
fn verdict_table(r: &ExperimentResult) -> String {
    use crate::verdicts::{VerdictRow, in_words};
    let v = &r.verdicts;
    let mut s = format!(
        "Verdicts from Holm-adjusted p-values (family-wise α = {:.3}; the family: {}). Intervals are the unadjusted {:.0}% paired t intervals.\n\n",
        v.alpha,
        v.family,
        100.0 * r.summary.level
    );
    let _ = writeln!(
        s,
        "| circuit | against | Δ cross-entropy (circuit − it) | p (Holm) | Δ KL | p (Holm) | verdict |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    let p_text =
        |row: Option<&VerdictRow>| row.and_then(|r| r.p_adjusted).map_or("-".into(), format_p);
    let d_text = |row: Option<&VerdictRow>| {
        row.map_or("-".into(), |r| {
            let e = &r.difference;
            format!("{:+.4} [{:+.4}, {:+.4}]", e.point, e.ci.lo, e.ci.hi)
        })
    };
    let mut seen = std::collections::HashSet::new();
    for row in &v.rows {
        if !seen.insert((&row.circuit, &row.against)) {
            continue;
        }
        let find = |m: Metric| {
            v.rows
                .iter()
                .find(|x| x.circuit == row.circuit && x.against == row.against && x.metric == m)
        };
        let (ce, kl) = (find(Metric::CrossEntropy), find(Metric::KlFromBaseline));
        let is_control = r
            .conditions
            .iter()
            .any(|a| a.name == row.against && matches!(a.kind, ArmKind::Control { .. }));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.circuit,
            row.against,
            d_text(ce),
            p_text(ce),
            d_text(kl),
            p_text(kl),
            in_words(ce, kl, is_control)
        );
    }
    s
}

/// Equivalence to the natural network (Markdown): the two-one-sided tests of every circuit
/// and control, in cross-entropy and KL.
pub fn equivalence_table(r: &ExperimentResult) -> String {
    let rows = &r.verdicts.equivalence;
    let Some(first) = rows.first() else {
        return String::new();
    };
    let mut s = format!(
        "Equivalence to the natural network: a two-one-sided t test of whether the arm's mean difference from the baseline lies within {:.0}% of the zero-ablation's (the margin, in nats); {:.0}% intervals; equivalent when the Holm-adjusted p (over these {} tests) is below {:.3}.\n\n",
        100.0 * first.margin_fraction,
        100.0 * first.test.difference.ci.level,
        rows.len(),
        r.verdicts.alpha
    );
    let _ = writeln!(
        s,
        "| arm | metric | margin | difference from baseline | p (Holm) | equivalent |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for row in rows {
        let e = &row.test.difference;
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {:+.4} [{:+.4}, {:+.4}] | {} | {} |",
            row.arm,
            if row.metric == Metric::CrossEntropy {
                "CE"
            } else {
                "KL"
            },
            row.test.margin,
            e.point,
            e.ci.lo,
            e.ci.hi,
            format_p(row.p_adjusted),
            if row.equivalent { "yes" } else { "no" }
        );
    }
    s
}

/// Structure at the units (Markdown): one row per circuit and split, one column per other
/// arm (the relay, each structure control): the circuit's per-unit r minus the other's,
/// paired across the units, with its t interval and the units where the circuit is closer.
pub fn units_table(r: &ExperimentResult) -> String {
    let rows: Vec<_> = r
        .verdicts
        .units
        .iter()
        .filter(|u| u.statistic == "r")
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    // The other arm named relative to its circuit: `~shuffled-frozen`, `control-relay`.
    let column = |u: &crate::verdicts::UnitComparison| {
        u.against
            .strip_prefix(u.circuit.as_str())
            .unwrap_or(&u.against)
            .to_string()
    };
    let mut columns: Vec<String> = Vec::new();
    let mut lines: Vec<(String, Split)> = Vec::new();
    for u in &rows {
        let c = column(u);
        if !columns.contains(&c) {
            columns.push(c);
        }
        let line = (u.circuit.clone(), u.split);
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    let mut s = String::from(
        "Structure at the units: each circuit's per-unit correlation r with its natural neuron minus the other arm's, paired across the units (mean [95% t interval], units where the circuit is closer).\n\n",
    );
    let _ = writeln!(s, "| circuit | split | {} |", columns.join(" | "));
    let _ = writeln!(s, "|---|---|{}", "---|".repeat(columns.len()));
    for (circuit, split) in lines {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                rows.iter()
                    .find(|u| u.circuit == circuit && u.split == split && column(u) == *c)
                    .map_or("-".into(), |u| {
                        let d = &u.comparison.difference;
                        format!(
                            "{:+.2} [{:+.2}, {:+.2}], {}/{}",
                            d.point, d.ci.lo, d.ci.hi, u.circuit_better, u.comparison.n
                        )
                    })
            })
            .collect();
        let _ = writeln!(s, "| {circuit} | {split} | {} |", cells.join(" | "));
    }
    s
}

/// The conditions with their accuracies and losses (Markdown).
pub fn conditions_table(r: &ExperimentResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| condition | top-1 (Wilson) | top-5 (Wilson) | cross-entropy, nats (t) | KL from baseline |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for c in &r.summary.conditions {
        let _ = writeln!(
            s,
            "| {} | {} [{}, {}] | {} [{}, {}] | {:.4} [{:.4}, {:.4}] | {} |",
            c.condition,
            pct(c.top1_accuracy.point),
            pct(c.top1_accuracy.ci.lo),
            pct(c.top1_accuracy.ci.hi),
            pct(c.top5_accuracy.point),
            pct(c.top5_accuracy.ci.lo),
            pct(c.top5_accuracy.ci.hi),
            c.cross_entropy.point,
            c.cross_entropy.ci.lo,
            c.cross_entropy.ci.hi,
            c.kl_from_baseline
                .map_or("-".into(), |k| format!("{:.4}", k.point))
        );
    }
    s
}

/// The fractions recovered (Markdown).
pub fn fractions_table(r: &ExperimentResult) -> String {
    fraction_rows_table(&r.fractions)
}

/// Rows of fractions recovered, one line per (condition, reference) (Markdown).
pub fn fraction_rows_table(rows: &[FractionRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| condition | relative to | cross-entropy | KL | top-1 | top-5 |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .map(|f| (f.condition.clone(), f.relative_to.clone()))
        .collect();
    keys.dedup();
    for (c, rel) in keys {
        let cells = Metric::REPORT_ORDER.map(|m| {
            fraction_row(rows, &c, &rel, m).map_or("-".into(), |f| {
                fraction_text(
                    f,
                    "undefined (the reference's effect is not distinguishable from 0)",
                )
            })
        });
        let _ = writeln!(s, "| {c} | {rel} | {} |", cells.join(" | "));
    }
    s
}

/// The tables docs/card.md shows for a committed result: regenerated from its `summary.json`
/// by `aann tables FILE`, and checked against README by a test, so they cannot drift.
pub fn readme_tables(r: &ExperimentResult) -> String {
    let mut s = format!(
        "{} test images (`{}` under the data root); {}% intervals (accuracies Wilson, losses t, fractions paired BCa bootstrap with {} resamples; gaps relative to zero-ablation).\n\n{}",
        r.summary.images,
        r.spec.test.images,
        (r.summary.level * 100.0).round(),
        r.spec.statistics.resamples,
        card_table(r)
    );
    for (_, part) in card_parts(r) {
        if !part.is_empty() {
            s.push('\n');
            s.push_str(&part);
        }
    }
    s
}

/// What follows the card, each part under its title (empty where the result has none).
pub(super) fn card_parts(r: &ExperimentResult) -> [(&'static str, String); 6] {
    [
        ("Circuits against their controls", controls_table(r)),
        ("Equivalence to the natural network", equivalence_table(r)),
        ("Structure at the units", units_table(r)),
        ("Nulls", super::nulls_text(r)),
        ("The ladder from pixels", super::ladder_tables(r)),
        ("Single neurons", super::neuron_tables(r)),
    ]
}
