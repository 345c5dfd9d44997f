"""``deblurzoo-zoo``: parameters and compute of every registered model, as a Markdown table.

GMACs are counted with ``torch.utils.flop_counter.FlopCounterMode`` on the meta device (shapes
only, nothing is computed): convolutions, transposed convolutions and matrix products are counted,
element-wise operations (activations, gates, additions, normalisation, resampling) are not;
MACs = FLOPs / 2. A second column counts the way ``thop`` — and so most published tables — does:
convolution layers only, each as output elements × input channels × kernel area, which charges a
stride-2 transposed convolution four times its true cost and does not see matrix products such
as MemDeblur's memory reads.
A net is fed the clip its paper profiled (``profile_frames``, e.g. MemDeblur's 100 frames, whose
memory grows with the clip) or one frame, plus its border frames, in training mode as thop's users
did, and the count is per restored frame at the given resolution (720×1280 by default);
``--eval`` counts in evaluation mode instead, where MemDeblur's memory is bounded::

    deblurzoo-zoo                       # print the table
    deblurzoo-zoo --write docs/models.md
    deblurzoo-zoo --pattern 'memdeblur*' --eval
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from deblurzoo.models import VideoNet, create_model, list_models

COMMAND = "deblurzoo-zoo --write docs/models.md"

#: Family and paper of each model subpackage (``deblurzoo.models.<subpackage>``).
FAMILIES = {
    "rirn": ("RIRN hosts and add-ons", "Park, Nah & Lee, BMVC 2022"),
    "memdeblur": ("MemDeblur", "Ji & Yao, CVPR 2022"),
    "mlfa": ("atrous net + MLFA", "Brehm, Scherer & Lienhart, CVPRW 2020"),
    "kernel_space": ("blur kernel space", "Tran, Tran, Phung & Hoai, CVPR 2021"),
}


@dataclass(frozen=True)
class Published:
    """What a paper or its authors' code publishes for a registered model: parameters and GMACs
    per frame at 720×1280 (counted with ``thop``, i.e. our "thop-style" column), and where."""

    params: float | None = None
    gmacs: float | None = None
    source: str = ""


#: Figures for the same quantities from the papers and the authors' code
#: (``reference-implementations.md`` §1, §4, §5.1). Models without any are left blank.
PUBLISHED = {
    "memdeblur": Published(
        6_989_047, 324.77, "the released code's, counted as its authors count (thop, training "
        "mode, a 100-frame clip): GMACs 324.77 (its README says 325.48, paper Table 1 344.49); "
        "parameters those it executes, 7,027,706 in its state dict less 38,659 unused, which "
        "holds the 4,416 ResNet conv biases we omit",
    ),
    "memdeblur_slim": Published(None, 197.34, "GMACs: paper Table 1"),
    "mlfa_stage1": Published(
        47.26e6, None, "parameters: the released code's layer shapes, whose first conv is 7×7 "
        "(paper: 9×9, +6,144; `first_kernel=7` gives 47,261,830)",
    ),
    "mlfa_stage2": Published(
        46.17e6, None, "parameters: the released code's layer shapes; with its stem, fused "
        "kernels and UnitNorm (`stem=true fused_resample=true unit_norm=true`): 46,174,966",
    ),
    "kernel_space": Published(
        49.21e6, None, "parameters: the authors' code without the VAE head, which "
        "`variant=released` matches (49,205,187); the default follows supp. Tables 1–4, whose "
        "U-Net has 3×3 kernels where the code's has 4×4 without biases (40.0 M)",
    ),
}  # fmt: skip


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


def family(net: nn.Module) -> tuple[str, str]:
    """``(family, paper)`` of a net, from the model subpackage that defines its class."""
    package = type(net).__module__.removeprefix("deblurzoo.models.").split(".")[0]
    return FAMILIES.get(package, (package, ""))


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
            return Complexity(name, *family(net), params, None, None, None)
        first, last = net.border_frames
        frames = getattr(net, "profile_frames", 1)
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
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            net(clip)
        for hook in hooks:
            hook.remove()
    giga_per_frame = 1e9 * frames
    return Complexity(
        name,
        *family(net),
        params,
        counter.get_total_flops() / 2 / giga_per_frame,
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
        pub = PUBLISHED.get(r.name, Published())
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pattern", default="*", help="shell pattern of model names")
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--eval", action="store_true", help="count in evaluation mode")
    parser.add_argument("--write", type=Path, help="write the Markdown document to this file")
    args = parser.parse_args(argv)
    rows = [
        measure(name, args.height, args.width, training=not args.eval)
        for name in list_models(args.pattern)
    ]
    if args.write:
        command = " ".join(["deblurzoo-zoo", *(argv if argv is not None else sys.argv[1:])])
        args.write.write_text(
            document(rows, args.height, args.width, command, training=not args.eval)
        )
    print(table(rows, args.height, args.width))


if __name__ == "__main__":
    main()
