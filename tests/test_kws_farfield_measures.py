"""Far-field test sets a reader can interpret (issue 13): the DRR and C50 of an RIR, the
utt2{rt60,distance,drr,c50} tables of the test_far sets, accuracy per distance and RT60 bin
and the DET points of `speechkit score-kws`, and `speechkit plot-det`."""
import hashlib
import json

import numpy as np
import pytest
from sklearn.metrics import roc_curve

from speechkit.bin import plot_det, score_kws
from speechkit.corpus import kws
from speechkit.corpus import room as roomsim
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.io import MatrixWriter, read_dict
from speechkit.metrics.detection import DET_FA_RATES, frr_at_far, frr_curve
from test_corpus_kws import word_like

SR = 16000
WINDOW = 40      # 2.5 ms at 16 kHz
EARLY = 800      # 50 ms


# ---- DRR and C50 of hand-worked RIRs ----

def tail_energy(a, r, n1, m, n):
    """Closed form of sum_{k=m}^{n-1} (a r^(k-n1))^2, for an exponential tail starting at n1 <= m."""
    return a * a * r ** (2 * (m - n1)) * (1 - r ** (2 * (n - m))) / (1 - r * r)


def test_a_pure_delta_has_no_reverberation_capped_at_100_db():
    rir = np.zeros(2000)
    rir[300] = 0.7
    assert roomsim.rir_measures(rir, 300, SR) == {"drr": roomsim.DB_CAP, "c50": roomsim.DB_CAP}
    assert roomsim.DB_CAP == 100.0


@pytest.mark.parametrize("start", [200, 1])   # the tail begins after / inside the direct window
def test_delta_with_an_exponential_tail_matches_the_closed_form(start):
    n, d, a, r = 4000, 100, 0.3, 0.995
    n1 = d + start
    rir = np.zeros(n)
    rir[n1:] = a * r ** np.arange(n - n1)
    rir[d] = 1.0
    rir[d - WINDOW - 20] = 0.5      # before the direct window: counts in neither ratio
    after_window = max(n1, d + WINDOW + 1)
    direct = 1.0 + tail_energy(a, r, n1, n1, n) - tail_energy(a, r, n1, after_window, n)
    early = 1.0 + tail_energy(a, r, n1, n1, n) - tail_energy(a, r, n1, d + EARLY, n)
    want_drr = 10 * np.log10(direct / tail_energy(a, r, n1, after_window, n))
    want_c50 = 10 * np.log10(early / tail_energy(a, r, n1, d + EARLY, n))
    got = roomsim.rir_measures(rir, d, SR)
    assert got["drr"] == pytest.approx(want_drr, abs=1e-9)
    assert got["c50"] == pytest.approx(want_c50, abs=1e-9)
    assert got["c50"] > got["drr"]


def test_a_farther_talker_has_a_lower_drr_and_c50():
    import pyroomacoustics as pra
    dims = (6.0, 5.0, 3.0)
    absorption, order = pra.inverse_sabine(0.5, list(dims))
    measures = []
    for x in (1.0, 4.0):            # source 1 m and 4 m from the microphone
        rir, delay = roomsim.compute_rir(dims, absorption, min(order, 20), (1.0, 1.0, 1.2),
                                         (1.0 + x, 1.0, 1.2), SR)
        measures.append(roomsim.rir_measures(rir, delay, SR))
    near, far = measures
    assert near["drr"] > far["drr"] + 6 and near["c50"] > far["c50"]
    assert all(-30 < m["drr"] < m["c50"] < 40 for m in measures)


def test_bad_rirs_are_errors():
    with pytest.raises(SpeechkitError, match="outside the RIR"):
        roomsim.rir_measures(np.ones(10), 10, SR)
    with pytest.raises(SpeechkitError, match="silent"):
        roomsim.rir_measures(np.zeros(100), 5, SR)


# ---- the tables of a tiny far-field set ----

SEED, ROOMS, SNR = 3, 2, 10.0


def clips():
    words = [kws.Clip(f"s001-{i:04d}", "s001", w, kws.fit_clip(word_like(1.0, i)))
             for i, w in enumerate(("yes", "no", "up", "marvin"), 1)]
    return words, kws.silence_clips(SEED, "test", 1)


