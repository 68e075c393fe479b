//! The ladder from pixels end to end (`eval/experiments/ladder-bvlc.toml` on a small
//! slice): Gabors, lines and early curves replaced by hand-written circuits, each alone
//! against its own ablations and controls, then stacked from the bottom up to the curve
//! detectors. The numbers of the small run are pinned; the fractions and the waterfall are
//! recomputed from the arms' cross-entropies; bad ladders are refused by name.
mod common;

use std::path::Path;

use common::{condition, run_args, run_summary, small_spec_run};

/// The ladder on 24 test images, calibrated on 16 tune images.
fn small_ladder(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = small_spec_run("eval/experiments/ladder-bvlc.toml", out);
    args.extend(
        ["--set", "run.faithfulness_images=8"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string()),
    );
    args
}

/// Cross-entropies of the small run's ladder arms (measured at the commit that added the
/// ladder; nothing may move them).
const PINNED: [(&str, f64); 21] = [
    ("gabors-conv1-zero-ablate", 7.968716543183724),
    ("gabors-conv1-mean-ablate", 5.391291656777649),
    (
        "gabors-conv1-replace-gabors-from-pixels",
        0.8811025827314419,
    ),
    (
        "gabors-conv1-replace-gabors-from-pixels~shuffled-refit",
        5.571707139438396,
    ),
    (
        "gabors-conv1-replace-gabors-from-pixels~rot90-refit",
        5.987051786841868,
    ),
    ("lines-conv2-zero-ablate", 0.8688526398947349),
    ("lines-conv2-mean-ablate", 0.8695612411875859),
    ("lines-conv2-replace-lines-from-pixels", 0.813224444165681),
    (
        "lines-conv2-replace-lines-from-pixels~shuffled-refit",
        0.9421437974290526,
    ),
    (
        "lines-conv2-replace-lines-from-pixels~rot90-refit",
        0.9563830948396942,
    ),
    ("early-curves-3a-zero-ablate", 0.8636113315726869),
    ("early-curves-3a-mean-ablate", 0.8246387046173974),
    (
        "early-curves-3a-replace-early-curves-from-pixels",
        0.9060803838673658,
    ),
    (
        "early-curves-3a-replace-early-curves-from-pixels~shuffled-refit",
        0.8214725557391024,
    ),
    (
        "early-curves-3a-replace-early-curves-from-pixels~rot90-refit",
        0.7883648703334796,
    ),
    ("up-to-lines-conv2-zero-ablate", 9.432360011127688),
    ("up-to-lines-conv2-replace", 0.8579525800665079),
    ("up-to-early-curves-3a-zero-ablate", 10.024941897353001),
    ("up-to-early-curves-3a-replace", 0.9776269807148692),
    ("up-to-target-zero-ablate", 10.376934023672769),
    ("up-to-target-replace", 0.9570059469302663),
];

