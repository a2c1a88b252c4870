"""Evaluate a generator for mode collapse: modes covered, KL to uniform, Frechet distance in a digit
classifier's feature space, classifier confidence, and (for any dataset) a diversity score plus,
with :class:`FeatureOptions`, FD/KID/precision/recall and the memorization report in a pretrained
feature space (:mod:`.quality`).

The protocol for digits, mnist and stacked-mnist follows PacGAN/VEEGAN: classify 26,000 samples, count
the modes (10 digits, or 1,000 digit triples for stacked-mnist, one digit per channel) that appear at
least once, and take the KL divergence of the mode histogram from uniform.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .. import atomic
from ..datasets.base import ImageDataset
from ..errors import ArtengineError
from ..rundir import RunDir
from . import classifier as clf
from .metrics import frechet_distance, kl_to_uniform, mean_pairwise_distance, mode_histogram, resampled_kl
from .quality import FeatureOptions, feature_metrics

SampleFn = Callable[[int], torch.Tensor]  # n -> images [n, C, H, W] float in [0, 1]

#: below this ratio of sample diversity to real diversity, the generator is flagged as collapsed
COLLAPSE_RATIO = 0.5
DIVERSITY_SAMPLES = 1000
NUM_MODES = {"digits": 10, "mnist": 10, "stacked-mnist": 1000}
#: where a run's evaluation pictures and curves go
EVAL_DIR = "eval"


def build_dataset(name: str, values: dict[str, Any] | None = None, *, image_size: int, channels: int,
                  registry=None) -> ImageDataset:
    """A registered dataset, as a training run would build it."""
    from ..pluginhost import get_registry

    registry = registry or get_registry()
    return registry.get("datasets", name).build(dict(values or {}), image_size=image_size, channels=channels,
                                                seed=0)


def real_sampler(dataset: ImageDataset, seed: int = 0) -> SampleFn:
    """Draw real images (with replacement) as a sample function: the evaluator's sanity baseline."""
    data = dataset.as_tensor()
    if data is None:
        raise ArtengineError(f"dataset {dataset.info.name!r} streams its images; it cannot be sampled as a baseline")
    gen = torch.Generator().manual_seed(seed)

    def sample(n: int) -> torch.Tensor:
        idx = torch.randint(0, data.shape[0], (n,), generator=gen)
        return data[idx].float().div(255.0)

    return sample


def _classifier_for(dataset_name: str, registry=None) -> tuple[clf.DigitClassifier, dict[str, Any]]:
    family = clf.FAMILY[dataset_name]
    real = build_dataset(family, image_size=clf.INPUT_SIZE, channels=1, registry=registry)
    if real.labels is None:
        raise ArtengineError(f"dataset {family!r} has no labels; the digit classifier cannot be trained")
    return clf.load_or_train(family, real.as_tensor(), real.labels)


