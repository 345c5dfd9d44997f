"""The generic LightningModule that trains and evaluates every video network of the zoo."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch
from lightning import LightningModule
from omegaconf import OmegaConf
from torch import Tensor, nn

from deblurzoo.ensemble import check_temporal_reverse, self_ensemble, transform_set
from deblurzoo.errors import ConfigError
from deblurzoo.fast import check_compile, fast_net, precision_dtype
from deblurzoo.losses import CharbonnierLoss
from deblurzoo.metrics import VideoQualityMetric
from deblurzoo.models import create_model


def _plain(config: Mapping[str, Any]) -> dict[str, Any]:
    """Plain dicts and lists (no OmegaConf nodes), so checkpoints load with ``weights_only``."""
    return OmegaConf.to_container(OmegaConf.create(dict(config)), resolve=True)


def _skip_frames(value: Any) -> tuple[int, int]:
    """``eval.skip_frames`` as ``(first, last)``: two counts of frames, at least 0."""
    skip = tuple(value) if isinstance(value, list | tuple) else ()
    if len(skip) != 2 or not all(isinstance(n, int) and n >= 0 for n in skip):
        raise ConfigError(f"eval.skip_frames must be [first, last], two counts >= 0, got {value!r}")
    return skip


class VideoRestorationModule(LightningModule):
    """Trains any registered video net with a reconstruction loss and scores it per frame.

    The module never names an architecture: ``net`` is the registry entry (``name`` plus keyword
    overrides), stored in the checkpoint so evaluation can rebuild it from the file alone.

    Args:
        net: ``{"name": <registered model>, **kwargs}`` for :func:`deblurzoo.create_model`.
        optimizer: a partial optimizer, called with the parameters.
        scheduler: a partial LR scheduler (stepped per epoch), called with the optimizer, or None.
        loss: the reconstruction loss (Charbonnier, multi-scale aware, by default).
        protocol: evaluation protocol (``conf/eval/``): keyword arguments of
            :class:`VideoQualityMetric` plus ``self_ensemble`` (1, 4, 6 or 8 flips/rotations)
            and ``temporal_reverse``, the test-time ensemble of :mod:`deblurzoo.ensemble` that
            validation, test and :meth:`forward` apply (training steps never do), and
            ``skip_frames`` ``[first, last]``: frames at each end of every sequence and of every
            evaluation chunk left unscored whatever the net, as ESTRNN's test code leaves its
            2 + 2 (``conf/eval/estrnn.yaml``); the net's own border frames are never scored.
        num_sample_frames: frames of the first validation chunk logged as blur | restored | sharp.
        fast: the net's weights in channels_last layout (:func:`deblurzoo.fast.fast_net`), in
            training as in evaluation: the same function, faster convolutions and their
            gradients (``docs/benchmarks.md``, training throughput). Not stored in checkpoints:
            how a net runs, not what it is.
        compile: also compile the net's calls with ``torch.compile`` (in place: the
            checkpoint's keys stay the same).
    """

    def __init__(
        self,
        net: Mapping[str, Any],
        optimizer: functools.partial | None = None,
        scheduler: functools.partial | None = None,
        loss: nn.Module | None = None,
        protocol: Mapping[str, Any] | None = None,
        num_sample_frames: int = 4,
        fast: bool = True,
        compile: bool = False,
    ) -> None:
        super().__init__()
        net, protocol = _plain(net), _plain(protocol or {})
        self.save_hyperparameters(
            {"net": net, "protocol": protocol, "num_sample_frames": num_sample_frames}
        )
        metric_kwargs = dict(protocol)  # the test-time ensemble keys are not the metric's
        ensemble = transform_set(metric_kwargs.pop("self_ensemble", 1), "eval.self_ensemble")
        reverse = metric_kwargs.pop("temporal_reverse", False)
        self.skip_frames = _skip_frames(metric_kwargs.pop("skip_frames", (0, 0)))
        self.net = create_model(**net)
        check_compile(fast, compile, "model.")
        if fast:
            fast_net(self.net, compile)
        self.fast = fast
        self.ensemble_size = len(ensemble)
        self.temporal_reverse = check_temporal_reverse(
            reverse, tuple(self.net.border_frames), "eval.temporal_reverse"
        )
        self.optimizer, self.scheduler = optimizer, scheduler
        self.loss = loss if loss is not None else CharbonnierLoss()
        self.val_metric = VideoQualityMetric(**metric_kwargs)
        self.test_metric = VideoQualityMetric(**metric_kwargs)
        self.test_blur_metric = VideoQualityMetric(**metric_kwargs)
        self.test_results: dict[str, dict[str, Tensor]] = {}

    def setup(self, stage: str) -> None:
        """Tell the DataModule which frames at each end of a chunk are not scored (the border
        frames the net cannot restore, or the protocol's ``skip_frames`` where more), so
        evaluation chunks overlap enough and score only restored frames; refuse clips with
        nothing to restore. Under reduced precision every net takes the fast path's
        channels_last layout (:func:`deblurzoo.fast.fast_net`)."""
        dtype = precision_dtype(str(self.trainer.precision))
        if self.fast and dtype is not None:
            fast_net(self.net, autocast=dtype)
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None:
            return
        datamodule.border_frames = tuple(map(max, self.net.border_frames, self.skip_frames))
        border = sum(self.net.border_frames)
        if stage == "fit" and datamodule.clip_len <= border:
            raise ConfigError(
                f"data.clip_len={datamodule.clip_len} leaves no frame to restore: "
                f"{self.hparams.net['name']} needs {border} border frames per clip"
            )

    def forward(self, blur: Tensor) -> Tensor:
        """The restored clip as evaluated: padded, under the protocol's self-ensemble."""
        return self_ensemble(self.net, blur, self.ensemble_size, self.temporal_reverse)

    def target_frames(self, clip: Tensor) -> Tensor:
        """The frames of ``clip`` the net restores (all but its declared border frames)."""
        first, last = self.net.border_frames
        return clip[:, first : clip.shape[1] - last]

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss = self.loss(self.net(batch["blur"]), self.target_frames(batch["sharp"]))
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["blur"].shape[0])
        return loss

    def _score(self, batch: dict[str, Tensor], metric: VideoQualityMetric, frames: Tensor) -> None:
        score = self.target_frames(batch["score"])
        seq_id = batch["seq_id"][:, None].expand_as(score)
        metric.update(
            frames[score],
            self.target_frames(batch["sharp"])[score],
            seq_id[score],
            self.target_frames(batch["frame_idx"])[score],
        )

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        restored = self(batch["blur"])
        self._score(batch, self.val_metric, restored)
        if batch_idx == 0:
            self._log_samples(batch, restored)

    def on_validation_epoch_end(self) -> None:
        summary = self.val_metric.compute()
        # the metric has gathered every rank's frames: the values agree on all ranks
        self.log("val/psnr", summary["psnr_frame"], prog_bar=True, sync_dist=True)
        self.log("val/ssim", summary["ssim_frame"], sync_dist=True)
        self.val_metric.reset()

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        restored = self(batch["blur"])
        self._score(batch, self.test_metric, restored)
        self._score(batch, self.test_blur_metric, self.target_frames(batch["blur"]))
        return restored

    def on_test_epoch_end(self) -> None:
        for name, metric in (("restored", self.test_metric), ("blurry", self.test_blur_metric)):
            summary = metric.compute()
            prefix = "test/" if name == "restored" else "test/blurry_"
            for key, value in summary.items():
                self.log(prefix + key, value, sync_dist=True)
            self.test_results[name] = {
                **summary,
                **{f"seq_{k}": v for k, v in metric.per_sequence().items()},
            }
            metric.reset()

    def _log_samples(self, batch: dict[str, Tensor], restored: Tensor) -> None:
        """Log ``blur | restored | sharp`` rows to every logger that takes images (wandb)."""
        count = self.hparams.num_sample_frames
        if not count or self.trainer.sanity_checking:
            return
        blur, sharp = self.target_frames(batch["blur"]), self.target_frames(batch["sharp"])
        rows = list(torch.cat([blur, restored, sharp], dim=-1)[0, :count].clamp(0, 1))
        for logger in self.loggers:
            if hasattr(logger, "log_image"):
                logger.log_image(
                    "val/samples",
                    images=rows,
                    step=self.global_step,
                    caption=["blur | restored | sharp"] * len(rows),
                )

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer(params=self.parameters())
        if self.scheduler is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": self.scheduler(optimizer=optimizer), "interval": "epoch"},
        }
