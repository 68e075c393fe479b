//! The reports of an experiment: `summary.md` (tables to diff) and a self-contained
//! `report.html` (plots inline as SVG, thumbnails inline as JPEG) to read in a browser.

use std::fmt::Write;
use std::path::Path;

use base64::Engine;

use crate::EvalError;
use crate::experiment::ExperimentResult;
use crate::plot::{Axis, IntervalRow, Svg, heatmap_svg, interval_chart_svg};
use crate::summary::format_p;
use crate::tuning::TuningGrid;

const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#7f7f7f", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf",
];

fn colour_of(condition: &str, index: usize) -> &'static str {
    match condition {
        "baseline" => "#1f77b4",
        "zero-ablate" => "#d62728",
        "mean-ablate" => "#7f7f7f",
        "resample-ablate" => "#8c564b",
        _ => COLOURS[3 + index % 5],
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// Write `summary.md` and `report.html` for a finished experiment into `out`.
/// Write `summary.md` and `report.html`, inputs under the data root named `$AANN_DATA/…`
/// (`portable`, as in `summary.json`), never by this machine's path.
pub fn write_reports(
    result: &ExperimentResult,
    out: &Path,
    portable: impl Fn(&str) -> String,
) -> Result<(), EvalError> {
    let md = out.join("summary.md");
    std::fs::write(&md, portable(&markdown(result))).map_err(|e| EvalError::write(&md, e))?;
    let page = out.join("report.html");
    std::fs::write(&page, portable(&html(result, out))).map_err(|e| EvalError::write(&page, e))?;
    Ok(())
}

fn fraction_text(f: &crate::experiment::FractionRow) -> String {
    match &f.result.fraction {
        Some(e) => format!("{} [{}, {}]", pct(e.point), pct(e.ci.lo), pct(e.ci.hi)),
        None => "undefined (the reference's effect is not distinguishable from 0)".into(),
    }
}

fn kind_text(a: &crate::lab::ArmInfo) -> String {
    use crate::lab::{ArmKind, Control};
    match &a.kind {
        ArmKind::Baseline => "baseline".into(),
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
        ArmKind::Lineage { lower, upper } => {
            let how = |r: &crate::lab::Removal| match r {
                crate::lab::Removal::ZeroAblated => "zero-ablated".to_string(),
                crate::lab::Removal::Replaced { by } => format!("replaced by {by}"),
            };
            match upper {
                None => format!("lineage: lower family {}", how(lower)),
                Some(u) => format!("lineage: lower family {}, target {}", how(lower), how(u)),
            }
        }
    }
}

fn fit_text(fit: Option<crate::lab::ControlFit>) -> String {
    match fit {
        Some(crate::lab::ControlFit::Frozen) => ", circuit's calibration".into(),
        Some(crate::lab::ControlFit::Refit) => ", refitted per neuron".into(),
        None => String::new(),
    }
}

fn estimate_text(e: &aann_stats::Estimate, digits: usize) -> String {
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
    // Against zero-ablation; a lineage arm against the zero-ablation of its own families,
    // named.
    let fraction = |arm: &str, metric: &str| {
        let text = |f: &crate::experiment::FractionRow| match &f.result.fraction {
            Some(e) => format!("{} [{}, {}]", pct(e.point), pct(e.ci.lo), pct(e.ci.hi)),
            None => "undefined".into(),
        };
        if let Some(f) = r.fractions.iter().find(|f| {
            f.condition == arm && f.relative_to == "zero-ablate" && f.metric.name() == metric
        }) {
            return text(f);
        }
        r.lineage
            .iter()
            .find(|f| f.condition == arm && f.metric.name() == metric)
            .map_or("-".into(), |f| {
                format!("{} (of {})", text(f), f.relative_to)
            })
    };
    for (a, c) in r.conditions.iter().zip(&r.summary.conditions) {
        let fit = r
            .faithfulness
            .iter()
            .find(|f| f.arm == a.name && f.split == "test")
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
            fraction(&a.name, "cross_entropy"),
            fraction(&a.name, "kl_from_baseline"),
            fit
        );
    }
    s
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
        let beats = |e: &aann_stats::Estimate| e.ci.hi < 0.0;
        let worse = |e: &aann_stats::Estimate| e.ci.lo > 0.0;
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
    let p_text = |row: Option<&VerdictRow>| {
        row.and_then(|r| r.p_adjusted)
            .map_or("-".into(), crate::summary::format_p)
    };
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
        let find = |m: aann_stats::Metric| {
            v.rows
                .iter()
                .find(|x| x.circuit == row.circuit && x.against == row.against && x.metric == m)
        };
        let (ce, kl) = (
            find(aann_stats::Metric::CrossEntropy),
            find(aann_stats::Metric::KlFromBaseline),
        );
        let is_control = r.conditions.iter().any(|a| {
            a.name == row.against && matches!(a.kind, crate::lab::ArmKind::Control { .. })
        });
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
            if row.metric == aann_stats::Metric::CrossEntropy {
                "CE"
            } else {
                "KL"
            },
            row.test.margin,
            e.point,
            e.ci.lo,
            e.ci.hi,
            crate::summary::format_p(row.p_adjusted),
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
    let mut lines: Vec<(String, String)> = Vec::new();
    for u in &rows {
        let c = column(u);
        if !columns.contains(&c) {
            columns.push(c);
        }
        let line = (u.circuit.clone(), u.split.clone());
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

/// Arms whose calibration degenerated, and arms with identical numbers (Markdown).
pub fn degenerate_text(r: &ExperimentResult) -> String {
    let mut s = String::new();
    for c in r.calibrations.iter().filter(|c| !c.degenerate.is_empty()) {
        let _ = writeln!(
            s,
            "- Degenerate: {} has {} of {} units that no longer follow their input ({}).",
            c.arm,
            c.degenerate.len(),
            c.units,
            c.degenerate_units()
        );
    }
    for (a, b) in &r.verdicts.identical_arms {
        let _ = writeln!(
            s,
            "- Identical: {a} and {b} have the same loss on every test image."
        );
    }
    s
}

/// The nulls (and the fitted bound) in one paragraph each (Markdown).
pub fn nulls_text(r: &ExperimentResult) -> String {
    let mut s = String::new();
    let ce = |arm: &str| {
        r.fractions
            .iter()
            .find(|f| {
                f.condition == arm
                    && f.relative_to == "zero-ablate"
                    && f.metric.name() == "cross_entropy"
            })
            .and_then(|f| f.result.fraction.as_ref())
            .map(|e| e.point)
    };
    let bounds = r.conditions.iter().filter(|a| {
        matches!(
            a.kind,
            crate::lab::ArmKind::Control {
                control: crate::lab::Control::Readout { .. },
                ..
            }
        )
    });
    for b in bounds {
        let Some(y) = ce(&b.name) else { continue };
        let parts: Vec<String> = r
            .conditions
            .iter()
            .filter(|a| a.kind.is_replacement())
            .filter_map(|a| Some(format!("{} {:.0}% of it", a.name, 100.0 * ce(&a.name)? / y)))
            .collect();
        let _ = writeln!(
            s,
            "- Bound: the fitted linear readout ({}) recovers {} of the cross-entropy gap; as a share of that, {}.",
            b.name,
            pct(y),
            parts.join(", ")
        );
    }
    if let Some(n) = &r.null {
        let _ = writeln!(
            s,
            "- Channel null: zero-ablating the family raises the loss by {:+.4} nats on {} test images; {} random {}sets of {} channels raise it by {:+.4} on average (max {:+.4}); {} of them are as harmful: empirical p = {} ({:.0} s in this run).",
            n.family_loss_increase,
            n.images,
            n.sets.len(),
            if n.matched { "magnitude-matched " } else { "" },
            r.family.channels.len(),
            n.comparison.null_mean,
            n.comparison.null_max,
            n.comparison.as_or_more_extreme,
            crate::summary::format_p(n.comparison.p_value),
            n.seconds
        );
    }
    if let Some(m) = &r.mapping_null {
        let how = |fit: Option<crate::lab::ControlFit>| match fit {
            Some(crate::lab::ControlFit::Frozen) => {
                "derangements of the mapping, each through the circuit's own calibration"
            }
            Some(crate::lab::ControlFit::Refit) => "the same derangements refitted per neuron",
            None => "shuffles of the mapping (each calibrated the same way)",
        };
        let draws = |d: &crate::experiment::NullDraws, fit: Option<crate::lab::ControlFit>| {
            // Results written before draws were checked say nothing of their distinctness.
            let checked = if fit.is_some() {
                format!(
                    "; {} distinct, {} with degenerate units",
                    d.distinct_losses, d.degenerate_draws
                )
            } else {
                String::new()
            };
            format!(
                "{} {} have {:.4} on average (median {:.4}, best {:.4}{checked}); {} do as well: empirical p = {}, the circuit at the {:.1}th percentile",
                d.shuffled_loss.len(),
                how(fit),
                d.comparison.null_mean,
                crate::circuits::median(&d.shuffled_loss),
                d.comparison.null_min,
                d.comparison.as_or_more_extreme,
                crate::summary::format_p(d.comparison.p_value),
                d.comparison.percentile
            )
        };
        let mut line = format!(
            "- Replacement null: {} with its own unit mapping has a loss of {:.4} nats on {} test images; {}",
            m.of,
            m.real_loss,
            m.images,
            draws(&m.draws, m.fit)
        );
        if let Some(refit) = &m.refit {
            line.push_str(&format!(
                "; {}",
                draws(refit, Some(crate::lab::ControlFit::Refit))
            ));
        }
        let _ = writeln!(s, "{line} ({:.0} s in this run).", m.seconds);
    }
    s.push_str(&degenerate_text(r));
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
pub fn fraction_rows_table(rows: &[crate::experiment::FractionRow]) -> String {
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
        let get = |m: &str| {
            rows.iter()
                .find(|f| f.condition == c && f.relative_to == rel && f.metric.name() == m)
                .map_or("-".into(), fraction_text)
        };
        let _ = writeln!(
            s,
            "| {c} | {rel} | {} | {} | {} | {} |",
            get("cross_entropy"),
            get("kl_from_baseline"),
            get("top1_accuracy"),
            get("top5_accuracy")
        );
    }
    s
}

/// The tables README.md shows for a committed result: regenerated from its `summary.json`
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
    for part in [
        controls_table(r),
        equivalence_table(r),
        units_table(r),
        nulls_text(r),
    ] {
        if !part.is_empty() {
            s.push('\n');
            s.push_str(&part);
        }
    }
    s
}

/// The Markdown summary.
pub fn markdown(r: &ExperimentResult) -> String {
    let mut s = String::new();
    let level = (r.summary.level * 100.0).round();
    let _ = writeln!(s, "# {}\n", r.name);
    if !r.description.is_empty() {
        let _ = writeln!(s, "{}\n", r.description);
    }
    let _ = writeln!(s, "**{}**\n", r.headline);
    let _ = writeln!(s, "## Faithfulness card\n");
    s.push_str(&card_table(r));
    let controls = controls_table(r);
    if !controls.is_empty() {
        let _ = writeln!(s, "\n### Circuits against their controls\n");
        s.push_str(&controls);
    }
    let equivalence = equivalence_table(r);
    if !equivalence.is_empty() {
        let _ = writeln!(s, "\n### Equivalence to the natural network\n");
        s.push_str(&equivalence);
    }
    let units = units_table(r);
    if !units.is_empty() {
        let _ = writeln!(s, "\n### Structure at the units\n");
        s.push_str(&units);
    }
    let nulls = nulls_text(r);
    if !nulls.is_empty() {
        let _ = writeln!(s, "\n### Nulls\n");
        s.push_str(&nulls);
    }
    let _ = writeln!(s, "\n## Setup\n");
    let _ = writeln!(
        s,
        "- model: {} (weights `{}`, sha256 {})",
        r.model,
        r.weights,
        &r.weights_sha256[..16.min(r.weights_sha256.len())]
    );
    let _ = writeln!(
        s,
        "- family: `{}` ({} at {}, channels {})",
        r.family.path,
        r.family.name,
        r.family.tap,
        r.family
            .channels
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "- tune split (means, calibration, statistics): {}",
        r.tune.description
    );
    let _ = writeln!(
        s,
        "- test split (headline): {}; {} images evaluated under every condition",
        r.test.description, r.summary.images
    );
    if !r.test_failures.is_empty() {
        let _ = writeln!(
            s,
            "- {} test images could not be decoded and are not counted",
            r.test_failures.len()
        );
    }
    let _ = writeln!(s, "- command: `{}`", r.command);
    let _ = writeln!(
        s,
        "- run time {:.0} s ({:.2} images/s over all conditions){}\n",
        r.seconds,
        r.images_per_second,
        r.peak_memory_mib
            .map_or(String::new(), |m| format!(", peak memory {m:.0} MiB"))
    );

    let _ = writeln!(s, "## Conditions ({level}% intervals)\n");
    s.push_str(&conditions_table(r));
    let _ = writeln!(s, "\n### Paired differences from the baseline\n");
    let _ = writeln!(
        s,
        "| condition | Δ top-1, points (Newcombe) | McNemar p | Δ top-5, points | McNemar p | Δ cross-entropy (paired t) | p |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for v in &r.summary.versus_baseline {
        let d = |e: &aann_stats::Estimate| {
            format!(
                "{:+.2} [{:+.2}, {:+.2}]",
                100.0 * e.point,
                100.0 * e.ci.lo,
                100.0 * e.ci.hi
            )
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:+.4} [{:+.4}, {:+.4}] | {} |",
            v.b,
            d(&v.top1_accuracy.difference),
            format_p(v.top1_accuracy.mcnemar.p_value),
            d(&v.top5_accuracy.difference),
            format_p(v.top5_accuracy.mcnemar.p_value),
            v.cross_entropy.difference.point,
            v.cross_entropy.difference.ci.lo,
            v.cross_entropy.difference.ci.hi,
            v.cross_entropy.p_value.map_or("n/a".into(), format_p)
        );
    }
    let _ = writeln!(s, "\n## Fraction recovered\n");
    let _ = writeln!(
        s,
        "`(m_R − m_A) / (m_B − m_A)`: 100% restores the baseline, 0% is no better than the reference ablation. Paired bootstrap over images, {} resamples, BCa {level}% intervals; undefined when the reference's own effect is not distinguishable from 0.\n",
        r.spec.statistics.resamples
    );
    s.push_str(&fractions_table(r));
    if let Some(l) = &r.lineage_circuit {
        let _ = writeln!(s, "\n## Lineage, one level down\n");
        let _ = writeln!(
            s,
            "The family the circuits read (`{}`, {} neurons) replaced by `{}` ({} hand-set numbers; {}), alone and with the curve circuits computed from its artificial units. Each arm against the zero-ablation of the same families.\n",
            l.family,
            l.mapping.channels.len(),
            l.circuit,
            l.accounting.hand_set_count(),
            l.calibration.describe()
        );
        s.push_str(&fraction_rows_table(&r.lineage));
    }
    if let Some(n) = &r.null {
        let _ = writeln!(s, "\n## Random-channel null\n");
        let _ = writeln!(
            s,
            "Zero-ablating the family raises the loss by {:+.4} nats on the first {} test images; {} random sets of {} channels at the same tap (excluding the family) raise it by {:+.4} on average (range {:+.4} to {:+.4}). {} of {} sets are as harmful; empirical p = {}.",
            n.family_loss_increase,
            n.images,
            n.sets.len(),
            r.family.channels.len(),
            n.comparison.null_mean,
            n.comparison.null_min,
            n.comparison.null_max,
            n.comparison.as_or_more_extreme,
            n.sets.len(),
            format_p(n.comparison.p_value)
        );
    }
    for c in &r.circuits {
        let _ = writeln!(
            s,
            "\n## Circuit `{}` (condition `{}`)\n",
            c.circuit, c.condition
        );
        let a = &c.accounting;
        let _ = writeln!(
            s,
            "{} numbers set by hand, expanding to {} weights; {} numbers from data (tune split). Calibration: {}, gain {:.4}, bias {:.4}.\n",
            a.hand_set_count(),
            a.expanded_weights,
            a.data_derived_count(),
            c.calibration.describe(),
            c.calibration.gains.first().copied().unwrap_or(1.0),
            c.calibration.biases.first().copied().unwrap_or(0.0)
        );
        let _ = writeln!(
            s,
            "Tuning maps on curve stimuli, natural vs artificial: median r = {:.3}\n",
            c.median_tuning_r
        );
        let _ = writeln!(
            s,
            "| channel | natural orientation | unit | unit orientation | r |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|");
        for t in &c.tuning {
            let _ = writeln!(
                s,
                "| {} | {:.1}° | {} | {:.1}° | {:.3} |",
                t.channel, t.natural_orientation_deg, t.unit, t.unit_orientation_deg, t.correlation
            );
        }
        if let Some(rows) = r.divergent.get(&c.condition) {
            let _ = writeln!(
                s,
                "\nImages where it diverges most from the natural network (KL from baseline):\n"
            );
            for d in rows {
                let top = |k: &str| {
                    d.top5
                        .get(k)
                        .and_then(|v| v.first())
                        .map_or("-".to_string(), |(n, p)| format!("{n} {:.2}", p))
                };
                let _ = writeln!(
                    s,
                    "- `{}` (label {}): KL {:.3}; top-1 baseline {}, zero {}, replaced {}",
                    d.image,
                    d.label_name.as_deref().unwrap_or("?"),
                    d.kl,
                    top("baseline"),
                    top("zero-ablate"),
                    top(&c.condition)
                );
            }
        }
    }
    s
}

