"""Picture one utterance through log-mel, fixed PCEN and a trained PCEN, with the learned
per-band PCEN parameters (the KWS recipe's figure); for the mixture smoother (`smoother:
mixture`), a heat map of the learned per-band weights w_k(f) of its fixed smoothers in place of s.

  speechkit plot-frontends --model exp/train_pcen_seed1 [--utt ID] data/test_far_snr10 out.png
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from speechkit import cli as common  # noqa: E402
from speechkit.infer.model_dir import ModelDir  # noqa: E402
from speechkit.errors import SpeechkitError  # noqa: E402
from speechkit.io import load_scp, read_dict  # noqa: E402
from speechkit.nn.frontends import LogMel, PCENFrontend  # noqa: E402


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--model", required=True, help="experiment dir of a trained-PCEN model")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--utt", help="utterance to show (default: the first keyword utterance)")
    parser.add_argument("data", help="data dir with feats.scp (mel energies) and text")
    parser.add_argument("out", help="output PNG")
    return parser


def pick_utt(data, utt):
    text = read_dict(Path(data) / "text")
    if utt is None:
        utt = next((k for k, v in text.items() if not v.startswith("_")), next(iter(text)))
    if utt not in text:
        raise SpeechkitError(f"{data}/text: no utterance {utt}")
    return utt, text[utt]


@torch.no_grad()
def panels(model, energies):
    """[(title, (T, bands) array)] for the three frontends."""
    bands = energies.shape[-1]
    trained = model.frontend
    if not isinstance(trained, PCENFrontend):
        raise SpeechkitError("plot-frontends needs a model with a PCEN frontend (frontend: pcen)")
    fixed = PCENFrontend(bands, trainable=False, init=trained.pcen.init, eps=trained.pcen.eps)
    return [("log-mel", LogMel()(energies)), ("PCEN, fixed", fixed(energies)),
            ("PCEN, trained", trained(energies))]


def draw_params(axes, pcen, fig):
    """The learned per-band parameters on three axes: s (or the mixture's weights), alpha and r,
    delta."""
    mixture = pcen.smoother == "mixture"
    for ax, names in zip(axes, (["s"], ["alpha", "r"], ["delta"])):
        if mixture and names == ["s"]:
            plot_weights(ax, pcen, fig)
            continue
        for name in names:
            ax.plot(getattr(pcen, name).detach().numpy(), marker=".", label=f"{name} (learned)")
        ax.set_xlabel("mel band")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    initial = "equal smoother weights" if mixture else "s 0.025"
    axes[0].set_title(f"learned per-band PCEN parameters (initial: {initial}, alpha 0.98, "
                      "delta 2, r 0.5)", fontsize=9, loc="left")


def plot_weights(ax, pcen, fig):
    """Heat map of the mixture's weights w_k(f): smoothers (by s_k) x mel bands."""
    weights = pcen.smoother_weights.detach().T.numpy()
    image = ax.imshow(weights, origin="lower", aspect="auto", interpolation="nearest",
                      vmin=0, vmax=1)
    coefs = pcen.smoother_coefs.tolist()
    ax.set_yticks(range(len(coefs)), [f"{c:g}" for c in coefs])
    ax.set_ylabel("smoother s_k")
    ax.set_xlabel("mel band")
    fig.colorbar(image, ax=ax, label="learned weight w_k(f)")


@common.cli("speechkit plot-frontends")
def main(argv=None):
    args = get_parser().parse_args(argv)
    md = ModelDir(args.model, args.checkpoint)
    utt, label = pick_utt(args.data, args.utt)
    energies = torch.tensor(load_scp(Path(args.data) / "feats.scp")[utt])[None]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, (title, mat) in zip(axes[0], panels(md.model.eval(), energies)):
        ax.imshow(mat[0].T.numpy(), origin="lower", aspect="auto", interpolation="nearest")
        ax.set_title(f"{title}: {utt} ({label})", fontsize=9)
        ax.set_xlabel("frame")
        ax.set_ylabel("mel band")
    draw_params(axes[1], md.model.frontend.pcen, fig)
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(f"plot-frontends: {args.out}")
