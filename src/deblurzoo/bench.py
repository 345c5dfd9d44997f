"""``deblurzoo-bench``: how fast zoo models restore and train, and how much memory inference
takes, as a Markdown document (``make bench`` writes ``docs/benchmarks.md``).

Every measurement runs in a fresh worker process (a model's allocations, caches and threads
never leak into the next cell). The options are ``conf/bench.yaml``'s; the sections
(``sections``, all by default):

* ``speed`` — inference ms per restored frame on the CPU at ``size`` (256×256): random weights,
  eval mode, no gradients, a clip of ``speed_frames`` frames plus the net's border frames,
  one warm-up pass on a one-frame clip, then the median of ``repeats`` passes. With a GPU
  also at 720×1280 in fp32 and under bf16 autocast (``gpu_frames`` frames), next to the
  runtimes the papers report.
* ``fast`` — eager against the fast path (:mod:`deblurzoo.fast`) of ``fast_models``, each
  family's main model, at ``fast_sizes`` and ``fast_precisions`` (fp32, and bf16 autocast),
  timed in one process with the passes alternating; the GMAC/s each pass sustains, against
  the machine's peak for a 64-channel 3×3 convolution, says how far the fp32 path is from
  the processor's limit.
* ``memory`` — peak memory of inference as the clip grows (``frames``, 25/50/100) for the
  recurrent models: **whole** (the clip made up front and fed in one forward, as the papers
  evaluate) against **chunked** (:func:`deblurzoo.restoration.restore_frames` over frames made
  as they are sliced, the way frames read from disk arrive), the rise of the worker's peak
  resident memory (CPU, with glibc's ``mmap`` threshold fixed: :data:`MEMORY_WORKER_ENV`;
  CUDA's peak allocation on a GPU) above its level once the model (and a whole clip) exist.
* ``train`` — training throughput of the default recipe (``conf/train.yaml``: IFI-RNN C1H1
  small on the synthetic set, batch 8 of 4-frame 64² clips, Adam, Charbonnier) through the
  Lightning task with the default callbacks, against a bare PyTorch loop over the same
  DataModule, net, loss and optimizer; and the task's training step eager
  (``model.fast=false``), fast (the default), under bf16 autocast and (``compile=true``)
  compiled.
* ``data`` — clips/s the training DataLoader delivers with 0, 1 and 2 workers, against the
  clips/s the training step consumes.
* ``deblur`` (not in the default) — seconds per iteration of the kernel-space deblurring by
  optimisation at ``size``, eager against the fast path (``DeblurConfig.fast``) and the fast
  path with the image prior in bf16 (``DeblurConfig.precision``), over ``deblur_iters``
  iterations per run.

    deblurzoo-bench write=docs/benchmarks.md             # the quick default (make bench)
    deblurzoo-bench full=true write=docs/benchmarks.md   # every recurrent model
    deblurzoo-bench models=[memdeblur] sections=[memory] +net.memory_length=null
    deblurzoo-bench sections=[deblur] write=docs/benchmarks_deblur.md
"""

from __future__ import annotations

import copy
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from torch import Tensor
from torch.utils.flop_counter import FlopCounterMode

from deblurzoo.errors import ConfigError
from deblurzoo.fast import fast_net, no_grad
from deblurzoo.models import VideoNet, create_model, list_models, model_spec, restore
from deblurzoo.restoration import restore_frames

SECTIONS = ("speed", "fast", "memory", "train", "data", "deblur")
TRAIN_OVERRIDES = ["logger=csv", "data.pin_memory=false", "data.num_workers=0"]
#: Memory workers run with glibc's malloc serving every block of 64 KiB or more by ``mmap`` and
#: returning it to the system when freed (a fixed threshold also stops glibc from raising it as
#: blocks are freed). Freed tensors then leave the resident set at once, so the peak follows the
#: live tensors and repeats from run to run; with the default, freed heap memory stays resident,
#: is counted in the level the rise starts from, and the rise varies by a third between runs.
MEMORY_WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": str(64 * 2**10)}


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


def _published_runtime(model: str) -> str:
    """The runtime the paper of ``model`` reports (its spec's), or nothing."""
    published = model_spec(model).published.get(model)
    return published.runtime if published else ""


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


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
    device = _device()
    torch.manual_seed(0)
    net = create_model(model, **(net_kwargs or {})).to(device).eval()
    clip = RandomFrames(frames, size, device)
    if mode == "whole":
        clip = clip[:]
    if device.type == "cuda":
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
    _sync(device)
    elapsed = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = _resident_mib("VmHWM")
    return {"peak_mib": peak - before, "ms_per_frame": 1e3 * elapsed / frames}


