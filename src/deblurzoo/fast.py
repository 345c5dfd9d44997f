"""The inference fast path: the eager net's function in less time.

``fast=true`` is the default of ``deblurzoo-infer``, ``deblurzoo-eval`` and
:func:`deblurzoo.restoration.restore_frames` (``fast=false`` turns it off). It keeps what the
measurements of ``deblurzoo-bench sections=[fast]`` (``docs/benchmarks.md``) show helps:

* ``torch.inference_mode`` around the forward passes, not ``no_grad`` (no version counters);
* channels_last weights: oneDNN's and cuDNN's convolutions run fastest on NHWC tensors, and a
  convolution with NHWC weights gives NHWC features whatever its input's layout, so the
  weights alone switch a net over. A net whose class measured no faster in float32 so declares
  (:attr:`deblurzoo.models.VideoNet.channels_last`: RDBN's dense blocks, and ESTRNN) and keeps
  its layout there; under bf16/fp16 autocast, and in training under Lightning's reduced
  precisions (``trainer.precision=bf16-mixed``), every net takes it.

``compile=true`` also compiles the net with ``torch.compile`` (inductor), once per net: a later
call reuses the compiled code. It is off by default. On the CPU it takes a further 10–43 % off
the fast path's time in fp32 and 18–70 % under bf16 (more at 720×1280 than at 256×256), but its
first pass compiles for seconds to minutes, and longer the longer the clip, because a
recurrent net's loop over frames is unrolled (one compilation per clip shape). The bench
measures both (``deblurzoo-bench compile=true``: the *compiled* and *compile s* columns, from
an empty cache). Inductor caches compiled code on disk, so a later run of the same net and clip
shape compiles in a fraction of that time. The commands (``deblurzoo-train``, ``-eval``,
``-infer``) keep that cache in ``~/.cache/deblurzoo/torchinductor``, which outlives the run and
reboots and serves every node of a cluster whose home is shared (``conf/hydra/default.yaml``;
``TORCHINDUCTOR_CACHE_DIR``, when set, wins); in Python it is inductor's default, under the
system's temporary folder.

Outputs stay the eager float32 outputs: within 1e-4 for every registered model
(``tests/test_fast.py``). Training takes the same path (``model.fast``, the default, and
``model.compile`` of :class:`deblurzoo.tasks.VideoRestorationModule`): the same loss and
gradients to 1e-4, in less time per step. ``deblurzoo-eval`` runs the net as its own ``fast``
and ``compile`` say, whatever the checkpoint's task was trained with.

Reduced precision is not part of the fast path, because it changes the arithmetic: bf16
autocast (``precision=bf16`` of ``deblurzoo-infer``, Lightning's ``trainer.precision=bf16-mixed``)
is a choice of its own. The bench times it against the eager fp32 pass and gives the PSNR
between the two outputs. Where an eager fp32 pass already runs its convolutions at more than
half the processor's peak fp32 rate (the bench's *floor* above 0.5, as for MemDeblur and RDBN
at 256×256 on the CPU), no change of layout or compilation can halve its time; bf16 on a
processor with AMX can.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from weakref import WeakSet

import torch
from torch import nn

from deblurzoo.errors import ConfigError
from deblurzoo.models import VideoNet

_COMPILED: WeakSet[nn.Module] = WeakSet()  # the nets fast_net compiled


def fast_net(
    net: nn.Module, compile: bool = False, autocast: torch.dtype | None = None
) -> nn.Module:
    """``net``, changed in place so that every later call gains: its weights in channels_last
    layout, unless it will run in float32 (``autocast`` ``None``) and a video net in it
    declines that layout, and with ``compile`` its calls compiled by ``torch.compile``
    (:meth:`torch.nn.Module.compile`, which keeps the state dict's keys). A net is compiled
    once: a later call with ``compile`` leaves it as it is."""
    nets = [m for m in net.modules() if isinstance(m, VideoNet)]
    if autocast is not None or all(m.channels_last for m in nets):
        net.to(memory_format=torch.channels_last)
    if compile and net not in _COMPILED:
        net.compile()
        _COMPILED.add(net)
    return net


def precision_dtype(precision: str) -> torch.dtype | None:
    """The reduced dtype of a Lightning ``trainer.precision`` (``bf16-mixed``, ``16-true``, …);
    ``None`` for 32 and 64 bits."""
    if precision.startswith("bf16"):
        return torch.bfloat16
    return torch.float16 if precision.startswith("16") else None


def check_compile(fast: bool, compile: bool, prefix: str = "") -> None:
    """Refuse ``compile`` off the fast path, naming the options as ``prefix`` + name."""
    if compile and not fast:
        raise ConfigError(f"{prefix}compile=true needs {prefix}fast=true (the fast path)")


def no_grad(fast: bool) -> AbstractContextManager:
    """``torch.inference_mode()`` on the fast path, ``torch.no_grad()`` otherwise."""
    return torch.inference_mode() if fast else torch.no_grad()
