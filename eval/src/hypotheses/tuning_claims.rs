//! Tuning claims, measured on synthetic stimulus sweeps: a neuron's preferred orientation,
//! a family tiling the circle, and a family's rotational equivariance.

use aann_model::{Family, Tap};

use super::context::{Context, Measured};
use super::report::{Outcome, Status};
use super::text::sigma_word;
use super::{Equivariance, EquivarianceMode, PreferredOrientation, Tiling};
use crate::circuits::{median, pearson};
use crate::tuning::{TuningGrid, angular_distance, summarize_channel};

/// Neurons of a family with their orientations.
pub(super) fn oriented(family: &Family) -> Vec<(usize, f64)> {
    family
        .neurons
        .iter()
        .filter_map(|n| n.orientation_deg.map(|o| (n.channel, o)))
        .collect()
}

pub(super) fn preferred_orientation(
    ctx: &mut Context<'_>,
    c: &PreferredOrientation,
    thr: &str,
) -> Measured {
    let model = ctx.model()?;
    let (tap, targets) = match &c.family {
        Some(f) => {
            let (family, tap) = ctx.family(f)?;
            (tap, oriented(&family))
        }
        None => (
            Tap::parse(c.tap.as_deref().unwrap_or_default(), ctx.file.model)?,
            vec![(
                c.channel.expect("validated"),
                c.expected_deg.expect("validated"),
            )],
        ),
    };
    let grid = ctx.grid(&model, tap, &c.sweep)?;
    let period = c.sweep.period();
    let unit = sigma_word(&grid);
    let rows: Vec<(usize, f64, f64, f64, bool)> = targets
        .iter()
        .map(|&(ch, expected)| {
            let k = grid.channel_index(ch).expect("all channels are tuned");
            let s = summarize_channel(&grid, k, period);
            let err = angular_distance(s.preferred_deg, expected, period);
            let ok = err <= c.tolerance_deg && c.min_peak.is_none_or(|p| s.peak >= p);
            (ch, expected, s.preferred_deg, s.peak, ok)
        })
        .collect();
    let describe = |r: &(usize, f64, f64, f64, bool)| {
        format!(
            "channel {}: preferred {:.1}° vs {:.1}° ({:.1}° off), peak {:.1}{unit}",
            r.0,
            r.2,
            r.1,
            angular_distance(r.2, r.1, period),
            r.3
        )
    };
    let sweep = format!(
        "{:?} sweep of {} orientations × {} values at {}",
        c.sweep.stimulus,
        grid.columns(),
        grid.rows(),
        grid.tap
    )
    .to_lowercase();
    if c.family.is_none() {
        let r = &rows[0];
        return Ok(Outcome::judged(
            r.4,
            r.2,
            "°",
            thr,
            format!("{}; {sweep}", describe(r)),
        ));
    }
    let ok = rows.iter().filter(|r| r.4).count();
    let fraction = ok as f64 / rows.len() as f64;
    let mut bad: Vec<&(usize, f64, f64, f64, bool)> = rows.iter().filter(|r| !r.4).collect();
    bad.sort_by(|a, b| {
        angular_distance(b.2, b.1, period).total_cmp(&angular_distance(a.2, a.1, period))
    });
    let worst = rows
        .iter()
        .max_by(|a, b| {
            angular_distance(a.2, a.1, period).total_cmp(&angular_distance(b.2, b.1, period))
        })
        .expect("a family has neurons");
    let mut detail = format!(
        "{ok} of {} neurons within ±{}° (largest error {:.1}°, channel {}); {sweep}",
        rows.len(),
        c.tolerance_deg,
        angular_distance(worst.2, worst.1, period),
        worst.0
    );
    for r in bad.iter().take(6) {
        detail.push_str(&format!("\noutside: {}", describe(r)));
    }
    Ok(Outcome::judged(
        fraction >= c.min_fraction.unwrap_or(1.0),
        fraction,
        "fraction",
        thr,
        detail,
    ))
}

pub(super) fn tiling(ctx: &mut Context<'_>, c: &Tiling, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (family, tap) = ctx.family(&c.family)?;
    let grid = ctx.grid(&model, tap, &c.sweep)?;
    let period = c.sweep.period();
    let mut measured: Vec<(f64, usize)> = family
        .channels()
        .iter()
        .map(|&ch| {
            let k = grid.channel_index(ch).expect("all channels are tuned");
            (summarize_channel(&grid, k, period).preferred_deg, ch)
        })
        .collect();
    measured.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = measured.len();
    let (gap, from, to) = largest_gap(&measured, period);
    let list: Vec<String> = measured
        .iter()
        .map(|(o, ch)| format!("{ch}:{o:.0}°"))
        .collect();
    Ok(Outcome::judged(
        gap <= c.max_gap_deg,
        gap,
        "°",
        thr,
        format!(
            "{n} neurons measured at {}; largest gap {gap:.1}° between channel {} ({:.1}°) and channel {} ({:.1}°)",
            list.join(", "),
            from.1,
            from.0,
            to.1,
            to.0
        ),
    ))
}

