"""The style recipe made concrete: a feature network plus the registered losses and their weights.

Both `artengine style` (optimizing one image) and the fast-style trainer (optimizing a
network) call :class:`StyleObjective`, so the look tuned with one carries over to the other.
Targets are computed once: content features per content image, blended style Gram matrices
per style set; each evaluation then runs the truncated network exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from artengine.registry import Registry

from .features import FeatureExtractor, choose_features


@dataclass
class Targets:
    content: dict[str, torch.Tensor] = field(default_factory=dict)
    style: dict[str, torch.Tensor] = field(default_factory=dict)


def build_extractor(registry: Registry, settings, layers: list[str]) -> tuple[FeatureExtractor, str]:
    """The configured feature extractor truncated after the last of ``layers``; returns (net, why)."""
    name, why = choose_features(settings.features, settings.weights)
    comp = registry.get("feature-extractors", name)
    values = {"pooling": settings.pooling}
    if settings.weights:
        values["weights"] = settings.weights
    net = comp.build(values, layers=layers)
    return net, why


class StyleObjective(nn.Module):
    """Weighted content + style + TV loss of images against cached targets."""

    def __init__(self, registry: Registry, settings):
        super().__init__()
        self.settings = settings
        self.content_layers = list(settings.content_layers)
        self.style_layers = list(settings.style_layers)
        layers = list(dict.fromkeys(self.content_layers + self.style_layers))
        self.extractor, self.features_why = build_extractor(registry, settings, layers)
        self.content_loss = registry.get("losses", settings.content_loss).build()
        self.style_loss = registry.get("losses", settings.style_loss).build()
        self.tv_loss = registry.get("losses", settings.tv_loss).build()
        self.targets = Targets()

    @torch.no_grad()
    def set_content(self, content: torch.Tensor) -> None:
        feats = self.extractor(content)
        self.targets.content = {n: self.content_loss.target(feats[n]) for n in self.content_layers}

    @torch.no_grad()
    def set_styles(self, styles: list[torch.Tensor], blend: list[float]) -> None:
        """Blend the style images' Gram targets with normalised weights (one style: weight 1)."""
        total = float(sum(blend))
        if total <= 0:
            raise ValueError("style blend weights must sum to more than 0")
        blended: dict[str, torch.Tensor] = {}
        for image, weight in zip(styles, blend, strict=True):
            if weight == 0:
                continue
            feats = self.extractor(image)
            for n in self.style_layers:
                t = self.style_loss.target(feats[n]) * (weight / total)
                blended[n] = t if n not in blended else blended[n] + t
        self.targets.style = blended

    def forward(self, image: torch.Tensor, content_feats: dict[str, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss and its weighted parts; ``content_feats`` overrides the cached content targets
        (the fast-style trainer passes each batch's own)."""
        s = self.settings
        feats = self.extractor(image)
        content_targets = content_feats if content_feats is not None else self.targets.content
        content = sum(self.content_loss(feats[n], content_targets[n]) for n in self.content_layers)
        content = content / max(1, len(self.content_layers))
        style = sum(self.style_loss(feats[n], self.targets.style[n].expand(image.shape[0], -1, -1))
                    for n in self.style_layers) / max(1, len(self.style_layers))
        tv = self.tv_loss(image.float())
        parts = {"content": s.content_weight * content, "style": s.style_weight * style, "tv": s.tv_weight * tv}
        return parts["content"] + parts["style"] + parts["tv"], parts
