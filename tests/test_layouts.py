"""Dataset layouts: trees as the official archives unpack, split mapping, and every bad input."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import hydra
import numpy as np
import pytest
from omegaconf import OmegaConf
from PIL import Image

from deblurzoo.data.layouts import (
    DVD_TEST_VIDEOS,
    LAYOUTS,
    BsdLayout,
    DvdLayout,
    GoproLayout,
    RedsLayout,
    SequenceLayout,
)
from deblurzoo.data.sequence import DatasetError, VideoSequence
from deblurzoo.utils.job import CONFIG_DIR

SIZE = (8, 12)  # (H, W)

# Videos of each tree: name -> frame numbers (not starting at 0, different lengths).
VIDEOS = {"a": range(47, 50), "b": range(5, 9)}


def write_frames(
    folder: Path, numbers: Iterable[int], fmt: str, size: tuple[int, int] = SIZE, mode: str = "RGB"
) -> list[Path]:
    """Write one small random frame per number as ``folder/(fmt % number)``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    paths = []
    for number in numbers:
        path = folder / (fmt % number)
        pixels = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
        Image.fromarray(pixels).convert(mode).save(path)
        paths.append(path)
    return paths


def write_video(
    blur: Path, sharp: Path, numbers: Iterable[int], fmt: str, size: tuple[int, int] = SIZE
) -> None:
    write_frames(blur, numbers, fmt, size)
    write_frames(sharp, numbers, fmt, size)


def gopro_tree(root: Path, splits: Mapping[str, Mapping[str, range]]) -> Path:
    for split, videos in splits.items():
        for name, numbers in videos.items():
            for kind in ("blur", "blur_gamma", "sharp"):
                write_frames(root / split / name / kind, numbers, "%06d.png")
    return root


def reds_tree(
    root: Path, nested: bool = False, blur_dir: str = "blur", fmt: str = "%08d.png"
) -> Path:
    splits = {"train": {"000": range(3), "001": range(2)}, "val": {"000": range(4)}}
    for split, videos in splits.items():
        base = root / split if nested else root
        for name, numbers in videos.items():
            write_frames(base / f"{split}_{blur_dir}" / name, numbers, fmt)
            write_frames(base / f"{split}_sharp" / name, numbers, "%08d.png")
    return root


def dvd_tree(root: Path, train: Iterable[str] = ("720p_240fps_1", "IMG_0001")) -> Path:
    for i, name in enumerate([*train, *DVD_TEST_VIDEOS]):
        video = root / "quantitative_datasets" / name
        write_video(video / "input", video / "GT", range(3, 5 + i % 2), "%05d.jpg")
    return root


def bsd_tree(root: Path) -> Path:
    splits = {"train": VIDEOS, "valid": {"010": range(2)}, "test": {"020": range(1, 4)}}
    for split, videos in splits.items():
        for name, numbers in videos.items():
            video = root / split / name
            write_video(video / "Blur" / "RGB", video / "Sharp" / "RGB", numbers, "%08d.png")
    return root


def named(path: Path | str) -> str:
    return re.escape(str(path))


def summary(sequences: list[VideoSequence]) -> dict[str, tuple[str, ...]]:
    return {seq.name: seq.frame_ids for seq in sequences}


def assert_paired(seq: VideoSequence, blur_dir: Path, sharp_dir: Path) -> None:
    assert [p.parent for p in seq.blur] == [blur_dir] * len(seq)
    assert [p.parent for p in seq.sharp] == [sharp_dir] * len(seq)
    assert [p.stem for p in seq.sharp] == list(seq.frame_ids)


# --- GOPRO ------------------------------------------------------------------------------------


def test_gopro_splits(tmp_path: Path) -> None:
    splits = {"train": VIDEOS, "test": {"GOPR0384_11_00": range(1, 3)}}
    root = gopro_tree(tmp_path / "GOPRO_Large", splits)
    layout = GoproLayout(root)
    train = layout.sequences("train")
    assert summary(train) == {
        "a": ("000047", "000048", "000049"),
        "b": ("000005", "000006", "000007", "000008"),
    }
    assert [len(seq) for seq in train] == [3, 4]
    assert all(seq.size == SIZE for seq in train)
    assert_paired(train[1], root / "train" / "b" / "blur_gamma", root / "train" / "b" / "sharp")
    assert summary(layout.sequences("test")) == {"GOPR0384_11_00": ("000001", "000002")}
    assert layout.sequences("val") == layout.sequences("test")


