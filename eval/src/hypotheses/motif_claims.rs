//! Weight-motif claims, measured on the expanded weights between two families' taps (see
//! [`crate::expanded`]): named pairs' signs, aligned against opposite upstream neurons,
//! opposite ones inhibiting, aligned kernels along the tangent, and net weight falling off
//! with the orientation difference.

use super::context::{Context, Measured, Unavailable};
use super::report::Outcome;
use super::tuning_claims::oriented;
use super::{MotifMeasure, WeightMotif};
use crate::circuits::{median, pearson};
use crate::expanded::{ExpandedBlock, expansion_block, positive_axis};
use crate::tuning::angular_distance;

/// One (upstream, target) pair's expanded kernel.
struct Pair {
    /// The orientation difference, 0 to 180°.
    dtheta: f64,
    /// The summed (net) weight.
    net: f64,
    /// The summed positive weight.
    positive: f64,
    kernel: Vec<f32>,
}

/// A target neuron with its kernels from every oriented upstream neuron.
struct Target {
    channel: usize,
    theta: f64,
    /// The kernels' side (1 for 1×1).
    size: usize,
    pairs: Vec<Pair>,
}

/// A motif measured over the targets, with the words every detail ends with.
struct Motif<'m> {
    c: &'m WeightMotif,
    targets: Vec<Target>,
    aligned: f64,
    opposite: f64,
    /// The weights measured and the targets left out, in words.
    tail: String,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

pub(super) fn weight_motif(ctx: &mut Context<'_>, c: &WeightMotif, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (from, from_tap) = ctx.family(&c.from)?;
    let (to, to_tap) = ctx.family(&c.to)?;
    let variant = ctx.file.model;
    let block = expansion_block(from_tap, to_tap, variant)?;
    let expanded = ExpandedBlock::new(model.model(), block);
    let header = format!(
        "expanded weights {} → {} (bottleneck ReLU and biases ignored)",
        from_tap.name(variant),
        to_tap.name(variant)
    );
    if c.measure == MotifMeasure::PairSigns {
        return pair_signs(&expanded, c, &header, thr);
    }
    let (targets, excluded) = targets(&expanded, &oriented(&from), &oriented(&to));
    let excluded_note = if excluded.is_empty() {
        String::new()
    } else {
        format!("; left out: {}", excluded.join(", "))
    };
    let motif = Motif {
        c,
        targets,
        aligned: c.aligned_within_deg.unwrap_or(45.0),
        opposite: c.opposite_within_deg.unwrap_or(45.0),
        tail: format!("{header}{excluded_note}"),
    };
    match c.measure {
        MotifMeasure::AlignedVsOpposite => motif.aligned_vs_opposite(thr),
        MotifMeasure::OppositeInhibits => motif.opposite_inhibits(thr),
        MotifMeasure::Tangent => motif.tangent(thr),
        MotifMeasure::Falloff => Ok(motif.falloff(thr)),
        MotifMeasure::PairSigns => unreachable!("handled above"),
    }
}

/// Whether a kernel's summed weight has the claimed sign (zero has neither).
fn has_sign(sum: f64, excite: bool) -> bool {
    (sum > 0.0) == excite && sum != 0.0
}

fn pair_signs(expanded: &ExpandedBlock, c: &WeightMotif, header: &str, thr: &str) -> Measured {
    let mut right = 0;
    let mut wrong = Vec::new();
    let pairs: Vec<([usize; 2], bool)> = c
        .excite
        .iter()
        .map(|p| (*p, true))
        .chain(c.inhibit.iter().map(|p| (*p, false)))
        .collect();
    for ([u, t], excite) in &pairs {
        let (_, k) = expanded.kernel(*u, *t)?;
        let sum: f64 = k.iter().map(|v| f64::from(*v)).sum();
        if has_sign(sum, *excite) {
            right += 1;
        } else {
            wrong.push(format!(
                "{u} → {t} claimed {} but sums to {sum:+.4}",
                if *excite { "excitatory" } else { "inhibitory" }
            ));
        }
    }
    let fraction = right as f64 / pairs.len() as f64;
    let mut detail = format!(
        "{right} of {} pairs have the claimed sign of their summed {header}",
        pairs.len()
    );
    for w in &wrong {
        detail.push_str(&format!("\n{w}"));
    }
    Ok(Outcome::judged(
        fraction >= c.min_fraction.expect("validated"),
        fraction,
        "fraction",
        thr,
        detail,
    ))
}

