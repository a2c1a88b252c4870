"""The built-in ONNX exporter: torch.onnx, then onnx's checker, then parity with onnxruntime.

Exporter path: on torch >= 2.6 the ``dynamo`` exporter (``torch.onnx.export(dynamo=True)``, built on
``torch.export``) is used; when it is missing (torch 2.4/2.5) or fails on a network, ``auto`` falls back
to the legacy TorchScript exporter. The path taken is stored as ``artengine.exporter`` in the file.
Nothing is written unless every check passes.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from artengine import atomic
from artengine.export.errors import ExportError
from artengine.runtime.controls import ExtraInput, parse_extra_inputs

from .config import OnnxExportConfig
from .quantize import quantize_model
from .rewrite import for_int8
from .verify import ort_session, run_ort

INPUTS = {"generator": "z", "image-to-image": "content", "mapping": "z", "synthesis": "ws"}
OUTPUT = "image"
OUTPUTS = {"mapping": "w"}  # every other kind outputs OUTPUT


@dataclass
class ExportReport:
    """What an export produced and how closely it matches PyTorch."""

    path: Path
    exporter: str
    opset: int
    max_abs_diff: float
    quantize: str = "none"
    quantized_max_diff: float | None = None
    quantized_mean_diff: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class _Named(torch.nn.Module):
    """Pins the forward signature so the ONNX inputs get the contract's names."""

    def __init__(self, module: torch.nn.Module, kind: str):
        super().__init__()
        self.module = module
        self.kind = kind

    def forward(self, x: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        """``x``, then the declared extra inputs in order."""
        return self.module(x, *extra)


def _extra_inputs(meta: dict[str, Any]) -> list[ExtraInput]:
    try:
        return parse_extra_inputs(meta.get("extra_inputs"), where="the trainer's export meta")
    except ValueError as exc:
        raise ExportError(str(exc)) from None


def _example_inputs(kind: str, meta: dict[str, Any], batch: int, gen: torch.Generator,
                    size: tuple[int, int] | None = None) -> tuple[torch.Tensor, ...]:
    """Random inputs of the contract's shapes: latents, then each extra input drawn across its
    whole declared range (so verification covers it)."""
    if kind in ("generator", "mapping"):
        args = [torch.randn(batch, int(meta["latent_dim"]), generator=gen)]
        for spec in _extra_inputs(meta):
            args.append(spec.min + (spec.max - spec.min) * torch.rand(batch, generator=gen))
        return tuple(args)
    if kind == "synthesis":
        shape = [batch] + [int(d) for d in meta["input"]["shape"][1:]]
        return (torch.randn(*shape, generator=gen),)
    h, w = size or (int(meta.get("image_size") or 64),) * 2
    return (torch.rand(batch, int(meta.get("channels") or 3), h, w, generator=gen),)


def _input_names(kind: str, meta: dict[str, Any] | None = None) -> list[str]:
    return [INPUTS[kind]] + [s.name for s in _extra_inputs(meta or {})]


def _dynamo_export(wrapped: torch.nn.Module, args: tuple, names: list[str], kind: str, path: Path,
                   opset: int) -> None:
    batch = torch.export.Dim("batch", min=1, max=65536)
    first: dict[int, Any] = {0: batch}
    if kind == "image-to-image":
        first.update({2: torch.export.Dim("height", min=8, max=8192), 3: torch.export.Dim("width", min=8, max=8192)})
    shapes = (first, tuple({0: batch} for _ in args[1:])) if len(args) > 1 else (first,)  # forward(x, *extra)
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(wrapped, args, None, input_names=names, output_names=[OUTPUTS.get(kind, OUTPUT)],
                                    opset_version=opset, dynamo=True, dynamic_shapes=shapes,
                                    verbose=False, optimize=True)
        program.save(str(path))


def _torchscript_export(wrapped: torch.nn.Module, args: tuple, names: list[str], kind: str, path: Path,
                        opset: int) -> None:
    output = OUTPUTS.get(kind, OUTPUT)
    axes = {n: {0: "batch"} for n in names}
    axes[output] = {0: "batch"}
    if kind == "image-to-image":
        axes[names[0]].update({2: "height", 3: "width"})
        axes[output].update({2: "out_height", 3: "out_width"})
    kwargs: dict[str, Any] = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, args, str(path), input_names=names, output_names=[output],
                          opset_version=opset, dynamic_axes=axes, do_constant_folding=True, **kwargs)


