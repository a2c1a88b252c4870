"""An exported artengine model in onnxruntime: contract checks, providers, batched runs."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ..errors import ArtengineError, ModelFileError
from .controls import ExtraInput, feeds_for, model_extra_inputs

PREFIX = "artengine."
#: kind -> the contract's input; "mapping" (z -> w) and "synthesis" (ws -> image) are the two halves
#: of a style-based generator, exported on request next to it (metadata ``artengine.parts``)
INPUTS = {"generator": "z", "image-to-image": "content", "mapping": "z", "synthesis": "ws"}
OUTPUTS = {"mapping": "w"}  # every other kind outputs "image"
#: the most bytes one run's output may take (a crafted model could ask for terabytes)
MAX_OUTPUT_BYTES = 4 << 30


def providers_for(provider: str) -> list[str]:
    """Execution providers for ``cpu``, ``cuda`` (error if absent) or ``auto`` (CUDA when present)."""
    available = ort.get_available_providers()
    if provider == "cpu":
        return ["CPUExecutionProvider"]
    if provider == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise ArtengineError("onnxruntime has no CUDA provider here",
                                 hint="install onnxruntime-gpu with a CUDA GPU, or use --provider cpu")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if provider == "auto":
        return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    raise ArtengineError(f"unknown provider {provider!r}; use cpu, cuda or auto")


def usable_cores() -> int:
    """Physical cores among the CPUs this process may run on (taskset, cpusets). onnxruntime's own
    default counts all the machine's physical cores, which oversubscribes a container given fewer;
    hyper-threads share a core's vector units, so they are not counted twice."""
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
    cores, cpu, package = set(), None, "0"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "processor":
                    cpu = int(value)
                elif key == "physical id":
                    package = value
                elif key == "core id" and cpu in allowed:
                    cores.add((package, value))
    except (OSError, ValueError):
        cores = set()
    return max(1, min(len(cores) or len(allowed), len(allowed)))


