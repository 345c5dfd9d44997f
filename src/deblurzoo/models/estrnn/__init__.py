"""ESTRNN (Zhong, Gao, Zheng & Zheng, ECCV 2020): RDB cell, GSA fusion, reconstructor."""

from deblurzoo.models.estrnn.estrnn import ESTRNN, GSA
from deblurzoo.models.estrnn.spec import SPEC

__all__ = ["ESTRNN", "GSA", "SPEC"]
