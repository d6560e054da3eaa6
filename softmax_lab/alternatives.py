r"""Alternatives to softmax, and ways of combining several softmax outputs (notebook 09).

* :func:`sparsemax` (Martins & Astudillo, "From softmax to sparsemax", ICML 2016): the
  Euclidean projection of the scores onto the probability simplex. Like softmax it
  returns a distribution, but low scores get probability exactly 0.
  :func:`sparsemax_jvp` is its Jacobian-vector product (the Jacobian is symmetric,
  so it is also the vector-Jacobian product that backpropagation needs).
* :func:`gumbel_max_sample` and :func:`gumbel_softmax` (Jang, Gu & Poole 2017; Maddison,
  Mnih & Teh 2017): sampling from ``softmax(logits)`` as ``argmax(logits + Gumbel
  noise)``, and its relaxation, a softmax of the noisy logits at a temperature.
* :func:`ensemble_average_probabilities`, :func:`ensemble_average_logits` and
  :func:`ensemble_vote`: three ways to combine the logits of an ensemble's members.

Everything works along one axis of a batch (default the last), in NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import as_real_array, as_vector_for, check_axis, check_temperature
from .core import softmax

__all__ = [
    "sparsemax",
    "sparsemax_jvp",
    "gumbel_max_sample",
    "gumbel_softmax",
    "ensemble_average_probabilities",
    "ensemble_average_logits",
    "ensemble_vote",
]


def _finite_scores(x: ArrayLike, axis: int, name: str = "x") -> tuple[NDArray, np.dtype, int]:
    """``x`` as a float array with at least one dimension and only finite entries."""
    array, result_dtype = as_real_array(x, name=name)
    if array.ndim == 0:
        raise ValueError(
            f"{name} must have at least one dimension (a score per class); got a scalar"
        )
    axis = check_axis(axis, array.ndim)
    if array.shape[axis] == 0:
        raise ValueError(f"{name} must have at least one entry along axis {axis}; got none")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers; got NaN or inf")
    return array, result_dtype, axis


def _threshold(scores: NDArray, axis: int) -> NDArray:
    r"""The sparsemax threshold :math:`\tau` of each slice along ``axis`` (kept as a size-1 axis).

    Sort the scores in decreasing order :math:`z_{(1)} \ge \dots \ge z_{(n)}`. The
    support size is the largest :math:`k` with :math:`1 + k z_{(k)} > \sum_{j \le k} z_{(j)}`,
    and :math:`\tau = (\sum_{j \le k} z_{(j)} - 1) / k`.
    """
    z = np.moveaxis(scores, axis, -1)
    ordered = -np.sort(-z, axis=-1)
    cumulative = np.cumsum(ordered, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    in_support = 1 + k * ordered > cumulative  # true for a prefix: the top k scores
    support_size = np.maximum(in_support.sum(axis=-1, keepdims=True), 1)
    total = np.take_along_axis(cumulative, support_size - 1, axis=-1)
    tau = (total - 1) / support_size.astype(z.dtype)
    return np.moveaxis(tau, -1, axis)


def sparsemax(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Sparsemax: the closest point of the probability simplex to the scores.

    :math:`\mathrm{sparsemax}(x) = \arg\min_{p \in \Delta} \lVert p - x \rVert^2
    = \max(x - \tau, 0)`, where the threshold :math:`\tau` makes the result sum to 1.
    It is found by sorting each slice, in :math:`O(n \log n)`.

    Parameters
    ----------
    x : array_like
        Scores, real and finite, of any shape with at least one dimension.
    axis : int, optional
        The axis to normalise over (default -1, the last).

    Returns
    -------
    ndarray
        Probabilities of ``x``'s shape: each slice along ``axis`` is non-negative and
        sums to 1 (up to rounding), and every score at or below the threshold gets
        exactly 0. Adding a constant to a slice does not change it. float32 stays
        float32; integers and bools give float64; float16 is computed in float32.

    Raises
    ------
    ValueError
        ``x`` is a scalar, has no entries along ``axis``, or contains NaN or inf.
    TypeError
        complex, object or string input; a non-integer ``axis``.

    See Also
    --------
    sparsemax_jvp : its Jacobian-vector product.
    softmax_lab.softmax : never gives exact zeros.

    Examples
    --------
    >>> sparsemax([2.0, 1.0, 0.1])  # softmax gives [0.659, 0.242, 0.099]
    array([1., 0., 0.])
    >>> sparsemax([0.8, 0.6, 0.1]).round(4)
    array([0.6, 0.4, 0. ])
    >>> sparsemax([[1.0, 1.0, 1.0], [3.0, 0.0, 3.0]])  # ties share the mass
    array([[0.3333, 0.3333, 0.3333],
           [0.5   , 0.    , 0.5   ]])
    """
    array, result_dtype, axis = _finite_scores(x, axis)
    tau = _threshold(array, axis)
    return np.maximum(array - tau, 0).astype(result_dtype, copy=False)


