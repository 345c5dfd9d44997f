"""Blind deblurring by optimisation in the encoded kernel space — Tran et al. (CVPR 2021),
supplementary Secs. 2.4 and 3; the released code's ``image_deblur.py`` / ``joint_deblur.py`` and
``options/generic_deblur/default.yml`` (``docs/reference_code.md``, blur-kernel space) — and
its video form with warm starts.

The blur operator B of a trained kernel-space model is frozen. The sharp image is the output of
a deep image prior, x = D_x(z_x) (:class:`~deblurzoo.models.kernel_space.ImageDIP`), and the
kernel that of a second one, k = D_k(z_k) (:class:`~deblurzoo.models.kernel_space.KernelDIP`), on
fixed noise inputs. Both networks are optimised jointly (one backward pass, an Adam step each,
every iteration, as in the code) on the objective of :mod:`deblurzoo.kernel_space.objective` of
ŷ = B(x, k) against the blurry frame y. Defaults are the released code's: 5000 iterations, Adam
5e-4 for both, the learning rates × 0.7 every fifth of the run, inputs perturbed by N(0, 0.001²)
at every step; before them, 300 iterations fit D_x to y (MSE) and, when a warm-up kernel is given,
300 fit D_k to it (the code ships a 512 × 2 × 2 ``kernel.pth``; :func:`mean_kernel` encodes one
from training pairs instead).

Differences from the released code, all deliberate: any frame size works (the priors' inputs
follow the frame padded to multiples of 128, where the code's fixed 64 × 64 kernel noise limits it
to 256²; the data term compares the crop back to H × W); the noise inputs are standard normal as
Sec. 2.4 says (``input_noise="uniform"``: the code's U[0, 1) × 0.1); and the returned iterate is
the one with the lowest objective in the last phase reached (the code returns the last one).

Video (:func:`deblur_video`): frames are processed in order and each frame's two priors — their
weights and noise inputs — start from the previous frame's best iterate, with no warm-up and
``warm_iters`` iterations instead of ``num_iters``. :mod:`deblurzoo.kernel_space.warm_start`
measures what that saves against cold starts at equal quality.

Every loop shows a progress bar and can be stopped with Ctrl-C (``KeyboardInterrupt``): it then
returns the best iterate so far, marked ``interrupted``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from rich.progress import Progress
from torch import Tensor

from deblurzoo.errors import ConfigError, PathNotFoundError
from deblurzoo.fast import fast_net, precision_dtype
from deblurzoo.kernel_space.checkpoint import frame_psnr
from deblurzoo.kernel_space.objective import DeblurObjective
from deblurzoo.kernel_space.progress import progress_bar
from deblurzoo.models.kernel_space import ImageDIP, KernelDIP, KernelSpace, pad_to_multiple

log = logging.getLogger(__name__)

INPUT_NOISE = ("normal", "uniform")
PRECISIONS = ("fp32", "bf16")  # DeblurConfig.precision


@dataclass(frozen=True)
class DeblurConfig:
    """Settings of deblurring by optimisation (module docstring; defaults: the released code's).

    Attributes:
        num_iters: joint iterations of a cold start (5000).
        warmup_iters: iterations fitting D_x to y, then D_k to the warm-up kernel (300 each).
        warm_iters: iterations of a warm-started video frame.
        image_lr, kernel_lr: Adam learning rates of D_x and D_k (5e-4).
        lr_gamma: both learning rates are multiplied by this every fifth of a run (0.7).
        reg_noise_std: std of the perturbation of the noise inputs at every step (1e-3).
        schedule: ``"paper"`` or ``"released"`` (:mod:`~deblurzoo.kernel_space.objective`).
        vgg_weights: local VGG19 state dict for the perceptual term, or ``None`` (L1 fallback).
        input_noise: ``"normal"`` (Sec. 2.4) or ``"uniform"`` (code: U[0, 1) × 0.1).
        image_channels, image_skip_channels, image_levels, image_inputs: D_x's widths (128, 16),
            scales (5) and noise maps (8).
        kernel_channels, kernel_blocks: D_k's noise maps and width (64) and ResBlocks (4, as the
            extractor; the code's 6).
        seed: seeds the priors' initial weights and noise inputs.
        fast: the fast path (:mod:`deblurzoo.fast`): B, both priors and the perceptual term's
            VGG in channels_last layout, and Adam's fused step (one pass over a prior's
            parameters) for its per-tensor loop, in less time per iteration
            (``deblurzoo-bench sections=[deblur]``). It starts from the eager loop's objective
            to float rounding, but Adam amplifies rounding: its early steps are close to
            ``lr · sign(g)``, which flips where a gradient is near zero. The objective after
            the first step differs by about 1e-5 (relative), and over a run the iterates drift
            apart, as they do between thread counts (``tests/test_kernel_space_apps.py``).
            ``False``: the eager layout and step.
        precision: ``"fp32"``, or ``"bf16"``: the image prior D_x, which does most of an
            iteration's multiply-accumulates (128-channel convolutions at full resolution),
            runs under bf16 autocast and hands B an fp32 image; B, D_k, the objective and
            Adam stay fp32. A change of arithmetic, not part of the fast path: the iterates
            follow another course, and how close the result comes to fp32's is measured in
            ``docs/kernel_space.md``; its time per iteration, by ``deblurzoo-bench
            sections=[deblur]``. B stays fp32 because with it in bf16 too, a trial barely
            lowered the objective over its first iterations.
    """

    num_iters: int = 5000
    warmup_iters: int = 300
    warm_iters: int = 1000
    image_lr: float = 5e-4
    kernel_lr: float = 5e-4
    lr_gamma: float = 0.7
    reg_noise_std: float = 1e-3
    schedule: str = "paper"
    vgg_weights: str | None = None
    input_noise: str = "normal"
    image_channels: int = 128
    image_skip_channels: int = 16
    image_levels: int = 5
    image_inputs: int = 8
    kernel_channels: int = 64
    kernel_blocks: int = 4
    seed: int = 0
    fast: bool = True
    precision: str = "fp32"

    def __post_init__(self) -> None:
        for name in ("num_iters", "warmup_iters", "warm_iters"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.input_noise not in INPUT_NOISE:
            raise ConfigError(f"input_noise must be one of {INPUT_NOISE}, got {self.input_noise!r}")
        if self.vgg_weights is not None and not Path(self.vgg_weights).is_file():
            raise PathNotFoundError(f"vgg_weights={self.vgg_weights!r}: no such file")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    @property
    def image_dtype(self) -> torch.dtype | None:
        """The autocast dtype of the image prior D_x (``None``: float32)."""
        return precision_dtype(self.precision)


@dataclass
class DeblurState:
    """What a warm start carries to the next frame: both priors' weights and noise inputs."""

    image_dip: dict[str, Tensor]
    kernel_dip: dict[str, Tensor]
    image_noise: Tensor
    kernel_noise: Tensor


