"""`artengine export RUN_DIR --out model.onnx`: a trained run as a verified, self-describing model file."""

from __future__ import annotations

import json

import click


@click.command("export")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write (e.g. model.onnx).")
@click.option("--format", "exporter", default="onnx", show_default=True,
              help="Registered exporter (`artengine list exporters`).")
@click.option("--opset", default=None, type=int, help="ONNX opset version (default: the exporter's).")
@click.option("--no-ema", is_flag=True, help="Export the raw generator instead of its EMA copy.")
@click.option("--quantize", default=None, type=click.Choice(["none", "int8", "fp16"]),
              help="Faster variant, checked against fp32 within a tolerance.")
@click.option("--exporter", "torch_exporter", default=None, type=click.Choice(["auto", "dynamo", "torchscript"]),
              help="Which torch.onnx path to use (default auto: dynamo, falling back to torchscript).")
@click.option("--checkpoint", default=None, help="Checkpoint name inside the run (default: the latest).")
@click.option("--best", is_flag=True, help="Export the kept checkpoint with the lowest KID (measured by `artengine "
              "eval --all-checkpoints` or eval_every).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Other exporter settings.")
@click.option("--parts", is_flag=True, help="Also export the networks the trainer offers apart (StyleGAN: mapping "
              "z -> w and synthesis w -> image, for style mixing and W-space walks) as MODEL.ROLE.onnx beside OUT.")
def export_command(run_dir, out, exporter, opset, no_ema, quantize, torch_exporter, checkpoint, best, sets,
                   parts) -> None:
    """Export the generator of RUN_DIR; nothing is written unless the file passes verification."""
    from .. import interrupts
    from ..errors import ConfigError
    from ..export import export_run
    from ..writable import ensure_writable_file

    options: dict[str, object] = {}
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"--set {item!r} needs KEY=VALUE")
        options[key.strip()] = value
    for key, value in (("opset", opset), ("quantize", quantize), ("exporter", torch_exporter)):
        if value is not None:
            options[key] = value
    ensure_writable_file(out)  # before rebuilding the run and tracing it, not after
    if best:
        from ..evaluation.best import best_checkpoint

        if checkpoint:
            raise ConfigError("--best picks the checkpoint itself; leave out --checkpoint")
        checkpoint, kid = best_checkpoint(run_dir)
        click.echo(f"best: {checkpoint} (lowest KID {kid})", err=True)
    stop = interrupts.install(deferred=False)  # SIGTERM like Ctrl-C: the exporter's temp folders are removed
    try:
        report = export_run(run_dir, out, exporter=exporter, ema=not no_ema, options=options, checkpoint=checkpoint,
                            parts=parts)
    except KeyboardInterrupt:
        click.echo(f"Error: export stopped by {stop.name}; nothing was written to {out}", err=True)
        click.get_current_context().exit(stop.exit_code)
    finally:
        interrupts.uninstall(stop)
    line = f"wrote {out}"
    if parts:
        from ..export.api import part_path

        names = json.loads(report.metadata.get("artengine.parts", "{}")) if hasattr(report, "metadata") else {}
        line += "".join(f", {part_path(out, role)}" for role in names)
    if hasattr(report, "exporter"):
        line += f" (torch exporter: {report.exporter}, opset {report.opset}, max |onnxruntime - torch| " \
                f"{report.max_abs_diff:.2g}"
        if report.quantize != "none":
            line += f"; {report.quantize}: max diff vs fp32 {report.quantized_max_diff:.3g}, " \
                    f"mean {report.quantized_mean_diff:.3g}"
        line += ")"
    click.echo(line)


COMMANDS = (export_command,)
