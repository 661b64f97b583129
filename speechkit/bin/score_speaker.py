"""Score speaker embeddings: verification on the trials, clustering of the utterances.

  speechkit score-speaker exp/x/decode_test_hidden [more decode dirs ...]
  speechkit score-speaker --choose-threshold exp/x/decode_dev_hidden     (on dev, first)

Reads DIR/embeddings.scp, DIR/trials and DIR/utt2spk (as `speechkit extract-embeddings`
leaves them) and DIR/decode.conf (the model dir and the layer), and writes DIR/result.txt,
DIR/scores.json, DIR/det.png and DIR/embeddings_2d.png. Rates are percentages.

Verification (speechkit/metrics/verification.py): EER and minDCF (p_target --p-target) with
cosine scoring, and for softmax embeddings also with symmetric-KL scoring; the scoring of the
layer (KL for softmax, cosine otherwise; --scoring to force one) gives the headline `eer`,
`min_dcf` and `pair_accuracy`: the share of trials decided right at the threshold chosen on
dev, read from the model dir's thresholds.json. --choose-threshold picks that threshold on this
dir's trials (the one maximising pair accuracy) and stores it there first: run it on the dev
decode dir before scoring the others.

Clustering (speechkit/metrics/clustering.py): complete-linkage agglomerative clustering of the
utterance embeddings by cosine distance; `mr` is the misclassification rate at the true number
of speakers (Hungarian matching), `min_mr` the lowest MR over all cuts of the dendrogram (the
original protocol's number; optimistic, since the labels pick the cut), `ari` the adjusted Rand
index at the true number of speakers.

Pictures: the DET curve of each scoring (probit axes), and the embeddings projected on their
first two principal components, coloured by speaker.
"""
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.data.trials import read_trials
from speechkit.errors import SpeechkitError
from speechkit.io import read_dict, read_matrix_dict
from speechkit.metrics.clustering import evaluate_clustering
from speechkit.metrics.report import write_report
from speechkit.metrics.thresholds import THRESHOLDS, scoring_for, store_threshold, stored_threshold
from speechkit.metrics.verification import (choose_threshold, det_curve, eer, min_dcf,
                                            pair_accuracy, probit, score_trials)

SCORINGS = ("auto", "cosine", "kl")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--scoring", choices=SCORINGS, default="auto",
                        help="headline scoring: auto (KL for softmax embeddings, else cosine)")
    parser.add_argument("--choose-threshold", action="store_true",
                        help="choose the threshold on this dir's trials and store it in the model "
                             "dir (run on the dev decode dir)")
    parser.add_argument("--p-target", type=float, default=0.01,
                        help="prior of a target trial for minDCF (default %(default)s)")
    parser.add_argument("--model",
                        help="model dir holding thresholds.json (default: decode.conf's)")
    parser.add_argument("--no-plots", action="store_true", help="skip the pictures")
    parser.add_argument("dirs", nargs="+", metavar="dir",
                        help="decode dir of `speechkit extract-embeddings` (several: each in turn)")
    return parser


def read_conf(d):
    path = d / "decode.conf"
    if not path.is_file():
        raise SpeechkitError(f"{path}: no such file; is {d} a dir `speechkit extract-embeddings` "
                             f"wrote?")
    return dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)


def load_inputs(d):
    """(embeddings {utt: (D,)}, utt2spk, trials) of a decode dir, checked against each other."""
    for name in ("embeddings.scp", "utt2spk", "trials"):
        if not (d / name).is_file():
            raise SpeechkitError(f"{d}/{name}: no such file; extract the embeddings of a data dir "
                                 f"with {name if name != 'embeddings.scp' else 'feats.scp'} "
                                 f"(speechkit extract-embeddings --out {d} DATA)")
    embeddings = {k: m.reshape(-1) for k, m in read_matrix_dict(f"scp:{d}/embeddings.scp").items()}
    utt2spk = {k: v for k, v in read_dict(d / "utt2spk").items() if k in embeddings}
    if len(set(utt2spk.values())) < 2:
        raise SpeechkitError(f"{d}/utt2spk: the embedded utterances have fewer than 2 speakers; "
                             f"nothing to cluster")
    return embeddings, utt2spk, read_trials(d / "trials", embeddings)


def is_distribution(embeddings):
    x = np.stack(list(embeddings.values()))
    return bool(np.all(x >= 0) and np.allclose(x.sum(1), 1.0, atol=1e-3))


def verification(trials, embeddings, scoring, p_target):
    """{scoring: (scores, labels, eer, eer threshold, minDCF)}."""
    scores, labels = score_trials(trials, embeddings, scoring)
    rate, at = eer(scores, labels)
    return scores, labels, rate, at, min_dcf(scores, labels, p_target)[0]


