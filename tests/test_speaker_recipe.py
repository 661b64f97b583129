"""egs/speaker end to end on a tiny corpus (one siamese CNN, one seed), `speechkit infer speaker`
against the data-dir extraction, and the speaker task's sampler, segments and scorer in process."""
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import entropy
from sklearn.metrics import roc_curve

from conftest import copy_recipe, run
from speechkit.bin import extract_embeddings, infer, score_speaker, train
from speechkit.data.trials import make_trials, write_trials
from speechkit.features.cmvn import read_stats_file
from speechkit.infer.speaker import SpeakerEmbedder
from speechkit.io import MatrixWriter, read_matrix_dict, write_table
from speechkit.metrics.clustering import evaluate_clustering
from speechkit.tasks.speaker import (SpeakerBatches, embed_utterances, fit_segment,
                                     segment_starts, segments)


def sklearn_eer(scores, labels):
    """EER the usual way: where the ROC's FNR and FPR cross, interpolated."""
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    fnr = 1 - tpr
    k = int(np.argmax(fnr <= fpr))
    a, b = fnr[k - 1] - fpr[k - 1], fnr[k] - fpr[k]
    return fpr[k - 1] + a / (a - b) * (fpr[k] - fpr[k - 1])


# --- the recipe ---------------------------------------------------------------------------------

def test_speaker_recipe_end_to_end(tmp_path, capsys):
    recipe = copy_recipe("speaker", tmp_path)
    # 32 training speakers x 4 utterances (2 more each for the training dev loss), 6 unseen test
    # speakers x 6; a small CNN for 40 steps.
    out = run("./run.sh --num-speakers 40 --dev-speakers 2 --test-speakers 6 --utts-per-speaker 6 "
              "--nj 1 --seeds 1 --models cnn_kl --layers hidden --num-trials 180 --train-args "
              "'train.epochs=10 train.batches_per_epoch=4 model.channels=[8,16] optim.lr=0.003'",
              cwd=recipe)
    assert "Stage 6: comparison table" in out.stdout
    exp = recipe / "exp" / "train_cnn_kl_seed1"
    scores = json.loads((exp / "decode_test_hidden" / "scores.json").read_text())
    assert scores["layer"] == "dense1" and scores["scoring"] == "cosine" and scores["trials"] == 180
    # Unseen speakers are told apart well above chance: EER far below 50%, and clustering MR
    # far below that of random embeddings of the same utterances.
    assert scores["eer"] < 35.0, scores
    utt2spk = dict(line.split() for line in (recipe / "data/test/utt2spk").read_text().splitlines())
    speakers = [utt2spk[k] for k in sorted(utt2spk)]
    rng = np.random.default_rng(0)
    chance = np.mean([evaluate_clustering(rng.standard_normal((len(speakers), 16)), speakers)["mr"]
                      for _ in range(5)])
    assert scores["mr"] < 100 * chance - 15, (scores["mr"], chance)
    assert 0.0 <= scores["pair_accuracy"] <= 100.0 and "threshold" in scores
    results = (recipe / "exp" / "RESULTS.md").read_text()
    for part in ("## eer", "## min_dcf", "## pair_accuracy", "## mr", "## min_mr", "## ari",
                 "| train_cnn_kl |", "test_hidden", "dev_hidden"):
        assert part in results
    assert (exp / "decode_test_hidden" / "det.png").stat().st_size > 5000
    assert (exp / "decode_test_hidden" / "embeddings_2d.png").stat().st_size > 5000
    for asset in ("speakers.txt", "feats.yaml", "cmvn.ark", "thresholds.json"):
        assert (exp / asset).is_file()

    # A wav through `speechkit infer speaker` gets the embedding the data-dir extraction gave.
    wav_scp = dict(line.split(maxsplit=1)
                   for line in (recipe / "data/test/wav.scp").read_text().splitlines())
    utts = sorted(wav_scp)[:2] + sorted(wav_scp)[-1:]
    wavs = [wav_scp[u] for u in utts]
    extracted = read_matrix_dict(f"scp:{exp}/decode_test_hidden/embeddings.scp")
    assert infer.main(["speaker", "--model", str(exp), wavs[0], "-o", f"ark,t:{tmp_path}/one.txt"]) == 0
    mine = read_matrix_dict(f"ark,t:{tmp_path}/one.txt")[Path(wavs[0]).stem]
    np.testing.assert_allclose(mine, extracted[utts[0]], rtol=1e-4, atol=1e-5)

    # --compare: the first file against the others, cosine score and the dev threshold's decision.
    capsys.readouterr()
    assert infer.main(["speaker", "--model", str(exp), "--compare", *wavs]) == 0
    lines = capsys.readouterr().out.splitlines()
    threshold = json.loads((exp / "thresholds.json").read_text())["dense1"]["cosine"]["threshold"]
    assert len(lines) == 2
    for line, other in zip(lines, utts[1:]):
        a, b, score, decision = line.split()
        assert (a, b) == (utts[0], other)
        x, y = extracted[utts[0]][0], extracted[other][0]
        cosine = x @ y / np.linalg.norm(x) / np.linalg.norm(y)
        assert float(score) == pytest.approx(cosine, abs=2e-4)
        assert decision == ("same" if float(score) >= threshold else "different")

    check_pooled_extraction(recipe, exp, tmp_path)

    # Bad input: one line naming the problem, exit 1.
    assert infer.main(["speaker", "--model", str(exp), "--beam", "3", wavs[0]]) == 1
    assert "--beam does not apply to task speaker" in capsys.readouterr().err
    assert infer.main(["speaker", "--model", str(exp), "--layer", "dense9", wavs[0]]) == 1
    err = capsys.readouterr().err
    assert "dense9" in err and "softmax" in err
    assert extract_embeddings.main(["--model", str(exp), "--out", str(tmp_path / "x"),
                                    str(tmp_path)]) == 1
    assert "feats.scp" in capsys.readouterr().err
    data = recipe / "data"
    assert train.main(["--config", str(recipe / "conf/train_cnn_kl.yaml"), "--exp-dir",
                       str(tmp_path / "bad"), "--train-data", str(data / "train_tr"), "--dev-data",
                       str(data / "train_cv"), f"data.speakers={data}/lang/speakers.txt",
                       f"data.cmvn={data}/train/cmvn_global.ark", "model.loss=triplet"]) == 1
    assert "model.loss 'triplet' is not one of kl_hinge" in capsys.readouterr().err


