"""Soak: harvest/recommend cycles with faults on, then SIGKILLs at random moments during harvest,
train, corpus import and playlist writing; the store is compared with a fault-free run's.

    .venv/bin/python benchmarks/soak.py                          # a few minutes (20 cycles, 12 kills)
    .venv/bin/python benchmarks/soak.py --cycles 200 --kills 60  # the figure in docs/reliability.md

Everything runs against a sandbox in this process (loopback only) and a temporary home. The cycles
run in-process (the library, like the CLI does); the kills run `python -m tastebot` in subprocesses.
Prints: cycles, faults injected by kind (from the sandbox's stats), kills per kind, and what was
lost (compared with the fault-free reference). Exit status 0 when nothing was lost, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

CLIENT_ID = "0123456789abcdef0123456789abcdef"
HARVEST = ["harvest", "--sampled-negatives", "never"]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.tmp = Path(tempfile.mkdtemp(prefix="tastebot-soak-"))
        self.faults: Counter[str] = Counter()
        self.kills: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.lost: list[str] = []

    # -- setup ----------------------------------------------------------------------------------
    def start(self) -> None:
        import tastebot.sandbox.faults as faults
        from login_helpers import login_to, sandbox_settings

        from tastebot.sandbox import Sandbox
        from tastebot.sandbox.format import export_corpus_csv

        faults.RATE_WINDOW_S = 2.0  # a short rolling window: 429 storms come and go within a cycle
        self.sb = Sandbox(seed=self.args.seed, n_tracks=self.args.tracks).start()
        self.home = self.tmp / "home"
        self.ref_home = self.tmp / "reference"
        self.settings = sandbox_settings(self.sb, home=str(self.home), insecure_storage=True, max_wait=3.0)
        self.ref_settings = sandbox_settings(self.sb, home=str(self.ref_home), insecure_storage=True)
        login_to(self.sb, settings=self.settings)
        login_to(self.sb, settings=self.ref_settings)
        self.corpus_csv = self.tmp / "corpus.csv"
        export_corpus_csv(self.sb.catalog, self.corpus_csv)
        from tastebot.imports.corpus import import_corpus
        from tastebot.store import open_store

        for settings in (self.settings, self.ref_settings):  # the listener's corpus: candidates for playlists
            with open_store(settings) as store:
                import_corpus(store, [self.corpus_csv])
        self.env = dict(os.environ, TASTEBOT_HOME=str(self.home), TASTEBOT_SPOTIFY_URL=self.sb.url,
                        TASTEBOT_CLIENT_ID=CLIENT_ID, TASTEBOT_INSECURE_STORAGE="1", TASTEBOT_MAX_WAIT="3",
                        PYTHONPATH=str(ROOT), COLUMNS="200")

    def stop(self) -> None:
        self.sb.stop()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------
    def count_faults(self) -> None:
        for endpoint, per in self.sb.stats()["requests"].items():
            for status, n in per.items():
                if status == "dropped":
                    self.faults["dropped connection"] += n
                elif status == "429":
                    self.faults["429 rate limit"] += n
                elif status in ("500", "502", "503"):
                    self.faults[f"{status}"] += n
        self.sb.reset_stats()

    def harvest(self, settings) -> str:
        from tastebot.errors import TastebotError
        from tastebot.harvest import Harvester, HarvestOptions
        from tastebot.lock import home_lock
        from tastebot.spotify.client import SpotifyClient
        from tastebot.store import open_store

        try:
            with home_lock(settings), open_store(settings) as store:
                client = SpotifyClient(settings, countdown=lambda s, service: time.sleep(s))
                Harvester(settings, client, store, HarvestOptions(sampled_negatives="never")).run()
            return "done"
        except TastebotError as exc:
            return f"stopped ({exc.exit_code})"

    def recommend(self, settings) -> str:
        from tastebot.errors import TastebotError
        from tastebot.recommend import RecommendOptions, recommend
        from tastebot.spotify.client import SpotifyClient
        from tastebot.store import open_store

        try:
            with open_store(settings) as store:
                client = SpotifyClient(settings, countdown=lambda s, service: time.sleep(s))
                result = recommend(settings, store, client, RecommendOptions(n=20, use_search=False, use_corpus=False),
                                   model=self.model)
            if not result.recommendations:
                return "empty"
            return "done"
        except TastebotError as exc:
            return f"stopped ({exc.exit_code})"

    def snapshot(self, settings) -> dict:
        from tastebot.store import open_store

        with open_store(settings) as s:
            if s.integrity_check() != "ok":
                self.lost.append(f"integrity_check failed in {settings.store_path}")
            return {"dump": s.dump_library(), "counts": s.library_counts(), "labels": s.label_counts(),
                    "features": s.feature_provider_counts(), "corpus": s.corpus_stats()}

    def cli(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tastebot", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def kill_during(self, kind: str, args: list[str], window: tuple[float, float], trigger=None) -> bool:
        """Start the command, SIGKILL it after a random delay (from when `trigger()` first holds, if
        given); True when it was killed while still running."""
        proc = subprocess.Popen([sys.executable, "-m", "tastebot", *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start = time.monotonic()
        if trigger is not None:
            while proc.poll() is None and not trigger() and time.monotonic() - start < 120:
                time.sleep(0.005)
        time.sleep(self.rng.uniform(*window))
        killed = proc.poll() is None
        if not killed and proc.returncode != 0:
            self.outcomes[f"{kind} exited {proc.returncode} before its kill"] += 1
        if killed:
            proc.send_signal(signal.SIGKILL)
            self.kills[kind] += 1
        proc.wait(timeout=60)
        return killed

    # recommend caches the metadata and features of its candidates in the store: extra rows there
    # are not a difference in what was harvested. Every other table must match exactly.
    CACHE_TABLES = ("tracks", "albums", "artists", "features")

    def compare(self, what: str, got: dict, want: dict) -> None:
        for table in want["dump"]:
            a, b = set(want["dump"][table]), set(got["dump"].get(table, []))
            missing, extra = len(a - b), (0 if table in self.CACHE_TABLES else len(b - a))
            if missing or extra:
                self.lost.append(f"{what}: {table}: {missing} rows missing, {extra} extra")
        if got["labels"] != want["labels"]:
            self.lost.append(f"{what}: labels {got['labels']} != {want['labels']}")

    # -- phases ---------------------------------------------------------------------------------
    def reference(self) -> None:
        log("reference: a fault-free harvest")
        assert self.harvest(self.ref_settings) == "done"
        self.ref = self.snapshot(self.ref_settings)
        self.sb.reset_stats()

    def cycles(self) -> None:
        from tastebot.models.runs import load_model

        self.model = None
        try:
            self.model = load_model(self.settings)
        except Exception:
            pass
        log(f"cycles: {self.args.cycles} harvest/recommend cycles with faults on")
        kinds = ["5xx", "drops", "429", "latency", "mixed"]
        for i in range(self.args.cycles):
            kind = kinds[i % len(kinds)]
            config = {"fault_rate": 0.0, "drop_rate": 0.0, "rate_limit": None, "retry_after": 1, "latency_ms": 0}
            if kind in ("5xx", "mixed"):
                config["fault_rate"] = self.rng.uniform(0.1, 0.35)
            if kind in ("drops", "mixed"):
                config["drop_rate"] = self.rng.uniform(0.05, 0.2)
            if kind in ("429", "mixed"):
                config["rate_limit"] = self.rng.randint(8, 20)
                config["retry_after"] = self.rng.choice([1, 1, 2])
            if kind in ("latency", "mixed"):
                config["latency_ms"] = self.rng.choice([5, 20, 60])
                self.faults["latency spike cycles"] += 1
            self.sb.configure(**config)
            if i % 3 == 0:
                # Every third harvest starts from nothing: the whole library is read under faults.
                for p in self.home.glob("tastebot.db*"):
                    p.unlink()
            h = self.harvest(self.settings)
            r = self.recommend(self.settings) if i % self.args.recommend_every == 0 else "skipped"
            self.outcomes[f"harvest {h}"] += 1
            self.outcomes[f"recommend {r}"] += 1
            self.count_faults()
            if (i + 1) % 10 == 0:
                log(f"  cycle {i + 1}: {dict(self.outcomes)}")
        self.sb.configure(fault_rate=0.0, drop_rate=0.0, rate_limit=None, latency_ms=0)
        while self.harvest(self.settings) != "done":  # the next fault-free run completes
            pass
        self.compare("after the cycles", self.snapshot(self.settings), self.ref)
        from tastebot.imports.corpus import import_corpus
        from tastebot.store import open_store

        with open_store(self.settings) as store:  # cycles started from nothing at times: the corpus again
            import_corpus(store, [self.corpus_csv])

    def kill_harvests(self, n: int) -> None:
        log(f"kills: {n} during harvest")
        self.sb.configure(latency_ms=100)
        for _ in range(3 * n):  # until n kills landed while the command ran (bounded)
            if self.kills["harvest"] >= n:
                break
            self.kill_during("harvest", HARVEST + ["--full"], (0.8, 3.0))
            self.snapshot(self.settings)  # integrity after every kill
        self.sb.configure(latency_ms=0)
        result = self.cli(HARVEST)
        if result.returncode != 0:
            self.lost.append(f"harvest after kills exited {result.returncode}: {result.stderr[-300:]}")
        self.compare("after harvest kills", self.snapshot(self.settings), self.ref)

    def kill_corpus_imports(self, n: int) -> None:
        log(f"kills: {n} during corpus import")
        big = self.tmp / "big-corpus.csv"
        rng = random.Random(3)
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        with big.open("w", encoding="utf-8") as fh:
            fh.write("playlist_id,track_id\n")
            for i in range(self.args.corpus_rows):
                fh.write(f"SOAK{i // 50:06d},{''.join(rng.choice(alphabet) for _ in range(22))}\n")
        before = self.snapshot(self.settings)["corpus"]
        for _ in range(3 * n):
            if self.kills["corpus import"] >= n:
                break
            self.kill_during("corpus import", ["corpus", "import", str(big)], (0.5, 4.0))
            now = self.snapshot(self.settings)["corpus"]
            if now not in (before,) and now["playlists"] != before["playlists"] + self.args.corpus_rows // 50:
                self.lost.append(f"corpus half-imported after a kill: {now}")
        done = self.cli(["corpus", "import", str(big)])
        if done.returncode != 0:
            self.lost.append(f"corpus import after kills exited {done.returncode}: {done.stderr[-300:]}")
        final = self.snapshot(self.settings)["corpus"]
        if final["playlists"] != before["playlists"] + self.args.corpus_rows // 50:
            self.lost.append(f"corpus after kills: {final} (before {before})")

    def kill_trains(self, n: int) -> None:
        from tastebot.models.runs import LATEST, load_model

        log(f"kills: {n} during train")
        models = self.home / "models"
        for _ in range(3 * n):
            if self.kills["train"] >= n:
                break
            self.kill_during("train", ["train", "--epochs", "8", "--ensemble", "1", "--no-harvest"], (1.0, 14.0))
            latest = models / LATEST
            if latest.exists():
                try:
                    load_model(self.settings)
                except Exception as exc:  # a pointer to a half-written model
                    self.lost.append(f"LATEST points to a model that does not load after a kill: {exc}")
        done = self.cli(["train", "--epochs", "8", "--ensemble", "1", "--no-harvest"], timeout=600)
        if done.returncode != 0:
            self.lost.append(f"train after kills exited {done.returncode}: {done.stderr[-300:]}")
        try:
            self.model = load_model(self.settings)
        except Exception as exc:
            self.lost.append(f"LATEST model does not load: {exc}")

    def kill_playlists(self, n: int) -> None:
        log(f"kills: {n} during playlist writing")
        self.sb.configure(latency_ms=80)
        for k in range(3 * n):
            if self.kills["playlist writing"] >= n:
                break
            self.sb.reset_stats()
            name = f"soak {k}"
            args = ["recommend", "-n", "20", "--max-per-artist", "0", "--no-search",
                    "--create-playlist", "--name", name]
            early = self.rng.random() < 0.3
            self.kill_during("playlist writing", args, (0.0, 0.3) if not early else (0.0, 3.0),
                             trigger=None if early else self._playlist_created)
            # Run again: an unfinished playlist is finished, never created twice.
            from tastebot.store import open_store

            with open_store(self.settings) as s:
                unfinished = bool(s.unfinished_playlists())
            if unfinished:
                again = self.cli(args)
                if again.returncode != 0:
                    self.lost.append(f"playlist resume exited {again.returncode}: {again.stderr[-300:]}")
        self.sb.configure(latency_ms=0)
        from tastebot.store import open_store

        with open_store(self.settings) as s:
            planned = {p["id"]: p for p in s.created_playlists()}
            if s.unfinished_playlists():
                self.lost.append("a playlist is still unfinished after its resume")
        own = {p["id"]: p for p in self.sb.snapshot()["playlists"] if p["name"].startswith("soak ")}
        names = Counter(p["name"] for p in own.values())
        self.playlists = len(own)
        for name, c in names.items():
            if c > 1:
                self.lost.append(f"playlist {name!r} created {c} times")
        for pid, p in own.items():
            items = [t for t in p["track_ids"] if t]
            if len(items) != len(set(items)):
                self.lost.append(f"playlist {p['name']!r} has a track twice")
            if pid not in planned:
                self.lost.append(f"playlist {p['name']!r} is on Spotify but not in the store")
            elif planned[pid]["status"] == "complete" and items != planned[pid]["track_ids"]:
                self.lost.append(f"playlist {p['name']!r}: items differ from the store's plan")

    def _playlist_created(self) -> bool:
        return (self.sb.count("POST /v1/me/playlists") + self.sb.count("POST /v1/users/{id}/playlists")) > 0

    def final_checks(self) -> None:
        from tastebot.models.runs import load_model

        snap = self.snapshot(self.settings)
        self.final_counts = snap["counts"]
        if self.args.kills:
            try:
                load_model(self.settings)
            except Exception as exc:
                self.lost.append(f"LATEST model does not load at the end: {exc}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20, help="harvest/recommend cycles with faults on")
    parser.add_argument("--kills", type=int, default=12, help="SIGKILLs, shared among harvest, corpus import, "
                                                                "train and playlist writing")
    parser.add_argument("--tracks", type=int, default=600, help="size of the sandbox catalogue")
    parser.add_argument("--recommend-every", type=int, default=2, help="recommend in every k-th cycle")
    parser.add_argument("--corpus-rows", type=int, default=150_000, help="rows of the corpus CSV killed during import")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args()

    soak = Soak(args)
    started = time.monotonic()
    soak.start()
    try:
        soak.reference()
        soak.cycles()
        share = [args.kills // 4 + (1 if i < args.kills % 4 else 0) for i in range(4)]
        if share[0]:
            soak.kill_harvests(share[0])
        if share[1]:
            soak.kill_corpus_imports(share[1])
        if share[2]:
            soak.kill_trains(share[2])
        if share[3]:
            soak.kill_playlists(share[3])
        soak.count_faults()
        soak.final_checks()
    finally:
        soak.stop()
    figures = {
        "command": " ".join([Path(sys.executable).name, "benchmarks/soak.py", *sys.argv[1:]]),
        "cycles": args.cycles,
        "outcomes": dict(soak.outcomes),
        "faults_injected": dict(soak.faults),
        "kills": dict(soak.kills),
        "kills_total": sum(soak.kills.values()),
        "playlists_written": getattr(soak, "playlists", 0),
        "final_store": getattr(soak, "final_counts", {}),
        "lost": soak.lost or "nothing",
        "seconds": round(time.monotonic() - started, 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"cycles: {figures['cycles']}  ({', '.join(f'{k}: {v}' for k, v in sorted(soak.outcomes.items()))})")
        print("faults injected: " + ", ".join(f"{k}: {v}" for k, v in sorted(soak.faults.items())))
        print(f"kills: {figures['kills_total']}  (" + ", ".join(f"{k}: {v}" for k, v in sorted(soak.kills.items())) + ")")
        print(f"playlists written under kills: {figures['playlists_written']}")
        print(f"lost: {figures['lost']}")
        print(f"time: {figures['seconds']} s")
    return 0 if not soak.lost else 1


if __name__ == "__main__":
    sys.exit(main())
