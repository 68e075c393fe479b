//! `aann patch` end to end: a clean image's activations patched into a corrupted image's
//! run. Every channel of a main-path tap carries everything downstream needs, so patching
//! one restores the clean answer exactly; a single branch of a block does not.
use std::path::PathBuf;
use std::process::Command;

use aann_testkit::{shared_data, test_cache};

fn aann(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_aann"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .arg("--data-root")
        .arg(shared_data())
        .arg("--cache-dir")
        .arg(test_cache())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `aann patch` of Caffe's espresso sample into a canoe, with `extra` arguments.
fn patch(extra: &[&str]) -> (bool, String, String) {
    let data = shared_data();
    let clean = data.join("googlenet-bvlc/sample_input.jpg");
    let corrupted = data.join("imagenet-val/images/ILSVRC2012_val_00000347.JPEG");
    let mut args = vec![
        "patch",
        "--model",
        "bvlc",
        "--clean",
        clean.to_str().unwrap(),
        "--corrupted",
        corrupted.to_str().unwrap(),
    ];
    args.extend(extra);
    aann(&args)
}

#[test]
fn patching_a_whole_tap_restores_the_clean_answer_and_one_branch_only_part() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("patch.json");
    let (ok, stdout, stderr) = patch(&[
        "--taps",
        "conv2_3x3,inception_4a_output,inception_4a_1x1,pool5_7x7_s1",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("espresso"), "the clean answer: {stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let (clean_d, corrupted_d) = (
        report["clean_difference"].as_f64().unwrap(),
        report["corrupted_difference"].as_f64().unwrap(),
    );
    assert!(clean_d - corrupted_d > 1.0, "{report}");
    let rows = report["rows"].as_array().unwrap();
    let restored = |tap: &str| {
        rows.iter().find(|r| r["tap"] == tap).unwrap()["restored"]
            .as_f64()
            .unwrap()
    };
    for tap in ["conv2_3x3", "inception_4a_output", "pool5_7x7_s1"] {
        assert!((restored(tap) - 1.0).abs() < 1e-4, "{tap}: {report}");
    }
    let branch = restored("inception_4a_1x1");
    assert!(
        branch < 0.99,
        "one branch of four restores only part: {branch}"
    );
    assert_eq!(
        rows.iter()
            .find(|r| r["tap"] == "inception_4a_1x1")
            .unwrap()["channels"],
        192
    );
}

#[test]
fn patching_a_channel_the_tap_lacks_is_refused_by_name() {
    let (ok, stdout, stderr) = patch(&["--taps", "conv2_3x3", "--channels", "9999"]);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("channel 9999") && stderr.contains("conv2_3x3"),
        "{stderr}"
    );
}