def _digit_modes(model: clf.DigitClassifier, images: torch.Tensor,
                 stacked: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mode id, confidence and features per image: one digit for 1 channel (or the grey mean of 3
    channels); for stacked-mnist one digit per channel, mode = 100*R + 10*G + B."""
    if stacked and images.shape[1] == 3:
        outs = [model.predict(images[:, c:c + 1]) for c in range(3)]
        modes = outs[0][0] * 100 + outs[1][0] * 10 + outs[2][0]
        conf = torch.stack([o[1] for o in outs]).mean(0)
        feats = torch.cat([o[2] for o in outs], dim=1)
        return modes, conf, feats
    gray = images.mean(dim=1, keepdim=True) if images.shape[1] != 1 else images
    return model.predict(gray)


def evaluate_generator(sample_fn: SampleFn, dataset_name: str, *, samples: int = 26000, image_size: int,
                       channels: int, dataset_values: dict[str, Any] | None = None,
                       real: ImageDataset | None = None, batch: int = 500, registry=None,
                       features: FeatureOptions | None = None, pairs_png: str | Path | None = None,
                       log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate any generator given as ``sample_fn``; works for every trainer with ``export_model``.
    With ``features``, also the feature-space numbers (the closest pairs go to ``pairs_png``)."""
    t0 = time.perf_counter()
    log = log or (lambda msg: None)
    if real is None:
        real = build_dataset(dataset_name, dataset_values, image_size=image_size, channels=channels,
                             registry=registry)
    real_images = real.as_tensor()
    result: dict[str, Any] = {"dataset": dataset_name, "samples": samples}
    num_modes = NUM_MODES.get(dataset_name)
    model = info = None
    if num_modes:
        log(f"eval: digit classifier for {dataset_name} (trained and cached on first use)")
        model, info = _classifier_for(dataset_name, registry)
    stacked = dataset_name == "stacked-mnist"

    keep = max(DIVERSITY_SAMPLES, features.samples if features else 0)
    kept: list[torch.Tensor] = []
    modes, confs, feats = [], [], []
    done = 0
    target = max(samples, features.samples if features else 0)
    with torch.no_grad():
        while done < target:
            n = min(batch, target - done)
            images = sample_fn(n).float().cpu().clamp(0, 1)
            if sum(k.shape[0] for k in kept) < keep:
                kept.append(images[:keep])
            if model is not None:
                m, c, f = _digit_modes(model, images, stacked)
                modes.append(m)
                confs.append(c)
                feats.append(f)
            done += n
    result["samples"] = done
    kept_images = torch.cat(kept)
    fake_div = kept_images[:DIVERSITY_SAMPLES]
    log(f"eval: {done} samples drawn in {time.perf_counter() - t0:.1f}s")

    if model is not None and real_images is not None:
        counts = mode_histogram(torch.cat(modes), num_modes)
        real_x = real_images[:10000].float().div(255.0)
        real_modes, real_conf, real_feats = _digit_modes(model, real_x, stacked)
        result.update({
            "modes_covered": int((counts > 0).sum()),
            "num_modes": num_modes,
            "kl": round(kl_to_uniform(counts), 5),
            "kl_real": round(resampled_kl(real_modes, num_modes, int(counts.sum())), 5),
            "fid_classifier": round(frechet_distance(torch.cat(feats), real_feats), 4),
            "classifier_confidence": round(float(torch.cat(confs).mean()), 4),
            "classifier_confidence_real": round(float(real_conf.mean()), 4),
            "classifier_heldout_accuracy": round(float(info["heldout_accuracy"]), 4),
        })
    if real_images is not None:
        gen = torch.Generator().manual_seed(0)
        idx = torch.randperm(real_images.shape[0], generator=gen)[:DIVERSITY_SAMPLES]
        real_div = real_images[idx].float().div(255.0)
        result["diversity"] = round(mean_pairwise_distance(fake_div), 5)
        result["diversity_real"] = round(mean_pairwise_distance(real_div), 5)
        result["diversity_ratio"] = round(result["diversity"] / max(result["diversity_real"], 1e-12), 4)
    if features is not None:
        result.update(feature_metrics(kept_images[:features.samples], real_images, features,
                                      pairs_png=pairs_png, log=log, image_name=getattr(real, "image_name", None)))
    collapsed = result.get("diversity_ratio", 1.0) < COLLAPSE_RATIO
    if num_modes and "modes_covered" in result:
        collapsed = collapsed or result["modes_covered"] < 0.8 * num_modes
    collapsed = collapsed or bool(result.get("feature_collapse_warning"))
    result["collapse_warning"] = bool(collapsed)
    result["eval_seconds"] = round(time.perf_counter() - t0, 2)
    return result


def evaluate_trainer(trainer, *, samples: int = 26000, seed: int = 0, real: ImageDataset | None = None,
                     registry=None, features: FeatureOptions | None = None,
                     pairs_png: str | Path | None = None,
                     log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate a trainer's current sampling generator (through its ``export_model``): the numbers
    of :func:`evaluate_generator`, plus the step and recipe. Used after training and during it."""
    if trainer.model_kind != "generator":
        raise ArtengineError(f"eval measures generators (latents -> images); this run trains an "
                             f"{trainer.model_kind or 'unexportable'} model")
    module, meta = trainer.export_model()
    dev = trainer.device
    module = module.to(dev).eval()
    gen = torch.Generator(device=dev).manual_seed(seed)
    latent_dim = int(meta["latent_dim"])

    def sample(n: int) -> torch.Tensor:
        return module(torch.randn(n, latent_dim, generator=gen, device=dev))

    ds = trainer.ctx.config.section("dataset").to_json()
    name = ds.pop("name")
    result = evaluate_generator(sample, name, samples=samples, image_size=int(meta["image_size"]),
                                channels=int(meta["channels"]), dataset_values=ds, real=real,
                                registry=registry, features=features, pairs_png=pairs_png, log=log)
    return {"dataset": name, "step": int(meta.get("step", trainer.step)), "recipe": meta.get("recipe"),
            **{k: v for k, v in result.items() if k != "dataset"}}


def eval_record(result: dict[str, Any]) -> dict[str, Any]:
    """The numeric part of a result, as an ``"event": "eval"`` line of metrics.jsonl."""
    return {"step": result["step"], "event": "eval",
            **{k: v for k, v in result.items() if isinstance(v, (int, float)) and k != "step"}}


def evaluate_run(run_dir: str | Path, *, samples: int = 26000, device: str = "cpu", seed: int = 0,
                 checkpoint: str | None = None, registry=None, features: FeatureOptions | None = FeatureOptions(),
                 log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate a run's latest (or the named) checkpoint, write ``eval.json`` and the closest
    sample/training pairs (``eval/closest-pairs.png``) into the run directory and append an
    ``eval`` record to ``metrics.jsonl``."""
    from ..training.build import load_trainer
    from ..training.precision import pick_device

    trainer = load_trainer(run_dir, device=str(pick_device(device)), registry=registry, checkpoint=checkpoint)
    run = RunDir(run_dir)
    pairs = run.path / EVAL_DIR / "closest-pairs.png" if features is not None else None
    result = evaluate_trainer(trainer, samples=samples, seed=seed, registry=registry, features=features,
                              pairs_png=pairs, log=log)
    run.write_json("eval.json", result)
    run.log_metrics(eval_record(result))
    return result


#: the numbers of a checkpoint that go into the curve of ``eval --all-checkpoints``
CURVE_KEYS = ("kid", "kid_std", "kid_unit", "fd", "precision", "recall", "near_copy_share", "fid", "modes_covered",
              "kl", "diversity_ratio")


def checkpoint_names(run_dir: str | Path) -> list[str]:
    """A run's complete checkpoints (weights and JSON both there), oldest first."""
    folder = RunDir(run_dir).checkpoints_dir
    return sorted(p.stem for p in folder.glob("step-*.json") if (folder / f"{p.stem}.safetensors").is_file())


def evaluate_all_checkpoints(run_dir: str | Path, *, samples: int = 26000, device: str = "cpu", seed: int = 0,
                             registry=None, features: FeatureOptions | None = FeatureOptions(),
                             log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate every checkpoint a run kept (same latents for each) and write the curve to
    ``eval/curve.json``, with each checkpoint's closest pairs beside it; ``export --best`` reads it."""
    from ..training.build import load_trainer
    from ..training.precision import pick_device

    names = checkpoint_names(run_dir)
    if not names:
        raise ArtengineError(f"run {str(run_dir)!r} has no checkpoint yet", hint="train first")
    run = RunDir(run_dir)
    points = []
    label = None
    for name in names:
        (log or (lambda msg: None))(f"eval: checkpoint {name}")
        trainer = load_trainer(run_dir, device=str(pick_device(device)), registry=registry, checkpoint=name)
        pairs = run.path / EVAL_DIR / f"closest-pairs-{name}.png" if features is not None else None
        result = evaluate_trainer(trainer, samples=samples, seed=seed, registry=registry, features=features,
                                  pairs_png=pairs, log=log)
        label = result.get("feature_space", label)
        points.append({"checkpoint": name, "step": result["step"],
                       **{k: result[k] for k in CURVE_KEYS if k in result},
                       **({"closest_pairs_png": str(pairs)} if pairs is not None and pairs.is_file() else {})})
    curve = {"run": str(run_dir), "feature_space": label, "points": points}
    if any("kid" in p for p in points):
        best = min((p for p in points if "kid" in p), key=lambda p: p["kid"])
        curve["best"] = {"checkpoint": best["checkpoint"], "step": best["step"], "kid": best["kid"]}
    atomic.write_json(run.path / EVAL_DIR / "curve.json", curve)
    return curve


def evaluate_model_file(path: str | Path, *, samples: int = 26000, seed: int = 0, provider: str = "cpu",
                        registry=None, features: FeatureOptions | None = FeatureOptions(),
                        pairs_png: str | Path | None = None,
                        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate an exported generator (an artengine ONNX file) through onnxruntime, against the dataset
    named in its metadata: the same numbers as :func:`evaluate_run`, for a model without its run."""
    import json

    import numpy as np

    from ..runtime import load_model

    model = load_model(path, provider=provider)
    if model.kind != "generator":
        raise ArtengineError(f"{Path(path).name} is an {model.kind} model; eval measures generators "
                             "(latents -> images), e.g. a file from `artengine export` of a GAN run")
    meta = model.metadata
    name = meta.get("dataset")
    if not name:
        raise ArtengineError(f"{Path(path).name} does not say which dataset it was trained on (no "
                             "artengine.dataset metadata), so there is nothing to compare it with")
    config = json.loads(meta.get("config") or "{}")
    values = {k: v for k, v in (config.get("dataset") or {}).items() if k != "name"}
    rng = np.random.default_rng(seed)

    def sample(n: int) -> torch.Tensor:
        z = rng.standard_normal((n, model.latent_dim), dtype=np.float32)
        return torch.from_numpy(model.generate(z, batch_size=250))

    result = evaluate_generator(sample, name, samples=samples, image_size=model.image_size,
                                channels=model.channels, dataset_values=values, registry=registry,
                                features=features, pairs_png=pairs_png, log=log)
    return {"model": str(path), "dataset": name, "step": int(meta.get("step") or 0),
            "recipe": meta.get("recipe"), **{k: v for k, v in result.items() if k != "dataset"}}


def print_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
