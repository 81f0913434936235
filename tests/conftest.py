"""Shared pytest setup: the emulator's fixtures (localaws, aws_env, postgres_server) and tests/helpers."""
import sys
from pathlib import Path

# tests/helpers is imported as `helpers` by every test.
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["localaws.pytest_plugin"]
