"""State shared by every command: catalog paths, the results store, debug mode."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

import click

from tcobench.catalog import Catalog, load_catalog
from tcobench.errors import StoreError
from tcobench.store import ENV_VAR, Store, default_location


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
            try:
                self._store = Store.open(self.db)
            except OSError as err:  # its folder cannot be created, or the file cannot be opened
                target = self.db or os.environ.get(ENV_VAR) or str(default_location())
                at = f" at {str(err.filename)!r}" if err.filename and str(err.filename) != target else ""
                raise StoreError(f"cannot open the results store {target!r} ({{db}}, {ENV_VAR} or the default): "
                                 f"{err.strerror or err}{at}", params=("db",)) from err
        return self._store


pass_context = click.make_pass_decorator(Context)
