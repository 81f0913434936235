"""playbooks/bootstrap.yml (the bootstrap_* roles) through real ansible-playbook runs against the emulator."""
import json
from pathlib import Path

import boto3

from helpers import operator_role
from helpers.ansible_run import REPO_ROOT
from helpers.ansible_run import run_playbook

PLAYBOOK = REPO_ROOT / "playbooks" / "bootstrap.yml"
MAIN_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
DESTRUCTIVE = {"rds:DeleteDBCluster", "rds:DeleteDBInstance", "rds:ModifyDBCluster", "rds:RestoreDBClusterFromSnapshot",
               "rds:DeleteDBClusterSnapshot", "rds:CreateDBInstance"}
USER_KEYS = ["application_user", "readonly_user", "devops_user"]

# Two accounts/regions, as bootstrap.yml documents: one host each; the second one reached through STS AssumeRole.
INVENTORY = """
all:
  children:
    bootstrap:
      hosts:
        main-us-west-2:
          bootstrap_region: us-west-2
          bootstrap_target_clusters: [{cluster_id: dev-app-cluster, region: us-west-2}]
          bootstrap_target_account_ids: ["%(other)s"]
          bootstrap_subscriptions: [{protocol: email, endpoint: dba@example.com}]
        staging-account-us-west-2:
          bootstrap_region: us-west-2
          bootstrap_assume_role_arn: arn:aws:iam::%(other)s:role/OrganizationAccountAccessRole
          bootstrap_target_clusters: [{cluster_id: staging-app-cluster}]
          bootstrap_source_account_ids: ["%(main)s"]
      vars:
        bootstrap_environments:
          - name: dev
          - name: staging
            master_username: admin
            users: {application_user: {username: app}}
""" % {"other": OTHER_ACCOUNT, "main": MAIN_ACCOUNT}

ONE_HOST_VARS = {
    "bootstrap_region": "us-west-2",
    "bootstrap_environments": [{"name": "dev"}],
    "bootstrap_target_clusters": [{"cluster_id": "dev-app-cluster"}],
}


def session(account=MAIN_ACCOUNT, region="us-west-2"):
    if account == MAIN_ACCOUNT:
        return boto3.Session(region_name=region)
    creds = boto3.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account, RoleSessionName="test")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=region)


def bootstrap(tmp_path, **kwargs):
    inventory = Path(tmp_path) / "inventory.yml"
    inventory.write_text(INVENTORY)
    return run_playbook(PLAYBOOK, tmp_path, inventory=str(inventory), extra_vars={"bootstrap_hosts": "bootstrap"}, **kwargs)


def secret_values(aws):
    client = aws.client("secretsmanager")
    return {entry["Name"]: json.loads(client.get_secret_value(SecretId=entry["Name"])["SecretString"])
            for entry in client.list_secrets()["SecretList"]}


def passwords(values):
    found = []
    for value in values.values():
        found.append(value.get("password"))
        found.extend(value.get(key, {}).get("password") for key in USER_KEYS)
    return [password for password in found if password]


