"""The notebook 10 checkers accept correct answers and reject the usual mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from softmax_lab.exercises.scale import (
    _reference_gradient,
    check_merge_states,
    check_shard_gradient,
    check_shard_partials,
)
from softmax_lab.scale import merge_states
from tests.conftest import fails, fails_only, forgets_return, none_reported, says, stub, unfinished

# --- Exercise 10.1 ----------------------------------------------------------------------


def _library_merge(m_a, d_a, m_b, d_b):
    return merge_states((m_a, d_a), (m_b, d_b))


def _by_hand_merge(m_a, d_a, m_b, d_b):
    """An independent correct answer, plain Python floats."""
    m = max(m_a, m_b)
    if m == -math.inf:
        return m, 0.0
    return m, d_a * math.exp(m_a - m) + d_b * math.exp(m_b - m)


def _by_torch_merge(m_a, d_a, m_b, d_b):
    """Through torch.logaddexp of the two logsumexps, which handles -inf itself."""
    with np.errstate(divide="ignore"):
        lse = torch.logaddexp(
            torch.tensor(float(m_a + np.log(d_a)), dtype=torch.float64),
            torch.tensor(float(m_b + np.log(d_b)), dtype=torch.float64),
        )
    m = max(m_a, m_b)
    return m, (0.0 if m == -math.inf else math.exp(lse.item() - m))


def _no_rescale(m_a, d_a, m_b, d_b):
    return max(m_a, m_b), d_a + d_b


def _rescale_wrong_way(m_a, d_a, m_b, d_b):
    m = max(m_a, m_b)
    return m, d_a * math.exp(m - m_a) + d_b * math.exp(m - m_b)


def _nan_for_empty(m_a, d_a, m_b, d_b):
    m = np.maximum(m_a, m_b)
    return m, d_a * np.exp(m_a - m) + d_b * np.exp(m_b - m)


def _unshifted(m_a, d_a, m_b, d_b):
    """Goes back to raw exponentials: overflows for maxima around 1000."""
    total = d_a * np.exp(m_a) + d_b * np.exp(m_b)
    m = max(m_a, m_b)
    return m, total / np.exp(m)


def _sum_only(m_a, d_a, m_b, d_b):
    return d_a + d_b


def _whole_arrays(m_a, d_a, m_b, d_b):
    """Returns arrays, not two numbers (the checker used to crash on these)."""
    return np.full(3, max(m_a, m_b)), np.full(3, d_a + d_b)


def _drops_a_tie(m_a, d_a, m_b, d_b):
    """Two strict comparisons: equal maxima fall through and d_b is lost."""
    if m_a > m_b:
        return m_a, d_a + d_b * math.exp(m_b - m_a)
    if m_b > m_a:
        return m_b, d_b + d_a * math.exp(m_a - m_b)
    return m_a, d_a


@pytest.mark.parametrize("reference", [_library_merge, _by_hand_merge, _by_torch_merge])
def test_merge_states_accepts_references(reference):
    report = check_merge_states(reference)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_no_rescale, "rescale each sum by exp(m_old - m_new) first"),
        (_rescale_wrong_way, "the rescaling goes the wrong way"),
        (_nan_for_empty, "got NaN"),
        (_unshifted, "without overflow"),
        (_sum_only, "returns a pair (max, sum)"),
        (_whole_arrays, "got arrays of shapes (3,) and (3,): return two numbers"),
        (_drops_a_tie, "with equal maxima (a tie) both sums count in full"),
    ],
)
def test_merge_states_rejects_known_mistakes(wrong, feedback):
    report = check_merge_states(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


def test_a_dropped_tie_fails_only_the_tie_check():
    assert fails_only(check_merge_states(_drops_a_tie), "merges two chunks with the same max")


def test_merge_states_reports_stub_and_missing_return():
    assert unfinished(check_merge_states(stub))
    assert none_reported(check_merge_states(forgets_return))


# --- Exercise 10.2 ----------------------------------------------------------------------


def _partials(shard, start, target, global_max):
    """A correct answer written with a one-hot over the shard's columns."""
    columns = start + np.arange(shard.shape[-1])
    one_hot = columns == np.asarray(target)[:, None]
    return np.exp(shard - global_max[:, None]).sum(-1), (shard * one_hot).sum(-1)


