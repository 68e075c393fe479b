//! Regression tests on circuit hypotheses: the shipped BVLC claims hold on the shared data,
//! a circuit with shuffled orientations fails them, bad files are explained, and the Lucid
//! claims are skipped (never passed) without the trained weights.
use std::path::{Path, PathBuf};

use aann_eval::hypotheses::{
    CheckOptions, CheckReport, FileReport, HypothesisFile, Status, check_file,
};
use aann_eval::setup::DataRoot;
use aann_model::{Family, Variant};
use aann_testkit::{shared_data, test_cache};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn options(tags: &[&str], only: &[&str]) -> CheckOptions {
    CheckOptions {
        data_root: Some(shared_data()),
        weights: None,
        cache_dir: Some(test_cache()),
        device: Default::default(),
        only: only.iter().map(|s| s.to_string()).collect(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        progress: false,
        circuits: Default::default(),
    }
}

fn table(report: &FileReport) -> String {
    CheckReport::new(vec![report.clone()]).table(true)
}

/// The shipped BVLC file with every family path made absolute, so that a copy can live
/// outside the repository; `curves-3b.toml` replaced by `curves`.
fn bvlc_file_with_curves(dir: &Path, curves: &Path) -> PathBuf {
    aann_testkit::bvlc_claims_with_curves(&repo(), curves, &dir.join("broken.toml"))
}

/// The BVLC curve family with its orientations shuffled: every neuron gets the orientation
/// of the neuron half the family further round the circle (roughly its opposite).
fn shuffled_curves(dir: &Path) -> PathBuf {
    let mut family = Family::load(&repo().join("circuits/families/bvlc/curves-3b.toml")).unwrap();
    let n = family.neurons.len();
    let orientations: Vec<Option<f64>> = family.neurons.iter().map(|x| x.orientation_deg).collect();
    for (i, neuron) in family.neurons.iter_mut().enumerate() {
        neuron.orientation_deg = orientations[(i + n / 2) % n];
    }
    family.name = "curves (orientations shuffled)".into();
    let path = dir.join("curves-3b-shuffled.toml");
    family.save(&path).unwrap();
    path
}

#[test]
fn every_shipped_family_file_loads() {
    for model in ["bvlc", "lucid"] {
        let dir = repo().join("circuits/families").join(model);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let family = Family::load(&path).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(family.model.name(), model, "{}", path.display());
            }
        }
    }
}

#[test]
fn the_cheap_bvlc_claims_hold_on_the_shared_data() {
    let file = HypothesisFile::load(&repo().join("eval/hypotheses/bvlc.toml")).unwrap();
    let report = check_file(&file, &options(&["cheap"], &[]));
    let kinds: std::collections::BTreeSet<&str> =
        report.claims.iter().map(|c| c.kind.as_str()).collect();
    assert!(
        kinds.len() >= 5 && report.claims.len() >= 10,
        "{}",
        table(&report)
    );
    for c in &report.claims {
        assert_eq!(c.outcome.status, Status::Pass, "{}", table(&report));
        assert!(c.outcome.measured.is_some_and(f64::is_finite), "{}", c.name);
    }
    assert!(report.weights_sha256.is_some());
}

#[test]
fn shuffled_orientations_break_the_orientation_and_weight_claims() {
    let dir = tempfile::tempdir().unwrap();
    let curves = shuffled_curves(dir.path());
    let path = bvlc_file_with_curves(dir.path(), &curves);
    let file = HypothesisFile::load(&path).unwrap();
    let report = check_file(
        &file,
        &options(
            &[],
            &[
                "bvlc 3b curves prefer their family-file orientations",
                "bvlc early curves excite aligned curves more than opposite ones",
            ],
        ),
    );
    assert_eq!(report.claims.len(), 2, "{}", table(&report));
    for c in &report.claims {
        assert_eq!(c.outcome.status, Status::Fail, "{}", table(&report));
    }
    let text = table(&report);
    assert!(
        text.contains("FAIL  bvlc 3b curves prefer their family-file orientations")
            && text.contains("outside: channel"),
        "{text}"
    );
}

