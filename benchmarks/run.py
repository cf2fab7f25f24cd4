"""Time solutions_lib's hand-written forward + backward passes against PyTorch's built-ins with autograd.

    python benchmarks/run.py                         # every op, on the CPU and on CUDA when present
    python benchmarks/run.py --op conv2d --device cpu
    python benchmarks/run.py --markdown              # the table as Markdown, for the README

For each op and device both sides run on the same inputs, in the same process, one after the other:
first their results are compared (so a fast but wrong kernel cannot pass), then each is timed with
``torch.utils.benchmark`` (warm-up, CUDA synchronisation and repeated blocks handled there), in
alternating rounds (ours, PyTorch, ours, ...; ``--repeats``), each side's median round reported. The ratio
is ours / PyTorch, the median of the rounds' ratios (each from two timings taken back to back): below 1.0
the hand-written version is faster. Nothing is asserted about time: the numbers are for reading, on a
machine that may be busy.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch.utils import benchmark

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from solutions_lib import attention, conv, linear, normalization, rnn  # noqa: E402


@dataclass
class Case:
    """One op on one device: the two implementations, each returning (output, *gradients)."""

    op: str
    shape: str
    ours: Callable[[], tuple]
    torch: Callable[[], tuple]


def conv2d_case(device: torch.device, dtype: torch.dtype, x_shape=(32, 16, 32, 32), filters=32) -> Case:
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(*x_shape, generator=g, device=device, dtype=dtype)
    w = torch.randn(filters, x_shape[1], 3, 3, generator=g, device=device, dtype=dtype) * 0.1
    b = torch.randn(filters, generator=g, device=device, dtype=dtype)
    dout = torch.randn(x_shape[0], filters, *x_shape[2:], generator=g, device=device, dtype=dtype)

    def ours():
        out, cache = conv.conv2d_forward(x, w, b, stride=1, padding=1)
        return (out, *conv.conv2d_backward(dout, cache))

    xt, wt, bt = (t.clone().requires_grad_() for t in (x, w, b))

    def reference():
        xt.grad = wt.grad = bt.grad = None
        out = F.conv2d(xt, wt, bt, stride=1, padding=1)
        out.backward(dout)
        return out, xt.grad, wt.grad, bt.grad

    def dims(shape):
        return ",".join(map(str, shape))

    return Case("conv2d fwd+bwd", f"x ({dims(x_shape)}), w ({dims(w.shape)}), pad 1", ours, reference)


def conv2d_wide_case(device: torch.device, dtype: torch.dtype) -> Case:
    """A wider, smaller-image layer (64 -> 64 channels at 16 x 16), as deeper in a CNN."""
    return conv2d_case(device, dtype, x_shape=(32, 64, 16, 16), filters=64)


_BN_SHAPE = (1024, 512)


def _batchnorm_inputs(device: torch.device, dtype: torch.dtype):
    """One batch for both BatchNorm cases: ``(x, gamma, beta, dout, state, layer)``, where ``state`` holds our
    running statistics and ``layer`` is an ``nn.BatchNorm1d`` with the same gamma and beta."""
    g = torch.Generator(device=device).manual_seed(0)
    n, d = _BN_SHAPE
    x = torch.randn(n, d, generator=g, device=device, dtype=dtype) * 3 + 1
    gamma = torch.rand(d, generator=g, device=device, dtype=dtype) + 0.5
    beta = torch.randn(d, generator=g, device=device, dtype=dtype)
    dout = torch.randn(n, d, generator=g, device=device, dtype=dtype)
    state = {"running_mean": torch.zeros(d, device=device, dtype=dtype),
             "running_var": torch.ones(d, device=device, dtype=dtype), "momentum": 0.1, "eps": 1e-5}
    layer = torch.nn.BatchNorm1d(d, eps=1e-5, momentum=0.1, device=device, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
    return x, gamma, beta, dout, state, layer


def batchnorm_case(device: torch.device, dtype: torch.dtype) -> Case:
    x, gamma, beta, dout, state, layer = _batchnorm_inputs(device, dtype)

    def ours():
        out, cache = normalization.batchnorm_forward(x, gamma, beta, state, "train")
        return (out, *normalization.batchnorm_backward(dout, cache))

    xt = x.clone().requires_grad_()

    def reference():
        xt.grad = layer.weight.grad = layer.bias.grad = None
        out = layer(xt)
        out.backward(dout)
        return out, xt.grad, layer.weight.grad, layer.bias.grad

    return Case("batchnorm1d fwd+bwd", "x ({},{}), train mode".format(*_BN_SHAPE), ours, reference)


def batchnorm_backward_case(device: torch.device, dtype: torch.dtype) -> Case:
    """The backward pass alone: the closed form vs autograd through nn.BatchNorm1d, each from its own saved
    forward of the same batch (our cache; autograd's graph, kept with retain_graph)."""
    x, gamma, beta, dout, state, layer = _batchnorm_inputs(device, dtype)
    _, cache = normalization.batchnorm_forward(x, gamma, beta, state, "train")

    def ours():
        return normalization.batchnorm_backward(dout, cache)

    xt = x.clone().requires_grad_()
    out = layer(xt)
    inputs = (xt, layer.weight, layer.bias)

    def reference():
        return torch.autograd.grad(out, inputs, dout, retain_graph=True)

    return Case("batchnorm1d bwd only", "x ({},{}), train mode".format(*_BN_SHAPE), ours, reference)


def softmax_ce_case(device: torch.device, dtype: torch.dtype) -> Case:
    g = torch.Generator(device=device).manual_seed(0)
    n, k = 1024, 1000
    logits = torch.randn(n, k, generator=g, device=device, dtype=dtype) * 4
    targets = torch.randint(0, k, (n,), generator=g, device=device)

    def ours():
        return linear.cross_entropy(logits, targets), linear.softmax_cross_entropy_grad(logits, targets)

    lt = logits.clone().requires_grad_()

    def reference():
        lt.grad = None
        loss = F.cross_entropy(lt, targets)
        loss.backward()
        return loss, lt.grad

    return Case("softmax cross-entropy fwd+bwd", f"logits ({n},{k})", ours, reference)


def lstm_case(device: torch.device, dtype: torch.dtype) -> Case:
    g = torch.Generator(device=device).manual_seed(0)
    n, t, d, h = 64, 32, 128, 128
    x = torch.randn(n, t, d, generator=g, device=device, dtype=dtype)
    h0 = torch.randn(n, h, generator=g, device=device, dtype=dtype)
    dh_all = torch.randn(n, t, h, generator=g, device=device, dtype=dtype)
    dc_last = torch.randn(n, h, generator=g, device=device, dtype=dtype)
    layer = torch.nn.LSTM(d, h, batch_first=True, device=device, dtype=dtype)
    wx, wh = layer.weight_ih_l0.detach().T.contiguous(), layer.weight_hh_l0.detach().T.contiguous()
    b = (layer.bias_ih_l0 + layer.bias_hh_l0).detach()

    def ours():
        hs, c, cache = rnn.lstm_forward(x, h0, wx, wh, b)
        dx, dh0, *_ = rnn.lstm_backward(dh_all, dc_last, cache)
        return hs, c, dx, dh0

    xt, h0t = x.clone().requires_grad_(), h0.clone().requires_grad_()

    def reference():
        xt.grad = h0t.grad = None
        layer.zero_grad(set_to_none=True)
        out, (_, c_t) = layer(xt, (h0t[None], torch.zeros_like(h0t)[None]))
        torch.autograd.backward([out, c_t[0]], [dh_all, dc_last])
        return out, c_t[0], xt.grad, h0t.grad

    return Case("LSTM fwd+BPTT", f"x ({n},{t},{d}), H {h}", ours, reference)


def attention_case(device: torch.device, dtype: torch.dtype) -> Case:
    g = torch.Generator(device=device).manual_seed(0)
    shape = (8, 8, 256, 64)
    q, k, v, dout = (torch.randn(*shape, generator=g, device=device, dtype=dtype) for _ in range(4))

    def ours():
        out, p = attention.scaled_dot_product_attention(q, k, v, causal=True)
        return (out, *attention.attention_backward(dout, (q, k, v, p)))

    qt, kt, vt = (t.clone().requires_grad_() for t in (q, k, v))

    def reference():
        qt.grad = kt.grad = vt.grad = None
        out = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True)
        out.backward(dout)
        return out, qt.grad, kt.grad, vt.grad

    return Case("causal attention fwd+bwd", "q, k, v (8,8,256,64)", ours, reference)


