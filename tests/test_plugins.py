"""Plugin loading: built-ins, a broken plugin, a wrongly declared hook, strict mode, allow-list."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from artengine import pluginhost
from artengine.errors import DuplicateComponentError, UnknownComponentError
from artengine.hookspecs import hookimpl

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


def test_duplicate_names_are_reported_naming_both_plugins_and_one_keeps_the_name(monkeypatch, capsys):
    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    host = pluginhost.PluginHost()
    host.pm.register(_Gen, name="first-plugin")
    host.pm.register(_GenTwin, name="second-plugin")
    winner = host.registry.get("generators", "twin").plugin
    loser = ({"first-plugin", "second-plugin"} - {winner}).pop()
    err = capsys.readouterr().err
    assert "'first-plugin'" in err and "'second-plugin'" in err and "registered twice" in err
    assert not host.is_active(loser) and host.infos[loser].skipped
    monkeypatch.setenv("ARTENGINE_STRICT_PLUGINS", "1")
    strict = pluginhost.PluginHost()
    strict.pm.register(_Gen, name="first-plugin")
    strict.pm.register(_GenTwin, name="second-plugin")
    with pytest.raises(pluginhost.PluginLoadError) as info:
        strict.registry.names("generators")
    assert isinstance(info.value.__cause__, DuplicateComponentError)


def test_a_builtin_name_stays_with_the_builtin_and_the_error_points_at_the_plugin(tmp_path):
    source = textwrap.dedent("""
        from artengine.hookspecs import hookimpl

        @hookimpl
        def register_generators(register):
            register("dcgan", "math:sqrt", description="an impostor")
    """)
    root = write_entry_point_plugin(tmp_path, "artengine-impostor", "impostor", "impostor_plugin", source)
    proc = run_cli("list", "generators", "--json", env=_env_with(root))
    assert proc.returncode == 0, proc.stderr
    dcgan = {row["name"]: row for row in json.loads(proc.stdout)}["dcgan"]
    assert dcgan["plugin"] == "artengine.plugins.dcgan"
    assert "plugin 'impostor' is broken" in proc.stderr and "registered twice" in proc.stderr
    assert f"(at {root / 'impostor_plugin.py'}:6)" in proc.stderr  # the plugin's register() line
    assert "registry.py" not in proc.stderr


def test_core_commands_cannot_be_replaced_by_a_plugin(tmp_path):
    source = textwrap.dedent("""
        import click
        from artengine.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command("train")
            def hijacked():
                "Hijacked."
                click.echo("HIJACKED")

            @cli.command("hello-takeover")
            def hello():
                click.echo("hello from the plugin")
    """)
    root = write_entry_point_plugin(tmp_path, "artengine-takeover", "takeover", "takeover_plugin", source)
    proc = run_cli("train", "--help", env=_env_with(root))
    assert proc.returncode == 0, proc.stderr
    assert "HIJACKED" not in proc.stdout and "Train RECIPE" in proc.stdout
    assert "plugin 'takeover'" in proc.stderr and "'train'" in proc.stderr and "core command" in proc.stderr
    hello = run_cli("hello-takeover", env=_env_with(root))  # its other command still works
    assert hello.returncode == 0 and "hello from the plugin" in hello.stdout
    infos = {p["name"]: p for p in json.loads(run_cli("plugins", "--json", env=_env_with(root)).stdout)}
    assert any("'train'" in note for note in infos["takeover"]["warnings"])


def test_a_plugin_that_exits_at_import_is_named_and_skipped(tmp_path):
    root = write_entry_point_plugin(tmp_path, "artengine-exits", "exits", "exits_plugin",
                                    "import sys\nsys.exit(3)\n")
    proc = run_cli("--help", env=_env_with(root))
    assert proc.returncode == 0 and "Commands:" in proc.stdout
    assert "plugin 'exits' is broken and was skipped: it called sys.exit(3)" in proc.stderr
    infos = {p["name"]: p for p in json.loads(run_cli("plugins", "--json", env=_env_with(root)).stdout)}
    assert infos["exits"]["skipped"] and "sys.exit(3)" in infos["exits"]["errors"][0]


def test_ctrl_c_during_a_plugin_import_still_interrupts(tmp_path):
    root = write_entry_point_plugin(tmp_path, "artengine-ctrlc", "ctrlc", "ctrlc_plugin",
                                    "raise KeyboardInterrupt\n")
    proc = run_cli("--help", env=_env_with(root))
    assert proc.returncode == 130 and "Commands:" not in proc.stdout
    assert "Interrupted." in proc.stderr and "is broken" not in proc.stderr


def test_an_unresolvable_factory_names_the_plugin_and_the_string(tmp_path):
    source = textwrap.dedent("""
        from artengine.hookspecs import hookimpl

        @hookimpl
        def register_generators(register):
            register("ghost", "json:no_such_generator", description="points nowhere")
    """)
    root = write_entry_point_plugin(tmp_path, "artengine-ghost", "ghost", "ghost_plugin", source)
    listed = run_cli("plugins", env=_env_with(root))
    assert listed.returncode == 0 and "generators: ghost" in listed.stdout
    checked = run_cli("plugins", "--check", env=_env_with(root))
    assert checked.returncode == 1
    assert "generator 'ghost' (plugin 'ghost')" in checked.stdout and "'json:no_such_generator'" in checked.stdout
    out = tmp_path / "run"
    proc = run_cli("train", "dcgan", "--data", "digits", "--image-size", "8", "--steps", "1", "--quiet",
                   "--set", "generator=ghost", "--out", str(out), env=_env_with(root))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "Error: generator 'ghost' (plugin 'ghost'): its factory 'json:no_such_generator' cannot be loaded" \
        in proc.stderr


def test_a_malformed_lazy_factory_is_refused_at_registration(monkeypatch, capsys):
    class NoColon:
        @staticmethod
        @hookimpl
        def register_losses(register):
            register("nocolon", "json.dumps", description="module path without ':attr'")

    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    host = pluginhost.PluginHost()
    host.pm.register(NoColon, name="nocolon-plugin")
    assert "nocolon" not in host.registry.names("losses")
    assert "'json.dumps'" in capsys.readouterr().err and host.infos["nocolon-plugin"].skipped


def test_a_slow_plugin_import_gets_a_one_line_notice(tmp_path):
    root = write_entry_point_plugin(tmp_path, "artengine-slow", "slow", "slow_plugin",
                                    "import time\ntime.sleep(1.3)\n")
    proc = run_cli("--help", env=_env_with(root))
    assert proc.returncode == 0
    notices = [line for line in proc.stderr.splitlines() if "plugin 'slow' took" in line]
    assert len(notices) == 1 and "ARTENGINE_LOAD_PLUGINS" in notices[0]


HALF_BROKEN = textwrap.dedent("""
    import click
    from artengine.hookspecs import hookimpl

    @hookimpl
    def register_generators(register):
        register("half", "math:sqrt", description="registered before the plugin broke")

    @hookimpl
    def register_commands(cli):
        @cli.command("half-command")
        def half():
            click.echo("still here")

    @hookimpl
    def register_losses(register):
        raise RuntimeError("loss table is corrupt")
