"""The sample deployment files in ``docs/deploy/`` work as documented.

nginx checks the sample site config (``nginx -t``) and, in the end-to-end test, carries
websockets through it to a daphne and a uvicorn process. nginx must be installed (the
Makefile's ``test`` target installs it); a missing nginx fails these tests.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import runpy
import shutil
import socket
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import User
from django.test import override_settings

from collab import checks
from collab.conf import conf
from tests.e2e.conftest import artifact, server_env
from tests.e2e.node import NODE_DIR, Clients, NodeDriver, YClient
from tests.e2e.server import ROOT, LocalEndpoint, ServerProcess, free_port
from tests.e2e.waiting import wait_until
from tests.stored import wait_until_stored

DEPLOY = ROOT / "docs" / "deploy"
NGINX_CONF = DEPLOY / "nginx.conf"
SAMPLE_SETTINGS = DEPLOY / "settings.py"

SAMPLE_CERTIFICATE = "/etc/letsencrypt/live/collab.example.com/fullchain.pem"
SAMPLE_KEY = "/etc/letsencrypt/live/collab.example.com/privkey.pem"
SAMPLE_BACKENDS = re.compile(r"(?:^ *server 127\.0\.0\.1:\d+;\n)+", re.MULTILINE)

WRAPPER = """\
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{
    worker_connections 256;
}}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {site};
}}
"""
"""A main nginx.conf like Debian's, whose http block includes the site config.

Every path nginx writes, even under ``-t``, is in the test's directory, so the check
needs no root and touches nothing of an installed nginx.
"""

CONVERGE_TIMEOUT = 20.0
"""Seconds for clients to converge after a crash: covers y-websocket's reconnect backoff."""


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).is_file()),
        None,
    )
    if nginx is None:
        pytest.fail(
            "nginx is not installed: run `make test`, or `apt-get install -y nginx`",
            pytrace=False,
        )
    return nginx


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected {old!r} once in {NGINX_CONF}"
    return text.replace(old, new)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and collab.example.com, and its private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "collab.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("collab.example.com"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


class Site:
    """The sample site config, as the test's nginx runs it, written to ``tmp/site.conf``.

    nginx loads the certificates and binds the ports even when it only checks a
    config (``-t``), so the sample's Let's Encrypt paths become a fresh self-signed
    certificate, and ports 80 and 443 (root only) become free ports on 127.0.0.1.
    With ``backends``, their ports replace the sample's upstream servers. Everything
    else is the sample as shipped.
    """

    def __init__(self, tmp: Path, backends: list[ServerProcess] | None = None) -> None:
        self.certificate, key = self_signed_certificate(tmp)
        self.https_port = free_port()
        text = NGINX_CONF.read_text()
        text = replace_once(text, SAMPLE_CERTIFICATE, str(self.certificate))
        text = replace_once(text, SAMPLE_KEY, str(key))
        text = replace_once(text, "listen 80;", f"listen 127.0.0.1:{free_port()};")
        text = replace_once(text, "listen 443 ssl;", f"listen 127.0.0.1:{self.https_port} ssl;")
        if backends is not None:
            blocks = SAMPLE_BACKENDS.findall(text)
            assert len(blocks) == 1, f"expected one block of upstream servers in {NGINX_CONF}"
            servers = "".join(f"    server 127.0.0.1:{backend.port};\n" for backend in backends)
            text = replace_once(text, blocks[0], servers)
        self.path = tmp / "site.conf"
        self.path.write_text(text)


def main_config(tmp: Path, site: Path) -> Path:
    config = tmp / "nginx.conf"
    config.write_text(WRAPPER.format(tmp=tmp, site=site))
    return config


