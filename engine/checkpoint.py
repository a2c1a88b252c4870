"""Checkpoints: tensors in safetensors, everything else in JSON; no pickle anywhere.

A checkpoint ``step-000123`` is two files written atomically, then
``latest.json`` is switched to point at it, so a kill at any moment leaves the
previous checkpoint intact and loadable. Loading validates the JSON first
(:mod:`artengine.checkpoint_files`).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save

from . import atomic
from .checkpoint_files import (
    LATEST,
    NAME,
    TRAINER_KEYS,
    checkpoint_name,
    damaged,
    intact_hint,
    names_on_disk,
    read_latest,
    read_meta,
    safetensors_problem,
)
from .errors import CheckpointError

__all__ = ["LATEST", "TRAINER_KEYS", "checkpoint_name", "intact_hint", "latest_checkpoint", "load_checkpoint",
           "load_optimizer_state", "save_checkpoint", "supersede_newer"]


def flatten_state(prefix: str, state: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Move every tensor of a nested state (e.g. an optimizer's) into ``tensors`` and return a
    JSON-ready skeleton that refers to them by key."""
    if isinstance(state, torch.Tensor):
        key = prefix
        tensors[key] = state.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(state, dict):
        return {"__dict__": [[_key(k), flatten_state(f"{prefix}.{k}", v, tensors)] for k, v in state.items()]}
    if isinstance(state, (list, tuple)):
        return {"__list__": [flatten_state(f"{prefix}.{i}", v, tensors) for i, v in enumerate(state)],
                "tuple": isinstance(state, tuple)}
    if isinstance(state, float) and not np.isfinite(state):
        return {"__float__": repr(state)}
    return state


def _key(k: Any) -> Any:
    return {"__int__": k} if isinstance(k, int) and not isinstance(k, bool) else k


def _unkey(k: Any) -> Any:
    return k["__int__"] if isinstance(k, dict) and "__int__" in k else k