def score(d, scoring="auto", choose=False, p_target=0.01, model=None, plots=True):
    d = Path(d)
    conf = read_conf(d)
    model = Path(model or conf.get("model", d.parent))
    layer = conf.get("layer", "?")
    embeddings, utt2spk, trials = load_inputs(d)
    scorings = ["cosine"] + (["kl"] if is_distribution(embeddings) else [])
    main = scoring_for(layer) if scoring == "auto" else scoring
    if main not in scorings:
        raise SpeechkitError(f"{d}: {main} scoring needs probability vectors (softmax embeddings); "
                             f"these are {layer} outputs")
    runs = {s: verification(trials, embeddings, s, p_target) for s in scorings}
    if choose:
        for s, (scores, labels, *_) in runs.items():
            store_threshold(model, layer, s, choose_threshold(scores, labels), d)
    scores, labels, rate, _, dcf = runs[main]
    result = {"eer": round(100 * rate, 4), "min_dcf": round(dcf, 4), "scoring": main,
              "layer": layer, "trials": len(trials), "p_target": p_target}
    for s, run in runs.items():
        result.update({f"eer_{s}": round(100 * run[2], 4), f"min_dcf_{s}": round(run[4], 4)})
    threshold = stored_threshold(model, layer, main)
    if threshold is not None:
        result.update(threshold=threshold,
                      pair_accuracy=round(100 * pair_accuracy(scores, labels, threshold), 4))
    keys = sorted(utt2spk)
    clusters = evaluate_clustering(np.stack([embeddings[k] for k in keys]),
                                   [utt2spk[k] for k in keys])
    result.update(mr=round(100 * clusters["mr"], 4),
                  min_mr=round(100 * clusters["min_mr_over_cuts"], 4),
                  min_mr_clusters=clusters["min_mr_clusters"], ari=round(clusters["ari"], 4),
                  speakers=clusters["speakers"], utterances=len(keys))
    if plots:
        plot_det(runs, d / "det.png")
        plot_embeddings(embeddings, utt2spk, d / "embeddings_2d.png", f"{layer} ({d.name})")
    return result, model


def report_lines(result, model):
    lines = [f"%EER {result['eer']:.2f} minDCF({result['p_target']:g}) {result['min_dcf']:.4f} "
             f"[ {result['trials']} trials, {result['layer']} embeddings, {result['scoring']} "
             f"scoring ]"]
    for s in ("cosine", "kl"):
        if f"eer_{s}" in result:
            lines.append(f"  {s}: %EER {result[f'eer_{s}']:.2f} "
                         f"minDCF {result[f'min_dcf_{s}']:.4f}")
    if "pair_accuracy" in result:
        lines.append(f"%PAIR-ACC {result['pair_accuracy']:.2f} at the dev threshold "
                     f"{result['threshold']:.4f}")
    else:
        lines.append(f"(no pair accuracy: {model}/{THRESHOLDS} has no {result['layer']} "
                     f"{result['scoring']} threshold; run score-speaker --choose-threshold on the "
                     f"dev decode dir first)")
    lines.append(f"%MR {result['mr']:.2f} at {result['speakers']} clusters, min over cuts "
                 f"{result['min_mr']:.2f} (at {result['min_mr_clusters']}), ARI {result['ari']:.4f} "
                 f"[ {result['utterances']} utterances ]")
    return lines


def plot_det(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (scores, labels, rate, *_) in runs.items():
        fpr, fnr, _ = det_curve(scores, labels)
        ax.plot(probit(fpr), probit(fnr), label=f"{name} (EER {100 * rate:.1f}%)")
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95])
    ax.set_xticks(probit(ticks), [f"{100 * t:g}" for t in ticks])
    ax.set_yticks(probit(ticks), [f"{100 * t:g}" for t in ticks])
    lim = probit(np.array([0.0005, 0.99]))
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_xlabel("false alarm rate (%)")
    ax.set_ylabel("miss rate (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_embeddings(embeddings, utt2spk, path, title):
    """The first two principal components of the embeddings, one colour and marker a speaker."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted(utt2spk)
    x = np.stack([embeddings[k] for k in keys]).astype(np.float64)
    x -= x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T if len(vt) >= 2 else np.c_[x @ vt[:1].T, np.zeros(len(x))]
    speakers = sorted(set(utt2spk.values()))
    colours = plt.get_cmap("tab20").colors
    markers = "osv^D"
    fig, ax = plt.subplots(figsize=(6, 5))
    for i, spk in enumerate(speakers):
        rows = [j for j, k in enumerate(keys) if utt2spk[k] == spk]
        ax.scatter(xy[rows, 0], xy[rows, 1], s=14, color=colours[i % 20],
                   marker=markers[(i // 20) % len(markers)], label=spk)
    ax.set_title(f"{title}: {len(speakers)} speakers, PCA", fontsize=9)
    if len(speakers) <= 40:
        ax.legend(fontsize=5, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


@common.cli("speechkit score-speaker")
def main(argv=None):
    args = get_parser().parse_args(argv)
    if not 0.0 < args.p_target < 1.0:
        raise SpeechkitError(f"--p-target {args.p_target}: must be between 0 and 1")
    for d in args.dirs:
        result, model = score(d, args.scoring, args.choose_threshold, args.p_target, args.model,
                              not args.no_plots)
        lines = report_lines(result, model)
        write_report(d, lines, result)
        print(f"{d}:\n" + "\n".join(lines))
