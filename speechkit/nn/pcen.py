"""Trainable per-channel energy normalisation (Wang et al. 2017, "Trainable frontend for robust
and far-field keyword spotting").

    M_t = (1 - s) M_{t-1} + s X_t
    Y_t = (X_t / (eps + M_t)^alpha + delta)^r - delta^r

with per-band s, alpha, delta, r kept in log space (so alpha, delta, r > 0). s is parametrised
by `s_param`:
    "log"            log s; s is clamped to <= 1 (the smoother diverges beyond it), where its
                     gradient is then 0
    "sigmoid"        logit s; s stays in (0, 1), and log(1 - s) = logsigmoid(-logit) is exact
    "time_constant"  log T, T in frames, s = (sqrt(1 + 4T^2) - 1) / (2T^2) (librosa's relation
                     between its time constant and s); s in (0, 1) for every T > 0

The smoother starts from M_{-1} (`init`): "first" (M_{-1} = X_0, so M_0 = X_0), "zero", or
"librosa" (M_{-1} = 1: librosa.pcen's default zi = lfilter_zi = 1 - s is the state of a filter
that has only seen inputs of 1), with which the layer equals librosa.pcen and
speechkit.features.pcen.pcen.

The smoother is an exact parallel scan, not a loop over frames: inside chunks of `chunk` frames
M = Toeplitz(s (1-s)^(i-j)) @ X + (1-s)^(i+1) M_prev, one batched matmul (per band) over all
chunks; the states entering the chunks follow the same recurrence over the chunk ends with decay
(1-s)^chunk, solved by the same scan (recursively, so any length works). The backward pass is
the adjoint, an anti-causal scan of the same form, and the compression's gradients are written
out by hand into reused buffers: far fewer full-size passes and temporaries than plain autograd
makes, which is what the time goes to on a CPU. Chunks of 32-64 frames were fastest on a 2-core
CPU (bench/bench_pcen.py): the matmul's work grows with the chunk, the carries' with 1/chunk.
The smoother is causal: padding after an utterance's last frame never changes its real frames.

The smoother (`smoother`): "ema" is the one above, with a learned s per band. "mixture" is
Wang et al.'s: K fixed smoothers M_k with coefficients s_k (`smoother_coefs`, default 0.015,
0.02, 0.04, 0.08) and a learned per-band convex combination M = sum_k w_k(f) M_k, w(f) =
softmax over k of per-band logits (`smoother_logits`, (bands, K), zero at the start: equal
weights); alpha, delta and r are as above. The K smoothers run as one chunked scan over K x bands
(no gradient for the fixed s_k); the compression then goes through plain autograd (a few
full-size temporaries more than the fused "ema" path). With K = 1 it is the fixed-s PCEN.
Sources: the paper learns the smoother by mixing precomputed smoothers, not by training s
through the recurrence (J. Schlueter's Lasagne PCEN layer states this as its own deviation).
The coefficients and the softmax that keeps the weights convex are our choice: the paper's
section 4 text was not at hand to check its exact values when this was written.

Inputs are non-negative energies (linear, not log). Layouts (`layout`):
    "bft"   (batch, bands, time): time is the last axis
    "btf"   (batch, time, bands): speechkit's (N, T, D) features; time is axis 1
    "bctf"  (batch, channels, time, bands): time is axis 2, bands last
The output has the input's shape, dtype and memory layout (computed in at least float32).
The Functions are once-differentiable (no double backward).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from speechkit.errors import SpeechkitError
from speechkit.features.config import PCEN_INITS

S_PARAMS = ("log", "sigmoid", "time_constant")
SMOOTHERS = ("ema", "mixture")
MIXTURE_COEFS = (0.015, 0.02, 0.04, 0.08)  # Wang et al.'s fixed smoothers
NAMES = ("s", "alpha", "delta", "r")
LAYOUTS = {"bft": (3, -1), "btf": (3, -2), "bctf": (4, -2)}  # ndim, time axis; bands: the other
# log(1 - s) floor: keeps 0 * log(0) (the Toeplitz diagonal at s = 1) finite; exp(-1e4) = 0.
_LOG_DECAY_MIN = -1e4


# --- references: plain autograd on (..., bands, time) -------------------------------------

def ema_loop(x, s, prev):
    """Smoother as a loop over frames: x (..., F, T), s (F,), prev = M_{-1} (..., F)."""
    m, out = prev, []
    for t in range(x.shape[-1]):
        m = (1 - s) * m + s * x[..., t]
        out.append(m)
    return torch.stack(out, dim=-1) if out else x.clone()


def ema_lfilter(x, s, prev):
    """Smoother by torchaudio's lfilter (a loop in C++), plus the initial state's decay."""
    from torchaudio.functional import lfilter  # optional dependency; only benchmarks use it
    a = torch.stack([torch.ones_like(s), s - 1], dim=-1)
    b = torch.stack([s, torch.zeros_like(s)], dim=-1)
    steps = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype, device=x.device)
    return lfilter(x, a, b, clamp=False) + prev[..., None] * (1 - s)[:, None] ** steps


def initial_state(x, init):
    """M_{-1} for x (..., F, T): (..., F)."""
    if init == "first" and x.shape[-1]:
        return x[..., 0]
    return x.new_full(x.shape[:-1], 1.0 if init == "librosa" else 0.0)


def pcen_naive(x, s, alpha, delta, r, eps=1e-6, init="first", smoother=ema_loop):
    """PCEN by plain autograd ops on x (..., F, T), parameters (F,): the tests' reference."""
    return compress_naive(x, smoother(x, s, initial_state(x, init)), alpha, delta, r, eps)


