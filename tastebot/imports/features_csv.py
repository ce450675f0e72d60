"""`tastebot features import FILE.csv`: audio features from a table the listener has (provider
`import`, third in tastebot.providers.audio_features' order), any subset of the feature columns keyed
by a track id, URI or link. A bad file is refused whole, with the line named; nothing is stored.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from tastebot.errors import InputError
from tastebot.vocab import AUDIO_FEATURES, FEATURE_RANGES, INTEGER_FEATURES


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
