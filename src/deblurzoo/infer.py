"""``deblurzoo-infer``: restore a video file or a folder of frames with a trained checkpoint.

Writes the restored frames as PNG, the restored video at the input's frame rate and, on request,
a side-by-side video (input | restored) into the run directory (``conf/infer.yaml``)::

    deblurzoo-infer input=clip.mp4 ckpt_path=logs/train/runs/<date>/checkpoints/last.ckpt
    deblurzoo-infer input=frames/ ckpt_path=weights.pth model=memdeblur tile=[512,512] \\
        device=cuda precision=bf16 eval.self_ensemble=8 side_by_side=true

Memory is bounded whatever the video's length and frame size: frames are decoded as chunks need
them (:mod:`deblurzoo.video_io`), restored chunk by chunk and, with ``tile``, tile by tile
(:func:`deblurzoo.restoration.restore_frames`), and written as they come.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from deblurzoo.chunking import plan_chunks
from deblurzoo.data.frames import write_frame
from deblurzoo.ensemble import SelfEnsemble, check_temporal_reverse, transform_set
from deblurzoo.fast import fast_net
from deblurzoo.models import VideoNet
from deblurzoo.models.loading import CheckpointError, load_net
from deblurzoo.restoration import restore_frames
from deblurzoo.tiling import Tiling, effective_tile
from deblurzoo.utils.checkpoints import resolve_ckpt_path
from deblurzoo.utils.job import CONFIG_DIR
from deblurzoo.video_io import VIDEO_ENCODERS, FrameFolder, VideoError, VideoWriter, open_frames

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
#: Frame rate of videos written from a frame folder when ``fps`` is not set.
FOLDER_FPS = Fraction(30)


def select_device(name: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU; a CUDA device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name}: no CUDA device is available (use device=cpu)")
    return device


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``precision`` (``None`` for fp32) on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("precision=fp16 needs a CUDA device; use bf16 or fp32 on the CPU")
    return PRECISIONS[precision]


def build_net(cfg: DictConfig) -> VideoNet:
    """The net of ``cfg.ckpt_path``: rebuilt from the model config stored in the checkpoint or
    from the ``model=`` config's ``net``, with the checkpoint's weights; wrapped in the eval
    config's self-ensemble when that is on."""
    ckpt_path = resolve_ckpt_path(cfg.ckpt_path, Path(cfg.paths.log_dir) / "train")
    config = OmegaConf.to_container(cfg.model.net, resolve=True) if cfg.get("model") else None
    net = load_net(ckpt_path, config)
    if not isinstance(net, VideoNet):
        raise CheckpointError(
            f"{ckpt_path}: {type(net).__name__} is not a video net (forward(blur) on clips "
            "[B, T, 3, H, W]); deblurzoo-infer restores videos with video nets only"
        )
    size = transform_set(cfg.eval.self_ensemble, "eval.self_ensemble")
    reverse = check_temporal_reverse(
        cfg.eval.temporal_reverse, tuple(net.border_frames), "eval.temporal_reverse"
    )
    return SelfEnsemble(net, len(size), reverse) if len(size) > 1 or reverse else net


def _tiling(cfg: DictConfig, net: VideoNet) -> Tiling | None:
    if cfg.tile is None:
        return None
    size = (cfg.tile, cfg.tile) if isinstance(cfg.tile, int) else tuple(cfg.tile)
    tiling = Tiling(size, cfg.tile_overlap, cfg.tile_batch)
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


def infer(cfg: DictConfig) -> dict[str, Any]:
    """Restore ``cfg.input`` (see the module docstring); returns what was written. Every input
    is checked (options, input file, checkpoint, tiles) before the first frame is restored."""
    device = select_device(cfg.device)
    dtype = autocast_dtype(cfg.precision, device)
    if cfg.video is not None and f".{cfg.video}" not in VIDEO_ENCODERS:
        formats = ", ".join(suffix[1:] for suffix in VIDEO_ENCODERS)
        raise VideoError(f"video={cfg.video!r}: choose one of {formats} (or null: no video)")
    frames = open_frames(cfg.input)
    net = build_net(cfg).to(device)
    if cfg.fast and cfg.compile:
        net = fast_net(net, compile=True)
    tiling = _tiling(cfg, net)
    first, last = net.border_frames  # refuse chunks the net cannot use, up front:
    padded = len(frames) + (first + last if cfg.pad_ends else 0)
    plan_chunks(padded, cfg.chunk_len, cfg.chunk_overlap, (first, last), cfg.lookahead)
    out, name = Path(cfg.output_dir), Path(cfg.input).stem
    fps = Fraction(str(cfg.fps)) if cfg.fps is not None else frames.fps
    if fps is None:
        fps = FOLDER_FPS
        log.info("%s: a frame folder has no frame rate; videos are written at %s fps", name, fps)
    height, width = frames.size
    stems = (
        [file.stem for file in frames.files]
        if isinstance(frames, FrameFolder)
        else [f"{i:06d}" for i in range(len(frames))]
    )
    written: dict[str, Any] = {"frames": 0, "fps": fps, "size": (height, width)}
    restored = restore_frames(
        net, frames, cfg.chunk_len, cfg.chunk_overlap, lookahead=cfg.lookahead, tiling=tiling,
        autocast=dtype, pad_ends=cfg.pad_ends, fast=cfg.fast,
    )  # fmt: skip
    with ExitStack() as stack:
        stack.callback(frames.close)
        video = pair = None
        if cfg.video is not None:
            written["video"] = out / f"{name}_restored.{cfg.video}"
            video = stack.enter_context(VideoWriter(written["video"], fps, frames.size, cfg.crf))
            if cfg.side_by_side:
                written["side_by_side"] = out / f"{name}_side_by_side.{cfg.video}"
                pair = stack.enter_context(
                    VideoWriter(written["side_by_side"], fps, (height, 2 * width), cfg.crf)
                )
        if cfg.save_frames:
            written["frames_dir"] = out / "frames"
        progress = stack.enter_context(_progress(cfg.progress))
        task = progress.add_task("restore", total=len(frames), rate="-")
        start = time.perf_counter()
        for index, frame in restored:
            frame = frame.cpu()
            if video is not None:
                video.write(frame)
            if pair is not None:  # the input frame is still held by the reader: no new decode
                pair.write(torch.cat([frames[index : index + 1][0], frame], dim=-1))
            if cfg.save_frames:
                write_frame(written["frames_dir"] / f"{stems[index]}.png", frame)
            written["frames"] += 1
            rate = written["frames"] / (time.perf_counter() - start)
            progress.update(task, advance=1, rate=f"{rate:.2f}")
    log.info("restored %d frames of %s into %s", written["frames"], cfg.input, out)
    return written


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="infer")
def main(cfg: DictConfig) -> None:
    infer(cfg)


if __name__ == "__main__":
    main()
