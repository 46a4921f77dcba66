"""The direct B-B seal (``sign._fastpdf``): a Sealer's seals after its first, judged like pyHanko's.

The independent validators (pdfsig, openssl, endesive, Preflight, adesverify) check a file written
this way too: ``style1-B-B-fast`` in tests/test_validators.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.models import Style
from render import Renderer
from sign._fastpdf import fast_seal
from sign.identity import Pkcs12Identity, cert_fingerprint, load_signer
from sign.pki import DemoPki, PkiServer, SealSubject, make_demo_pki
from sign.seal import PadesLevel, SealBoxSpec, Sealer, SealOptions
from sign.validate import BottomLine, Trust, validate_pdf
from skillcert.preview import preview_record
from skillcert.seals import boxes_of

FAST_MARK = b"/Reason <FEFF"  # the fast writer's hex text string; pyHanko writes a literal string


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(
        tmp_path_factory.mktemp("pki"),
        [
            SealSubject("bj", "北京市海淀区明德职业技能培训学校", "北京市海淀区明德职业技能培训学校"),
            SealSubject("y-issuing", "华电智联能源科技有限公司", "华电智联能源科技有限公司"),
            SealSubject("y-institution", "华电智联能源科技有限公司北京分公司", "华电智联能源科技有限公司"),
        ],
    )


@pytest.fixture(scope="module")
def server(pki: DemoPki) -> Iterator[PkiServer]:
    with PkiServer(pki) as srv:
        yield srv


@pytest.fixture(scope="module")
def docs() -> dict[Style, list[tuple[bytes, list[SealBoxSpec]]]]:
    """Two different renders of each style (the second with another serial number printed)."""
    out: dict[Style, list[tuple[bytes, list[SealBoxSpec]]]] = {}
    with Renderer() as r:
        for style in (Style.STYLE1, Style.STYLE2):
            rec, inst, photo = preview_record(style)
            out[style] = []
            for serial in ("00000001", "00000002"):
                pdf = r.render(rec, inst, photo=photo, serial_no=serial)
                out[style].append((pdf.pdf, boxes_of(pdf)))
    return out


def _sealer(pki: DemoPki, **labels: str) -> Sealer:
    signers = {
        kind: load_signer(Pkcs12Identity(path=pki.p12(label)), secret=pki.password) for kind, label in labels.items()
    }
    return Sealer(signers, SealOptions(level=PadesLevel.B_B))


def _trust(pki: DemoPki, *labels: str) -> Trust:
    from pyhanko.keys import load_cert_from_pemder

    filed = frozenset(cert_fingerprint(load_cert_from_pemder(str(pki.cert_pem(lb)))) for lb in labels)
    return Trust(roots=(pki.root_cert,), filed_fingerprints=filed, online=True)


def test_second_seal_is_written_directly_and_validates(pki: DemoPki, server: PkiServer, docs: dict) -> None:  # type: ignore[type-arg]
    sealer = _sealer(pki, institution="bj")
    first, second = (sealer.seal(*d) for d in docs[Style.STYLE1])
    assert FAST_MARK not in first and FAST_MARK in second  # pyHanko, then the template
    for original, data in zip((d[0] for d in docs[Style.STYLE1]), (first, second), strict=True):
        assert data.startswith(original)
        st = validate_pdf(data, _trust(pki, "bj"))
        assert st.bottom_line is BottomLine.VALID, st.as_dict()
        assert [s.field for s in st.signatures] == ["Seal1-institution"]
        assert {c.name: c.outcome.value for c in st.checks[1:]}["modifications"] == "pass"
    # the same structure pyHanko writes, object for object (only ids, times and the signature differ)
    import pikepdf

    with pikepdf.open(io.BytesIO(first)) as a, pikepdf.open(io.BytesIO(second)) as b:
        for pa, pb in ((a.Root, b.Root), (a.pages[0].obj, b.pages[0].obj)):
            assert set(pa.keys()) == set(pb.keys())
        wa, wb = a.Root.AcroForm.Fields[0], b.Root.AcroForm.Fields[0]
        assert {k: str(wa[k]) for k in ("/FT", "/T", "/F", "/Rect")} == {
            k: str(wb[k]) for k in ("/FT", "/T", "/F", "/Rect")
        }
        assert set(wa.keys()) == set(wb.keys()) and set(wa.V.keys()) == set(wb.V.keys())
        assert str(wa.V.Reason) == str(wb.V.Reason) and wb.V.SubFilter == "/ETSI.CAdES.detached"
        assert wb.AP.N.Subtype == "/Form" and a.Root.AcroForm.SigFlags == b.Root.AcroForm.SigFlags == 3


def test_tampering_with_a_direct_seal_is_caught(pki: DemoPki, server: PkiServer, docs: dict) -> None:  # type: ignore[type-arg]
    sealer = _sealer(pki, institution="bj")
    sealer.seal(*docs[Style.STYLE1][0])
    data = sealer.seal(*docs[Style.STYLE1][1])
    assert FAST_MARK in data
    at = data.index(b"/MediaBox")  # inside the first revision, which the signature covers
    bad = data[:at] + b"/MediaBoy" + data[at + 9 :]
    assert validate_pdf(bad, _trust(pki, "bj")).bottom_line is not BottomLine.VALID
    from asn1crypto import cms

    start = data.rindex(b"/Contents <") + len(b"/Contents <")
    der = cms.ContentInfo.load(bytes.fromhex(data[start : data.index(b">", start)].decode())).dump()
    value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    sig = start + 2 * der.index(value) + 10  # a digit of the RSA signature value's hex
    flipped = data[:sig] + (b"1" if data[sig : sig + 1] != b"1" else b"2") + data[sig + 1 :]
    assert validate_pdf(flipped, _trust(pki, "bj")).bottom_line is not BottomLine.VALID


def test_two_seals_direct_then_pyhanko(pki: DemoPki, server: PkiServer, docs: dict) -> None:  # type: ignore[type-arg]
    """Style (二): the first seal of the second document is direct; the second finds a form there and
    goes to pyHanko. Both seals validate, in order."""
    sealer = _sealer(pki, issuing="y-issuing", institution="y-institution")
    sealer.seal(*docs[Style.STYLE2][0])
    data = sealer.seal(*docs[Style.STYLE2][1])
    assert data.count(FAST_MARK) == 1
    st = validate_pdf(data, _trust(pki, "y-issuing", "y-institution"))
    assert st.bottom_line is BottomLine.VALID, st.as_dict()
    assert [s.field for s in st.signatures] == ["Seal1-issuing", "Seal2-institution"]


def test_files_it_does_not_write_go_to_pyhanko(pki: DemoPki, docs: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """An xref stream, an update already there, a form already there: ``None``, never a guess."""
    import pikepdf

    sealer = _sealer(pki, institution="bj")
    pdf, boxes = docs[Style.STYLE1][0]
    sealed = sealer.seal(pdf, boxes)
    template = sealer._templates["institution"]
    assert template is not None
    kw = {"page_index": 0, "rect": (1, 1, 50, 50), "field_name": "X", "reason": None, "location": None}
    direct = fast_seal(pdf, template=template, **kw)  # type: ignore[arg-type]
    assert direct is not None
    first_id = re.search(rb"/ID\s*\[\s*(\([^)]*\))", pdf[pdf.rindex(b"trailer") :])
    assert first_id is not None and b"/ID [ " + first_id.group(1) + b" <" in direct[direct.rindex(b"trailer") :]
    nested = pdf.replace(first_id.group(1), b"(" + first_id.group(1)[1:-4] + b"(x)" + b")")
    assert len(nested) == len(pdf) and fast_seal(nested, template=template, **kw) is None  # type: ignore[arg-type]
    assert fast_seal(sealed, template=template, **kw) is None  # type: ignore[arg-type]
    buf = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as p:
        p.save(buf, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert fast_seal(buf.getvalue(), template=template, **kw) is None  # type: ignore[arg-type]
    assert fast_seal(pdf, template=template, **{**kw, "page_index": 3}) is None  # type: ignore[arg-type]
    head = re.search(rb"xref\s+0 (\d+)", pdf[pdf.rindex(b"startxref") - 20_000 :])
    assert head is not None
    count = head.group(1)
    overrun = pdf.replace(b"xref\n0 " + count, b"xref\n0 " + str(int(count) + 1).encode().rjust(len(count), b"0"))
    assert overrun != pdf and fast_seal(overrun, template=template, **kw) is None  # type: ignore[arg-type]
    assert fast_seal(pdf, template=template, **{**kw, "field_name": "a (b)"}) is None  # type: ignore[arg-type]
    again = sealer.seal(buf.getvalue(), boxes)  # still sealed, by pyHanko
    assert FAST_MARK not in again and b"/ByteRange" in again


@pytest.mark.parametrize(
    ("body", "plain"),
    [
        (b"<<\n/Type /Page\n/Parent 1 0 R\n>>", True),
        (b"<< /Lang (zh\\055CN) /Names << /N [ (a\\056json) 64 0 R ] >> /ID <ab12> >>", True),
        (b"<< /A (x\\) >> y) >>", True),  # an escaped parenthesis inside a string
        (b"<< /X (abc >> endobj", False),  # the object's end found inside a string
        (b"<< /X (a(b)c) >>", False),  # nested parentheses: not read here
        (b"<< /A 1 >> << /B 2 >>", False),
        (b"<< /A 1 >> >>", False),
        (b"<< /A 1 % c >> \n >>", False),
        (b"<< /A [1 2] /S 3 0 obj >>", False),
        (b"<< /A << /B 1 >>", False),
        (b"<< /A <4142 >> >>", False),
    ],
)
def test_only_plainly_written_dictionaries_are_copied(body: bytes, plain: bool) -> None:
    from sign._fastpdf import _plain_dict

    assert _plain_dict(body) is plain
