r"""Softmax at scale on a real distributed engine: ``torch.distributed`` ranks.

Notebook 10 first simulates ranks with Python lists; this module runs the same ideas as
separate processes that talk only through collectives of a ``torch.distributed`` process
group:

* :class:`VocabParallelCrossEntropy` / :func:`distributed_cross_entropy` - Megatron-LM's
  vocabulary-parallel loss as a ``torch.autograd.Function``. Each rank holds the logits of
  its own slice of the vocabulary. Forward does three all-reduces (max, sum of
  exponentials, target logit); backward is softmax minus one-hot on the rank's own columns
  and needs no communication at all.
* :func:`sharded_attention` - attention with the keys and values split across ranks: each
  rank computes its partial ``(max, sum, output)`` state; the states are merged with two
  all-reduces (the merge rule of :func:`softmax_lab.scale.merge_states`), the core of ring
  attention and Flash-Decoding.
* :func:`launch` - start ``world_size`` processes with ``torch.multiprocessing`` (spawn),
  run a worker on each and bring the results back to the launcher, in rank order. A rank
  that raises ends the launch with a :class:`RankError` naming the rank and its error; no
  process is left behind (groups destroyed, children joined with a timeout, stragglers
  terminated).
* :func:`parallel_cross_entropy`, :func:`parallel_attention` - the launcher-side calls the
  notebook uses: split, launch :func:`cross_entropy_worker` / :func:`attention_worker`,
  gather.

The backend follows the device: ``gloo`` on the CPU, ``nccl`` when there is one CUDA GPU
per rank; nothing else changes. Only gloo on the CPU has run in this project (the NCCL path
is untested here). On several machines the same two functions run under ``torchrun``,
which sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` for every
process::

    # on each of 2 machines with 8 GPUs (HOST is the first machine's address)
    torchrun --nnodes=2 --nproc-per-node=8 --rdzv-backend=c10d \
        --rdzv-endpoint=HOST:29500 train.py

    # train.py
    import torch, torch.distributed as dist
    from softmax_lab.distributed import distributed_cross_entropy, vocab_range
    dist.init_process_group("nccl")
    torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    start, vocab = vocab_range(local_logits)   # local_logits: (batch, V_r) on this GPU
    loss = distributed_cross_entropy(local_logits, target, vocab_start=start)
    loss.backward()

Workers live here, in an importable module, because spawned processes import the
function they run; a function defined in a notebook cannot be spawned.
"""

from __future__ import annotations

import datetime
import os
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    as_indices,
    as_real_array,
    check_count,
    check_positive_int,
    check_real,
    check_reduction,
    check_scale,
)

__all__ = [
    "RankError",
    "VocabParallelCrossEntropy",
    "attention_worker",
    "cross_entropy_worker",
    "distributed_cross_entropy",
    "free_port",
    "launch",
    "parallel_attention",
    "parallel_cross_entropy",
    "sharded_attention",
    "vocab_range",
]


class RankError(RuntimeError):
    """A rank of a :func:`launch` raised (or died); the message names the rank and its error."""


# --- inside a rank ----------------------------------------------------------------------


