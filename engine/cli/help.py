"""`artengine train --help`: every option says what it falls back to, and the recipes are listed.

Train options default to None on the command line, because the value comes from the
layers under it (recipe < config file < option < --set). The help shows the run-setting
default beside "the recipe's", and lists each recipe with what it sets. Torch-free.
"""

from __future__ import annotations

import click

_UNSET = getattr(click.core, "UNSET", None)  # click >= 8.3 marks "no default" with a sentinel


def _has_no_default(param: click.Option) -> bool:
    return param.default is None or param.default is _UNSET


def _plain(value: object) -> str:
    if value in (None, ""):
        return "none"
    return "off" if value is False else "on" if value is True else str(value)


def _fallbacks() -> dict[str, object]:
    """Setting name -> the default an option falls back to: the run settings', else the first
    registered trainer's that has the setting (e.g. the GAN trainer's ``augment``)."""
    from .. import config as cfg
    from ..pluginhost import get_registry
    from ..runconfig import RunSettings

    defaults: dict[str, object] = {}
    for comp in get_registry().all("trainers"):
        for row in cfg.describe(comp.config):
            defaults.setdefault(row["name"], row["default"])
    defaults.update({row["name"]: row["default"] for row in cfg.describe(RunSettings)})
    return defaults




class RecipeHelpCommand(click.Command):
    """A command whose options fall back to :class:`artengine.runconfig.RunSettings` through a recipe."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        defaults = _fallbacks()
        for param in self.params:
            if not (isinstance(param, click.Option) and _has_no_default(param) and param.show_default is None):
                continue
            if param.name in defaults:
                fallback = defaults[param.name]
                if param.name in ("steps", "epochs", "minutes") and not fallback:
                    fallback = "no limit"
                param.show_default = f"recipe's, else {_plain(fallback)}"
            elif not param.is_flag:
                param.show_default = "none"
        super().format_help(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        from ..pluginhost import get_registry

        rows = []
        for comp in get_registry().all("recipes"):
            recipe = comp.extra.get("recipe")
            sets = dict(getattr(recipe, "settings", {}) or {})
            top = ", ".join(f"{k}={_plain(v)}" for k, v in sets.items() if not isinstance(v, dict))
            rows.append((comp.name, comp.description + (f" Sets {top}." if top else "")))
        if rows:
            with formatter.section("Recipes (`artengine list recipes` shows their components)"):
                formatter.write_dl(rows)


def complete_help(group: click.Group) -> None:
    """Every subcommand of ``group`` (and of its subgroups) gets its whole first sentence as the
    one-line description, instead of click's 45-character cut with '...', and every option that
    takes a value says its default, "none" where it has none."""
    for command in group.commands.values():
        if not command.short_help and command.help:
            command.short_help = command.get_short_help_str(limit=1000)
        if isinstance(command, click.Group):
            complete_help(command)
        elif not isinstance(command, RecipeHelpCommand):  # that one says "the recipe's, else ..."
            for param in command.params:
                if isinstance(param, click.Option) and not param.is_flag and not param.required \
                        and _has_no_default(param) and param.show_default is None \
                        and "default" not in (param.help or ""):  # the help already says it
                    param.show_default = "none"
