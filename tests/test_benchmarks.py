"""benchmarks/run.py: it refuses a fast but wrong kernel, and its ratio is the median of paired rounds.

Nothing here times anything for real beyond a smoke run of a few milliseconds: speed is reported by the
benchmark, never asserted.
"""
from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from conftest import ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_every_case_agrees_with_pytorch_and_reports_a_row(bench):
    ops = ["conv2d", "conv2d_wide", "batchnorm", "batchnorm_bwd", "softmax_ce"]
    rows = bench.run(ops, ["cpu"], min_run_time=0.02, dtype=torch.float32, repeats=2)
    assert [r["op"] for r in rows] == [bench.CASES[op](torch.device("cpu"), torch.float32).op for op in ops]
    for r in rows:
        assert r["device"] == "cpu" and r["ours_ms"] > 0 and r["torch_ms"] > 0 and r["ratio"] > 0
        assert r["max_rel_error"] < 1e-3


def test_a_wrong_kernel_is_refused_before_it_is_timed(bench, monkeypatch):
    def wrong_conv(device, dtype):
        case = bench.conv2d_case(device, dtype)
        right = case.ours
        case.ours = lambda: tuple(t * 1.01 for t in right())  # 1% off: fast, and wrong
        return case

    monkeypatch.setitem(bench.CASES, "conv2d", wrong_conv)
    monkeypatch.setattr(bench, "_time", lambda *args: pytest.fail("a wrong kernel must not be timed"))
    with pytest.raises(SystemExit, match="results differ"):
        bench.run(["conv2d"], ["cpu"], min_run_time=0.02, dtype=torch.float32)


def test_the_ratio_is_the_median_of_back_to_back_rounds(bench, monkeypatch):
    # Rounds alternate ours, PyTorch, ours, ...; the machine is three times slower in rounds 2 and 4 for
    # both sides alike, and in round 5 a burst hits our side alone. The paired ratios are 2, 2, 2, 2, 6:
    # median 2. The ratio of the two sides' medians (6 and 1) would say 6.
    times = iter([2.0, 1.0, 6.0, 3.0, 2.0, 1.0, 6.0, 3.0, 6.0, 1.0])
    monkeypatch.setattr(bench, "_time", lambda fn, seconds: next(times))
    ours, reference, ratio = bench._time_pair(lambda: None, lambda: None, min_run_time=1.0, repeats=5)
    assert (ours, reference) == (6.0, 1.0)
    assert ratio == pytest.approx(2.0)
