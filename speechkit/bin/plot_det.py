"""Draw keyword-spotting DET curves: false rejects against false alarms, one curve per system.

  speechkit plot-det exp/kws_det_test_far_snr10.png \\
      exp/train_logmel_seed1/decode_test_far_snr10 exp/train_pcen_seed1/decode_test_far_snr10

Draws the `det` points that `speechkit score-kws` wrote into each decode dir's scores.json
(the false-reject rate averaged over keywords at each false-alarm rate) on normal-deviate
axes, as DET curves are drawn, one curve per decode dir, named after its experiment dir, with
its mean false-reject rate at score-kws's --fa-rate in the legend. Give the decode dirs of one
condition (decode_<set>) to compare systems on it.
"""
import json
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.metrics.verification import probit

TICKS = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99])


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("out", help="picture to write (.png)")
    parser.add_argument("dirs", nargs="+", help="decode dirs scored by speechkit score-kws")
    return parser


def read_det(decode_dir):
    """(fa rates, frr means) as fractions, and the scores.json record, of a scored decode dir."""
    path = Path(decode_dir) / "scores.json"
    if not path.is_file():
        raise SpeechkitError(f"{path}: missing; score the decode dir first (speechkit score-kws)")
    try:
        record = json.loads(path.read_text())
        det = record["det"]
        return np.array(det["fa_rate"]) / 100, np.array(det["frr_mean"]) / 100, record
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise SpeechkitError(f"{path}: no DET points ({type(e).__name__}: {e}); score it again "
                             f"with this version of speechkit score-kws") from None


def plot(dirs, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    for d in map(Path, dirs):
        fa, frr, record = read_det(d)
        ax.plot(probit(fa), probit(frr), label=f"{d.resolve().parent.name} (FRR "
                f"{record['frr_mean']:.1f}% at {100 * record['fa_rate']:g}% FA)")
    labels = [f"{100 * t:g}" for t in TICKS]
    ax.set_xticks(probit(TICKS), labels)
    ax.set_yticks(probit(TICKS), labels)
    ax.set_xlim(*probit(np.array([0.0008, 0.995])))
    ax.set_ylim(*probit(np.array([0.0008, 0.995])))
    ax.set_xlabel("false alarm rate (%)")
    ax.set_ylabel("false reject rate (%, mean over keywords)")
    ax.set_title(Path(dirs[0]).resolve().name, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)


@common.cli("speechkit plot-det")
def main(argv=None):
    args = get_parser().parse_args(argv)
    plot(args.dirs, args.out)
    print(f"plot-det: {len(args.dirs)} curves into {args.out}")