def check_pooled_extraction(recipe, exp, tmp_path):
    """--pool (TIMIT's protocol): a pooled utterance is its members' features concatenated and
    embedded as one; utt2spk and balanced trials are the pooled utterances'."""
    test = recipe / "data" / "test"
    utt2spk = dict(line.split() for line in (test / "utt2spk").read_text().splitlines())
    pool = {}
    for spk in sorted(set(utt2spk.values())):
        utts = sorted(u for u in utt2spk if utt2spk[u] == spk)
        pool.update({u: f"{spk}-{'a' if i < len(utts) - 2 else 'b'}" for i, u in enumerate(utts)})
    write_table(tmp_path / "utt2pool", sorted(pool.items()))
    out = tmp_path / "pooled"
    assert extract_embeddings.main(["--model", str(exp), "--pool", str(tmp_path / "utt2pool"),
                                    "--out", str(out), str(test)]) == 0
    pooled = read_matrix_dict(f"scp:{out}/embeddings.scp")
    assert sorted(pooled) == sorted(set(pool.values()))
    assert dict(line.split() for line in (out / "utt2spk").read_text().splitlines()) == \
        {k: k.rsplit("-", 1)[0] for k in pooled}
    labels = [line.split()[2] for line in (out / "trials").read_text().splitlines()]
    assert labels.count("target") == labels.count("nontarget") == len(pooled) // 2
    # The reference: the model dir's network on the concatenated normalised features.
    embedder = SpeakerEmbedder(str(exp), layer="hidden")
    key = sorted(pooled)[0]
    members = sorted(u for u in pool if pool[u] == key)
    raw = read_matrix_dict(f"scp:{test}/feats.scp")
    stats = read_stats_file(exp / "cmvn.ark")  # Kaldi's (2, D+1) sums: mean and variance
    mean = stats[0, :-1] / stats[0, -1]
    # Kaldi's ApplyCmvn floors the variance at 1e-20: 128 mel bins over a 512-point FFT leave
    # the lowest bins empty, with constant log energy and a variance of 0.
    std = np.sqrt(np.maximum(stats[1, :-1] / stats[0, -1] - mean ** 2, 1e-20))
    concat = np.concatenate([(raw[u] - mean) / std for u in members]).astype(np.float32)
    reference = embed_utterances(embedder.md.model, [concat], 100, embedder.layer)[0]
    np.testing.assert_allclose(pooled[key][0], reference, rtol=1e-4, atol=1e-5)


