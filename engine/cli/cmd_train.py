"""`artengine train RECIPE` and `artengine sample RUN_DIR`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import ConfigError
from .help import RecipeHelpCommand


def _extra_args_as_set(args: list[str]) -> dict[str, str]:
    """Turn unknown ``--name value`` / ``--name=value`` options into --set items, so a trainer's
    own settings can be given as options (``artengine train fast-style --style painting.jpg``)."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise ConfigError(f"unexpected argument {arg!r}", hint="see `artengine train --help`")
        key = arg[2:]
        if "=" in key:
            key, value = key.split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            value = args[i + 1]
            i += 1
        else:
            value = "true"
        out[key.replace("-", "_")] = value
        i += 1
    return out


BUDGET = ("steps", "epochs", "minutes")


def _resume_values(saved: dict, cli_values: dict, set_values: dict[str, str]) -> dict:
    """The saved run's settings as the base layer of a resumed run.

    A budget given now replaces the saved one (``--minutes M``: M more minutes; ``--steps N`` and
    ``--epochs N``: up to step N / epoch N in total). ``--data`` may point a folder run at its
    moved folder (with a note); other data would be another run and is refused."""
    from ..runconfig import SECTIONS, TOP_LEVEL

    values = {k: v for k, v in saved.items() if k in SECTIONS or (k in TOP_LEVEL and k != "recipe")}
    if any(cli_values.get(k) is not None or k in set_values for k in BUDGET):
        for key in BUDGET:
            values.pop(key, None)
    data = cli_values.get("data")
    if data is not None and data != saved.get("data"):
        from pathlib import Path

        dataset = dict(values.get("dataset") or {})
        if dataset.get("name") != "folder" or not Path(data).expanduser().is_dir():
            raise ConfigError(f"--resume --data {data!r}: this run trains on {saved.get('data')!r}",
                              hint="a run continues on its own data; start a new run (another --out) for "
                                   "other data (nothing was written)")
        new_path = str(Path(data).expanduser().resolve())
        click.echo(f"note: --resume reads the run's images from {new_path} (was {dataset.get('path')})", err=True)
        values["dataset"] = {**dataset, "path": new_path}
        values["data"] = new_path
        cli_values["data"] = new_path
    return values


def _unknown_option(exc: ConfigError, extra: dict[str, str], command: click.Command) -> ConfigError:
    """``--stpes 20`` is a typo of an option, not a --set the user never typed: say so."""
    import difflib

    for key in extra:
        if f"--set {key}=" in str(exc).split("\n")[0]:
            typed = "--" + key.replace("_", "-")
            options = [o for p in command.params for o in getattr(p, "opts", []) if o.startswith("--")]
            close = difflib.get_close_matches(typed, options, n=1)
            return ConfigError(f"no option {typed}" + (f"; did you mean {close[0]}?" if close else ""),
                               hint="`artengine train RECIPE --help` lists the options and the recipe's settings")
    return exc


def _check_log_extra(log: str) -> None:
    """``log = tensorboard`` needs an optional package: say which before anything is written."""
    if log == "tensorboard":
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise ConfigError("--log tensorboard needs the tensorboard package, which is not installed",
                              hint="pip install 'artengine[tensorboard]'") from None


@click.command("train", cls=RecipeHelpCommand,
               context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("recipe")
@click.option("--data", help="Dataset name, folder of images, or torchvision:NAME.")
@click.option("--out", type=click.Path(file_okay=False), help="Run directory.")
@click.option("--steps", type=int, help="Optimization steps.")
@click.option("--epochs", type=float, help="Passes over the data.")
@click.option("--minutes", type=float, help="Wall-clock budget.")
@click.option("--image-size", type=int, help="Square image size in pixels.")
@click.option("--batch-size", type=int, help="Images per step.")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where to train.")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16", "auto"]), help="Autocast precision.")
@click.option("--compile/--no-compile", default=None,
              help="torch.compile the step's networks (falls back to eager with a message if the compiler fails).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A TOML config file.")
@click.option("--set", "set_items", multiple=True, metavar="KEY=VALUE",
              help="Override any setting: trainer.lr_g=1e-4, generator=NAME, loss=hinge ...")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint. A budget given "
              "with it replaces the saved one: --minutes M trains M more minutes; --steps N / --epochs N "
              "continue up to step N / epoch N in total.")
@click.option("--checkpoint", default=None, help="With --resume: continue from this older checkpoint "
              "(e.g. step-000000500) instead of the latest; newer ones are moved aside, not deleted.")
@click.option("--overwrite", is_flag=True, help="Clear the earlier run in --out (its checkpoints, samples, "
              "metrics) and start over; other files stay.")
