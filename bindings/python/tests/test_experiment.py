"""`aann.run_experiment` and `aann.read_records`: the command line's small experiment run
from Python gives the numbers the CLI tests pin (apps/cli/tests/cli.rs, PINNED), and the
records add up to the summary."""

import math

import aann
from conftest import DATA, REPO

# (condition, cross-entropy, top-1, top-5) of the CLI tests' small run: 24 test images.
PINNED = [
    ("baseline", 0.7378873169269234, 0.7083333333333334, 1.0),
    ("zero-ablate", 0.7578289501770096, 0.6666666666666666, 1.0),
    ("mean-ablate", 0.7524455953491783, 0.6666666666666666, 1.0),
]

# The CLI tests' small run (`small_run` in cli.rs), without circuits (their arms are not
# pinned here, and calibrating them is what costs most).
SMALL = {
    "test.limit": 24,
    "run.calibration_images": 16,
    "run.batch_size": 8,
    "dev.limit": 24,
    "run.tuning_orientations": 8,
    "run.tuning_radii": [40.0],
    "null.sets": 2,
    "null.images": 8,
    "null.matched": False,
    "mapping_null.shuffles": 0,
    "run.faithfulness_images": 8,
    "statistics.resamples": 2000,
    "circuits": [],
}


def test_the_small_experiment_gives_the_clis_pinned_numbers(tmp_path):
    out = tmp_path / "curves"
    summary = aann.run_experiment(
        REPO / "eval" / "experiments" / "curves-bvlc.toml", SMALL, out=out, data=DATA
    )
    assert (out / "summary.json").is_file() and (out / "summary.md").is_file()
    conditions = {c["condition"]: c for c in summary["summary"]["conditions"]}
    for name, ce, top1, top5 in PINNED:
        c = conditions[name]
        assert abs(c["cross_entropy"]["point"] - ce) < 1e-6, (name, c["cross_entropy"])
        assert abs(c["top1_accuracy"]["point"] - top1) < 1e-6, name
        assert abs(c["top5_accuracy"]["point"] - top5) < 1e-6, name

    records = aann.read_records(out)
    assert len(records) == 24 * len(conditions)
    for name, ce, top1, _ in PINNED:
        rows = [r for r in records if r["condition"] == name]
        assert len(rows) == 24
        assert math.isclose(sum(r["loss"] for r in rows) / 24, ce, abs_tol=1e-9)
        assert math.isclose(sum(r["correct1"] for r in rows) / 24, top1, abs_tol=1e-12)
    assert all(r["kl"] == 0 for r in records if r["condition"] == "baseline")

    # Re-running resumes from the records: nothing is evaluated again.
    again = aann.run_experiment(
        REPO / "eval" / "experiments" / "curves-bvlc.toml", SMALL, out=out, data=DATA
    )
    assert again["images_evaluated"] == 0 and again["images_resumed"] == 24
    assert again["summary"] == summary["summary"]
