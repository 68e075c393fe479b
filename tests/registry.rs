//! A user's circuit goes through the same runner as a shipped one, number for number: the
//! example's `my-curves`, registered under its own kind, against the shipped `upstream`
//! kind given the very same hand-set numbers (`spec = "…"`), in one experiment on 6 test
//! images. Every loss, fraction, interval and calibration of the two arms is equal.

use std::path::Path;

use aann::eval::circuits::CircuitRegistry;
use aann::eval::experiment::{
    ExperimentOptions, ExperimentOutcome, run_experiment, session_config,
};
use aann::eval::lab::{Session, SessionConfig};
use aann::eval::spec::ExperimentSpec;
use aann_testkit::{shared_data, test_cache};

#[allow(dead_code)]
#[path = "../examples/my_circuit.rs"]
mod my_circuit;

const SPEC: &str = r#"
name = "registry-equivalence"
model = "bvlc"
[tune]
images = "imagenet-val/images"
labels = "imagenet-val/val.txt"
limit = 8
[test]
images = "imagenet-sample"
limit = 6
[target]
family = "circuits/families/bvlc/curves-3b.toml"
[ablations]
zero = true
mean = false
[[circuits]]
kind = "my-curves"
radius = 20.0
echo = 0.7
fit = "moments"
[[circuits]]
kind = "upstream"
name = "shipped"
early_curves = "circuits/families/bvlc/early-curves-3a.toml"
lines = "circuits/families/bvlc/lines-3a.toml"
spec = "NUMBERS"
fit = "moments"
[statistics]
resamples = 2000
[run]
batch_size = 3
out = "OUT"
calibration_images = 8
divergent_images = 2
faithfulness_images = 0
tuning_orientations = 4
tuning_radii = [40.0]
"#;

#[test]
fn a_registered_circuit_gives_the_numbers_of_the_same_shipped_circuit() {
    let dir = tempfile::tempdir().unwrap();
    let numbers = dir.path().join("mine.toml");
    let keys = my_circuit::MyCurves {
        radius: 20.0,
        echo: 0.7,
    };
    std::fs::write(
        &numbers,
        toml::to_string(&my_circuit::my_numbers(&keys)).unwrap(),
    )
    .unwrap();
    let spec_path = dir.path().join("spec.toml");
    let text = SPEC
        .replace("NUMBERS", numbers.to_str().unwrap())
        .replace("OUT", dir.path().join("out").to_str().unwrap());
    std::fs::write(&spec_path, text).unwrap();

    // The shipped registry does not know the kind; ours does.
    let err = ExperimentSpec::load(&spec_path, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown circuit kind `my-curves`"), "{err}");
    let registry = CircuitRegistry::shipped().register(my_circuit::my_curves());
    let spec = ExperimentSpec::load_with(&spec_path, &[], &registry).unwrap();
    let config = SessionConfig {
        data_root: Some(shared_data()),
        cache_dir: Some(test_cache()),
        ..SessionConfig::new(spec.model)
    };
    let session = Session::open(&session_config(&spec, config))
        .unwrap()
        .with_circuits(registry);
    // Run from the repository (family files are relative to it).
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(repo.join("circuits/families").is_dir());
    let outcome =
        run_experiment(&session, &spec_path, &spec, &ExperimentOptions::default()).unwrap();
    let ExperimentOutcome::Complete(result) = outcome else {
        panic!("not a shard")
    };

    let (mine, shipped) = ("replace-my-curves", "replace-shipped");
    let summary = |arm: &str| {
        result
            .summary
            .conditions
            .iter()
            .find(|c| c.condition == arm)
            .unwrap()
            .clone()
    };
    let (a, b) = (summary(mine), summary(shipped));
    assert_eq!(a.n_images, 6);
    assert_eq!(a.cross_entropy.point, b.cross_entropy.point);
    assert_eq!(a.cross_entropy.ci, b.cross_entropy.ci);
    assert_eq!(
        a.kl_from_baseline.as_ref().map(|e| e.point),
        b.kl_from_baseline.as_ref().map(|e| e.point)
    );
    // The circuit changed the network: a real measurement, not two untouched arms.
    assert!(a.kl_from_baseline.as_ref().unwrap().point > 1e-4, "{a:?}");
    let fractions = |arm: &str| -> Vec<_> {
        result
            .fractions
            .iter()
            .filter(|f| f.condition == arm)
            .map(|f| {
                (
                    f.relative_to.clone(),
                    f.metric,
                    f.result.fraction,
                    f.result.numerator,
                )
            })
            .collect()
    };
    let (fa, fb) = (fractions(mine), fractions(shipped));
    // Four metrics against the zero-ablation; on 6 images the KL fraction is defined (the
    // cross-entropy's may not be: its gap's interval can reach 0), every numerator is.
    assert_eq!(fa.len(), 4, "{fa:?}");
    assert!(fa.iter().any(|f| f.2.is_some()), "{fa:?}");
    assert_eq!(fa, fb);
    let calibration = |arm: &str| {
        result
            .calibrations
            .iter()
            .find(|c| c.arm == arm)
            .map(|c| c.calibration.clone())
            .unwrap()
    };
    assert_eq!(calibration(mine), calibration(shipped));
    // The same hand-set numbers in the accounting, the same tuning maps on curve stimuli.
    let circuit = |arm: &str| result.circuits.iter().find(|c| c.condition == arm).unwrap();
    let (ca, cb) = (circuit(mine), circuit(shipped));
    assert_eq!(ca.accounting, cb.accounting);
    assert!(ca.accounting.hand_set_count() > 10, "{:?}", ca.accounting);
    assert_eq!(ca.mapping, cb.mapping);
    assert_eq!(ca.median_tuning_r, cb.median_tuning_r);
    eprintln!(
        "my-curves and shipped upstream, 6 images: CE {:.4} / {:.4}, KL fraction {:?}, median tuning r {:.3}",
        a.cross_entropy.point,
        b.cross_entropy.point,
        fa[1].2.map(|e| e.point),
        ca.median_tuning_r
    );
    // The spec echo names the kind and its own keys, normalised.
    let echo = serde_json::to_value(&result.spec.circuits[0]).unwrap();
    assert_eq!(echo["kind"], "my-curves");
    assert_eq!(echo["radius"], 20.0);
    assert_eq!(echo["echo"], 0.7);
}