@dataclass
class DeblurResult:
    """The best iterate of one frame and how it was reached.

    Attributes:
        image: the deblurred frame x ``[3, H, W]``.
        kernel: its kernel k ``[kernel_dim, h, w]``.
        reblurred: B(x, k) ``[3, H, W]``.
        state: the priors at the best iterate (a warm start for the next frame).
        history: per main-loop step: ``"loss"`` (the objective), and with a sharp reference
            ``"psnr"`` (dB, of x; for measurement only, it never steers the optimisation).
        best_step: main-loop step of the best iterate.
        iterations: main-loop steps run; ``warmup_iterations``: warm-up steps run.
        warm_started: the priors started from another frame's state.
        interrupted: stopped by ``KeyboardInterrupt``.
        seconds: wall time of the frame.
    """

    image: Tensor
    kernel: Tensor
    reblurred: Tensor
    state: DeblurState
    history: dict[str, list[float]] = field(default_factory=dict)
    best_step: int = -1
    iterations: int = 0
    warmup_iterations: int = 0
    warm_started: bool = False
    interrupted: bool = False
    seconds: float = 0.0


def _snapshot(module: torch.nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _noise(shape: tuple[int, ...], kind: str, generator: torch.Generator) -> Tensor:
    if kind == "normal":
        return torch.randn(shape, generator=generator)
    return torch.rand(shape, generator=generator) * 0.1


def _priors(
    model: KernelSpace, config: DeblurConfig, size: tuple[int, int], init: DeblurState | None
) -> tuple[ImageDIP, KernelDIP, Tensor, Tensor]:
    """The two priors and their noise inputs for a padded frame ``size``: fresh (seeded) or
    copied from ``init``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        image_dip = ImageDIP(
            config.image_inputs, 3, config.image_channels, config.image_skip_channels,
            config.image_levels,
        )  # fmt: skip
        kernel_dip = KernelDIP(
            config.kernel_channels, model.kernel_dim, config.kernel_blocks, model.variant
        )
    if init is not None:
        image_dip.load_state_dict(init.image_dip)
        kernel_dip.load_state_dict(init.kernel_dip)
        image_noise, kernel_noise = init.image_noise.clone(), init.kernel_noise.clone()
        expected = (1, config.kernel_channels, size[0] // 4, size[1] // 4)
        if tuple(kernel_noise.shape) != expected:
            raise ConfigError(
                f"a warm start from a {tuple(kernel_noise.shape[-2:])} kernel input cannot serve "
                f"{size} frames: frames of one video must share their size"
            )
    else:
        generator = torch.Generator().manual_seed(config.seed)
        image_noise = _noise((1, config.image_inputs, *size), config.input_noise, generator)
        kernel_noise = _noise(
            (1, config.kernel_channels, size[0] // 4, size[1] // 4), config.input_noise, generator
        )
    return image_dip, kernel_dip, image_noise, kernel_noise


def _adam(module: torch.nn.Module, lr: float, fast: bool) -> torch.optim.Adam:
    """Adam on ``module``'s parameters; on the fast path its fused step."""
    return torch.optim.Adam(module.parameters(), lr=lr, fused=True if fast else None)


def _generate(prior: torch.nn.Module, noise: Tensor, dtype: torch.dtype | None) -> Tensor:
    """``prior(noise)`` in float32, computed under autocast to ``dtype`` unless ``None``."""
    with torch.autocast(noise.device.type, dtype, enabled=dtype is not None):
        return prior(noise).float()


def _fit(module, noise, target, iters, lr, fast: bool, dtype, bar: Progress, label: str) -> int:
    """Warm-up: fit ``module(noise)`` (under autocast to ``dtype``, unless ``None``) to
    ``target`` (MSE) for ``iters`` Adam steps; returns the steps run (``KeyboardInterrupt``
    propagates to the caller)."""
    optimizer = _adam(module, lr, fast)
    task = bar.add_task(label, total=iters, status="")
    for _ in range(iters):
        loss = F.mse_loss(_generate(module, noise, dtype), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        bar.update(task, advance=1, status=f"mse {loss.item():.2e}")
    bar.remove_task(task)
    return iters


def deblur_frame(
    model: KernelSpace,
    blurry: Tensor,
    config: DeblurConfig = DeblurConfig(),
    *,
    init: DeblurState | None = None,
    warmup_kernel: Tensor | None = None,
    sharp: Tensor | None = None,
    num_iters: int | None = None,
    progress: bool | Progress = True,
) -> DeblurResult:
    """Deblur one frame ``[3, H, W]`` in [0, 1] with ``model``'s frozen blur operator.

    Args:
        model: a trained kernel-space model (:func:`~deblurzoo.kernel_space.load_kernel_space`);
            it is put in eval mode with its parameters frozen.
        blurry: the blurry frame y, on the model's device.
        config: the settings.
        init: start both priors from this state (a warm start: no warm-up) instead of afresh.
        warmup_kernel: a kernel ``[kernel_dim, h, w]`` D_k is first fitted to (cold starts only);
            ``None`` skips that warm-up.
        sharp: the sharp frame, only to record the PSNR curve.
        num_iters: main-loop steps (default: ``config.warm_iters`` with ``init``, else
            ``config.num_iters``).
        progress: draw progress bars (or an open :func:`progress_bar` to draw into).
    """
    if blurry.ndim != 3 or blurry.shape[0] != 3:
        raise ValueError(f"blurry must be one RGB frame [3, H, W], got {tuple(blurry.shape)}")
    if sharp is not None and sharp.shape != blurry.shape:
        raise ValueError(f"sharp {tuple(sharp.shape)} and blurry {tuple(blurry.shape)} differ")
    if num_iters is None:
        num_iters = config.warm_iters if init is not None else config.num_iters
    if isinstance(progress, Progress):
        return _deblur(model, blurry, config, init, warmup_kernel, sharp, num_iters, progress)
    with progress_bar(progress) as bar:
        return _deblur(model, blurry, config, init, warmup_kernel, sharp, num_iters, bar)


def _deblur(
    model: KernelSpace,
    blurry: Tensor,
    config: DeblurConfig,
    init: DeblurState | None,
    warmup_kernel: Tensor | None,
    sharp: Tensor | None,
    num_iters: int,
    bar: Progress,
) -> DeblurResult:
    start_time = time.perf_counter()
    device = blurry.device
    model.eval().requires_grad_(False)
    height, width = blurry.shape[-2:]
    target = blurry[None]
    padded = pad_to_multiple(target)
    image_dip, kernel_dip, image_noise, kernel_noise = (
        t.to(device) for t in _priors(model, config, tuple(padded.shape[-2:]), init)
    )
    objective = DeblurObjective(config.schedule, config.vgg_weights).to(device)
    if config.fast:
        for net in (model, image_dip, kernel_dip, objective):
            fast_net(net)
    result = DeblurResult(
        image=blurry.clone(),
        kernel=torch.zeros(0),
        reblurred=blurry.clone(),
        state=DeblurState({}, {}, image_noise, kernel_noise),
        history={"loss": [], **({"psnr": []} if sharp is not None else {})},
        warm_started=init is not None,
    )
    try:
        if init is None and config.warmup_iters:
            result.warmup_iterations += _fit(
                image_dip, image_noise, padded, config.warmup_iters, config.image_lr, config.fast,
                config.image_dtype, bar, "warm-up: image prior → y",
            )  # fmt: skip
            if warmup_kernel is not None:
                result.warmup_iterations += _fit(
                    kernel_dip, kernel_noise, warmup_kernel[None].to(device),
                    config.warmup_iters, config.kernel_lr, config.fast, None, bar,
                    "warm-up: kernel prior → k₀",
                )  # fmt: skip
        _optimise(model, objective, config, num_iters, target, sharp, bar, result,
                  image_dip, kernel_dip, image_noise, kernel_noise)  # fmt: skip
    except KeyboardInterrupt:
        result.interrupted = True
        log.warning(
            "interrupted after %d steps: returning the best iterate (step %d)",
            result.iterations, result.best_step,
        )  # fmt: skip
    if result.best_step < 0:  # stopped (or no step asked) before the first step: the priors now
        with torch.no_grad():
            x = _generate(image_dip, image_noise, config.image_dtype)
            k = kernel_dip(kernel_noise)
            result.image, result.kernel = x[0, :, :height, :width], k[0]
            result.reblurred = model.blur(x, k)[0, :, :height, :width]
        result.state = DeblurState(
            _snapshot(image_dip), _snapshot(kernel_dip), image_noise, kernel_noise
        )
    result.seconds = time.perf_counter() - start_time
    return result


def _optimise(
    model, objective, config, num_iters, target, sharp, bar, result, image_dip, kernel_dip,
    image_noise, kernel_noise,
) -> None:  # fmt: skip
    """The joint main loop; fills ``result`` with the best iterate as it goes."""
    height, width = target.shape[-2:]
    step_size = max(1, math.ceil(num_iters / 5))
    optimizers = [
        _adam(image_dip, config.image_lr, config.fast),
        _adam(kernel_dip, config.kernel_lr, config.fast),
    ]
    schedulers = [
        torch.optim.lr_scheduler.StepLR(opt, step_size, config.lr_gamma) for opt in optimizers
    ]
    task = bar.add_task("deblurring", total=num_iters, status="")
    best, best_phase = math.inf, 0
    for step in range(num_iters):
        phase = objective.phase(step / num_iters)
        if phase != best_phase:  # a new phase weighs the terms anew: its own best
            best, best_phase = math.inf, phase
        z_x = image_noise + config.reg_noise_std * torch.randn_like(image_noise)
        z_k = kernel_noise + config.reg_noise_std * torch.randn_like(kernel_noise)
        x, k = _generate(image_dip, z_x, config.image_dtype), kernel_dip(z_k)
        reblurred = model.blur(x, k)[..., :height, :width]
        terms = objective(reblurred, target, x[..., :height, :width], k, phase)
        loss = terms["total"].item()
        if loss < best:  # kept before the step, with the weights that made this iterate
            best = loss
            result.image = x[0, :, :height, :width].detach().clone()
            result.kernel = k[0].detach().clone()
            result.reblurred = reblurred[0].detach().clone()
            result.state = DeblurState(
                _snapshot(image_dip), _snapshot(kernel_dip), image_noise, kernel_noise
            )
            result.best_step = step
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        for opt in optimizers:
            opt.step()
        for sched in schedulers:
            sched.step()
        result.history["loss"].append(loss)
        status = f"loss {loss:.4f}"
        if sharp is not None:
            psnr = float(frame_psnr(x[0, :, :height, :width], sharp))
            result.history["psnr"].append(psnr)
            status += f"  PSNR {psnr:.2f} dB"
        result.iterations = step + 1
        bar.update(task, advance=1, status=status)
    bar.remove_task(task)


def deblur_video(
    model: KernelSpace,
    frames: Tensor,
    config: DeblurConfig = DeblurConfig(),
    *,
    warm_start: bool = True,
    init: DeblurState | None = None,
    warmup_kernel: Tensor | None = None,
    sharp: Tensor | None = None,
    progress: bool = True,
) -> list[DeblurResult]:
    """Deblur blurry ``frames`` ``[T, 3, H, W]`` in order.

    With ``warm_start`` every frame after the first starts from the previous frame's best
    iterate (:class:`DeblurState`) and runs ``config.warm_iters`` iterations without warm-up;
    without it every frame is a cold start of ``config.num_iters``. ``init`` warm-starts the first
    frame too. ``sharp`` (``[T, 3, H, W]``) only records PSNR curves. Stopped with Ctrl-C, it
    returns the frames done, the last one its best iterate so far.
    """
    if frames.ndim != 4:
        raise ValueError(f"frames must be [T, 3, H, W], got {tuple(frames.shape)}")
    results: list[DeblurResult] = []
    with progress_bar(progress) as bar:
        task = bar.add_task("frames", total=len(frames), status="")
        state = init
        for t, blurry in enumerate(frames):
            result = deblur_frame(
                model, blurry, config, init=state, sharp=None if sharp is None else sharp[t],
                warmup_kernel=warmup_kernel, progress=bar,
            )  # fmt: skip
            results.append(result)
            bar.update(task, advance=1, status=f"{result.seconds:.1f} s last frame")
            if result.interrupted:
                break
            state = result.state if warm_start else None
    return results


@torch.no_grad()
def mean_kernel(model: KernelSpace, sharp: Tensor, blurry: Tensor) -> Tensor:
    """The mean kernel E(x, y) of pairs ``[N, 3, H, W]``: a warm-up kernel for cold starts (the
    stand-in for the released code's ``kernel.pth``)."""
    return model.encode(sharp, blurry).mean(dim=0)
