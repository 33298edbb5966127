"""Extract per-epoch curves and final results from the authors' FCMI runs.

For each /work/fcmi_parity/NAME-seedS/ with DONE: reads log.txt (the authors' printed ACC/NMI/Bal per
epoch, 0.1-% precision), evals.npz (per-epoch raw labels and timestamps recorded by the wrapper) and
time.txt (/usr/bin/time -v). Writes NAME-seedS/curve.csv and results.jsonl.
Exact per-epoch metrics are recomputed from the labels with the same formulas as the authors'
evaluate.cluster_metrics (Munkres ACC, sklearn NMI arithmetic) and evaluate.my_balance
(min_k min_g/max_g of counts, zero counts -> 1e-5).
"""
import glob, json, os, re, sys
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import normalized_mutual_info_score

OUT = os.environ.get("FCMI_PARITY_DIR", "/work/fcmi_parity")


sys.path[:0] = ["/tmp/fcmi-authors/patched", "/tmp/fcmi-authors/pylib"]
import torch  # noqa: E402
torch.set_num_threads(1)
import evaluate as authors_eval  # noqa: E402  (the authors' evaluate.py, CPU-patched copy)


def acc(y, p):  # the authors' ACC (Munkres via get_y_preds), as printed in their log
    return float(authors_eval.cluster_metrics(y, p)[2])


def acc_hungarian(y, p):  # plain Hungarian ACC (differs from the authors' only for degenerate labelings)
    k = max(y.max(), p.max()) + 1
    w = np.zeros((k, k), dtype=np.int64)
    np.add.at(w, (p, y), 1)
    r, c = linear_sum_assignment(-w)
    return w[r, c].sum() / len(y)


def balance(p, g, K):
    G = g.max() + 1
    cnt = np.zeros((K, G))
    np.add.at(cnt, (p, g), 1)
    cnt[cnt == 0] = 1e-5
    return float(np.min(cnt.min(1) / cnt.max(1)))


def timev(path):
    d = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("User time"): d["user"] = float(line.split(":")[-1])
        if line.startswith("System time"): d["sys"] = float(line.split(":")[-1])
        if line.startswith("Elapsed (wall clock)"):
            v = line.split(": ")[-1].split(":")
            d["wall"] = sum(float(x) * 60 ** i for i, x in enumerate(reversed(v)))
        if line.startswith("Maximum resident"): d["maxrss_kb"] = int(line.split(":")[-1])
    return d


rows = []
for d in sorted(glob.glob(f"{OUT}/*-seed*/")):
    if not os.path.exists(d + "DONE"):
        continue
    name, seed, _ = re.match(r".*/(.+)-seed(\d+)(?:-e(\d+))?/$", d).groups()  # -eE: the first E epochs only
    log = open(d + "log.txt").read().splitlines()
    printed = []  # (acc%, nmi%, bal%) per evaluation, in order
    for line in log:
        m = re.match(r"ACC=\s*([\d.]+)\|.*NMI=\s*([\d.]+)\|.*Bal=\s*([\d.]+)\|", line)
        if m:
            printed.append(tuple(float(x) / 100 for x in m.groups()))
    losses = [line for line in log if line.startswith("Epoch [")]
    timers = [line for line in log if re.match(r"(Train|Infer|All)\s+\[", line)]
    js = json.loads(log[-1])
    z = np.load(d + "evals.npz")
    t, preds, y, g = z["t"], z["preds"].astype(np.int64), z["y"], z["g"]
    K = len(np.unique(y))
    E = js["epochs"]
    assert preds.shape[0] == E + 1, preds.shape
    # evaluation i (i = 0..E-1) is at the start of epoch i+1 = after i training epochs; row E = final
    # seconds: epoch i+1 runs from evaluation i to evaluation i+1 (train of epoch i+1 + next inference/k-means)
    with open(d + "curve.csv", "w") as f:
        f.write("epoch,acc,nmi,balance,printed_acc,printed_nmi,printed_balance,seconds,phase\n")
        for i in range(E + 1):
            a = acc(y, preds[i]); n = normalized_mutual_info_score(y, preds[i]); b = balance(preds[i], g, K)
            pa, pn, pb = printed[i] if i < len(printed) else ("", "", "")
            sec = f"{t[i] - t[i - 1]:.3f}" if i >= 1 else ""
            phase = "init" if i == 0 else ("warmup" if i <= js["warmup_epochs"] else "clustering")
            f.write(f"{i},{a:.6f},{n:.6f},{b:.6f},{pa:.3f},{pn:.3f},{pb:.3f},{sec},{phase}\n" if pa != "" else
                    f"{i},{a:.6f},{n:.6f},{b:.6f},,,,{sec},{phase}\n")
    tv = timev(d + "time.txt")
    # SIGSTOP pauses (by another user of the shared machine) show up as one huge epoch: estimate them
    secs = np.diff(t)
    med = float(np.median(secs))
    paused = float(sum(s_ - med for s_ in secs if s_ > 5 * med))
    # convergence: first epoch e such that |acc_e' - acc_final| <= 0.01 for every e' >= e (same for NMI)
    accs = np.array([acc(y, preds[i]) for i in range(E + 1)])
    nmis = np.array([normalized_mutual_info_score(y, preds[i]) for i in range(E + 1)])
    def conv(v):
        ok = np.abs(v - v[-1]) <= 0.01
        bad = np.where(~ok)[0]
        return int(bad[-1] + 1) if len(bad) else 0
    def first(v):
        return int(np.argmax(np.abs(v - v[-1]) <= 0.01))
    # consistency checks against the wrapper's JSON (final labels)
    fa = acc(y, preds[E]); fn = normalized_mutual_info_score(y, preds[E]); fb = balance(preds[E], g, K)
    assert abs(fa - js["acc"]) < 1e-9 and abs(fn - js["nmi"]) < 1e-6 and abs(fb - js["balance"]) < 1e-5, (fa, fn, fb, js)
    rows.append({
        "dataset": name, "seed": int(seed), "acc": js["acc"], "nmi": js["nmi"], "balance": js["balance"],
        "ari": js["ari"], "wall_s": tv["wall"], "cpu_s": tv["user"] + tv["sys"], "user_s": tv["user"],
        "sys_s": tv["sys"], "maxrss_kb": tv["maxrss_kb"], "epochs": E, "warmup_epochs": js["warmup_epochs"],
        "n": js["n"], "authors_last_eval": js["authors_last_eval"],
        "seconds_per_warmup_epoch": js["seconds_per_warmup_epoch"],
        "seconds_per_clustering_epoch": js["seconds_per_clustering_epoch"], "setup_seconds": js["setup_seconds"],
        "wrapper_wall_seconds": js["wall_seconds"], "paused_s_est": paused,
        "wall_s_minus_pause": tv["wall"] - paused, "median_epoch_s": med,
        "acc_converged_epoch": conv(accs), "acc_first_within_001_epoch": first(accs),
        "nmi_converged_epoch": conv(nmis), "max_acc": float(accs.max()), "max_acc_epoch": int(accs.argmax()), "timer_lines": timers[-3:],
    })
with open(f"{OUT}/results.jsonl", "w") as f:
    for r in sorted(rows, key=lambda r: (r["dataset"], r["seed"])):
        f.write(json.dumps(r) + "\n")
print(len(rows), "runs")
