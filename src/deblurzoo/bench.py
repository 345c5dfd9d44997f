"""``deblurzoo-bench``: inference speed and peak memory of zoo models, as a Markdown table.

Every measurement runs in a fresh worker process that builds the model (random weights, eval
mode, no gradients) and restores a clip of random frames once, either **whole** (the clip made
up front and fed in one forward, as the papers evaluate) or **chunked**
(:func:`deblurzoo.inference.restore_frames` over frames made as they are sliced, the way frames
read from disk arrive: deblurzoo's evaluation and inference, bounded by the chunk whatever the
clip length). Peak memory is how far the run raises the process's peak resident memory (CPU) or
CUDA's peak allocation (GPU) above its level once the model (and a whole clip) exist; time is
wall time per input frame::

    deblurzoo-bench memdeblur memdeblur_slim --frames 25 100 --size 256 256
    deblurzoo-bench memdeblur --net memory_length=null     # keyword arguments of the model
    deblurzoo-bench memdeblur --write docs/benchmarks.md       # the table in the docs
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf
from torch import Tensor

from deblurzoo.inference import restore_frames
from deblurzoo.models import create_model, restore

#: Runtimes the papers report, for comparison (other hardware and resolution).
PUBLISHED = {
    "memdeblur": "0.191 s/frame, RTX A5000, 720×1280 (Table 3)",
    "memdeblur_slim": "0.079 s/frame, RTX A5000, 720×1280 (Table 3)",
}


def _resident_mib(field: str = "VmRSS") -> float:
    """The process's current (``VmRSS``) or peak (``VmHWM``) resident memory (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**10
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_resident() -> None:
    """Restart the peak resident memory (VmHWM) from the current level (Linux ≥ 4.0), so a
    peak reached while the model was built (e.g. a whole ResNet before its first stage is kept)
    does not count."""
    Path("/proc/self/clear_refs").write_text("5")


class RandomFrames:
    """A clip ``[T, 3, H, W]`` of random frames made when sliced, as frames read from disk are:
    chunked inference then never holds more of the clip than the chunk it restores."""

    def __init__(self, frames: int, size: tuple[int, int], device: torch.device) -> None:
        self.frames, self.size, self.device = frames, tuple(size), device

    def __len__(self) -> int:
        return self.frames

    def __getitem__(self, index: slice) -> Tensor:
        start, stop, _ = index.indices(self.frames)
        generator = torch.Generator().manual_seed(start)
        return torch.rand(stop - start, 3, *self.size, generator=generator).to(self.device)


def measure(
    model: str,
    frames: int,
    size: tuple[int, int],
    mode: str,
    chunk_len: int,
    overlap: int,
    net_kwargs: dict | None = None,
) -> dict[str, float]:
    """Peak memory rise (MiB) and ms per frame of one inference run, in this process."""
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    torch.manual_seed(0)
    net = create_model(model, **(net_kwargs or {})).to(device).eval()
    clip = RandomFrames(frames, size, device)
    if mode == "whole":
        clip = clip[:]
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2**20
    else:
        _reset_peak_resident()
        before = _resident_mib()
    start = time.perf_counter()
    with torch.no_grad():
        if mode == "whole":
            restore(net, clip[None])
        else:
            for _ in restore_frames(net, clip, chunk_len, overlap):
                pass
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = _resident_mib("VmHWM")
    elapsed = time.perf_counter() - start
    return {"peak_mib": peak - before, "ms_per_frame": 1e3 * elapsed / frames}


def _run_worker(job: dict) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "deblurzoo.bench", "--worker", json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"benchmark worker {job} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _machine() -> str:
    cpu = platform.processor() or "cpu"
    info = Path("/proc/cpuinfo")
    if info.is_file():
        names = [ln.split(":", 1)[1].strip() for ln in info.read_text().splitlines()
                 if ln.startswith("model name")]  # fmt: skip
        cpu = names[0] if names else cpu
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__})"
    return f"{cpu}, {torch.get_num_threads()} threads (torch {torch.__version__})"


def document(rows: list[dict], args: argparse.Namespace, command: str) -> str:
    height, width = args.size
    lines = [
        "| model | frames | whole clip: peak MiB | ms / frame | "
        f"chunked ({args.chunk_len}, overlap {args.overlap}): peak MiB | ms / frame | published |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['model']}`{r['options']} | {r['frames']} | {r['whole']['peak_mib']:.0f} | "
            f"{r['whole']['ms_per_frame']:.0f} | {r['chunked']['peak_mib']:.0f} | "
            f"{r['chunked']['ms_per_frame']:.0f} | {PUBLISHED.get(r['model'], '')} |"
        )
    return f"""# Benchmarks

Generated by `{command}` (src/deblurzoo/bench.py); do not edit by hand.
Inference at {height}×{width} on {_machine()}, random weights, eval mode, no gradients.
Each cell is one run in a fresh process: the rise of its peak resident memory above its level
once the model exists, and wall time per input frame. *Whole* makes the clip up front and feeds it
in one forward, as the papers evaluate: every frame's input, features and output are held at once,
so memory grows with the clip. *Chunked* restores it {args.chunk_len} frames at a time with
{args.overlap} frames of warm-up overlap from frames made as they are needed (as frames read from
disk arrive), the way `deblurzoo-eval` and inference work: memory is bounded by the chunk. The
chunked time per frame includes the overlap's extra frames. Published runtimes are on other
hardware.

{chr(10).join(lines)}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["memdeblur", "memdeblur_slim"])
    parser.add_argument("--frames", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--size", type=int, nargs=2, default=[256, 256], metavar=("H", "W"))
    parser.add_argument("--chunk-len", type=int, default=25)
    parser.add_argument("--overlap", type=int, default=5)
    parser.add_argument(
        "--net", nargs="*", default=[], metavar="KEY=VALUE", help="model keyword arguments"
    )
    parser.add_argument("--write", type=Path, help="write the Markdown document to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(**json.loads(args.worker))))
        return
    net_kwargs = OmegaConf.to_container(OmegaConf.from_dotlist(args.net))
    options = " " + " ".join(args.net) if args.net else ""
    rows = []
    for model in args.models:
        create_model(model, **net_kwargs)  # a bad name or argument fails before any worker
        for frames in args.frames:
            job = dict(model=model, frames=frames, size=args.size, chunk_len=args.chunk_len,
                       overlap=args.overlap, net_kwargs=net_kwargs)  # fmt: skip
            row = {"model": model, "options": options, "frames": frames}
            for mode in ("whole", "chunked"):
                row[mode] = _run_worker({**job, "mode": mode})
                print(model, frames, mode, row[mode], flush=True)
            rows.append(row)
    command = "deblurzoo-bench " + " ".join(argv if argv is not None else sys.argv[1:])
    text = document(rows, args, command)
    if args.write:
        args.write.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
