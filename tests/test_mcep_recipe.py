"""egs/mcep/run.sh end to end on a tiny corpus and tiny configs, then one-file inference and the
bad inputs (one clear line each)."""
import json

import numpy as np
import pytest
import soundfile as sf

from conftest import copy_recipe, run

TINY = ("./run.sh --num-speakers 7 --dev-speakers 1 --test-speakers 1 --utts-per-speaker 4 "
        "--parallel-texts 1 --vc-speakers 2 --nj 1 --baselines 'copy mean' "
        "--configs 'conf/train_vae_tiny.yaml conf/train_lstm_ae_tiny.yaml' "
        "--vc-configs conf/train_cvae_tiny.yaml")


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    recipe = copy_recipe("mcep", tmp_path_factory.mktemp("mcep"))
    out = run(TINY, cwd=recipe)
    assert "Stage 6: comparison tables" in out.stdout
    return recipe


def scores(recipe, system, decode="decode_test"):
    return json.loads((recipe / "exp" / system / decode / "scores.json").read_text())


def one_error_line(proc):
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    return lines[0]


def test_models_beat_the_mean_frame(recipe):
    mean = scores(recipe, "mean")
    vae, lstm = scores(recipe, "train_vae_tiny_seed1"), scores(recipe, "train_lstm_ae_tiny_seed1")
    assert mean["vr"] == 0.0 and mean["mcd"] > 5.0
    assert vae["mcd"] < mean["mcd"] - 1.0 and lstm["mcd"] < mean["mcd"] - 1.0
    assert lstm["vr"] > 0.1  # the sequence autoencoder did not collapse to the average
    assert 0 < vae["active_latents"] <= 16
    copy = scores(recipe, "copy")
    assert copy["mcd"] == 0.0 and 0.5 < copy["mcd_resynth"] < mean["mcd"]  # the WORLD floor
    conversion = scores(recipe, "train_cvae_tiny_seed1", "decode_test_vc")
    assert conversion["alignment"] == "dtw" and conversion["utterances"] == 2
    results = (recipe / "exp" / "RESULTS.md").read_text()
    for part in ("## mcd\n", "## vr_gv", "| train_vae_tiny |", "| train_lstm_ae_tiny |", "| mean |",
                 "## mcd_resynth", "## active_latents", "# Voice conversion", "| train_cvae_tiny |"):
        assert part in results
    images = recipe / "exp" / "train_vae_tiny_seed1" / "decode_test" / "images"
    assert all((images / f"{n}.png").stat().st_size > 5000 for n in ("c21", "scatter", "spectrograms"))
    assert (recipe / "exp" / "train_vae_tiny_seed1" / "images" / "active_latents.png").is_file()


def test_infer_agrees_with_the_data_dir_decoding(recipe):
    decode = recipe / "exp" / "train_vae_tiny_seed1" / "decode_test"
    utt, wav = (recipe / "data" / "test" / "wav.scp").read_text().split("\n")[0].split()
    run(f". ./path.sh && speechkit infer mcep --model exp/train_vae_tiny_seed1 {wav} -o out",
        cwd=recipe)
    ours, rate = sf.read(recipe / "out" / f"{utt}.wav", dtype="int16")
    theirs, _ = sf.read(decode / "wav" / f"{utt}.wav", dtype="int16")
    assert rate == 16000 and len(ours) > 8000 and np.array_equal(ours, theirs)
    # Conversion from one file: the conditioned VAE decodes with the target's code (a voice
    # of its training set), keeping the timing; a VAE without speaker codes refuses.
    target = (recipe / "exp" / "train_cvae_tiny_seed1" / "spk2lf0").read_text().split()[0]
    run(f". ./path.sh && speechkit infer mcep --model exp/train_cvae_tiny_seed1 --target-speaker "
        f"{target} {wav} -o out_vc", cwd=recipe)
    converted, _ = sf.read(recipe / "out_vc" / f"{utt}.wav", dtype="int16")
    assert len(converted) == len(ours) and not np.array_equal(converted, ours)
    line = one_error_line(run(f". ./path.sh && speechkit infer mcep --model "
                              f"exp/train_vae_tiny_seed1 --target-speaker {target} {wav} -o out_bad",
                              recipe, False))
    assert "no speaker code" in line
    # The stage is idempotent: a finished training is left alone.
    run(TINY + " --stage 3 --stop-stage 3", cwd=recipe)
    for system in ("train_vae_tiny_seed1", "train_lstm_ae_tiny_seed1", "train_cvae_tiny_seed1"):
        assert "already trained; nothing to do" in \
            (recipe / "exp" / system / "log" / "train.log").read_text()


