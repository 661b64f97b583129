"""Multi-time-scale convolution (Guizzo, Weyde, Leveson, ICASSP 2020; ericguizzo/multi_time_scale).

A drop-in replacement for nn.Conv2d: besides the original kernel w0, every (time, freq) factor s
in `scale_factors` adds a branch that convolves with w0 resampled bilinearly to floor(k * s)
(`F.interpolate(w0, scale_factor=s, mode="bilinear")`, as the authors' layer does). Each branch's
map is resized back bilinearly to the original map's size, multiplied by its stretch penalty
1 - lambda * |ln s_time|, and the branches are merged (`output_type`):

    pooled_map        element-wise max over branches; the channel count of Conv2d (the default)
    concat_fmaps      the branch maps concatenated along time, original first: (N, C, n*T, F)
    interleave_chdim  channel 2c is the pooled map of channel c, channel 2c+1 the log of the time
                      scale that won each output (0 where the original won): (N, 2C, T, F)

Axes: inputs are (batch, channel, time, freq), so the first factor of each pair and the first
kernel size are time (dim -2), as in the authors' layer and networks.

Default (in-graph): the branch kernels are differentiable functions of the one weight, so every
branch's gradient reaches it; the layer has exactly the parameters of the equivalent nn.Conv2d
(same names, so Conv2d checkpoints load). `faithful=True` reproduces the authors' semantics
instead: their branches are separate convolutions whose weights are overwritten through `.data`
with the resampled kernel at every forward, so branch gradients never reach w0, and w0 is set once
per epoch to the mean of itself and the branch kernels resampled back (`update_kernels()`).
Here the branch kernels are detached and `update_kernels()` does that averaging. The bias stays
in the graph in both modes: the authors' branches share the original bias's storage (`.bias.data
= input_bias`), so their bias did receive every branch's updates.

`training_mode` follows `self.training`:

    train_and_eval  all branches in training and evaluation
    only_eval       original kernel only while training, all branches in evaluation
    only_train      all branches while training, original kernel only in evaluation
    only_gradients  the output's value is the original kernel's; while training its gradient is
                    that of the full multi-scale output (straight-through), so all branches
                    train w0. (Unreachable in the authors' layer: it tests "only_gradient".)

Where only the original kernel is used, the output keeps the shape of `output_type` as if every
branch were the original: pooled = the original map, scale index 0, concatenation of copies.

Deliberate differences from the public layer: `get_stretch_percs()` gives each output to one
branch (the first of tied ones, original first), so the shares sum to 1; the authors' counted
an output for every tied branch (ties are common over zero padding, where every branch outputs
the bias). For the same reason, on ties the scale index is the first tied branch's, where theirs
is the largest tied time scale. Their `update_kernels()` also averaged in the last optimizer
step taken on the (immediately overwritten) branch weights; here the branch kernels are exactly
the resampled w0.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from speechkit.errors import SpeechkitError

OUTPUT_TYPES = ("pooled_map", "concat_fmaps", "interleave_chdim")
TRAINING_MODES = ("train_and_eval", "only_eval", "only_train", "only_gradients")


def resample_kernel(weight, scale):
    """The kernel resampled bilinearly by (time, freq) factors: size floor(k * s), as the
    authors' F.interpolate(w, scale_factor=s, mode='bilinear')."""
    return F.interpolate(weight, scale_factor=tuple(scale), mode="bilinear", align_corners=False)


def resize_map(fmap, size):
    """A branch's feature map resized bilinearly to `size` (the original map's (T, F))."""
    if tuple(fmap.shape[-2:]) == tuple(size):
        return fmap  # bilinear to the same size is the identity
    return F.interpolate(fmap, size=tuple(size), mode="bilinear", align_corners=False)


