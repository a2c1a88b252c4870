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


# ---------------------------------------------------------------- typed run configs


def test_resolve_gives_a_frozen_typed_run_config_that_round_trips_through_config_json():
    import dataclasses

    from artengine.pluginhost import get_registry
    from artengine.recipe import Recipe
    from artengine.runconfig import RunConfig, recipe_of, resolve

    registry = get_registry()
    run = resolve("dcgan", registry=registry, cli_values={"steps": 5}, set_values={"trainer.lr_g": "1e-4"})
    assert run.settings.steps == 5 and run.settings.sample_every == 200  # the recipe's, not a re-typed default
    assert run.trainer.name == "gan" and run.trainer.options.lr_g == pytest.approx(1e-4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.settings.steps = 6
    data = run.to_json()
    assert data["trainer"]["name"] == "gan" and data["steps"] == 5 and data["plugins"]
    assert RunConfig.from_json(data, registry).to_json() == data
    assert isinstance(recipe_of(registry, "dcgan"), Recipe) and recipe_of(registry, "dcgan").loss == "bce"


def test_a_bare_set_key_that_several_sections_have_is_an_error_naming_them():
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve

    with pytest.raises(ConfigError) as info:
        resolve("dcgan", registry=get_registry(), set_values={"width": "8"})
    assert "generator.width, discriminator.width" in str(info.value)
    assert "--set generator.width=8" in info.value.hint
    one = resolve("dcgan", registry=get_registry(), set_values={"latent_dim": "8"})  # only the generator has it
    assert one.section("generator").options.latent_dim == 8


def test_old_config_json_loads_with_moved_and_renamed_settings():
    """Before the redesign label_smoothing lived in the bce loss too (the two added up), drift in
    wgan-gp and in ProGAN's trainer, and ProGAN had its own Adam/grid names."""
    from artengine.pluginhost import get_registry
    from artengine.runconfig import RunConfig

    registry = get_registry()
    old_dcgan = {"recipe": "dcgan", "steps": 3, "trainer": {"name": "gan", "label_smoothing": 0.1},
                 "loss": {"name": "bce", "label_smoothing": 0.05}, "generator": {"name": "dcgan"},
                 "discriminator": {"name": "dcgan"}, "dataset": {"name": "digits"}, "channels": 1,
                 "resolved_precision": "fp32", "versions": {"torch": "x"}}
    run = RunConfig.from_json(old_dcgan, registry)
    assert run.trainer.options.label_smoothing == pytest.approx(0.15)
    assert run.resolved_precision == "fp32" and run.versions == {"torch": "x"}
    old_progan = {"recipe": "progan", "trainer": {"name": "progan", "beta1": 0.1, "beta2": 0.9, "drift": 0.002,
                                                   "sample_grid": 16, "fade_images": 64},
                  "loss": {"name": "wgan-gp", "gp_weight": 10.0, "drift": 0.001},
                  "generator": {"name": "progan"}, "discriminator": {"name": "progan"},
                  "dataset": {"name": "shapes"}}
    t = RunConfig.from_json(old_progan, registry).trainer.options
    assert (t.beta1_g, t.beta1_d, t.beta2_g, t.beta2_d, t.grid_size) == (0.1, 0.1, 0.9, 0.9, 16)
    assert t.drift == pytest.approx(0.003) and t.fade_images == 64