def test_bad_inputs_one_line_each(recipe, tmp_path):
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "hiss.wav", (0.01 * rng.standard_normal(16000)).astype(np.float32), 16000)
    sf.write(tmp_path / "blip.wav", np.zeros(160, np.float32), 16000)
    infer = ". ./path.sh && speechkit infer mcep --model exp/train_vae_tiny_seed1 -o out2 "
    assert "no voiced speech" in one_error_line(run(infer + f"{tmp_path}/hiss.wav", recipe, False))
    assert "too short" in one_error_line(run(infer + f"{tmp_path}/blip.wav", recipe, False))

    (recipe / "conf" / "mcep_12k.yaml").write_text("sample_frequency: 12000\n")
    line = one_error_line(run(". ./path.sh && local/make_mcep.sh --mcep-config conf/mcep_12k.yaml "
                              "data/test exp/make_bad mcep_bad", recipe, False))
    assert "no all-pass constant (alpha) is tabled for 12000 Hz" in line

    run(". ./path.sh && utils/copy_data_dir.sh data/test data/test_bad && cp data/test/lf0.scp "
        "data/test/bap.scp data/test_bad/ && speechkit copy-feats scp:data/test/feats.scp "
        "ark:- | python3 -c \"import sys, kaldiio; w = kaldiio.WriteHelper('ark,scp:"
        "data/test_bad/m.ark,data/test_bad/feats.scp'); [w(k, m[:, :25]) for k, m in "
        "kaldiio.load_ark(sys.stdin.buffer)]; w.close()\"", recipe)
    line = one_error_line(run(". ./path.sh && speechkit mcep-reconstruct --model "
                              "exp/train_vae_tiny_seed1 data/test_bad exp/bad", recipe, False))
    assert "25-dim mel-cepstra, but the model was trained on 40" in line


# ---- the pieces, on a synthetic data dir (no recipe run) ----

def synthetic_data(root, utts=4, frames=60, seed=0):
    """A data dir of smooth random 'mel-cepstra' (c0..c39), lf0, bap and the train stats."""
    from speechkit.features.cmvn import acc_stats, write_stats_file
    from speechkit.features.config import write_typed
    from speechkit.features.mcep_frontend import resolve, write_stats
    from speechkit.io import MatrixWriter
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    keys = sorted(f"s{u % 2}-{u:03d}" for u in range(utts))
    lengths = {k: frames + int(k[1]) for k in keys}  # speaker s0: 60 frames, s1: 61
    stats = None
    with MatrixWriter(f"ark,scp:{root}/m.ark,{root}/feats.scp") as wm, \
            MatrixWriter(f"ark,scp:{root}/l.ark,{root}/lf0.scp") as wl, \
            MatrixWriter(f"ark,scp:{root}/b.ark,{root}/bap.scp") as wb:
        for k in keys:
            mcep = np.cumsum(rng.standard_normal((lengths[k], 40)), 0) * 0.1
            mcep[:, 0] -= 5
            stats = acc_stats(mcep, stats)
            wm.write(k, mcep)
            wl.write(k, np.where(rng.random((len(mcep), 1)) < 0.6, 4.8, 0.0))
            wb.write(k, -rng.random((len(mcep), 1)))
    (root / "utt2spk").write_text("".join(f"{k} {k[:2]}\n" for k in keys))
    (root / "utt2num_frames").write_text("".join(f"{k} {n}\n" for k, n in lengths.items()))
    write_typed(root / "feats.yaml", "mcep", resolve({}))
    write_stats_file(root / "cmvn_global.ark", stats)
    write_stats(root)
    return root


def vae_config(data, **train):
    from speechkit.tasks import get_task
    from speechkit.train.config import DEFAULTS, merge
    task_cls = get_task("mcep_vae")
    config = merge(merge(DEFAULTS, task_cls.defaults), {
        "data": {"train": str(data), "dev": str(data), "features": str(data / "feats.yaml"),
                 "cmvn": str(data / "cmvn_global.ark"), "gv": str(data / "gv.ark"),
                 "spk2lf0": str(data / "spk2lf0")},
        "model": {"hidden": [16, 8], "latent": 4, "context": 1},
        "train": {"batch_frames": 32, "num_threads": 1, "kl_anneal_steps": 20, **train}})
    return task_cls, config


