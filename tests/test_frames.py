"""Reading, checking and writing single frames: values, colour policy, bit depth, corrupt files."""

from __future__ import annotations

import logging
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurzoo.data.frames import FrameInfo, check_frame, inspect_frame, read_frame, write_frame
from deblurzoo.data.sequence import DatasetError

H, W = 8, 12


def _pixels(channels: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (H, W, channels) if channels > 1 else (H, W)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def _save(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path)
    return path


def _write_png16_rgb(path: Path, array: np.ndarray) -> Path:
    """A 48-bit RGB PNG written chunk by chunk (PIL cannot write one)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    height, width, _ = array.shape
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in array)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def _named(path: Path) -> str:
    return re.escape(str(path))


def _as_uint8(frame: torch.Tensor) -> torch.Tensor:
    return (frame * 255).round().to(torch.uint8)


def _chw(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels).permute(2, 0, 1)


def test_read_png_is_exact(tmp_path: Path) -> None:
    pixels = _pixels()
    frame = read_frame(_save(tmp_path / "f.png", pixels))
    assert frame.dtype == torch.float32 and frame.shape == (3, H, W)
    assert torch.equal(_as_uint8(frame), _chw(pixels))


def test_read_jpeg_is_close(tmp_path: Path) -> None:
    pixels = np.full((H, W, 3), (200, 40, 90), dtype=np.uint8)
    frame = read_frame(_save(tmp_path / "f.JPG", pixels))
    assert frame.shape == (3, H, W)
    assert (frame * 255 - torch.tensor([200.0, 40.0, 90.0])[:, None, None]).abs().max() < 4


def test_inspect_reads_header(tmp_path: Path) -> None:
    info = inspect_frame(_save(tmp_path / "f.png", _pixels()))
    assert info == FrameInfo(size=(H, W), mode="RGB", bit_depth=8)


@pytest.mark.parametrize("size", [(4, 6), (16, 20), (H, W)])
def test_resize_gives_requested_size(tmp_path: Path, size: tuple[int, int]) -> None:
    frame = read_frame(_save(tmp_path / "f.png", _pixels()), size=size)
    assert frame.shape == (3, *size)
    assert 0.0 <= frame.min() and frame.max() <= 1.0


def test_resize_keeps_flat_colour(tmp_path: Path) -> None:
    pixels = np.full((H, W, 3), 77, dtype=np.uint8)
    frame = read_frame(_save(tmp_path / "f.png", pixels), size=(3, 5))
    assert torch.all((frame * 255).round() == 77)


def test_grayscale_is_replicated(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gray = _pixels(channels=1)
    path = _save(tmp_path / "gray.png", gray)
    with caplog.at_level(logging.WARNING, logger="deblurzoo.data.frames"):
        assert check_frame(path).mode == "L"
    assert "grayscale" in caplog.text and str(tmp_path) in caplog.text
    frame = read_frame(path)
    expected = torch.from_numpy(gray).expand(3, H, W)
    assert torch.equal(_as_uint8(frame), expected)


def test_rgba_drops_alpha(tmp_path: Path) -> None:
    rgba = _pixels(channels=4)
    frame = read_frame(_save(tmp_path / "rgba.png", rgba))
    assert torch.equal(_as_uint8(frame), _chw(rgba[..., :3]))


@pytest.mark.parametrize(
    ("name", "mode", "kind"),
    [
        ("gray.png", "L", "grayscale"),
        ("gray.jpg", "L", "grayscale"),
        ("bilevel.png", "1", "grayscale"),
        ("rgba.png", "RGBA", "alpha"),
        ("gray_alpha.png", "LA", "alpha"),
        ("palette.png", "P", "palette"),
    ],
)
def test_non_rgb_rejected_without_convert(tmp_path: Path, name: str, mode: str, kind: str) -> None:
    path = _save(tmp_path / name, _pixels(), mode)
    with pytest.raises(DatasetError, match=f"{_named(path)}: .*{kind}"):
        check_frame(path, convert=False)
    assert check_frame(path, convert=True).size == (H, W)
    assert read_frame(path).shape == (3, H, W)


def test_palette_with_transparency_is_alpha(tmp_path: Path) -> None:
    image = Image.fromarray(_pixels()).convert("P")
    image.save(tmp_path / "p.png", transparency=0)
    with pytest.raises(DatasetError, match="palette with alpha"):
        check_frame(tmp_path / "p.png", convert=False)


def test_gray16_rejected(tmp_path: Path) -> None:
    path = tmp_path / "gray16.png"
    Image.fromarray(np.arange(H * W, dtype=np.uint16).reshape(H, W) * 600).save(path)
    assert inspect_frame(path).bit_depth == 16
    for call in (check_frame, read_frame):
        with pytest.raises(DatasetError, match=f"{_named(path)}: 16-bit .*convert .*8-bit"):
            call(path)


def test_rgb16_rejected_although_pil_says_rgb(tmp_path: Path) -> None:
    path = _write_png16_rgb(tmp_path / "rgb16.png", np.full((H, W, 3), 40000, dtype=np.uint16))
    with Image.open(path) as image:
        assert image.mode == "RGB"  # PIL reduces 48-bit PNGs to 8 bits silently
    assert inspect_frame(path) == FrameInfo(size=(H, W), mode="RGB", bit_depth=16)
    for call in (check_frame, read_frame):
        with pytest.raises(DatasetError, match=f"{_named(path)}: 16-bit"):
            call(path)


def test_unsupported_mode_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (W, H)).save(path)
    with pytest.raises(DatasetError, match=f"{_named(path)}: unsupported colour mode 'CMYK'"):
        check_frame(path)


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng(0).bytes(200))
    for call in (inspect_frame, check_frame, read_frame):
        with pytest.raises(DatasetError, match=f"{_named(path)}: cannot read image"):
            call(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=_named(tmp_path / "absent.png")):
        read_frame(tmp_path / "absent.png")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_file_is_refused_at_index_time_and_on_read(tmp_path: Path, suffix: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    path = _save(tmp_path / f"whole{suffix}", noise)  # large enough for the header to survive
    assert check_frame(path).size == (64, 64)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert inspect_frame(path).size == (64, 64)  # the header alone still looks fine
    with pytest.raises(DatasetError, match=f"{_named(path)}: truncated"):
        check_frame(path)
    with pytest.raises(DatasetError, match=f"{_named(path)}: cannot decode image"):
        read_frame(path)


def test_write_frame_round_trips(tmp_path: Path) -> None:
    pixels = _chw(_pixels())
    path = tmp_path / "out" / "deeper" / "f.png"
    write_frame(path, pixels.float() / 255)
    assert torch.equal(_as_uint8(read_frame(path)), pixels)
    assert inspect_frame(path) == FrameInfo(size=(H, W), mode="RGB", bit_depth=8)
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.png"]


def test_write_frame_rounds_and_clamps(tmp_path: Path) -> None:
    frame = torch.tensor([0.4 / 255, 0.6 / 255, 1.5, -0.2]).repeat(3, 2, 1)  # [3, 2, 4]
    write_frame(tmp_path / "f.png", frame)
    written = np.asarray(Image.open(tmp_path / "f.png"))
    assert written[0, :, 0].tolist() == [0, 1, 255, 0]


def test_write_frame_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "f.png"
    write_frame(path, torch.zeros(3, H, W))
    write_frame(path, torch.ones(3, H, W))
    assert torch.all(read_frame(path) == 1)
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]


@pytest.mark.parametrize(
    ("name", "shape", "message"),
    [("f.jpg", (3, H, W), "PNG"), ("f.png", (H, W), r"\[3, H, W\]"), ("f.png", (4, H, W), "shape")],
)
def test_write_frame_rejects_bad_input(
    tmp_path: Path, name: str, shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_frame(tmp_path / name, torch.zeros(shape))
    assert not any(tmp_path.iterdir())
