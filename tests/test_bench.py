"""deblurzoo-bench: each kind of measurement on tiny models and data, and the document."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from deblurzoo import bench, commands
from tests.conftest import TINY_DATA, TINY_MODEL
from tests.test_kernel_space import TINY as TINY_KERNEL_SPACE


def test_benchmark_measures_memory_and_time() -> None:
    result = bench.measure("conv_lstm", 4, (32, 32), "chunked", chunk_len=2, overlap=1)
    assert result["peak_mib"] >= 0 and result["ms_per_frame"] > 0


@pytest.mark.parametrize("kind", ["memory", "speed"])
def test_only_memory_workers_fix_the_malloc_threshold(kind: str, monkeypatch) -> None:
    seen = {}

    def run(command, env, **kwargs):
        seen.update(env)
        return subprocess.CompletedProcess(command, 0, stdout='{"peak_mib": 1.0}\n')

    monkeypatch.setattr(bench.subprocess, "run", run)
    bench._run_worker(kind)
    assert seen["PATH"] == os.environ["PATH"]  # the rest of the environment is kept
    fixed = seen.items() >= bench.MEMORY_WORKER_ENV.items()
    assert fixed == (kind == "memory")
    assert bench.MEMORY_WORKER_ENV == {"MALLOC_MMAP_THRESHOLD_": "65536"}


def test_every_worker_compiles_into_an_empty_cache_of_its_own(monkeypatch) -> None:
    """A compiled pass's first time is a first compilation, not a hit of an earlier cell's."""
    caches = []

    def run(command, env, **kwargs):
        cache = Path(env["TORCHINDUCTOR_CACHE_DIR"])
        caches.append((cache, list(cache.iterdir())))
        return subprocess.CompletedProcess(command, 0, stdout='{"fast_ms": 1.0}\n')

    monkeypatch.setattr(bench.subprocess, "run", run)
    bench._run_worker("fast")
    bench._run_worker("fast")
    (first, first_files), (second, second_files) = caches
    assert first != second and first_files == second_files == []
    assert not first.exists() and not second.exists()  # removed after the worker


def test_speed_is_the_median_of_the_repeated_passes() -> None:
    result = bench.measure_speed("conv_lstm", 2, (16, 16), repeats=3, net_kwargs={"hidden": 4})
    assert len(result["runs"]) == 3
    assert result["ms_per_frame"] == sorted(result["runs"])[1]
    bf16 = bench.measure_speed("conv_lstm", 1, (16, 16), 1, precision="bf16")
    assert bf16["ms_per_frame"] > 0


def test_fast_path_worker_times_both_in_one_process_and_compares_outputs() -> None:
    fp32 = bench.measure_fast("strcnn", (16, 16), frames=2, repeats=2)
    assert fp32["eager_ms"] > 0 and fp32["fast_ms"] > 0 and fp32["first_fast_s"] > 0
    assert fp32["max_diff"] <= 1e-4 and fp32["psnr_vs_fp32"] > 100
    assert "eager_fp32_ms" not in fp32  # the eager pass is the fp32 one
    bf16 = bench.measure_fast("strcnn", (16, 16), frames=1, repeats=1, precision="bf16")
    assert 20 < bf16["psnr_vs_fp32"] < fp32["psnr_vs_fp32"]  # bf16 rounds, fp32 does not
    assert bf16["eager_fp32_ms"] > 0
    # the MACs per restored frame, whatever the clip length; a conv net's grow with the pixels
    assert bf16["gmacs"] == pytest.approx(fp32["gmacs"]) and fp32["gmacs"] > 0
    larger = bench.measure_fast("strcnn", (32, 32), frames=1, repeats=1)
    assert larger["gmacs"] == pytest.approx(4 * fp32["gmacs"], rel=1e-3)


@pytest.mark.slow  # torch.compile takes tens of seconds
def test_fast_path_worker_times_the_compiled_pass_too() -> None:
    cell = bench.measure_fast("strcnn", (16, 16), frames=2, repeats=1, compile=True)
    assert cell["compiled_ms"] > 0 and cell["first_compiled_s"] > cell["first_fast_s"]
    assert cell["max_diff"] <= 1e-4
    part = bench.measure_fast("kernel_space:blur", (64, 64), frames=1, repeats=1, compile=True)
    assert "compiled_ms" not in part  # a method: no command compiles it


def test_cpu_fast_table_with_compile_has_the_compiled_columns(monkeypatch) -> None:
    cell = {"eager_ms": 40.0, "fast_ms": 30.0, "compiled_ms": 20.0, "first_fast_s": 0.5}
    cell |= {"first_compiled_s": 90.0, "max_diff": 1e-7, "psnr_vs_fp32": 150.0, "gmacs": 2.0}
    monkeypatch.setattr(
        bench, "_run_worker", lambda kind, **job: {"fp32": 100.0, "bf16": 400.0} if kind == "peak"
        else cell
    )  # fmt: skip
    args = SimpleNamespace(device="cpu", compile=True, repeats=3, gpu_frames=10, speed_frames=2)
    args.fast_sizes, args.fast_models, args.fast_precisions = [[16, 16]], ["strcnn"], ["fp32"]
    text = bench._fast_section(args, [])
    assert "3×3 convolution on a 128×128 map" in text and "TF32" not in text
    assert "| fast ms | compiled ms | compile s | floor |" in text
    row = "| `strcnn` | 16×16 | fp32 | 40.0 | 30.0 (0.75) | 20.0 (0.50) | 90.0 | 0.50 | 0.75 | 0.5 "
    assert row in text
    for key in ("compiled_ms", "first_compiled_s"):  # the kernel-space encoder's halves
        del cell[key]
    assert "| 30.0 (0.75) | — | — | 0.50 |" in bench._fast_section(args, [])


def test_a_failed_fast_cell_is_a_row_saying_why_and_the_command_fails_after_writing(
    tmp_path: Path, monkeypatch, run_command
) -> None:
    """One worker failing (here: CUDA out of memory in bf16) leaves the other cells measured and
    the document written, then the command fails, naming the cell."""
    cell = {"eager_ms": 40.0, "fast_ms": 30.0, "first_fast_s": 0.5, "max_diff": 1e-7}
    cell |= {"psnr_vs_fp32": 150.0, "gmacs": 2.0}
    stderr = "Traceback ...\ntorch.OutOfMemoryError: CUDA out of memory | 2 GiB\n"

    def worker(kind, **job):
        if kind == "peak":
            return {"fp32": 100.0, "bf16": 400.0}
        if job["precision"] == "bf16":
            raise bench.WorkerError(kind, job, stderr)
        return cell

    monkeypatch.setattr(bench, "_run_worker", worker)
    monkeypatch.chdir(tmp_path)
    options = ["sections=[fast]", "fast_models=[strcnn]", "fast_sizes=[[16,16]]", "write=b.md"]
    with pytest.raises(RuntimeError, match=r"1 measurement\(s\) failed") as info:
        run_command(commands.bench, *options)
    assert "| `strcnn` | 16×16 | bf16 |" in str(info.value)
    text = (tmp_path / "b.md").read_text()
    assert "| `strcnn` | 16×16 | fp32 | 40.0 | 30.0 (0.75) |" in text
    assert (
        "| `strcnn` | 16×16 | bf16 | failed: torch.OutOfMemoryError: CUDA out of memory / 2 GiB |"
        in text
    )


def test_a_failing_worker_process_raises_with_its_last_error_line(monkeypatch) -> None:
    def run(command, env, **kwargs):
        return subprocess.CompletedProcess(command, 1, stdout="", stderr="trace\nValueError: x\n\n")

    monkeypatch.setattr(bench.subprocess, "run", run)
    with pytest.raises(bench.WorkerError, match="benchmark worker fast") as info:
        bench._run_worker("fast", model="m")
    assert info.value.reason == "ValueError: x"


def test_peak_is_measured_for_both_precisions() -> None:
    peak = bench.measure_peak(repeats=1)
    assert peak.keys() == {"fp32", "bf16"} and min(peak.values()) > 0


@pytest.mark.parametrize(
    ("lightning", "step"),
    [(False, []), (True, bench.TRAIN_STEPS[bench.EAGER_STEP])]
    + [(True, bench.TRAIN_STEPS[label]) for label in list(bench.TRAIN_STEPS)[2:]],
)
def test_training_throughput_of_both_loops_and_each_step(
    lightning: bool, step: list[str], data_dir: Path
) -> None:
    overrides = [f"paths.data_dir={data_dir}", *TINY_DATA, *TINY_MODEL, *step]
    result = bench.measure_training(lightning, steps=2, warmup=1, overrides=overrides)
    assert result["frames_per_s"] > 0 and result["ms_per_step"] > 0


def test_benchmark_command_writes_its_table(tmp_path: Path, monkeypatch, run_command) -> None:
    monkeypatch.chdir(tmp_path)  # the command writes nothing but its document
    options = "models=[conv_lstm] sections=[speed,memory] size=[16,16] frames=[2,3] "
    options += "memory_size=[16,16] chunk_len=2 overlap=1 +net.hidden=4 write=bench.md"
    run_command(commands.bench, *options.split())
    assert [p.name for p in tmp_path.iterdir()] == ["bench.md"]
    text = (tmp_path / "bench.md").read_text()
    assert f"Generated by `deblurzoo-bench {options}`" in text
    assert "| model | CPU ms / frame | published |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `conv_lstm` hidden=4")]
    assert [row.split("|")[2].strip() for row in rows] == ["2", "3"]
    assert rows[0].endswith("| +0% |")  # the rise is measured from the first clip length
    assert "OMP_NUM_THREADS" in text


def test_benchmark_refuses_an_unknown_model_or_section_before_starting_workers(
    monkeypatch, run_command
) -> None:
    monkeypatch.setattr(bench, "_run_worker", None)
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        run_command(commands.bench, "models=[nope]")
    with pytest.raises(ValueError, match=r"sections: no \['speeed'\]"):
        run_command(commands.bench, "sections=[speeed]")
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        run_command(commands.bench, "sections=[fast]", "fast_models=[nope:encode]")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device=cuda: no CUDA device"):
            run_command(commands.bench, "sections=[fast]", "device=cuda")


def test_fast_table(tmp_path: Path, monkeypatch, run_command) -> None:
    monkeypatch.chdir(tmp_path)
    options = "sections=[fast] fast_models=[strcnn] fast_sizes=[[16,16]] repeats=1 write=b.md"
    run_command(commands.bench, *options.split())
    text = (tmp_path / "b.md").read_text()
    rows = [line for line in text.splitlines() if "`strcnn`" in line]
    assert [row.split("|")[3].strip() for row in rows] == ["fp32", "bf16"]
    assert "GMAC/s in fp32 and" in text


def test_machine_line_names_the_cpus_bf16_instructions() -> None:
    cpuinfo = (
        "processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu avx512f avx512_bf16 amx_tile\n"
        "processor\t: 1\nmodel name\t: Some Xeon\nflags\t\t: fpu avx512f avx512_bf16 amx_tile\n"
    )
    assert bench._cpu_info(cpuinfo) == ("Some Xeon", ["avx512_bf16"])
    assert bench._cpu_info("flags\t: fpu amx_bf16 avx512_bf16\n") == (
        None,
        ["avx512_bf16", "amx_bf16"],
    )
    assert "CPU capability " in bench._machine()


def test_gpu_fast_table_has_frames_per_second_memory_and_the_papers_runtime(monkeypatch) -> None:
    """What `make bench-gpu` writes, its workers stubbed (no GPU here): the CUDA branch of the
    table, one row per precision."""
    cell = {"eager_ms": 40.0, "fast_ms": 20.0, "first_fast_s": 3.0, "max_diff": 1e-6}
    cell |= {"psnr_vs_fp32": 60.0, "eager_peak_mib": 900.0, "fast_peak_mib": 800.0}
    cell |= {"gmacs": 2.0, "eager_fp32_ms": 80.0}
    jobs = []

    def worker(kind, **job):
        jobs.append((kind, job))
        return {"fp32": 1000.0, "bf16": 4000.0} if kind == "peak" else cell

    monkeypatch.setattr(bench, "_run_worker", worker)
    args = SimpleNamespace(device="cuda", compile=False, repeats=3, gpu_frames=10, speed_frames=2)
    args.fast_sizes, args.fast_models = [[720, 1280]], ["memdeblur"]
    args.fast_precisions = ["fp32", "bf16"]
    text = bench._fast_section(args, [])
    assert jobs[0] == ("peak", {"device": "cuda"})
    assert [(j["device"], j["precision"], j["frames"]) for _, j in jobs[1:]] == [
        ("cuda", "fp32", 10),
        ("cuda", "bf16", 10),
    ]
    assert "3×3 convolution on a 720×1280 map" in text  # a 128² map is no GPU's peak
    assert "1000 GMAC/s in fp32 and 4000 under bf16" in text
    assert "*fp32* convolutions compute in TF32 where cuDNN allows it" in text
    row = (
        "| `memdeblur` | 720×1280 | bf16 | 40.0 | 20.0 (0.50) | 0.01 | 0.25 | 3.0 | 1.0e-06 | 60.0 "
    )
    assert row + "| 50 / 100 | 50.0 | 900 / 800 | 0.191 s/frame (Table 3) |" in text


def test_deblur_worker_times_both_loops_from_the_same_start() -> None:
    config = {"image_channels": 8, "image_skip_channels": 4, "kernel_channels": 4}
    cell = bench.measure_deblur((32, 32), iters=2, repeats=1, net_kwargs=TINY_KERNEL_SPACE,
                                config=config)  # fmt: skip
    assert cell["eager_s"] > 0 and cell["fast_s"] > 0 and cell["bf16_s"] > 0
    assert cell["first_steps_rel_diff"] < 1e-5  # the same objective and first step
    assert 0 < cell["bf16_first_rel_diff"] < 1e-2  # another arithmetic, about the same start


def test_deblur_table(monkeypatch) -> None:
    cell = {"eager_s": 3.0, "fast_s": 2.4, "bf16_s": 1.5, "first_steps_rel_diff": 2e-7,
            "bf16_first_rel_diff": 3e-4}  # fmt: skip
    monkeypatch.setattr(bench, "_run_worker", lambda kind, **job: cell)
    args = SimpleNamespace(size=[256, 256], deblur_iters=5, repeats=3)
    text = bench._deblur_section(args)
    assert "| 256×256 | 3.00 | 2.40 (0.80) | 1.50 (0.50) | 2.0e-07 / 3.0e-04 |" in text
    assert "5000 iterations per frame take 3.3 h on the fast path here, 2.1 h with" in text