def vocab_range(local_logits: torch.Tensor, group: Any = None) -> tuple[int, int]:
    """This rank's first vocabulary index and the whole vocabulary's size.

    Every rank sends its ``(batch, V_r)`` shape to every other rank (one small all-gather,
    done once, not per step), so the ranks can check that they agree before the loss's
    collectives run: a mismatch would otherwise hang or fail deep inside the backend.

    Parameters
    ----------
    local_logits : torch.Tensor, shape (batch, V_r)
        This rank's logits: vocabulary entries ``start .. start + V_r - 1``.
    group : ProcessGroup, optional
        The group (default: the whole world).

    Returns
    -------
    (start, vocab) : tuple of int

    Raises
    ------
    ValueError
        ``local_logits`` is not 2-D, the ranks disagree on the batch size, or a rank holds
        no column (a world larger than the vocabulary).
    """
    if not isinstance(local_logits, torch.Tensor) or local_logits.ndim != 2:
        raise ValueError(
            "local_logits must be a 2-D tensor (batch, this rank's vocabulary slice); got "
            f"{_describe(local_logits)}"
        )
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    mine = torch.tensor(local_logits.shape, dtype=torch.int64, device=local_logits.device)
    shapes = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(shapes, mine, group=group)
    batches = [int(s[0]) for s in shapes]
    widths = [int(s[1]) for s in shapes]
    if len(set(batches)) != 1:
        raise ValueError(
            "the ranks disagree on the batch size of local_logits: "
            + ", ".join(f"rank {r} has {b} rows" for r, b in enumerate(batches))
        )
    if 0 in widths:
        raise ValueError(
            f"rank {widths.index(0)} holds no vocabulary column (widths {widths}): the world "
            f"size {world} is larger than the vocabulary of {sum(widths)} entries"
        )
    return sum(widths[:rank]), sum(widths)


class VocabParallelCrossEntropy(torch.autograd.Function):
    r"""Cross-entropy over a vocabulary split across the ranks of a process group.

    ``forward(ctx, local_logits, target, vocab_start, ignore_index, reduction, group)``;
    call it through :func:`distributed_cross_entropy`. Three all-reduces, each one number
    per row: the maximum :math:`m`, the sum :math:`S = \sum_j e^{z_j - m}` and the target's
    shifted logit :math:`z_y - m` (0 from the ranks that do not own :math:`y`). The loss
    of a row is :math:`\log S - (z_y - m)`.

    Backward needs no communication: with the global :math:`m` and :math:`S` saved, each
    rank forms :math:`\mathrm{softmax}(z) - \text{one-hot}(y)` on its own columns, scaled
    by the incoming gradient (and by one over the counted rows for ``"mean"``). Rows whose
    target is ``ignore_index`` add nothing and get a zero gradient, as in
    ``torch.nn.functional.cross_entropy``.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        local_logits: torch.Tensor,
        target: torch.Tensor,
        vocab_start: int,
        ignore_index: int,
        reduction: str,
        group: Any,
    ) -> torch.Tensor:
        """The loss, from three all-reduces of one number per row (see the class)."""
        width = local_logits.shape[-1]
        logits = local_logits.detach()
        global_max = logits.max(dim=-1).values
        dist.all_reduce(global_max, op=dist.ReduceOp.MAX, group=group)  # 1: the max
        exp = torch.exp(logits - global_max[:, None])
        total = exp.sum(dim=-1)
        dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)  # 2: the normaliser
        counted = target != ignore_index
        owns = counted & (target >= vocab_start) & (target < vocab_start + width)
        column = torch.where(owns, target - vocab_start, 0)
        picked = (logits.gather(-1, column[:, None])[:, 0] - global_max) * owns
        dist.all_reduce(picked, op=dist.ReduceOp.SUM, group=group)  # 3: z_y - m
        per_row = torch.where(counted, torch.log(total) - picked, 0.0)
        ctx.save_for_backward(exp, total, owns, column, counted)
        ctx.reduction = reduction
        if reduction == "none":
            return per_row
        if reduction == "sum":
            return per_row.sum()
        return per_row.sum() / counted.sum()  # 0 / 0 = NaN when every row is ignored, as torch

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        """Softmax minus one-hot on this rank's columns, scaled; no communication."""
        exp, total, owns, column, counted = ctx.saved_tensors
        grad = exp / total[:, None]  # softmax on this rank's columns, global m and S
        rows = torch.arange(len(grad), device=grad.device)
        grad[rows[owns], column[owns]] -= 1.0  # minus one-hot, only where this rank owns y
        grad = grad * counted[:, None]
        if ctx.reduction == "none":
            grad = grad * grad_output[:, None]
        elif ctx.reduction == "sum":
            grad = grad * grad_output
        else:
            grad = grad * (grad_output / counted.sum())
        return grad, None, None, None, None, None


