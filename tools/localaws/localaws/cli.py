"""python -m localaws up|down|status|reset|counts|seed"""

from __future__ import annotations

import argparse
import json
import sys

from .emulator import Emulator, EmulatorError, default_state_dir


def _attached(args) -> Emulator:
    emu = Emulator.attach(args.state_dir)
    if not emu.running:
        raise EmulatorError(f"the emulator recorded in {emu.state_dir} (pid {emu.pid}) is not running; "
                            "run `python -m localaws down` to clean up, then `up`")
    return emu


def cmd_up(args) -> int:
    try:  # idempotent, so `make local-up` can run twice
        running = _attached(args)
        running.health()
    except (EmulatorError, OSError):
        running = None
    if running is not None:
        print(running.env_file)
        print(f"localaws already up: {running.endpoint_url} (pid {running.pid}, profile {running.profile})",
              file=sys.stderr)
        return 0
    emu = Emulator(state_dir=args.state_dir, port=args.port, profile=args.profile)
    emu.start()
    print(emu.env_file)
    print(f"localaws up: {emu.endpoint_url} (pid {emu.pid}, profile {emu.profile}); "
          f"`source {emu.env_file}` to use it", file=sys.stderr)
    return 0


def cmd_down(args) -> int:
    emu = Emulator(state_dir=args.state_dir)
    counts = emu.stop()
    print(f"localaws down: stopped; request counts in {emu.counts_file} ({counts.get('total', 0)} requests)")
    return 0


def cmd_status(args) -> int:
    try:
        emu = _attached(args)
        health, state = emu.health(), emu.state()
    except (EmulatorError, OSError) as exc:
        print(f"localaws: not running ({exc})")
        return 1
    print(f"localaws: running at {emu.endpoint_url} (pid {health['pid']}, profile {health['profile']}, "
          f"up {health['uptime']:.0f}s); env file {emu.env_file}")
    for cluster in state["clusters"]:
        print(f"  {cluster['account']} {cluster['region']} {cluster['id']}: {cluster['status']} "
              f"port {cluster['port']} postgres pid {cluster['postgres_pid']}")
    return 0


def cmd_reset(args) -> int:
    _attached(args).reset()
    print("localaws: state wiped")
    return 0


def cmd_counts(args) -> int:
    print(json.dumps(_attached(args).counts(), indent=2, sort_keys=True))
    return 0


def cmd_seed(args) -> int:
    print(json.dumps(_attached(args).seed(), indent=2))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws", description=__doc__)
    parser.add_argument("--state-dir", default=None,
                        help=f"state directory (env LOCALAWS_STATE_DIR; default {default_state_dir()})")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the emulator in the background and write the env file")
    up.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    up.add_argument("--profile", choices=["test", "demo"], default="test", help="operation durations")
    for name in ("down", "status", "reset", "counts", "seed"):
        sub.add_parser(name)
    # --state-dir is accepted after the sub-command too (`localaws up --state-dir X`).
    for action in sub.choices.values():
        action.add_argument("--state-dir", default=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    handler = globals()[f"cmd_{args.command}"]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return handler(args)
    except (EmulatorError, ClientError, BotoCoreError) as exc:
        print(f"localaws: {exc}", file=sys.stderr)
        return 1
