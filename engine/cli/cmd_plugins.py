"""`artengine plugins` and `artengine list KIND`: what is installed, and its settings."""

from __future__ import annotations

import dataclasses
import json

import click

from ..registry import KINDS


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--check", is_flag=True,
              help="Also load every lazy factory (imports the plugins' code: slower); exit 1 if one fails.")
def plugins_command(as_json: bool, check: bool) -> None:
    """List every loaded plugin: version, hooks, components and load errors."""
    from ..errors import PluginError
    from ..pluginhost import get_host

    host = get_host()
    host.registry.collect_all()
    failed: dict[str, list[str]] = {}
    if check:
        for kind in KINDS:
            for comp in host.registry.all(kind):
                if comp.factory is None:  # data, e.g. a recipe
                    continue
                try:
                    comp.load()
                except PluginError as exc:
                    failed.setdefault(comp.plugin, []).append(str(exc).split("\n")[0])
    infos = []
    for info in host.infos.values():
        row = dataclasses.asdict(info)
        row["components"] = host.registry.components_of(info.name)
        row["factory_errors"] = failed.get(info.name, [])
        infos.append(row)
    if as_json:
        click.echo(json.dumps(infos, indent=2))
    else:
        for info in infos:
            origin = "built-in" if info["builtin"] else "package"
            state = ", skipped" if info["skipped"] else ""
            click.echo(f"{info['name']} {info['version'] or ''} ({origin}{state})".replace("  ", " "))
            if info["hooks"]:
                click.echo(f"  hooks: {', '.join(info['hooks'])}")
            for kind, names in sorted(info["components"].items()):
                click.echo(f"  {kind}: {', '.join(sorted(names))}")
            for err in info["errors"] + info["factory_errors"]:
                click.echo(f"  ERROR: {err}")
            for note in info["warnings"]:
                click.echo(f"  note: {note}")
    if failed:
        raise SystemExit(1)


@click.command("list")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(kind: str, as_json: bool) -> None:
    """List the components of one KIND with their config fields."""
    from ..config import describe
    from ..pluginhost import get_registry

    comps = get_registry().all(kind)
    rows = [
        {"name": c.name, "plugin": c.plugin, "description": c.description,
         "config": describe(c.config),
         **{k: v for k, v in c.extra.items() if isinstance(v, (str, int, float, bool, dict, list))}}
        for c in comps
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo(f"No {kind} registered.")
    for row in rows:
        click.echo(f"{row['name']}  ({row['plugin']})  {row['description']}")
        for f in row["config"]:
            bounds = []
            if f["choices"]:
                bounds.append("one of " + "|".join(map(str, f["choices"])))
            if f["min"] is not None:
                bounds.append(f">= {f['min']}")
            if f["max"] is not None:
                bounds.append(f"<= {f['max']}")
            extra = f" [{', '.join(bounds)}]" if bounds else ""
            click.echo(f"    {f['name']} = {f['default']!r}  {f['help']}{extra}")


COMMANDS = (plugins_command, list_command)
