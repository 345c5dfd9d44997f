"""``deblurzoo-zoo``: parameters and compute of every registered model, as a Markdown table.

GMACs are counted as ``torch.utils.flop_counter.FlopCounterMode`` counts them, on the meta device
(shapes only, nothing is computed): convolutions, transposed convolutions and matrix products are
counted, element-wise operations (activations, gates, additions, normalisation, resampling) are
not; MACs = FLOPs / 2. (:class:`MetaFlopCounter` applies its formulas but runs an op only the
first time it meets its input shapes: a 100-frame clip repeats the same layers on the same shapes,
and counting it takes seconds instead of a minute.) A second column counts the way ``thop`` — and
so most published tables — does: convolution layers only, each as output elements × input
channels × kernel area, which charges a stride-2 transposed convolution four times its true cost
and does not see matrix products such as MemDeblur's memory reads.
A net is fed the clip its paper profiled (its spec's ``profile_frames``, e.g. MemDeblur's 100
frames, whose memory grows with the clip) or one frame, plus its border frames, in training mode
as thop's users did, and the count is per restored frame at the given resolution (720×1280 by
default); ``training=false`` counts in evaluation mode instead, where MemDeblur's memory is
bounded. The options are ``conf/zoo.yaml``'s::

    deblurzoo-zoo                       # print the table
    deblurzoo-zoo write=docs/models.md
    deblurzoo-zoo pattern='memdeblur*' training=false
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from deblurzoo.models import Published, VideoNet, create_model, list_models, model_spec

COMMAND = "deblurzoo-zoo write=docs/models.md"


@dataclass(frozen=True)
class Complexity:
    """Parameters and, for a video net, GMACs per restored frame (``None`` otherwise)."""

    name: str
    family: str
    paper: str
    params: int
    gmacs_per_frame: float | None
    thop_gmacs_per_frame: float | None
    frames: int | None


def family(name: str) -> tuple[str, str]:
    """``(family title, paper)`` of the registered model ``name``, from its family's spec."""
    spec = model_spec(name)
    return spec.title, spec.paper


def _signature(value: Any) -> Any:
    """A hashable key of an op argument: a tensor's shape, strides, dtype and device, any other
    value with its type (``2`` and ``2.0`` promote differently)."""
    if isinstance(value, torch.Tensor):
        return torch.Tensor, tuple(value.shape), value.stride(), value.dtype, value.device
    if isinstance(value, (list, tuple)):
        return type(value), tuple(map(_signature, value))
    if isinstance(value, dict):
        return dict, tuple((key, _signature(item)) for key, item in value.items())
    return type(value), value


def _rebuild(signature: Any) -> Any:
    """An op's result (a tensor, a list or tuple of them, a plain value) again from its
    :func:`_signature`: fresh tensors of the same layout, on the meta device nothing to fill."""
    kind, *rest = signature
    if kind is torch.Tensor:
        shape, stride, dtype, device = rest
        return torch.empty_strided(shape, stride, dtype=dtype, device=device)
    if kind in (list, tuple):
        return kind(map(_rebuild, rest[0]))
    return rest[0]


