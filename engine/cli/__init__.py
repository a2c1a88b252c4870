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
    """The top-level group: turns :class:`ArtengineError` into one clear message, keeps core
    commands from being replaced by plugins, hides commands of a skipped plugin, and lists
    command descriptions in full."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.command_owners: dict[str, str] = {}  # command name -> the plugin that added it

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        from ..pluginhost import current_plugin, get_host

        name = name or cmd.name
        plugin = current_plugin()
        if plugin is not None and name is not None:
            if name in self.commands and self.command_owners.get(name) != plugin:
                owner = self.command_owners.get(name)
                what = "the core command" if owner is None else f"the command of plugin {owner!r}"
                get_host().warn(plugin, f"its command {name!r} clashes with {what} {name!r}, which is kept; "
                                        "rename the plugin's command")
                return
            self.command_owners[name] = plugin
        super().add_command(cmd, name)

    def _visible(self, name: str) -> bool:
        from ..pluginhost import get_host

        owner = self.command_owners.get(name)
        return owner is None or get_host().is_active(owner)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) if self._visible(cmd_name) else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if self._visible(name)]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Like click's, but a description is the command's whole first sentence, wrapped,
        never cut off with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ArtengineError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=ArtengineGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="artengine")
def cli() -> None:
    """artengine: train GANs on your images, stylize photos, export ONNX, render galleries."""


def _add_core_commands(group: click.Group) -> None:
    from .help import complete_help

    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{mod.name}")
            for command in getattr(module, "COMMANDS", ()):
                group.add_command(command)
    complete_help(group)


def _add_plugin_commands(group: click.Group) -> None:
    from ..pluginhost import get_host
    from .help import complete_help

    host = get_host()
    host.registry.collect_all()  # a plugin broken in a register hook is skipped before it adds commands
    host.call("register_commands", cli=group)
    complete_help(group)


_add_core_commands(cli)
_plugin_commands_added = False


def get_cli() -> click.Group:
    """The CLI with plugin commands added (for click's CliRunner in tests and apps)."""
    global _plugin_commands_added
    if not _plugin_commands_added:
        _plugin_commands_added = True
        _add_plugin_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point; Ctrl-C (also while plugins load) exits 130 with one line."""
    try:
        get_cli().main(args=argv, prog_name="artengine")
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
