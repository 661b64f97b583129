"""PCA: the linear baseline for the frame autoencoders, with the same latent size.

Fitted in float64 by SVD of the centred training frames; `encode` projects on the leading
principal directions, `decode` maps back. With as many components as dimensions it
reconstructs exactly; with fewer, its mean squared error per frame is the sum of the discarded
eigenvalues of the (biased) training covariance: no linear code of that size does better.

Numpy in, numpy out; torch in, torch out (same dtype and device). `state_dict` holds tensors so
that the model dir can keep it with `torch.save` and read it with `weights_only=True`.
"""
import numpy as np
import torch

from speechkit.errors import SpeechkitError


class PCA:
    """Principal component analysis of (frames, dims) matrices."""

    def __init__(self, latent_dim):
        if int(latent_dim) < 1:
            raise SpeechkitError(f"PCA latent size must be >= 1, got {latent_dim}")
        self.latent_dim = int(latent_dim)
        self.mean = None          # (dims,)
        self.components = None    # (latent, dims), orthonormal rows, by decreasing variance
        self.explained_variance = None  # (latent,), biased (ddof 0) variance along each row

    def fit(self, frames):
        """Fit on (frames, dims) training frames; returns self."""
        x = _to_numpy(frames)
        if x.ndim != 2:
            raise SpeechkitError(f"PCA fit: expected (frames, dims), got shape {x.shape}")
        n, dims = x.shape
        if self.latent_dim > min(n, dims):
            raise SpeechkitError(f"PCA latent size {self.latent_dim} exceeds min(frames {n}, "
                                 f"dims {dims}); lower it or fit on more frames")
        self.mean = x.mean(axis=0)
        _, sing, vt = np.linalg.svd(x - self.mean, full_matrices=False)
        self.components = vt[:self.latent_dim]
        self.explained_variance = sing[:self.latent_dim] ** 2 / n
        return self

    def encode(self, frames):
        """(..., dims) -> (..., latent)."""
        x = self._check(frames, self.components.shape[1], "encode")
        return _like((x - self.mean) @ self.components.T, frames)

    def decode(self, codes):
        """(..., latent) -> (..., dims)."""
        z = self._check(codes, self.latent_dim, "decode")
        return _like(z @ self.components + self.mean, codes)

    def reconstruct(self, frames):
        return self.decode(self.encode(frames))

    def _check(self, x, width, what):
        if self.components is None:
            raise SpeechkitError(f"PCA {what}: fit (or load_state_dict) first")
        arr = _to_numpy(x)
        if arr.shape[-1] != width:
            raise SpeechkitError(f"PCA {what}: expected last dimension {width}, got "
                                 f"{arr.shape[-1]}")
        return arr

    def state_dict(self):
        """Tensors only, for torch.save / torch.load(weights_only=True)."""
        return {"mean": torch.from_numpy(self.mean),
                "components": torch.from_numpy(self.components),
                "explained_variance": torch.from_numpy(self.explained_variance)}

    def load_state_dict(self, state):
        comps = state["components"]
        if comps.shape[0] != self.latent_dim:
            raise SpeechkitError(f"PCA state has {comps.shape[0]} components, this PCA "
                                 f"{self.latent_dim}")
        self.mean = _to_numpy(state["mean"])
        self.components = _to_numpy(comps)
        self.explained_variance = _to_numpy(state["explained_variance"])
        return self


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def _like(result, template):
    """`result` as the type of `template`: torch (same dtype, device) or float64 numpy."""
    if isinstance(template, torch.Tensor):
        dtype = template.dtype if template.is_floating_point() else torch.get_default_dtype()
        return torch.from_numpy(result).to(dtype=dtype, device=template.device)
    return result
