"""The console behind a real nginx terminating TLS, configured as the README shows: HSTS,
Secure cookies, the client's own address through the proxy, /metrics closed without its token.

nginx (Debian's package; `.ci/run` installs it) runs as a child process with its own prefix
and configuration in a temporary directory, on a free loopback port.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from requests.adapters import HTTPAdapter
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.conftest import create_user, csrf_token_from, wait_for
from wesog_dash.extensions import db
from wesog_dash.models import LoginFailure

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install -y nginx; .ci/run does)"
)
TOKEN = "metrics-token-4b1e"
CLIENT = "127.0.0.42"  # the browser's own loopback address, as nginx sees it
# The README's server block (production section), with paths and ports of the test.
SITE = """
server {{
    listen 127.0.0.1:{port} ssl;
    server_name localhost;
    ssl_certificate     {cert};
    ssl_certificate_key {key};
    client_max_body_size 16m;

    location / {{
        proxy_pass http://127.0.0.1:{upstream};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $host;
        proxy_set_header X-Forwarded-Port $server_port;
        proxy_read_timeout 660s;  # a wait=true deletion may take WESOG_WAIT_SEND_TIMEOUT
        proxy_buffering off;      # streamed CSV/JSONL exports
    }}
}}
"""
MAIN = """
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    {site}
}}
"""


TRUSTED = {"WESOG_TRUSTED_PROXIES": 1, "WESOG_METRICS": True, "WESOG_METRICS_TOKEN": TOKEN}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """One trusted proxy in front; metrics on, behind a token."""
    return TRUSTED


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def console(app: Flask) -> Iterator[int]:
    """The console on werkzeug's threaded server, on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="behind-nginx", daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(5)


@pytest.fixture
def proxy(console: int, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx terminating TLS in front of the console: (its https URL, its certificate)."""
    cert, key = self_signed(tmp_path)
    port = free_port()
    site = SITE.format(port=port, cert=cert, key=key, upstream=console)
    config = tmp_path / "nginx.conf"
    config.write_text(MAIN.format(tmp=tmp_path, site=site))
    assert NGINX is not None
    child = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def listening() -> bool:
            if child.poll() is not None:
                raise AssertionError(child.stderr.read().decode() if child.stderr else "")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_for(listening, timeout=15)
        yield f"https://localhost:{port}", cert
    finally:
        child.terminate()
        child.wait(10)


class FromAddress(HTTPAdapter):
    """Connections from a chosen local address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(cert: Path) -> requests.Session:
    """A session that trusts the test certificate and connects from CLIENT."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE replaces `verify`
    session.verify = str(cert)
    session.mount("https://", FromAddress(CLIENT))
    return session


def test_the_console_behind_nginx_with_tls(app: Flask, proxy: tuple[str, Path]) -> None:
    url, cert = proxy
    create_user(app, "adm", "admin")
    http = browser(cert)
    page = http.get(f"{url}/login", timeout=10)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    # A failed login is counted under the browser's own address, not nginx's 127.0.0.1.
    form = {"username": "nobody", "password": "wrong", "csrf_token": csrf_token_from(page.text)}
    sent_from = {"Referer": f"{url}/login"}  # as a browser does (CSRF checks it over HTTPS)
    assert http.post(f"{url}/login", data=form, headers=sent_from, timeout=10).status_code == 401
    with app.app_context():
        assert db.session.scalars(select(LoginFailure.remote_addr)).all() == [CLIENT]
    # /metrics: loopback is no proof behind a proxy on the same host; the token is.
    assert http.get(f"{url}/metrics", timeout=10).status_code == 403
    scrape = http.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert scrape.status_code == 200 and "wesog_poller_heartbeat_age_seconds" in scrape.text
    # The proxy is trusted: no warning about forwarding headers.
    assert "proxy" not in http.get(f"{url}/readyz", timeout=10).json()


@pytest.mark.parametrize("app_overrides", [{**TRUSTED, "WESOG_TRUSTED_PROXIES": 0}])
def test_an_untrusted_proxy_in_front_is_noticed(app: Flask, proxy: tuple[str, Path]) -> None:
    url, cert = proxy
    create_user(app, "adm", "admin")
    http = browser(cert)
    page = http.get(f"{url}/login", timeout=10)
    form = {"username": "nobody", "password": "wrong", "csrf_token": csrf_token_from(page.text)}
    http.post(f"{url}/login", data=form, headers={"Referer": f"{url}/login"}, timeout=10)
    with app.app_context():  # every client looks like nginx: the reason for the notice
        assert db.session.scalars(select(LoginFailure.remote_addr)).all() == ["127.0.0.1"]
    notice = http.get(f"{url}/readyz", timeout=10).json()["proxy"]
    assert "X-Forwarded-For" in notice and "WESOG_TRUSTED_PROXIES" in notice
