"""A small, seeded PyTorch training loop for classifiers whose model outputs logits.

Notebook 05 writes this loop out once in full; afterwards it calls :func:`train`. The
model returns *logits* (raw scores); the loss, :class:`torch.nn.CrossEntropyLoss`, applies
log-softmax itself, and :func:`predict_proba` applies softmax only when probabilities are
wanted. On the CPU, with the same seeds, two trainings give identical histories.

Examples
--------
>>> from softmax_lab.data import load_iris_split
>>> iris = load_iris_split(standardize=True)
>>> model = make_mlp(4, 8, 3, seed=0)
>>> history = train(model, iris.x_train, iris.y_train, x_val=iris.x_val, y_val=iris.y_val,
...                 epochs=3, lr=1e-2)
>>> len(history), len(history.val_loss)
(3, 3)
>>> predict_proba(model, iris.x_test[:2]).sum(axis=1).round(6)
array([1., 1.])
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from ._shared import check_count, check_positive_int, check_real
from .core import softmax

__all__ = ["History", "evaluate", "make_mlp", "predict_proba", "train", "train_many"]

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class History:
    """Per-epoch metrics: training loss/accuracy (averaged over the epoch's batches, as
    Keras reports them) and validation loss/accuracy (measured after each epoch)."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return len(self.train_loss)

    def as_dict(self) -> dict[str, list[float]]:
        """The history as a plain dict of lists (like Keras' ``history.history``)."""
        return asdict(self)


def make_mlp(
    n_inputs: int = 4,
    n_hidden: int = 8,
    n_classes: int = 3,
    *,
    seed: int = 0,
    init: str = "keras",
) -> nn.Sequential:
    r"""The article's network: ``n_inputs -> Linear(n_hidden) -> ReLU -> Linear(n_classes)`` logits.

    The weights are initialised from ``seed`` without touching the global torch RNG.

    Parameters
    ----------
    n_inputs, n_hidden, n_classes : int, optional
        Layer widths (default 4, 8, 3: Iris).
    seed : int, optional
        Seeds the initial weights.
    init : {"keras", "torch"}, optional
        ``"keras"`` (default), as Keras' ``Dense`` starts: glorot-uniform weights
        (:func:`torch.nn.init.xavier_uniform_`) and zero biases. ``"torch"``: what
        :class:`torch.nn.Linear` does by itself (kaiming-uniform weights with
        ``a=sqrt(5)`` and uniform biases, both in :math:`\pm 1/\sqrt{\text{fan-in}}`).
        Either way the layers are first built by :class:`torch.nn.Linear` after
        ``torch.manual_seed(seed)``, so ``"torch"`` equals building them yourself.

    Examples
    --------
    >>> make_mlp(4, 8, 3)
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=3, bias=True)
    )
    >>> torch.equal(make_mlp(seed=1)[0].weight, make_mlp(seed=1)[0].weight)
    True
    >>> make_mlp(seed=1)[0].bias.abs().max().item(), make_mlp(seed=1, init="torch")[0].bias.abs().max().item() > 0
    (0.0, True)
    """
    for name, value in (("n_inputs", n_inputs), ("n_hidden", n_hidden), ("n_classes", n_classes)):
        check_positive_int(value, name)
    if init not in ("keras", "torch"):
        raise ValueError(f"init must be 'keras' or 'torch'; got {init!r}")
    seed = check_count(seed, "seed")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Linear(n_inputs, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_classes)
        )
        if init == "keras":
            for layer in (model[0], model[2]):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
    return model


