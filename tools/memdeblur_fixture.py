"""Make the fixture of MemDeblur's checkpoint conversion (tests/test_memdeblur_convert.py).

Runs the authors' own network (a checkout of github.com/jibo27/MemDeblur, never a dependency of
deblurzoo) in the same process:

1. builds it as their training script does (``model.Model(config)`` of their config file), the
   ImageNet download of its ResNet stage stubbed out (``thop`` too, if missing);
2. fills its state dict with deterministic weights computed from each key's name and shape
   (``tests/fixtures/authors_weights.py``; residual blocks damped ×0.3, as their 0.1-scaled init
   does, so 40 of them keep activations of order one);
3. saves it in their checkpoint format (their training loop's dict, with Adam's and
   MultiStepLR's states) and loads it back as their test script does;
4. runs their evaluation-mode forward on a fixed short BGR uint8 clip, normalised as their test
   script does (``x/255 − 0.5``), and keeps the finest scale's output.

It writes ``keys.json`` (the file's top-level layout and the state dict's key → shape, dtype,
gain), ``input.pt`` (the clip, ``[T, 3, H, W]`` uint8 BGR) and ``output.pt`` (their output,
``[T, 3, H, W]`` float32, BGR, centred) under ``tests/fixtures/memdeblur/``. The two released
configurations (``config/memdeblur_gopro_{ds,ori}.yml``) build the same network, which the tool
checks; one fixture covers both.

    git --git-dir=<mirror> worktree add /tmp/memdeblur HEAD   # or: git archive | tar -x
    .venv/bin/python tools/memdeblur_fixture.py /tmp/memdeblur
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.authors_weights import authors_state_dict, describe  # noqa: E402

CONFIGS = ("memdeblur_gopro_ds.yml", "memdeblur_gopro_ori.yml")
#: The options of their config that shape the network (the rest: data, training, test paths).
MODEL_OPTIONS = ("model", "mid_channels", "mem_every", "num_blocks_forward", "num_blocks_backward")
MODEL_OPTIONS += ("scales", "test_mem_length")
_RESIDUAL_CONV = re.compile(r"resblocks\.main\.\d+\.\d+\.conv[12]\.weight$")


def gain(name: str) -> float:
    """The residual blocks' convolutions ×0.3, everything else ×1."""
    return 0.3 if _RESIDUAL_CONV.search(name) else 1.0


def config(repo: Path, name: str) -> SimpleNamespace:
    """Their config file, as their ``main.py`` reads it."""
    with open(repo / "config" / name) as f:
        return SimpleNamespace(**yaml.safe_load(f))


def import_authors(repo: Path) -> types.ModuleType:
    """Their ``model`` package, with the imports they need but we lack stubbed."""
    if importlib.util.find_spec("thop") is None:  # only their GMAC count uses it
        sys.modules["thop"] = types.SimpleNamespace(profile=None)
    sys.path.insert(0, str(repo))
    import model  # their package
    from model.modules import mod_resnet

    # their ResNet stage loads ImageNet weights from a URL; every weight is overwritten anyway
    mod_resnet.model_zoo = types.SimpleNamespace(load_url=lambda url: {})
    mod_resnet.load_weights_sequential = lambda *args, **kwargs: None
    return model


def import_file(path: Path, name: str) -> types.ModuleType:
    """One file of theirs without its package's ``__init__`` (which imports their data stack)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clip(frames: int, height: int, width: int) -> torch.Tensor:
    """A fixed BGR uint8 clip ``[T, 3, H, W]``: smooth colour ramps moving across frames, plus
    noise (so that keys differ between locations and frames)."""
    gen = torch.Generator().manual_seed(2022)
    y = torch.linspace(0, 1, height).view(1, 1, height, 1)
    x = torch.linspace(0, 1, width).view(1, 1, 1, width)
    t = torch.arange(frames, dtype=torch.float32).view(frames, 1, 1, 1)
    phase = torch.tensor([0.0, 2.0, 4.0]).view(1, 3, 1, 1)
    smooth = 0.5 + 0.35 * torch.sin(6 * x + 4 * y + 0.4 * t + phase)
    noise = 0.15 * torch.randn(frames, 3, height, width, generator=gen)
    return ((smooth + noise).clamp(0, 1) * 255).round().to(torch.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path, help="a checkout of jibo27/MemDeblur")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/memdeblur")
    parser.add_argument("--checkpoint", type=Path, default=Path("/tmp/memdeblur_fixture.pth.tar"))
    parser.add_argument("--frames", type=int, default=7)
    parser.add_argument("--size", type=int, nargs=2, default=(48, 64), metavar=("H", "W"))
    args = parser.parse_args()

    configs = [config(args.repo, name) for name in CONFIGS]
    model_options = [{k: vars(c)[k] for k in MODEL_OPTIONS} for c in configs]
    if any(options != model_options[0] for options in model_options):
        raise SystemExit(f"the configurations build different networks: {model_options}")
    para = configs[0]
    authors = import_authors(args.repo)
    optimizer = import_file(args.repo / "train" / "optimizer.py", "memdeblur_optimizer")
    torch.manual_seed(para.seed)

    # their training script's model, filled with the deterministic weights
    net = authors.Model(para)
    keys = describe(net.state_dict(), gain)
    net.load_state_dict(authors_state_dict(keys), strict=True)

    # their training loop's checkpoint (train/dp.py), then their test script's loading
    opt = optimizer.Optimizer(para, net)
    checkpoint = {
        "epoch": para.end_epoch,
        "model": para.model,
        "state_dict": net.state_dict(),
        "register_dict": {"PSNR_valid": {1: 30.0, "max": 30.0, "min": 30.0}},
        "optimizer": opt.optimizer.state_dict(),
        "scheduler": opt.scheduler.state_dict(),
    }
    torch.save(checkpoint, args.checkpoint)
    net = authors.Model(para)
    net.load_state_dict(torch.load(args.checkpoint, map_location="cpu")["state_dict"])
    net.eval()

    # their test script: BGR uint8 → float, centred and normalised, whole clip, finest scale
    frames = clip(args.frames, *args.size)
    with torch.no_grad():
        inputs = (frames[None].float() - 255 / 2) / 255
        output = net([inputs])[-1][0].contiguous()

    args.out.mkdir(parents=True, exist_ok=True)
    layout = {
        "source": "tools/memdeblur_fixture.py: jibo27/MemDeblur's network, deterministic weights "
        "(tests/fixtures/authors_weights.py)",
        "configs": list(CONFIGS),
        "model_options": model_options[0],
        "top_level": {k: type(v).__name__ for k, v in checkpoint.items()},
        "state_dict": keys,
    }
    (args.out / "keys.json").write_text(json.dumps(layout, indent=1) + "\n")
    torch.save(frames.clone(), args.out / "input.pt")
    torch.save(output.clone(), args.out / "output.pt")
    residual = output + 0.5 - frames.float() / 255
    print(
        f"{args.out}: {len(keys)} keys, clip {tuple(frames.shape)}, output std "
        f"{output.std():.4f}, residual (output − input) std {residual.std():.4f}, "
        f"max |residual| {residual.abs().max():.4f}"
    )


if __name__ == "__main__":
    main()
