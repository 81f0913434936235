# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The restore role's input rules that no argument spec can state (ranges, formats, combinations), checked before
the first AWS call so that a typo in a late step's input fails in one line instead of hours later."""

from __future__ import annotations

import datetime
import os

from ansible.errors import AnsibleFilterError

# CloudWatch PutMetricData Namespace: 1-255 characters, pattern [^:].*, and "AWS/" is AWS's own (botocore's model).
NAMESPACE_LENGTH = (1, 255)
RESERVED_NAMESPACE_PREFIX = "AWS/"
# PostgreSQL keeps NAMEDATALEN - 1 = 63 bytes of a name: a longer database name can never match.
DATABASE_NAME_BYTES = 63
VERIFYING_SSL_MODES = ("verify-ca", "verify-full")
# Only these are read: the role passes its variables by these names, so a message names what the user sets.
INPUTS = ("restore_snapshot_max_age_hours", "restore_archive_keep_newest", "restore_metric_namespace", "restore_database",
          "restore_ssl_mode", "restore_ssl_ca_cert", "restore_post_restore_sql", "restore_smoke_checks",
          "restore_master_secret_id", "restore_master_password_mode", "restore_source_restore_time")


def restore_input_problems(inputs, environ=None):
    """One line per bad input of the restore role (an empty list when all are good)."""
    if not isinstance(inputs, dict) or set(INPUTS) - set(inputs):
        raise AnsibleFilterError("restore_input_problems expects a dict with %s" % ", ".join(INPUTS))
    environ = os.environ if environ is None else environ
    problems = []
    problems += _numbers(inputs)
    problems += _namespace(inputs["restore_metric_namespace"])
    problems += _database(inputs["restore_database"])
    problems += _tls(inputs["restore_ssl_mode"], inputs["restore_ssl_ca_cert"], environ)
    problems += _sql(inputs)
    if inputs["restore_source_restore_time"] and utc_time(inputs["restore_source_restore_time"]) is None:
        problems.append("restore_source_restore_time %r is not an ISO-8601 time with a time zone (for example "
                        "2026-12-01T23:00:00Z)" % inputs["restore_source_restore_time"])
    return problems


def utc_time(value):
    """An ISO-8601 time with a time zone (AWS's RestoreToTime), in UTC; None when it is not one."""
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment.astimezone(datetime.timezone.utc) if moment.tzinfo else None


def restore_time_window_problem(restore_time, cluster):
    """'' when `restore_time` is within the source cluster's restorable window (DescribeDBClusters'
    EarliestRestorableTime to LatestRestorableTime, snake_case as amazon.aws.rds_cluster_info returns them), else one
    line naming both; AWS refuses such a RestoreToTime (InvalidRestoreFault)."""
    moment = utc_time(restore_time)
    if moment is None:
        raise AnsibleFilterError("restore_time_window_problem: %r is not an ISO-8601 time with a time zone" % (restore_time,))
    if not isinstance(cluster, dict):
        raise AnsibleFilterError("restore_time_window_problem expects the source cluster as rds_cluster_info returns it")
    earliest, latest = (utc_time(cluster.get(key) or "") for key in ("earliest_restorable_time", "latest_restorable_time"))
    if (earliest and moment < earliest) or (latest and moment > latest):
        return ("restore_source_restore_time %s is outside the restorable window of %s, %s to %s"
                % (restore_time, cluster.get("db_cluster_identifier", "the source cluster"),
                   earliest.isoformat() if earliest else "?", latest.isoformat() if latest else "?"))
    return ""


def _numbers(inputs):
    problems = []
    if float(inputs["restore_snapshot_max_age_hours"]) < 0:
        problems.append("restore_snapshot_max_age_hours is %s: it must be 0 (no limit) or more" % inputs["restore_snapshot_max_age_hours"])
    if int(inputs["restore_archive_keep_newest"]) < 0:
        problems.append("restore_archive_keep_newest is %s: it must be 0 or more" % inputs["restore_archive_keep_newest"])
    return problems


def _namespace(namespace):
    low, high = NAMESPACE_LENGTH
    if namespace.startswith(RESERVED_NAMESPACE_PREFIX):
        return ["restore_metric_namespace %r is reserved: namespaces that begin with %s are AWS's own (CloudWatch)"
                % (namespace, RESERVED_NAMESPACE_PREFIX)]
    if not low <= len(namespace) <= high or namespace.startswith(":"):
        return ["restore_metric_namespace %r must be %d to %d characters, not starting with ':'" % (namespace, low, high)]
    return []


def _database(name):
    if not name or len(name.encode("utf-8")) > DATABASE_NAME_BYTES or "\x00" in name:
        return ["restore_database %r is not a PostgreSQL database name (1 to %d bytes)" % (name, DATABASE_NAME_BYTES)]
    return []


def _tls(ssl_mode, ca_cert, environ):
    if ca_cert:
        if not os.path.isfile(ca_cert):
            return ["restore_ssl_ca_cert %r is not a file on the controller (where the role's modules run)" % ca_cert]
        if not _holds_a_pem_certificate(ca_cert):
            return ["restore_ssl_ca_cert %r holds no PEM certificate (-----BEGIN CERTIFICATE-----): it should be the RDS "
                    "CA bundle of the region, not a key or another file" % ca_cert]
        return []
    if ssl_mode in VERIFYING_SSL_MODES:
        # libpq's own fallbacks when sslrootcert is not given.
        fallbacks = [environ.get("PGSSLROOTCERT", ""), os.path.join(environ.get("HOME", "/nonexistent"), ".postgresql", "root.crt")]
        if not any(path and os.path.isfile(path) for path in fallbacks):
            return ["restore_ssl_mode %s verifies the server's certificate, so it needs restore_ssl_ca_cert (the RDS CA "
                    "bundle of the region; neither PGSSLROOTCERT nor ~/.postgresql/root.crt is a file)" % ssl_mode]
    return []


def _holds_a_pem_certificate(path):
    """Whether the file reads as PEM with at least one certificate (libpq would fail the connection otherwise, after
    the restore)."""
    try:
        with open(path, "rb") as handle:
            return b"-----BEGIN CERTIFICATE-----" in handle.read(1024 * 1024)
    except OSError:
        return False


def _sql(inputs):
    problems = []
    no_master = not inputs["restore_master_secret_id"] and inputs["restore_master_password_mode"] != "managed"
    for key, what in (("restore_post_restore_sql", "the SQL, masking included,"), ("restore_smoke_checks", "the checks")):
        if inputs[key] and no_master:
            problems.append("%s is set but no master secret reaches the restored cluster (restore_master_secret_id is "
                            "empty): %s would never run" % (key, what))
    for index, text in enumerate(inputs["restore_post_restore_sql"]):
        if not str(text).strip():
            problems.append("restore_post_restore_sql item %d is empty" % index)
    for check in inputs["restore_smoke_checks"]:
        if check.get("expect_rows") is not None and check.get("expect_value") is not None:
            problems.append("restore_smoke_checks item %r: set expect_rows or expect_value, not both" % check.get("name"))
    return problems


class FilterModule:
    def filters(self):
        return {"restore_input_problems": restore_input_problems, "restore_time_window_problem": restore_time_window_problem}
