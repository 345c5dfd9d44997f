"""The twenty RIRN models: five hosts, each with and without IRM and ATB (supplementary Table S6).

Every combination has a factory named ``<host>[+irm][+atb]`` (``rdbn``, ``rdbn+irm``,
``rdbn+atb``, ``rdbn+irm+atb``, ...; :data:`VARIANTS`), and ``rirn(host=..., irm=..., atb=...)``
builds any of them from switches, which is what ``conf/model/rirn.yaml`` exposes for sweeps
(``model.net.host``, ``model.net.irm``, ``model.net.atb``).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable

from deblurzoo.errors import UnknownNameError
from deblurzoo.models.rirn.atb import ATB
from deblurzoo.models.rirn.conv_gru import ConvGRU
from deblurzoo.models.rirn.conv_lstm import ConvLSTM
from deblurzoo.models.rirn.ifirnn import IFIRNN
from deblurzoo.models.rirn.irm import IRM
from deblurzoo.models.rirn.rdbn import RDBN
from deblurzoo.models.rirn.recurrent_host import RecurrentHost
from deblurzoo.models.rirn.strcnn import STRCNN

HOSTS: dict[str, Callable[..., RecurrentHost]] = {
    "ifirnn_c1h1": IFIRNN,
    "strcnn": STRCNN,
    "rdbn": RDBN,
    "conv_gru": ConvGRU,
    "conv_lstm": ConvLSTM,
}


def attach_addons(host: RecurrentHost, irm: bool, atb: bool) -> RecurrentHost:
    """Give ``host`` an IRM on its state and/or an ATB on its features, sized for the host."""
    host.irm = IRM(host.hidden_channels) if irm else None
    host.atb = ATB(host.feature_channels) if atb else None
    return host


def variant_name(host: str, irm: bool, atb: bool) -> str:
    """The registered name of a host with the given add-ons, e.g. ``rdbn+irm+atb``."""
    return host + "+irm" * irm + "+atb" * atb


def rirn(
    host: str = "ifirnn_c1h1", irm: bool = True, atb: bool = True, **host_kwargs
) -> RecurrentHost:
    """``host`` (one of :data:`HOSTS`) with the chosen add-ons; ``host_kwargs`` go to the host."""
    if host not in HOSTS:
        raise UnknownNameError(f"unknown RIRN host {host!r}; hosts: {', '.join(HOSTS)}")
    return attach_addons(HOSTS[host](**host_kwargs), irm, atb)


def _variant(host: str, irm: bool, atb: bool) -> Callable[..., RecurrentHost]:
    """The factory of one combination; its signature is the host's, whose options it takes."""

    def factory(**kwargs) -> RecurrentHost:
        return rirn(host, irm, atb, **kwargs)

    factory.__signature__ = inspect.signature(HOSTS[host])
    factory.__doc__ = f"{HOSTS[host].__name__} with IRM={irm}, ATB={atb} (RIRN Table S6)."
    return factory


#: ``<host>[+irm][+atb]`` -> its factory, for every host and add-on combination.
VARIANTS: dict[str, Callable[..., RecurrentHost]] = {
    variant_name(host, irm, atb): _variant(host, irm, atb)
    for host, irm, atb in itertools.product(HOSTS, (False, True), (False, True))
}
