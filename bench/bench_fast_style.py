"""Fast style: the default network (width 16) against the wider one (width 32), speed and quality side by side.

Both are trained the same way in this run (the real `fast-style` trainer, same photos, steps, seed and
style image), exported to ONNX, and then:

- speed: seconds per ``--size`` px photo through onnxruntime with artengine's session options,
  alternating rounds, best of ``--runs`` (target: < 0.25 s at 512 px on either CPU kind);
- quality: style and content losses (the style recipe's own, weighted as in training) of each network's
  output on held-out photos the networks never saw, beside the photo itself (content 0) as a reference;
- pictures: held photo | width 16 | width 32 side by side (``--pictures DIR``).

    .venv/bin/python bench/bench_fast_style.py --steps 2000 --image-size 256 --pictures docs/images
    .venv/bin/python bench/bench_fast_style.py --quick          # smoke run: a few steps, small sizes
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

HELD = ("astronaut", "chelsea")
#: colour photos shipped by scikit-image and scikit-learn that are not held out
TRAIN_FILES = {"skimage": ("coffee.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg",
                           "retina.jpg", "ihc.png", "color.png"),
               "sklearn": ("china.jpg", "flower.jpg")}


def training_crops(folder: Path, count: int, size: int, seed: int = 0) -> Path:
    """``count`` random square crops (a quarter to all of the short side) of the training photos."""
    import importlib.util

    from PIL import Image

    rng = np.random.default_rng(seed)
    sources = []
    for package, names in TRAIN_FILES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.origin:
            continue
        base = Path(spec.origin).parent / ("data" if package == "skimage" else "datasets/images")
        sources += [base / n for n in names if (base / n).is_file()]
    if not sources:
        raise SystemExit("no training photos found: install scikit-image and scikit-learn")
    folder.mkdir(parents=True, exist_ok=True)
    photos = [Image.open(p).convert("RGB") for p in sources]
    for i in range(count):
        img = photos[i % len(photos)]
        side = int(min(img.size) * rng.uniform(0.25, 1.0))
        x, y = rng.integers(0, img.width - side + 1), rng.integers(0, img.height - side + 1)
        img.crop((x, y, x + side, y + side)).resize((size, size), Image.LANCZOS).save(folder / f"crop{i:04d}.png")
    return folder


def train(width: int, data: Path, out: Path, args) -> tuple[object, float]:
    """A fast-style network of ``width`` trained for ``args.steps``; returns (trainer, seconds per step)."""
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer
    from artengine.training.trainer import seed_everything

    registry = get_registry()
    config = resolve("fast-style", registry=registry,
                     cli_values={"data": str(data), "out": str(out), "steps": args.steps, "image_size": args.image_size,
                                 "batch_size": args.batch_size, "seed": 0, "device": "cpu", "precision": "fp32"},
                     set_values={"trainer.width": str(width), "trainer.style": args.style,
                                 "log_every": "1000000"})
    trainer = build_trainer(config, registry=registry)
    seed_everything(0)
    trainer.setup()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step()
    return trainer, (time.perf_counter() - t0) / max(1, args.steps)


def export(trainer, path: Path) -> Path:
    from artengine.export.api import export_module

    module, meta = trainer.export_model()
    export_module(module, meta, path, options={"exporter": "torchscript", "verify_batch": 1})
    return path


def onnx_speed(paths: dict[int, Path], size: int, runs: int) -> dict[int, float]:
    """Best seconds per ``size`` x ``size`` photo for each model, in alternating rounds."""
    from artengine.runtime import load_model

    models = {w: load_model(p) for w, p in paths.items()}
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    best = {w: float("inf") for w in models}
    for m in models.values():
        m.stylize(x)
    for _ in range(runs):
        for w, m in models.items():
            t0 = time.perf_counter()
            m.stylize(x)
            best[w] = min(best[w], time.perf_counter() - t0)
    return best


def quality(paths: dict[int, Path], args) -> tuple[dict[str, dict[str, float]], dict[str, list[np.ndarray]]]:
    """Weighted style and content losses of each model's output on the held photos (mean over photos)."""
    import torch

    from artengine.pluginhost import get_registry
    from artengine.plugins.style import images as im
    from artengine.plugins.style.configs import FastStyleConfig
    from artengine.plugins.style.recipe import StyleObjective
    from artengine.runtime import load_model

    settings = FastStyleConfig()
    objective = StyleObjective(get_registry(), settings)
    style = im.load_image(im.resolve_image(args.style))
    objective.set_styles([im.resize(style, im.fit_size(*style.shape[-2:], args.eval_size))], [1.0])
    models = {f"width {w}": load_model(p) for w, p in paths.items()}
    sums: dict[str, dict[str, float]] = {k: {"style": 0.0, "content": 0.0} for k in ["photo itself", *models]}
    pictures: dict[str, list[np.ndarray]] = {}
    for name in HELD:
        photo = im.load_image(im.resolve_image(name))
        photo = im.resize(photo, im.fit_size(*photo.shape[-2:], args.eval_size))
        objective.set_content(photo)
        outputs = {"photo itself": photo}
        for label, model in models.items():
            outputs[label] = torch.from_numpy(model.stylize(photo.numpy()))
        row = []
        for label, image in outputs.items():
            with torch.no_grad():
                _, parts = objective(image)
            sums[label]["style"] += float(parts["style"]) / len(HELD)
            sums[label]["content"] += float(parts["content"]) / len(HELD)
            row.append((image[0].permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8))
        pictures[name] = row
    return sums, pictures


