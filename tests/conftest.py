"""Shared test paths: the real TensorRT outputs in ../shared/fixtures and our own tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
FIXTURES = REPO.parent / "shared" / "fixtures"

if not FIXTURES.is_dir():  # CI lays ../shared beside the checkout; a missing one is a setup error
    raise RuntimeError(f"Real TensorRT fixtures not found at {FIXTURES}: clone LayerLens beside shared/.")


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def data() -> Path:
    return DATA


def load_one(*paths):
    """Load the single engine found under ``paths``."""
    from engine_core.discover import load_engines

    engines, _ = load_engines([str(p) for p in paths])
    assert len(engines) == 1, [e.name for e in engines]
    return engines[0]
