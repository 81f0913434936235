"""The docs' commands work as written: every shell block marked `<!-- runnable ... -->` in README.md, docs/*.md,
the roles' READMEs and tools/localaws/README.md runs in a fresh shell (`env -i bash`, no venv, no PYTHONPATH) at
the root of a copy of this checkout, so the emulator it starts has its own state directory. A document's runnable
blocks run in one shell, in order, and must all succeed."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.ansible_run import REPO_ROOT
from localaws.pytest_plugin import scratch_tmpdir

MARKER = re.compile(r"^\s*<!--\s*runnable\b.*-->\s*$")
FENCE_OPEN = re.compile(r"^\s*```(sh|bash)\s*$")
FENCE_CLOSE = re.compile(r"^\s*```\s*$")
# What a copy of the checkout leaves out: made by `make setup` (linked back in) or by runs of it.
NOT_COPIED = (".git", ".venv", ".collections", ".local", ".cache", ".pytest_cache", "__pycache__", "output")
FRESH_SHELL_PATH = "/usr/local/bin:/usr/bin:/bin"


class DocBlockError(ValueError):
    pass


def documents(root=REPO_ROOT):
    """Every document whose shell blocks a user may copy."""
    found = [root / "README.md", root / "tools" / "localaws" / "README.md"]
    found += sorted((root / "docs").glob("*.md")) + sorted((root / "roles").glob("*/README.md"))
    return [path for path in found if path.is_file()]


def runnable_blocks(path):
    """The runnable shell blocks of one document, as (line of the marker, text)."""
    lines = Path(path).read_text().splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        if not MARKER.match(lines[index]):
            index += 1
            continue
        marker_line = index + 1
        index += 1
        while index < len(lines) and not lines[index].strip():
            index += 1
        if index >= len(lines) or not FENCE_OPEN.match(lines[index]):
            raise DocBlockError(f"{path}:{marker_line}: a runnable marker must be followed by a ```sh or ```bash block")
        body = []
        index += 1
        while index < len(lines) and not FENCE_CLOSE.match(lines[index]):
            body.append(lines[index])
            index += 1
        if index >= len(lines):
            raise DocBlockError(f"{path}:{marker_line}: the runnable block is never closed")
        blocks.append((marker_line, "\n".join(body) + "\n"))
        index += 1
    return blocks


def copy_of_checkout():
    """This checkout's files in a directory the emulator's PostgreSQL user can enter, with the venv and the
    collection link of `make setup` (the venv is shared: nothing in the blocks installs into it)."""
    copy = scratch_tmpdir("docs-run-") / "checkout"
    shutil.copytree(REPO_ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))  # keeps mtimes
    (copy / ".venv").symlink_to(REPO_ROOT / ".venv")
    link = copy / ".collections" / "ansible_collections" / "dbops" / "aurora_restore"
    link.parent.mkdir(parents=True)
    link.symlink_to("../../..")
    return copy


def fresh_shell_env():
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": FRESH_SHELL_PATH, "LANG": "C.UTF-8"}
    # Where the emulator keeps its PostgreSQL data is a property of the machine, not of the shell.
    for key in ("LOCALAWS_TEST_TMPDIR", "TMPDIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def test_a_marker_needs_a_shell_block_right_after_it(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# x\n\n<!-- runnable -->\n\nsome text\n```sh\ntrue\n```\n")
    with pytest.raises(DocBlockError, match=r"doc.md:3: a runnable marker must be followed"):
        runnable_blocks(doc)
    doc.write_text("<!-- runnable -->\n```sh\ntrue\n")
    with pytest.raises(DocBlockError, match=r"doc.md:1: the runnable block is never closed"):
        runnable_blocks(doc)
    doc.write_text("```sh\nnot marked\n```\n<!-- runnable: why -->\n```bash\necho one\necho two\n```\n")
    assert runnable_blocks(doc) == [(4, "echo one\necho two\n")]


def test_every_marker_in_the_docs_is_well_formed():
    marked = {path.relative_to(REPO_ROOT).as_posix(): runnable_blocks(path) for path in documents()}
    assert {name for name, blocks in marked.items() if blocks} >= {"docs/emulator.md", "tools/localaws/README.md"}


@pytest.mark.parametrize("name", [path.relative_to(REPO_ROOT).as_posix() for path in documents()
                                  if runnable_blocks(path)])
def test_the_runnable_blocks_of_a_document_work_in_a_fresh_shell(name):
    copy = copy_of_checkout()
    script = "".join(f"# {name}:{line}\n{text}" for line, text in runnable_blocks(REPO_ROOT / name))
    try:
        proc = subprocess.run(["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in fresh_shell_env().items()),
                               "bash", "-euo", "pipefail", "-c", script],
                              cwd=copy, capture_output=True, text=True, timeout=900, check=False)
        assert proc.returncode == 0, f"{name}: exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    finally:
        # A block that failed half-way may have left its emulator up.
        for state_dir in (copy / ".local").glob("*"):
            if (state_dir / "localaws.env").exists():
                subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "localaws", "down",
                                "--state-dir", str(state_dir)], cwd=copy, capture_output=True, timeout=120,
                               env=dict(os.environ, PYTHONPATH=str(copy / "tools" / "localaws")), check=False)
        shutil.rmtree(copy.parent, ignore_errors=True)


def test_env_sh_refuses_a_checkout_without_setup(tmp_path):
    (tmp_path / "tools").mkdir()
    shutil.copy(REPO_ROOT / "tools" / "env.sh", tmp_path / "tools" / "env.sh")
    proc = subprocess.run(["/usr/bin/env", "-i", f"PATH={FRESH_SHELL_PATH}", "bash", "-c",
                           "source tools/env.sh; echo rc=$?; command -v ansible-playbook || echo none"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert proc.stderr.strip() == f"tools/env.sh: {tmp_path} has no .venv or .collections yet: run 'make setup' there first"
    assert proc.stdout.split() == ["rc=1", "none"]


def test_env_sh_gives_the_checkouts_tools_in_a_fresh_shell():
    proc = subprocess.run(["/usr/bin/env", "-i", f"PATH={FRESH_SHELL_PATH}", "HOME=" + os.environ.get("HOME", "/root"),
                           "bash", "-c", "source tools/env.sh && source tools/env.sh && command -v ansible-playbook && "
                           "python -c 'import localaws, ansible_collections.dbops.aurora_restore' && "
                           "ansible-doc -t module dbops.aurora_restore.restore_audit | head -n 1 && "
                           "echo \"$PATH\" | tr ':' '\\n' | grep -c '/.venv/bin$'"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook")
    assert "dbops.aurora_restore.restore_audit" in lines[1]
    assert lines[-1] == "1"  # sourced twice, on PATH once
