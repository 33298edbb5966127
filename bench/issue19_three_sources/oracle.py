"""Issue 19, three sources (prototype, kept as it ran). How well a transfer classifier trained on the reference's TRUE labels reads another group (raw vs canonical).
    python bench/issue19_three_sources/oracle.py three-sources-mini canon16 2 [epochs]
"""
import sys, numpy as np
from fairclust.align import canonical_frame
from fairclust.data import load_dataset
from fairclust.metrics import factorize
from fairclust.align import _transfer_probs, _transfer_input
name = sys.argv[1]; frame = sys.argv[2]
import fairclust.align as al; al.TRANSFER_EPOCHS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
ds = load_dataset(name)
codes = factorize(np.asarray(ds.sensitive))[1]; y = factorize(np.asarray(ds.y))[1]
X = ds.X if frame == "raw" else canonical_frame(ds.X, size=int(frame[5:]))
a, b = 0, int(sys.argv[3])
ma, mb = codes == a, codes == b
A, B = _transfer_input(X[ma]), _transfer_input(X[mb])
pr = _transfer_probs(A, y[ma], B, 10, 0)
print(frame, "MNIST-trained (true labels) acc on group", b, np.mean(pr.argmax(1) == y[mb]).round(3))
C = np.zeros((10, 10)); np.add.at(C, (y[mb], pr.argmax(1)), 1); print(C.astype(int))
pr2 = _transfer_probs(B, y[mb], A, 10, 1)
print("reverse acc", np.mean(pr2.argmax(1) == y[ma]).round(3))
