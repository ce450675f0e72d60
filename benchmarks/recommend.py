"""Benchmark of what ships: tastebot's own `recommend()` end to end, against peers, on real playlists.

Worlds are built from `../shared/data/tidytuesday_spotify_songs.csv` (28,356 real tracks in 471 real
genre playlists; read in place, never copied; the benchmark skips when it is absent) by
benchmarks/worlds.py. For every case the product runs as a user runs it (benchmarks/product.py): the
sandbox starts in-process with the world's catalogue (development app profile), tastebot logs in
(token file in a temporary home), imports the other users' playlists as the corpus, harvests (the
dislike playlist named), trains once (`train_from_store`, --ensemble/--epochs), and recommends once
per variant from that home (--variants; default all four: the default, `--blend 0`, `--blend 1`,
`--blend 1 --taste-model mlp`). Product defaults everywhere except n.

Protocols (issue 11, item 4):
- personas: the listener owns 30 % of the playlists of one or two subgenres (also saved and top
  tracks); the tracks of the other playlists of those subgenres are the hidden future likes; a
  playlist of a subgenre of another genre is the own dislike playlist "Not for me". Recommend n=100;
  precision at 10, 30, 100 against the future likes.
- labels: likes from one or two subgenres, an own dislike playlist from another genre's subgenre or a
  random mix of other genres, and a playlist of test songs (at most two per artist) by artists
  that appear nowhere in the listener's library, created by the listener after training and ranked
  with `RecommendOptions(from_playlists=(it,), n=its size)`. ROC-AUC of the returned order against
  the labels; test songs the product leaves out (never-heard filter, max-per-artist) rank last and
  are counted.
- labels, apart (`--labels-apart`, a stricter check of ours, not in the issue): the same cases, but
  the test songs come from other playlists than the training ones (likes: the taste's playlists the
  listener does not own; dislikes: every other one of the dislike playlists), and never sit in the
  training ones. In the plain protocol a test dislike shares its corpus playlists with the named
  dislikes, which makes corpus evidence about the dislikes strong; here it speaks only through
  playlists that happen to hold both.

Families (issue 24, item 1): each varies ONE axis of the base persona (own playlists, an own "Not
for me" dislike playlist, 30 % of the taste's playlists known, a corpus file with audio features,
the taste one or two subgenres as above); the labels keep their protocols as families of their own.

| family | what changes |
|---|---|
| base | nothing (the persona above, draw for draw) |
| dislikes-public | the dislike playlist is a public one owned by a curator (it stays in the corpus); harvest is given it with --dislike-playlist and the development app refuses its items, so only sampled negatives remain (what harvest said is printed and kept in the JSON) |
| dislikes-none | no dislike playlist at all |
| knows-public | the known playlists are public corpus playlists curated by others (they stay in the corpus); the listener has every track saved, plus two own playlists of 20 tracks sampled from them |
| knows-saved | saved tracks only: no own like playlists (the known playlists are nobody's) |
| share-10, share-50 | 10 % or 50 % of the taste's playlists known |
| corpus-ids | the corpus CSV has playlist_id,track_id only (as MPD slices and history sessions); the sandbox catalogue still knows every track's features, so ReccoBeats can serve them |
| taste-one, taste-near, taste-far | one subgenre; two subgenres of one genre; two subgenres of two genres |
| labels, labels-apart | the label protocols above (ROC-AUC) |

Worlds are deterministic per (family, persona index, seed), and a family keeps every draw of the
base persona but the axis it changes (the same playlists, dislike playlist and catalogue order).

Peers (benchmarks/peers.py) see only what the product could see: random, popularity, co-occurrence
item kNN, playlist-normalised co-occurrence, content kNN, implicit ALS and BM25 (corpus + own
playlists), random forest and HistGradientBoosting on features with sampled negatives (the settings
include 500 trees against 2,000 random unheard tracks), each tuned on a validation part of the
listener's own data. They score every catalogue track the listener does not know (one id per
song), or the test songs. In dislikes-public and dislikes-none they get no dislikes (the product
reads none). Their features are the sound, duration and year, never Spotify's popularity (a
development app never reads it for its own tracks); in corpus-ids the sound alone (the product can
fetch it; no source gives an ids-only corpus track its duration or year), and popularity there is
the corpus's count of playlists.

Output per family: per-case tables (P@10/30/100, or ROC-AUC), mean +- std per method, and the
default against the peers: its mean P@30 against the best single peer method's mean, and against
the best peer of each case (ratio default / best peer of the case, flagged under 0.6); then an
overview of every family with the seconds each took. Progress on stderr; every number in --json,
rewritten after each case.

    OPENBLAS_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 \\
        .venv/bin/python benchmarks/recommend.py --json bench-recommend.json
    # every family, 4 personas x 3 seeds (3 label cases x 3 seeds); pick some: --families base,knows-public
    # smoke run: --quick (2 personas, 1 seed, 2 label cases, ensemble 1, 10 epochs)

--personas and --label-cases are per seed and family: the default (4 personas, 3 label cases, 3
seeds) runs 12 personas per persona family and 9 cases per label family.

Iterating on the ranking (the harvest and the peers are the slow, unchanging part):

    .venv/bin/python benchmarks/recommend.py --quick --families base,knows-public --keep-homes ~/bench-homes
    .venv/bin/python benchmarks/recommend.py --quick --families base,knows-public --reuse-homes ~/bench-homes \\
        --variants default,blend1

--keep-homes DIR keeps each persona case's home as harvested (after login, corpus import and
harvest, before train; no token) in DIR/FAMILY/pI-sS with world.json (the case, its future likes)
and peers.json (the peers' figures). --reuse-homes DIR trains and recommends on a copy of each kept
home of the chosen families, OFFLINE (client None: corpus candidates only, no search, albums,
discovery or feature fetching, so the figures differ from a full run's), and compares with the kept
peers' figures. Label cases are not kept: ranking their test playlist needs the sandbox.
--variants picks the product variants (default, blend0, blend1, mlp; default all four; also nomlp,
forest1 and nodiscovery, the default with --no-discovery; and rank-fusion, rank-taste, rank-collab:
the kinds of ranking the per-listener choice picks from besides the learned one, `recommend --ranking
KIND`, to set the choice beside the kind that was right for each case).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

from product import RANKED  # noqa: E402
from worlds import DATA  # noqa: E402

KS = (10, 30, 100)
SHORT = {"tastebot": "tastebot", "tastebot --blend 0": "blend 0", "tastebot --blend 1": "blend 1",
         "tastebot --blend 1 --taste-model mlp": "MLP", "tastebot --taste-model forest": "no MLP",
         "tastebot --blend 1 --taste-model forest": "forest 1", "tastebot --no-discovery": "no disc.",
         **{f"tastebot --ranking {kind}": f"r {kind}" for kind in RANKED},
         "logistic regression": "logistic",
         "random": "random", "popularity": "popular", "co-occurrence kNN": "cooc kNN",
         "playlist-normalised co-occurrence": "cooc/len", "content kNN": "content", "implicit ALS": "ALS",
         "implicit BM25": "BM25", "random forest": "forest", "hist. gradient boosting": "HGB"}
VARIANT_ALIASES = {"default": "tastebot", "blend0": "tastebot --blend 0", "blend1": "tastebot --blend 1",
                   "mlp": "tastebot --blend 1 --taste-model mlp", "nomlp": "tastebot --taste-model forest",
                   "forest1": "tastebot --blend 1 --taste-model forest", "nodiscovery": "tastebot --no-discovery",
                   **{f"rank-{kind}": f"tastebot --ranking {kind}" for kind in RANKED}}
LOW_RATIO = 0.6  # issue 24: every case at least 0.6 x the best peer of that case


def families() -> dict[str, tuple[str, object]]:
    """{family: ("persona", PersonaSpec) | ("labels", apart)}: the base, then one axis changed each."""
    from worlds import BASE, PersonaSpec as S

    return {"base": ("persona", BASE),
            "dislikes-public": ("persona", S(dislikes="public")), "dislikes-none": ("persona", S(dislikes="none")),
            "knows-public": ("persona", S(knows="public")), "knows-saved": ("persona", S(knows="saved")),
            "share-10": ("persona", S(share=0.1)), "share-50": ("persona", S(share=0.5)),
            "corpus-ids": ("persona", S(corpus="ids")),
            "taste-one": ("persona", S(taste="one")), "taste-near": ("persona", S(taste="near")),
            "taste-far": ("persona", S(taste="far")),
            "labels": ("labels", False), "labels-apart": ("labels", True)}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- metrics (tastebot.evaluation's, issue 26) ---------------------------------------------------------
def precisions(order: list[str], future: set[str]) -> dict[str, float]:
    from tastebot.evaluation import precision_at_k

    return {f"P@{k}": precision_at_k(order, future, k) for k in KS}


def order_auc(order: list[str], labels: dict[str, int]) -> tuple[float, int]:
    """ROC-AUC of a ranked list against labels (missing tracks rank last, tied), and how many were missing."""
    from tastebot.evaluation import roc_auc_of_order

    listed = set(order)
    return roc_auc_of_order(order, labels), sum(1 for t in labels if t not in listed)


def top_ids(items: np.ndarray, cands: np.ndarray, scores: np.ndarray, k: int = max(KS)) -> list[str]:
    return [str(t) for t in items[cands[np.argsort(-scores, kind="stable")[:k]]]]


def is_peer(method: str) -> bool:
    return not method.startswith("tastebot")


# -- one case ------------------------------------------------------------------------------------------
def peer_candidates(songs, world, k) -> np.ndarray:
    """Every catalogue track the listener does not know, one id per song (as never-heard does)."""
    from tastebot.names import title_artist_key

    if world.kind == "labels":
        return np.array([k.index[t] for t in world.test_tracks])
    known = set(world.likes) | set(world.dislikes)
    t = songs.tracks
    keys = [title_artist_key(n, a) for n, a in zip(t["track_name"], t["track_artist"])]
    known_keys = {key for tid, key in zip(t.index, keys) if tid in known}
    seen, out = set(), []
    for i, (tid, key) in enumerate(zip(t.index, keys)):
        if tid in known or key in known_keys or (key is not None and key in seen):
            continue
        seen.add(key)
        out.append(i)
    return np.array(out)


_PEER_CACHE: dict[str, tuple] = {}


def peer_view(world) -> str:
    """What the peers see of a world (and what they are scored on): two families that differ only
    where the peers cannot look (a refused or absent dislike playlist) give the same peers' figures,
    computed once. The corpus file's columns they see (peers.knowledge)."""
    view = [world.kind, world.seed, world.ids_only_corpus, world.likes, world.dislikes, world.corpus_playlists,
            sorted((p, v) for p, v in world.own_playlists.items() if p != world.dislike_playlist),
            sorted(world.future), world.test_tracks, sorted(world.test_labels.items())]
    return hashlib.sha1(json.dumps(view, default=str).encode()).hexdigest()