/// The largest gap between neighbouring orientations (`(orientation, channel)` sorted by
/// orientation) around the period, with the neighbours on either side of it.
fn largest_gap(sorted: &[(f64, usize)], period: f64) -> (f64, (f64, usize), (f64, usize)) {
    let n = sorted.len();
    (0..n)
        .map(|i| {
            let (a, b) = (sorted[i], sorted[(i + 1) % n]);
            ((b.0 - a.0).rem_euclid(period), a, b)
        })
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .expect("at least 2 neurons")
}

pub(super) fn equivariance(ctx: &mut Context<'_>, c: &Equivariance, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (family, tap) = ctx.family(&c.family)?;
    let grid = ctx.grid(&model, tap, &c.sweep)?;
    let neurons = oriented(&family);
    let index: Vec<usize> = neurons
        .iter()
        .map(|(ch, _)| grid.channel_index(*ch).expect("all channels are tuned"))
        .collect();
    let family = TunedFamily {
        grid: &grid,
        neurons: &neurons,
        index: &index,
    };
    match c.mode {
        EquivarianceMode::PeakShift => peak_shift(&family, c, thr),
        EquivarianceMode::Rot90Permutation => rot90_permutation(&family, c, thr),
    }
}

/// A family's oriented neurons and where their maps are in a tuning grid.
struct TunedFamily<'g> {
    grid: &'g TuningGrid,
    /// `(channel, orientation)` of each neuron.
    neurons: &'g [(usize, f64)],
    /// Each neuron's index in the grid.
    index: &'g [usize],
}

/// The orientation decoded from a population's responses at each stimulus orientation:
/// the direction of the sum of the neurons' orientation vectors (angles scaled so the
/// period is a full turn) weighted by their responses (`curves[neuron][stimulus]`). `Err`
/// names the first stimulus column no neuron responds to.
fn population_peaks(thetas: &[f64], curves: &[Vec<f64>], period: f64) -> Result<Vec<f64>, usize> {
    let scale = 360.0 / period;
    let cols = curves.first().map_or(0, Vec::len);
    (0..cols)
        .map(|j| {
            let (mut x, mut y) = (0.0, 0.0);
            for (theta, curve) in thetas.iter().zip(curves) {
                let a = (theta * scale).to_radians();
                x += curve[j] * a.cos();
                y += curve[j] * a.sin();
            }
            if x == 0.0 && y == 0.0 {
                return Err(j);
            }
            Ok((y.atan2(x).to_degrees() / scale).rem_euclid(period))
        })
        .collect()
}

/// An angle difference wrapped into (−period/2, period/2].
fn wrap(d: f64, period: f64) -> f64 {
    let d = d.rem_euclid(period);
    if d > period / 2.0 { d - period } else { d }
}

/// How decoded peaks move from each stimulus orientation to the next (wrapping around).
fn peak_shifts(decoded: &[f64], period: f64) -> Vec<f64> {
    let cols = decoded.len();
    (0..cols)
        .map(|j| wrap(decoded[(j + 1) % cols] - decoded[j], period))
        .collect()
}

/// The root-mean-square deviation of the shifts from the rotation step.
fn rms_error(shifts: &[f64], step: f64) -> f64 {
    (shifts.iter().map(|s| (s - step).powi(2)).sum::<f64>() / shifts.len() as f64).sqrt()
}

/// The circular mean of decoded − stimulus orientation, wrapped.
fn mean_offset(decoded: &[f64], orientations: &[f64], period: f64) -> f64 {
    let scale = 360.0 / period;
    let (mut ox, mut oy) = (0.0, 0.0);
    for (d, o) in decoded.iter().zip(orientations) {
        let a = ((d - o) * scale).to_radians();
        ox += a.cos();
        oy += a.sin();
    }
    wrap(oy.atan2(ox).to_degrees() / scale, period)
}

