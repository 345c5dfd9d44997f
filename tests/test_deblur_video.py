"""deblurzoo.deblur_video, the one-call Python API: a tiny clip restored end to end with a tiny
weights file, the same frames as the net gives, and the defaults of ``deblurzoo-infer``."""

from __future__ import annotations

import inspect
from fractions import Fraction
from pathlib import Path

import av
import pytest
import torch

import deblurzoo
from deblurzoo.data.frames import read_frame
from deblurzoo.infer import OPTIONS, deblur_video
from deblurzoo.models import create_model, restore
from deblurzoo.models.loading import CheckpointError, save_weights
from deblurzoo.utils.job import compose_config
from deblurzoo.video_io import VideoError, VideoWriter, open_frames

TINY = {"name": "ifirnn_c1h1", "channels": [4, 8, 12], "hidden": 4, "num_resblocks": 1}


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights file (as ``deblurzoo-convert`` writes) of a tiny IFI-RNN, random weights."""
    torch.manual_seed(0)
    net = create_model(**TINY)
    return save_weights(
        tmp_path_factory.mktemp("weights") / "tiny.safetensors", net.state_dict(), TINY
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seven frames of 21×30 (odd: the written video is padded) at 12 fps, losslessly coded."""
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    with VideoWriter(path, Fraction(12), (21, 30), crf=0) as writer:
        for frame in torch.rand(7, 3, 21, 30):
            writer.write(frame)
    return path


def test_one_call_restores_a_video_as_the_net_does(tmp_path, weights, clip) -> None:
    written = deblurzoo.deblur_video(
        clip, weights, output=tmp_path / "out.mp4", side_by_side=tmp_path / "pair.mp4",
        frames_dir=tmp_path / "frames", chunk_len=4, chunk_overlap=3, lookahead=1,
        progress=False,
    )  # fmt: skip
    assert written["frames"] == 7 and written["fps"] == Fraction(12)
    restored = open_frames(tmp_path / "out.mp4")
    assert (len(restored), restored.fps, restored.size) == (7, Fraction(12), (22, 30))
    with av.open(str(tmp_path / "pair.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.pix_fmt, stream.width, stream.height) == ("yuv420p", 60, 22)
    net = deblurzoo.load_model(weights)
    with torch.no_grad():
        direct = restore(net, open_frames(clip)[:][None])[0].clamp(0, 1)
    pngs = sorted((tmp_path / "frames").glob("*.png"))
    assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(7)]
    frames = torch.stack([read_frame(p) for p in pngs])
    assert (frames - direct).abs().max() <= 1 / 255  # 8-bit PNGs of the chunked restoration


def test_the_defaults_are_those_of_deblurzoo_infer(tmp_path) -> None:
    cfg = compose_config("infer", [], tmp_path)
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(deblur_video).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    wanted = {key: cfg[key] for key in OPTIONS}
    wanted |= {key: cfg.eval[key] for key in ("self_ensemble", "temporal_reverse")}
    assert {key: defaults[key] for key in wanted} == wanted
    assert cfg.video == "mp4"  # deblurzoo-infer's default output is deblur_video's H.264


def test_bad_inputs_are_refused_before_anything_is_written(tmp_path, weights, clip) -> None:
    out = tmp_path / "out" / "clip.mp4"
    with pytest.raises(VideoError, match=r"clip.avi: cannot write .avi"):
        deblur_video(clip, weights, tmp_path / "out" / "clip.avi")
    with pytest.raises(CheckpointError, match="nowhere.safetensors: no such checkpoint"):
        deblur_video(clip, tmp_path / "nowhere.safetensors", out)
    with pytest.raises(CheckpointError, match="does not match model 'ifirnn_c1h1'"):
        deblur_video(clip, weights, out, model="ifirnn_c1h1")  # the default widths differ
    with pytest.raises(ValueError, match="self_ensemble=3 is not a self-ensemble size"):
        deblur_video(clip, weights, out, self_ensemble=3)
    assert not (tmp_path / "out").exists()