fn load_err(dir: &Path, text: &str) -> String {
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let err = HypothesisFile::load(&path).unwrap_err().to_string();
    assert!(err.contains("bad.toml"), "the error names the file: {err}");
    err
}

#[test]
fn bad_hypothesis_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let curves = repo().join("circuits/families/bvlc/curves-3b.toml");
    let curves = curves.display();
    let claim = |body: &str| format!("model = \"bvlc\"\n[[claim]]\nname = \"my claim\"\n{body}\n");
    let po = "kind = \"preferred_orientation\"\ntap = \"inception_3b_output\"\nchannel = 358\nexpected_deg = 0\n";
    for (text, expected) in [
        (
            claim(&format!("{po}tolerence_deg = 15")),
            vec!["my claim", "unknown field `tolerence_deg`", "tolerance_deg"],
        ),
        (
            claim("kind = \"prefered_orientation\""),
            vec![
                "my claim",
                "unknown kind `prefered_orientation`",
                "weight_motif",
            ],
        ),
        (
            claim(&format!(
                "{}tolerance_deg = 15",
                po.replace("inception_3b_output", "mixed3b")
            )),
            vec!["my claim", "unknown tap `mixed3b`", "bvlc"],
        ),
        (
            claim(&format!("{}tolerance_deg = 15", po.replace("358", "480"))),
            vec!["my claim", "channel 480", "480 channels"],
        ),
        (
            claim(
                "kind = \"tiling\"\nfamily = \"circuits/families/bvlc/nope.toml\"\nmax_gap_deg = 60",
            ),
            vec!["my claim", "nope.toml"],
        ),
        (
            claim(&format!(
                "kind = \"equivariance\"\nfamily = \"{curves}\"\nmode = \"peak_shift\""
            )),
            vec!["my claim", "max_error_deg"],
        ),
        (
            claim(&format!(
                "kind = \"equivariance\"\nfamily = \"{curves}\"\nmode = \"rot45\"\nmin_r = 0.5"
            )),
            vec!["my claim", "rot45", "rot90_permutation"],
        ),
        (
            claim(&format!(
                "kind = \"weight_motif\"\nfrom = \"{curves}\"\nto = \"{curves}\"\nmeasure = \"falloff\"\nmin_r = 0.3"
            )),
            vec!["my claim", "inception_3a_output", "one inception block"],
        ),
        (
            "model = \"bvlc\"\n[[claim]]\nkind = \"tiling\"\n".to_string(),
            vec!["claim #1 has no `name`"],
        ),
        (
            format!("modle = \"bvlc\"\n[[claim]]\nname = \"x\"\n{po}tolerance_deg = 1"),
            vec!["unknown field `modle`"],
        ),
        (
            format!(
                "model = \"bvlc\"\n[[claim]]\nname = \"x\"\n{po}tolerance_deg = 1\n[[claim]]\nname = \"x\"\n{po}tolerance_deg = 1"
            ),
            vec!["two claims are named `x`"],
        ),
        ("model = \"bvlc\"\n".to_string(), vec!["no [[claim]]"]),
    ] {
        let err = load_err(dir.path(), &text);
        for e in expected {
            assert!(err.contains(e), "`{e}` missing from: {err}");
        }
    }
}

#[test]
fn lucid_claims_are_skipped_without_the_trained_weights() {
    let file = HypothesisFile::load(&repo().join("eval/hypotheses/lucid.toml")).unwrap();
    assert_eq!(file.model, Variant::Lucid);
    assert!(file.claims.len() >= 8);
    // Weights absent (unless this machine has fetched the real ones).
    if DataRoot::resolve(Some(&shared_data()))
        .default_weights(Variant::Lucid)
        .is_err()
    {
        let report = check_file(&file, &options(&[], &[]));
        assert_eq!(report.claims.len(), file.claims.len());
        for c in &report.claims {
            match &c.outcome.status {
                Status::Skipped { reason } => {
                    assert!(reason.contains("weights absent"), "{reason}");
                    assert!(reason.contains("inception5h"), "{reason}");
                }
                other => panic!("{}: {other:?}", c.name),
            }
        }
    }
    // The random-weights fixture in the real layout: refused, not checked.
    let mut opts = options(&[], &[]);
    opts.weights = Some(shared_data().join("inception5h-fixture/inception5h-random.pth"));
    let report = check_file(&file, &opts);
    for c in &report.claims {
        match &c.outcome.status {
            Status::Skipped { reason } => {
                assert!(reason.contains("random weights fixture"), "{reason}")
            }
            other => panic!("{}: {other:?}", c.name),
        }
    }
    let summary = CheckReport::new(vec![report]);
    assert_eq!((summary.passed, summary.failed), (0, 0));
    assert!(summary.table(false).contains("SKIP"));
}

