"""The hybrid collaborative score: what playlists and sound say about a track, given the user's likes.

Parts, each in [0, 1] (NaN where a part has nothing to say about a track):
- `collab`: the playlist x track co-occurrence corpus. Two views of it, averaged: item factors from a
  truncated SVD of the (length-normalised) playlist x track matrix, scored by cosine against the
  user's profile (the liked tracks' factors summed with their signal weights); and direct
  co-occurrence (how much the candidate shares playlists with liked tracks, normalised by its
  popularity), which keeps the rare but telling pairs a low-rank view smooths away.
- `artist`: the same two views one level up, for artists: liked artists (by signal weight) and artist
  factors from the playlist x artist matrix. This is the fallback for a track the corpus never saw:
  its artist may still be known.
- `content`: audio features and year. The candidate's similarity to its k nearest liked tracks
  (a Gaussian kernel on standardised features, averaged over the k nearest), not to one centroid, so a
  listener who likes both ambient and metal is not averaged into neither.

hybrid = weighted mean of the parts (weights in `PART_WEIGHTS`). A part a track lacks (say, a track the
corpus never saw) is imputed with that part's median over the tracks scored together, so being unknown
is neither a plus nor a minus; a track with no part at all (unknown to the corpus, unknown artist, no
features) gets the defined fallback `FALLBACK` = 0: no evidence earns no credit, and the blend with the
MLP still ranks such tracks by the MLP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from tastebot.models.content import CONTENT_COLUMNS, KERNEL_WIDTH, _kernel, _nearest_sq_dist, _sq_dist, content_matrix
from tastebot.models.corpus import CorpusData, _own_playlists
# The scorer's artist key (tastebot.names), under the name this module's code reads.
from tastebot.names import corpus_artist_keys as normalise_artists

if TYPE_CHECKING:
    from tastebot.store.readers import ModelReader

FALLBACK = 0.0
# Tuned on benchmarks/recommend.py: liked artists are the strongest single signal; collab and content
# order the rest and carry the tracks of artists the user has not liked yet.
PART_WEIGHTS = {"collab": 0.3, "artist": 3.0, "content": 0.3}
K_NEAREST = 5
MAX_REFERENCE_LIKES = 1500
MAX_REFERENCE_DISLIKES = 400  # a sample is enough to tell where dislikes are dense
# Bounds that keep a 1,000,000-playlist corpus within memory (see _fit_collab).
MAX_SVD_ROWS = 100_000
MAX_SVD_COLS = 200_000
EXACT_ARTIST_NNZ = 5_000_000  # content kNN reference set: the strongest likes beyond this many
ARTIST_ROWS_AT_ONCE = 50_000  # playlists per slice of the artist co-occurrence (bounds its memory)

# Weigh the nearest likes against the nearest dislikes (see _content_scores). Off: on the benchmark it
# left the hybrid's precision unchanged and doubled the content part's scoring time.
CONTRAST = False  # in standardised units (root mean square over the features both tracks have)

_PAREN = re.compile(r"[\(\[][^\)\]]*[\)\]]")


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def _lookup(values: pd.Series | np.ndarray, mapping: dict, default: float) -> np.ndarray:
    """mapping[v] for each value (default where absent or not a string), as floats: each distinct
    value looked up once (100,000 candidates have a few thousand artists), then one gather.
    (pandas' Series.map turns the dict into an index first: 1.5 s for a whole-MPD corpus's.)"""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object))  # None and NaN: code -1
    get = mapping.get
    found = np.array([get(v, default) if v.__class__ is str else default for v in uniq.tolist()] + [default],
                     dtype=float)
    return found[codes]


def _name_keys(frame: pd.DataFrame) -> np.ndarray:
    """The normalised artist name of each row (normalised once per distinct name)."""
    codes, uniq = pd.factorize(frame["artist_name"].reset_index(drop=True))
    return np.append(normalise_artists(list(uniq)), None).astype(object)[codes]


def _id_keys(frame: pd.DataFrame) -> np.ndarray:
    out = np.full(len(frame), None, dtype=object)
    if "primary_artist_id" not in frame.columns:
        return out
    ids = frame["primary_artist_id"].reset_index(drop=True)
    ok = (ids.notna() & (ids.astype(str) != "")).to_numpy()
    out[ok] = ("id:" + ids[ok].astype(str)).to_numpy(dtype=object)
    return out


@dataclass
class LikedPlaylists:
    """The corpus playlists holding a like: their ids and liked weight, and for each corpus track
    (CSC layout: indices[indptr[j]:indptr[j + 1]]) the positions of those that hold it."""

    ids: list[str]
    u: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray


def named_dislike_ids(dislikes: pd.DataFrame) -> np.ndarray:
    """Track ids of the dislikes the listener named (not the sampled, `weak`, negatives: those are
    random unheard tracks, and what shares playlists with them says nothing)."""
    if not len(dislikes):
        return np.zeros(0, dtype=object)
    if "strength" in dislikes.columns:
        dislikes = dislikes[dislikes["strength"].astype(str).str.lower() != "weak"]
    return dislikes["track_id"].astype(str).to_numpy(dtype=object)


def _cooccurrence(X, seed_weight: np.ndarray, seed_cols: np.ndarray, lengths: np.ndarray, pop: np.ndarray):
    """Direct co-occurrence of every corpus track with weighted seed tracks: playlists weighted by how
    much of them is seed, shorter lists count more; only playlists holding a seed count.
    Returns (score in [0, 1), playlists shared with a seed, seed weight per playlist, the
    length-normalised weights: zero where a playlist holds no seed)."""
    u = X @ seed_weight
    u_norm = u / np.sqrt(np.maximum(lengths, 1.0))
    # Over the whole matrix: u_norm is zero where a playlist holds no seed, so these are the sums over
    # the playlists holding one, added in the same order, without a copy of those rows (most of a
    # whole MPD's playlists hold some like: the copy was most of the matrix again).
    XT = X.T
    raw = XT @ u_norm
    raw[seed_cols] = 0.0  # a seed's own playlists say nothing new about it
    score = 1.0 - np.exp(-raw / np.sqrt(np.maximum(pop, 1.0)))
    shared = XT @ (u > 0).astype(np.float32)
    return score, shared, u, u_norm


def _playlist_share(XL, likes_per_row: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Playlist-normalised co-occurrence: every playlist holding a like votes (its likes) / (its length)
    for each of its tracks; a track's score is 1 - exp(-sum of votes), in [0, 1). A playlist that is
    mostly the listener's likes speaks loudly, a long mixed one softly, and popularity is not divided
    out (issue 24: 0.73-1.00 P@30 on listeners who know whole public playlists, where `cooc`, which
    divides by popularity and only by the square root of the length, ranked their future likes low)."""
    votes = likes_per_row / np.maximum(lengths, 1.0)
    return (1.0 - np.exp(-(XL.T @ votes.astype(np.float32)))).astype(np.float32)


