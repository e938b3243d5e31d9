"""The product suite's fixtures and helpers (tests/), for the lab scripts' tests."""

import importlib.util
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2] / "tests"
sys.path.insert(0, str(TESTS))
_spec = importlib.util.spec_from_file_location("product_fixtures", TESTS / "conftest.py")
product_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(product_fixtures)
tiny_bundle = product_fixtures.tiny_bundle
