"""`artengine eval RUN_DIR`: measure mode collapse of a trained generator."""

from __future__ import annotations

import click


@click.command("eval")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--samples", type=click.IntRange(min=100), default=26000, show_default=True,
              help="Generated images to classify (26,000 is the PacGAN/VEEGAN protocol).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the evaluation latents.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def eval_command(run_dir: str, samples: int, device: str, seed: int, as_json: bool) -> None:
    """Evaluate RUN_DIR's latest checkpoint: modes covered, KL to uniform and classifier Frechet distance
    (digits, mnist, stacked-mnist) and a diversity score for any dataset. Writes RUN_DIR/eval.json."""
    import json

    from ..evaluation.evaluate import evaluate_run, print_log

    result = evaluate_run(run_dir, samples=samples, device=device, seed=seed, log=print_log)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        click.echo(f"{key:<{width}}  {value}")
    if result.get("collapse_warning"):
        click.echo("warning: the samples look mode-collapsed (few modes or low diversity)", err=True)


COMMANDS = (eval_command,)