def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution along one axis (padding an int or 'same'/'valid')."""
    if padding == "same":
        return size
    padding = 0 if padding == "valid" else padding
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def check_scale_factors(scale_factors, kernel_size, option="scale_factors"):
    """Scale factors as a tuple of (time, freq) float pairs whose kernels have at least one tap."""
    scales = []
    for s in scale_factors or ():
        pair = tuple(s) if isinstance(s, (list, tuple)) else None
        if pair is None or len(pair) != 2 or not all(isinstance(v, (int, float)) and v > 0
                                                     for v in pair):
            raise SpeechkitError(f"{option}: {s!r} is not a (time, freq) pair of positive "
                                 "numbers; write e.g. [[0.7, 1.0], [1.428, 1.0]]")
        sizes = [math.floor(k * v) for k, v in zip(kernel_size, pair)]
        if min(sizes) < 1:
            raise SpeechkitError(f"{option}: factor {list(pair)} shrinks kernel "
                                 f"{list(kernel_size)} to {sizes}; use factors >= 1/kernel size")
        scales.append((float(pair[0]), float(pair[1])))
    return tuple(scales)


def branch_penalties(scales, stretch_penalty):
    """1 - lambda * |ln s_time| per branch, original (penalty 1) first."""
    weights = [1.0] + [1.0 - stretch_penalty * abs(math.log(s[0])) for s in scales]
    for s, w in zip(scales, weights[1:]):
        if w <= 0:
            raise SpeechkitError(
                f"stretch_penalty {stretch_penalty} gives branch {list(s)} the weight {w:.3g} "
                f"(<= 0, which would flip its map); use stretch_penalty < "
                f"{1 / abs(math.log(s[0])):.3g} or drop that factor")
    return tuple(weights)


class MultiscaleConv2d(nn.Conv2d):
    """nn.Conv2d plus multi-time-scale branches; see the module docstring.

    Arguments are nn.Conv2d's, plus (keyword only) `scale_factors` (list of (time, freq)
    factors, one branch each; the original kernel is always kept), `output_type`,
    `stretch_penalty` (lambda), `training_mode` and `faithful`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None, *,
                 scale_factors=(), output_type="pooled_map", stretch_penalty=0.0,
                 training_mode="train_and_eval", faithful=False):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        for option, value, known in (("output_type", output_type, OUTPUT_TYPES),
                                     ("training_mode", training_mode, TRAINING_MODES)):
            if value not in known:
                raise SpeechkitError(f"{option} '{value}' is not one of: {', '.join(known)}")
        self.scale_factors = check_scale_factors(scale_factors, self.kernel_size)
        self.stretch_penalty = float(stretch_penalty)
        self.penalties = branch_penalties(self.scale_factors, self.stretch_penalty)
        self.output_type = output_type
        self.training_mode = training_mode
        self.faithful = bool(faithful)
        shapes = [resample_kernel(torch.zeros(1, 1, *self.kernel_size), s).shape[-2:]
                  for s in self.scale_factors]
        self.branch_kernel_sizes = (tuple(self.kernel_size),) + tuple(tuple(k) for k in shapes)
        self._winners, self._outputs = None, None  # the last forward's, for the stretch shares

    @property
    def num_branches(self):
        return 1 + len(self.scale_factors)

    def extra_repr(self):
        return (super().extra_repr() + f", scale_factors={list(self.scale_factors)}, "
                f"output_type={self.output_type}, stretch_penalty={self.stretch_penalty}, "
                f"training_mode={self.training_mode}, faithful={self.faithful}")

    # --- shapes ---------------------------------------------------------------------------

    def output_shape(self, height, width):
        """(channels, time, freq) of the output for a (time, freq) input, or None where the
        input is too small for some branch's kernel."""
        sizes = []
        for kernel in self.branch_kernel_sizes:
            sizes.append([conv_output_size(n, k, s, p, d) for n, k, s, p, d in zip(
                (height, width), kernel, self.stride, self._padding_pair(), self.dilation)])
        if min(min(s) for s in sizes) < 1:
            return None
        channels, (time, freq) = self.out_channels, sizes[0]
        if self.output_type == "interleave_chdim":
            channels *= 2
        if self.output_type == "concat_fmaps":
            time *= self.num_branches
        return channels, time, freq

    def _padding_pair(self):
        return (self.padding,) * 2 if isinstance(self.padding, str) else self.padding

    # --- forward --------------------------------------------------------------------------

    def _uses_branches(self):
        mode = self.training_mode
        return (mode == "train_and_eval" or (mode == "only_eval" and not self.training)
                or (mode in ("only_train", "only_gradients") and self.training))

    def _branch_conv(self, x, weight, bias=True):
        """Convolution with this layer's stride, padding (any mode), dilation and groups; with
        its bias unless bias=False."""
        bias = self.bias if bias else None
        if self.padding_mode == "zeros":
            return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation,
                            self.groups)
        if self.padding == "same":
            pads = []
            for d, k in zip(reversed(self.dilation), reversed(weight.shape[-2:])):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
        else:
            pads = self._reversed_padding_repeated_twice
        x = F.pad(x, pads, mode=self.padding_mode)
        return F.conv2d(x, weight, bias, self.stride, 0, self.dilation, self.groups)

    def branch_maps(self, x):
        """Every branch's map, resized to the original's size and penalised, original first."""
        self._check_input(x)
        original = self._branch_conv(x, self.weight)
        maps = [original]
        for scale, penalty in zip(self.scale_factors, self.penalties[1:]):
            if self.faithful:
                # bias added outside: a convolution's backward for the bias alone costs about
                # as much as for its weight, an addition's is one sum
                fmap = self._branch_conv(x, resample_kernel(self.weight.detach(), scale), False)
                if self.bias is not None:
                    fmap = fmap + self.bias[:, None, None]
            else:
                fmap = self._branch_conv(x, resample_kernel(self.weight, scale))
            fmap = resize_map(fmap, original.shape[-2:])
            maps.append(fmap * penalty if penalty != 1.0 else fmap)
        return maps

    def _check_input(self, x):
        if x.dim() == 4 and self.output_shape(*x.shape[-2:]) is None:
            raise SpeechkitError(
                f"MultiscaleConv2d: input of {x.shape[-2]} frames x {x.shape[-1]} bins is "
                f"smaller than a branch kernel (kernels {list(self.branch_kernel_sizes)}, "
                f"padding {self.padding}); pad or "
                "clip the input to more frames, or drop the largest scale factor")

    def forward(self, x):
        if not self._uses_branches():
            original = self._branch_conv(x, self.weight)
            self._record_wins(None, original)
            return self._as_output(original)
        maps = self.branch_maps(x)
        out, winners = self._merge(maps)
        self._record_wins(winners, maps[0])
        if self.training_mode == "only_gradients":
            # value of the original kernel's output, gradient of the multi-scale one
            out = out + (self._as_output(maps[0]) - out).detach()
        return out

    def _merge(self, maps):
        """The output of `output_type` and the index of the winning branch per output."""
        if self.output_type == "concat_fmaps":
            with torch.no_grad():
                winners = branch_max(maps)[1]
            return torch.cat(maps, dim=2), winners
        pooled, winners = BranchMax.apply(*maps)
        if self.output_type == "pooled_map":
            return pooled, winners
        log_scales = torch.tensor([0.0] + [math.log(s[0]) for s in self.scale_factors],
                                  dtype=pooled.dtype, device=pooled.device)
        return interleave(pooled, log_scales[winners.long()]), winners

    def _as_output(self, original):
        """The output of `output_type` when every branch is the original kernel."""
        if self.output_type == "concat_fmaps":
            return torch.cat([original] * self.num_branches, dim=2)
        if self.output_type == "interleave_chdim":
            return interleave(original, torch.zeros_like(original))
        return original

    def _record_wins(self, winners, original):
        # kept, not counted: counting is a full pass that only get_stretch_percs() needs, and
        # BranchMax keeps this (1 byte per output) for its backward anyway
        self._winners = winners
        self._outputs = original.numel()

    # --- the authors' per-epoch interface -------------------------------------------------

    def get_stretch_percs(self):
        """Share of the outputs won by each branch (original first) in the last forward, as a
        numpy array summing to 1; None before the first forward."""
        if self._outputs is None:
            return None
        if self._winners is None:  # only the original kernel ran
            wins = torch.zeros(self.num_branches, dtype=torch.float64)
            wins[0] = 1.0
        else:
            wins = torch.bincount(self._winners.flatten(), minlength=self.num_branches)
        wins = wins.double().cpu()
        return (wins / wins.sum()).numpy()

    @torch.no_grad()
    def update_kernels(self):
        """The authors' per-epoch step (faithful mode only): w0 <- mean of w0 and every branch
        kernel resampled back to w0's size. Skipped, as theirs, in `only_eval` mode; in-graph,
        the branch gradients reach w0 at every step, so there is nothing to average. Returns
        whether the weight changed."""
        if not self.faithful or self.training_mode == "only_eval" or not self.scale_factors:
            return False
        size = self.weight.shape[-2:]
        kernels = [self.weight] + [
            F.interpolate(resample_kernel(self.weight, s), size=size, mode="bilinear",
                          align_corners=False) for s in self.scale_factors]
        self.weight.copy_(torch.stack(kernels).mean(0))
        return True


