"""Several sensitive attributes (docs/results.md, "Several sensitive attributes"): one attribute vs
``marginal`` vs ``intersection``, Acc and each attribute's Balance, on data with two real attributes.

Data sets: ``mnist-usps-contrast`` (images; attributes source and contrast) and its table twin
``contrast-table`` (the same digits at 16 x 16 as a CSV of 256 pixel columns with columns
``source``, ``contrast`` and ``digit``, loaded as ``fairclust run --dataset T.csv --sensitive
source,contrast --label digit`` loads it). Variants: ``source`` / ``contrast`` (fair w.r.t. that
attribute alone), ``marginal`` and ``intersection`` (both attributes). One cold-cache run of the
method each (default recipe), one JSON line per run to ``--out`` (appended; ``--resume`` skips
runs already there), a Markdown table at the end.

    python bench/attributes.py --seeds 0 --out runs/attributes.jsonl
    python bench/attributes.py --datasets contrast-table --methods dfc,fcmi --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from fairclust import runner
from fairclust.data import load_dataset
from fairclust.data.registry import Dataset, with_attributes

VARIANTS = ("source", "contrast", "marginal", "intersection")


def contrast_table(folder: Path) -> Path:
    """``mnist-usps-contrast`` at 16 x 16 as a CSV table (256 pixel columns, source, contrast, digit)."""
    import pandas as pd

    ds = load_dataset("mnist-usps-contrast")
    small = F.avg_pool2d(torch.from_numpy(ds.X), 2).reshape(ds.n_samples, -1).numpy()
    df = pd.DataFrame(np.round(small, 4), columns=[f"p{i}" for i in range(small.shape[1])])
    for name, values in ds.attributes.items():
        df[name] = values
    df["digit"] = ds.y
    path = folder / "contrast-table.csv"
    df.to_csv(path, index=False)
    return path


def variant_data(ds: Dataset, variant: str) -> tuple[Dataset, dict]:
    """The data set as the variant sees it, and the method's options."""
    if variant in ("marginal", "intersection"):
        return ds, {"fairness": variant}
    one = with_attributes(ds.name, ds.X, {variant: ds.attributes[variant]}, ds.y, kind=ds.kind)
    return one, {}


def score(ds: Dataset, labels: np.ndarray, k: int) -> dict:
    """Acc and, for every attribute and the intersection, Balance (of its maximum) and MNCE."""
    full = runner.evaluate(ds, labels, k)
    return {"accuracy": full["accuracy"], "nmi": full["nmi"],
            "attributes": {n: {key: a[key] for key in ("balance", "balance_max", "mnce")}
                           for n, a in full["attributes"].items()},
            "intersection": {key: full["intersection"][key] for key in ("balance", "balance_max", "mnce")}}


def one_run(ds: Dataset, method: str, variant: str, seed: int) -> dict:
    data, options = variant_data(ds, variant)
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        rec = runner.run_method(data, method, n_clusters=ds.n_classes, seed=seed, options={**options,
                                "cache_dir": cache}, figures=False, curve=False)
        seconds = time.perf_counter() - t0
    labels = np.asarray(rec["_estimator"].labels_)
    return {"dataset": ds.name, "method": method, "variant": variant, "seed": seed, "seconds": seconds,
            **score(ds, labels, ds.n_classes)}


def table(rows: list[dict]) -> str:
    names = list(rows[0]["attributes"]) if rows else []
    head = ("| data set | method | fair w.r.t. | seeds | Acc | " + " | ".join(f"{n} Balance (of max)" for n in names)
            + " | intersection Balance (of max) | seconds |\n|" + " --- |" * (7 + len(names)))
    lines = [head]
    keys = sorted({(r["dataset"], r["method"], r["variant"]) for r in rows},
                  key=lambda t: (t[0], t[1], VARIANTS.index(t[2])))
    for name, method, variant in keys:
        rs = [r for r in rows if (r["dataset"], r["method"], r["variant"]) == (name, method, variant)]

        def ms(values, nd=3):
            v = np.asarray(values, dtype=float)
            return f"{v.mean():.{nd}f}" + (f" ± {v.std():.{nd}f}" if len(v) > 1 else "")

        def bal(get):
            return (f"{ms([get(r)['balance'] for r in rs])} "
                    f"({np.mean([get(r)['balance'] / get(r)['balance_max'] for r in rs]):.0%})")

        cells = [bal(lambda r, n=n: r["attributes"][n]) for n in names]
        lines.append(f"| {name} | {method} | {variant} | {len(rs)} | {ms([r['accuracy'] for r in rs])} | "
                     + " | ".join(cells) + f" | {bal(lambda r: r['intersection'])} | "
                     f"{ms([r['seconds'] for r in rs], 0)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="mnist-usps-contrast,contrast-table")
    ap.add_argument("--methods", default="dfc")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--out", default="runs/attributes.jsonl")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--table-only", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not args.table_only:
        done = {(r["dataset"], r["method"], r["variant"], r["seed"]) for r in rows} if args.resume else set()
        with tempfile.TemporaryDirectory() as tmp:
            for name in args.datasets.split(","):
                if name == "contrast-table":
                    ds = load_dataset(str(contrast_table(Path(tmp))), sensitive=["source", "contrast"], label="digit")
                    ds.name = "contrast-table"
                else:
                    ds = load_dataset(name)
                for method in args.methods.split(","):
                    for variant in args.variants.split(","):
                        for seed in (int(s) for s in args.seeds.split(",")):
                            if (ds.name, method, variant, seed) in done:
                                continue
                            row = one_run(ds, method, variant, seed)
                            rows.append(row)
                            with out.open("a") as fh:
                                fh.write(json.dumps(row) + "\n")
                            print(f"{ds.name} {method} {variant} seed {seed}: acc {row['accuracy']:.3f} "
                                  + " ".join(f"{n} {a['balance']:.2f}/{a['balance_max']:.2f}"
                                             for n, a in row["attributes"].items())
                                  + f" {row['seconds']:.0f}s", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
