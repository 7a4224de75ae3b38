"""`tocsin serve` for real: web without engine is not ready until an engine runs; HTTPS directly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.databases import postgres_database
from tests.e2e.cli import tocsin
from tests.e2e.processes import http_ok, running, wait_until
from tests.smtp import free_port

pytestmark = pytest.mark.slow


def test_web_and_engine_as_separate_processes_on_postgres(
    pg_admin_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with postgres_database(pg_admin_url, "serve") as url:
        env = {
            "TOCSIN_DATABASE_URL": url,
            "TOCSIN_SECRET_KEY": "shared-secret-for-all-processes",
            "TOCSIN_ENGINE_CYCLE_SECONDS": "0.5",
            "TOCSIN_ENGINE_READY_SECONDS": "5",
        }
        web_log = tmp_path / "web.log"
        with running(
            ["--data-dir", str(tmp_path / "w"), "serve", "--no-engine", "--port", str(port)],
            web_log,
            **env,
        ):
            wait_until(http_ok(f"{base}/healthz"), what="web to answer", log=web_log)
            ready = httpx.get(f"{base}/readyz", timeout=5)
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"]["ok"] is True
            assert ready.json()["checks"]["engine"]["ok"] is False
            engine_log = tmp_path / "engine.log"
            with running(["--data-dir", str(tmp_path / "e"), "engine"], engine_log, **env):
                wait_until(
                    http_ok(f"{base}/readyz"),
                    what="readiness once the engine cycles",
                    log=engine_log,
                )
                body = httpx.get(f"{base}/readyz", timeout=5).json()
                assert body["checks"]["engine"]["instances"] == 1
            # The engine stopped cleanly (SIGTERM): it forgot its heartbeat, so web is not ready again.
            wait_until(
                lambda: httpx.get(f"{base}/readyz", timeout=5).status_code == 503,
                what="not ready after the engine stopped",
                log=web_log,
            )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_serve_https_directly(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    log = tmp_path / "tls.log"
    with running(
        [
            "--data-dir",
            str(tmp_path / "d"),
            "serve",
            "--port",
            str(port),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        log,
    ):
        wait_until(
            http_ok(f"https://127.0.0.1:{port}/healthz", verify=False), what="HTTPS", log=log
        )
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


def test_tls_options_go_together(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = tocsin("--data-dir", str(tmp_path), "serve", "--tls-cert", str(cert))
    assert result.returncode == 2
    assert "--tls-key" in result.stderr
