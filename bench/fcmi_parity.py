"""FCMI parity at size (issue 29): fairclust's FCMI beside the authors' code on the same arrays.

    python bench/fcmi_parity.py run --datasets reverse-mnist5k,mnist-usps-mini --seeds 0,1,2 --recipe default \
        --threads 1 --out runs/fcmi_parity.jsonl
    python bench/fcmi_parity.py run --datasets mnist-usps-mini --seeds 1,2 --recipe paper --total-epochs 100 \
        --warmup-epochs 20 --threads 1 --out runs/fcmi_parity.jsonl   # the authors' seeds 1-2 ran 100 epochs
    python bench/fcmi_parity.py table --ours runs/fcmi_parity.jsonl --authors /work/fcmi_parity/results.jsonl
    python bench/fcmi_parity.py plot --ours runs/fcmi_parity.jsonl --authors-dir /work/fcmi_parity \
        --dataset reverse-mnist5k --seed 0 --out docs/img/fcmi_parity_curves.png

``run``: one JSON line per run (Acc / NMI / Balance, the warm-up's k-means, seconds, CPU seconds and the
per-epoch curve). The authors' side comes from bench/fcmi_authors (run_all.sh / run_e100.sh, then
extract.py: results.jsonl and NAME-seedS*/curve.csv). ``table`` prints the markdown table of docs/results.md
with ours / theirs ratios of accuracy and CPU seconds measured on this machine.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def run(args: argparse.Namespace) -> None:
    import torch

    from fairclust import metrics
    from fairclust.data import load_dataset
    from fairclust.methods import FCMI

    torch.set_num_threads(args.threads)
    for name in args.datasets.split(","):
        ds = load_dataset(name)
        for seed in map(int, args.seeds.split(",")):
            t, c = time.perf_counter(), time.process_time()
            sizes = {key: value for key, value in (("total_epochs", args.total_epochs),
                                                   ("warmup_epochs", args.warmup_epochs)) if value is not None}
            m = FCMI(len(np.unique(ds.y)), recipe=args.recipe, random_state=seed, cache_dir=False,
                     **sizes).fit(ds.X, ds.y, sensitive_features=ds.sensitive)
            rep = metrics.report(m.labels_, sensitive_features=ds.sensitive, labels_true=ds.y)
            row = {"dataset": name, "n": len(ds.y), "seed": seed, "recipe": args.recipe, **sizes, "acc": rep["accuracy"],
                   "nmi": rep["nmi"], "balance": rep["balance"], "balance_max": rep.get("balance_max"),
                   "warmup_kmeans": m.history_["warmup_kmeans"], "warmup_epochs": m.warmup_epochs_run_,
                   "epochs_run": m.history_["epochs_run"], "wall_s": time.perf_counter() - t,
                   "cpu_s": time.process_time() - c, "timings": m.timings_,
                   "curve": [[e["epoch"], e["accuracy"], e["balance"], e["changed"]] for e in m.history_["evals"]]}
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{name} seed {seed}: Acc {row['acc']:.3f} Balance {row['balance']:.3f} "
                  f"(warm-up k-means {row['warmup_kmeans']['accuracy']:.3f} / {row['warmup_kmeans']['balance']:.3f}), "
                  f"{row['wall_s']:.0f} s", flush=True)


def _read(path: str) -> list[dict]:
    return [json.loads(line) for line in open(path) if line.strip()]


def table(args: argparse.Namespace) -> None:
    ours = _read(args.ours)
    theirs = _read(args.authors)
    for r in theirs:  # runs of the first E epochs only (run_e100.sh): CPU seconds of the released 300 epochs
        r["cpu_s"] = r["cpu_s"] * 300 / r.get("epochs", 300)
    print("| data set | code | seeds | Acc per seed | mean Acc / NMI / Balance | CPU s per run (mean; authors: of 300 epochs) "
          "| Acc ours - theirs | CPU s ours / theirs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in dict.fromkeys(r["dataset"] for r in ours):
        a = sorted((r for r in theirs if r["dataset"] == name), key=lambda r: r["seed"])
        if not a:
            continue
        for recipe in dict.fromkeys(r["recipe"] for r in ours if r["dataset"] == name):
            o = sorted((r for r in ours if r["dataset"] == name and r["recipe"] == recipe), key=lambda r: r["seed"])
            both = sorted({r["seed"] for r in o} & {r["seed"] for r in a})
            for label, rows in ((f"fairclust `{recipe}`", o), ("authors", a)):
                mean = lambda k: np.mean([r[k] for r in rows])  # noqa: E731
                per = " / ".join(f"{r['acc']:.3f}" for r in rows)
                d_acc = np.mean([r["acc"] for r in o if r["seed"] in both]) - np.mean([r["acc"] for r in a if r["seed"] in both])
                ratio = (np.mean([r["cpu_s"] for r in o if r["seed"] in both])
                         / np.mean([r["cpu_s"] for r in a if r["seed"] in both]))
                extra = f"{d_acc:+.3f} | {ratio:.2f}" if label != "authors" and both else " | "
                print(f"| {name} | {label} | {', '.join(str(r['seed']) for r in rows)} | {per} | {mean('acc'):.3f} / "
                      f"{mean('nmi'):.3f} / {mean('balance'):.3f} | {mean('cpu_s'):,.0f} | {extra} |")


def plot(args: argparse.Namespace) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for r in _read(args.ours):
        if r["dataset"] != args.dataset or r["seed"] != args.seed:
            continue
        c = np.array([[e, a, b] for e, a, b, _ in r["curve"]], dtype=float)
        w = r["warmup_kmeans"]
        ep = np.concatenate([[r["warmup_epochs"]], c[:, 0]])
        for ax, k, col in ((axes[0], "accuracy", 1), (axes[1], "balance", 2)):
            ax.plot(ep, np.concatenate([[w[k]], c[:, col]]), label=f"fairclust `{r['recipe']}`")
    for csv in sorted(Path(args.authors_dir).glob(f"{args.dataset}-seed{args.seed}*/curve.csv")):
        d = np.genfromtxt(csv, delimiter=",", names=True)
        axes[0].plot(d["epoch"], d["acc"], label=f"authors ({csv.parent.name})", alpha=0.8)
        axes[1].plot(d["epoch"], d["balance"], alpha=0.8)
        break
    axes[0].set(xlabel="epoch (warm-up included)", ylabel="accuracy", title=f"{args.dataset}, seed {args.seed}")
    axes[1].set(xlabel="epoch (warm-up included)", ylabel="Balance", ylim=(0, 1.02))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print("wrote", args.out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--datasets", default="reverse-mnist5k,mnist-usps-mini")
    r.add_argument("--seeds", default="0,1,2")
    r.add_argument("--recipe", default="default")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--total-epochs", type=int, default=None,
                   help="the recipe's epochs, warm-up included (the paper recipe's constant learning rate and no "
                        "stopping rule make a shorter run an exact prefix of the 300-epoch one)")
    r.add_argument("--warmup-epochs", type=int, default=None)
    r.add_argument("--out", default="fcmi_parity.jsonl")
    t = sub.add_parser("table")
    t.add_argument("--ours", required=True)
    t.add_argument("--authors", required=True)
    g = sub.add_parser("plot")
    g.add_argument("--ours", required=True)
    g.add_argument("--authors-dir", required=True)
    g.add_argument("--dataset", default="reverse-mnist5k")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", default="fcmi_parity_curves.png")
    args = p.parse_args()
    {"run": run, "table": table, "plot": plot}[args.cmd](args)


if __name__ == "__main__":
    main()
