"""Typed component configs: coercion, ranges, choices, unknown keys, --set and TOML."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from artengine import config
from artengine.config import option
from artengine.errors import ConfigError


@dataclass
class Example:
    lr: float = option(2e-4, min=0.0, max=1.0, help="learning rate")
    width: int = option(64, min=1, help="channels")
    norm: str = option("batch", choices=("batch", "none"), help="normalization")
    ema: bool = option(True, help="keep an EMA")
    betas: tuple[float, ...] = option((0.5, 0.999), help="Adam betas")
    path: str | None = option(None, help="optional path")


def test_defaults_and_string_coercion():
    cfg = config.build(Example, {"lr": "1e-3", "width": "128", "ema": "false", "betas": "0.0,0.99"})
    assert cfg.lr == pytest.approx(1e-3) and cfg.width == 128 and cfg.ema is False
    assert cfg.betas == (0.0, 0.99) and cfg.norm == "batch" and cfg.path is None


@pytest.mark.parametrize(
    "values, message",
    [
        ({"lr": 2.0}, "lr = 2.0 is out of range: it must be <= 1.0"),
        ({"width": 0}, "width = 0 is out of range: it must be >= 1"),
        ({"width": "wide"}, "width must be int, got 'wide'"),
        ({"width": 1.5}, "width must be int"),
        ({"norm": "layer"}, "norm must be one of batch, none"),
        ({"ema": "maybe"}, "ema must be bool"),
        ({"widht": 3}, "did you mean 'width'"),
    ],
)
def test_bad_values_name_the_field_and_the_fix(values, message):
    with pytest.raises(ConfigError) as info:
        config.build(Example, values, where="generator 'x': ")
    assert message in str(info.value)
    assert "generator 'x': " in str(info.value)


def test_describe_lists_every_field():
    rows = {r["name"]: r for r in config.describe(Example)}
    assert rows["lr"]["min"] == 0.0 and rows["lr"]["help"] == "learning rate"
    assert rows["norm"]["choices"] == ["batch", "none"]
    assert rows["betas"]["default"] == [0.5, 0.999]


def test_parse_set_and_errors():
    assert config.parse_set(["a=1", "b.c = x=y"]) == {"a": "1", "b.c": "x=y"}
    with pytest.raises(ConfigError, match="key=value"):
        config.parse_set(["novalue"])


def test_toml_file_errors_name_the_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('steps = 5\n[trainer]\nlr_g = 1e-4\n')
    assert config.load_toml(good) == {"steps": 5, "trainer": {"lr_g": 1e-4}}
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = = 5\n")
    with pytest.raises(ConfigError, match="bad.toml.*not valid TOML"):
        config.load_toml(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        config.load_toml(tmp_path / "missing.toml")
