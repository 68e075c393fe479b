//! End-to-end tests of the `aann` command line on the shared data (../shared/data, or
//! $AANN_DATA): what a user types, what they get back, and the errors bad input gives.

mod common;

use aann_testkit::shared_data;
use common::{aann, condition, repo, run_args, run_summary, small_spec_run, summary_of};
use std::path::{Path, PathBuf};
use std::process::Output;

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn classify_names_the_espresso_in_caffes_sample_image() {
    let image = shared_data().join("googlenet-bvlc/sample_input.jpg");
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
    let image = shared_data().join("googlenet-bvlc/sample_input.jpg");
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
        shared_data().join("imagenet-sample").to_str().unwrap(),
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

/// `aann ablate` sharded in three and merged gives the unsharded summary exactly.
#[test]
fn a_sharded_ablation_merges_to_the_unsharded_summary() {
    let dir = tempfile::tempdir().unwrap();
    let data = shared_data().join("imagenet-sample");
    let ablate = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "ablate",
            "--model",
            "bvlc",
            "--data",
            data.to_str().unwrap(),
            "--tap",
            "inception_3b_output",
            "--channels",
            "320..330",
            "--mode",
            "zero,mean",
            "--reference-limit",
            "8",
            "--limit",
            "9",
            "--batch-size",
            "4",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = aann(&args);
        let (stdout, err) = text(&o);
        assert!(o.status.success(), "{stdout}\n{err}");
        stdout
    };
    let whole = dir.path().join("whole");
    ablate(&whole, &[]);
    let shards: Vec<String> = (0..3)
        .map(|i| dir.path().join(format!("s{i}")).display().to_string())
        .collect();
    for (i, s) in shards.iter().enumerate() {
        let stdout = ablate(Path::new(s), &["--shard", &format!("{i}/3")]);
        assert!(stdout.contains(&format!("shard {i}/3")), "{stdout}");
        let records = std::fs::read_to_string(Path::new(s).join("records.jsonl")).unwrap();
        // Batches of 4 over 9 images: [0–3], [4–7], [8], one per shard.
        let images = [4, 4, 1][i];
        assert_eq!(
            records.lines().count(),
            images * 3,
            "{images} images × 3 conditions"
        );
    }
    let merged = dir.path().join("merged");
    let mut merge = vec!["--merge"];
    merge.extend(shards.iter().map(String::as_str));
    ablate(&merged, &merge);
    let read = |d: &Path| std::fs::read_to_string(d.join("summary.json")).unwrap();
    assert_eq!(read(&whole), read(&merged));
}