def peer_metrics(songs, world, cache_dir: Path | None = None) -> tuple[dict, dict, float | None, int]:
    """The peers' figures of a world; with `cache_dir` (--peer-cache) kept on disk by the world's view
    and the peers' code, so a re-run that changes only the product skips them."""
    key = peer_view(world)
    if key in _PEER_CACHE:
        say("    peers: the same view as an earlier case's, figures reused")
        return _PEER_CACHE[key]
    path = None
    if cache_dir is not None:
        code = hashlib.sha1((HERE / "peers.py").read_bytes()).hexdigest()[:12]
        path = cache_dir / f"{key}-{code}.json"
        if path.is_file():
            say(f"    peers: figures from {path}")
            _PEER_CACHE[key] = tuple(json.loads(path.read_text()))
            return _PEER_CACHE[key]
    _PEER_CACHE[key] = _peer_metrics(songs, world)
    if path is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_PEER_CACHE[key], default=str))
    return _PEER_CACHE[key]


def _peer_metrics(songs, world) -> tuple[dict, dict, float | None, int]:
    from peers import knowledge, score_peers

    k = knowledge(songs, world)
    cands = peer_candidates(songs, world, k)
    scores, settings = score_peers(k, world.kind, cands, world.seed, say=say)
    metrics = {}
    for name, s in scores.items():
        if world.kind == "persona":
            metrics[name] = precisions(top_ids(k.items, cands, s), world.future)
        else:
            metrics[name] = {"ROC-AUC": order_auc(top_ids(k.items, cands, s, len(cands)), world.test_labels)[0]}
    future_rate = (sum(1 for t in k.items[cands] if t in world.future) / len(cands)) if world.kind == "persona" else None
    return metrics, settings, future_rate, int(len(cands))


