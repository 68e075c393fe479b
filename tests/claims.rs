//! Claims as regression tests: a claim file checked from Rust, failing with every claim
//! that stopped holding. Copy this file into a project of your own and point it at your
//! claims (`aann check FILE --details` prints what each measured).

use std::path::{Path, PathBuf};

use aann::eval::circuits::CircuitRegistry;
use aann::eval::hypotheses::{CheckOptions, HypothesisFile, check_path};
use aann_testkit::{shared_data, test_cache};

#[allow(dead_code)]
#[path = "../examples/my_circuit.rs"]
mod my_circuit;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn options(only: &[&str]) -> CheckOptions {
    CheckOptions {
        data_root: Some(shared_data()),
        cache_dir: Some(test_cache()),
        tags: vec!["cheap".into()],
        only: only.iter().map(|s| s.to_string()).collect(),
        ..CheckOptions::default()
    }
}

/// A slice of the shipped BVLC claims: a neuron's preferred curve, a weight motif, and the
/// upstream circuit tracking the natural curves on a sweep.
const SLICE: [&str; 3] = [
    "bvlc 3b:358 prefers curves bulging right",
    "bvlc opposite early curves inhibit the curves",
    "upstream circuit tracks the natural bvlc curves",
];

#[test]
fn the_shipped_bvlc_claims_still_hold() {
    let report = check_path(&repo().join("eval/hypotheses/bvlc.toml"), &options(&SLICE)).unwrap();
    assert_eq!(report.claims.len(), SLICE.len());
    report.assert_holds();
}

/// The helper fails, and says why: a claim moved to where the neuron does not point.
#[test]
fn a_claim_that_stops_holding_fails_the_test_with_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("eval/hypotheses/bvlc.toml")).unwrap();
    assert!(text.contains("expected_deg = 0.8\n"));
    let moved = dir.path().join("moved.toml");
    std::fs::write(
        &moved,
        text.replace("expected_deg = 0.8\n", "expected_deg = 90.8\n"),
    )
    .unwrap();
    // Family paths resolve against the repository (the working directory of the test).
    let report = check_path(&moved, &options(&SLICE[..1])).unwrap();
    let panic = std::panic::catch_unwind(|| report.assert_holds()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("1 of 1 claims do not hold")
            && message.contains("FAIL `bvlc 3b:358 prefers curves bulging right`")
            && message.contains("90.8"),
        "{message}"
    );
}

/// A claim may name a user's circuit once its registry is the check's.
#[test]
fn claims_name_registered_circuits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    let curves = repo().join("circuits/families/bvlc/curves-3b.toml");
    std::fs::write(
        &path,
        format!(
            "model = \"bvlc\"\n[[claim]]\nname = \"mine\"\nkind = \"circuit_correlation\"\ncircuit = \"my-curves\"\nfamily = \"{}\"\nmin_r = 0.5\n",
            curves.display()
        ),
    )
    .unwrap();
    let err = HypothesisFile::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("unknown circuit `my-curves`: expected one of pixels, pixels-colour"),
        "{err}"
    );
    let registry = CircuitRegistry::shipped().register(my_circuit::my_curves());
    let file = HypothesisFile::load_with(&path, &registry).unwrap();
    assert_eq!(file.claims.len(), 1);
    assert!(Path::new(&file.path).exists());
}

/// A regression test that selects nothing would pass without checking anything: it is an
/// error instead, as is a claim name the file does not have.
#[test]
fn a_selection_of_no_claim_is_an_error_not_a_pass() {
    let file = repo().join("eval/hypotheses/bvlc.toml");
    let nothing = CheckOptions {
        tags: vec!["no-such-tag".into()],
        ..options(&[])
    };
    let err = check_path(&file, &nothing).unwrap_err().to_string();
    assert!(
        err.contains("no claim of") && err.contains("bvlc.toml"),
        "{err}"
    );
    let err = check_path(&file, &options(&["nope"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no claim is named `nope`"), "{err}");
}
