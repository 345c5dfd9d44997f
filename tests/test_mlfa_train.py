"""MLFA's two-stage recipe through the real entry point (CPU): stage 1 on single frames, then the
dual-stage model training stage 2 on a frozen stage 1 loaded from the first run's checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import pytest
import torch

from deblurzoo.data import ClipAugment
from deblurzoo.data.frames import write_frame
from deblurzoo.eval import evaluate
from deblurzoo.infer import infer
from deblurzoo.losses import L1Loss
from deblurzoo.models.loading import load_net
from deblurzoo.train import train
from deblurzoo.utils.job import compose_config as compose
from tests.conftest import compose_config

STAGE1 = {"width": 4, "num_blocks": 1, "atrous_width": 4, "block_width": 8, "dilations": "[1,2]"}
JITTER = [
    f"data.augment.{k}={v}"
    for k, v in (("brightness", 0.2), ("hue", 0.1), ("saturation", 0.2), ("contrast", 0.2))
]
RUN = [
    "logger=csv",
    "trainer.max_epochs=1",
    "callbacks.progress_bar=null",
    "data.crop_size=32",
    *JITTER,
]


def _state(ckpt: str, prefix: str) -> dict[str, torch.Tensor]:
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}


def test_stage1_then_stage2_on_the_frozen_stage1(tmp_path: Path, data_dir: Path) -> None:
    stage1 = [f"model.net.{k}={v}" for k, v in STAGE1.items()]
    cfg1 = compose_config(
        "train",
        tmp_path / "stage1",
        data_dir,
        ["model=mlfa_stage1", *stage1, *RUN, "data.clip_len=1"],
    )
    summary1 = train(cfg1)
    assert summary1["net"]["name"] == "mlfa_stage1" and Path(summary1["ckpt_path"]).is_file()

    model = [
        "model=mlfa",
        f"model.net.stage1_checkpoint={summary1['ckpt_path']}",
        *(f"model.net.stage1.{k}={v}" for k, v in STAGE1.items()),
        "model.net.stage2.width=4",
        "model.net.stage2.num_blocks=1",
    ]
    cfg2 = compose_config("train", tmp_path / "stage2", data_dir, [*model, *RUN, "data.clip_len=3"])
    summary2 = train(cfg2)
    metrics = json.loads((Path(cfg2.paths.output_dir) / "metrics.json").read_text())
    assert metrics["net"]["name"] == "mlfa"
    assert metrics["net"]["stage1_checkpoint"] == summary1["ckpt_path"]
    assert metrics["restored"]["psnr_frame"] == pytest.approx(summary2["restored"]["psnr_frame"])

    trained1 = _state(summary1["ckpt_path"], "net.")
    frozen = _state(summary2["ckpt_path"], "net.stage1.")
    assert trained1.keys() == frozen.keys()
    assert all(torch.equal(trained1[k], frozen[k]) for k in trained1)  # stage 1 never moved
    # ... while stage 2 trained: its weights differ from a fresh net of the same seed
    torch.manual_seed(cfg2.seed)
    fresh = hydra.utils.instantiate(cfg2.model).net.stage2.state_dict()
    stage2 = _state(summary2["ckpt_path"], "net.stage2.")
    assert any(not torch.equal(fresh[k], stage2[k]) for k in fresh)

    # the stage-2 checkpoint holds stage 1 too: it is used where the stage-1 file is gone, by
    # eval (from the stored config, or from model= naming the file) and infer
    Path(summary1["ckpt_path"]).unlink()
    ckpt = f"ckpt_path={summary2['ckpt_path']}"
    for extra in ([], model):
        cfg = compose_config("eval", tmp_path / "eval", data_dir, ["logger=none", ckpt, *extra])
        assert evaluate(cfg)["restored"] == pytest.approx(summary2["restored"], abs=1e-6)
    rebuilt = load_net(summary2["ckpt_path"]).stage1.state_dict()
    assert all(torch.equal(trained1[k], rebuilt[k]) for k in trained1)
    for i in range(3):
        write_frame(tmp_path / "frames" / f"{i}.png", torch.rand(3, 32, 32))
    args = [f"input={tmp_path / 'frames'}", ckpt, "video=null", "progress=false"]
    assert infer(compose("infer", args, tmp_path / "infer"))["frames"] == 3


@pytest.mark.parametrize("dataset", ["reds", "gopro"])
def test_recipes_follow_the_paper(dataset: str, tmp_path: Path, data_dir: Path) -> None:
    """Sec. 3.3: 320² crops, batch 1 (stage 1) / 2 (stage 2), L1, Adam 1e-4, colour jitter."""
    for stage, clip_len, batch in (("stage1", 1, 1), ("stage2", 3, 2)):
        cfg = compose_config(
            "train", tmp_path, data_dir, [f"experiment=mlfa_{stage}_{dataset}", "data.root=/x"]
        )
        assert (cfg.data.clip_len, cfg.data.crop_size, cfg.data.batch_size) == (
            clip_len,
            320,
            batch,
        )
        assert cfg.model.net.name == ("mlfa_stage1" if stage == "stage1" else "mlfa")
        assert cfg.model.optimizer.lr == 1e-4 and cfg.trainer.max_steps == 2_500_000
        augment = hydra.utils.instantiate(cfg.data.augment)
        assert isinstance(augment, ClipAugment) and augment.photometric and not augment.reverse
        module = hydra.utils.instantiate(cfg.model)
        assert isinstance(module.loss, L1Loss) and module.loss.trim_frames == clip_len // 2
        optimizer = module.configure_optimizers()
        scheduler = optimizer["lr_scheduler"]["scheduler"]
        for _ in range(3):
            optimizer["optimizer"].step()
            scheduler.step()
        assert scheduler.get_last_lr() == [1e-4]  # constant
