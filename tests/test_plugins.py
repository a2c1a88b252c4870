"""Plugin loading: built-ins, a broken plugin, a wrongly declared hook, strict mode, allow-list."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from artengine import pluginhost
from artengine.errors import DuplicateComponentError, UnknownComponentError
from artengine.hookspecs import hookimpl
from artengine.registry import Registry

from .helpers_cli import run_cli, write_entry_point_plugin

BROKEN_IMPORT = "raise ImportError('needs the package frobnicate; pip install frobnicate')\n"
WRONG_HOOK = textwrap.dedent("""
    from artengine.hookspecs import hookimpl

    @hookimpl
    def register_generatorz(register):
        pass
""")
WRONG_ARGS = textwrap.dedent("""
    from artengine.hookspecs import hookimpl

    @hookimpl
    def register_generators(callback_with_wrong_name):
        pass
""")
RAISES_IN_HOOK = textwrap.dedent("""
    from artengine.hookspecs import hookimpl

    @hookimpl
    def register_losses(register):
        raise RuntimeError("loss table is corrupt")
""")


def _env_with(path, **extra):
    env = {"PYTHONPATH": f"{path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("ARTENGINE_LOAD_PLUGINS", None)
    env.update(extra)
    return env


@pytest.mark.parametrize(
    "source, expected",
    [
        (BROKEN_IMPORT, "needs the package frobnicate"),
        (WRONG_HOOK, "unknown hook(s) register_generatorz"),
        (WRONG_ARGS, "callback_with_wrong_name"),
        (RAISES_IN_HOOK, "loss table is corrupt"),
    ],
    ids=["import-error", "unknown-hook", "wrong-arguments", "raises-in-hook"],
)
def test_broken_plugin_is_reported_once_and_the_rest_works(tmp_path, source, expected):
    root = write_entry_point_plugin(tmp_path, "artengine-broken", "broken", "broken_plugin", source)
    proc = run_cli("plugins", "--json", env=_env_with(root))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("plugin 'broken' is broken") == 1, proc.stderr
    assert expected in proc.stderr
    infos = {p["name"]: p for p in json.loads(proc.stdout)}
    assert infos["broken"]["builtin"] is False
    assert any(expected in e for e in infos["broken"]["errors"])
    # built-ins still work
    assert "register_datasets" in infos["artengine.plugins.datasets"]["hooks"]
    listed = run_cli("list", "datasets", env=_env_with(root))
    assert listed.returncode == 0 and "folder" in listed.stdout


def test_strict_mode_reraises(tmp_path):
    root = write_entry_point_plugin(tmp_path, "artengine-broken", "broken", "broken_plugin", BROKEN_IMPORT)
    proc = run_cli("plugins", env=_env_with(root, ARTENGINE_STRICT_PLUGINS="1"))
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "frobnicate" in proc.stderr


def test_allow_list_skips_unlisted_entry_points(tmp_path):
    root = write_entry_point_plugin(tmp_path, "artengine-broken", "broken", "broken_plugin", BROKEN_IMPORT)
    proc = run_cli("plugins", "--json", env=_env_with(root, ARTENGINE_LOAD_PLUGINS=""))
    assert proc.returncode == 0
    assert "broken" not in {p["name"] for p in json.loads(proc.stdout)}
    assert "frobnicate" not in proc.stderr


class _Gen:
    @staticmethod
    @hookimpl
    def register_generators(register):
        register("twin", "math:sqrt", description="first")


class _GenTwin:
    @staticmethod
    @hookimpl
    def register_generators(register):
        register("twin", "math:floor", description="second")


def test_duplicate_names_raise_naming_both_plugins(monkeypatch, capsys):
    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    host = pluginhost.PluginHost()
    host.pm.register(_Gen, name="first-plugin")
    host.pm.register(_GenTwin, name="second-plugin")
    reg = Registry(host)
    assert reg.get("generators", "twin").plugin == "first-plugin"
    err = capsys.readouterr().err
    assert "'first-plugin'" in err and "'second-plugin'" in err and "registered twice" in err
    monkeypatch.setenv("ARTENGINE_STRICT_PLUGINS", "1")
    with pytest.raises(pluginhost.PluginLoadError) as info:
        Registry(host).names("generators")
    assert isinstance(info.value.__cause__, DuplicateComponentError)


def test_unknown_component_lists_valid_names(monkeypatch):
    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    reg = Registry(pluginhost.PluginHost())
    with pytest.raises(UnknownComponentError) as info:
        reg.get("datasets", "foldr")
    text = str(info.value)
    assert "Did you mean 'folder'" in text and "Available:" in text


def test_unknown_component_through_cli_is_one_clear_line(tmp_path):
    proc = run_cli("train", "no-such-recipe", "--out", str(tmp_path / "r"), "--steps", "1")
    assert proc.returncode != 0
    assert "Error: unknown recipe 'no-such-recipe'" in proc.stderr
    assert "Traceback" not in proc.stderr