def unflatten_state(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten_state`."""
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__dict__" in skeleton:
            return {_unkey(k): unflatten_state(v, tensors) for k, v in skeleton["__dict__"]}
        if "__list__" in skeleton:
            items = [unflatten_state(v, tensors) for v in skeleton["__list__"]]
            return tuple(items) if skeleton.get("tuple") else items
        if "__float__" in skeleton:
            return float(skeleton["__float__"])
    return skeleton


def load_optimizer_state(optimizer: torch.optim.Optimizer, skeleton: Any, tensors: dict[str, torch.Tensor]) -> None:
    """Restore an optimizer from :func:`flatten_state`'s skeleton and tensors, each per-parameter state
    tensor in its parameter's memory layout: checkpoints store tensors contiguous, and a fused optimizer
    walks a channels-last weight and its moments as raw memory, so they must be laid out alike."""
    optimizer.load_state_dict(unflatten_state(skeleton, tensors))
    for param, state in optimizer.state.items():
        for name, value in state.items():
            if isinstance(value, torch.Tensor) and value.shape == param.shape and value.stride() != param.stride():
                state[name] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def rng_state(generators: dict[str, torch.Generator] | None = None) -> tuple[dict, dict]:
    """Capture python, numpy, torch (and named generators') RNG states."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    for name, gen in (generators or {}).items():
        tensors[f"rng.gen.{name}"] = gen.get_state()
    np_state = np.random.get_state()
    meta = {
        "python": _jsonable(random.getstate()),
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
    }
    return tensors, meta


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, tuple):
        return [_jsonable(o) for o in obj]
    return obj


def _tupled(obj: Any) -> Any:
    if isinstance(obj, list):
        return tuple(_tupled(o) for o in obj)
    return obj


def set_rng_state(tensors: dict[str, torch.Tensor], meta: dict,
                  generators: dict[str, torch.Generator] | None = None) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    for name, gen in (generators or {}).items():
        key = f"rng.gen.{name}"
        if key in tensors:
            gen.set_state(tensors[key])
    random.setstate(_tupled(meta["python"]))
    n = meta["numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), *n[2:]))


def save_checkpoint(folder: str | Path, step: int, tensors: dict[str, torch.Tensor], meta: dict,
                    keep: int = 2) -> Path:
    """Write ``step-N.safetensors`` + ``step-N.json`` atomically, then point latest.json at them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = checkpoint_name(step)
    data = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    atomic.write_bytes(folder / f"{name}.safetensors", data)
    atomic.write_json(folder / f"{name}.json", {"step": step, **meta})
    atomic.write_json(folder / LATEST, {"checkpoint": name, "step": step})
    _prune(folder, keep, protect=name)
    return folder / f"{name}.safetensors"


def _prune(folder: Path, keep: int, protect: str) -> None:
    names = sorted({p.name.split(".")[0] for p in folder.glob("step-*.json")})
    for old in names[:-keep]:
        if old == protect:
            continue
        for suffix in (".safetensors", ".json"):
            (folder / f"{old}{suffix}").unlink(missing_ok=True)


def supersede_newer(folder: str | Path, name: str) -> Path | None:
    """Resuming from an older checkpoint ``name``: move the newer ones (another line of training) into
    ``superseded-after-<name>/`` so pruning and latest.json see only this line; nothing is deleted."""
    import os

    folder = Path(folder)
    newer = [n for n in names_on_disk(folder) if n > name]
    if not newer:
        return None
    aside = folder / f"superseded-after-{name}"
    aside.mkdir(exist_ok=True)
    for other in newer:
        for suffix in (".safetensors", ".json"):
            if (folder / f"{other}{suffix}").exists():
                os.replace(folder / f"{other}{suffix}", aside / f"{other}{suffix}")
    atomic.write_json(folder / LATEST, {"checkpoint": name, "step": int(name.split("-")[1])})
    return aside


def latest_checkpoint(folder: str | Path) -> str | None:
    """The name of the newest complete checkpoint, or None.

    latest.json decides; a latest.json that names something else than a checkpoint of this
    folder is refused (CheckpointError). Without one, the newest pair on disk is taken."""
    folder = Path(folder)
    name = read_latest(folder)
    if name is not None and (folder / f"{name}.safetensors").is_file() and (folder / f"{name}.json").is_file():
        return name
    names = [n for n in names_on_disk(folder) if (folder / f"{n}.safetensors").is_file()]
    return names[-1] if names else None


def load_checkpoint(folder: str | Path, name: str | None = None, device: str | torch.device = "cpu", *,
                    required: tuple[str, ...] = ()) -> tuple[dict[str, torch.Tensor], dict]:
    """Load (tensors, meta) of checkpoint ``name`` (default: the latest), both validated.

    ``required``: keys the JSON must hold besides ``step`` (a trainer passes TRAINER_KEYS)."""
    folder = Path(folder)
    if name is not None and not NAME.fullmatch(name):
        raise CheckpointError(f"--checkpoint {name!r} is not a checkpoint name",
                              hint=intact_hint(folder, "names look like step-000000500; "))
    name = name or latest_checkpoint(folder)
    if name is None:
        raise CheckpointError(f"no checkpoint in {str(folder)!r}",
                              hint="train first, or pass the run directory of a finished run")
    tensor_path = folder / f"{name}.safetensors"
    if not tensor_path.is_file():
        raise CheckpointError(f"checkpoint {name!r} is not in {str(folder)!r}", hint=intact_hint(folder))
    meta = read_meta(folder, name, required)
    problem = safetensors_problem(tensor_path)
    if problem:
        raise damaged(folder, tensor_path, problem)
    try:
        tensors = load_file(str(tensor_path), device=str(device))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise damaged(folder, tensor_path, f"safetensors cannot read it ({exc})") from None
    if "rng" in required and "rng.torch" not in tensors:
        raise damaged(folder, tensor_path, "it holds no 'rng.torch' state")
    return tensors, meta


def load_error_reason(exc: BaseException) -> str:
    """Why ``torch.load(..., weights_only=True)`` (or safetensors) refused a file, in one short line.

    torch's own message advises ``weights_only=False``, i.e. running the file's pickled code: artengine
    never does that, so the advice is replaced by what it means."""
    import pickle

    text = str(exc)
    if isinstance(exc, pickle.UnpicklingError) or "weights_only" in text:
        return "it holds pickled Python objects, not only tensors (artengine never runs a file's pickled code)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:200]


def read_weights_file(path: Path) -> Any:
    """What a local weights file holds: a .safetensors file's tensors, or a .pth loaded with
    ``weights_only`` (never its pickled code). Raises ``ValueError`` with :func:`load_error_reason`'s
    one-line reason, so each caller can name the file and what it expected in its own error."""
    try:
        if path.suffix == ".safetensors":
            return load_file(str(path))
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load and safetensors raise many kinds
        raise ValueError(load_error_reason(exc)) from None


def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's state dict under ``prefix.``, for one safetensors file holding many modules."""
    return {f"{prefix}.{k}": v for k, v in module.state_dict().items()}


def load_module(prefix: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Load ``prefix.*`` tensors into ``module`` (strict)."""
    start = len(prefix) + 1
    state = {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines if line.startswith(("size mismatch", "Missing key", "Unexpected key"))),
                      lines[-1] if lines else "")
        raise CheckpointError(f"checkpoint does not match the {prefix} network: {detail[:300]}",
                              hint="was the run's config.json changed after training?") from None