fn peak_shift(f: &TunedFamily<'_>, c: &Equivariance, thr: &str) -> Measured {
    let (grid, period, step) = (f.grid, c.sweep.period(), c.sweep.orientation_step_deg);
    let cols = grid.columns();
    let curves: Vec<Vec<f64>> = f.index.iter().map(|&k| grid.radial_curve(k)).collect();
    let thetas: Vec<f64> = f.neurons.iter().map(|n| n.1).collect();
    let decoded = match population_peaks(&thetas, &curves, period) {
        Ok(d) => d,
        Err(j) => {
            return Ok(Outcome {
                status: Status::Fail,
                measured: None,
                unit: "°".into(),
                threshold: thr.into(),
                detail: format!(
                    "no neuron of the family responds to the stimulus at {}°: the population peak is undefined",
                    grid.spec.orientations[j]
                ),
            });
        }
    };
    let shifts = peak_shifts(&decoded, period);
    let rms = rms_error(&shifts, step);
    let (lo, hi) = shifts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
            (a.min(*s), b.max(*s))
        });
    let mean = shifts.iter().sum::<f64>() / cols as f64;
    let offset = mean_offset(&decoded, &grid.spec.orientations, period);
    Ok(Outcome::judged(
        rms <= c.max_error_deg.expect("validated"),
        rms,
        "°",
        thr,
        format!(
            "the population peak (responses × the family's {} orientations) moves {mean:.1}° per {step}° rotation on average (from {lo:.1}° to {hi:.1}°) over {cols} stimulus orientations; decoded − stimulus orientation {offset:+.1}° on average",
            f.neurons.len()
        ),
    ))
}

/// A map (`rows` × `cols`, row-major) shifted `q` columns along the orientation axis:
/// entry `j` holds the response to the stimulus `q` steps before `j`.
fn rotated_map(map: &[f32], rows: usize, cols: usize, q: usize) -> Vec<f32> {
    let mut out = vec![0f32; map.len()];
    for r in 0..rows {
        for j in 0..cols {
            out[r * cols + j] = map[r * cols + (j + cols - q % cols) % cols];
        }
    }
    out
}

/// The neuron (other than `i`) nearest `target`, with its angular distance.
fn nearest_partner(
    neurons: &[(usize, f64)],
    i: usize,
    target: f64,
    period: f64,
) -> Option<(usize, f64)> {
    neurons
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .min_by(|a, b| {
            angular_distance(a.1.1, target, period)
                .total_cmp(&angular_distance(b.1.1, target, period))
        })
        .map(|(j, n)| (j, angular_distance(n.1, target, period)))
}

/// Per neuron with a partner near θ + 90°: the correlations of its rotated map with the
/// partner's, and what the detail reports.
#[derive(Default)]
struct Partners {
    rs: Vec<f64>,
    gaps: Vec<f64>,
    best_matches: usize,
    excluded: Vec<usize>,
    worst: Option<(f64, usize, usize)>,
}

fn match_partners(f: &TunedFamily<'_>, q: usize, tolerance: f64, period: f64) -> Partners {
    let (grid, neurons, index) = (f.grid, f.neurons, f.index);
    let mut p = Partners::default();
    for (i, &(ch, theta)) in neurons.iter().enumerate() {
        let target = (theta + 90.0).rem_euclid(period);
        let Some((j, gap)) =
            nearest_partner(neurons, i, target, period).filter(|p| p.1 <= tolerance)
        else {
            p.excluded.push(ch);
            continue;
        };
        // Neuron i's response to the stimulus 90° before each orientation.
        let rotated = rotated_map(grid.map(index[i]), grid.rows(), grid.columns(), q);
        let r = pearson(&rotated, grid.map(index[j]));
        let best = (0..neurons.len())
            .filter(|&m| m != i)
            .max_by(|&a, &b| {
                pearson(&rotated, grid.map(index[a]))
                    .total_cmp(&pearson(&rotated, grid.map(index[b])))
            })
            .expect("a partner exists");
        if best == j {
            p.best_matches += 1;
        }
        p.gaps.push(gap);
        if p.worst.is_none_or(|w| r < w.0) {
            p.worst = Some((r, ch, neurons[j].0));
        }
        p.rs.push(r);
    }
    p
}