def _unit_profile(factors: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    prof = (factors * weight[:, None]).sum(axis=0)
    nrm = np.linalg.norm(prof)
    return prof / nrm if nrm > 0 else None


class HybridScorer:
    """Fit once per recommendation run (or per validation split in train), then score any frame."""

    def __init__(self) -> None:
        self.corpus: CorpusData | None = None
        self._track_index: pd.Index | None = None  # the same, for `columns` (vectorised)
        self.item_factors: np.ndarray | None = None  # unit rows, one per corpus track
        self.profile: np.ndarray | None = None
        self.cooc: np.ndarray | None = None  # normalised co-occurrence with the likes, per corpus track
        self.share: np.ndarray | None = None  # playlist-normalised co-occurrence (_playlist_share)
        self.cooc_dislike: np.ndarray | None = None  # the same with the named dislikes
        self.dislike_profile: np.ndarray | None = None  # unit mean of the dislikes' item factors
        self.shared: np.ndarray | None = None  # playlists shared with a liked track, per corpus track
        self.artist_weight: dict[str, float] = {}
        self.artist_factor_score: dict[str, float] = {}
        self.artist_cooc: dict[str, float] = {}
        self.likes_content: np.ndarray = np.zeros((0, len(CONTENT_COLUMNS)))
        self.likes_ids: np.ndarray = np.zeros(0, dtype=object)
        self.likes_names: np.ndarray = np.zeros(0, dtype=object)
        self.id_to_artist: dict[str, str] = {}
        self.weights = dict(PART_WEIGHTS)
        self.pop: np.ndarray | None = None  # corpus playlists per corpus track
        self.factor_row: np.ndarray | None = None  # row of item_factors per corpus track, -1: none
        self.dislikes_content: np.ndarray = np.zeros((0, len(CONTENT_COLUMNS)))
        self._u: np.ndarray | None = None  # liked weight per corpus playlist
        self._liked: LikedPlaylists | None = None
        self._like_total = 0.0
        self._n_liked_artists = 0

    # ------------------------------------------------------------------------------------------
    @property
    def col_of(self) -> dict[str, int]:
        """The corpus column of each corpus track id, as a dict (for a few ids; `columns` for many); built
        once per corpus and shared by every scorer fitted on it (`CorpusData.column_of`)."""
        return {} if self.corpus is None else self.corpus.column_of()

    def columns(self, track_ids) -> np.ndarray:
        """The corpus column of each of `track_ids` (-1: not in the corpus) in one hashed lookup, not a
        dictionary lookup per id. 100,000 ids: 12 ms against 33 ms on a 27,000-track corpus, 36 ms
        against 105 ms on 2 million; the table is built on the first call (as long as the dict took:
        1 s for 2 million ids), and a saved scorer no longer builds the dict on loading."""
        ids = pd.Index(np.asarray(track_ids, dtype=object).astype(str), dtype=object)
        if self.corpus is None:
            return np.full(len(ids), -1, dtype=np.int64)
        if self._track_index is None:
            self._track_index = pd.Index(np.asarray(self.corpus.track_ids, dtype=object), dtype=object)
        return self._track_index.get_indexer(ids).astype(np.int64)

    @classmethod
    def fit(
        cls,
        store_or_corpus: ModelReader | CorpusData | None,
        profile_frame: pd.DataFrame,
        *,
        n_factors: int = 64,
        seed: int = 0,
        weights: dict[str, float] | None = None,
        include_own: bool = True,
    ) -> "HybridScorer":
        """`store_or_corpus`: a Store (its imported corpus and the user's own playlists), a CorpusData,
        or None (content and artist parts only). `profile_frame`: tracks with `track_id`, and
        optionally `label` (only label 1 counts), `weight`, `primary_artist_id`, `artist_name` and the
        feature columns. `include_own=False` leaves the user's own playlists out of the corpus: use it
        when fitting the blend weight on validation likes, which those playlists would give away (at
        recommend time no candidate is in them)."""
        self = cls()
        if weights:
            self.weights.update(weights)
        if store_or_corpus is None:
            corpus = None
        elif isinstance(store_or_corpus, CorpusData):
            corpus = store_or_corpus
        else:
            corpus = CorpusData.from_store(store_or_corpus, include_own=include_own)
        if corpus is not None and corpus.matrix.shape[0] == 0:
            corpus = None
        self.corpus = corpus

        likes = profile_frame
        dislikes = profile_frame.iloc[0:0]
        if "label" in likes.columns:
            labels = pd.to_numeric(likes["label"], errors="coerce")
            dislikes = profile_frame[labels == 0]
            likes = likes[labels == 1]
        likes = likes.reset_index(drop=True)
        w = (
            pd.to_numeric(likes["weight"], errors="coerce").fillna(1.0).clip(lower=0.0).to_numpy(dtype=float)
            if "weight" in likes.columns
            else np.ones(len(likes))
        )
        ids = likes["track_id"].astype(str).to_numpy(dtype=object) if len(likes) else np.zeros(0, dtype=object)
        self._learn_artist_names(likes)

        # -- collaborative part (tracks) and artist co-occurrence -------------------------------
        if corpus is not None:
            self._fit_collab(corpus, ids, w, n_factors, seed, named_dislike_ids(dislikes))

        # -- liked artists ------------------------------------------------------------------
        # liked artists, under their name key and their id key, so a candidate matches either way
        aw: dict[str, float] = {}
        for keys in (self._artist_keys(likes), _id_keys(likes)):
            for k, wi in zip(keys, w):
                if isinstance(k, str):
                    aw[k] = aw.get(k, 0.0) + float(wi)
        self.artist_weight = aw
        self._like_total = float(w.sum())
        self._n_liked_artists = len({k for k in self._artist_keys(likes) if isinstance(k, str)})

        # -- content reference set -------------------------------------------------------------
        content = content_matrix(likes)
        has = ~np.all(np.isnan(content), axis=1)
        order = np.argsort(-w[has], kind="stable")[:MAX_REFERENCE_LIKES]
        self.likes_content = content[has][order]
        self.likes_ids = ids[has][order]
        names = likes["name"].astype(str).to_numpy(dtype=object) if "name" in likes.columns else ids
        self.likes_names = names[has][order]
        self._all_like_ids = ids
        self._all_like_names = names
        dis = content_matrix(dislikes)
        dis = dis[~np.all(np.isnan(dis), axis=1)]
        if len(dis) > MAX_REFERENCE_DISLIKES:
            dis = dis[np.random.default_rng(seed).choice(len(dis), MAX_REFERENCE_DISLIKES, replace=False)]
        self.dislikes_content = dis
        return self

    def _learn_artist_names(self, frame: pd.DataFrame, name_keys: np.ndarray | None = None) -> None:
        """Remember each artist id's key from rows that carry both (`name_keys`: the rows' normalised
        names, when already known), for rows elsewhere that carry the id alone."""
        if "primary_artist_id" in frame.columns and "artist_name" in frame.columns:
            keys = _name_keys(frame) if name_keys is None else name_keys
            for a, k in dict(zip(frame["primary_artist_id"].tolist(), keys.tolist())).items():
                if k and isinstance(a, str) and a not in self.id_to_artist:
                    self.id_to_artist[a] = k

    def _artist_keys(self, frame: pd.DataFrame) -> np.ndarray:
        """One artist key per row: the normalised name when it can be known, else `id:<artist id>`.
        (Vectorised over unique values: 100,000 candidates have far fewer artists.)"""
        n = len(frame)
        keys = pd.Series([None] * n, dtype=object, index=range(n))
        if "artist_name" in frame.columns:
            keys = pd.Series(_name_keys(frame), dtype=object)
            self._learn_artist_names(frame, keys.to_numpy())
        aids = frame["primary_artist_id"].reset_index(drop=True).astype(object) if "primary_artist_id" in frame.columns else None
        if aids is not None and keys.isna().any():
            keys = keys.fillna(aids.map(self.id_to_artist))
        if self.corpus is not None and self.corpus.track_artists is not None and keys.isna().any():
            cols = self.columns(frame["track_id"])
            ok = keys.isna().to_numpy() & (cols >= 0)
            keys[ok] = self.corpus.track_artists[cols[ok]]
        if aids is not None and keys.isna().any():
            ok = keys.isna() & aids.notna() & (aids.astype(str) != "")
            keys[ok] = "id:" + aids[ok].astype(str)
        return keys.to_numpy(dtype=object)

    def _fit_collab(self, corpus: CorpusData, like_ids: np.ndarray, w: np.ndarray, n_factors: int, seed: int,
                    dislike_ids: np.ndarray) -> None:
        import scipy.sparse as sp

        X = corpus.matrix.tocsr().astype(np.float32, copy=False)  # not a second copy of a whole-MPD matrix
        n_pl, n_tr = X.shape
        cols = self.columns(like_ids)
        inside = cols >= 0
        wl = np.zeros(n_tr, dtype=np.float64)
        np.add.at(wl, cols[inside], w[inside])
        dcols = self.columns(dislike_ids)
        dcols = dcols[dcols >= 0]
        wd = np.bincount(dcols, minlength=n_tr).astype(np.float64)
        lengths = np.asarray(X.sum(axis=1)).ravel()
        pop = np.asarray(X.sum(axis=0)).ravel()

        # direct co-occurrence: playlists weighted by how much of them is liked, shorter lists count more.
        # Only playlists holding a liked track contribute, so the work is done on those rows alone.
        self.cooc, self.shared, u, u_norm = _cooccurrence(X, wl, cols[inside], lengths, pop)
        liked_rows = np.flatnonzero(u > 0)
        # Over every playlist: one holding no like has no liked tracks, so it votes nothing.
        self.share = _playlist_share(X, X @ (wl > 0).astype(np.float32), lengths)
        # The same from the named dislikes: what shares playlists with songs the listener skips.
        self.cooc_dislike = _cooccurrence(X, wd, dcols, lengths, pop)[0] if len(dcols) else None
        self.pop = pop.astype(np.float32)
        self._u = u

        # item factors: truncated SVD of the row-normalised matrix. On a large corpus (an MPD import)
        # it runs on a bounded part: the playlists holding likes plus a sample of the others, and the
        # tracks seen at least twice there (the likes always); other tracks keep the co-occurrence view.
        k = int(min(n_factors, n_pl - 1, n_tr - 1))
        self.factor_row = np.full(n_tr, -1, dtype=np.int64)
        if k >= 2 and inside.any():
            from sklearn.decomposition import TruncatedSVD

            rows = np.arange(n_pl)
            if n_pl > MAX_SVD_ROWS:
                rng = np.random.default_rng(seed)
                others = np.setdiff1d(rows, liked_rows)
                take = rng.choice(others, size=max(0, MAX_SVD_ROWS - len(liked_rows)), replace=False)
                rows = np.sort(np.concatenate([liked_rows[:MAX_SVD_ROWS], take]))
            Xs = X[rows]
            spop = np.asarray(Xs.sum(axis=0)).ravel()
            keep = np.flatnonzero((spop >= 2) | (wl > 0) | (wd > 0))
            if len(keep) > MAX_SVD_COLS:
                keep = np.union1d(keep[np.argsort(-spop[keep], kind="stable")[:MAX_SVD_COLS]],
                                  np.union1d(cols[inside], dcols))
            Xs = Xs[:, keep]
            k = int(min(k, Xs.shape[0] - 1, Xs.shape[1] - 1))
            if k >= 2:
                slen = np.asarray(Xs.sum(axis=1)).ravel()
                Xn = sp.diags(1.0 / np.sqrt(np.maximum(slen, 1.0))).astype(np.float32) @ Xs
                svd = TruncatedSVD(n_components=k, random_state=seed, algorithm="randomized", n_iter=4)
                svd.fit(Xn)
                V = svd.components_.T * np.sqrt(svd.singular_values_)[None, :]
                self.item_factors = _unit_rows(V).astype(np.float32)
                self.factor_row[keep] = np.arange(len(keep))
                liked_f = self.factor_row[cols[inside]]
                ok = liked_f >= 0
                self.profile = _unit_profile(self.item_factors[liked_f[ok]], w[inside][ok])
                dis_f = self.factor_row[dcols]
                dis_f = dis_f[dis_f >= 0]
                self.dislike_profile = _unit_profile(self.item_factors[dis_f], np.ones(len(dis_f)))

        if corpus.track_artists is not None:
            self._fit_artist_cooc(X, corpus.track_artists, pop, liked_rows, u_norm)

    def _fit_artist_cooc(self, X, track_artists, pop: np.ndarray, liked_rows: np.ndarray,
                         u_norm: np.ndarray) -> None:
        """Artists: co-occurrence with the likes through the playlists, per artist key."""
        import scipy.sparse as sp

        n_tr = X.shape[1]
        keys = pd.Series(track_artists)
        known = keys.notna().to_numpy()
        codes, uniq = pd.factorize(keys[known])
        A = sp.csr_matrix(
            (np.ones(len(codes), dtype=np.float32), (np.flatnonzero(known), codes)), shape=(n_tr, len(uniq))
        )
        if X.nnz <= EXACT_ARTIST_NNZ:
            XA = X @ A  # playlists x artists (counts), then 0/1
            XA.data = np.minimum(XA.data, 1.0)
            apop = np.asarray(XA.sum(axis=0)).ravel()
        else:  # a large corpus: playlist-track pairs per artist (an artist twice in a list counts twice)
            apop = A.T @ pop
        # Each playlist holding a like counts each of its artists once; a slice of those playlists
        # at a time (the playlists x artists product of all of them was the size of the matrix).
        raw_a = np.zeros(len(uniq))
        for s in range(0, len(liked_rows), ARTIST_ROWS_AT_ONCE):
            rows_s = liked_rows[s : s + ARTIST_ROWS_AT_ONCE]
            XLA = X[rows_s] @ A
            XLA.data = np.minimum(XLA.data, 1.0)
            raw_a += XLA.T @ u_norm[rows_s]
            del XLA
        self.artist_cooc = dict(zip(uniq, 1.0 - np.exp(-raw_a / np.sqrt(np.maximum(apop, 1.0)))))

    # ------------------------------------------------------------------------------------------
    def evidence(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The separate pieces of collaborative and content evidence per track (NaN where a piece
        knows nothing about the track): `cooc` (direct co-occurrence with the likes), `share` (the
        playlist-normalised co-occurrence: how much of the playlists holding it are likes), `factor`
        (cosine of the item factors with the likes' profile), `artist_direct` (how much of what you
        like is by this artist), `artist_cooc` (the artist's co-occurrence with your likes),
        `content` (sound next to the nearest likes), `shared_playlists`, `corpus_playlists` (how
        many corpus playlists hold the track: its popularity there), and from the named dislikes
        (not sampled negatives) `cooc_dislike` and `factor_dislike`, the same views of what the
        listener skips. The learned ranking
        (tastebot.models.ranker) reads these; the hand-weighted hybrid combines them in `score_parts`."""
        n = len(frame)
        cooc, factor, share = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        cooc_dislike, factor_dislike = np.full(n, np.nan), np.full(n, np.nan)
        shared, corpus_pop = np.zeros(n), np.full(n, np.nan)
        if self.corpus is not None and self.cooc is not None:
            cols = self.columns(frame["track_id"])
            inside = cols >= 0
            cooc[inside] = self.cooc[cols[inside]]
            if self.share is not None:
                share[inside] = self.share[cols[inside]]
            if self.cooc_dislike is not None:
                cooc_dislike[inside] = self.cooc_dislike[cols[inside]]
            frow = self.factor_row[cols[inside]]
            has_f = frow >= 0
            at = np.flatnonzero(inside)[has_f]
            for out, profile in ((factor, self.profile), (factor_dislike, self.dislike_profile)):
                if profile is not None:
                    out[at] = np.clip(self.item_factors[frow[has_f]] @ profile, 0.0, 1.0)
            shared[inside] = self.shared[cols[inside]]
            corpus_pop[inside] = self.pop[cols[inside]]

        keys = pd.Series(self._artist_keys(frame), dtype=object)
        total = self._like_total or 1.0
        spread = max(self._n_liked_artists, 1) ** 0.5
        liked = np.maximum(
            _lookup(keys, self.artist_weight, 0.0),
            _lookup(_id_keys(frame), self.artist_weight, 0.0),
        )
        direct = 1.0 - np.exp(-4.0 * liked / total * spread)
        no_artist = keys.isna().to_numpy()
        direct[no_artist] = np.nan
        via = _lookup(keys, self.artist_cooc, np.nan)
        via[no_artist] = np.nan
        return pd.DataFrame(
            {"cooc": cooc, "share": share, "factor": factor, "artist_direct": direct, "artist_cooc": via,
             "content": self._content_scores(frame)[0], "shared_playlists": shared, "corpus_playlists": corpus_pop,
             "cooc_dislike": cooc_dislike, "factor_dislike": factor_dislike},
            index=frame.index,
        )

    def score_parts(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per track: `collab`, `artist`, `content` (NaN where a part knows nothing), `hybrid`,
        `shared_playlists` (corpus playlists shared with liked tracks)."""
        ev = self.evidence(frame)
        return self.parts_from_evidence(ev)

    def parts_from_evidence(self, ev: pd.DataFrame) -> pd.DataFrame:
        """The hand-weighted hybrid's parts from `evidence()`: collab = the mean of co-occurrence and
        factor cosine (co-occurrence alone where a track has no factors); artist = 0.6 direct + 0.4
        via co-occurrence (direct alone where the corpus never saw the artist)."""
        cooc, factor = ev["cooc"].to_numpy(), ev["factor"].to_numpy()
        collab = np.where(np.isnan(factor), cooc, 0.5 * cooc + 0.5 * factor)
        direct, via = ev["artist_direct"].to_numpy(), ev["artist_cooc"].to_numpy()
        artist = np.where(np.isnan(via), direct, 0.6 * direct + 0.4 * via)
        content = ev["content"].to_numpy()
        hybrid = self.combine(collab, artist, content)
        return pd.DataFrame(
            {"collab": collab, "artist": artist, "content": content, "hybrid": np.clip(hybrid, 0.0, 1.0),
             "shared_playlists": ev["shared_playlists"].to_numpy()},
            index=ev.index,
        )

    def combine(self, collab: np.ndarray, artist: np.ndarray, content: np.ndarray) -> np.ndarray:
        """Weighted mean of the parts. A part a track lacks is imputed with that part's median over
        the tracks scored together (neutral: knowing nothing is neither a plus nor a minus); a part no
        track has drops out; a track with no part at all gets FALLBACK."""
        parts = np.vstack([collab, artist, content]).astype(float)
        wts = np.array([self.weights["collab"], self.weights["artist"], self.weights["content"]], dtype=float)
        have = ~np.isnan(parts)
        for i in range(len(parts)):
            if have[i].any():
                parts[i, ~have[i]] = float(np.median(parts[i, have[i]]))
            else:
                wts[i] = 0.0
                parts[i] = 0.0
        if wts.sum() <= 0:
            return np.full(parts.shape[1], FALLBACK)
        hybrid = (parts * wts[:, None]).sum(axis=0) / wts.sum()
        return np.where(have.any(axis=0), np.clip(hybrid, 0.0, 1.0), FALLBACK)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """The hybrid score in [0, 1] for each row of `frame` (FALLBACK where nothing is known)."""
        return self.score_parts(frame)["hybrid"].to_numpy()

    def save(self, folder, fingerprint: dict[str, Any] | None = None, *, ids_in_store: int = 0) -> None:
        """The taste models' `save`: `save_scorer`, with what the scorer was fitted on (`fingerprint`)."""
        save_scorer(self, folder, fingerprint or {}, ids_in_store=ids_in_store)

    @classmethod
    def load(cls, folder, names_from: Callable[[Sequence[str]], dict[str, str]] | None = None,
             corpus_ids: Callable[[], Sequence[str]] | None = None) -> "HybridScorer":
        """The taste models' `load`: the scorer `save` wrote (`load_scorer` also gives its fingerprint)."""
        return load_scorer(folder, names_from, corpus_ids)[0]

    # ------------------------------------------------------------------------------------------
    def _content_scores(self, frame: pd.DataFrame, want_nearest: bool = False, chunk: int = 1024):
        """Similarity of the sound to the K_NEAREST nearest liked tracks (a mean Gaussian kernel; NaN: no
        features). With dislikes in the profile it is weighed against the nearest dislikes too: a sound
        as close to what you skip as to what you like counts for less."""
        n = len(frame)
        out = np.full(n, np.nan)
        nearest: list[list[int]] = [[] for _ in range(n)] if want_nearest else []
        L = self.likes_content
        if len(L) == 0 or n == 0:
            return out, nearest
        X = content_matrix(frame)
        D = self.dislikes_content
        # Only rows with a sound to compare (3 features or more): a pool is often half without.
        scored = np.flatnonzero((~np.isnan(X)).sum(axis=1) >= 3)
        for s in range(0, len(scored), chunk):
            at = scored[s : s + chunk]
            x = X[at]
            k = min(K_NEAREST, len(L))
            # The k nearest first, the kernel on those alone: exp of every pair was most of the time.
            if want_nearest:
                d2, _ = _sq_dist(x, L)
                near = np.partition(d2, k - 1, axis=1)[:, :k]
            else:
                near = _nearest_sq_dist(x, L, k)
            ok = np.isfinite(near).any(axis=1)
            val = np.exp(-near / (2.0 * KERNEL_WIDTH**2)).mean(axis=1)
            if CONTRAST and len(D) >= K_NEAREST:  # pragma: no cover - measured in benchmarks only
                dsim, _ = _kernel(x, D)
                kd = min(K_NEAREST, len(D))
                dval = (-np.partition(-dsim, kd - 1, axis=1)[:, :kd]).mean(axis=1)
                val = val * val / np.maximum(val + dval, 1e-9)
            val[~ok] = np.nan
            out[at] = val
            if want_nearest:
                sim = np.exp(-d2 / (2.0 * KERNEL_WIDTH**2))
                idx = np.argsort(-sim, axis=1)[:, :3]
                for r, row in enumerate(idx):
                    nearest[at[r]] = [int(j) for j in row if sim[r, j] > 0]
        return out, nearest

    def liked_playlists(self) -> "LikedPlaylists | None":
        """The corpus playlists that hold a like, by track (for the reasons): built from the matrix
        once, or loaded with a saved scorer."""
        if self._liked is None and self.corpus is not None and self._u is not None:
            rows = np.flatnonzero(self._u > 0)
            by_track = self.corpus.matrix.tocsr()[rows].tocsc()
            self._liked = LikedPlaylists([self.corpus.playlist_ids[r] for r in rows], self._u[rows],
                                         by_track.indptr, by_track.indices)
        return self._liked

    def explain(self, frame: pd.DataFrame, top_playlists: int = 2) -> list[dict]:
        """Reasons per row: nearest liked tracks (by sound), shared playlists (count and names)."""
        _, nearest = self._content_scores(frame, want_nearest=True)
        parts = self.score_parts(frame)
        out = []
        liked = self.liked_playlists()
        cols = self.columns(frame["track_id"])
        for i, col in enumerate(cols):
            names = [
                {"track_id": str(self.likes_ids[j]), "name": str(self.likes_names[j])} for j in nearest[i]
            ]
            playlists: list[str] = []
            if liked is not None and col >= 0:
                pos = np.asarray(liked.indices[liked.indptr[col] : liked.indptr[col + 1]])
                pos = pos[np.argsort(-liked.u[pos], kind="stable")][:top_playlists]
                playlists = self.corpus.names([liked.ids[k] for k in pos])
            row = parts.iloc[i]
            out.append(
                {
                    "nearest_liked": names,
                    "shared_playlists": int(row["shared_playlists"]),
                    "shared_playlist_names": playlists,
                }
            )
        return out


# -- fitted once, saved with the run ---------------------------------------------------------------------
COLLAB_ARRAYS = "collab.npz"
COLLAB_STATE = "collab.json"
COLLAB_LIKED = "collab-liked.npy"
_ARRAY_FIELDS = ("item_factors", "profile", "cooc", "share", "shared", "pop", "factor_row", "likes_content", "dislikes_content",
                 "cooc_dislike", "dislike_profile")


def fingerprint(store: ModelReader, profile_frame: pd.DataFrame) -> dict[str, Any]:
    """What a fitted scorer depends on: the imported corpus, the own playlists, the likes and the named
    dislikes. A saved
    scorer whose fingerprint differs from the store's is stale and is fitted again."""
    import hashlib

    labels = pd.to_numeric(profile_frame.get("label", pd.Series(1, index=profile_frame.index)), errors="coerce")
    likes = profile_frame[labels == 1]
    weights = pd.to_numeric(likes.get("weight", pd.Series(1.0, index=likes.index)), errors="coerce").fillna(1.0)
    h = hashlib.sha1()
    for tid, wt in sorted(zip(likes["track_id"].astype(str), weights.round(6))):
        h.update(f"{tid}:{wt}\n".encode())
    own = hashlib.sha1()
    for pid, (_, items) in sorted(_own_playlists(store).items()):
        own.update(f"{pid}:{','.join(items)}\n".encode())
    dislikes = hashlib.sha1("\n".join(sorted(named_dislike_ids(profile_frame[labels == 0]))).encode())
    return {"corpus": store.corpus_stats(), "likes": h.hexdigest(), "own_playlists": own.hexdigest(),
            "dislikes": dislikes.hexdigest()}


def save_scorer(scorer: HybridScorer, folder, fingerprint: dict[str, Any], *, ids_in_store: int = 0) -> None:
    """Write what recommending needs of a fitted scorer (not the corpus matrix: only the rows of
    playlists that hold a like, which the reasons name) to `folder`. The first `ids_in_store` track
    ids are the store's corpus tracks in their order (`Store.corpus_track_ids`): not written again
    (two million ids were half of the file and most of the memory to load it)."""
    import json

    arrays: dict[str, np.ndarray] = {f: getattr(scorer, f) for f in _ARRAY_FIELDS if getattr(scorer, f, None) is not None}
    arrays["likes_ids"] = np.asarray(scorer.likes_ids, dtype=str)
    arrays["likes_names"] = np.asarray(scorer.likes_names, dtype=str)
    state: dict[str, Any] = {
        "fingerprint": fingerprint, "weights": scorer.weights, "artist_weight": scorer.artist_weight,
        "artist_cooc": {k: float(v) for k, v in scorer.artist_cooc.items()}, "id_to_artist": scorer.id_to_artist,
        "like_total": scorer._like_total, "n_liked_artists": scorer._n_liked_artists, "corpus": None,
    }
    corpus = scorer.corpus
    if corpus is not None:
        liked = scorer.liked_playlists()
        arrays.update({
            "track_ids": np.asarray(corpus.track_ids[ids_in_store:], dtype=str),
            "liked_ids": np.asarray(liked.ids, dtype=str), "liked_u": liked.u, "liked_indptr": liked.indptr,
        })
        # Apart, so recommend maps it from disk: it is the size of the corpus's pairs that hold a like.
        np.save(Path(folder) / COLLAB_LIKED, np.asarray(liked.indices, dtype=np.int32))
        if corpus.track_artists is not None:
            # As codes into the distinct names: a fixed-width array of two million names took gigabytes.
            codes, names = pd.factorize(pd.Series(corpus.track_artists, dtype=object))
            arrays["artist_codes"] = codes.astype(np.int32)
            arrays["artist_names"] = np.asarray(names, dtype=str)
        state["corpus"] = {"playlist_names": corpus.playlist_names, "ids_in_store": int(ids_in_store)}
    np.savez(Path(folder) / COLLAB_ARRAYS, **arrays)
    (Path(folder) / COLLAB_STATE).write_text(json.dumps(state), encoding="utf-8")


def saved_fingerprint(folder) -> dict[str, Any]:
    """The fingerprint a saved scorer was fitted for (cheap: its small JSON part only)."""
    import json

    return json.loads((Path(folder) / COLLAB_STATE).read_text(encoding="utf-8"))["fingerprint"]


def load_scorer(folder, names_from: Callable[[Sequence[str]], dict[str, str]] | None = None,
                corpus_ids: Callable[[], Sequence[str]] | None = None) -> tuple[HybridScorer, dict]:
    """The scorer `save_scorer` wrote, and the fingerprint it was fitted for. `corpus_ids` gives the
    store's corpus track ids when the scorer was saved with `ids_in_store`."""
    import json

    state = json.loads((Path(folder) / COLLAB_STATE).read_text(encoding="utf-8"))
    with np.load(Path(folder) / COLLAB_ARRAYS, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    self = HybridScorer()
    for f in _ARRAY_FIELDS:
        if f in arrays:
            setattr(self, f, arrays[f])
    self.likes_ids = arrays["likes_ids"].astype(object)
    self.likes_names = arrays["likes_names"].astype(object)
    self.weights = dict(state["weights"])
    self.artist_weight = dict(state["artist_weight"])
    self.artist_cooc = dict(state["artist_cooc"])
    self.id_to_artist = dict(state["id_to_artist"])
    self._like_total = float(state["like_total"])
    self._n_liked_artists = int(state["n_liked_artists"])
    info = state["corpus"]
    if info is not None:
        in_store = int(info.get("ids_in_store", 0))
        stored = corpus_ids() if in_store else []
        if len(stored) < in_store:
            raise ValueError("the corpus in the store is not the one the scorer was fitted on")
        # Filled in place: no list of two million ids copied twice over on the way.
        extra = arrays.pop("track_ids")
        track_ids = np.empty(in_store + len(extra), dtype=object)
        track_ids[:in_store] = stored if len(stored) == in_store else stored[:in_store]
        track_ids[in_store:] = extra.tolist()
        del stored, extra
        artists = None
        if "artist_codes" in arrays:
            names = np.append(arrays["artist_names"].astype(object), None)
            artists = names[arrays["artist_codes"]]  # code -1: no name (the appended None)
        # No matrix: recommending needs only the liked playlists by track, mapped from disk.
        self.corpus = CorpusData(None, track_ids, [], artists, playlist_names=dict(info["playlist_names"]),
                                 names_from=names_from)
        self._liked = LikedPlaylists(arrays["liked_ids"].tolist(), arrays["liked_u"], arrays["liked_indptr"],
                                     np.load(Path(folder) / COLLAB_LIKED, mmap_mode="r"))
        if "factor_row" not in arrays:
            self.factor_row = np.full(len(track_ids), -1, dtype=np.int64)
    return self, state["fingerprint"]
