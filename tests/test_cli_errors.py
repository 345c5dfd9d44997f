"""Expected errors reach the user as their message alone (``deblurzoo.utils.cli``): one line on
stderr and exit status 1, no traceback; ``HYDRA_FULL_ERROR=1`` adds the traceback, and any other
exception keeps it. A paper recipe asking for a GPU on a machine without one says so, with the
way to run it on the CPU, before any work starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.errors import InstantiationException

from deblurzoo import commands
from deblurzoo.data.frames import write_frame
from deblurzoo.errors import ConfigError, UnknownNameError
from deblurzoo.models import create_model
from deblurzoo.models.loading import save_weights
from deblurzoo.utils.cli import user_errors_reported
from deblurzoo.utils.job import check_device, compose_config


def _command(name: str, *overrides: str, cwd: Path, full_error: bool = False):
    """The console script ``name`` run with ``overrides`` in ``cwd``, on the CPU."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env.update(WANDB_MODE="disabled", CUDA_VISIBLE_DEVICES="")
    if full_error:
        env["HYDRA_FULL_ERROR"] = "1"
    script = Path(sys.executable).with_name(name)
    return subprocess.run(
        [str(script), *overrides], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_an_expected_error_is_its_message_alone_and_the_full_trace_on_request(tmp_path):
    missing = tmp_path / "nowhere.ckpt"
    args = ("deblurzoo-eval", f"ckpt_path={missing}", f"paths.log_dir={tmp_path / 'logs'}")
    result = _command(*args, cwd=tmp_path)
    assert result.returncode == 1
    message = f"deblurzoo-eval: error: ckpt_path={missing}: no such checkpoint file"
    assert result.stderr.strip() == message
    assert "Traceback" not in result.stdout + result.stderr

    result = _command(*args, cwd=tmp_path, full_error=True)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert f"CheckpointNotFoundError: ckpt_path={missing}" in result.stderr


def test_a_gpu_recipe_on_a_cpu_says_how_to_run_it_there(tmp_path):
    args = ("experiment=rirn_gopro", f"paths.log_dir={tmp_path / 'logs'}", "logger=none")
    result = _command("deblurzoo-train", *args, cwd=tmp_path)
    assert result.returncode == 1
    assert "No supported gpu backend" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("deblurzoo-train: error: experiment=rirn_gopro")
    assert "asks for trainer=gpu" in line and "give trainer=cpu" in line
    assert "data.batch_size than its 8" in line


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ([], None),
        (["trainer=gpu"], "the run asks for trainer=gpu (conf/trainer/gpu.yaml"),
        (["trainer.accelerator=gpu"], "the run asks for trainer.accelerator=gpu"),
        (["experiment=mlfa_stage1_gopro"], "experiment=mlfa_stage1_gopro (conf/experiment/"),
        (["experiment=mlfa_stage1_gopro", "trainer=ddp"], "the run asks for trainer=ddp"),
    ],
)
def test_a_trainer_asking_for_cuda_is_refused_without_it(
    tmp_path, monkeypatch, overrides, expected
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cfg = compose_config("train", overrides, tmp_path)
    if expected is None:
        check_device(cfg)
        return
    with pytest.raises(
        ConfigError, match="no CUDA device. To run on the CPU, give trainer=cpu"
    ) as e:
        check_device(cfg)
    assert expected in str(e.value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    check_device(cfg)


def _wrapped() -> None:
    """An unknown model as Hydra's ``instantiate`` reports it."""
    try:
        create_model("nope")
    except UnknownNameError as error:
        raise InstantiationException("Error in call to target 'x'") from error


def test_user_errors_are_reported_also_from_a_configs_target(monkeypatch, capsys):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setattr(sys, "argv", ["deblurzoo-x"])
    with pytest.raises(SystemExit) as exit_, user_errors_reported():
        _wrapped()
    assert exit_.value.code == 1
    assert capsys.readouterr().err.startswith("deblurzoo-x: error: unknown model 'nope'; ")
    with pytest.raises(RuntimeError, match="a bug"), user_errors_reported():
        raise RuntimeError("a bug")
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(InstantiationException), user_errors_reported():
        _wrapped()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("eval.self_ensemble=3", "eval.self_ensemble=3 is not a"),
        ("eval.temporal_reverse=3", "eval.temporal_reverse=3 must be true or false"),
    ],
)
def test_a_bad_ensemble_option_is_one_line_naming_its_key(
    override, message, tmp_path, run_command, monkeypatch, capsys
):
    net = {"name": "ifirnn_c1h1", "channels": [4, 8, 12], "hidden": 4, "num_resblocks": 1}
    weights = save_weights(tmp_path / "net.safetensors", create_model(**net).state_dict(), net)
    write_frame(tmp_path / "frames" / "a.png", torch.rand(3, 16, 16))
    monkeypatch.delenv("HYDRA_FULL_ERROR")
    with pytest.raises(SystemExit) as exit_:
        run_command(
            commands.infer, f"input={tmp_path / 'frames'}", f"ckpt_path={weights}",
            f"output_dir={tmp_path / 'out'}", override,
        )  # fmt: skip
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith(f"deblurzoo.infer: error: {message}")
    assert len(error.splitlines()) == 1


def test_an_unexpected_error_keeps_its_traceback(run_command, monkeypatch, capsys):
    monkeypatch.delenv("HYDRA_FULL_ERROR")
    with pytest.raises(SystemExit) as exit_:
        run_command(commands.zoo, "pattern=rdbn", "height=abc")
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert "Traceback (most recent call last)" in error and "TypeError" in error