def compress_naive(x, m, alpha, delta, r, eps):
    """PCEN's gain control and compression of x by the smoothed m, by plain autograd ops."""
    agc = torch.exp(-alpha[:, None] * (math.log(eps) + torch.log1p(m / eps)))
    d, p = delta[:, None], r[:, None]
    return d ** p * torch.expm1(p * torch.log1p(x * agc / d))


# --- the chunked scan on (F, R, T): bands first, rows, time --------------------------------

def _toeplitz(log_a, c, gain=None):
    """(F, c, c) lower-triangular gain * a^(i-j), from the c powers exp(k log a) (underflow is 0)
    laid out as a Hankel view (no gather) and flipped."""
    steps = torch.arange(c, dtype=log_a.dtype, device=log_a.device)
    powers = torch.exp(steps * log_a[:, None])
    if gain is not None:
        powers = powers * gain[:, None]
    u = F.pad(powers.flip(1), (0, c - 1))              # u[k] = a^(c-1-k) for k < c, then 0
    hankel = u.as_strided((u.shape[0], c, c), (2 * c - 1, 1, 1))  # [i, j] = u[i + j]
    return hankel.flip(1)


def _scan(u, log_a, chunk, y0=None, gain=None, reverse=False, out=None):
    """Along the last axis of u (F, R, T) with a = exp(log_a) (F,): y_t = a y_{t-1} + gain u_t
    from y_{-1} = y0 (None: 0); reverse: y_t = a y_{t+1} + gain u_t from y_T = 0.
    out: a contiguous buffer like u (T a multiple of chunk) to write y into."""
    f, rows, t = u.shape
    c = min(chunk, t)
    n = -(-t // c)
    blocks = (F.pad(u, (0, n * c - t)) if n * c > t else u).reshape(f, rows * n, c)
    mat = _toeplitz(log_a, c, gain)
    mat = mat if reverse else mat.transpose(1, 2)
    if out is None:
        y = torch.bmm(blocks, mat).view(f, rows, n, c)
    else:
        y = torch.bmm(blocks, mat, out=out.view(blocks.shape)).view(f, rows, n, c)
    if n > 1 or y0 is not None:
        steps = torch.arange(1, c + 1, dtype=u.dtype, device=u.device)
        carry = torch.exp((steps.flip(0) if reverse else steps) * log_a[:, None])  # (F, c)
        # computed from the chunk-local y, before it is updated in place
        y.addcmul_(_entering_states(y, log_a, chunk, y0, reverse)[..., None], carry[:, None, None])
    return y.view(f, rows, n * c)[..., :t]


def _entering_states(y, log_a, chunk, y0, reverse):
    """(F, R, n) state each chunk starts from (forward) or ends into (reverse), from the
    chunk-local results y (F, R, n, c): the same recurrence over chunks, with decay a^c."""
    f, rows, n, c = y.shape
    edge = y.new_zeros(f, rows, 1) if y0 is None else y0[..., None]
    if n == 1:
        return edge
    if reverse:  # the state at the first frame of chunks 1..n-1, then 0 after the last chunk
        return torch.cat([_scan(y[..., 1:, 0], c * log_a, chunk, reverse=True), edge], dim=-1)
    return torch.cat([edge, _scan(y[..., :-1, -1], c * log_a, chunk, y0=y0)], dim=-1)


def _bands_first(x, c):
    """x (..., F, T), any strides -> (F, R, P) contiguous, time zero-padded to P = k c."""
    f, t = x.shape[-2:]
    p = -(-t // c) * c
    out = x.new_empty(f, math.prod(x.shape[:-2]), p)
    out[..., t:] = 0
    out.view(f, *x.shape[:-2], p)[..., :t].copy_(x.movedim(-2, 0))
    return out


def _bands_last(buf, like):
    """(F, R, P) -> a new tensor shaped and strided like `like` (..., F, T)."""
    out = torch.empty_like(like)
    f, t = like.shape[-2:]
    out.copy_(buf.view(f, *like.shape[:-2], buf.shape[-1])[..., :t].movedim(0, -2))
    return out


def _smoother_grads(lam, xb, m, prev, log_decay, scratch=None):
    """Adjoint of M_t = (1-s) M_{t-1} + s X_t, lam = dL/dM accumulated backwards in time:
    dL/ds = sum lam_t (X_t - M_{t-1}) per band, and dL/dM_{-1} = (1-s) lam_0.
    scratch: a free buffer like xb, to spare an allocation."""
    step = torch.empty_like(xb) if scratch is None else scratch
    torch.sub(xb[..., 1:], m[..., :-1], out=step[..., 1:])
    torch.sub(xb[..., 0], prev, out=step[..., 0])
    return step.mul_(lam).sum((1, 2)), lam[..., 0] * log_decay.exp()[:, None]


class _EMA(torch.autograd.Function):
    """Chunked-scan smoother of x (..., F, T); log_decay must equal log(1 - s) (it is only a
    more exact copy: its gradient is carried by s's)."""

    @staticmethod
    def forward(ctx, x, s, log_decay, prev, chunk):
        c = min(chunk, x.shape[-1])
        xb = _bands_first(x, c)
        prev_b = prev.movedim(-1, 0).reshape(xb.shape[:2])
        m = _scan(xb, log_decay, c, y0=prev_b, gain=s)
        ctx.save_for_backward(xb, m, prev_b, s, log_decay)
        ctx.c, ctx.like, ctx.prev_shape = c, x.detach(), prev.movedim(-1, 0).shape
        return _bands_last(m, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        xb, m, prev_b, s, log_decay = ctx.saved_tensors
        lam = _scan(_bands_first(grad, ctx.c), log_decay, ctx.c, reverse=True)
        gs, gprev = _smoother_grads(lam, xb, m, prev_b, log_decay)
        gx = _bands_last(lam.mul_(s[:, None, None]), ctx.like)
        return gx, gs, None, gprev.view(ctx.prev_shape).movedim(0, -1), None


def ema(x, s, prev, chunk=64, log_decay=None):
    """Differentiable chunked-scan smoother equal to ema_loop: x (..., F, T), s (F,), prev (..., F).
    log_decay: log(1 - s) where the caller has it more exactly than log1p(-s)."""
    if chunk < 2:
        raise SpeechkitError(f"pcen chunk must be >= 2 frames, got {chunk}")
    if x.shape[-1] == 0:
        return x.clone()
    log_decay = torch.log1p(-s) if log_decay is None else log_decay
    return _EMA.apply(x, s, log_decay.clamp(min=_LOG_DECAY_MIN), prev, chunk)


def ema_mixture(x, coefs, weights, prev, chunk=64):
    """sum_k weights[:, k] * ema(x, coefs[k]): x (..., F, T), coefs (K,), weights (F, K),
    prev (..., F). The K smoothers run as one scan over K x F bands."""
    k, (f, t), lead = coefs.numel(), x.shape[-2:], x.shape[:-2]
    xk = x.unsqueeze(-3).expand(*lead, k, f, t).reshape(*lead, k * f, t)
    prev_k = prev.unsqueeze(-2).expand(*lead, k, f).reshape(*lead, k * f)
    m = ema(xk, coefs.repeat_interleave(f), prev_k, chunk).reshape(*lead, k, f, t)
    return (weights.T[..., None] * m).sum(-3)


# --- PCEN: smoother and compression in one Function ---------------------------------------

def _compress(x, m, alpha, log_delta, r, eps):
    """Y = delta^r expm1(r log1p(z)), z = X g, g = (eps + M)^-alpha / delta computed as
    exp(-alpha (log eps + log1p(M / eps)) - log delta); returns Y and (L, g, w = log1p(z))."""
    a, ld, p = (v[:, None, None] for v in (alpha, log_delta, r))
    big_l = torch.mul(m, 1 / eps).log1p_()
    g = torch.addcmul(-(a * math.log(eps) + ld), big_l, -a).exp_()
    w = torch.mul(x, g).log1p_()
    y = torch.mul(w, p).expm1_().mul_(torch.exp(p * ld))
    return y, (big_l, g, w)


def _compress_grads(grad, x, m, big_l, g, w, y, alpha, log_delta, r, eps, need_x=True):
    """Gradients of sum(grad * Y) w.r.t. X (direct part; None unless need_x), M, alpha,
    log delta, r. grad is overwritten (it ends up holding dL/dM), and the returned scratch
    buffer is free for reuse: each fresh full-size buffer costs about a pass."""
    a, ld, p = (v[:, None, None] for v in (alpha, log_delta, r))
    tmp = torch.mul(grad, y)
    grad_y = tmp.sum((1, 2))
    # q = grad dY/dz = grad r delta^r (1 + z)^(r - 1); q z is the common factor of the rest
    q = torch.addcmul(torch.log(p) + p * ld, w, p - 1).exp_().mul_(grad)
    qz = torch.mul(x, g, out=grad).mul_(q)
    # dY/dr = log(delta) Y + delta^r (1+z)^r w, and grad delta^r (1+z)^r = q + qz
    g_r = log_delta * grad_y + torch.add(q, qz, out=tmp).mul_(w).sum((1, 2)) / r
    qz_sum = qz.sum((1, 2))
    g_alpha = -(torch.mul(qz, big_l, out=tmp).sum((1, 2)) + math.log(eps) * qz_sum)
    g_log_delta = r * grad_y - qz_sum
    g_m = qz.div_(torch.addcmul(-eps / a, m, -1 / a, out=tmp))  # -alpha q z / (eps + M)
    return q.mul_(g) if need_x else None, g_m, (g_alpha, g_log_delta, g_r), tmp


def _pcen_forward(xb, s, log_decay, alpha, log_delta, r, eps, c, init):
    """Forward on (F, R, P): Y and the tensors its backward needs."""
    prev = initial_state(xb, init)
    m = _scan(xb, log_decay, c, y0=None if init == "zero" else prev, gain=s)
    y, (big_l, g, w) = _compress(xb, m, alpha, log_delta, r, eps)
    return y, (xb, m, big_l, g, w, y)


def _pcen_backward(gradb, saved, s, log_decay, alpha, log_delta, r, eps, c, init, need_x):
    """Backward on (F, R, P) (gradb is overwritten): dX (None unless need_x) and the per-band
    parameter gradients."""
    xb, m = saved[:2]
    gx, g_m, (g_alpha, g_log_delta, g_r), tmp = _compress_grads(gradb, *saved, alpha, log_delta,
                                                                r, eps, need_x)
    lam = _scan(g_m, log_decay, c, reverse=True, out=tmp)
    gs, gprev = _smoother_grads(lam, xb, m, initial_state(xb, init), log_decay, scratch=g_m)
    if need_x:
        gx.addcmul_(lam, s[:, None, None])
        if init == "first":  # M_{-1} = X_0
            gx[..., 0] += gprev
    return gx, (gs, g_alpha, g_log_delta, g_r)


class _PCEN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, s, log_decay, alpha, log_delta, r, eps, chunk, init):
        c = min(chunk, x.shape[-1])
        y, saved = _pcen_forward(_bands_first(x, c), s, log_decay, alpha, log_delta, r, eps, c,
                                 init)
        ctx.save_for_backward(s, log_decay, alpha, log_delta, r, *saved)
        ctx.c, ctx.eps, ctx.init, ctx.like = c, eps, init, x.detach()
        return _bands_last(y, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        params, saved = ctx.saved_tensors[:5], ctx.saved_tensors[5:]
        need_x = ctx.needs_input_grad[0]
        gxb, (gs, g_alpha, g_log_delta, g_r) = _pcen_backward(
            _bands_first(grad, ctx.c), saved, *params, ctx.eps, ctx.c, ctx.init, need_x)
        gx = _bands_last(gxb, ctx.like) if need_x else None
        return gx, gs, None, g_alpha, g_log_delta, g_r, None, None, None


# --- s parametrisations --------------------------------------------------------------------

def s_from_time_constant(t):
    """librosa's s for T frames, (sqrt(1+4T^2)-1)/(2T^2), as 2/(sqrt(1+4T^2)+1): no cancellation."""
    return 2 / (torch.sqrt(1 + 4 * t * t) + 1)


def _raw_s(s, s_param):
    """The stored value for smoothing coefficient s in (0, 1)."""
    if s_param == "log":
        return math.log(s)
    if s_param == "sigmoid":
        return math.log(s / (1 - s))
    return math.log(math.sqrt(1 - s) / s)  # T = sqrt(1 - s) / s inverts s_from_time_constant


def _s_and_log_decay(raw, s_param):
    """(s, log(1 - s)) from the stored value, each as exact as the parametrisation allows."""
    if s_param == "log":
        s = torch.exp(raw.clamp(max=0.0))
        return s, torch.log1p(-s)
    if s_param == "sigmoid":
        return torch.sigmoid(raw), F.logsigmoid(-raw)
    s = s_from_time_constant(torch.exp(raw))
    return s, torch.log1p(-s)


# --- the layer ------------------------------------------------------------------------------

class PCEN(nn.Module):
    """Trainable PCEN over `num_bands` bands; see the module docstring for layouts and options.

    s, alpha, delta, r: initial values, the same for every band (eps is fixed).
    trainable: True, False, or the names among ("s", "alpha", "delta", "r") to train; the others
    stay nn.Parameters with requires_grad False (same state_dict either way), so get no gradient.
    "s" names the smoother's learned parameter: s, or the mixture's logits.
    smoother: "ema" or "mixture" (smoother_coefs: its fixed s_k; s and s_param are then unused).
    chunk: frames per scan chunk (>= 2); any value gives the same result.
    dtype: of the parameters (float64 to match a float64 reference exactly).
    """

    def __init__(self, num_bands, s=0.025, alpha=0.98, delta=2.0, r=0.5, eps=1e-6,
                 s_param="log", trainable=True, init="first", layout="bft", chunk=64,
                 smoother="ema", smoother_coefs=None, dtype=torch.float32):
        super().__init__()
        _check_options(s, alpha, delta, r, eps, s_param, init, layout, chunk)
        coefs = _smoother_coefs(smoother, smoother_coefs)
        trainable = _trainable_names(trainable)
        self.num_bands, self.eps, self.s_param = num_bands, float(eps), s_param
        self.init, self.layout, self.chunk, self.smoother = init, layout, chunk, smoother
        raw = {"s": _raw_s(s, s_param), "alpha": math.log(alpha), "delta": math.log(delta),
               "r": math.log(r)}
        for name in NAMES:
            value = (torch.zeros(num_bands, len(coefs), dtype=dtype) if name == "s" and coefs
                     else torch.full((num_bands,), raw[name], dtype=dtype))
            setattr(self, self.raw_name(name), nn.Parameter(value, requires_grad=name in trainable))
        if coefs:  # not persistent: the config, not the checkpoint, defines the fixed smoothers
            self.register_buffer("smoother_coefs", torch.tensor(coefs, dtype=torch.float64),
                                 persistent=False)

    def raw_name(self, name):
        """The nn.Parameter behind `name`: log_alpha, log_delta, log_r, and for s one of
        log_s, logit_s, log_time_constant (so a checkpoint cannot load into another s_param)."""
        if name != "s":
            return f"log_{name}"
        if self.smoother == "mixture":
            return "smoother_logits"
        names = {"log": "log_s", "sigmoid": "logit_s", "time_constant": "log_time_constant"}
        return names[self.s_param]

    @property
    def s(self):
        if self.smoother == "mixture":
            raise SpeechkitError("pcen smoother 'mixture' has no single s; see smoother_weights")
        return _s_and_log_decay(getattr(self, self.raw_name("s")), self.s_param)[0]

    @property
    def smoother_weights(self):
        """(bands, K) mixture weights w_k(f), each row summing to 1."""
        return torch.softmax(self.smoother_logits, dim=-1)

    @property
    def alpha(self):
        return self.log_alpha.exp()

    @property
    def delta(self):
        return self.log_delta.exp()

    @property
    def r(self):
        return self.log_r.exp()

    def extra_repr(self):
        smoother = (f"smoother_coefs={self.smoother_coefs.tolist()}" if self.smoother == "mixture"
                    else f"s_param={self.s_param!r}")
        return (f"{self.num_bands}, {smoother}, init={self.init!r}, "
                f"layout={self.layout!r}, chunk={self.chunk}, eps={self.eps}")

    def forward(self, x):
        """Energies in `layout` -> PCEN, same shape, dtype and memory layout."""
        ndim, time_axis = LAYOUTS[self.layout]
        band_axis = -3 - time_axis  # the other of -1, -2
        if x.dim() != ndim or x.shape[band_axis] != self.num_bands:
            raise SpeechkitError(f"pcen layout {self.layout!r} wants {ndim} dims with "
                                 f"{self.num_bands} bands on axis {band_axis}, "
                                 f"got {tuple(x.shape)}")
        dtype = torch.promote_types(x.dtype, torch.float32)
        xt = x.to(dtype).movedim(time_axis, -1)  # (..., bands, time), a view
        return self.forward_bands_time(xt).movedim(-1, time_axis).to(x.dtype)

    def forward_bands_time(self, x):
        """PCEN of x (..., bands, time), computed in x's dtype."""
        if x.shape[-1] == 0:
            return x.clone()
        if self.smoother == "mixture":
            return self._forward_mixture(x)
        s, log_decay = _s_and_log_decay(getattr(self, self.raw_name("s")).to(x.dtype), self.s_param)
        alpha, log_delta, r = (p.to(x.dtype) for p in (self.log_alpha, self.log_delta, self.log_r))
        return _PCEN.apply(x, s, log_decay.clamp(min=_LOG_DECAY_MIN), alpha.exp(), log_delta,
                           r.exp(), self.eps, self.chunk, self.init)

    def _forward_mixture(self, x):
        weights = torch.softmax(self.smoother_logits.to(x.dtype), dim=-1)
        prev = initial_state(x, self.init)
        m = ema_mixture(x, self.smoother_coefs.to(x.dtype), weights, prev, self.chunk)
        alpha, delta, r = (p.to(x.dtype).exp()
                           for p in (self.log_alpha, self.log_delta, self.log_r))
        return compress_naive(x, m, alpha, delta, r, self.eps)


def _smoother_coefs(smoother, coefs):
    """The mixture's fixed coefficients as a tuple (None for "ema"), checked."""
    if smoother not in SMOOTHERS:
        raise SpeechkitError(f"pcen smoother must be one of {'|'.join(SMOOTHERS)}, "
                             f"got {smoother!r}")
    if smoother == "ema":
        if coefs is not None:
            raise SpeechkitError("pcen smoother_coefs is only for smoother: mixture; remove it "
                                 "or set smoother: mixture")
        return None
    coefs = MIXTURE_COEFS if coefs is None else coefs
    numbers = isinstance(coefs, (list, tuple)) and all(
        isinstance(c, (int, float)) and not isinstance(c, bool) for c in coefs)
    if not numbers or not coefs or not all(0 < c < 1 for c in coefs):
        raise SpeechkitError(f"pcen smoother_coefs must be a non-empty list of numbers in (0, 1) "
                             f"(e.g. {list(MIXTURE_COEFS)}), got {coefs!r}")
    return tuple(float(c) for c in coefs)


def _trainable_names(trainable):
    names = set(NAMES if trainable is True else () if trainable is False else
                (trainable,) if isinstance(trainable, str) else trainable)
    if not names <= set(NAMES):
        raise SpeechkitError(f"pcen trainable must be True, False or names among {NAMES}, "
                             f"got {trainable!r}")
    return names


def _check_options(s, alpha, delta, r, eps, s_param, init, layout, chunk):
    if s_param not in S_PARAMS:
        raise SpeechkitError(f"pcen s_param must be one of {'|'.join(S_PARAMS)}, got {s_param!r}")
    if init not in PCEN_INITS:
        raise SpeechkitError(f"pcen init must be one of {'|'.join(PCEN_INITS)}, got {init!r}")
    if layout not in LAYOUTS:
        raise SpeechkitError(f"pcen layout must be one of {'|'.join(LAYOUTS)}, got {layout!r}")
    if not 0 < s < 1 or min(alpha, delta, r, eps) <= 0 or chunk < 2:
        raise SpeechkitError(f"pcen needs 0 < s < 1, alpha, delta, r, eps > 0 and chunk >= 2; "
                             f"got s={s}, alpha={alpha}, delta={delta}, r={r}, eps={eps}, "
                             f"chunk={chunk}")
