"""The emulator's server process: moto's WSGI app wrapped by the localaws layer.

    python -m localaws.server --port N --state-dir DIR [--profile test|demo]

Request path: count → maybe inject a fault → admin endpoint (/_localaws/...) or, under one global lock,
advance the clock and hand the request to moto (whose RDS handlers rds.py has patched).  One lock because
moto's backends are not thread-safe and because time-driven transitions must not interleave with requests.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs

from .clock import Clock
from .config import FaultConfig, durations_from_env, faults_from_env, settings_from_env, validate_durations, \
    validate_settings
from .dataplane import DataPlane
from . import ram
from .iam import Authorizer, Denial, ensure_member_accounts

log = logging.getLogger("localaws.server")

ADMIN_PREFIX = "/_localaws/"
COUNTS_FILE = "request-counts.json"


class Runtime:
    """Everything the server process knows beyond moto: knobs, clock, data plane, counters."""

    def __init__(self, state_dir: Path, profile: str):
        self.state_dir = Path(state_dir)
        self.profile = profile
        self.lock = threading.RLock()
        self.clock = Clock()
        self.data = DataPlane(self.state_dir)
        self.endpoint_host = self._endpoint_host_from_env()
        self.iam = Authorizer()
        self.rds_layer = None
        self.started = time.time()
        self.reset_knobs()
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    @staticmethod
    def _endpoint_host_from_env() -> str | None:
        # "aws" keeps moto's AWS-style names (which resolve nowhere); anything else is the host clients use.
        value = os.environ.get("LOCALAWS_ENDPOINT_HOST", "127.0.0.1")
        return None if value == "aws" else value

    @property
    def authorizer(self):
        return self.iam if self.settings["iam"] == "enforce" else None

    def reset_knobs(self) -> None:
        self.settings = settings_from_env()
        self.durations = durations_from_env(self.profile)
        self.faults = faults_from_env()
        self.rng = random.Random(self.faults.seed)

    def count(self, service: str, action: str) -> None:
        self.counts[service][action] += 1

    def counts_dict(self) -> dict:
        services = {service: dict(actions) for service, actions in self.counts.items()}
        return {"total": sum(sum(a.values()) for a in services.values()), "services": services}

    def write_counts(self) -> Path:
        path = self.state_dir / COUNTS_FILE
        path.write_text(json.dumps(self.counts_dict(), indent=2, sort_keys=True))
        return path

    def pick_fault(self, service: str, action: str) -> str | None:
        for rule in self.faults.rules:
            if rule.matches(service, action) and self.rng.random() < rule.rate:
                rule.injected += 1
                return rule.kind
        return None

    def reset_world(self) -> None:
        """Wipe every AWS resource and every PostgreSQL server; knobs and counters back to startup values."""
        from moto.moto_api._internal.models import moto_api_backend

        with self.lock:
            self.clock.clear()
            self.data.wipe()
            moto_api_backend.reset()
            ram.INVITATIONS.clear()
            ensure_member_accounts()
            self.iam.reset()
            self.reset_knobs()
            self.counts.clear()

    def state_summary(self) -> dict:
        from moto.rds.models import rds_backends

        clusters = []
        for account, regions in rds_backends.items():
            for region, backend in regions.items():
                for cluster in backend.clusters.values():
                    server = getattr(cluster, "_lx_pg", None)
                    entry = {"account": account, "region": region, "id": cluster.db_cluster_identifier,
                             "status": cluster.status, "port": cluster.port,
                             "postgres_pid": server.pid if server is not None and server.running else None}
                    if self.rds_layer is not None:
                        entry.update(self.rds_layer.certificate_state(cluster))
                    clusters.append(entry)
        return {"clusters": clusters, "postgres_pids": self.data.running_pids()}


# --- request classification ----------------------------------------------------------------------------
def classify(environ: dict, body: bytes) -> tuple[str, str, bool]:
    """(service, action, is_json_protocol) from the SigV4 scope, X-Amz-Target, the RPCv2 path or the form body."""
    service = credential_scope(environ)[2] or "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1], True
    path = environ.get("PATH_INFO", "/")
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor" and "/operation/" in path:
        return service, path.rsplit("/operation/", 1)[-1].strip("/"), True
    action = None
    if environ.get("REQUEST_METHOD") == "POST" and body:
        try:
            action = parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]
        except ValueError:
            action = None
    if action is None:
        action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [None])[0]
    if action is None:  # REST protocols: method + first path segment is the best stable name
        segment = path.strip("/").split("/", 1)[0]
        action = f"{environ.get('REQUEST_METHOD', 'GET')} /{segment}"
    return service, action, False


def credential_scope(environ: dict) -> tuple[str, str, str]:
    """(access key id, region, service) of the SigV4 Authorization header ("" when unsigned)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in auth:
        return "", "", ""
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    if len(scope) < 4:
        return "", "", ""
    return scope[0], scope[2], scope[3]


