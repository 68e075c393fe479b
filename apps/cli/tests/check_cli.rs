//! `aann check` end to end: a deliberately broken circuit fails with a clear message and a
//! non-zero exit code; claims whose weights are absent are skipped, never passed.
use std::path::{Path, PathBuf};
use std::process::Command;

use aann_model::Family;
use aann_testkit::{shared_data, test_cache};

/// The repository's root (this crate lives in `apps/cli`).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn aann(args: &[&str]) -> (bool, String, String) {
    let (code, stdout, stderr) = aann_code(args);
    (code == Some(0), stdout, stderr)
}

/// `aann ARGS`, with its exit code.
fn aann_code(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_aann"))
        .args(args)
        .current_dir(repo())
        .arg("--data-root")
        .arg(shared_data())
        .arg("--cache-dir")
        .arg(test_cache())
        .arg("--quiet")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The shipped BVLC hypotheses, run against a copy of the curve family whose orientations
/// are shuffled: the circuit then stands each natural neuron in with the wrong unit.
fn broken_copy(dir: &Path) -> PathBuf {
    let mut family = Family::load(&repo().join("circuits/families/bvlc/curves-3b.toml")).unwrap();
    let n = family.neurons.len();
    let orientations: Vec<Option<f64>> = family.neurons.iter().map(|x| x.orientation_deg).collect();
    for (i, neuron) in family.neurons.iter_mut().enumerate() {
        neuron.orientation_deg = orientations[(i + n / 2) % n];
    }
    let curves = dir.join("curves-3b-shuffled.toml");
    family.save(&curves).unwrap();
    aann_testkit::bvlc_claims_with_curves(&repo(), &curves, &dir.join("bvlc-broken.toml"))
}

#[test]
fn a_circuit_with_shuffled_orientations_fails_aann_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = broken_copy(dir.path());
    let json = dir.path().join("report.json");
    let name = "upstream circuit tracks the natural bvlc curves";
    let (ok, stdout, stderr) = aann(&[
        "check",
        file.to_str().unwrap(),
        "--only",
        name,
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(!ok, "aann check must fail:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("FAIL  {name}")) && stdout.contains("median r"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 of 1 claims failed") && stderr.contains(name),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["failed"], 1);
    let claim = &report["files"][0]["claims"][0];
    assert_eq!(claim["status"], "fail");
    assert!(claim["measured"].as_f64().unwrap() < 0.5, "{claim}");
}

#[test]
fn lucid_claims_without_the_trained_weights_are_skipped_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let fixture = shared_data().join("inception5h-fixture/inception5h-random.pth");
    let args = [
        "check",
        "eval/hypotheses/lucid.toml",
        "--weights",
        fixture.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    // Nothing was checked: a gate that ran nothing does not show green.
    let (code, stdout, stderr) = aann_code(&args);
    assert_eq!(
        code,
        Some(i32::from(aann_cli::EXIT_NOTHING_CHECKED)),
        "{stdout}\n{stderr}"
    );
    assert!(stderr.contains("nothing was checked"), "{stderr}");
    // Asked to accept skips, it exits 0, and still passes nothing.
    let mut allowed = args.to_vec();
    allowed.push("--allow-skips");
    let (ok, stdout, stderr) = aann(&allowed);
    assert!(ok, "skips accepted:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("SKIP") && stdout.contains("random weights fixture"),
        "{stdout}"
    );
    assert!(!stdout.contains("PASS"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["passed"], 0);
    assert_eq!(report["failed"], 0);
    assert!(report["skipped"].as_u64().unwrap() >= 8);
    assert_eq!(report["files"][0]["claims"][0]["status"], "skipped");
}

#[test]
fn unknown_claim_names_and_bad_files_are_errors() {
    let (ok, _, stderr) = aann(&["check", "eval/hypotheses/bvlc.toml", "--only", "nope"]);
    assert!(
        !ok && stderr.contains("no claim is named `nope`"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "model = \"bvlc\"\n[[claim]]\nname = \"c\"\nkind = \"tiling\"\nfamily = \"x.toml\"\nmax_gap = 3\n",
    )
    .unwrap();
    let (ok, _, stderr) = aann(&["check", bad.to_str().unwrap()]);
    assert!(
        !ok && stderr.contains("bad.toml")
            && stderr.contains("claim `c`")
            && stderr.contains("max_gap"),
        "{stderr}"
    );
}
