"""The speed figures of issue 27 on one persona home, for this checkout beside another (by default the
29c9044 baseline), in one run: whole processes, each repeated, the median quoted, the ratio taken pair
by pair (the two checkouts run in turn, A B A B, so a drift of the machine's speed hits both alike).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/speed.py --home HARVESTED_HOME --base /work/wt-base29

HARVESTED_HOME is a home as harvested, before `tastebot train` (e.g. one kept by
`benchmarks/recommend.py --quick --families base --personas 1 --keep-homes DIR`: DIR/base/p0-s0). It
is never changed: each checkout trains its own copy with its own code (`--base` names a checkout with
its own `.venv`, made with `make install`). Then:

- `train`: `tastebot train --no-harvest`, each run on a fresh copy of the harvested home;
- `recommend`: `tastebot recommend --offline -n 30` on the home its own checkout trained (one warm-up
  run each first: the first run writes the candidates into the store, the later ones find them there);
- `help`: `tastebot --help`;
- `score`: scoring N candidates (default 100,000) in-process as `recommend` does: the evidence with the
  taste model beside it, then the ranking; each part also alone. The candidates are corpus tracks of
  the home drawn with replacement (a persona home's corpus has ~28,000), half of them with their audio
  features blanked, as a mixed pool has. Median of `--score-repeats` passes in one process, in wall
  seconds and in CPU seconds of the whole process (every thread: on a loaded machine the wall time
  says more about the neighbours than about the code).

Each figure: wall seconds (median, min-max), peak RSS of the process (median), and A/B, the median
of the pair-by-pair ratios. The load average is printed beside each step: the machine is shared.
`--steps` picks the steps (default all); `--json FILE` writes every run's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
STEPS = ("help", "recommend", "train", "score")
ENV = {"OPENBLAS_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def child_env(home: Path | None = None) -> dict[str, str]:
    """The measured processes' environment. Bytecode is written and read, as an installed tastebot
    has it (this machine sets PYTHONDONTWRITEBYTECODE=1, which made every run compile every module
    it imported: 0.2 s of a recommend run); the warm-up runs write it."""
    env = {**os.environ, **ENV}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if home is not None:
        env["TASTEBOT_HOME"] = str(home)
    return env


# -- whole processes ----------------------------------------------------------------------------------
def run_process(argv: list[str], home: Path | None, log: Path) -> dict:
    """One whole process: wall seconds and its peak RSS (MB), from the kernel's accounting of it."""
    env = child_env(home)
    with open(log, "ab") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed (exit {proc.returncode}); see {log}")
    return {"wall_s": wall, "peak_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


class Version:
    def __init__(self, label: str, root: Path, work: Path):
        self.label, self.root = label, root
        self.python = root / ".venv" / "bin" / "python"
        self.tastebot = root / ".venv" / "bin" / "tastebot"
        if not self.tastebot.exists():
            sys.exit(f"{self.tastebot} is missing: run `make install` in {root}")
        self.work = work / label
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = self.work / "output.log"
        self.home: Path | None = None  # the home this version trained, for recommend and score

    def commit(self) -> str:
        out = subprocess.run(["git", "-C", str(self.root), "log", "-1", "--format=%h"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(self.root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "")

    def trained_home(self, harvested: Path, i: int) -> tuple[Path, dict]:
        home = self.work / f"home-{i}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(harvested, home)
        return home, run_process([str(self.tastebot), "train", "--no-harvest"], home, self.log)


def alternate(a: Version, b: Version, runs: int, warmup: int, make) -> dict[str, list[dict]]:
    """`make(version, i)` -> one run's figures, for A and B in turn; warm-up runs are not counted."""
    out: dict[str, list[dict]] = {a.label: [], b.label: []}
    for i in range(warmup + runs):
        for v in (a, b):
            r = make(v, i)
            if i >= warmup:
                out[v.label].append(r)
    return out


def summary(step: str, got: dict[str, list[dict]], a: Version, b: Version, where: str) -> dict:
    ra, rb = got[a.label], got[b.label]
    ratios = [x["wall_s"] / y["wall_s"] for x, y in zip(ra, rb)]
    row = {"step": step, "load": where}
    for v, rs in ((a, ra), (b, rb)):
        walls = [r["wall_s"] for r in rs]
        row[v.label] = {"wall_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
                        "peak_mb": statistics.median(r["peak_mb"] for r in rs),
                        "cpu_s": statistics.median(r["cpu_s"] for r in rs), "runs": rs}
    row["ratio"] = statistics.median(ratios)
    row["ratio_min"], row["ratio_max"] = min(ratios), max(ratios)
    return row


def show(row: dict, a: Version, b: Version) -> None:
    fa, fb = row[a.label], row[b.label]
    print(f"{row['step']:<28} {fa['wall_s']:6.2f} s ({fa['min_s']:.2f}-{fa['max_s']:.2f}) {fa['peak_mb']:5.0f} MB"
          f" | {fb['wall_s']:6.2f} s ({fb['min_s']:.2f}-{fb['max_s']:.2f}) {fb['peak_mb']:5.0f} MB"
          f" | A/B {row['ratio']:.2f} ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})   [{row['load']}]", flush=True)


# -- scoring N candidates, in the version's own interpreter (--step score) -------------------------------
def step_score(n: int, repeats: int) -> dict:
    """Runs under the measured checkout's .venv: its own tastebot is imported (not this file's)."""
    import numpy as np

    from tastebot.models.collab import load_scorer
    from tastebot.settings import load_settings
    from tastebot.store import open_store
    from tastebot.models.runs import load_model
    from tastebot.vocab import AUDIO_FEATURES

    layout_2912 = not (Path(sys.modules["tastebot"].__file__).parent / "models" / "ranker.py").exists()
    if layout_2912:  # 29c9044: one module tastebot.recommend, the ranking in tastebot.ranking
        from tastebot.ranking import evidence_frame
        from tastebot.recommend import score_candidates

        def ranking(model, ev):
            return model.ranker.final(ev)
    else:
        from tastebot.models.ranker import evidence_frame
        from tastebot.recommend.run import score_candidates

        def ranking(model, ev):
            return model.ranking.final(ev)

    settings = load_settings()
    model = load_model(settings)
    with open_store(settings) as store:
        scorer, _ = load_scorer(model.run_dir, corpus_ids=store.corpus_track_ids)
        corpus = store.corpus_tracks_frame()
    rng = np.random.default_rng(1)
    frame = corpus.iloc[rng.integers(0, len(corpus), n)].reset_index(drop=True)
    blank = rng.random(n) < 0.5
    for f in AUDIO_FEATURES:
        if f in frame.columns:
            frame[f] = frame[f].astype(float).mask(blank)
    parts: dict[str, list[float]] = {k: [] for k in ("evidence_s", "mlp_s", "forest_s", "evidence_and_taste_s",
                                                     "ranking_s", "total_s")}
    parts.update({k.replace("_s", "_cpu"): [] for k in list(parts)})
    for _ in range(repeats):
        t, c = [time.perf_counter()], [time.process_time()]  # wall, and CPU of every thread of the process

        def mark() -> None:
            t.append(time.perf_counter())
            c.append(time.process_time())

        scorer.evidence(frame)
        mark()
        model.with_members(("mlp",)).predict(frame)
        mark()
        model.with_members(("forest",)).predict(frame)
        mark()
        raw, taste = score_candidates(scorer, model, frame)
        mark()
        final = ranking(model, evidence_frame(raw, taste))
        mark()
        assert len(final) == n
        for clock, suffix in ((t, "_s"), (c, "_cpu")):
            spans = (clock[1] - clock[0], clock[2] - clock[1], clock[3] - clock[2], clock[4] - clock[3],
                     clock[5] - clock[4], clock[5] - clock[3])
            for k, v in zip(("evidence", "mlp", "forest", "evidence_and_taste", "ranking", "total"), spans):
                parts[k + suffix].append(v)
    return {"candidates": n, **{k: statistics.median(v) for k, v in parts.items()}}


def score_both(a: Version, b: Version, n: int, runs: int, repeats: int) -> dict:
    got: dict[str, list[dict]] = {a.label: [], b.label: []}
    for _ in range(runs):
        for v in (a, b):
            env = child_env(v.home)
            out = subprocess.run([str(v.python), str(HERE), "--step", "score", str(n), str(repeats)], env=env,
                                 capture_output=True, text=True, cwd=str(v.root))
            if out.returncode != 0:
                sys.exit(f"scoring under {v.label} failed:\n{out.stderr[-3000:]}")
            got[v.label].append(json.loads(out.stdout.strip().splitlines()[-1]))
    row = {"step": f"score {n:,}", "load": load()}
    for v in (a, b):
        row[v.label] = {k: statistics.median(r[k] for r in got[v.label]) for k in got[v.label][0]}
    row["ratio"] = statistics.median(x["total_s"] / y["total_s"] for x, y in zip(got[a.label], got[b.label]))
    row["ratio_cpu"] = statistics.median(x["total_cpu"] / y["total_cpu"] for x, y in zip(got[a.label], got[b.label]))
    return row


def show_score(row: dict, a: Version, b: Version) -> None:
    for v in (a, b):
        s = row[v.label]
        for unit, label in (("_s", "s wall"), ("_cpu", "s CPU")):
            print(f"  {v.label:<6} total {s['total' + unit]:.2f} {label} = evidence and taste side by side "
                  f"{s['evidence_and_taste' + unit]:.2f} + ranking {s['ranking' + unit]:.2f}; alone: evidence "
                  f"{s['evidence' + unit]:.2f}, MLP {s['mlp' + unit]:.2f}, forest {s['forest' + unit]:.2f}")
    print(f"  A/B total {row['ratio']:.2f} wall, {row['ratio_cpu']:.2f} CPU   [{row['load']}]", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="a harvested home (before train); never changed")
    ap.add_argument("--base", type=Path, default=Path("/work/wt-base29"), help="the checkout to compare with (B)")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"some of {','.join(STEPS)}")
    ap.add_argument("--runs", type=int, default=5, help="counted runs of help and recommend, per checkout")
    ap.add_argument("--train-runs", type=int, default=3, help="counted runs of train, per checkout")
    ap.add_argument("--candidates", type=int, default=100_000)
    ap.add_argument("--score-runs", type=int, default=3, help="scoring processes per checkout")
    ap.add_argument("--score-repeats", type=int, default=3, help="scoring passes in each process")
    ap.add_argument("--work", type=Path, default=None,
                    help="where the homes go (default: a temporary folder, removed); a later call with the same "
                         "--work and without the train step reuses the homes trained there")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(step_score(int(args.step[1]), int(args.step[2]))))
        return
    if args.home is None or not (args.home / "tastebot.db").exists():
        sys.exit("--home HOME: a harvested tastebot home (its tastebot.db) is required")
    steps = [s for s in args.steps.split(",") if s]
    if set(steps) - set(STEPS):
        sys.exit(f"--steps: some of {','.join(STEPS)}")

    work = args.work or Path(tempfile.mkdtemp(prefix="tastebot-speed-"))
    a, b = Version("A", ROOT, work), Version("B", args.base.resolve(), work)
    print(f"A = {a.root} ({a.commit()}), B = {b.root} ({b.commit()}); home {args.home}; {load()}", flush=True)
    print(f"{'':<28} {'A: median (min-max), peak RSS':<36} | {'B':<34} | A/B", flush=True)
    rows = []
    try:
        if "help" in steps:
            row = summary("tastebot --help", alternate(a, b, args.runs, 1, lambda v, i: run_process(
                [str(v.tastebot), "--help"], None, v.log)), a, b, load())
            show(row, a, b)
            rows.append(row)
        if "train" in steps:
            def train(v: Version, i: int) -> dict:
                home, r = v.trained_home(args.home, i)
                if v.home is None:
                    v.home = home
                else:
                    shutil.rmtree(home)
                return r
            row = summary("train --no-harvest", alternate(a, b, args.train_runs, 0, train), a, b, load())
            show(row, a, b)
            rows.append(row)
        for v in (a, b):
            kept = v.work / "home-0"
            if v.home is None and (kept / "models" / "LATEST").exists():
                v.home = kept  # trained by an earlier call with the same --work
            elif v.home is None and ("recommend" in steps or "score" in steps):
                shutil.rmtree(kept, ignore_errors=True)
                v.home, _ = v.trained_home(args.home, 0)
        if "recommend" in steps:
            row = summary("recommend --offline -n 30", alternate(a, b, args.runs, 1, lambda v, i: run_process(
                [str(v.tastebot), "recommend", "--offline", "-n", "30"], v.home, v.log)), a, b, load())
            show(row, a, b)
            rows.append(row)
        if "score" in steps:
            print(f"scoring {args.candidates:,} candidates (median of {args.score_runs} processes x "
                  f"{args.score_repeats} passes):", flush=True)
            row = score_both(a, b, args.candidates, args.score_runs, args.score_repeats)
            show_score(row, a, b)
            rows.append(row)
    finally:
        if args.json:
            args.json.write_text(json.dumps({"A": str(a.root), "B": str(b.root), "A_commit": a.commit(),
                                             "B_commit": b.commit(), "rows": rows}, indent=2))
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