/// Every target with its kernels from the upstream neurons; targets whose kernels the
/// expansion refuses are left out, with the reason.
fn targets(
    expanded: &ExpandedBlock,
    ups: &[(usize, f64)],
    downs: &[(usize, f64)],
) -> (Vec<Target>, Vec<String>) {
    let mut excluded = Vec::new();
    let mut targets = Vec::new();
    for &(t, theta_t) in downs {
        let mut pairs = Vec::new();
        let mut size = 0;
        let mut refused = None;
        for &(u, theta_u) in ups {
            match expanded.kernel(u, t) {
                Ok((k, w)) => {
                    size = k;
                    pairs.push(Pair {
                        dtheta: angular_distance(theta_u, theta_t, 360.0),
                        net: w.iter().map(|v| f64::from(*v)).sum(),
                        positive: w.iter().map(|v| f64::from(v.max(0.0))).sum(),
                        kernel: w,
                    });
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        match refused {
            Some(e) => excluded.push(format!("{t} ({e})")),
            None => targets.push(Target {
                channel: t,
                theta: theta_t,
                size,
                pairs,
            }),
        }
    }
    (targets, excluded)
}

impl Motif<'_> {
    fn is_aligned(&self, p: &Pair) -> bool {
        p.dtheta <= self.aligned
    }

    fn is_opposite(&self, p: &Pair) -> bool {
        p.dtheta >= 180.0 - self.opposite
    }

    fn aligned_vs_opposite(&self, thr: &str) -> Measured {
        let (aligned, opposite) = (self.aligned, self.opposite);
        let (mut wins, mut counted) = (0, 0);
        let (mut net_a, mut net_o, mut pos_a, mut pos_o) = (vec![], vec![], vec![], vec![]);
        let mut losers = Vec::new();
        for t in &self.targets {
            let a: Vec<&Pair> = t.pairs.iter().filter(|p| self.is_aligned(p)).collect();
            let o: Vec<&Pair> = t.pairs.iter().filter(|p| self.is_opposite(p)).collect();
            if a.is_empty() || o.is_empty() {
                continue;
            }
            counted += 1;
            let na = mean(&a.iter().map(|p| p.net).collect::<Vec<_>>());
            let no = mean(&o.iter().map(|p| p.net).collect::<Vec<_>>());
            net_a.push(na);
            net_o.push(no);
            pos_a.push(mean(&a.iter().map(|p| p.positive).collect::<Vec<_>>()));
            pos_o.push(mean(&o.iter().map(|p| p.positive).collect::<Vec<_>>()));
            if na > no {
                wins += 1;
            } else {
                losers.push(format!("{} ({na:+.4} vs {no:+.4})", t.channel));
            }
        }
        if counted == 0 {
            return Err(Unavailable::Error(format!(
                "no target has both aligned (≤ {aligned}°) and opposite (≥ {}°) upstream neurons",
                180.0 - opposite
            )));
        }
        let fraction = wins as f64 / counted as f64;
        let mut detail = format!(
            "{wins} of {counted} targets: mean net weight of aligned upstream (Δθ ≤ {aligned}°) {:+.4} vs opposite (Δθ ≥ {}°) {:+.4}; summed positive weight {:.4} vs {:.4}; {}",
            mean(&net_a),
            180.0 - opposite,
            mean(&net_o),
            mean(&pos_a),
            mean(&pos_o),
            self.tail
        );
        if !losers.is_empty() {
            detail.push_str(&format!("\nnot so for: {}", losers.join(", ")));
        }
        Ok(Outcome::judged(
            fraction >= self.c.min_fraction.expect("validated"),
            fraction,
            "fraction",
            thr,
            detail,
        ))
    }

    fn opposite_inhibits(&self, thr: &str) -> Measured {
        let nets: Vec<f64> = self
            .targets
            .iter()
            .flat_map(|t| t.pairs.iter().filter(|p| self.is_opposite(p)))
            .map(|p| p.net)
            .collect();
        if nets.is_empty() {
            return Err(Unavailable::Error(format!(
                "no (upstream, target) pair is within {}° of opposite",
                self.opposite
            )));
        }
        let neg = nets.iter().filter(|n| **n < 0.0).count();
        let fraction = neg as f64 / nets.len() as f64;
        Ok(Outcome::judged(
            fraction >= self.c.min_fraction.expect("validated"),
            fraction,
            "fraction",
            thr,
            format!(
                "{neg} of {} opposite pairs (Δθ ≥ {}°) have a negative net weight (mean {:+.4}); {}",
                nets.len(),
                180.0 - self.opposite,
                mean(&nets),
                self.tail
            ),
        ))
    }

    fn tangent(&self, thr: &str) -> Measured {
        let mut errors = Vec::new();
        let mut anisotropy = Vec::new();
        for t in self.targets.iter().filter(|t| t.size >= 3) {
            for p in t.pairs.iter().filter(|p| self.is_aligned(p)) {
                if let Some((axis, aniso)) = positive_axis(t.size, &p.kernel) {
                    errors.push(angular_distance(axis, t.theta + 90.0, 180.0));
                    anisotropy.push(aniso);
                }
            }
        }
        if errors.is_empty() {
            return Err(Unavailable::Error(
                "no aligned pair has a spatial kernel (3×3 or larger) with positive weights".into(),
            ));
        }
        let med = median(&errors);
        Ok(Outcome::judged(
            med <= self.c.max_deg.expect("validated"),
            med,
            "°",
            thr,
            format!(
                "{} aligned pairs (Δθ ≤ {}°): the principal axis of the positive weights is {med:.1}° (median) from the target's tangent at its apex (orientation + 90°); median anisotropy {:.2} (0 = round, 1 = a line); {}",
                errors.len(),
                self.aligned,
                median(&anisotropy),
                self.tail
            ),
        ))
    }

    fn falloff(&self, thr: &str) -> Outcome {
        let (xs, ys) = falloff_points(&self.targets);
        let r = pearson(&xs, &ys);
        Outcome::judged(
            r >= self.c.min_r.expect("validated"),
            r,
            "r",
            thr,
            format!(
                "Pearson r between cos(Δθ) and the net weight (divided per target by its largest |net| from the family) over {} pairs of {} targets; {}",
                xs.len(),
                self.targets.len(),
                self.tail
            ),
        )
    }
}

/// `(cos Δθ, net / the target's largest |net|)` of every pair, targets with no weight left
/// out.
fn falloff_points(targets: &[Target]) -> (Vec<f32>, Vec<f32>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for t in targets {
        let scale = t.pairs.iter().map(|p| p.net.abs()).fold(0.0, f64::max);
        if scale <= 0.0 {
            continue;
        }
        for p in &t.pairs {
            xs.push(p.dtheta.to_radians().cos() as f32);
            ys.push((p.net / scale) as f32);
        }
    }
    (xs, ys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hypotheses::Status;

    fn pair(dtheta: f64, net: f64) -> Pair {
        Pair {
            dtheta,
            net,
            positive: net.max(0.0),
            kernel: vec![net as f32],
        }
    }

    fn motif(measure: MotifMeasure, targets: Vec<Target>) -> Motif<'static> {
        let c = Box::leak(Box::new(WeightMotif {
            min_fraction: Some(0.5),
            max_deg: Some(20.0),
            min_r: Some(0.3),
            ..WeightMotif::bare(measure)
        }));
        Motif {
            c,
            targets,
            aligned: 45.0,
            opposite: 45.0,
            tail: "w".into(),
        }
    }

    fn targets() -> Vec<Target> {
        let target = |channel, pairs| Target {
            channel,
            theta: 0.0,
            size: 1,
            pairs,
        };
        vec![
            // Aligned excite, opposite inhibit.
            target(1, vec![pair(10.0, 0.4), pair(90.0, 0.1), pair(170.0, -0.2)]),
            // Aligned weaker than opposite.
            target(2, vec![pair(30.0, -0.1), pair(150.0, 0.3)]),
            // No weight at all: left out of the fall-off.
            target(3, vec![pair(0.0, 0.0), pair(180.0, 0.0)]),
        ]
    }

    #[test]
    fn aligned_and_opposite_upstream_neurons_are_compared_per_target() {
        let m = motif(MotifMeasure::AlignedVsOpposite, targets());
        let o = m.aligned_vs_opposite("t").unwrap();
        // Target 1 wins (0.4 > −0.2); 2 (−0.1 vs 0.3) and 3 (0 vs 0) do not.
        assert_eq!(o.measured, Some(1.0 / 3.0));
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.starts_with("1 of 3 targets"), "{}", o.detail);
        assert!(
            o.detail.contains("not so for: 2 (-0.1000 vs +0.3000), 3"),
            "{}",
            o.detail
        );
        let o = m.opposite_inhibits("t").unwrap();
        // Opposite pairs: −0.2, 0.3, 0.0: one negative.
        assert_eq!(o.measured, Some(1.0 / 3.0));
        assert!(
            o.detail.starts_with("1 of 3 opposite pairs (Δθ ≥ 135°)"),
            "{}",
            o.detail
        );
    }

    #[test]
    fn falloff_points_are_normalised_per_target() {
        let (xs, ys) = falloff_points(&targets());
        assert_eq!(xs.len(), 5, "the weightless target is left out");
        assert_eq!(ys, vec![1.0, 0.25, -0.5, -1.0 / 3.0, 1.0]);
        assert!((xs[0] - 10f64.to_radians().cos() as f32).abs() < 1e-7);
        assert!(xs[1].abs() < 1e-7, "cos 90° is 0");
        let o = motif(MotifMeasure::Falloff, targets()).falloff("t");
        assert_eq!(o.unit, "r");
        assert!(
            o.detail.contains("over 5 pairs of 3 targets"),
            "{}",
            o.detail
        );
    }

    #[test]
    fn a_kernel_has_a_sign_only_when_it_sums_away_from_zero() {
        assert!(has_sign(0.1, true) && !has_sign(0.1, false));
        assert!(has_sign(-0.1, false) && !has_sign(-0.1, true));
        assert!(!has_sign(0.0, true) && !has_sign(0.0, false));
        let none = motif(MotifMeasure::Tangent, targets()).tangent("t");
        assert!(
            matches!(none, Err(Unavailable::Error(ref m)) if m.contains("3×3 or larger")),
            "1×1 kernels have no axis"
        );
    }
}