CASES = {"conv2d": conv2d_case, "conv2d_wide": conv2d_wide_case, "batchnorm": batchnorm_case,
         "batchnorm_bwd": batchnorm_backward_case, "softmax_ce": softmax_ce_case, "lstm": lstm_case,
         "attention": attention_case}


def _max_rel_error(a: tuple, b: tuple) -> float:
    worst = 0.0
    for x, y in zip(a, b):
        x, y = x.detach(), y.detach()
        scale = y.abs().max().clamp_min(1e-12)
        worst = max(worst, float((x - y).abs().max() / scale))
    return worst


def _time(fn: Callable, min_run_time: float) -> float:
    # Timer runs single-threaded unless told otherwise: time with the threads torch (or --threads) set,
    # the number the table reports, on both sides alike.
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def _time_pair(ours: Callable, reference: Callable, min_run_time: float, repeats: int) -> tuple[float, float, float]:
    """Median times of the two sides and the median of their per-round ratios, measured in ``repeats``
    alternating rounds (ours, PyTorch, ours, ...) of ``min_run_time / repeats`` seconds each. Each round's
    ratio compares two timings taken back to back, so a change in the machine's load between rounds
    cancels out of it."""
    ours_times, reference_times = [], []
    for _ in range(repeats):
        ours_times.append(_time(ours, min_run_time / repeats))
        reference_times.append(_time(reference, min_run_time / repeats))
    ratios = [o / r for o, r in zip(ours_times, reference_times)]
    return statistics.median(ours_times), statistics.median(reference_times), statistics.median(ratios)


