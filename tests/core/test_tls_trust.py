"""Which certificates the bot's own TLS trusts (core.http.tls): as httpx does, SSL_CERT_FILE or
SSL_CERT_DIR when set, else certifi's. A process over TLS: tests/crash/test_tls.py."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest
import trustme

from core.http import tls


def trusted_names() -> set[str]:
    """The names in the subjects of the CA certificates `tls()` holds."""
    return {
        value
        for cert in tls().get_ca_certs()
        for rdn in cert["subject"]
        for key, value in rdn
        if key in ("commonName", "organizationalUnitName")
    }


def test_ssl_cert_file_is_trusted_instead_of_certifi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA(organization_unit_name="drawbot test CA")
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert len(tls().get_ca_certs()) == 1
    assert "drawbot test CA" in trusted_names()


def test_without_either_variable_certifi_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    held = tls().get_ca_certs()
    with open(certifi.where(), encoding="ascii") as bundle:
        assert len(held) == bundle.read().count("BEGIN CERTIFICATE") > 100
    assert tls() is tls()  # made once per choice
