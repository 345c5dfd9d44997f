"""The zoo table: its counts against a hand count, and docs/models.md kept in step with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from deblurzoo import commands, zoo
from deblurzoo.models import create_model, list_models, model_spec, registry
from deblurzoo.zoo import MetaFlopCounter, document, measure, table

DOC = Path(__file__).resolve().parents[1] / "docs" / "models.md"


def test_ifirnn_macs_match_a_hand_count() -> None:
    """IFI-RNN C1H1 at 720×1280: MACs = in·out·k²·(input pixels) for every conv (Table S1)."""
    full, half, quarter = 720 * 1280, 360 * 640, 180 * 320
    macs = (
        3 * 20 * 25 * full + 20 * 40 * 25 * half + 40 * 60 * 25 * quarter  # F_B
        + 12 * 80 * 80 * 9 * quarter  # F_R: 6 ResBlocks
        + (80 * 20 * 9 + 3 * 20 * 20 * 9) * quarter  # F_h
        + 80 * 40 * 9 * quarter + 40 * 20 * 9 * half + 20 * 3 * 25 * full  # F_L
    )  # fmt: skip
    result = measure("ifirnn_c1h1")
    assert result.params == 836_623
    assert result.gmacs_per_frame == pytest.approx(macs / 1e9, rel=1e-9)


def test_evaluation_mode_counts_memdeblur_with_its_bounded_memory(monkeypatch) -> None:
    """Over the profiled frames (12 here, for speed) the training-mode bank keeps every write,
    the evaluation bank the last 5: fewer memory-read products, the same convolutions."""
    monkeypatch.setitem(model_spec("memdeblur").profile_frames, "memdeblur", 12)
    tiny = dict(mid_channels=8, num_blocks_forward=1, num_blocks_backward=1, key_dim=8)
    train = measure("memdeblur", 128, 128, **tiny, backbone="resnet18")
    test = measure("memdeblur", 128, 128, training=False, **tiny, backbone="resnet18")
    assert test.thop_gmacs_per_frame == pytest.approx(train.thop_gmacs_per_frame)
    assert test.gmacs_per_frame < train.gmacs_per_frame


def test_memdeblur_readout_init_is_counted_on_the_meta_device() -> None:
    """``readout_init="zero"`` splices weights together when the net is built; on the meta device
    (where :func:`measure` builds nets, as the notebook and wandb runs do) that must work too and
    change no count."""
    small = dict(mid_channels=8, num_blocks_forward=1, num_blocks_backward=1, key_dim=8)
    zero = measure("memdeblur_slim", 64, 64, readout_init="zero", **small)
    default = measure("memdeblur_slim", 64, 64, **small)
    assert (zero.params, zero.gmacs_per_frame) == (default.params, default.gmacs_per_frame)


def test_windowed_models_are_counted_per_restored_frame() -> None:
    one = measure("strcnn", 64, 64)
    assert one.gmacs_per_frame == pytest.approx(measure("strcnn", 128, 128).gmacs_per_frame / 4)


TINY_MEMDEBLUR = dict(mid_channels=8, num_blocks_forward=1, num_blocks_backward=1, key_dim=8)


@pytest.mark.parametrize(
    ("name", "kwargs", "training"),
    [
        ("memdeblur", dict(TINY_MEMDEBLUR, backbone="resnet18"), True),  # memory reads, BN
        ("memdeblur", dict(TINY_MEMDEBLUR, backbone="resnet18"), False),  # the bounded bank
        ("estrnn", dict(n_blocks=2), True),  # GSA's window: linear layers, concatenations
        ("mlfa", {}, True),  # transposed convolutions, two stages
    ],
)
def test_the_counter_counts_as_flop_counter_mode(name, kwargs, training) -> None:
    """What :func:`measure` counts with (an op is run once per input layout) gives exactly
    FlopCounterMode's count, over a clip that repeats every layer on the same shapes."""
    with torch.device("meta"):
        net = create_model(name, **kwargs).train(training)
        clip = torch.empty(1, 10, 3, 128, 128)
    with FlopCounterMode(display=False) as reference, torch.no_grad():
        net(clip)
    with MetaFlopCounter() as counter, torch.no_grad():
        net(clip)
    assert counter.flops == reference.get_total_flops() > 0


def test_the_counter_runs_every_op_that_changes_an_input() -> None:
    """An in-place op can change its input's shape (``t_``): it runs every time, not only the
    first, so the clone and the product, looked up after the first step, see the right shapes."""

    def step(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        h = x.clone()
        h.t_()
        return h @ weight

    x, weight = torch.empty(3, 5, device="meta"), torch.empty(3, 7, device="meta")
    with MetaFlopCounter() as counter:
        outs = [step(x, weight) for _ in range(3)]
    assert [tuple(out.shape) for out in outs] == [(5, 7)] * 3
    assert counter.flops == 3 * 2 * 5 * 3 * 7


def test_models_doc_is_up_to_date() -> None:
    rows = [measure(name) for name in list_models()]
    assert DOC.read_text() == document(rows, 720, 1280), f"run: {zoo.COMMAND}"


def test_command_prints_the_table_and_writes_only_the_page(
    tmp_path, monkeypatch, run_command, capsys
) -> None:
    """The Hydra command (conf/zoo.yaml) names its overrides in the page and leaves no run folder,
    saved config or log behind."""
    overrides = ["pattern=strcnn", "height=64", "width=64", "training=false", "write=models.md"]
    monkeypatch.chdir(tmp_path)
    run_command(commands.zoo, *overrides)
    page = (tmp_path / "models.md").read_text()
    assert f"Generated by `deblurzoo-zoo {' '.join(overrides)}`" in page
    assert "in evaluation mode" in page
    assert "| `strcnn` |" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["models.md"]


def test_every_model_has_its_family_and_paper() -> None:
    for name in list_models():
        title, paper = zoo.family(name)
        assert title and paper, name
    assert zoo.family("rdbn+irm") == ("RIRN hosts and add-ons", "Park, Nah & Lee, BMVC 2022")
    assert zoo.family("memdeblur_slim") == ("MemDeblur", "Ji & Yao, CVPR 2022")
    assert "CVPRW 2020" in zoo.family("mlfa")[1]


def test_a_registered_model_that_is_not_a_video_net_gets_parameters_only(monkeypatch) -> None:
    """A pair model (kernel_space's sharp/blurry encoder) has no cost per restored frame."""
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))
    registry.register_model("pair_model")(lambda: nn.Linear(3, 4))
    row = measure("pair_model")
    assert (row.params, row.gmacs_per_frame, row.thop_gmacs_per_frame) == (16, None, None)
    assert "| `pair_model` |" in table([row], 720, 1280)
    assert "not a video net" in table([row], 720, 1280)


def test_ratios_divide_by_the_published_figures() -> None:
    published = model_spec("memdeblur").published["memdeblur"]
    row = zoo.Complexity("memdeblur", "MemDeblur", "", 7_000_000, 700.0, 300.0, 100)
    line = table([row], 720, 1280).splitlines()[2]
    assert f"| {300.0 / published.gmacs:.3f} |" in line  # the thop-style count's ratio
    assert f"| {7e6 / published.params:.3f} |" in line
    assert published.source in table([row], 720, 1280)
