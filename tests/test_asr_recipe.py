"""egs/asr/run.sh end to end on a tiny corpus and config, then one-command inference."""
import collections
import json

from conftest import copy_recipe, run


def test_asr_recipe_end_to_end(tmp_path):
    recipe = copy_recipe("asr", tmp_path)
    out = run("./run.sh --num-speakers 8 --dev-speakers 2 --test-speakers 2 --utts-per-speaker 6 "
              "--nj 2 --train-config conf/train_tiny.yaml --beam 4 --speed-perturb true --voice-perturb true", cwd=recipe)
    exp = recipe / "exp" / "train_tiny_seed1"
    # Trained on train at three speeds, volume-perturbed, plus a copy in other voices.
    train = (recipe / "data" / "train" / "text").read_text().splitlines()
    augmented = (recipe / "data" / "train_sp_vc" / "text").read_text().splitlines()
    prefixes = collections.Counter(line.split("-", 1)[0] for line in augmented)
    assert prefixes["sp0.9"] == prefixes["sp1.1"] == prefixes["vc1"] == len(train)
    assert "speechkit wav-volume" in (recipe / "data" / "train_sp" / "wav.scp").read_text()
    assert "data/train_sp_vc" in (exp / "config.yaml").read_text()
    for name in ("decode_test_greedy", "decode_test_beam4", "decode_dev_greedy", "decode_dev_beam4"):
        result = (exp / name / "result.txt").read_text()
        assert result.startswith("%WER ") and "%CER " in result
        scores = json.loads((exp / name / "scores.json").read_text())
        assert scores["sentences"] == 12 and scores["missing"] == 0
        assert (exp / name / "wer_details" / "per_utt").is_file()
    assert "| decode_test_beam4 |" in (exp / "RESULTS.md").read_text()
    # One tiny epoch already beats saying nothing (CER 100%); a model that never steps does not.
    assert json.loads((exp / "decode_test_beam4" / "scores.json").read_text())["cer"] < 95.0
    assert "Stage 6: scoring" in out.stdout

    # Rerunning a stage is safe (stage 1 remakes the augmented dirs that stage 2 gave features),
    # and the model decodes a user's wav with no data dir.
    run("./run.sh --stage 1 --stop-stage 2 --speed-perturb true --voice-perturb true", cwd=recipe)
    run("./run.sh --stage 4 --stop-stage 4 --train-config conf/train_tiny.yaml --speed-perturb true --voice-perturb true",
        cwd=recipe)
    wav = next((recipe / "corpus" / "embedded" / "wav").glob("*.wav"))
    out = run(f". ./path.sh && speechkit infer asr --model {exp} {wav}", cwd=recipe)
    key, *words = out.stdout.split("\n")[0].split(" ")
    assert key == wav.stem
    missing = run(f". ./path.sh && speechkit infer asr --model {exp} nope.wav", cwd=recipe, check=False)
    assert missing.returncode == 1 and "nope.wav" in missing.stderr

    # `speechkit infer` and data-dir decoding agree on the same utterances.
    out = run(f". ./path.sh && speechkit infer asr --beam 4 --model {exp} --wav-scp data/test/wav.scp",
              cwd=recipe).stdout
    hyps = (exp / "decode_test_beam4" / "text").read_text()
    assert table(out) == table(hyps) and len(table(hyps)) == 12


def table(text):
    """{key: text} of `key words...` lines (a line may hold a key alone)."""
    return {line.split(" ", 1)[0]: " ".join(line.split()[1:]) for line in text.splitlines()}
