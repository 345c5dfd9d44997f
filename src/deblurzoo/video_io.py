"""Reading videos and frame folders as frame sequences, and writing restored videos.

Video files are decoded and encoded with PyAV, whose wheels bundle FFmpeg (no system ``ffmpeg``
is assumed). Any container and codec FFmpeg reads is accepted (mp4, mov, mkv, avi, webm, gif,
...); restored videos are written as H.264 (``.mp4``, ``.mov``, ``.mkv``; 4:2:0 chroma, which every
player and browser decodes, ``crf`` as quality) or GIF (FFmpeg's fixed 8-bit 3-3-2 palette: a
preview, not for scoring). 4:2:0 needs even sides, so an H.264 video of frames with an odd side
gets their last row or column repeated once (the restored frames themselves, as PNG, keep their
size). :class:`SideBySideWriter` writes two videos side by side, each half labelled. A frame
folder holds image files (``.png``, ``.jpg``, ...) taken in file-name order and read by
:func:`deblurzoo.data.frames.read_frame` (the package's colour policy).

Everything that can be wrong with an input is found when it is opened, before any restoration:
:func:`open_frames` decodes a video once to count its frames, so a missing, unreadable or
truncated file raises :class:`VideoError` naming it up front. Frames are then decoded again as
they are sliced, and only the frames from the last requested slice on are kept, so memory does
not grow with the video's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from deblurzoo.data.frames import check_frame, read_frame
from deblurzoo.errors import UserError

__all__ = [
    "FRAME_SUFFIXES",
    "VIDEO_ENCODERS",
    "FrameFolder",
    "SideBySideWriter",
    "VideoError",
    "VideoFrames",
    "VideoWriter",
    "open_frames",
    "video_encoder",
]

#: Image files a frame folder may hold.
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Output container suffix → FFmpeg encoder.
VIDEO_ENCODERS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".gif": "gif"}
#: Pixels between a label's box and the corner of its half, and between the box and the text.
LABEL_MARGIN, LABEL_PADDING = 4, 3
#: How much a label's box darkens the frame under it (0: not at all, 1: black).
LABEL_SHADE = 0.6


class VideoError(UserError, ValueError):
    """A video or frame folder cannot be read or written; the message names the path."""


def _to_tensor(rgb: np.ndarray) -> Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0)


class VideoFrames:
    """The frames of a video file as a sequence sliced into ``[t, 3, H, W]`` float tensors in
    ``[0, 1]`` (RGB). ``fps`` is the stream's average frame rate; ``size`` is ``(H, W)``.

    Slices are decoded on demand. A slice that needs frames not yet decoded forgets the frames
    before its start and decodes on; a slice within the frames kept is served from them. So
    slicing forwards (the order chunks are restored in, with overlap, and single frames of the
    current chunk between them) decodes every frame once; a slice starting before the frames
    kept re-opens the file and decodes from its start.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoError(f"{self.path}: no such video file")
        count, shape = 0, None
        with self._open() as container:
            stream = container.streams.video[0]
            self.fps = Fraction(stream.average_rate or stream.guessed_rate or 0) or None
            for frame in self._decode(container):
                shape = shape or (frame.height, frame.width)
                if (frame.height, frame.width) != shape:
                    raise VideoError(
                        f"{self.path}: frame {count} is {frame.height}×{frame.width}, the first "
                        f"is {shape[0]}×{shape[1]}; frame size must not change within a video"
                    )
                count += 1
        if not count:
            raise VideoError(f"{self.path}: the video stream has no frames")
        self.num_frames, self.size = count, shape
        self._frames: Iterator[np.ndarray] | None = None
        self._kept: list[np.ndarray] = []  # decoded frames [kept_from, kept_from + len)
        self._kept_from = 0

    def _open(self) -> av.container.InputContainer:
        try:
            container = av.open(str(self.path))
        except (av.FFmpegError, OSError) as err:
            raise VideoError(f"{self.path}: cannot open as a video ({err})") from err
        if not container.streams.video:
            container.close()
            raise VideoError(f"{self.path}: no video stream")
        container.streams.video[0].thread_type = "AUTO"
        return container

    def _decode(self, container: av.container.InputContainer) -> Iterator[av.VideoFrame]:
        try:
            yield from container.decode(video=0)
        except av.FFmpegError as err:
            raise VideoError(f"{self.path}: cannot decode the video ({err})") from err

    def _stream(self) -> Iterator[np.ndarray]:
        with self._open() as container:
            for frame in self._decode(container):
                yield frame.to_ndarray(format="rgb24")

    def __len__(self) -> int:
        return self.num_frames

    def __getitem__(self, index: slice) -> Tensor:
        if not isinstance(index, slice):
            raise TypeError("VideoFrames is sliced: frames[start:stop]")
        start, stop, step = index.indices(self.num_frames)
        if step != 1 or stop <= start:
            raise IndexError(f"need a non-empty slice with step 1, got {index}")
        if self._frames is None or start < self._kept_from:
            self.close()
            self._frames, self._kept, self._kept_from = self._stream(), [], 0
        if stop > self._kept_from + len(self._kept):  # decoding on: forget frames before start
            drop = min(start - self._kept_from, len(self._kept))
            del self._kept[:drop]
            self._kept_from += drop
        while self._kept_from + len(self._kept) < stop:
            frame = next(self._frames, None)
            if frame is None:
                raise VideoError(f"{self.path}: fewer frames than the {self.num_frames} counted")
            if self._kept_from + len(self._kept) >= start:
                self._kept.append(frame)
            else:
                self._kept_from += 1
        offset = start - self._kept_from
        return torch.stack([_to_tensor(f) for f in self._kept[offset : offset + stop - start]])

    def close(self) -> None:
        """Close the decoder (it is re-opened by the next slice)."""
        if self._frames is not None:
            self._frames.close()
            self._frames = None