#[test]
fn weights_of_the_wrong_model_are_refused() {
    let lucid = shared_data().join("inception5h-fixture/inception5h-random.pth");
    let image = shared_data().join("googlenet-bvlc/sample_input.jpg");
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

/// The small run of the card, with small nulls.
fn small_run(spec: &str, out: &Path) -> Vec<String> {
    let mut args = small_spec_run(spec, out);
    args.extend(
        [
            "--set",
            "null.sets=2",
            "--set",
            "null.images=8",
            "--set",
            "null.matched=false",
            "--set",
            "mapping_null.shuffles=3",
            "--set",
            "mapping_null.images=8",
            "--set",
            "mapping_null.refit=true",
            "--set",
            "run.faithfulness_images=8",
            "--set",
            "statistics.resamples=2000",
        ]
        .map(String::from),
    );
    args
}

/// The numbers of the small run, pinned: (condition, cross-entropy, top-1, top-5).
/// Measured with the code before the experiment core was rewritten around `Session` and
/// `Arm` (commit 2dfff95); the rewrite must not move them.
const PINNED: [(&str, f64, f64, f64); 7] = [
    ("baseline", 0.7378873169269234, 0.7083333333333334, 1.0),
    ("zero-ablate", 0.7578289501770096, 0.6666666666666666, 1.0),
    ("mean-ablate", 0.7524455953491783, 0.6666666666666666, 1.0),
    (
        "replace-curves-from-upstream",
        0.7165862286298622,
        0.6666666666666666,
        1.0,
    ),
    ("replace-upstream-arcs", 0.6882144668247773, 0.75, 1.0),
    (
        "replace-curves-from-pixels",
        0.7586657411193692,
        0.6666666666666666,
        1.0,
    ),
    (
        "replace-curves-from-pixels-colour",
        0.758354311001325,
        0.6666666666666666,
        1.0,
    ),
];
/// The lineage arms' cross-entropies on the small run (`lineage-bvlc.toml`), measured at
/// commit 8a0f469 (the 24 images are too few to mean anything; they pin the code).
const PINNED_LINEAGE: [(&str, f64); 5] = [
    ("early-curves-3a-zero-ablate", 0.8636113315726869),
    (
        "early-curves-3a-replace-early-curves-from-pixels",
        0.9060803838673658,
    ),
    ("early-curves-3a-and-target-zero-ablate", 1.115172803393347),
    (
        "early-curves-3a-and-replace-upstream-echo",
        0.7722713283031543,
    ),
    (
        "early-curves-3a-and-replace-curves-from-upstream",
        0.8220933951794964,
    ),
];
/// The null sets' mean loss increases, and the family's own, on the first 8 images.
const PINNED_NULL: [f64; 2] = [0.15115111075090004, -0.033861860442310904];
const PINNED_FAMILY_INCREASE: f64 = -0.14872435484861657;

fn assert_pinned(summary: &serde_json::Value) {
    let conditions = summary["summary"]["conditions"].as_array().unwrap();
    for (name, ce, top1, top5) in PINNED {
        let c = conditions
            .iter()
            .find(|c| c["condition"] == name)
            .unwrap_or_else(|| panic!("{name} is an arm"));
        for (field, want) in [
            ("cross_entropy", ce),
            ("top1_accuracy", top1),
            ("top5_accuracy", top5),
        ] {
            let got = c[field]["point"].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-6,
                "{name} {field}: {got} (pinned {want})"
            );
        }
        assert!(c["cross_entropy"]["ci"]["lo"].as_f64().unwrap() >= 0.0);
    }
    let null = &summary["null"]["null_loss_increase"];
    for (got, want) in null.as_array().unwrap().iter().zip(PINNED_NULL) {
        assert!(
            (got.as_f64().unwrap() - want).abs() < 1e-6,
            "null {got} vs {want}"
        );
    }
    let family = summary["null"]["family_loss_increase"].as_f64().unwrap();
    assert!((family - PINNED_FAMILY_INCREASE).abs() < 1e-6, "{family}");
}

