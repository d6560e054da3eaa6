"""The notebook 10 checkers accept correct answers and reject the usual mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from softmax_lab.exercises.scale import check_merge_states, check_shard_partials
from softmax_lab.scale import merge_states
from tests.conftest import stub

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
    ],
)
def test_merge_states_rejects_known_mistakes(wrong, feedback):
    report = check_merge_states(wrong)
    assert not report.passed
    assert feedback in str(report)


def test_merge_states_reports_stub_as_unfinished():
    report = check_merge_states(stub)
    assert not report.passed
    assert "not finished yet" in str(report)


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


def _local_max(shard, start, target, global_max):
    local_sum, target_logit = _partials(shard, start, target, global_max)
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


def _no_shift(shard, start, target, global_max):
    _, target_logit = _partials(shard, start, target, global_max)
    with np.errstate(over="ignore"):
        return np.exp(shard).sum(-1) * np.exp(-global_max), target_logit


def _summed_over_rows(shard, start, target, global_max):
    local_sum, target_logit = _partials(shard, start, target, global_max)
    return local_sum.sum(), target_logit


@pytest.mark.parametrize("reference", [_partials, _partials_by_torch])
def test_shard_partials_accepts_references(reference):
    report = check_shard_partials(reference)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_local_max, "subtract the global max, not the shard's own max"),
        (_no_offset, "index with target - start"),
        (_every_shard_answers, "must contribute 0"),
        (_no_shift, "FAIL  logits around 1000 do not overflow"),
        (_summed_over_rows, "one value per row"),
    ],
)
def test_shard_partials_rejects_known_mistakes(wrong, feedback):
    report = check_shard_partials(wrong)
    assert not report.passed
    assert feedback in str(report)


def test_shard_partials_reports_stub_as_unfinished():
    report = check_shard_partials(stub)
    assert not report.passed
    assert "not finished yet" in str(report)