def reference_wav_hashes(words, silence, pool, out_dir):
    """The wavs of test_far_snr10 as the writer made them before the tables existed, rebuilt
    from the room and noise primitives in the same order of draws -> {utt: sha256}."""
    rooms = kws.FarFieldRenderer(SEED, "test", ROOMS, pool).rooms
    pool_wavs = [(c.utt, c.wav) for c in pool if not c.is_silence]

    def rendered(clip):
        rng = kws.rng_for(SEED, "test", clip.utt)
        room = rooms[int(rng.integers(len(rooms)))]
        rev = roomsim.reverberate(clip.wav, room)
        others = [w for u, w in pool_wavs if u != clip.utt]
        kinds = roomsim.SPEECHLESS_KINDS if clip.is_silence else roomsim.NOISE_KINDS
        kinds = [k for k in kinds if k != "babble" or others]
        kind = kinds[int(rng.integers(len(kinds)))]
        return rev, roomsim.make_noise(kind, len(rev), rng, SR, others)

    revs = {c.utt: rendered(c) for c in words}
    ref_power = float(np.mean([roomsim.power(rev) for rev, _ in revs.values()]))
    hashes = {}
    for clip in words + silence:
        rev, noise = revs[clip.utt] if clip.utt in revs else rendered(clip)
        out, _ = roomsim.add_noise(rev, noise, SNR, None if clip.utt in revs else ref_power)
        path = out_dir / f"{clip.utt}.wav"
        kws.write_clip(path, out)
        hashes[clip.utt] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture(scope="module")
def far_set(tmp_path_factory):
    base = tmp_path_factory.mktemp("far")
    words, silence = clips()
    counts = kws.render_far_sets(base / "data", words, silence, words, [SNR], SEED, ROOMS)
    assert counts == {"test_far_snr10": 5}
    return base, words, silence


def test_far_set_has_the_measure_tables_of_the_rooms_used(far_set):
    base, words, _ = far_set
    d = base / "data" / "test_far_snr10"
    assert validate(d, no_feats=True) == []
    rooms = kws.FarFieldRenderer(SEED, "test", ROOMS, words).rooms
    tables = {m: read_dict(d / f"utt2{m}") for m in kws.FAR_MEASURES}
    utt2room = read_dict(d / "utt2room")
    for name, table in tables.items():
        assert list(table) == list(utt2room), name     # every utterance, sorted as the others
    for utt, value in utt2room.items():
        fields = dict(kv.split("=") for kv in value.split(","))
        room = rooms[int(fields["room"])]
        measured = roomsim.rir_measures(room.rir, room.delay, SR)
        assert float(tables["rt60"][utt]) == pytest.approx(room.rt60, abs=1e-3)
        assert float(tables["distance"][utt]) == pytest.approx(room.distance, abs=1e-3)
        assert float(tables["rt60"][utt]) == pytest.approx(float(fields["rt60"]), abs=0.005)
        assert float(tables["drr"][utt]) == pytest.approx(measured["drr"], abs=0.005)
        assert float(tables["c50"][utt]) == pytest.approx(measured["c50"], abs=0.005)
        assert -30 < float(tables["drr"][utt]) < float(tables["c50"][utt]) < 40


def test_far_set_wavs_are_byte_identical_to_the_writer_without_tables(far_set, tmp_path):
    base, words, silence = far_set
    want = reference_wav_hashes(words, silence, words, tmp_path)
    wav_dir = base / "data" / "wav" / "test_far_snr10"
    got = {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in wav_dir.glob("*.wav")}
    assert got == want and len(got) == 5


def test_train_without_rooms_gets_no_measure_tables(tmp_path):
    words, silence = clips()
    rows = kws.write_near_set(tmp_path, "dev", words + silence)
    kws.write_set(tmp_path, "dev", rows)
    assert not list((tmp_path / "dev").glob("utt2drr"))


# ---- score-kws: per-bin accuracy, set means, DET points ----

LABELS = list(kws.LABELS)


def make_decode_dir(root, rows, set_name="test_far_snr10", measures=None):
    """rows: (utt, ref, hyp, posterior row or None) -> exp/sys/decode_<set> (+ data/<set>)."""
    d = root / "exp" / "sys" / f"decode_{set_name}"
    d.mkdir(parents=True)
    (d / "labels.txt").write_text("".join(f"{label} {i}\n" for i, label in enumerate(LABELS)))
    (d / "ref").write_text("".join(f"{u} {r}\n" for u, r, _, _ in rows))
    (d / "text").write_text("".join(f"{u} {h}\n" for u, _, h, _ in rows))
    with MatrixWriter(f"ark,t:{d}/posteriors.txt") as writer:
        for u, _, h, post in rows:
            if post is None:
                post = np.full(len(LABELS), 0.01)
                post[LABELS.index(h)] = 0.9
            writer.write(u, np.asarray(post, dtype=np.float32)[None, :])
    data = root / "data" / set_name
    data.mkdir(parents=True)
    for name, values in (measures or {}).items():
        (data / f"utt2{name}").write_text("".join(f"{u} {v}\n" for u, v in values.items()))
    return d