def test_gopro_blur_dir(tmp_path: Path) -> None:
    root = gopro_tree(tmp_path, {"train": VIDEOS, "test": VIDEOS})
    (seq, _) = GoproLayout(root, blur_dir="blur").sequences("test")
    assert_paired(seq, root / "test" / "a" / "blur", root / "test" / "a" / "sharp")


def test_gopro_unknown_blur_dir(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="blur_dir .*'blur', 'blur_gamma'.*'gamma'"):
        GoproLayout(tmp_path, blur_dir="gamma")


# --- REDS -------------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True])
def test_reds_splits(tmp_path: Path, nested: bool) -> None:
    root = reds_tree(tmp_path / "REDS", nested=nested)
    layout = RedsLayout(root)
    train = layout.sequences("train")
    assert summary(train) == {
        "000": ("00000000", "00000001", "00000002"),
        "001": ("00000000", "00000001"),
    }
    base = root / "train" if nested else root
    assert_paired(train[0], base / "train_blur" / "000", base / "train_sharp" / "000")
    val = layout.sequences("val")
    assert summary(val) == {"000": tuple(f"{i:08d}" for i in range(4))}
    assert layout.sequences("test") == val


def test_reds_blur_jpeg(tmp_path: Path) -> None:
    root = reds_tree(tmp_path, blur_dir="blur_jpeg", fmt="%08d.jpg")
    (seq,) = RedsLayout(root, blur_dir="blur_jpeg").sequences("val")
    assert [p.name for p in seq.blur] == [f"{i:08d}.jpg" for i in range(4)]
    assert [p.name for p in seq.sharp] == [f"{i:08d}.png" for i in range(4)]
    with pytest.raises(DatasetError, match=named(root / "val_blur_comp")):
        RedsLayout(root, blur_dir="blur_comp").sequences("val")


def test_reds_unknown_blur_dir(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="blur_dir .*'blur_jpeg'.*got 'sharp'"):
        RedsLayout(tmp_path, blur_dir="sharp")


def test_reds_missing_split_folder_names_both_places(tmp_path: Path) -> None:
    write_video(tmp_path / "train_blur" / "0", tmp_path / "train_sharp" / "0", range(2), "%08d.png")
    flat, nested = named(tmp_path / "val_blur"), named(tmp_path / "val" / "val_blur")
    with pytest.raises(DatasetError, match=f"{flat}: folder not found.*{nested}"):
        RedsLayout(tmp_path).sequences("val")


def test_reds_missing_sharp_video(tmp_path: Path) -> None:
    root = reds_tree(tmp_path)
    write_frames(root / "train_blur" / "002", range(2), "%08d.png")
    with pytest.raises(DatasetError, match=named(root / "train_sharp" / "002")):
        RedsLayout(root).sequences("train")


# --- DVD --------------------------------------------------------------------------------------


@pytest.mark.parametrize("inner", [False, True])
def test_dvd_splits(tmp_path: Path, inner: bool) -> None:
    dataset = dvd_tree(tmp_path / "DeepVideoDeblurring_Dataset")
    root = dataset / "quantitative_datasets" if inner else dataset
    layout = DvdLayout(root)
    train = layout.sequences("train")
    assert summary(train) == {
        "720p_240fps_1": ("00003", "00004"),
        "IMG_0001": ("00003", "00004", "00005"),
    }
    video = dataset / "quantitative_datasets" / "IMG_0001"
    assert_paired(train[1], video / "input", video / "GT")
    assert all(p.suffix == ".jpg" for p in train[1].blur)
    test = layout.sequences("test")
    assert [seq.name for seq in test] == list(DVD_TEST_VIDEOS)
    assert layout.sequences("val") == test


def test_dvd_custom_test_videos(tmp_path: Path) -> None:
    layout = DvdLayout(dvd_tree(tmp_path), test_videos=["IMG_0001"])
    assert [seq.name for seq in layout.sequences("test")] == ["IMG_0001"]
    assert len(layout.sequences("train")) == 1 + len(DVD_TEST_VIDEOS)


