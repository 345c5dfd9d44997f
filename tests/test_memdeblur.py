"""MemDeblur (Ji & Yao, CVPR 2022): shapes, gradients, the memory bank's maths and test-time bound,
the ablation switches, the released code's parameter count and the local ImageNet weights."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest
import timm
import torch
from torch import Tensor, nn

from deblurzoo import create_model
from deblurzoo.models import MultiScaleFrames
from deblurzoo.models.memdeblur import MemDeblur
from deblurzoo.models.memdeblur.deblurring_branch import FEATURE_CHANNELS
from deblurzoo.models.memdeblur.memory_bank import MemoryBank
from deblurzoo.models.memdeblur.memory_encoders import MemoryEncoder

TINY = dict(
    mid_channels=8, num_blocks_forward=1, num_blocks_backward=1, backbone="resnet18", key_dim=8
)
# Training clips use B = 2: at 32×32 the quarter-scale key grid is 1×1, and BatchNorm in the
# ResNet stage needs more than one value per channel while training.
TRAIN_BATCH = 2

# Parameters of the modules the released code executes (docs/reference_code.md, MemDeblur).
REFERENCE_PARAMS = {
    "downsampling": 48_420,
    "upsampling": 24_291,
    "forward_input_convs": 663_744,
    "forward_resblocks": 2_215_680,
    "backward_resblocks": 867_648,
    "fusion": 8_256,
    "key_encoder": 471_856,
    "value_encoder_mem": 382_432,
    "value_encoder_feat": 387_040,
    "key_proj": 147_520,
    "decoder_mem": 886_080,
    "decoder_feat": 886_080,
}
# The code's ResNet-50 copy (STCN's) gives every conv of the stage a bias; timm's has none:
# conv1 (64) + layer1's three bottlenecks (64 + 64 + 256 each) + its downsample conv (256).
STAGE_CONV_BIASES = 64 + 3 * (64 + 64 + 256) + 256
ENCODERS_WITH_A_RESNET_STAGE = ("key_encoder", "value_encoder_mem", "value_encoder_feat")


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _tiny(name: str = "memdeblur", **kwargs) -> MemDeblur:
    torch.manual_seed(0)
    return create_model(name, **{**TINY, **kwargs})


def _frames(out: Tensor | MultiScaleFrames) -> Tensor:
    return out.frames if isinstance(out, MultiScaleFrames) else out


@pytest.fixture(scope="module")
def paper_net() -> MemDeblur:
    """The full model at the paper's widths (ResNet-50 stages), built once."""
    torch.manual_seed(0)
    return create_model("memdeblur")


# --- shapes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", ["memdeblur", "memdeblur_slim"])
def test_output_shapes(name: str, training: bool) -> None:
    """Full-resolution frames in both modes; only the full model while training adds the 1/2 and
    1/4 predictions, coarsest last, their sizes rounded up to a multiple of 4 (40/4 = 10 → 12,
    56/4 = 14 → 16) as in the released code."""
    net = _tiny(name).train(training)
    b = TRAIN_BATCH if training else 1
    out = net(torch.rand(b, 3, 3, 40, 56))
    frames = _frames(out)
    assert frames.shape == (b, 3, 3, 40, 56)
    assert torch.isfinite(frames).all()
    if training and name == "memdeblur":
        assert isinstance(out, MultiScaleFrames)
        assert [c.shape for c in out.coarse] == [(b, 3, 3, 20, 28), (b, 3, 3, 12, 16)]
    else:
        assert isinstance(out, Tensor) and not isinstance(out, MultiScaleFrames)


@pytest.mark.parametrize("size", [(32, 30), (30, 32), (34, 34)])
def test_sizes_not_divisible_by_4_are_refused(size: tuple[int, int]) -> None:
    """D works at 1/4 resolution, so H and W must be multiples of 4 (``spatial_multiple``)."""
    net = _tiny().eval()
    assert net.spatial_multiple == 4
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.rand(1, 2, 3, *size))


