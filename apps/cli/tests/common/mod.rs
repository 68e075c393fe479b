//! What the command line's end-to-end tests share: running `aann` from the repository root
//! on the shared data, and the small run of an experiment spec whose numbers they pin.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aann_testkit::{shared_data, test_cache};

/// The repository's root (this crate lives in `apps/cli`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `aann ARGS` from the repository root, with the shared data and a cache folder that
/// persists across the tests of one run (weights are converted once).
pub fn aann(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aann"))
        .args(args)
        .current_dir(repo())
        .env("AANN_DATA", shared_data())
        .env("AANN_CACHE", test_cache())
        .output()
        .expect("the aann binary runs")
}

pub fn run_args(args: &[String]) -> Output {
    aann(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A small run of `spec`: 24 test and dev images, 16 calibration images, small tuning
/// sweeps (no null settings: the spec may have no nulls).
pub fn small_spec_run(spec: &str, out: &Path) -> Vec<String> {
    [
        "experiment",
        spec,
        "--limit",
        "24",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "run.calibration_images=16",
        "--set",
        "run.batch_size=8",
        "--set",
        "dev.limit=24",
        "--set",
        "run.tuning_orientations=8",
        "--set",
        "run.tuning_radii=[40.0]",
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub fn summary_of(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// Run `args` (an experiment), which must succeed, and read its summary.
pub fn run_summary(args: &[String]) -> serde_json::Value {
    let run = run_args(args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = args
        .iter()
        .position(|a| a == "--out")
        .map(|i| PathBuf::from(&args[i + 1]))
        .expect("the run names its --out");
    summary_of(&out)
}

/// The point estimate of `field` (`cross_entropy`, `kl_from_baseline`, …) of condition
/// `name` in a summary.
pub fn condition(summary: &serde_json::Value, name: &str, field: &str) -> f64 {
    summary["summary"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["condition"] == name)
        .unwrap_or_else(|| panic!("no condition {name}"))[field]["point"]
        .as_f64()
        .unwrap()
}
