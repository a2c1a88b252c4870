"""Packaging: every sub-package is listed, every hook is documented and called by the engine."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner

from artengine import hookspecs, pluginhost
from artengine.hookspecs import hookimpl
from artengine.pluginhost import hook_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _listed_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_listed_in_pyproject():
    found = set()
    for top, name in (("engine", "artengine"), ("plugins", "artengine.plugins")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    missing = found - _listed_packages()
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_every_hook_is_documented_in_code_and_in_the_plugins_page():
    reference = (ROOT / "docs" / "plugins.md").read_text()
    for name in hook_names():
        spec = getattr(hookspecs, name)
        assert spec.__doc__ and spec.__doc__.strip(), f"hook {name} has no docstring"
        assert f"`{name}(" in reference, f"hook {name} is not documented in docs/plugins.md"


def test_readme_is_a_front_page_whose_docs_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert len(readme.splitlines()) <= 150, "README.md is the front page: move reference and results into docs/"
    linked = set(re.findall(r"\(docs/([\w.-]+\.md)\)", readme))
    assert {"architecture.md", "training.md", "datasets.md", "plugins.md", "export.md", "style.md",
            "evaluation.md", "benchmarks.md", "gallery.md"} <= linked
    missing = sorted(name for name in linked if not (ROOT / "docs" / name).is_file())
    assert not missing, f"README.md links docs pages that do not exist: {missing}"


class _Recorder:
    """Implements every hook and writes down which ones the engine calls."""

    def __init__(self):
        self.called: set[str] = set()
        for name in hook_names():
            setattr(self, name, self._recording(name))

    def _recording(self, name):
        def record(*args, **kwargs):
            self.called.add(name)

        record.__name__ = name
        return hookimpl(record)


def test_the_engine_calls_every_hook(tmp_path, monkeypatch):
    """A recording plugin implements every hook; loading components, adding CLI commands and a
    real two-epoch training run must call each one (a hook nothing calls is dead surface)."""
    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    host = pluginhost.PluginHost()
    recorder = _Recorder()
    host.pm.register(recorder, name="recorder")
    monkeypatch.setattr(pluginhost, "_host", host)
    from artengine.cli import ArtengineGroup, _add_plugin_commands, get_cli

    _add_plugin_commands(ArtengineGroup())  # what `artengine` does before running a command
    result = CliRunner().invoke(get_cli(), [
        "train", "dcgan", "--data", "shapes", "--set", "dataset.size=16", "--image-size", "8",
        "--batch-size", "8", "--epochs", "2", "--set", "generator.width=8", "--set", "discriminator.width=8",
        "--quiet", "--out", str(tmp_path / "run")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert recorder.called == set(hook_names()), f"never called: {sorted(set(hook_names()) - recorder.called)}"
