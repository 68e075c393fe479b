//! The report's figures as SVG: the card (recovery with intervals above the nulls), the
//! nulls as strips of dots, and a tuning map.

use aann_stats::Metric;

use super::{colour_of, zero_ablation};
use crate::experiment::ExperimentResult;
use crate::plot::{Axis, IntervalRow, Svg, heatmap_svg, interval_chart_svg};
use crate::summary::format_p;
use crate::tuning::TuningGrid;

/// A strip plot of the null distribution with the family's value marked.
pub(super) fn null_svg(r: &ExperimentResult) -> Option<String> {
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
            format_p(n.comparison.p_value)
        ),
        &n.null_loss_increase,
        n.family_loss_increase,
        "mean cross-entropy increase over the baseline (nats)",
        true,
    ))
}

/// A strip plot of the replacement null's draws with the circuit's own mapping marked.
pub(super) fn mapping_null_svg(r: &ExperimentResult) -> Option<String> {
    let m = r.mapping_null.as_ref()?;
    Some(strip_svg(
        &format!(
            "{}: {} shuffled unit mappings (grey) vs its own (red), p = {}",
            m.of.trim_start_matches("replace-"),
            m.draws.shuffled_loss.len(),
            format_p(m.draws.comparison.p_value)
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
        .filter(|f| f.relative_to == zero_ablation() && f.metric == Metric::CrossEntropy)
        .enumerate()
        .filter_map(|(i, f)| {
            let e = f.result.fraction.as_ref()?;
            Some(IntervalRow {
                label: f.condition.clone(),
                point: 100.0 * e.point,
                lo: 100.0 * e.ci.lo,
                hi: 100.0 * e.ci.hi,
                colour: colour_of(r, &f.condition, i).into(),
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
    parts.extend(super::waterfall_svg(r));
    crate::plot::stack_svgs(&parts)
}

/// The tuning map of the `k`-th channel of `grid` (σ above the dataset mean where the grid
/// has it) over orientation and radius, coloured from 0 to `max`: one scale for every map
/// that is to be compared.
pub fn tuning_heatmap(title: &str, grid: &TuningGrid, k: usize, max: f32) -> String {
    let x = Axis {
        values: &grid.spec.orientations,
        label: "orientation (°)",
    };
    let y = Axis {
        values: &grid.spec.values,
        label: "radius",
    };
    heatmap_svg(title, grid.map(k), x, y, (0.0, f64::from(max)), "σ")
}

/// The top of the common colour scale of a circuit's tuning maps: the largest σ of the
/// natural and the artificial grids, at least 1.
pub fn tuning_scale(natural: &TuningGrid, artificial: &TuningGrid) -> f32 {
    [natural, artificial]
        .iter()
        .filter_map(|g| g.sigma.as_ref())
        .flatten()
        .fold(1.0f32, |m, v| m.max(*v))
}
