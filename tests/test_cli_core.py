"""The CLI's light paths: --help and `plugins` answer without importing torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .helpers_cli import run_cli

PROBE = """
import sys
from artengine.cli import main
try:
    main({args!r})
except SystemExit:
    pass
heavy = [m for m in ("torch", "torchvision", "onnx") if m in sys.modules]
print("HEAVY:", ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["plugins"], ["plugins", "--json"], ["list", "recipes"]])
def test_light_commands_do_not_import_torch(args):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY: \n" in proc.stdout or proc.stdout.rstrip().endswith("HEAVY:"), proc.stdout


def test_version_and_help_list_the_command_groups():
    proc = run_cli("--help", check=True)
    for command in ("plugins", "list", "train", "sample"):
        assert command in proc.stdout
    assert "0.1.0" in run_cli("--version", check=True).stdout


def test_bad_set_item_is_one_line_error(tmp_path):
    proc = run_cli("train", "dcgan", "--set", "nonsense", "--out", str(tmp_path / "r"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "must look like key=value" in proc.stderr or "unknown recipe" in proc.stderr
