"""What the multi-process tests share: a free local port and joining the gloo process group."""

from __future__ import annotations

import os
import socket

import torch

from fairclust import distributed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def join(rank: int, port: int, world: int):
    """This process as rank ``rank`` of ``world`` on the CPU (one torch thread); returns the context."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    return distributed.context("cpu")
