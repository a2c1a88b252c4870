"""Quality, coverage and copying of samples against the training images, for any dataset.

One call embeds the samples (and, once per dataset and feature space, the training images,
cached under ``$ARTENGINE_CACHE``) and returns FD, KID with its standard deviation,
precision/recall and the memorization report, every number named after the feature space it
was measured in. With Inception weights available it adds the real FID beside them.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import atomic
from .classifier import cache_dir
from .feature_metrics import FD_MIN_REAL, PR_K, kid, mean_pairwise, precision_recall
from .features import DEFAULT_FEATURE_SIZE, FeatureSpace, vgg_space
from .memorization import COPY_RATIO, MemorizationReport, memorization, write_pairs_strip
from .metrics import frechet_distance

#: real images embedded at most (a deterministic subset beyond that)
MAX_REAL = 5000
#: samples whose spread in feature space is below this share of the real images' are collapsed
FEATURE_COLLAPSE_RATIO = 0.5
#: a near-copy share above both this and twice the dataset's own is flagged as memorization
COPY_SHARE_WARNING = 0.05
#: KID whose standard deviation over subsets is above this share of it is flagged as too noisy to rank runs
#: by: on a folder of photos and textures, a few images with large activations decided KID through its cubic
#: kernel and two evals of the same runs disagreed on which was better (docs/small-data.md)
KID_NOISE_RATIO = 0.5
#: below this KID a model is already close to its data, where a large relative spread is expected
KID_NOISE_FLOOR = 0.01


def kid_noise_warning(kid_value: float, kid_std: float) -> str | None:
    """The warning for a KID too noisy to rank two runs by, or None."""
    if kid_value < KID_NOISE_FLOOR or kid_std <= KID_NOISE_RATIO * kid_value:
        return None
    return (f"KID {kid_value:.4f} +- {kid_std:.4f}: its spread over subsets is more than half of it, so it cannot "
            "rank runs that differ by less than that on this dataset; compare kid_unit (KID on unit-length "
            "features, which a few images with large activations cannot decide), recall and near-copies, or "
            "evaluate more samples (--feature-samples)")


def real_subset(real: torch.Tensor, limit: int = MAX_REAL, seed: int = 0) -> torch.Tensor:
    """All real images, or a fixed random ``limit`` of them."""
    return real[real_subset_index(real.shape[0], limit, seed)]


def real_subset_index(count: int, limit: int = MAX_REAL, seed: int = 0) -> torch.Tensor:
    """The training-image indices :func:`real_subset` keeps, in order."""
    if count <= limit:
        return torch.arange(count)
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:limit].sort().values


def _cache_path(real: torch.Tensor, space: FeatureSpace) -> Path:
    digest = hashlib.sha256()
    digest.update(repr((tuple(real.shape), str(real.dtype), space.label)).encode())
    digest.update(real.contiguous().numpy().tobytes())
    return cache_dir() / "real-features" / f"{digest.hexdigest()[:32]}.safetensors"


def real_features(real: torch.Tensor, space: FeatureSpace, *, cache: bool = True) -> torch.Tensor:
    """Features of uint8 real images [N, C, H, W], read from the cache when embedded before."""
    from safetensors.torch import load_file, save

    path = _cache_path(real, space) if cache else None
    if path is not None and path.is_file():
        try:
            return load_file(str(path))["features"]
        except Exception:  # a damaged cache entry is recomputed, never trusted
            pass
    feats = space.embed(real.float().div(255.0))
    if path is not None:
        atomic.write_bytes(path, save({"features": feats.contiguous()}))
    return feats


def unit_length(feats: torch.Tensor) -> torch.Tensor:
    """Every feature vector scaled to length 1 (a zero vector stays zero)."""
    return feats / feats.norm(dim=1, keepdim=True).clamp_min(1e-12)


def compare(fake_feats: torch.Tensor, real_feats: torch.Tensor, *, prefix: str = "",
            seed: int = 0) -> dict[str, Any]:
    """FD, KID (+std), precision, recall and the feature-spread ratio of two feature sets, and KID on
    unit-length features (``kid_unit``): on folders whose images' activations differ in size several
    times over (photos beside textures), the cubic kernel lets a few large ones decide plain KID, while
    the unit-length KID weighs every image alike (docs/evaluation.md)."""
    kid_mean, kid_std = kid(fake_feats, real_feats, seed=seed)
    kid_unit, kid_unit_std = kid(unit_length(fake_feats), unit_length(real_feats), seed=seed)
    precision, recall = precision_recall(fake_feats, real_feats, PR_K)
    spread = mean_pairwise(fake_feats) / max(mean_pairwise(real_feats), 1e-12)
    return {
        f"{prefix}fd": round(frechet_distance(fake_feats, real_feats), 4),
        f"{prefix}kid": round(kid_mean, 6),
        f"{prefix}kid_std": round(kid_std, 6),
        f"{prefix}kid_unit": round(kid_unit, 6),
        f"{prefix}kid_unit_std": round(kid_unit_std, 6),
        f"{prefix}precision": round(precision, 4),
        f"{prefix}recall": round(recall, 4),
        f"{prefix}feature_spread_ratio": round(spread, 4),
    }


def quality_report(samples: torch.Tensor, real: torch.Tensor, space: FeatureSpace, *,
                   inception: FeatureSpace | None = None, pairs_png: str | Path | None = None,
                   copy_ratio: float = COPY_RATIO, cache: bool = True, seed: int = 0,
                   image_name: Callable[[int], str] | None = None) -> tuple[dict[str, Any], MemorizationReport]:
    """Every feature-space number for ``samples`` ([N, C, H, W] floats in [0, 1]) against the
    uint8 training images ``real``; writes the closest sample/training pairs to ``pairs_png``.
    The closest pairs name their training image by its index in ``real`` and, with ``image_name``
    (index -> a name such as the file), by name."""
    kept = real_subset_index(real.shape[0], MAX_REAL)
    real = real[kept]
    real_feats = real_features(real, space, cache=cache)
    fake_feats = space.embed(samples)
    result: dict[str, Any] = {"feature_space": space.label, "feature_samples": int(samples.shape[0]),
                              "feature_real": int(real.shape[0])}
    result.update(compare(fake_feats, real_feats, seed=seed))
    report = memorization(fake_feats, real_feats, copy_ratio)
    result.update(report.summary())
    for pair in result["closest_pairs"]:  # indices into the whole training set, not the subset
        pair["train"] = int(kept[pair["train"]])
        if image_name is not None:
            pair["train_name"] = image_name(pair["train"])
    warnings = []
    noisy = kid_noise_warning(result["kid"], result["kid_std"])
    if real.shape[0] < FD_MIN_REAL:
        warnings.append(f"FD from {real.shape[0]} real images is biased upward (its covariance has "
                        f"{real_feats.shape[1]} dimensions); compare FD only between evals of the same "
                        "dataset" + ("" if noisy else " and trust KID, which is unbiased"))
    if result["feature_spread_ratio"] < FEATURE_COLLAPSE_RATIO:
        warnings.append(f"samples spread {result['feature_spread_ratio']:.2f}x as much as the real images in "
                        "feature space: mode collapse")
    share, baseline = report.near_copy_share, report.real_near_copy_share
    result["memorization_warning"] = bool(share > max(COPY_SHARE_WARNING, 2 * baseline))
    if result["memorization_warning"]:
        warnings.append(f"{share:.0%} of samples are near-copies of training images (the dataset's own "
                        f"near-duplicate share is {baseline:.0%}): the generator memorizes; try --augment auto")
    result["feature_collapse_warning"] = bool(result["feature_spread_ratio"] < FEATURE_COLLAPSE_RATIO)
    result["kid_noise_warning"] = noisy is not None
    if noisy:
        warnings.append(noisy)
    if inception is not None:
        inc_real = real_features(real, inception, cache=cache)
        inc = compare(inception.embed(samples), inc_real, prefix="inception_", seed=seed)
        result["fid"] = inc.pop("inception_fd")
        result["fid_features"] = inception.label
        result.update(inc)
    result["warnings"] = warnings
    if pairs_png is not None:
        write_pairs_strip(pairs_png, samples, real.float().div(255.0), report.closest())
        result["closest_pairs_png"] = str(pairs_png)
    return result, report


@dataclass(frozen=True)
class FeatureOptions:
    """How the feature-space numbers are taken (``artengine eval``'s options)."""

    samples: int = 1000
    size: int = DEFAULT_FEATURE_SIZE
    inception: str = "auto"  # "auto": when weights are in the torch hub cache; "off"; or a weights file
    copy_ratio: float = COPY_RATIO


@functools.lru_cache(maxsize=4)
def _vgg(size: int) -> FeatureSpace:
    return vgg_space(size=size)


def _inception(option: str) -> FeatureSpace | None:
    from .inception import cached_weights, inception_space

    if option == "off":
        return None
    if option == "auto":
        path = cached_weights()
        return inception_space(path) if path is not None else None
    return inception_space(option)


def feature_metrics(samples: torch.Tensor, real: torch.Tensor | None, options: FeatureOptions, *,
                    pairs_png: str | Path | None = None, log: Callable[[str], None] | None = None,
                    image_name: Callable[[int], str] | None = None) -> dict[str, Any]:
    """:func:`quality_report`'s numbers for an evaluation, or a note saying why there are none."""
    if real is None:
        return {"feature_note": "the dataset streams from disk; feature-space numbers need it in memory"}
    if samples.shape[0] < 4 or real.shape[0] < 4:
        return {"feature_note": "feature-space numbers need at least 4 samples and 4 training images"}
    (log or (lambda msg: None))(f"eval: embedding {samples.shape[0]} samples and {min(real.shape[0], MAX_REAL)} "
                                f"training images in {options.size} px VGG16 features")
    result, _ = quality_report(samples, real, _vgg(options.size), inception=_inception(options.inception),
                               pairs_png=pairs_png, copy_ratio=options.copy_ratio, image_name=image_name)
    if "fid" not in result and options.inception == "auto":
        result["fid_note"] = ("no Inception-v3 weights (none in the torch hub cache, none given with --weights): "
                              "FID not measured")
    return result
