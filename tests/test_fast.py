"""The inference fast path (src/deblurzoo/fast.py) gives the eager outputs to 1e-4, for every
registered video net, and the commands take ``fast=false`` to turn it off."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf

from deblurzoo import commands
from deblurzoo.ensemble import SelfEnsemble
from deblurzoo.errors import ConfigError
from deblurzoo.eval import build_task
from deblurzoo.fast import fast_net, no_grad, precision_dtype
from deblurzoo.infer import deblur_video
from deblurzoo.models import MultiScaleFrames, VideoNet, create_model, list_models, restore
from deblurzoo.models.loading import Checkpoint
from deblurzoo.restoration import restore_frames
from deblurzoo.tasks import VideoRestorationModule
from tests.test_input_limits import TINY, _smallest_side, _tiny
from tests.test_restoration import TINY_IFIRNN

TOLERANCE = 1e-4


def _frames(out):
    return out.frames if isinstance(out, MultiScaleFrames) else out


@pytest.mark.parametrize("name", list_models())
def test_fast_outputs_are_the_eager_outputs(name: str) -> None:
    eager = _tiny(name).eval()
    if not isinstance(eager, VideoNet):
        pytest.skip(f"{name} is no video net: the fast path restores clips")
    side = max(16, _smallest_side(eager, batch=1))
    clip = torch.rand(1, eager.min_frames, 3, side, side)
    with torch.no_grad():
        expected = _frames(restore(eager, clip))
    fast = fast_net(_tiny(name).eval())
    weight = next(p for p in fast.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last) == eager.channels_last
    with no_grad(fast=True):
        out = _frames(restore(fast, clip))
    assert (out - expected).abs().max().item() <= TOLERANCE


def test_restore_frames_fast_and_eager_agree_and_yield_plain_tensors() -> None:
    net = _tiny("strcnn").eval()
    frames = torch.rand(12, 3, 32, 32)
    eager = dict(restore_frames(net, frames, 6, 4, fast=False))
    fast = dict(restore_frames(net, frames, 6, 4))  # fast by default
    assert eager.keys() == fast.keys() == set(range(2, 10))
    for index, frame in fast.items():
        assert not frame.is_inference() and frame.is_contiguous()
        assert (frame - eager[index]).abs().max().item() <= TOLERANCE


def test_a_net_that_declines_channels_last_keeps_its_layout() -> None:
    """RDBN (and ESTRNN, its subclass) measured no faster in channels_last layout."""
    assert not _tiny("rdbn+irm+atb").channels_last and not _tiny("estrnn").channels_last
    wrapped = SelfEnsemble(_tiny("rdbn").eval(), 4)
    fast_net(wrapped)
    assert all(p.is_contiguous() for p in wrapped.parameters())


def test_under_autocast_every_net_takes_channels_last() -> None:
    """In bf16 the dense blocks gain from channels_last too (0.92x and 0.70x the time)."""
    net = fast_net(_tiny("rdbn+irm+atb").eval(), autocast=torch.bfloat16)
    weight = next(p for p in net.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last)
    frames = torch.rand(6, 3, 32, 32)
    reference = dict(restore_frames(_tiny("rdbn+irm+atb").eval(), frames, 6, 2, fast=False))
    restored = dict(restore_frames(net, frames, 6, 2, autocast=torch.bfloat16))
    assert restored.keys() == reference.keys()
    for index, frame in restored.items():  # bf16 rounding, not another function
        assert (frame - reference[index]).abs().max().item() < 0.05


def test_no_grad_is_inference_mode_on_the_fast_path() -> None:
    with no_grad(fast=True):
        assert torch.is_inference_mode_enabled()
    with no_grad(fast=False):
        assert not torch.is_inference_mode_enabled() and not torch.is_grad_enabled()


@pytest.mark.slow  # torch.compile takes tens of seconds
def test_compiled_fast_path_gives_the_eager_outputs() -> None:
    """``restore_frames(compile=True)`` compiles the net once and reuses it."""
    frames = torch.rand(8, 3, 16, 16)
    expected = dict(restore_frames(_tiny("strcnn").eval(), frames, 6, 4, fast=False))
    net = _tiny("strcnn").eval()
    for _ in range(2):  # the second call reuses the compiled net
        restored = dict(restore_frames(net, frames, 6, 4, compile=True))
        assert restored.keys() == expected.keys()
        for index, frame in restored.items():
            assert (frame - expected[index]).abs().max().item() <= TOLERANCE


def test_a_net_is_compiled_once(monkeypatch) -> None:
    net = _tiny("strcnn").eval()
    calls = []
    monkeypatch.setattr(net, "compile", lambda: calls.append(net))
    fast_net(net, compile=True)
    fast_net(net, compile=True)
    assert calls == [net]


def test_compile_off_the_fast_path_is_refused_before_anything_runs(tmp_path) -> None:
    frames = torch.rand(8, 3, 16, 16)
    with pytest.raises(ConfigError, match="compile=true needs fast=true"):
        next(restore_frames(_tiny("strcnn").eval(), frames, 6, 4, fast=False, compile=True))
    output = tmp_path / "out.mp4"
    with pytest.raises(ConfigError, match="compile=true needs fast=true"):
        deblur_video(tmp_path / "in", tmp_path / "weights.pt", output, fast=False, compile=True)
    assert not output.exists()


@pytest.mark.parametrize(
    ("precision", "dtype"),
    [("bf16-mixed", torch.bfloat16), ("16-mixed", torch.float16), ("bf16-true", torch.bfloat16),
     ("32-true", None), ("64-true", None)],
)  # fmt: skip
def test_precision_dtype_reads_lightnings_precision(precision, dtype) -> None:
    assert precision_dtype(precision) is dtype


def test_training_under_bf16_puts_every_net_in_channels_last() -> None:
    """RDBN keeps its layout in float32; under ``trainer.precision=bf16-mixed`` it takes
    channels_last like every net (:func:`deblurzoo.fast.fast_net`)."""
    for precision, channels_last in (("32-true", False), ("bf16-mixed", True)):
        task = VideoRestorationModule({"name": "rdbn", **TINY["rdbn"]})
        task.trainer = L.Trainer(precision=precision, logger=False, enable_progress_bar=False)
        task.setup("fit")
        weight = next(p for p in task.net.parameters() if p.ndim == 4)
        assert weight.is_contiguous(memory_format=torch.channels_last) is channels_last


def _training_step(fast: bool) -> tuple[float, dict[str, torch.Tensor]]:
    """One training step of the default recipe's net through the task: loss and gradients."""
    torch.manual_seed(0)
    task = VideoRestorationModule({"name": "ifirnn_c1h1", **TINY_IFIRNN}, fast=fast).train()
    generator = torch.Generator().manual_seed(1)
    batch = {name: torch.rand(2, 4, 3, 32, 32, generator=generator) for name in ("blur", "sharp")}
    loss = task.loss(task.net(batch["blur"]), task.target_frames(batch["sharp"]))
    loss.backward()
    return loss.item(), {name: p.grad for name, p in task.net.named_parameters()}