# --- gradients ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["memdeblur", "memdeblur_slim"])
def test_gradients_reach_every_memory_module(name: str) -> None:
    """On a clip long enough that memories are written and read (T = 6, forward writes at frame
    0 and 5), the loss on the full-resolution frames reaches K, every V and every G, and every
    parameter is in the graph."""
    net = _tiny(name).train()
    _frames(net(torch.rand(TRAIN_BATCH, 6, 3, 32, 32))).mean().backward()
    modules = {
        "key_encoder": net.key_encoder,
        **{f"value_encoders.{k}": m for k, m in net.value_encoders.items()},
        **{f"decoders.{k}": m for k, m in net.decoders.items()},
    }
    assert len(modules) == 5  # K, V_r, V_h, G_r, G_h
    for label, module in modules.items():
        assert any(p.grad is not None and p.grad.any() for p in module.parameters()), label
    assert [n for n, p in net.named_parameters() if p.grad is None] == []


@pytest.mark.parametrize("name", ["memdeblur", "memdeblur_slim"])
def test_zero_readout_init_starts_as_the_memory_off_net(name: str) -> None:
    """``readout_init="zero"``: the untrained memory-on net computes what the memory-off net of
    the same seed computes, and leaves the random stream where that net leaves it (so training
    sees the same crops in the same order); the weights with which F_f and F_b take the readouts
    start at zero but get a gradient, so training can phase the memory in."""
    off = _tiny(name, memory=False)
    after_off = torch.get_rng_state()
    on = _tiny(name, readout_init="zero")
    assert torch.equal(torch.get_rng_state(), after_off)
    clip = torch.rand(TRAIN_BATCH, 6, 3, 32, 32)
    for training in (False, True):
        with torch.no_grad():
            expected = _frames(off.train(training)(clip))
            assert torch.allclose(_frames(on.train(training)(clip)), expected, atol=1e-6)
    _frames(on(clip)).mean().backward()
    c = TINY["mid_channels"]
    own = 2 * FEATURE_CHANNELS + c  # F_f: x_i, x_{i-1}, h_{i-1}; F_b: x_i, x_{i+1}, h_{i+1}
    reads = slice(own, own + c * (len(on.forward_values) + (on.backward_f is not None)))
    readouts = [layers[0].weight[:, reads] for layers in on.forward_inputs]
    grads = [layers[0].weight.grad[:, reads] for layers in on.forward_inputs]
    if on.backward_f is not None:
        readouts.append(on.backward_f[0].weight[:, own:])
        grads.append(on.backward_f[0].weight.grad[:, own:])
    assert all(not w.any() for w in readouts) and all(g.any() for g in grads)


def test_default_readout_init_reads_the_memory_from_the_start() -> None:
    """The paper's init: the untrained net's output already depends on the readouts."""
    clip = torch.rand(TRAIN_BATCH, 6, 3, 32, 32)
    net, silenced = _tiny(), _tiny()
    silenced._read = lambda bank, key, kinds, x, label: [silenced._zeros(x)] * len(kinds)
    with torch.no_grad():
        assert not torch.allclose(_frames(silenced(clip)), _frames(net(clip)))


@pytest.mark.parametrize("key_norm", [False, True])
def test_key_norm_holds_the_keys_when_the_projection_grows(key_norm: bool) -> None:
    """``key_norm``: every key location has zero mean and unit variance over its channels, so
    scaling K's projection, as training did to the plain keys (``docs/memdeblur.md``), leaves the
    keys and the logits of Eq. 5 as they were; without it the keys grow with the projection."""
    torch.manual_seed(0)
    encoder = MemoryEncoder(FEATURE_CHANNELS, FEATURE_CHANNELS, 8, "resnet18", key_norm=key_norm)
    x = torch.rand(2, FEATURE_CHANNELS, 32, 32)
    with torch.no_grad():
        key = encoder.eval()(x)
        encoder.project.weight.mul_(10)
        grown = encoder(x)
    if key_norm:
        torch.testing.assert_close(key.mean(1), torch.zeros_like(key[:, 0]), atol=1e-5, rtol=0)
        torch.testing.assert_close(
            key.var(1, correction=0), torch.ones_like(key[:, 0]), atol=1e-3, rtol=0
        )
        torch.testing.assert_close(grown, key, atol=1e-4, rtol=1e-4)
    else:
        torch.testing.assert_close(grown, 10 * key)


