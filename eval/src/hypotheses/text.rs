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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hypotheses::HypothesisFile;

    /// The claims of a bvlc file holding `claims` (families resolve in this repository).
    fn claims(claims: &str) -> Vec<Claim> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(&path, format!("model = \"bvlc\"\n{claims}")).unwrap();
        HypothesisFile::load(&path).unwrap().claims
    }

    #[test]
    fn thresholds_read_as_the_claim_says() {
        let curves = "circuits/families/bvlc/curves-3b.toml";
        let texts: Vec<String> = claims(&format!(
            r#"
[[claim]]
name = "one"
kind = "preferred_orientation"
tap = "inception_3b_output"
channel = 358
expected_deg = 0.8
tolerance_deg = 10
[[claim]]
name = "family"
kind = "preferred_orientation"
family = "{curves}"
tolerance_deg = 20
min_fraction = 0.9
min_peak = 2
[[claim]]
name = "tiling"
kind = "tiling"
family = "{curves}"
max_gap_deg = 60
[[claim]]
name = "peak"
kind = "equivariance"
family = "{curves}"
mode = "peak_shift"
max_error_deg = 10
orientation_step_deg = 15
[[claim]]
name = "abl"
kind = "ablation_effect"
family = "{curves}"
ablation = "zero"
metric = "cross_entropy"
test = {{ images = "imagenet-sample" }}
min_change = 0.05
max_change = 1
level = 0.975
[[claim]]
name = "frac"
kind = "fraction_recovered"
min_lower_bound = 0.5
circuit = "pixels"
family = "{curves}"
relative_to = "zero"
metric = "cross_entropy"
tune = {{ images = "imagenet-val/images" }}
test = {{ images = "imagenet-sample" }}
[[claim]]
name = "corr"
kind = "circuit_correlation"
circuit = "pixels"
family = "{curves}"
channel = 358
min_r = 0.6
"#
        ))
        .iter()
        .map(threshold_text)
        .collect();
        assert_eq!(
            texts,
            [
                "within ±10° of 0.8°",
                "≥ 90% of curves-3b.toml within ±20° of its orientation, peak ≥ 2",
                "largest gap ≤ 60°",
                "RMS shift error ≤ 10° per 15° step",
                "Δcross_entropy 97.5% CI lower bound ≥ 0.05, upper bound ≤ 1",
                "95% BCa lower bound ≥ 0.5",
                "r ≥ 0.6 (channel 358)",
            ]
        );
    }

    #[test]
    fn numbers_and_units_in_words() {
        assert_eq!(pct(0.75), "75%");
        assert_eq!(pct(1.0), "100%");
        assert_eq!(level_text(0.95), "95%");
        assert_eq!(level_text(0.975), "97.5%");
        assert_eq!(
            file_name("circuits/families/bvlc/curves-3b.toml"),
            "curves-3b.toml"
        );
        assert_eq!(file_name(""), "");
        assert_eq!(metric_unit(Metric::CrossEntropy), "nats");
        assert_eq!(metric_unit(Metric::KlFromBaseline), "nats");
        assert_eq!(metric_unit(Metric::Top1Accuracy), "");
        assert_eq!(decode_failures(0), "");
        assert_eq!(decode_failures(3), " (3 failed to decode)");
    }
}