def distributed_cross_entropy(
    local_logits: torch.Tensor,
    target: torch.Tensor,
    *,
    vocab_start: int,
    ignore_index: int = -100,
    reduction: str = "mean",
    group: Any = None,
) -> torch.Tensor:
    """Vocabulary-parallel cross-entropy, differentiable, on this rank's slice of the logits.

    Every rank of ``group`` calls it with its own ``local_logits`` and the same ``target``;
    each gets the same loss, and ``loss.backward()`` fills only its own columns' gradient.

    Parameters
    ----------
    local_logits : torch.Tensor, shape (batch, V_r)
        Logits of vocabulary entries ``vocab_start .. vocab_start + V_r - 1``.
    target : torch.Tensor of int, shape (batch,)
        Class indices over the whole vocabulary, or ``ignore_index`` (padding).
    vocab_start : int
        The first vocabulary index this rank holds (:func:`vocab_range` computes it).
    ignore_index : int, optional
        Target value whose rows count for nothing (default -100, as torch).
    reduction : {"mean", "sum", "none"}, optional
        As ``torch.nn.functional.cross_entropy``: ``"mean"`` averages over counted rows.
    group : ProcessGroup, optional
        Default: the whole world.

    Returns
    -------
    torch.Tensor
        The loss, equal to ``F.cross_entropy`` on the full logits.
    """
    check_reduction(reduction)
    for name, value in (("local_logits", local_logits), ("target", target)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {_describe(value)}")
    vocab_start = check_count(vocab_start, "vocab_start")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"ignore_index must be an int; got {ignore_index!r}")
    if local_logits.ndim != 2 or target.shape != local_logits.shape[:1]:
        raise ValueError(
            f"local_logits must be (batch, V_r) and target (batch,); got shapes "
            f"{tuple(local_logits.shape)} and {tuple(target.shape)}"
        )
    return VocabParallelCrossEntropy.apply(
        local_logits, target, int(vocab_start), int(ignore_index), reduction, group
    )


