"""Shared pytest setup: the emulator's fixtures (localaws, aws_env, postgres_server) and tests/helpers."""
import importlib.util
import sys
from pathlib import Path

# tests/helpers is imported as `helpers` by every test.
sys.path.insert(0, str(Path(__file__).resolve().parent))



def _emulator_importable():
    """Whether tools/localaws is on the path (tests/localaws, on it as a namespace package, does not count)."""
    try:
        return importlib.util.find_spec("localaws.pytest_plugin") is not None
    except ImportError:
        return False


# The emulator's fixtures, where the emulator is (make's PYTHONPATH): tests/unit also runs without it (make matrix).
if _emulator_importable():
    pytest_plugins = ["localaws.pytest_plugin"]

# The longest tests (whole pipeline runs) start first, so xdist's workers do not wait for them at the end.
HEAVY_FIRST = (
    "test_restore_playbook.py::test_dev_replace_and_staging_swap_in_parallel",
    "test_restore_playbook.py::test_a_resume_rechecks_the_copy_and_the_cluster_and_redoes_what_is_gone",
    "test_restore_playbook.py::test_a_failure_at_each_step_then_resumes_to_success",
    "test_restore_playbook_from_cluster.py::test_auto_clones_a_same_region_source_and_copies_a_cross_region_one",
    "test_bootstrap.py::test_bootstrap_two_accounts_then_rerun_changes_nothing",
    "test_restore_playbook_from_cluster.py::test_a_clone_across_accounts_through_an_aws_ram_share",
    "test_restore_playbook_managed_password.py::test_a_managed_master_password_end_to_end_with_its_refusals",
    "test_galaxy_build.py::test_restore_runs_from_installed_collection",
    "test_ansible_runner.py::test_restore_through_ansible_runner",
    "test_aurora_snapshot_copy.py::test_share_then_copy_across_accounts_and_regions",
    "test_restore_playbook.py::test_check_mode_changes_nothing",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        for position, name in enumerate(HEAVY_FIRST):
            if item.nodeid.endswith(name):
                return position
        return len(HEAVY_FIRST)
    items.sort(key=rank)  # stable: the rest keep their order
