"""Picture the learned per-band PCEN parameters of several runs (one line per seed).

  speechkit plot-pcen-params exp/train_pcen_seed{1,2,3} exp/pcen_params.png

Four panels over the mel bands: the smoother coefficient s, alpha, delta and r, each run a line
and the initial value a dashed line, so one sees which bands moved, how far, and whether the
seeds agree. For the mixture smoother (`smoother: mixture`) the s panel shows the effective
coefficient sum_k w_k(f) s_k of the learned weights (plot-frontends draws the weights).
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from speechkit import cli as common  # noqa: E402
from speechkit.errors import SpeechkitError  # noqa: E402
from speechkit.infer.model_dir import ModelDir  # noqa: E402
from speechkit.nn.frontends import PCENFrontend, build_frontend  # noqa: E402

NAMES = ("s", "alpha", "delta", "r")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in each model dir")
    parser.add_argument("models", nargs="+", help="experiment dirs of trained-PCEN models")
    parser.add_argument("out", help="output PNG")
    return parser


@torch.no_grad()
def learned(pcen):
    """{name: per-band numpy array}; s of a mixture is its effective coefficient."""
    if pcen.smoother == "mixture":
        s = pcen.smoother_weights @ pcen.smoother_coefs.to(pcen.alpha.dtype)
    else:
        s = pcen.s
    values = {"s": s, **{name: getattr(pcen, name) for name in NAMES[1:]}}
    return {name: v.detach().double().numpy() for name, v in values.items()}


def pcen_pair(model_dir, checkpoint):
    """(trained PCEN layer, the same layer as configured before training) of a run."""
    md = ModelDir(model_dir, checkpoint)
    frontend = md.model.frontend
    if not isinstance(frontend, PCENFrontend):
        raise SpeechkitError(f"{model_dir}: its model has no PCEN frontend; give runs of a "
                             f"trained-PCEN config (frontend: pcen)")
    model = md.config["model"]
    initial = build_frontend(model["frontend"], frontend.pcen.num_bands, **model.get("pcen", {}))
    return frontend.pcen, initial.pcen


@common.cli("speechkit plot-pcen-params")
def main(argv=None):
    args = get_parser().parse_args(argv)
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    for model in args.models:
        trained, initial = pcen_pair(model, args.checkpoint)
        for ax, values in zip(axes, learned(trained).values()):
            ax.plot(values, marker=".", markersize=3, label=Path(model).name)
    for ax, (name, values) in zip(axes, learned(initial).items()):
        ax.plot(values, "k--", linewidth=1, label="initial")
        ax.set_title(f"learned {name} per band", fontsize=9)
        ax.set_xlabel("mel band")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(f"plot-pcen-params: {args.out} ({len(args.models)} runs)")