def product_metrics(world_kind: str, picks: dict, future: set, labels: dict) -> tuple[dict, dict]:
    metrics, dropped = {}, {}
    for name, order in picks.items():
        if world_kind == "persona":
            metrics[name] = precisions(order, future)
        else:
            auc, dropped[name] = order_auc(order, labels)
            metrics[name] = {"ROC-AUC": auc}
    return metrics, dropped


def keep_dir(args, family: str, world) -> Path | None:
    if not args.keep_homes or world.kind != "persona":
        return None
    return args.keep_homes / family / f"p{world.index}-s{world.seed}"


def run_case(songs, world, args) -> dict:
    from product import run_product

    t0 = time.perf_counter()
    kept = keep_dir(args, world.family, world)
    product = run_product(world, ensemble=args.ensemble, epochs=args.epochs, seed=world.seed, variants=args.variants,
                          keep=kept)
    t1 = time.perf_counter()
    pm, settings, future_rate, n_cands = peer_metrics(songs, world, args.peer_cache)
    if kept is not None:  # --reuse-homes compares against these without running the peers again
        (kept / "peers.json").write_text(json.dumps({"metrics": pm, "settings": settings}, indent=1, default=str))
    metrics, dropped = product_metrics(world.kind, product["picks"], world.future, world.test_labels)
    metrics.update(pm)
    return {"family": world.family, "case": world.name, "index": world.index, "seed": world.seed, "kind": world.kind,
            "info": world.info, "likes": len(world.likes), "dislikes": len(world.dislikes),
            "future_likes": len(world.future), "test_songs": len(world.test_tracks), "peer_candidates": n_cands,
            "future_share_of_candidates": future_rate,
            "metrics": metrics, "dropped_test_songs": dropped, "peer_settings": settings, "product": product["facts"],
            "seconds": {"product": round(t1 - t0, 1), "peers": round(time.perf_counter() - t1, 1)}}


