"""PagerDuty's official Python client (`pagerduty` on PyPI) talks to Tocsin unchanged.

Only the base URL differs: the library's own validation of our answers (it refuses
a 2xx without a dedup key, raises on 4xx) is part of what this checks. Real
processes: `tocsin serve` over HTTPS (the library insists on https://) with a
self-signed certificate the client is told to trust through SSL_CERT_FILE, on a
loopback port over SQLite.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pagerduty
import pytest

from tests.e2e.cli import tocsin
from tests.e2e.processes import http_ok, running, wait_until
from tests.smtp import free_port

pytestmark = pytest.mark.slow


def _incidents(data_dir: Path) -> list[dict]:
    done = tocsin(
        "--data-dir",
        str(data_dir),
        "incidents",
        "--status",
        "triggered,acknowledged,resolved",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    return document["incidents"] if isinstance(document, dict) else document


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_official_client_triggers_acknowledges_and_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, cert_key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    data_dir = tmp_path / "data"
    created = tocsin(
        "--data-dir", str(data_dir), "service", "create", "Checkout", "--format", "json"
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["routing_key"]
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    serve = ["--data-dir", str(data_dir), "serve", "--port", str(port)]
    with running([*serve, "--tls-cert", str(cert), "--tls-key", str(cert_key)], log):
        wait_until(http_ok(f"{base}/healthz", verify=False), what="server", log=log)
        client = pagerduty.EventsApiV2Client(key)
        bad = pagerduty.EventsApiV2Client("f" * 32)
        with client, bad:
            _exercise(client, bad, base, data_dir, log)


def _exercise(
    client: pagerduty.EventsApiV2Client,
    bad: pagerduty.EventsApiV2Client,
    base: str,
    data_dir: Path,
    log: Path,
) -> None:
    """Trigger twice (deduplicated), acknowledge, resolve, a change event, an unknown key."""
    client.url = base
    dedup = client.trigger(
        "Checkout p99 above 2 s on web-3",
        "web-3",
        severity="error",
        custom_details={"description": "p99 latency above 2 s for 10 minutes"},
        links=[{"href": "https://runbooks.example/checkout", "text": "Runbook"}],
    )
    assert len(dedup) == 32
    assert client.trigger("Checkout p99 above 2 s on web-3", "web-3", dedup_key=dedup) == dedup
    wait_until(lambda: len(_incidents(data_dir)) == 1, what="incident", log=log)
    assert client.acknowledge(dedup) == dedup
    wait_until(lambda: _incidents(data_dir)[0]["status"] == "acknowledged", what="ack", log=log)
    assert client.resolve(dedup) == dedup
    wait_until(lambda: _incidents(data_dir)[0]["status"] == "resolved", what="resolve", log=log)
    client.send_change_event(payload={"summary": "Deploy checkout v2.41.0", "source": "ci"})
    bad.url = base
    with pytest.raises(pagerduty.Error):  # a 400, which the client does not retry
        bad.trigger("Unknown key", "nowhere")