#[test]
fn the_ladder_replaces_every_level_alone_and_stacked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ladder");
    let summary = run_summary(&small_ladder(&out, &[]));
    let ce = |name: &str| condition(&summary, name, "cross_entropy");
    // Every ladder arm, typed, in order: each level alone, then the stacks.
    let ladder: Vec<&str> = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "ladder")
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    let names: Vec<&str> = PINNED.iter().map(|p| p.0).collect();
    assert_eq!(ladder, names);
    let moved: Vec<String> = PINNED
        .iter()
        .filter(|(name, want)| (ce(name) - want).abs() >= 1e-6)
        .map(|(name, want)| format!("(\"{name}\", {:?}), // pinned {want:?}", ce(name)))
        .collect();
    assert!(moved.is_empty(), "{}", moved.join("\n"));
    // Fractions: each arm against the ablation of the same families, recomputed.
    let l = &summary["ladder"];
    let rows = l["fractions"].as_array().unwrap();
    // Per level: the circuit against zero and mean, two controls against zero; then three
    // stacks against their zero-ablation; four metrics each.
    assert_eq!(rows.len(), (3 * 4 + 3) * 4);
    for r in rows.iter().filter(|r| r["metric"] == "cross_entropy") {
        let (arm, reference) = (
            r["condition"].as_str().unwrap(),
            r["relative_to"].as_str().unwrap(),
        );
        let level = arm.split("-replace").next().unwrap();
        let same_families = if arm.starts_with("up-to-") {
            format!("{level}-zero-ablate")
        } else {
            reference.to_string()
        };
        assert_eq!(reference, same_families, "{arm}");
        assert!(
            reference.ends_with("-zero-ablate") || reference.ends_with("-mean-ablate"),
            "{arm} against {reference}"
        );
        let result = &r["result"];
        if result["status"]["status"] == "defined" {
            let want = (ce(reference) - ce(arm)) / (ce(reference) - ce("baseline"));
            let got = result["fraction"]["point"].as_f64().unwrap();
            assert!((got - want).abs() < 1e-9, "{arm}: {got} vs {want}");
        }
    }
    // The Gabors by hand win back nearly all of the first layer's gap; the same units on
    // the wrong neurons, refitted per neuron, do not.
    let recovered = |arm: &str| {
        (ce("gabors-conv1-zero-ablate") - ce(arm))
            / (ce("gabors-conv1-zero-ablate") - ce("baseline"))
    };
    assert!(recovered("gabors-conv1-replace-gabors-from-pixels") > 0.9);
    for control in ["~shuffled-refit", "~rot90-refit"] {
        let arm = format!("gabors-conv1-replace-gabors-from-pixels{control}");
        assert!(recovered(&arm) < 0.5, "{arm}: {}", recovered(&arm));
    }
    // The waterfall: the steps of the replaced stack add up to its loss over the baseline.
    let stack: Vec<&str> = l["stack"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        stack,
        [
            "gabors-conv1-replace-gabors-from-pixels",
            "up-to-lines-conv2-replace",
            "up-to-early-curves-3a-replace",
            "up-to-target-replace"
        ]
    );
    let steps = l["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    assert_eq!(steps[0]["a"], "baseline");
    let total: f64 = steps
        .iter()
        .map(|s| s["cross_entropy"]["difference"]["point"].as_f64().unwrap())
        .sum();
    assert!((total - (ce("up-to-target-replace") - ce("baseline"))).abs() < 1e-9);
    // Each level's circuit, with its accounting and calibration, and its units against
    // the natural neurons at its own tap.
    let levels = l["levels"].as_array().unwrap();
    let taps: Vec<&str> = levels.iter().map(|v| v["tap"].as_str().unwrap()).collect();
    assert_eq!(taps, ["conv1_7x7_s2", "conv2_3x3", "inception_3a_output"]);
    assert_eq!(
        levels[0]["mapping"]["channels"].as_array().unwrap().len(),
        26
    );
    assert_eq!(levels[0]["calibration"]["scope"], "neuron");
    for level in levels {
        let arm = level["arm"].as_str().unwrap();
        assert!(
            summary["faithfulness"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["arm"] == arm && f["split"] == "test"),
            "{arm} has no units r / R²"
        );
    }
    // The report shows the ladder and its waterfall.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("### The ladder from pixels"));
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("waterfall")
    );
}

#[test]
fn a_ladder_whose_levels_share_channels_or_run_downwards_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let levels = |a: (&str, &str, &str), b: (&str, &str, &str)| {
        let level = |(name, family, stage): (&str, &str, &str)| {
            format!(
                "{{name=\"{name}\",family=\"circuits/families/bvlc/{family}.toml\",circuit={{kind=\"pixels\",stage=\"{stage}\"}}}}"
            )
        };
        format!("ladder.levels=[{},{}]", level(a), level(b))
    };
    let refused = |set: String| {
        let out = dir.path().join("bad");
        let o = run_args(&small_ladder(&out, &["--set", &set, "--fresh"]));
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // 3a's lines and early curves share six channels.
    let err = refused(levels(
        ("lines-3a", "lines-3a", "pooled-lines"),
        ("early-curves-3a", "early-curves-3a", "early-curves"),
    ));
    assert!(
        err.contains("ladder level `early-curves-3a`")
            && err.contains("[198, 202, 205, 207, 213, 223]")
            && err.contains("also in `lines-3a`"),
        "{err}"
    );
    let err = refused(levels(
        ("early-curves-3a", "early-curves-3a", "early-curves"),
        ("lines-conv2", "lines-conv2", "lines"),
    ));
    assert!(err.contains("levels go from the bottom up"), "{err}");
    // A stage that stands in for another layer than its family's.
    let err = refused(levels(
        ("lines-conv2", "lines-conv2", "pooled-lines"),
        ("early-curves-3a", "early-curves-3a", "early-curves"),
    ));
    assert!(
        err.contains("lives at conv2_3x3") && err.contains("stage = \"lines\""),
        "{err}"
    );
}