def _partials_by_torch(shard, start, target, global_max):
    s = torch.from_numpy(shard)
    local_sum = torch.exp(s - torch.from_numpy(global_max)[:, None]).sum(-1)
    t = torch.from_numpy(np.asarray(target)) - start
    owns = (t >= 0) & (t < s.shape[-1])
    picked = s.gather(1, t.clamp(0, s.shape[-1] - 1)[:, None])[:, 0]
    return local_sum.numpy(), torch.where(owns, picked, 0.0).numpy()


def _partials_by_loop(shard, start, target, global_max):
    """Row by row, plain Python control flow."""
    local_sum, target_logit = np.zeros(len(shard)), np.zeros(len(shard))
    for row, label in enumerate(target):
        local_sum[row] = np.exp(shard[row] - global_max[row]).sum()
        if start <= label < start + shard.shape[1]:
            target_logit[row] = shard[row, label - start]
    return local_sum, target_logit


def _local_max(shard, start, target, global_max):
    _, target_logit = _partials(shard, start, target, global_max)
    return np.exp(shard - shard.max(-1, keepdims=True)).sum(-1), target_logit


def _no_offset(shard, start, target, global_max):
    local_sum, _ = _partials(shard, start, target, global_max)
    owns = (target >= start) & (target < start + shard.shape[-1])
    picked = shard[np.arange(len(shard)), np.clip(target, 0, shard.shape[-1] - 1)]
    return local_sum, np.where(owns, picked, 0.0)


def _every_shard_answers(shard, start, target, global_max):
    local_sum, _ = _partials(shard, start, target, global_max)
    index = np.clip(target - start, 0, shard.shape[-1] - 1)
    return local_sum, shard[np.arange(len(shard)), index]


def _boundary_twice(shard, start, target, global_max):
    """``<=`` at the end of the shard: class start + width is claimed by two shards."""
    local_sum, _ = _partials(shard, start, target, global_max)
    owns = (target >= start) & (target <= start + shard.shape[-1])
    index = np.clip(target - start, 0, shard.shape[-1] - 1)
    return local_sum, np.where(owns, shard[np.arange(len(shard)), index], 0.0)


def _no_shift(shard, start, target, global_max):
    _, target_logit = _partials(shard, start, target, global_max)
    return np.exp(shard).sum(-1) * np.exp(-global_max), target_logit


def _unshifted_sum(shard, start, target, global_max):
    _, target_logit = _partials(shard, start, target, global_max)
    return np.exp(shard).sum(-1), target_logit


def _summed_over_rows(shard, start, target, global_max):
    local_sum, target_logit = _partials(shard, start, target, global_max)
    return local_sum.sum(), target_logit


def _lists(shard, start, target, global_max):
    local_sum, target_logit = _partials(shard, start, target, global_max)
    return local_sum.tolist(), target_logit.tolist()


def _shifts_in_place(shard, start, target, global_max):
    _, target_logit = _partials(shard, start, target, global_max)
    shard -= global_max[:, None]
    return np.exp(shard).sum(-1), target_logit


def _shifted_target(shard, start, target, global_max):
    local_sum, target_logit = _partials(shard, start, target, global_max)
    owns = (target >= start) & (target < start + shard.shape[-1])
    return local_sum, np.where(owns, target_logit - global_max, 0.0)


def _partials_by_logsumexp(shard, start, target, global_max):
    """The reviewer's correct answer: take_along_axis and scipy's logsumexp."""
    from scipy.special import logsumexp

    local = target - start
    owns = (local >= 0) & (local < shard.shape[1])
    picked = np.take_along_axis(shard, np.where(owns, local, 0)[:, None], axis=1)[:, 0]
    return np.exp(logsumexp(shard, axis=1) - global_max), picked * owns


def _max_not_a_column(shard, start, target, global_max):
    """shard - global_max without [:, None]: (6, 5) against (6,) does not broadcast."""
    _, target_logit = _partials(shard, start, target, global_max)
    return np.exp(shard - global_max).sum(-1), target_logit


def _start_excluded(shard, start, target, global_max):
    local_sum, _ = _partials(shard, start, target, global_max)
    owns = (target > start) & (target < start + shard.shape[-1])
    index = np.clip(target - start, 0, shard.shape[-1] - 1)
    return local_sum, np.where(owns, shard[np.arange(len(shard)), index], 0.0)


def _minus_inf_elsewhere(shard, start, target, global_max):
    local_sum, target_logit = _partials(shard, start, target, global_max)
    owns = (target >= start) & (target < start + shard.shape[-1])
    return local_sum, np.where(owns, target_logit, -np.inf)