def request_params(environ: dict, body: bytes) -> dict:
    """The request's parameters: query/form fields (first values), or the JSON or CBOR body."""
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        if not body:
            return {}
        from botocore.parsers import RpcV2CBORParser

        parser = RpcV2CBORParser()
        try:
            decoded = parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))
        except Exception:  # noqa: BLE001 - unreadable bodies are moto's to refuse
            return {}
        return decoded if isinstance(decoded, dict) else {}
    if environ.get("HTTP_X_AMZ_TARGET") or protocol_of(environ) == "json":
        try:
            decoded = json.loads(body or b"{}")
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    fields = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if body and environ.get("REQUEST_METHOD") == "POST":
        try:
            fields.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
        except ValueError:
            pass
    return {key: values[0] for key, values in fields.items()}


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def error_response(start_response, service: str, protocol: str, status: str, code: str, message: str,
                   sender: bool = True):
    """An AWS error in the protocol the client speaks: query XML, EC2 XML, JSON or RPCv2 CBOR."""
    if protocol == "cbor":
        body = _cbor_head(5, 2) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        ctype, extra = "application/cbor", [("smithy-protocol", "rpc-v2-cbor")]
    elif protocol == "json":
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        ctype, extra = "application/x-amz-json-1.1", []
    elif service == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{_xml(message)}</Message></Error></Errors>"
                f"<RequestID>localaws</RequestID></Response>").encode()
        ctype, extra = "text/xml", []
    else:
        body = (f'<ErrorResponse><Error><Type>{"Sender" if sender else "Receiver"}</Type>'
                f"<Code>{code}</Code><Message>{_xml(message)}</Message></Error>"
                f"<RequestId>localaws</RequestId></ErrorResponse>").encode()
        ctype, extra = "text/xml", []
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body))), ("x-amzn-ErrorType", code)] + extra)
    return [body]


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def protocol_of(environ: dict) -> str:
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return "cbor"
    if environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO", "").rstrip("/") in ram.OPERATIONS:
        return "json"  # JSON protocols (RAM's is REST-JSON: botocore reads the code from x-amzn-ErrorType)
    return "query"


def fault_response(kind: str, environ, start_response, service: str):
    if kind == "drop":
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            # End the TCP connection with no response: the client sees a reset / EOF.  werkzeug owns the socket
            # and treats its failing write below as a dropped connection (no traceback).
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]
    protocol = protocol_of(environ)
    if kind == "throttle":
        return error_response(start_response, service, protocol, "400 Bad Request",
                              "Throttling" if protocol == "query" else "ThrottlingException", "Rate exceeded")
    return error_response(start_response, service, protocol, "500 Internal Server Error", "InternalFailure",
                          "An internal error occurred (injected by localaws).", sender=False)


