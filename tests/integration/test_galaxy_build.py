"""The collection builds with ansible-galaxy, installs into an empty collections path, and
playbooks/restore.yml runs from the installed collection (not from this checkout) against the emulator."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from helpers import restore_env
from helpers.ansible_run import REPO_ROOT

BIN = Path(sys.executable).parent
NOT_SHIPPED = ("tools/", "tests/output/", ".venv/", ".local/", ".collections/", ".pytest_cache/", ".cache/",
               # the development side: the emulator's tests and everything that needs it, pins and build files
               "molecule/", "inventories/local/", "tests/integration/", "tests/helpers/", "tests/localaws/",
               "tests/bench/", "tests/conftest.py", "ansible.cfg", ".ansible-lint", ".gitignore", "Makefile",
               "constraints.txt", "requirements-dev.txt", "execution-environment.yml", "meta/ee-")


def galaxy(*args, cwd=REPO_ROOT, env=None):
    proc = subprocess.run([str(BIN / "ansible-galaxy"), *args], capture_output=True, text=True, cwd=str(cwd),
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def clean_env(collections):
    """An environment in which only `collections` (and the collections bundled with ansible) are found."""
    config = collections.parent / "ansible.cfg"
    config.write_text(f"[defaults]\ncollections_path = {collections}\nretry_files_enabled = false\n"
                      "interpreter_python = auto_silent\n[connection]\npipelining = True\n")
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_CONFIG=str(config), PYTHONPATH="")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(tarball, collections dir) of a fresh build, installed offline into an empty collections path."""
    base = tmp_path_factory.mktemp("galaxy")
    galaxy("collection", "build", "--force", "--output-path", str(base / "build"))
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    tarball = base / "build" / f"dbops-aurora_restore-{version}.tar.gz"
    assert tarball.is_file(), sorted(os.listdir(base / "build"))
    collections = base / "collections"
    # The checkout's own link (.collections) must not count as "already installed".
    galaxy("collection", "install", "--offline", "--no-deps", "-p", str(collections), str(tarball),
           cwd=base, env=clean_env(collections))
    return tarball, collections


def test_tarball_contents(installed):
    tarball, _collections = installed
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    leaked = [name for name in names if name.startswith(NOT_SHIPPED) or "__pycache__" in name]
    assert not leaked, leaked
    for expected in ("MANIFEST.json", "FILES.json", "README.md", "COPYING", "meta/runtime.yml", "playbooks/restore.yml",
                     "roles/restore/tasks/main.yml", "plugins/modules/restore_audit.py", "requirements.txt",
                     "plugins/modules/aurora_cluster_restore.py", "plugins/filter/step_metrics.py", "inventories/example/hosts.yml",
                     "tests/config.yml", "tests/requirements.yml", "tests/unit/requirements.txt", "tests/sanity/run.sh",
                     "changelogs/changelog.yaml", "docs/runbook.md"):
        assert expected in names, expected
    manifest = json.loads(tarfile.open(tarball).extractfile("MANIFEST.json").read())
    # What the roles and modules need at run time, nothing the tests alone use (community.postgresql, awx.awx).
    assert manifest["collection_info"]["dependencies"].keys() == {"amazon.aws", "community.aws"}
    assert manifest["collection_info"]["license"] == ["GPL-3.0-or-later"]


def _requirements(path):
    from packaging.requirements import Requirement

    lines = [line.split("#")[0].strip() for line in (REPO_ROOT / path).read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def test_consumers_get_ranges_and_this_repository_pins_versions_inside_them():
    """requirements.txt flows into users' environments: ranges. constraints.txt pins what the tests run with, inside
    those ranges, and the execution environment installs exactly those pins."""
    pinned = {requirement.name: requirement for requirement in _requirements("constraints.txt")}
    assert all(len(requirement.specifier) == 1 and next(iter(requirement.specifier)).operator == "==" for requirement in pinned.values())
    for requirement in _requirements("requirements.txt"):
        assert not any(spec.operator == "==" for spec in requirement.specifier), requirement
        version = next(iter(pinned[requirement.name].specifier)).version
        assert requirement.specifier.contains(version), (requirement, version)
    for requirement in _requirements("meta/ee-python-requirements.txt"):
        assert str(requirement.specifier) == str(pinned[requirement.name].specifier), requirement
    for requirement in _requirements("requirements-dev.txt"):
        assert requirement.name in pinned, requirement


def test_installed_collection_is_listed(installed):
    _tarball, collections = installed
    installed_dir = collections / "ansible_collections" / "dbops" / "aurora_restore"
    assert (installed_dir / "MANIFEST.json").is_file()
    assert not (installed_dir / "tools").exists()
    listing = galaxy("collection", "list", "dbops.aurora_restore", "--format", "json",
                     cwd=collections, env=clean_env(collections))
    assert str(installed_dir.parent.parent) in listing.stdout, listing.stdout


def test_restore_runs_from_installed_collection(installed, aws_env, tmp_path):
    """`ansible-playbook dbops.aurora_restore.restore` with only the installed copy on the collections path."""
    _tarball, collections = installed
    installed_dir = collections / "ansible_collections" / "dbops" / "aurora_restore"
    restore_env.prepare(aws_env, environments=("dev",))

    # No checkout on any path: own ansible.cfg, cwd outside the repo, no PYTHONPATH into .collections.
    env = clean_env(collections)
    env.update(ANSIBLE_ROLES_PATH=str(tmp_path / "roles"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    # The local inventory is the repository's (the installed collection ships only the example): a copy, off the checkout.
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO_ROOT / "inventories" / "local", inventory)
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), "dbops.aurora_restore.restore", "--limit", "dev-app",
               "-e", json.dumps({"restore_source_snapshot_identifier": "production-seed"})]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads(proc.stdout[proc.stdout.find("{"):])
    assert report["stats"]["dev-app"]["failures"] == 0
    paths = {task["task"]["path"].rsplit(":", 1)[0] for play in report["plays"] for task in play["tasks"]}
    paths.add(report["plays"][0]["play"]["path"].rsplit(":", 1)[0])
    outside = sorted(path for path in paths if path and not path.startswith(str(installed_dir)))
    assert not outside, f"ran from outside the installed collection: {outside}"
    assert not [path for path in paths if path.startswith(str(REPO_ROOT))]

    clusters = aws_env.client("rds", "us-west-2").describe_db_clusters(DBClusterIdentifier="dev-app")["DBClusters"]
    assert clusters[0]["Status"] == "available"


def test_the_tarball_ships_no_test_of_a_tool_it_does_not_ship(installed):
    """tests/localaws tests the emulator in tools/, which is not shipped: it is left out too (and sanity, which runs
    on the tarball's contents, would otherwise check it)."""
    tarball, _collections = installed
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert not [name for name in names if name.startswith(("tests/localaws/", "tools/"))]
    assert "tests/unit/plugins/module_utils/test_arns.py" in names
