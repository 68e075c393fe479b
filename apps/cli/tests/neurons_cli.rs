//! Single-neuron cards end to end (`eval/experiments/neurons-bvlc.toml` on a small slice):
//! each of the 17 curve detectors zero-ablated alone, replaced alone by its own unit of
//! each circuit, and by the unit of its orientation turned 90°. The numbers of the small
//! run are pinned, the family arms do not move, and the fractions are recomputed from the
//! arms' losses.
mod common;

use common::{condition, run_summary, small_spec_run};

/// Cross-entropy and KL of some arms of the small run: the family arms (the same as the
/// card's small run in `cli.rs`) and single-neuron arms (measured at the commit that added
/// the cards; nothing may move them).
const PINNED: [(&str, f64, f64); 9] = [
    ("baseline", 0.7378873169269234, 0.0),
    ("zero-ablate", 0.7578289501770096, 0.05453629379986896),
    (
        "replace-upstream-echo",
        0.7147221811707375,
        0.017742605668023676,
    ),
    (
        "replace-curves-from-pixels",
        0.7586657411193692,
        0.0396725470156928,
    ),
    ("n9-zero-ablate", 0.7368203613912581, 0.0003764532931888682),
    (
        "n9-replace-upstream-echo",
        0.7357226868375787,
        8.292623962290387e-05,
    ),
    (
        "n9-replace-upstream-echo~rot90-refit",
        0.746115754849424,
        0.0006862615854463291,
    ),
    (
        "n368-replace-curves-from-pixels",
        0.7406838800584059,
        0.0005421889910546942,
    ),
    (
        "n368-replace-curves-from-pixels~rot90-refit",
        0.7455778213782898,
        0.0009196747835861437,
    ),
];

#[test]
fn every_curve_detector_gets_its_own_card() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("neurons");
    let summary = run_summary(&small_spec_run("eval/experiments/neurons-bvlc.toml", &out));
    let get = |name: &str, field: &str| condition(&summary, name, field);
    let moved: Vec<String> = PINNED
        .iter()
        .filter(|(name, ce, kl)| {
            (get(name, "cross_entropy") - ce).abs() >= 1e-6
                || (get(name, "kl_from_baseline") - kl).abs() >= 1e-9
        })
        .map(|(name, ..)| {
            format!(
                "(\"{name}\", {:?}, {:?})",
                get(name, "cross_entropy"),
                get(name, "kl_from_baseline")
            )
        })
        .collect();
    assert!(moved.is_empty(), "{}", moved.join("\n"));
    // Five arms per neuron, each touching that neuron's channel only.
    let arms: Vec<&serde_json::Value> = summary["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "neuron")
        .collect();
    assert_eq!(arms.len(), 17 * 5);
    for a in &arms {
        let channel = a["channel"].as_u64().unwrap();
        assert!(
            a["name"]
                .as_str()
                .unwrap()
                .starts_with(&format!("n{channel}-"))
        );
        assert!(
            a["description"]
                .as_str()
                .unwrap()
                .ends_with(&format!("inception_3b_output channels {channel}")),
            "{a}"
        );
    }
    // Fractions against the neuron's own zero-ablation, recomputed in KL.
    let n = &summary["neurons"];
    let rows = n["fractions"].as_array().unwrap();
    assert_eq!(rows.len(), 17 * 2 * 2 * 4);
    let mut defined = 0;
    for r in rows.iter().filter(|r| r["metric"] == "kl_from_baseline") {
        let (arm, reference) = (
            r["condition"].as_str().unwrap(),
            r["relative_to"].as_str().unwrap(),
        );
        let channel = arm[1..].split('-').next().unwrap();
        assert_eq!(reference, format!("n{channel}-zero-ablate"));
        if r["result"]["status"]["status"] == "defined" {
            defined += 1;
            let want = (get(reference, "kl_from_baseline") - get(arm, "kl_from_baseline"))
                / get(reference, "kl_from_baseline");
            let got = r["result"]["fraction"]["point"].as_f64().unwrap();
            assert!((got - want).abs() < 1e-9, "{arm}: {got} vs {want}");
        }
    }
    assert!(defined > 0);
    // Each single-neuron replacement against its zero-ablation and its control.
    assert_eq!(n["comparisons"].as_array().unwrap().len(), 17 * 2 * 2);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("### Single neurons"));
    assert_eq!(md.matches("| upstream-echo |").count(), 17);
}