# --- the task's batches and segments -------------------------------------------------------------

def test_speaker_batches_are_p_by_k_and_a_function_of_seed_and_epoch():
    labels = {f"s{s:02d}-{u}": s for s in range(12) for u in range(3 + s % 4)}
    sampler = SpeakerBatches(labels, speakers_per_batch=5, segments_per_speaker=4, seed=7)
    epoch1 = sampler.batches(1)
    assert epoch1 == SpeakerBatches(labels, 5, 4, seed=7).batches(1)
    assert epoch1 != sampler.batches(2) and epoch1 != SpeakerBatches(labels, 5, 4, seed=8).batches(1)
    assert len(epoch1) == math.ceil(len(labels) / 20)
    for batch in epoch1:
        spk = [labels[u] for u in batch]
        assert len(batch) == 20 and len(set(spk)) == 5
        assert all(spk.count(s) == 4 for s in set(spk))
        for s in set(spk):  # every utterance of a speaker before any recurs
            utts = [u for u in batch if labels[u] == s]
            assert len(set(utts)) == min(4, sum(1 for v in labels.values() if v == s))
    same = sum(labels[a] == labels[b] for i, a in enumerate(epoch1[0]) for b in epoch1[0][i + 1:])
    assert sampler.same_share() == pytest.approx(same / (20 * 19 / 2))
    assert f"{100 * same / 190:.1f}%" in sampler.describe()
    dev = SpeakerBatches(labels, 5, 4, seed=7, shuffle=False)
    assert dev.batches(1) == dev.batches(5) == SpeakerBatches(labels, 5, 4, seed=3, shuffle=False).batches(0)


def test_segments_cover_the_utterance_and_tile_short_ones():
    mat = torch.arange(230.0).reshape(115, 2)
    starts = segment_starts(115, 40, 20)
    assert starts == [0, 20, 40, 60, 75]
    segs = segments(mat, 40, 20)
    assert segs.shape == (5, 40, 2) and torch.equal(segs[-1], mat[75:])
    short = torch.arange(10.0).reshape(5, 2)
    tiled = fit_segment(short, 12)
    assert tiled.shape == (12, 2) and torch.equal(tiled[5:10], short) and torch.equal(tiled[10:], short[:2])
    assert torch.equal(fit_segment(mat, 40), mat[37:77])  # centred


# --- scoring --------------------------------------------------------------------------------------

def make_decode_dir(tmp_path, layer, softmax):
    """Embeddings of 5 speakers x 6 utterances around speaker centres, with trials."""
    rng = np.random.default_rng(0)
    d = tmp_path / f"exp/m/decode_test_{layer}"
    centres = rng.standard_normal((5, 8)) * 2
    utt2spk, emb = {}, {}
    for s in range(5):
        for u in range(6):
            utt = f"spk{s}-{u}"
            utt2spk[utt] = f"spk{s}"
            x = centres[s] + 1.2 * rng.standard_normal(8)
            emb[utt] = np.exp(x) / np.exp(x).sum() if softmax else x
    with MatrixWriter(f"ark,scp:{d}/embeddings.ark,{d}/embeddings.scp") as w:
        for k in sorted(emb):
            w.write(k, emb[k][None].astype(np.float32))
    write_table(d / "utt2spk", sorted(utt2spk.items()))
    trials = make_trials(utt2spk, 150, seed=1)
    write_trials(d / "trials", trials)
    (d / "decode.conf").write_text(f"model {tmp_path / 'exp/m'}\nlayer {layer}\n")
    stored = read_matrix_dict(f"scp:{d}/embeddings.scp")
    return d, {k: v[0].astype(np.float64) for k, v in stored.items()}, utt2spk, trials


