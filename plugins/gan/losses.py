"""GAN losses usable by any adversarial trainer.

Every loss has the same three methods, so a trainer never needs to know which one it has:
``d_loss(d_real, d_fake, real_target=1.0)``, ``g_loss(d_fake)`` and
``penalty(discriminator, real, fake)`` (a zero tensor when the loss has none).
``real_target`` below 1 is one-sided label smoothing (Salimans et al. 2016); BCE and LSGAN honour it,
the margin losses ignore it. ``supports_balance`` says whether the adaptive balance rule (skip D while its
loss is low) makes sense: not for WGAN-GP, whose critic loss is unbounded below. ``ada_boundary(d_fake)``
is the score at which D is undecided, which ADA's overfitting heuristic ``r_t = E[sign(D(real) - boundary)]``
measures against: 0 for logits (BCE, hinge), 0.5 for LSGAN (halfway between its targets 0 and 1), and for
a WGAN critic, whose scores have no fixed origin, the mean score of the same batch's fakes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def _zero(like: Tensor) -> Tensor:
    return like.new_zeros(())


def r1_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): E ||grad_x D(x)||^2 on real images; multiply by gamma / 2."""
    real = real.detach().requires_grad_(True)
    out = discriminator(real)
    (grad,) = torch.autograd.grad(out.float().sum(), real, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()


def gradient_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP: E (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = discriminator(mixed)
    (grad,) = torch.autograd.grad(out.float().sum(), mixed, create_graph=True)
    return (grad.float().flatten(1).norm(2, dim=1) - 1).pow(2).mean()


class _BoundedLoss:
    """Shared by the losses with no penalty term and a loss bounded below (so the balance rule applies)."""

    supports_balance = True

    def ada_boundary(self, d_fake: Tensor) -> float:
        return 0.0  # a logit's sign: 0 is undecided

    def penalty(self, discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
        return _zero(real)


class BceLoss(_BoundedLoss):
    """Non-saturating BCE, the DCGAN default."""

    def __init__(self, cfg=None):
        pass

    def d_loss(self, d_real: Tensor, d_fake: Tensor, real_target: float = 1.0) -> Tensor:
        real = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_target))
        fake = F.softplus(d_fake).mean()  # BCE with target 0
        return real + fake

    def g_loss(self, d_fake: Tensor) -> Tensor:
        return F.softplus(-d_fake).mean()  # BCE with target 1


class HingeLoss(_BoundedLoss):
    """Hinge loss: D pushes real above +1 and fake below -1; G raises D(G(z))."""

    def __init__(self, cfg=None):
        pass

    def d_loss(self, d_real: Tensor, d_fake: Tensor, real_target: float = 1.0) -> Tensor:
        return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()

    def g_loss(self, d_fake: Tensor) -> Tensor:
        return -d_fake.mean()


class LsganLoss(_BoundedLoss):
    """Least squares: D regresses real to 1 and fake to 0, G regresses fake to 1 (halves as in the paper)."""

    def __init__(self, cfg=None):
        pass

    def d_loss(self, d_real: Tensor, d_fake: Tensor, real_target: float = 1.0) -> Tensor:
        return 0.5 * ((d_real - real_target).pow(2).mean() + d_fake.pow(2).mean())

    def g_loss(self, d_fake: Tensor) -> Tensor:
        return 0.5 * (d_fake - 1.0).pow(2).mean()

    def ada_boundary(self, d_fake: Tensor) -> float:
        return 0.5  # halfway between the fake target 0 and the real target 1


class WganGpLoss:
    """Wasserstein critic loss with gradient penalty (ProGAN's epsilon drift is the trainer's ``drift``)."""

    supports_balance = False

    def __init__(self, cfg=None):
        self.gp_weight = float(getattr(cfg, "gp_weight", 10.0))

    def d_loss(self, d_real: Tensor, d_fake: Tensor, real_target: float = 1.0) -> Tensor:
        return d_fake.mean() - d_real.mean()

    def g_loss(self, d_fake: Tensor) -> Tensor:
        return -d_fake.mean()

    def ada_boundary(self, d_fake: Tensor) -> Tensor:
        return d_fake.detach().float().mean()  # critic scores are relative: above the fakes' mean is "real"

    def penalty(self, discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
        if not self.gp_weight:
            return _zero(real)
        return self.gp_weight * gradient_penalty(discriminator, real, fake)
