"""A synthetic GOPRO-style video-deblurring dataset rendered from real photographs.

The recipe is the one of GOPRO (Nah et al., "Deep Multi-scale Convolutional Neural Network for
Dynamic Scene Deblurring", CVPR 2017), which REDS (Nah et al., NTIRE 2019) also uses: sharp
high-frame-rate sub-frames are rendered, each blurry frame is the average of ``N`` consecutive
sub-frames in linear light (decode with ``x ** gamma``, average, re-encode with
``x ** (1 / gamma)``), and its sharp ground truth is the centre sub-frame (``N`` odd). Like
GOPRO_Large, two blurry versions are written: ``blur_gamma`` (the linear-light average) and
``blur`` (the plain average of the gamma-encoded sub-frames).

Scene of one sequence: a background cut from one of the colour photographs bundled with
scikit-image, seen by a camera moving smoothly (translation, in-plane rotation, zoom), and one to
three foreground objects -- elliptical patches cut from other photographs, with a soft alpha edge
-- each moving on its own smooth screen-space path (translation and rotation). Every motion
parameter is a sum of a few random low-frequency sinusoids whose RMS speed is drawn per sequence,
so blur strength varies between sequences and over time. Those sinusoids are slow (periods of 8 to
48 frames): blur grows and fades over several frames, as with a smoothly panning camera.
``shake`` adds handheld camera shake, faster sinusoids in the camera's translation (periods of 1.5
to 4.5 frames: the 8-12 Hz of physiological hand tremor at GOPRO's 18-34 blurry frames per
second), so that, as in GOPRO's handheld footage, a sharp frame can sit between blurry ones.
Sub-frames are rendered with bilinear ``grid_sample`` (reflection padding for the background),
composited in float32.

Randomness comes from a generator seeded by ``(seed, split, sequence index)`` only, so a sequence
is the same whichever other sequences are generated, and in whichever order.

Layout written by :func:`make_synthetic_gopro` (GOPRO_Large's)::

    root/manifest.json
    root/{train,test}/synthetic_<iii>/{blur,blur_gamma,sharp}/<nnnnnn>.png

where ``<iii>`` is the sequence index within its split and ``<nnnnnn>`` is the index, on the
sub-frame clock, of the frame's centre (sharp) sub-frame: ``i * N + N // 2`` for frame ``i``.
Numbering therefore starts above zero and steps by ``N``; readers must sort the files rather
than assume ``0, 1, 2, ...``. Frames are 8-bit RGB PNGs, rounded to the nearest level.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from deblurzoo.data.sequence import DatasetError
from deblurzoo.errors import ConfigError, PathNotFoundError

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "deblurzoo-synthetic-gopro"
MANIFEST_VERSION = 1
SPLITS = ("train", "test")
#: Folders of a sequence, in the order :func:`render_sequence` returns them.
KINDS = ("blur_gamma", "blur", "sharp")

#: Real colour photographs shipped inside the scikit-image package (``skimage.data``), read from
#: its folder directly so that nothing is ever downloaded. Backgrounds:
BACKGROUND_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "ihc.png",
    "motorcycle_left.png",
    "rocket.jpg",
)
#: Foreground patches are cut from any of these but the sequence's background (from the middle
#: of the photograph, which keeps the retina's black surround out).
OBJECT_PHOTOS = (*BACKGROUND_PHOTOS, "retina.jpg")

# Motion model. Times are in (blurry) frame units; a sub-frame lasts 1 / N frame, so N sets how
# finely a frame's exposure is sampled while the blur length is set by the speeds. Speeds are RMS
# over time and, for translations, fractions of the frame diagonal per frame (blur lengths scale
# with the frame size). Foreground objects move in screen space, independently of the camera.
SINUSOIDS_PER_PATH = 3
PERIOD_RANGE = (8.0, 48.0)
SHAKE_PERIOD_RANGE = (1.5, 4.5)
CAMERA_SPEED_RANGE = (0.01, 0.04)
CAMERA_ROTATION_SPEED_RANGE = (0.001, 0.006)  # rad / frame
CAMERA_ZOOM_SPEED_RANGE = (0.001, 0.006)  # log-scale / frame
BACKGROUND_CROP_RANGE = (0.6, 1.0)  # fraction of the largest crop of the photograph used
OBJECT_COUNT_RANGE = (1, 3)
OBJECT_RADIUS_RANGE = (0.12, 0.22)  # fraction of the frame's shorter side
OBJECT_ASPECT_RANGE = (0.6, 1.6)
OBJECT_SOURCE_SCALE_RANGE = (1.0, 2.5)  # photograph pixels per patch pixel
OBJECT_SPEED_RANGE = (0.01, 0.05)
OBJECT_ROTATION_SPEED_RANGE = (0.003, 0.03)  # rad / frame
PNG_COMPRESS_LEVEL = 1
#: Config fields added after datasets were first written, with the value that renders what those
#: datasets hold: a manifest without the field records a dataset made with that value.
ADDED_FIELDS = {"shake": 0.0}


@dataclass(frozen=True)
class SyntheticConfig:
    """What :func:`make_synthetic_gopro` renders; recorded in the manifest.

    ``size`` is the ``(height, width)`` of the written frames; each blurry frame averages
    ``subframes`` (odd) sub-frames. ``motion_scale`` runs the scene's clock faster (> 1) or
    slower (< 1): every camera and object speed, hence every blur length, scales with it.
    ``shake`` is the RMS speed of the handheld shake added to the camera (a fraction of the frame
    diagonal per frame, as the camera's own speeds); 0 renders the scenes without it.
    """

    seed: int = 0
    num_train: int = 12
    num_test: int = 4
    frames: int = 40
    size: tuple[int, int] = (192, 256)
    subframes: int = 7
    gamma: float = 2.2
    motion_scale: float = 1.0
    shake: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", tuple(int(s) for s in self.size))
        problems = []
        if self.seed < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if self.num_train < 0 or self.num_test < 0:
            problems.append(f"sequence counts must be >= 0, got {self.num_train}, {self.num_test}")
        if self.frames < 1:
            problems.append(f"frames must be >= 1, got {self.frames}")
        if len(self.size) != 2 or min(self.size) < 8:
            problems.append(f"size must be (height, width), both >= 8, got {self.size}")
        if self.subframes < 1 or self.subframes % 2 == 0:
            problems.append(f"subframes must be odd and >= 1, got {self.subframes}")
        if self.motion_scale <= 0:
            problems.append(f"motion_scale must be > 0, got {self.motion_scale}")
        if self.shake < 0:
            problems.append(f"shake must be >= 0, got {self.shake}")
        if self.gamma <= 0:
            problems.append(f"gamma must be > 0, got {self.gamma}")
        if problems:
            raise ConfigError("invalid SyntheticConfig: " + "; ".join(problems))


@dataclass(frozen=True)
class SceneObject:
    """A foreground object: premultiplied RGBA patch and, per sub-frame, the affine map
    (``[S, 2, 3]``, pixel coordinates) from an output pixel to a patch pixel."""

    rgba: torch.Tensor
    pose: torch.Tensor


@dataclass(frozen=True)
class Scene:
    """Everything needed to render a sequence's sub-frames.

    ``camera[s]`` maps output pixel ``(x, y, 1)`` to background pixel coordinates at sub-frame
    ``s``; objects are composited over the background in order.
    """

    background: torch.Tensor
    camera: torch.Tensor
    objects: tuple[SceneObject, ...]

    def __len__(self) -> int:
        return len(self.camera)

    def window(self, start: int, stop: int) -> Scene:
        """The same scene restricted to sub-frames ``start:stop``."""
        return Scene(
            self.background,
            self.camera[start:stop],
            tuple(SceneObject(o.rgba, o.pose[start:stop]) for o in self.objects),
        )


def sequence_name(index: int) -> str:
    return f"synthetic_{index:03d}"


def frame_number(frame: int, subframes: int) -> int:
    """The file number of blurry/sharp frame ``frame``: its centre sub-frame's index."""
    return frame * subframes + subframes // 2


def build_scene(cfg: SyntheticConfig, split: str, index: int) -> Scene:
    """Draw the background, camera path and foreground objects of one sequence."""
    rng = _sequence_rng(cfg.seed, split, index)
    times = np.arange(cfg.frames * cfg.subframes) / cfg.subframes * cfg.motion_scale
    background_name = str(rng.choice(BACKGROUND_PHOTOS))
    background, camera = _camera(rng, times, cfg.size, _photo(background_name), cfg.shake)
    object_names = [name for name in OBJECT_PHOTOS if name != background_name]
    count = int(rng.integers(OBJECT_COUNT_RANGE[0], OBJECT_COUNT_RANGE[1] + 1))
    objects = tuple(
        _scene_object(rng, times, cfg.size, _photo(str(rng.choice(object_names))))
        for _ in range(count)
    )
    return Scene(background, camera, objects)


def render_subframes(scene: Scene, size: tuple[int, int]) -> torch.Tensor:
    """Render every sub-frame of ``scene`` at ``size``: float32 ``[S, 3, H, W]`` in [0, 1]."""
    frames = _warp(scene.background, scene.camera, size, padding_mode="reflection")
    for obj in scene.objects:
        layer = _warp(obj.rgba, obj.pose, size, padding_mode="zeros")
        frames = frames * (1 - layer[:, 3:]) + layer[:, :3]
    return frames.clamp_(0, 1)


def average_subframes(
    subframes: torch.Tensor, n: int, gamma: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """GOPRO averaging of ``[T * n, 3, H, W]`` sub-frames into ``(blur_gamma, blur, sharp)``,
    each ``[T, 3, H, W]``: linear-light average, plain average, centre sub-frame."""
    groups = subframes.unflatten(0, (-1, n))
    blur_gamma = groups.pow(gamma).mean(dim=1).pow(1 / gamma)
    return blur_gamma, groups.mean(dim=1), groups[:, n // 2].clone()


def render_sequence(
    cfg: SyntheticConfig, split: str, index: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(blur_gamma, blur, sharp) each float [T, 3, H, W] in [0,1]; deterministic."""
    scene = build_scene(cfg, split, index)
    n = cfg.subframes
    frames = []  # one blurry frame at a time keeps memory small; results do not depend on it
    for i in range(cfg.frames):
        subframes = render_subframes(scene.window(i * n, (i + 1) * n), cfg.size)
        frames.append(average_subframes(subframes, n, cfg.gamma))
    blur_gamma, blur, sharp = (torch.cat(kind) for kind in zip(*frames, strict=True))
    return blur_gamma, blur, sharp


def make_synthetic_gopro(root: Path, cfg: SyntheticConfig = SyntheticConfig()) -> Path:
    """Write the dataset once in the GOPRO_Large layout and return root.

    Returns at once, silently, if ``root`` already holds this dataset (same config). Raises
    :class:`DatasetError` if it holds one made with another config, or anything else. The
    dataset is rendered into a temporary sibling directory and renamed onto ``root`` with its
    manifest written last, so ``root`` never holds a partial dataset. Rendering logs what it
    makes and where, then one line per sequence written with the time left (through
    :mod:`logging`, so a run's log file has them too).
    """
    root = Path(root)
    if _existing_dataset_matches(root, cfg):
        return root
    total = cfg.num_train + cfg.num_test
    log.info(
        "rendering the synthetic dataset into %s (once; later runs read it back): %d train and "
        "%d test sequences of %d frames, %d×%d, each blurry frame from %d sub-frames",
        root, cfg.num_train, cfg.num_test, cfg.frames, *cfg.size, cfg.subframes,
    )  # fmt: skip
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    start, done = time.perf_counter(), 0
    try:
        for split, count in (("train", cfg.num_train), ("test", cfg.num_test)):
            (tmp / split).mkdir(parents=True)
            for index in range(count):
                frames = render_sequence(cfg, split, index)
                _write_sequence(tmp / split / sequence_name(index), frames, cfg.subframes)
                done += 1
                left = (time.perf_counter() - start) / done * (total - done)
                log.info(
                    "synthetic sequence %d/%d written (%s/%s), about %.0f s left",
                    done, total, split, sequence_name(index), left,
                )  # fmt: skip
        (tmp / MANIFEST_NAME).write_text(json.dumps(_manifest(cfg), indent=2) + "\n")
        _move_into_place(tmp, root, cfg)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("synthetic dataset ready in %s (%.0f s)", root, time.perf_counter() - start)
    return root


# --- scene drawing ---------------------------------------------------------------------------


def _sequence_rng(seed: int, split: str, index: int) -> np.random.Generator:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return np.random.default_rng([seed, SPLITS.index(split), index])


@functools.cache
def _photo(filename: str) -> torch.Tensor:
    """A photograph bundled with scikit-image as float32 ``[3, h, w]`` in [0, 1]."""
    path = resources.files("skimage.data") / filename
    if not path.is_file():
        raise PathNotFoundError(
            f"{path} is missing: the synthetic dataset is rendered from the photographs that "
            "scikit-image installs with its package; reinstall scikit-image"
        )
    with path.open("rb") as file, Image.open(file) as image:
        array = np.asarray(image.convert("RGB"))
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1])))


def _smooth_path(
    rng: np.random.Generator,
    times: np.ndarray,
    rms_speed: float,
    periods: tuple[float, float] = PERIOD_RANGE,
) -> np.ndarray:
    """A path starting at 0: a sum of random sinusoids with RMS speed ``rms_speed`` per frame
    and periods (in frames) drawn from ``periods``."""
    omega = 2 * math.pi / rng.uniform(*periods, size=SINUSOIDS_PER_PATH)
    phase = rng.uniform(0, 2 * math.pi, size=SINUSOIDS_PER_PATH)
    speed = rng.normal(size=SINUSOIDS_PER_PATH)
    speed *= rms_speed / math.sqrt(np.sum(speed**2) / 2)
    waves = np.sin(omega * times[:, None] + phase) - np.sin(phase)
    return waves @ (speed / omega)


def _rotation(angle: np.ndarray) -> np.ndarray:
    """``[S, 2, 2]`` rotation matrices."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)


def _affine(linear: np.ndarray, src_centre: np.ndarray, dst_centre: np.ndarray) -> torch.Tensor:
    """``[S, 2, 3]`` maps ``p -> dst_centre + linear @ (p - src_centre)`` as float32."""
    offset = dst_centre - np.einsum("sij,sj->si", linear, src_centre)
    return torch.from_numpy(np.concatenate([linear, offset[..., None]], -1)).float()


def _camera(
    rng: np.random.Generator,
    times: np.ndarray,
    size: tuple[int, int],
    photo: torch.Tensor,
    shake: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A background cut to fit the whole camera path, and the per-sub-frame camera maps.

    Output pixel ``p`` sees world point ``centre + zoom * R(angle) (p - p0)``; the background is
    resized so that one world unit is one of its pixels and every view lies inside it.
    """
    height, width = size
    diagonal = math.hypot(height, width)
    speed = _log_uniform(rng, CAMERA_SPEED_RANGE) * diagonal
    centre = np.stack([_smooth_path(rng, times, speed) for _ in range(2)], -1)
    angle = _smooth_path(rng, times, _log_uniform(rng, CAMERA_ROTATION_SPEED_RANGE))
    zoom = np.exp(_smooth_path(rng, times, _log_uniform(rng, CAMERA_ZOOM_SPEED_RANGE)))
    linear = zoom[:, None, None] * _rotation(angle)
    if shake:  # drawn only when asked for, so that scenes without it keep their random numbers
        centre = centre + np.stack(
            [_smooth_path(rng, times, shake * diagonal, SHAKE_PERIOD_RANGE) for _ in range(2)], -1
        )

    half = np.array([width, height]) / 2
    corners = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]]) * half
    seen = centre[:, None] + np.einsum("sij,cj->sci", linear, corners)
    low, high = seen.min(axis=(0, 1)), seen.max(axis=(0, 1))
    extent = np.ceil(high - low).astype(int) + 2
    background = _crop_resized(rng, photo, (int(extent[1]), int(extent[0])))
    p0 = np.broadcast_to((np.array([width, height]) - 1) / 2, centre.shape)
    return background, _affine(linear, p0, centre - low + 0.5)


def _crop_resized(
    rng: np.random.Generator, photo: torch.Tensor, size: tuple[int, int]
) -> torch.Tensor:
    """A random crop of ``photo`` with the aspect ratio of ``size``, resized to ``size``,
    randomly mirrored."""
    _, photo_h, photo_w = photo.shape
    height, width = size
    scale = rng.uniform(*BACKGROUND_CROP_RANGE) * min(photo_h / height, photo_w / width)
    crop_h, crop_w = max(1, round(height * scale)), max(1, round(width * scale))
    top = int(rng.integers(0, photo_h - crop_h + 1))
    left = int(rng.integers(0, photo_w - crop_w + 1))
    crop = photo[None, :, top : top + crop_h, left : left + crop_w]
    if rng.random() < 0.5:
        crop = crop.flip(-1)
    return _resize(crop, size)[0]


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)


def _scene_object(
    rng: np.random.Generator, times: np.ndarray, size: tuple[int, int], photo: torch.Tensor
) -> SceneObject:
    height, width = size
    radius = rng.uniform(*OBJECT_RADIUS_RANGE) * min(size)
    aspect = rng.uniform(*OBJECT_ASPECT_RANGE)
    semi_axes = np.array([radius * math.sqrt(aspect), radius / math.sqrt(aspect)])
    rgba = _elliptical_patch(rng, photo, semi_axes)

    diagonal = math.hypot(height, width)
    speed = _log_uniform(rng, OBJECT_SPEED_RANGE) * diagonal
    half = np.array([width, height]) / 2
    reach = np.maximum(half - semi_axes.min(), 1.0)  # centre stays in frame, smoothly bounded
    start = rng.uniform(-0.7, 0.7, size=2)
    wander = np.stack([_smooth_path(rng, times, speed) for _ in range(2)], -1)
    position = half - 0.5 + reach * np.tanh(np.arctanh(start) + wander / reach)
    angle = rng.uniform(0, 2 * math.pi) + _smooth_path(
        rng, times, _log_uniform(rng, OBJECT_ROTATION_SPEED_RANGE)
    )
    patch_centre = (np.array([rgba.shape[2], rgba.shape[1]]) - 1) / 2
    inverse_rotation = _rotation(-angle)
    return SceneObject(
        rgba, _affine(inverse_rotation, position, np.broadcast_to(patch_centre, position.shape))
    )


def _elliptical_patch(
    rng: np.random.Generator, photo: torch.Tensor, semi_axes: np.ndarray
) -> torch.Tensor:
    """A premultiplied RGBA ``[4, h, w]`` patch of ``photo`` inside an anti-aliased ellipse."""
    patch_w, patch_h = (2 * np.ceil(semi_axes) + 3).astype(int)
    source_scale = rng.uniform(*OBJECT_SOURCE_SCALE_RANGE)
    _, photo_h, photo_w = photo.shape
    crop_h = min(photo_h, max(1, round(patch_h * source_scale)))
    crop_w = min(photo_w, max(1, round(patch_w * source_scale)))
    top = _central_start(rng, photo_h, crop_h)
    left = _central_start(rng, photo_w, crop_w)
    rgb = _resize(photo[None, :, top : top + crop_h, left : left + crop_w], (patch_h, patch_w))[0]

    y = torch.arange(patch_h, dtype=torch.float32) - (patch_h - 1) / 2
    x = torch.arange(patch_w, dtype=torch.float32) - (patch_w - 1) / 2
    a, b = (float(s) for s in semi_axes)
    radial = torch.sqrt((x[None] / a) ** 2 + (y[:, None] / b) ** 2)
    alpha = ((1 - radial) * min(a, b) + 0.5).clamp(0, 1)  # ~1 pixel soft edge
    return torch.cat([rgb.clamp(0, 1) * alpha, alpha[None]])


def _central_start(rng: np.random.Generator, length: int, crop: int) -> int:
    """Start of a ``crop``-long window whose centre lies in the middle 60% of ``length``."""
    centre = rng.uniform(0.2, 0.8) * length
    return int(np.clip(round(centre - crop / 2), 0, length - crop))


# --- rendering ---------------------------------------------------------------------------------


def _warp(
    image: torch.Tensor, maps: torch.Tensor, size: tuple[int, int], padding_mode: str
) -> torch.Tensor:
    """Sample ``image`` ``[C, h, w]`` at ``maps`` (``[S, 2, 3]`` output pixel -> image pixel):
    ``[S, C, *size]``, bilinear.

    The sampling grid is built with elementwise operations only, so a sub-frame renders
    bit-identically whichever other sub-frames share its batch.
    """
    _, image_h, image_w = image.shape
    ys = torch.arange(size[0], dtype=torch.float32).view(1, 1, -1, 1)
    xs = torch.arange(size[1], dtype=torch.float32).view(1, 1, 1, -1)
    m = maps[..., None, None]
    source = m[:, :, 0] * xs + m[:, :, 1] * ys + m[:, :, 2]  # [S, 2, H, W] pixel coordinates
    # grid_sample's [-1, 1] with align_corners=False: pixel centres at (i + 0.5) * 2 / n - 1.
    scale = torch.tensor([2 / image_w, 2 / image_h]).view(1, 2, 1, 1)
    grid = ((source + 0.5) * scale - 1).permute(0, 2, 3, 1)
    batch = image[None].expand(len(maps), -1, -1, -1)
    return F.grid_sample(
        batch, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False
    )


# --- writing -----------------------------------------------------------------------------------


def _write_sequence(
    directory: Path, frames: tuple[torch.Tensor, torch.Tensor, torch.Tensor], subframes: int
) -> None:
    for kind, video in zip(KINDS, frames, strict=True):
        (directory / kind).mkdir(parents=True)
        pixels = video.mul(255).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        for i, image in enumerate(pixels.numpy()):
            path = directory / kind / f"{frame_number(i, subframes):06d}.png"
            Image.fromarray(image, "RGB").save(path, compress_level=PNG_COMPRESS_LEVEL)


def _manifest(cfg: SyntheticConfig) -> dict:
    return {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "config": dataclasses.asdict(cfg),
    }


def _existing_dataset_matches(root: Path, cfg: SyntheticConfig) -> bool:
    """True if ``root`` holds this dataset; False if there is nothing there (or an empty
    directory); raises :class:`DatasetError` otherwise."""
    if not root.exists():
        return False
    if not root.is_dir():
        raise DatasetError(f"{root} exists and is not a directory; choose another dataset root")
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.is_file():
        if any(root.iterdir()):
            raise DatasetError(
                f"{root} is not empty and holds no {MANIFEST_NAME}, so it is not a synthetic "
                "dataset written by deblurzoo; choose another root or empty it"
            )
        return False
    try:
        found = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise DatasetError(f"cannot read {manifest_path}: {error}") from error
    if not isinstance(found, dict) or found.get("format") != MANIFEST_FORMAT:
        raise DatasetError(f"{manifest_path} is not a {MANIFEST_FORMAT} manifest")
    wanted = json.loads(json.dumps(_manifest(cfg)))
    on_disk = {
        "version": found.get("version"),
        **ADDED_FIELDS,
        **(found.get("config") or {}),
    }
    requested = {"version": wanted["version"], **wanted["config"]}
    differences = [
        f"{key}: {on_disk.get(key)!r} on disk, {requested.get(key)!r} requested"
        for key in sorted(on_disk.keys() | requested.keys())
        if on_disk.get(key) != requested.get(key)
    ]
    if differences:
        raise DatasetError(
            f"{manifest_path} records a synthetic dataset made with another config ("
            + "; ".join(differences)
            + f"); delete {root} or choose another root"
        )
    return True


def _move_into_place(tmp: Path, root: Path, cfg: SyntheticConfig) -> None:
    """Rename ``tmp`` onto ``root``; if another process finished the same dataset first, keep
    theirs and drop ours."""
    try:
        os.replace(tmp, root)
    except OSError:
        if not _existing_dataset_matches(root, cfg):
            raise
        shutil.rmtree(tmp)
