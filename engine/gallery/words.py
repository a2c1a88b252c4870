"""Evaluation numbers as sentences a non-expert can read ("all 10 digits drawn; KL 0.04, close to ...").

The numbers come from `artengine eval` (eval.json) or the ``eval`` lines of metrics.jsonl; each
sentence says what the number means and what a perfect generator would score.
"""

from __future__ import annotations

import math
from typing import Any

#: dataset -> what one mode is called
MODE_NAMES = {"digits": "digits", "mnist": "digits", "stacked-mnist": "digit triples"}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _modes(ev: dict[str, Any], unit: str) -> str | None:
    covered, total = _num(ev.get("modes_covered")), _num(ev.get("num_modes"))
    if covered is None or total is None:
        return None
    if covered >= total:
        return f"all {total:g} {unit} drawn"
    return f"{covered:g} of {total:g} {unit} drawn ({total - covered:g} never appear: the generator skips them)"


def _kl(ev: dict[str, Any], unit: str) -> str | None:
    """KL of the class mix from uniform. Real data's own score (``kl_real``, where the evaluation
    gives it) is the honest reference: the classifier's errors make even real images score above 0."""
    kl = _num(ev.get("kl"))
    if kl is None:
        return None
    text = f"KL {kl:.2g}"
    real = _num(ev.get("kl_real"))
    if real is not None:
        near = kl <= max(2.0 * real, real + 0.02)
        text += f", {'close to' if near else 'above'} real data's {real:.2g}"
    if kl < 0.1:
        text += f" (the {unit} appear about as often as in the real images)"
    elif kl < 0.5:
        text += f" (some {unit} are drawn more often than others)"
    else:
        text += f" (a few {unit} dominate the samples)"
    return text


def _copies(ev: dict[str, Any]) -> str | None:
    share, real = _num(ev.get("near_copy_share")), _num(ev.get("near_copy_share_real"))
    if share is None:
        return None
    text = f"{share:.0%} of the samples are near copies of a training image"
    return text + (f" (held-out real images: {real:.0%})" if real is not None else "")


def closest_pairs_caption(ev: dict[str, Any], n: int | None = None) -> str:
    """What the closest-pairs image shows and whether the share of near-copies is above the
    dataset's own (its near-duplicate files count too, so that share is the fair baseline), then
    the training images by name."""
    return _copying(ev, n) + _training_names(ev)


def _copying(ev: dict[str, Any], n: int | None) -> str:
    what = f"the {n} samples" if n else "the samples"
    text = (f"Top row: {what} closest to a training image; below each, that training image "
            "(nearest in a pretrained network's features).")
    share, real = _num(ev.get("near_copy_share")), _num(ev.get("near_copy_share_real"))
    if share is None:
        return text
    text += (f" {share:.0%} of the samples are near copies (closer to a training image than half the usual "
             "distance between two different training images)")
    if real is None:
        return text + "."
    text += f"; the training images themselves score {real:.0%} against each other."
    copies = ev.get("memorization_warning")
    if not isinstance(copies, bool):
        copies = share > max(0.05, 2 * real)
    return text + (" That is well above the dataset's own share: the generator copies training images "
                   "(try --augment auto or more images)." if copies else
                   " That is not above the dataset's own share: no sign of copying.")


def _training_names(ev: dict[str, Any]) -> str:
    """The closest pairs' training images by name (their files, for a folder), left to right."""
    names = [p.get("train_name") for p in ev.get("closest_pairs") or [] if isinstance(p, dict)]
    names = [str(n) for n in names if n]
    return f" Training images, left to right: {', '.join(names)}." if names else ""


def _diversity(ev: dict[str, Any]) -> str | None:
    ratio = _num(ev.get("diversity_ratio"))
    if ratio is None:
        return None
    verdict = "as varied as the real images" if ratio >= 0.8 else \
        "less varied than the real images" if ratio >= 0.5 else "many samples look alike"
    return f"variety {ratio:.2f} of real data's ({verdict})"


def _confidence(ev: dict[str, Any]) -> str | None:
    fake, real = _num(ev.get("classifier_confidence")), _num(ev.get("classifier_confidence_real"))
    if fake is None:
        return None
    text = f"a classifier recognises the samples with {fake:.0%} confidence"
    return text + (f" (real images: {real:.0%})" if real is not None else "")


def _distances(ev: dict[str, Any]) -> list[str]:
    out = []
    kid = _num(ev.get("kid"))
    if kid is not None:
        out.append(f"KID {kid:.3g} (0 means indistinguishable from the real images; lower is better)")
    fd = _num(ev.get("fid_classifier"))
    if fd is not None:
        out.append(f"Fréchet distance {fd:.3g} in the classifier's feature space (lower is better)")
    return out


def describe_eval(ev: dict[str, Any], dataset: str = "") -> list[str]:
    """Plain sentences for one evaluation, most important first."""
    unit = MODE_NAMES.get(str(ev.get("dataset") or dataset), "classes")
    lines = [s for s in (_modes(ev, unit), _kl(ev, unit), _diversity(ev), _confidence(ev), _copies(ev)) if s]
    lines += _distances(ev)
    if ev.get("collapse_warning") is True:
        lines.append("warning: these samples look mode-collapsed (few kinds of image, or little variety)")
    samples, step = _num(ev.get("samples")), _num(ev.get("step"))
    if lines and samples:
        where = f" at step {step:g}" if step is not None else ""
        lines.append(f"measured on {samples:g} generated images{where}")
    return lines


def headline(ev: dict[str, Any], dataset: str = "") -> str:
    """One short line for a card: modes and KL."""
    unit = MODE_NAMES.get(str(ev.get("dataset") or dataset), "classes")
    parts = [s for s in (_modes(ev, unit),) if s]
    kl = _num(ev.get("kl"))
    if kl is not None:
        parts.append(f"KL {kl:.2g}")
    kid = _num(ev.get("kid"))
    if kid is not None:
        parts.append(f"KID {kid:.3g}")
    return "; ".join(parts)
