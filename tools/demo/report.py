"""make demo's closing report: log in to each restored target as its application user and show a few rows,
then print each run's per-step timeline from the audit table.

Reads the application user's password from the target's users secret (as any client of the database would);
the password itself is never printed.
"""
import argparse
import json

import boto3
import psycopg2

TARGET_REGION = "us-west-2"


def session_for(role_arn):
    if not role_arn:
        return boto3.Session()
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="demo-report")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"])


def show_rows(aws, target, users_secret, database):
    cluster = aws.client("rds", region_name=TARGET_REGION).describe_db_clusters(DBClusterIdentifier=target)["DBClusters"][0]
    secret = json.loads(aws.client("secretsmanager", region_name=TARGET_REGION).get_secret_value(SecretId=users_secret)["SecretString"])
    user = secret["application_user"]
    with psycopg2.connect(host=cluster["Endpoint"], port=cluster["Port"], dbname=database, user=user["username"],
                          password=user["password"], connect_timeout=10) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT id, full_name, email, phone FROM customers ORDER BY id LIMIT 3")
        rows = cursor.fetchall()
    print("  %s (%s:%s) as %s: %d customers" % (target, cluster["Endpoint"], cluster["Port"], user["username"], total))
    for row in rows:
        print("    %-5s %-24s %-34s %s" % row)


def show_timeline(aws, target):
    dynamodb = aws.client("dynamodb", region_name=TARGET_REGION)
    items = dynamodb.scan(TableName="aurora-restore-state", FilterExpression="target = :t AND item_type = :o",
                          ExpressionAttributeValues={":t": {"S": target}, ":o": {"S": "operation"}})["Items"]
    latest = max(items, key=lambda item: item["started_at"]["S"])
    method = latest.get("details", {}).get("M", {}).get("method", {}).get("S", "snapshot")
    print("  %s: operation %s %s in %s s, by %s" % (target, latest["operation_id"]["S"], latest["status"]["S"],
                                                   latest["duration_seconds"]["N"], method))
    steps = latest["steps"]["M"]
    for name in [entry["S"] for entry in latest["step_order"]["L"]]:
        step = steps[name]["M"]
        print("    %-16s %-10s %7s s   %s" % (name, step["status"]["S"], step.get("duration_seconds", {}).get("N", "-"),
                                             step.get("started_at", {}).get("S", "")))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", action="append", required=True,
                        help="target:users_secret[:role_arn] (repeat per target)")
    parser.add_argument("--database", default="appdb")
    arguments = parser.parse_args()
    targets = []
    for spec in arguments.target:
        target, users_secret, role_arn = (spec.split(",") + [""])[:3]
        targets.append((target, users_secret, session_for(role_arn)))
    print("\n== Restored data, read as each target's application user (masked by the post-restore SQL)")
    for target, users_secret, aws in targets:
        show_rows(aws, target, users_secret, arguments.database)
    print("\n== Per-step timeline, from the audit table")
    for target, _users_secret, aws in targets:
        show_timeline(aws, target)


if __name__ == "__main__":
    main()
