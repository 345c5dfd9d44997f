"""Lightning DDP inside Hydra jobs: one output directory per job, single runs and sweeps alike.

Lightning starts the other local ranks by re-running the command line with
``hydra.run.dir=<run dir>`` (``lightning/fabric/strategies/launchers/subprocess_script.py``).
That breaks under a sweep (the ranks would re-run the whole ``-m`` sweep), under the submitit
launcher (the command line is submitit's) and after the first job of a multirun, whose
``LOCAL_RANK``/``WORLD_SIZE`` variables make Lightning take the next job for a worker it did
not start (ashleve/lightning-hydra-template issue #393, Lightning PR #18175, Hydra issue #2070).
:class:`HydraDDPStrategy` starts each rank as a single run of *this job* instead:
``python -m deblurzoo.<config> <the job's overrides> hydra.run.dir=<the job's output dir>``, and
:func:`end_distributed_job` clears what the job left behind so the next job starts afresh.
On SLURM (and under torchrun) the ranks are started by the cluster, so nothing is launched.
"""

from __future__ import annotations

import os
import subprocess
import sys

import torch
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

#: What the rank-0 process of a job exports for the ranks it starts (Lightning's launcher).
LAUNCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")

_launched_here = False


def rank_command(local_rank: int) -> list[str]:
    """The command line that runs local rank ``local_rank`` of the current Hydra job."""
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    return [
        sys.executable,
        "-m",
        f"deblurzoo.{hydra_cfg.job.config_name}",
        *hydra_cfg.overrides.task,
        f'hydra.run.dir="{hydra_cfg.runtime.output_dir}"',
        "hydra.output_subdir=null",  # rank 0 already wrote the job's .hydra/ folder
        f"hydra.job.name={hydra_cfg.job.name}_rank{local_rank}",
        "hydra.mode=RUN",  # an Optuna search config asks for MULTIRUN; a rank runs one job
    ]


class _HydraJobLauncher(_SubprocessScriptLauncher):
    """Lightning's subprocess launcher, starting the ranks with :func:`rank_command`."""

    def _call_children_scripts(self) -> None:
        from hydra.core.hydra_config import HydraConfig

        if not HydraConfig.initialized():  # plain Python: Lightning's own re-execution
            return super()._call_children_scripts()
        global _launched_here
        self._check_can_spawn_children()
        os.environ["MASTER_ADDR"] = self.cluster_environment.main_address
        os.environ["MASTER_PORT"] = str(self.cluster_environment.main_port)
        os.environ["NODE_RANK"] = str(self.cluster_environment.node_rank())
        os.environ["LOCAL_RANK"] = str(self.cluster_environment.local_rank())
        os.environ["WORLD_SIZE"] = str(self.num_processes * self.num_nodes)
        _launched_here = True
        cwd = HydraConfig.get().runtime.cwd
        self.procs = [
            subprocess.Popen(
                rank_command(rank), env={**os.environ, "LOCAL_RANK": str(rank)}, cwd=cwd
            )
            for rank in range(1, self.num_processes)
        ]


class HydraDDPStrategy(DDPStrategy):
    """``DDPStrategy`` whose extra local ranks run the current Hydra job (``trainer=ddp``,
    ``trainer=ddp_cpu``); takes every ``DDPStrategy`` argument."""

    strategy_name = "ddp_hydra"

    def _configure_launcher(self) -> None:
        assert self.cluster_environment is not None
        if not self.cluster_environment.creates_processes_externally:
            self._launcher = _HydraJobLauncher(
                self.cluster_environment, self.num_processes, self.num_nodes
            )


def end_distributed_job() -> None:
    """After a job: leave the process group and, in the process that started the job's ranks,
    forget the rank variables, so the next job of a sweep starts its own ranks."""
    global _launched_here
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    if _launched_here:
        for name in LAUNCH_VARIABLES:
            os.environ.pop(name, None)
        _launched_here = False
