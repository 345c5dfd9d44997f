"""Reading, checking and writing single frame files.

The colour policy of the whole package lives here, in :func:`check_frame`:

* 8-bit RGB frames are used as they are.
* Grayscale frames (PIL modes ``1``, ``L``, ``P`` with a gray palette), palette frames (``P``) and
  frames with an alpha channel (``RGBA``, ``LA``, ``P`` with transparency) are converted to RGB
  (gray replicated, palette expanded, alpha dropped, not composited) when ``convert=True`` and
  rejected otherwise.
* Frames with more than 8 bits per channel (16-bit PNGs, ``I``/``F`` images) are always rejected:
  the benchmarks are 8-bit and the metrics quantise to 8 bits, so such files must be converted to
  8-bit by the user, once, rather than silently on every read.
* Any other mode (``CMYK``, ``YCbCr``, ...) is rejected.

Only :func:`read_frame` decodes pixels; :func:`inspect_frame` and :func:`check_frame` read the file
header, so a dataset can be indexed quickly. :func:`check_frame` also reads the last bytes of PNG
and JPEG files, so a truncated file (the usual corruption: an interrupted copy or unzip) is
refused while indexing; damage inside the pixel data surfaces in :func:`read_frame`, also as a
:class:`DatasetError` naming the file.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from deblurzoo.data.sequence import DatasetError
from deblurzoo.utils.atomic import atomic_write

log = logging.getLogger(__name__)

__all__ = ["FrameInfo", "check_frame", "inspect_frame", "read_frame", "write_frame"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The 8-bit modes a frame may have, and what converting each to RGB means (None: nothing to do).
_COLOUR_KINDS: dict[str, str | None] = {
    "RGB": None,
    "RGBA": "RGB with alpha",
    "1": "grayscale",
    "L": "grayscale",
    "LA": "grayscale with alpha",
    "P": "palette",
    "PA": "palette with alpha",
}
# What PIL raises for files that are missing, not images, truncated or corrupt.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    EOFError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)


@dataclass(frozen=True)
class FrameInfo:
    """What the header of a frame file says.

    ``size`` is ``(height, width)``; ``mode`` is the PIL mode the file opens as; ``bit_depth`` is
    the bits per channel as stored (8 or 16; 32 for PIL ``I``/``F`` images), read from the PNG
    ``IHDR`` chunk for PNGs because PIL opens 48-bit RGB PNGs as 8-bit ``RGB``.
    """

    size: tuple[int, int]
    mode: str
    bit_depth: int


def inspect_frame(path: Path) -> FrameInfo:
    """Read the header of the image file ``path`` (no pixel decoding)."""
    path = Path(path)
    with _open(path) as img:
        return _info(img, path)


def check_frame(path: Path, convert: bool = True) -> FrameInfo:
    """Inspect ``path`` (header only) and apply the colour policy of the module docstring.

    Raises :class:`DatasetError` naming the file when the frame is rejected; logs a warning (once
    per folder and kind) when it will be converted to RGB on reading.
    """
    path = Path(path)
    with _open(path) as img:
        info = _apply_policy(img, path, convert)
        _check_complete(path, img.format)
    return info


def read_frame(path: Path, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Read ``path`` as a float32 RGB tensor ``[3, H, W]`` in ``[0, 1]``.

    Grayscale and alpha frames are converted to RGB; rejected frames raise :class:`DatasetError`.
    When ``size`` (``(height, width)``) is given and differs from the frame's, the 8-bit image is
    resized with PIL's bicubic filter, which antialiases when downscaling.
    """
    path = Path(path)
    with _open(path) as img:
        info = _apply_policy(img, path, convert=True)
        try:
            rgb = img.convert("RGB")  # decodes the pixels: truncation and corruption surface here
        except _DECODE_ERRORS as err:
            raise DatasetError(f"{path}: cannot decode image ({err})") from err
    if size is not None and tuple(size) != info.size:
        rgb = rgb.resize((size[1], size[0]), Image.Resampling.BICUBIC)
    array = np.array(rgb, dtype=np.uint8)
    return torch.from_numpy(array).permute(2, 0, 1).float().div_(255.0)