def test_score_speaker_against_independent_references(tmp_path, capsys):
    d, emb, utt2spk, trials = make_decode_dir(tmp_path, "softmax", softmax=True)
    assert score_speaker.main(["--choose-threshold", str(d)]) == 0
    scores = json.loads((d / "scores.json").read_text())
    labels = np.array([t[2] == "target" for t in trials])
    cos = np.array([emb[a] @ emb[b] / np.linalg.norm(emb[a]) / np.linalg.norm(emb[b]) for a, b, _ in trials])
    kl = np.array([-(entropy(emb[a], emb[b]) + entropy(emb[b], emb[a])) for a, b, _ in trials])
    assert scores["scoring"] == "kl"  # the softmax layer is scored by symmetric KL
    assert scores["eer_cosine"] == pytest.approx(100 * sklearn_eer(cos, labels), abs=1e-3)
    assert scores["eer_kl"] == pytest.approx(100 * sklearn_eer(kl, labels), abs=1e-3)
    assert scores["eer"] == scores["eer_kl"] and 0 < scores["eer"] < 40
    # The threshold chosen on these trials is the best accuracy any threshold reaches on them.
    best = max(np.mean((kl >= t) == labels) for t in np.r_[kl, np.inf])
    assert scores["pair_accuracy"] == pytest.approx(100 * best, abs=1e-3)
    stored = json.loads((tmp_path / "exp/m/thresholds.json").read_text())
    assert set(stored["softmax"]) == {"kl", "cosine"}
    assert stored["softmax"]["kl"]["threshold"] == pytest.approx(scores["threshold"])
    assert scores["speakers"] == 5 and scores["utterances"] == 30 and 0 <= scores["mr"] < 50
    assert (d / "det.png").is_file() and (d / "embeddings_2d.png").is_file()
    assert "%EER" in (d / "result.txt").read_text()

    # A hidden layer is scored by cosine; without a dev threshold there is no pair accuracy.
    h, *_ = make_decode_dir(tmp_path, "dense1", softmax=False)
    assert score_speaker.main(["--no-plots", str(h)]) == 0
    hidden = json.loads((h / "scores.json").read_text())
    assert hidden["scoring"] == "cosine" and "eer_kl" not in hidden and "pair_accuracy" not in hidden
    assert "--choose-threshold" in capsys.readouterr().out
    assert score_speaker.main(["--scoring", "kl", str(h)]) == 1
    assert "probability vectors" in capsys.readouterr().err
    (h / "trials").unlink()
    assert score_speaker.main([str(h)]) == 1
    assert "trials" in capsys.readouterr().err


# --- corpus download --------------------------------------------------------------------------------

def test_mini_librispeech_download_lays_out_both_parts(tmp_path):
    """Offline path of local/download_and_untar.sh: archives already in <dest>/parts/<part>/ are
    unpacked and linked where the mini_librispeech preparer looks; a rerun does nothing."""
    dest = tmp_path / "corpus"
    for part in ("train-clean-5", "dev-clean-2"):
        tree = tmp_path / "src" / part / "LibriSpeech"
        (tree / part / "19" / "198").mkdir(parents=True)
        (tree / part / "19" / "198" / "19-198-0000.flac").write_bytes(b"")
        (tree / "SPEAKERS.TXT").write_text("; ID | SEX\n19 | F\n")
        (dest / "parts" / part).mkdir(parents=True)
        with tarfile.open(dest / "parts" / part / f"{part}.tar.gz", "w:gz") as tar:
            tar.add(tree, arcname="LibriSpeech")
    script = Path(__file__).resolve().parents[1] / "egs/speaker/local/download_and_untar.sh"
    run(f"{script} mini_librispeech {dest}")
    for part in ("train-clean-5", "dev-clean-2"):
        assert (dest / "LibriSpeech" / part / "19" / "198" / "19-198-0000.flac").is_file()
    assert (dest / "LibriSpeech" / "SPEAKERS.TXT").is_file() and (dest / ".done").is_file()
    assert "already" in run(f"{script} mini_librispeech {dest}").stderr
    missing = run(f"{script} timit {tmp_path / 'nowhere'}", check=False)
    assert missing.returncode == 1 and "LDC" in missing.stderr