def _as_tensor(x: ArrayLike | torch.Tensor, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(
            f"{name} must be an array of numbers; got {type(x).__name__} ({error})"
        ) from error


def _features(
    x: ArrayLike | torch.Tensor,
    name: str,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    tensor = _as_tensor(x, name)
    if (
        tensor.dtype == torch.bool
        or tensor.is_complex()
        or not (tensor.is_floating_point() or tensor.dtype in _INTS)
    ):
        raise TypeError(f"{name} must hold real numbers; got dtype {tensor.dtype}")
    if tensor.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (samples x features); got shape {tuple(tensor.shape)}"
        )
    return tensor.to(device=device, dtype=dtype)


_INTS = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _labels(y: ArrayLike | torch.Tensor, name: str, n: int, device: torch.device) -> torch.Tensor:
    tensor = _as_tensor(y, name)
    if tensor.dtype not in _INTS:
        raise TypeError(
            f"{name} must be integer class indices (0, 1, 2, ...); got dtype {tensor.dtype}"
        )
    if tensor.ndim != 1 or len(tensor) != n:
        raise ValueError(
            f"{name} must be 1-D with one label per sample ({n}); got shape {tuple(tensor.shape)}"
        )
    if n and int(tensor.min()) < 0:
        raise ValueError(f"{name} must be class indices >= 0; got {int(tensor.min())}")
    return tensor.to(device=device, dtype=torch.long)


def _forward(
    model: nn.Module, inputs: torch.Tensor, name: str, shape: tuple[int, ...] | None = None
) -> torch.Tensor:
    """``model(inputs)``; a shape error names ``name`` and its ``shape`` (that of ``inputs``)."""
    try:
        return model(inputs)
    except RuntimeError as error:
        shape = tuple(inputs.shape) if shape is None else shape
        raise ValueError(f"{name} of shape {shape} does not fit the model: {error}") from error


def _check_classes(targets: torch.Tensor, name: str, n_classes: int) -> None:
    if targets.numel() and int(targets.max()) >= n_classes:
        raise ValueError(
            f"{name} must be class indices in 0..{n_classes - 1} (the model gives "
            f"{n_classes} scores per row); got {int(targets.max())}"
        )


def _check_fits(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x_name: str,
    y_name: str,
    *,
    check_labels: bool,
) -> None:
    """Before training: one row through ``model`` (eval mode, no gradient, no RNG use)
    shows that ``x`` fits it and, for the default cross-entropy, that ``y``'s classes do."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = _forward(model, x[:1], x_name, tuple(x.shape))
    finally:
        model.train(was_training)
    if check_labels:
        _check_classes(y, y_name, outputs.shape[-1])


def _model_device(model: nn.Module) -> torch.device:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _model_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of the model's parameters (features are cast to it); float32 if none."""
    parameter = next(model.parameters(), None)
    if parameter is None or not parameter.is_floating_point():
        return torch.float32
    return parameter.dtype


@contextmanager
def _one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run torch's CPU kernels on one thread for the duration, then restore the setting.

    The matrices here are tiny (batches of 8 rows): a second thread costs more in
    hand-over than it saves. On a busy 2-core machine, 100 Iris epochs measured about
    2 s with one thread and 18 s with two.
    """
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def evaluate(
    model: nn.Module,
    x: ArrayLike | torch.Tensor,
    y: ArrayLike | torch.Tensor,
    loss_fn: LossFunction | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, without tracking gradients.

    Examples
    --------
    >>> model = make_mlp(2, 4, 2, seed=0)
    >>> loss, accuracy = evaluate(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1])
    >>> 0.0 <= accuracy <= 1.0 and loss > 0
    True
    """
    device = _model_device(model)
    inputs = _features(x, "x", device, _model_dtype(model))
    targets = _labels(y, "y", len(inputs), device)
    default_loss = loss_fn is None
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = _forward(model, inputs, "x")
        if default_loss:
            _check_classes(targets, "y", outputs.shape[-1])
        loss = float(loss_fn(outputs, targets))
        accuracy = float((outputs.argmax(dim=1) == targets).float().mean())
    model.train(was_training)
    return loss, accuracy


def _options(
    epochs: int, batch_size: int, lr: float, optimizer: str, eps: float, weight_decay: float
) -> tuple[int, int, Callable[[Iterable[torch.Tensor]], torch.optim.Optimizer]]:
    """Check the training options; return the counts and an optimizer factory."""
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    decay = check_real(weight_decay, "weight_decay", low=0.0)
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    if optimizer == "adam":
        return (
            epochs,
            batch_size,
            lambda params: torch.optim.Adam(params, lr=lr, eps=eps, weight_decay=decay),
        )
    if optimizer == "sgd":
        return (
            epochs,
            batch_size,
            lambda params: torch.optim.SGD(params, lr=lr, weight_decay=decay),
        )
    raise ValueError(f"optimizer must be one of ['adam', 'sgd']; got {optimizer!r}")


def train(
    model: nn.Module,
    x_train: ArrayLike | torch.Tensor,
    y_train: ArrayLike | torch.Tensor,
    *,
    x_val: ArrayLike | torch.Tensor | None = None,
    y_val: ArrayLike | torch.Tensor | None = None,
    epochs: int = 100,
    batch_size: int = 8,
    lr: float = 1e-3,
    optimizer: str = "adam",
    eps: float = 1e-7,
    weight_decay: float = 0.0,
    loss_fn: LossFunction | None = None,
    seed: int = 0,
    on_epoch: Callable[[int], object] | None = None,
) -> History:
    r"""Train ``model`` in place with mini-batches; return the per-epoch :class:`History`.

    Each epoch shuffles the training rows with a ``torch.Generator`` seeded by ``seed``
    (so the order does not depend on the global RNG), then takes one optimizer step per
    batch of ``batch_size`` rows (the last batch may be smaller). Data are moved to the
    device of the model's parameters. On the CPU the loop runs torch on one thread (and
    restores the thread count afterwards): for batches this small that is much faster.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a (batch, features) tensor to (batch, classes) logits. The features are
        cast to the dtype of the model's parameters (float32 unless the model is, say,
        float64).
    x_train, y_train : array_like or Tensor
        Features (2-D, real) and integer class indices (1-D).
    x_val, y_val : array_like or Tensor, optional
        Validation data, evaluated after every epoch (give both or neither; without
        them the validation lists stay empty).
    epochs, batch_size : int, optional
        Defaults 100 and 8, as in the source article.
    lr : float, optional
        Learning rate; default 1e-3, Keras' default for Adam.
    optimizer : {"adam", "sgd"}, optional
        :class:`torch.optim.Adam` or plain :class:`torch.optim.SGD`.
    eps : float, optional
        Adam's :math:`\epsilon`; default 1e-7, Keras' default (torch's own is 1e-8).
        Ignored by SGD.
    weight_decay : float, optional
        The optimizer's ``weight_decay`` (default 0): :math:`\lambda w` is added to every
        parameter's gradient (biases included), the gradient of an L2 penalty
        :math:`\tfrac{\lambda}{2}\lVert w \rVert^2`. Must be finite and >= 0.
    loss_fn : callable, optional
        ``loss_fn(outputs, targets)``; default :class:`torch.nn.CrossEntropyLoss`, which
        expects logits.
    seed : int, optional
        Seeds the shuffling.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch)`` (counted from 1) after each epoch and its
        validation, with the model holding that epoch's weights: record anything else
        you want per epoch.

    Returns
    -------
    History
        A diverging run is recorded as it happens (losses become ``inf`` or ``nan``).

    Raises
    ------
    ValueError, TypeError
        Bad shapes or dtypes (naming the argument), ``epochs``/``batch_size`` not
        positive ints, ``lr`` or ``eps`` not finite and positive, an unknown
        ``optimizer``, only one of ``x_val``/``y_val``.

    Examples
    --------
    >>> x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    >>> y = torch.tensor([0, 1, 0, 1])
    >>> history = train(make_mlp(2, 4, 2, seed=0), x, y, epochs=50, batch_size=2, lr=0.05)
    >>> history.train_loss[-1] < history.train_loss[0], history.train_accuracy[-1]
    (True, 1.0)
    """
    epochs, batch_size, make_optimizer = _options(
        epochs, batch_size, lr, optimizer, eps, weight_decay
    )
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    device, dtype = _model_device(model), _model_dtype(model)
    x = _features(x_train, "x_train", device, dtype)
    y = _labels(y_train, "y_train", len(x), device)
    if len(x) == 0:
        raise ValueError("x_train has no rows")
    seed = check_count(seed, "seed")
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be a function of the epoch; got {on_epoch!r}")
    _check_fits(model, x, y, "x_train", "y_train", check_labels=loss_fn is None)
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    step = make_optimizer(model.parameters())
    shuffler = torch.Generator().manual_seed(seed)
    history = History()
    with _one_cpu_thread(device):
        for epoch in range(1, epochs + 1):
            _train_one_epoch(model, x, y, batch_size, loss_fn, step, shuffler, history)
            if x_val is not None and y_val is not None:
                val_loss, val_accuracy = evaluate(model, x_val, y_val, loss_fn)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_accuracy)
            if on_epoch is not None:
                on_epoch(epoch)
    return history


