"""Per-frame PSNR/SSIM for video restoration, de-duplicated by (sequence, frame).

The protocol (``docs/evaluation.md``) is explicit and configurable through ``conf/eval/``: RGB,
``data_range=1``, frames rounded to 8 bits first (as the benchmarks' MATLAB and BasicSR scripts
do; ``quantize: truncate`` casts as ESTRNN's and MemDeblur's test code does), SSIM with an 11×11
Gaussian window (σ = 1.5), computed by torchmetrics (``ssim: torchmetrics``, the default) or as
scikit-image computes it in the authors' code (``ssim: skimage``,
:func:`deblurzoo.ssim.gaussian_ssim`). Every frame is scored once, however often it is fed (DDP
sampler padding, overlapping temporal chunks), and two means are reported: over frames
(``*_frame``, ESTRNN/MATLAB convention) and over the per-sequence means (``*_seq``,
BasicSR/MMagic convention); they differ when sequences differ in length.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

from deblurzoo.errors import ConfigError
from deblurzoo.ssim import gaussian_ssim

#: ``eval.ssim`` values: torchmetrics' SSIM (reflection-padded, the whole map averaged) and the
#: authors' (scikit-image's with Gaussian weights: the valid map only; :mod:`deblurzoo.ssim`).
SSIM_IMPLEMENTATIONS = ("torchmetrics", "skimage")
#: ``eval.quantize`` values besides ``true`` (= ``round``) and ``false`` (no quantisation).
QUANTIZE_MODES = ("round", "truncate")


def quantize(frames: Tensor) -> Tensor:
    """Clamp to ``[0, 1]`` and round to the nearest 8-bit level, as when saving a PNG."""
    return torch.round(frames.clamp(0, 1) * 255) / 255


def truncate(frames: Tensor) -> Tensor:
    """Clamp to ``[0, 1]`` and drop the fraction of the 8-bit value, as ``np.clip(x, 0, 255)
    .astype(np.uint8)`` in ESTRNN's and MemDeblur's test code (``docs/evaluation.md``). Frames
    already on 8-bit levels (``k / 255`` in float32) are unchanged."""
    return torch.floor(frames.clamp(0, 1) * 255) / 255


def _torchmetrics_ssim(pred: Tensor, target: Tensor) -> Tensor:
    return structural_similarity_index_measure(pred, target, data_range=1.0, reduction="none")


def _skimage_ssim(pred: Tensor, target: Tensor) -> Tensor:
    return gaussian_ssim(pred, target).to(pred.dtype)  # float64 inside, stored like the PSNRs


def _ssim_per_frame(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    if name == "torchmetrics":
        return _torchmetrics_ssim
    if name == "skimage":
        return _skimage_ssim
    raise ConfigError(f"eval.ssim must be one of {SSIM_IMPLEMENTATIONS}, got {name!r}")


def _quantizer(mode: bool | str) -> Callable[[Tensor], Tensor] | None:
    if mode is True or mode == "round":
        return quantize
    if mode == "truncate":
        return truncate
    if mode is False:
        return None
    raise ConfigError(f"eval.quantize must be true, false or one of {QUANTIZE_MODES}, got {mode!r}")


class VideoQualityMetric(Metric):
    """Accumulates per-frame PSNR and SSIM keyed by ``(sequence id, frame index)``.

    Args:
        quantize: bring predictions and targets to 8 bits before scoring: ``True`` or
            ``"round"`` rounds to the nearest level, ``"truncate"`` drops the fraction (the
            authors' ``astype(uint8)``), ``False`` scores the float frames.
        crop_border: pixels removed from every side before scoring (0 for deblurring).
        ssim: the SSIM implementation, one of :data:`SSIM_IMPLEMENTATIONS`: ``"torchmetrics"``
            (default) or ``"skimage"``, the authors' (:func:`deblurzoo.ssim.gaussian_ssim`).
    """

    full_state_update = False
    higher_is_better = True

    def __init__(
        self,
        quantize: bool | str = True,
        crop_border: int = 0,
        ssim: str = "torchmetrics",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._quantize = _quantizer(quantize)
        self._ssim = _ssim_per_frame(ssim)
        self.quantize, self.crop_border, self.ssim_implementation = quantize, crop_border, ssim
        for name in ("seq_id", "frame_idx", "psnr", "ssim"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, pred: Tensor, target: Tensor, seq_id: Tensor, frame_idx: Tensor) -> None:
        """Score frames ``pred``/``target`` ``[N, 3, H, W]`` with their ids ``[N]``."""
        pred, target = pred.detach().float(), target.float()
        if self._quantize is not None:
            pred, target = self._quantize(pred), self._quantize(target)
        if self.crop_border:
            c = self.crop_border
            pred, target = pred[..., c:-c, c:-c], target[..., c:-c, c:-c]
        self.psnr.append(
            peak_signal_noise_ratio(pred, target, data_range=1.0, reduction="none", dim=(1, 2, 3))
        )
        self.ssim.append(self._ssim(pred, target))
        self.seq_id.append(seq_id.to(self.device, torch.long))
        self.frame_idx.append(frame_idx.to(self.device, torch.long))

    def frames(self) -> dict[str, Tensor]:
        """The scored frames, each ``(sequence, frame)`` once (its first score), sorted by key;
        under DDP those of every process (gathered as :meth:`compute` does)."""
        with self.sync_context(should_sync=self.sync_on_compute):
            return self._frames()

    def per_sequence(self) -> dict[str, Tensor]:
        """Per-sequence frame counts and mean PSNR/SSIM, keyed by sorted sequence id; under DDP
        over the frames of every process."""
        with self.sync_context(should_sync=self.sync_on_compute):
            return _per_sequence(self._frames())

    def _frames(self) -> dict[str, Tensor]:
        if not len(self.psnr):
            raise RuntimeError("VideoQualityMetric: no frame was scored")
        seq, frame = _cat(self.seq_id), _cat(self.frame_idx)
        key = seq * (int(frame.max()) + 1) + frame
        unique, inverse = torch.unique(key, return_inverse=True)
        order = torch.arange(len(key), device=key.device)
        first = torch.full_like(unique, len(key)).scatter_reduce(0, inverse, order, "amin")
        return {
            "seq_id": seq[first],
            "frame_idx": frame[first],
            "psnr": _cat(self.psnr)[first],
            "ssim": _cat(self.ssim)[first],
        }

    def compute(self) -> dict[str, Tensor]:
        # torchmetrics has gathered the states of every process before this runs
        scored = self._frames()
        seqs = _per_sequence(scored)
        return {
            "psnr_frame": scored["psnr"].mean(),
            "psnr_seq": seqs["psnr"].mean(),
            "ssim_frame": scored["ssim"].mean(),
            "ssim_seq": seqs["ssim"].mean(),
        }


def _per_sequence(scored: dict[str, Tensor]) -> dict[str, Tensor]:
    ids, inverse, counts = torch.unique(scored["seq_id"], return_inverse=True, return_counts=True)
    out = {"seq_id": ids, "frames": counts}
    for name in ("psnr", "ssim"):
        sums = torch.zeros(len(ids), device=ids.device).index_add(0, inverse, scored[name])
        out[name] = sums / counts
    return out


def _cat(state: list[Tensor] | Tensor) -> Tensor:
    """A ``cat`` state is a list before synchronisation and a tensor after it."""
    return torch.cat(state) if isinstance(state, list) else state
