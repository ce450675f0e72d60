"""Where audio features come from: a chain of providers, each value stored with its provenance.

Tried in this order for every track that has no features from an API provider yet:
  1. `spotify`    Spotify's /audio-features, 100 ids a call (extended-quota apps only);
  2. `reccobeats` ReccoBeats, 40 ids a call, matched by the id in `href`;
  3. `import`     a table the user imported with `tastebot features import FILE.csv`;
  4. metadata     what every app reads anyway (duration, explicit, release year, track number,
                  album type): always there, in the tracks table.
A provider that refuses (403, 404, gone, unreachable) is skipped for the rest of the run with one
line saying why; it is not retried track by track. A provider is asked about a track once: tracks it
did not know are remembered, so a harvest with nothing new asks nothing (`--full` asks again).

`import_features_csv(store, path)` is the CSV import; the CLI's `features import` calls it.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from tastebot.errors import FeatureProviderError, InputError
from tastebot.vocab import AUDIO_FEATURES, FEATURE_RANGES, INTEGER_FEATURES, PROVIDER_LABELS, PROVIDERS


@dataclass
class ProviderReport:
    status: str = "unused"          # used | skipped | unused
    reason: str | None = None
    asked: int = 0
    found: int = 0
    requests: int = 0


@dataclass
class FeatureReport:
    providers: dict[str, ProviderReport] = field(default_factory=lambda: {p: ProviderReport() for p in PROVIDERS[:2]})

    def as_dict(self) -> dict[str, Any]:
        return {p: vars(r) for p, r in self.providers.items()}


class FeatureChain:
    """Fill the store with audio features for tracks that lack them.

    `client` is a tastebot.spotify.SpotifyClient (or None: no Spotify provider), `reccobeats` a
    ReccoBeatsClient (None: built from settings). `progress(provider, done, total)` is called as
    batches finish; `notice(text)` gets the one-line explanation when a provider is skipped.
    Recommend reuses one chain for candidates: a provider skipped once stays skipped.
    """

    def __init__(self, settings, store, client=None, *, reccobeats=None,
                 progress: Callable[[str, int, int], None] | None = None,
                 notice: Callable[[str], None] | None = None):
        self.settings = settings
        self.store = store
        self.client = client
        if reccobeats is None:
            from tastebot.providers.reccobeats import ReccoBeatsClient

            policy = getattr(client, "policy", None)
            reccobeats = ReccoBeatsClient(settings, policy=policy)
        self.reccobeats = reccobeats
        self.progress = progress or (lambda provider, done, total: None)
        self.notice = notice or (lambda text: None)
        self.skipped: dict[str, str] = {}
        self.report = FeatureReport()

    def skip(self, provider: str, reason: str, *, expected: bool = False) -> None:
        """Mark a provider skipped. `expected` ones (what this kind of app never has) go in the
        report only: no notice on every harvest and every recommend."""
        if provider not in self.skipped:
            self.skipped[provider] = reason
            rep = self.report.providers.setdefault(provider, ProviderReport())
            rep.status, rep.reason = "skipped", reason
            if not expected:
                self.notice(f"{PROVIDER_LABELS[provider]} skipped: {reason}")

    def fill(self, track_ids: Iterable[str] | None = None, *, full: bool = False) -> FeatureReport:
        """Ask the providers, in order, about the tracks (all library tracks when None) that have no
        API features yet. Returns the cumulative report of this chain."""
        wanted = None if track_ids is None else list(dict.fromkeys(track_ids))
        self._spotify(wanted, full)
        self._reccobeats(wanted, full)
        return self.report

    def _spotify(self, wanted, full: bool) -> None:
        if "spotify" in self.skipped:
            return
        if self.client is None:
            self.skip("spotify", "no Spotify client")
            return
        if self.client.app_kind() != "extended":
            self.skip("spotify", "development-mode apps cannot read /audio-features (403 since 2024)", expected=True)
            return
        from tastebot.spotify.client import BATCH_AUDIO_FEATURES

        self._run("spotify", wanted, full, BATCH_AUDIO_FEATURES, self.client.audio_features,
                  lambda: self.client.request_count)

    def _reccobeats(self, wanted, full: bool) -> None:
        if "reccobeats" in self.skipped:
            return
        from tastebot.providers.reccobeats import BATCH

        self._run("reccobeats", wanted, full, BATCH, self.reccobeats.audio_features,
                  lambda: self.reccobeats.request_count)

    def _run(self, provider: str, wanted, full: bool, batch: int, fetch, counter) -> None:
        ids = self.store.tracks_needing_features(provider, wanted, retry=full)
        rep = self.report.providers.setdefault(provider, ProviderReport())
        if not ids:
            if rep.status == "unused":
                rep.status = "used"
            return
        rep.status = "used"
        done = 0
        for i in range(0, len(ids), batch):
            chunk = ids[i:i + batch]
            before = counter()
            try:
                found = fetch(chunk)
            except FeatureProviderError as exc:
                rep.requests += counter() - before
                self.skip(provider, exc.message)
                return
            rep.requests += counter() - before
            # The features and the record of asking commit together: a kill never loses either half.
            with self.store.transaction():
                self.store.upsert_features(found, provider)
                self.store.record_feature_attempts(chunk, provider, found.keys())
            rep.asked += len(chunk)
            rep.found += len(found)
            done += len(chunk)
            self.progress(provider, done, len(ids))


# --------------------------------------------------------------------------------------------------
# `tastebot features import FILE.csv`
# --------------------------------------------------------------------------------------------------

_TRACK_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_TRACK_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_TRACK_URL = re.compile(r"^(?:https?://)?open\.spotify\.com/(?:intl-[A-Za-z-]+/)?track/([0-9A-Za-z]{22})/?(?:[?#].*)?$")
ID_COLUMNS = ("track_id", "id")
_MISSING = {"", "na", "n/a", "nan", "null", "none"}


def _track_id(value: str) -> str | None:
    v = value.strip()
    if _TRACK_ID.match(v):
        return v
    for pattern in (_TRACK_URI, _TRACK_URL):
        m = pattern.match(v)
        if m:
            return m.group(1)
    return None


@dataclass
class ImportResult:
    path: str
    rows: int
    tracks: int
    columns: list[str]
    ignored_columns: list[str]
    in_library: int
    values: int

    def as_dict(self) -> dict[str, Any]:
        return vars(self)


def import_features_csv(store, path: str | Path) -> ImportResult:
    """Read a CSV keyed by Spotify track id (`track_id` or `id`) with any subset of the 12 feature
    columns and store its values with provider `import`, all in one transaction: on any error
    (encoding, columns, a bad id or number, named with its line) nothing stored changes."""
    path = Path(path)
    text = _csv_text(path)
    # Only the delimiter is guessed: the sniffer's quoting guesses are unreliable, and real tables
    # quote the standard way (doubled quotes inside quoted fields).
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names, id_col, feature_cols, ignored = _csv_columns(path, reader)

    rows: dict[str, dict[str, float]] = {}
    n_rows = 0
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record):
                continue
            n_rows += 1
            if len(record) != len(names):
                raise InputError(f"{path}: line {line}: {len(record)} fields where the header has {len(names)}.")
            tid = _track_id(record[id_col])
            if tid is None:
                shown = record[id_col].strip()[:40]
                raise InputError(f"{path}: line {line}: {shown!r} is not a Spotify track id (22 letters and digits).")
            values = _csv_values(path, line, record, feature_cols)
            if values:
                rows.setdefault(tid, {}).update(values)  # a later row for the same id adds to / overrides it
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: {exc}.") from None
    if not rows:
        raise InputError(f"{path}: no rows with feature values.")

    with store.transaction():
        store.upsert_features(rows, "import")
    in_library = len(set(rows) & {r for r in _library_ids(store, rows)})
    return ImportResult(
        path=str(path), rows=n_rows, tracks=len(rows), columns=[feature_cols[i] for i in sorted(feature_cols)],
        # Values stored, one per track and feature: a track named on many rows counts once.
        ignored_columns=ignored, in_library=in_library, values=sum(len(v) for v in rows.values()),
    )


def _csv_text(path: Path) -> str:
    """The file as text (UTF-8, a BOM allowed), or an InputError naming what is wrong with it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a CSV file.") from None
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path} is not UTF-8 text (line {line}, byte {exc.start}); save it as UTF-8 CSV.") from None
    if "\x00" in text:
        raise InputError(f"{path} holds NUL bytes: it is not a CSV text file.")
    return text


