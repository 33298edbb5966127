#!/usr/bin/env bash
# One run of the authors' FCMI (PengxinZeng/2023-CVPR-FCMI @ 9750ccf, CPU-patched copy in
# /tmp/fcmi-authors/patched) on /tmp/fcmi-authors/digits-reverse.npz, with the released settings
# (main.py defaults, as in TrainRevMnist.txt: 300 epochs, WarmAll 20, batch 512, ...), 1 CPU thread.
#
#   bash /tmp/fcmi-authors/run_authors.sh SEED
#
# Optional environment:
#   FCMI_EPOCHS=N    total epochs instead of the released 300 (smoke tests only)
#   FCMI_WARMALL=W   reconstruction-only epochs instead of the released 20 (smoke tests only)
#   FCMI_NPZ=path    another .npz (X: N x 1 x H x W in [0,1], sensitive, y)
#   FCMI_RESIZE28=1  resize the images to 28 x 28 (the authors' MNIST geometry) instead of
#                    widening the network's flatten layer to 32 x 32
# Output: the authors' log, then ONE JSON line (acc, nmi, balance, wall_seconds, ...) as the last
# line; labels in /tmp/fcmi-authors/labels-seed$SEED.npy (with FCMI_EPOCHS set:
# labels-seed$SEED-e$FCMI_EPOCHS.npy); full log in /tmp/fcmi-authors/runs/<tag>/log.txt.
set -euo pipefail
SEED=${1:?usage: run_authors.sh SEED}
ROOT=/tmp/fcmi-authors
PY=/work/main/.venv/bin/python

export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export FCMI_NPZ=${FCMI_NPZ:-$ROOT/digits-reverse.npz}
export FCMI_HOME=$ROOT/home/
export PYTHONWARNINGS=ignore
export PYTHONHASHSEED=0

EXTRA=()
TAG=seed$SEED
if [[ -n "${FCMI_EPOCHS:-}" ]]; then EXTRA+=(--train_epoch "$FCMI_EPOCHS"); TAG+=-e$FCMI_EPOCHS; fi
if [[ -n "${FCMI_WARMALL:-}" ]]; then EXTRA+=(--WarmAll "$FCMI_WARMALL"); TAG+=-w$FCMI_WARMALL; fi
[[ -n "${FCMI_RESIZE28:-}" ]] && TAG+=-r28
if [[ "$TAG" == "seed$SEED" ]]; then
  export FCMI_LABELS=$ROOT/labels-seed$SEED.npy
else
  export FCMI_LABELS=$ROOT/labels-$TAG.npy
fi

# the authors' code writes ../Checkpoints and ../NpPoints relative to its working directory
RUN=$ROOT/runs/$TAG
rm -rf "$RUN"; mkdir -p "$RUN/work"
cd "$RUN/work"
$PY "$ROOT/run_fcmi_npz.py" --dataset NPZ --seed "$SEED" "${EXTRA[@]}" > "$RUN/log.txt" 2>&1 || {
  rc=$?; tail -n 40 "$RUN/log.txt"; exit $rc; }
grep -v '^{' "$RUN/log.txt" | grep -E '^(ACC=|Epoch \[)' | tail -n 4
tail -n 1 "$RUN/log.txt"