# (utt, ref, hyp): right or wrong, and the distance / RT60 each was heard at.
HAND = [("u1", "yes", "yes", 1.2, 0.25), ("u2", "no", "up", 1.9, 0.35),
        ("u3", "up", "up", 2.5, 0.45), ("u4", "go", "go", 3.1, 0.65),
        ("u5", "on", "off", 3.9, 0.79), ("u6", "off", "off", 5.2, 0.55)]


def hand_decode_dir(root, **change):
    measures = {"distance": {u: dist for u, _, _, dist, _ in HAND},
                "rt60": {u: rt for u, _, _, _, rt in HAND},
                "drr": {u: v for u, v in zip("u1 u2 u3 u4 u5 u6".split(), (6, 2, 0, -2, -4, -8))},
                "c50": {u: v for u, v in zip("u1 u2 u3 u4 u5 u6".split(), (12, 8, 5, 3, 1, 0))}}
    for name, table in change.items():
        measures[name] = table
    return make_decode_dir(root, [(u, r, h, None) for u, r, h, _, _ in HAND], measures=measures)


def test_accuracy_by_distance_and_rt60_bins(tmp_path, capsys):
    d = hand_decode_dir(tmp_path)
    assert score_kws.main(["--data-root", str(tmp_path / "data"), str(d)]) == 0
    s = json.loads((d / "scores.json").read_text())
    assert s["accuracy"] == pytest.approx(100 * 4 / 6, abs=1e-3)
    # 1-2 m: u1 right, u2 wrong; 2-3: u3 right; 3-4: u4 right, u5 wrong; 5.2 m falls in 4-5.
    assert s["accuracy_by_distance"] == {
        "1-2": {"accuracy": 50.0, "utterances": 2}, "2-3": {"accuracy": 100.0, "utterances": 1},
        "3-4": {"accuracy": 50.0, "utterances": 2}, "4-5": {"accuracy": 100.0, "utterances": 1}}
    assert s["accuracy_by_rt60"] == {
        "0.2-0.4": {"accuracy": 50.0, "utterances": 2},
        "0.4-0.6": {"accuracy": 100.0, "utterances": 2},
        "0.6-0.8": {"accuracy": 50.0, "utterances": 2}}
    assert s["drr_mean"] == pytest.approx(-1.0) and s["c50_mean"] == pytest.approx(29 / 6, abs=1e-4)
    assert s["distance_mean"] == pytest.approx(17.8 / 6, abs=1e-4)
    assert s["rt60_mean"] == pytest.approx(3.04 / 6, abs=1e-4)
    text = (d / "result.txt").read_text()
    assert "%ACC 50.00 at distance 1-2 m [ 2 utterances ]" in text
    assert "%ACC 100.00 at rt60 0.4-0.6 s [ 2 utterances ]" in text
    assert "drr -1.00 dB, c50 4.83 dB" in text
    # Other bins on the command line; an empty bin is left out.
    assert score_kws.main(["--data-root", str(tmp_path / "data"), "--distance-bins", "1,3,10,20",
                           str(d)]) == 0
    s = json.loads((d / "scores.json").read_text())
    assert s["accuracy_by_distance"] == {"1-3": {"accuracy": 66.6667, "utterances": 3},
                                         "3-10": {"accuracy": 66.6667, "utterances": 3}}


def test_sets_without_tables_score_as_before(tmp_path):
    d = make_decode_dir(tmp_path, [(u, r, h, None) for u, r, h, _, _ in HAND],
                        set_name="test_near")
    assert score_kws.main([str(d)]) == 0
    before = json.loads((d / "scores.json").read_text())
    assert score_kws.main(["--data-root", str(tmp_path / "data"), str(d)]) == 0
    after = json.loads((d / "scores.json").read_text())
    assert after == before
    assert set(before) == {"accuracy", "utterances", "frr_mean", "fa_rate", "frr", "det"}