def _csv_columns(path: Path, reader) -> tuple[list[str], int, dict[int, str], list[str]]:
    """Read the header: (column names, the id column, {column: feature}, ignored names). A header
    without an id or any feature, with a name twice, or a near-miss of a feature name is refused."""
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path} is empty: expected a header row with track_id and feature columns.") from None
    except csv.Error as exc:
        raise InputError(f"{path}: line 1: {exc}.") from None
    names = [h.strip().lower() for h in header]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise InputError(f"{path}: column {dupes[0]!r} appears twice in the header.")
    id_col = next((names.index(c) for c in ID_COLUMNS if c in names), None)
    if id_col is None:
        raise InputError(f"{path}: no track id column: the header needs 'track_id' or 'id' (found: {', '.join(names[:8])}).")
    feature_cols = {names.index(f): f for f in AUDIO_FEATURES if f in names}
    ignored = [n for i, n in enumerate(names) if i != id_col and i not in feature_cols]
    for name in ignored:
        close = difflib.get_close_matches(name, AUDIO_FEATURES, n=1, cutoff=0.8)
        if close:
            raise InputError(f"{path}: unknown column {name!r}: did you mean {close[0]!r}?")
    if not feature_cols:
        raise InputError(
            f"{path}: no audio-feature columns; expected any of: {', '.join(AUDIO_FEATURES)}."
        )
    return names, id_col, feature_cols, ignored


def _csv_values(path: Path, line: int, record: list[str], feature_cols: dict[int, str]) -> dict[str, float]:
    """One row's feature values (empty cells and NA left out), each checked against its range."""
    values: dict[str, float] = {}
    for i, feature in feature_cols.items():
        cell = record[i].strip()
        if cell.lower() in _MISSING:
            continue
        try:
            x = float(cell)
        except ValueError:
            raise InputError(f"{path}: line {line}: {feature} is {cell[:20]!r}, not a number.") from None
        low, high = FEATURE_RANGES[feature]
        if not math.isfinite(x) or not low <= x <= high:
            raise InputError(f"{path}: line {line}: {feature} = {cell[:20]} is outside {low:g}..{high:g}.")
        if feature in INTEGER_FEATURES and x != int(x):
            raise InputError(f"{path}: line {line}: {feature} must be a whole number, not {cell[:20]}.")
        values[feature] = x
    return values


def _library_ids(store, ids: Iterable[str]) -> list[str]:
    frame = store.tracks_frame(list(ids))
    return list(frame["track_id"])
