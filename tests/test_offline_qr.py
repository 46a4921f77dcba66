"""The signed QR payload, the credential, the status and key lists, and ``skillcert verify-qr``
with no network — each with the input that should fool it."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import cbor2
import pytest

from registry.qr_keys import key_to_dict
from search_index.offline_keys import KeyListError, key_list_jws, read_key_list
from search_index.status_list import MIN_BITS, decode_bits, encode_bits, publisher_jwk, revoked, status_list_jwt
from sign.credential import CredentialError, CredentialLabels, make_credential, verify_credential
from sign.qr_key import EcPublicKey, EcSigner
from sign.qr_payload import QrClaims, QrPayloadError, read_payload, sign_payload, verify_payload

from .factory import p256_signer

CODE = "S000011084012"
CLAIMS = QrClaims(
    number="S000011084012265000001",
    name="欧阳娜娜",
    id_masked="1101**********002X",
    id_type="201",
    occupation="电子设备装接工",
    job="——",
    level=4,
    issue_date=date(2026, 1, 5),
    institution_code=CODE,
    kind="certificate",
    version=1,
)
LABELS = CredentialLabels(
    institution_zh="北京市示例职业技能评价中心",
    institution_en="Beijing Example Skill Assessment Centre",
    level_zh="四级/中级工",
    level_en="Level 4 / Intermediate Worker",
    id_type_zh="居民身份证",
    id_type_en="Resident Identity Card",
)


def _p256_signer(cn: str = "qr") -> tuple[EcSigner, EcPublicKey]:
    from registry.qr_keys import public_key_of_pem

    signer, pem = p256_signer(cn)
    return signer, public_key_of_pem(pem, institution_code=CODE)


@pytest.fixture(scope="module")
def qr_key() -> tuple[EcSigner, EcPublicKey]:
    return _p256_signer()


@pytest.fixture(scope="module")
def publisher() -> object:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def _flip(text: str, at: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:at] + alphabet[(alphabet.index(text[at]) + 1) % 64] + text[at + 1 :]


# -- the QR payload ------------------------------------------------------------------------------
def test_payload_round_trip_and_is_cose_sign1(qr_key: tuple[EcSigner, EcPublicKey]) -> None:
    signer, pub = qr_key
    fragment = sign_payload(CLAIMS, signer)
    raw = base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4))
    tag = cbor2.loads(raw)
    assert tag.tag == 18 and cbor2.loads(tag.value[0]) == {1: -7}  # COSE_Sign1, ES256 protected
    assert tag.value[1] == {4: pub.kid.encode()} and len(tag.value[3]) == 64
    found = verify_payload(fragment, [pub])
    assert found.authentic and found.claims == CLAIMS
    assert read_payload(fragment) == (pub.kid, CLAIMS)
    from render.qr import qr_code

    # what the printed code has to hold: a long site, a long token, error correction M at least
    code = qr_code(f"https://zhengshu.example-skills-centre.org.cn/c/{CLAIMS.number}?t={'x' * 22}#{fragment}")
    assert code.error in ("M", "Q", "H") and code.version <= 15, (code.version, code.error)


def test_every_changed_character_fails(qr_key: tuple[EcSigner, EcPublicKey]) -> None:
    signer, pub = qr_key
    fragment = sign_payload(CLAIMS, signer)
    for at in range(0, len(fragment) - 1, 3):  # the last character carries padding bits only in part
        try:
            found = verify_payload(_flip(fragment, at), [pub])
        except QrPayloadError:
            continue  # not readable at all: refused, which is as good
        assert not found.authentic, at


def test_forged_payloads_are_refused(qr_key: tuple[EcSigner, EcPublicKey]) -> None:
    signer, pub = qr_key
    other_signer, other_pub = _p256_signer("someone else")
    # signed with a key that is not filed, but naming the filed key's kid
    forged = cbor2.loads(base64.urlsafe_b64decode(sign_payload(CLAIMS, other_signer) + "=="))
    forged.value[1] = {4: pub.kid.encode()}
    text = base64.urlsafe_b64encode(cbor2.dumps(forged)).rstrip(b"=").decode()
    assert not verify_payload(text, [pub]).authentic
    # a filed key of another institution signs a certificate of this one
    foreign = EcPublicKey(**{**key_to_dict(other_pub), "institution_code": "S000011084099"})
    assert not verify_payload(sign_payload(CLAIMS, other_signer), [foreign]).authentic
    # the data swapped under a valid signature: another certificate's payload, same signature
    good = cbor2.loads(base64.urlsafe_b64decode(sign_payload(CLAIMS, signer) + "=="))
    swapped = {**cbor2.loads(good.value[2]), 2: "王五"}
    good.value[2] = cbor2.dumps(swapped)
    assert not verify_payload(base64.urlsafe_b64encode(cbor2.dumps(good)).decode(), [pub]).authentic
    # alg changed in the protected header (a downgrade)
    bad_alg = cbor2.loads(base64.urlsafe_b64decode(sign_payload(CLAIMS, signer) + "=="))
    bad_alg.value[0] = cbor2.dumps({1: -35})
    assert not verify_payload(base64.urlsafe_b64encode(cbor2.dumps(bad_alg)).decode(), [pub]).authentic
    # no key known at all
    assert not verify_payload(sign_payload(CLAIMS, signer), []).authentic


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "#",
        "!!!",
        "A" * 5000,
        base64.urlsafe_b64encode(b"\xff\x00garbage").decode(),
        base64.urlsafe_b64encode(cbor2.dumps([1, 2, 3, 4])).decode(),
        base64.urlsafe_b64encode(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"x", b""]))).decode(),
    ],
)
def test_garbage_is_a_clear_error(junk: str, qr_key: tuple[EcSigner, EcPublicKey]) -> None:
    with pytest.raises(QrPayloadError) as e:
        verify_payload(junk, [qr_key[1]])
    assert e.value.zh and e.value.en


# -- the credential ------------------------------------------------------------------------------
def test_credential_verifies_with_joserfc_and_ours(qr_key: tuple[EcSigner, EcPublicKey]) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    signer, pub = qr_key
    token = make_credential(CLAIMS, LABELS, signer, site="https://zs.example.cn/", status_index=41)
    decoded = jwt.decode(token, KeySet.import_key_set({"keys": [pub.jwk()]}), algorithms=["ES256"])
    assert decoded.header["typ"] == "vc+jwt" and decoded.header["kid"] == pub.kid
    vc = decoded.claims
    assert "OpenBadgeCredential" in vc["type"] and vc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert vc["issuer"]["id"] == f"https://zs.example.cn/institutions/{CODE}"
    assert {e["statusPurpose"] for e in vc["credentialStatus"]} == {"revocation", "suspension"}
    names = {n["@language"]: n["@value"] for n in vc["credentialSubject"]["achievement"]["name"]}
    assert "电子设备装接工" in names["zh-CN"] and "Level 4" in names["en"]
    found = verify_credential(token, [pub])
    assert found.authentic and found.claims == CLAIMS and found.status_index == 41
    assert found.status_lists["revocation"] == "https://zs.example.cn/api/v1/status/revocation"


def test_changed_credential_fails(qr_key: tuple[EcSigner, EcPublicKey]) -> None:
    signer, pub = qr_key
    token = make_credential(CLAIMS, LABELS, signer, site="https://zs.example.cn", status_index=41)
    head, body, sig = token.split(".")
    for part, at in ((1, len(body) // 2), (2, 10)):
        parts = [head, body, sig]
        parts[part] = _flip(parts[part], at)
        with contextlib.suppress(CredentialError):  # unreadable is as good as refused
            assert not verify_credential(".".join(parts), [pub]).authentic
    # alg none, and a claims set re-signed with another key under the filed kid
    none_head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "vc+jwt", "kid": pub.kid}).encode())
    assert not verify_credential(none_head.rstrip(b"=").decode() + "." + body + ".", [pub]).authentic
    other, _ = _p256_signer("other")
    forged = make_credential(CLAIMS, LABELS, other, site="https://zs.example.cn", status_index=41)
    _, fb, fs = forged.split(".")
    assert not verify_credential(".".join([head, fb, fs]), [pub]).authentic
    # a filed key of another institution signs a credential of this one
    other_pub = other.public_key("S000011084099")
    refused = verify_credential(forged, [other_pub])
    assert not refused.authentic and "S000011084099" in refused.reason_en and "S000011084099" in refused.reason_zh
    with pytest.raises(CredentialError):
        verify_credential("not a jwt", [pub])


# -- the status list -----------------------------------------------------------------------------
def test_status_list_bits_follow_the_specification(publisher: object) -> None:
    encoded = encode_bits([0, 9, 131_071])
    bits = decode_bits(encoded)
    assert len(bits) * 8 == MIN_BITS and bits[0] == 0x80 and bits[1] == 0x40  # index 0: the left-most bit
    assert [revoked(bits, i) for i in (0, 1, 9, 131_071, 131_070)] == [True, False, True, True, False]
    assert len(decode_bits(encode_bits([], highest=200_000))) * 8 >= 200_001
    token = status_list_jwt("https://zs.example.cn", "revocation", encoded, publisher, now=datetime.now(UTC))
    from joserfc import jwt
    from joserfc.jwk import OKPKey

    vc = jwt.decode(token, OKPKey.import_key(publisher_jwk(publisher)), algorithms=["Ed25519"]).claims
    assert (
        vc["credentialSubject"]["encodedList"] == encoded and vc["credentialSubject"]["statusPurpose"] == "revocation"
    )


def test_a_status_list_read_once_is_still_checked_against_each_publisher(publisher: object) -> None:
    """``read_status_list`` keeps what it has checked: the same token under another publisher key,
    for the other purpose, or changed by one character is refused even after a good read."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from search_index.status_list import StatusListError, read_status_list

    token = status_list_jwt("https://zs.example.cn", "revocation", encode_bits([7]), publisher, now=datetime.now(UTC))
    good = publisher_jwk(publisher)
    assert revoked(read_status_list(token, good, "revocation"), 7)
    assert revoked(read_status_list(token, good, "revocation"), 7)  # from what was kept
    other = publisher_jwk(Ed25519PrivateKey.generate())
    for args in ((token, other, "revocation"), (token, good, "suspension"), (_flip(token, 60), good, "revocation")):
        with pytest.raises(StatusListError):
            read_status_list(*args)
    with pytest.raises(StatusListError):
        read_status_list(token, {**good, "x": other["x"]}, "revocation")  # same kid, another key
    with pytest.raises(StatusListError):
        read_status_list(None, good, "revocation")


