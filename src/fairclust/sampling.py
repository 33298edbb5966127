"""Group-balanced draws: mini-batches (every batch holds ``b`` samples of every group) and
fixed per-group samples."""

from __future__ import annotations

import numpy as np


def sample_per_group(groups: np.ndarray, per: int, rng: np.random.Generator, *,
                     draw_small: bool = True) -> np.ndarray:
    """Sorted indices of ``per`` samples of every group (all of a smaller group), drawn
    without replacement with ``rng``, group by group in sorted group order.

    ``draw_small=False`` keeps a group of at most ``per`` samples without a draw (the
    ``--limit`` subsets were drawn that way; the rng then moves on to the next group
    without being advanced, so those subsets stay the same).
    """
    keep = []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        if not draw_small and len(members) <= per:
            keep.append(members)
        else:
            keep.append(rng.choice(members, min(int(per), len(members)), replace=False))
    return np.sort(np.concatenate(keep))


class BalancedSampler:
    """Draws ``batch_size`` indices from every group per batch.

    Each group has its own shuffled order, restarted (reshuffled) when exhausted, so
    small groups are oversampled. The state is a plain dict so it can be checkpointed.
    """

    def __init__(self, group_codes: np.ndarray, batch_size: int, seed: int):
        self.members = [np.flatnonzero(group_codes == g) for g in range(int(group_codes.max()) + 1)]
        self.batch_size = int(batch_size)
        self.rng = np.random.default_rng(seed)
        self.orders = [self.rng.permutation(m) for m in self.members]
        self.pos = [0] * len(self.members)

    def _take(self, g: int) -> np.ndarray:
        out = []
        need = self.batch_size
        while need > 0:
            order = self.orders[g]
            take = order[self.pos[g]:self.pos[g] + need]
            out.append(take)
            self.pos[g] += len(take)
            need -= len(take)
            if self.pos[g] >= len(order):
                self.orders[g] = self.rng.permutation(self.members[g])
                self.pos[g] = 0
        return np.concatenate(out)

    def next(self) -> np.ndarray:
        """Indices of the next batch: group 0's ``batch_size`` first, then group 1's, ..."""
        return np.concatenate([self._take(g) for g in range(len(self.members))])

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "orders": [o.tolist() for o in self.orders], "pos": list(self.pos)}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.orders = [np.asarray(o, dtype=np.int64) for o in state["orders"]]
        self.pos = list(state["pos"])