def test_key_norm_is_trained_and_needs_a_key() -> None:
    net = _tiny("memdeblur_slim", key_norm=True).train()
    _frames(net(torch.rand(TRAIN_BATCH, 6, 3, 32, 32))).mean().backward()
    assert all(p.grad is not None and p.grad.any() for p in net.key_encoder.norm.parameters())
    assert _tiny("memdeblur_slim").key_encoder.norm is None
    with pytest.raises(ValueError, match="key_norm needs key_dim"):
        MemoryEncoder(FEATURE_CHANNELS, 32, None, "resnet18", key_norm=True)


# --- the memory bank ----------------------------------------------------------------------------


def _watch_writes(monkeypatch: pytest.MonkeyPatch, observe) -> None:
    """Wrap ``MemoryBank.write``: ``observe(bank, label)`` after every write."""
    write = MemoryBank.write

    def watched_write(bank: MemoryBank, key, values, label=None) -> None:
        write(bank, key, values, label)
        observe(bank, label)

    monkeypatch.setattr(MemoryBank, "write", watched_write)


def _record_writes(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[int]]:
    """The bank's length after each write, per bank."""
    lengths: dict[int, list[int]] = {}
    _watch_writes(monkeypatch, lambda bank, _: lengths.setdefault(id(bank), []).append(len(bank)))
    return lengths


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_memory_is_bounded_at_test_time_only(
    monkeypatch: pytest.MonkeyPatch, training: bool
) -> None:
    """Sec. 4.1 keeps the most recent writes at test time (here 2); while training both banks
    keep everything. On 12 frames the backward bank gets 3 writes and the shared forward bank
    3 + 6 + 12 (T1, T2, T3 = 5, 2, 1)."""
    net = _tiny(memory_length=2).train(training)
    lengths = _record_writes(monkeypatch)
    with torch.no_grad():
        net(torch.rand(TRAIN_BATCH if training else 1, 12, 3, 32, 32))
    assert sorted(len(w) for w in lengths.values()) == [3, 21]  # both banks, every write
    longest = max(max(w) for w in lengths.values())
    if training:
        assert sorted(w[-1] for w in lengths.values()) == [3, 21]
    else:
        assert longest == 2


def test_location_bound_holds_in_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """``memory_bound="locations"``: in evaluation every bank holds at most ``memory_length``
    times the latest write's locations after each write, across the scales sharing it."""
    sizes: list[tuple[int, int, int]] = []
    _watch_writes(
        monkeypatch,
        lambda bank, _: sizes.append(
            (sum(k.shape[2] for k in bank.keys), bank.keys[-1].shape[2], len(bank))
        ),
    )
    with torch.no_grad():
        _tiny(memory_length=2, memory_bound="locations").eval()(torch.rand(1, 12, 3, 64, 64))
    assert len(sizes) == 3 + 3 + 6 + 12
    assert all(total <= 2 * latest for total, latest, _ in sizes)
    assert max(writes for *_, writes in sizes) > 2  # more of the coarse writes than 2


def test_banks_are_written_and_read_on_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """On 4 frames the backward bank is written once (frame 3: every 5th frame counting from the
    last) and read at the 3 later backward steps and at all 4 frames of all 3 scales; the shared
    forward bank is written at frames 0–3, 0 and 2, then 0 (T3, T2, T1 = 1, 2, 5, coarsest
    first) and read at every frame but the first of each scale (Eq. 11): 3 × 3 reads."""
    counts: dict[int, list[int]] = {}
    for index, method in enumerate(("write", "read")):
        original = getattr(MemoryBank, method)

        def counting(bank: MemoryBank, *args, _original=original, _index=index, **kwargs):
            counts.setdefault(id(bank), [0, 0])[_index] += 1
            return _original(bank, *args, **kwargs)

        monkeypatch.setattr(MemoryBank, method, counting)
    with torch.no_grad():
        _tiny().eval()(torch.rand(1, 4, 3, 32, 32))
    assert sorted(counts.values()) == [[1, 3 + 3 * 4], [4 + 2 + 1, 3 * 3]]


