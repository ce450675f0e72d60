"""tastebot.vocab is the one home of the audio-feature vocabulary: no other module spells the list out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tastebot
from tastebot.vocab import (
    AUDIO_FEATURES, FEATURE_RANGES, INTEGER_FEATURES, PROVIDER_LABELS, PROVIDERS, SPOTIFY_DECIMALS, iso_time, now_iso,
)

PACKAGE = Path(tastebot.__file__).parent
PENDING: set[str] = set()
# A literal naming this many of the twelve features is a copy of the list (a handful of per-feature
# settings, such as the model's transform overrides, is not).
COPY = 6
# Assignments the check does not read: fitted sandbox data (per-feature distributions, not a list
# anyone edits by hand), and SQL migrations (history: a migration keeps the columns it created).
# The content kNN's per-feature spreads are settings of that model, one per input it reads.
DATA_TABLES = {("store/corpus.py", "MIGRATIONS"), ("store/library.py", "MIGRATIONS")}


def _names(nodes) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and n.value in AUDIO_FEATURES}


def _skipped(rel: str, tree: ast.Module) -> set[int]:
    """ids of the nodes inside allowed data tables."""
    out: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and (rel, t.id) in DATA_TABLES for t in targets):
                out.update(id(n) for n in ast.walk(node))
    return out


def stray_copies(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "vocab.py" or rel in PENDING:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _skipped(rel, tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                names = _names(node.elts)
            elif isinstance(node, ast.Dict):
                names = _names(k for k in node.keys if k is not None)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = set(re.findall(r"[a-z_]+", node.value)) & set(AUDIO_FEATURES)
            else:
                continue
            if len(names) >= COPY:
                found.append(f"{rel}:{node.lineno} names {len(names)} audio features")
    return found


def test_no_module_spells_out_the_feature_list():
    found = stray_copies()
    assert found == [], "import the list from tastebot.vocab instead:\n" + "\n".join(found)


def test_the_check_finds_a_copy(tmp_path):
    (tmp_path / "a.py").write_text(f"COLUMNS = {list(AUDIO_FEATURES[:COPY])!r}\n")
    (tmp_path / "b.py").write_text("RANGES = {%s}\n" % ", ".join(f"{n!r}: (0, 1)" for n in AUDIO_FEATURES))
    (tmp_path / "c.py").write_text(f'"""Columns: {", ".join(AUDIO_FEATURES)}."""\n')
    (tmp_path / "d.py").write_text('X = ("energy", "valence")\n')
    found = stray_copies(tmp_path)
    assert [f.split(":")[0] for f in found] == ["a.py", "b.py", "c.py"]


def test_pending_modules_still_exist():
    # When these stop spelling the list out, drop them from PENDING.
    for rel in PENDING:
        assert (PACKAGE / rel).is_file(), rel


def test_vocabulary_is_consistent():
    assert len(AUDIO_FEATURES) == 12 and len(set(AUDIO_FEATURES)) == 12
    assert tuple(FEATURE_RANGES) == AUDIO_FEATURES
    assert all(low < high for low, high in FEATURE_RANGES.values())
    assert INTEGER_FEATURES == {"key", "mode", "time_signature"}
    assert set(SPOTIFY_DECIMALS) == set(AUDIO_FEATURES) - INTEGER_FEATURES
    assert set(PROVIDER_LABELS) == set(PROVIDERS)


def test_time_helpers():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", now_iso())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now_iso(sortable=True))
    assert iso_time(now_iso()) <= now_iso(sortable=True)
    assert iso_time("2025-01-02T05:04:05.5+02:00") == "2025-01-02T03:04:05.500Z"


def test_each_audio_feature_service_is_one_module_registered_once_by_name():
    """Adding an audio-feature service: tastebot/providers/<name>.py with its `FEATURE_SOURCE`, and the
    name (with its label) in vocab; the chain, the store's "needs features" query and the rank follow."""
    from tastebot.providers.audio_features import feature_source
    from tastebot.store.library_rows import PROVIDER_RANK
    from tastebot.vocab import API_PROVIDERS

    assert PROVIDERS[: len(API_PROVIDERS)] == API_PROVIDERS
    for name in API_PROVIDERS:
        cls = feature_source(name)
        assert cls.name == name and cls.batch > 0 and name in PROVIDER_LABELS
    assert PROVIDER_RANK == {"spotify": 1, "reccobeats": 2, "import": 3}
