"""localaws: a local AWS for dbops.aurora_restore — moto with Aurora's timing and rules, and a real PostgreSQL
behind every cluster.  See tools/localaws/README.md."""

from .emulator import Emulator, EmulatorError, default_state_dir
from .postgres import PostgresError, PostgresServer

__all__ = ["Emulator", "EmulatorError", "PostgresError", "PostgresServer", "default_state_dir"]
