"""GAN loss maths: the contract every GAN trainer relies on."""

from __future__ import annotations

import math

import pytest
import torch

from artengine.plugins.gan.config import BceLossConfig, WganGpLossConfig
from artengine.plugins.gan.losses import BceLoss, HingeLoss, LsganLoss, WganGpLoss, r1_penalty


def test_bce_values_and_label_smoothing():
    loss = BceLoss(BceLossConfig())
    zero = torch.zeros(4)
    assert float(loss.d_loss(zero, zero)) == pytest.approx(math.log(2) * 2)
    assert float(loss.g_loss(zero)) == pytest.approx(math.log(2))
    confident = torch.full((4,), 20.0)
    assert float(loss.d_loss(confident, -confident)) < 1e-6
    # one-sided smoothing: a perfectly confident D is now penalized on real images only
    assert float(loss.d_loss(confident, -confident, real_target=0.9)) > 1.0


def test_hinge_lsgan_wgan_values():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    assert float(HingeLoss().d_loss(real, fake)) == (0 + 0.5) / 2 + (0 + 1) / 2
    assert float(HingeLoss().g_loss(fake)) == 1.0
    assert float(LsganLoss().d_loss(torch.ones(3), torch.zeros(3))) == 0.0
    assert float(LsganLoss().g_loss(torch.zeros(3))) == 0.5
    w = WganGpLoss(WganGpLossConfig())  # the drift term is the trainer's (test_gan_trainer)
    assert abs(float(w.d_loss(real, fake)) - (-1.0 - 1.25)) < 1e-6


def test_penalties():
    x = torch.randn(4, 1, 8, 8)
    lin = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 1))
    # D linear in x: ||grad||^2 = ||w||^2 for every sample
    expected = float(lin[1].weight.pow(2).sum())
    assert abs(float(r1_penalty(lambda t: lin(t).squeeze(1), x)) - expected) < 1e-5
    gp = WganGpLoss(WganGpLossConfig(gp_weight=10.0)).penalty(lambda t: lin(t).squeeze(1), x, torch.randn_like(x))
    assert abs(float(gp) - 10.0 * (expected ** 0.5 - 1) ** 2) < 1e-4
    for loss in (BceLoss(), HingeLoss(), LsganLoss()):
        assert float(loss.penalty(lin, x, x)) == 0.0
    assert not WganGpLoss().supports_balance and BceLoss().supports_balance