fn rot90_permutation(f: &TunedFamily<'_>, c: &Equivariance, thr: &str) -> Measured {
    let step = c.sweep.orientation_step_deg;
    let q = (90.0 / step).round() as usize;
    let tolerance = c.partner_tolerance_deg.unwrap_or(20.0);
    let p = match_partners(f, q, tolerance, c.sweep.period());
    if p.rs.is_empty() {
        return Ok(Outcome {
            status: Status::Fail,
            measured: None,
            unit: "r".into(),
            threshold: thr.into(),
            detail: format!(
                "no neuron of the family has a partner within {tolerance}° of its orientation + 90°"
            ),
        });
    }
    let med = median(&p.rs);
    let mut detail = format!(
        "{} neurons with a partner within {tolerance}° of θ + 90° (median {:.1}° off): median r {med:.3}; the partner is the best match among the family for {} of them",
        p.rs.len(),
        median(&p.gaps),
        p.best_matches
    );
    if let Some((r, a, b)) = p.worst {
        detail.push_str(&format!("; lowest r {r:.3} ({a} → {b})"));
    }
    if !p.excluded.is_empty() {
        detail.push_str(&format!(
            "; left out (no partner): {}",
            p.excluded
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Outcome::judged(
        med >= c.min_r.expect("validated"),
        med,
        "r",
        thr,
        detail,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_gap_wraps_around_the_period() {
        let sorted = [(10.0, 1), (100.0, 2), (220.0, 3), (300.0, 4)];
        assert_eq!(largest_gap(&sorted, 360.0), (120.0, (100.0, 2), (220.0, 3)));
        // The gap from the last orientation back to the first counts too.
        let sorted = [(30.0, 7), (60.0, 8), (90.0, 9)];
        assert_eq!(largest_gap(&sorted, 180.0), (120.0, (90.0, 9), (30.0, 7)));
    }

    #[test]
    fn population_peaks_decode_the_weighted_orientation() {
        // Two neurons preferring 0° and 90° over a 360° period.
        let thetas = [0.0, 90.0];
        let curves = vec![vec![1.0, 1.0, 0.0], vec![0.0, 1.0, 1.0]];
        let peaks = population_peaks(&thetas, &curves, 360.0).unwrap();
        assert_eq!(peaks.len(), 3);
        assert!((peaks[0] - 0.0).abs() < 1e-9, "{peaks:?}");
        assert!((peaks[1] - 45.0).abs() < 1e-9, "{peaks:?}");
        assert!((peaks[2] - 90.0).abs() < 1e-9, "{peaks:?}");
        // An axial period (180°) doubles the angles: 0° and 90° are opposite directions.
        let peaks = population_peaks(&[0.0, 45.0], &[vec![1.0], vec![1.0]], 180.0).unwrap();
        assert!((peaks[0] - 22.5).abs() < 1e-9, "{peaks:?}");
        // No response at the second stimulus: undefined there.
        let silent = vec![vec![1.0, 0.0], vec![0.0, 0.0]];
        assert_eq!(population_peaks(&thetas, &silent, 360.0), Err(1));
    }

    #[test]
    fn peak_shifts_wrap_and_their_error_is_the_rms_from_the_step() {
        assert_eq!(wrap(350.0, 360.0), -10.0);
        assert_eq!(wrap(180.0, 360.0), 180.0);
        assert_eq!(wrap(-100.0, 180.0), 80.0);
        let decoded = [0.0, 10.0, 25.0, 350.0];
        let shifts = peak_shifts(&decoded, 360.0);
        assert_eq!(shifts, vec![10.0, 15.0, -35.0, 10.0]);
        let rms = rms_error(&[10.0, 20.0], 15.0);
        assert!((rms - 5.0).abs() < 1e-12, "{rms}");
        let offset = mean_offset(&[5.0, 95.0, 185.0], &[0.0, 90.0, 180.0], 360.0);
        assert!((offset - 5.0).abs() < 1e-9, "{offset}");
        let offset = mean_offset(&[355.0], &[0.0], 360.0);
        assert!((offset + 5.0).abs() < 1e-9, "{offset}");
    }

    #[test]
    fn a_rotated_map_reads_the_stimulus_steps_before() {
        // 2 rows × 4 orientations.
        let map = [0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0];
        assert_eq!(
            rotated_map(&map, 2, 4, 1),
            vec![3.0, 0.0, 1.0, 2.0, 13.0, 10.0, 11.0, 12.0]
        );
        assert_eq!(rotated_map(&map, 2, 4, 4), map.to_vec());
    }

    #[test]
    fn the_partner_is_the_nearest_other_neuron() {
        let neurons = [(1, 0.0), (2, 85.0), (3, 100.0), (4, 350.0)];
        assert_eq!(nearest_partner(&neurons, 0, 90.0, 360.0), Some((1, 5.0)));
        // Never the neuron itself, and distances wrap around the period.
        assert_eq!(nearest_partner(&neurons, 1, 0.0, 360.0), Some((0, 0.0)));
        assert_eq!(nearest_partner(&neurons, 0, 0.0, 360.0), Some((3, 10.0)));
        assert_eq!(nearest_partner(&neurons[..1], 0, 90.0, 360.0), None);
    }
}
