"""``deblurzoo-infer``: restore a video file or a folder of frames with a trained checkpoint.

Writes the restored frames as PNG, the restored video at the input's frame rate and, on request,
a side-by-side video (input | restored, labelled) into the run directory (``conf/infer.yaml``)::

    deblurzoo-infer input=clip.mp4 ckpt_path=logs/train/runs/<date>/checkpoints/last.ckpt
    deblurzoo-infer input=frames/ ckpt_path=weights.pth model=memdeblur tile=[512,512] \\
        device=cuda precision=bf16 eval.self_ensemble=8 side_by_side=true

The command is :func:`infer`, which names the outputs and passes the config's options to
:func:`deblur_video`, the same job as one Python call with the same defaults::

    deblurzoo.deblur_video("clip.mp4", "weights.safetensors", "clip_deblurred.mp4")

Memory is bounded whatever the video's length and frame size: frames are decoded as chunks need
them (:mod:`deblurzoo.video_io`), restored chunk by chunk and, with ``tile``, tile by tile
(:func:`deblurzoo.restoration.restore_frames`), and written as they come.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from deblurzoo.chunking import plan_chunks
from deblurzoo.data.frames import write_frame
from deblurzoo.ensemble import SelfEnsemble, check_temporal_reverse, transform_set
from deblurzoo.errors import ConfigError
from deblurzoo.fast import check_compile
from deblurzoo.models import VideoNet
from deblurzoo.models.loading import CheckpointError, read_checkpoint, rebuild_net
from deblurzoo.restoration import restore_frames
from deblurzoo.tiling import Tiling, effective_tile
from deblurzoo.utils.checkpoints import resolve_ckpt_path
from deblurzoo.video_io import (
    VIDEO_ENCODERS,
    FrameFolder,
    SideBySideWriter,
    VideoError,
    VideoWriter,
    open_frames,
    video_encoder,
)

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
#: Frame rate of videos written from a frame folder when ``fps`` is not set.
FOLDER_FPS = Fraction(30)
#: The keys of ``conf/infer.yaml`` that ``deblurzoo-infer`` passes to :func:`deblur_video` as
#: they are (tests/test_deblur_video.py checks that their defaults are the function's).
OPTIONS = (
    "fps", "crf", "chunk_len", "chunk_overlap", "lookahead", "pad_ends", "tile", "tile_overlap",
    "tile_batch", "device", "precision", "fast", "compile", "progress",
)  # fmt: skip


def select_device(name: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU; a CUDA device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name}: no CUDA device is available (use device=cpu)")
    return device


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``precision`` (``None`` for fp32) on ``device``."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision={precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError("precision=fp16 needs a CUDA device; use bf16 or fp32 on the CPU")
    return PRECISIONS[precision]


def build_net(
    weights: str | Path,
    model: str | Mapping[str, Any] | None = None,
    self_ensemble: int = 1,
    temporal_reverse: bool = False,
    *,
    ensemble_prefix: str = "",
) -> tuple[VideoNet, str]:
    """The net of the checkpoint or weights file ``weights`` and its registered name: rebuilt
    from the model config stored in the file or from ``model`` (a registered name, with its
    default options, or a config ``{"name": ..., **options}``), with the file's weights;
    wrapped in a self-ensemble of ``self_ensemble`` transforms (and ``temporal_reverse``) when
    that is on. Errors name those two options as ``ensemble_prefix`` + name."""
    checkpoint = read_checkpoint(weights)
    config = {"name": model} if isinstance(model, str) else model
    net = rebuild_net(checkpoint, config)
    name = (config or checkpoint.config)["name"]
    if not isinstance(net, VideoNet):
        raise CheckpointError(
            f"{checkpoint.path}: {type(net).__name__} is not a video net (forward(blur) on clips "
            "[B, T, 3, H, W]); deblurzoo-infer restores videos with video nets only"
        )
    size = transform_set(self_ensemble, f"{ensemble_prefix}self_ensemble")
    reverse = check_temporal_reverse(
        temporal_reverse, tuple(net.border_frames), f"{ensemble_prefix}temporal_reverse"
    )
    return (SelfEnsemble(net, len(size), reverse) if len(size) > 1 or reverse else net), name


def _tiling(
    tile: int | Sequence[int] | None, overlap: int, batch: int, net: VideoNet
) -> Tiling | None:
    if tile is None:
        return None
    tiling = Tiling((tile, tile) if isinstance(tile, int) else tuple(tile), overlap, batch)
    effective_tile(tiling, net.spatial_multiple)  # refuse a tile the net cannot take, up front
    return tiling


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("restoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} frames/s"),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def deblur_video(
    source: str | Path,
    weights: str | Path,
    output: str | Path | None,
    *,
    side_by_side: str | Path | None = None,
    frames_dir: str | Path | None = None,
    model: str | Mapping[str, Any] | None = None,
    fps: float | str | Fraction | None = None,
    crf: int = 18,
    chunk_len: int | None = 25,
    chunk_overlap: int = 8,
    lookahead: int = 2,
    pad_ends: bool = True,
    tile: int | Sequence[int] | None = None,
    tile_overlap: int = 32,
    tile_batch: int = 1,
    device: str = "auto",
    precision: str = "fp32",
    fast: bool = True,
    compile: bool = False,
    self_ensemble: int = 1,
    temporal_reverse: bool = False,
    ensemble_prefix: str = "",
    progress: bool = True,
) -> dict[str, Any]:
    """Restore the video file or frame folder ``source`` with the net of ``weights`` (a
    Lightning checkpoint of the zoo, a ``deblurzoo-convert`` weights file, or a bare state dict
    with ``model``) and write the restored video to ``output`` (``.mp4``, ``.mov``, ``.mkv``,
    ``.gif``; ``None``: none)::

        deblurzoo.deblur_video("clip.mp4", "weights.safetensors", "clip_deblurred.mp4")

    This is what ``deblurzoo-infer`` runs, with the same defaults (``conf/infer.yaml``, whose
    comments explain each option; ``self_ensemble`` and ``temporal_reverse`` are its
    ``eval.*``, which it passes as ``ensemble_prefix``, for errors to name them by). Optionally
    also ``side_by_side``, a video of the input beside the restored frames, each half labelled,
    and ``frames_dir``, the restored frames as PNG (named as the frames of a folder, else
    ``000000.png`` on). ``fps`` defaults to the input's (30 for a frame folder). Every input
    is checked (options, input, weights, tiles, chunks) before anything is restored or
    written. Returns what was written: ``frames`` (their count), ``fps``, ``size``
    (``(H, W)``) and the paths (``video``, ``side_by_side``, ``frames_dir``) of those written.
    """
    check_compile(fast, compile)
    dev = select_device(device)
    dtype = autocast_dtype(precision, dev)
    given = {"video": output, "side_by_side": side_by_side, "frames_dir": frames_dir}
    outputs = {key: Path(path) for key, path in given.items() if path is not None}
    for key in outputs.keys() & {"video", "side_by_side"}:
        video_encoder(outputs[key])
    frames = open_frames(source)
    with ExitStack() as stack:
        stack.callback(frames.close)
        net, name = build_net(
            weights, model, self_ensemble, temporal_reverse, ensemble_prefix=ensemble_prefix
        )
        net = net.to(dev)
        tiling = _tiling(tile, tile_overlap, tile_batch, net)
        first, last = net.border_frames  # refuse chunks the net cannot use, up front:
        padded = len(frames) + (first + last if pad_ends else 0)
        plan_chunks(padded, chunk_len, chunk_overlap, (first, last), lookahead)
        rate = Fraction(str(fps)) if fps is not None else frames.fps
        if rate is None:
            rate = FOLDER_FPS
            log.info(
                "%s: a frame folder has no frame rate; videos are written at %s fps", source, rate
            )
        written: dict[str, Any] = {"frames": 0, "fps": rate, "size": frames.size, **outputs}
        restored = restore_frames(
            net, frames, chunk_len, chunk_overlap, lookahead=lookahead, tiling=tiling,
            autocast=dtype, pad_ends=pad_ends, fast=fast, compile=compile,
        )  # fmt: skip
        video = pair = None
        if "video" in outputs:
            video = stack.enter_context(VideoWriter(outputs["video"], rate, frames.size, crf))
        if "side_by_side" in outputs:
            labels = ("input", name)
            pair = stack.enter_context(
                SideBySideWriter(outputs["side_by_side"], rate, frames.size, labels, crf)
            )
        if "frames_dir" in outputs:
            stems = (
                [file.stem for file in frames.files]
                if isinstance(frames, FrameFolder)
                else [f"{i:06d}" for i in range(len(frames))]
            )
        bar = stack.enter_context(_progress(progress))
        task = bar.add_task("restore", total=len(frames), rate="-")
        start = time.perf_counter()
        for index, frame in restored:
            frame = frame.cpu()
            if video is not None:
                video.write(frame)
            if pair is not None:  # the input frame is still held by the reader: no new decode
                pair.write(frames[index : index + 1][0], frame)
            if "frames_dir" in outputs:
                write_frame(outputs["frames_dir"] / f"{stems[index]}.png", frame)
            written["frames"] += 1
            speed = written["frames"] / (time.perf_counter() - start)
            bar.update(task, advance=1, rate=f"{speed:.2f}")
    paths = ", ".join(str(path) for path in outputs.values()) or "nothing written"
    log.info("restored %d frames of %s with %s: %s", written["frames"], source, name, paths)
    return written


def infer(cfg: DictConfig) -> dict[str, Any]:
    """``deblurzoo-infer``: :func:`deblur_video` of ``cfg.input`` with the options of ``cfg``
    (``conf/infer.yaml``), writing into ``cfg.output_dir``; returns what was written."""
    if cfg.video is not None and f".{cfg.video}" not in VIDEO_ENCODERS:
        formats = ", ".join(suffix[1:] for suffix in VIDEO_ENCODERS)
        raise VideoError(f"video={cfg.video!r}: choose one of {formats} (or null: no video)")
    out, name = Path(cfg.output_dir), Path(cfg.input).stem
    video = out / f"{name}_restored.{cfg.video}" if cfg.video is not None else None
    pair = out / f"{name}_side_by_side.{cfg.video}" if video and cfg.side_by_side else None
    model = OmegaConf.to_container(cfg.model.net, resolve=True) if cfg.get("model") else None
    return deblur_video(
        cfg.input,
        resolve_ckpt_path(cfg.ckpt_path, Path(cfg.paths.log_dir) / "train"),
        video,
        side_by_side=pair,
        frames_dir=out / "frames" if cfg.save_frames else None,
        model=model,
        self_ensemble=cfg.eval.self_ensemble,
        temporal_reverse=cfg.eval.temporal_reverse,
        ensemble_prefix="eval.",
        **{key: cfg[key] for key in OPTIONS},
    )


def main(cfg: DictConfig) -> None:
    infer(cfg)


if __name__ == "__main__":  # python -m deblurzoo.infer
    from deblurzoo import commands

    commands.infer()
