"""Fine-tuning: --init-from starts from another run's G, D and EMA; FreezeD keeps D's first blocks fixed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from artengine.errors import ConfigError
from artengine.pluginhost import get_registry
from artengine.plugins.gan.finetune import discriminator_blocks
from artengine.runconfig import resolve
from artengine.training.build import build_trainer
from tests.helpers_cli import run_cli
from tests.test_gan_trainer import TINY, tiny_trainer


def grey_folder(root, n: int = 16):
    root.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray((rng.random((3, 3)) * 255).astype(np.uint8)).resize((12, 12)).save(root / f"{i}.png")
    return root


def child_trainer(out, data, steps: int = 3, **overrides: str):
    config = resolve("dcgan", registry=get_registry(),
                     cli_values={"data": str(data), "out": str(out), "steps": steps, "image_size": 8,
                                 "batch_size": 8, "seed": 5, "device": "cpu"},
                     set_values={**TINY, **overrides})
    return build_trainer(config)


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    out = tmp_path_factory.mktemp("parent") / "digits"
    tiny_trainer(out, steps=3).fit()
    return out


def test_init_from_loads_g_d_and_ema_and_freeze_d_keeps_the_first_blocks(parent, tmp_path):
    data = grey_folder(tmp_path / "mine")
    weights = load_file(str(parent / "checkpoints/step-000000003.safetensors"))
    child = child_trainer(tmp_path / "child", data, **{"trainer.init_from": str(parent),
                                                         "trainer.freeze_d": "1"})
    child.setup()
    for prefix, module in (("G", child.G), ("D", child.D), ("G_ema", child.ema.shadow)):
        for key, value in module.state_dict().items():
            assert torch.equal(value, weights[f"{prefix}.{key}"]), (prefix, key)
    blocks = discriminator_blocks(child.D)
    frozen_before = [p.detach().clone() for b in blocks[:1] for p in b]
    trained_before = [p.detach().clone() for b in blocks[1:] for p in b]
    assert len(child.frozen_d) == len(frozen_before) > 0 and trained_before

    child = child_trainer(tmp_path / "child2", data, **{"trainer.init_from": str(parent), "trainer.freeze_d": "1"})
    child.fit()
    after = discriminator_blocks(child.D)
    for p, before in zip([p for b in after[:1] for p in b], frozen_before, strict=True):
        assert torch.equal(p.detach(), before)  # frozen: unchanged after training steps
    assert any(not torch.equal(p.detach(), before)
               for p, before in zip([p for b in after[1:] for p in b], trained_before, strict=True))
    assert not any(p.requires_grad for p in child.frozen_d)
    meta = json.loads((tmp_path / "child2/checkpoints/step-000000003.json").read_text())
    assert meta["trainer"]["init_from"] == {"run": str(parent), "step": 3}

    from artengine.gallery import build_gallery  # the gallery names the parent and its checkpoint

    build_gallery([tmp_path / "child2"], tmp_path / "site", warn=lambda text: None)
    page = (tmp_path / "site" / "run-child2.html").read_text()
    assert f"fine-tuned from {parent} (its checkpoint at step 3)" in page


def test_freeze_d_keeps_weights_and_batch_norm_statistics_of_the_frozen_blocks():
    """Deeper freezing reaches blocks with batch norm: their weights *and* running statistics stay, while
    the blocks that train change both."""
    from artengine.plugins.dcgan.config import DcganDiscriminatorConfig
    from artengine.plugins.dcgan.networks import DcganDiscriminator
    from artengine.plugins.gan.finetune import freeze_blocks

    torch.manual_seed(0)
    D = DcganDiscriminator(DcganDiscriminatorConfig(width=8), image_size=32, channels=3)
    frozen = freeze_blocks(D, 2)
    norms = [m for m in D.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    frozen_norm, trained_norm = norms[0], norms[-1]
    assert any(p is frozen_norm.weight for p in frozen) and not any(p is trained_norm.weight for p in frozen)
    state = {k: v.clone() for k, v in D.state_dict().items()}
    opt = torch.optim.Adam([p for p in D.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        D(torch.randn(8, 3, 32, 32)).float().mean().backward()
        opt.step()
    names = {id(t): k for k, t in D.state_dict(keep_vars=True).items()}
    for tensor in (*frozen, frozen_norm.running_mean, frozen_norm.running_var):
        key = names[id(tensor)]
        assert torch.equal(D.state_dict()[key], state[key]), key
    assert not torch.equal(trained_norm.running_mean, state[names[id(trained_norm.running_mean)]])


def test_an_incompatible_parent_is_one_message_naming_the_settings(parent, tmp_path):
    data = grey_folder(tmp_path / "mine")
    with pytest.raises(ConfigError) as info:
        child_trainer(tmp_path / "wide", data, **{"trainer.init_from": str(parent),
                                                  "generator.width": "16"}).setup()
    assert "generator.width: 8 -> 16" in str(info.value)
    with pytest.raises(ConfigError, match="freeze_d=9"):
        child_trainer(tmp_path / "deep", data, **{"trainer.freeze_d": "9"}).setup()


def test_cli_init_from_a_named_checkpoint_is_recorded_in_config_json(parent, tmp_path):
    data = grey_folder(tmp_path / "mine")
    out = tmp_path / "tuned"
    tiny = [x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]
    proc = run_cli("train", "dcgan", "--data", str(data), "--image-size", "8", "--batch-size", "8", "--steps", "2",
                   "--out", str(out), "--init-from", f"{parent}:step-000000003", "--set", "trainer.freeze_d=1",
                   *tiny, check=True)
    assert "init-from:" in proc.stderr and "step 3" in proc.stderr
    assert "R1 gamma 1 every 4 steps (trainer.r1_gamma" in proc.stderr  # the dcgan recipe's own
    assert "learning rates x2.5" in proc.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["trainer"]["init_from"] == f"{parent}:step-000000003"
    assert config["trainer"]["freeze_d"] == 1
    missing = run_cli("train", "dcgan", "--data", str(data), "--image-size", "8", "--steps", "1",
                      "--out", str(tmp_path / "x"), "--init-from", str(tmp_path / "nowhere"), "--quiet")
    assert missing.returncode == 1 and "not a run directory" in missing.stderr and "Traceback" not in missing.stderr


def test_a_fine_tuned_run_starts_adaptive_p_at_its_parents_last_p(tmp_path):
    """The parent's D learned on images augmented with probability p; the child continues from that p
    (capped at ada_max_p) instead of showing the pretrained D clean images at once."""
    data = grey_folder(tmp_path / "mine")
    parent = tmp_path / "parent"
    tiny_trainer(parent, steps=2, **{"trainer.augment": "color,translation", "trainer.augment_p": "0.7"}).fit()
    child = child_trainer(tmp_path / "child", data, **{"trainer.augment": "auto", "trainer.init_from": str(parent)})
    child.setup()
    assert child.ada is not None and child.ada.p == child.augmenter.p == pytest.approx(0.7)
    capped = child_trainer(tmp_path / "capped", data, **{"trainer.augment": "auto", "trainer.ada_max_p": "0.5",
                                                          "trainer.init_from": str(parent)})
    capped.setup()
    assert capped.augmenter.p == pytest.approx(0.5)

    plain_parent = tmp_path / "plain"
    tiny_trainer(plain_parent, steps=2, **{"trainer.augment": "none"}).fit()
    fresh = child_trainer(tmp_path / "fresh", data,
                          **{"trainer.augment": "auto", "trainer.init_from": str(plain_parent)})
    fresh.setup()
    assert fresh.augmenter.p == 0.0


def test_auto_r1_is_on_for_a_fine_tuned_run_and_off_from_scratch(parent, tmp_path):
    """The trainer's r1_gamma default (-1, auto; the dcgan recipe sets 1 instead) is R1 for a run that starts
    from a parent, whose D overpowers G on a small folder without it, and nothing from scratch; an explicit
    value wins either way."""
    data = grey_folder(tmp_path / "mine")
    auto = {"trainer.r1_gamma": "-1"}
    tuned = child_trainer(tmp_path / "tuned", data, **auto, **{"trainer.init_from": str(parent)})
    tuned.setup()
    assert tuned.r1_gamma == 1.0 and tuned.double_backward()
    assert tuned.train_step()["penalty"] > 0
    scratch = child_trainer(tmp_path / "scratch", data, **auto)
    scratch.setup()
    assert scratch.r1_gamma == 0.0 and scratch.train_step()["penalty"] == 0.0
    off = child_trainer(tmp_path / "off", data, **{"trainer.init_from": str(parent), "trainer.r1_gamma": "0"})
    off.setup()
    assert off.r1_gamma == 0.0
    assert off.train_step()["penalty"] == 0.0


def test_the_dcgan_recipe_applies_lazy_r1_from_scratch(tmp_path):
    """Long dcgan runs collapse without R1 (docs/training.md, Long runs): the recipe sets gamma 1 every 4 steps
    for a run from scratch, and --set trainer.r1_gamma=0 turns it off."""
    data = grey_folder(tmp_path / "mine")
    scratch = child_trainer(tmp_path / "scratch", data, steps=5)
    scratch.setup()
    assert scratch.r1_gamma == 1.0 and scratch.cfg.r1_every == 4
    penalties = []
    for step in range(5):
        scratch.step = step  # as fit() counts them
        penalties.append(float(scratch.train_step()["penalty"]))
    assert penalties[0] > 0 and penalties[4] > 0 and penalties[1:4] == [0.0, 0.0, 0.0]  # lazily, steps 0 and 4
    off = child_trainer(tmp_path / "off", data, **{"trainer.r1_gamma": "0"})
    off.setup()
    assert off.r1_gamma == 0.0 and off.train_step()["penalty"] == 0.0


def test_a_fine_tuned_dcgan_trains_at_its_recipes_finetune_learning_rates(parent, tmp_path):
    """The dcgan recipe's finetune_lr_scale (2.5) multiplies both rates in a run started from a parent, in its
    optimizers and after the per-step schedule; from scratch, or with the scale set to 1, the rates are as set."""
    data = grey_folder(tmp_path / "mine")
    tuned = child_trainer(tmp_path / "tuned", data, **{"trainer.init_from": str(parent)})
    tuned.setup()
    assert tuned.cfg.finetune_lr_scale == 2.5
    assert (tuned.lr_g, tuned.lr_d) == (pytest.approx(2.5 * tuned.cfg.lr_g), pytest.approx(2.5 * tuned.cfg.lr_d))
    tuned.train_step()
    assert tuned.opt_g.param_groups[0]["lr"] == pytest.approx(2.5 * tuned.cfg.lr_g)
    assert tuned.opt_d.param_groups[0]["lr"] == pytest.approx(2.5 * tuned.cfg.lr_d)
    scratch = child_trainer(tmp_path / "scratch", data)
    scratch.setup()
    scratch.train_step()
    assert scratch.opt_g.param_groups[0]["lr"] == pytest.approx(scratch.cfg.lr_g)
    plain = child_trainer(tmp_path / "plain", data, **{"trainer.init_from": str(parent),
                                                       "trainer.finetune_lr_scale": "1"})
    plain.setup()
    assert (plain.lr_g, plain.lr_d) == (plain.cfg.lr_g, plain.cfg.lr_d)