def session_options(threads: int = 0) -> ort.SessionOptions:
    """How every artengine session is built. bench/bench_render.py ``--sessions`` compares it side by
    side with the alternatives (no thread spinning, lower graph optimization levels, no memory arena,
    fewer threads); none was faster on the 2-core AVX2 machine it ran on (loaded). Set explicitly rather
    than left to defaults that may change: full graph optimization (constant folding, fusions, the NCHWc
    conv layout), the CPU memory arena and memory patterns (a batch reuses the previous one's buffers),
    one intra-op pool with a thread per usable core, sequential execution (a generator is one chain)."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.enable_cpu_mem_arena = True
    opts.enable_mem_pattern = True
    opts.intra_op_num_threads = threads if threads > 0 else usable_cores()
    opts.inter_op_num_threads = 1
    return opts


def _not_ours(path: Path, why: str) -> ModelFileError:
    return ModelFileError(f"{str(path)!r} is not an artengine model: {why}",
                          hint="export one with `artengine export RUN_DIR --out model.onnx`")


class Model:
    """A loaded model: its ``artengine.*`` metadata and a session that maps inputs to ``image``."""

    def __init__(self, path: str | Path, *, provider: str = "cpu", threads: int = 0):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelFileError(f"model file {str(self.path)!r} does not exist")
        try:
            self.session = ort.InferenceSession(str(self.path), sess_options=session_options(threads),
                                                providers=providers_for(provider))
        except ArtengineError:
            raise
        except Exception as exc:
            raise _not_ours(self.path, f"onnxruntime cannot load it ({type(exc).__name__})") from None
        raw = self.session.get_modelmeta().custom_metadata_map
        self.metadata: dict[str, str] = {k[len(PREFIX):]: v for k, v in raw.items() if k.startswith(PREFIX)}
        self.kind = self.metadata.get("kind", "")
        if self.kind not in INPUTS:
            raise _not_ours(self.path, "no artengine.kind metadata" if not self.kind
                            else f"unknown kind {self.kind!r}")
        self._check_io()

    def _check_io(self) -> None:
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        want = INPUTS[self.kind]
        self.output = OUTPUTS.get(self.kind, "image")
        if want not in inputs or self.output not in outputs:
            raise _not_ours(self.path, f"a {self.kind} needs input {want!r} and output {self.output!r}, "
                                       f"it has inputs {sorted(inputs)} and outputs {outputs}")
        self.extra_inputs: list[ExtraInput] = model_extra_inputs(self.metadata, self.path)
        declared = {s.name for s in self.extra_inputs}
        missing = sorted(declared - set(inputs))
        if missing:
            raise _not_ours(self.path, f"its metadata declares inputs {missing} that the graph lacks")
        extra = set(inputs) - {want} - declared
        if extra:
            raise _not_ours(self.path, f"unexpected inputs {sorted(extra)}")
        shape = inputs[want].shape
        if INPUTS[self.kind] == "z":
            dim = shape[1] if len(shape) == 2 else None
            if not isinstance(dim, int) or str(dim) != self.metadata.get("latent_dim", str(dim)):
                raise _not_ours(self.path, f"input 'z' has shape {shape}, metadata says latent_dim "
                                           f"{self.metadata.get('latent_dim')}")
            self.latent_dim = dim
        else:
            self.latent_dim = 0
        try:
            self.image_size = int(self.metadata.get("image_size") or 0)
            self.channels = int(self.metadata.get("channels") or 3)
        except ValueError:
            raise _not_ours(self.path, "artengine.image_size / artengine.channels are not numbers") from None
        declared_out = {o.name: o for o in self.session.get_outputs()}[self.output]
        self._check_declared_output(list(declared_out.shape))

    def _check_declared_output(self, shape: list) -> None:
        """The declared output shape must be able to meet the contract: ``image`` [batch, C, H, W],
        a mapping's ``w`` [batch, w_dim]."""
        if self.output != "image":
            if len(shape) != 2:
                raise _not_ours(self.path, f"output {self.output!r} has rank {len(shape)} ({shape}); "
                                           "the contract is [batch, w_dim]")
            return
        if len(shape) != 4:
            raise _not_ours(self.path, f"output 'image' has rank {len(shape)} ({shape}); "
                                       "the contract is [batch, channels, height, width]")
        if isinstance(shape[1], int) and shape[1] != self.channels:
            raise _not_ours(self.path, f"output 'image' has {shape[1]} channels, metadata says {self.channels}")
        if self.kind == "generator" and self.image_size:
            fixed = [d for d in shape[2:] if isinstance(d, int)]
            if any(d != self.image_size for d in fixed):
                raise _not_ours(self.path, f"output 'image' is {shape[2:]}, metadata says image_size "
                                           f"{self.image_size}")

    def _check_output(self, out: np.ndarray, batch: int) -> np.ndarray:
        """What the model returned must match the contract for this batch, or nothing is written."""
        shape = list(out.shape)
        if self.output != "image":
            want: list = [batch, "w_dim"]
            ok = out.ndim == 2 and shape[0] == batch
        else:
            size = [self.image_size] * 2 if self.kind == "generator" and self.image_size else ["H", "W"]
            want = [batch, self.channels, *size]
            ok = out.ndim == 4 and shape[:2] == want[:2] and all(
                not isinstance(w, int) or w == d for w, d in zip(want[2:], shape[2:], strict=True))
        if not ok:
            raise ModelFileError(f"{str(self.path)!r} returned {self.output!r} of shape {shape} for a batch of "
                                 f"{batch}; its contract says {want}",
                                 hint="the file is damaged or was not written by `artengine export`; export it again")
        return out

    @property
    def providers(self) -> list[str]:
        return self.session.get_providers()

    @property
    def name(self) -> str:
        return self.path.stem

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """One session run, its output checked against the contract; onnxruntime failures (e.g. a model
        allocating terabytes) name the file."""
        quiet = ort.RunOptions()
        quiet.log_severity_level = 4  # the error below says it once, without onnxruntime's log lines
        try:
            out = self.session.run([self.output], feeds, quiet)[0]
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            text = str(exc).strip()
            asked = re.search(r"Failed to allocate memory for requested buffer of size (\d+)", text)
            if asked:
                reason = f"it asked for {int(asked.group(1)) / 2**30:,.0f} GiB of memory"
            else:
                reason = text.splitlines()[-1][-300:] if text else type(exc).__name__
            raise ModelFileError(f"onnxruntime failed running {str(self.path)!r}: {reason}",
                                 hint="a model from `artengine export` runs within its metadata contract; "
                                      "export it again, or render fewer images at once") from None
        if not isinstance(out, np.ndarray) or out.dtype.kind not in "fiu":
            raise ModelFileError(f"{str(self.path)!r} returned {type(out).__name__}, not a tensor")
        if out.nbytes > MAX_OUTPUT_BYTES:
            raise ModelFileError(f"{str(self.path)!r} returned {out.nbytes / 2**30:.1f} GiB for one batch")
        return self._check_output(np.asarray(out, dtype=np.float32), len(feeds[INPUTS[self.kind]]))

    @property
    def controls(self) -> dict[str, ExtraInput]:
        """The model's declared extra inputs by name (empty for most models)."""
        return {s.name: s for s in self.extra_inputs}

    def generate(self, z: np.ndarray, *, batch_size: int = 64,
                 controls: dict[str, Any] | None = None) -> np.ndarray:
        """Images float32 ``[n, C, H, W]`` in [0, 1] for latents ``z`` ``[n, latent_dim]``; ``controls``
        sets declared extra inputs (one value, or one per latent); the rest take their defaults.
        A mapping model returns its ``w`` ``[n, w_dim]`` instead."""
        if INPUTS[self.kind] != "z":
            raise ArtengineError(f"{self.path.name} is a {self.kind} model; it does not take latents z")
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ArtengineError(f"latents must be [n, {self.latent_dim}], got {list(z.shape)}")
        extras = feeds_for(self.extra_inputs, controls, len(z), where=self.path.name)
        chunks = []
        for start in range(0, len(z), batch_size):
            feeds: dict[str, Any] = {"z": z[start:start + batch_size]}
            feeds.update({k: v[start:start + batch_size] for k, v in extras.items()})
            chunks.append(self.run(feeds))
        return np.concatenate(chunks) if chunks else np.zeros((0, self.channels, 0, 0), np.float32)

    def synthesize(self, ws: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
        """A synthesis model: images for per-layer styles ``ws`` ``[n, num_ws, w_dim]``."""
        if self.kind != "synthesis":
            raise ArtengineError(f"{self.path.name} is a {self.kind} model, not a synthesis network")
        ws = np.asarray(ws, dtype=np.float32)
        chunks = [self.run({"ws": ws[i:i + batch_size]}) for i in range(0, len(ws), batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.channels, 0, 0), np.float32)

    def part_paths(self) -> dict[str, Path]:
        """The files exported beside this model on request (``artengine export --parts``), by role:
        ``mapping`` and ``synthesis`` for a style-based generator; empty when there are none."""
        import json

        try:
            parts = json.loads(self.metadata.get("parts") or "{}")
        except json.JSONDecodeError:
            raise _not_ours(self.path, "its artengine.parts metadata is not JSON") from None
        return {role: self.path.with_name(str(name)) for role, name in parts.items()}

    def stylize(self, images: np.ndarray) -> np.ndarray:
        """Image-to-image: float32 ``[n, 3, H, W]`` in [0, 1] -> the model's output images."""
        if self.kind != "image-to-image":
            raise ArtengineError(f"{self.path.name} is a generator; it takes latents, not images")
        return self.run({"content": np.asarray(images, dtype=np.float32)})


def load_model(path: str | Path, *, provider: str = "cpu", threads: int = 0) -> Model:
    """Load an artengine ONNX file, or raise :class:`ModelFileError` saying why it is not one."""
    return Model(path, provider=provider, threads=threads)
