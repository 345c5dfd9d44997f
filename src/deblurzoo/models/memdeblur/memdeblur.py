"""MemDeblur: multi-scale memory-based video deblurring — Ji & Yao, CVPR 2022.

Two branches (Sec. 3, Fig. 3). The deblurring branch encodes every blurry frame with D to
``x_i`` (48 ch at 1/4 resolution), runs a backward recurrent module F_b over the clip (Eq. 10)
and then a forward one F_f (Eq. 11), fuses their hidden states with a conv 1×1 (Eq. 12) and
decodes with U plus the blurry input (Eq. 1). The memory branch stores, every ``T`` frames, a key
``K(x_i)`` with values ``V_r([x_i, D(R_i)])`` and ``V_h([x_i, h_i])`` (Eqs. 2–4) in a forward bank,
and ``V_h([x_i, h_i^b])`` in a backward bank; each step reads both banks by attention (Eqs. 5–7)
and decodes the readouts with G_r and G_h (Eqs. 8–9) as extra inputs of F. Three scales are
restored coarsest first (Sec. 3.4, Eq. 13): the previous scale's output, upsampled and encoded
by D, is a further input of F_f; F_f's residual blocks and the forward bank are shared by the
scales, F_b runs at full resolution only and its states are resized for the coarser scales.

Where the paper is silent the released code (``docs/reference_code.md``, MemDeblur) decides:
input channel order of F (any order is equivalent up to a permutation of the first conv's
weights), coarse-scale sizes rounded up to a multiple of 4, the backward bank written every 5
frames counting from the last, the forward readout zero at the first frame of every scale (as Eq.
11 says for the first frame), ×0.1-scaled Kaiming init of the residual blocks, frames centred to
``[-0.5, 0.5]`` inside the net. Differences from the released code: RGB instead of BGR; timm's
ResNet-50 without the convolution biases the code's copy adds (4 416 parameters in K, V_r, V_h);
the backward bank is written on the same frames in training and evaluation (the code shifts
them at test time: ``backward_schedule="released"``); the test-time bound keeps the 5 most
recent *writes* as Sec. 4.1 says, where the code keeps the last 5 × (current key size) locations
(``memory_bound="locations"``); the code's unused ``conv_hr`` and ``conv_last`` (38 659
parameters) are not built.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError
from deblurzoo.models.blocks import ResBlock, conv
from deblurzoo.models.memdeblur.deblurring_branch import FEATURE_CHANNELS, downsampling, upsampling
from deblurzoo.models.memdeblur.memory_bank import BOUNDS, SIMILARITIES, MemoryBank
from deblurzoo.models.memdeblur.memory_encoders import (
    MemoryDecoder,
    MemoryEncoder,
    residual_blocks,
)
from deblurzoo.models.video_net import MultiScaleFrames, VideoNet

#: What the forward bank stores (Table 6): both values under one key ("separate", the paper's
#: model), only the hidden-state value, only the restored-frame value, or one value of both.
VALUE_VARIANTS = {"separate": ("r", "h"), "h": ("h",), "r": ("r",), "joint": ("joint",)}
#: Downsampling factor of each scale, finest first: s = 1, 2, 3 of Sec. 3.4.
SCALES = (1, 2, 4)
#: Frames F_b writes to the backward bank, counted from the last: in training and evaluation
#: alike, or as the released code does (evaluation: frames 2, 2 + T_b, … and the last).
BACKWARD_SCHEDULES = ("from_last", "released")
#: How F's input convolutions weigh the decoded readouts at init: like every other input (the
#: paper and the released code), or at zero, so the memory branch starts as a no-op.
READOUT_INITS = ("default", "zero")


def _round_up(size: int, multiple: int = 4) -> int:
    return -(-size // multiple) * multiple


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _init_residual_blocks(module: nn.Module) -> None:
    """Kaiming-normal ×0.1, zero bias, in every residual block of ``module`` outside the ResNet
    stage (the released code's mmediting init; the paper does not say)."""
    for block in module.modules():
        if isinstance(block, ResBlock):
            for layer in block.body:
                if isinstance(layer, nn.Conv2d):
                    nn.init.kaiming_normal_(layer.weight)
                    layer.weight.data.mul_(0.1)
                    nn.init.zeros_(layer.bias)


def _input_block(
    in_ch: int, out_ch: int, num_blocks: int, readouts_at: int, readouts: int, zero: bool
) -> nn.Sequential:
    """An input conv + residual blocks of F_f or F_b taking ``in_ch`` channels and, from channel
    ``readouts_at`` on, ``readouts`` channels of decoded memory. With ``zero`` the block is drawn
    as without memory and the readouts are spliced in with zero weights (``readout_init``)."""
    if not zero:
        return residual_blocks(in_ch + readouts, out_ch, num_blocks)
    block = residual_blocks(in_ch, out_ch, num_blocks)
    narrow = block[0]
    wide = nn.utils.skip_init(
        nn.Conv2d, in_ch + readouts, out_ch, narrow.kernel_size, padding=narrow.padding
    )
    weight = narrow.weight.detach()
    silent = weight.new_zeros(out_ch, readouts, *weight.shape[2:])
    # assigned, not copied, so that nets built on the meta device (GMAC counts) work too
    wide.weight = nn.Parameter(
        torch.cat([weight[:, :readouts_at], silent, weight[:, readouts_at:]], 1)
    )
    wide.bias = narrow.bias
    block[0] = wide
    return block


class MemDeblur(VideoNet):
    """The MemDeblur network with every ablation of Tables 4–7 as a switch.

    Args:
        mid_channels: width of F, U's input and the decoded memories (64).
        num_blocks_forward: residual blocks of F_f, shared by the scales (30; supp. Sec. 2).
        num_blocks_backward: residual blocks of F_b (10).
        memory: the memory branch (Table 4); ``False`` is the deblurring branch alone.
        bidirectional: the backward pass and its memory bank (Sec. 3.3, Table 4).
        multi_scale: three scales sharing the forward bank (Sec. 3.4, Table 4); ``False``
            restores at full resolution only.
        deblur_branch: ``False`` is Table 5's 'w/o Deblur.': F_f keeps only its input conv and
            sees only the memory readouts, which U decodes directly (memory, one direction).
        temporary_memory: Table 5's 'Temp.': the previous frame's memory is always readable too.
        values: what the forward bank stores, one of :data:`VALUE_VARIANTS` (Table 6).
        memory_period: ``(T1, T2, T3)``, frames between forward-bank writes at full, half and
            quarter resolution (Sec. 4.1: 5, 2, 1; Table 7 varies T1).
        backward_memory_period: frames between backward-bank writes (5, the released code).
        backward_schedule: which frames those are, one of :data:`BACKWARD_SCHEDULES`:
            ``"from_last"`` (T−1, T−1−T_b, …) or ``"released"`` (the same in training, frames
            2, 2 + T_b, … plus T−1 in evaluation).
        memory_length: at test time keep only this many most recent writes per bank (5, Sec.
            4.1); ``None`` keeps all. Training clips keep everything, as in the released code.
        memory_bound: what ``memory_length`` counts (:class:`MemoryBank`'s ``bound``):
            ``"writes"`` (Sec. 4.1) or ``"locations"`` (the released code: that many writes'
            worth of the latest write's key grid).
        top_k: at test time normalise the attention over the ``top_k`` best locations only (the
            released code uses 20); ``None`` (the paper) uses every location.
        similarity: ``d`` of Eq. 5, ``"l2"`` (released code) or ``"dot"``.
        key_dim: key channels C_k (64, supp. Table 4).
        key_norm: end K with a LayerNorm over channels (:class:`MemoryEncoder`; not in the
            paper), which bounds the attention logits (``docs/memdeblur.md``).
        backbone: timm ResNet whose stem and first stage K and V use (``resnet50``).
        pretrained_path: a local ImageNet state dict for that stage; ``None`` = random init.
        readout_init: ``"default"`` (the paper's and released code's init) or ``"zero"``: F_f
            and F_b take the decoded readouts with weights that start at zero, their other
            weights drawn as without memory, so the untrained net is the memory-off net of the
            same seed and training phases the memory in (as ReZero, Bachlechner et al. 2020,
            does for residual branches). Not in the paper; it makes memory on/off a paired
            comparison for short runs with a randomly initialised ResNet stage
            (``docs/memdeblur.md``). The memory branch is always drawn from a forked random
            stream, so switching it leaves the deblurring branch's init and the data order alone.
    """

    spatial_multiple = 4
    recurrent = True

    def __init__(
        self,
        mid_channels: int = 64,
        num_blocks_forward: int = 30,
        num_blocks_backward: int = 10,
        memory: bool = True,
        bidirectional: bool = True,
        multi_scale: bool = True,
        deblur_branch: bool = True,
        temporary_memory: bool = False,
        values: str = "separate",
        memory_period: Sequence[int] = (5, 2, 1),
        backward_memory_period: int = 5,
        backward_schedule: str = "from_last",
        memory_length: int | None = 5,
        memory_bound: str = "writes",
        top_k: int | None = None,
        similarity: str = "l2",
        key_dim: int = 64,
        key_norm: bool = False,
        backbone: str = "resnet50",
        pretrained_path: str | None = None,
        readout_init: str = "default",
    ) -> None:
        super().__init__()
        if values not in VALUE_VARIANTS:
            raise ConfigError(f"values must be one of {sorted(VALUE_VARIANTS)}, got {values!r}")
        if similarity not in SIMILARITIES:
            raise ConfigError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        if memory_bound not in BOUNDS:
            raise ConfigError(f"memory_bound must be one of {BOUNDS}, got {memory_bound!r}")
        if backward_schedule not in BACKWARD_SCHEDULES:
            raise ConfigError(
                f"backward_schedule must be one of {BACKWARD_SCHEDULES}, got {backward_schedule!r}"
            )
        if readout_init not in READOUT_INITS:
            raise ConfigError(f"readout_init must be one of {READOUT_INITS}, got {readout_init!r}")
        if memory_length is not None and memory_length < 1:
            raise ConfigError(f"memory_length must be at least 1 or null, got {memory_length}")
        if len(memory_period) != len(SCALES) or min(memory_period) < 1:
            raise ConfigError(
                f"memory_period must be three positive periods (T1, T2, T3), got {memory_period}"
            )
        if not deblur_branch and (not memory or bidirectional):
            raise ConfigError(
                "deblur_branch=false (Table 5, 'w/o Deblur.') needs memory=true and "
                "bidirectional=false"
            )
        if not deblur_branch and readout_init == "zero":
            raise ConfigError(
                "readout_init=zero needs deblur_branch=true: without the deblurring branch F "
                "sees nothing but the readouts"
            )
        self.memory, self.bidirectional = memory, bidirectional
        self.scales = SCALES[::-1] if multi_scale else SCALES[:1]
        # K and V batch-normalise in their ResNet stem and layer1 (Sec. 3.5), at 1/4 of D's 1/4
        # features of the coarsest scale
        self.batch_norm_stride = 16 * max(self.scales) if memory else 0
        self.deblur_branch, self.temporary_memory = deblur_branch, temporary_memory
        self.forward_values = VALUE_VARIANTS[values] if memory else ()
        self.memory_period = dict(zip(SCALES, memory_period, strict=True))
        self.backward_memory_period = backward_memory_period
        self.backward_schedule = backward_schedule
        self.memory_length, self.memory_bound = memory_length, memory_bound
        self.top_k, self.similarity = top_k, similarity
        self.mid_channels = c = mid_channels
        x_ch = FEATURE_CHANNELS

        self.down = downsampling()
        reads = c * (len(self.forward_values) + (memory and bidirectional))
        own = 2 * x_ch + c if deblur_branch else 0  # x_i, x_{i-1}, h_{i-1}
        zero_readouts = memory and readout_init == "zero"
        self.forward_inputs = nn.ModuleList(
            _input_block(
                own + (x_ch if s != self.scales[0] else 0), c, 0, own, reads, zero_readouts
            )
            for s in self.scales
        )
        self.forward_trunk = nn.Sequential(
            *(ResBlock(c) for _ in range(num_blocks_forward if deblur_branch else 0))
        )
        self.backward_f = None
        self.fusion = None
        if bidirectional:
            own_b = 2 * x_ch + c  # x_i, x_{i+1}, h^b_{i+1}; then the backward readout
            self.backward_f = _input_block(
                own_b, c, num_blocks_backward, own_b, c * memory, zero_readouts
            )
            self.fusion = nn.Sequential(conv(2 * c, c, 1), nn.LeakyReLU(0.1, inplace=True))
        self.up = upsampling(c)
        _init_residual_blocks(self)

        self.key_encoder = None
        self.value_encoders, self.decoders = nn.ModuleDict(), nn.ModuleDict()
        if memory:  # drawn aside: the switch leaves the deblurring branch and the data order alone
            with torch.random.fork_rng(devices=[]):
                self.key_encoder = MemoryEncoder(
                    x_ch, x_ch, key_dim, backbone, pretrained_path, key_norm
                )
                value_inputs = {"r": 2 * x_ch, "h": x_ch + c, "joint": 2 * x_ch + c}
                for kind in sorted(set(self.forward_values) | ({"h"} if bidirectional else set())):
                    encoder = MemoryEncoder(value_inputs[kind], 32, None, backbone, pretrained_path)
                    self.value_encoders[kind] = encoder
                    self.decoders[kind] = MemoryDecoder(encoder.out_channels, c)
                for branch in (self.key_encoder, self.value_encoders, self.decoders):
                    _init_residual_blocks(branch)

    def new_bank(self, name: str) -> MemoryBank:
        """An empty bank: unbounded with full softmax while training, bounded by
        ``memory_length`` (and ``top_k``) in evaluation."""
        if self.training:
            return MemoryBank(name, self.similarity)
        return MemoryBank(name, self.similarity, self.memory_length, self.top_k, self.memory_bound)

    def _backward_writes(self, t: int) -> set[int]:
        """The frames of a ``t``-frame clip whose F_b state goes to the backward bank."""
        period = self.backward_memory_period
        if self.backward_schedule == "released" and not self.training:
            return {*range(2, t, period), t - 1}
        return set(range(t - 1, -1, -period))

    def _zeros(self, like: Tensor) -> Tensor:
        """A zero state of F's width on the feature grid of ``like``."""
        return like.new_zeros(like.shape[0], self.mid_channels, *like.shape[-2:])

    def _read(
        self, bank: MemoryBank, key: Tensor, kinds: Sequence[str], x: Tensor, label: tuple
    ) -> list[Tensor]:
        """Decoded readouts ``m`` (Eqs. 7–8) on the feature grid of ``x``; zeros while the bank
        is empty. ``label`` = (scale, frame) of the query, for recorded attention."""
        if not len(bank) and bank.temporary is None:
            return [self._zeros(x)] * len(kinds)
        return [
            self.decoders[kind](value, x.shape[-2:])
            for kind, value in zip(kinds, bank.read(key, label), strict=True)
        ]

    def _values(
        self, kinds: Sequence[str], x: Tensor, hidden: Tensor, out: Tensor | None
    ) -> tuple[Tensor, ...]:
        """The values V of Eq. 3 of one frame: V_r([x, D(R)]), V_h([x, h]) or V([x, D(R), h])."""
        restored = self.down(out - 0.5) if out is not None else None
        inputs = {"r": (x, restored), "h": (x, hidden), "joint": (x, restored, hidden)}
        return tuple(self.value_encoders[k](torch.cat(inputs[k], 1)) for k in kinds)

    def _backward(self, xs: list[Tensor], keys: list[Tensor]) -> tuple[list[Tensor], MemoryBank]:
        """F_b from the last frame to the first (Eq. 10), writing the backward bank every
        ``backward_memory_period`` frames (``backward_schedule``); its states and the bank."""
        bank, t = self.new_bank("backward"), len(xs)
        writes = self._backward_writes(t) if self.memory else set()
        states: list[Tensor] = []
        state = self._zeros(xs[0])
        for i in reversed(range(t)):
            parts = [xs[i], xs[i + 1] if i + 1 < t else torch.zeros_like(xs[i]), state]
            if self.memory:
                parts += self._read(bank, keys[i], ("h",), xs[i], (1, i))
            state = self.backward_f(torch.cat(parts, 1))
            states.insert(0, state)
            if i in writes:
                bank.write(keys[i], self._values(("h",), xs[i], state, None), (1, i))
        return states, bank

    def forward(self, blur: Tensor) -> Tensor | MultiScaleFrames:
        b, t, _, height, width = blur.shape
        xs = [self.down(blur[:, i] - 0.5) for i in range(t)]
        keys = [self.key_encoder(x) for x in xs] if self.memory else []
        if self.bidirectional:
            backward_states, backward_bank = self._backward(xs, keys)
        bank = self.new_bank("forward")
        outputs: list[Tensor] = []
        for level, scale in enumerate(self.scales):
            size = (_round_up(height // scale), _round_up(width // scale))
            frames = blur if scale == 1 else _resize(blur.flatten(0, 1), size).unflatten(0, (b, t))
            bank.temporary = None
            x_prev = hidden = None
            restored: list[Tensor] = []
            for i in range(t):
                x = xs[i] if scale == 1 else self.down(frames[:, i] - 0.5)
                parts: list[Tensor] = []
                if self.deblur_branch:
                    parts.append(x)
                    parts.append(torch.zeros_like(x) if x_prev is None else x_prev)
                    parts.append(self._zeros(x) if hidden is None else hidden)
                if self.memory:
                    key = keys[i] if scale == 1 else self.key_encoder(x)
                    if i == 0:  # Eq. 11: no forward memory for the first frame
                        parts += [self._zeros(x)] * len(self.forward_values)
                    else:
                        parts += self._read(bank, key, self.forward_values, x, (scale, i))
                    if self.bidirectional:
                        parts += self._read(backward_bank, key, ("h",), x, (scale, i))
                if level:  # Eq. 13: the coarser scale's restored frame, upsampled, through D
                    parts.append(self.down(_resize(outputs[-1][:, i], size) - 0.5))
                hidden = self.forward_trunk(self.forward_inputs[level](torch.cat(parts, 1)))
                fused = hidden
                if self.bidirectional:  # Eq. 12
                    state = _resize(backward_states[i], x.shape[-2:])
                    fused = self.fusion(torch.cat([state, hidden], 1))
                out = self.up(fused) + frames[:, i]
                if self.memory:
                    memorise = i % self.memory_period[scale] == 0
                    if memorise or self.temporary_memory:
                        values = self._values(self.forward_values, x, hidden, out)
                        if memorise:
                            bank.write(key, values, (scale, i))
                        bank.temporary = None if memorise else (key, values, (scale, i))
                x_prev = x
                restored.append(out)
            outputs.append(torch.stack(restored, 1))
        if self.training and len(outputs) > 1:
            return MultiScaleFrames(outputs[-1], tuple(outputs[-2::-1]))
        return outputs[-1]