fn thumbnail(path: &str) -> Option<String> {
    let image = aann_data::decode_rgb(path).ok()?;
    let thumb = image::imageops::thumbnail(&image, 128, 128);
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&thumb)
        .ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A strip plot of the null distribution with the family's value marked.
fn null_svg(r: &ExperimentResult) -> Option<String> {
    let n = r.null.as_ref()?;
    Some(strip_svg(
        &format!(
            "Loss increase: {} {}channel sets (grey) vs the family (red), p = {}",
            n.sets.len(),
            if n.matched {
                "magnitude-matched "
            } else {
                "random "
            },
            crate::summary::format_p(n.comparison.p_value)
        ),
        &n.null_loss_increase,
        n.family_loss_increase,
        "mean cross-entropy increase over the baseline (nats)",
        true,
    ))
}

fn mapping_null_svg(r: &ExperimentResult) -> Option<String> {
    let m = r.mapping_null.as_ref()?;
    Some(strip_svg(
        &format!(
            "{}: {} shuffled unit mappings (grey) vs its own (red), p = {}",
            m.of.trim_start_matches("replace-"),
            m.draws.shuffled_loss.len(),
            crate::summary::format_p(m.draws.comparison.p_value)
        ),
        &m.draws.shuffled_loss,
        m.real_loss,
        "mean cross-entropy (nats)",
        false,
    ))
}