@click.option("--dry-run", is_flag=True, help="Print the resolved config and exit.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--log", type=click.Choice(["none", "tensorboard"]),
              help="Also log scalars and sample grids for TensorBoard, into RUN/tensorboard "
                   "(needs the artengine[tensorboard] extra).")
@click.option("--augment", help="GAN recipes: auto (adaptive augmentation under 10,000 images), none, or a "
              "comma list of ops (color,translation,cutout,flip,rot90,xint); see `artengine augment preview`.")
@click.option("--init-from", help="GAN recipes: RUN_DIR[:step-N] to start from another run's G, D and EMA "
              "(fine-tuning; add --set trainer.freeze_d=K to freeze D's first K blocks).")
@click.pass_context
def train_command(ctx: click.Context, recipe: str, config_file: str | None, set_items: tuple[str, ...],
                  resume: bool, checkpoint: str | None, overwrite: bool, dry_run: bool, quiet: bool,
                  **cli_values) -> None:
    """Train RECIPE (see `artengine list recipes`) into a run directory.

    Unknown --name VALUE options set the trainer's own settings (--style FILE).
    """
    from ..config import load_toml, parse_set
    from ..pluginhost import get_registry
    from ..runconfig import resolve, upgrade_saved
    from ..rundir import RunDir
    from ..training.distributed import is_main

    registry = get_registry()
    extra = _extra_args_as_set(ctx.args)
    set_values = {**extra, **parse_set(set_items)}
    for key in ("augment", "init_from"):  # the GAN trainer's settings, as options for --help
        value = cli_values.pop(key, None)
        if value is not None:
            set_values.setdefault(key, value)
    file_values = load_toml(config_file) if config_file else None
    out = cli_values.get("out")
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite exclude each other", hint="continue the run, or start it over")
    if checkpoint and not resume:
        raise ConfigError("--checkpoint needs --resume", hint="add --resume to continue from that checkpoint")
    more_minutes = None
    if resume:
        if not out:
            raise ConfigError("--resume needs --out RUN_DIR")
        RunDir(out, writer=is_main()).check_free()
        saved = upgrade_saved(RunDir(out).read_config(), registry)
        file_values = _resume_values(saved, cli_values, set_values)
        recipe = saved.get("recipe", recipe)
        more_minutes = cli_values.get("minutes")
    try:
        config = resolve(recipe, registry=registry, file_values=file_values, cli_values=cli_values,
                         set_values=set_values)
    except ConfigError as exc:
        raise _unknown_option(exc, extra, ctx.command) from None
    data = cli_values.get("data")
    if data and not resume and registry.has("datasets", data) and Path(data).is_dir():
        click.echo(f"note: --data {data} is the built-in dataset {data!r}; for the folder of that name "
                   f"pass --data ./{data}", err=True)
    if dry_run:
        click.echo(json.dumps(config.to_json(), indent=2))
        return
    _check_log_extra(config.settings.log)
    if not config.settings.budget_given():
        raise ConfigError("say how long to train: --steps N, --epochs N or --minutes M")
    run = RunDir(config.settings.out, writer=is_main())  # rank 0 checks, locks and writes
    run.check_free()
    if not resume:
        run.check_new_run(overwrite=overwrite)
    from ..training.build import build_trainer

    trainer = build_trainer(config, registry=registry, quiet=quiet, resume=resume, overwrite=overwrite,
                            checkpoint=checkpoint, more_minutes=more_minutes)
    if not quiet and trainer.ctx.rank == 0:
        from ..training.precision import describe_choice

        st = trainer.settings
        click.echo(f"{st.recipe} on {trainer.device}: "
                   f"{describe_choice(st.precision, trainer.precision, trainer.device, st.channels_last)}"
                   f"{', compiled steps' if st.compile else ''} -> {st.out}", err=True)
        click.echo(f"data: {trainer.ctx.dataset.info.description}", err=True)
    trainer.fit()
    from ..training import distributed

    distributed.leave()
    if trainer.stop_reason == "interrupted":  # fit saved a checkpoint; the command still did not finish
        stop = trainer.stop
        saved = "the last checkpoint is kept" if stop.forced else f"step {trainer.step} is saved"
        click.echo(f"Error: stopped by {stop.name}; {saved}: continue with --resume --out {trainer.settings.out}",
                   err=True)
        ctx.exit(stop.exit_code)


@click.command("sample")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu")
def sample_command(run_dir: str, device: str) -> None:
    """Write a sample grid from RUN_DIR's latest checkpoint into RUN_DIR/samples/."""
    from ..training.build import load_trainer

    trainer = load_trainer(run_dir, device=device)
    trainer.run.writer = True
    path = trainer.save_samples()
    click.echo(str(path))


COMMANDS = (train_command, sample_command)
