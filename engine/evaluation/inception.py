"""FID proper: Inception-v3 pool features, when the user has the weights on disk.

Published FIDs come from the Inception-v3 of TensorFlow's 2015 ImageNet model; pytorch-fid ships
those weights as ``pt_inception-2015-12-05-*.pth`` (1,008 classes). Nothing may be downloaded
here, so the weights come from ``--weights FILE`` or the torch hub cache (where pytorch-fid and
torchvision put them). They are loaded into torchvision's ``inception_v3`` architecture, which
differs from the TensorFlow graph in two pooling details, so values are close to, not digit for
digit equal to, published FIDs. torchvision's own ImageNet weights work too and are labelled as
such (their FID is a different number again).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import read_weights_file
from ..errors import ArtengineError
from .features import resize, to_rgb

INPUT_SIZE = 299
#: file names of Inception weights that may already sit in the torch hub cache
CACHED_FILES = ("pt_inception-2015-12-05-6726825d.pth", "inception_v3_google-0cc3c7bd.pth")
FID_WEIGHTS_CLASSES = 1008  # the TensorFlow FID graph's classifier; torchvision's has 1000


class InceptionWeightsError(ArtengineError):
    """Inception weights are missing or are not an Inception-v3 state dict."""


def cached_weights() -> Path | None:
    """A usable Inception weights file from the torch hub cache, or None (never downloads)."""
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    for name in CACHED_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def _read(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = read_weights_file(path)
    except ValueError as exc:
        raise InceptionWeightsError(f"cannot read Inception weights {str(path)!r}: {exc}",
                                    hint="pass a .pth or .safetensors Inception-v3 state dict") from None
    if not isinstance(state, dict):
        raise InceptionWeightsError(f"{str(path)!r} does not hold a state dict")
    return state


@dataclass
class InceptionSpace:
    """2,048 pool features of Inception-v3 at 299 px."""

    network: torch.nn.Module
    weights: str
    standard: bool  # the TensorFlow FID weights (1,008 classes)
    device: torch.device = torch.device("cpu")
    name: str = "inception-v3"

    @property
    def label(self) -> str:
        kind = "FID weights" if self.standard else "torchvision ImageNet weights, not the FID weights"
        return f"Inception-v3 pool3 ({kind}: {Path(self.weights).name})"

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch: int = 32) -> torch.Tensor:
        out = []
        for i in range(0, images.shape[0], batch):
            x = resize(to_rgb(images[i:i + batch].float().clamp(0, 1)), INPUT_SIZE).to(self.device)
            out.append(self.network(x * 2 - 1).double().cpu())
        return torch.cat(out) if out else torch.zeros(0, 2048, dtype=torch.float64)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "weights": self.weights, "standard_fid": self.standard,
                "dim": 2048, "size": INPUT_SIZE}


def inception_space(weights: str | Path | None = None, *, device: str | torch.device = "cpu") -> InceptionSpace:
    """Inception-v3 from ``weights`` (or the hub cache); a clear error when there is none."""
    import torchvision

    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise InceptionWeightsError(f"Inception weights file {str(path)!r} does not exist",
                                        hint="pass the path of pt_inception-2015-12-05-6726825d.pth "
                                             "(pytorch-fid) or torchvision's inception_v3 weights")
    else:
        path = cached_weights()
        if path is None:
            folder = Path(torch.hub.get_dir()) / "checkpoints"
            raise InceptionWeightsError(
                f"no Inception-v3 weights in the torch hub cache ({folder}); artengine never downloads them",
                hint="copy pt_inception-2015-12-05-6726825d.pth (pytorch-fid's FID weights) there or pass "
                     "--weights FILE; without them eval reports the offline VGG16 numbers only")
    state = _read(path)
    fc = state.get("fc.weight")
    classes = int(fc.shape[0]) if isinstance(fc, torch.Tensor) else 1000
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False,
                                          transform_input=False, num_classes=classes)
    wanted = net.state_dict()
    body = {k: v for k, v in state.items() if k in wanted}
    missing = [k for k in wanted if k not in body]
    bad_shape = [k for k in body if tuple(body[k].shape) != tuple(wanted[k].shape)]
    if missing or bad_shape:
        names = ", ".join((missing + bad_shape)[:4])
        raise InceptionWeightsError(f"{str(path)!r} is not an Inception-v3 state dict "
                                    f"({len(missing)} tensors missing, {len(bad_shape)} of the wrong shape: {names})",
                                    hint="pass pytorch-fid's pt_inception-2015-12-05 file or torchvision's "
                                         "inception_v3 weights")
    net.load_state_dict(body)
    net.fc = torch.nn.Identity()  # keep the 2,048 pool features
    dev = torch.device(device)
    return InceptionSpace(net.to(dev).eval(), str(path), classes == FID_WEIGHTS_CLASSES, dev)
