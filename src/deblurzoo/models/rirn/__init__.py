"""RIRN (Park, Nah & Lee, BMVC 2022): recurrent hosts and, later, the IRM and ATB add-ons."""

from deblurzoo.models.rirn.ifirnn import IFIRNN
from deblurzoo.models.rirn.recurrent_host import RecurrentHost

__all__ = ["IFIRNN", "RecurrentHost"]
