//! The nulls, the fitted bound and the degenerate or identical arms, one line each
//! (Markdown list items).

use std::fmt::Write;

use aann_stats::Metric;

use super::{fraction_row, pct, zero_ablation};
use crate::experiment::{ExperimentResult, MappingNullResult, NullDraws, NullResult};
use crate::lab::{ArmKind, Control, ControlFit};
use crate::summary::format_p;

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
    let mut s = bounds_text(r);
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
            format_p(n.comparison.p_value),
            n.seconds
        );
    }
    if let Some(m) = &r.mapping_null {
        let _ = writeln!(s, "{}", mapping_null_text(m));
    }
    s.push_str(&degenerate_text(r));
    s
}

/// The random-channel null's opening words, up to what the random sets do: the family's
/// loss increase and the sets it is compared with.
pub(super) fn channel_null_lead(r: &ExperimentResult, n: &NullResult) -> String {
    format!(
        "Zero-ablating the family raises the loss by {:+.4} nats on the first {} test images; {} random sets of {} channels at the same tap",
        n.family_loss_increase,
        n.images,
        n.sets.len(),
        r.family.channels.len()
    )
}

/// Each fitted linear readout (the bound): the share of the cross-entropy gap it recovers,
/// and each circuit's recovery as a share of that.
fn bounds_text(r: &ExperimentResult) -> String {
    let mut s = String::new();
    let ce = |arm: &str| {
        fraction_row(&r.fractions, arm, zero_ablation(), Metric::CrossEntropy)
            .and_then(|f| f.result.fraction.as_ref())
            .map(|e| e.point)
    };
    let bounds = r.conditions.iter().filter(|a| {
        matches!(
            a.kind,
            ArmKind::Control {
                control: Control::Readout { .. },
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
    s
}

/// The replacement null's line: the circuit's own mapping against its shuffles (and their
/// refits, where the result has them).
fn mapping_null_text(m: &MappingNullResult) -> String {
    let mut line = format!(
        "- Replacement null: {} with its own unit mapping has a loss of {:.4} nats on {} test images; {}",
        m.of,
        m.real_loss,
        m.images,
        draws_text(&m.draws, m.fit)
    );
    if let Some(refit) = &m.refit {
        line.push_str(&format!("; {}", draws_text(refit, Some(ControlFit::Refit))));
    }
    format!("{line} ({:.0} s in this run).", m.seconds)
}

/// One set of a replacement null's draws, calibrated as `fit` says, in words.
fn draws_text(d: &NullDraws, fit: Option<ControlFit>) -> String {
    let how = match fit {
        Some(ControlFit::Frozen) => {
            "derangements of the mapping, each through the circuit's own calibration"
        }
        Some(ControlFit::Refit) => "the same derangements refitted per neuron",
        None => "shuffles of the mapping (each calibrated the same way)",
    };
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
        "{} {how} have {:.4} on average (median {:.4}, best {:.4}{checked}); {} do as well: empirical p = {}, the circuit at the {:.1}th percentile",
        d.shuffled_loss.len(),
        d.comparison.null_mean,
        crate::circuits::median(&d.shuffled_loss),
        d.comparison.null_min,
        d.comparison.as_or_more_extreme,
        format_p(d.comparison.p_value),
        d.comparison.percentile
    )
}