def test_dvd_missing_test_video(tmp_path: Path) -> None:
    root = dvd_tree(tmp_path)
    layout = DvdLayout(root, test_videos=[*DVD_TEST_VIDEOS, "IMG_9999"])
    with pytest.raises(DatasetError, match=f"{named(root / 'quantitative_datasets')}: .*IMG_9999"):
        layout.sequences("train")


# --- BSD --------------------------------------------------------------------------------------


def test_bsd_splits(tmp_path: Path) -> None:
    root = bsd_tree(tmp_path / "BSD_2ms16ms")
    layout = BsdLayout(root)
    train = layout.sequences("train")
    assert summary(train) == {
        "a": ("00000047", "00000048", "00000049"),
        "b": ("00000005", "00000006", "00000007", "00000008"),
    }
    video = root / "train" / "a"
    assert_paired(train[0], video / "Blur" / "RGB", video / "Sharp" / "RGB")
    assert summary(layout.sequences("val")) == {"010": ("00000000", "00000001")}
    assert summary(layout.sequences("test")) == {"020": ("00000001", "00000002", "00000003")}


# --- shared behaviour and bad input -------------------------------------------------------------


def gopro_train(tmp_path: Path) -> Path:
    """A GOPRO root whose train split holds the video ``a``; returns that video's folder."""
    gopro_tree(tmp_path, {"train": {"a": range(1, 4)}, "test": {"t": range(2)}})
    return tmp_path / "train" / "a"


def test_registry() -> None:
    assert LAYOUTS == {"gopro": GoproLayout, "reds": RedsLayout, "dvd": DvdLayout, "bsd": BsdLayout}
    assert all(issubclass(layout, SequenceLayout) for layout in LAYOUTS.values())


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_prepare_leaves_real_datasets_alone(tmp_path: Path, name: str) -> None:
    LAYOUTS[name](tmp_path).prepare()
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_missing_root(tmp_path: Path, name: str) -> None:
    layout = LAYOUTS[name](tmp_path / "nowhere")  # constructing touches no disk
    message = f"{named(tmp_path / 'nowhere')}: folder not found; expected"
    with pytest.raises(DatasetError, match=message):
        layout.sequences("train")


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_empty_root(tmp_path: Path, name: str) -> None:
    with pytest.raises(DatasetError, match=f"{named(tmp_path)}: no folders in it; expected"):
        LAYOUTS[name](tmp_path).sequences("test")


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_unknown_split(tmp_path: Path, name: str) -> None:
    with pytest.raises(DatasetError, match="'valid'.*train, val, test"):
        LAYOUTS[name](tmp_path).sequences("valid")


def test_missing_split_folder(tmp_path: Path) -> None:
    gopro_tree(tmp_path, {"train": VIDEOS})
    message = f"{named(tmp_path / 'test')}: folder not found; expected"
    with pytest.raises(DatasetError, match=message):
        GoproLayout(tmp_path).sequences("test")


def test_empty_split_folder(tmp_path: Path) -> None:
    gopro_tree(tmp_path, {"train": VIDEOS})
    (tmp_path / "test").mkdir()
    with pytest.raises(DatasetError, match=f"{named(tmp_path / 'test')}: no folders in it"):
        GoproLayout(tmp_path).sequences("test")


