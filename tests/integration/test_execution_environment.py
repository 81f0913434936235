"""execution-environment.yml makes a valid ansible-builder (v3) build context: `ansible-builder create` only,
no container runtime needed."""
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from helpers.ansible_run import REPO_ROOT

BIN = Path(sys.executable).parent
BUILD_DIR = REPO_ROOT / "tests" / "output" / "build"


def run(*command, cwd=REPO_ROOT):
    proc = subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=str(cwd), timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context, made the way `make ee-context` does (the tarball of `make build` first)."""
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    for old in BUILD_DIR.glob("dbops-aurora_restore-*.tar.gz"):
        old.unlink()
    run(BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", BUILD_DIR)
    directory = tmp_path_factory.mktemp("ee") / "context"
    run(BIN / "ansible-builder", "create", "--file", "execution-environment.yml", "--context", directory,
        "--output-filename", "Containerfile")
    return directory


def test_definition_is_v3():
    definition = yaml.safe_load((REPO_ROOT / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert definition["dependencies"]["python"] == "meta/ee-python-requirements.txt"
    galaxy = yaml.safe_load((REPO_ROOT / definition["dependencies"]["galaxy"]).read_text())
    names = {collection["name"] for collection in galaxy["collections"]}
    assert names == set(yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["dependencies"])


def test_build_context(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    assert 'PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert re.search(r"RUN ansible-galaxy collection install --offline --no-deps -p /usr/share/ansible/collections\s+"
                     r"/tmp/dbops/dbops-aurora_restore-\*\.tar\.gz", containerfile), containerfile

    build = context / "_build"
    # Python dependencies: the versions the tests pin, verbatim.
    assert (build / "requirements.txt").read_text() == (REPO_ROOT / "meta" / "ee-python-requirements.txt").read_text()
    assert "boto3==1.44.5" in (build / "requirements.txt").read_text()
    assert (build / "requirements.yml").read_text() == (REPO_ROOT / "meta" / "ee-requirements.yml").read_text()
    for script in ("assemble", "install-from-bindep", "introspect.py", "entrypoint", "check_ansible", "check_galaxy"):
        assert (build / "scripts" / script).is_file(), script

    # Exactly one collection tarball, the one just built, and it is a real collection.
    tarballs = sorted((build / "dbops").iterdir())
    assert [path.name for path in tarballs] == [path.name for path in BUILD_DIR.glob("dbops-aurora_restore-*.tar.gz")]
    with tarfile.open(tarballs[0]) as archive:
        assert "MANIFEST.json" in archive.getnames()
        assert not [name for name in archive.getnames() if name.startswith("tools/")]