def _log_of_the_sum(shard, start, target, global_max):
    local_sum, target_logit = _partials(shard, start, target, global_max)
    return np.log(local_sum), target_logit


@pytest.mark.parametrize(
    "reference", [_partials, _partials_by_torch, _partials_by_loop, _partials_by_logsumexp]
)
def test_shard_partials_accepts_references(reference):
    report = check_shard_partials(reference)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_local_max, "shard 0 (classes 0..4)"),
        (_local_max, "subtract the global max, not the shard's own max"),
        (_unshifted_sum, "subtract global_max before exponentiating"),
        (_no_shift, "the local sums overflow"),
        (_no_offset, "shard 1 (classes 5..8)"),
        (_no_offset, "index the shard with target - start"),
        (_every_shard_answers, "must contribute 0"),
        (_boundary_twice, "shard 0 (classes 0..4)"),
        (_boundary_twice, "a target on a shard boundary was claimed twice"),
        (_shifted_target, "returned the target logit minus global_max"),
        (_summed_over_rows, "one value per row"),
        (_lists, "returned a list; return a NumPy array"),
        (_shifts_in_place, "modified its input shard in place"),
        (_max_not_a_column, "your function raised ValueError"),
        (_max_not_a_column, "make it a column: shard - global_max[:, None]"),
        (_start_excluded, "a shard owns its first class too: start <= target"),
        (_minus_inf_elsewhere, "contributes 0, not -inf"),
        (_log_of_the_sum, "return the sum itself, not its log"),
    ],
)
def test_shard_partials_rejects_known_mistakes(wrong, feedback):
    report = check_shard_partials(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


@pytest.mark.parametrize("wrong", [_no_offset, _every_shard_answers, _boundary_twice, _local_max])
def test_shard_partials_says_overflow_only_when_it_overflows(wrong):
    """These subtract the global max: telling them to subtract it would mislead."""
    report = check_shard_partials(wrong)
    assert not says(report, "overflow:") and not says(report, "subtract global_max before")


def test_shard_partials_names_an_error_not_the_return_value():
    """A function that raises gets the error's diagnosis, not "return a pair"."""
    report = check_shard_partials(_max_not_a_column)
    assert not says(report, "return a pair"), str(report)


def test_shard_partials_reports_stub_and_missing_return():
    assert unfinished(check_shard_partials(stub))
    report = check_shard_partials(forgets_return)
    assert not report.unfinished and says(report, "returned None - missing `return`?")


# --- Exercise 10.3 ----------------------------------------------------------------------


def test_the_checker_reference_is_torch_autograd():
    rng = np.random.default_rng(3)
    logits, target = rng.normal(size=(5, 7)) * 3, np.array([0, -100, 6, 3, -100])
    x = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(x, torch.tensor(target)).backward()
    assert np.abs(_reference_gradient(logits, target) - x.grad.numpy()).max() < 1e-15


def _gradient(shard, start, target, global_max, global_sum, *, one_hot="owned", local=False,
              divide="counted", zero_padding=True):  # fmt: skip
    counted = target != -100
    if local:
        e = np.exp(shard - shard.max(axis=1, keepdims=True))
        grad = e / e.sum(axis=1, keepdims=True)
    else:
        grad = np.exp(shard - global_max[:, None]) / global_sum[:, None]
    owns = counted & (target >= start) & (target < start + shard.shape[1])
    rows = np.flatnonzero(owns)
    if one_hot == "owned":
        grad[rows, target[owns] - start] -= 1.0
    elif one_hot == "no offset":
        grad[rows, np.clip(target[owns], 0, shard.shape[1] - 1)] -= 1.0
    elif one_hot == "every shard":
        every = np.flatnonzero(counted)
        grad[every, np.clip(target[counted] - start, 0, shard.shape[1] - 1)] -= 1.0
    if zero_padding:
        grad = grad * counted[:, None]
    n = {"counted": counted.sum(), "batch": len(target), "none": 1}[divide]
    return grad / n


def _gradient_by_loop(shard, start, target, global_max, global_sum):
    """Row by row, with an explicit one-hot row."""
    counted = [label != -100 for label in target]
    grad = np.zeros_like(shard)
    for row, label in enumerate(target):
        if not counted[row]:
            continue
        one_hot = np.zeros(shard.shape[1])
        if start <= label < start + shard.shape[1]:
            one_hot[label - start] = 1.0
        grad[row] = np.exp(shard[row] - global_max[row]) / global_sum[row] - one_hot
    return grad / sum(counted)


def _gradient_by_torch(shard, start, target, global_max, global_sum):
    """torch: softmax from the global statistics, one-hot by scatter."""
    s, t = torch.from_numpy(shard), torch.from_numpy(target)
    p = torch.exp(s - torch.from_numpy(global_max)[:, None]) / torch.from_numpy(global_sum)[:, None]
    owns = (t >= start) & (t < start + s.shape[1])
    one_hot = torch.zeros_like(s).scatter(1, (t - start).clamp(0, s.shape[1] - 1)[:, None], 1.0)
    counted = (t != -100).to(s.dtype)[:, None]
    return ((p - one_hot * owns[:, None]) * counted / counted.sum()).numpy()


def _overflows(shard, start, target, global_max, global_sum):
    grad = _gradient(shard, start, target, global_max, global_sum)
    p = np.exp(shard - global_max[:, None]) / global_sum[:, None]
    counted = (target != -100)[:, None]
    return (
        grad
        - p * counted / counted.sum()
        + np.exp(shard) / (global_sum * np.exp(global_max))[:, None] * counted / counted.sum()
    )


def _in_place(shard, start, target, global_max, global_sum):
    shard -= global_max[:, None]
    return _gradient(shard, start, target, np.zeros_like(global_max), global_sum)


def _as_list(*args):
    return _gradient(*args).tolist()


def _gradient_max_not_a_column(shard, start, target, global_max, global_sum):
    """The softmax without [:, None]: (6, V_r) against (6,) does not broadcast."""
    counted = target != -100
    grad = np.exp(shard - global_max) / global_sum
    owns = counted & (target >= start) & (target < start + shard.shape[1])
    grad[np.flatnonzero(owns), target[owns] - start] -= 1.0
    return grad * counted[:, None] / counted.sum()


def _as_tensor(*args):
    return torch.from_numpy(_gradient(*args))


@pytest.mark.parametrize("reference", [_gradient, _gradient_by_loop, _gradient_by_torch])
def test_shard_gradient_accepts_references(reference):
    report = check_shard_gradient(reference)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("options", "feedback"),
    [
        ({"one_hot": "none"}, "the gradient is softmax - one-hot"),
        ({"one_hot": "no offset"}, "subtract 1 at column target - start"),
        ({"one_hot": "every shard"}, "only the shard that owns the target subtracts 1"),
        ({"local": True}, "use global_max and global_sum"),
        ({"divide": "batch"}, "divide by the 5 counted rows, not the batch of 6"),
        ({"divide": "none"}, "the loss is the mean over the 5 counted rows: divide by 5"),
        ({"zero_padding": False}, "rows whose target is -100 count for nothing"),
    ],
)
def test_shard_gradient_names_the_mistake(options, feedback):
    report = check_shard_gradient(lambda *args: _gradient(*args, **options))
    assert not report.passed
    assert says(report, feedback), str(report)


