"""The ``artengine`` command line (click).

Core commands live in ``cmd_*.py`` modules of this package; plugins add theirs
through the ``register_commands`` hook. Nothing here imports torch at import
time, so ``artengine --help`` and ``artengine plugins`` answer fast.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from .. import __version__
from ..errors import ArtengineError


class ArtengineGroup(click.Group):
    """A click group that turns :class:`ArtengineError` into one clear message."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ArtengineError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=ArtengineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="artengine")
def cli() -> None:
    """artengine: train GANs on your images, stylize photos, export ONNX, render galleries."""


def _add_core_commands(group: click.Group) -> None:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{mod.name}")
            for command in getattr(module, "COMMANDS", ()):
                group.add_command(command)


def _add_plugin_commands(group: click.Group) -> None:
    from ..pluginhost import get_host

    get_host().call_each("register_commands", cli=group)


_add_core_commands(cli)
_plugin_commands_added = False


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    global _plugin_commands_added
    if not _plugin_commands_added:
        _plugin_commands_added = True
        _add_plugin_commands(cli)
    try:
        cli.main(args=argv, prog_name="artengine")
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("Interrupted.", err=True)
        sys.exit(130)


def get_cli() -> click.Group:
    """The CLI with plugin commands added (for click's CliRunner in tests and apps)."""
    global _plugin_commands_added
    if not _plugin_commands_added:
        _plugin_commands_added = True
        _add_plugin_commands(cli)
    return cli