def run_reused_case(kept: Path, args) -> dict:
    """--reuse-homes: train + recommend (offline) on a kept home; the peers' figures are the kept ones."""
    from product import run_reused

    world = json.loads((kept / "world.json").read_text())
    t0 = time.perf_counter()
    product = run_reused(kept, ensemble=args.ensemble, epochs=args.epochs, seed=world["seed"], variants=args.variants)
    metrics, _ = product_metrics("persona", product["picks"], set(world["future_likes"]), {})
    peers_file = kept / "peers.json"
    peers = json.loads(peers_file.read_text()) if peers_file.is_file() else {"metrics": {}, "settings": {}}
    metrics.update(peers["metrics"])
    return {"family": world["family"], "case": world["case"], "index": world["index"], "seed": world["seed"],
            "kind": "persona", "info": world["info"], "likes": world["likes"], "future_likes": len(world["future_likes"]),
            "kept_home": str(kept), "metrics": metrics, "peer_settings": peers["settings"], "product": product["facts"],
            "seconds": {"product": round(time.perf_counter() - t0, 1), "peers": 0.0}}


# -- report --------------------------------------------------------------------------------------------
def table(rows: list[dict], metric: str) -> str:
    methods = list(dict.fromkeys(m for r in rows for m in r["metrics"]))
    head = f"{'case':<42}{'seed':>5}" + "".join(f"{SHORT.get(m, m)[:9]:>10}" for m in methods)
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['case'][:41]:<42}{r['seed']:>5}"
                     + "".join(f"{r['metrics'].get(m, {}).get(metric, float('nan')):>10.3f}" for m in methods))
    return "\n".join(lines)


def summary(rows: list[dict], metrics: list[str]) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for m in dict.fromkeys(m for r in rows for m in r["metrics"]):
        out[m] = {}
        for key in metrics:
            vals = [r["metrics"][m][key] for r in rows if m in r["metrics"]]
            out[m][key] = [float(np.mean(vals)), float(np.std(vals)), len(vals)]
    return out


def summary_table(summ: dict, metrics: list[str]) -> str:
    head = f"{'method':<36}" + "".join(f"{k + ' mean +- std':>22}" for k in metrics)
    lines = [head, "-" * len(head)]
    for m, by in summ.items():
        lines.append(f"{m:<36}" + "".join(f"{by[k][0]:>14.3f} +- {by[k][1]:.3f}" for k in metrics))
    return "\n".join(lines)


