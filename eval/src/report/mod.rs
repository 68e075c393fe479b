//! The reports of an experiment: `summary.md` (tables to diff) and a self-contained
//! `report.html` (plots inline as SVG, thumbnails inline as JPEG) to read in a browser.
//!
//! - `tables`: the Markdown tables (the faithfulness card, the verdicts, the conditions,
//!   the fractions recovered) and docs/card.md's block of them, and README's short card ([`readme_tables`]);
//! - `nulls`: the nulls, the fitted bound and the degenerate arms in words;
//! - `markdown`: `summary.md`;
//! - `html`: `report.html`;
//! - `plots`: the SVG figures (the card, the null strips, a tuning map and its scale);
//! - `ladder`: the ladder's tables (each level alone, the stacks) and its waterfall;
//! - `neurons`: the single-neuron cards.
//!
//! Roles are read from each arm's [`ArmKind`], never from its name.

use std::path::Path;

use aann_stats::Metric;

use crate::EvalError;
use crate::experiment::{DivergentImage, ExperimentResult, FractionRow};
use crate::lab::{Ablation, ArmInfo, ArmKind, BASELINE};

mod html;
mod ladder;
mod markdown;
mod neurons;
mod nulls;
mod plots;
mod tables;

pub use html::html;
pub use ladder::{ladder_tables, waterfall_svg};
pub use markdown::markdown;
pub use neurons::neuron_tables;
pub use nulls::{degenerate_text, nulls_text};
pub use plots::{card_svg, tuning_heatmap, tuning_scale};
pub use tables::{
    card_table, conditions_table, controls_table, equivalence_table, fraction_rows_table,
    fractions_table, headline_table, readme_tables, units_table,
};

/// Write `summary.md` and `report.html` for a finished experiment into `out`, inputs under
/// the data root named `$AANN_DATA/…` (`portable`, as in `summary.json`), never by this
/// machine's path.
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

const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#7f7f7f", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf",
];

/// The colour of a condition in the plots: fixed for the baseline and each ablation, the
/// `index`-th of the rest of the palette for any other arm.
fn colour_of(r: &ExperimentResult, condition: &str, index: usize) -> &'static str {
    match arm(r, condition).map(|a| &a.kind) {
        Some(ArmKind::Baseline) => COLOURS[0],
        Some(ArmKind::Ablate { ablation }) => match ablation {
            Ablation::Zero => COLOURS[1],
            Ablation::Mean => COLOURS[2],
            Ablation::Resample => COLOURS[6],
        },
        _ => COLOURS[3 + index % 5],
    }
}

/// The arm of that name.
fn arm<'a>(r: &'a ExperimentResult, name: &str) -> Option<&'a ArmInfo> {
    r.conditions.iter().find(|a| a.name == name)
}

/// The name of the zero-ablation arm, the reference of the card's gaps.
fn zero_ablation() -> &'static str {
    Ablation::Zero.arm_name()
}

/// The top-5 classes (name, probability) of a divergent image under the baseline, the
/// zero-ablation and the replacement `condition`, in that order (none where it lacks them).
fn divergent_top5<'a>(d: &'a DivergentImage, condition: &str) -> [&'a [(String, f64)]; 3] {
    [BASELINE, zero_ablation(), condition].map(|k| d.top5.get(k).map_or(&[][..], Vec::as_slice))
}

/// The row of `rows` for `condition` relative to `reference` in `metric`.
fn fraction_row<'a>(
    rows: &'a [FractionRow],
    condition: &str,
    reference: &str,
    metric: Metric,
) -> Option<&'a FractionRow> {
    rows.iter()
        .find(|f| f.condition == condition && f.relative_to == reference && f.metric == metric)
}

/// A metric by its serialised name.
fn metric_named(name: &str) -> Option<Metric> {
    Metric::REPORT_ORDER.into_iter().find(|m| m.name() == name)
}

fn pct(x: f64) -> String {
    match x {
        x if x.is_finite() => format!("{:.2}%", 100.0 * x),
        x if x.is_nan() => "n/a".into(),
        x if x > 0.0 => "+∞".into(),
        _ => "−∞".into(),
    }
}
