"""`tastebot.harvest` against the sandbox in both profiles: what lands in the store equals the
catalogue, every source is used or skipped with a reason, incremental runs cost a constant number
of requests, and the latest-signal rule, dislike lists and feature providers behave."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tastebot.harvest import DISLIKE_NAME, SOURCES, Harvester, HarvestOptions
from tastebot.settings import load_settings
from tastebot.spotify.client import SpotifyClient
from tastebot.store import open_store


def run_harvest(**options):
    settings_overrides = options.pop("settings", {})
    settings = load_settings(**settings_overrides)
    client = SpotifyClient(settings)
    client.policy.backoff_base = 0.01
    with open_store(settings) as store:
        summary = Harvester(settings, client, store, HarvestOptions(**options), rng_seed=1).run()
    return summary.as_dict()


def store():
    return open_store(load_settings())


def own_playlists(sb):
    return [p for p in sb.state.listener_playlists() if p.owner_id == sb.state.listener_id]


def later_iso(minutes: int = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(params=["development", "extended"])
def world(request, make_logged_in):
    return make_logged_in(profile=request.param)


def test_store_matches_the_catalogue(world):
    sb = world
    listener = sb.catalog["listener"]
    summary = run_harvest()
    assert summary["status"] == "done" and summary["app_kind"] == sb.profile
    with store() as s:
        assert s.signal_track_ids("saved") == {t["track_id"] for t in listener["saved_tracks"]}
        for time_range, ids in listener["top_tracks"].items():
            assert s.signal_track_ids(f"top_{time_range}") == set(ids)
        plays = sorted(listener["recently_played"], key=lambda p: p["played_at"], reverse=True)[:50]
        assert s.library_counts()["plays"] == len({p["played_at"] for p in plays})
        assert s.signal_track_ids("recently_played") == {p["track_id"] for p in plays}
        for pl in own_playlists(sb):
            ids = [e["track_id"] for e in pl.entries if e["track_id"]]
            assert s.playlist_track_ids(pl.id) == ids
            source = "dislike_playlist" if DISLIKE_NAME.search(pl.name) else "own_playlist"
            assert s.signal_track_ids(source, context=pl.id) == set(ids)
            assert len(s.playlist_items(pl.id)) == len(pl.entries)  # null items and local files kept as rows
        followed = [pid for pid in listener["followed_playlist_ids"]]
        assert followed and all(s.playlist_row(pid)["role"] == "followed" for pid in followed)
        assert not any(s.signal_track_ids(context=pid) for pid in followed)
        # Every track with a signal is stored with its metadata.
        labelled = s.labelled_tracks()
        assert labelled["duration_ms"].notna().all() and labelled["album_type"].notna().all()
        # Audio features: Spotify on an extended app, ReccoBeats on a development one.
        provider = "spotify" if sb.profile == "extended" else "reccobeats"
        features = s.features_for(labelled["track_id"])
        for tid in labelled["track_id"]:
            cat = sb.catalog["audio_features"].get(tid) or {}
            served = {k: v for k, v in cat.items() if not (k == "key" and v == -1)}
            if provider == "reccobeats":
                served.pop("time_signature", None)
            assert set(features.get(tid, {})) == set(served), tid
        assert summary["features"].get(provider, 0) > 0
        if sb.profile == "extended":
            genres = labelled.loc[labelled["label"] == 1, "genres"]
            assert (genres != "").any()
        assert s.integrity_check() == "ok"
    names = {src["name"]: src for src in summary["sources"]}
    for src in summary["sources"]:
        assert src["status"] in ("used", "skipped"), src
        if src["status"] == "skipped":
            assert src["detail"], src
    if sb.profile == "development":
        assert names["features:spotify"]["status"] == "skipped" and names["genres"]["status"] == "skipped"
    else:
        assert names["features:spotify"]["status"] == "used" and names["genres"]["status"] == "used"


def test_second_harvest_costs_a_constant_number_of_requests(world):
    sb = world
    run_harvest()
    sb.reset_stats()
    summary = run_harvest()
    per = sb.stats()["requests"]
    # me, one saved-tracks page, three top lists, recently played after its cursor, the playlist list.
    assert sb.stats()["total"] == 7, per
    assert summary["requests"] == {"spotify": 7, "reccobeats": 0}
    assert not any(k.startswith(("GET /v1/playlists/{id}", "GET /v1/search", "GET /reccobeats")) for k in per)

    # New saved tracks (more than a page) and one changed playlist: only those are read.
    st = sb.state
    known = {t for t, _ in st.saved}
    fresh = [t["id"] for t in sb.catalog["tracks"] if t["id"] not in known][:60]
    with st.lock:
        st.saved[0:0] = [(tid, later_iso(-i)) for i, tid in enumerate(fresh)]
        gym = next(p for p in own_playlists(sb) if not DISLIKE_NAME.search(p.name))
        gym.entries.append({"track_id": fresh[0], "local_uri": None, "added_at": later_iso(), "added_by": st.listener_id})
        gym.changed()
    sb.reset_stats()
    run_harvest()
    assert sb.count("GET /v1/me/tracks") == 2
    assert sb.count("GET /v1/playlists/{id}/items") == 1
    with store() as s:
        assert set(fresh) <= s.signal_track_ids("saved")
        assert fresh[0] in s.signal_track_ids("own_playlist", context=gym.id)


def test_full_rereads_and_gives_the_same_store(logged_in):
    sb = logged_in
    run_harvest(sampled_negatives="never")
    with store() as s:
        before = s.dump_library()
    sb.reset_stats()
    run_harvest(sampled_negatives="never", full=True)
    assert sb.count("GET /v1/me/tracks") == -(-len(sb.state.saved) // 50)
    assert sb.count("GET /v1/playlists/{id}/items") == len(own_playlists(sb))
    with store() as s:
        assert s.dump_library() == before


def test_latest_signal_wins(logged_in):
    sb = logged_in
    st = sb.state
    run_harvest(sampled_negatives="never")
    dislike_list = next(p for p in own_playlists(sb) if DISLIKE_NAME.search(p.name))
    tid, _ = st.saved[0]
    with st.lock:
        dislike_list.entries.append({"track_id": tid, "local_uri": None, "added_at": later_iso(1),
                                     "added_by": st.listener_id})
        dislike_list.changed()
    run_harvest(sampled_negatives="never")
    with store() as s:
        row = s.labelled_tracks().set_index("track_id").loc[tid]
        assert row["label"] == 0 and row["sources"] == "dislike_playlist"
    # Saved again, later still: a like once more.
    with st.lock:
        st.saved = [(tid, later_iso(2))] + [(t, a) for t, a in st.saved if t != tid]
    run_harvest(sampled_negatives="never")
    with store() as s:
        row = s.labelled_tracks().set_index("track_id").loc[tid]
        assert row["label"] == 1 and "saved" in row["sources"]


def test_two_ids_with_one_isrc_are_one_song(logged_in):
    sb = logged_in
    st = sb.state
    by_isrc: dict[str, list[str]] = {}
    for t in sb.catalog["tracks"]:
        by_isrc.setdefault(t["isrc"], []).append(t["id"])
    a, b = next(ids for ids in by_isrc.values() if len(ids) == 2)
    with st.lock:
        st.saved[0:0] = [(a, later_iso(-1)), (b, later_iso(-2))]
    run_harvest(sampled_negatives="never")
    with store() as s:
        assert {a, b} <= s.signal_track_ids("saved")
        frame = s.labelled_tracks()
        assert len(frame[frame["track_id"].isin([a, b])]) == 1
        counts = s.library_counts()
        assert counts["songs"] < counts["tracks"]


def test_dislike_playlist_refused_in_development_read_in_extended(world):
    sb = world
    pid = next(p.id for p in sb.state.playlists.values()
               if p.owner_id != sb.state.listener_id and not p.collaborative and len(p.entries) > 5
               and p.id not in sb.state.followed_playlists)
    summary = run_harvest(dislike_playlists=(f"https://open.spotify.com/playlist/{pid}?si=x",), sampled_negatives="never")
    src = next(s for s in summary["sources"] if s["name"].startswith("playlist:dislike:") and pid in s["name"])
    expected = {t for t in (e["track_id"] for e in sb.state.playlists[pid].entries) if t}
    with store() as s:
        got = s.signal_track_ids("dislike_playlist", context=pid)
    if sb.profile == "development":
        assert src["status"] == "skipped" and "copy it into a playlist of your own" in src["detail"]
        assert got == set()
    else:
        assert src["status"] == "used" and got == expected


def test_like_playlist_reads_a_followed_playlist(make_logged_in):
    sb = make_logged_in(profile="extended")
    pid = sb.catalog["listener"]["followed_playlist_ids"][0]
    run_harvest(like_playlists=(f"spotify:playlist:{pid}",), sampled_negatives="never")
    with store() as s:
        expected = {e["track_id"] for e in sb.state.playlists[pid].entries if e["track_id"]}
        assert s.signal_track_ids("like_playlist", context=pid) == expected
        assert s.playlist_row(pid)["role"] == "like"


def test_sampled_negatives_are_unknown_and_counted(logged_in):
    summary = run_harvest(sampled_negatives="always")
    with store() as s:
        frame = s.labelled_tracks()
        weak = frame[frame["strength"] == "weak"]
        liked = frame[frame["label"] == 1]
        assert len(weak) > 0 and (weak["label"] == 0).all()
        assert summary["labels"]["dislikes_weak"] == len(weak)
        liked_artists = {a for ids in liked["artist_ids"] for a in ids.split(",")}
        assert not any(set(ids.split(",")) & liked_artists for ids in weak["artist_ids"])
        assert not set(weak["track_id"]) & s.signal_track_ids(kind="like")
        assert set(weak["sources"]) <= {"sampled_random", "sampled_far"}
    src = next(x for x in summary["sources"] if x["name"] == "sampled_negatives")
    assert src["status"] == "used" and "weak negatives" in src["detail"]
    # never: they are removed again.
    run_harvest(sampled_negatives="never")
    with store() as s:
        assert s.label_counts()["dislikes_weak"] == 0


def test_reccobeats_gone_is_skipped_once_with_a_reason(logged_in):
    sb = logged_in
    summary = run_harvest(settings={"reccobeats_url": sb.url + "/gone/v1"}, sampled_negatives="never")
    src = next(x for x in summary["sources"] if x["name"] == "features:reccobeats")
    assert summary["status"] == "done"
    assert src["status"] == "skipped" and "HTTP 404" in src["detail"]
    assert src["requests"] == 1  # not retried track by track
    assert set(summary["features"]) == {"metadata"}


def test_source_weights_are_data():
    assert SOURCES["saved"].weight > SOURCES["recently_played"].weight
    assert all(s.kind in ("like", "dislike") and s.strength in ("explicit", "weak") for s in SOURCES.values())
    assert DISLIKE_NAME.search("Not for me") and DISLIKE_NAME.search("my Dislikes") and not DISLIKE_NAME.search("Gym")


def test_feedback_from_a_tastebot_playlist(logged_in):
    sb = logged_in
    st = sb.state
    run_harvest(sampled_negatives="never")
    with store() as s:
        known = s.known_track_ids()
    fresh = [t["id"] for t in sb.catalog["tracks"] if t["id"] not in known][:6]
    ours, user_added = fresh[:5], fresh[5]
    # What tastebot.recommend.playlist does: create the playlist, add the tracks, record both in the outputs area.
    client = SpotifyClient(load_settings())
    pl = client.create_playlist("tastebot: for you", public=False, description="test")
    client.add_items(pl["id"], ours)
    with store() as s:
        row = s.plan_playlist("marker-1", "tastebot: for you", "test", False, ours)
        s.mark_playlist_created(row, pl["id"], None)
        s.mark_tracks_added(row, range(len(ours)))
    # The listener removes one track, saves another, and adds one of their own.
    with st.lock:
        p = st.playlists[pl["id"]]
        p.entries = [e for e in p.entries if e["track_id"] != ours[0]]
        p.entries.append({"track_id": user_added, "local_uri": None, "added_at": later_iso(), "added_by": st.listener_id})
        p.changed()
        st.saved.insert(0, (ours[1], later_iso(1)))
    summary = run_harvest(sampled_negatives="never")
    with store() as s:
        assert s.signal_track_ids("feedback_removed") == {ours[0]}
        assert s.signal_track_ids("feedback_saved") == {ours[1]}
        assert s.signal_track_ids("own_playlist", context=pl["id"]) == {user_added}
        labels = s.labelled_tracks().set_index("track_id")
        assert labels.loc[ours[0], "label"] == 0 and labels.loc[ours[1], "label"] == 1
        assert not set(ours[2:]) & set(labels.index)  # left alone: no signal either way
    src = next(x for x in summary["sources"] if x["name"] == "feedback_saved")
    assert src["status"] == "used" and src["items"] == 1


def test_full_drops_tracks_no_longer_saved_incremental_keeps_them(logged_in):
    sb = logged_in
    st = sb.state
    run_harvest(sampled_negatives="never")
    gone = st.saved[-1][0]
    with st.lock:
        st.saved = st.saved[:-1]
    run_harvest(sampled_negatives="never")
    with store() as s:
        assert gone in s.signal_track_ids("saved")  # incremental: removals are not looked for
    summary = run_harvest(sampled_negatives="never", full=True)
    with store() as s:
        assert gone not in s.signal_track_ids("saved")
        assert s.signal_track_ids("saved") == {t for t, _ in st.saved}
    assert "1 track no longer saved" in next(x for x in summary["sources"] if x["name"] == "saved")["detail"]


def test_run_harvest_library_entry_point(logged_in):
    from tastebot.harvest import run_harvest as library_run_harvest

    summary = library_run_harvest(load_settings(), HarvestOptions(sampled_negatives="never"))
    assert summary.status == "done" and summary.labels["likes"] > 0
    with store() as s:
        assert s.harvest_runs()[-1]["status"] == "done"
        assert len(s.labelled_tracks()) == summary.labels["likes"] + summary.labels["dislikes_explicit"]