#[test]
fn lucid_weight_claims_evaluate_on_the_fixture_layout() {
    // The published weight claims are meaningless on random weights, but the machinery
    // (mixed3a → mixed3b through Lucid's 5x5 branch) must run: every claim is measured and
    // judged, none errors.
    let mut file = HypothesisFile::load(&repo().join("eval/hypotheses/lucid.toml")).unwrap();
    file.requires.trained_weights = false;
    let mut opts = options(&["weights"], &[]);
    opts.weights = Some(shared_data().join("inception5h-fixture/inception5h-random.pth"));
    let report = check_file(&file, &opts);
    assert!(report.claims.len() >= 5, "{}", table(&report));
    for c in &report.claims {
        assert!(
            matches!(c.outcome.status, Status::Pass | Status::Fail)
                && c.outcome.measured.is_some_and(f64::is_finite)
                && !c.outcome.detail.contains("could not be evaluated"),
            "{}",
            table(&report)
        );
    }
}

/// The two image claim kinds (`ablation_effect`, `fraction_recovered`) on a small slice,
/// measured through the same runner as `aann experiment`: the ablation's effect on the
/// first 24 test images is the one the experiment's pinned run measures (apps/cli/tests/cli.rs:
/// cross-entropy 0.7378873 → 0.7578290; the claim passes when the interval's lower end,
/// −0.110, clears the threshold), and a fraction whose ablation effect is not
/// distinguishable from 0 fails with that reason rather than passing.
#[test]
fn the_image_claim_kinds_measure_what_the_experiment_measures() {
    let dir = tempfile::tempdir().unwrap();
    let families = repo()
        .join("circuits/families/bvlc")
        .canonicalize()
        .unwrap();
    let curves = families.join("curves-3b.toml");
    let text = format!(
        r#"
model = "bvlc"
[defaults]
batch_size = 8
[[claim]]
name = "zero-ablation on 24 images"
kind = "ablation_effect"
family = {curves:?}
ablation = "zero"
metric = "cross_entropy"
test = {{ images = "imagenet-sample", limit = 24 }}
min_change = -0.5
[[claim]]
name = "upstream fraction on 24 images"
kind = "fraction_recovered"
circuit = "upstream"
family = {curves:?}
early_curves = {early:?}
lines = {lines:?}
fit = "moments"
relative_to = "zero"
metric = "cross_entropy"
tune = {{ images = "imagenet-val/images", limit = 16 }}
test = {{ images = "imagenet-sample", limit = 24 }}
min_lower_bound = 0.5
"#,
        curves = curves.display().to_string(),
        early = families.join("early-curves-3a.toml").display().to_string(),
        lines = families.join("lines-3a.toml").display().to_string(),
    );
    let path = dir.path().join("claims.toml");
    std::fs::write(&path, text).unwrap();
    let file = HypothesisFile::load(&path).unwrap();
    let report = check_file(&file, &options(&[], &[]));
    let effect = &report.claims[0];
    assert_eq!(effect.kind, "ablation_effect");
    let measured = effect.outcome.measured.expect("measured");
    assert!(
        (measured - (0.7578289501770096 - 0.7378873169269234)).abs() < 1e-6,
        "{}",
        table(&report)
    );
    assert_eq!(effect.outcome.status, Status::Pass, "{}", table(&report));
    let fraction = &report.claims[1];
    assert_eq!(fraction.kind, "fraction_recovered");
    assert_eq!(fraction.outcome.status, Status::Fail, "{}", table(&report));
    assert!(
        fraction.outcome.detail.contains("not distinguishable"),
        "{}",
        table(&report)
    );
}
