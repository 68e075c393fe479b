//! Finding a neuron family in any model: sweep every channel of a tap with curves and with
//! straight lines, and rank channels by how strongly and how selectively they respond to
//! one orientation of the family's shape, and by whether they prefer it to the other shape.
//!
//! For a curve family, a channel's score is its peak curve response (σ above the dataset
//! mean, straightest radius excluded) times its orientation selectivity (1 − circular
//! variance of its radial tuning curve), among channels that respond more to some curve
//! than to any straight line. Lines are scored the same way with the roles swapped and
//! angles doubled (a line at θ and θ + 180° is the same line).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use aann_model::{Family, FamilyNeuron, InceptionV1, Tap};

use crate::EvalError;
use crate::means::ActivationStats;
use crate::tuning::{
    TuningGrid, TuningSpec, TuningSummary, angular_distance, summarize_channel, tune,
};

/// The shape a family is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FamilyKind {
    Curves,
    Lines,
}

impl FamilyKind {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "curves" | "curve" => Ok(FamilyKind::Curves),
            "lines" | "line" => Ok(FamilyKind::Lines),
            other => Err(format!(
                "unknown family `{other}`: expected curves or lines"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FamilyKind::Curves => "curves",
            FamilyKind::Lines => "lines",
        }
    }
}

/// How to search.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DiscoverySpec {
    pub family: FamilyKind,
    pub curves: TuningSpec,
    pub lines: TuningSpec,
    /// At most this many members (the best scores); 0 keeps every eligible channel.
    pub top: usize,
    /// Minimum peak response (σ) of a member.
    pub min_peak_sigma: f64,
    /// Maximum circular variance of a member's radial tuning curve.
    pub max_circular_variance: f64,
    /// Maximum response to the other shape, relative to the member's own peak.
    pub max_other_ratio: f64,
    /// Maximum echo (response 180° from the peak relative to the peak; curves only).
    pub max_echo: f64,
}

impl DiscoverySpec {
    pub fn new(family: FamilyKind) -> Self {
        DiscoverySpec {
            family,
            curves: TuningSpec::curves(),
            lines: TuningSpec::lines(),
            top: 0,
            min_peak_sigma: 15.0,
            max_circular_variance: 0.15,
            max_other_ratio: 0.3,
            max_echo: 0.2,
        }
    }
}

/// One channel's evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub channel: usize,
    /// Preferred orientation: radial convention for curves, line direction (0–180°) for lines.
    pub preferred_deg: f64,
    /// Circular variance of the radial tuning curve of the family's shape (0 = one
    /// orientation only, 1 = none).
    pub circular_variance: f64,
    /// Peak response to the family's shape (σ).
    pub peak_sigma: f64,
    /// Peak response to the other shape (σ): straight lines for curves, the tightest curves
    /// for lines.
    pub other_peak_sigma: f64,
    /// Radius (curves) at the peak.
    pub peak_value: f64,
    /// Radial-curve response 180° away from the peak relative to the peak (curves only).
    pub echo_ratio: Option<f64>,
    pub score: f64,
    /// Passes the membership criteria.
    pub eligible: bool,
    /// Why a member is doubtful (empty if not).
    pub doubts: Vec<String>,
}

/// The result of a search.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Discovery {
    pub model: String,
    pub tap: String,
    pub spec: DiscoverySpec,
    /// All channels, best score first.
    pub ranking: Vec<Candidate>,
    /// The members, in order of preferred orientation.
    pub members: Vec<Candidate>,
    /// Largest angular gap between consecutive members' preferred orientations (degrees).
    pub largest_gap_deg: f64,
    pub curves: TuningGrid,
    pub lines: TuningGrid,
}

