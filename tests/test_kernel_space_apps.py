"""Applications of the kernel-space encoder: blur transfer (function and CLI), the blur-transfer
augmentation of video training, and deblurring by optimisation with warm starts."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hydra import compose, initialize_config_dir

from deblurzoo import commands
from deblurzoo.data.frames import read_frame, write_frame
from deblurzoo.errors import ConfigError
from deblurzoo.fast import fast_net
from deblurzoo.kernel_space import (
    BlurTransferAugment,
    DeblurConfig,
    DeblurObjective,
    deblur_frame,
    deblur_video,
    kernel_norm,
    transfer,
    transfer_blur,
)
from deblurzoo.kernel_space import deblur as deblur_module
from deblurzoo.kernel_space.warm_start import WarmStartComparison
from deblurzoo.models.kernel_space import KernelSpace
from deblurzoo.train import train
from deblurzoo.utils.job import CONFIG_DIR
from tests.test_kernel_space import TINY, kernel_space_run  # noqa: F401  (session fixture)

TINY_DEBLUR = DeblurConfig(
    num_iters=8, warmup_iters=2, warm_iters=3, image_lr=1e-2, kernel_lr=1e-2, reg_noise_std=0.0,
    image_channels=8, image_skip_channels=4, kernel_channels=4, kernel_blocks=1,
)  # fmt: skip


@pytest.fixture
def frozen_net() -> KernelSpace:
    torch.manual_seed(0)
    return KernelSpace(**TINY).eval().requires_grad_(False)


@pytest.fixture
def checkpoint(kernel_space_run: Path) -> Path:  # noqa: F811
    return kernel_space_run / "checkpoints" / "last.ckpt"


def test_transfer_blur_applies_the_source_kernel(frozen_net) -> None:
    source_sharp, source_blurry = torch.rand(3, 128, 128), torch.rand(3, 128, 128)
    targets = torch.rand(2, 3, 128, 128)
    result = transfer_blur(frozen_net, source_sharp, source_blurry, targets)
    kernel = frozen_net.encode(source_sharp[None], source_blurry[None])
    expected = frozen_net.blur(targets, kernel.expand(2, -1, -1, -1)).clamp(0, 1)
    torch.testing.assert_close(result.blurry, expected)
    assert result.kernel.shape == (TINY["kernel_dim"], 1, 1) and 0 < result.fidelity_psnr < 100
    with pytest.raises(ValueError, match="same size"):
        transfer_blur(frozen_net, source_sharp, source_blurry, torch.rand(3, 256, 128))


def test_blur_transfer_cli_writes_the_targets(
    checkpoint: Path, tmp_path: Path, monkeypatch, run_command, capsys
) -> None:
    frames = {name: torch.rand(3, 40, 48) for name in ("src_sharp", "src_blur", "t0", "t1")}
    for name, frame in frames.items():
        write_frame(tmp_path / ("targets" if name.startswith("t") else "") / f"{name}.png", frame)
    monkeypatch.chdir(tmp_path)  # relative paths; nothing but the output is written
    fast_nets = []
    monkeypatch.setattr(transfer, "fast_net", lambda net: fast_nets.append(net) or fast_net(net))
    args = [f"ckpt_path={checkpoint}", "source_sharp=src_sharp.png", "source_blurry=src_blur.png",
            "target=targets", "crop=[32,32]"]  # fmt: skip
    run_command(commands.blur_transfer, *args, "output=out")
    assert len(fast_nets) == 1  # on the fast path by default
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["t0.png", "t1.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out", "src_blur.png", "src_sharp.png", "targets"
    ]  # fmt: skip
    assert "encoding fidelity: PSNR of B(x, E(x, y)) vs y =" in capsys.readouterr().out
    run_command(commands.blur_transfer, *args, "output=eager", "fast=false")
    assert len(fast_nets) == 1
    for name in ("t0.png", "t1.png"):  # the fast path's frames, to 8-bit rounding
        fast, eager = (read_frame(tmp_path / folder / name) for folder in ("out", "eager"))
        assert (fast - eager).abs().max() <= 1 / 255 + 1e-6
    with pytest.raises(ValueError, match="holds target frames"):
        run_command(commands.blur_transfer, *args, "output=targets")


def test_augmentation_blurs_sharp_clips_with_other_clips_kernels(checkpoint: Path) -> None:
    torch.manual_seed(0)
    batch = {"blur": torch.rand(3, 2, 3, 32, 32), "sharp": torch.rand(3, 2, 3, 32, 32)}
    augment = BlurTransferAugment(checkpoint, p=1.0, generator=torch.Generator().manual_seed(1))
    out = augment(batch)
    model = augment.model
    # every clip's new blur is its sharp clip blurred with the kernels of some *other* clip
    for i in range(3):
        candidates = [
            model.blur(batch["sharp"][i], model.encode(batch["sharp"][j], batch["blur"][j]))
            .clamp(0, 1) for j in range(3) if j != i
        ]  # fmt: skip
        assert any(torch.allclose(out["blur"][i], c, atol=1e-6) for c in candidates)
    assert torch.equal(out["sharp"], batch["sharp"])
    assert BlurTransferAugment(checkpoint, p=0.0)(batch) is batch
    with pytest.raises(ValueError, match="batch_size >= 2"):
        augment({k: v[:1] for k, v in batch.items()})
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        BlurTransferAugment(checkpoint, p=1.5)
    with pytest.raises(FileNotFoundError, match="missing.ckpt: no such checkpoint file"):
        BlurTransferAugment("missing.ckpt")


def test_augmentation_on_the_fast_path_blurs_as_the_eager_one(checkpoint: Path) -> None:
    batch = {"blur": torch.rand(3, 2, 3, 32, 32), "sharp": torch.rand(3, 2, 3, 32, 32)}
    outs = {}
    for fast in (False, True):
        generator = torch.Generator().manual_seed(1)
        augment = BlurTransferAugment(checkpoint, p=1.0, generator=generator, fast=fast)
        conv = augment.model.operator.post[-1]
        assert conv.weight.is_contiguous(memory_format=torch.channels_last) == fast
        outs[fast] = augment(batch)["blur"]
    assert outs[True].is_contiguous()  # the trained net sees the layout it always did
    torch.testing.assert_close(outs[True], outs[False], rtol=0, atol=1e-5)


def test_datamodule_applies_it_to_training_batches_only(checkpoint: Path, tmp_path) -> None:
    from deblurzoo.data import VideoDataModule
    from deblurzoo.data.layouts import GoproLayout

    calls = []
    dm = VideoDataModule(tmp_path, GoproLayout, batch_size=2, blur_transfer=calls.append)
    batch = {"blur": torch.rand(2, 1, 3, 8, 8)}
    dm.trainer = SimpleNamespace(training=False)
    assert dm.on_after_batch_transfer(batch, 0) is batch and not calls
    dm.trainer = SimpleNamespace(training=True)
    dm.on_after_batch_transfer(batch, 0)
    assert calls == [batch]
    assert VideoDataModule(tmp_path, GoproLayout).blur_transfer is None  # off by default
    with pytest.raises(ValueError, match="batch_size >= 2"):
        VideoDataModule(tmp_path, GoproLayout, batch_size=1, blur_transfer=calls.append)


def test_a_video_model_trains_with_the_augmentation(
    checkpoint: Path, train_cfg, monkeypatch
) -> None:
    calls = []
    original = BlurTransferAugment.__call__

    def counted(self, batch):
        calls.append(len(batch["blur"]))
        return original(self, batch)

    monkeypatch.setattr(BlurTransferAugment, "__call__", counted)
    cfg = train_cfg(
        "data.blur_transfer={_target_: deblurzoo.kernel_space.BlurTransferAugment, "
        f"checkpoint: '{checkpoint}', p: 0.5}}", "test=false",
    )  # fmt: skip
    train(cfg)
    assert calls and all(size == 2 for size in calls)


def test_objective_terms_and_schedules() -> None:
    assert float(kernel_norm(torch.ones(2, 4, 1, 1))) == pytest.approx(2.0)  # not squared
    released = DeblurObjective("released")
    assert released.phase(0.49) == 0 and released.phase(0.5) == 1
    terms = released(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32),
                     torch.rand(1, 3, 32, 32), torch.ones(1, 4, 1, 1), phase=1)  # fmt: skip
    assert "ssim" not in terms and terms["kernel_norm"].item() == pytest.approx(5e-4 * 2)
    with pytest.raises(ValueError, match="schedule must be one of"):
        DeblurObjective("fast")
    with pytest.raises(FileNotFoundError, match="vgg_weights"):
        DeblurConfig(vgg_weights="no/vgg19.pth")


def test_deblurring_loop_decreases_its_objective(frozen_net) -> None:
    blurry, sharp = torch.rand(3, 100, 120), torch.rand(3, 100, 120)
    result = deblur_frame(frozen_net, blurry, TINY_DEBLUR, sharp=sharp, progress=False)
    loss = result.history["loss"]
    assert len(loss) == result.iterations == 8 and result.warmup_iterations == 2
    assert min(loss[-3:]) < loss[0]
    assert result.image.shape == blurry.shape and len(result.history["psnr"]) == 8
    assert loss[result.best_step] == min(loss)  # the returned iterate is the best one


def test_the_fast_path_takes_the_eager_loops_first_steps(frozen_net) -> None:
    """``fast`` (channels_last B and priors, fused Adam) changes layouts and kernels, not the
    function: the first iterate's objective, and the next one's after an Adam step from its
    gradients, are the eager loop's within 1e-5. Later iterates drift apart (see
    ``DeblurConfig.fast``), so only the first two are compared."""
    blurry = torch.rand(3, 100, 120)
    losses = {}
    for fast in (False, True):
        net = copy.deepcopy(frozen_net)
        config = replace(TINY_DEBLUR, warmup_iters=0, fast=fast)
        result = deblur_frame(net, blurry, config, num_iters=2, progress=False)
        losses[fast] = result.history["loss"]
        conv = net.operator.post[-1]
        assert conv.weight.is_contiguous(memory_format=torch.channels_last) == fast
    torch.testing.assert_close(losses[True], losses[False], rtol=1e-5, atol=0)


def test_bf16_runs_the_image_prior_alone_in_bf16(frozen_net, monkeypatch) -> None:
    """``precision="bf16"``: D_x's convolutions compute in bf16 (warm-up and main loop), B's and
    D_k's in fp32, and the loop still descends from about the fp32 loop's first objective."""
    dtypes: dict[str, set[torch.dtype]] = {"image": set(), "kernel": set(), "blur": set()}
    original = torch.nn.Conv2d.forward

    def recording(conv, x):
        out = original(conv, x)
        owner = next(name for name, ids in owners.items() if id(conv) in ids)
        dtypes[owner].add(out.dtype)
        return out

    owners = {"blur": {id(m) for m in frozen_net.modules()}}
    priors = deblur_module._priors

    def recorded_priors(*args, **kwargs):
        image_dip, kernel_dip, *noise = priors(*args, **kwargs)
        owners["image"] = {id(m) for m in image_dip.modules()}
        owners["kernel"] = {id(m) for m in kernel_dip.modules()}
        return image_dip, kernel_dip, *noise

    blurry = torch.rand(3, 100, 120)
    reference = deblur_frame(frozen_net, blurry, replace(TINY_DEBLUR, warmup_iters=0),
                             num_iters=1, progress=False)  # fmt: skip
    monkeypatch.setattr(deblur_module, "_priors", recorded_priors)
    monkeypatch.setattr(torch.nn.Conv2d, "forward", recording)
    config = replace(TINY_DEBLUR, precision="bf16")
    result = deblur_frame(frozen_net, blurry, config, progress=False)
    assert dtypes == {"image": {torch.bfloat16}, "kernel": {torch.float32},
                      "blur": {torch.float32}}  # fmt: skip
    assert result.image.dtype == torch.float32
    loss = result.history["loss"]
    assert min(loss[-3:]) < loss[0]
    cold = deblur_frame(frozen_net, blurry, replace(config, warmup_iters=0), num_iters=1,
                        progress=False)  # fmt: skip
    assert cold.history["loss"][0] == pytest.approx(reference.history["loss"][0], rel=1e-2)
    with pytest.raises(ConfigError, match="precision must be one of \\('fp32', 'bf16'\\)"):
        DeblurConfig(precision="fp16")


def test_warm_start_reuses_the_previous_frames_priors(frozen_net) -> None:
    frames = torch.rand(2, 3, 64, 64)
    results = deblur_video(frozen_net, frames, TINY_DEBLUR, progress=False)
    first, second = results
    assert (first.warmup_iterations, first.iterations) == (2, 8) and not first.warm_started
    assert (second.warmup_iterations, second.iterations) == (0, 3) and second.warm_started
    # no step from the first frame's best state reproduces its best iterate exactly
    resumed = deblur_frame(frozen_net, frames[0], TINY_DEBLUR, init=first.state, num_iters=0,
                           progress=False)  # fmt: skip
    torch.testing.assert_close(resumed.image, first.image)
    cold = deblur_frame(frozen_net, frames[0], replace(TINY_DEBLUR, warmup_iters=0),
                        num_iters=0, progress=False)  # fmt: skip
    assert not torch.allclose(cold.image, first.image)


def test_interrupted_loops_return_the_best_iterate_so_far(frozen_net, monkeypatch) -> None:
    calls = []
    original = DeblurObjective.forward

    def interrupting(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DeblurObjective, "forward", interrupting)
    results = deblur_video(frozen_net, torch.rand(3, 3, 64, 64), TINY_DEBLUR, progress=False)
    assert len(results) == 1 and results[0].interrupted  # the video loop stops too
    assert results[0].iterations == 3 and 0 <= results[0].best_step < 3
    assert results[0].image.shape == (3, 64, 64)


def test_equal_quality_and_saving() -> None:
    comparison = WarmStartComparison(
        cold_iters=400, cold_psnr=[30.0, 31.0], cold_seconds=[4.0, 4.0],
        warm_psnr={50: [29.0, 30.0], 100: [29.9, 31.0], 200: [30.5, 31.5]},
        warm_seconds={50: [0.5, 0.5], 100: [1.0, 1.0], 200: [2.0, 2.0]}, tolerance_db=0.1,
    )  # fmt: skip
    assert comparison.equal_quality_iters() == 100 and comparison.saving() == 0.75
    assert "| warm | 100 | 30.45 | 1.0 |" in comparison.table()


def test_warm_start_command(
    checkpoint: Path, data_dir: Path, tmp_path: Path, run_command, capsys
) -> None:
    sequence = next((data_dir / "synthetic_gopro" / "test").iterdir())
    out = tmp_path / "warm.json"
    run_command(
        commands.warm_start, f"ckpt_path={checkpoint}",
        f"blurry={sequence / 'blur_gamma'}", f"sharp={sequence / 'sharp'}", "frames=2",
        "deblur.num_iters=2", "deblur.warmup_iters=1", "warm_iters=[1,2]",
        "deblur.image_channels=8", "deblur.kernel_channels=4", f"json={out}",
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert "| cold | 3 |" in printed  # a warm-up step (no warm-up kernel) and 2 joint steps
    assert set(json.loads(out.read_text())["warm_psnr"]) == {"1", "2"}


def test_warm_start_config_shows_the_deblur_defaults() -> None:
    """conf/warm_start.yaml lists DeblurConfig's own defaults for the fields it shows."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        deblur = compose("warm_start").deblur
    assert DeblurConfig(**deblur) == DeblurConfig()