/// A sharded run: two jobs (`--shard 0/2`, `--shard 1/2`) write their parts' records, a
/// merge unites them and completes the run, and every number equals the unsharded run's.
/// A folder of another run is refused by the merge, naming what differs.
#[test]
fn a_sharded_run_merges_to_the_unsharded_summary() {
    let dir = tempfile::tempdir().unwrap();
    // A cheaper card: no circuits (so no replacement null): the baseline, zero, mean and
    // resample ablation, the relay, the three readouts (of 3a, of the image, of the first filters), and
    // the channel null.
    let cheap = |out: &Path, extra: &[&str]| {
        let mut args = small_run("eval/experiments/curves-bvlc.toml", out);
        let at = args.iter().position(|a| a == "--limit").unwrap();
        args[at + 1] = "12".into();
        let cheaper = [
            "--set",
            "circuits=[]",
            "--set",
            "mapping_null.shuffles=0",
            "--set",
            "null.images=6",
        ];
        args.extend(cheaper.iter().chain(extra).map(|s| s.to_string()));
        run_args(&args)
    };
    let run = |out: &Path, extra: &[&str]| {
        let o = cheap(out, extra);
        let (stdout, err) = text(&o);
        assert!(o.status.success(), "{stdout}\n{err}");
        stdout
    };
    let whole = dir.path().join("whole");
    run(&whole, &[]);
    let shards: Vec<PathBuf> = (0..2).map(|i| dir.path().join(format!("s{i}"))).collect();
    // Batches of 8: shard 0 holds the first batch (8 images, and all 6 of the null's),
    // shard 1 the second (4 images, none of the null's).
    for (i, s) in shards.iter().enumerate() {
        let (images, null_images) = [(8, 6), (4, 0)][i];
        let stdout = run(s, &["--shard", &format!("{i}/2")]);
        assert!(
            stdout.contains(&format!(
                "shard {i}/2: {images} of its {images} test images evaluated now"
            )),
            "{stdout}"
        );
        assert!(
            !s.join("summary.json").exists(),
            "a shard writes records only"
        );
        let records = std::fs::read_to_string(s.join("records.jsonl")).unwrap();
        assert_eq!(
            records.lines().count(),
            images * 8,
            "{images} images × 8 arms"
        );
        let null = std::fs::read_to_string(s.join("null/records.jsonl")).unwrap_or_default();
        assert_eq!(
            null.lines().count(),
            null_images * 3,
            "the null's images × 3 arms"
        );
    }
    let merged = dir.path().join("merged");
    let shard_dirs: Vec<&str> = shards.iter().map(|p| p.to_str().unwrap()).collect();
    let mut merge = vec!["--merge"];
    merge.extend(&shard_dirs);
    run(&merged, &merge);
    let (a, b) = (summary_of(&whole), summary_of(&merged));
    assert_eq!(b["images_evaluated"], 0, "every image came from the shards");
    assert_eq!(b["images_resumed"], 12);
    for key in [
        "summary",
        "fractions",
        "versus_controls",
        "faithfulness",
        "calibrations",
        "verdicts",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
    for key in ["null_loss_increase", "family_loss_increase", "comparison"] {
        assert_eq!(a["null"][key], b["null"][key], "null.{key}");
    }

    // A shard of a different run (another batch size) is refused, naming the setting.
    let other = dir.path().join("other");
    run(&other, &["--shard", "0/2", "--set", "run.batch_size=4"]);
    let o = cheap(
        &dir.path().join("m2"),
        &["--merge", shard_dirs[0], other.to_str().unwrap()],
    );
    let (stdout, err) = text(&o);
    assert!(!o.status.success(), "{stdout}");
    assert!(
        err.contains("another run") && err.contains("batch_size"),
        "{err}"
    );
}

/// The experiment end to end on a small slice: the files, the numbers (pinned), a resumed
/// interruption that reproduces them exactly, a changed setting that is refused (and
/// `--fresh` that accepts it), and the error analysis. (The full run is README's first
/// command.)
#[test]
fn the_curves_experiment_runs_resumes_and_explains_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let args = small_run("eval/experiments/curves-bvlc.toml", &out);
    let o = run_args(&args);
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
    let summary = summary_of(&out);
    assert_pinned(&summary);
    let conditions: Vec<&str> = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().expect("arms have names"))
        .collect();
    assert_eq!(summary["conditions"][1]["kind"], "ablate");
    assert_eq!(summary["conditions"][1]["ablation"], "zero");
    // The card: every circuit with its shuffled and rotated controls, the relay, the paired
    // comparisons, both nulls and the units' faithfulness on dev and test.
    let kinds: Vec<(&str, &str)> = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["kind"].as_str().unwrap()))
        .collect();
    for name in [
        "replace-curves-from-upstream~shuffled-frozen",
        "replace-curves-from-upstream~shuffled-refit",
        "replace-curves-from-upstream~rot90-frozen",
        "replace-curves-from-pixels~rot180-refit",
        "control-relay",
        "bound-readout",
    ] {
        assert!(kinds.contains(&(name, "control")), "{name} in {kinds:?}");
    }
    let relay = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "control-relay")
        .unwrap();
    assert_eq!(relay["control"], "relay");
    assert_eq!(relay["tap"], "inception_3a_output");
    // The readout, fitted on the calibration and dev images (16 + 24 here: too few for 2,305
    // numbers per neuron, so it overfits and its R² off the fitted positions is poor), still
    // follows its neurons: a broken weight layout would give r near 0. (On 300 + 500 images
    // the headline run's readout reaches median r 0.72, R² 0.48 on test images.)
    let readout_dev = summary["faithfulness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["arm"] == "bound-readout" && f["split"] == "dev")
        .unwrap();
    assert!(
        readout_dev["median_r"].as_f64().unwrap() > 0.25,
        "{readout_dev}"
    );
    assert_eq!(readout_dev["units"].as_array().unwrap().len(), 17);
    let versus = summary["versus_controls"].as_array().unwrap();
    assert!(
        versus
            .iter()
            .any(|v| v["a"] == "control-relay" && v["b"] == "replace-curves-from-upstream")
    );
    assert!(
        versus
            .iter()
            .any(|v| v["a"] == "replace-curves-from-upstream~shuffled-frozen")
    );
    // Controls that can fail: no two arms have the same loss on every image (the
    // collapsed controls all equalled mean-ablation), every control's calibration is
    // recorded, and a frozen control keeps its circuit's gain.
    assert_eq!(
        summary["verdicts"]["identical_arms"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "{}",
        summary["verdicts"]["identical_arms"]
    );
    let calibrations = summary["calibrations"].as_array().unwrap();
    let calibration = |arm: &str| {
        calibrations
            .iter()
            .find(|c| c["arm"] == arm)
            .unwrap_or_else(|| panic!("{arm} has a calibration"))
    };
    assert_eq!(calibration("replace-curves-from-upstream")["units"], 17);
    assert!(
        calibration("replace-curves-from-upstream~rot90-refit")["calibration"]
            .as_str()
            .unwrap()
            .contains("positive gain")
    );
    // Verdicts: raw and Holm-adjusted p-values, the adjusted never below the raw; a
    // degenerate control is never beaten.
    let rows = summary["verdicts"]["rows"].as_array().unwrap();
    assert!(rows.len() >= versus.len());
    for row in rows {
        match (row["p_value"].as_f64(), row["p_adjusted"].as_f64()) {
            (Some(raw), Some(adjusted)) => assert!(adjusted >= raw && adjusted <= 1.0),
            (None, None) => assert_eq!(row["verdict"], "degenerate_control"),
            other => panic!("{other:?} in {row}"),
        }
        if row["verdict"] == "beats" {
            let degenerate = calibrations
                .iter()
                .find(|c| c["arm"] == row["against"])
                .map_or(0, |c| c["degenerate"].as_array().unwrap().len());
            assert_eq!(degenerate, 0, "{row}");
        }
    }
    assert!(
        !summary["verdicts"]["equivalence"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        summary["verdicts"]["units"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |u| u["against"] == "replace-curves-from-upstream~shuffled-refit"
                    && u["split"] == "test"
            )
    );
    // The replacement null: derangements through the circuit's calibration and refitted,
    // each draw's loss its own, none exploding.
    let null = &summary["mapping_null"];
    assert_eq!(null["fit"], "frozen");
    for draws in [null, &null["refit"]] {
        let losses: Vec<f64> = draws["shuffled_loss"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(losses.len(), 3);
        assert_eq!(draws["distinct_losses"], 3, "{losses:?}");
        assert!(
            losses.iter().all(|l| l.is_finite() && *l < 5.0),
            "{losses:?}"
        );
    }
    let fits = summary["faithfulness"].as_array().unwrap();
    for split in ["dev", "test"] {
        let f = fits
            .iter()
            .find(|f| f["split"] == split && f["arm"] == "replace-curves-from-upstream")
            .unwrap();
        assert_eq!(f["units"].as_array().unwrap().len(), 17);
        let r = f["median_r"].as_f64().unwrap();
        assert!(r > 0.0 && r < 1.0, "{r}");
    }
    assert!(
        summary["fractions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["metric"] == "kl_from_baseline")
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("## Faithfulness card") && md.contains("| control-relay |"),
        "{md}"
    );
    // Inputs under the data root are named portably, never by this machine's path.
    let written = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let root = shared_data().display().to_string();
    assert!(
        !written.contains(&root),
        "a machine path in summary.json: {root}"
    );
    assert!(written.contains("$AANN_DATA/imagenet-sample"));
    for report in ["summary.md", "report.html"] {
        let text = std::fs::read_to_string(out.join(report)).unwrap();
        assert!(!text.contains(&root), "a machine path in {report}: {root}");
        assert!(text.contains("$AANN_DATA/imagenet-sample"), "{report}");
    }
    let provenance = &summary["provenance"];
    assert_eq!(provenance["image_lists"]["test"]["images"], 24);
    assert_eq!(provenance["image_lists"]["calibration"]["images"], 16);
    assert_eq!(provenance["image_lists"]["dev"]["images"], 24);
    assert_eq!(provenance["weights_sha256"].as_str().unwrap().len(), 64);
    assert!(provenance["files"]["circuits/families/bvlc/curves-3b.toml"].is_string());
    let records = std::fs::read_to_string(out.join("records.jsonl")).unwrap();
    let n = records.lines().count();
    assert_eq!(
        n,
        24 * conditions.len(),
        "one record per image and condition"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("src=\"http"));

    // An interruption after the first batches: the records of the first 10 images (as a
    // kill leaves them, the last line torn), then a re-run resumes and reproduces every
    // number, counting no image twice.
    let kept: Vec<&str> = records.lines().take(10 * conditions.len()).collect();
    std::fs::write(
        out.join("records.jsonl"),
        kept.join("\n") + "\n{\"image\":\"ILSVRC2012_val_0000",
    )
    .unwrap();
    std::fs::remove_file(out.join("summary.json")).unwrap();
    let o = run_args(&args);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{stdout}\n{err}");
    assert!(stdout.contains("10 test image(s) reused"), "{stdout}");
    let again = std::fs::read_to_string(out.join("records.jsonl")).unwrap();
    assert_eq!(again.lines().count(), n);
    let resumed = summary_of(&out);
    assert_eq!(resumed["summary"], summary["summary"]);
    assert_eq!(resumed["fractions"], summary["fractions"]);

    // One setting of one arm changed (the first circuit's fit): the folder's records are
    // not reused under it; --fresh starts over.
    let spec = std::fs::read_to_string(repo().join("eval/experiments/curves-bvlc.toml")).unwrap();
    let changed = dir.path().join("changed.toml");
    std::fs::write(
        &changed,
        spec.replacen(
            "calibration = \"family\"\nfit = \"moments\"",
            "calibration = \"family\"\nfit = \"least-squares\"",
            1,
        ),
    )
    .unwrap();
    assert_ne!(std::fs::read_to_string(&changed).unwrap(), spec);
    let mut changed_args = small_run(changed.to_str().unwrap(), &out);
    let o = run_args(&changed_args);
    let (stdout, err) = text(&o);
    assert!(
        !o.status.success(),
        "a changed setting is refused:\n{stdout}"
    );
    assert!(
        err.contains("circuits[0].fit: \"moments\" → \"least-squares\"") && err.contains("--fresh"),
        "{err}"
    );
    changed_args.push("--fresh".into());
    let o = run_args(&changed_args);
    assert!(o.status.success(), "{}", text(&o).1);
    let fresh = summary_of(&out);
    assert_eq!(fresh["spec"]["circuits"][0]["fit"], "least-squares");
    // The first circuit's arm, found by name (the ablations come before it).
    let first_circuit = |s: &serde_json::Value| {
        s["summary"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["condition"] == "replace-upstream-echo")
            .expect("the first circuit is an arm")["cross_entropy"]["point"]
            .clone()
    };
    assert_ne!(
        first_circuit(&fresh),
        first_circuit(&summary),
        "the changed arm was evaluated again"
    );
    assert_eq!(
        fresh["summary"]["conditions"][0], summary["summary"]["conditions"][0],
        "the baseline does not depend on it"
    );

    // The error analysis of the first circuit: on dev images by default (evaluated now),
    // on the run's test records when asked.
    let o = aann(&["errors", out.to_str().unwrap(), "--top", "3", "--quiet"]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{stdout}\n{err}");
    assert!(stdout.contains("## Neurons") && stdout.contains("worst neurons"));
    assert!(stdout.contains("24 dev images"), "{stdout}");
    let o = aann(&[
        "errors",
        out.to_str().unwrap(),
        "--split",
        "test",
        "--top",
        "3",
        "--quiet",
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{stdout}\n{err}");
    assert!(stdout.contains("24 test images"), "{stdout}");
    let bad = aann(&[
        "errors",
        out.to_str().unwrap(),
        "--condition",
        "replace-nothing",
    ]);
    assert!(!bad.status.success());
    assert!(text(&bad).1.contains("replace-nothing"));
}

/// Tune images copied under other names into the test set are refused by content.
#[test]
fn renamed_copies_of_tune_images_in_the_test_set_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("test");
    std::fs::create_dir(&test).unwrap();
    let val = shared_data().join("imagenet-val/images");
    let mut names: Vec<_> = std::fs::read_dir(&val)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut labels = String::new();
    for (i, name) in names.iter().take(3).enumerate() {
        let copy = format!("copy_{i}.JPEG");
        std::fs::copy(val.join(name), test.join(&copy)).unwrap();
        labels.push_str(&format!("{copy} {i}\n"));
    }
    std::fs::write(dir.path().join("labels.txt"), labels).unwrap();
    let o = aann(&[
        "experiment",
        "eval/experiments/curves-bvlc.toml",
        "--test",
        test.to_str().unwrap(),
        "--test-labels",
        dir.path().join("labels.txt").to_str().unwrap(),
        "--out",
        dir.path().join("run").to_str().unwrap(),
        "--quiet",
    ]);
    let (stdout, err) = text(&o);
    assert!(!o.status.success(), "{stdout}");
    assert!(
        err.contains("the tune and test sets share 3 image(s) by content")
            && err.contains("copy_0.JPEG = "),
        "{err}"
    );
}

/// The Lucid experiment (published indices) runs end to end on the random-weight fixture.
#[test]
fn the_lucid_experiment_runs_on_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lucid");
    let weights = shared_data().join("inception5h-fixture/inception5h-random.pth");
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
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["description"].as_str().unwrap(),
            )
        })
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
    let root = repo().join("circuits/families");
    let mut seen = 0;
    for model in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(model.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let family = aann_model::Family::load(&path)
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

/// README's result tables are `aann tables` of the committed results file they name: a
/// number in README cannot drift from the run it came from.
#[test]
fn documented_tables_are_regenerated_from_the_committed_results() {
    let docs: String = ["README.md", "docs/card.md"]
        .iter()
        .map(|d| std::fs::read_to_string(repo().join(d)).unwrap())
        .collect();
    let mut blocks = 0;
    for part in docs.split("<!-- tables: ").skip(1) {
        let (args, rest) = part
            .split_once(" -->")
            .expect("a tables marker names its file");
        let (shown, _) = rest
            .split_once("<!-- end tables -->")
            .expect("a tables block is closed");
        // The marker holds `aann tables`' arguments: the summary, and any options.
        let args: Vec<&str> = args.split_whitespace().collect();
        let path = args[0];
        assert!(
            repo().join(path).is_file(),
            "the documented tables come from {path}, which must be committed"
        );
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("card.svg");
        let whole = args.len() == 1;
        let mut command = vec!["tables"];
        command.extend(&args);
        if whole {
            command.extend(["--svg", svg.to_str().unwrap()]);
        }
        let o = aann(&command);
        let (stdout, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert_eq!(
            shown.trim(),
            stdout.trim(),
            "the documented tables differ from `aann {}`: regenerate them",
            command.join(" ")
        );
        blocks += 1;
        if !whole {
            continue;
        }
        // The figure beside the summary is the one the summary draws.
        let committed = repo().join(path).with_extension("svg");
        assert_eq!(
            std::fs::read_to_string(&committed).unwrap(),
            std::fs::read_to_string(&svg).unwrap(),
            "{} is not `aann tables {path} --svg`: regenerate it",
            committed.display()
        );
    }
    assert!(
        blocks >= 3,
        "README shows the short card; docs/card.md the card's and the lineage's tables"
    );
}

/// The lineage study one level down: the 3a early curves zero-ablated and replaced by the
/// pixel circuit's early curves, alone and under the upstream circuits. Its arms sit beside
/// the others without moving them (the pinned numbers of the small run), and a bad
/// `under` is refused naming the circuits there are.
#[test]
fn the_lineage_study_stacks_the_circuits_without_moving_the_other_arms() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lineage");
    let args = small_spec_run("eval/experiments/lineage-bvlc.toml", &out);
    let summary = run_summary(&args);
    let ce = |name: &str| condition(&summary, name, "cross_entropy");
    for (name, want, _, _) in PINNED.iter().filter(|p| {
        [
            "baseline",
            "zero-ablate",
            "replace-curves-from-upstream",
            "replace-curves-from-pixels",
        ]
        .contains(&p.0)
    }) {
        assert!(
            (ce(name) - want).abs() < 1e-6,
            "{name}: {} vs pinned {want}",
            ce(name)
        );
    }
    // Five lineage arms; the 3b circuit fed artificial early curves is another arm than
    // the circuit fed natural ones.
    let lineage: Vec<&str> = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "lineage")
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        lineage,
        [
            "early-curves-3a-zero-ablate",
            "early-curves-3a-replace-early-curves-from-pixels",
            "early-curves-3a-and-target-zero-ablate",
            "early-curves-3a-and-replace-upstream-echo",
            "early-curves-3a-and-replace-curves-from-upstream",
        ]
    );
    assert_ne!(
        ce("early-curves-3a-and-replace-curves-from-upstream"),
        ce("replace-curves-from-upstream")
    );
    // Fractions: three pairs × four metrics, each against the zero-ablation of the same
    // families.
    let rows = summary["lineage"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    for r in rows {
        let reference = r["relative_to"].as_str().unwrap();
        if r["condition"].as_str().unwrap().contains("-and-") {
            assert_eq!(reference, "early-curves-3a-and-target-zero-ablate");
        } else {
            assert_eq!(reference, "early-curves-3a-zero-ablate");
        }
    }
    // The main fractions never measure a lineage arm against the target's own ablation.
    assert!(summary["fractions"].as_array().unwrap().iter().all(|f| {
        !f["condition"]
            .as_str()
            .unwrap()
            .starts_with("early-curves-3a")
    }));
    // The lineage arms' own numbers on the small run, pinned (measured at the commit that
    // added this check; nothing may move them), and each fraction recomputed from the
    // cross-entropies of the arm, its reference and the baseline.
    let moved: Vec<String> = PINNED_LINEAGE
        .iter()
        .filter(|(name, want)| (ce(name) - want).abs() >= 1e-6)
        .map(|(name, want)| format!("{name}: {:?} vs pinned {want:?}", ce(name)))
        .collect();
    assert!(moved.is_empty(), "{moved:#?}");
    let mut defined = 0;
    for r in rows.iter().filter(|r| r["metric"] == "cross_entropy") {
        let (arm, reference) = (
            r["condition"].as_str().unwrap(),
            r["relative_to"].as_str().unwrap(),
        );
        let result = &r["result"];
        let point = |field: &str| result[field]["point"].as_f64().unwrap();
        assert!((point("numerator") - (ce(arm) - ce(reference))).abs() < 1e-9);
        assert!((point("denominator") - (ce("baseline") - ce(reference))).abs() < 1e-9);
        if result["status"]["status"] == "defined" {
            defined += 1;
            let want = (ce(reference) - ce(arm)) / (ce(reference) - ce("baseline"));
            let got = point("fraction");
            assert!((got - want).abs() < 1e-9, "{arm}: {got} vs {want}");
        } else {
            // On 24 images a gap may not be told from zero: then no fraction is given.
            let ci = &result["denominator"]["ci"];
            assert!(ci["lo"].as_f64().unwrap() <= 0.0 && ci["hi"].as_f64().unwrap() >= 0.0);
            assert!(result["fraction"].is_null(), "{arm}");
        }
    }
    // The two stacked arms' gaps are told from zero even on 24 images (the lower family's
    // alone is not).
    assert_eq!(defined, 2);
    // The two stacked arms compared image by image (echo − standard upstream), and the
    // lower circuit's units compared with the 21 natural early curves.
    let stacked: Vec<&serde_json::Value> = summary["versus_controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["b"] == "early-curves-3a-and-replace-upstream-echo")
        .collect();
    assert_eq!(stacked.len(), 1);
    assert_eq!(
        stacked[0]["a"],
        "early-curves-3a-and-replace-curves-from-upstream"
    );
    let want = ce("early-curves-3a-and-replace-upstream-echo")
        - ce("early-curves-3a-and-replace-curves-from-upstream");
    let got = stacked[0]["cross_entropy"]["difference"]["point"]
        .as_f64()
        .unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    let lower_fit: Vec<&serde_json::Value> = summary["faithfulness"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["arm"] == "early-curves-3a-replace-early-curves-from-pixels")
        .collect();
    assert_eq!(lower_fit.len(), 2, "a dev and a test row");
    for f in lower_fit {
        assert_eq!(f["units"].as_array().unwrap().len(), 21);
        let r = f["median_r"].as_f64().unwrap();
        assert!(r > 0.0 && r < 1.0, "median r {r}");
    }
    // The lower circuit: the 21 early curves, from the pixel circuit's first four stages.
    let lower = &summary["lineage_circuit"];
    assert_eq!(lower["circuit"], "early-curves-from-pixels");
    assert_eq!(lower["mapping"]["channels"].as_array().unwrap().len(), 21);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("## Lineage, one level down"), "{md}");

    // `under` must name a circuit of the spec that reads the lower family's tap, and the
    // lower circuit must build units of the lower family's layer.
    for (set, expected) in [
        (
            "lineage.under=[\"nope\"]",
            "no circuit `nope` in [[circuits]]; the circuits are: upstream-echo, curves-from-upstream, curves-from-pixels",
        ),
        (
            "lineage.under=[\"curves-from-pixels\"]",
            "`curves-from-pixels` does not read inception_3a_output",
        ),
        (
            "lineage.circuit.stage=curves",
            "circuit `curves-from-pixels` builds units that stand in for inception_3b_output, but the family `curves` it would replace lives at inception_3a_output",
        ),
    ] {
        let mut bad = args.clone();
        bad.extend(["--set".to_string(), set.to_string()]);
        bad.extend(["--fresh".to_string()]);
        let run = run_args(&bad);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success() && err.contains(expected), "{err}");
    }
}

/// `--slurm N` writes a job array of N shards and a merge that depends on it, carrying the
/// command line the user typed; it refuses more jobs than test images.
#[test]
fn slurm_scripts_carry_the_command_and_shard_the_test_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut args = small_run("eval/experiments/curves-bvlc.toml", &out);
    args.extend(["--slurm", "2", "--slurm-cpus", "4"].map(String::from));
    let o = run_args(&args);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        stdout.contains("2 shards of 24 test images, each 4 cores"),
        "{stdout}"
    );
    let scripts = dir.path().join("run-slurm");
    let array = std::fs::read_to_string(scripts.join("array.sbatch")).unwrap();
    let merge = std::fs::read_to_string(scripts.join("merge.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-1",
        "#SBATCH --requeue",
        "#SBATCH --cpus-per-task=4",
    ] {
        assert!(array.lines().any(|l| l == line), "{line} in\n{array}");
    }
    let run = array.lines().last().unwrap();
    assert!(
        run.contains("--set null.sets=2") && run.contains("--limit 24"),
        "{run}"
    );
    assert!(run.contains("--shard auto/2 --out"), "{run}");
    assert!(!run.contains("--slurm"), "{run}");
    let shards = format!("{}-shards", out.display());
    assert!(
        merge.contains(&format!(
            "--merge {shards}/0 {shards}/1 --out {}",
            out.display()
        )),
        "{merge}"
    );
    // More jobs than test images is refused.
    let mut too_many = small_run("eval/experiments/curves-bvlc.toml", &out);
    too_many.extend(["--slurm", "25"].map(String::from));
    let o = run_args(&too_many);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("more jobs than the 24 test images"));
}

