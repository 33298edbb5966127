"""Fitted state that survives ``save`` / ``load``: every attribute a fit sets, none listed by hand.

:func:`fitted_state` takes every public attribute ending in ``_`` (scikit-learn's mark of
fitted state) and encodes it as tensors and plain strings only, so the file loads with
``torch.load(..., weights_only=True)``; :func:`restore_fitted_state` sets them back.
Networks (``torch.nn.Module``) are stored as state dicts and rebuilt by the estimator's
``_empty_module(name)`` before their weights are loaded.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoint import load_safely
from .errors import FairclustError
from .files import atomic_save


def plain(v: Any) -> Any:
    """NumPy scalars and arrays inside JSON values as Python numbers and lists."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def fitted_names(est: Any) -> list[str]:
    """The fitted attributes of ``est``: public, ending in ``_``, in the order they were set."""
    return [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]


def _encode(v: Any) -> dict:
    if isinstance(v, torch.nn.Module):
        return {"kind": "module", "state": {k: t.detach().cpu() for k, t in v.state_dict().items()}}
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "biuf":
            return {"kind": "array", "value": torch.from_numpy(np.ascontiguousarray(v))}
        return {"kind": "array-json", "dtype": v.dtype.str, "value": json.dumps(v.tolist())}
    if dataclasses.is_dataclass(v) and not isinstance(v, type) and type(v).__module__.startswith("fairclust."):
        return {"kind": "dataclass", "type": f"{type(v).__module__}:{type(v).__qualname__}",
                "value": json.dumps(dataclasses.asdict(v), default=plain)}
    if isinstance(v, tuple):
        return {"kind": "tuple", "value": json.dumps(list(v), default=plain)}
    return {"kind": "json", "value": json.dumps(v, default=plain)}


def fitted_state(est: Any) -> dict:
    """Every fitted attribute of ``est``, encoded (see the module docstring)."""
    return {name: _encode(getattr(est, name)) for name in fitted_names(est)}


def restore_fitted_state(est: Any, state: dict) -> None:
    """Set the attributes :func:`fitted_state` encoded back on ``est`` (modules in eval mode, built
    after every other attribute, which they may need)."""
    for name, item in sorted(state.items(), key=lambda kv: kv[1]["kind"] == "module"):
        kind = item["kind"]
        if kind == "dataclass":
            module, _, qualname = item["type"].partition(":")
            if not module.startswith("fairclust."):
                raise ValueError(f"fitted attribute {name} names a class outside fairclust: {item['type']}")
            value: Any = getattr(importlib.import_module(module), qualname)(**json.loads(item["value"]))
        elif kind == "module":
            module = est._empty_module(name)
            module.load_state_dict(item["state"])
            value = module.eval()
        elif kind == "array":
            value = item["value"].numpy()
        elif kind == "array-json":
            value = np.asarray(json.loads(item["value"]), dtype=np.dtype(item["dtype"]))
        elif kind == "tuple":
            value = tuple(json.loads(item["value"]))
        else:
            value = json.loads(item["value"])
        setattr(est, name, value)


def save_model(est: Any, path: str | Path, fmt: str, version: int) -> None:
    """Write ``est`` (its parameters and every fitted attribute) to ``path``, atomically."""

    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in est.get_params().items()}
    obj = {"format": fmt, "version": version, "params": json.dumps(params, default=plain), "fitted": fitted_state(est)}
    atomic_save(path, lambda fh: torch.save(obj, fh))


def load_model(cls: type, path: str | Path, fmt: str, version: int) -> Any:
    """An estimator of ``cls`` as :func:`save_model` wrote it; never executes code from the file."""

    path = Path(path)
    if not path.is_file():
        raise FairclustError(f"model file {str(path)!r} does not exist; pass the path given to save()")
    obj = load_safely(path, "fairclust model file")
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise FairclustError(f"{str(path)!r} is not a {fmt} model file")
    if obj.get("version") != version:
        raise FairclustError(f"{str(path)!r} was written by another fairclust version (format {obj.get('version')}, "
                             f"this one reads {version}); re-fit and save the model")
    model = cls(**json.loads(obj["params"]))
    restore_fitted_state(model, obj["fitted"])
    return model
