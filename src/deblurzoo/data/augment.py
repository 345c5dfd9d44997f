"""Sequence-consistent augmentation for paired video clips.

One random draw per clip is applied identically to every frame and to the blurry and the sharp
clip alike (they are transformed as one stacked tensor), so the net never sees a blur/target
misalignment. The geometric transforms are the dihedral group of the square crop (flips, 90°
rotations) and temporal reversal, as in ESTRNN, SimDeblur and BasicSR's video pipelines.

The photometric transforms (off by default) are the colour jitter of Brehm et al. (CVPRW 2020,
Sec. 3.3: "We varied image brightness, hue, saturation, and image contrast by small amounts for
every image crop"). The paper gives no amounts; the released code's are ``brightness=0.2,
hue=0.1, saturation=0.2, contrast=0.2`` (its ``data.py``; ``docs/reference_code.md``,
MLFA), applied in that order. The same colour change hits the blurry frames and the sharp
target, so the net never learns to undo it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import kornia
import torch
from torch import Tensor

from deblurzoo.errors import ConfigError

#: Truncation of the normal factors, in standard deviations (``tf.random.truncated_normal``).
TRUNCATION = 2.0


def _truncated_normal(u: Tensor, std: float) -> float:
    """A draw of ``N(1, std²)`` truncated at ±2 std, from ``u`` uniform in [0, 1) (inverse CDF),
    floored at 0 (a negative colour factor would invert the image)."""
    lo = 0.5 * math.erfc(TRUNCATION / math.sqrt(2))  # Φ(−2)
    z = torch.special.ndtri(lo + u * (1 - 2 * lo))
    return max(0.0, 1.0 + std * float(z))


@dataclass(frozen=True)
class ClipAugment:
    """Random flips, 90° rotations, time reversal and colour jitter of clips shaped
    ``[..., T, C, H, W]`` (RGB in [0, 1] for the colour jitter).

    Geometric switches (each applied with probability 1/2):
        hflip, vflip: horizontal / vertical flip.
        rot90: rotation by 90° (needs square crops).
        reverse: reversed frame order.

    Photometric amounts (0 = off, the default), one draw per clip, in this order:
        brightness: ``b`` adds δ ~ U(−b, b) to every value (code: 0.2).
        hue: ``h`` rotates the hue by δ ~ U(−h, h) turns of the colour circle (code: 0.1 = ±36°).
        saturation: ``s`` multiplies the HSV saturation by a factor ~ N(1, s²) truncated at
            ±2s (code: 0.2, so factors in [0.6, 1.4]).
        contrast: ``c`` maps ``x → (x − m)·f + m`` with f ~ N(1, c²) truncated at ±2c (code:
            0.2) and ``m`` the per-channel mean of the whole stacked clip (all frames, blurry and
            sharp), so one colour map serves every frame; the code takes each image's own mean.

    Values are clamped to [0, 1] after every photometric step (the code clips once, at the end).
    """

    hflip: bool = True
    vflip: bool = True
    rot90: bool = True
    reverse: bool = True
    brightness: float = 0.0
    hue: float = 0.0
    saturation: float = 0.0
    contrast: float = 0.0

    def __post_init__(self) -> None:
        for name in ("brightness", "hue", "saturation", "contrast"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0 (0 disables it), got {getattr(self, name)}")
        if self.hue > 0.5:
            raise ConfigError(f"hue is in turns of the colour circle, at most 0.5, got {self.hue}")

    @property
    def photometric(self) -> bool:
        """Whether any colour jitter is on."""
        return any((self.brightness, self.hue, self.saturation, self.contrast))

    def __call__(self, clips: Tensor, generator: torch.Generator | None = None) -> Tensor:
        draw = torch.rand(4, generator=generator)
        if self.hflip and draw[0] < 0.5:
            clips = clips.flip(-1)
        if self.vflip and draw[1] < 0.5:
            clips = clips.flip(-2)
        if self.rot90 and draw[2] < 0.5:
            if clips.shape[-1] != clips.shape[-2]:
                raise ConfigError(f"rot90 needs square crops, got {tuple(clips.shape[-2:])}")
            clips = clips.rot90(1, dims=(-2, -1))
        if self.reverse and draw[3] < 0.5:
            clips = clips.flip(-4)
        if self.photometric:  # drawn only when on, so the geometric stream stays as it was
            clips = self.jitter(clips, torch.rand(4, generator=generator))
        return clips

    def jitter(self, clips: Tensor, draw: Tensor) -> Tensor:
        """The colour jitter of four uniform draws in [0, 1), applied to every frame alike."""
        if clips.shape[-3] != 3:
            raise ValueError(f"colour jitter needs RGB frames, got {clips.shape[-3]} channels")
        if self.brightness:
            delta = self.brightness * (2 * float(draw[0]) - 1)
            clips = kornia.enhance.adjust_brightness(clips, delta, clip_output=True)
        if self.hue or self.saturation:  # one HSV round trip for both
            hsv = kornia.color.rgb_to_hsv(clips)
            if self.hue:
                turns = self.hue * (2 * float(draw[1]) - 1)
                hsv = kornia.enhance.adjust_hue_raw(hsv, 2 * math.pi * turns)
            if self.saturation:
                factor = _truncated_normal(draw[2], self.saturation)
                hsv = kornia.enhance.adjust_saturation_raw(hsv, factor)
            clips = kornia.color.hsv_to_rgb(hsv).clamp(0, 1)
        if self.contrast:
            factor = _truncated_normal(draw[3], self.contrast)
            mean = clips.mean(dim=[d for d in range(clips.dim()) if d != clips.dim() - 3])
            mean = mean[:, None, None]
            clips = ((clips - mean) * factor + mean).clamp(0, 1)
        return clips
