//! Property tests: invariants that must hold for every input.

use aann_stats::{
    Alternative, BootstrapConfig, ColumnKey, Metric, PairedBootstrap, compare_binary,
    compare_means, empirical_p_value, mcnemar_exact, random_channel_sets, wilson_interval,
};
use proptest::prelude::*;

fn level() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.95), Just(0.9), Just(0.99), 0.5f64..0.999]
}

proptest! {
    #[test]
    fn wilson_is_inside_unit_interval_contains_estimate_and_widens_with_level(
        (n, k) in (1u64..5000).prop_flat_map(|n| (Just(n), 0..=n)),
        level in level(),
    ) {
        let ci = wilson_interval(k, n, level).unwrap();
        let p = k as f64 / n as f64;
        prop_assert!(0.0 <= ci.lo && ci.lo <= p + 1e-12 && p <= ci.hi + 1e-12 && ci.hi <= 1.0);
        let wider = wilson_interval(k, n, (level + 1.0) / 2.0).unwrap();
        prop_assert!(wider.lo <= ci.lo + 1e-12 && ci.hi <= wider.hi + 1e-12);
        // Symmetry: failures mirror successes.
        let mirrored = wilson_interval(n - k, n, level).unwrap();
        prop_assert!((mirrored.lo - (1.0 - ci.hi)).abs() < 1e-12);
    }

    #[test]
    fn paired_binary_comparison_is_consistent_and_antisymmetric(
        pairs in prop::collection::vec((any::<bool>(), any::<bool>()), 1..400),
        level in level(),
    ) {
        let a: Vec<bool> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<bool> = pairs.iter().map(|p| p.1).collect();
        let ab = compare_binary(&a, &b, level).unwrap();
        let ba = compare_binary(&b, &a, level).unwrap();
        let d = ab.difference;
        prop_assert!(-1.0 <= d.ci.lo && d.ci.lo <= d.point + 1e-12);
        prop_assert!(d.point <= d.ci.hi + 1e-12 && d.ci.hi <= 1.0);
        prop_assert!((d.point - (ab.proportion_b.point - ab.proportion_a.point)).abs() < 1e-12);
        prop_assert!((ba.difference.point + d.point).abs() < 1e-12);
        prop_assert!((ba.difference.ci.lo + d.ci.hi).abs() < 1e-9);
        prop_assert!((ba.difference.ci.hi + d.ci.lo).abs() < 1e-9);
        prop_assert_eq!(ab.mcnemar.p_value, ba.mcnemar.p_value);
        prop_assert!(0.0 < ab.mcnemar.p_value && ab.mcnemar.p_value <= 1.0);
        prop_assert!(0.0 <= ab.mcnemar.mid_p_value && ab.mcnemar.mid_p_value <= ab.mcnemar.p_value);
        prop_assert_eq!(ab.table.n(), a.len() as u64);
    }

    #[test]
    fn mcnemar_p_value_decreases_as_discordance_grows_more_lopsided(
        total in 1u64..2000,
        step in 0u64..1000,
    ) {
        let k = step.min(total / 2);
        // More extreme split (k − 1 vs total − k + 1) never has a larger p.
        if k >= 1 {
            let less_extreme = mcnemar_exact(k, total - k).p_value;
            let more_extreme = mcnemar_exact(k - 1, total - k + 1).p_value;
            prop_assert!(more_extreme <= less_extreme + 1e-15);
        }
    }

    #[test]
    fn paired_t_interval_contains_the_mean_difference_and_shifts_with_b(
        pairs in prop::collection::vec((-100.0f64..100.0, -100.0f64..100.0), 2..200),
        shift in -10.0f64..10.0,
        level in level(),
    ) {
        let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let comparison = compare_means(&a, &b, level).unwrap();
        let d = comparison.difference;
        prop_assert!(d.ci.lo <= d.point + 1e-9 && d.point <= d.ci.hi + 1e-9);
        let shifted: Vec<f64> = b.iter().map(|x| x + shift).collect();
        let moved = compare_means(&a, &shifted, level).unwrap().difference;
        prop_assert!((moved.point - d.point - shift).abs() < 1e-9);
        prop_assert!((moved.ci.width() - d.ci.width()).abs() < 1e-9);
        if let Some(p) = comparison.p_value {
            prop_assert!((0.0..=1.0).contains(&p));
        }
    }

    #[test]
    fn empirical_p_value_is_never_zero_and_percentile_is_bounded(
        null in prop::collection::vec(-5.0f64..5.0, 1..300),
        observed in -6.0f64..6.0,
    ) {
        for alternative in [Alternative::Greater, Alternative::Less, Alternative::TwoSided] {
            let result = empirical_p_value(observed, &null, alternative).unwrap();
            prop_assert!(result.p_value >= 1.0 / (null.len() + 1) as f64 - 1e-15);
            prop_assert!(result.p_value <= 1.0);
            prop_assert!((0.0..=100.0).contains(&result.percentile));
        }
        let greater = empirical_p_value(observed, &null, Alternative::Greater).unwrap();
        let less = empirical_p_value(observed, &null, Alternative::Less).unwrap();
        // Every draw is >= or <= the observed value (ties in both).
        prop_assert!(greater.as_or_more_extreme + less.as_or_more_extreme >= null.len());
    }

    #[test]
    fn random_channel_sets_have_the_requested_shape(
        n_channels in 1usize..300,
        set_fraction in 0.0f64..1.0,
        k in 1usize..20,
        seed in any::<u64>(),
    ) {
        let set_size = 1 + ((n_channels - 1) as f64 * set_fraction) as usize;
        // Exclude every 7th channel when enough channels remain.
        let exclude: Vec<usize> = if n_channels - n_channels.div_ceil(7) >= set_size {
            (0..n_channels).step_by(7).collect()
        } else {
            Vec::new()
        };
        let sets = random_channel_sets(n_channels, set_size, k, seed, &exclude).unwrap();
        prop_assert_eq!(sets.len(), k);
        for set in sets {
            prop_assert_eq!(set.len(), set_size);
            prop_assert!(set.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(set.iter().all(|&c| c < n_channels && !exclude.contains(&c)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn bootstrap_intervals_are_ordered_and_fraction_point_is_the_ratio(
        rows in prop::collection::vec((0.0f64..3.0, 0.0f64..3.0, 0.0f64..3.0), 2..60),
        seed in any::<u64>(),
    ) {
        let column = |i: usize| rows.iter().map(|r| [r.0, r.1, r.2][i]).collect::<Vec<f64>>();
        let key = |name: &str| ColumnKey { condition: name.to_string(), metric: Metric::CrossEntropy };
        let boot = PairedBootstrap::from_columns(
            vec![(key("B"), column(0)), (key("A"), column(1)), (key("R"), column(2))],
            BootstrapConfig { seed, ..BootstrapConfig::default() },
        ).unwrap();
        let mean = |i: usize| column(i).iter().sum::<f64>() / rows.len() as f64;
        for name in ["B", "A", "R"] {
            let estimate = boot.mean(name, Metric::CrossEntropy).unwrap();
            prop_assert!(estimate.ci.lo <= estimate.ci.hi);
        }
        let result = boot.fraction_recovered(Metric::CrossEntropy, "R", "A", "B").unwrap();
        prop_assert!((result.denominator.point - (mean(0) - mean(1))).abs() < 1e-9);
        match result.fraction {
            Some(fraction) => {
                prop_assert!(!result.denominator.ci.contains(0.0));
                prop_assert!(
                    (fraction.point - (mean(2) - mean(1)) / (mean(0) - mean(1))).abs()
                        < 1e-9 * fraction.point.abs().max(1.0)
                );
                prop_assert!(fraction.ci.lo <= fraction.ci.hi);
            }
            None => prop_assert!(
                result.denominator.ci.contains(0.0) || result.denominator.point == 0.0
            ),
        }
    }
}