def measure_speed(
    model: str,
    frames: int,
    size: tuple[int, int],
    repeats: int,
    device: str = "cpu",
    precision: str = "fp32",
    net_kwargs: dict | None = None,
) -> dict[str, float]:
    """Median ms per restored frame over ``repeats`` passes after a one-frame warm-up pass."""
    device = torch.device(device)
    torch.manual_seed(0)
    forward = create_model(model, **(net_kwargs or {})).to(device).eval()
    first, last = forward.border_frames
    clip = torch.rand(1, frames + first + last, 3, *size, device=device)
    dtype = {"fp32": None, "bf16": torch.bfloat16}[precision]
    autocast = torch.autocast(device.type, dtype) if dtype else nullcontext()
    times = []
    with torch.no_grad(), autocast:
        restore(forward, clip[:, : 1 + first + last])  # warm-up
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            restore(forward, clip)
            _sync(device)
            times.append(1e3 * (time.perf_counter() - start) / frames)
    return {"ms_per_frame": statistics.median(times), "runs": times}


def _workload(net: torch.nn.Module, part: str, size, frames: int, device) -> tuple:
    """What one pass of ``net`` computes, as a function of the net (so the eager and the fast
    copy run the same inputs), and the frames it restores: a clip of ``frames`` frames plus the
    net's border frames, or for the blur-kernel-space encoder (``part``) one encoding
    (``encode``) or one blurring with a kernel (``blur``) of a sharp/blurry pair."""
    if part:
        sharp, blurry = torch.rand(2, 1, 3, *size, device=device)
        if part == "encode":
            return (lambda n: n.encode(sharp, blurry)), 1
        with torch.no_grad():
            kernel = net.encode(sharp, blurry)
        return (lambda n: n.blur(sharp, kernel)), 1
    first, last = net.border_frames
    clip = torch.rand(1, frames + first + last, 3, *size, device=device)
    return (lambda n: restore(n, clip)), frames


def measure_fast(
    model: str,
    size: tuple[int, int],
    frames: int,
    repeats: int,
    device: str = "cpu",
    precision: str = "fp32",
    compile: bool = False,
    net_kwargs: dict | None = None,
) -> dict[str, float]:
    """Eager against fast-path (:mod:`deblurzoo.fast`) ms per restored frame of ``model``
    (``kernel_space:encode``, ``kernel_space:blur`` for the encoder's two halves) at
    ``precision``, below fp32 the eager fp32 pass too, and with ``compile`` the compiled fast
    path as well, measured in this one process with the passes alternating, so all see the
    same load; the first fast (and compiled: compilation included) pass's time; the largest
    difference between the eager and the fast outputs at ``precision`` and the lowest PSNR of
    a fast output against the eager fp32 one; the GMACs per restored frame
    (convolutions and matrix products, ``torch.utils.flop_counter``); and on a GPU the peak
    memory of each."""
    device = torch.device(device)
    name, _, part = model.partition(":")
    torch.manual_seed(0)
    eager = create_model(name, **(net_kwargs or {})).to(device).eval()
    run, restored = _workload(eager, part, size, frames, device)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        reference = run(eager).float()  # eager fp32: warm-up, the outputs' reference, the MACs
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    fast = fast_net(copy.deepcopy(eager), autocast=dtype)
    compiled = None  # torch.compile wraps a module's calls, not the encoder's halves (methods)
    if compile and not part:
        compiled = fast_net(copy.deepcopy(eager), compile=True, autocast=dtype)

    def timed(net, fast_path: bool, dtype: torch.dtype | None) -> tuple[float, Tensor]:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        _sync(device)
        start = time.perf_counter()
        with no_grad(fast_path), torch.autocast(device.type, dtype, enabled=dtype is not None):
            out = run(net)
        _sync(device)
        return time.perf_counter() - start, out.float()

    first = {"fast": timed(fast, True, dtype)}
    if compiled is not None:
        first["compiled"] = timed(compiled, True, dtype)
    _, eager_out = timed(eager, False, dtype)  # at the same precision as the fast outputs
    passes = [("eager", eager, False, dtype), ("fast", fast, True, dtype)]
    if compiled is not None:
        passes.append(("compiled", compiled, True, dtype))
    if dtype is not None:
        passes.append(("eager_fp32", eager, False, None))
    times: dict[str, list[float]] = {label: [] for label, *_ in passes}
    peaks: dict[str, float] = {}
    for _ in range(repeats):
        for label, net, fast_path, pass_dtype in passes:
            elapsed, _ = timed(net, fast_path, pass_dtype)
            times[label].append(1e3 * elapsed / restored)
            if device.type == "cuda":
                peaks[label] = torch.cuda.max_memory_allocated() / 2**20
    outs = [out for _, out in first.values()]
    mse = max(torch.mean((out.clamp(0, 1) - reference.clamp(0, 1)) ** 2).item() for out in outs)
    return {
        **{f"{label}_ms": statistics.median(runs) for label, runs in times.items()},
        **{f"first_{label}_s": elapsed for label, (elapsed, _) in first.items()},
        "max_diff": max((out - eager_out).abs().max().item() for out in outs),
        "psnr_vs_fp32": 10 * math.log10(1 / mse) if mse > 0 else math.inf,
        "gmacs": counter.get_total_flops() / 2e9 / restored,
        **{f"{label}_peak_mib": peak for label, peak in peaks.items()},
    }


