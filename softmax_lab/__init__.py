"""softmax-lab: the helpers behind a notebook course on the softmax function.

Numerics (NumPy): :func:`softmax`, :func:`log_softmax`, :func:`logsumexp`, the
Jacobian and its products, cross-entropy. Applications: training helpers (notebook 05),
calibration (06), attention (07), softmax policies (08). Exercise checkers live in
:mod:`softmax_lab.exercises`, one module per chapter.
"""

from .softmax import naive_softmax, softmax

# Each chapter's helpers are re-exported below, one import line per module.
# --- notebook 05: training helpers ---
# --- notebook 07: attention ---
# --- notebook 08: softmax policies ---

__version__ = "0.1.0"
