//! The single-neuron cards as one table: for each neuron of the family and each circuit,
//! the neuron's own ablation effect, what its single unit recovers, and whether it beats
//! the unit of the wrong orientation.

use std::fmt::Write;

use aann_stats::{Metric, holm_adjust};

use super::{fraction_row, pct};
use crate::experiment::{ExperimentResult, NeuronsResult};
use crate::summary::format_p;

fn fraction(n: &NeuronsResult, arm: &str, reference: &str, metric: Metric) -> String {
    fraction_row(&n.fractions, arm, reference, metric).map_or("-".into(), |f| {
        match &f.result.fraction {
            Some(e) => format!("{} [{}, {}]", pct(e.point), pct(e.ci.lo), pct(e.ci.hi)),
            None => "undefined".into(),
        }
    })
}

/// The table of single-neuron cards (empty without them).
pub fn neuron_tables(r: &ExperimentResult) -> String {
    let Some(n) = &r.neurons else {
        return String::new();
    };
    let alpha = ((1.0 - r.summary.level) * 1e12).round() / 1e12;
    // Holm over every single-neuron replacement against its control, in KL.
    let versus_control: Vec<_> = n
        .neurons
        .iter()
        .flat_map(|neuron| &neuron.circuits)
        .map(|c| {
            n.comparisons
                .iter()
                .find(|v| v.b == c.replace && v.a == c.control)
        })
        .collect();
    let adjusted = holm_adjust(
        &versus_control
            .iter()
            .map(|v| v.and_then(|v| v.kl_from_baseline.as_ref()?.p_value))
            .collect::<Vec<_>>(),
    );
    let mut s = format!(
        "Each neuron alone (everything else natural): its own zero-ablation's effect (paired t, {level}%), what its single unit of the circuit recovers of that effect (paired BCa), and the unit against the unit of its orientation turned {deg}° (refitted per neuron), in KL, Holm-adjusted over the {k} comparisons (α = {alpha}).\n\n",
        level = (r.summary.level * 100.0).round(),
        deg = r.spec.single_neurons.as_ref().map_or(90, |s| s.rotation),
        k = versus_control.len(),
    );
    let _ = writeln!(
        s,
        "| neuron | orientation | ablation Δ KL | ablation Δ CE | circuit | KL gap recovered | CE gap recovered | control's KL gap recovered | Δ KL vs control | p (Holm) | verdict |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    let mut i = 0;
    for neuron in &n.neurons {
        let ablation = r
            .summary
            .versus_baseline
            .iter()
            .find(|v| v.b == neuron.zero);
        let kl = ablation
            .and_then(|v| v.kl_from_baseline.as_ref())
            .map_or("-".into(), |k| {
                let d = &k.difference;
                format!("{:.4} [{:.4}, {:.4}]", d.point, d.ci.lo, d.ci.hi)
            });
        let ce = ablation.map_or("-".into(), |v| {
            let d = &v.cross_entropy.difference;
            format!("{:+.4} [{:+.4}, {:+.4}]", d.point, d.ci.lo, d.ci.hi)
        });
        for c in &neuron.circuits {
            let v = versus_control[i].and_then(|v| v.kl_from_baseline.as_ref());
            let p = adjusted[i];
            i += 1;
            let delta = v.map_or("-".into(), |m| {
                let d = &m.difference;
                format!("{:+.4} [{:+.4}, {:+.4}]", d.point, d.ci.lo, d.ci.hi)
            });
            let verdict = match (p, v) {
                (Some(p), Some(m)) if p < alpha && m.difference.point < 0.0 => "beats its control",
                (Some(p), Some(m)) if p < alpha && m.difference.point > 0.0 => {
                    "worse than its control"
                }
                _ => "not told apart",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {kl} | {ce} | {} | {} | {} | {} | {delta} | {} | {verdict} |",
                neuron.channel,
                neuron
                    .orientation_deg
                    .map_or("-".into(), |o| format!("{o:.0}°")),
                c.circuit.trim_start_matches("replace-"),
                fraction(n, &c.replace, &neuron.zero, Metric::KlFromBaseline),
                fraction(n, &c.replace, &neuron.zero, Metric::CrossEntropy),
                fraction(n, &c.control, &neuron.zero, Metric::KlFromBaseline),
                p.map_or("n/a".into(), format_p),
            );
        }
    }
    s
}