def branch_max(maps):
    """Element-wise max over equally shaped maps and the index (uint8) of the first map that
    reaches it. Written as pairwise passes: fewer full-size passes than stack().max(0), and a
    1-byte index instead of an 8-byte one."""
    if len(maps) > 255:
        raise SpeechkitError(f"MultiscaleConv2d: {len(maps)} branches; at most 255 are supported")
    winners = torch.zeros(maps[0].shape, dtype=torch.uint8, device=maps[0].device)
    if len(maps) == 1:
        return maps[0].clone(), winners
    torch.gt(maps[1], maps[0], out=winners.view(torch.bool))
    out = torch.maximum(maps[0], maps[1])
    for i, fmap in enumerate(maps[2:], 2):
        winners.masked_fill_(fmap > out, i)
        torch.maximum(out, fmap, out=out)
    return out, winners


class BranchMax(torch.autograd.Function):
    """branch_max with its gradient: each output's gradient goes to the winning branch only
    (as max(dim) does; ties go to the first)."""

    @staticmethod
    def forward(ctx, *maps):
        out, winners = branch_max(maps)
        ctx.save_for_backward(winners)
        ctx.mark_non_differentiable(winners)
        return out, winners

    @staticmethod
    @once_differentiable
    def backward(ctx, grad, _):
        (winners,) = ctx.saved_tensors
        # a float mask times grad: about 1.5x faster on CPU than where() on a bool mask
        return tuple((winners == i).to(grad.dtype).mul_(grad) if needed else None
                     for i, needed in enumerate(ctx.needs_input_grad))


def interleave(pooled, index):
    """Channels [pooled_0, index_0, pooled_1, index_1, ...] (the authors' interleave_chdim)."""
    return torch.stack((pooled, index), dim=2).flatten(1, 2)