def nginx_check(config: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run ``nginx -t`` on ``config``."""
    command = [nginx_binary(), "-t", "-p", str(tmp), "-e", str(tmp / "error.log")]
    return subprocess.run(
        [*command, "-c", str(config)], capture_output=True, text=True, timeout=30, check=False
    )


def test_sample_nginx_config_passes_nginx_check(tmp_path: Path) -> None:
    config = main_config(tmp_path, Site(tmp_path).path)
    result = nginx_check(config, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_nginx_check_rejects_a_broken_config(tmp_path: Path) -> None:
    """The check above can fail: a directive without its ``;`` is reported."""
    site = Site(tmp_path).path
    site.write_text(site.read_text().replace("proxy_http_version 1.1;", "proxy_http_version 1.1"))
    result = nginx_check(main_config(tmp_path, site), tmp_path)
    assert result.returncode != 0
    assert "test failed" in result.stderr
    assert str(site) in result.stderr


def test_sample_settings_pass_collab_checks() -> None:
    """The sample settings link processes through channels-redis, as W001 wants."""
    sample = runpy.run_path(str(SAMPLE_SETTINGS))
    with override_settings(
        DEBUG=sample["DEBUG"], CHANNEL_LAYERS=sample["CHANNEL_LAYERS"], COLLAB=sample["COLLAB"]
    ):
        assert checks.check_collab_settings() == []
        assert checks.check_channel_layer() == []
        assert isinstance(get_channel_layer(conf.CHANNEL_LAYER), RedisPubSubChannelLayer)
    assert sample["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    text = NGINX_CONF.read_text()
    assert text.count("proxy_pass ") == text.count("proxy_set_header X-Forwarded-Proto $scheme;")


class Nginx(LocalEndpoint):
    """nginx running the sample config in front of ``backends``, on free ports."""

    secure = True

    def __init__(self, tmp: Path, backends: list[ServerProcess]) -> None:
        site = Site(tmp, backends)
        self.port = site.https_port
        self.certificate = site.certificate
        self._error_log = tmp / "error.log"
        command = [nginx_binary(), "-p", str(tmp), "-e", str(self._error_log)]
        self._process = subprocess.Popen(
            [*command, "-c", str(main_config(tmp, site.path))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._listening, 10, lambda: f"nginx did not start\n{self.error_log()}")

    def error_log(self) -> str:
        return self._error_log.read_text() if self._error_log.exists() else ""

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)

    def _listening(self) -> bool:
        assert self._process.poll() is None, f"nginx exited\n{self.error_log()}"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True


def wait_converged(clients: list[YClient], inserted: list[str]) -> str:
    """Wait until every client has the same text, made of exactly the inserted characters."""
    expected = Counter("".join(inserted))

    def converged() -> bool:
        texts = {client.text for client in clients}
        return len(texts) == 1 and Counter(texts.pop()) == expected

    wait_until(converged, CONVERGE_TIMEOUT, lambda: f"texts: {[c.text for c in clients]}")
    return clients[0].text


@pytest.fixture
def behind_nginx(
    transactional_db: None,
    redis_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Clients, ServerProcess, ServerProcess]]:
    """A daphne and a uvicorn process behind nginx, trusting its X-Forwarded-Proto as the
    sample settings do; clients connect through nginx."""
    if not (NODE_DIR / "node_modules").is_dir():
        pytest.fail("Node clients are missing: run `npm ci --prefix tests/node`", pytrace=False)
    env = server_env("tests.e2e.behind_proxy_settings", redis_url)
    daphne = ServerProcess(env, artifact(request, "daphne.log"), kind="daphne")
    uvicorn = ServerProcess(env, artifact(request, "uvicorn.log"), kind="uvicorn")
    daphne.start()
    uvicorn.start()
    nginx = Nginx(tmp_path, [daphne, uvicorn])
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(nginx.certificate))
    driver = NodeDriver(artifact(request, "node.log"))
    try:
        yield Clients(driver, nginx), daphne, uvicorn
    finally:
        driver.close()
        nginx.stop()
        for server in (daphne, uvicorn):
            if server.running:
                server.stop()


@pytest.mark.e2e
def test_sample_nginx_config_carries_websockets_to_every_process(
    behind_nginx: tuple[Clients, ServerProcess, ServerProcess], editor: User
) -> None:
    """Through the sample config, clients reach both processes and survive a crash of one."""
    clients, daphne, uvicorn = behind_nginx
    users = [clients.open("deployed", editor) for _ in range(4)]
    for server in (daphne, uvicorn):
        assert "/ws/collab/deployed" in server.log_text(), f"nginx never chose {server.kind}"
    tokens = [f"<{index}>" for index in range(len(users))]
    for user, token in zip(users, tokens, strict=True):
        user.insert(10**9, token)
    wait_converged(users, tokens)

    daphne.kill()
    more = [f"[{index}]" for index in range(len(users))]
    for user, token in zip(users, more, strict=True):
        user.insert(10**9, token)
    text = wait_converged(users, tokens + more)
    wait_until_stored("deployed", text, 5)
