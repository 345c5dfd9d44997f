"""The embedded synthetic GOPRO-style dataset: recipe, determinism, motion and on-disk layout."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurzoo.data import synthetic
from deblurzoo.data.sequence import DatasetError
from deblurzoo.data.synthetic import (
    SyntheticConfig,
    average_subframes,
    build_scene,
    frame_number,
    make_synthetic_gopro,
    render_sequence,
    render_subframes,
)

TINY = SyntheticConfig(seed=3, num_train=2, num_test=1, frames=5, size=(32, 48), subframes=3)


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-frame PSNR in dB of ``[T, C, H, W]`` images in [0, 1]."""
    mse = (a - b).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1 / mse)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_gopro(tmp_path_factory.mktemp("synthetic") / "gopro", TINY)


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_renders_identical_frames_and_another_seed_does_not() -> None:
    first, again = render_sequence(TINY, "train", 1), render_sequence(TINY, "train", 1)
    other = render_sequence(dataclasses.replace(TINY, seed=4), "train", 1)
    for a, b, c in zip(first, again, other, strict=True):
        assert torch.equal(a, b)
        assert not torch.equal(a, c)


def test_same_config_writes_identical_files_to_two_roots(tiny_root: Path, tmp_path: Path) -> None:
    assert tree_bytes(make_synthetic_gopro(tmp_path / "other", TINY)) == tree_bytes(tiny_root)


def test_a_sequence_does_not_depend_on_how_many_are_generated(
    tiny_root: Path, tmp_path: Path
) -> None:
    fewer = make_synthetic_gopro(tmp_path / "one", dataclasses.replace(TINY, num_train=1))
    assert [p.name for p in (fewer / "train").iterdir()] == ["synthetic_000"]
    assert tree_bytes(fewer / "train" / "synthetic_000") == tree_bytes(
        tiny_root / "train" / "synthetic_000"
    )
    assert render_sequence(dataclasses.replace(TINY, num_train=1), "train", 0)[2].equal(
        render_sequence(TINY, "train", 0)[2]
    )
    assert tree_bytes(fewer / "test") == tree_bytes(tiny_root / "test")


def test_train_and_test_sequences_differ() -> None:
    train, test = render_sequence(TINY, "train", 0)[2], render_sequence(TINY, "test", 0)[2]
    assert not torch.equal(train, test)


# --- the GOPRO recipe ------------------------------------------------------------------------


