"""The content part of the hybrid score: audio features and year, standardised (`content_matrix`), and
the distances and Gaussian kernel of the k-nearest-liked-tracks similarity (the scorer's content part,
`HybridScorer._content_scores`, asks them). Pure NumPy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tastebot.vocab import CONTENT_SCALES

CONTENT_COLUMNS = tuple(CONTENT_SCALES)
KERNEL_WIDTH = 1.0


def content_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Standardised content features (rows: tracks, columns: CONTENT_COLUMNS), NaN where unknown."""
    n = len(frame)

    def col(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    out = np.full((n, len(CONTENT_COLUMNS)), np.nan)
    for j, c in enumerate(CONTENT_COLUMNS):
        if c == "duration_s_log":
            v = col("duration_ms")
            v = np.where(v > 0, np.log(np.clip(v, 1, None) / 1000.0), np.nan)
        elif c in ("key_sin", "key_cos"):
            k = col("key")
            k = np.where((k >= 0) & (k <= 11), k, np.nan)
            v = np.sin(2 * np.pi * k / 12) if c == "key_sin" else np.cos(2 * np.pi * k / 12)
        else:
            v = col(c)
        out[:, j] = v / CONTENT_SCALES[c]
    return out


def _kernel(x: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-kernel similarity of each row of x to each row of ref, over the features both have
    (at least 3); and whether each row of x had enough features for any reference."""
    d2, ok = _sq_dist(x, ref)
    return np.exp(-d2 / (2.0 * KERNEL_WIDTH**2)), ok


def _sq_dist(x: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean squared standardised distance over the features both rows have (inf below 3 shared), and
    whether each row of x had enough features for any reference. Rows of x are taken by their pattern
    of known features (few patterns in practice): where the references know all of a pattern's
    features, the distance is one matrix product; rows with under 3 features are left at inf."""
    d2 = np.full((len(x), len(ref)), np.inf, dtype=np.float32)
    known = ~np.isnan(x)
    rows_ok = known.sum(axis=1) >= 3
    ref_known = ~np.isnan(ref)
    # One integer per pattern of known features (14 columns: bits of an int64).
    codes = known[rows_ok].astype(np.int64) @ (np.int64(1) << np.arange(x.shape[1], dtype=np.int64))
    ok_rows = np.flatnonzero(rows_ok)
    for code in np.unique(codes):
        rows = ok_rows[codes == code]
        cols = known[rows[0]]
        if ref_known[:, cols].all():  # the common case: every reference has these features
            d2[rows] = _sq_dist_dense(x[np.ix_(rows, np.flatnonzero(cols))], ref[:, cols])
        else:
            d2[rows] = _sq_dist_masked(x[rows], ref)
    return d2, np.isfinite(d2).any(axis=1) if len(ref) else np.zeros(len(x), dtype=bool)


# Up to this k, the k smallest per row are taken by k passes of argmin (SIMD in NumPy) rather than
# np.partition (introselect per row): 1,024 rows x 1,200 references, k 5: 3 ms against 15 ms.
ARGMIN_UP_TO = 8


def k_smallest(block: np.ndarray, k: int) -> np.ndarray:
    """The k smallest values of each row (in no particular order). Overwrites `block`'s chosen cells
    (callers pass a temporary)."""
    if k > ARGMIN_UP_TO:
        return np.partition(block, k - 1, axis=1)[:, :k]
    rows = np.arange(len(block))
    out = np.empty((len(block), k), dtype=block.dtype)
    for j in range(k):
        at = block.argmin(axis=1)
        out[:, j] = block[rows, at]
        block[rows, at] = np.inf
    return out


def _nearest_sq_dist(x: np.ndarray, ref: np.ndarray, k: int) -> np.ndarray:
    """The k smallest of `_sq_dist(x, ref)` per row (in no order), without the whole distance matrix:
    for rows whose features every reference has, one matrix product of [x, 1] and [-2 ref, |ref|^2]
    gives |ref|^2 - 2 x.ref, which orders the references as the distance does; |x|^2 and the mean
    are added to the k kept alone. (100,000 rows against 1,500 likes: 0.25 s instead of 0.7 s.)"""
    out = np.full((len(x), k), np.inf, dtype=np.float32)
    known = ~np.isnan(x)
    rows_ok = np.flatnonzero(known.sum(axis=1) >= 3)
    ref_known = ~np.isnan(ref)
    codes = known[rows_ok].astype(np.int64) @ (np.int64(1) << np.arange(x.shape[1], dtype=np.int64))
    for code in np.unique(codes):
        rows = rows_ok[codes == code]
        cols = np.flatnonzero(known[rows[0]])
        if not ref_known[:, cols].all():
            out[rows] = k_smallest(_sq_dist_masked(x[rows], ref), k)
            continue
        xs, rs = x[np.ix_(rows, cols)].astype(np.float32), ref[:, cols].astype(np.float32)
        ones = np.ones((len(xs), 1), dtype=np.float32)
        block = np.hstack([xs, ones]) @ np.hstack([-2.0 * rs, (rs * rs).sum(axis=1)[:, None]]).T
        near = k_smallest(block, k)
        near += (xs * xs).sum(axis=1)[:, None]
        out[rows] = np.maximum(near, 0.0) / np.float32(len(cols))
    return out


def _sq_dist_dense(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Mean squared distance of rows without gaps: one matrix product, the rest in place (100,000 x
    1,500 pairs are 600 MB of temporaries otherwise)."""
    xs, rs = x.astype(np.float32), ref.astype(np.float32)
    block = xs @ rs.T
    block *= -2.0
    block += (xs * xs).sum(axis=1)[:, None]
    block += (rs * rs).sum(axis=1)[None, :]
    np.maximum(block, 0.0, out=block)
    block *= np.float32(1.0 / x.shape[1])
    return block


def _sq_dist_masked(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    mc = (~np.isnan(x)).astype(np.float32)
    xf = np.nan_to_num(x).astype(np.float32)
    mr = (~np.isnan(ref)).astype(np.float32)
    rf = np.nan_to_num(ref).astype(np.float32)
    d2 = (xf * xf) @ mr.T + mc @ (rf * rf).T - 2.0 * (xf @ rf.T)
    cnt = mc @ mr.T
    return np.where(cnt >= 3, np.maximum(d2, 0.0) / np.maximum(cnt, 1.0), np.inf)
