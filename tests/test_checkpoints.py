"""The one checkpoint reader (``src/deblurzoo/models/loading.py``): the zoo's own checkpoints load
with ``weights_only=True``; every file it cannot or must not load is refused with the file named;
each command reads a checkpoint once; nets are rebuilt where their weight files are gone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import hydra
import pytest
import timm
import torch
from rich.console import Console

from deblurzoo.data.frames import write_frame
from deblurzoo.eval import evaluate
from deblurzoo.infer import infer
from deblurzoo.kernel_space import load_kernel_space
from deblurzoo.models import create_model
from deblurzoo.models.kernel_space import KernelSpace
from deblurzoo.models.loading import CheckpointError, load_net, read_checkpoint
from deblurzoo.train import train
from deblurzoo.utils.job import compose_config as compose
from deblurzoo.utils.report import print_summary
from tests.conftest import TINY_MODEL, compose_config
from tests.test_kernel_space import TINY as TINY_KERNEL_SPACE
from tests.test_memdeblur_train import TINY_MEMDEBLUR

TINY_NET = {"channels": [4, 8, 12], "hidden": 4, "num_resblocks": 1}
ONE_BATCH = ["+trainer.limit_train_batches=1", "+trainer.limit_val_batches=1"]
RUN = ["logger=none", "trainer.max_epochs=1", "callbacks.progress_bar=null", *ONE_BATCH]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A real training run of a tiny IFI-RNN (one batch, step-decay scheduler, no test)."""
    out = tmp_path_factory.mktemp("first")
    overrides = [*RUN, *TINY_MODEL, "model/scheduler=multistep", "test=false"]
    train(compose_config("train", out, data_dir, overrides))
    return out