def test_frames_are_averages_of_the_subframes_around_the_sharp_one() -> None:
    n, gamma = TINY.subframes, TINY.gamma
    subframes = render_subframes(build_scene(TINY, "train", 0), TINY.size)
    assert subframes.shape == (TINY.frames * n, 3, *TINY.size)
    blur_gamma, blur, sharp = render_sequence(TINY, "train", 0)
    for i in range(TINY.frames):
        window = subframes[i * n : (i + 1) * n].double()
        linear_mean = (window**gamma).mean(0)
        float32 = {"atol": 1e-6, "rtol": 1e-5}
        torch.testing.assert_close(blur_gamma[i].double(), linear_mean ** (1 / gamma), **float32)
        torch.testing.assert_close(blur[i].double(), window.mean(0), **float32)
        assert torch.equal(sharp[i], subframes[i * n + n // 2])


def test_gamma_average_is_taken_in_linear_light() -> None:
    subframes = torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1, 1).expand(3, 3, 2, 2)
    blur_gamma, blur, sharp = average_subframes(subframes, 3, 2.2)
    torch.testing.assert_close(blur, torch.full((1, 3, 2, 2), 1 / 3))
    torch.testing.assert_close(blur_gamma, torch.full((1, 3, 2, 2), (1 / 3) ** (1 / 2.2)))
    assert torch.equal(sharp, torch.zeros(1, 3, 2, 2))


def test_frames_are_float_images_in_unit_range() -> None:
    for video in render_sequence(TINY, "test", 0):
        assert video.shape == (TINY.frames, 3, *TINY.size)
        assert video.dtype == torch.float32
        assert 0 <= video.min() and video.max() <= 1


def test_blur_is_visible_but_images_are_not_destroyed() -> None:
    # Blur lengths scale with the frame size; at 32x48 a blur is at most a couple of pixels.
    cfg = dataclasses.replace(TINY, size=(64, 96), subframes=5)
    scores = {"blur_gamma": [], "blur": []}
    for split, count in (("train", cfg.num_train), ("test", cfg.num_test)):
        for index in range(count):
            blur_gamma, blur, sharp = render_sequence(cfg, split, index)
            scores["blur_gamma"].append(psnr(blur_gamma, sharp))
            scores["blur"].append(psnr(blur, sharp))
    for kind, values in scores.items():
        per_frame = torch.cat(values)
        assert per_frame.min() > 15, kind
        assert per_frame.mean() < 40, kind


# --- motion ------------------------------------------------------------------------------------


def test_consecutive_sharp_frames_differ() -> None:
    sharp = render_sequence(TINY, "train", 0)[2]
    assert all((sharp[i] - sharp[i + 1]).abs().mean() > 1e-3 for i in range(TINY.frames - 1))


def test_a_foreground_object_moves_relative_to_the_background() -> None:
    """The object's pixels (found by rendering with and without it) do not stay over the same
    background point: the object is not glued to the background."""
    size = (64, 96)
    scene = build_scene(dataclasses.replace(TINY, size=size, frames=8), "train", 0)
    assert 1 <= len(scene.objects) <= 3
    with_object = render_subframes(dataclasses.replace(scene, objects=scene.objects[:1]), size)
    without = render_subframes(dataclasses.replace(scene, objects=()), size)
    covered = ((with_object - without).abs().amax(1) > 0.02).float()  # [S, H, W]
    area = covered.sum((1, 2))
    assert area.min() > 20
    ys, xs = torch.meshgrid(torch.arange(size[0]), torch.arange(size[1]), indexing="ij")
    centroid = torch.stack([(covered * xs).sum((1, 2)) / area, (covered * ys).sum((1, 2)) / area])
    on_screen = torch.cat([centroid.T, torch.ones(len(scene), 1)], 1)  # [S, 3]
    on_background = torch.einsum("sij,sj->si", scene.camera, on_screen)
    assert (on_screen - on_screen[0]).norm(dim=1).max() > 4  # it moves on screen ...
    assert (on_background - on_background[0]).norm(dim=1).max() > 4  # ... and over the scene


def test_handheld_shake_makes_blur_change_from_frame_to_frame() -> None:
    """``shake`` adds fast camera jitter to the same scene: the blur of consecutive frames
    differs more than without it, where blur grows and fades over several frames."""
    cfg = dataclasses.replace(TINY, frames=24, size=(48, 64), subframes=7)
    shaky = dataclasses.replace(cfg, shake=0.02)
    change = {"steady": [], "shaky": []}
    for index in range(4):
        steady, jittery = (build_scene(c, "train", index) for c in (cfg, shaky))
        assert torch.equal(steady.camera[..., :2], jittery.camera[..., :2])  # same zoom, rotation
        assert not torch.equal(steady.camera, jittery.camera)
        for name, c in (("steady", cfg), ("shaky", shaky)):
            blur_gamma, _, sharp = render_sequence(c, "train", index)
            change[name].append(psnr(blur_gamma, sharp).diff().abs().mean())
    steady, shaky_change = torch.stack(change["steady"]), torch.stack(change["shaky"])
    assert (shaky_change > steady).all(), change
    assert shaky_change.mean() > 1.3 * steady.mean(), change


# --- the layout on disk --------------------------------------------------------------------------


def test_layout_names_and_png_format(tiny_root: Path) -> None:
    expected_names = [f"{frame_number(i, TINY.subframes):06d}.png" for i in range(TINY.frames)]
    assert expected_names[0] == "000001.png"
    assert sorted(p.name for p in tiny_root.iterdir()) == ["manifest.json", "test", "train"]
    for split, count in (("train", TINY.num_train), ("test", TINY.num_test)):
        sequences = sorted(p.name for p in (tiny_root / split).iterdir())
        assert sequences == [f"synthetic_{i:03d}" for i in range(count)]
        for name in sequences:
            kinds = sorted(p.name for p in (tiny_root / split / name).iterdir())
            assert kinds == ["blur", "blur_gamma", "sharp"]
            for kind in kinds:
                files = sorted((tiny_root / split / name / kind).iterdir())
                assert [p.name for p in files] == expected_names
                with Image.open(files[0]) as image:
                    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (48, 32))


