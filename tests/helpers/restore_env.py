"""What a restore run of inventories/local needs in the emulator, for tests that drive it from outside pytest's
fixtures (ansible-runner, the installed collection, molecule). The world itself is pipeline_world's.
Call it with the emulator's AWS_* variables exported (the `aws_env` fixture does).
"""
from helpers import pipeline_world

ACCOUNTS = {"dev": pipeline_world.ACCOUNT_A, "staging": pipeline_world.ACCOUNT_B}


def prepare_environment(env):
    """KMS aliases, tables, topic (with an SQS subscriber) and secrets of one environment of inventories/local."""
    return pipeline_world.build(environments=((env, ACCOUNTS[env]),))


def prepare(emulator, environments=("dev",)):
    """Seed the source (cluster, data, snapshot `production-seed` in us-east-1) and prepare `environments`."""
    seeded = emulator.seed()
    for env in environments:
        prepare_environment(env)
    return seeded


def passwords(env):
    """Every password of `env`'s secrets, to assert none is ever printed."""
    return pipeline_world.PASSWORDS[env]


def aws_environment(emulator):
    """The AWS_* variables that point a subprocess at the emulator."""
    return {key: value for key, value in emulator.env.items() if key.startswith("AWS_") or key.startswith("LOCALAWS_")}