def test_fast_training_steps_compute_the_eager_loss_and_gradients() -> None:
    """``model.fast`` (the default) changes the layout of the training step, not its function."""
    eager_loss, eager_grads = _training_step(fast=False)
    fast_loss, fast_grads = _training_step(fast=True)
    assert abs(fast_loss - eager_loss) <= 1e-6
    assert fast_grads.keys() == eager_grads.keys()
    for name, grad in fast_grads.items():
        scale = eager_grads[name].abs().max().item() or 1.0
        assert (grad - eager_grads[name]).abs().max().item() <= 1e-4 * scale, name
    conv = next(g for g in fast_grads.values() if g.ndim == 4)
    assert conv.is_contiguous(memory_format=torch.channels_last)


def test_compile_needs_the_fast_path() -> None:
    with pytest.raises(ConfigError, match="model.compile=true needs model.fast=true"):
        VideoRestorationModule({"name": "ifirnn_c1h1", **TINY_IFIRNN}, fast=False, compile=True)


@pytest.mark.parametrize("fast", [True, False])
def test_eval_runs_the_stored_task_as_its_fast_switch_says(fast: bool) -> None:
    """``deblurzoo-eval fast=false`` evaluates the eager net, whatever the task's default."""
    net = {"name": "ifirnn_c1h1", **TINY_IFIRNN}
    checkpoint = Checkpoint(Path("run.ckpt"), create_model(**net).state_dict(), {"net": net}, {})
    task = build_task(OmegaConf.create({"fast": fast, "compile": False, "eval": {}}), checkpoint)
    weight = next(p for p in task.net.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last) is fast


@pytest.mark.parametrize(("command", "module"), [
    ("train", "deblurzoo.train"), ("evaluate", "deblurzoo.eval"), ("infer", "deblurzoo.infer")
])  # fmt: skip
def test_compiled_code_is_cached_in_the_users_cache_between_runs(
    command: str, module: str, run_command, monkeypatch, tmp_path: Path
) -> None:
    """The commands that can compile point inductor's cache at ~/.cache/deblurzoo (which
    outlives the run and /tmp) while their job runs, unless TORCHINDUCTOR_CACHE_DIR is set."""
    seen = []
    monkeypatch.setattr(
        importlib.import_module(module), "main",
        lambda cfg: seen.append(os.environ.get("TORCHINDUCTOR_CACHE_DIR")),
    )  # fmt: skip
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    overrides = [f"paths.log_dir={tmp_path / 'logs'}"]  # the stubbed jobs need nothing else
    run_command(getattr(commands, command), *overrides)
    assert seen == [f"{tmp_path}/.cache/deblurzoo/torchinductor"]
    assert "TORCHINDUCTOR_CACHE_DIR" not in os.environ  # set for the job only
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "mine"))
    run_command(getattr(commands, command), *overrides)
    assert seen[1] == str(tmp_path / "mine")
