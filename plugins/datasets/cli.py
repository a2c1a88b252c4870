"""`artengine data inspect FOLDER`: the datasets plugin's command."""

from __future__ import annotations

import click


@click.group("data")
def data_group() -> None:
    """Look at a dataset before training on it."""


@data_group.command("inspect")
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--duplicate-bits", type=click.IntRange(0, 32), default=6, show_default=True,
              help="Differing bits (of the 64-bit perceptual hash) up to which two images are near-duplicates.")
def inspect_command(path: str, as_json: bool, duplicate_bits: int) -> None:
    """Images found and skipped (and why), sizes and aspect ratios, colour modes and their
    conversions, transparency, near-duplicates, and a suggested recipe for this many images."""
    import json

    from .inspect import format_report, inspect_folder

    summary = inspect_folder(path, duplicate_bits=duplicate_bits).summary()
    click.echo(json.dumps(summary, indent=2) if as_json else format_report(summary))