def run(ops: list[str], devices: list[str], min_run_time: float, dtype: torch.dtype, repeats: int = 5) -> list[dict]:
    rows = []
    for device_name in devices:
        device = torch.device(device_name)
        for op in ops:
            case = CASES[op](device, dtype)
            error = _max_rel_error(case.ours(), case.torch())
            if error > 1e-3:
                raise SystemExit(f"{case.op} on {device_name}: results differ (max rel error {error:.2e})")
            ours, reference, ratio = _time_pair(case.ours, case.torch, min_run_time, repeats)
            rows.append({"op": case.op, "shape": case.shape, "device": device_name, "ours_ms": ours * 1e3,
                         "torch_ms": reference * 1e3, "ratio": ratio, "max_rel_error": error})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--op", choices=sorted(CASES), action="append", help="ops to time (default: all)")
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--min-run-time", type=float, default=1.0, help="seconds of timing per side")
    parser.add_argument("--repeats", type=int, default=5,
                        help="alternating timing rounds per side; the median round is reported (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    devices = [d for d in devices if d == "cpu" or torch.cuda.is_available()]
    rows = run(args.op or list(CASES), devices, args.min_run_time, torch.float32, max(1, args.repeats))
    name = torch.cuda.get_device_name() if "cuda" in devices else f"CPU, {torch.get_num_threads()} threads"
    if args.markdown:
        print(f"float32, torch {torch.__version__}, {name}\n")
        print("| op | shape | device | ours (ms) | PyTorch (ms) | ours / PyTorch |")
        print("|---|---|---|---:|---:|---:|")
        for r in rows:
            print(f"| {r['op']} | {r['shape']} | {r['device']} | {r['ours_ms']:.2f} | {r['torch_ms']:.2f} "
                  f"| {r['ratio']:.2f} |")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("op", "shape", "device", "ours (ms)", "PyTorch (ms)", "ours / PyTorch", "max rel err",
                  title=f"solutions_lib vs PyTorch + autograd (float32, torch {torch.__version__}, {name})")
    for r in rows:
        table.add_row(r["op"], r["shape"], r["device"], f"{r['ours_ms']:.2f}", f"{r['torch_ms']:.2f}",
                      f"{r['ratio']:.2f}", f"{r['max_rel_error']:.1e}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
