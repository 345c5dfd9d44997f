"""Folding the authors' BGR channel order into a net's first and last convolutions.

Authors who read frames with OpenCV train on BGR frames. A converter that swaps the input
channels of the convolutions that read the frame, and the output channels (and biases) of those
that write it, gives a net with the same function on RGB frames, so every deblurzoo net keeps
the RGB contract (:class:`deblurzoo.models.VideoNet`) and needs no colour flip at run time.
"""

from __future__ import annotations

from torch import Tensor


def bgr_input(weight: Tensor, channels: slice = slice(0, 3)) -> Tensor:
    """A convolution weight ``[out, in, ...]`` whose input ``channels`` (a frame's three, by
    default the first) read RGB where they read BGR; ``channels`` picks one frame among
    several concatenated ones."""
    weight = weight.clone()
    weight[:, channels] = weight[:, channels].flip(1)
    return weight


def bgr_output(tensor: Tensor) -> Tensor:
    """A convolution weight ``[3, in, ...]`` or bias ``[3]`` that writes RGB where it wrote
    BGR (for a transposed convolution, whose weight is ``[in, 3, ...]``, use
    :func:`bgr_input`)."""
    return tensor.flip(0)