#: The map of :func:`measure_peak`'s convolution, per device type: on a GPU a 128×128 map is
#: over before the launch overhead is, so it takes a frame of the GPU table's size.
PEAK_MAPS = {"cpu": (128, 128), "cuda": (720, 1280)}


def measure_peak(device: str = "cpu", repeats: int = 20) -> dict[str, float]:
    """GMAC/s of a 64-to-64-channel 3×3 convolution on a map of :data:`PEAK_MAPS`
    (channels_last, eval, no gradients) in fp32 and under bf16 autocast, its fastest of
    ``repeats`` calls: about the most the processor sustains for the convolutions the zoo's nets
    are made of, the yardstick of the fast-path table."""
    device = torch.device(device)
    layer = torch.nn.Conv2d(64, 64, 3, padding=1).to(device, memory_format=torch.channels_last)
    height, width = PEAK_MAPS[device.type]
    x = torch.rand(1, 64, height, width, device=device)
    macs = 64 * 64 * 9 * height * width
    peaks = {}
    for precision, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        times = []
        with torch.inference_mode(), torch.autocast(device.type, dtype, enabled=dtype is not None):
            layer(x)
            for _ in range(repeats):
                _sync(device)
                start = time.perf_counter()
                layer(x)
                _sync(device)
                times.append(time.perf_counter() - start)
        peaks[precision] = macs / min(times) / 1e9
    return peaks


def _train_setup(output_dir: str, overrides: list[str] = ()):
    """The default training recipe's DataModule and task (``conf/train.yaml``)."""
    import hydra
    import lightning as L

    from deblurzoo.utils.job import compose_config

    cfg = compose_config("train", [*TRAIN_OVERRIDES, *overrides], output_dir)
    L.seed_everything(0, verbose=False)
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    return cfg, datamodule, hydra.utils.instantiate(cfg.model)


def measure_training(
    lightning: bool, steps: int, warmup: int, overrides: list[str] = ()
) -> dict[str, float]:
    """Frames/s of ``steps`` training steps after ``warmup`` steps, through the Lightning task
    (default trainer and callbacks: rich progress bar, LR monitor, checkpointing, CSV logging
    every 10 steps; no validation inside the window) or a bare PyTorch loop doing the same
    forward, loss, backward and Adam step on the same batches. ``overrides`` change the
    recipe (``callbacks.progress_bar=null``, ...)."""
    import hydra
    from lightning import Callback

    from deblurzoo.utils.instantiate import instantiate_callbacks, instantiate_loggers

    with tempfile.TemporaryDirectory() as output_dir:
        cfg, datamodule, task = _train_setup(output_dir, overrides)
        batch = cfg.data.batch_size
        frames_per_step = batch * cfg.data.clip_len
        marks: list[float] = []
        if lightning:

            class Clock(Callback):
                def on_train_batch_end(self, trainer, pl_module, outputs, b, batch_idx) -> None:
                    if batch_idx in (warmup - 1, warmup + steps - 1):
                        marks.append(time.perf_counter())

            callbacks = instantiate_callbacks(cfg.callbacks, with_logger=True) + [Clock()]
            trainer = hydra.utils.instantiate(
                cfg.trainer, callbacks=callbacks, logger=instantiate_loggers(cfg.logger),
                max_steps=warmup + steps, num_sanity_val_steps=0, limit_val_batches=0,
            )  # fmt: skip
            trainer.fit(task, datamodule=datamodule)
        else:
            net, loss_fn = task.net.train(), task.loss
            optimizer = task.optimizer(params=task.parameters())
            for step, data in enumerate(datamodule.train_dataloader()):
                loss = loss_fn(net(data["blur"]), task.target_frames(data["sharp"]))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if step in (warmup - 1, warmup + steps - 1):
                    marks.append(time.perf_counter())
                if len(marks) == 2:
                    break
    elapsed = marks[1] - marks[0]
    return {"frames_per_s": steps * frames_per_step / elapsed, "ms_per_step": 1e3 * elapsed / steps}


