"""egs/emotion/run.sh end to end on a tiny corpus (two well-separated styles, two folds, standard
and multi-time-scale convolution), then `speechkit infer emotion` against the data-dir decoding."""
import json

from conftest import copy_recipe, run
from speechkit.io import read_matrix_dict


def test_emotion_recipe_end_to_end(tmp_path):
    recipe = copy_recipe("emotion", tmp_path)
    out = run("./run.sh --num-speakers 8 --utts-per-speaker 8 --nj 2 --folds 2 --systems 'std mts' "
              "--styles sad,angry --style-strength 1,1 --train-args 'train.epochs=10'", cwd=recipe,
              env={"OMP_NUM_THREADS": "1"})  # one thread: the same numbers on every machine
    assert "Stage 7: comparison over folds" in out.stdout
    results = (recipe / "exp" / "RESULTS.md").read_text()
    for part in ("## ua", "## wa", "## macro_f1", "| train_std |", "| train_mts |",
                 "train_mts_fold1_seed1"):
        assert part in results, part
    for system in ("std", "mts"):
        scores = [json.loads((recipe / "exp" / f"train_{system}_fold{k}_seed1" / "decode_test" /
                              "scores.json").read_text()) for k in (1, 2)]
        assert [s["utterances"] for s in scores] == [32, 32]
        mean_ua = sum(s["ua"] for s in scores) / 2
        assert mean_ua > 62.0, scores  # two styles: chance is 50%

    exp = recipe / "exp" / "train_mts_fold1_seed1"
    key, wav = (recipe / "data" / "fold1" / "test" / "wav.scp").read_text().split("\n")[0].split(" ", 1)
    line = run(f". ./path.sh && speechkit infer emotion --model {exp} {wav}", cwd=recipe).stdout
    name, label, posterior = line.split()
    decoded = dict(ln.split() for ln in (exp / "decode_test" / "text").read_text().splitlines())
    post = read_matrix_dict(f"ark:{exp}/decode_test/posteriors.txt")[key]
    assert label == decoded[key] and abs(float(posterior) - float(post.max())) < 1e-4
    wrong = run(f". ./path.sh && speechkit infer kws --model {exp} {wav}", cwd=recipe, check=False)
    assert wrong.returncode == 1 and "is a 'emotion' model" in wrong.stderr
