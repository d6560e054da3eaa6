r"""Alternatives to softmax, and ways of combining several softmax outputs (notebook 09).

* :func:`sparsemax` (Martins & Astudillo, "From softmax to sparsemax", ICML 2016): the
  Euclidean projection of the scores onto the probability simplex. Like softmax it
  returns a distribution, but low scores get probability exactly 0.
  :func:`sparsemax_jvp` is its Jacobian-vector product (the Jacobian is symmetric,
  so it is also the vector-Jacobian product that backpropagation needs).
  :func:`sparsemax_torch` is the same map in torch, differentiable by autograd, and
  :func:`sparsemax_loss` the loss it is trained with (cross-entropy would take log 0).
* :func:`entmax15` (Peters, Niculae & Martins, ACL 2019): 1.5-entmax, between softmax
  and sparsemax, by the exact sort-based algorithm.
* :func:`gumbel_max_sample` and :func:`gumbel_softmax` (Jang, Gu & Poole 2017; Maddison,
  Mnih & Teh 2017): sampling from ``softmax(logits)`` as ``argmax(logits + Gumbel
  noise)``, and its relaxation, a softmax of the noisy logits at a temperature.
* :func:`ensemble_average_probabilities`, :func:`ensemble_average_logits` and
  :func:`ensemble_vote`: three ways to combine the logits of an ensemble's members.

Everything works along one axis of a batch (default the last), in NumPy, except
:func:`sparsemax_torch`, which imports torch when it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    as_indices,
    as_int,
    as_real_array,
    as_vector_for,
    check_axis,
    check_flag,
    check_generator,
    check_temperature,
)
from .core import softmax

if TYPE_CHECKING:  # torch is imported only when sparsemax_torch is called
    import torch

__all__ = [
    "sparsemax",
    "sparsemax_jvp",
    "sparsemax_torch",
    "sparsemax_loss",
    "entmax15",
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


def sparsemax_torch(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Sparsemax in torch, along ``dim``; autograd gives its Jacobian.

    The same sort-based threshold as :func:`sparsemax`, written with torch operations
    so that gradients flow: inside the support :math:`S` the gradient of
    :math:`p_i = x_i - \tau` is :math:`\delta_{ij} - 1/|S|`, outside it is 0 (what
    :func:`sparsemax_jvp` computes).

    Parameters
    ----------
    x : torch.Tensor
        Real, finite scores (floating point), with at least one entry along ``dim``.
    dim : int, optional
        The dimension to normalise over (default -1).

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``x``; each slice along ``dim`` is a distribution with
        exact zeros below the threshold.

    Raises
    ------
    TypeError
        ``x`` is not a floating-point torch tensor.
    ValueError
        ``x`` is 0-dimensional, empty along ``dim``, or holds NaN or inf.

    Examples
    --------
    >>> import torch
    >>> sparsemax_torch(torch.tensor([0.8, 0.6, 0.1], dtype=torch.float64))
    tensor([0.6000, 0.4000, 0.0000], dtype=torch.float64)
    """
    import torch

    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor; got {type(x).__name__}")
    if x.dim() == 0:
        raise ValueError("x must have at least one entry along dim; got a 0-dimensional tensor")
    dim = check_axis(dim, x.dim(), name="dim")
    if x.shape[dim] == 0:
        raise ValueError("x must have at least one entry along dim")
    if not torch.isfinite(x).all():
        raise ValueError("x must contain only finite numbers; got NaN or inf")
    ordered = torch.sort(x, dim=dim, descending=True).values
    cumulative = ordered.cumsum(dim)
    shape = [1] * x.dim()
    shape[dim] = x.shape[dim]
    k = torch.arange(1, x.shape[dim] + 1, dtype=x.dtype, device=x.device).view(shape)
    support = (1 + k * ordered > cumulative).sum(dim=dim, keepdim=True).clamp(min=1)
    tau = (cumulative.gather(dim, support - 1) - 1) / support.to(x.dtype)
    return torch.clamp(x - tau, min=0)