def _train_one_epoch(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    loss_fn: LossFunction,
    step: torch.optim.Optimizer,
    shuffler: torch.Generator,
    history: History,
) -> None:
    """One pass over shuffled mini-batches; appends the epoch's training loss and accuracy."""
    device, n = x.device, len(x)
    model.train()
    order = torch.randperm(n, generator=shuffler).to(device)
    xs, ys = x[order], y[order]
    # Sums stay on the device: one transfer per epoch, not one per batch.
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    for start in range(0, n, batch_size):
        xb, yb = xs[start : start + batch_size], ys[start : start + batch_size]
        outputs = model(xb)
        loss = loss_fn(outputs, yb)
        step.zero_grad()
        loss.backward()
        step.step()
        loss_sum += loss.detach() * len(yb)
        correct += (outputs.argmax(dim=1) == yb).sum()
    history.train_loss.append(float(loss_sum) / n)
    history.train_accuracy.append(float(correct) / n)


def train_many(
    models: Sequence[nn.Module],
    x_train: ArrayLike | torch.Tensor,
    y_train: ArrayLike | torch.Tensor,
    *,
    x_val: ArrayLike | torch.Tensor | None = None,
    y_val: ArrayLike | torch.Tensor | None = None,
    seeds: Sequence[int] | None = None,
    epochs: int = 100,
    batch_size: int = 8,
    lr: float = 1e-3,
    optimizer: str = "adam",
    eps: float = 1e-7,
    weight_decay: float = 0.0,
    loss_fn: LossFunction | None = None,
    on_epoch: Callable[[int], object] | None = None,
) -> list[History]:
    """Train several models of one architecture side by side: :func:`train` for each, at once.

    ``train_many([m0, m1], x, y, seeds=[0, 1])`` gives the same weights and histories as
    ``train(m0, x, y, seed=0)`` and ``train(m1, x, y, seed=1)``, up to float rounding
    (about 1e-6), in about the time of one run. The models are stacked into one batched
    model (:func:`torch.func.stack_module_state` and :func:`torch.vmap`) and trained on
    the *sum* of their losses: each model's loss depends only on its own weights, so each
    gets exactly its own gradient, and Adam and SGD update every number independently.
    Use it to repeat an experiment over many seeds.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        Models with the same parameter names and shapes, on one device, trained in place.
    seeds : sequence of int, optional
        One shuffling seed per model (default ``0, 1, ...``), as ``seed`` of :func:`train`.
    x_train, y_train, x_val, y_val, epochs, batch_size, lr, optimizer, eps, weight_decay, loss_fn
        As for :func:`train`. ``loss_fn`` must work under :func:`torch.vmap` (the
        functions of ``torch.nn.functional`` and the losses of ``torch.nn`` do).
    on_epoch : callable, optional
        As for :func:`train`: ``on_epoch(epoch)`` after each epoch, when every model
        holds that epoch's weights.

    Returns
    -------
    list of History
        One per model, in order.

    Raises
    ------
    ValueError, TypeError
        As :func:`train`; also no models, models of different architectures, or
        ``seeds`` of another length.

    Examples
    --------
    >>> from softmax_lab.data import load_iris_split
    >>> iris = load_iris_split(standardize=True)
    >>> one = make_mlp(seed=1)
    >>> alone = train(one, iris.x_train, iris.y_train, epochs=5, seed=1)
    >>> together = train_many([make_mlp(seed=s) for s in (0, 1)], iris.x_train, iris.y_train,
    ...                       epochs=5, seeds=[0, 1])
    >>> np.allclose(together[1].train_loss, alone.train_loss, rtol=1e-5)
    True
    """
    from torch.func import functional_call, stack_module_state

    # a list, a tuple, an nn.ModuleList or a generator of models; one model alone (an
    # nn.Sequential iterates over its layers) is refused
    one_model = isinstance(models, nn.Module) and not isinstance(models, nn.ModuleList)
    if one_model or isinstance(models, (str, bytes)) or not isinstance(models, Iterable):
        models = []
    models = list(models)
    if not models or not all(isinstance(m, nn.Module) for m in models):
        raise TypeError(
            "models must be a non-empty sequence of torch.nn.Module (for one model, pass [model])"
        )
    shapes = [[(n, p.shape) for n, p in m.named_parameters()] for m in models]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("models must all have the same parameter names and shapes")
    if isinstance(seeds, np.ndarray) and seeds.ndim == 1:
        seeds = seeds.tolist()  # np.arange(5) gives one seed per model too
    if seeds is None:
        seeds = list(range(len(models)))
    elif isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a sequence of ints, one per model; got {seeds!r}")
    else:
        seeds = [check_count(s, "each of seeds") for s in seeds]
    if len(seeds) != len(models):
        raise ValueError(f"give one seed per model ({len(models)}); got {len(seeds)}")
    epochs, batch_size, make_optimizer = _options(
        epochs, batch_size, lr, optimizer, eps, weight_decay
    )
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    device, dtype = _model_device(models[0]), _model_dtype(models[0])
    x = _features(x_train, "x_train", device, dtype)
    y = _labels(y_train, "y_train", len(x), device)
    if len(x) == 0:
        raise ValueError("x_train has no rows")
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be a function of the epoch; got {on_epoch!r}")
    _check_fits(models[0], x, y, "x_train", "y_train", check_labels=loss_fn is None)
    validation = None
    if x_val is not None and y_val is not None:
        xv = _features(x_val, "x_val", device, dtype)
        validation = (xv, _labels(y_val, "y_val", len(xv), device))
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    params, buffers = stack_module_state(models)
    skeleton = copy.deepcopy(models[0]).to("meta")

    def forward(p: dict, b: dict, inputs: torch.Tensor) -> torch.Tensor:
        return functional_call(skeleton, (p, b), (inputs,))

    batched, batched_loss = torch.vmap(forward), torch.vmap(loss_fn)
    step = make_optimizer(params.values())
    shufflers = [torch.Generator().manual_seed(s) for s in seeds]
    histories = [History() for _ in models]
    n, k = len(x), len(models)
    with _one_cpu_thread(device):
        for epoch in range(1, epochs + 1):
            skeleton.train()
            orders = torch.stack([torch.randperm(n, generator=g) for g in shufflers]).to(device)
            xs, ys = x[orders], y[orders]
            loss_sum = torch.zeros(k, device=device)
            correct = torch.zeros(k, device=device, dtype=torch.long)
            for start in range(0, n, batch_size):
                xb, yb = xs[:, start : start + batch_size], ys[:, start : start + batch_size]
                outputs = batched(params, buffers, xb)
                losses = batched_loss(outputs, yb)
                step.zero_grad()
                losses.sum().backward()
                step.step()
                loss_sum += losses.detach() * yb.shape[1]
                correct += (outputs.argmax(dim=2) == yb).sum(dim=1)
            for history, total, hits in zip(
                histories, loss_sum.tolist(), correct.tolist(), strict=True
            ):
                history.train_loss.append(total / n)
                history.train_accuracy.append(hits / n)
            if validation is not None:
                xv, yv = validation
                skeleton.eval()
                with torch.no_grad():
                    outputs = batched(params, buffers, xv.expand(k, *xv.shape))
                    losses = batched_loss(outputs, yv.expand(k, len(yv)))
                    hits = (outputs.argmax(dim=2) == yv).float().mean(dim=1)
                for history, loss, accuracy in zip(
                    histories, losses.tolist(), hits.tolist(), strict=True
                ):
                    history.val_loss.append(loss)
                    history.val_accuracy.append(accuracy)
            if on_epoch is not None:
                _copy_back(models, params)
                on_epoch(epoch)
    _copy_back(models, params)
    return histories


