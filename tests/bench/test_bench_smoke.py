"""The benchmark harness still runs: its shortest run, Atende's relay and the baseline server
(no Janus), plus the control plane with a handful of pages. Nothing is judged on speed."""

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_smoke_run_writes_the_figures(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--only",
            "cpu,control",
            "--servers",
            "atende,baseline",
            "--no-profile",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["errors"] == {}, results["errors"]
    assert {"date", "machine", "command"} <= set(results["meta"])

    servers = results["cpu"]["servers"]
    assert set(servers) == {"atende", "baseline"}
    for figures in servers.values():
        for key in ("cpu_per_call", "rss_mb", "video_kbps", "delivered_percent"):
            assert positive(figures[key]), (key, figures)
    assert positive(results["cpu"]["ratios"]["atende/baseline"])

    control = results["control"]
    assert control["positions_ok"]
    assert control["position_update"]["wrong_positions"] == 0
    for key in ("sign_ins_per_s", "pages_connected_per_s", "reconnects_per_s"):
        assert positive(control[key]), key
    for key in ("takes_per_s", "joins_per_s"):
        assert positive(control[key]), key
    assert positive(control["position_update"]["p99_ms"])

    assert [g["goal"] for g in results["goals"]]  # the goals are reported
    assert "Relay CPU per call" in done.stdout
