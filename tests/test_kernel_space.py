"""The blur-kernel-space encoder (Tran et al., CVPR 2021): shapes, padding, parameter counts from
the supplementary's tables, and training of B(x, E(x, y)) on frame pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import deblurzoo
from deblurzoo.eval import evaluate
from deblurzoo.kernel_space import load_kernel_space
from deblurzoo.losses import charbonnier
from deblurzoo.models.kernel_space import KernelSpace, pad_to_multiple
from deblurzoo.tasks.kernel_space import kl_divergence
from deblurzoo.train import train
from tests.conftest import TINY_DATA, compose_config

TINY = {"channels": 4, "kernel_dim": 8, "front_blocks": 1, "back_blocks": 1, "extractor_blocks": 1}
TINY_OVERRIDES = [f"model.net.{k}={v}" for k, v in TINY.items()]


def _conv(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k + cout


def _count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_parameter_count_from_tables_1_to_4() -> None:
    prb = _conv(3, 64, 3) + 2 * _conv(64, 64, 3) + 10 * 2 * _conv(64, 64, 3)  # Table 1
    ladder = [(64, 128), (128, 256), (256, 512), (512, 512), (512, 512)]
    extractor = _conv(128, 64, 7) + sum(_conv(a, b, 3) for a, b in ladder)  # Table 3
    extractor += 4 * 2 * _conv(512, 512, 3)
    encoder = sum(_conv(a, b, 3) for a, b in [(64, 64), *ladder[:4]])  # Table 4
    decoder = sum(
        _conv(a, b, 3) for a, b in [(1024, 512), (1024, 256), (512, 128), (256, 64), (128, 64)]
    )
    pob = 20 * 2 * _conv(64, 64, 3) + 2 * _conv(64, 256, 3) + _conv(64, 64, 3) + _conv(64, 3, 3)
    with torch.device("meta"):
        net = deblurzoo.create_model("kernel_space")
    assert _count(net) == prb + extractor + encoder + decoder + pob == 40_009_987


def test_released_variant_matches_the_released_code_count() -> None:
    """49.21 M without the VAE head and 115.27 M with it (docs/reference_code.md)."""
    with torch.device("meta"):
        plain = deblurzoo.create_model("kernel_space", variant="released")
        vae = deblurzoo.create_model("kernel_space", variant="released", vae=True)
    assert _count(plain) == 49_205_187
    assert _count(vae) == 115_265_475
    assert _count(plain.operator.unet) == 21_037_120  # the 4×4 U-Net: most of the difference


@pytest.mark.parametrize("variant", ["paper", "released"])
@pytest.mark.parametrize(("size", "grid"), [((128, 128), (1, 1)), ((256, 384), (2, 3))])
def test_kernel_shape_follows_the_input_size(size, grid, variant) -> None:
    net = KernelSpace(**TINY, variant=variant)
    sharp, blurry = torch.rand(2, 3, *size), torch.rand(2, 3, *size)
    kernel = net.encode(sharp, blurry)
    assert kernel.shape == (2, TINY["kernel_dim"], *grid)
    assert net.blur(sharp, kernel).shape == sharp.shape


def test_sizes_off_the_grid_are_padded_and_cropped_back() -> None:
    torch.manual_seed(0)
    net = KernelSpace(**TINY).eval()
    sharp, blurry = torch.rand(1, 2, 3, 100, 150), torch.rand(1, 2, 3, 100, 150)  # a clip
    kernel = net.encode(sharp, blurry)
    assert kernel.shape == (1, 2, TINY["kernel_dim"], 1, 2)
    out = net.blur(sharp, kernel)
    assert out.shape == sharp.shape
    padded = net.blur(pad_to_multiple(sharp[0]), kernel[0])
    assert padded.shape[-2:] == (128, 256)
    torch.testing.assert_close(out[0], padded[..., :100, :150])
    with pytest.raises(ValueError, match="kernel for"):
        net.blur(torch.rand(1, 3, 300, 150), kernel[0, :1])


def test_blur_of_encoded_kernel_trains_to_reduce_the_loss() -> None:
    torch.manual_seed(0)
    net = KernelSpace(**TINY)
    sharp = torch.nn.functional.avg_pool2d(torch.rand(4, 3, 128, 128), 5, 1, 2)
    blurry = torch.nn.functional.avg_pool2d(sharp, 9, 1, 4, count_include_pad=False)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.99))
    losses = []
    for _ in range(30):
        loss = charbonnier(net(sharp, blurry).blurry, blurry)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_vae_head_samples_in_training_and_encodes_the_mean() -> None:
    torch.manual_seed(0)
    net = KernelSpace(**TINY, vae=True)
    sharp, blurry = torch.rand(1, 3, 128, 128), torch.rand(1, 3, 128, 128)
    first, second = net(sharp, blurry), net(sharp, blurry)
    assert not torch.equal(first.kernel, second.kernel)
    torch.testing.assert_close(first.code.mean, net.encode(sharp, blurry))
    net.eval()
    torch.testing.assert_close(net(sharp, blurry).kernel, net.encode(sharp, blurry))
    zero = torch.zeros(2, 8, 1, 1)
    assert torch.equal(kl_divergence(zero, zero), torch.zeros(2))


@pytest.fixture(scope="session")
def kernel_space_run(tmp_path_factory, data_dir) -> Path:
    """One epoch of the synthetic recipe at tiny widths on the tiny synthetic set."""
    output_dir = tmp_path_factory.mktemp("kernel_space_run")
    cfg = compose_config(
        "train",
        output_dir,
        data_dir,
        [
            "experiment=kernel_space_synthetic", *TINY_DATA, *TINY_OVERRIDES, "logger=csv",
            "trainer.max_epochs=1", "trainer.check_val_every_n_epoch=1",
            "callbacks.progress_bar=null",
        ],
    )  # fmt: skip
    train(cfg)
    return output_dir


def test_training_task_scores_encoding_fidelity(kernel_space_run: Path) -> None:
    summary = json.loads((kernel_space_run / "metrics.json").read_text())
    assert summary["net"]["name"] == "kernel_space"
    # restored: B(x, E(x, y)) against y; blurry: the sharp frame against y
    assert 0 < summary["restored"]["psnr_frame"] < 100
    assert 0 < summary["blurry"]["psnr_frame"] < 100
    net = load_kernel_space(kernel_space_run / "checkpoints" / "last.ckpt")
    assert isinstance(net, KernelSpace) and not net.training
    assert not any(p.requires_grad for p in net.parameters())


def test_eval_rebuilds_the_kernel_space_task_from_its_checkpoint(
    kernel_space_run: Path, tmp_path: Path, data_dir: Path
) -> None:
    summary = json.loads((kernel_space_run / "metrics.json").read_text())
    eval_dir = tmp_path / "eval"
    cfg = compose_config(
        "eval", eval_dir, data_dir, [*TINY_DATA, "logger=none", f"ckpt_path={summary['ckpt_path']}"]
    )
    scores = evaluate(cfg)
    for kind in ("restored", "blurry"):
        assert scores[kind]["psnr_frame"] == pytest.approx(summary[kind]["psnr_frame"], abs=1e-6)


def test_the_task_refuses_another_model_and_test_time_ensembles() -> None:
    from deblurzoo.tasks import KernelSpaceModule

    with pytest.raises(ValueError, match="trains the kernel_space model"):
        KernelSpaceModule({"name": "ifirnn_c1h1"})
    with pytest.raises(ValueError, match="self_ensemble=1"):
        KernelSpaceModule({"name": "kernel_space", **TINY}, protocol={"self_ensemble": 8})
