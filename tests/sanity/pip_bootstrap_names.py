"""The file names ansible-test looks for in ~/.ansible/test/cache for its pip bootstrap (get_pip_<version>.py, one
per pip version it pins), read from the installed ansible-test: run.sh puts the offline stand-in under each."""
import pathlib
import re

import ansible_test

SOURCE = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
VERSIONS = sorted(set(re.findall(r"pip=['\"]([0-9.]+)['\"]", SOURCE.read_text())))
if not VERSIONS:
    raise SystemExit("no pip version found in %s: ansible-test changed how it pins pip" % SOURCE)
print(" ".join("get_pip_%s.py" % version.replace(".", "_") for version in VERSIONS))
