"""softmax-lab: the helpers behind a notebook course on the softmax function.

Every public name is importable from the top level (``from softmax_lab import softmax``)
and is loaded on first use, so ``import softmax_lab`` costs about as much as importing
NumPy and the NumPy chapters never import torch. Each module serves one chapter or
concept; the map is in CONTRIBUTING.md ("The package, module by module"). Exercise
checkers live in :mod:`softmax_lab.exercises`, one module per chapter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it, grouped by the chapter that builds it
_EXPORTS: dict[str, str] = {
    # 01-03: the formula, a NumPy softmax, numerical stability
    "softmax": "core",
    "log_softmax": "core",
    "logsumexp": "core",
    "naive_softmax": "core",
    # 04: the Jacobian, gradients and cross-entropy
    "softmax_jacobian": "gradients",
    "softmax_jvp": "gradients",
    "softmax_vjp": "gradients",
    "cross_entropy": "gradients",
    "cross_entropy_grad": "gradients",
    # 05: training a classifier
    "pick_device": "device",
    "IrisSplit": "data",
    "holdout_split": "data",
    "load_iris_split": "data",
    "History": "training",
    "evaluate": "training",
    "make_mlp": "training",
    "predict_proba": "training",
    "train": "training",
    "train_many": "training",
    # 06: calibration
    "expected_calibration_error": "calibration",
    "maximum_calibration_error": "calibration",
    "reliability_bins": "calibration",
    "fit_temperature": "calibration",
    # 07: attention
    "causal_mask": "attention",
    "padding_mask": "attention",
    "attention_weights": "attention",
    "scaled_dot_product_attention": "attention",
    "torch_attention_with_weights": "attention",
    "off_by_one_softmax": "attention",
    # 08: softmax policies
    "boltzmann_probabilities": "policies",
    "discounted_returns": "policies",
    "epsilon_greedy_probabilities": "policies",
    "grad_log_probability": "policies",
    "greedy_probabilities": "policies",
    "log_probability": "policies",
    "policy_entropy": "policies",
    "reinforce_update": "policies",
    "sample_actions": "policies",
    "BanditResult": "bandits",
    "run_bandit": "bandits",
    "GridWorld": "gridworld",
    "rollout": "gridworld",
    # 09: beyond softmax
    "gumbel_max_sample": "alternatives",
    "gumbel_softmax": "alternatives",
    "sparsemax": "alternatives",
    "sparsemax_jvp": "alternatives",
    "sparsemax_torch": "alternatives",
    "sparsemax_loss": "alternatives",
    "entmax15": "alternatives",
    # 10: softmax at scale
    "NormaliserState": "scale",
    "chunk_state": "scale",
    "merge_states": "scale",
    "online_logsumexp": "scale",
    "online_softmax": "scale",
    "split_vocab": "scale",
    "tiled_attention": "scale",
    "vocab_parallel_cross_entropy": "scale",
    "FlashForward": "scale",
    "flash_attention_forward": "scale",
    "flash_attention_backward": "scale",
    "chunked_linear_cross_entropy": "scale",
    # 10: the same on torch.distributed ranks
    "RankError": "distributed",
    "VocabParallelCrossEntropy": "distributed",
    "attention_worker": "distributed",
    "cross_entropy_worker": "distributed",
    "distributed_cross_entropy": "distributed",
    "free_port": "distributed",
    "launch": "distributed",
    "parallel_attention": "distributed",
    "parallel_cross_entropy": "distributed",
    "sharded_attention": "distributed",
    "vocab_range": "distributed",
    # 11: gradients through a random choice
    "exact_choice_gradient": "estimators",
    "gumbel_softmax_gradients": "estimators",
    "reinforce_gradients": "estimators",
    # 12: maximum-entropy policies
    "SoftValues": "maxent",
    "exact_policy_gradient": "maxent",
    "soft_value": "maxent",
    "soft_value_iteration": "maxent",
    "transition_model": "maxent",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'softmax_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
    from .alternatives import (
        entmax15,
        gumbel_max_sample,
        gumbel_softmax,
        sparsemax,
        sparsemax_jvp,
        sparsemax_loss,
        sparsemax_torch,
    )
    from .attention import (
        attention_weights,
        causal_mask,
        off_by_one_softmax,
        padding_mask,
        scaled_dot_product_attention,
        torch_attention_with_weights,
    )
    from .bandits import BanditResult, run_bandit
    from .calibration import (
        expected_calibration_error,
        fit_temperature,
        maximum_calibration_error,
        reliability_bins,
    )
    from .core import log_softmax, logsumexp, naive_softmax, softmax
    from .data import IrisSplit, holdout_split, load_iris_split
    from .device import pick_device
    from .estimators import (
        exact_choice_gradient,
        gumbel_softmax_gradients,
        reinforce_gradients,
    )
    from .gradients import (
        cross_entropy,
        cross_entropy_grad,
        softmax_jacobian,
        softmax_jvp,
        softmax_vjp,
    )
    from .gridworld import GridWorld, rollout
    from .maxent import (
        SoftValues,
        exact_policy_gradient,
        soft_value,
        soft_value_iteration,
        transition_model,
    )
    from .policies import (
        boltzmann_probabilities,
        discounted_returns,
        epsilon_greedy_probabilities,
        grad_log_probability,
        greedy_probabilities,
        log_probability,
        policy_entropy,
        reinforce_update,
        sample_actions,
    )
    from .distributed import (
        RankError,
        VocabParallelCrossEntropy,
        attention_worker,
        cross_entropy_worker,
        distributed_cross_entropy,
        free_port,
        launch,
        parallel_attention,
        parallel_cross_entropy,
        sharded_attention,
        vocab_range,
    )
    from .scale import (
        NormaliserState,
        chunk_state,
        merge_states,
        online_logsumexp,
        online_softmax,
        split_vocab,
        tiled_attention,
        vocab_parallel_cross_entropy,
        FlashForward,
        chunked_linear_cross_entropy,
        flash_attention_backward,
        flash_attention_forward,
    )
    from .training import History, evaluate, make_mlp, predict_proba, train, train_many
