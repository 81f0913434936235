"""Knobs: operation durations (profiles, env, file, runtime) and fault-injection rules.

Everything here is plain data so that the server, the CLI and the tests agree on names.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Seconds each operation spends in its transitional status before reaching its final one.
# `test` keeps a whole restore pipeline within seconds; `demo` looks like AWS (minus the hours).
PROFILES: dict[str, dict[str, float]] = {
    "test": {
        "snapshot_create": 1.0,
        "copy": 2.0,
        "cluster_create": 1.0,
        "restore": 1.0,
        "clone": 0.5,
        "instance_create": 1.0,
        "instance_delete": 0.5,
        "cluster_delete": 0.5,
        "modify": 0.5,
        "rename": 0.5,
        "password_reset": 0.5,
        "cluster_stop": 0.5,
        "cluster_start": 0.5,
        "instance_reboot": 0.5,
    },
    "demo": {
        "snapshot_create": 15.0,
        "copy": 30.0,
        "cluster_create": 20.0,
        "restore": 20.0,
        "clone": 5.0,
        "instance_create": 15.0,
        "instance_delete": 10.0,
        "cluster_delete": 10.0,
        "modify": 5.0,
        "rename": 5.0,
        "password_reset": 5.0,
        "cluster_stop": 10.0,
        "cluster_start": 15.0,
        "instance_reboot": 5.0,
    },
}
DURATION_NAMES = tuple(PROFILES["test"])


def load_mapping_file(path: str | os.PathLike) -> dict:
    """JSON, or YAML when PyYAML is importable (it is, wherever ansible is installed)."""
    text = Path(path).read_text()
    try:
        return json.loads(text)
    except ValueError:
        import yaml  # only needed for YAML files

        return yaml.safe_load(text) or {}


def validate_durations(values: dict) -> dict[str, float]:
    """Known names with non-negative numbers only: a typo must fail loudly, not be ignored."""
    result = {}
    for name, value in values.items():
        if name not in DURATION_NAMES:
            raise ValueError(f"unknown duration {name!r}; known: {', '.join(DURATION_NAMES)}")
        seconds = float(value)
        if seconds < 0:
            raise ValueError(f"duration {name} must be >= 0, got {value}")
        result[name] = seconds
    return result


def durations_from_env(profile: str, environ=os.environ) -> dict[str, float]:
    """Profile defaults, then LOCALAWS_DURATIONS_FILE, then LOCALAWS_DURATION_<NAME> (highest)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    durations = dict(PROFILES[profile])
    if environ.get("LOCALAWS_DURATIONS_FILE"):
        durations.update(validate_durations(load_mapping_file(environ["LOCALAWS_DURATIONS_FILE"])))
    for name in DURATION_NAMES:
        value = environ.get(f"LOCALAWS_DURATION_{name.upper()}")
        if value not in (None, ""):
            durations.update(validate_durations({name: value}))
    return durations


# Behaviours AWS has changed or that a test may want to switch, with their values (the first is the default).
SETTINGS = {
    # CopyDBClusterSnapshot of another account's snapshot from another region: one step (the current API reference)
    # or refused, as before October 2025 (copy in-region first).
    "cross_account_region_copy": ("single-step", "two-step"),
    # IAM enforcement for roles and IAM users (the account's root may always act in its own account).
    "iam": ("enforce", "off"),
}


def settings_from_env(environ=os.environ) -> dict[str, str]:
    """Each setting's default, or LOCALAWS_<NAME> (e.g. LOCALAWS_CROSS_ACCOUNT_REGION_COPY=two-step)."""
    return validate_settings({name: environ.get(f"LOCALAWS_{name.upper()}") or values[0]
                              for name, values in SETTINGS.items()})


def validate_settings(values: dict) -> dict[str, str]:
    result = {}
    for name, value in values.items():
        if name not in SETTINGS:
            raise ValueError(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}")
        if value not in SETTINGS[name]:
            raise ValueError(f"setting {name} must be one of {', '.join(SETTINGS[name])}, got {value!r}")
        result[name] = value
    return result


FAULT_KINDS = ("throttle", "5xx", "drop")


@dataclass
class FaultRule:
    """Inject `kind` into requests matching service/action ("*" = any), with probability `rate`.

    `times`, when set, caps how many faults this rule injects (then it goes quiet): with rate 1.0 it makes
    "the next N calls fail" exactly, which is what retry tests want.
    """

    service: str = "*"
    action: str = "*"
    kind: str = "throttle"
    rate: float = 1.0
    times: int | None = None
    injected: int = 0

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        self.rate = float(self.rate)
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {self.rate}")
        if self.times is not None:
            self.times = int(self.times)

    def matches(self, service: str, action: str) -> bool:
        return self.service in ("*", service) and self.action in ("*", action) and not self.exhausted

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.injected >= self.times

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FaultConfig:
    rules: list[FaultRule] = field(default_factory=list)
    seed: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "FaultConfig":
        rules = [FaultRule(**{k: v for k, v in rule.items() if k != "injected"}) for rule in data.get("rules", [])]
        seed = data.get("seed")
        return cls(rules=rules, seed=None if seed is None else int(seed))

    def to_dict(self) -> dict:
        return {"rules": [rule.to_dict() for rule in self.rules], "seed": self.seed}


def parse_fault_spec(spec: str) -> list[FaultRule]:
    """LOCALAWS_FAULTS syntax: comma-separated `service:action:kind:rate[:times]`, e.g.
    `rds:DescribeDBClusters:throttle:0.3,rds:*:5xx:0.05,kms:*:drop:1:2`."""
    rules = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        parts = item.split(":")
        if len(parts) not in (4, 5):
            raise ValueError(f"bad fault spec {item!r}: expected service:action:kind:rate[:times]")
        service, action, kind, rate = parts[:4]
        rules.append(FaultRule(service=service, action=action, kind=kind, rate=float(rate),
                               times=int(parts[4]) if len(parts) == 5 else None))
    return rules


def faults_from_env(environ=os.environ) -> FaultConfig:
    seed = environ.get("LOCALAWS_FAULT_SEED")
    return FaultConfig(rules=parse_fault_spec(environ.get("LOCALAWS_FAULTS", "")),
                       seed=int(seed) if seed not in (None, "") else None)
