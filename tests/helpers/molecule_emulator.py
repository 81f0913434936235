"""The emulator for the molecule scenarios (molecule/*/prepare.yml and cleanup.yml).

    python tests/helpers/molecule_emulator.py prepare [--seed] STATE_DIR [ENV ...]
        after `python -m localaws up --state-dir STATE_DIR`: optionally seed the source (cluster, data, snapshot
        `production-seed`), prepare what a restore of each ENV (dev, staging) of inventories/local needs, and
        write STATE_DIR/aws-env.json: the AWS_* variables the scenario's plays use as `environment`.
"""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import restore_env  # noqa: E402  pylint: disable=wrong-import-position


def read_env_file(path):
    """The variables of a localaws.env file (`export NAME=value` lines)."""
    found = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            name, value = line[len("export "):].split("=", 1)
            found[name] = value.strip("'\"")
    return found


def prepare(state_dir, seed, environments):
    from localaws import Emulator  # pylint: disable=import-outside-toplevel

    env = read_env_file(Path(state_dir) / "localaws.env")
    os.environ.update(env)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    emulator = Emulator.attach(state_dir)
    if seed:
        emulator.seed()
    for environment in environments:
        restore_env.prepare_environment(environment)
    (Path(state_dir) / "aws-env.json").write_text(json.dumps(env, indent=2, sort_keys=True))
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare")
    prep.add_argument("state_dir")
    prep.add_argument("--seed", action="store_true")
    prep.add_argument("environments", nargs="*")
    args = parser.parse_args(argv)
    prepare(args.state_dir, args.seed, args.environments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