""")


def test_a_skipped_plugin_leaves_no_components_commands_or_hooks(tmp_path):
    root = write_entry_point_plugin(tmp_path, "artengine-half", "half", "half_plugin", HALF_BROKEN)
    listed = run_cli("list", "generators", env=_env_with(root))
    assert listed.returncode == 0 and "half" not in listed.stdout and "dcgan" in listed.stdout
    assert listed.stderr.count("plugin 'half' is broken") == 1
    command = run_cli("half-command", env=_env_with(root))
    assert command.returncode != 0 and "still here" not in command.stdout
    infos = {p["name"]: p for p in json.loads(run_cli("plugins", "--json", env=_env_with(root)).stdout)}
    assert infos["half"]["skipped"] and infos["half"]["components"] == {} and infos["half"]["hooks"] == []


def test_a_listener_that_fails_is_skipped_from_then_on(monkeypatch, capsys):
    class Listener:
        calls: list[str] = []

        @hookimpl
        def on_step_end(self, trainer, step, metrics):
            self.calls.append("step")
            raise RuntimeError("listener bug")

        @hookimpl
        def on_train_end(self, trainer, reason):
            self.calls.append("end")

    class Builtin:
        @staticmethod
        @hookimpl
        def on_step_end(trainer, step, metrics):
            raise ValueError("our own bug")

    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    host = pluginhost.PluginHost()
    for name, info in host.infos.items():  # the built-in listeners need a real trainer
        if any(h.startswith("on_") for h in info.hooks):
            host.pm.unregister(name=name)
    listener = Listener()
    host.pm.register(listener, name="listener")
    host.emit("on_step_end", trainer=None, step=1, metrics={})
    host.emit("on_step_end", trainer=None, step=2, metrics={})
    host.emit("on_train_end", trainer=None, reason="done")
    assert listener.calls == ["step"]
    assert capsys.readouterr().err.count("plugin 'listener' is broken") == 1
    host.infos["builtin-listener"] = pluginhost.PluginInfo("builtin-listener", "1", True, "tests")
    host.pm.register(Builtin, name="builtin-listener")
    with pytest.raises(ValueError, match="our own bug"):  # a built-in's bug keeps its traceback
        host.emit("on_step_end", trainer=None, step=3, metrics={})
    with pytest.raises(ValueError, match="not a training event"):
        host.emit("register_losses", register=print)


def test_the_host_owns_one_registry_and_one_reset():
    first = pluginhost.get_host()
    assert pluginhost.get_registry() is first.registry and first.registry.host is first
    pluginhost.reset_host()
    assert pluginhost.get_host() is not first


def test_engine_modules_import_no_circle():
    import ast
    from pathlib import Path

    engine = Path(pluginhost.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in engine.rglob("*.py"):
        rel = path.relative_to(engine).with_suffix("")
        name = ".".join(p for p in rel.parts if p != "__init__")
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                deps.update({target, *(f"{target}.{a.name}" if target else a.name for a in node.names)})
    graph = {k: {d for d in v if d in graph and d != k} for k, v in graph.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(d == goal or (d not in seen and not seen.add(d) and reaches(d, goal, seen))
                   for d in graph[start])

    assert not reaches("pluginhost", "pluginhost", set())
    assert not reaches("registry", "registry", set())


def test_unknown_component_lists_valid_names(monkeypatch):
    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    reg = pluginhost.PluginHost().registry
    with pytest.raises(UnknownComponentError) as info:
        reg.get("datasets", "foldr")
    text = str(info.value)
    assert "Did you mean 'folder'" in text and "Available:" in text


def test_unknown_component_through_cli_is_one_clear_line(tmp_path):
    proc = run_cli("train", "no-such-recipe", "--out", str(tmp_path / "r"), "--steps", "1")
    assert proc.returncode != 0
    assert "Error: unknown recipe 'no-such-recipe'" in proc.stderr
    assert "Traceback" not in proc.stderr