def assert_tables(aws):
    client = aws.client("dynamodb")
    expected = {"aurora-restore-state": [("operation_id", "HASH")],
                "aurora-restore-audit": [("operation_id", "HASH"), ("timestamp", "RANGE")]}
    for name, keys in expected.items():
        table = client.describe_table(TableName=name)["Table"]
        assert [(key["AttributeName"], key["KeyType"]) for key in table["KeySchema"]] == keys
        assert {definition["AttributeType"] for definition in table["AttributeDefinitions"]} == {"S"}
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert client.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def assert_key(aws, account, grantees):
    client = aws.client("kms")
    alias = [alias for alias in client.list_aliases()["Aliases"] if alias["AliasName"] == "alias/aurora-restore"]
    assert len(alias) == 1
    key = client.describe_key(KeyId=alias[0]["TargetKeyId"])["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER" and key["KeyState"] == "Enabled" and key["AWSAccountId"] == account
    assert client.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    policy = json.loads(client.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert by_sid["AccountAdministration"]["Principal"] == {"AWS": ["arn:aws:iam::%s:root" % account]}
    if grantees:
        assert by_sid["TargetAccountsUse"]["Principal"] == {"AWS": ["arn:aws:iam::%s:root" % grantee for grantee in grantees]}
        assert "kms:Decrypt" in by_sid["TargetAccountsUse"]["Action"]
        assert by_sid["TargetAccountsGrantsForAwsServices"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    else:
        assert "TargetAccountsUse" not in by_sid
    return key["Arn"]


def assert_topic(aws, key_arn, subscriptions):
    client = aws.client("sns")
    topics = [topic["TopicArn"] for topic in client.list_topics()["Topics"]]
    assert len(topics) == 1 and topics[0].endswith(":aurora-restore-notifications")
    assert client.get_topic_attributes(TopicArn=topics[0])["Attributes"]["KmsMasterKeyId"] == key_arn
    found = [(sub["Protocol"], sub["Endpoint"]) for sub in client.list_subscriptions_by_topic(TopicArn=topics[0])["Subscriptions"]]
    assert found == subscriptions
    return topics[0]


def assert_secrets(aws, key_arn):
    values = secret_values(aws)
    assert sorted(values) == ["aurora-restore/%s/%s" % (env, kind) for env in ("dev", "staging") for kind in ("app-credentials", "master-credentials")]
    assert values["aurora-restore/dev/master-credentials"]["username"] == "postgres"
    assert values["aurora-restore/staging/master-credentials"]["username"] == "admin"
    for env in ("dev", "staging"):
        assert sorted(values["aurora-restore/%s/master-credentials" % env]) == ["password", "username"]
        users = values["aurora-restore/%s/app-credentials" % env]
        assert sorted(users) == sorted(USER_KEYS)
        assert all(sorted(users[key]) == ["password", "username"] for key in USER_KEYS)
    assert values["aurora-restore/staging/app-credentials"]["application_user"]["username"] == "app"
    assert values["aurora-restore/dev/app-credentials"]["readonly_user"]["username"] == "readonly_user"
    generated = passwords(values)
    assert len(generated) == 8 and len(set(generated)) == 8
    assert all(len(password) == 32 and password.isalnum() for password in generated)
    client = aws.client("secretsmanager")
    assert all(entry["KmsKeyId"] == key_arn for entry in client.list_secrets()["SecretList"])
    return generated


def assert_operator_policy(aws, account, cluster_ids):
    client = aws.client("iam")
    role = client.get_role(RoleName="aurora-restore-operator")["Role"]
    assert role["Arn"] == "arn:aws:iam::%s:role/dbops/aurora-restore-operator" % account
    policy = client.get_role_policy(RoleName="aurora-restore-operator", PolicyName="aurora-restore-operator")["PolicyDocument"]
    statements = policy["Statement"]
    target_arns = set()
    for statement in statements:
        actions = {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        assert "*" not in actions and "rds:*" not in actions
        if actions & DESTRUCTIVE:
            assert "*" not in resources, statement
            assert all(resource.startswith("arn:aws:rds:") for resource in resources), statement
            if "Condition" not in statement and actions & {"rds:DeleteDBCluster", "rds:DeleteDBInstance", "rds:ModifyDBCluster"}:
                target_arns.update(resources)
            if "rds:DeleteDBClusterSnapshot" in actions:
                assert statement["Condition"]["StringEquals"]["aws:ResourceTag/dbops:aurora_restore:created-by"] == "dbops.aurora_restore"
    assert target_arns == {"arn:aws:rds:us-west-2:%s:%s:%s%s" % (account, kind, cluster, suffix)
                           for cluster in cluster_ids for kind in ("cluster", "db") for suffix in ("", "-*")} | {
        "arn:aws:rds:us-west-2:%s:cluster-snapshot:%s-final-*" % (account, cluster) for cluster in cluster_ids}
    by_sid = {statement["Sid"]: statement for statement in statements}
    assert by_sid["AuditTables"]["Resource"] == ["arn:aws:dynamodb:us-west-2:%s:table/aurora-restore-state" % account,
                                                 "arn:aws:dynamodb:us-west-2:%s:table/aurora-restore-audit" % account]
    assert by_sid["Notifications"]["Resource"] == ["arn:aws:sns:us-west-2:%s:aurora-restore-notifications" % account]
    assert len(by_sid["Secrets"]["Resource"]) == 4 and set(by_sid["Secrets"]["Action"]) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    assert by_sid["Metrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "DBOps/AuroraRestore"}}
    return policy


def assert_alarms(aws, topic_arn):
    alarms = aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert sorted(alarm["AlarmName"] for alarm in alarms) == ["aurora-restore-failed-dev", "aurora-restore-failed-staging"]
    for alarm in alarms:
        environment = alarm["AlarmName"].rsplit("-", 1)[1]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("DBOps/AuroraRestore", "RestoreFailed", "Sum")
        assert alarm["Dimensions"] == [{"Name": "Environment", "Value": environment}]
        assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("GreaterThanOrEqualToThreshold", 1.0, 1)
        assert alarm["AlarmActions"] == [topic_arn]


def test_bootstrap_two_accounts_then_rerun_changes_nothing(aws_env, tmp_path):
    first = bootstrap(tmp_path)
    assert first.rc == 0, first.output[-3000:]
    hosts = {"main-us-west-2": (MAIN_ACCOUNT, [OTHER_ACCOUNT], [("email", "dba@example.com")], ["dev-app-cluster"]),
             "staging-account-us-west-2": (OTHER_ACCOUNT, [], [], ["staging-app-cluster"])}
    generated = []
    for host, (account, grantees, subscriptions, clusters) in hosts.items():
        assert first.stats(host)["changed"] > 0 and first.stats(host)["failures"] == 0
        aws = session(account)
        assert_tables(aws)
        key_arn = assert_key(aws, account, grantees)
        topic_arn = assert_topic(aws, key_arn, subscriptions)
        generated += assert_secrets(aws, key_arn)
        policy = assert_operator_policy(aws, account, clusters)
        # The tests that build their world with boto3 render the same document (helpers/operator_role.py).
        assert policy == operator_role.render_policy(
            account, bootstrap_iam_region="us-west-2", bootstrap_iam_source_account_ids=[] if account == MAIN_ACCOUNT else [MAIN_ACCOUNT],
            bootstrap_iam_target_clusters=[{"cluster_id": cluster, "region": "us-west-2"} for cluster in clusters],
            bootstrap_iam_secret_names=["aurora-restore/%s/%s" % (env, kind) for env in ("dev", "staging")
                                        for kind in ("master-credentials", "app-credentials")])
        assert_alarms(aws, topic_arn)
    # Nothing of this lands in the main account's default region.
    assert boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"] == []

    second = bootstrap(tmp_path)
    assert second.rc == 0, second.output[-3000:]
    for host in hosts:
        assert second.stats(host)["changed"] == 0, [name for name, result in second.tasks(host) if result.get("changed")]
    # The rerun kept every generated password; none was ever printed.
    assert passwords(secret_values(session(MAIN_ACCOUNT))) + passwords(secret_values(session(OTHER_ACCOUNT))) == generated
    for password in generated:
        assert password not in first.output and password not in second.output


def test_check_mode_on_a_fresh_account_creates_nothing(aws_env, tmp_path):
    result = run_playbook(PLAYBOOK, tmp_path, check=True, extra_vars=ONE_HOST_VARS)
    assert result.rc == 0, result.output[-3000:]
    assert result.stats()["changed"] > 0 and result.stats()["failures"] == 0
    aws = session()
    assert aws.client("dynamodb").list_tables()["TableNames"] == []
    assert aws.client("sns").list_topics()["Topics"] == []
    assert aws.client("kms").list_keys()["Keys"] == []
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert [role["RoleName"] for role in aws.client("iam").list_roles()["Roles"]] == []


def test_existing_secret_value_is_kept_unless_overwrite(aws_env, tmp_path):
    client = session().client("secretsmanager")
    kept = {"username": "dba", "password": "Kept-Value-1"}
    client.create_secret(Name="aurora-restore/dev/master-credentials", SecretString=json.dumps(kept))
    tags = ["--tags", "bootstrap_kms,bootstrap_secrets"]
    first = run_playbook(PLAYBOOK, tmp_path, extra_vars=ONE_HOST_VARS, args=tags)
    assert first.rc == 0, first.output[-3000:]
    values = secret_values(session())
    assert values["aurora-restore/dev/master-credentials"] == kept
    assert sorted(values["aurora-restore/dev/app-credentials"]) == sorted(USER_KEYS)

    given = {"name": "dev", "master_username": "postgres", "master_password": "Given-Secret-Value-2"}
    overwrite = dict(ONE_HOST_VARS, bootstrap_environments=[given], bootstrap_secrets_overwrite=True)
    second = run_playbook(PLAYBOOK, tmp_path, extra_vars=overwrite, args=tags)
    assert second.rc == 0, second.output[-3000:]
    after = secret_values(session())
    assert after["aurora-restore/dev/master-credentials"] == {"username": "postgres", "password": "Given-Secret-Value-2"}
    # Overwrite without given user passwords rotates them (new generated ones).
    assert passwords({"users": after["aurora-restore/dev/app-credentials"]}) != passwords({"users": values["aurora-restore/dev/app-credentials"]})
    for password in passwords(values) + passwords(after):
        assert password not in first.output and password not in second.output


def test_the_key_policy_takes_the_partition_of_the_credentials(aws_env, tmp_path):
    """Nothing assumes arn:aws: an account in the China partition gets arn:aws-cn: principals."""
    from helpers.ansible_run import LOCAL_PLAY_HEADER

    play = LOCAL_PLAY_HEADER + """    - name: key
      ansible.builtin.include_role:
        name: dbops.aurora_restore.bootstrap_kms
      vars:
        bootstrap_kms_region: cn-north-1
        bootstrap_kms_grant_account_ids: ["%s"]
""" % OTHER_ACCOUNT
    result = run_playbook(play, tmp_path, extra_env={"AWS_REGION": "cn-north-1", "AWS_DEFAULT_REGION": "cn-north-1"})
    assert result.rc == 0, result.output[-3000:]
    kms = boto3.client("kms", region_name="cn-north-1")
    [alias] = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aurora-restore"]
    policy = json.loads(kms.get_key_policy(KeyId=alias["TargetKeyId"], PolicyName="default")["Policy"])
    aws_principals = [statement["Principal"]["AWS"] for statement in policy["Statement"] if "AWS" in statement["Principal"]]
    principals = [p for value in aws_principals for p in ([value] if isinstance(value, str) else value)]
    assert principals and all(p.startswith("arn:aws-cn:iam::") for p in principals), principals


def test_the_alarm_without_its_topic_is_refused_by_the_roles_argument_spec(aws_env, tmp_path):
    """bootstrap_alarm_topic_arn is required and has no default: left out, the role stops before any AWS call."""
    from helpers.ansible_run import LOCAL_PLAY_HEADER

    play = LOCAL_PLAY_HEADER + """    - name: alarm
      ansible.builtin.include_role:
        name: dbops.aurora_restore.bootstrap_alarm
      vars:
        bootstrap_alarm_environments: [dev]
"""
    result = run_playbook(play, tmp_path)
    assert result.rc != 0
    assert "missing required arguments: bootstrap_alarm_topic_arn" in result.output, result.output[-3000:]
    assert boto3.client("cloudwatch", region_name="us-east-1").describe_alarms()["MetricAlarms"] == []