/// `--circuit` names are registry lookups: each shipped name prints its own numbers, its
/// accounting lists every shipped name, and an unknown name lists the registered ones.
#[test]
fn circuit_names_are_looked_up_in_the_registry() {
    let spec = |name: &str| aann(&["circuits", "spec", "--circuit", name]);
    let (upstream, err) = text(&spec("upstream"));
    assert!(
        upstream.contains("orientations = 24") && upstream.contains("[from_early]"),
        "{upstream}{err}"
    );
    let (colour, _) = text(&spec("pixels-colour"));
    let (grey, _) = text(&spec("pixels"));
    assert!(
        colour.contains("chroma_weight") && !grey.contains("chroma_weight"),
        "{colour}"
    );
    let o = spec("pixel");
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("unknown circuit `pixel`: expected one of pixels, pixels-colour, pixels-early-curves, pixels-pooled-lines, pixels-lines, upstream, gabors"),
        "{err}"
    );
    let o = aann(&["circuits", "accounting"]);
    let (table, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for name in [
        "curves-from-pixels",
        "curves-from-pixels-colour",
        "early-curves-from-pixels",
        "pooled-lines-from-pixels",
        "lines-from-pixels",
        "curves-from-upstream",
        "gabors-from-pixels",
    ] {
        assert!(table.contains(name), "{name}: {table}");
    }
}
