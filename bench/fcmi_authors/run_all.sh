#!/usr/bin/env bash
# Runs the authors' FCMI (released settings) sequentially: reverse-mnist5k / mnist-usps-mini x seeds 0,1,2.
set -u
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
ROOT=/tmp/fcmi-authors; OUTD=/work/fcmi_parity
for SEED in 0 1 2; do
  for NAME in reverse-mnist5k mnist-usps-mini; do
    D=$OUTD/$NAME-seed$SEED; mkdir -p "$D"
    if [[ -f "$D/DONE" ]]; then continue; fi
    echo "$(date -Is) start $NAME seed $SEED" >> $OUTD/run_all.log
    FCMI_NPZ=$ROOT/$NAME.npz /usr/bin/time -v -o "$D/time.txt" bash $ROOT/run_authors.sh $SEED > "$D/stdout.txt" 2>&1
    rc=$?
    cp $ROOT/runs/seed$SEED/log.txt "$D/log.txt"
    cp $ROOT/labels-seed$SEED.npy "$D/labels.npy" 2>/dev/null
    cp $ROOT/labels-seed$SEED-authors-last-eval.npy "$D/labels-authors-last-eval.npy" 2>/dev/null
    cp $ROOT/labels-seed$SEED-evals.npz "$D/evals.npz" 2>/dev/null
    echo "$(date -Is) end $NAME seed $SEED rc=$rc" >> $OUTD/run_all.log
    [[ $rc -eq 0 ]] && touch "$D/DONE"
  done
done
echo "$(date -Is) all done" >> $OUTD/run_all.log
