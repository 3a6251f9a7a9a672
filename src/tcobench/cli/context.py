"""State shared by every command: catalog paths, the results store, debug mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import click

from tcobench.catalog import Catalog, load_catalog
from tcobench.store import Store


@dataclass
class Context:
    catalog_paths: tuple[str, ...] = ()
    db: str | None = None
    debug: bool = False
    _store: Store | None = field(default=None, repr=False)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_paths)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.db)
        return self._store


pass_context = click.make_pass_decorator(Context)