def measure_deblur(
    size: tuple[int, int],
    iters: int,
    repeats: int,
    net_kwargs: dict | None = None,
    config: dict | None = None,
) -> dict[str, float]:
    """Seconds per iteration of deblurring by optimisation
    (:func:`deblurzoo.kernel_space.deblur_frame`: a cold start of ``iters`` iterations without
    warm-up, building the priors included) of a random frame by a kernel-space model with random
    weights: eager (``fast=False``), the fast path, and the fast path with the image prior in
    bf16 (``precision="bf16"``), the runs alternating in this process after one warm-up run each
    (medians of ``repeats``); and the largest relative difference between the eager and fast
    loops' objectives over the first two iterates, and between the fp32 and bf16 loops' first
    objectives. ``config``: other :class:`~deblurzoo.kernel_space.DeblurConfig` fields."""
    from deblurzoo.kernel_space import DeblurConfig, deblur_frame

    torch.manual_seed(0)
    model = create_model("kernel_space", **(net_kwargs or {})).eval()
    loops = {
        "eager": {"fast": False},
        "fast": {"fast": True},
        "bf16": {"fast": True, "precision": "bf16"},
    }
    models = {loop: copy.deepcopy(model) for loop in loops}  # the fast path converts its model
    blurry = torch.rand(3, *size)
    times: dict[str, list[float]] = {loop: [] for loop in loops}
    first: dict[str, list[float]] = {}
    for _ in range(repeats + 1):
        for loop, settings in loops.items():
            deblur = DeblurConfig(**{**(config or {}), "warmup_iters": 0, **settings})
            torch.manual_seed(1)  # the same perturbations of the noise inputs
            start = time.perf_counter()
            result = deblur_frame(models[loop], blurry, deblur, num_iters=iters, progress=False)
            times[loop].append((time.perf_counter() - start) / iters)
            first[loop] = result.history["loss"][:2]
    pairs = zip(first["eager"], first["fast"], strict=True)
    return {
        **{f"{loop}_s": statistics.median(runs[1:]) for loop, runs in times.items()},
        "first_steps_rel_diff": max(abs(fast / eager - 1) for eager, fast in pairs),
        "bf16_first_rel_diff": abs(first["bf16"][0] / first["fast"][0] - 1),
    }


def measure_loading(workers: int, batches: int) -> dict[str, float]:
    """Clips/s the training DataLoader yields with ``workers`` workers (after its first batch,
    which includes starting them)."""
    with tempfile.TemporaryDirectory() as output_dir:
        cfg, datamodule, _ = _train_setup(output_dir)
        datamodule.num_workers = workers
        loader = iter(datamodule.train_dataloader())
        next(loader)
        start = time.perf_counter()
        for _ in range(batches):
            next(loader)
        elapsed = time.perf_counter() - start
    return {"clips_per_s": batches * cfg.data.batch_size / elapsed}


WORKERS = {
    "memory": measure,
    "speed": measure_speed,
    "fast": measure_fast,
    "peak": measure_peak,
    "train": measure_training,
    "data": measure_loading,
    "deblur": measure_deblur,
}


#: What a worker process runs, given one job as JSON (``{"kind": ..., **arguments}``).
WORKER = "import sys; from deblurzoo.bench import work; work(sys.argv[1])"


def work(job: str) -> None:
    """Run one measurement of :data:`WORKERS` and print its result as JSON."""
    arguments = json.loads(job)
    print(json.dumps(WORKERS[arguments.pop("kind")](**arguments)))


class WorkerError(RuntimeError):
    """A measurement's process failed; ``reason`` is the last line of its error output."""

    def __init__(self, kind: str, job: dict, stderr: str) -> None:
        super().__init__(f"benchmark worker {kind} {job} failed:\n{stderr[-2000:]}")
        self.reason = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")


def _run_worker(kind: str, **job) -> dict[str, float]:
    """Run one measurement in a fresh process, with an empty inductor cache of its own (what
    torch.compile takes is then a first compilation, whatever ran before); a
    :class:`WorkerError` if it fails."""
    env = {**os.environ, **(MEMORY_WORKER_ENV if kind == "memory" else {})}
    with tempfile.TemporaryDirectory(prefix="deblurzoo-bench-") as cache:
        result = subprocess.run(
            [sys.executable, "-c", WORKER, json.dumps({"kind": kind, **job})],
            capture_output=True,
            text=True,
            check=False,
            env={**env, "TORCHINDUCTOR_CACHE_DIR": cache},
        )
    if result.returncode:
        raise WorkerError(kind, job, result.stderr)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    print(kind, job, {k: v for k, v in out.items() if k != "runs"}, flush=True)
    return out