class LocalAwsApp:
    """WSGI middleware around moto's DomainDispatcherApplication."""

    def __init__(self, moto_app, runtime: Runtime, on_shutdown):
        self.moto_app = moto_app
        self.rt = runtime
        self.on_shutdown = on_shutdown

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN_PREFIX):
            return self.admin(environ, start_response, path[len(ADMIN_PREFIX):].strip("/"))
        body = self._buffer_body(environ)
        service, action, json_protocol = classify(environ, body)
        if service == "ram":  # a REST protocol: its paths name the operations
            action = ram.OPERATIONS.get(environ.get("PATH_INFO", "").rstrip("/"), action)
        with self.rt.lock:
            self.rt.count(service, action)
            kind = self.rt.pick_fault(service, action)
        if kind is not None:
            return fault_response(kind, environ, start_response, service)
        with self.rt.lock:
            self.rt.clock.tick()
            if self.rt.authorizer is not None:
                access_key, region, _ = credential_scope(environ)
                try:
                    self.rt.authorizer.authorize(service, action, region or "us-east-1", access_key,
                                                 request_params(environ, body))
                except Denial as denial:
                    status = {400: "400 Bad Request", 403: "403 Forbidden"}.get(denial.status, "400 Bad Request")
                    return error_response(start_response, service, protocol_of(environ), status, denial.code,
                                          denial.message)
            if service == "ram" and action in ram.HANDLED_HERE:
                return self._ram(environ, start_response, action, body)
            # moto renders the body inside the call; materialise it while we still hold the lock.
            return list(self.moto_app(environ, start_response))

    @staticmethod
    def _ram(environ, start_response, action, body):
        """The RAM operations moto lacks (ram.py), as the caller's account."""
        from moto.iam.models import get_account_id_from

        access_key, region, _ = credential_scope(environ)
        try:
            params = json.loads(body or b"{}")
            return ram.respond(start_response, ram.handle(action, get_account_id_from(access_key), region or "us-east-1", params))
        except ram.RamError as error:
            return error_response(start_response, "ram", "json", "400 Bad Request", error.code, error.message)

    @staticmethod
    def _buffer_body(environ) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    # --- admin API ----------------------------------------------------------------------------------
    def admin(self, environ, start_response, name: str):
        method = environ.get("REQUEST_METHOD", "GET")
        payload = {}
        body = self._buffer_body(environ)
        if body:
            try:
                payload = json.loads(body)
            except ValueError:
                return self._json(start_response, {"error": "body must be JSON"}, "400 Bad Request")
        try:
            result = self._admin_action(method, name, payload)
        except (ValueError, TypeError) as exc:
            return self._json(start_response, {"error": str(exc)}, "400 Bad Request")
        if result is None:
            return self._json(start_response, {"error": f"no admin endpoint {method} {name}"}, "404 Not Found")
        return self._json(start_response, result)

    def _admin_action(self, method: str, name: str, payload: dict):
        rt = self.rt
        if name == "health":
            return {"ok": True, "pid": os.getpid(), "profile": rt.profile, "uptime": time.time() - rt.started}
        if name == "counts" and method == "GET":
            with rt.lock:
                return rt.counts_dict()
        if name == "counts" and method == "DELETE":
            with rt.lock:
                rt.counts.clear()
            return {"ok": True}
        if name == "faults" and method == "GET":
            return rt.faults.to_dict()
        if name == "faults" and method in ("POST", "PUT"):
            config = FaultConfig.from_dict(payload)
            with rt.lock:
                rt.faults, rt.rng = config, random.Random(config.seed)
            return config.to_dict()
        if name == "durations" and method == "GET":
            return dict(rt.durations)
        if name == "durations" and method in ("POST", "PUT"):
            values = validate_durations(payload)
            with rt.lock:
                rt.durations.update(values)
            return dict(rt.durations)
        if name == "reset" and method == "POST":
            rt.reset_world()
            return {"ok": True}
        if name == "state" and method == "GET":
            with rt.lock:
                rt.clock.tick()
                return rt.state_summary()
        if name == "iam/usage" and method == "GET":
            with rt.lock:
                return rt.iam.usage_of()
        if name == "settings" and method == "GET":
            return dict(rt.settings)
        if name == "settings" and method in ("POST", "PUT"):
            values = validate_settings(payload)
            with rt.lock:
                rt.settings.update(values)
            return dict(rt.settings)
        if name == "status" and method == "POST":
            return self._force_status(payload)
        if name == "system-tags" and method == "POST":
            return self._stamp_tags(payload)
        if name == "backup" and method == "POST":
            return self._backup(payload)
        if name == "shutdown" and method == "POST":
            threading.Thread(target=self.on_shutdown, daemon=True).start()
            return {"ok": True}
        return None

    def _force_status(self, payload: dict) -> dict:
        """Put a cluster or instance into a status (insufficient-capacity, restore-error, ...): faults no request can
        cause on the emulator, for tests of how callers react to them."""
        from moto.rds.models import rds_backends

        kind, ident, status = payload.get("resource"), payload.get("id"), payload.get("status")
        if kind not in ("cluster", "instance") or not ident or not status:
            raise ValueError("need resource (cluster|instance), id and status")
        backend = rds_backends[payload.get("account", "123456789012")][payload.get("region", "us-east-1")]
        with self.rt.lock:
            self.rt.clock.tick()
            model = (backend.clusters if kind == "cluster" else backend.databases).get(ident)
            if model is None:
                raise ValueError(f"no {kind} {ident}")
            self.rt.clock.forget(model)
            model.status = status
        return {"ok": True, "resource": kind, "id": ident, "status": status}

    def _stamp_tags(self, payload: dict) -> dict:
        """Tags AWS services put on resources and the API refuses to set (aws:cloudformation:*, aws:backup:*)."""
        from moto.rds.models import rds_backends

        arn, tags = payload.get("arn") or "", payload.get("tags") or {}
        parts = arn.split(":")
        if len(parts) < 7 or parts[2] != "rds" or not isinstance(tags, dict):
            raise ValueError("need an RDS resource arn and a tags mapping")
        backend = rds_backends[parts[4]][parts[3]]
        with self.rt.lock:
            resource = backend._get_resource_for_tagging(arn)
            if resource is None:
                raise ValueError(f"no resource {arn}")
            resource.add_tags([{"Key": key, "Value": str(value)} for key, value in tags.items()])
        return {"ok": True, "arn": arn}

    def _backup(self, payload: dict) -> dict:
        """A point of a cluster's continuous backup: RestoreDBClusterToPointInTime can restore to this time or later."""
        from moto.rds.models import rds_backends

        ident = payload.get("cluster")
        if not ident:
            raise ValueError("need cluster (and account, region)")
        backend = rds_backends[payload.get("account", "123456789012")][payload.get("region", "us-east-1")]
        with self.rt.lock:
            self.rt.clock.tick()
            cluster = backend.clusters.get(ident)
            if cluster is None:
                raise ValueError(f"no cluster {ident}")
            answer, ready = self.rt.rds_layer.record_backup(cluster)
        ready.result(timeout=120)  # the copy is of the data as it is now: answered once it is taken
        return answer

    @staticmethod
    def _json(start_response, data, status="200 OK"):
        body = json.dumps(data).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _ticker(runtime: Runtime, stop: threading.Event) -> None:
    """Lets time pass without requests (a server comes up when its writer is ready, not at the next poll)."""
    while not stop.wait(0.25):
        with runtime.lock:
            try:
                runtime.clock.tick()
            except Exception:  # noqa: BLE001
                log.exception("tick failed")


