"""The emulator's stand-in for the RDS certificate authority.

Aurora serves TLS with a certificate of the RDS CA, which clients verify with the CA bundle AWS publishes
(sslmode=verify-full, sslrootcert=<bundle>). The emulator has a CA of its own, made once per state directory in
tls/ (rds-ca.pem beside the env file's directory; LOCALAWS_RDS_CA names it), and one server certificate signed by
it for the hosts clients use (127.0.0.1, localhost and LOCALAWS_ENDPOINT_HOST), which every cluster serves.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

CA_FILE = "rds-ca.pem"


@dataclass(frozen=True)
class ServerTls:
    cert_pem: bytes
    key_pem: bytes
    ca_file: Path


def ensure(tls_dir: Path, endpoint_host: str | None = None) -> ServerTls:
    """The CA and the server certificate in `tls_dir`, made if missing (kept across restarts, so a client's CA
    file stays good)."""
    tls_dir = Path(tls_dir)
    paths = {name: tls_dir / name for name in (CA_FILE, "server.crt", "server.key")}
    if not all(path.exists() for path in paths.values()):
        tls_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(tls_dir, 0o755)
        ca_pem, cert_pem, key_pem = _make(endpoint_host)
        for name, data in ((CA_FILE, ca_pem), ("server.crt", cert_pem), ("server.key", key_pem)):
            partial = paths[name].with_suffix(".partial")
            partial.write_bytes(data)
            os.chmod(partial, 0o600 if name.endswith(".key") else 0o644)
            os.replace(partial, paths[name])
    return ServerTls(paths["server.crt"].read_bytes(), paths["server.key"].read_bytes(), paths[CA_FILE])


def _make(endpoint_host: str | None) -> tuple[bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localaws"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "localaws RDS root CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if endpoint_host and endpoint_host not in ("localhost", "127.0.0.1", "aws"):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(endpoint_host)))
        except ValueError:
            names.append(x509.DNSName(endpoint_host))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    return ca.public_bytes(pem), cert.public_bytes(pem), key_pem
