"""Loss and metric curves as exp/<tag>/images/<metric>.png."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_history(history, out_dir):
    """history: [{'epoch': n, 'train': {...}, 'dev': {...}}]; one picture per metric."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = sorted({m for h in history for part in ("train", "dev") for m in h.get(part, {})})
    for name in names:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for part in ("train", "dev"):
            points = [(h["epoch"], h[part][name]) for h in history if name in h.get(part, {})]
            if points:
                ax.plot(*zip(*points), marker="o", label=part)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / f"{name}.png", dpi=80)
        plt.close(fig)