def test_shard_gradient_large_logit_check_shows_the_wrong_shard():
    report = check_shard_gradient(lambda *args: _gradient(*args, one_hot="no offset"))
    assert says(report, "logits around 1000 give the same gradient (no overflow) (shard 1"), report


def test_shard_gradient_names_the_wrong_shard_and_the_padding_row():
    report = check_shard_gradient(lambda *args: _gradient(*args, one_hot="no offset"))
    assert says(report, "shard 1 (classes 5..8)")  # shard 0's offset is 0: it is right
    report = check_shard_gradient(lambda *args: _gradient(*args, zero_padding=False))
    assert fails(report, "rows whose target is -100 (padding) get a zero gradient")


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_overflows, "exponentiate shard - global_max, never a raw logit"),
        (_in_place, "modified its input shard in place"),
        (_as_list, "returned a list; return a NumPy array"),
        (_as_tensor, "returned a torch.Tensor"),
        (_gradient_max_not_a_column, "make it a column: shard - global_max[:, None]"),
    ],
)
def test_shard_gradient_rejects_other_mistakes(wrong, feedback):
    report = check_shard_gradient(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


def test_shard_gradient_reports_stub_and_missing_return():
    assert unfinished(check_shard_gradient(stub))
    assert none_reported(check_shard_gradient(forgets_return))