def test_missing_frame_folder(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    for frame in (video / "sharp").iterdir():
        frame.unlink()
    (video / "sharp").rmdir()
    with pytest.raises(DatasetError, match=f"{named(video / 'sharp')}: frame folder not found"):
        GoproLayout(tmp_path).sequences("train")


def test_frame_folder_without_frames(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    for frame in (video / "blur_gamma").iterdir():
        frame.rename(frame.with_suffix(".bmp"))
    with pytest.raises(DatasetError, match=f"{named(video / 'blur_gamma')}: no frames"):
        GoproLayout(tmp_path).sequences("train")


def test_count_mismatch(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    write_frames(video / "blur_gamma", [4], "%06d.png")
    message = r"sequence 'a': .*\(4\).*\(3\).*blur '000004.png' vs sharp \(none\)"
    with pytest.raises(DatasetError, match=message):
        GoproLayout(tmp_path).sequences("train")


def test_name_mismatch(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    (video / "sharp" / "000002.png").rename(video / "sharp" / "000009.png")
    with pytest.raises(
        DatasetError,
        match=f"sequence 'a': .*{named(video / 'blur_gamma')}.*{named(video / 'sharp')}.*"
        "blur '000002.png' vs sharp '000003.png'",
    ):
        GoproLayout(tmp_path).sequences("train")


def test_corrupt_frame(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    (video / "sharp" / "000002.png").write_bytes(b"not an image")
    message = f"{named(video / 'sharp' / '000002.png')}: cannot read image"
    with pytest.raises(DatasetError, match=message):
        GoproLayout(tmp_path).sequences("train")


def test_blur_sharp_size_mismatch(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    write_frames(video / "sharp", range(1, 4), "%06d.png", size=(6, 12))
    with pytest.raises(
        DatasetError,
        match=f"{named(video / 'sharp' / '000001.png')}: size .*\\(6, 12\\) .*\\(8, 12\\) of "
        f"{named(video / 'blur_gamma' / '000001.png')}",
    ):
        GoproLayout(tmp_path).sequences("train")


def test_size_changes_within_sequence(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    write_frames(video / "blur_gamma", [3], "%06d.png", size=(8, 10))
    message = f"{named(video / 'blur_gamma' / '000003.png')}: size .*\\(8, 10\\)"
    with pytest.raises(DatasetError, match=message):
        GoproLayout(tmp_path).sequences("train")


def test_sizes_may_differ_between_sequences(tmp_path: Path) -> None:
    gopro_tree(tmp_path, {"test": {"a": range(2)}})
    video = tmp_path / "test" / "b"
    write_video(video / "blur_gamma", video / "sharp", range(2), "%06d.png", size=(6, 4))
    write_frames(video / "blur", range(2), "%06d.png", size=(6, 4))
    assert [seq.size for seq in GoproLayout(tmp_path).sequences("test")] == [SIZE, (6, 4)]


def test_convert_flows_to_frame_check(tmp_path: Path) -> None:
    video = gopro_train(tmp_path)
    write_frames(video / "sharp", [2], "%06d.png", mode="L")
    assert len(GoproLayout(tmp_path).sequences("train")[0]) == 3
    with pytest.raises(DatasetError, match=f"{named(video / 'sharp' / '000002.png')}: grayscale"):
        GoproLayout(tmp_path, convert=False).sequences("train")


def test_frame_listing_rules(tmp_path: Path) -> None:
    """Any-case .png/.jpg/.jpeg frames, natural order, other files and hidden entries ignored."""
    root = tmp_path / "BSD_1ms8ms"
    video = root / "train" / "v"
    for folder in (video / "Blur" / "RGB", video / "Sharp" / "RGB"):
        write_frames(folder, [9, 10], "%d.PNG")
        write_frames(folder, [8], "%d.jpeg")
        (folder / "notes.txt").write_text("ignored")
        (folder / ".hidden.png").write_bytes(b"ignored")
    (root / "train" / ".cache").mkdir()
    (seq,) = BsdLayout(root).sequences("train")
    assert [p.name for p in seq.blur] == ["8.jpeg", "9.PNG", "10.PNG"]
    assert seq.name == "v"


def test_sequences_sorted_naturally(tmp_path: Path) -> None:
    gopro_tree(tmp_path, {"test": {name: range(1) for name in ("v10", "v9", "V1")}})
    assert [seq.name for seq in GoproLayout(tmp_path).sequences("test")] == ["V1", "v9", "v10"]


@pytest.mark.parametrize("name", ["gopro", "reds", "dvd", "bsd", "synthetic"])
def test_data_configs_name_every_layout_option_with_its_default(name: str) -> None:
    """So every option of a layout can be overridden as ``data.layout.<option>=...`` (a key a
    config lacks is refused by Hydra), and the config's default is the class's."""
    layout = OmegaConf.load(Path(CONFIG_DIR) / "data" / f"{name}.yaml").layout
    parameters = inspect.signature(hydra.utils.get_class(layout._target_)).parameters
    defaults = {
        key: param.default for key, param in parameters.items() if key not in ("root", "config")
    }
    given = {key: layout[key] for key in defaults if key in layout}
    assert given == {key: list(v) if isinstance(v, tuple) else v for key, v in defaults.items()}