/// A null distribution as a strip of grey dots with the observed value in red. The axis
/// ends at the 90th percentile of the null (or the observed value, if larger): values
/// beyond it are drawn at its end as open dots and counted in the label.
fn strip_svg(title: &str, values: &[f64], marked: f64, x_label: &str, with_zero: bool) -> String {
    let extra: &[f64] = if with_zero { &[0.0] } else { &[] };
    let lo = values
        .iter()
        .chain(extra)
        .copied()
        .chain([marked])
        .fold(f64::INFINITY, f64::min);
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q90 = sorted
        .get((sorted.len() * 9 / 10).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(marked);
    let max = sorted.last().copied().unwrap_or(marked).max(marked);
    let hi = if max > marked && max - lo > 3.0 * (q90.max(marked) - lo) {
        q90.max(marked)
    } else {
        max
    };
    let beyond = values.iter().filter(|v| **v > hi).count();
    let (left, width) = (40.0, 560.0);
    let x = |v: f64| left + (v.min(hi) - lo) / (hi - lo).max(1e-9) * width;
    let mut svg = Svg::new(640.0, 120.0);
    svg.text(10.0, 18.0, title, 13.0, "start");
    svg.line(left, 70.0, left + width, 70.0, "#444", 1.0);
    for v in values {
        if *v > hi {
            svg.circle(x(*v), 60.0, 4.0, "#ccc");
        } else {
            svg.circle(x(*v), 60.0, 4.0, "#999");
        }
    }
    let x_label = if beyond > 0 {
        format!("{x_label}; {beyond} beyond the axis, drawn at its end (up to {max:.3})")
    } else {
        x_label.to_string()
    };
    let x_label = x_label.as_str();
    svg.line(x(marked), 40.0, x(marked), 78.0, "#d62728", 3.0);
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        svg.text(x(v), 92.0, &format!("{v:+.3}"), 10.0, "middle");
    }
    svg.text(left + width / 2.0, 110.0, x_label, 11.0, "middle");
    svg.finish()
}