def test_png_pixels_are_the_rounded_frames(tiny_root: Path) -> None:
    blur_gamma = render_sequence(TINY, "test", 0)[0]
    expected = (blur_gamma * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i in range(TINY.frames):
        path = tiny_root / "test" / "synthetic_000" / "blur_gamma" / f"{frame_number(i, 3):06d}.png"
        np.testing.assert_array_equal(np.asarray(Image.open(path)), expected[i])


def test_manifest_records_the_config(tiny_root: Path) -> None:
    manifest = json.loads((tiny_root / "manifest.json").read_text())
    assert manifest["version"] == synthetic.MANIFEST_VERSION
    assert manifest["config"] == json.loads(json.dumps(dataclasses.asdict(TINY)))


def test_second_call_with_same_config_does_not_rewrite(
    tiny_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {p: p.stat().st_mtime_ns for p in tiny_root.rglob("*")}

    def must_not_render(*args: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(synthetic, "render_sequence", must_not_render)
    assert make_synthetic_gopro(tiny_root, TINY) == tiny_root
    assert {p: p.stat().st_mtime_ns for p in tiny_root.rglob("*")} == before


def test_rendering_says_what_it_makes_and_where_then_each_sequence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "gopro"
    with caplog.at_level(logging.INFO, logger=synthetic.__name__):
        make_synthetic_gopro(root, TINY)
    lines = [r.getMessage() for r in caplog.records if r.name == synthetic.__name__]
    assert lines[0].startswith(f"rendering the synthetic dataset into {root} ")
    assert "2 train and 1 test sequences of 5 frames, 32×48" in lines[0]
    assert [line.split(" written")[0] for line in lines[1:-1]] == [
        f"synthetic sequence {i}/3" for i in (1, 2, 3)
    ]
    assert "(test/synthetic_000), about 0 s left" in lines[-2]
    assert lines[-1].startswith(f"synthetic dataset ready in {root} (")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=synthetic.__name__):
        make_synthetic_gopro(root, TINY)  # already there: nothing to say
    assert not caplog.records


def test_another_config_raises_naming_the_manifest_and_the_key(tiny_root: Path) -> None:
    with pytest.raises(DatasetError, match=r"manifest\.json.*frames: 5 on disk, 6 requested"):
        make_synthetic_gopro(tiny_root, dataclasses.replace(TINY, frames=6))


def test_a_manifest_written_before_shake_existed_records_no_shake(tmp_path: Path) -> None:
    root = make_synthetic_gopro(tmp_path / "gopro", TINY)
    manifest = json.loads((root / "manifest.json").read_text())
    del manifest["config"]["shake"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert make_synthetic_gopro(root, TINY) == root
    with pytest.raises(DatasetError, match=r"shake: 0\.0 on disk, 0\.02 requested"):
        make_synthetic_gopro(root, dataclasses.replace(TINY, shake=0.02))


def test_foreign_non_empty_directory_raises(tmp_path: Path) -> None:
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("not a dataset")
    with pytest.raises(DatasetError, match="mine"):
        make_synthetic_gopro(root, TINY)
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]


def test_existing_empty_directory_is_filled(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    assert (make_synthetic_gopro(root, dataclasses.replace(TINY, num_train=0)) / "test").is_dir()
    assert (root / "manifest.json").is_file()


def test_failure_while_rendering_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fail_on_second_sequence(
        cfg: SyntheticConfig, split: str, index: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        calls.append((split, index))
        if len(calls) == 2:
            raise RuntimeError("interrupted")
        return render_sequence(cfg, split, index)

    monkeypatch.setattr(synthetic, "render_sequence", fail_on_second_sequence)
    with pytest.raises(RuntimeError, match="interrupted"):
        make_synthetic_gopro(tmp_path / "gopro", TINY)
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="subframes must be odd"):
        SyntheticConfig(subframes=4)
    with pytest.raises(ValueError, match="shake must be >= 0"):
        SyntheticConfig(shake=-0.01)
    assert SyntheticConfig(size=[32, 48]).size == (32, 48)  # type: ignore[arg-type]
