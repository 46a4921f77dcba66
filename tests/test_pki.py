"""The demo PKI looks like a real one: random 16-byte serials, unique across the hierarchy (issue 12)."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import core, pem, x509

from sign.pki import SealSubject, make_demo_pki, random_serial


def _certs(root: Path) -> dict[str, x509.Certificate]:
    return {p.stem: x509.Certificate.load(pem.unarmor(p.read_bytes())[2]) for p in (root / "certs").glob("*.pem")}


def test_random_serial_is_positive_and_16_bytes() -> None:
    for _ in range(2000):
        n = random_serial()
        assert 2**120 <= n < 2**127
        assert len(core.Integer(n).contents) == 16


def test_serials_distinct_across_the_whole_hierarchy(tmp_path: Path) -> None:
    """certomancer numbers serials per issuer (the intermediate CA and the first seal both got 4097);
    every certificate here — root, intermediate, OCSP responder, TSA, seals — has its own."""
    subjects = [SealSubject(f"seal-{i}", f"机构 {i}", f"机构 {i}") for i in range(4)]
    make_demo_pki(tmp_path / "a", subjects)
    make_demo_pki(tmp_path / "b", subjects[:1])
    a, b = _certs(tmp_path / "a"), _certs(tmp_path / "b")
    assert set(a) == {"root", "interm", "interm-ocsp", "tsa", *(s.label for s in subjects)}
    for c in [*a.values(), *b.values()]:
        der = c["tbs_certificate"]["serial_number"].contents
        assert len(der) == 16 and der[0] < 0x80, c.subject.human_friendly  # positive, no sign byte
        assert 2**120 <= c.serial_number < 2**127
    assert len({c.serial_number for c in a.values()}) == len(a)
    assert not {c.serial_number for c in a.values()} & {c.serial_number for c in b.values()}  # random, not numbered
    assert a["interm"].serial_number != a["seal-0"].serial_number


def test_served_ocsp_names_the_random_serial_with_whole_second_times(tmp_path: Path) -> None:
    """The OCSP responder finds a certificate by its random serial, and answers in whole seconds
    (NSS rejects certomancer's microsecond times and would then soft-fail a revoked certificate)."""
    import urllib.request

    from asn1crypto import ocsp

    from sign.pki import PkiServer

    pki = make_demo_pki(tmp_path, [SealSubject("s", "s", "s")])
    certs = _certs(tmp_path)
    leaf, issuer = certs["s"], certs["interm"]
    request = ocsp.OCSPRequest(
        {
            "tbs_request": {
                "request_list": [
                    {
                        "req_cert": {
                            "hash_algorithm": {"algorithm": "sha1"},
                            "issuer_name_hash": issuer.subject.sha1,
                            "issuer_key_hash": issuer.public_key.sha1,
                            "serial_number": leaf.serial_number,
                        }
                    }
                ]
            }
        }
    )
    with PkiServer(pki):
        url = leaf.ocsp_urls[0]
        req = urllib.request.Request(url, data=request.dump(), headers={"Content-Type": "application/ocsp-request"})
        with urllib.request.urlopen(req, timeout=30) as r:
            resp = ocsp.OCSPResponse.load(r.read())
    assert resp["response_status"].native == "successful"
    data = resp.basic_ocsp_response["tbs_response_data"]
    single = data["responses"][0]
    assert single["cert_id"]["serial_number"].native == leaf.serial_number
    assert single["cert_status"].name == "good"
    for moment in (data["produced_at"].native, single["this_update"].native, single["next_update"].native):
        assert moment.microsecond == 0