def test_bank_drops_the_oldest_write() -> None:
    """``max_writes=2`` after three writes holds the last two keys and their values, in order."""
    bank = MemoryBank(max_writes=2)
    keys = [torch.full((1, 2, 1, 1), float(i)) for i in range(3)]
    values = [(torch.full((1, 3, 1, 1), 10.0 + i),) for i in range(3)]
    for key, value in zip(keys, values, strict=True):
        bank.write(key, value)
    assert len(bank) == 2
    assert [k.flatten().tolist() for k in bank.keys] == [[1.0, 1.0], [2.0, 2.0]]
    assert [v.flatten().tolist() for (v,) in bank.values] == [[11.0] * 3, [12.0] * 3]


def test_location_bound_keeps_the_latest_writes_worth_of_locations() -> None:
    """``bound="locations"`` (the released code): after each write keep ``max_writes`` × the
    latest key grid's locations. Three 2×2 writes with ``max_writes=2`` keep the last two; a
    1×1 write then keeps 2 locations: itself and the last location of the write before it."""
    bank = MemoryBank(max_writes=2, bound="locations")
    for i in range(3):
        key = torch.arange(4.0).reshape(1, 1, 2, 2) + 10 * i
        bank.write(key, (key + 100,), label=i)
    assert bank.labels == [1, 2] and [k.shape[2] for k in bank.keys] == [4, 4]
    bank.write(torch.full((1, 1, 1, 1), -1.0), (torch.full((1, 1, 1, 1), -2.0),), label=3)
    assert bank.labels == [2, 3] and bank.grids == [(2, 2), (1, 1)]
    assert [k.flatten().tolist() for k in bank.keys] == [[23.0], [-1.0]]
    assert [v.flatten().tolist() for (v,) in bank.values] == [[123.0], [-2.0]]
    assert bank.attention(torch.zeros(1, 1, 3, 3)).shape == (1, 2, 9)
    # the paper's bound counts writes whatever their size
    writes = MemoryBank(max_writes=2)
    for size in (2, 2, 1):
        writes.write(torch.zeros(1, 1, size, size), (torch.zeros(1, 1, size, size),))
    assert [k.shape[2] for k in writes.keys] == [4, 1]


@pytest.mark.parametrize(
    ("schedule", "training", "frames"),
    [
        ("from_last", True, [11, 6, 1]),
        ("from_last", False, [11, 6, 1]),
        ("released", True, [11, 6, 1]),
        ("released", False, [11, 7, 2]),  # the code's evaluation rule: 2, 7, ... and the last
    ],
)
def test_backward_bank_schedule(
    monkeypatch: pytest.MonkeyPatch, schedule: str, training: bool, frames: list[int]
) -> None:
    """F_b (from the last frame to the first) writes every 5th frame; the released code's
    evaluation writes other frames than its training."""
    written: list[tuple[str, object]] = []
    _watch_writes(monkeypatch, lambda bank, label: written.append((bank.name, label)))
    net = _tiny(backward_schedule=schedule, multi_scale=False).train(training)
    with torch.no_grad():
        net(torch.rand(TRAIN_BATCH if training else 1, 12, 3, 32, 32))
    assert [label[1] for name, label in written if name == "backward"] == frames


def _random_bank(similarity: str = "l2", top_k: int | None = None) -> MemoryBank:
    """Two writes of different grid sizes (scales share the bank): 3·3 + 2·2 = 13 locations."""
    torch.manual_seed(0)
    bank = MemoryBank(similarity=similarity, top_k=top_k)
    for h, w in ((3, 3), (2, 2)):
        bank.write(torch.randn(2, 4, h, w), (torch.randn(2, 5, h, w),))
    return bank


@pytest.mark.parametrize("similarity", ["l2", "dot"])
def test_attention_is_a_distribution_over_memory(similarity: str) -> None:
    """Eq. 6: ``[B, N, h·w]`` with every query location's column a distribution over all N
    memory locations (every location weighs something under the full softmax)."""
    weights = _random_bank(similarity).attention(torch.randn(2, 4, 3, 5))
    assert weights.shape == (2, 13, 15)
    assert (weights > 0).all()
    torch.testing.assert_close(weights.sum(1), torch.ones(2, 15))