def _remove_stale_data(state_dir: Path) -> None:
    """Data of a previous run (killed before it could clean up) belongs to no AWS resource any more."""
    import shutil

    for path in [state_dir / "data", *state_dir.glob("trash-*")]:
        shutil.rmtree(path, ignore_errors=True)


def serve(port: int, state_dir: Path, profile: str) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from . import dynamodb, sns
    from .rds import RdsLayer

    state_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_data(state_dir)
    runtime = Runtime(state_dir, profile)
    runtime.rds_layer = RdsLayer(runtime)
    runtime.rds_layer.install()
    dynamodb.install()
    sns.install()
    ram.install()
    ensure_member_accounts()
    stop_event = threading.Event()
    holder = {}

    def shutdown() -> None:
        if stop_event.is_set():
            return
        stop_event.set()
        with runtime.lock:
            runtime.write_counts()
            runtime.clock.clear()
            # moto's state dies with the process, so the data behind it goes too (no orphaned clusters).
            runtime.data.wipe()
            runtime.data.drain(timeout=30)
        if "server" in holder:
            holder["server"].shutdown()

    app = LocalAwsApp(DomainDispatcherApplication(create_backend_app), runtime, shutdown)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    holder["server"] = server
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: threading.Thread(target=shutdown, daemon=True).start())
    threading.Thread(target=_ticker, args=(runtime, stop_event), daemon=True).start()
    runtime.data.write_pids()
    log.info("localaws listening on 127.0.0.1:%s (profile %s, state %s)", port, profile, state_dir)
    try:
        server.serve_forever()
    finally:
        shutdown()
        runtime.data.write_pids()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws.server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--profile", default=os.environ.get("LOCALAWS_PROFILE", "test"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOCALAWS_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serve(args.port, args.state_dir.absolute(), args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
