//! Timing of the paired bootstrap at ImageNet-validation scale:
//! 50,000 images × 4 conditions × 3 metrics (top-1, top-5, cross-entropy)
//! × 2,000 resamples, then every fraction recovered derived from it.
//!
//! Run with `cargo bench -p aann-stats` (release profile). Prints timings; no
//! assertions (timing depends on the machine and its load).

use std::time::Instant;

use aann_stats::{BootstrapConfig, ConditionOutcomes, Metric, PairedBootstrap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn synthetic_condition(
    name: &str,
    n: usize,
    accuracy: f64,
    loss: f64,
    seed: u64,
) -> ConditionOutcomes {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut top1 = Vec::with_capacity(n);
    let mut top5 = Vec::with_capacity(n);
    let mut cross_entropy = Vec::with_capacity(n);
    for _ in 0..n {
        let correct1 = rng.random::<f64>() < accuracy;
        top1.push(correct1);
        top5.push(correct1 || rng.random::<f64>() < 0.6);
        cross_entropy.push(-loss * (1.0 - rng.random::<f64>()).ln());
    }
    ConditionOutcomes::new(name, top1, top5, cross_entropy, None).expect("valid synthetic outcomes")
}

fn main() {
    let n = 50_000;
    let conditions = vec![
        synthetic_condition("baseline", n, 0.70, 1.2, 1),
        synthetic_condition("zero_ablate", n, 0.55, 1.9, 2),
        synthetic_condition("mean_ablate", n, 0.62, 1.5, 3),
        synthetic_condition("circuit", n, 0.66, 1.4, 4),
    ];
    let config = BootstrapConfig::default();
    println!(
        "paired bootstrap: {n} images x {} conditions x 3 metrics x {} resamples, {} rayon threads",
        conditions.len(),
        config.resamples,
        rayon::current_num_threads()
    );
    for run in 0..3 {
        let start = Instant::now();
        let boot = PairedBootstrap::from_conditions(&conditions, config).expect("bootstrap");
        let resampled = start.elapsed();
        let start = Instant::now();
        let mut fractions = 0;
        for metric in [
            Metric::CrossEntropy,
            Metric::Top1Accuracy,
            Metric::Top5Accuracy,
        ] {
            for ablation in ["zero_ablate", "mean_ablate"] {
                boot.fraction_recovered(metric, "circuit", ablation, "baseline")
                    .expect("fraction");
                fractions += 1;
            }
        }
        println!(
            "run {run}: resampling {:.3} s; {fractions} BCa fractions recovered {:.3} s",
            resampled.as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
    }
}