@pytest.mark.parametrize("top_k", [1, 5, 12])
def test_top_k_keeps_exactly_k_locations(top_k: int) -> None:
    """The released code's test-time top-k: exactly k non-zeros per column, still summing to 1,
    and they are the k most similar locations."""
    bank = _random_bank(top_k=top_k)
    query = torch.randn(2, 4, 3, 5)
    weights = bank.attention(query)
    assert ((weights > 0).sum(1) == top_k).all()
    torch.testing.assert_close(weights.sum(1), torch.ones(2, 15))
    full = dataclasses.replace(bank, top_k=None).attention(query)
    assert torch.equal(weights > 0, full >= full.topk(top_k, dim=1).values[:, -1:])


def test_top_k_beyond_the_memory_is_the_full_softmax() -> None:
    query = torch.randn(2, 4, 3, 5)
    full = _random_bank().attention(query)
    torch.testing.assert_close(_random_bank(top_k=13).attention(query), full)
    torch.testing.assert_close(_random_bank(top_k=20).attention(query), full)


def test_l2_similarity_prefers_the_equal_key_and_dot_the_longer_one() -> None:
    """Memory locations q, 2q, −q for query q: the negative squared distance ranks q first, the
    dot product 2q — so the two similarities really differ."""
    q = torch.tensor([1.0, -2.0, 0.5])
    keys = torch.stack([q, 2 * q, -q], dim=1).reshape(1, 3, 1, 3)
    query = q.reshape(1, 3, 1, 1)
    for similarity, best in (("l2", 0), ("dot", 1)):
        bank = MemoryBank(similarity=similarity)
        bank.write(keys, (torch.zeros(1, 1, 1, 3),))
        assert bank.attention(query)[0, :, 0].argmax().item() == best, similarity


def test_unknown_similarity_is_refused() -> None:
    with pytest.raises(ValueError, match="similarity"):
        MemoryBank(similarity="cosine")


def _reference_read(
    writes: list[tuple[Tensor, tuple[Tensor, ...]]], query: Tensor, similarity: str
) -> list[Tensor]:
    """Eqs. 5–7 location by location for batch size 1: softmax over every stored location of
    −‖k − q‖²/√C_k (or k·q/√C_k), then the weighted sum of each value."""
    ck, height, width = query.shape[1:]
    locations = [
        (key[0, :, y, x], [v[0, :, y, x] for v in values])
        for key, values in writes
        for y in range(key.shape[2])
        for x in range(key.shape[3])
    ]
    reads = [torch.zeros(v.shape[1], height, width) for v in writes[0][1]]
    for y in range(height):
        for x in range(width):
            q = query[0, :, y, x]
            if similarity == "l2":
                scores = [-float((k - q).square().sum()) / math.sqrt(ck) for k, _ in locations]
            else:
                scores = [float(k @ q) / math.sqrt(ck) for k, _ in locations]
            exps = [math.exp(s - max(scores)) for s in scores]
            for weight, (_, vs) in zip(exps, locations, strict=True):
                for read, v in zip(reads, vs, strict=True):
                    read[:, y, x] += weight / sum(exps) * v
    return reads


@pytest.mark.parametrize("similarity", ["l2", "dot"])
def test_read_is_the_attention_weighted_sum_of_values(similarity: str) -> None:
    """Two writes (1×2 and 2×1 locations), two values each sharing one attention map, read at a
    2×2 query: equal to the location-by-location sum of Eqs. 5–7, including the 1/√C_k scale."""
    torch.manual_seed(0)
    writes = [
        (torch.randn(1, 4, 1, 2), (torch.randn(1, 3, 1, 2), torch.randn(1, 2, 1, 2))),
        (torch.randn(1, 4, 2, 1), (torch.randn(1, 3, 2, 1), torch.randn(1, 2, 2, 1))),
    ]
    query = torch.randn(1, 4, 2, 2)
    bank = MemoryBank(similarity=similarity)
    for key, values in writes:
        bank.write(key, values)
    reads = bank.read(query)
    assert [r.shape for r in reads] == [(1, 3, 2, 2), (1, 2, 2, 2)]
    for read, expected in zip(reads, _reference_read(writes, query, similarity), strict=True):
        torch.testing.assert_close(read[0], expected)


