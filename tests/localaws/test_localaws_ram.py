"""AWS RAM and cross-account clones on the emulator: a cluster shared by its owner, the invitation its receiver
accepts, then a copy-on-write clone in the receiver's account, and AWS's refusals on the way (README.md's fidelity
table, "AWS RAM and cross-account clones")."""
import pytest

from localaws_helpers import ACCOUNT_A, ACCOUNT_B, account_b_credentials, client, cluster, connect, create_cluster, \
    create_kms_key, expect_error, query, role_with, wait_cluster, wait_instance

PASSWORD = "master-pw-1"


@pytest.fixture
def prod(aws_env):
    """Account A's encrypted source (a key account B may use), with a writer and a table of one row."""
    key = create_kms_key("us-east-1", users=(ACCOUNT_B,))
    found = create_cluster(client("rds"), "prod", password=PASSWORD, StorageEncrypted=True, KmsKeyId=key)
    conn = connect(found, PASSWORD)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE orders (id int); INSERT INTO orders VALUES (7)")
    conn.close()
    return found


def share(cluster_arn, principal=ACCOUNT_B, credentials=None):
    return client("ram", credentials=credentials).create_resource_share(
        name="prod-clones", resourceArns=[cluster_arn], principals=[principal], allowExternalPrincipals=True)["resourceShare"]


def clone(rds_b, source_arn, ident="dev", **options):
    options.setdefault("KmsKeyId", create_kms_key("us-east-1", credentials=account_b_credentials()))
    return rds_b.restore_db_cluster_to_point_in_time(DBClusterIdentifier=ident, SourceDBClusterIdentifier=source_arn,
                                                     RestoreType="copy-on-write", UseLatestRestorableTime=True, **options)


def accept_all(ram_b):
    for invitation in ram_b.get_resource_share_invitations()["resourceShareInvitations"]:
        if invitation["status"] == "PENDING":
            ram_b.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])


def test_share_accept_then_clone_in_the_other_account(prod):
    rds_b, ram_b = client("rds", credentials=account_b_credentials()), client("ram", credentials=account_b_credentials())
    # Not shared: another account's cluster is not found.
    expect_error("DBClusterNotFoundFault", clone, rds_b, prod["DBClusterArn"])
    expect_error("DBClusterNotFoundFault", rds_b.describe_db_clusters, DBClusterIdentifier=prod["DBClusterArn"], IncludeShared=True)
    created = share(prod["DBClusterArn"])
    [invitation] = ram_b.get_resource_share_invitations()["resourceShareInvitations"]
    assert invitation["status"] == "PENDING" and invitation["senderAccountId"] == ACCOUNT_A
    assert invitation["resourceShareArn"] == created["resourceShareArn"] and invitation["receiverAccountId"] == ACCOUNT_B
    # Shared, but the invitation is still pending: not found either.
    expect_error("DBClusterNotFoundFault", clone, rds_b, prod["DBClusterArn"])
    # Only the receiver can accept it.
    expect_error("ResourceShareInvitationArnNotFoundException", client("ram").accept_resource_share_invitation,
                 resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    accepted = ram_b.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    assert accepted["resourceShareInvitation"]["status"] == "ACCEPTED"
    expect_error("ResourceShareInvitationAlreadyAcceptedException", ram_b.accept_resource_share_invitation,
                 resourceShareInvitationArn=invitation["resourceShareInvitationArn"])

    # Once accepted, the receiver sees it by ARN when it asks for shared clusters.
    expect_error("DBClusterNotFoundFault", rds_b.describe_db_clusters, DBClusterIdentifier=prod["DBClusterArn"])
    [seen] = rds_b.describe_db_clusters(DBClusterIdentifier=prod["DBClusterArn"], IncludeShared=True)["DBClusters"]
    assert seen["DBClusterArn"] == prod["DBClusterArn"] and seen["StorageEncrypted"]
    clone(rds_b, prod["DBClusterArn"])
    wait_cluster(rds_b, "dev")
    rds_b.create_db_instance(DBInstanceIdentifier="dev-1", DBClusterIdentifier="dev", Engine="aurora-postgresql",
                             DBInstanceClass="db.r6g.large")
    wait_instance(rds_b, "dev-1")
    dev = cluster(rds_b, "dev")
    assert dev["CrossAccountClone"] is True and dev["StorageEncrypted"] and dev["KmsKeyId"].split(":")[4] == ACCOUNT_B
    assert query(dev, PASSWORD, "SELECT id FROM orders") == [(7,)]
    assert cluster(client("rds"), "prod")["CrossAccountClone"] is False
    # One cross-account clone of a cluster per account.
    expect_error("DBClusterQuotaExceededFault", clone, rds_b, prod["DBClusterArn"], ident="dev2")


def test_the_rules_of_a_clone_across_accounts(prod):
    rds_b, ram_b = client("rds", credentials=account_b_credentials()), client("ram", credentials=account_b_credentials())
    share(prod["DBClusterArn"])
    accept_all(ram_b)
    # Only a copy-on-write clone; an encrypted source needs the clone's own key.
    expect_error("InvalidParameterCombination", rds_b.restore_db_cluster_to_point_in_time, DBClusterIdentifier="dev",
                 SourceDBClusterIdentifier=prod["DBClusterArn"], RestoreType="full-copy", UseLatestRestorableTime=True)
    expect_error("InvalidParameterCombination", rds_b.restore_db_cluster_to_point_in_time, DBClusterIdentifier="dev",
                 SourceDBClusterIdentifier=prod["DBClusterArn"], RestoreType="copy-on-write", UseLatestRestorableTime=True)
    assert rds_b.describe_db_clusters()["DBClusters"] == []


def test_a_source_under_the_aws_managed_key_cannot_be_cloned_across_accounts(aws_env):
    found = create_cluster(client("rds"), "prod", password=PASSWORD, StorageEncrypted=True)
    share(found["DBClusterArn"])
    accept_all(client("ram", credentials=account_b_credentials()))
    expect_error("KMSKeyNotAccessibleFault", clone, client("rds", credentials=account_b_credentials()), found["DBClusterArn"])


def test_only_the_owner_shares_a_cluster_that_exists(prod):
    expect_error("UnknownResourceException", share, prod["DBClusterArn"].replace(":prod", ":missing"))
    expect_error("UnknownResourceException", share, prod["DBClusterArn"], principal=ACCOUNT_A,
                 credentials=account_b_credentials())


def test_the_source_key_policy_and_iam_decide_as_on_aws(aws_env):
    """The source's key must allow the cloning account (its key policy), and RAM's actions need IAM grants."""
    private_key = create_kms_key("us-east-1")  # no statement for account B
    found = create_cluster(client("rds"), "prod", password=PASSWORD, StorageEncrypted=True, KmsKeyId=private_key)
    share(found["DBClusterArn"])
    accept_all(client("ram", credentials=account_b_credentials()))
    expect_error("AccessDenied", clone, client("rds", credentials=account_b_credentials()), found["DBClusterArn"])

    reader = role_with([{"Effect": "Allow", "Action": "ram:GetResourceShareInvitations", "Resource": "*"}])
    ram = client("ram", credentials=reader)
    ram.get_resource_share_invitations()
    expect_error("AccessDeniedException", ram.create_resource_share, name="x", resourceArns=[found["DBClusterArn"]],
                 principals=[ACCOUNT_B])
