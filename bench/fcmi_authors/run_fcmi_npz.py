"""Run the authors' (CPU-patched) main.py unchanged, then score its result with the authors' own
evaluation code, print one JSON line, and save the predicted labels.

Usage (through run_authors.sh): python run_fcmi_npz.py <main.py arguments>, e.g.
    --dataset NPZ --seed 0 [--train_epoch E --WarmAll W]
Environment: FCMI_NPZ (the data), FCMI_LABELS (where to save the final labels, .npy).

What is recorded
- The authors evaluate at the START of every epoch (network:394-404): inference() labels every
  sample by argmax <h, c_k> under the centroids the previous epoch trained with, and evaluate2()
  prints ACC/NMI/Bal. Their loop therefore never scores the model after its last epoch; the
  released number (TrainRevMnist.txt) is the evaluation at the start of epoch 300, i.e. after
  299 training epochs (resume of Epoch299.checkpoint). That one is reported as "authors_last_eval".
- After main.py returns, this wrapper calls the same inference() once more (argmax under the
  centroids the last epoch trained with, after all E epochs) and scores it with the same
  functions (evaluate.cluster_metrics, evaluate.my_balance): "acc", "nmi", "balance" and the
  saved labels are these final ones.
"""
import json
import os
import runpy
import sys
import time

T0 = time.time()
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "patched")
sys.path[:0] = [SRC, os.path.join(HERE, "pylib")]

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
import faiss  # noqa: E402

faiss.omp_set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

import evaluate as authors_eval  # noqa: E402
import networkExplicitDecoupleShuffle as authors_net  # noqa: E402

# record every per-epoch evaluation (time, raw labels) without changing what it does
EVALS = []
_evaluate2 = authors_net.evaluate2


def _recording_evaluate2(feature_vec, pred_vec, type_vec, group_vec):
    EVALS.append({"t": time.time(), "pred": np.array(pred_vec, copy=True)})
    return _evaluate2(feature_vec, pred_vec, type_vec, group_vec)


authors_net.evaluate2 = _recording_evaluate2


def score(pred, y, g):
    nmi, ari, acc, _ = authors_eval.cluster_metrics(y, pred)
    bal, _ = authors_eval.my_balance(pred, g, cluster_num=np.unique(y).shape[0], group_num=np.unique(g).shape[0])
    return {"acc": float(acc), "nmi": float(nmi), "ari": float(ari), "balance": float(bal)}


main_py = os.path.join(SRC, "main.py")
sys.argv = [main_py] + sys.argv[1:]
T_TRAIN0 = time.time()
G = runpy.run_path(main_py, run_name="__main__")
T_TRAIN1 = time.time()
net, test_loader, args = G["net"], G["test_loader"], G["args"]

# final evaluation: the authors' inference() (labels = argmax under the centroids of the last epoch)
feature_vec, type_vec, group_vec, pred_vec, _ = authors_net.inference(net, test_loader)
print("Final evaluation (after all {} epochs), authors' evaluate2:".format(args.train_epoch))
_evaluate2(feature_vec, pred_vec, type_vec, group_vec)
final = score(pred_vec, type_vec, group_vec)
last = score(EVALS[-1]["pred"], type_vec, group_vec)

labels_path = os.environ.get("FCMI_LABELS", os.path.join(HERE, "labels-seed{}.npy".format(args.seed)))
np.save(labels_path, np.asarray(pred_vec, dtype=np.int64))
np.save(labels_path.replace(".npy", "-authors-last-eval.npy"), np.asarray(EVALS[-1]["pred"], dtype=np.int64))

# per-epoch wall time: epoch i runs from its evaluation to the next one (the last to the end of main.py)
ts = [e["t"] for e in EVALS] + [T_TRAIN1]
ep = np.diff(ts)
W = args.WarmAll
out = {
    "seed": args.seed,
    "epochs": args.train_epoch,
    "warmup_epochs": W,
    "batch_size": args.batch_size,
    "n": int(len(type_vec)),
    **final,
    "authors_last_eval": {"after_epochs": args.train_epoch - 1, **last},
    "seconds_per_epoch": float(ep.mean()),
    "seconds_per_warmup_epoch": float(ep[:W].mean()) if W > 0 and len(ep[:W]) else None,
    "seconds_per_clustering_epoch": float(ep[W:].mean()) if len(ep[W:]) else None,
    "setup_seconds": float(ts[0] - T0),
    "wall_seconds": float(time.time() - T0),
    "labels": labels_path,
    "threads": torch.get_num_threads(),
}
print(json.dumps(out))