def versus_peers(rows: list[dict], key: str, default: str) -> dict:
    """The default against the best single peer method (by mean) and against the best peer of each
    case (ratio default / best peer of the case; under LOW_RATIO is flagged)."""
    methods = list(dict.fromkeys(m for r in rows for m in r["metrics"]))
    peers = [m for m in methods if is_peer(m)]
    left_out = [r for r in rows if not all(m in r["metrics"] for m in peers)]  # a kept home without peers.json
    rows = [r for r in rows if r not in left_out]
    if not peers or not rows or default not in rows[0]["metrics"]:
        return {}
    means = {m: float(np.mean([r["metrics"][m][key] for r in rows])) for m in peers}
    best_method = max(means, key=means.get)
    cases = []
    for r in rows:
        best = max(peers, key=lambda m: r["metrics"][m][key])
        d, b = r["metrics"][default][key], r["metrics"][best][key]
        ratio = d / b if b > 0 else float("nan")
        cases.append({"case": r["case"], "seed": r["seed"], "default": d, "best_peer": best, "best_peer_value": b,
                      "ratio": ratio, "low": bool(b > 0 and ratio < LOW_RATIO)})
    return {"metric": key, "default": default, "default_mean": float(np.mean([c["default"] for c in cases])),
            "best_single_peer": best_method, "best_single_peer_mean": means[best_method],
            "best_peer_of_case_mean": float(np.mean([c["best_peer_value"] for c in cases])),
            "cases": cases, "cases_under_ratio": sum(c["low"] for c in cases),
            "cases_without_peers": [f"{r['case']} s{r['seed']}" for r in left_out]}


def print_versus(v: dict) -> None:
    key = v["metric"]
    print(f"\n{v['default']} mean {key} {v['default_mean']:.3f} | best single peer method: {v['best_single_peer']} "
          f"{v['best_single_peer_mean']:.3f} | best peer of each case, mean {v['best_peer_of_case_mean']:.3f}")
    if v.get("cases_without_peers"):
        print(f"  (left out, no peers' figures kept: {', '.join(v['cases_without_peers'])})")
    for c in v["cases"]:
        flag = f"  <-- under {LOW_RATIO} x" if c["low"] else ""
        print(f"  {c['case'][:40]:<41}s{c['seed']}: {c['default']:.3f} vs {SHORT.get(c['best_peer'], c['best_peer'])} "
              f"{c['best_peer_value']:.3f} (ratio {c['ratio']:.2f}){flag}")


def report_family(name: str, fam: dict, default: str) -> dict:
    rows = fam["cases"]
    if not rows:
        return {}
    persona = rows[0]["kind"] == "persona"
    metrics = [f"P@{k}" for k in KS] if persona else ["ROC-AUC"]
    print(f"\n== family {name}: {len(rows)} cases, {fam['seconds']:.0f} s ==")
    for key in metrics:
        print(f"\n{key} per case (columns: " + ", ".join(f"{SHORT.get(m, m)} = {m}" for m in rows[0]["metrics"]) + ")")
        print(table(rows, key))
    if persona and "future_share_of_candidates" in rows[0]:
        print("\nfuture likes per case (share of the unheard tracks = random's expected precision; how many "
              "co-occur in a corpus playlist with a like; future-like playlists sharing a track with the likes):")
        for r in rows:
            i = r["info"]
            print(f"  {r['case']} s{r['seed']}: {r['future_likes']} ({r['future_share_of_candidates']:.3f}); "
                  f"{i['future_likes_cooccurring_with_a_like']} co-occur; {i['future_playlists_sharing_a_like']} "
                  f"of {i['future_playlists']} playlists share a like; dislikes from {i['dislike_subgenre']}")
    for r in rows:
        given = (r.get("product") or {}).get("dislike_sources")
        if given is not None and r["info"].get("dislikes") == "public":
            refused = bool(given) and all(g["status"] != "used" for g in given)
            print(f"  {r['case']} s{r['seed']}: harvest on the public dislike playlist: "
                  + "; ".join(f"{g['status']}: {g['detail']}" for g in given) + f"; labels {r['product']['labels']}"
                  + ("" if refused else "  <-- NOT refused: this case does not test what the family says"))
    if not persona:
        print("\ntest songs the product left out (ranked last): " + "; ".join(
            f"{r['case']} s{r['seed']}: " + ", ".join(f"{SHORT.get(v, v)} {n}" for v, n in r["dropped_test_songs"].items())
            for r in rows))
    summ = summary(rows, metrics)
    print(f"\n{name}: mean +- std over {len(rows)} cases")
    print(summary_table(summ, metrics))
    versus = versus_peers(rows, metrics[1] if persona else metrics[0], default)
    if versus:
        print_versus(versus)
    return {"mean_std": summ, "versus_peers": versus}


