"""A small table of Aurora PostgreSQL engine versions and instance classes, as AWS publishes them.

DescribeDBEngineVersions and DescribeOrderableDBInstanceOptions answer from it, and the restore rules use it:
the engine version a restore may take (the snapshot's, or one of its upgrade targets), the instance classes a
version can run (CreateDBInstance refuses others with AWS's InvalidParameterCombination), and the Serverless v2
capacity range of each version (ServerlessV2FeaturesSupport: minimum 0 ACU where auto-pause is supported, else 0.5;
maximum 256 ACU on recent versions, else 128).

Sources: Aurora User Guide "Aurora PostgreSQL releases", "Supported DB engines for DB instance classes",
"Aurora Serverless v2 capacity" and "Requirements and limitations for Aurora Serverless v2"; the RDS API model's
DBEngineVersion.ServerlessV2FeaturesSupport. The version thresholds for 0 ACU (auto-pause: 13.15, 14.12, 15.7,
16.3) and 256 ACU (13.13, 14.10, 15.5, 16.1) are AWS's announcements as recalled, not read from a current page:
tools/localaws/README.md says so. moto's own table stops at 15.2.
"""

from __future__ import annotations

ENGINE = "aurora-postgresql"
# The versions the emulator knows; DescribeDBEngineVersions lists them, restores and creates accept them.
VERSIONS = ("13.12", "13.15", "13.20", "14.9", "14.12", "14.17", "15.4", "15.7", "15.12", "16.1", "16.3", "16.8",
            "17.4", "17.5")
# What a restore or create without EngineVersion gets in every region ("the default version for the database
# engine in the Amazon Web Services Region", RestoreDBClusterFromSnapshot.EngineVersion).
DEFAULT_VERSION = "16.8"
AUTO_PAUSE_FROM = {13: (13, 15), 14: (14, 12), 15: (15, 7), 16: (16, 3), 17: (17, 0)}
MAX_256_FROM = {13: (13, 13), 14: (14, 10), 15: (15, 5), 16: (16, 1), 17: (17, 0)}
# Instance class -> the lowest version of each major version that runs it (a major version not listed: none).
ALL_MAJORS = {13: (13, 0), 14: (14, 0), 15: (15, 0), 16: (16, 0), 17: (17, 0)}
GRAVITON3 = {13: (13, 10), 14: (14, 7), 15: (15, 2), 16: (16, 0), 17: (17, 0)}
CLASSES = {
    "db.serverless": ALL_MAJORS,
    "db.t4g.medium": ALL_MAJORS, "db.t4g.large": ALL_MAJORS,
    "db.r6g.large": ALL_MAJORS, "db.r6g.xlarge": ALL_MAJORS, "db.r6g.2xlarge": ALL_MAJORS, "db.r6g.4xlarge": ALL_MAJORS,
    "db.r6i.large": ALL_MAJORS, "db.r6i.xlarge": ALL_MAJORS, "db.r6i.2xlarge": ALL_MAJORS,
    "db.r7g.large": GRAVITON3, "db.r7g.xlarge": GRAVITON3, "db.r7g.2xlarge": GRAVITON3, "db.r7g.4xlarge": GRAVITON3,
    "db.x2g.large": ALL_MAJORS,
}


def parse(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return ()


def known(version: str) -> bool:
    return version in VERSIONS


def family(version: str) -> str:
    return f"{ENGINE}{parse(version)[0]}" if parse(version) else ENGINE


def serverless_range(version: str) -> tuple[float, float]:
    key = parse(version)
    if not key:
        return 0.5, 128.0
    major = key[0]
    minimum = 0.0 if major in AUTO_PAUSE_FROM and key[:2] >= AUTO_PAUSE_FROM[major] else 0.5
    maximum = 256.0 if major in MAX_256_FROM and key[:2] >= MAX_256_FROM[major] else 128.0
    return minimum, maximum


def upgrade_targets(version: str) -> list[str]:
    """Every known higher version (AWS lists minor and major upgrade targets)."""
    return [candidate for candidate in VERSIONS if parse(candidate) > parse(version)]


def orderable(instance_class: str, version: str) -> bool:
    limits = CLASSES.get(instance_class)
    key = parse(version)
    if not limits or not key:
        return False
    return key[0] in limits and key[:2] >= limits[key[0]]


def engine_version_record(version: str) -> dict:
    minimum, maximum = serverless_range(version)
    return {
        "Engine": ENGINE, "EngineVersion": version, "DBParameterGroupFamily": family(version),
        "DBEngineDescription": "Aurora (PostgreSQL)", "DBEngineVersionDescription": f"Aurora PostgreSQL (Compatible with PostgreSQL {version})",
        "ValidUpgradeTarget": [{"Engine": ENGINE, "EngineVersion": target, "AutoUpgrade": False,
                                "IsMajorVersionUpgrade": parse(target)[0] != parse(version)[0]}
                               for target in upgrade_targets(version)],
        "SupportedEngineModes": ["provisioned"], "Status": "available",
        "SupportsReadReplica": True, "SupportsLogExportsToCloudwatchLogs": True,
        "ExportableLogTypes": ["postgresql"],
        "ServerlessV2FeaturesSupport": {"MinCapacity": minimum, "MaxCapacity": maximum},
    }


def orderable_record(instance_class: str, version: str, region: str) -> dict:
    return {
        "Engine": ENGINE, "EngineVersion": version, "DBInstanceClass": instance_class, "LicenseModel": "postgresql-license",
        "AvailabilityZones": [{"Name": f"{region}{zone}"} for zone in "abc"], "MultiAZCapable": False,
        "ReadReplicaCapable": True, "Vpc": True, "SupportsStorageEncryption": True, "StorageType": "aurora",
        "SupportsIAMDatabaseAuthentication": True, "SupportsPerformanceInsights": True,
        "SupportedEngineModes": ["provisioned"], "SupportsClusters": True,
    }
