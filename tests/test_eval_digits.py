"""The mode-collapse evaluator, checked on real data (it must score real digits as perfect) and on a
collapsed generator (it must flag it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artengine.evaluation import evaluate_generator, real_sampler
from artengine.evaluation.evaluate import build_dataset
from artengine.evaluation.metrics import frechet_distance, kl_to_uniform, mean_pairwise_distance
from artengine.gallery.words import describe_eval


@pytest.fixture(scope="module")
def digits():
    return build_dataset("digits", image_size=16, channels=1)


def test_real_digits_score_all_modes_with_low_kl(digits):
    result = evaluate_generator(real_sampler(digits, seed=1), "digits", samples=6000, image_size=16, channels=1,
                                real=digits)
    assert result["modes_covered"] == 10 and result["num_modes"] == 10
    assert result["kl"] < 0.02
    assert 0 <= result["kl_real"] < 0.02 and abs(result["kl"] - result["kl_real"]) < 0.01  # real vs real
    assert describe_eval(result)[1].startswith(f"KL {result['kl']:.2g}, close to real data's")
    assert result["classifier_heldout_accuracy"] > 0.9
    assert abs(result["classifier_confidence"] - result["classifier_confidence_real"]) < 0.05
    assert result["fid_classifier"] < 5.0
    assert 0.9 < result["diversity_ratio"] < 1.1
    assert result["collapse_warning"] is False


def test_collapsed_generator_is_flagged(digits):
    one = digits.as_tensor()[:1].float().div(255)
    result = evaluate_generator(lambda n: one.expand(n, -1, -1, -1), "digits", samples=1000, image_size=16,
                                channels=1, real=digits)
    assert result["modes_covered"] == 1
    assert result["kl"] == pytest.approx(np.log(10), abs=1e-4)
    assert result["kl_real"] < 0.05 and "above real data's" in describe_eval(result)[1]
    assert result["diversity"] < 1e-3 and result["collapse_warning"] is True


def test_any_dataset_gets_a_diversity_score():
    shapes = build_dataset("shapes", {"size": 64}, image_size=16, channels=3)
    result = evaluate_generator(lambda n: torch.full((n, 3, 16, 16), 0.5), "shapes", samples=300, image_size=16,
                                channels=3, real=shapes)
    assert "modes_covered" not in result
    assert result["diversity_real"] > 0.05 and result["collapse_warning"] is True


def test_metric_maths():
    assert kl_to_uniform(np.array([5, 5, 5, 5])) == 0.0
    assert kl_to_uniform(np.array([8, 0, 0, 0])) == pytest.approx(np.log(4))
    a = torch.randn(500, 6, generator=torch.Generator().manual_seed(0))
    assert abs(frechet_distance(a, a)) < 1e-6
    assert frechet_distance(a, a + 3.0) == pytest.approx(6 * 9.0, rel=1e-6)
    assert mean_pairwise_distance(torch.zeros(10, 1, 8, 8)) < 1e-6


@pytest.mark.slow
def test_real_stacked_mnist_covers_nearly_all_thousand_modes():
    stacked = build_dataset("stacked-mnist", image_size=32, channels=3)
    result = evaluate_generator(real_sampler(stacked), "stacked-mnist", samples=26000, image_size=32, channels=3,
                                real=stacked)
    assert result["modes_covered"] >= 950 and result["kl"] < 0.2, result
