r"""Gradient estimators for a random categorical choice (notebook 11).

A class :math:`k` is drawn from :math:`p = \mathrm{softmax}(\theta)` and a loss
:math:`f(e_k)` of its one-hot vector follows. The gradient of the expected loss
:math:`L(\theta) = \sum_k p_k f(e_k)` is wanted, but only samples are affordable:

* :func:`exact_choice_gradient`: enumerate the classes,
  :math:`\nabla L = p \odot (v - p^\top v)` with :math:`v_k = f(e_k)`;
* :func:`reinforce_gradients`: the score function (REINFORCE) estimate
  :math:`(f(e_k) - b)\,\nabla \log p_k` per sample, unbiased for any baseline
  :math:`b` that does not depend on the sample;
* :func:`gumbel_softmax_gradients`: the reparameterised gradient through a Gumbel-softmax
  sample :math:`y = \mathrm{softmax}((\theta + g)/T)`, biased, and its straight-through
  variant (the loss sees the one-hot sample, the gradient flows through :math:`y`).

Each estimator returns one estimate per sample, so their mean, bias and variance can be
measured. NumPy only; the samples come from :func:`softmax_lab.gumbel_max_sample` and
:func:`softmax_lab.gumbel_softmax`, the score from
:func:`softmax_lab.grad_log_probability` and the exact gradient from
:func:`softmax_lab.softmax_vjp`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    as_array,
    check_flag,
    check_positive_int,
    check_real,
    check_temperature,
)
from .alternatives import gumbel_max_sample, gumbel_softmax
from .gradients import softmax_vjp
from .policies import grad_log_probability

__all__ = ["exact_choice_gradient", "reinforce_gradients", "gumbel_softmax_gradients"]


def _finite_float64(values: ArrayLike, name: str) -> NDArray[np.float64]:
    array = as_array(values, name)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers; got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers; got NaN or inf")
    return array


def _logits(logits: ArrayLike) -> NDArray[np.float64]:
    array = _finite_float64(logits, "logits")
    if array.ndim != 1 or array.size < 2:
        raise ValueError(
            f"logits must be a 1-D array with at least 2 classes; got shape {array.shape}"
        )
    return array


def _values(values: ArrayLike, n: int) -> NDArray[np.float64]:
    array = _finite_float64(values, "values")
    if array.shape != (n,):
        raise ValueError(
            f"values must hold one loss per class, shape ({n},) like logits; got {array.shape}"
        )
    return array


def exact_choice_gradient(logits: ArrayLike, values: ArrayLike) -> NDArray[np.float64]:
    r"""The exact gradient of :math:`L(\theta) = \sum_k \mathrm{softmax}(\theta)_k\, v_k`.

    Enumerating the classes gives :math:`\nabla L = J^\top v = p \odot (v - p^\top v)`,
    the backward pass of softmax (:func:`softmax_lab.softmax_vjp`) applied to the
    per-class losses.

    Parameters
    ----------
    logits : array_like, shape (n,)
        The scores :math:`\theta` of the choice, finite, at least 2 classes.
    values : array_like, shape (n,)
        The loss :math:`v_k = f(e_k)` of each class.

    Returns
    -------
    ndarray, shape (n,)
        The gradient; its entries sum to 0.

    Raises
    ------
    ValueError
        ``logits`` not 1-D with at least 2 finite entries; ``values`` of another shape
        or not finite.
    TypeError
        non-numeric input.

    Examples
    --------
    >>> exact_choice_gradient([0.0, 0.0], [1.0, 0.0])  # raise class 0's loss share
    array([ 0.25, -0.25])
    >>> exact_choice_gradient([2.0, 1.0, 0.1], [1.0, 1.0, 1.0])  # a constant loss
    array([0., 0., 0.])
    """
    theta = _logits(logits)
    v = _values(values, theta.size)
    return softmax_vjp(theta, v)


def reinforce_gradients(
    logits: ArrayLike,
    values: ArrayLike,
    rng: np.random.Generator,
    num_samples: int,
    baseline: float = 0.0,
) -> NDArray[np.float64]:
    r"""REINFORCE (score function) estimates of :func:`exact_choice_gradient`, one per sample.

    Each sample draws :math:`k \sim \mathrm{softmax}(\theta)` (by the Gumbel-max trick,
    :func:`softmax_lab.gumbel_max_sample`) and returns
    :math:`(v_k - b)\,\nabla_\theta \log p_k = (v_k - b)(e_k - p)`. Since
    :math:`E[\nabla \log p_k] = \sum_k \nabla p_k = 0`, any baseline :math:`b` chosen
    without looking at the sample leaves the mean unchanged: every estimate is
    unbiased, and a good :math:`b` (near :math:`E[v_k]`) lowers the variance.

    Parameters
    ----------
    logits : array_like, shape (n,)
        The scores of the choice.
    values : array_like, shape (n,)
        The loss of each class.
    rng : numpy.random.Generator
        The source of the samples.
    num_samples : int
        How many independent estimates to return (>= 1).
    baseline : float, optional
        Subtracted from the sampled loss (default 0). It must not depend on the
        samples, or the estimate is biased.

    Returns
    -------
    ndarray, shape (num_samples, n)
        One estimate per row; each row sums to 0.

    Raises
    ------
    TypeError
        ``rng`` not a ``numpy.random.Generator``; ``num_samples`` not an int;
        ``baseline`` not a real number.
    ValueError
        bad ``logits`` or ``values`` (see :func:`exact_choice_gradient`);
        ``num_samples`` < 1; ``baseline`` not finite.

    Examples
    --------
    >>> estimates = reinforce_gradients([0.0, 0.0], [1.0, 0.0], np.random.default_rng(0), 4)
    >>> estimates  # class 0 drawn: +0.5 * [1, -1]; class 1 drawn: loss 0, estimate 0
    array([[ 0. ,  0. ],
           [ 0. ,  0. ],
           [ 0.5, -0.5],
           [ 0.5, -0.5]])
    >>> big = reinforce_gradients([0.0, 0.0], [1.0, 0.0], np.random.default_rng(0), 100_000)
    >>> big.mean(axis=0).round(2)  # exact: [0.25, -0.25]
    array([ 0.25, -0.25])
    """
    theta = _logits(logits)
    v = _values(values, theta.size)
    num_samples = check_positive_int(num_samples, "num_samples")
    baseline = check_real(baseline, "baseline")
    k = gumbel_max_sample(theta, rng, num_samples=num_samples)
    score = grad_log_probability(np.broadcast_to(theta, (num_samples, theta.size)), k)
    return (v[k] - float(baseline))[:, None] * score + 0.0  # + 0.0: no -0.0 entries


def gumbel_softmax_gradients(
    logits: ArrayLike,
    loss_grad: Callable[[NDArray[np.float64]], ArrayLike] | ArrayLike,
    temperature: float,
    rng: np.random.Generator,
    num_samples: int,
    straight_through: bool = False,
) -> NDArray[np.float64]:
    r"""Gumbel-softmax (or straight-through Gumbel) estimates of the gradient, one per sample.

    Each sample draws Gumbel noise :math:`g` and the relaxed sample
    :math:`y = \mathrm{softmax}((\theta + g)/T)` (:func:`softmax_lab.gumbel_softmax`),
    then backpropagates the loss gradient :math:`u` through it:
    :math:`\frac1T\, y \odot (u - y^\top u)`.

    * Gumbel-softmax: :math:`u = \nabla f(y)`, the gradient of the *relaxed* objective
      :math:`E[f(y)]`, which is not the objective :math:`E[f(e_k)]`: biased for
      :math:`T > 0`.
    * Straight-through (``straight_through=True``): the loss sees the one-hot sample
      :math:`h = e_{\arg\max y}` (a true Gumbel-max sample), so :math:`u = \nabla f(h)`,
      and the gradient pretends :math:`h` was :math:`y`: biased too. This is what
      ``torch.nn.functional.gumbel_softmax(..., hard=True)`` backpropagates.

    Parameters
    ----------
    logits : array_like, shape (n,)
        The scores of the choice.
    loss_grad : callable or array_like
        The gradient of the loss with respect to the sample: a function taking an
        array of samples of shape ``(num_samples, n)`` and returning the gradients of the
        same shape; or an array of shape ``(n,)`` for a linear loss :math:`f(y) = c^\top y`
        (its gradient is :math:`c` everywhere; then both variants coincide).
    temperature : float
        :math:`T`, finite and > 0.
    rng : numpy.random.Generator
        The source of the noise.
    num_samples : int
        How many independent estimates to return (>= 1).
    straight_through : bool, optional
        Evaluate ``loss_grad`` at the one-hot sample instead of the relaxed one.

    Returns
    -------
    ndarray, shape (num_samples, n)
        One estimate per row; each row sums to 0 (up to rounding).

    Raises
    ------
    TypeError
        ``rng`` not a Generator; ``straight_through`` not a bool; non-numeric input.
    ValueError
        bad ``logits``; ``temperature`` not finite and positive; ``num_samples`` < 1;
        ``loss_grad`` giving an array of the wrong shape, or NaN/inf.

    Examples
    --------
    >>> c = np.array([1.0, 0.0, 0.0])  # linear loss: the probability of class 0
    >>> rng = np.random.default_rng(0)
    >>> gumbel_softmax_gradients([0.0, 0.0, 0.0], c, 1.0, rng, 100_000).mean(axis=0).round(2)
    array([ 0.15, -0.08, -0.08])
    >>> exact_choice_gradient([0.0, 0.0, 0.0], c).round(2)  # the relaxation's bias
    array([ 0.22, -0.11, -0.11])
    """
    theta = _logits(logits)
    temperature = check_temperature(temperature)
    num_samples = check_positive_int(num_samples, "num_samples")
    straight_through = check_flag(straight_through, "straight_through")
    shape = (num_samples, theta.size)
    y = gumbel_softmax(np.broadcast_to(theta, shape), temperature, rng)
    at = y
    if straight_through:
        at = np.zeros_like(y)
        np.put_along_axis(at, np.argmax(y, axis=1)[:, None], 1.0, axis=1)
    if callable(loss_grad):
        upstream = as_array(loss_grad(at.copy()), "loss_grad's result")
    else:
        upstream = as_array(loss_grad, "loss_grad")
        if upstream.shape != (theta.size,):
            raise ValueError(
                f"loss_grad must be a callable or an array of shape ({theta.size},); "
                f"got shape {upstream.shape}"
            )
    if upstream.dtype.kind not in "biuf":
        raise TypeError(f"loss_grad must give real numbers; got dtype {upstream.dtype}")
    try:
        upstream = np.broadcast_to(upstream.astype(np.float64), shape)
    except ValueError as error:
        raise ValueError(
            f"loss_grad must give gradients of shape {shape}; got {upstream.shape}"
        ) from error
    if not np.all(np.isfinite(upstream)):
        raise ValueError("loss_grad gave NaN or inf")
    # backward through y = softmax(z / T): J^T u = y * (u - y.u) (softmax_vjp's formula,
    # written with y itself: the noise is not kept), then the chain rule's 1 / T
    return y * (upstream - np.sum(y * upstream, axis=1, keepdims=True)) / temperature
