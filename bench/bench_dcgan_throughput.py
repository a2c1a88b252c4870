"""Throughput of the engine's DCGAN training step against a plain hand-written PyTorch loop.

Same networks (the dcgan plugin's), batch, data (in memory), loss and precision; the plain loop is the
pytorch/examples DCGAN step. Rounds alternate between the two so that machine load hits both alike;
the table shows the median images/s over rounds. ``engine`` runs with EMA and R1 off (the same work as the
plain loop); ``engine+ema+r1`` is the recipe's default step (EMA, and lazy R1 every 4 steps).

    .venv/bin/python bench/bench_dcgan_throughput.py --image-size 64 --batch-size 64 --precisions fp32,bf16
    .venv/bin/python bench/bench_dcgan_throughput.py --precisions auto,fp32 --compile   # the default, compiled
    .venv/bin/python bench/bench_dcgan_throughput.py --precisions auto --matmul-off     # what the matmul layers give
    .venv/bin/python bench/bench_dcgan_throughput.py --quick                             # smoke run

``auto`` rows measure the recipes' default precision as it resolves on this machine (``auto=bf16`` on
AMX / AVX512-BF16 CPUs and CUDA, ``auto=fp32`` elsewhere).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def plain_loop(G, D, data: torch.Tensor, batch: int, latent: int, precision: str, device: torch.device):
    """The pytorch/examples DCGAN step (BCE, D on real + fake, then G), with optional bf16 autocast."""
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    cast = precision != "fp32"
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    channels_last = precision != "fp32"
    gen = torch.Generator().manual_seed(0)

    def step() -> None:
        idx = torch.randint(0, data.shape[0], (batch,), generator=gen)
        real = data[idx].to(device).float().div_(127.5).sub_(1.0)
        if channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        ones = torch.ones(batch, device=device)
        zeros = torch.zeros(batch, device=device)
        with torch.autocast(device.type, dtype=dtype, enabled=cast):
            fake = G(torch.randn(batch, latent, device=device))
            loss_d = (F.binary_cross_entropy_with_logits(D(real).float(), ones)
                      + F.binary_cross_entropy_with_logits(D(fake.detach()).float(), zeros))
        D.zero_grad()
        loss_d.backward()
        opt_d.step()
        with torch.autocast(device.type, dtype=dtype, enabled=cast):
            loss_g = F.binary_cross_entropy_with_logits(D(fake).float(), ones)
        loss_d = loss_d.detach()
        G.zero_grad()
        loss_g.backward()
        opt_g.step()
        loss_d.item(), loss_g.item()  # the engine reads its metrics every step too

    return step


def engine_trainer(args, precision: str, recipe_step: bool, out: Path, compile: bool = False,
                   matmul_convs: bool = True):
    """The dcgan recipe's trainer on in-memory shapes; ``recipe_step``: with the recipe's EMA and R1, else the
    plain loop's work (neither); ``matmul_convs=False``: every layer on the convolution kernels."""
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer
    from artengine.training.trainer import seed_everything

    registry = get_registry()
    config = resolve("dcgan", registry=registry,
                     cli_values={"data": "shapes", "out": str(out), "steps": 1, "image_size": args.image_size,
                                 "batch_size": args.batch_size, "seed": 0, "device": args.device,
                                 "precision": precision},
                     set_values={"dataset.size": str(args.data_size), "generator.width": str(args.width),
                                 "discriminator.width": str(args.width), "log_every": "1000000",
                                 "channels_last": str(precision not in ("fp32", "auto")).lower(),
                                 "compile": str(compile).lower(),
                                 "matmul_convs": str(matmul_convs).lower(),
                                 "trainer.balance_threshold": "0",
                                 **({} if recipe_step else {"trainer.ema_beta": "0", "trainer.r1_gamma": "0"}),
                                 # the plain loop does not augment; with ADA on (256 images) p climbs during the
                                 # timed rounds and the engine's step grows dearer round by round
                                 "trainer.augment": "none"})
    trainer = build_trainer(config, registry=registry)
    seed_everything(0)
    trainer.setup()
    return trainer