def write_frame(path: Path, frame: torch.Tensor) -> None:
    """Write a ``[3, H, W]`` tensor in ``[0, 1]`` to ``path`` as an 8-bit RGB PNG.

    Values are clamped to ``[0, 1]`` and rounded to the nearest 8-bit level. Parent folders are
    created; the PNG is written to a temporary file in the same folder and moved into place, so
    no reader ever sees a partial frame.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: write_frame writes PNG files; use a .png file name")
    if frame.ndim != 3 or frame.shape[0] != 3:
        raise ValueError(f"{path}: expected a [3, H, W] frame, got shape {tuple(frame.shape)}")
    array = frame.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    image = Image.fromarray(array.permute(1, 2, 0).cpu().numpy())
    with atomic_write(path, "wb") as file:
        image.save(file, format="PNG")


@contextmanager
def _open(path: Path) -> Iterator[Image.Image]:
    """Open ``path`` lazily with PIL, turning PIL's errors into :class:`DatasetError`."""
    try:
        img = Image.open(path)
    except _DECODE_ERRORS as err:
        raise DatasetError(f"{path}: cannot read image ({err})") from err
    with img:
        yield img


def _info(img: Image.Image, path: Path) -> FrameInfo:
    width, height = img.size
    if img.format == "PNG":
        bit_depth = 16 if _png_bit_depth(path) == 16 else 8
    elif img.mode.startswith("I;16"):
        bit_depth = 16
    elif img.mode in ("I", "F"):
        bit_depth = 32
    else:
        bit_depth = 8
    return FrameInfo(size=(height, width), mode=img.mode, bit_depth=bit_depth)


def _check_complete(path: Path, image_format: str | None) -> None:
    """Refuse a PNG or JPEG whose end marker is missing: a truncated file (an interrupted copy or
    unzip) is caught while indexing, from the file's last bytes, without decoding its pixels."""
    markers = {"PNG": (b"IEND\xaeB`\x82", 12), "JPEG": (b"\xff\xd9", 1024)}
    if image_format not in markers:
        return
    marker, tail = markers[image_format]
    with open(path, "rb") as file:
        file.seek(max(0, path.stat().st_size - tail))
        if marker not in file.read():
            raise DatasetError(f"{path}: truncated {image_format} file (no end marker)")


def _png_bit_depth(path: Path) -> int:
    """Bits per sample from the PNG ``IHDR`` chunk (1, 2, 4, 8 or 16)."""
    with open(path, "rb") as file:
        header = file.read(26)
    if len(header) < 26 or header[:8] != _PNG_SIGNATURE or header[12:16] != b"IHDR":
        raise DatasetError(f"{path}: malformed PNG header (no IHDR chunk)")
    return header[24]


def _apply_policy(img: Image.Image, path: Path, convert: bool) -> FrameInfo:
    info = _info(img, path)
    if info.bit_depth > 8:
        raise DatasetError(
            f"{path}: {info.bit_depth}-bit frame; only 8-bit frames are supported (the benchmarks "
            "are 8-bit and the metrics quantise to 8 bits): convert the dataset to 8-bit first"
        )
    if img.mode not in _COLOUR_KINDS:
        raise DatasetError(f"{path}: unsupported colour mode {img.mode!r}; convert it to RGB")
    kind = _colour_kind(img)
    if kind is None:
        return info
    if not convert:
        raise DatasetError(
            f"{path}: {kind} frame (PIL mode {img.mode}), not RGB; convert it to RGB or pass "
            "convert=True to convert it on reading"
        )
    _warn_conversion(path, kind)
    return info


def _colour_kind(img: Image.Image) -> str | None:
    """``None`` for plain RGB, else a description of what converting to RGB undoes."""
    kind = _COLOUR_KINDS[img.mode]
    if img.mode in ("P", "PA"):
        palette = np.frombuffer(bytes(img.palette.palette), dtype=np.uint8)
        rgb = palette[: len(palette) // 3 * 3].reshape(-1, 3)
        if (rgb == rgb[:, :1]).all():
            kind = f"grayscale {kind}"
        if "transparency" in img.info and img.mode == "P":
            kind = f"{kind} with alpha"
    return kind


_warned: set[tuple[Path, str]] = set()  # (folder, kind) already reported, to log once per folder


def _warn_conversion(path: Path, kind: str) -> None:
    key = (path.parent, kind)
    if key not in _warned:
        _warned.add(key)
        log.warning(
            "%s: %s frames are converted to RGB on reading (first: %s)",
            path.parent,
            kind,
            path.name,
        )