def _torch_export(wrapped, args, names, kind, path: Path, cfg: OnnxExportConfig) -> str:
    """Run the chosen exporter; return the path taken ('dynamo' or 'torchscript')."""
    has_dynamo = "dynamo" in inspect.signature(torch.onnx.export).parameters and hasattr(torch, "export")
    if cfg.exporter == "dynamo" and not has_dynamo:
        raise ExportError(f"torch {torch.__version__} has no dynamo ONNX exporter",
                          hint="use --exporter torchscript, or upgrade torch to >= 2.6")
    errors = []
    if cfg.exporter in ("auto", "dynamo") and has_dynamo:
        try:
            _dynamo_export(wrapped, args, names, kind, path, cfg.opset)
            return "dynamo"
        except Exception as exc:  # the dynamo exporter raises many types; report them all
            if cfg.exporter == "dynamo":
                raise ExportError(f"the dynamo ONNX exporter failed: {type(exc).__name__}: {exc}",
                                  hint="try --exporter torchscript") from None
            errors.append(f"dynamo: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    try:
        _torchscript_export(wrapped, args, names, kind, path, cfg.opset)
        return "torchscript"
    except Exception as exc:
        errors.append(f"torchscript: {type(exc).__name__}: {exc}")
        raise ExportError("the network could not be exported to ONNX: " + "; ".join(errors)) from None


def _check_contract(model: onnx.ModelProto, names: list[str], kind: str) -> None:
    inputs = [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    output = OUTPUTS.get(kind, OUTPUT)
    if inputs != names or outputs != [output]:
        raise ExportError(f"exported graph has inputs {inputs} and outputs {outputs}; "
                          f"the {kind} contract needs inputs {names} and output ['{output}']")


def _set_metadata(model: onnx.ModelProto, props: dict[str, str]) -> None:
    keep = [p for p in model.metadata_props if p.key not in props]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)


def _feeds(args: tuple[torch.Tensor, ...], names: list[str]) -> dict[str, np.ndarray]:
    return {n: a.detach().cpu().numpy() for n, a in zip(names, args, strict=True)}


def _verify(model_bytes: bytes, module: torch.nn.Module, names: list[str], kind: str, meta: dict[str, Any],
            cfg: OnnxExportConfig, gen: torch.Generator) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
    """Compare onnxruntime with PyTorch on a random batch of another size than the traced one."""
    size = None
    if kind == "image-to-image":
        base = int(meta.get("image_size") or 64)
        size = (base + 8, base - 8 if base > 16 else base + 16)
    args = _example_inputs(kind, meta, cfg.verify_batch, gen, size)
    with torch.no_grad():
        expected = module(*args).float().cpu().numpy()
    feeds = _feeds(args, names)
    try:
        got = run_ort(ort_session(model_bytes), feeds, OUTPUTS.get(kind, OUTPUT))
    except Exception as exc:
        raise ExportError(f"onnxruntime cannot run the exported model: {type(exc).__name__}: {exc}") from None
    if got.shape != expected.shape:
        raise ExportError(f"onnxruntime output shape {got.shape} differs from PyTorch's {expected.shape}")
    if not np.isfinite(expected).all():
        raise ExportError("the PyTorch network produces NaN or infinite values; nothing to export")
    lo, hi = float(expected.min()), float(expected.max())
    if OUTPUTS.get(kind, OUTPUT) == OUTPUT and (lo < -1e-3 or hi > 1 + 1e-3):
        raise ExportError(f"the network's output spans [{lo:.3f}, {hi:.3f}]; the contract needs [0, 1]",
                          hint="the trainer's export_model() must map its output to [0, 1]")
    diff = float(np.abs(got - expected).max())
    if not diff <= cfg.atol:
        raise ExportError(f"onnxruntime output differs from PyTorch by {diff:.3g} (allowed {cfg.atol:g}); "
                          "nothing was written",
                          hint="the network may be random at inference time or use an op the exporter "
                               "mistranslates; try --exporter torchscript or another --opset")
    return diff, got, feeds


class OnnxExporter:
    """Export ``(module, meta)`` from a trainer to a verified ONNX file."""

    suffix = ".onnx"

    def __init__(self, cfg: OnnxExportConfig | None = None):
        self.cfg = cfg or OnnxExportConfig()

    def export(self, module: torch.nn.Module, meta: dict[str, Any], out: str | Path,
               *, metadata: dict[str, str] | None = None) -> ExportReport:
        cfg = self.cfg
        kind = meta.get("kind", "generator")
        if kind not in INPUTS:
            raise ExportError(f"cannot export a model of kind {kind!r}; kinds: {', '.join(INPUTS)}")
        if kind in ("generator", "mapping") and not meta.get("latent_dim"):
            raise ExportError("the trainer's export meta has no latent_dim")
        module = module.eval().float().cpu()
        names = _input_names(kind, meta)
        graph_module, rewrites = module, {}
        if cfg.quantize == "int8" and cfg.rewrite:
            graph_module, rewrites = for_int8(module)
        wrapped = _Named(graph_module, kind).eval()
        gen = torch.Generator().manual_seed(cfg.seed)
        args = _example_inputs(kind, meta, 2, gen)
        with tempfile.TemporaryDirectory(prefix="artengine-export-") as tmp:
            path = Path(tmp) / "model.onnx"
            with torch.no_grad():
                exporter = _torch_export(wrapped, args, names, kind, path, cfg)
            model = onnx.load(str(path))
        _check_contract(model, names, kind)
        props = dict(metadata or {})
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), cfg.opset)
        props.update({"artengine.exporter": exporter, "artengine.opset": str(opset),
                      "artengine.input": names[0], "artengine.torch": torch.__version__})
        props.update({f"artengine.rewrite.{k}": str(v) for k, v in rewrites.items() if v})
        _set_metadata(model, props)
        model.producer_name = "artengine"
        try:
            onnx.checker.check_model(model, full_check=True)
        except Exception as exc:
            raise ExportError(f"onnx's checker rejects the exported model: {exc}") from None
        data = model.SerializeToString()
        diff, reference, feeds = _verify(data, module, names, kind, meta, cfg, gen)
        report = ExportReport(Path(out), exporter, opset, diff, metadata=props)
        if cfg.quantize != "none":
            data, qmax, qmean = quantize_model(data, cfg, kind=kind, meta=meta, names=names,
                                               reference=(feeds, reference))
            report.quantize, report.quantized_max_diff, report.quantized_mean_diff = cfg.quantize, qmax, qmean
        atomic.write_bytes(out, data)
        return report


def make_exporter(cfg: OnnxExportConfig | None = None) -> OnnxExporter:
    """The factory the ``onnx`` exporter component is built with."""
    return OnnxExporter(cfg)
