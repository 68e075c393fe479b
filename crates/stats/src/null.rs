//! Null distributions for ablations: random channel sets of the same size,
//! and where the target set's statistic falls among them.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};
use crate::estimate::check_finite;
use crate::mean::mean_and_sd;
use crate::rng::{Domain, stream_rng};

/// `k` random channel sets of `set_size` distinct channels each, drawn
/// uniformly without replacement from `0..n_channels` minus `exclude`, each
/// returned sorted ascending.
///
/// Set `i` is drawn from its own ChaCha8 stream keyed by `(seed, i)`, so the
/// sets depend only on the arguments (and set `i` does not change when `k`
/// grows). Sets are independent draws: two sets may coincide, which is what a
/// Monte Carlo null over uniformly random subsets requires.
///
/// Whether to pass the target set in `exclude` is a scientific choice: with
/// it, the null is "random sets disjoint from the target"; without it, "random
/// sets of the tap", which can overlap the target.
///
/// Errors: `set_size == 0`, `k == 0`, an `exclude` entry `>= n_channels`, or
/// fewer than `set_size` channels left after exclusion.
pub fn random_channel_sets(
    n_channels: usize,
    set_size: usize,
    k: usize,
    seed: u64,
    exclude: &[usize],
) -> Result<Vec<Vec<usize>>> {
    if set_size == 0 {
        return Err(StatsError::InvalidChannelSets(
            "set_size must be at least 1".to_string(),
        ));
    }
    if k == 0 {
        return Err(StatsError::InvalidChannelSets(
            "the number of sets k must be at least 1".to_string(),
        ));
    }
    if let Some(&bad) = exclude.iter().find(|&&c| c >= n_channels) {
        return Err(StatsError::InvalidChannelSets(format!(
            "excluded channel {bad} is outside 0..{n_channels}"
        )));
    }
    let mut excluded = vec![false; n_channels];
    for &c in exclude {
        excluded[c] = true;
    }
    let available: Vec<usize> = (0..n_channels).filter(|&c| !excluded[c]).collect();
    if available.len() < set_size {
        return Err(StatsError::InvalidChannelSets(format!(
            "cannot draw {set_size} distinct channels from the {} of {n_channels} not excluded",
            available.len()
        )));
    }
    Ok((0..k)
        .map(|i| {
            let mut rng = stream_rng(seed, Domain::ChannelSets, i as u64);
            let mut set: Vec<usize> = rand::seq::index::sample(&mut rng, available.len(), set_size)
                .into_iter()
                .map(|j| available[j])
                .collect();
            set.sort_unstable();
            set
        })
        .collect())
}

/// `k` random channel sets matched to a target set in activation magnitude: for each target
/// channel, one channel drawn uniformly from the `pool` non-target channels whose
/// `magnitudes` (e.g. mean |activation| on the tune split) are nearest to its own, without
/// repeats within a set. A null of such sets asks whether the target is special among
/// channels *as strongly active*, not merely among all channels (weak channels make a
/// flattering null). Sets are sorted; set `i` depends only on `seed` and `i`.
pub fn matched_channel_sets(
    magnitudes: &[f64],
    target: &[usize],
    k: usize,
    pool: usize,
    seed: u64,
) -> Result<Vec<Vec<usize>>> {
    let n = magnitudes.len();
    if target.is_empty() || k == 0 || pool == 0 {
        return Err(StatsError::InvalidChannelSets(
            "matched sets need a target channel, at least one set and a pool of at least 1"
                .to_string(),
        ));
    }
    if let Some(&bad) = target.iter().find(|&&c| c >= n) {
        return Err(StatsError::InvalidChannelSets(format!(
            "target channel {bad} is outside 0..{n}"
        )));
    }
    let others: Vec<usize> = (0..n).filter(|c| !target.contains(c)).collect();
    if others.len() < target.len() + pool {
        return Err(StatsError::InvalidChannelSets(format!(
            "{} non-target channels are too few to match {} channels from pools of {pool}",
            others.len(),
            target.len()
        )));
    }
    // Each target channel's pool: the `pool` other channels nearest in magnitude.
    let pools: Vec<Vec<usize>> = target
        .iter()
        .map(|&t| {
            let mut near = others.clone();
            near.sort_by(|a, b| {
                (magnitudes[*a] - magnitudes[t])
                    .abs()
                    .total_cmp(&(magnitudes[*b] - magnitudes[t]).abs())
                    .then(a.cmp(b))
            });
            near.truncate(pool + target.len());
            near
        })
        .collect();
    Ok((0..k)
        .map(|i| {
            let mut rng = stream_rng(seed, Domain::MatchedSets, i as u64);
            let mut set: Vec<usize> = Vec::with_capacity(target.len());
            for candidates in &pools {
                // Nearest `pool` candidates not already in the set (the pool was widened by
                // the set's size so there are always enough).
                let free: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|c| !set.contains(c))
                    .take(pool)
                    .collect();
                set.push(free[rand::Rng::random_range(&mut rng, 0..free.len())]);
            }
            set.sort_unstable();
            set
        })
        .collect())
}

