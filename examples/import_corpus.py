"""Import a playlist corpus (CSV with `playlist_id,track_id`) into the store, and show its size.

What it shows: `tastebot.imports.corpus.import_corpus(store, paths)`, the library side of
`tastebot corpus import`. A corpus is a collection of other people's playlists; tastebot learns from
which tracks share playlists (the hybrid collaborative score). CSV needs at least `playlist_id` and
`track_id` columns; extra columns (track and artist names, popularity, release date, the audio
features, as in the TidyTuesday Spotify songs table) are read when present. The Spotify Million
Playlist Dataset's `mpd.slice.*.json` files work the same way. Importing the same file again adds
nothing: playlists already in the corpus are skipped.

Run it:
    # write the sandbox catalogue's playlists as a corpus CSV into a temporary home and import it:
    python examples/import_corpus.py --sandbox
    # import your own file into your home:
    TASTEBOT_HOME=~/my-tastebot python examples/import_corpus.py playlists.csv
Options: --json (one JSON document on stdout).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _session import say, session  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="corpus files (CSV or mpd.slice.*.json) or folders of them")
    parser.add_argument("--sandbox", action="store_true",
                        help="export the sandbox catalogue's playlists as a CSV and import it into a temporary home")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = parser.parse_args(argv)
    if not args.paths and not args.sandbox:
        parser.error("name a corpus file (or use --sandbox)")

    from tastebot.errors import TastebotError

    try:
        # Importing needs no Spotify login: the corpus is a local file.
        with session(args.sandbox, log_in=False) as (settings, sandbox):
            paths = [Path(p) for p in args.paths]
            written = None
            if sandbox is not None and not paths:
                from tastebot.sandbox.format import export_corpus_csv

                path = Path(settings.home) / "corpus.csv"
                settings.ensure_home()
                written = export_corpus_csv(sandbox.catalog, path)
                say(f"wrote {written} playlist entries to {path}")
                paths = [path]
            report = import_files(settings, paths)
            report["rows_written"] = written
    except TastebotError as exc:
        say(f"error: {exc.message}")
        return exc.exit_code
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)
    return 0


def csv_rows(path: Path) -> int | None:
    """Data rows of a CSV file (for the comparison printed at the end); None for other files."""
    if path.suffix.lower() != ".csv":
        return None
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)


def import_files(settings, paths: list[Path]) -> dict:
    from tastebot.imports.corpus import import_corpus
    from tastebot.lock import home_lock
    from tastebot.store import open_store

    with home_lock(settings), open_store(settings) as store:
        before = store.corpus_stats()
        say(f"importing {', '.join(str(p) for p in paths)} ...")
        summary = import_corpus(store, paths)
        after = store.corpus_stats()
    return {
        "files": [str(p) for p in paths],
        "csv_rows": {str(p): csv_rows(p) for p in paths if p.is_file()},
        "imported": summary.as_dict(),
        "corpus_before": before,
        "corpus": after,
    }


def print_text(report: dict) -> None:
    s, c = report["imported"], report["corpus"]
    for path, rows in report["csv_rows"].items():
        if rows is not None:
            print(f"{path}: {rows} rows")
    print(f"imported {s['playlists']} playlists, {s['pairs']} playlist entries, {s['new_tracks']} new tracks"
          + (f"; {s['skipped_existing']} playlists were already in the corpus" if s["skipped_existing"] else "")
          + (f"; {s['skipped_rows']} rows skipped (not a Spotify track id)" if s["skipped_rows"] else ""))
    print(f"the corpus now holds {c['playlists']} playlists with {c['pairs']} entries of {c['tracks']} tracks "
          f"({c['imports']} imports)")


if __name__ == "__main__":
    sys.exit(main())
