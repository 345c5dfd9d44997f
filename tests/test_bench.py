"""deblurzoo-bench: each kind of measurement on tiny models and data, and the document."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from deblurzoo import bench
from tests.conftest import TINY_DATA, TINY_MODEL


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


def test_speed_is_the_median_of_the_repeated_passes() -> None:
    result = bench.measure_speed("conv_lstm", 2, (16, 16), repeats=3, net_kwargs={"hidden": 4})
    assert len(result["runs"]) == 3
    assert result["ms_per_frame"] == sorted(result["runs"])[1]
    slim = bench.measure_speed("conv_lstm", 1, (16, 16), 1, channels_last=True, precision="bf16")
    assert slim["ms_per_frame"] > 0


@pytest.mark.parametrize("lightning", [False, True])
def test_training_throughput_of_both_loops(lightning: bool, data_dir: Path) -> None:
    overrides = [f"paths.data_dir={data_dir}", *TINY_DATA, *TINY_MODEL]
    result = bench.measure_training(lightning, steps=2, warmup=1, overrides=overrides)
    assert result["frames_per_s"] > 0 and result["ms_per_step"] > 0


def test_benchmark_command_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    options = "--sections speed memory --size 16 16 --frames 2 3 --memory-size 16 16 "
    options += "--chunk-len 2 --overlap 1"
    bench.main(["conv_lstm", *options.split(), "--net", "hidden=4", "--write", str(out)])
    text = out.read_text()
    assert "deblurzoo-bench conv_lstm --sections speed memory --size 16 16" in text
    assert "| model | CPU ms / frame | published |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `conv_lstm` hidden=4")]
    assert [row.split("|")[2].strip() for row in rows] == ["2", "3"]
    assert rows[0].endswith("| +0% |")  # the rise is measured from the first clip length
    assert "OMP_NUM_THREADS" in text


def test_benchmark_refuses_an_unknown_model_before_starting_workers() -> None:
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        bench.main(["nope"])


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