def sparsemax_jvp(x: ArrayLike, v: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Jacobian-vector product of sparsemax, :math:`Jv = s \odot (v - \bar v_S)`, in O(n log n).

    Where the support :math:`S` (the entries with :math:`p_i > 0`) does not change,
    sparsemax is linear with Jacobian :math:`J = \mathrm{diag}(s) - s s^\top / |S|`,
    :math:`s` the 0/1 indicator of :math:`S`. So a tangent :math:`v` moves the
    probabilities by :math:`v` minus its mean over the support, and not at all
    outside it. :math:`J` is symmetric: this is also the vector-Jacobian product.

    At a score exactly on the threshold sparsemax has a kink; there this returns the
    one-sided derivative that treats that entry as outside the support.

    Parameters
    ----------
    x : array_like
        Scores; sparsemax is taken along ``axis``.
    v : array_like
        Tangent (or cotangent), broadcastable against ``x``.
    axis : int, optional
        The sparsemax axis (default -1).

    Returns
    -------
    ndarray
        Same shape as ``x`` and ``v`` broadcast together; zero outside the support,
        and its entries along ``axis`` sum to 0.

    Raises
    ------
    ValueError
        Bad ``x`` (see :func:`sparsemax`), or ``v`` that does not broadcast against it.

    Examples
    --------
    >>> sparsemax_jvp([0.8, 0.6, 0.1], [1.0, 0.0, 0.0])  # support {0, 1}
    array([ 0.5, -0.5,  0. ])
    >>> sparsemax_jvp([0.8, 0.6, 0.1], [0.0, 0.0, 1.0])  # moving a zero entry: no effect
    array([0., 0., 0.])
    """
    array, result_dtype, axis = _finite_scores(x, axis)
    vector = as_vector_for(v, array.shape)
    support = (sparsemax(array, axis=axis) > 0).astype(array.dtype)
    support, vector = np.broadcast_arrays(support, vector)
    mean_on_support = np.sum(support * vector, axis=axis, keepdims=True) / np.sum(
        support, axis=axis, keepdims=True
    )
    product = np.where(support > 0, vector - mean_on_support, 0.0)  # 0, never -0.0, outside
    return product.astype(result_dtype, copy=False)


def _check_generator(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    return rng


def gumbel_max_sample(
    logits: ArrayLike, rng: np.random.Generator, num_samples: int | None = None
) -> NDArray[np.intp]:
    r"""Sample classes from ``softmax(logits)`` by the Gumbel-max trick.

    With :math:`g_i` independent standard Gumbel noise (:math:`g = -\log(-\log u)`,
    :math:`u` uniform on (0, 1)), :math:`\arg\max_i (x_i + g_i)` is class :math:`i`
    with probability exactly :math:`\mathrm{softmax}(x)_i`. No exponential is taken,
    so huge logits are fine.

    Parameters
    ----------
    logits : array_like
        Scores of shape ``(..., n)``, finite; classes along the last axis.
    rng : numpy.random.Generator
        The source of randomness (required, so results are reproducible).
    num_samples : int, optional
        How many independent samples to draw per row. ``None`` (default) draws one.

    Returns
    -------
    ndarray of int
        Class indices: shape ``logits.shape[:-1]`` when ``num_samples`` is None,
        else ``(num_samples, *logits.shape[:-1])``.

    Raises
    ------
    TypeError
        ``rng`` is not a ``numpy.random.Generator``; ``num_samples`` not an int.
    ValueError
        ``num_samples`` < 1; bad ``logits`` (see :func:`sparsemax`).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> samples = gumbel_max_sample([2.0, 1.0, 0.1], rng, num_samples=100_000)
    >>> (np.bincount(samples, minlength=3) / 100_000).round(3)  # softmax: 0.659, 0.242, 0.099
    array([0.657, 0.243, 0.101])
    >>> gumbel_max_sample([1000.0, 0.0], np.random.default_rng(1), num_samples=4)  # no overflow
    array([0, 0, 0, 0])
    """
    rng = _check_generator(rng)
    array, _, _ = _finite_scores(logits, -1, name="logits")
    shape = array.shape
    if num_samples is not None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer):
            raise TypeError(f"num_samples must be an int or None; got {num_samples!r}")
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1; got {num_samples}")
        shape = (int(num_samples), *shape)
    noise = rng.gumbel(size=shape)
    return np.asarray(np.argmax(array + noise, axis=-1))


def gumbel_softmax(
    logits: ArrayLike,
    temperature: float,
    rng: np.random.Generator,
    hard: bool = False,
    axis: int = -1,
) -> NDArray[np.floating]:
    r"""A relaxed sample from ``softmax(logits)``: ``softmax((logits + g) / temperature)``.

    ``g`` is standard Gumbel noise, one draw per entry. As the temperature goes to 0
    the sample becomes the one-hot vector of a Gumbel-max sample
    (:func:`gumbel_max_sample`); as it grows the sample flattens towards uniform.
    This is the forward computation of ``torch.nn.functional.gumbel_softmax``.

    Parameters
    ----------
    logits : array_like
        Scores, finite, any shape with at least one dimension.
    temperature : float
        Must be finite and > 0.
    rng : numpy.random.Generator
        The source of the noise (required, so results are reproducible).
    hard : bool, optional
        If True, return the one-hot vector of the sample's largest entry (the same
        class a Gumbel-max sample with this noise picks). NumPy has no gradients, so
        this is only the forward value of PyTorch's straight-through estimator
        (``hard=True`` there backpropagates through the relaxed sample).
    axis : int, optional
        The class axis (default -1).

    Returns
    -------
    ndarray
        Shape of ``logits``; each slice along ``axis`` sums to 1 (exactly one 1.0
        with ``hard=True``).

    Raises
    ------
    ValueError
        ``temperature`` not finite and positive; bad ``logits``.
    TypeError
        ``rng`` not a ``numpy.random.Generator``; ``hard`` not a bool.

    Examples
    --------
    >>> gumbel_softmax([2.0, 1.0, 0.1], 0.5, np.random.default_rng(1)).round(3)
    array([0.675, 0.005, 0.32 ])
    >>> gumbel_softmax([2.0, 1.0, 0.1], 0.5, np.random.default_rng(1), hard=True)  # same noise
    array([1., 0., 0.])
    >>> gumbel_softmax([2.0, 1.0, 0.1], 0.05, np.random.default_rng(1)).round(3)  # colder
    array([0.999, 0.   , 0.001])
    """
    temperature = check_temperature(temperature)
    rng = _check_generator(rng)
    if not isinstance(hard, bool | np.bool_):
        raise TypeError(f"hard must be a bool; got {hard!r}")
    array, result_dtype, axis = _finite_scores(logits, axis, name="logits")
    noisy = array + rng.gumbel(size=array.shape).astype(array.dtype, copy=False)
    relaxed = softmax(noisy, axis=axis, temperature=temperature)
    if not hard:
        return relaxed.astype(result_dtype, copy=False)
    winner = np.expand_dims(np.argmax(noisy, axis=axis), axis)
    one_hot = np.zeros_like(relaxed)
    np.put_along_axis(one_hot, winner, 1.0, axis=axis)
    return one_hot.astype(result_dtype, copy=False)


def _member_logits(member_logits: ArrayLike, axis: int) -> tuple[NDArray, np.dtype, int]:
    array, result_dtype = as_real_array(member_logits, name="member_logits")
    if array.ndim < 2:
        raise ValueError(
            "member_logits must have shape (members, ..., classes): at least 2 dimensions; "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError("member_logits must hold at least one member (axis 0); got none")
    axis = check_axis(axis, array.ndim)
    if axis == 0:
        raise ValueError("axis must be a class axis, not 0 (axis 0 indexes the members)")
    return array, result_dtype, axis


def ensemble_average_probabilities(
    member_logits: ArrayLike, axis: int = -1
) -> NDArray[np.floating]:
    r"""The mixture: the mean over members of each member's softmax.

    :math:`\bar p = \frac1M \sum_m \mathrm{softmax}(z_m)`. This is the standard way to
    combine an ensemble (and a deep ensemble's predictive distribution): a class that
    any member finds plausible keeps some probability, so the mixture is rarely
    overconfident.

    Parameters
    ----------
    member_logits : array_like
        Shape ``(members, ..., classes)``: axis 0 indexes the members.
    axis : int, optional
        The class axis (default -1); not 0.

    Returns
    -------
    ndarray
        Probabilities of shape ``member_logits.shape[1:]``.

    Examples
    --------
    >>> two_members = [[4.0, 0.0], [0.0, 4.0]]  # confident, and in disagreement
    >>> ensemble_average_probabilities(two_members)
    array([0.5, 0.5])
    """
    array, result_dtype, axis = _member_logits(member_logits, axis)
    return softmax(array, axis=axis).mean(axis=0).astype(result_dtype, copy=False)


def ensemble_average_logits(member_logits: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""The softmax of the members' mean logits (a normalised geometric mean of their outputs).

    :math:`\mathrm{softmax}(\frac1M \sum_m z_m) \propto \prod_m \mathrm{softmax}(z_m)^{1/M}`:
    a class gets mass only if every member gives it some, so this combination is
    sharper than :func:`ensemble_average_probabilities`. Logits of separately trained
    models live on different scales, so the average can be dominated by one member.

    Parameters
    ----------
    member_logits : array_like
        Shape ``(members, ..., classes)``: axis 0 indexes the members.
    axis : int, optional
        The class axis (default -1); not 0.

    Returns
    -------
    ndarray
        Probabilities of shape ``member_logits.shape[1:]``.

    Examples
    --------
    >>> ensemble_average_logits([[4.0, 0.0], [0.0, 4.0]])
    array([0.5, 0.5])
    >>> ensemble_average_logits([[4.0, 0.0], [1.0, 0.0]]).round(3)  # mixture: 0.856
    array([0.924, 0.076])
    """
    array, result_dtype, axis = _member_logits(member_logits, axis)
    return softmax(array.mean(axis=0), axis=axis - 1).astype(result_dtype, copy=False)


def ensemble_vote(member_logits: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """The fraction of members whose top class is each class (majority voting).

    Each member votes for its argmax (the lowest index among tied scores). The
    majority class is the argmax of the result; a tie between classes goes to the
    lowest index, as with ``np.argmax``. Vote fractions are probabilities of a kind,
    but coarse ones: a class no member votes for gets exactly 0.

    Parameters
    ----------
    member_logits : array_like
        Shape ``(members, ..., classes)``: axis 0 indexes the members.
    axis : int, optional
        The class axis (default -1); not 0.

    Returns
    -------
    ndarray
        Vote fractions (multiples of 1/members), of shape ``member_logits.shape[1:]``.

    Examples
    --------
    >>> ensemble_vote([[[3.0, 1.0, 0.0]], [[0.0, 2.0, 1.0]], [[5.0, 0.0, 0.0]]]).round(4)
    array([[0.6667, 0.3333, 0.    ]])
    """
    array, result_dtype, axis = _member_logits(member_logits, axis)
    votes = np.expand_dims(np.argmax(array, axis=axis), axis)
    counts = np.zeros_like(array, dtype=np.float64)
    np.put_along_axis(counts, votes, 1.0, axis=axis)
    return counts.mean(axis=0).astype(result_dtype, copy=False)
