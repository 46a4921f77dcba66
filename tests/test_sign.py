"""Seals with real parts: a certomancer PKI with TSA/OCSP/CRL on 127.0.0.1, pyHanko, pdfsig."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.models import Style
from render import Renderer
from sign.identity import Pkcs12Identity, cert_fingerprint, load_signer
from sign.pki import DemoPki, PkiServer, SealSubject, make_demo_pki
from sign.seal import PadesLevel, SealBoxSpec, Sealer, SealOptions
from sign.validate import BottomLine, Outcome, SealStatus, Trust, validate_pdf
from skillcert.preview import preview_record
from skillcert.seals import boxes_of

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(
        tmp_path_factory.mktemp("pki"),
        [
            SealSubject("bj", "北京市海淀区明德职业技能培训学校", "北京市海淀区明德职业技能培训学校"),
            SealSubject("y-issuing", "华电智联能源科技有限公司", "华电智联能源科技有限公司"),
            SealSubject("y-institution", "华电智联能源科技有限公司北京分公司", "华电智联能源科技有限公司"),
            SealSubject("stranger", "某某公司", "某某公司"),
            SealSubject("revoked", "已吊销", "已吊销", revoked_since=NOW - timedelta(days=1)),
            SealSubject(
                "expired", "已过期", "已过期", valid_from=NOW - timedelta(days=400), valid_to=NOW - timedelta(days=2)
            ),
        ],
    )


@pytest.fixture(scope="module")
def server(pki: DemoPki) -> Iterator[PkiServer]:
    with PkiServer(pki) as srv:
        yield srv


@pytest.fixture(scope="module")
def rendered() -> dict[Style, tuple[bytes, list[SealBoxSpec]]]:
    out = {}
    with Renderer() as r:
        for style in (Style.STYLE1, Style.STYLE2):
            rec, inst, photo = preview_record(style)
            pdf = r.render(rec, inst, photo=photo)
            out[style] = (pdf.pdf, boxes_of(pdf))
    return out


def _signer(pki: DemoPki, label: str) -> object:
    return load_signer(Pkcs12Identity(path=pki.p12(label)), secret=pki.password)


def _seal(pki: DemoPki, pdf_boxes: tuple[bytes, list[SealBoxSpec]], level: PadesLevel, **labels: str) -> bytes:
    signers = {kind: _signer(pki, label) for kind, label in (labels or {"institution": "bj"}).items()}
    sealer = Sealer(signers, SealOptions(level=level, tsa_url=pki.tsa_url, trust_roots=(pki.root_cert,)))
    return sealer.seal(*pdf_boxes)


def _checks(status: SealStatus) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in status.checks[1:]:
        if out.get(c.name) in (None, "pass", "not_applicable"):
            out[c.name] = c.outcome.value
    return out


def _filed(pki: DemoPki, *labels: str) -> frozenset[str]:
    from pyhanko.keys import load_cert_from_pemder

    return frozenset(cert_fingerprint(load_cert_from_pemder(str(pki.cert_pem(lb)))) for lb in labels)


@pytest.mark.slow
def test_levels_and_blt_validates_offline(pki: DemoPki, rendered: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    with PkiServer(pki):
        sealed = {lvl: _seal(pki, rendered[Style.STYLE1], lvl) for lvl in PadesLevel}
    # the servers are stopped now: B-LT and B-LTA carry everything they need
    original = rendered[Style.STYLE1][0]
    trust = Trust(roots=(pki.root_cert,), filed_fingerprints=_filed(pki, "bj"))
    for lvl, data in sealed.items():
        assert data.startswith(original), lvl  # the rendered bytes stay the first revision
        st = validate_pdf(data, trust)
        if lvl is PadesLevel.B_LTA:
            assert st.bottom_line is BottomLine.VALID, (lvl, st.as_dict())
            assert _checks(st) == {
                "integrity": "pass",
                "chain": "pass",
                "revocation": "pass",
                "timestamp": "pass",
                "filed_key": "pass",
                "ades": "pass",
                "modifications": "pass",
            }
            # the long-term PASSED, said plainly (not pyHanko's "did not manage to improve" aside)
            assert [c.en for c in st.checks if c.name == "ades"] == ["ETSI EN 319 102-1: PASSED"]
        elif lvl is PadesLevel.B_LT:
            # a fresh B-LT file: PASSED at the current time with its embedded revocation data, as
            # `pyhanko sign adesverify` says (its past-validation step's NO_POE is only noted)
            checks = _checks(st)
            assert set(checks.values()) == {"pass"}, st.as_dict()
            (ades,) = [c for c in st.checks if c.name == "ades"]
            assert "PASSED" in ades.en and "NO_POE" in ades.en, ades
            assert st.bottom_line is BottomLine.VALID
        else:  # no revocation data inside and no network: never "valid"
            assert st.bottom_line is BottomLine.UNKNOWN and _checks(st)["revocation"] == "unknown"
    assert len(sealed[PadesLevel.B_LT]) - len(original) < 40_000


def test_style2_two_seals_two_signatures(pki: DemoPki, server: PkiServer, rendered: dict) -> None:  # type: ignore[type-arg]
    data = _seal(pki, rendered[Style.STYLE2], PadesLevel.B_LTA, issuing="y-issuing", institution="y-institution")
    st = validate_pdf(data, Trust(roots=(pki.root_cert,), filed_fingerprints=_filed(pki, "y-issuing", "y-institution")))
    assert st.bottom_line is BottomLine.VALID, st.as_dict()
    assert [s.field for s in st.signatures] == ["Seal1-issuing", "Seal2-institution"]
    assert [s.signer for s in st.signatures] == ["华电智联能源科技有限公司", "华电智联能源科技有限公司北京分公司"]


def test_tampering_is_never_valid(pki: DemoPki, server: PkiServer, rendered: dict) -> None:  # type: ignore[type-arg]
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.stamp import TextStamp, TextStampStyle

    good = _seal(pki, rendered[Style.STYLE1], PadesLevel.B_LTA)
    trust = Trust(roots=(pki.root_cert,), filed_fingerprints=_filed(pki, "bj"))
    assert validate_pdf(good, trust).bottom_line is BottomLine.VALID

    # one byte flipped inside the signed range (the page content of the first revision)
    flipped = bytearray(good)
    pos = good.index(b"stream", good.index(b"/DCTDecode")) + 200  # inside the photo: still a readable PDF
    flipped[pos] ^= 0x01
    st = validate_pdf(bytes(flipped), trust)
    assert st.bottom_line is not BottomLine.VALID and _checks(st)["integrity"] == "fail"

    # a text overlay appended after signing (an incremental update pdfsig also calls "not total document signed")
    w = IncrementalPdfFileWriter(io.BytesIO(good))
    TextStamp(w, style=TextStampStyle(stamp_text="FORGED 伪造")).apply(0, 100, 600)
    out = io.BytesIO()
    w.write(out)
    st = validate_pdf(out.getvalue(), trust)
    assert st.bottom_line is BottomLine.INVALID and _checks(st)["modifications"] == "fail"

    # a valid signature by a key that is not filed for the institution
    st = validate_pdf(_seal(pki, rendered[Style.STYLE1], PadesLevel.B_LT, institution="stranger"), trust)
    assert st.bottom_line is BottomLine.INVALID and _checks(st)["filed_key"] == "fail"

    # revoked before signing (B-LT refuses to embed; a B-T signature checked online is revoked)
    revoked = _seal(pki, rendered[Style.STYLE1], PadesLevel.B_T, institution="revoked")
    st = validate_pdf(revoked, Trust(roots=(pki.root_cert,), online=True))
    assert st.bottom_line is BottomLine.REVOKED and _checks(st)["revocation"] == "fail"
    assert validate_pdf(revoked, Trust(roots=(pki.root_cert,))).bottom_line is not BottomLine.VALID

    # expired certificate
    st = validate_pdf(
        _seal(pki, rendered[Style.STYLE1], PadesLevel.B_T, institution="expired"),
        Trust(roots=(pki.root_cert,), online=True),
    )
    assert st.bottom_line is not BottomLine.VALID and _checks(st)["chain"] == "fail"

    # untrusted root
    other = make_demo_pki(pki.root.parent / "other-pki", [SealSubject("x", "x", "x")])
    st = validate_pdf(good, Trust(roots=(other.root_cert,)))
    assert st.bottom_line is not BottomLine.VALID and _checks(st)["chain"] == "fail"


def test_unsigned_and_garbage(pki: DemoPki, rendered: dict) -> None:  # type: ignore[type-arg]
    from sign.validate import UnreadablePdf

    st = validate_pdf(rendered[Style.STYLE1][0], Trust(roots=(pki.root_cert,)))
    assert st.bottom_line is BottomLine.INVALID and st.checks[0].outcome is Outcome.FAIL
    with pytest.raises(UnreadablePdf):
        validate_pdf(b"not a pdf at all", Trust(roots=(pki.root_cert,)))


@pytest.mark.system
def test_pdfsig_accepts_blt(
    pki: DemoPki,
    server: PkiServer,
    rendered: dict,
    tmp_path: Path,  # type: ignore[type-arg]
    require_program: Callable[[str], str],
) -> None:
    pdfsig, certutil = require_program("pdfsig"), require_program("certutil")
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        [
            certutil,
            "-A",
            "-d",
            f"sql:{nss}",
            "-n",
            "skillcert-demo-root",
            "-t",
            "CT,C,C",
            "-a",
            "-i",
            str(pki.root_cert),
        ],
        check=True,
        capture_output=True,
    )
    path = tmp_path / "sealed.pdf"
    path.write_bytes(_seal(pki, rendered[Style.STYLE1], PadesLevel.B_LT))
    r = subprocess.run([pdfsig, "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True, timeout=60)
    assert "Signature is Valid" in r.stdout, r.stdout + r.stderr
    assert "Certificate is Trusted" in r.stdout or "Unknown issue with Certificate" in r.stdout, r.stdout


def test_wrong_pkcs12_password_is_a_clear_error(pki: DemoPki, caplog: pytest.LogCaptureFixture) -> None:
    from sign.errors import IdentityError

    with pytest.raises(IdentityError) as e:
        load_signer(Pkcs12Identity(path=pki.p12("bj")), secret=b"not-the-password")
    assert "密码错误" in e.value.zh and "wrong password" in e.value.en
    assert "Traceback" not in caplog.text  # pyHanko's loader is not reached with a bad password
