"""One module per report section. Each has ``build(runs, catalog) -> Section | None``: None when the
runs hold no data for it, so a section appears only when its data exists."""
