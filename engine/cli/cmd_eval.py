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
              help="Also write the result as JSON to this file (a run directory always gets eval.json).")
def eval_command(target: str, samples: int, device: str, seed: int, as_json: bool, checkpoint: str | None,
                 out: str | None) -> None:
    """Evaluate a run's latest checkpoint, or an exported generator (.onnx, through onnxruntime):
    modes covered, KL to uniform and classifier Frechet distance (digits, mnist, stacked-mnist) and a
    diversity score for any dataset. For a run directory the result goes to RUN_DIR/eval.json and
    its metrics.jsonl."""
    import json
    from pathlib import Path

    from .. import atomic
    from ..evaluation.evaluate import evaluate_model_file, evaluate_run, print_log

    if Path(target).is_dir():
        result = evaluate_run(target, samples=samples, device=device, seed=seed, checkpoint=checkpoint,
                              log=print_log)
    else:
        result = evaluate_model_file(target, samples=samples, seed=seed, provider=device, log=print_log)
    if out:
        atomic.write_json(out, result)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        click.echo(f"{key:<{width}}  {value}")
    if result.get("collapse_warning"):
        click.echo("warning: the samples look mode-collapsed (few modes or low diversity)", err=True)


COMMANDS = (eval_command,)