def overview(results: dict) -> None:
    print("\n== families: the default against the peers ==")
    head = (f"{'family':<17}{'cases':>6}{'seconds':>9}{'metric':>8}{'default':>9}  {'best single peer':<28}"
            f"{'best/case':>10}{'under 0.6':>10}")
    print(head)
    print("-" * len(head))
    for name, fam in results["families"].items():
        v = (fam.get("summary") or {}).get("versus_peers")
        if not v:
            continue
        print(f"{name:<17}{len(fam['cases']):>6}{fam['seconds']:>9.0f}{v['metric']:>8}{v['default_mean']:>9.3f}  "
              f"{(SHORT.get(v['best_single_peer'], v['best_single_peer']) + ' ' + format(v['best_single_peer_mean'], '.3f')):<28}"
              f"{v['best_peer_of_case_mean']:>10.3f}{v['cases_under_ratio']:>10}")


# -- main ----------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    from product import BLENDS, DEFAULT_VARIANTS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default=None,
                    help="comma-separated families (default: all): " + ", ".join(families()))
    ap.add_argument("--personas", type=int, default=None, help="personas per seed and family (default 4)")
    ap.add_argument("--seeds", type=int, default=None, help="seeds 0..S-1 (default 3)")
    ap.add_argument("--seed-start", type=int, default=0, help="first seed (default 0): seeds START..START+S-1")
    ap.add_argument("--label-cases", type=int, default=None, help="label cases per seed and label family (default 3)")
    ap.add_argument("--ensemble", type=int, default=None, help="networks per model (default 3, the product's)")
    ap.add_argument("--epochs", type=int, default=None, help="default 30")
    ap.add_argument("--variants", default=None,
                    help="comma-separated product variants (default: default, blend0, blend1, mlp); also nomlp "
                         "(the default with the forest alone as its taste model: --taste-model forest) and forest1 "
                         "(--blend 1 --taste-model forest), nodiscovery (the default with --no-discovery), "
                         "rank-fusion, rank-taste, rank-collab (--ranking KIND)")
    ap.add_argument("--protocol", choices=("personas", "labels", "both"), default="both",
                    help="only the persona families, only the label families, or both (default)")
    ap.add_argument("--labels-apart", action="store_true", help="the label families: labels-apart only")
    ap.add_argument("--quick", action="store_true",
                    help="2 personas, 1 seed, 2 label cases, ensemble 1, 10 epochs (unless given)")
    ap.add_argument("--keep-homes", type=Path, default=None, metavar="DIR",
                    help="keep each persona case's harvested home (before train) in DIR/FAMILY/pI-sS")
    ap.add_argument("--reuse-homes", type=Path, default=None, metavar="DIR",
                    help="train + recommend (offline) on the homes kept in DIR; no sandbox, no harvest, no peers")
    ap.add_argument("--json", type=Path, default=None, help="write every number here (rewritten after each case)")
    ap.add_argument("--peer-cache", type=Path, default=None, metavar="DIR",
                    help="keep the peers' figures of each world in DIR (by the world and benchmarks/peers.py's code) "
                         "and reuse them: re-runs that change only the product skip the peers")
    ap.add_argument("--report", type=Path, default=None, metavar="JSON",
                    help="print the report of a saved --json file (finished or not) and stop")
    args = ap.parse_args(argv)
    # --quick's values, then the full run's, for what is not given
    for name, quick, full in (("personas", 2, 4), ("seeds", 1, 3), ("label_cases", 2, 3), ("ensemble", 1, 3),
                              ("epochs", 10, 30)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    known = families()
    chosen = [f.strip() for f in args.families.split(",") if f.strip()] if args.families else list(known)
    bad = [f for f in chosen if f not in known]
    if bad:
        ap.error(f"unknown families: {', '.join(bad)} (known: {', '.join(known)})")
    if args.protocol != "both":
        chosen = [f for f in chosen if (known[f][0] == "persona") == (args.protocol == "personas")]
    if args.labels_apart:
        chosen = [f for f in chosen if f != "labels"]
    args.families = chosen
    names = [v.strip() for v in args.variants.split(",")] if args.variants else list(DEFAULT_VARIANTS)
    args.variants = [VARIANT_ALIASES.get(v, v) for v in names]
    if any(v not in BLENDS for v in args.variants):
        ap.error(f"--variants takes {', '.join(VARIANT_ALIASES)} (or the full names: {', '.join(BLENDS)})")
    if args.keep_homes and args.reuse_homes:
        ap.error("--keep-homes and --reuse-homes do not go together")
    return args


def plan_cases(args) -> list[tuple[str, str, object, int, int]]:
    """(family, kind, spec or apart, index, seed) for every case, family by family."""
    plan = []
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    for fam in args.families:
        kind, spec = families()[fam]
        n = args.personas if kind == "persona" else args.label_cases
        plan += [(fam, kind, spec, i, s) for s in seeds for i in range(n)]
    return plan


def build_world(songs, fam: str, kind: str, spec, i: int, seed: int):
    """Deterministic per (family, index, seed)."""
    from worlds import label_world, persona_world

    if kind == "persona":
        return persona_world(songs, i, seed, spec, fam)
    world = label_world(songs, i, seed, apart=bool(spec))
    world.family, world.index = fam, i
    return world


def kept_cases(args) -> list[Path]:
    return [d for fam in args.families for d in sorted((args.reuse_homes / fam).glob("p*-s*"))
            if (d / "world.json").is_file()]


def finish(results: dict, args, default: str, started: float | None) -> None:
    for name, fam in results["families"].items():
        fam["summary"] = report_family(name, fam, default)
    overview(results)
    if started is not None:  # None: a saved run's report (--report)
        results["seconds"] = round(time.perf_counter() - started, 1)
    results.setdefault("seconds", round(sum(f["seconds"] for f in results["families"].values()), 1))
    n = sum(len(f["cases"]) for f in results["families"].values())
    print(f"\n{n} cases in {results['seconds']:.0f} s (ensemble {args.ensemble}, {args.epochs} epochs"
          + (", offline on kept homes" if args.reuse_homes else "") + ")")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
        print(f"every number: {args.json}")


def main(argv=None) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    args = parse_args(argv)
    started = time.perf_counter()
    results: dict = {"command": " ".join(sys.argv), "args": {k: str(v) for k, v in vars(args).items()}, "families": {}}
    default = "tastebot" if "tastebot" in args.variants else args.variants[0]
    if args.report:
        saved = json.loads(args.report.read_text())
        print(f"report of {args.report} ({saved['command']})")
        for fam in saved["families"].values():
            fam.pop("summary", None)
        args.json = None
        args.ensemble, args.epochs = (saved["args"][k] for k in ("ensemble", "epochs"))
        finish(saved, args, default, None)
        return 0
    if args.reuse_homes:
        print(f"reusing the homes kept in {args.reuse_homes}: train + recommend OFFLINE (corpus candidates only: no "
              "search, albums, discovery or feature fetching), against the peers' figures kept with each home")
        for kept in kept_cases(args):
            fam = results["families"].setdefault(kept.parent.name, {"kind": "persona", "cases": [], "seconds": 0.0})
            say(f"{kept}: train + recommend")
            row = run_reused_case(kept, args)
            fam["cases"].append(row)
            fam["seconds"] = round(fam["seconds"] + row["seconds"]["product"], 1)
        finish(results, args, default, started)
        return 0
    if not DATA.is_file():
        print(f"skipped: {DATA} is absent (developer material beside the checkout, not part of the project)")
        return 0
    from worlds import load_songs

    songs = load_songs()
    plan = plan_cases(args)
    for n, (fam_name, kind, spec, i, seed) in enumerate(plan, start=1):
        t = time.perf_counter()
        fam = results["families"].setdefault(fam_name, {"kind": kind, "cases": [], "seconds": 0.0})
        world = build_world(songs, fam_name, kind, spec, i, seed)
        say(f"[{n}/{len(plan)}] {fam_name}: {world.name} (persona {i}, seed {seed}): {len(world.likes)} likes, "
            f"{len(world.dislikes)} dislikes, {len(world.future) or len(world.test_tracks)} "
            f"{'future likes' if kind == 'persona' else 'test songs'}")
        row = run_case(songs, world, args)
        fam["cases"].append(row)
        fam["seconds"] = round(fam["seconds"] + time.perf_counter() - t, 1)
        key = "P@30" if kind == "persona" else "ROC-AUC"
        say(f"  {key}: " + ", ".join(f"{SHORT.get(m, m)} {v[key]:.3f}" for m, v in row["metrics"].items())
            + f"  ({row['seconds']['product']:.0f} s product, {row['seconds']['peers']:.0f} s peers)")
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
    finish(results, args, default, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
