"""Every config group composes, and the pieces the entry points build from it instantiate."""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from lightning import Trainer
from omegaconf import OmegaConf

from deblurzoo.data import VideoDataModule
from deblurzoo.data.layouts import BsdLayout, DvdLayout, GoproLayout, RedsLayout
from deblurzoo.tasks import VideoRestorationModule
from deblurzoo.utils.job import CONFIG_DIR
from tests.conftest import compose_config


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


@pytest.mark.parametrize("model", _options("model"))
def test_model_configs_instantiate(model, tmp_path, data_dir) -> None:
    cfg = compose_config("train", tmp_path, data_dir, [f"model={model}"])
    module = hydra.utils.instantiate(cfg.model)
    assert isinstance(module, VideoRestorationModule)
    assert module.hparams.net["name"] == cfg.model.net.name


@pytest.mark.parametrize(
    ("data", "layout"),
    [("gopro", GoproLayout), ("reds", RedsLayout), ("dvd", DvdLayout), ("bsd", BsdLayout)],
)
def test_dataset_configs_build_their_layout(data, layout, tmp_path, data_dir) -> None:
    cfg = compose_config("train", tmp_path, data_dir, [f"data={data}", "data.root=/datasets/x"])
    datamodule = hydra.utils.instantiate(cfg.data)
    assert isinstance(datamodule, VideoDataModule) and type(datamodule.layout) is layout
    assert datamodule.layout.root == Path("/datasets/x")


def test_handheld_synthetic_data_is_the_default_with_shake_under_its_own_root(
    tmp_path, data_dir
) -> None:
    plain, handheld = (
        OmegaConf.to_container(compose_config("train", tmp_path, data_dir, [f"data={d}"]).data)
        for d in ("synthetic", "synthetic_handheld")
    )
    assert plain["layout"]["config"].pop("shake") == 0
    assert handheld["layout"]["config"].pop("shake") > 0
    assert plain.pop("root") != handheld.pop("root")
    assert plain == handheld


@pytest.mark.parametrize("trainer", ["cpu", "ddp_cpu"])
def test_cpu_trainers_instantiate(trainer, tmp_path, data_dir) -> None:
    cfg = compose_config("train", tmp_path, data_dir, [f"trainer={trainer}"])
    assert isinstance(hydra.utils.instantiate(cfg.trainer, logger=False), Trainer)


@pytest.mark.parametrize("trainer", _options("trainer"))
@pytest.mark.parametrize("logger", _options("logger"))
@pytest.mark.parametrize("debug", [None, *_options("debug")])
def test_groups_compose(trainer, logger, debug, tmp_path, data_dir) -> None:
    overrides = [f"trainer={trainer}", f"logger={logger}"] + ([f"debug={debug}"] if debug else [])
    cfg = compose_config("train", tmp_path, data_dir, overrides)
    assert cfg.trainer._target_ == "lightning.Trainer"
    assert cfg.model.protocol == cfg.eval  # the task scores with the eval group's protocol


def test_gpu_trainer_uses_bf16(tmp_path, data_dir) -> None:
    cfg = compose_config("train", tmp_path, data_dir, ["trainer=gpu"])
    assert cfg.trainer.precision == "bf16-mixed" and cfg.trainer.accelerator == "gpu"


def test_eval_requires_a_checkpoint(tmp_path, data_dir) -> None:
    cfg = compose_config("eval", tmp_path, data_dir)
    with pytest.raises(Exception, match="ckpt_path"):
        str(cfg.ckpt_path)


def test_unknown_group_option_lists_the_valid_ones(tmp_path, data_dir) -> None:
    with pytest.raises(ConfigCompositionException, match=r"(?s)gopro.*synthetic"):
        compose_config("train", tmp_path, data_dir, ["data=gorpo"])


@pytest.mark.parametrize("experiment", _options("experiment"))
def test_experiments_compose_and_instantiate(experiment, tmp_path, data_dir) -> None:
    cfg = compose_config(
        "train", tmp_path, data_dir, [f"experiment={experiment}", "data.root=/datasets/x"]
    )
    assert cfg.task_name == experiment
    assert isinstance(hydra.utils.instantiate(cfg.model), VideoRestorationModule)
    assert isinstance(hydra.utils.instantiate(cfg.data), VideoDataModule)


@pytest.mark.parametrize("launcher", ["slurm", "local"])
def test_submitit_launchers_compose(launcher) -> None:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", [f"hydra/launcher={launcher}"], return_hydra_config=True)
    assert cfg.hydra.launcher._target_.startswith("hydra_plugins.hydra_submitit_launcher")
    assert cfg.hydra.launcher.submitit_folder.endswith(".submitit/%j")


def test_optuna_search_maximises_in_a_multirun() -> None:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", ["hparams_search=optuna"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert cfg.hydra.mode.name == "MULTIRUN" and sweeper.direction == "maximize"
    assert set(sweeper.params) == {"model.optimizer.lr", "model.optimizer.weight_decay"}