class MetaFlopCounter(TorchDispatchMode):
    """The FLOPs (``flops``) of what runs under it on the meta device, counted as
    ``FlopCounterMode`` counts them (its ``flop_registry``, and an op without a formula split into
    the ops it decomposes into), without the per-module breakdown. An op met again with inputs of
    the same layout and arguments is not run: its FLOPs and the layout of its result are those of
    the first time, which only holds where nothing is computed; ops that modify an input (whose
    shape they may change: ``unsqueeze_``) always run."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0
        self._seen: dict[Any, tuple[int, Any]] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func._schema.is_mutable:
            return self._run(func, args, kwargs)
        key = func, _signature(args), _signature(kwargs)
        if key in self._seen:
            flops, result = self._seen[key]
            self.flops += flops
            return _rebuild(result)
        before = self.flops
        out = self._run(func, args, kwargs)
        self._seen[key] = self.flops - before, _signature(out)
        return out

    def _run(self, func, args, kwargs):
        formula = flop_registry.get(func._overloadpacket)
        if formula is None and func is not torch.ops.prim.device.default:
            with self:
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
        out = func(*args, **kwargs)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


def measure(
    name: str, height: int = 720, width: int = 1280, /, *, training: bool = True, **kwargs
) -> Complexity:
    """Parameters and GMACs per restored frame of the registered model ``name``, built with
    ``kwargs`` and run in training mode (or evaluation mode: ``training=False``).

    Only video nets (:class:`~deblurzoo.models.VideoNet`: a clip in, the restored clip out) have
    a cost per restored frame; any other registered model (``kernel_space``'s sharp/blurry pair
    encoder) gets its parameters counted and ``None`` for the GMACs."""
    with torch.device("meta"):
        net = create_model(name, **kwargs).train(training)
        params = sum(p.numel() for p in net.parameters())
        if not isinstance(net, VideoNet):
            return Complexity(name, *family(name), params, None, None, None)
        first, last = net.border_frames
        frames = model_spec(name).profile_frames.get(name, 1)
        clip = torch.empty(1, frames + first + last, 3, height, width)
        thop_macs = []
        hooks = [
            m.register_forward_hook(
                lambda m, _, out: thop_macs.append(
                    out.numel() * m.in_channels // m.groups * math.prod(m.kernel_size)
                )
            )
            for m in net.modules()
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
        ]
        with MetaFlopCounter() as counter, torch.no_grad():
            net(clip)
        for hook in hooks:
            hook.remove()
    giga_per_frame = 1e9 * frames
    return Complexity(
        name,
        *family(name),
        params,
        counter.flops / 2 / giga_per_frame,
        sum(thop_macs) / giga_per_frame,
        frames,
    )


def _number(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def _ratio(ours: float | None, published: float | None) -> str:
    return "" if ours is None or published is None else f"{ours / published:.3f}"


def table(rows: list[Complexity], height: int, width: int) -> str:
    lines = [
        f"| model | family | paper | parameters | published | ratio | GMACs / frame @ {height}×"
        f"{width} | thop-style | published | ratio | clip |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for r in rows:
        pub = model_spec(r.name).published.get(r.name, Published())
        if pub.source:
            notes.append(f"- `{r.name}`: {pub.source}.")
        gmacs = "not a video net" if r.gmacs_per_frame is None else f"{r.gmacs_per_frame:.1f}"
        lines.append(
            f"| `{r.name}` | {r.family} | {r.paper} | {r.params:,} | "
            f"{_number(pub.params, ',.0f')} | {_ratio(r.params, pub.params)} | {gmacs} | "
            f"{_number(r.thop_gmacs_per_frame, '.1f')} | {_number(pub.gmacs, '.2f')} | "
            f"{_ratio(r.thop_gmacs_per_frame, pub.gmacs)} | {_number(r.frames, 'd')} |"
        )
    return "\n".join(lines + ([""] + notes if notes else []))


def document(
    rows: list[Complexity],
    height: int,
    width: int,
    command: str = COMMAND,
    training: bool = True,
) -> str:
    """The Markdown page of ``rows``, naming the ``command`` that wrote it."""
    mode = "training" if training else "evaluation"
    return f"""# Models

Generated by `{command}` (src/deblurzoo/zoo.py); do not edit by hand.
Parameters are those of the registered model at its paper configuration. GMACs are per restored
frame at {height}×{width}, counted with `torch.utils.flop_counter` in {mode} mode over a clip of
the listed length (the paper's protocol where it depends on the clip, else one restored frame).
The first GMACs column counts convolutions and matrix products; element-wise operations and
resampling are not counted; MACs = FLOPs / 2. The second counts as `thop`, and so most published
tables, do: convolution layers only, as output elements × input channels × kernel area, which
charges a stride-2 transposed convolution four times its cost and misses matrix products.
*Published* are the figures the paper or the authors' code give for the same quantity (sources
below the table); each *ratio* is ours ÷ published, for GMACs the thop-style count's, the same
counting rule. A registered model that is not a video net (`kernel_space`, a sharp/blurry pair
model) has no cost per restored frame: only its parameters are listed.

Measured elsewhere: speed and inference memory of every model in [benchmarks.md](benchmarks.md)
(`make bench`); MemDeblur's component ablation, its test-time compute and bounded memory in
[memdeblur.md](memdeblur.md); the kernel-space encoder in [kernel_space.md](kernel_space.md).

{table(rows, height, width)}
"""


def main(cfg: DictConfig) -> None:
    """Print the table of the models ``cfg.pattern`` matches; write the page to ``cfg.write``."""
    rows = [
        measure(name, cfg.height, cfg.width, training=cfg.training)
        for name in list_models(cfg.pattern)
    ]
    if cfg.write:
        command = " ".join(["deblurzoo-zoo", *HydraConfig.get().overrides.task])
        page = document(rows, cfg.height, cfg.width, command, training=cfg.training)
        Path(cfg.write).write_text(page)
    print(table(rows, cfg.height, cfg.width))


if __name__ == "__main__":  # python -m deblurzoo.zoo
    from deblurzoo import commands

    commands.zoo()
