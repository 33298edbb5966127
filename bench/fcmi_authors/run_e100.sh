#!/usr/bin/env bash
# Authors' FCMI, seeds 1-2, first 100 of the released 300 epochs (no LR decay: identical to the first 100 epochs of a full run)
set -u
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
ROOT=/tmp/fcmi-authors; OUTD=/work/fcmi_parity
export FCMI_EPOCHS=100
for SEED in 1 2; do
  for NAME in reverse-mnist5k mnist-usps-mini; do
    D=$OUTD/$NAME-seed$SEED-e100; mkdir -p "$D"
    if [[ -f "$D/DONE" ]]; then continue; fi
    echo "$(date -Is) start $NAME seed $SEED e100" >> $OUTD/run_all.log
    FCMI_NPZ=$ROOT/$NAME.npz /usr/bin/time -v -o "$D/time.txt" bash $ROOT/run_authors.sh $SEED > "$D/stdout.txt" 2>&1
    rc=$?
    cp $ROOT/runs/seed$SEED-e100/log.txt "$D/log.txt"
    cp $ROOT/labels-seed$SEED-e100.npy "$D/labels.npy" 2>/dev/null
    cp $ROOT/labels-seed$SEED-e100-evals.npz "$D/evals.npz" 2>/dev/null
    echo "$(date -Is) end $NAME seed $SEED e100 rc=$rc" >> $OUTD/run_all.log
    [[ $rc -eq 0 ]] && touch "$D/DONE"
  done
done
echo "$(date -Is) e100 all done" >> $OUTD/run_all.log
