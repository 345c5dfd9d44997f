"""deblurzoo-infer: clips written by the tests round-trip through the command with their frame
count, rate and size; checkpoints are loaded or refused with the reason named."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import pytest
import torch

from deblurzoo.data.frames import read_frame, write_frame
from deblurzoo.infer import infer
from deblurzoo.models import create_model, restore
from deblurzoo.models.loading import CheckpointError, load_net
from deblurzoo.train import train
from deblurzoo.utils.job import compose_config as compose
from deblurzoo.video_io import VideoError, VideoWriter, open_frames
from tests.conftest import TINY_MODEL
from tests.conftest import compose_config as compose_train

TINY_NET = {"channels": [4, 8, 12], "hidden": 4, "num_resblocks": 1}
MODEL_OVERRIDES = ["model=ifirnn_c1h1_small", *TINY_MODEL]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """``last.ckpt`` of a real training run of a tiny IFI-RNN (one batch)."""
    out = tmp_path_factory.mktemp("train")
    limits = ["+trainer.limit_train_batches=1", "+trainer.limit_val_batches=1"]
    cfg = compose_train(
        "train",
        out,
        data_dir,
        ["logger=none", "trainer.max_epochs=1", "callbacks.progress_bar=null", "test=false",
         *limits, *TINY_MODEL],
    )  # fmt: skip
    train(cfg)
    return out / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def clip() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(9, 3, 32, 48)


def _write_video(path: Path, clip: torch.Tensor, fps: Fraction) -> Path:
    with VideoWriter(path, fps, clip.shape[-2:], crf=0) as writer:
        for frame in clip:
            writer.write(frame)
    return path


def _config(tmp_path: Path, *overrides: str):
    out = tmp_path / "out"
    return compose("infer", [f"paths.log_dir={tmp_path / 'logs'}", *overrides], out)


def test_the_command_restores_a_video_it_was_given(tmp_path, checkpoint, clip) -> None:
    video = _write_video(tmp_path / "clip.mp4", clip, Fraction(24))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "deblurzoo.infer", f"input={video}",
               f"ckpt_path={checkpoint}", f"output_dir={out}", f"hydra.run.dir={out}",
               "side_by_side=true", "chunk_len=4", "chunk_overlap=3", "lookahead=1"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    restored = open_frames(out / "clip_restored.mp4")
    assert (len(restored), restored.fps, restored.size) == (9, Fraction(24), (32, 48))
    pair = open_frames(out / "clip_side_by_side.mp4")
    assert (len(pair), pair.size) == (9, (32, 96))
    pngs = sorted((out / "frames").glob("*.png"))
    assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(9)]
    net = load_net(checkpoint)
    with torch.no_grad():
        direct = restore(net, open_frames(video)[:][None])[0].clamp(0, 1)
    written = torch.stack([read_frame(p) for p in pngs])
    assert (written - direct).abs().max() <= 1 / 255  # 8-bit PNGs of the chunked restoration


def test_gif_input_keeps_its_rate_and_frame_count(tmp_path, checkpoint, clip) -> None:
    gif = _write_video(tmp_path / "clip.gif", clip[:5], Fraction(25))
    written = infer(
        _config(tmp_path, f"input={gif}", f"ckpt_path={checkpoint}", "save_frames=false")
    )
    restored = open_frames(written["video"])
    assert (written["frames"], len(restored), restored.fps) == (5, 5, Fraction(25))
    assert not (tmp_path / "out" / "frames").exists()


def test_an_odd_sized_gif_gives_videos_every_player_decodes(tmp_path, checkpoint) -> None:
    gif = resources.files("skimage.data") / "no_time_for_that_tiny.gif"  # 24 frames of 25×14
    written = infer(
        _config(tmp_path, f"input={gif}", f"ckpt_path={checkpoint}", "side_by_side=true",
                "save_frames=false")
    )  # fmt: skip
    for key, width in (("video", 14), ("side_by_side", 28)):
        with av.open(str(written[key])) as container:
            stream = container.streams.video[0]
            encoded = stream.codec_context.pix_fmt, stream.width, stream.height
            assert encoded == ("yuv420p", width, 26)  # 25 rows padded to 26, not 4:4:4


def test_a_frame_folder_keeps_its_file_names(tmp_path, checkpoint, clip) -> None:
    for i, frame in enumerate(clip[:4]):
        write_frame(tmp_path / "in" / f"img_{10 + i}.png", frame)
    written = infer(
        _config(tmp_path, f"input={tmp_path / 'in'}", f"ckpt_path={checkpoint}", "video=mov")
    )
    assert sorted(p.name for p in written["frames_dir"].iterdir()) == [
        f"img_{10 + i}.png" for i in range(4)
    ]
    assert open_frames(written["video"]).fps == Fraction(30)  # a folder has no rate of its own


def test_a_bare_state_dict_needs_and_takes_a_model_config(tmp_path, clip) -> None:
    video = _write_video(tmp_path / "clip.mp4", clip[:3], Fraction(10))
    net = create_model("ifirnn_c1h1", **TINY_NET, residual=True)
    torch.save(net.state_dict(), tmp_path / "net.pth")
    args = [f"input={video}", f"ckpt_path={tmp_path / 'net.pth'}", "video=null"]
    with pytest.raises(CheckpointError, match="stores no model config; name the model"):
        infer(_config(tmp_path, *args))
    written = infer(_config(tmp_path, *args, *MODEL_OVERRIDES, "eval.self_ensemble=4"))
    assert written["frames"] == 3
    plain = torch.stack([read_frame(p) for p in sorted(written["frames_dir"].iterdir())])
    options = ["fast=false", "tile=16", "tile_overlap=0", "tile_batch=2"]
    tiled = infer(_config(tmp_path, *args, *MODEL_OVERRIDES, "eval.self_ensemble=4", *options))
    with_options = torch.stack([read_frame(p) for p in sorted(tiled["frames_dir"].iterdir())])
    assert (with_options - plain).abs().mean() < 2 / 255  # 16-pixel tiles: small seams only


def test_a_checkpoint_of_another_model_is_refused_with_the_difference(tmp_path, checkpoint):
    args = [f"input={tmp_path}", f"ckpt_path={checkpoint}", "model=ifirnn_c1h1_small"]
    write_frame(tmp_path / "a.png", torch.rand(3, 8, 8))
    with pytest.raises(CheckpointError, match=r"does not match model 'ifirnn_c1h1': .*shape"):
        infer(_config(tmp_path, *args))


def test_missing_or_unreadable_inputs_fail_before_any_work(tmp_path, checkpoint) -> None:
    write_frame(tmp_path / "frames" / "a.png", torch.rand(3, 8, 8))
    frames, ckpt = f"input={tmp_path / 'frames'}", f"ckpt_path={checkpoint}"

    def run(*overrides: str) -> None:
        infer(_config(tmp_path, *overrides))

    with pytest.raises(FileNotFoundError, match="nowhere.ckpt"):
        run(frames, "ckpt_path=/nowhere.ckpt")
    (tmp_path / "junk.mov").write_bytes(b"\0" * 100)
    with pytest.raises(VideoError, match="junk.mov: cannot open as a video"):
        run(f"input={tmp_path / 'junk.mov'}", ckpt)
    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.ckpt: not a PyTorch checkpoint"):
        run(frames, f"ckpt_path={tmp_path / 'junk.ckpt'}")
    with pytest.raises(VideoError, match="video='avi': choose one of mp4, mov, mkv, gif"):
        run(frames, ckpt, "video=avi")
    with pytest.raises(ValueError, match=r"need 3 <= overlap < chunk_len"):
        run(frames, ckpt, "chunk_overlap=1", "lookahead=3")
    with pytest.raises(ValueError, match="precision=fp16 needs a CUDA device"):
        run(frames, ckpt, "device=cpu", "precision=fp16")
    assert not (tmp_path / "out").exists()  # nothing was written
