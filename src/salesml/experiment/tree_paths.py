"""Path attribution (Saabas) on a LightGBM booster's own trees: why a row scores as it does.

Along the path a row takes through each tree, every split's change in the node's
expected value is credited to its feature. The contributions plus the bias add up
exactly to the booster's raw output, and cost one leaf lookup per tree
(``pred_leaf``) and a sparse product: about the price of a prediction, where
LightGBM's TreeSHAP (``pred_contrib``) costs some 40 times that. Used by the
classifiers' reasons and the survival hazard model's.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np


def tree_paths(booster: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per leaf of every tree, the change in expected value credited to each feature.

    Returns ``(paths, offsets, values)``: ``paths[offsets[t] + leaf]`` is the
    contribution vector of ``leaf`` of tree ``t`` (one column per model feature) and
    ``values[offsets[t] + leaf]`` its output (log-odds).
    """
    dump = booster.dump_model()
    k = len(dump["feature_names"])
    blocks, outputs, offsets, start = [], [], [], 0
    for tree in dump["tree_info"]:
        leaves = np.zeros((tree["num_leaves"], k))
        values = np.zeros(tree["num_leaves"])
        stack = [(tree["tree_structure"], np.zeros(k))]
        while stack:
            node, path = stack.pop()
            if "leaf_index" in node:
                leaves[node["leaf_index"]] = path
                values[node["leaf_index"]] = node["leaf_value"]
                continue
            if "split_feature" not in node:  # a tree of one leaf
                leaves[0], values[0] = path, node["leaf_value"]
                continue
            for side in ("left_child", "right_child"):
                child = node[side]
                value = child.get("internal_value", child.get("leaf_value"))
                step = path.copy()
                step[node["split_feature"]] += value - node["internal_value"]
                stack.append((child, step))
        blocks.append(leaves)
        outputs.append(values)
        offsets.append(start)
        start += tree["num_leaves"]
    return np.vstack(blocks), np.asarray(offsets, dtype=np.int64), np.concatenate(outputs)


_MERGED: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def merged_paths(owner: Any, paths: np.ndarray, columns: np.ndarray, width: int) -> np.ndarray:
    """``paths`` with the features behind one output column summed: ``columns[f]`` is
    the output column (of ``width``) of model feature ``f``, e.g. the raw column behind
    an encoded one. Made once per ``owner`` (an explainer) and kept beside it, not in
    it: a saved model stays as it was (skops trusts only the types it holds)."""
    merged = _MERGED.get(owner)
    if merged is None or merged.shape != (paths.shape[0], width):
        merged = np.zeros((paths.shape[0], width))
        np.add.at(merged.T, columns, paths.T)
        _MERGED[owner] = merged
    return merged


def leaf_sum(
    leaves: np.ndarray, paths: np.ndarray, offsets: np.ndarray, leaf_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's contributions (its leaves' path vectors summed over the trees) and log-odds.

    Both come from one product of a sparse row-by-leaf indicator matrix with the
    path vectors and the leaf outputs beside them. The indicator holds doubles like the
    vectors (a float32 indicator made scipy convert it on every call: 6x slower),
    and a row's leaf outputs are added tree by tree, in LightGBM's own order, so
    the log-odds equal its raw prediction to the last bit.
    """
    from scipy.sparse import csr_matrix

    n, trees = leaves.shape
    columns = (leaves + offsets.astype(leaves.dtype)).ravel()
    pointers = np.arange(0, n * trees + 1, trees)
    onehot = csr_matrix((_ones(n * trees), columns, pointers), shape=(n, len(paths)))
    # one pass for both: the leaf outputs ride along as a last column, added in the
    # same order (a column of the product sums its row's leaves one after another)
    both = np.asarray(onehot @ np.column_stack([paths, leaf_values]))
    return both[:, :-1], both[:, -1].copy()


@functools.lru_cache(maxsize=2)
def _ones(n: int) -> np.ndarray:
    """``n`` ones, made once per block size (read-only: scipy keeps it as the matrix's data)."""
    ones = np.ones(n)
    ones.flags.writeable = False
    return ones
