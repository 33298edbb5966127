"""The cost curve of a whole ``fairclust run`` against data size (issue 18; docs/benchmarks.md).

For each size N: the set is built (``bench/scale_data.py``: augmented MNIST + inverted
copies, or 64-d vectors), then ``fairclust run --dataset set.npz --n-clusters 10 --seed S``
runs in its own process (its peak memory is its own) with a fresh pretraining cache, and its
``metrics.json`` gives the stage seconds and the peak resident memory of each stage. The
reference is the run at ``--reference`` images (20,000 by default) of the same curve: every
row prints its time as a ratio to it, and the growth exponent (slope of log seconds on log N,
least squares) is fitted over all sizes. One JSON line per size to ``--out-dir/curve.jsonl``;
``--resume`` skips sizes already there. Accuracy on these sets is printed but says little:
their digits are near-duplicates of 5,000 originals.

    python bench/scale_curve.py                                  # 10k .. 140k images, about 40 min
    python bench/scale_curve.py --sizes 2000,4000 -- --pretrain-epochs 1   # a quick check of the script
    python bench/scale_curve.py --kind vectors --sizes 1000000 --reference 0
    python bench/scale_curve.py --sizes 140000 --nproc 2 --reference 0   # under torchrun, 2 processes

Run it alone on the machine: a second CPU-heavy process slows both several-fold.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import reverse_set, vectors  # noqa: E402

STAGES = ("pretraining", "teachers", "training", "evaluation")


def run_size(n: int, kind: str, seed: int, work: Path, nproc: int, extra: list[str]) -> dict:
    data = work / f"{kind}-{n}.npz"
    t0 = time.perf_counter()
    np.savez(data, **(reverse_set(n, seed) if kind == "reverse" else vectors(n, seed)))
    build = time.perf_counter() - t0
    out, cache = work / f"run-{kind}-{n}-p{nproc}", work / f"cache-{kind}-{n}-p{nproc}"
    shutil.rmtree(cache, ignore_errors=True)  # cold: every stage computed, none loaded
    cmd = ["-m", "fairclust", "run", "--dataset", str(data), "--n-clusters", "10", "--seed", str(seed),
           "--out", str(out), "--overwrite", "--cache-dir", str(cache), "--no-figures", "--quiet", *extra]
    launcher = [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run",
                                                    "--standalone", f"--nproc_per_node={nproc}"]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc))))
    t0 = time.perf_counter()
    subprocess.run(launcher + cmd, check=True, env=env)
    wall = time.perf_counter() - t0
    m = json.loads((out / "metrics.json").read_text())
    data.unlink()
    shutil.rmtree(cache, ignore_errors=True)
    return {"n": n, "kind": kind, "seed": seed, "nproc": nproc, "wall_seconds": wall, "build_seconds": build,
            "stage_seconds": m["stage_seconds"], "peak_rss_mb": m["peak_rss_mb"], "accuracy": m["accuracy"],
            "nmi": m["nmi"], "balance_of_max": m["balance"] / m["balance_max"], "n_iters": m.get("n_iters"),
            "iterations_run": m.get("iterations_run"), "extra": extra}


def growth_exponent(rows: list[dict]) -> float | None:
    """Slope of log(seconds) on log(N), least squares over the rows (None for fewer than 2 sizes)."""
    if len({r["n"] for r in rows}) < 2:
        return None
    x = np.log([r["n"] for r in rows])
    y = np.log([r["stage_seconds"]["total"] for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def table(rows: list[dict], reference: dict | None) -> str:
    head = ("| N | processes | total s | x reference | " + " | ".join(f"{s} s" for s in STAGES) +
            " | peak RSS MiB (load / pretrain / teachers / train / eval) | Acc / NMI / Balance of max | T (run) |")
    lines = [head, "|" + "---|" * (len(STAGES) + 7)]
    for r in rows:
        st, mem = r["stage_seconds"], r["peak_rss_mb"]
        ratio = f"{st['total'] / reference['stage_seconds']['total']:.2f}" if reference else "-"
        peaks = " / ".join(f"{mem.get(k, float('nan')):.0f}" for k in ("load", "pretraining", "teachers", "training",
                                                                       "evaluation"))
        lines.append(f"| {r['n']:,} | {r['nproc']} | {st['total']:.0f} | {ratio} | " +
                     " | ".join(f"{st[s]:.0f}" for s in STAGES) + f" | {peaks} (max {mem['run']:.0f}) | "
                     f"{r['accuracy']:.3f} / {r['nmi']:.3f} / {r['balance_of_max']:.0%} | "
                     f"{r['n_iters']} ({r['iterations_run']}) |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,20000,40000,80000,140000")
    ap.add_argument("--kind", choices=("reverse", "vectors"), default="reverse")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference", type=int, default=20000, help="the size whose time the ratios divide by (0: none)")
    ap.add_argument("--nproc", type=int, default=1, help="processes (torchrun, CPU: gloo) per run")
    ap.add_argument("--out-dir", default="runs/scale_curve")
    ap.add_argument("--resume", action="store_true", help="skip sizes already in curve.jsonl")
    ap.add_argument("extra", nargs="*", help="more `fairclust run` flags, after --")
    a = ap.parse_args()
    work = Path(a.out_dir)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "curve.jsonl"
    done = [json.loads(line) for line in log.read_text().splitlines()] if a.resume and log.exists() else []
    rows = [r for r in done if r["kind"] == a.kind and r["nproc"] == a.nproc and r["extra"] == a.extra]
    for n in (int(s) for s in a.sizes.split(",")):
        if any(r["n"] == n for r in rows):
            continue
        print(f"--- {a.kind} N = {n:,}, {a.nproc} process(es)", flush=True)
        rec = run_size(n, a.kind, a.seed, work, a.nproc, a.extra)
        with log.open("a") as fh:
            fh.write(json.dumps(rec) + "\n")
        rows.append(rec)
    rows.sort(key=lambda r: r["n"])
    reference = next((r for r in rows if r["n"] == a.reference), None)
    print(table(rows, reference))
    k = growth_exponent(rows)
    if k is not None:
        print(f"\ngrowth exponent (seconds ~ N^k, least squares over {len(rows)} sizes): k = {k:.2f}")
    big = max(rows, key=lambda r: r["n"])
    if reference is not None and big is not reference:
        f = big["n"] / reference["n"]
        t = big["stage_seconds"]["total"] / reference["stage_seconds"]["total"]
        print(f"{big['n']:,} vs {reference['n']:,}: {t:.2f}x the time for {f:.1f}x the data "
              f"(exponent {math.log(t) / math.log(f):.2f})")


if __name__ == "__main__":
    main()