def sharded_attention(
    query: torch.Tensor,
    key_shard: torch.Tensor,
    value_shard: torch.Tensor,
    *,
    scale: float | None = None,
    group: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Attention over keys and values split across ranks, merged with two all-reduces.

    Each rank scores the (same) queries against its own keys and keeps the partial state
    ``(m_r, l_r, o_r)``: row maximum, sum of :math:`e^{s - m_r}` and unnormalised output.
    An all-reduce **max** gives :math:`M = \max_r m_r`; each rank rescales its ``l_r`` and
    ``o_r`` by :math:`e^{m_r - M}` and an all-reduce **sum** adds them up. The output is
    :math:`\sum_r o_r e^{m_r - M} / \sum_r l_r e^{m_r - M}` on every rank. A rank may hold
    no key at all (its state is :math:`(-\infty, 0, 0)`, the merge's identity).

    Parameters
    ----------
    query : torch.Tensor, shape (n_q, d)
    key_shard, value_shard : torch.Tensor, shapes (n_r, d) and (n_r, d_v)
    scale : float, optional
        Default ``1 / sqrt(d)``, as ``F.scaled_dot_product_attention``.
    group : ProcessGroup, optional

    Returns
    -------
    (output, logsumexp) : torch.Tensor, shapes (n_q, d_v) and (n_q,)
    """
    for name, value in (("query", query), ("key_shard", key_shard), ("value_shard", value_shard)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {_describe(value)}")
    scale = check_scale(scale)
    if scale is None:
        scale = query.shape[-1] ** -0.5
    scores = query @ key_shard.T * scale  # (n_q, n_r): this rank's keys only
    local_max = torch.full(scores.shape[:1], -torch.inf, dtype=scores.dtype, device=scores.device)
    if scores.shape[-1]:
        local_max = scores.max(dim=-1).values
    safe_max = torch.where(torch.isinf(local_max), 0.0, local_max)  # no key: e^(-inf - 0) = 0
    p = torch.exp(scores - safe_max[:, None])
    local_sum, local_out = p.sum(dim=-1), p @ value_shard  # the partial state (m_r, l_r, o_r)
    global_max = local_max.clone()
    dist.all_reduce(global_max, op=dist.ReduceOp.MAX, group=group)  # M = max_r m_r
    factor = torch.where(torch.isinf(local_max), 0.0, torch.exp(local_max - global_max))
    state = torch.cat([(local_sum * factor)[:, None], local_out * factor[:, None]], dim=-1)
    dist.all_reduce(state, op=dist.ReduceOp.SUM, group=group)  # sum_r e^(m_r - M) (l_r, o_r)
    total, output = state[:, 0], state[:, 1:]
    return output / total[:, None], global_max + torch.log(total)


# --- workers: what each spawned process runs ------------------------------------------


def _device(backend: str, rank: int) -> torch.device:
    if backend == "nccl":
        torch.cuda.set_device(rank)
        return torch.device("cuda", rank)
    return torch.device("cpu")


def cross_entropy_worker(
    rank: int,
    world_size: int,
    backend: str,
    shards: Sequence[NDArray],
    target: NDArray,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> dict[str, Any]:
    """One rank of :func:`parallel_cross_entropy`: loss and gradient of ``shards[rank]``.

    Returns ``{"loss", "grad", "start"}`` (NumPy), for the launcher to gather.
    """
    device = _device(backend, rank)
    local = torch.as_tensor(np.asarray(shards[rank])).to(device).requires_grad_(True)
    labels = torch.as_tensor(np.asarray(target), dtype=torch.int64).to(device)
    start, vocab = vocab_range(local)
    counted = labels != ignore_index
    if bool(((labels[counted] < 0) | (labels[counted] >= vocab)).any()):
        raise ValueError(f"target must hold class indices in 0..{vocab - 1} or ignore_index")
    loss = distributed_cross_entropy(
        local, labels, vocab_start=start, ignore_index=ignore_index, reduction=reduction
    )
    loss.backward(torch.ones_like(loss))
    return {
        "loss": loss.detach().cpu().numpy(),
        "grad": local.grad.cpu().numpy(),
        "start": start,
    }


def attention_worker(
    rank: int,
    world_size: int,
    backend: str,
    query: NDArray,
    key_shards: Sequence[NDArray],
    value_shards: Sequence[NDArray],
) -> dict[str, Any]:
    """One rank of :func:`parallel_attention`: its keys, its partial state, the merged output."""
    device = _device(backend, rank)
    q = torch.as_tensor(np.asarray(query)).to(device)
    k = torch.as_tensor(np.asarray(key_shards[rank])).to(device)
    v = torch.as_tensor(np.asarray(value_shards[rank])).to(device)
    output, lse = sharded_attention(q, k, v)
    return {"output": output.cpu().numpy(), "logsumexp": lse.cpu().numpy(), "keys": len(k)}


def _run_rank(
    rank: int,
    world_size: int,
    port: int,
    backend: str,
    timeout: float,
    worker: Callable[..., Any],
    args: tuple[Any, ...],
    results: Any,
) -> None:
    """The body of each spawned process: join the group, run the worker, report, leave."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"
    )
    torch.set_num_threads(1)
    try:
        dist.init_process_group(
            backend,
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=timeout),
        )
        result = worker(rank, world_size, backend, *args)
        results.put((rank, True, result))
    except BaseException as error:  # report everything to the launcher, then leave
        results.put((rank, False, f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


# --- the launcher ------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for ``MASTER_PORT``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _default_backend(world_size: int) -> str:
    return "nccl" if torch.cuda.device_count() >= world_size else "gloo"


def launch(
    worker: Callable[..., Any],
    world_size: int,
    *args: Any,
    backend: str | None = None,
    timeout: float = 60.0,
) -> list[Any]:
    """Run ``worker(rank, world_size, backend, *args)`` on ``world_size`` spawned processes.

    Each process joins a process group on 127.0.0.1 (a free port), runs the worker, sends
    its result back and destroys the group. The results come back to the launcher in rank
    order, so whatever is printed from them is printed once, deterministically.

    Parameters
    ----------
    worker : callable
        A function importable by name (defined in a module, not in a notebook cell); its
        arguments and result must pickle (NumPy arrays and numbers, not tensors).
    world_size : int
        Number of processes (>= 1).
    *args
        Passed to every rank's worker after ``(rank, world_size, backend)``.
    backend : {"gloo", "nccl"}, optional
        Default: ``"nccl"`` when there is a CUDA GPU per rank, else ``"gloo"`` (CPU).
    timeout : float, optional
        Seconds for the whole launch, also the group's collective timeout (default 60).

    Returns
    -------
    list
        ``[result of rank 0, result of rank 1, ...]``.

    Raises
    ------
    RankError
        A rank raised (the message names the rank and its error), died, or the launch ran
        out of time. The other ranks are stopped and every child is joined before it is
        raised.
    """
    world_size = check_positive_int(world_size, "world_size")
    if not callable(worker) or "<locals>" in getattr(worker, "__qualname__", "<locals>"):
        raise TypeError(
            f"worker must be a module-level function (spawned processes import it); got {worker!r}"
        )
    # seconds as any real number (np.float32(30.0) too); a bool or a string is a TypeError
    timeout = check_real(timeout, "timeout (seconds)", low=0.0, low_open=True)
    backend = backend or _default_backend(world_size)
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    port = free_port()
    processes = [
        context.Process(
            target=_run_rank,
            args=(rank, world_size, port, backend, timeout, worker, args, results),
            daemon=True,
        )
        for rank in range(world_size)
    ]
    collected: dict[int, Any] = {}
    failure: str | None = None
    try:
        for process in processes:
            process.start()
        deadline = time.monotonic() + timeout
        while len(collected) < world_size and failure is None:
            while not results.empty():
                rank, ok, payload = results.get()
                if ok:
                    collected[rank] = payload
                elif failure is None:
                    failure = f"rank {rank} of {world_size} raised {payload.strip()}"
            if failure is not None or len(collected) == world_size:
                break
            dead = [
                r
                for r, p in enumerate(processes)
                if p.exitcode not in (None, 0) and r not in collected
            ]
            if dead and results.empty():
                failure = f"rank {dead[0]} of {world_size} died (exit code {processes[dead[0]].exitcode}) without a result"
            elif time.monotonic() > deadline:
                missing = sorted(set(range(world_size)) - set(collected))
                failure = f"ranks {missing} of {world_size} gave no result within {timeout:g} s"
            else:
                time.sleep(0.02)
    finally:
        # after a failure, the other ranks may wait in a collective: stop them soon
        _stop(processes, grace=10.0 if failure is None else 1.0)
        results.close()
    if failure is not None:
        raise RankError(failure)
    return [collected[rank] for rank in range(world_size)]


def _stop(processes: list[Any], grace: float = 10.0) -> None:
    """Join every child; terminate, then kill, those that do not end within ``grace`` s."""
    deadline = time.monotonic() + grace
    for process in processes:
        if process.pid is not None:
            process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.terminate()
            process.join(5.0)
        if process.is_alive():
            process.kill()
            process.join(5.0)


def parallel_cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    world_size: int,
    *,
    widths: Sequence[int] | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    backend: str | None = None,
    timeout: float = 60.0,
) -> tuple[NDArray, NDArray]:
    """Split ``logits`` by vocabulary over ``world_size`` processes; loss and its gradient.

    Each rank gets a contiguous slice of the columns (``widths``, default as
    ``numpy.array_split``: widths differ by at most one) and runs
    :func:`cross_entropy_worker`: three all-reduces forward, no communication backward.

    Returns
    -------
    (loss, grad) : ndarray
        The loss (as ``F.cross_entropy(..., reduction=reduction)``) and the gradient of its
        sum with respect to all logits, the ranks' slices put side by side.

    Raises
    ------
    ValueError
        ``world_size`` larger than the vocabulary, ``widths`` that do not add up to it, or
        ``logits`` not 2-D / ``target`` not of its batch size.
    RankError
        A rank failed (see :func:`launch`).

    Examples
    --------
    >>> logits = np.array([[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
    >>> loss, grad = parallel_cross_entropy(logits, np.array([0, 3]), 2)  # 2 processes
    >>> round(float(loss), 4)  # (log(e^2 + e + 1 + 1/e) - 2 + log 4) / 2
    0.9132
    >>> grad.round(3)  # (softmax - one-hot) / 2, each rank's two columns side by side
    array([[-0.178,  0.118,  0.044,  0.016],
           [ 0.125,  0.125,  0.125, -0.375]])
    """
    check_reduction(reduction)
    world_size = check_positive_int(world_size, "world_size")
    array, _ = as_real_array(logits, "logits")
    # integers, checked before any process starts (a rank would truncate 1.5 to class 1)
    labels = as_indices(target, "target")
    if array.ndim != 2 or labels.shape != array.shape[:1]:
        raise ValueError(
            f"logits must be (batch, vocab) and target (batch,); got shapes {array.shape} and {labels.shape}"
        )
    vocab = array.shape[1]
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"ignore_index must be an int; got {ignore_index!r}")
    counted = labels[labels != ignore_index]
    if np.any((counted < 0) | (counted >= vocab)):
        raise ValueError(
            f"target must hold class indices in 0..{vocab - 1} or ignore_index={ignore_index}; "
            f"found {counted[(counted < 0) | (counted >= vocab)][0]}"
        )
    if world_size > vocab:
        raise ValueError(
            f"world_size {world_size} is larger than the vocabulary size {vocab}: "
            "every rank needs at least one column"
        )
    if widths is None:
        shards = np.array_split(array, world_size, axis=1)
    else:
        widths = [check_positive_int(width, "each of widths") for width in widths]
        if len(widths) != world_size or sum(widths) != vocab:
            raise ValueError(
                f"widths must be {world_size} column counts adding up to {vocab}; got {list(widths)}"
            )
        shards = np.split(array, np.cumsum(widths)[:-1], axis=1)
    ranks = launch(
        cross_entropy_worker,
        world_size,
        shards,
        labels,
        ignore_index,
        reduction,
        backend=backend,
        timeout=timeout,
    )
    return ranks[0]["loss"], np.concatenate([r["grad"] for r in ranks], axis=1)


def parallel_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    world_size: int,
    *,
    backend: str | None = None,
    timeout: float = 60.0,
) -> tuple[NDArray, list[dict[str, Any]]]:
    """Attention with the keys and values split over ``world_size`` processes.

    Returns the output (from rank 0; every rank holds the same) and each rank's result
    (its output, logsumexp and number of keys).
    """
    world_size = check_positive_int(world_size, "world_size")
    q, k, v = (
        as_real_array(a, name)[0] for a, name in ((query, "query"), (key, "key"), (value, "value"))
    )
    if q.ndim != 2 or k.ndim != 2 or v.ndim != 2 or len(k) != len(v) or q.shape[1] != k.shape[1]:
        raise ValueError(
            f"query (n_q, d), key (n_k, d) and value (n_k, d_v) do not fit: shapes "
            f"{q.shape}, {k.shape}, {v.shape}"
        )
    ranks = launch(
        attention_worker,
        world_size,
        q,
        np.array_split(k, world_size),
        np.array_split(v, world_size),
        backend=backend,
        timeout=timeout,
    )
    return ranks[0]["output"], ranks


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {tuple(shape)}" if shape is not None else repr(value)
