"""Differentiable augmentation (DiffAugment/ADA ops) and ADA's adaptive-p controller."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from artengine.errors import ConfigError
from artengine.plugins.gan.ada import AdaController, AdaSettings
from artengine.plugins.gan.augment import DEFAULT_POLICY, OPS, Augment, parse_policy


def images(b: int = 8, c: int = 3, s: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand(b, c, s, s, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def gen(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_policy_parsing_expands_groups_and_rejects_unknown_names():
    assert parse_policy(DEFAULT_POLICY) == ("brightness", "saturation", "contrast", "translation", "cutout")
    assert parse_policy("flip, rot90,flip") == ("flip", "rot90")
    with pytest.raises(ConfigError, match="unknown augmentation 'blur'"):
        parse_policy("color,blur")
    with pytest.raises(ConfigError, match="names no augmentation"):
        parse_policy(" , ")


def test_p_zero_is_the_identity_and_draws_no_randomness():
    x = images()
    g = gen()
    before = g.get_state()
    out = Augment("color,translation,cutout,flip,rot90,xint", p=0.0)(x, g)
    assert out is x
    assert torch.equal(g.get_state(), before)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_changes_images_at_p1_and_is_differentiable(name):
    x = images().requires_grad_(True)
    out = Augment(name, p=1.0)(x, gen())
    assert out.shape == x.shape
    assert not torch.equal(out.detach(), x.detach())
    weights = torch.randn(out.shape, generator=gen(5))
    (out * weights).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # numerically: the op is exactly the gradient's linear map for fixed random draws
    eps = 1e-3
    direction = torch.randn(x.shape, generator=gen(6))
    plus = Augment(name, p=1.0)(x.detach() + eps * direction, gen())
    minus = Augment(name, p=1.0)(x.detach() - eps * direction, gen())
    numeric = ((plus - minus) * weights).sum() / (2 * eps)
    assert float(numeric) == pytest.approx(float((x.grad * direction).sum()), rel=1e-3, abs=1e-3)


def test_same_generator_state_gives_the_same_augmentation():
    x = images(16)
    aug = Augment("color,translation,cutout,flip,rot90", p=0.5)
    a = aug(x, gen(3))
    b = aug(x, gen(3))
    c = aug(x, gen(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_each_image_is_augmented_with_probability_p():
    x = images(2000, c=1, s=8)
    out = Augment("flip", p=0.3)(x, gen())
    changed = (out != x).flatten(1).any(dim=1).float().mean()
    assert 0.25 < float(changed) < 0.35


def test_colour_ops_leave_the_alpha_channel_alone():
    x = images(c=4)
    out = Augment("color", p=1.0)(x, gen())
    assert torch.equal(out[:, 3], x[:, 3])
    assert not torch.equal(out[:, :3], x[:, :3])


def test_translation_moves_content_by_whole_pixels():
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 8, 8] = 1.0
    for seed in range(20):
        out = Augment("translation", p=1.0)(x, gen(seed))
        assert float(out.sum()) in (0.0, 1.0)  # moved (or pushed out of the image), never blurred
        ys, xs = torch.nonzero(out[0, 0], as_tuple=True)
        if len(ys):
            assert abs(int(ys[0]) - 8) <= 2 and abs(int(xs[0]) - 8) <= 2


def test_cutout_zeroes_a_quarter_of_the_image_at_most():
    x = torch.ones(64, 1, 16, 16)
    out = Augment("cutout", p=1.0)(x, gen())
    zero_share = (out == 0).flatten(1).float().mean(1)
    assert float(zero_share.max()) <= 0.25 + 1e-6
    assert float(zero_share.min()) > 0


def test_rot90_refuses_non_square_images():
    with pytest.raises(ConfigError, match="square"):
        Augment("rot90", p=1.0)(torch.zeros(2, 3, 8, 12), gen())


# -- the ADA controller ------------------------------------------------------------------
def feed(controller: AdaController, logits: torch.Tensor, batches: int) -> None:
    for _ in range(batches):
        controller.accumulate(logits)
        controller.maybe_update()


def small_discriminator() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 32, 4, 2, 1),
                         nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(32 * 4 * 4, 1))


def test_controller_raises_p_when_d_has_memorized_its_training_images():
    """A real D trained to tell 16 fixed images from fresh ones: it says 'real' to all of its
    training set (r_t near 1), so p climbs; on images it never saw it is unsure, and p stays at 0."""
    g = gen(0)
    memorized = torch.rand(16, 3, 16, 16, generator=g) * 2 - 1
    d = small_discriminator()
    opt = torch.optim.Adam(d.parameters(), lr=2e-3)
    for _ in range(150):
        fresh = torch.rand(16, 3, 16, 16, generator=g) * 2 - 1
        loss = nn.functional.softplus(-d(memorized)).mean() + nn.functional.softplus(d(fresh)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        on_memorized = d(memorized)
        on_unseen = d(torch.rand(256, 3, 16, 16, generator=g) * 2 - 1)
    overfit = AdaController(AdaSettings(target=0.6, interval=4, images_to_full=1000))
    feed(overfit, on_memorized, 40)
    assert overfit.rt > 0.9
    assert overfit.p > 0.5
    healthy = AdaController(AdaSettings(target=0.6, interval=4, images_to_full=1000))
    feed(healthy, on_unseen[:16], 40)
    assert healthy.rt < 0.6
    assert healthy.p == 0.0


def test_controller_lowers_p_when_d_stops_overfitting_and_caps_it():
    c = AdaController(AdaSettings(target=0.6, interval=2, images_to_full=100))
    feed(c, torch.ones(10), 200)
    assert c.p == pytest.approx(0.8)  # the cap
    feed(c, torch.tensor([1.0, -1.0] * 5), 4)  # r_t = 0, below target: two updates of 20 images
    assert c.p == pytest.approx(0.8 - 2 * 20 / 100)
    feed(c, torch.tensor([-1.0] * 10), 100)
    assert c.p == 0.0


def test_controller_speed_is_images_to_full():
    c = AdaController(AdaSettings(target=0.0, interval=1, images_to_full=1000, max_p=1.0))
    feed(c, torch.ones(50), 10)  # 500 images, all above target
    assert c.p == pytest.approx(0.5)


def test_controller_state_round_trip_continues_exactly():
    settings = AdaSettings(target=0.6, interval=3, images_to_full=500)
    a = AdaController(settings)
    logits = torch.randn(40, 8, generator=gen(2)) + 0.8
    for row in logits[:17]:
        a.accumulate(row)
        a.maybe_update()
    b = AdaController(settings)
    b.load_state(a.state())
    for row in logits[17:]:
        for c in (a, b):
            c.accumulate(row)
            c.maybe_update()
    assert a.state() == b.state()
    assert a.p > 0


# -- in training: the GAN trainer augments what D sees --------------------------------------
ADA_FAST = {"trainer.augment": "color,translation,cutout,flip", "trainer.ada_interval": "1",
            "trainer.ada_images": "16", "trainer.ada_target": "0.0"}


def metric_rows(run) -> list[dict]:
    import json

    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_auto_is_on_for_a_small_dataset_and_none_turns_it_off(tmp_path):
    from tests.test_gan_trainer import tiny_trainer

    auto = tiny_trainer(tmp_path / "auto", steps=2)
    auto.fit()
    assert auto.augmenter is not None and auto.ada is not None  # 1,797 digits < 10,000
    assert auto.augmenter.ops == ("brightness", "saturation", "contrast", "translation", "cutout")
    assert all(r["aug_p"] == 0.0 for r in metric_rows(tmp_path / "auto"))  # p starts at 0
    off = tiny_trainer(tmp_path / "off", steps=2, **{"trainer.augment": "none"})
    off.fit()
    assert off.augmenter is None and "aug_p" not in metric_rows(tmp_path / "off")[-1]


@pytest.mark.parametrize("loss, undecided", [("bce", 0.0), ("lsgan", 0.5), ("wgan-gp", 7.0)])
def test_r_t_is_measured_from_each_loss_s_undecided_score(tmp_path, loss, undecided):
    """ADA's r_t is ~0 for a D that cannot tell real from fake and ~1 for one that always can, for every
    loss: LSGAN's undecided output is 0.5, not 0, and a WGAN critic's scores sit anywhere (here around 7)."""
    from tests.test_gan_trainer import tiny_trainer

    trainer = tiny_trainer(tmp_path / loss, steps=1, **{"loss": loss, "trainer.ada_interval": "1"})
    trainer.setup()
    g = torch.Generator().manual_seed(0)
    rts = {}
    for case, gap in (("undecided", 0.0), ("sure", 0.3)):
        noise = 0.1 * torch.randn(2, 4096, generator=g)
        trainer.observe_real_scores(undecided + gap + noise[0], undecided - gap + noise[1], 4096)
        rts[case] = trainer.ada.rt
    assert abs(rts["undecided"]) < 0.05 and rts["sure"] > 0.95, rts


def test_d_sees_augmented_real_and_fake_images_in_both_phases(tmp_path):
    from tests.test_gan_trainer import tiny_trainer

    trainer = tiny_trainer(tmp_path / "seen", steps=1, **{"trainer.augment": "cutout", "trainer.augment_p": "1",
                                                          "trainer.r1_gamma": "0"})  # R1's D call: its own test
    seen = []
    original = trainer.discriminate

    def spy(images):
        seen.append(images.detach().clone())
        return original(images)

    trainer.discriminate = spy
    calls = []
    real_augment = trainer.augment
    trainer.augment = lambda x: calls.append(x.shape) or real_augment(x)
    trainer.fit()
    assert len(seen) == 3  # D phase: real and fake; G phase: fake
    assert len(calls) == 3
    out = real_augment(torch.ones(4, 1, 8, 8))
    assert (out == 0).any()  # with p=1 every image gets a hole


def test_adaptive_p_is_logged_checkpointed_and_resume_is_bit_exact(tmp_path):
    from safetensors.torch import load_file

    from tests.test_gan_trainer import tiny_trainer

    straight = tiny_trainer(tmp_path / "straight", steps=6, **ADA_FAST)
    straight.fit()
    first = tiny_trainer(tmp_path / "resumed", steps=3, **ADA_FAST)
    first.fit()
    second = tiny_trainer(tmp_path / "resumed", steps=6, resume=True, **ADA_FAST)
    second.fit()
    ps = [r["aug_p"] for r in metric_rows(tmp_path / "straight")]
    assert len(set(ps)) > 1 and max(ps) <= 0.8  # p moved, under the cap
    assert [r["aug_p"] for r in metric_rows(tmp_path / "resumed")] == ps
    assert second.ada.state() == straight.ada.state()
    a = load_file(str(tmp_path / "straight/checkpoints/step-000000006.safetensors"))
    b = load_file(str(tmp_path / "resumed/checkpoints/step-000000006.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_unknown_policy_is_a_clear_cli_error(tmp_path):
    from tests.helpers_cli import run_cli

    proc = run_cli("train", "dcgan", "--data", "digits", "--steps", "1", "--image-size", "8",
                   "--out", str(tmp_path / "bad"), "--augment", "color,blur", "--quiet")
    assert proc.returncode == 1 and "unknown augmentation 'blur'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_augment_preview_writes_a_grid_of_what_d_sees(tmp_path):
    from PIL import Image

    from tests.helpers_cli import run_cli

    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(5):
        Image.new("RGB", (20, 20), (200 + 10 * i, 230, 240)).save(folder / f"{i}.png")  # bright
    out = tmp_path / "preview.png"
    proc = run_cli("augment", "preview", "--data", str(folder), "--augment", "cutout,flip", "--p", "1",
                   "--image-size", "16", "--n", "4", "--rows", "2", "--out", str(out), check=True)
    assert str(out) in proc.stdout
    grid = Image.open(out)
    assert grid.size == (4 * 18 + 2, 3 * 18 + 2)  # 4 images, the real row and 2 augmented rows
    pixels = np.asarray(grid.convert("L"))
    assert (pixels[:20] > 200).all()  # the real row: bright images on the white padding
    assert (pixels[20:] < 140).any()  # cutout holes (mid-grey) in the augmented rows


@pytest.mark.slow
def test_bench_small_data_runs_quick(tmp_path):
    import json
    import subprocess
    import sys

    from tests.helpers_cli import ROOT

    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "bench/bench_small_data.py", "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.startswith("machine: CPU ") and "capability" in proc.stdout
    results = json.loads(out.read_text())["results"]
    assert {"emoji-people --augment auto", "skimage-crops --augment none"} <= set(results)
    assert any(k.startswith("init-from") for k in results)
    scratch = [k for k in results if k.startswith("scratch")]
    # as long as the fine-tuning, the whole budget, and the whole budget at the fine-tuned run's learning rates
    assert len(scratch) == 3 and sum(" lr x" in k for k in scratch) == 1, scratch


def test_adaptive_p_under_torchrun_is_summed_over_ranks(tmp_path):
    """Two processes: the controller's all_reduce runs every batch and training ends normally."""
    import json

    from tests.helpers_cli import run_torchrun_tiny_dcgan

    out = tmp_path / "ddp"
    proc = run_torchrun_tiny_dcgan(out, 4, *[f"{k}={v}" for k, v in ADA_FAST.items()])
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all(0.0 <= r["aug_p"] <= 0.8 for r in rows)
    meta = json.loads((out / "checkpoints" / "step-000000004.json").read_text())
    assert meta["trainer"]["ada"]["p"] == rows[-1]["aug_p"]
