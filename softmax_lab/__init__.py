"""softmax-lab: the helpers behind a notebook course on the softmax function.

Numerics (NumPy): :func:`softmax`, :func:`log_softmax`, :func:`logsumexp`, the
Jacobian and its products, cross-entropy. Applications: training helpers (notebook 05),
calibration (06), attention (07), softmax policies (08). Exercise checkers live in
:mod:`softmax_lab.exercises`, one module per chapter.
"""

from .cross_entropy import cross_entropy, cross_entropy_grad
from .jacobian import softmax_jacobian, softmax_jvp, softmax_vjp
from .logsumexp import logsumexp
from .softmax import log_softmax, naive_softmax, softmax

# Each chapter's helpers are re-exported below, one import line per module.
# --- notebook 05: training helpers ---
# --- notebook 07: attention ---
# --- notebook 08: softmax policies ---

__version__ = "0.1.0"