#: The CPU's bf16 instructions, named on the machine line because the fast-path table's bf16
#: column depends on them (oneDNN's fastest bf16 convolutions use AMX).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpu_info(cpuinfo: str) -> tuple[str | None, list[str]]:
    """The first model name in ``/proc/cpuinfo`` text and which :data:`BF16_CPU_FLAGS` the
    first processor lists."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, colon, value = line.partition(":")
        if colon:
            fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    return fields.get("model name"), [f for f in BF16_CPU_FLAGS if f in flags]


def _machine() -> str:
    cpu, bf16_flags = platform.processor() or "cpu", None
    info = Path("/proc/cpuinfo")
    if info.is_file():
        name, bf16_flags = _cpu_info(info.read_text())
        cpu = name or cpu
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    text = (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads (OMP_NUM_THREADS={threads}), "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}"
    )
    if bf16_flags is not None:
        text += f", bf16 flags: {', '.join(bf16_flags) or 'none'}"
    if torch.cuda.is_available():
        text += f"; GPU: {torch.cuda.get_device_name()}"
    return text


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _speed_section(args: SimpleNamespace, models: list[str]) -> str:
    height, width = args.size
    lines = [
        f"## Inference speed\n\nms per restored frame on the CPU at {height}×{width}: median of "
        f"{args.repeats} passes over a {args.speed_frames}-frame clip (plus the net's border "
        "frames) after a one-frame warm-up pass; random weights, eval mode, no gradients. "
        "Next to it, the runtime the paper reports (on a GPU at 720×1280, so not comparable "
        "in absolute terms: it places the model among the others).\n",
        "| model | CPU ms / frame | published |",
        "|---|---:|---|",
    ]
    for model in models:
        cell = _run_worker("speed", model=model, frames=args.speed_frames, size=args.size,
                           repeats=args.repeats, net_kwargs=args.net)  # fmt: skip
        lines.append(f"| `{model}` | {cell['ms_per_frame']:.0f} | {_published_runtime(model)} |")
    if not torch.cuda.is_available():
        lines.append(
            "\nNo GPU on this machine: the GPU table (720×1280, fp32 and bf16 autocast, next to "
            "the papers' runtimes) was skipped; it is written when `torch.cuda.is_available()`."
        )
        return "\n".join(lines)
    lines += [
        f"\nGPU at 720×1280, {args.gpu_frames}-frame clips, same protocol. The papers' runtimes "
        "are per frame of 100-frame videos at 720×1280 on an RTX A5000.\n",
        "| model | fp32 ms / frame | bf16 ms / frame | published |",
        "|---|---:|---:|---|",
    ]
    for model in models:
        cells = [
            _run_worker("speed", model=model, frames=args.gpu_frames, size=[720, 1280],
                        repeats=args.repeats, device="cuda", precision=precision,
                        net_kwargs=args.net)["ms_per_frame"]
            for precision in ("fp32", "bf16")
        ]  # fmt: skip
        lines.append(
            f"| `{model}` | {cells[0]:.1f} | {cells[1]:.1f} | {_published_runtime(model)} |"
        )
    return "\n".join(lines)


def _fast_section(args: SimpleNamespace, failed: list[str]) -> str:
    """Eager against the fast path, per model, frame size and precision, next to the
    machine's peak for a convolution (:func:`measure_peak`). A cell whose worker fails (a GPU
    out of memory, say) gets a row saying why, is added to ``failed``, and the table goes on:
    one failure does not cost the other cells of a run on a lent GPU."""
    gpu = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = "cuda" if gpu else "cpu"
    peak = _run_worker("peak", device=device)
    compiled = (
        " With `compile=true`, *compiled* is the fast path compiled by torch.compile "
        "(inductor; `compile=true` of the commands) and *compile s* its first pass, compilation "
        "included, from an empty inductor cache (not for the kernel-space encoder's halves, "
        "which are methods: torch.compile wraps a module's calls)."
        if args.compile
        else ""
    )
    lines = [
        f"## Fast path\n\nms per restored frame ({device.upper()}) of the eager net and of the "
        "fast path (`fast=true`: channels_last weights, inference_mode; "
        "src/deblurzoo/fast.py), measured in one process with the passes alternating (median "
        f"of {args.repeats}); ratio to eager in brackets.{compiled} Below fp32 the same "
        "process also times the eager fp32 pass: *÷ eager fp32* is the fast pass's time over "
        "it, what choosing that precision gains (`precision=bf16` of `deblurzoo-infer`). "
        "*First* is the first fast pass. *Max Δ*: the largest difference between the eager "
        "and a fast output at the same precision; *PSNR*: the lower of a fast output's "
        "against the eager fp32 one. *GMAC/s*: the multiply-accumulates of convolutions and "
        "matrix products each pass does per second (`torch.utils.flop_counter`). A 64-to-64-"
        f"channel 3×3 convolution on a {'×'.join(map(str, PEAK_MAPS[device]))} map, what these "
        "nets are mostly made of, runs at "
        f"{peak['fp32']:.0f} GMAC/s in fp32 and {peak['bf16']:.0f} under bf16 autocast on this "
        "machine (`measure_peak`). *Floor* is the eager pass's rate over that peak: the "
        "fast/eager ratio a pass would reach if all its multiply-accumulates ran at that rate "
        "and nothing else took time. Convolutions of other shapes can run a little faster than "
        "this yardstick, so a pass can end slightly below its floor, but no fast path at that "
        "precision gets far below it. On the CPU a 720×1280 pass restores one frame; on "
        f"a GPU a pass restores {args.gpu_frames} frames, next to the runtime the paper "
        "reports (per frame of 100-frame 720×1280 videos on an RTX A5000)."
        + (
            " On the GPU, *fp32* convolutions compute in TF32 where cuDNN allows it, PyTorch's "
            f"default (`torch.backends.cudnn.allow_tf32`: {torch.backends.cudnn.allow_tf32})."
            if gpu
            else ""
        )
        + "\n",
        "| model | size | precision | eager ms | fast ms |"
        + (" compiled ms | compile s |" if args.compile else "")
        + " floor | ÷ eager fp32 | first s | max Δ | PSNR dB | GMAC/s eager / fast |"
        + (" fast frames/s | eager / fast MiB | published |" if gpu else ""),
        "|---|---|---|---:|---:|"
        + ("---:|---:|" if args.compile else "")
        + "---:|---:|---:|---:|---:|---:|"
        + ("---:|---:|---|" if gpu else ""),
    ]
    for size in args.fast_sizes:
        frames = args.gpu_frames if gpu else (args.speed_frames if size[0] * size[1] < 2**18 else 1)
        for model in args.fast_models:
            for precision in args.fast_precisions:
                label = f"| `{model}` | {size[0]}×{size[1]} | {precision} |"
                try:
                    cell = _run_worker("fast", model=model, size=size, frames=frames,
                                       repeats=args.repeats, device=device, precision=precision,
                                       compile=args.compile)  # fmt: skip
                except WorkerError as error:
                    failed.append(f"{label} {error}")
                    lines.append(f"{label} failed: {error.reason.replace('|', '/')} |")
                    continue
                eager, fast = cell["eager_ms"], cell["fast_ms"]
                floor = 1e3 * cell["gmacs"] / eager / peak[precision]
                row = f"{label} {eager:.1f} | {fast:.1f} ({fast / eager:.2f}) | "
                if args.compile and "compiled_ms" in cell:
                    row += (
                        f"{cell['compiled_ms']:.1f} ({cell['compiled_ms'] / eager:.2f}) "
                        f"| {cell['first_compiled_s']:.1f} | "
                    )
                elif args.compile:
                    row += "— | — | "
                row += (
                    f"{floor:.2f} "
                    f"| {fast / cell.get('eager_fp32_ms', eager):.2f} "
                    f"| {cell['first_fast_s']:.1f} | {cell['max_diff']:.1e} "
                    f"| {cell['psnr_vs_fp32']:.1f} "
                    f"| {1e3 * cell['gmacs'] / eager:.0f} / {1e3 * cell['gmacs'] / fast:.0f} |"
                )
                if gpu:
                    row += (
                        f" {1e3 / fast:.1f} | {cell['eager_peak_mib']:.0f} / "
                        f"{cell['fast_peak_mib']:.0f} | {_published_runtime(model.split(':')[0])} |"
                    )
                lines.append(row)
    return "\n".join(lines)


def _memory_section(args: SimpleNamespace, models: list[str]) -> str:
    height, width = args.memory_size
    options = "".join(f" {key}={json.dumps(value)}" for key, value in args.net.items())
    threshold = " ".join(f"{k}={v}" for k, v in MEMORY_WORKER_ENV.items())
    lines = [
        f"## Inference memory against clip length\n\nRecurrent models at {height}×{width}. Each "
        "cell is one run in a fresh process: the rise of its peak resident memory above its "
        "level once the model exists, and wall time per input frame. The process's malloc "
        "returns every freed block of 64 KiB or more to the system at once "
        f"(`{threshold}`), so the peak follows the live tensors and repeats "
        "between runs; the page faults this costs make the times longer than the speed "
        "table's. *Whole* makes the clip up "
        "front and feeds it in one forward, as the papers evaluate: every frame's input, "
        "features and output are held at once, so memory grows with the clip. *Chunked* "
        f"restores it {args.chunk_len} frames at a time with {args.overlap} frames of warm-up "
        "overlap from frames made as they are needed (as frames read from disk arrive), the "
        "way `deblurzoo-eval` and `deblurzoo-infer` work: memory is bounded by the chunk, "
        "flat in the clip length. The chunked time per frame includes the overlap's extra "
        f"frames. *Rise* is the chunked peak's rise over the {args.frames[0]}-frame clip's.\n",
        "| model | frames | whole: peak MiB | ms / frame | "
        f"chunked ({args.chunk_len}, overlap {args.overlap}): peak MiB | ms / frame | rise |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in models:
        first = None
        for frames in args.frames:
            job = dict(model=model, frames=frames, size=args.memory_size)
            job.update(chunk_len=args.chunk_len, overlap=args.overlap, net_kwargs=args.net)
            whole = _run_worker("memory", **job, mode="whole")
            chunked = _run_worker("memory", **job, mode="chunked")
            if first is None:
                first = chunked["peak_mib"]
            rise = f"{chunked['peak_mib'] / first - 1:+.0%}" if first > 0 else ""
            lines.append(
                f"| `{model}`{options} | {frames} | {whole['peak_mib']:.0f} | "
                f"{whole['ms_per_frame']:.0f} | {chunked['peak_mib']:.0f} | "
                f"{chunked['ms_per_frame']:.0f} | {rise} |"
            )
    return "\n".join(lines)


EAGER_STEP, FAST_STEP = "eager (`model.fast=false`)", "fast (the default)"
#: The training steps of the fast-path table: label and the overrides of the default recipe.
TRAIN_STEPS = {
    EAGER_STEP: ["model.fast=false"],
    FAST_STEP: [],
    "fast, bf16 autocast (`trainer.precision=bf16-mixed`)": ["trainer.precision=bf16-mixed"],
}
#: With ``compile=true`` the table also has the compiled step.
COMPILED_STEP = {"fast, torch.compile (`model.compile=true`)": ["model.compile=true"]}


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def _training_sections(args: SimpleNamespace, sections: list[str]) -> str:
    with tempfile.TemporaryDirectory() as output_dir:
        cfg, _, _ = _train_setup(output_dir)
    batch, clip_len = cfg.data.batch_size, cfg.data.clip_len
    recipe = (
        f"`{cfg.model.net.name}` ({OmegaConf.to_container(cfg.model.net)}), batch {batch} of "
        f"{clip_len}-frame {cfg.data.crop_size}² clips from the synthetic set"
    )
    steps = {**TRAIN_STEPS, **(COMPILED_STEP if args.compile else {})}
    jobs = {"bare PyTorch": (False, [])}  # label: (through Lightning, overrides)
    if "train" in sections:
        jobs.update({label: (True, overrides) for label, overrides in steps.items()})
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in jobs}
    for _ in range(args.train_rounds if "train" in sections else 1):
        for label, (lightning, overrides) in jobs.items():  # alternating: the same load
            runs[label].append(
                _run_worker("train", lightning=lightning, steps=args.train_steps,
                            warmup=args.warmup_steps, overrides=overrides)
            )  # fmt: skip
    medians = {label: _median_run(label_runs) for label, label_runs in runs.items()}
    bare, lit = medians["bare PyTorch"], medians.get(FAST_STEP)
    parts = []
    if "train" in sections:
        overhead = 100 * (lit["ms_per_step"] / bare["ms_per_step"] - 1)
        protocol = (
            f"{args.train_steps} steps timed after {args.warmup_steps} warm-up steps (compilation "
            "included in those), data loaded in the main process (`data.num_workers=0`). Each "
            f"row is {args.train_rounds} runs, each a fresh process, the rows alternating; the "
            "table gives the medians."
        )
        table = "| {} | frames / s | ms / step | runs (ms / step) |\n|---|---:|---:|---|\n"

        def row(label: str, name: str, against: dict[str, float] | None = None) -> str:
            med = medians[label]
            ms = f"{med['ms_per_step']:.1f}"
            if against is not None:
                ms += f" ({against['ms_per_step'] / med['ms_per_step']:.2f}×)"
            timings = ", ".join(f"{r['ms_per_step']:.0f}" for r in runs[label])
            return f"| {name} | {med['frames_per_s']:.1f} | {ms} | {timings} |"

        eager = medians[EAGER_STEP]
        parts.append(
            f"## Training throughput: Lightning against a bare loop\n\nThe default recipe "
            f"(`deblurzoo-train`): {recipe}, Adam, Charbonnier loss, one process, {protocol} "
            "Lightning runs the task with the default trainer and callbacks (rich progress "
            "bar, LR monitor, checkpointing) and CSV logging every 10 steps; validation is "
            "outside the timed steps. The bare loop runs the same net (fast, the default), "
            "loss, optimizer and DataLoader.\n\n"
            + table.format("loop")
            + row(FAST_STEP, "Lightning task")
            + "\n"
            + row("bare PyTorch", "bare PyTorch")
            + f"\n\nLightning overhead: {overhead:+.1f}% time per step.\n\n"
            "## Training throughput: the fast path\n\nThe same recipe through the Lightning "
            "task, its training step eager, on the fast path (`model.fast`, the default: "
            "channels_last weights, src/deblurzoo/fast.py), and on the fast path under bf16 "
            "autocast (Lightning's `trainer.precision=bf16-mixed`: the weights and the "
            "optimizer stay fp32, the convolutions run in bf16 — a change of arithmetic, "
            "unlike the fast path's layout)"
            + (" or compiled (`model.compile=true`)" if args.compile else "")
            + f". {protocol} Speed-up over the eager step in brackets.\n\n"
            + table.format("training step")
            + "\n".join(row(label, label, eager) for label in steps)
        )
    if "data" in sections:
        consumed = bare["frames_per_s"] / clip_len
        rows = []
        for workers in (0, 1, 2):
            cell = _run_worker("data", workers=workers, batches=args.data_batches)
            rows.append(
                f"| {workers} | {cell['clips_per_s']:.0f} | {cell['clips_per_s'] / consumed:.1f} |"
            )
        parts.append(
            "## Data loading\n\nClips/s the training DataLoader of the default recipe yields "
            f"(decode PNGs, crop, augment, collate batches of {batch}), {args.data_batches} "
            "batches after the first, against the clips/s the training step above consumes "
            f"({consumed:.1f}, bare loop): a ratio above 1 means the loader is not the "
            "bottleneck.\n\n| workers | clips / s | ÷ consumed |\n|---:|---:|---:|\n"
            + "\n".join(rows)
        )
    return "\n\n".join(parts)


def _deblur_section(args: SimpleNamespace) -> str:
    height, width = args.size
    cell = _run_worker("deblur", size=args.size, iters=args.deblur_iters, repeats=args.repeats)
    eager, fast, bf16 = cell["eager_s"], cell["fast_s"], cell["bf16_s"]
    return (
        "## Deblurring by optimisation\n\nSeconds per iteration of the kernel-space deblurring "
        "loop (`deblurzoo.kernel_space.deblur_frame`, Tran et al. Sec. 2.4: both priors, the "
        "blur operator, the objective, the backward pass and both Adam steps) on a "
        f"{height}×{width} frame, eager (`DeblurConfig(fast=False)`) against the fast path "
        "(`fast=True`, the default: channels_last blur operator and priors, Adam's fused step) "
        'and the fast path with the image prior under bf16 autocast (`precision="bf16"`, a '
        "change of arithmetic; docs/kernel_space.md compares its results with fp32's). "
        f"A run is a cold start of {args.deblur_iters} iterations without warm-up (building "
        "the priors included), random weights, the default settings; the runs alternate in one "
        f"process, median of {args.repeats} after one warm-up run each. *Δ objective*: the "
        "largest relative difference between the eager and fast loops' objectives over the "
        "first two iterates (later ones drift apart, `DeblurConfig.fast`), and between the fp32 "
        "and bf16 loops' first objectives.\n\n"
        "| size | eager s / iteration | fast s / iteration | fast, bf16 image prior "
        "s / iteration | Δ objective fast / bf16 |\n"
        "|---|---:|---:|---:|---:|\n"
        f"| {height}×{width} | {eager:.2f} | {fast:.2f} ({fast / eager:.2f}) "
        f"| {bf16:.2f} ({bf16 / eager:.2f}) "
        f"| {cell['first_steps_rel_diff']:.1e} / {cell['bf16_first_rel_diff']:.1e} |\n\n"
        f"The released code's 5000 iterations per frame take {5000 * fast / 3600:.1f} h on the "
        f"fast path here, {5000 * bf16 / 3600:.1f} h with the image prior in bf16."
    )


def document(args: SimpleNamespace, command: str, sections: list[str], load: str) -> str:
    return f"""# Benchmarks

