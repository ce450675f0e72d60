"""`tastebot.store.readers.ModelReader`: Store satisfies it, and it names exactly what the models read."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from tastebot.store import Store
from tastebot.store.readers import ModelReader

PACKAGE = Path(__file__).resolve().parent.parent / "tastebot"
# The modules the reader interface serves.
READERS = sorted((PACKAGE / "models").glob("*.py")) + [PACKAGE / "train.py"]
# Not a read: train_from_store closes the store it opened itself.
LIFECYCLE = {"close"}


def _members() -> set[str]:
    return {name for name, value in vars(ModelReader).items() if inspect.isfunction(value) and not name.startswith("_")}


def _shape(fn) -> list[tuple[str, object, object]]:
    """(name, kind, default) of each parameter: what a caller relies on (annotations aside)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_store_has_every_reader_method_with_the_same_parameters():
    members = _members()
    assert len(members) >= 10
    for name in sorted(members):
        assert callable(getattr(Store, name, None)), f"Store has no {name}"
        assert _shape(getattr(Store, name)) == _shape(getattr(ModelReader, name)), name


def _store_reads(path: Path) -> set[str]:
    """Methods called on a name `store` (or on a parameter typed ModelReader), `getattr(store, "x")` included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {"store"} | {a.arg for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                         for a in node.args.args + node.args.kwonlyargs
                         if a.annotation is not None and "ModelReader" in ast.unparse(a.annotation)}
    reads: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
            reads.add(node.attr)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id in names
              and isinstance(node.args[1], ast.Constant)):
            reads.add(node.args[1].value)
    return reads


def test_the_interface_is_exactly_what_the_models_features_and_training_read():
    reads = set().union(*(_store_reads(p) for p in READERS)) - LIFECYCLE
    assert "corpus_matrix" in reads and "labelled_tracks" in reads  # the scan found the reads
    assert reads == _members(), {"read but not in ModelReader": reads - _members(),
                                 "in ModelReader but read nowhere": _members() - reads}


def test_a_reader_with_a_missing_method_is_told_apart():
    """The signature check can fail: a class lacking a member, or with another parameter, does not match."""
    class Partial:
        def labelled_tracks(self): ...
        def known_track_ids(self, with_sampled=True): ...  # positional, not keyword-only

    assert getattr(Partial, "corpus_matrix", None) is None
    assert _shape(Partial.known_track_ids) != _shape(ModelReader.known_track_ids)