@pytest.fixture
def checkpoint(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / "last.ckpt"


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every ``torch.load`` from here on: the file it read and its ``weights_only``."""
    calls, real = [], torch.load

    def spy(file, *args, **kwargs):
        name = file if isinstance(file, str | Path) else file.path  # Lightning's: an fsspec file
        calls.append({"file": Path(name).resolve(), "weights_only": kwargs.get("weights_only")})
        return real(file, *args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    return calls


def _reads(calls: list[dict[str, Any]], path: Path) -> int:
    return sum(call["file"] == path.resolve() for call in calls)


# --- the zoo's own checkpoints ------------------------------------------------------------------


def test_a_training_checkpoint_holds_only_what_weights_only_loads(checkpoint: Path) -> None:
    content = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert {"optimizer_states", "lr_schedulers", "callbacks", "deblurzoo_rng"} <= content.keys()
    assert content["lr_schedulers"][0]["milestones"]  # MultiStepLR's Counter
    assert any(key.startswith("ModelCheckpoint") for key in content["callbacks"])
    read = read_checkpoint(checkpoint)
    assert read.config["name"] == "ifirnn_c1h1"
    assert read.run_info["task"] == "deblurzoo.tasks.video_restoration.VideoRestorationModule"
    assert read.hyper_parameters["net"] == read.config
    assert read.state_dict.keys() == create_model(**read.config).state_dict().keys()


def test_resume_reads_with_weights_only_and_continues(checkpoint, tmp_path, data_dir, loads):
    resume = [f"ckpt_path={checkpoint}", "trainer.max_epochs=2", "test=false"]
    train(compose_config("train", tmp_path, data_dir, [*RUN, *TINY_MODEL, *resume]))
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1
    assert all(call["weights_only"] is True for call in loads)
    assert _reads(loads, checkpoint) == 2  # the reader's (the wandb run) and Lightning's restore


# --- files refused, each with the reason and the file named ----------------------------------


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.ckpt"
    for error in (FileNotFoundError, CheckpointError):
        with pytest.raises(error, match="nowhere.ckpt'?: no such checkpoint file"):
            read_checkpoint(missing)


def test_a_truncated_checkpoint_is_named(tmp_path: Path, checkpoint: Path) -> None:
    data = checkpoint.read_bytes()
    half = tmp_path / "half.ckpt"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="half.ckpt: truncated or corrupted"):
        load_net(half)


def test_files_that_are_no_checkpoint_are_named(tmp_path: Path) -> None:
    (tmp_path / "notes.ckpt").write_text("not a checkpoint")
    write_frame(tmp_path / "frame.png", torch.rand(3, 8, 8))
    shutil.copy(tmp_path / "frame.png", tmp_path / "frame.ckpt")
    for name in ("notes.ckpt", "frame.ckpt"):
        with pytest.raises(CheckpointError, match=rf"{name}: not a PyTorch checkpoint"):
            read_checkpoint(tmp_path / name)


class Payload:
    """Unpickled, it writes the file ``marker``: the code a malicious checkpoint would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


class Thing:
    """A plain class: its instances are arbitrary objects too."""


def _evil_checkpoints(tmp_path: Path, marker: Path) -> dict[str, Path]:
    """Checkpoints holding a pickled function, a payload and a class instance, by the global
    each holds."""
    net = create_model("ifirnn_c1h1", **TINY_NET)
    state = {f"net.{key}": value for key, value in net.state_dict().items()}
    task = {"net": {"name": "ifirnn_c1h1", **TINY_NET}}
    contents = {
        "builtins.eval": {"state_dict": {}, "x": eval},
        "builtins.open": {"state_dict": state, "hyper_parameters": task, "x": Payload(marker)},
        f"{__name__}.Thing": {"state_dict": state, "hyper_parameters": task, "x": Thing()},
    }
    paths = {}
    for unsafe, content in contents.items():
        paths[unsafe] = tmp_path / f"{unsafe}.ckpt"
        torch.save(content, paths[unsafe])
    return paths


def test_the_payload_would_run_if_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = _evil_checkpoints(tmp_path, marker)["builtins.open"]
    torch.load(path, weights_only=False)  # what this suite's checks guard against
    assert marker.exists()


def _eval(path: Path, tmp_path: Path, data_dir: Path, *overrides: str) -> dict[str, Any]:
    """``deblurzoo-eval ckpt_path=<path> [overrides]``, writing to ``tmp_path/eval``."""
    overrides = ["logger=none", f"ckpt_path={path}", *overrides]
    return evaluate(compose_config("eval", tmp_path / "eval", data_dir, overrides))


#: every command that opens a checkpoint, as (path, tmp_path, data_dir) -> Any
COMMANDS = {
    "read_checkpoint": lambda path, tmp_path, data_dir: read_checkpoint(path),
    "load_net": lambda path, tmp_path, data_dir: load_net(path),
    "load_kernel_space": lambda path, tmp_path, data_dir: load_kernel_space(path),
    "eval": _eval,
    "infer": lambda path, tmp_path, data_dir: infer(_infer_config(tmp_path, path)),
    "train": lambda path, tmp_path, data_dir: train(
        compose_config("train", tmp_path / "train", data_dir, [*RUN, f"ckpt_path={path}"])
    ),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_arbitrary_objects_are_refused_by_every_command(command, tmp_path, data_dir) -> None:
    marker = tmp_path / "ran"
    for unsafe, path in _evil_checkpoints(tmp_path, marker).items():
        with pytest.raises(CheckpointError) as error:
            COMMANDS[command](path, tmp_path, data_dir)
        message = str(error.value)
        assert message.startswith(f"{path} holds arbitrary Python objects (")
        assert unsafe in message and "not loaded, for safety" in message
    assert not marker.exists()  # the payload never ran


def _infer_config(tmp_path: Path, ckpt: Path, *overrides: str):
    frames = tmp_path / "frames"
    for i in range(3):
        write_frame(frames / f"{i:03d}.png", torch.rand(3, 16, 16))
    args = [f"input={frames}", f"ckpt_path={ckpt}", "video=null", "progress=false", *overrides]
    return compose("infer", [f"paths.log_dir={tmp_path / 'logs'}", *args], tmp_path / "out")


# --- weights that do not fit the model --------------------------------------------------------


def _kernel_space_checkpoint(path: Path) -> tuple[Path, KernelSpace]:
    """A Lightning-style checkpoint of a tiny kernel-space encoder, as its task stores one."""
    net = create_model("kernel_space", **TINY_KERNEL_SPACE)
    state = {f"net.{key}": value for key, value in net.state_dict().items()}
    config = {"name": "kernel_space", **TINY_KERNEL_SPACE}
    torch.save({"state_dict": state, "hyper_parameters": {"net": config}}, path)
    return path, net


def test_a_checkpoint_of_another_model_names_both(tmp_path: Path) -> None:
    path, _ = _kernel_space_checkpoint(tmp_path / "kernel_space.ckpt")
    asked = {"name": "ifirnn_c1h1", **TINY_NET}
    with pytest.raises(
        CheckpointError,
        match=r"kernel_space.ckpt \(weights of model 'kernel_space'\) does not match model "
        r"'ifirnn_c1h1': missing \(\d+\): ",
    ):
        load_net(path, asked)
    with pytest.raises(CheckpointError, match=r"weights of model 'kernel_space'\) does not match"):
        infer(_infer_config(tmp_path, path, "model=ifirnn_c1h1_small", *TINY_MODEL))


def test_mismatched_weights_list_the_first_keys(tmp_path: Path) -> None:
    state = create_model("ifirnn_c1h1", **TINY_NET).state_dict()
    dropped = next(iter(state))
    state["extra.weight"] = state.pop(dropped)
    torch.save(state, tmp_path / "net.pth")
    with pytest.raises(CheckpointError) as error:
        load_net(tmp_path / "net.pth", {"name": "ifirnn_c1h1", **TINY_NET})
    assert str(error.value).startswith(
        f"{tmp_path / 'net.pth'} does not match model 'ifirnn_c1h1': missing (1): {dropped}; "
        "unexpected (1): extra.weight"
    )


def test_eval_refuses_a_task_that_is_not_the_zoos(tmp_path: Path, data_dir, checkpoint) -> None:
    content = torch.load(checkpoint, weights_only=True)
    content["deblurzoo_run"]["task"] = "subprocess.Popen"
    torch.save(content, tmp_path / "other_task.ckpt")
    with pytest.raises(CheckpointError, match="task 'subprocess.Popen' is none of the zoo's"):
        _eval(tmp_path / "other_task.ckpt", tmp_path, data_dir)


def test_eval_reports_the_published_score_beside_ours(tmp_path, data_dir, checkpoint, capsys):
    """``published=`` names a paper table of the model's spec (IFI-RNN C1H1: RIRN Table S6)."""
    table = ["published=RIRN Table S6"]
    with pytest.raises(ValueError, match="several scores fit: set published_dataset.*'REDS'"):
        _eval(checkpoint, tmp_path, data_dir, *table)
    with pytest.raises(ValueError, match="published='Table 9': no score fits"):
        _eval(checkpoint, tmp_path, data_dir, "published=Table 9")
    summary = _eval(checkpoint, tmp_path, data_dir, *table, "published_dataset=REDS")
    assert summary["published"]["psnr"] == 30.01 and summary["published"]["ssim"] == 0.8762
    print_summary(summary, Console(width=200))
    out = capsys.readouterr().out
    assert "published (RIRN Table S6)" in out and "30.01" in out
    gap = summary["restored"]["psnr_frame"] - 30.01
    assert "against RIRN Table S6 (REDS; PSNR and SSIM on RGB frames" in out
    assert f"{gap:+.2f} dB" in out


def test_eval_skip_frames_leaves_frames_unscored_whatever_the_net(
    tmp_path, data_dir, checkpoint
) -> None:
    """ESTRNN's protocol (eval=estrnn: skip_frames [2, 2]) on IFI-RNN, which restores every
    frame: 2 + 2 frames of each 10-frame test sequence go unscored, as in ESTRNN's test code."""
    every = _eval(checkpoint, tmp_path, data_dir)
    assert every["num_frames"] == 2 * 10
    chunks = ["data.eval_chunk_len=6", "data.eval_chunk_overlap=4"]
    estrnn = _eval(checkpoint, tmp_path, data_dir, "eval=estrnn", *chunks)
    assert estrnn["num_frames"] == 2 * (10 - 4)
    assert [row["frames"] for row in estrnn["per_sequence"]] == [6, 6]
    with pytest.raises(ValueError, match=r"eval.skip_frames must be \[first, last\]"):
        _eval(checkpoint, tmp_path, data_dir, "eval.skip_frames=[2]")


# --- the kernel-space encoder -----------------------------------------------------------------


def test_load_kernel_space_loads_its_own_and_refuses_a_video_net(tmp_path, checkpoint) -> None:
    path, saved = _kernel_space_checkpoint(tmp_path / "kernel_space.ckpt")
    net = load_kernel_space(path)
    assert isinstance(net, KernelSpace) and not net.training
    assert not any(p.requires_grad for p in net.parameters())
    assert all(torch.equal(v, saved.state_dict()[k]) for k, v in net.state_dict().items())
    with pytest.raises(
        CheckpointError, match="last.ckpt holds weights of model 'ifirnn_c1h1', not the 'kernel_"
    ):
        load_kernel_space(checkpoint)


# --- one read per command -----------------------------------------------------------------------


def test_eval_reads_the_checkpoint_once(tmp_path, data_dir, checkpoint, loads) -> None:
    summary = _eval(checkpoint, tmp_path, data_dir)
    assert _reads(loads, checkpoint) == 1
    assert all(call["weights_only"] is True for call in loads)
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["ckpt_path"] == summary["ckpt_path"] == str(checkpoint)


def test_infer_reads_the_checkpoint_once(tmp_path, checkpoint, loads) -> None:
    assert infer(_infer_config(tmp_path, checkpoint))["frames"] == 3
    assert _reads(loads, checkpoint) == 1


# --- weight files gone where the checkpoint is used ---------------------------------------------


def test_memdeblur_is_rebuilt_without_its_imagenet_file(tmp_path: Path, data_dir: Path) -> None:
    """``pretrained_path`` only initialises the ResNet stages; the checkpoint holds them. (The
    checkpoint is the task's as Lightning and RunInfo store it, without the training step that
    costs MemDeblur most of a minute on a CPU.)"""
    resnet = timm.create_model("resnet18", pretrained=False).state_dict()
    stage = {k: v for k, v in resnet.items() if k.split(".")[0] in ("conv1", "bn1", "layer1")}
    imagenet = tmp_path / "resnet18.pth"
    torch.save(stage, imagenet)
    model = ["model=memdeblur", *TINY_MEMDEBLUR, f"model.net.pretrained_path={imagenet}"]
    task = hydra.utils.instantiate(compose_config("train", tmp_path, data_dir, model).model)
    ckpt = tmp_path / "memdeblur.ckpt"
    run = {"task": f"{type(task).__module__}.{type(task).__qualname__}"}
    state = {"state_dict": task.state_dict(), "hyper_parameters": dict(task.hparams)}
    torch.save({**state, "deblurzoo_run": run}, ckpt)
    imagenet.unlink()

    one_batch = "+trainer.limit_test_batches=1"
    stored = _eval(ckpt, tmp_path, data_dir, one_batch)  # the task and net stored in the file
    given = _eval(ckpt, tmp_path, data_dir, one_batch, *model)  # model= naming the deleted file
    assert given["restored"] == pytest.approx(stored["restored"], abs=1e-6)
    assert infer(_infer_config(tmp_path, ckpt))["frames"] == 3