Generated by `{command}` (src/deblurzoo/bench.py); do not edit by hand.
Machine: {_machine()}. Every cell runs in a fresh process. Load average (1, 5, 15 min) at the
start and at the end of the run: {load}, {_load()}: on a shared machine whose other work
takes cores, times are longer by up to that factor, and vary from run to run.

{chr(10).join(s + chr(10) for s in sections)}"""


def main(cfg: DictConfig) -> None:
    """Run the sections ``cfg.sections`` and print the document; write it to ``cfg.write``."""
    command = " ".join(["deblurzoo-bench", *HydraConfig.get().overrides.task])
    args = SimpleNamespace(**OmegaConf.to_container(cfg, resolve=True))  # plain lists for JSON
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"sections: no {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    args.repeats = args.repeats or (5 if args.full else 3)
    models = args.models or list_models()
    video_nets = []
    for model in models:
        with torch.device("meta"):  # a bad name or argument fails before any worker
            net = create_model(model, **args.net)
        if isinstance(net, VideoNet):
            video_nets.append((model, net.recurrent))
    if "fast" in args.sections:
        if args.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device=cuda: no CUDA device on this machine (torch.cuda)")
        for model in args.fast_models:
            with torch.device("meta"):
                create_model(model.partition(":")[0])
    recurrent = [m for m, r in video_nets if r and (args.full or args.models or "+" not in m)]
    sections, load, failed = [], _load(), []
    if "speed" in args.sections:
        sections.append(_speed_section(args, [m for m, _ in video_nets]))
    if "fast" in args.sections:
        sections.append(_fast_section(args, failed))
    if "memory" in args.sections:
        sections.append(_memory_section(args, recurrent))
    if {"train", "data"} & set(args.sections):
        sections.append(_training_sections(args, args.sections))
    if "deblur" in args.sections:
        sections.append(_deblur_section(args))
    text = document(args, command, sections, load)
    if args.write:
        Path(args.write).write_text(text)
    print(text)
    if failed:  # after the document: what did run stays written
        raise RuntimeError(
            f"{len(failed)} measurement(s) failed; their rows say why, the rest is measured:\n"
            + "\n\n".join(failed)
        )


if __name__ == "__main__":  # python -m deblurzoo.bench
    from deblurzoo import commands

    commands.bench()
