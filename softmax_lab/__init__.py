"""softmax-lab: the helpers behind a notebook course on the softmax function.

Numerics (NumPy): :func:`softmax`, :func:`log_softmax`, :func:`logsumexp`, the
Jacobian and its products, cross-entropy. Applications: training helpers (notebook 05),
calibration (06), attention (07), softmax policies (08). Exercise checkers live in
:mod:`softmax_lab.exercises`, one module per chapter.
"""

from ._cross_entropy import cross_entropy, cross_entropy_grad
from .jacobian import softmax_jacobian, softmax_jvp, softmax_vjp
from ._logsumexp import logsumexp
from ._softmax import log_softmax, naive_softmax, softmax

# Each chapter's helpers are re-exported below, one import line per module.
# --- notebook 05: training helpers ---
from .device import pick_device
from .data import IrisSplit, holdout_split, load_iris_split
from .training import History, evaluate, make_mlp, predict_proba, train

# --- notebook 06: calibration ---
from .calibration import expected_calibration_error, fit_temperature

# --- notebook 07: attention ---
from .attention import causal_mask, padding_mask, scaled_dot_product_attention

# --- notebook 08: softmax policies ---
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
from .bandits import BanditResult, run_bandit
from .gridworld import GridWorld, rollout

# --- notebook 09: beyond softmax ---
from .alternatives import gumbel_max_sample, gumbel_softmax, sparsemax, sparsemax_jvp

# --- notebook 10: softmax at scale ---
from .online import (
    NormaliserState,
    chunk_state,
    merge_states,
    online_logsumexp,
    online_softmax,
    split_vocab,
    tiled_attention,
    vocab_parallel_cross_entropy,
)

__version__ = "0.1.0"
