"""A real third-party plugin package (examples/artengine-mlp), pip-installed, used through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .helpers_cli import ROOT, run_cli


@pytest.fixture(scope="module")
def mlp_plugin_installed():
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(ROOT / "examples" / "artengine-mlp")],
                   check=True, capture_output=True, timeout=300)
    yield
    subprocess.run([*pip, "uninstall", "-y", "artengine-mlp"], capture_output=True, timeout=300)


def test_installed_plugin_is_listed_with_its_components(mlp_plugin_installed):
    infos = {p["name"]: p for p in json.loads(run_cli("plugins", "--json", check=True).stdout)}
    mlp = infos["mlp"]
    assert mlp["builtin"] is False and mlp["version"] == "0.1.0" and not mlp["errors"]
    assert mlp["components"] == {"generators": ["mlp"], "discriminators": ["mlp"]}
    assert set(mlp["hooks"]) == {"register_generators", "register_discriminators", "on_train_end"}
    listing = run_cli("list", "generators", check=True).stdout
    assert "mlp  (mlp)" in listing and "hidden = 256" in listing


def test_plugin_components_train_and_its_event_fires(mlp_plugin_installed, tmp_path):
    out = tmp_path / "run"
    run_cli("train", "dcgan", "--data", "digits", "--image-size", "8", "--batch-size", "16", "--steps", "3",
            "--set", "generator=mlp", "--set", "discriminator=mlp", "--set", "generator.hidden=32",
            "--quiet", "--out", str(out), check=True)
    config = json.loads((out / "config.json").read_text())
    assert config["generator"] == {"name": "mlp", "latent_dim": 64, "hidden": 32, "layers": 2}
    assert config["versions"]["plugins"]["mlp"] == "0.1.0"
    assert json.loads((out / "mlp-plugin.json").read_text()) == {"finished_at_step": 3}


def test_allow_list_can_leave_the_plugin_out(mlp_plugin_installed):
    proc = run_cli("list", "generators", env={"ARTENGINE_LOAD_PLUGINS": ""}, check=True)
    assert "mlp" not in proc.stdout