def test_temporary_memory_is_read_with_the_bank() -> None:
    """Table 5's 'Temp.': the temporary memory adds its locations to the attention and its values
    to the readout exactly like one more write."""
    torch.manual_seed(0)
    writes = [(torch.randn(1, 4, 2, 2), (torch.randn(1, 3, 2, 2),)) for _ in range(2)]
    query = torch.randn(1, 4, 2, 2)
    with_temp, written = MemoryBank(), MemoryBank()
    with_temp.write(*writes[0])
    with_temp.temporary = (*writes[1], "temporary")
    for key, values in writes:
        written.write(key, values)
    assert len(with_temp) == 1
    assert with_temp.attention(query).shape == (1, 8, 4)
    torch.testing.assert_close(with_temp.read(query)[0], written.read(query)[0])


# --- ablation switches --------------------------------------------------------------------------


def test_without_memory_there_is_no_memory_branch() -> None:
    """Table 4's deblurring branch alone: no K, V or G, fewer parameters, still restores."""
    default, net = _tiny(), _tiny(memory=False)
    assert net.key_encoder is None
    memory_prefixes = ("key_encoder", "value_encoders", "decoders")
    assert not [n for n, _ in net.named_parameters() if n.startswith(memory_prefixes)]
    assert _params(net) < _params(default)
    out = net.train()(torch.rand(TRAIN_BATCH, 3, 3, 32, 32))
    assert _frames(out).shape == (TRAIN_BATCH, 3, 3, 32, 32)


def test_unidirectional_has_no_backward_pass_and_is_causal() -> None:
    """``bidirectional=False`` drops F_b and the fusion; then frame 0 cannot depend on later
    frames, while the bidirectional model's frame 0 sees the last frame through F_b and the
    backward bank."""
    net = _tiny(bidirectional=False)
    assert net.backward_f is None and net.fusion is None
    clip = torch.rand(1, 4, 3, 32, 32)
    changed = clip.clone()
    changed[:, -1] = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        for model, first_frame_moves in ((net, False), (_tiny(), True)):
            model.eval()
            moved = not torch.equal(model(clip)[:, 0], model(changed)[:, 0])
            assert moved == first_frame_moves


def test_backward_state_of_frame_i_is_fused_into_frame_i() -> None:
    """With the fusion's forward half zeroed, frame i sees only F_b's state h_i^b (Eqs. 10, 12),
    which depends on frames i … T−1: the last frame no longer depends on frame 0, while frame 0
    still depends on the last one."""
    net = _tiny().eval()
    with torch.no_grad():
        net.fusion[0].weight[:, net.mid_channels :] = 0
        clip = torch.rand(1, 4, 3, 32, 32)
        out = net(clip)
        for frame, moved_frame, moves in ((0, 3, False), (3, 0, True)):
            changed = clip.clone()
            changed[:, frame] = torch.rand(1, 3, 32, 32)
            assert (not torch.equal(net(changed)[:, moved_frame], out[:, moved_frame])) == moves


def test_forward_state_is_carried() -> None:
    """Eq. 11 without memory or backward pass: frame 2 sees frame 0 only through h_1, the hidden
    state carried by F_f (x_{i-1} reaches back one frame only)."""
    net = _tiny(memory=False, bidirectional=False, multi_scale=False).eval()
    clip = torch.rand(1, 3, 3, 32, 32)
    changed = clip.clone()
    changed[:, 0] = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert not torch.equal(net(changed)[:, 2], net(clip)[:, 2])


def test_single_scale_returns_plain_frames() -> None:
    """``multi_scale=False``: one input conv of F_f and no coarse predictions while training."""
    net = _tiny(multi_scale=False).train()
    assert len(net.forward_inputs) == 1
    assert len(_tiny().forward_inputs) == 3
    out = net(torch.rand(TRAIN_BATCH, 3, 3, 32, 32))
    assert isinstance(out, Tensor) and not isinstance(out, MultiScaleFrames)
    assert out.shape == (TRAIN_BATCH, 3, 3, 32, 32)


