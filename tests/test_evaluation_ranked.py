"""The ranked-list measures of tastebot.evaluation (issue 26: evaluation functions live there), as
the recommend benchmark scores the product and its peers with them."""

from __future__ import annotations

import math

import pytest

from tastebot.evaluation import precision_at_k, roc_auc_of_order


def test_precision_at_k_counts_hits_in_the_first_k():
    order = ["a", "b", "c", "d", "e"]
    assert precision_at_k(order, {"a", "c", "z"}, 2) == 0.5
    assert precision_at_k(order, {"a", "c", "z"}, 5) == 0.4
    assert precision_at_k(order, set(), 3) == 0.0


def test_precision_at_k_counts_a_short_list_s_missing_places_as_misses():
    assert precision_at_k(["a", "b"], {"a", "b"}, 4) == 0.5
    with pytest.raises(ValueError):
        precision_at_k(["a"], {"a"}, 0)


def test_roc_auc_of_order_reads_the_first_as_the_highest():
    labels = {"a": 1, "b": 1, "c": 0, "d": 0}
    assert roc_auc_of_order(["a", "b", "c", "d"], labels) == 1.0
    assert roc_auc_of_order(["d", "c", "b", "a"], labels) == 0.0
    assert roc_auc_of_order(["a", "c", "b", "d"], labels) == 0.75


def test_roc_auc_of_order_ranks_missing_tracks_last_and_tied():
    # b (a like) is left out: it ranks below a, tied with the left-out c: 0 + 0.5 over 2 pairs
    assert roc_auc_of_order(["a", "x"], {"a": 0, "b": 1, "c": 0}) == 0.25
    assert math.isnan(roc_auc_of_order(["a"], {"a": 1, "b": 1}))
