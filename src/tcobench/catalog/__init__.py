"""The catalog: accelerators, systems, models and sources, loaded from data files into records."""

from tcobench.catalog.loader import Catalog, load_catalog
from tcobench.catalog.schema import Hardware, Model, Source, System

__all__ = ["Catalog", "Hardware", "Model", "Source", "System", "load_catalog"]