@pytest.mark.parametrize("change,message", [
    ({"distance": {"u1": 1.2, "u2": 1.9, "u3": 2.5, "u4": 3.1, "u6": 5.2}}, "(key u5): no value"),
    ({"distance": {"u1": 1.2, "u2": "far", "u3": 2.5, "u4": 3.1, "u5": 3.9, "u6": 5.2}},
     "(key u2): 'far' is not a number"),
])
def test_a_bad_utt2distance_is_one_line(tmp_path, capsys, change, message):
    d = hand_decode_dir(tmp_path, **change)
    assert score_kws.main(["--data-root", str(tmp_path / "data"), str(d)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{tmp_path / 'data' / 'test_far_snr10' / 'utt2distance'} {message}" in err


def test_a_missing_data_dir_and_bad_bins_are_one_line(tmp_path, capsys):
    d = hand_decode_dir(tmp_path)
    assert score_kws.main(["--data-root", str(tmp_path / "nowhere"), str(d)]) == 1
    assert "no such data dir" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        score_kws.main(["--rt60-bins", "0.5,0.2", str(d)])
    assert "increasing" in capsys.readouterr().err


def random_keyword_scores(seed, n_pos=60, n_neg=400):
    rng = np.random.default_rng(seed)
    return rng.normal(1.0, 1.0, n_pos), rng.normal(0.0, 1.0, n_neg)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_det_points_match_sklearn_roc_curve(seed):
    pos, neg = random_keyword_scores(seed)
    fpr, tpr, _ = roc_curve(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg],
                            drop_intermediate=False)
    # The best operating point whose false-alarm rate stays within each budget.
    want = [1 - tpr[fpr <= f + 1e-12].max() for f in DET_FA_RATES]
    np.testing.assert_allclose(frr_curve(pos, neg), want, atol=1e-12)
    assert len(DET_FA_RATES) == 50 and DET_FA_RATES[0] == pytest.approx(1e-3)


def test_scores_json_det_is_the_keyword_mean_through_frr_mean(tmp_path):
    rng = np.random.default_rng(5)
    rows = []
    for i in range(120):
        ref = LABELS[i % len(LABELS)]
        post = rng.random(len(LABELS))
        post[LABELS.index(ref)] += rng.random()
        rows.append((f"u{i:03d}", ref, LABELS[int(np.argmax(post))], post))
    d = make_decode_dir(tmp_path, rows, set_name="test_near")
    assert score_kws.main(["--fa-rate", "0.02", str(d)]) == 0
    s = json.loads((d / "scores.json").read_text())
    det = s["det"]
    assert len(det["fa_rate"]) == len(det["frr_mean"]) == 51          # 50 + --fa-rate
    assert det["frr_mean"][det["fa_rate"].index(2.0)] == pytest.approx(s["frr_mean"], abs=1e-3)
    # Each point: the mean over keywords of frr_at_far, by hand at one rate.
    ref = np.array([r for _, r, _, _ in rows])
    scores = np.stack([p for *_, p in rows])
    f = DET_FA_RATES[30]
    by_hand = np.mean([frr_at_far(scores[ref == k, c], scores[ref != k, c], f)[0]
                       for c, k in enumerate(LABELS) if not k.startswith("_")])
    assert det["frr_mean"][det["fa_rate"].index(round(100 * f, 4))] == \
        pytest.approx(100 * by_hand, abs=1e-3)
    assert all(a >= b for a, b in zip(det["frr_mean"], det["frr_mean"][1:]))   # non-increasing


# ---- plot-det ----

def test_plot_det_draws_one_curve_per_system(tmp_path, capsys):
    dirs = []
    for sys_name, noise in (("train_logmel_seed1", 1.0), ("train_pcen_seed1", 0.3)):
        rng = np.random.default_rng(len(sys_name))
        rows = []
        for i in range(60):
            ref = LABELS[i % len(LABELS)]
            post = rng.random(len(LABELS)) * noise
            post[LABELS.index(ref)] += 0.5
            rows.append((f"u{i:03d}", ref, LABELS[int(np.argmax(post))], post))
        d = make_decode_dir(tmp_path / sys_name, rows)
        assert score_kws.main([str(d)]) == 0
        dirs.append(str(d))
    out = tmp_path / "exp" / "kws_det_test_far_snr10.png"
    assert plot_det.main([str(out)] + dirs) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10000
    capsys.readouterr()
    assert plot_det.main([str(out), str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "scores.json: missing" in err