class FrameFolder:
    """The image files of a folder, in file-name order, as a sequence sliced into
    ``[t, 3, H, W]`` float tensors. Every file's header is checked when the folder is opened
    (:func:`deblurzoo.data.frames.check_frame`), and all frames must share one size."""

    fps = None

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise VideoError(f"{self.path}: no such folder")
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
        if not self.files:
            raise VideoError(
                f"{self.path}: no frames (image files {', '.join(FRAME_SUFFIXES)}) in the folder"
            )
        sizes = {file: check_frame(file).size for file in self.files}
        self.size = sizes[self.files[0]]
        for file, size in sizes.items():
            if size != self.size:
                raise VideoError(
                    f"{file}: frame is {size[0]}×{size[1]}, but {self.files[0].name} is "
                    f"{self.size[0]}×{self.size[1]}; all frames of a folder must share one size"
                )
        self.num_frames = len(self.files)

    def __len__(self) -> int:
        return self.num_frames

    def __getitem__(self, index: slice) -> Tensor:
        return torch.stack([read_frame(file) for file in self.files[index]])

    def close(self) -> None:
        """Nothing to close (files are read whole)."""


def open_frames(path: str | Path) -> VideoFrames | FrameFolder:
    """A video file or a folder of frames, checked (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        return FrameFolder(path)
    if not path.exists():
        raise VideoError(f"{path}: no such video file or frame folder")
    return VideoFrames(path)


def video_encoder(path: str | Path) -> str:
    """The FFmpeg encoder that writes ``path``, by its suffix (:data:`VIDEO_ENCODERS`); a
    :class:`VideoError` naming the suffixes that can be written for any other."""
    path = Path(path)
    encoder = VIDEO_ENCODERS.get(path.suffix.lower())
    if encoder is None:
        raise VideoError(
            f"{path}: cannot write {path.suffix or 'a file without suffix'}; "
            f"use one of {', '.join(VIDEO_ENCODERS)}"
        )
    return encoder


class VideoWriter:
    """Writes ``[3, H, W]`` frames in ``[0, 1]`` to a video file at ``fps``, 8-bit RGB encoded
    by the suffix's encoder (:data:`VIDEO_ENCODERS`); ``crf`` is H.264's quality (0 lossless,
    18 visually lossless, 23 FFmpeg's default). H.264 is written in 4:2:0 chroma (yuv420p) at
    ``encoded_size``: ``size`` rounded up to even sides, the last row or column repeated. Use as
    a context manager."""

    def __init__(self, path: str | Path, fps: Fraction, size: tuple[int, int], crf: int = 18):
        self.path = Path(path)
        encoder = video_encoder(self.path)
        if not fps or fps <= 0:
            raise VideoError(f"{self.path}: frame rate must be positive, got {fps}")
        self.size = tuple(size)
        even = encoder != "gif"
        self.encoded_size = tuple(side + side % 2 if even else side for side in self.size)
        height, width = self.encoded_size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), "w")
        self.stream = self.container.add_stream(encoder, rate=Fraction(fps))
        self.stream.width, self.stream.height = width, height
        if encoder == "gif":
            self.stream.pix_fmt = "rgb8"
        else:
            self.stream.pix_fmt = "yuv420p"
            self.stream.options = {"crf": str(crf)}

    def write(self, frame: Tensor) -> None:
        if tuple(frame.shape) != (3, *self.size):
            raise ValueError(
                f"{self.path}: expected a frame of shape (3, {self.size[0]}, {self.size[1]}), "
                f"got {tuple(frame.shape)}"
            )
        rgb = frame.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
        pad_h, pad_w = (e - s for e, s in zip(self.encoded_size, self.size, strict=True))
        if pad_h or pad_w:
            rgb = F.pad(rgb[None], (0, pad_w, 0, pad_h), mode="replicate")[0]
        image = av.VideoFrame.from_ndarray(rgb.permute(1, 2, 0).cpu().numpy(), format="rgb24")
        self.container.mux(self.stream.encode(image))

    def close(self) -> None:
        self.container.mux(self.stream.encode())  # flush the encoder
        self.container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SideBySideWriter:
    """Writes pairs of ``[3, H, W]`` frames side by side (``left | right``, ``[3, H, 2W]``) as
    one video (:class:`VideoWriter`), each half labelled in its top-left corner: ``labels`` in
    PIL's default font, white on a shaded box. Use as a context manager."""

    def __init__(
        self,
        path: str | Path,
        fps: Fraction,
        size: tuple[int, int],
        labels: tuple[str, str],
        crf: int = 18,
    ):
        height, width = size
        self.width = width
        self.writer = VideoWriter(path, fps, (height, 2 * width), crf)
        self.labels = [_text_mask(text) for text in labels]

    def write(self, left: Tensor, right: Tensor) -> None:
        frame = torch.cat([left.detach().float().cpu(), right.detach().float().cpu()], dim=-1)
        for x, mask in zip((0, self.width), self.labels, strict=True):
            _stamp(frame[:, :, x : x + self.width], mask)
        self.writer.write(frame)

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> SideBySideWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text_mask(text: str) -> Tensor:
    """``text`` in PIL's default font as a ``[h, w]`` coverage mask in ``[0, 1]``, with
    :data:`LABEL_PADDING` around it: the label's box."""
    font = ImageFont.load_default()
    _, _, right, bottom = font.getbbox(text)
    image = Image.new("L", (right + 2 * LABEL_PADDING, bottom + 2 * LABEL_PADDING))
    ImageDraw.Draw(image).text((LABEL_PADDING, LABEL_PADDING), text, fill=255, font=font)
    return torch.from_numpy(np.asarray(image).copy()).float().div_(255.0)


def _stamp(frame: Tensor, mask: Tensor) -> None:
    """Draw the label ``mask`` (:func:`_text_mask`) into the top-left corner of ``frame``
    ``[3, H, W]`` in place: its box shaded, its text white; cut at the frame's edges."""
    height, width = mask.shape
    region = frame[:, LABEL_MARGIN : LABEL_MARGIN + height, LABEL_MARGIN : LABEL_MARGIN + width]
    text = mask[: region.shape[1], : region.shape[2]]
    region.mul_(1 - LABEL_SHADE).mul_(1 - text).add_(text)
