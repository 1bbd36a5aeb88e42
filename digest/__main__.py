"""Allow ``python -m digest``."""

from digest.cli import run

run()