def sparsemax_loss(x: ArrayLike, target: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""The sparsemax loss of Martins & Astudillo (2016), one value per slice.

    .. math::

        L(z, k) = -z_k + \tfrac12 \sum_{j \in S(z)} \left(z_j^2 - \tau(z)^2\right)
        + \tfrac12,

    :math:`S(z)` the support and :math:`\tau(z)` the threshold of
    :math:`\mathrm{sparsemax}(z)`. Its gradient in :math:`z` is
    :math:`\mathrm{sparsemax}(z) - e_k`, as softmax cross-entropy's is
    :math:`\mathrm{softmax}(z) - e_k`; it is :math:`\ge 0`, and 0 exactly when
    :math:`z_k \ge 1 + \max_{j \ne k} z_j` (the target gets probability 1 with a
    margin of 1). Unlike :math:`-\log \mathrm{sparsemax}(z)_k` it is finite when
    the target gets probability 0.

    Parameters
    ----------
    x : array_like
        Scores, real and finite, at least one dimension.
    target : array_like of int
        The target class of each slice: shape ``x``'s shape without ``axis``, entries in
        ``0 .. n - 1``.
    axis : int, optional
        The class axis (default -1).

    Returns
    -------
    ndarray
        One loss per slice: ``x``'s shape without ``axis`` (a 0-d array for a vector).

    Raises
    ------
    ValueError
        Bad ``x`` (see :func:`sparsemax`); ``target`` of the wrong shape or out of range.
    TypeError
        ``target`` not integer.

    Examples
    --------
    >>> float(sparsemax_loss([3.0, 1.0, 0.0], 0))  # probability 1 with a margin of 2
    0.0
    >>> float(sparsemax_loss([0.8, 0.6, 0.1], 1))  # p = [0.6, 0.4, 0]
    0.36
    >>> float(sparsemax_loss([2.0, 0.0, 0.0], 2))  # the target gets p = 0: still finite
    2.0
    """
    array, result_dtype, axis = _finite_scores(x, axis)
    labels = as_indices(target, "target")
    expected = array.shape[:axis] + array.shape[axis + 1 :]
    if labels.shape != expected:
        raise ValueError(f"target must have shape {expected} (x without axis); got {labels.shape}")
    n = array.shape[axis]
    if np.any(labels < 0) or np.any(labels >= n):
        raise ValueError(f"target must lie in 0..{n - 1}; got {labels.min()}..{labels.max()}")
    tau = _threshold(array, axis)
    p = np.maximum(array - tau, 0.0)
    # sum over S of z_j^2 - tau^2 = sum of p_j (p_j + 2 tau) = |p|^2 + 2 tau, so
    # L = |p|^2 / 2 + 1/2 - (z_k - tau), which is 0 when p = e_k; rounding aside:
    chosen = np.take_along_axis(array - tau, np.expand_dims(labels, axis), axis=axis)
    loss = 0.5 * np.sum(p**2, axis=axis) + 0.5 - np.squeeze(chosen, axis=axis)
    only_target = np.sum(p > 0, axis=axis) == 1
    only_target &= np.squeeze(
        np.take_along_axis(p, np.expand_dims(labels, axis), axis=axis) > 0, axis=axis
    )
    loss = np.where(only_target, 0.0, np.maximum(loss, 0.0))
    return loss.astype(result_dtype, copy=False)


def entmax15(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""1.5-entmax: :math:`p_i = [x_i / 2 - \tau]_+^2`, with :math:`\tau` making the sum 1.

    Between softmax (:math:`\alpha = 1`, never 0) and sparsemax (:math:`\alpha = 2`,
    piecewise linear), 1.5-entmax (Peters, Niculae & Martins 2019) is sparse *and*
    smooth. :math:`\tau` comes exactly from a sort: with :math:`u = x / 2` in
    decreasing order, for each support size :math:`k` let :math:`\mu_k` be the mean and
    :math:`s_k` the sum of squared deviations of the top :math:`k`, and
    :math:`\tau_k = \mu_k - \sqrt{(1 - s_k)/k}`; the support is the largest :math:`k`
    with :math:`\tau_k \le u_{(k)}`.

    Parameters
    ----------
    x : array_like
        Scores, real and finite, at least one dimension.
    axis : int, optional
        The axis to normalise over (default -1).

    Returns
    -------
    ndarray
        Probabilities of ``x``'s shape (float dtypes as :func:`sparsemax`), summing to 1
        along ``axis``, exactly 0 where :math:`x_i / 2 \le \tau`.

    Raises
    ------
    ValueError, TypeError
        As :func:`sparsemax`.

    Examples
    --------
    >>> entmax15([0.0, 0.0])
    array([0.5, 0.5])
    >>> entmax15([3.0, 0.0, -1.0]).round(4)  # sparsemax gives [1, 0, 0]
    array([1., 0., 0.])
    >>> entmax15([1.0, 0.5, -1.0]).round(4)  # sparsemax gives [0.75, 0.25, 0]
    array([0.674, 0.326, 0.   ])
    """
    array, result_dtype, axis = _finite_scores(x, axis)
    u = np.moveaxis(array, axis, -1) / 2
    u = u - u.max(axis=-1, keepdims=True)  # shift invariant; keeps the squares small
    ordered = -np.sort(-u, axis=-1)
    k = np.arange(1, u.shape[-1] + 1, dtype=u.dtype)
    mean = np.cumsum(ordered, axis=-1) / k
    mean_of_squares = np.cumsum(ordered**2, axis=-1) / k
    spread = k * (mean_of_squares - mean**2)  # sum of squared deviations of the top k
    delta = np.maximum((1 - spread) / k, 0.0)
    tau_k = mean - np.sqrt(delta)
    support = np.maximum(np.sum(tau_k <= ordered, axis=-1, keepdims=True), 1)
    tau = np.take_along_axis(tau_k, support - 1, axis=-1)
    p = np.maximum(u - tau, 0.0) ** 2
    p = p / p.sum(axis=-1, keepdims=True)  # rounding only: the sum is 1 up to it
    return np.moveaxis(p, -1, axis).astype(result_dtype, copy=False)


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
    rng = check_generator(rng)
    array, _, _ = _finite_scores(logits, -1, name="logits")
    shape = array.shape
    if num_samples is not None:
        number = as_int(num_samples)  # NumPy integers and 0-d integer arrays too
        if number is None:
            raise TypeError(f"num_samples must be an int or None; got {num_samples!r}")
        if number < 1:
            raise ValueError(f"num_samples must be >= 1; got {num_samples}")
        shape = (number, *shape)
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
    rng = check_generator(rng)
    hard = check_flag(hard, "hard")
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
