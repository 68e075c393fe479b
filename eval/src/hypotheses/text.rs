//! Claims in words: thresholds (shown for skipped claims too), percentages, levels and
//! units.

use std::path::Path;

use aann_stats::Metric;

use super::{Claim, ClaimKind, EquivarianceMode, MotifMeasure};
use crate::tuning::TuningGrid;

pub(super) fn pct(f: f64) -> String {
    format!("{:.0}%", 100.0 * f)
}

pub(super) fn level_text(level: f64) -> String {
    format!("{}%", (level * 100.0 * 10.0).round() / 10.0)
}

/// The threshold of a claim, in words (shown for skipped claims too).
pub(super) fn threshold_text(claim: &Claim) -> String {
    match &claim.kind {
        ClaimKind::PreferredOrientation(c) => {
            let peak = c
                .min_peak
                .map_or(String::new(), |p| format!(", peak ≥ {p}"));
            match (&c.family, c.expected_deg) {
                (Some(f), _) => format!(
                    "≥ {} of {} within ±{}° of its orientation{peak}",
                    pct(c.min_fraction.unwrap_or(1.0)),
                    file_name(f),
                    c.tolerance_deg
                ),
                (None, Some(e)) => format!("within ±{}° of {e}°{peak}", c.tolerance_deg),
                _ => String::new(),
            }
        }
        ClaimKind::Tiling(c) => format!("largest gap ≤ {}°", c.max_gap_deg),
        ClaimKind::Equivariance(c) => match c.mode {
            EquivarianceMode::PeakShift => format!(
                "RMS shift error ≤ {}° per {}° step",
                c.max_error_deg.unwrap_or(0.0),
                c.sweep.orientation_step_deg
            ),
            EquivarianceMode::Rot90Permutation => {
                format!("median r ≥ {} with the 90° partner", c.min_r.unwrap_or(0.0))
            }
        },
        ClaimKind::CircuitCorrelation(c) => match c.channel {
            Some(ch) => format!("r ≥ {} (channel {ch})", c.min_r),
            None => format!("median r ≥ {}", c.min_r),
        },
        ClaimKind::AblationEffect(c) => {
            let mut parts = Vec::new();
            if let Some(m) = c.min_change {
                parts.push(format!("lower bound ≥ {m}"));
            }
            if let Some(m) = c.max_change {
                parts.push(format!("upper bound ≤ {m}"));
            }
            format!(
                "Δ{} {} CI {}",
                c.metric,
                level_text(c.level),
                parts.join(", ")
            )
        }
        ClaimKind::FractionRecovered(c) => format!(
            "{} BCa lower bound ≥ {}",
            level_text(c.level),
            c.min_lower_bound
        ),
        ClaimKind::WeightMotif(c) => match c.measure {
            MotifMeasure::AlignedVsOpposite => format!(
                "≥ {} of targets: aligned > opposite",
                pct(c.min_fraction.unwrap_or(0.0))
            ),
            MotifMeasure::OppositeInhibits => format!(
                "≥ {} of opposite pairs inhibit",
                pct(c.min_fraction.unwrap_or(0.0))
            ),
            MotifMeasure::PairSigns => format!(
                "≥ {} of pairs have the claimed sign",
                pct(c.min_fraction.unwrap_or(0.0))
            ),
            MotifMeasure::Tangent => {
                format!(
                    "median axis error ≤ {}° (chance 45°)",
                    c.max_deg.unwrap_or(0.0)
                )
            }
            MotifMeasure::Falloff => format!("r(cos Δθ, weight) ≥ {}", c.min_r.unwrap_or(0.0)),
        },
    }
}

pub(super) fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or(path.to_string(), |n| n.to_string_lossy().into_owned())
}

pub(super) fn sigma_word(grid: &TuningGrid) -> &'static str {
    if grid.sigma.is_some() { "σ" } else { " (raw)" }
}

pub(super) fn metric_unit(metric: Metric) -> &'static str {
    match metric {
        Metric::CrossEntropy | Metric::KlFromBaseline => "nats",
        _ => "",
    }
}

/// How many test images failed to decode, in words (nothing when none did).
pub(super) fn decode_failures(failures: usize) -> String {
    if failures > 0 {
        format!(" ({failures} failed to decode)")
    } else {
        String::new()
    }
}