# -- the key list --------------------------------------------------------------------------------
def _institutions(pub: EcPublicKey) -> list[dict[str, object]]:
    return [{"code": CODE, "name_zh": LABELS.institution_zh, "status": "active", "qr_keys": [key_to_dict(pub)]}]


def test_key_list_is_signed_by_the_publisher(qr_key: tuple[EcSigner, EcPublicKey], publisher: object) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _, pub = qr_key
    jws = key_list_jws(
        _institutions(pub), publisher, snapshot="s1", generation=3, site="https://zs.example.cn", now=datetime.now(UTC)
    )
    listed = read_key_list(jws, publisher_jwk(publisher))
    assert listed.keys == (pub,) and listed.generation == 3 and listed.institutions[CODE]["status"] == "active"
    h, b, s = jws.split(".")
    with pytest.raises(KeyListError):
        read_key_list(".".join([h, _flip(b, 20), s]), publisher_jwk(publisher))
    with pytest.raises(KeyListError):  # signed by someone who is not the publisher
        read_key_list(jws, publisher_jwk(Ed25519PrivateKey.generate()))


# -- skillcert verify-qr, in a process with no network ---------------------------------------------
def _no_network(cmd: list[str]) -> list[str]:
    """The command in a network namespace of its own (no interface but a downed loopback)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", *cmd]
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn", *cmd]
    if os.environ.get("SKILLCERT_REQUIRE_SYSTEM") == "1":
        pytest.fail("unshare cannot make a network namespace here")
    pytest.skip("unshare cannot make a network namespace here")


def test_verify_qr_runs_without_network(
    tmp_path: Path, qr_key: tuple[EcSigner, EcPublicKey], publisher: object
) -> None:
    import segno

    signer, pub = qr_key
    url = f"https://zs.example.cn/c/{CLAIMS.number}?t=AbCdEfGhIjKlMnOpQrStUv#{sign_payload(CLAIMS, signer)}"
    keys = tmp_path / "keys.json"
    jws = key_list_jws(
        _institutions(pub), publisher, snapshot="s1", generation=1, site="https://zs.example.cn", now=datetime.now(UTC)
    )
    keys.write_text(json.dumps({"jws": jws, "publisher": publisher_jwk(publisher)}))
    png = tmp_path / "qr.png"
    segno.make(url, error="m").save(png, scale=6)
    exe = [sys.executable, "-m", "skillcert"]
    env = {**os.environ, "SKILLCERT_HOME": str(tmp_path / "home")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _no_network([*exe, "verify-qr", *args]), capture_output=True, text=True, env=env, timeout=120
        )

    for source in (url, str(png)):
        r = run(source, "--keys", str(keys))
        assert r.returncode == 24, r.stdout + r.stderr  # authentic offline; revocation needs the network
        assert "欧阳娜娜" in r.stdout and "AUTHENTIC" in r.stdout and "needs the network" in r.stdout
    r = run(url, "--keys", str(keys), "--json")
    out = json.loads(r.stdout)
    assert out["verdict"] == "authentic" and out["paper"]["Certificate No."] == CLAIMS.number
    tampered = url[:-12] + _flip(url[-12:], 0)
    r = run(tampered, "--keys", str(keys))
    assert r.returncode == 20 and "INVALID" in r.stdout, r.stdout + r.stderr
    other_number = url.replace(CLAIMS.number, "S000011084012265000002", 1)  # a URL for another number
    assert run(other_number, "--keys", str(keys)).returncode == 20
    old_paper = url.split("#")[0]  # a certificate from before signed payloads
    assert run(old_paper, "--keys", str(keys)).returncode == 22
    r = run(url)  # no key list and no snapshot: a clear bilingual error
    assert r.returncode != 0 and "skillcert publish" in r.stderr and "Traceback" not in r.stderr