impl Discovery {
    /// The family file for the members, with `source` saying how it was produced.
    pub fn family(&self, variant: aann_model::Variant, source: &str) -> Family {
        Family {
            name: self.spec.family.name().into(),
            model: variant,
            tap: self.tap.clone(),
            description: format!(
                "{} found by `aann discover` at {}: {} channels with peak ≥ {}σ, circular variance ≤ {}, response to {} ≤ {}× the peak{}{}",
                self.spec.family.name(),
                self.tap,
                self.members.len(),
                self.spec.min_peak_sigma,
                self.spec.max_circular_variance,
                match self.spec.family {
                    FamilyKind::Curves => "straight lines",
                    FamilyKind::Lines => "tight curves",
                },
                self.spec.max_other_ratio,
                if self.spec.family == FamilyKind::Curves {
                    format!(", echo ≤ {}", self.spec.max_echo)
                } else {
                    String::new()
                },
                if self.spec.top > 0 {
                    format!(
                        " (best {} by peak σ × (1 − circular variance))",
                        self.spec.top
                    )
                } else {
                    String::new()
                },
            ),
            source: source.into(),
            neurons: self
                .members
                .iter()
                .map(|c| FamilyNeuron {
                    channel: c.channel,
                    orientation_deg: Some((c.preferred_deg * 10.0).round() / 10.0),
                    label: Some(format!("{}:{}", self.tap, c.channel)),
                    doubtful: !c.doubts.is_empty(),
                    note: c.doubts.join("; "),
                    metrics: BTreeMap::from([
                        ("peak_sigma".into(), round3(c.peak_sigma)),
                        ("other_peak_sigma".into(), round3(c.other_peak_sigma)),
                        ("circular_variance".into(), round3(c.circular_variance)),
                        ("score".into(), round3(c.score)),
                        (
                            match self.spec.family {
                                FamilyKind::Curves => "peak_radius".into(),
                                FamilyKind::Lines => "peak_length".into(),
                            },
                            c.peak_value,
                        ),
                    ])
                    .into_iter()
                    .chain(c.echo_ratio.map(|e| ("echo_ratio".to_string(), round3(e))))
                    .collect(),
                })
                .collect(),
        }
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Peak of a grid map over rows whose value satisfies `keep`.
fn peak_over(grid: &TuningGrid, k: usize, keep: impl Fn(f64) -> bool) -> f64 {
    let map = grid.map(k);
    let cols = grid.columns();
    let mut best = f64::NEG_INFINITY;
    for (r, v) in grid.spec.values.iter().enumerate() {
        if keep(*v) {
            for c in 0..cols {
                best = best.max(f64::from(map[r * cols + c]));
            }
        }
    }
    best
}

/// A channel's evidence: its tuning summary against its peaks (σ) on its family's shape
/// and on the other shape, judged by the membership criteria of `spec`.
fn candidate(
    spec: &DiscoverySpec,
    channel: usize,
    s: &TuningSummary,
    peak: f64,
    other: f64,
) -> Candidate {
    let selectivity = 1.0 - s.circular_variance;
    let score = peak.max(0.0) * selectivity;
    let eligible = peak >= spec.min_peak_sigma
        && s.circular_variance <= spec.max_circular_variance
        && other <= spec.max_other_ratio * peak
        && s.echo_ratio.is_none_or(|e| e <= spec.max_echo);
    Candidate {
        channel,
        preferred_deg: s.preferred_deg,
        circular_variance: s.circular_variance,
        peak_sigma: peak,
        other_peak_sigma: other,
        peak_value: s.peak_value,
        echo_ratio: s.echo_ratio,
        score,
        eligible,
        doubts: doubts(spec, s, peak, other),
    }
}

/// Members close to a criterion are flagged: the evidence is weaker there.
fn doubts(spec: &DiscoverySpec, s: &TuningSummary, peak: f64, other: f64) -> Vec<String> {
    let mut doubts = Vec::new();
    if s.circular_variance > 0.75 * spec.max_circular_variance {
        doubts.push(format!(
            "broadish tuning (circular variance {:.2})",
            s.circular_variance
        ));
    }
    if other > 0.5 * spec.max_other_ratio * peak {
        doubts.push(format!(
            "also responds to {} ({:.1}σ vs {:.1}σ)",
            if spec.family == FamilyKind::Curves {
                "straight lines"
            } else {
                "tight curves"
            },
            other,
            peak
        ));
    }
    if let Some(e) = s.echo_ratio.filter(|e| *e > 0.5 * spec.max_echo) {
        doubts.push(format!("response 180° away (echo {e:.2})"));
    }
    if peak < 1.2 * spec.min_peak_sigma {
        doubts.push(format!("peak near the threshold ({peak:.1}σ)"));
    }
    doubts
}

/// Sweep every channel of `tap` with curves and lines and rank them as members of `spec.family`.
pub fn discover(
    model: &InceptionV1,
    tap: Tap,
    stats: &ActivationStats,
    spec: &DiscoverySpec,
) -> Result<Discovery, EvalError> {
    let variant = model.variant();
    let channels: Vec<usize> = (0..tap.channels(variant)).collect();
    let curves = tune(model, tap, &channels, &spec.curves, Some(stats), None)?;
    let lines = tune(model, tap, &channels, &spec.lines, Some(stats), None)?;
    let straightest = spec
        .curves
        .values
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    // Lines are compared with the tightest curves only: within a small receptive field a
    // wide arc is locally a line.
    let tightest = spec
        .curves
        .values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let mut ranking: Vec<Candidate> = channels
        .iter()
        .enumerate()
        .map(|(k, &channel)| {
            let (own, own_period, peak, other) = match spec.family {
                FamilyKind::Curves => (
                    &curves,
                    360.0,
                    peak_over(&curves, k, |r| {
                        r < straightest || spec.curves.values.len() == 1
                    }),
                    peak_over(&lines, k, |_| true),
                ),
                FamilyKind::Lines => (
                    &lines,
                    180.0,
                    peak_over(&lines, k, |_| true),
                    peak_over(&curves, k, |r| r == tightest),
                ),
            };
            let s = summarize_channel(own, k, own_period);
            candidate(spec, channel, &s, peak, other)
        })
        .collect();
    ranking.sort_by(|a, b| {
        b.eligible
            .cmp(&a.eligible)
            .then(b.score.total_cmp(&a.score))
    });
    let limit = if spec.top == 0 { usize::MAX } else { spec.top };
    let mut members: Vec<Candidate> = ranking
        .iter()
        .filter(|c| c.eligible)
        .take(limit)
        .cloned()
        .collect();
    members.sort_by(|a, b| a.preferred_deg.total_cmp(&b.preferred_deg));
    let period = if spec.family == FamilyKind::Curves {
        360.0
    } else {
        180.0
    };
    let largest_gap_deg = largest_gap(
        &members.iter().map(|c| c.preferred_deg).collect::<Vec<_>>(),
        period,
    );
    Ok(Discovery {
        model: variant.name().into(),
        tap: tap.name(variant),
        spec: spec.clone(),
        ranking,
        members,
        largest_gap_deg,
        curves,
        lines,
    })
}

/// Largest gap between sorted angles on a circle of `period` degrees (the full period for
/// fewer than two angles).
pub fn largest_gap(sorted: &[f64], period: f64) -> f64 {
    if sorted.len() < 2 {
        return period;
    }
    let mut gap: f64 = 0.0;
    for w in sorted.windows(2) {
        gap = gap.max(w[1] - w[0]);
    }
    gap.max(period - sorted[sorted.len() - 1] + sorted[0])
}

/// Match each member of `natural` to a unit of an artificial family by nearest preferred
/// orientation: for neuron-to-neuron comparisons and replacement.
pub fn match_by_orientation(natural: &[f64], artificial: &[f64], period: f64) -> Vec<usize> {
    natural
        .iter()
        .map(|n| {
            artificial
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    angular_distance(*a.1, *n, period)
                        .total_cmp(&angular_distance(*b.1, *n, period))
                })
                .map_or(0, |(i, _)| i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_wrap_around_the_circle() {
        // Gaps 90, 100, 100 and 70 across 0°.
        assert_eq!(largest_gap(&[10.0, 100.0, 200.0, 300.0], 360.0), 100.0);
        assert_eq!(largest_gap(&[30.0, 100.0, 200.0, 250.0], 360.0), 140.0);
        assert_eq!(largest_gap(&[0.0, 350.0], 360.0), 350.0);
        assert_eq!(largest_gap(&[5.0], 360.0), 360.0);
    }

    #[test]
    fn matching_uses_circular_distance() {
        assert_eq!(
            match_by_orientation(&[355.0, 91.0], &[0.0, 90.0, 180.0, 270.0], 360.0),
            vec![0, 1]
        );
    }
}
