//! `summary.md`: the card and its verdicts, the setup, the conditions, the fractions
//! recovered, the nulls and each circuit, as Markdown to diff.

use std::fmt::Write;

use super::nulls::channel_null_lead;
use super::tables::card_parts;
use super::{card_table, conditions_table, divergent_top5, fraction_rows_table, fractions_table};
use crate::experiment::{CircuitResult, ExperimentResult};
use crate::summary::format_p;

/// The Markdown summary.
pub fn markdown(r: &ExperimentResult) -> String {
    let mut s = String::new();
    card(&mut s, r);
    setup(&mut s, r);
    conditions(&mut s, r);
    fractions(&mut s, r);
    for c in &r.circuits {
        circuit(&mut s, r, c);
    }
    s
}

/// The title, the headline and the faithfulness card with its verdicts and nulls.
fn card(s: &mut String, r: &ExperimentResult) {
    let _ = writeln!(s, "# {}\n", r.name);
    if !r.description.is_empty() {
        let _ = writeln!(s, "{}\n", r.description);
    }
    let _ = writeln!(s, "**{}**\n", r.headline);
    let _ = writeln!(s, "## Faithfulness card\n");
    s.push_str(&card_table(r));
    for (title, part) in card_parts(r) {
        if !part.is_empty() {
            let _ = writeln!(s, "\n### {title}\n");
            s.push_str(&part);
        }
    }
}

/// The model, the family, the splits, the command and the run's cost.
fn setup(s: &mut String, r: &ExperimentResult) {
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
}

/// Each condition's accuracies and loss, and its paired differences from the baseline.
fn conditions(s: &mut String, r: &ExperimentResult) {
    let level = (r.summary.level * 100.0).round();
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
}

/// The fractions recovered, the lineage's and the random-channel null.
fn fractions(s: &mut String, r: &ExperimentResult) {
    let level = (r.summary.level * 100.0).round();
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
            "{} (excluding the family) raise it by {:+.4} on average (range {:+.4} to {:+.4}). {} of {} sets are as harmful; empirical p = {}.",
            channel_null_lead(r, n),
            n.comparison.null_mean,
            n.comparison.null_min,
            n.comparison.null_max,
            n.comparison.as_or_more_extreme,
            n.sets.len(),
            format_p(n.comparison.p_value)
        );
    }
}

/// One circuit: its parameters, its tuning against the natural neurons, and the images
/// where it diverges most.
fn circuit(s: &mut String, r: &ExperimentResult, c: &CircuitResult) {
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
            let [baseline, zero, replaced] = divergent_top5(d, &c.condition).map(|top| {
                top.first()
                    .map_or("-".to_string(), |(n, p)| format!("{n} {p:.2}"))
            });
            let _ = writeln!(
                s,
                "- `{}` (label {}): KL {:.3}; top-1 baseline {}, zero {}, replaced {}",
                d.image,
                d.label_name.as_deref().unwrap_or("?"),
                d.kl,
                baseline,
                zero,
                replaced
            );
        }
    }
}
