"""Packaging: every sub-package is listed, every hook is documented and tested."""

from __future__ import annotations

import sys
from pathlib import Path

from artengine import hookspecs
from artengine.pluginhost import PluginHost

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


def test_every_hook_is_documented_in_code_and_readme_and_has_a_test():
    readme = (ROOT / "README.md").read_text()
    tests_text = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name)
    for name in PluginHost.hook_names():
        spec = getattr(hookspecs, name)
        assert spec.__doc__ and spec.__doc__.strip(), f"hook {name} has no docstring"
        assert f"`{name}" in readme, f"hook {name} is not documented in README.md"
        assert name in tests_text, f"no test mentions hook {name}"
