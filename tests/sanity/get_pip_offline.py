"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test downloads get-pip.py from a host this network cannot reach; `make sanity` copies this
file into ansible-test's cache under the expected name. It installs pip from the interpreter's own
ensurepip wheel, then installs the packages ansible-test asked for from the configured index.
"""
import ensurepip
import os
import subprocess
import sys

# get-pip.py understands these, pip install does not.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main():
    # ensurepip points PIP_CONFIG_FILE at /dev/null in this process; pip install needs the machine's
    # configuration back (index, certificates), so it gets the environment as it was before.
    environment = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    return subprocess.call([sys.executable, "-m", "pip", "install"] + args, env=environment)


if __name__ == "__main__":
    sys.exit(main())
