"""RIRN (Park, Nah & Lee, BMVC 2022): five recurrent hosts and the IRM and ATB add-ons."""

from deblurzoo.models.rirn.atb import ATB
from deblurzoo.models.rirn.conv_gru import ConvGRU
from deblurzoo.models.rirn.conv_lstm import ConvLSTM
from deblurzoo.models.rirn.ifirnn import IFIRNN
from deblurzoo.models.rirn.irm import IRM
from deblurzoo.models.rirn.rdbn import RDBN
from deblurzoo.models.rirn.recurrent_host import RecurrentHost
from deblurzoo.models.rirn.spec import SPEC
from deblurzoo.models.rirn.strcnn import STRCNN
from deblurzoo.models.rirn.variants import HOSTS, VARIANTS, attach_addons, rirn, variant_name

__all__ = [
    "SPEC",
    "VARIANTS",
    "ATB",
    "HOSTS",
    "IRM",
    "IFIRNN",
    "RDBN",
    "STRCNN",
    "ConvGRU",
    "ConvLSTM",
    "RecurrentHost",
    "attach_addons",
    "rirn",
    "variant_name",
]