/// The card as one figure: the fraction of the zero-ablation cross-entropy gap every arm
/// recovers (with its interval), above the channel null and the replacement null.
pub fn card_svg(r: &ExperimentResult) -> String {
    let rows: Vec<IntervalRow> = r
        .fractions
        .iter()
        .filter(|f| f.relative_to == "zero-ablate" && f.metric.name() == "cross_entropy")
        .enumerate()
        .filter_map(|(i, f)| {
            let e = f.result.fraction.as_ref()?;
            Some(IntervalRow {
                label: f.condition.clone(),
                point: 100.0 * e.point,
                lo: 100.0 * e.ci.lo,
                hi: 100.0 * e.ci.hi,
                colour: colour_of(&f.condition, i).into(),
            })
        })
        .collect();
    let mut parts = vec![interval_chart_svg(
        "Fraction of the zero-ablation cross-entropy gap recovered (%)",
        &rows,
        "percent of the gap recovered (paired BCa interval)",
        &[(0.0, "0%"), (100.0, "100%")],
    )];
    parts.extend(null_svg(r));
    parts.extend(mapping_null_svg(r));
    crate::plot::stack_svgs(&parts)
}

/// The HTML report.
pub fn html(r: &ExperimentResult, out: &Path) -> String {
    let level = (r.summary.level * 100.0).round();
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html><head><meta charset="utf-8"><title>{title} — aann report</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}}
h1{{margin-bottom:.2em}} h2{{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}}
.headline{{background:#f3f7fb;border-left:4px solid #1f77b4;padding:.8em 1em;font-size:1.05em}}
table{{border-collapse:collapse;margin:.6em 0;font-size:.92em}} td,th{{border:1px solid #ddd;padding:.3em .6em;text-align:right}} th{{background:#f6f6f6}} td:first-child,th:first-child{{text-align:left}}
.grid{{display:flex;flex-wrap:wrap;gap:8px}} .pair{{border:1px solid #eee;padding:4px}} .small svg{{width:100%;height:auto}}
.pair svg{{width:330px;height:auto}} .muted{{color:#666;font-size:.9em}} code{{background:#f4f4f4;padding:0 .2em}}
.img img{{width:128px;height:auto;display:block}}
</style></head><body>
<h1>{title}</h1><p class="muted">{desc}</p><div class="headline">{headline}</div>
"#,
        title = esc(&r.name),
        desc = esc(&r.description),
        headline = esc(&r.headline)
    );
    let md = markdown(r);
    let section = |title: &str| -> String {
        // Render the Markdown table that follows a heading as HTML.
        // A heading is skipped; a title that is the table's own header row is kept.
        let skip = usize::from(!title.starts_with('|'));
        let mut lines = md.lines().skip_while(|l| !l.starts_with(title)).skip(skip);
        let mut table = String::from("<table>");
        let mut started = false;
        for l in lines.by_ref() {
            if l.starts_with('|') {
                started = true;
                if l.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
                    continue;
                }
                let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                let tag = if table == "<table>" { "th" } else { "td" };
                table.push_str("<tr>");
                for c in cells {
                    let _ = write!(table, "<{tag}>{}</{tag}>", esc(c).replace('`', ""));
                }
                table.push_str("</tr>");
            } else if started {
                break;
            }
        }
        table.push_str("</table>");
        table
    };
    // The faithfulness card first: every arm, the circuits against their controls, nulls.
    let _ = write!(
        h,
        "<h2>Faithfulness card</h2><p class=\"muted\">Every arm on the same {} test images; gaps relative to zero-ablation (paired BCa bootstrap); units r / R²: median over the replaced neurons of the position-by-position fit to the natural neuron on test images.</p>{}",
        r.summary.images,
        section("| arm | what")
    );
    if !r.versus_controls.is_empty() {
        let _ = write!(
            h,
            "<h3>Circuits against their controls</h3><p class=\"muted\">Paired differences image by image (circuit − control, t intervals): a circuit beats a control when the interval lies below 0.</p>{}",
            section("| circuit | against")
        );
    }
    let nulls = nulls_text(r);
    if !nulls.is_empty() {
        let _ = write!(h, "<h3>Nulls</h3><ul>");
        for line in nulls.lines() {
            let _ = write!(h, "<li>{}</li>", esc(line.trim_start_matches("- ")));
        }
        let _ = write!(h, "</ul>");
    }
    // Setup.
    let _ = write!(
        h,
        "<h2>Setup</h2><table><tr><th>model</th><td>{}</td></tr><tr><th>weights</th><td><code>{}</code> (sha256 {})</td></tr><tr><th>family</th><td><code>{}</code>: {} channels of {} ({})</td></tr><tr><th>tune split</th><td>{}</td></tr><tr><th>test split</th><td>{} — {} images under every condition{}</td></tr><tr><th>command</th><td><code>{}</code></td></tr><tr><th>run time</th><td>{:.0} s</td></tr></table>",
        esc(&r.model),
        esc(&r.weights),
        &r.weights_sha256[..16.min(r.weights_sha256.len())],
        esc(&r.family.path),
        r.family.channels.len(),
        esc(&r.family.tap),
        esc(&r
            .family
            .channels
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")),
        esc(&r.tune.description),
        esc(&r.test.description),
        r.summary.images,
        if r.test_failures.is_empty() {
            String::new()
        } else {
            format!("; {} undecodable images not counted", r.test_failures.len())
        },
        esc(&r.command),
        r.seconds
    );
    // Conditions.
    let _ = write!(
        h,
        "<h2>Accuracy and loss per condition ({level}% intervals)</h2><div class=\"grid small\">"
    );
    let rows = |metric: &dyn Fn(&aann_stats::ConditionSummary) -> aann_stats::Estimate,
                scale: f64|
     -> Vec<IntervalRow> {
        r.summary
            .conditions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let e = metric(c);
                IntervalRow {
                    label: c.condition.clone(),
                    point: scale * e.point,
                    lo: scale * e.ci.lo,
                    hi: scale * e.ci.hi,
                    colour: colour_of(&c.condition, i).into(),
                }
            })
            .collect()
    };
    let _ = write!(
        h,
        "<div>{}</div>",
        interval_chart_svg(
            "Cross-entropy (t interval)",
            &rows(&|c| c.cross_entropy, 1.0),
            "mean cross-entropy (nats), lower is better",
            &[]
        )
    );
    let _ = write!(
        h,
        "<div>{}</div>",
        interval_chart_svg(
            "Top-1 accuracy (Wilson)",
            &rows(&|c| c.top1_accuracy, 100.0),
            "top-1 accuracy (%)",
            &[]
        )
    );
    let _ = write!(
        h,
        "<div>{}</div>",
        interval_chart_svg(
            "Top-5 accuracy (Wilson)",
            &rows(&|c| c.top5_accuracy, 100.0),
            "top-5 accuracy (%)",
            &[]
        )
    );
    let _ = write!(h, "</div>");
    let _ = write!(
        h,
        "<h3>Paired differences from the baseline</h3>{}",
        section("### Paired differences")
    );
    // Fractions.
    let _ = write!(
        h,
        "<h2>Fraction recovered</h2><p><code>(m_R − m_A)/(m_B − m_A)</code>: 100% restores the baseline, 0% is no better than the reference ablation. Paired bootstrap over images ({} resamples, BCa {level}% intervals). Cross-entropy carries most of the statistical power.</p>",
        r.spec.statistics.resamples
    );
    // The lineage's rows too, each against its own reference.
    let frows: Vec<IntervalRow> = r
        .fractions
        .iter()
        .chain(&r.lineage)
        .enumerate()
        .filter_map(|(i, f)| {
            let e = f.result.fraction.as_ref()?;
            Some(IntervalRow {
                label: format!(
                    "{} vs {} ({})",
                    f.condition,
                    f.relative_to,
                    f.metric
                        .name()
                        .replace("_accuracy", "")
                        .replace("cross_entropy", "CE")
                ),
                point: 100.0 * e.point,
                lo: 100.0 * e.ci.lo,
                hi: 100.0 * e.ci.hi,
                colour: colour_of(&f.condition, i / 4).into(),
            })
        })
        .collect();
    let _ = write!(
        h,
        "{}",
        interval_chart_svg(
            "Fraction of the gap recovered (%)",
            &frows,
            "percent of the gap recovered",
            &[(0.0, "0%"), (100.0, "100%")]
        )
    );
    let undefined: Vec<String> = r
        .fractions
        .iter()
        .chain(&r.lineage)
        .filter(|f| f.result.fraction.is_none())
        .map(|f| format!("{} vs {} ({})", f.condition, f.relative_to, f.metric))
        .collect();
    if !undefined.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">Undefined (the reference ablation's effect on this metric is not distinguishable from 0): {}</p>",
            esc(&undefined.join("; "))
        );
    }
    let _ = write!(
        h,
        "{}",
        section("| condition | relative to").replace("<table>", "<table><!-- fractions -->")
    );
    if let Some(svg) = mapping_null_svg(r) {
        let _ = write!(
            h,
            "<h2>Replacement null</h2>{svg}<p class=\"muted\">Each shuffle assigns the circuit's units to the neurons by a random permutation and is calibrated like the circuit, on the same tune images.</p>"
        );
    }
    if let (Some(n), Some(svg)) = (&r.null, null_svg(r)) {
        let _ = write!(
            h,
            "<h2>Random-channel null</h2>{svg}<p>Zero-ablating the family raises the loss by {:+.4} nats on the first {} test images; {} random sets of {} channels at the same tap raise it by {:+.4} on average. Empirical p = {} (the family is more harmful than {} of {} random sets).</p>",
            n.family_loss_increase,
            n.images,
            n.sets.len(),
            r.family.channels.len(),
            n.comparison.null_mean,
            format_p(n.comparison.p_value),
            n.sets.len() - n.comparison.as_or_more_extreme,
            n.sets.len()
        );
    }
    // Circuits.
    for c in &r.circuits {
        let a = &c.accounting;
        let _ = write!(
            h,
            "<h2>Circuit <code>{}</code> (condition <code>{}</code>)</h2><p>{} numbers set by hand, expanding to {} weights; {} numbers from data (tune split), listed below. Calibration: {} (gain {:.4}, bias {:.4}).</p>",
            esc(&c.circuit),
            esc(&c.condition),
            a.hand_set_count(),
            a.expanded_weights,
            a.data_derived_count(),
            esc(&c.calibration.describe()),
            c.calibration.gains.first().copied().unwrap_or(1.0),
            c.calibration.biases.first().copied().unwrap_or(0.0)
        );
        let _ = write!(
            h,
            "<details><summary>Parameter accounting</summary><pre>{}</pre></details>",
            esc(&a.table())
        );
        let _ = write!(
            h,
            "<h3>Tuning maps on curve stimuli: natural (left) vs artificial (right), median r = {:.3}</h3><p class=\"muted\">x: orientation (radial convention), y: radius (tight at the bottom), colour: σ above the dataset mean on the tune split.</p><div class=\"grid\">",
            c.median_tuning_r
        );
        if let Ok(text) = std::fs::read_to_string(out.join(format!("tuning-{}.json", c.condition)))
            && let Ok((natural, artificial)) =
                serde_json::from_str::<(TuningGrid, TuningGrid)>(&text)
        {
            let max = natural
                .sigma
                .iter()
                .chain(artificial.sigma.iter())
                .flatten()
                .fold(1.0f32, |m, v| m.max(*v));
            for (k, t) in c.tuning.iter().enumerate() {
                let map = |g: &TuningGrid, label: &str| {
                    heatmap_svg(
                        &format!("{}:{} {label}", r.family.tap, t.channel),
                        g.map(k),
                        Axis {
                            values: &g.spec.orientations,
                            label: "orientation (°)",
                        },
                        Axis {
                            values: &g.spec.values,
                            label: "radius",
                        },
                        (0.0, f64::from(max)),
                        "σ",
                    )
                };
                let _ = write!(
                    h,
                    "<div class=\"pair\"><div><b>{}</b> ({:.0}° → unit {} at {:.0}°): r = {:.2}</div>{}{}</div>",
                    t.channel,
                    t.natural_orientation_deg,
                    t.unit,
                    t.unit_orientation_deg,
                    t.correlation,
                    map(&natural, "natural"),
                    map(&artificial, "artificial")
                );
            }
        }
        let _ = write!(h, "</div>");
        if let Some(rows) = r.divergent.get(&c.condition) {
            let _ = write!(
                h,
                "<h3>Where it diverges most from the natural network</h3><p class=\"muted\">Test images with the largest KL(baseline ‖ replacement); top-5 classes under each condition. Use <code>aann errors</code> for per-neuron activation differences.</p><table><tr><th>image</th><th>label</th><th>KL</th><th>baseline</th><th>zero-ablate</th><th>replaced</th></tr>"
            );
            for d in rows {
                let list = |k: &str| {
                    d.top5
                        .get(k)
                        .map(|v| {
                            v.iter()
                                .map(|(n, p)| format!("{} {:.2}", esc(n), p))
                                .collect::<Vec<_>>()
                                .join("<br>")
                        })
                        .unwrap_or_default()
                };
                let img = thumbnail(&d.path).map_or(String::new(), |b| {
                    format!(
                        "<img alt=\"{}\" src=\"data:image/jpeg;base64,{b}\">",
                        esc(&d.image)
                    )
                });
                let _ = write!(
                    h,
                    "<tr><td class=\"img\">{img}<span class=\"muted\">{}</span></td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&d.image),
                    esc(d.label_name.as_deref().unwrap_or("?")),
                    d.kl,
                    list("baseline"),
                    list("zero-ablate"),
                    list(&c.condition)
                );
            }
            let _ = write!(h, "</table>");
        }
    }
    let _ = write!(
        h,
        "<h2>Conditions</h2><table><tr><th>name</th><th>what</th></tr>"
    );
    for a in &r.conditions {
        let _ = write!(
            h,
            "<tr><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            esc(&a.name),
            esc(&a.description)
        );
    }
    let _ = write!(
        h,
        "</table><p class=\"muted\">Generated by aann. Per-image records: <code>records.jsonl</code>; all numbers: <code>summary.json</code>.</p></body></html>"
    );
    h
}
