"""Evaluation of trained generators: mode coverage, KL, classifier Frechet distance, diversity."""

from .evaluate import evaluate_generator, evaluate_model_file, evaluate_run, real_sampler

__all__ = ["evaluate_generator", "evaluate_model_file", "evaluate_run", "real_sampler"]
