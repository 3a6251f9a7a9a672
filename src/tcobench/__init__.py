"""tcobench: what AI work really costs on a given accelerator, and whether a published claim is true.

The public API is the names in ``__all__``; everything else is internal and may change.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tcobench")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

from tcobench.catalog import Catalog, Hardware, Model, Source, System, load_catalog
from tcobench.catalog.hf import load_hf_config
from tcobench.catalog.params import ParamCount, count_params
from tcobench.errors import (
    CatalogError, DeploymentError, InputError, MissingInputError, StoreError, TcobenchError, UnitError, UnknownIdError,
)
from tcobench.records import Figure, Provenance, Run
from tcobench.store import Store

__all__ = [
    "Catalog",
    "CatalogError",
    "DeploymentError",
    "Figure",
    "Hardware",
    "InputError",
    "MissingInputError",
    "Model",
    "ParamCount",
    "Provenance",
    "Run",
    "Source",
    "Store",
    "StoreError",
    "System",
    "TcobenchError",
    "UnitError",
    "UnknownIdError",
    "__version__",
    "count_params",
    "load_catalog",
    "load_hf_config",
]