def timed(step, n: int, sync) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64, help="DCGAN width (64 = canonical)")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4,
                        help="steps per round per contender (4: each round holds one lazy R1 step)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--data-size", type=int, default=256, help="shapes images held in memory")
    parser.add_argument("--compile", action="store_true", help="also the engine with --compile (torch.compile)")
    parser.add_argument("--matmul-off", action="store_true",
                        help="also the engine with --set matmul_convs=false (its small layers on the convolution "
                             "kernels), in the same rounds")
    parser.add_argument("--quick", action="store_true", help="smoke run: 16 px, batch 8, width 8, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.image_size, args.batch_size, args.width, args.rounds, args.steps = 16, 8, 8, 1, 1
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    import machine_info
    import trainers

    from artengine.training.precision import resolve_precision

    print(machine_info.line(args.device))
    # (group, contender) -> median img/s; each --precisions entry is a group with its own plain loop, timed in
    # the same alternating rounds, so every engine row is compared with the plain loop it was paired with
    results: dict[tuple[str, str], float] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-dcgan-"))
    for asked in args.precisions.split(","):
        # auto (the recipes' default) is measured as what it resolves to here, labelled as such
        precision = resolve_precision(asked, device)
        engine = engine_trainer(args, asked, recipe_step=False, out=tmp / f"e-{asked}")
        engine_recipe = engine_trainer(args, asked, recipe_step=True, out=tmp / f"ee-{asked}")
        label = f"{asked}={precision}" if asked == "auto" else precision
        from artengine.plugins.dcgan.config import DcganDiscriminatorConfig, DcganGeneratorConfig
        from artengine.plugins.dcgan.networks import DcganDiscriminator, DcganGenerator

        torch.manual_seed(0)
        G = DcganGenerator(DcganGeneratorConfig(width=args.width), image_size=args.image_size, channels=3).to(device)
        D = DcganDiscriminator(DcganDiscriminatorConfig(width=args.width), image_size=args.image_size,
                               channels=3).to(device)
        if precision != "fp32":
            G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        data = engine.ctx.dataset.as_tensor()
        contenders = {
            f"plain {precision}": plain_loop(G, D, data, args.batch_size, G.latent_dim, precision, device),
            f"engine {label}": trainers.counted_step(engine),
            f"engine+ema+r1 {label}": trainers.counted_step(engine_recipe),
        }
        if args.compile:
            compiled = engine_trainer(args, asked, recipe_step=False, out=tmp / f"ec-{asked}", compile=True)
            contenders[f"engine compile {label}"] = trainers.counted_step(compiled)
        if args.matmul_off:
            conv_only = engine_trainer(args, asked, recipe_step=False, out=tmp / f"em-{asked}", matmul_convs=False)
            contenders[f"engine no-matmul {label}"] = trainers.counted_step(conv_only)
        for step in contenders.values():
            timed(step, args.warmup, sync)
        per_round: dict[str, list[float]] = {k: [] for k in contenders}
        for _ in range(args.rounds):
            for key, step in contenders.items():
                per_round[key].append(args.steps * args.batch_size / timed(step, args.steps, sync))
        for key, values in per_round.items():
            results[(asked, key)] = statistics.median(values)
            print(f"  {key:<26} rounds: {', '.join(f'{v:.1f}' for v in values)} img/s", flush=True)

    print(f"\nDCGAN {args.image_size}x{args.image_size}, batch {args.batch_size}, width {args.width}, {args.device}")
    print("(each engine row against the plain loop of its own group of rounds)")
    head = f"{'contender':<28}{'img/s':>9}{'vs plain same prec':>20}{'vs plain fp32':>15}"
    print(head)
    print("-" * len(head))
    first_fp32 = next((v for (_, k), v in results.items() if k == "plain fp32"), None)
    for (group, key), value in results.items():
        precision = key.split()[-1].split("=")[-1]
        plain = results.get((group, f"plain {precision}"))
        base = results.get((group, "plain fp32"), first_fp32)
        rel = f"{100 * (plain / value - 1):+.1f}% time" if plain and not key.startswith("plain") else ""
        speed = f"{value / base:.2f}x" if base else ""
        print(f"{key:<28}{value:>9.1f}{rel:>20}{speed:>15}")


if __name__ == "__main__":
    main()
