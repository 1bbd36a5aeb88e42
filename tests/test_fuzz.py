"""Property tests on generated input, within a small budget; bench/fuzz.py runs the same
targets at 100,000 examples each (figures in docs/security.md)."""

from __future__ import annotations

import pytest

from tests import properties
from tests.conftest import shared

BUDGET = {
    "front matter round trip": 150,
    "front matter errors": 300,
    "feed mapping": 25,
    "slugs and paths": 150,
}


@pytest.mark.parametrize("name", list(properties.TARGETS))
def test_property_holds_on_generated_input(name: str) -> None:
    if name == "feed mapping":
        shared("corpus", "feeds")  # skips, or fails under CI, without ../shared
    properties.run(name, BUDGET[name])
