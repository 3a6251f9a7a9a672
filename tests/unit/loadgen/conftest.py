"""The load generator's unit tests answer to ``-k bench`` with the endpoint benchmark's other tests."""

import pytest


def pytest_itemcollected(item: pytest.Item) -> None:
    item.extra_keyword_matches.add("bench")
