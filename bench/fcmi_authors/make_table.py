"""Print the results table (markdown) and 3-seed means from results.jsonl."""
import json
import os
import numpy as np
rows = [json.loads(l) for l in open(os.path.join(os.environ.get("FCMI_PARITY_DIR", "/work/fcmi_parity"), "results.jsonl"))]
print("| data set | seed | Acc | NMI | Balance | wall s | wall s minus pause | CPU s (user+sys) | s/epoch (median) | Acc conv. epoch | authors' last eval (299 ep) Acc / NMI / Bal |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["dataset"] != "reverse-mnist5k", r["seed"])):
    a = r["authors_last_eval"]
    print(f"| {r['dataset']} | {r['seed']} | {r['acc']:.4f} | {r['nmi']:.4f} | {r['balance']:.4f} | {r['wall_s']:.0f} | "
          f"{r['wall_s_minus_pause']:.0f} | {r['cpu_s']:.0f} | {r['median_epoch_s']:.2f} | {r['acc_converged_epoch']} | "
          f"{a['acc']:.4f} / {a['nmi']:.4f} / {a['balance']:.4f} |")
print()
print("| data set | runs | Acc mean ± sd | NMI mean ± sd | Balance mean ± sd | wall s mean (minus pause) | CPU s mean |")
print("|---|---|---|---|---|---|---|")
for ds in ["reverse-mnist5k", "mnist-usps-mini"]:
    rr = [r for r in rows if r["dataset"] == ds]
    if not rr:
        continue
    f = lambda k: np.array([r[k] for r in rr])
    ms = lambda v: f"{v.mean():.4f} ± {v.std(ddof=1) if len(v) > 1 else 0:.4f}"
    print(f"| {ds} | {len(rr)} | {ms(f('acc'))} | {ms(f('nmi'))} | {ms(f('balance'))} | {f('wall_s_minus_pause').mean():.0f} | {f('cpu_s').mean():.0f} |")