def save_pictures(pictures: dict[str, list[np.ndarray]], folder: Path, style: str) -> Path:
    from PIL import Image

    rows = [np.concatenate(row, axis=1) for row in pictures.values()]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fast-style-width16-vs-32-{style}.png"
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, optimize=True)
    return path


def main() -> None:
    import machine_info

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--image-size", type=int, default=256, help="training crop size")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--crops", type=int, default=512, help="training crops cut from the photos")
    p.add_argument("--style", default="starry-night")
    p.add_argument("--widths", default="16,32")
    p.add_argument("--size", type=int, default=512, help="speed: photo side in px")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--eval-size", type=int, default=384, help="quality: held photos' long side")
    p.add_argument("--pictures", type=Path, help="write the side-by-side picture into this folder")
    p.add_argument("--json", type=Path, help="also write the results as JSON")
    p.add_argument("--quick", action="store_true", help="smoke run: 3 steps at 64 px, 128 px photos")
    args = p.parse_args()
    if args.quick:
        args.steps, args.image_size, args.crops, args.size, args.runs, args.eval_size = 3, 64, 8, 128, 1, 96

    print(machine_info.line())
    tmp = Path(tempfile.mkdtemp(prefix="bench-fast-style-"))
    data = training_crops(tmp / "crops", args.crops, args.image_size)
    paths, step_s = {}, {}
    for width in (int(w) for w in args.widths.split(",")):
        trainer, step_s[width] = train(width, data, tmp / f"run-w{width}", args)
        paths[width] = export(trainer, tmp / f"w{width}.onnx")
        print(f"trained width {width}: {args.steps} steps at {args.image_size} px, {step_s[width]:.2f} s/step",
              flush=True)
    speed = onnx_speed(paths, args.size, args.runs)
    losses, pictures = quality(paths, args)
    print(f"\nfast style, {args.style}, {args.steps} steps at {args.image_size} px; losses on held photos "
          f"{', '.join(HELD)} at {args.eval_size} px (lower is better; weighted as in training)")
    head = f"{'network':<14}{f's per {args.size} px':>14}{'vs width 16':>13}{'style loss':>12}{'content loss':>14}"
    print(head)
    print("-" * len(head))
    print(f"{'photo itself':<14}{'':>14}{'':>13}{losses['photo itself']['style']:>12.3f}"
          f"{losses['photo itself']['content']:>14.3f}")
    first = min(speed)
    for width, seconds in speed.items():
        ok = "  (< 0.25 s)" if args.size == 512 and seconds < 0.25 else ""
        q = losses[f"width {width}"]
        print(f"{f'width {width}':<14}{seconds:>14.3f}{seconds / speed[first]:>12.2f}x{q['style']:>12.3f}"
              f"{q['content']:>14.3f}{ok}")
    if args.pictures:
        print("\npicture (held photo | " + " | ".join(f"width {w}" for w in paths) + "): "
              f"{save_pictures(pictures, args.pictures, args.style)}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_info.describe(), "steps": args.steps,
                                         "image_size": args.image_size, "size": args.size,
                                         "s_per_photo": speed, "s_per_train_step": step_s, "losses": losses},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