def test_frame_batches_are_a_function_of_seed_and_epoch(tmp_path):
    from speechkit.nn.mcep_vae import stack_context
    task_cls, config = vae_config(synthetic_data(tmp_path / "d"))
    task = task_cls(config, tmp_path / "exp")
    frames = task.dataset("train")
    sampler = task.sampler(frames, True)
    one, again, two = sampler.batches(1), task.sampler(frames, True).batches(1), sampler.batches(2)
    assert one == again and one != two
    assert sorted(i for b in one for i in b) == list(range(len(frames))) == \
        sorted(i for b in two for i in b)
    assert {len(b) for b in one[:-1]} == {32}
    # Context frames come from the frame's own utterance, edges repeated: nn.stack_context.
    first = frames.frames[:60]
    assert torch_equal(frames.batch(list(range(60)), 1), stack_context(first, 1))


def torch_equal(a, b):
    import torch
    return torch.equal(a, b)


def test_vae_resume_continues_the_kl_schedule_exactly(tmp_path):
    import torch
    from speechkit.train.distributed import init
    from speechkit.train.trainer import Trainer
    data = synthetic_data(tmp_path / "d")

    def trainer(exp, epochs):
        task_cls, config = vae_config(data, epochs=epochs)
        task = task_cls(config, exp)
        torch.manual_seed(1)
        model = task.build_model(task.input_dim())
        exp.mkdir(exist_ok=True)
        return Trainer(task, model, config, exp, task.dataset("train"), task.dataset("dev"),
                       torch.device("cpu"), init(0))
    straight = trainer(tmp_path / "a", 3)
    straight.fit()
    first = trainer(tmp_path / "b", 1)
    first.fit()
    resumed = trainer(tmp_path / "b", 3)
    assert resumed.resume()
    resumed.fit()
    steps = straight.state["step"]
    assert steps > 20 and float(straight.model.kl_step) == steps == resumed.state["step"]
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    history = straight.state["history"][-1]
    assert set(history["dev"]) >= {"loss", "nll", "kl", "dead_share", "active_latents", "mcd"}
    assert "mcd" not in history["train"] and 0 <= history["train"]["dead_share"] <= 1
    # Epoch 1 (8 steps) trains with the KL weight still annealing, but dev scores the whole KL.
    first_epoch = straight.state["history"][0]
    dev, train = first_epoch["dev"], first_epoch["train"]
    assert abs(dev["loss"] - dev["nll"] - dev["kl"]) < 1e-4
    assert train["loss"] < train["nll"] + train["kl"] - 1e-3


def test_seq_windows_loss_and_reconstruction(tmp_path):
    import torch
    from speechkit.tasks import get_task
    from speechkit.train.config import DEFAULTS, merge
    data = synthetic_data(tmp_path / "d")
    task_cls = get_task("mcep_seq_ae")
    _, base = vae_config(data)
    config = merge(merge(DEFAULTS, task_cls.defaults), {
        "data": base["data"], "model": {"hidden": 8, "bidirectional": True},
        "train": {"window": 25, "max_batch": 4, "step_weights": "sqrt"}})
    task = task_cls(config, tmp_path / "exp")
    windows = task.dataset("train")
    lengths = {k: len(m) for k, m in windows.mats.items()}
    # 60 and 61 frames -> windows of 25, 25 and the rest
    assert sorted(windows.lengths.values()) == [10] * 2 + [11] * 2 + [25] * 8 and \
        sum(lengths.values()) == 242
    model = task.build_model(task.input_dim())
    batch = task.collate(list(range(len(windows))), windows)
    loss, weight, stats = task.loss(model, batch)
    assert weight == 242 and stats["loss"] > stats["mse"] > 0  # sqrt(s+1) >= 1 per step
    c1 = windows.mats["s0-000"].numpy()
    assert task.reconstruct(model, c1).shape == c1.shape


def test_baselines_and_f0_conversion(tmp_path):
    import torch
    from speechkit.features.mcep_frontend import convert_lf0
    from speechkit.tasks.mcep import FrameBaseline
    x = torch.randn(200, 5, dtype=torch.float64) @ torch.randn(5, 5, dtype=torch.float64)
    full = FrameBaseline(5, "pca", 5).double().fit(x)
    assert torch.allclose(full(x), x, atol=1e-9)
    two = FrameBaseline(5, "pca", 2).double().fit(x)
    # the rank-2 PCA error is the sum of the 3 smallest covariance eigenvalues
    eig = torch.linalg.eigvalsh(torch.cov(x.T, correction=0))
    assert torch.isclose(((two(x) - x) ** 2).sum(1).mean(), eig[:3].sum())
    assert torch.allclose(FrameBaseline(5, "mean").double().fit(x)(x), x.mean(0).expand_as(x))
    lf0 = np.array([[0.0], [4.0], [5.0], [0.0], [6.0]], np.float32)
    out = convert_lf0(lf0, (5.0, 1.0), (4.5, 0.5))
    assert np.allclose(out[:, 0], [0, 4.0, 4.5, 0, 5.0])
