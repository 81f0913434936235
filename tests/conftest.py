import sys
from pathlib import Path

# tests/helpers is imported as `helpers` by every test.
sys.path.insert(0, str(Path(__file__).resolve().parent))
