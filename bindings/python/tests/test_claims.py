"""(e) `aann.check_claims` returns the verdicts of the library's `check_file`, as
`aann check --json` reports them (compared with the CLI when $AANN_CLI names its binary)."""

import json
import os
import subprocess

import aann
from conftest import DATA, LUCID_FIXTURE, REPO

BVLC = REPO / "eval" / "hypotheses" / "bvlc.toml"


def test_the_cheap_weight_claims_hold_as_the_rust_tests_say(tmp_path):
    claims = aann.check_claims(BVLC, tags=["weights"], data=DATA)
    names = [c["name"] for c in claims]
    assert len(claims) == 4 and len(set(names)) == 4
    for c in claims:
        assert c["kind"] == "weight_motif" and "weights" in c["tags"]
        assert c["status"] == "pass", c
        assert isinstance(c["measured"], float) and c["threshold"]

    cli = os.environ.get("AANN_CLI")
    if cli:
        report = tmp_path / "report.json"
        subprocess.run(
            [cli, "check", str(BVLC), "--tag", "weights", "--json", str(report),
             "--data-root", str(DATA), "--quiet"],
            check=True, capture_output=True,
        )
        theirs = json.loads(report.read_text())["files"][0]["claims"]
        assert [c["name"] for c in theirs] == names
        for ours, cli_claim in zip(claims, theirs):
            for key in ["status", "measured", "unit", "threshold", "detail"]:
                assert ours[key] == cli_claim[key], (ours["name"], key)


def test_claims_on_random_weights_are_skipped_not_passed():
    claims = aann.check_claims(
        REPO / "eval" / "hypotheses" / "lucid.toml", weights=LUCID_FIXTURE, data=DATA
    )
    assert len(claims) >= 8
    for c in claims:
        assert c["status"] == "skipped", c
        assert "random weights fixture" in c["reason"]
        assert c["measured"] is None
