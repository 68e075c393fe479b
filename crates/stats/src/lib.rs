//! Paired statistics for ablation and replacement experiments: Wilson,
//! McNemar, bootstrap fraction recovered, random-channel nulls.
//!
//! Every condition (baseline, zero-ablation, mean-ablation, replacement,
//! random-channel null sets, …) is evaluated on the **same** images, so all
//! comparisons are paired by image. Every result type serialises with serde
//! and carries its point estimate, interval bounds, level and method name.
//!
//! # What is computed, and how
//!
//! | quantity | method | function |
//! |---|---|---|
//! | accuracy of one condition | Wilson score interval (Wilson 1927; Newcombe 1998a) | [`wilson_interval`], [`proportion_with_ci`] |
//! | mean loss of one condition | Student t interval | [`mean_with_ci`] |
//! | accuracy difference `b − a` | Newcombe (1998b) paired hybrid score interval | [`compare_binary`], [`paired_difference_interval`] |
//! | test of equal accuracy | exact conditional McNemar (binomial on discordant pairs), plus mid-p | [`mcnemar_exact`] |
//! | loss difference `b − a` | paired Student t interval and test | [`compare_means`] |
//! | fraction recovered, any function of means | paired bootstrap over images, BCa (default) or percentile | [`PairedBootstrap`] |
//! | random-channel null | seeded uniform subsets; Monte Carlo p-value `(1+b)/(k+1)` | [`random_channel_sets`], [`empirical_p_value`] |
//!
//! References: Wilson (1927) JASA 22:209. Newcombe (1998a) Stat Med
//! 17:857–872. Newcombe (1998b) Stat Med 17:2635–2650. Fagerland, Lydersen &
//! Laake (2013) BMC Med Res Methodol 13:91 and (2014) Stat Med 33:2850–2875.
//! McNemar (1947) Psychometrika 12:153. Efron (1987) JASA 82:171–185. Efron &
//! Tibshirani (1993) *An Introduction to the Bootstrap*. Davison & Hinkley
//! (1997) *Bootstrap Methods and their Application*. Phipson & Smyth (2010)
//! Stat Appl Genet Mol Biol 9:39.
//!
//! # Typical use
//!
//! ```
//! use aann_stats::{BootstrapConfig, ConditionOutcomes, Metric, PairedBootstrap, compare_conditions};
//!
//! # fn main() -> Result<(), aann_stats::StatsError> {
//! let n = 200;
//! let condition = |name: &str, top1_every: usize, loss: f64| {
//!     let top1: Vec<bool> = (0..n).map(|i| i % top1_every != 0).collect();
//!     let ce: Vec<f64> = (0..n).map(|i| loss + 0.01 * (i % 7) as f64).collect();
//!     ConditionOutcomes::new(name, top1.clone(), top1, ce, None)
//! };
//! let baseline = condition("baseline", 3, 1.0)?;
//! let ablated = condition("zero_ablate", 2, 1.6)?;
//! let replaced = condition("circuit", 2, 1.2)?;
//!
//! // Paired analytic comparison: Newcombe interval + exact McNemar, paired t for the loss.
//! let comparison = compare_conditions(&baseline, &ablated, 0.95)?;
//! assert!(comparison.cross_entropy.difference.point > 0.0);
//!
//! // One bootstrap pass for every condition and metric, then any fraction.
//! let boot = PairedBootstrap::from_conditions(&[baseline, ablated, replaced], BootstrapConfig::default())?;
//! let recovered = boot.fraction_recovered(Metric::CrossEntropy, "circuit", "zero_ablate", "baseline")?;
//! let fraction = recovered.fraction.expect("the ablation clearly hurts the loss");
//! assert!((fraction.point - 4.0 / 6.0).abs() < 1e-9);
//! # Ok(())
//! # }
//! ```

mod binary;
mod bootstrap;
mod error;
mod estimate;
mod mean;
mod multiplicity;
mod null;
mod outcomes;
mod proportion;
mod rng;

pub use binary::{
    BinaryComparison, McNemarTest, PairedTable, compare_binary, mcnemar_exact,
    paired_difference_interval,
};
pub use bootstrap::{
    BootstrapConfig, BootstrapInterval, ColumnKey, FractionRecovered, FractionStatus,
    MIN_RESAMPLES, PairedBootstrap,
};
pub use error::{Result, StatsError};
pub use estimate::{Estimate, Interval, IntervalMethod};
pub use mean::{
    Equivalence, MeanComparison, compare_means, equivalence_test, mean_with_ci,
    nonnegative_mean_with_ci,
};
pub use multiplicity::holm_adjust;
pub use null::{
    Alternative, NullComparison, empirical_p_value, matched_channel_sets, random_channel_sets,
};
pub use outcomes::{
    ConditionComparison, ConditionOutcomes, ConditionSummary, Metric, compare_conditions,
    summarize_condition,
};
pub use proportion::{proportion_with_ci, wilson_interval};