@pytest.mark.parametrize(
    ("values", "bidirectional", "kinds"),
    [
        ("separate", True, {"r", "h"}),
        ("h", True, {"h"}),
        ("r", True, {"r", "h"}),  # the backward bank stores V_h
        ("joint", True, {"joint", "h"}),
        ("separate", False, {"r", "h"}),
        ("r", False, {"r"}),
        ("joint", False, {"joint"}),
    ],
)
def test_value_variants_build_their_encoders(values: str, bidirectional: bool, kinds: set) -> None:
    """Table 6: the forward bank's values (plus V_h for the backward bank) decide which V and G
    exist — one decoder per value encoder — and every variant restores a clip."""
    net = _tiny(values=values, bidirectional=bidirectional, multi_scale=False).eval()
    assert set(net.value_encoders) == kinds
    assert set(net.decoders) == kinds
    with torch.no_grad():
        assert net(torch.rand(1, 3, 3, 32, 32)).shape == (1, 3, 3, 32, 32)


def test_without_deblurring_branch_only_memory_drives_the_output() -> None:
    """Table 5's 'w/o Deblur.': F_f keeps only its input conv and sees nothing but the memory
    readouts. With writes at frames 0 and 5 only, frame 3 depends on frame 0 (read from memory)
    and not on frame 2 (never written, no recurrent state)."""
    net = _tiny(deblur_branch=False, bidirectional=False, multi_scale=False).eval()
    assert len(net.forward_trunk) == 0
    clip = torch.rand(1, 4, 3, 32, 32)
    with torch.no_grad():
        out = net(clip)
        for frame, frame_3_moves in ((2, False), (0, True)):
            changed = clip.clone()
            changed[:, frame] = torch.rand(1, 3, 32, 32)
            assert (not torch.equal(net(changed)[:, 3], out[:, 3])) == frame_3_moves


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(deblur_branch=False),  # bidirectional by default
        dict(deblur_branch=False, bidirectional=False, memory=False),
        dict(values="both"),
        dict(memory_period=(5, 2)),
        dict(memory_period=(5, 0, 1)),
        dict(similarity="cosine"),  # refused when built, not at the first forward
        dict(memory_bound="frames"),
        dict(backward_schedule="code"),
        dict(memory_length=0),
        dict(readout_init="small"),
        dict(deblur_branch=False, bidirectional=False, readout_init="zero"),
    ],
)
def test_inconsistent_switches_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        MemDeblur(**{**TINY, **kwargs})


def test_temporary_memory_changes_only_frames_after_an_unwritten_one() -> None:
    """Table 5's 'Temp.' with the same weights: frames 1–3 are not written (T1 = 5), so from frame
    2 on the previous frame's temporary memory changes the readout; frame 0 reads no forward
    memory and frame 1 only the frame-0 write, so both are identical."""
    kwargs = dict(multi_scale=False, memory_period=(5, 2, 1))
    plain = _tiny(**kwargs).eval()
    temporary = _tiny(temporary_memory=True, **kwargs).eval()
    temporary.load_state_dict(plain.state_dict())
    clip = torch.rand(1, 4, 3, 32, 32)
    with torch.no_grad():
        a, b = plain(clip), temporary(clip)
    assert torch.equal(a[:, 0], b[:, 0]) and torch.equal(a[:, 1], b[:, 1])
    assert not torch.allclose(a[:, 2], b[:, 2]) and not torch.allclose(a[:, 3], b[:, 3])


# --- size of the paper's model ------------------------------------------------------------------


def test_parameter_count_matches_the_released_code(paper_net: MemDeblur) -> None:
    """The executed modules of the released code (6,989,047 parameters) less the conv biases its
    ResNet-50 copy adds to the three encoders K, V_r, V_h, which timm's ResNet-50 has not."""
    assert sum(REFERENCE_PARAMS.values()) == 6_989_047
    biases = len(ENCODERS_WITH_A_RESNET_STAGE) * STAGE_CONV_BIASES
    expected = sum(REFERENCE_PARAMS.values()) - biases
    assert biases == 4_416
    assert _params(paper_net) == expected == 6_984_631