/// Which deviation from the null counts as extreme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// The observed statistic is larger than under the null (e.g. the target
    /// set's ablation raises the loss more than random sets do).
    Greater,
    /// The observed statistic is smaller than under the null.
    Less,
    /// Either direction: twice the smaller one-sided p-value, capped at 1.
    TwoSided,
}

/// Where an observed statistic falls in a Monte Carlo null distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NullComparison {
    /// The observed statistic (e.g. the target set's loss increase).
    pub observed: f64,
    /// Number of null draws `k`.
    pub null_size: usize,
    /// The alternative tested.
    pub alternative: Alternative,
    /// Null draws at least as extreme as the observed value, in the
    /// direction of the alternative (for two-sided, in the smaller tail).
    pub as_or_more_extreme: usize,
    /// Monte Carlo p-value `(1 + as_or_more_extreme) / (k + 1)`, doubled for
    /// two-sided and capped at 1.
    pub p_value: f64,
    /// Percentile of the observed value in the null, in `[0, 100]`:
    /// `100 · (#{null < obs} + ½ #{null = obs}) / k` (mid-rank for ties).
    pub percentile: f64,
    /// Mean of the null draws.
    pub null_mean: f64,
    /// Standard deviation of the null draws (`n − 1` denominator); `None`
    /// when `k = 1`.
    pub null_sd: Option<f64>,
    /// Smallest null draw.
    pub null_min: f64,
    /// Largest null draw.
    pub null_max: f64,
}

/// Monte Carlo p-value of `observed` against `null` draws, with the
/// `(1 + b)/(k + 1)` correction: counting the observed value as one more draw
/// makes the test exact (size at most α) when the observed statistic is
/// exchangeable with the null draws under H0, and never gives p = 0
/// (Davison & Hinkley 1997, *Bootstrap Methods*, §4.2.1; Phipson & Smyth
/// 2010, Stat Appl Genet Mol Biol 9:39). Ties count as "as extreme".
///
/// Errors: empty or non-finite `null`, or non-finite `observed`.
pub fn empirical_p_value(
    observed: f64,
    null: &[f64],
    alternative: Alternative,
) -> Result<NullComparison> {
    if !observed.is_finite() {
        return Err(StatsError::NonFiniteObserved(observed));
    }
    check_finite(null, "null distribution")?;
    let k = null.len();
    let greater_or_equal = null.iter().filter(|&&v| v >= observed).count();
    let less_or_equal = null.iter().filter(|&&v| v <= observed).count();
    let below = null.iter().filter(|&&v| v < observed).count();
    let ties = less_or_equal - below;
    let one_sided = |count: usize| (1 + count) as f64 / (k + 1) as f64;
    let (as_or_more_extreme, p_value) = match alternative {
        Alternative::Greater => (greater_or_equal, one_sided(greater_or_equal)),
        Alternative::Less => (less_or_equal, one_sided(less_or_equal)),
        Alternative::TwoSided => {
            let count = greater_or_equal.min(less_or_equal);
            (count, (2.0 * one_sided(count)).min(1.0))
        }
    };
    let (null_mean, sd) = mean_and_sd(null);
    Ok(NullComparison {
        observed,
        null_size: k,
        alternative,
        as_or_more_extreme,
        p_value,
        percentile: 100.0 * (below as f64 + 0.5 * ties as f64) / k as f64,
        null_mean,
        null_sd: (k >= 2).then_some(sd),
        null_min: null.iter().copied().fold(f64::INFINITY, f64::min),
        null_max: null.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

#[cfg(test)]
mod matched_tests {
    use super::*;

    #[test]
    fn matched_sets_draw_from_channels_of_similar_magnitude() {
        // Channels 0..100 with magnitude = index; the target is the strong end.
        let magnitudes: Vec<f64> = (0..100).map(f64::from).collect();
        let target = [90, 95, 99];
        let sets = matched_channel_sets(&magnitudes, &target, 50, 5, 7).unwrap();
        assert_eq!(sets.len(), 50);
        for set in &sets {
            assert_eq!(set.len(), 3);
            assert!(set.windows(2).all(|w| w[0] < w[1]), "distinct, sorted");
            assert!(set.iter().all(|c| !target.contains(c)));
            // Every member is near some target channel's magnitude, never a weak channel.
            assert!(set.iter().all(|c| *c >= 82), "{set:?}");
        }
        assert_eq!(
            sets,
            matched_channel_sets(&magnitudes, &target, 50, 5, 7).unwrap()
        );
        assert_ne!(
            sets,
            matched_channel_sets(&magnitudes, &target, 50, 5, 8).unwrap()
        );
        assert!(matched_channel_sets(&magnitudes, &[100], 1, 5, 0).is_err());
    }
}
