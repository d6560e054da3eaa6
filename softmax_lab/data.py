"""Data for the classifier notebooks: the Iris flowers, split the way the source article does.

The article splits Iris with ``train_test_split(test_size=0.2, random_state=42)`` and then
trains a Keras model with ``validation_split=0.2``, which holds out the *last* 20 % of
the training rows (no shuffling) for validation. :func:`load_iris_split` reproduces both
steps: 150 flowers become 96 for training, 24 for validation and 30 for testing.
:func:`holdout_split` is the generic split underneath, for later notebooks.

Examples
--------
>>> iris = load_iris_split()
>>> len(iris.y_train), len(iris.y_val), len(iris.y_test)
(96, 24, 30)
>>> iris.class_names
('setosa', 'versicolor', 'virginica')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import as_array, as_real_array, check_count, check_flag, check_real

__all__ = ["IrisSplit", "holdout_split", "load_iris_split"]


def holdout_split(
    features: ArrayLike,
    labels: ArrayLike,
    fraction: float,
    *,
    seed: int = 42,
    shuffle: bool = True,
    stratify: bool = False,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Hold out a fraction of the rows: ``(x_kept, x_held, y_kept, y_held)``.

    The order of scikit-learn's ``X_train, X_test, y_train, y_test``: this is
    :func:`sklearn.model_selection.train_test_split` with its arguments checked, and with
    Keras' unshuffled ``validation_split`` as an option.

    Parameters
    ----------
    features : array_like, shape (n, d)
        One row per sample.
    labels : array_like, shape (n,)
        One class index per sample.
    fraction : float
        Share of the rows to hold out, strictly between 0 and 1; the held-out part has
        ``ceil(fraction * n)`` rows (scikit-learn's rule).
    seed : int, optional
        Seeds the shuffle (``random_state`` of :func:`sklearn.model_selection.train_test_split`).
    shuffle : bool, optional
        If False, the *last* rows are held out in order, as Keras' ``validation_split`` does.
    stratify : bool, optional
        Keep the class proportions equal in both parts (needs ``shuffle=True``).

    Returns
    -------
    x_kept, x_held, y_kept, y_held : ndarray

    Raises
    ------
    ValueError
        ``features`` not 2-D, ``labels`` not 1-D or of another length, ``fraction``
        outside (0, 1) or leaving a part empty, ``stratify`` without ``shuffle``.

    Examples
    --------
    >>> x, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
    >>> x_kept, x_held, y_kept, y_held = holdout_split(x, y, 0.2, shuffle=False)
    >>> x_held.tolist(), y_held.tolist()
    ([[16, 17], [18, 19]], [0, 1])
    >>> _, _, y_kept, y_held = holdout_split(x, y, 0.4, stratify=True)
    >>> np.bincount(y_held).tolist()
    [2, 2]
    """
    # Imported here, not at the top: scikit-learn takes seconds to import, and
    # ``import softmax_lab`` should stay quick for the notebooks that never split data.
    from sklearn.model_selection import train_test_split

    x, y = as_array(features, "features"), as_array(labels, "labels")
    if x.ndim != 2:
        raise ValueError(f"features must be 2-D (samples x features); got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"labels must be 1-D with one label per row of features ({len(x)}); got shape {y.shape}"
        )
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    seed = _check_seed(seed)
    shuffle, stratify = check_flag(shuffle, "shuffle"), check_flag(stratify, "stratify")
    held = int(np.ceil(fraction * len(x)))
    if held >= len(x):
        raise ValueError(f"fraction={fraction} of {len(x)} rows leaves nothing to keep")
    if stratify and not shuffle:
        raise ValueError(
            "stratify=True needs shuffle=True (a stratified split must reorder the rows)"
        )
    return train_test_split(
        x,
        y,
        test_size=fraction,
        shuffle=shuffle,
        random_state=seed if shuffle else None,
        stratify=y if stratify else None,
    )


