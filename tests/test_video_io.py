"""Videos and frame folders (deblurzoo.video_io): clips written by the tests themselves, read
back with their frame count, rate and size; slicing as chunked restoration does; clear errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
import torch

from deblurzoo.data.frames import write_frame
from deblurzoo.video_io import (
    FrameFolder,
    SideBySideWriter,
    VideoError,
    VideoFrames,
    VideoWriter,
    open_frames,
)


def _ramp_clip(frames: int, height: int, width: int) -> torch.Tensor:
    """Frames of smooth content that differ from frame to frame (easy on any codec)."""
    y = torch.linspace(0, 1, height)[:, None].expand(height, width)
    x = torch.linspace(0, 1, width)[None, :].expand(height, width)
    return torch.stack(
        [torch.stack([(x + t / frames) % 1, y, 0.5 * (x + y)]) for t in range(frames)]
    )


def _write(path: Path, clip: torch.Tensor, fps: Fraction, crf: int = 0) -> None:
    with VideoWriter(path, fps, clip.shape[-2:], crf=crf) as writer:
        for frame in clip:
            writer.write(frame)


@pytest.mark.parametrize(
    ("name", "size", "fps"),
    [("clip.mp4", (32, 48), Fraction(24)), ("odd.mov", (33, 47), Fraction(30000, 1001)),
     ("clip.gif", (32, 48), Fraction(25))],
)  # fmt: skip
def test_a_written_video_reads_back_with_its_frames_rate_and_size(tmp_path, name, size, fps):
    clip = _ramp_clip(7, *size)
    _write(tmp_path / name, clip, fps)
    video = open_frames(tmp_path / name)
    assert isinstance(video, VideoFrames)
    even = size if name.endswith(".gif") else tuple(side + side % 2 for side in size)
    assert (len(video), video.fps, video.size) == (7, fps, even)
    decoded = video[:][..., : size[0], : size[1]]  # H.264 sides are padded to even
    assert decoded.shape == clip.shape and decoded.dtype == torch.float32
    tolerance = 0.1 if name.endswith(".gif") else 0.02  # GIF: a fixed 3-3-2 palette
    assert (decoded - clip).abs().mean() < tolerance


def test_slices_decode_forwards_and_reopen_for_earlier_frames(tmp_path) -> None:
    clip = _ramp_clip(12, 16, 16)
    _write(tmp_path / "clip.mp4", clip, Fraction(10))
    video = VideoFrames(tmp_path / "clip.mp4")
    whole = video[:]
    for start, stop in [(0, 5), (3, 8), (4, 5), (6, 12), (2, 4)]:  # overlap, inside, back
        assert torch.equal(video[start:stop], whole[start:stop])
    video.close()


def test_a_frame_folder_reads_in_file_name_order(tmp_path) -> None:
    clip = _ramp_clip(3, 8, 10)
    for i, frame in enumerate(clip):
        write_frame(tmp_path / f"f{i:02d}.png", frame)
    (tmp_path / "notes.txt").write_text("not a frame")
    folder = open_frames(tmp_path)
    assert isinstance(folder, FrameFolder)
    assert (len(folder), folder.fps, folder.size) == (3, None, (8, 10))
    assert [f.name for f in folder.files] == ["f00.png", "f01.png", "f02.png"]
    assert torch.allclose(folder[1:3], clip[1:3], atol=0.5 / 255)


def test_a_folder_of_frames_of_different_sizes_is_refused(tmp_path) -> None:
    write_frame(tmp_path / "a.png", torch.rand(3, 8, 10))
    write_frame(tmp_path / "b.png", torch.rand(3, 8, 12))
    with pytest.raises(VideoError, match=r"b.png: frame is 8×12, but a.png is 8×10"):
        open_frames(tmp_path)


def test_unreadable_inputs_are_named(tmp_path) -> None:
    with pytest.raises(VideoError, match="nowhere.mp4: no such video file or frame folder"):
        open_frames(tmp_path / "nowhere.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video" * 50)
    with pytest.raises(VideoError, match="junk.mp4: cannot open as a video"):
        open_frames(tmp_path / "junk.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="empty: no frames"):
        open_frames(tmp_path / "empty")


def test_a_truncated_video_is_refused_when_opened(tmp_path) -> None:
    _write(tmp_path / "clip.mp4", _ramp_clip(8, 32, 48), Fraction(24), crf=18)
    data = (tmp_path / "clip.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="cut.mp4"):
        open_frames(tmp_path / "cut.mp4")


def test_unsupported_output_formats_and_frames_are_refused(tmp_path) -> None:
    with pytest.raises(VideoError, match=r"clip.avi: cannot write .avi; use one of .mp4"):
        VideoWriter(tmp_path / "clip.avi", Fraction(24), (8, 8))
    with VideoWriter(tmp_path / "clip.mp4", Fraction(24), (8, 8)) as writer:
        with pytest.raises(ValueError, match=r"shape \(3, 8, 8\), got \(3, 8, 9\)"):
            writer.write(torch.rand(3, 8, 9))
        writer.write(torch.rand(3, 8, 8))


def _encoded(path: Path) -> tuple[str, int, int, torch.Tensor]:
    """The pixel format, width and height of ``path``'s video stream as FFmpeg reads them, and
    its first frame ``[3, H, W]``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        pixels = torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1)
        return stream.codec_context.pix_fmt, stream.width, stream.height, pixels.float() / 255


@pytest.mark.parametrize("name", ["odd.mp4", "odd.mov", "odd.mkv"])
def test_odd_sizes_are_padded_to_even_sides_in_4_2_0_chroma(tmp_path, name) -> None:
    clip = _ramp_clip(3, 33, 47)
    _write(tmp_path / name, clip, Fraction(24))
    pix_fmt, width, height, first = _encoded(tmp_path / name)
    assert (pix_fmt, width, height) == ("yuv420p", 48, 34)  # what every player decodes
    assert (first[:, :33, :47] - clip[0]).abs().mean() < 0.02
    assert (first[:, 33] - first[:, 32]).abs().mean() < 0.02  # the last row repeated
    assert (first[:, :, 47] - first[:, :, 46]).abs().mean() < 0.02  # and the last column


def test_a_side_by_side_video_labels_its_two_halves(tmp_path) -> None:
    gray = torch.full((3, 33, 47), 0.5)
    with SideBySideWriter(tmp_path / "pair.mp4", Fraction(24), (33, 47), ("input", "net")) as pair:
        pair.write(gray, gray)
    pix_fmt, width, height, frame = _encoded(tmp_path / "pair.mp4")
    assert (pix_fmt, width, height) == ("yuv420p", 94, 34)
    for left in (0, 47):
        corner, rest = frame[:, :20, left : left + 25], frame[:, 22:, left + 30 : left + 47]
        assert (corner - 0.5).abs().max() > 0.3  # a label: white text on a dark box
        assert (rest - 0.5).abs().max() < 0.02  # nothing drawn elsewhere
    assert not torch.equal(frame[:, :20, :25], frame[:, :20, 47:72])  # two different labels