def test_module_sizes_match_the_released_code(paper_net: MemDeblur) -> None:
    """Module by module against the released code (K here includes its key projection)."""
    ref, bias = REFERENCE_PARAMS, STAGE_CONV_BIASES
    sizes = {
        "down": ref["downsampling"],
        "up": ref["upsampling"],
        "forward_inputs": ref["forward_input_convs"],
        "forward_trunk": ref["forward_resblocks"],
        "backward_f": ref["backward_resblocks"],
        "fusion": ref["fusion"],
        "key_encoder": ref["key_encoder"] + ref["key_proj"] - bias,
        "value_encoders.r": ref["value_encoder_mem"] - bias,
        "value_encoders.h": ref["value_encoder_feat"] - bias,
        "decoders.r": ref["decoder_mem"],
        "decoders.h": ref["decoder_feat"],
    }
    assert {name: _params(paper_net.get_submodule(name)) for name in sizes} == sizes
    assert _params(paper_net.down) == 48_420
    assert _params(paper_net.up) == 24_291
    assert _params(paper_net.decoders["h"]) == 886_080


def test_layer_widths_match_the_released_code(paper_net: MemDeblur) -> None:
    """The input widths of the released code's state dict: F_f's input convs 352 / 400 / 400
    (coarsest first), F_b 224, fusion 128, K's conv1 48 and V's 32, V_r 96 and V_h 112 inputs,
    G 256 → 64 with a 1024-channel shuffle conv, keys of 64 channels."""
    net = paper_net
    assert [m[0].in_channels for m in net.forward_inputs] == [352, 400, 400]
    assert net.backward_f[0].in_channels == 224
    assert net.fusion[0].weight.shape == (64, 128, 1, 1)
    assert net.key_encoder.stage.conv1.weight.shape == (64, 48, 7, 7)
    assert net.key_encoder.project.weight.shape == (64, 256, 3, 3)
    assert net.value_encoders["r"].adapter[0].weight.shape == (32, 96, 3, 3)
    assert net.value_encoders["h"].adapter[0].weight.shape == (32, 112, 3, 3)
    assert net.value_encoders["r"].stage.conv1.weight.shape == (64, 32, 7, 7)
    for decoder in net.decoders.values():
        assert decoder.body[0].weight.shape == (64, 256, 3, 3)
        assert decoder.shuffle[0].weight.shape == (1024, 64, 3, 3)


# --- local ImageNet weights ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet18_state() -> dict[str, Tensor]:
    torch.manual_seed(1)
    return timm.create_model("resnet18", pretrained=False).state_dict()


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "state_dict"])
def test_pretrained_stage_is_loaded_into_every_encoder(
    tmp_path: Path, resnet18_state: dict[str, Tensor], wrapped: bool
) -> None:
    """The saved conv1 fills the first 3 input channels of each widened conv1, and bn1 and layer1
    (weights and running statistics) are copied; a ``{"state_dict": ...}`` checkpoint works too."""
    path = tmp_path / "resnet18.pth"
    torch.save({"state_dict": resnet18_state} if wrapped else resnet18_state, path)
    net = _tiny(pretrained_path=str(path))
    stages = [net.key_encoder.stage, *(v.stage for v in net.value_encoders.values())]
    for stage in stages:
        assert torch.equal(stage.conv1.weight[:, :3], resnet18_state["conv1.weight"])
        assert stage.conv1.weight[:, 3:].abs().sum() > 0  # the extra channels are initialised
        loaded = {f"layer1.{k}": v for k, v in stage.layer1.state_dict().items()}
        loaded.update({f"bn1.{k}": v for k, v in stage.bn1.state_dict().items()})
        for name, tensor in loaded.items():
            assert torch.equal(tensor, resnet18_state[name]), name


def test_pretrained_stage_differs_from_random_init(resnet18_state: dict[str, Tensor]) -> None:
    """Without a file the stage keeps its own random init (nothing is loaded or downloaded)."""
    layer1 = _tiny().key_encoder.stage.layer1.state_dict()
    assert not torch.equal(layer1["0.conv1.weight"], resnet18_state["layer1.0.conv1.weight"])


def test_missing_pretrained_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "absent.pth"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        _tiny(pretrained_path=str(path))


def test_pretrained_file_without_layer1_is_reported(
    tmp_path: Path, resnet18_state: dict[str, Tensor]
) -> None:
    path = tmp_path / "stem_only.pth"
    torch.save({k: v for k, v in resnet18_state.items() if not k.startswith("layer1.")}, path)
    with pytest.raises(KeyError, match=re.escape(str(path))) as error:
        _tiny(pretrained_path=str(path))
    assert "layer1" in str(error.value)