@dataclass(frozen=True)
class IrisSplit:
    """Iris split into training, validation and test parts (arrays of float64 features, int labels).

    ``mean`` and ``scale`` are the per-feature statistics of the *training* part when the
    split was standardised (``None`` otherwise); :meth:`transform` applies them to new
    flowers, so a model trained on standardised features sees new data the same way.
    """

    x_train: NDArray[np.float64]
    y_train: NDArray[np.int64]
    x_val: NDArray[np.float64]
    y_val: NDArray[np.int64]
    x_test: NDArray[np.float64]
    y_test: NDArray[np.int64]
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    mean: NDArray[np.float64] | None = None
    scale: NDArray[np.float64] | None = None

    def transform(self, features: ArrayLike) -> NDArray[np.float64]:
        """Prepare raw measurements (cm) like the training data: standardise if the split was.

        Examples
        --------
        >>> iris = load_iris_split(standardize=True)
        >>> iris.transform([5.1, 3.5, 1.4, 0.2]).round(2)
        array([-0.79,  0.93, -1.25, -1.24])
        """
        x = as_real_array(features, "features")[0].astype(np.float64, copy=False)
        if x.ndim not in (1, 2) or x.shape[-1] != len(self.feature_names):
            raise ValueError(
                f"features must have {len(self.feature_names)} values per flower "
                f"({', '.join(self.feature_names)}); got shape {x.shape}"
            )
        if self.mean is None or self.scale is None:
            return x.copy()
        return (x - self.mean) / self.scale


def load_iris_split(
    *,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 42,
    standardize: bool = False,
    features: Sequence[int] | None = None,
) -> IrisSplit:
    """Load Iris (bundled with scikit-learn, no download) and split it like the article.

    Parameters
    ----------
    test_fraction : float, optional
        Share held out for testing, shuffled with ``seed`` (the article: 0.2, seed 42).
    val_fraction : float, optional
        Share of the remaining rows held out for validation: the last rows, unshuffled,
        as Keras' ``validation_split`` takes them.
    seed : int, optional
        ``random_state`` of the test split.
    standardize : bool, optional
        Rescale every feature to mean 0 and standard deviation 1 using statistics of the
        training part only (validation and test rows must not leak into them).
    features : sequence of int, optional
        Columns to keep, e.g. ``(2, 3)`` for the two petal measurements. Default: all four.

    Returns
    -------
    IrisSplit

    Examples
    --------
    >>> iris = load_iris_split(standardize=True, features=(2, 3))
    >>> iris.feature_names
    ('petal length (cm)', 'petal width (cm)')
    >>> iris.x_train.mean(axis=0).round(6) + 0.0, iris.x_train.std(axis=0).round(6)
    (array([0., 0.]), array([1., 1.]))
    """
    test_fraction = check_real(
        test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True, high_open=True
    )
    val_fraction = check_real(
        val_fraction, "val_fraction", low=0.0, high=1.0, low_open=True, high_open=True
    )
    standardize = check_flag(standardize, "standardize")
    from sklearn.datasets import load_iris  # imported lazily, as in holdout_split

    bunch = load_iris()
    x, y = bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    names = tuple(str(f) for f in bunch.feature_names)
    if features is not None:
        if isinstance(features, np.ndarray) and features.ndim == 1:
            features = features.tolist()  # np.array([2, 3]) or np.arange(2) select columns too
        if isinstance(features, (str, bytes)) or not isinstance(features, Sequence):
            raise TypeError(f"features must be a sequence of column indices; got {features!r}")
        if any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) for c in features):
            raise TypeError(f"features must hold int column indices; got {list(features)!r}")
        columns = [int(c) for c in features]
        if not columns or any(not 0 <= c < x.shape[1] for c in columns):
            raise ValueError(
                f"features must be column indices in 0..{x.shape[1] - 1}; got {features!r}"
            )
        x, names = x[:, columns], tuple(names[c] for c in columns)
    x_rest, x_test, y_rest, y_test = holdout_split(x, y, test_fraction, seed=seed)
    x_train, x_val, y_train, y_val = holdout_split(x_rest, y_rest, val_fraction, shuffle=False)
    mean = scale = None
    if standardize:
        mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
        x_train, x_val, x_test = ((part - mean) / scale for part in (x_train, x_val, x_test))
    return IrisSplit(
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        names,
        tuple(str(c) for c in bunch.target_names),
        mean,
        scale,
    )


def _check_seed(seed: object) -> int:
    """A seed scikit-learn accepts as ``random_state``: an int in [0, 2**32)."""
    value = check_count(seed, "seed")
    if value >= 2**32:
        raise ValueError(f"seed must be an int in [0, 2**32); got {value}")
    return value