def _copy_back(models: Sequence[nn.Module], params: dict[str, torch.Tensor]) -> None:
    """Write the stacked parameters back into the models they came from."""
    with torch.no_grad():
        for i, model in enumerate(models):
            for name, parameter in model.named_parameters():
                parameter.copy_(params[name][i])


def predict_proba(model: nn.Module, x: ArrayLike | torch.Tensor) -> NDArray[np.float64]:
    """Class probabilities: softmax of the model's logits, as a float64 NumPy array.

    ``x`` is one sample (1-D, giving a 1-D result) or a batch (2-D, giving one row of
    probabilities per sample, each summing to 1). The model must output logits: a model
    that already ends in softmax would be squashed twice. Softmax is
    :func:`softmax_lab.softmax`, computed in float64 from the float32 logits.

    Examples
    --------
    >>> model = make_mlp(4, 8, 3, seed=0)
    >>> p = predict_proba(model, [5.1, 3.5, 1.4, 0.2])
    >>> p.shape, round(float(p.sum()), 12)
    ((3,), 1.0)
    """
    device = _model_device(model)
    tensor = _as_tensor(x, "x")
    single = tensor.ndim == 1
    inputs = _features(tensor[None] if single else tensor, "x", device, _model_dtype(model))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(inputs).double().cpu().numpy()
    model.train(was_training)
    probabilities = softmax(logits, axis=1)
    return probabilities[0] if single else probabilities
