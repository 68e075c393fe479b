//! End-to-end tests of the `aann` command line on the shared data (../shared/data, or
//! $AANN_DATA): what a user types, what they get back, and the errors bad input gives.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data_root() -> PathBuf {
    std::env::var_os("AANN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// `aann ARGS` from the repository root, with the shared data and a cache folder that
/// persists across the tests of one run (weights are converted once).
fn aann(args: &[&str]) -> Output {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aann-cache");
    Command::new(env!("CARGO_BIN_EXE_aann"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AANN_DATA", data_root())
        .env(
            "AANN_CACHE",
            std::env::var_os("AANN_CACHE").unwrap_or(cache.into_os_string()),
        )
        .output()
        .expect("the aann binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn classify_names_the_espresso_in_caffes_sample_image() {
    let image = data_root().join("googlenet-bvlc/sample_input.jpg");
    let o = aann(&["classify", "--model", "bvlc", image.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let first = out
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap_or_else(|| panic!("no class line in:\n{out}"));
    assert!(first.contains("espresso"), "top class: {first}\n{out}");
}

#[test]
fn a_corrupt_jpeg_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.jpg");
    std::fs::write(&bad, b"\xff\xd8\xff\xe0 this is not a JPEG").unwrap();
    let o = aann(&["classify", "--model", "bvlc", bad.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "a corrupt image must fail:\n{out}");
    assert!(
        err.contains("broken.jpg"),
        "the error names the file: {err}"
    );
}

#[test]
fn an_unknown_tap_is_refused_with_the_models_vocabulary() {
    let image = data_root().join("googlenet-bvlc/sample_input.jpg");
    let out_file = tempfile::tempdir().unwrap().path().join("a.npy");
    let o = aann(&[
        "activations",
        "--model",
        "bvlc",
        "--layer",
        "inception_3z_output",
        "--out",
        out_file.to_str().unwrap(),
        image.to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("inception_3z_output"),
        "the error names the tap: {err}"
    );
}

#[test]
fn an_out_of_range_channel_is_refused() {
    let o = aann(&[
        "ablate",
        "--model",
        "bvlc",
        "--data",
        data_root().join("imagenet-sample").to_str().unwrap(),
        "--tap",
        "inception_3b_output",
        "--channels",
        "470..490",
        "--limit",
        "2",
        "--out",
        tempfile::tempdir().unwrap().path().to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        err.contains("480") && err.contains("inception_3b_output"),
        "the error says the tap has 480 channels: {err}"
    );
}

#[test]
fn weights_of_the_wrong_model_are_refused() {
    let lucid = data_root().join("inception5h-fixture/inception5h-random.pth");
    let image = data_root().join("googlenet-bvlc/sample_input.jpg");
    let o = aann(&[
        "classify",
        "--model",
        "bvlc",
        "--weights",
        lucid.to_str().unwrap(),
        image.to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("inception5h-random.pth"), "{err}");
}

/// The main job on a small slice: every condition, the statistics, the report, resuming,
/// and the error analysis. (The full run is README's first command.)
#[test]
fn the_curves_experiment_runs_resumes_and_explains_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let args = [
        "experiment",
        "eval/experiments/curves-bvlc.toml",
        "--limit",
        "6",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "run.calibration_images=8",
        "--set",
        "run.batch_size=6",
        "--set",
        "null.sets=2",
        "--set",
        "null.images=4",
        "--set",
        "statistics.resamples=2000",
        "--set",
        "run.tuning_orientations=8",
        "--set",
        "run.tuning_radii=[40.0]",
        "--quiet",
    ];
    let o = aann(&args);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{stdout}\n{err}");
    for f in [
        "records.jsonl",
        "summary.json",
        "summary.md",
        "report.html",
        "spec.resolved.toml",
    ] {
        assert!(out.join(f).is_file(), "{f} is written");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let conditions: Vec<&str> = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c[0].as_str()
                .expect("conditions are [name, description] pairs")
        })
        .collect();
    assert!(conditions.contains(&"baseline") && conditions.contains(&"zero-ablate"));
    let records = std::fs::read_to_string(out.join("records.jsonl")).unwrap();
    let n = records.lines().count();
    assert_eq!(
        n,
        6 * conditions.len(),
        "one record per image and condition"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("src=\"http"));

    // Running again resumes: nothing is recomputed or counted twice.
    let o = aann(&args);
    assert!(o.status.success(), "{}", text(&o).1);
    let again = std::fs::read_to_string(out.join("records.jsonl")).unwrap();
    assert_eq!(again.lines().count(), n);

    // The error analysis of the first circuit.
    let o = aann(&["errors", out.to_str().unwrap(), "--top", "3", "--quiet"]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{stdout}\n{err}");
    assert!(stdout.contains("## Neurons") && stdout.contains("worst neurons"));
    let bad = aann(&[
        "errors",
        out.to_str().unwrap(),
        "--condition",
        "replace-nothing",
    ]);
    assert!(!bad.status.success());
    assert!(text(&bad).1.contains("replace-nothing"));
}

/// The Lucid experiment (published indices) runs end to end on the random-weight fixture.
#[test]
fn the_lucid_experiment_runs_on_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lucid");
    let weights = data_root().join("inception5h-fixture/inception5h-random.pth");
    let o = aann(&[
        "experiment",
        "eval/experiments/curves-lucid.toml",
        "--set",
        &format!("weights=\"{}\"", weights.display()),
        "--limit",
        "4",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "run.calibration_images=4",
        "--set",
        "run.batch_size=4",
        "--set",
        "null.sets=0",
        "--set",
        "statistics.resamples=2000",
        "--set",
        "run.tuning_orientations=8",
        "--set",
        "run.tuning_radii=[40.0]",
        "--quiet",
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{stdout}\n{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let conditions: Vec<(&str, &str)> = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap(), c[1].as_str().unwrap()))
        .collect();
    // Baseline, zero- and mean-ablation and the four circuits, all editing the ten
    // published curve detectors at mixed3b (3b:379 among them).
    assert_eq!(conditions.len(), 7, "{conditions:?}");
    for (name, what) in &conditions[1..] {
        assert!(
            what.contains("mixed3b channels") && what.contains("379"),
            "{name}: {what}"
        );
    }
    let records = std::fs::read_to_string(out.join("records.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 4 * conditions.len());
    // Every circuit was calibrated and compared on stimuli.
    assert_eq!(summary["circuits"].as_array().unwrap().len(), 4);
    assert_eq!(summary["test"]["images"], 4);
}

/// Every shipped family file parses, names a tap of its model, and stays within the tap's
/// channels.
#[test]
fn every_shipped_family_file_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits/families");
    let mut seen = 0;
    for model in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(model.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let family = aann::model::Family::load(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let tap = family
                .tap()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let width = tap.channels(family.model);
            assert!(!family.neurons.is_empty(), "{} is empty", path.display());
            for n in &family.neurons {
                assert!(
                    n.channel < width,
                    "{}: channel {} of a {width}-channel tap",
                    path.display(),
                    n.channel
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 9, "found only {seen} family files");
}
