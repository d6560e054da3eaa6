"""Benchmark softmax_lab's softmax against scipy, torch and a plain memory copy, in one run.

Usage: ``make bench`` or ``python benchmarks/bench_softmax.py [--quick]``.

The first table times a fresh interpreter's ``import softmax_lab`` and first ``softmax`` call
against ``import numpy`` (the package loads its modules lazily, so the NumPy chapters never
import torch). Everything else runs single-threaded (NumPy's BLAS pool and torch limited to one thread) so
the ratios compare algorithms, not core counts. Each time is the best of several
repetitions. Tables: speed, extra memory, Jacobian products, and the accuracy of softmax,
log_softmax and logsumexp against mpmath on the adversarial family of
``softmax_lab.numerical_error`` (float16, float32, float64; rows up to 10^5 entries).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import scipy.special
import torch
from threadpoolctl import threadpool_limits

from softmax_lab import log_softmax, logsumexp, softmax, softmax_jacobian, softmax_jvp
from softmax_lab.numerical_error import FUNCTIONS, compare


def best_ms(run: Callable[[], object], repeats: int) -> float:
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def speed_row(shape: tuple[int, int], dtype: type, repeats: int) -> dict[str, float]:
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    xt = torch.from_numpy(x)
    out, out_t = np.empty_like(x), torch.empty_like(xt)
    return {
        "copy": best_ms(lambda: x.copy(), repeats),
        "exp": best_ms(lambda: np.exp(x), repeats),
        "scipy": best_ms(lambda: scipy.special.softmax(x, axis=-1), repeats),
        "torch": best_ms(lambda: torch.softmax(xt, -1), repeats),
        "torch_out": best_ms(lambda: torch.softmax(xt, -1, out=out_t), repeats),
        "ours": best_ms(lambda: softmax(x), repeats),
        "ours_out": best_ms(lambda: softmax(x, out=out), repeats),
    }


def speed_table(shapes: list[tuple[int, int]], repeats: int) -> None:
    print(f"\n## Speed (ms, best of {repeats}; ratio = reference time / softmax_lab time)")
    print(
        "np.exp(x) alone, one pass into a new array, is less work than any softmax: torch / "
        "np.exp is roughly the best ratio a softmax built from NumPy passes can reach here."
    )
    print(
        "| shape | dtype | copy | np.exp | scipy | torch | torch out= | softmax_lab "
        "| softmax_lab out= | vs scipy | vs torch | vs torch out= | torch / np.exp |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for shape in shapes:
        for dtype in (np.float32, np.float64):
            t = speed_row(shape, dtype, repeats)
            print(
                f"| {shape[0]}x{shape[1]} | {np.dtype(dtype).name} | {t['copy']:.1f} | {t['exp']:.1f} "
                f"| {t['scipy']:.1f} "
                f"| {t['torch']:.1f} | {t['torch_out']:.1f} | {t['ours']:.1f} | {t['ours_out']:.1f} "
                f"| {t['scipy'] / t['ours']:.2f}x | {t['torch'] / t['ours']:.2f}x "
                f"| {t['torch_out'] / t['ours_out']:.2f}x | {t['torch'] / t['exp']:.2f}x |"
            )


def peak_extra_bytes(run: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak


def memory_table(shape: tuple[int, int]) -> None:
    print("\n## Extra memory (peak bytes allocated during the call, in units of one output array)")
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    out = np.empty_like(x)
    rows = {
        "softmax_lab": peak_extra_bytes(lambda: softmax(x)),
        "softmax_lab out=": peak_extra_bytes(lambda: softmax(x, out=out)),
        "scipy": peak_extra_bytes(lambda: scipy.special.softmax(x, axis=-1)),
    }
    print("| call | extra memory |")
    print("|---|---|")
    for name, peak in rows.items():
        print(
            f"| {name} ({shape[0]}x{shape[1]} float32) | {peak / x.nbytes:.2f} outputs ({peak / 2**20:.1f} MiB) |"
        )


def jvp_table(n: int, repeats: int) -> None:
    print(f"\n## Jacobian-vector product at n = {n}")
    x = np.random.default_rng(0).normal(size=n)
    v = np.random.default_rng(1).normal(size=n)
    explicit = best_ms(lambda: softmax_jacobian(x) @ v, max(3, repeats // 3))
    fast = best_ms(lambda: softmax_jvp(x, v), repeats * 10)
    print(
        f"build J then J @ v: {explicit:.2f} ms; softmax_jvp: {fast:.4f} ms; ratio {explicit / fast:.0f}x"
    )


def _torch_function(name: str) -> Callable[[np.ndarray], np.ndarray]:
    function = {"softmax": torch.softmax, "log_softmax": torch.log_softmax}.get(name)

    def run(x: np.ndarray) -> np.ndarray:
        if function is None:
            return torch.logsumexp(torch.from_numpy(x), -1).numpy()
        return function(torch.from_numpy(x), -1).numpy()

    return run


def accuracy_table(lengths: tuple[int, ...], long_rows: int | None) -> None:
    print(
        "\n## Accuracy: max componentwise relative error vs mpmath (50 digits), in eps of the "
        "dtype, over entries whose exact value is a normal number"
    )
    implementations = {
        "softmax_lab": {"softmax": softmax, "log_softmax": log_softmax, "logsumexp": logsumexp},
        "scipy": {
            "softmax": lambda x: scipy.special.softmax(x, axis=-1),
            "log_softmax": lambda x: scipy.special.log_softmax(x, axis=-1),
            "logsumexp": lambda x: scipy.special.logsumexp(x, axis=-1),
        },
        "torch": {name: _torch_function(name) for name in FUNCTIONS},
    }
    labels = list(implementations)
    results = compare(implementations, lengths=lengths)
    if long_rows:
        results += compare(implementations, lengths=(long_rows,), cases=("near_uniform", "normal"))
    print("\n### Worst case per function and dtype (the case where it occurs)")
    print("| function | dtype | " + " | ".join(labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    for function in FUNCTIONS:
        for dtype in ("float16", "float32", "float64"):
            rows = [r for r in results if r["function"] == function and r["dtype"] == dtype]
            cells = []
            for label in labels:
                worst = max(rows, key=lambda r, label=label: r[label])
                cells.append(f"{worst[label]:.3g} ({worst['case']}, n={worst['n']})")
            print(f"| {function} | {dtype} | " + " | ".join(cells) + " |")
    print("\n### Every case")
    print("| function | case | n | dtype | spread | " + " | ".join(labels) + " |")
    print("|---|---|---|---|---|" + "---|" * len(labels))
    for r in results:
        print(
            f"| {r['function']} | {r['case']} | {r['n']} | {r['dtype']} | {r['spread']:.3g} | "
            + " | ".join(f"{r[label]:.3g}" for label in labels)
            + " |"
        )


def import_table(repeats: int) -> None:
    """Best wall time of fresh interpreters, less an empty one's: the import cost alone."""

    def seconds(code: str) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return min(times)  # the least disturbed run; startup noise only adds time

    empty = seconds("pass")
    codes = (
        "import numpy",
        "import softmax_lab",
        "import softmax_lab; softmax_lab.softmax([1.0, 2.0])",
        "import torch",
    )
    costs = {code: max(seconds(code) - empty, 0.0) for code in codes}
    print(f"\n## Import time (best of {repeats} fresh interpreters, empty interpreter subtracted)")
    print("| code | ms | ratio to import numpy |")
    print("|---|---|---|")
    for code, cost in costs.items():
        print(f"| `{code}` | {1000 * cost:.0f} | {cost / costs['import numpy']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"# softmax_lab benchmark, {datetime.date.today()}, {platform.processor() or platform.machine()}"
    )
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__}, single thread"
    )
    import_table(repeats=3 if args.quick else 9)
    with threadpool_limits(1):
        if args.quick:
            speed_table([(100, 1000), (10000, 10)], repeats=3)
            memory_table((100, 1000))
            jvp_table(512, repeats=3)
            accuracy_table((10, 100), long_rows=None)
        else:
            speed_table([(1000, 10000), (100000, 100)], repeats=9)
            memory_table((1000, 10000))
            jvp_table(4096, repeats=9)
            accuracy_table((10, 1000), long_rows=100_000)


if __name__ == "__main__":
    main()
