"""A corpus of PDFs as other producers make them, built by the tests (issue 14).

Each one carries the text "（盖章）" (for ``--anchor``) except where the producer cannot draw CJK
without a font, and nothing red, so red pixels after sealing are the seal's.

- ``chromium``: an HTML page printed by Chromium (``--print-to-pdf``, Skia/PDFium producer);
- ``fpdf2``: fpdf2's output (a TrueType font embedded by fpdf2);
- ``acroform``: a pikepdf file with an AcroForm text field filled in;
- ``presigned``: fpdf2's output already signed (B-B) by someone else's key;
- ``pdf20``: PDF 2.0 header and version, written by qpdf;
- ``objstm``: object streams, cross-reference stream, linearized (qpdf);
- ``pdfa``: PDF/A-2b from Typst;
- ``long30``: 30 pages, for the perforation seal;
- ``sigfield``: an empty signature field the producer prepared;
- ``rotated``: three pages shown with /Rotate 0, 90 and 270;
- ``encrypted`` (AES-256, a user password) and ``damaged`` (truncated): must be refused.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

from render.fonts import FONT_DIR

SONG = FONT_DIR / "gbsn00lp.ttf"
ANCHOR = "（盖章）"
BODY = "北京市海淀区明德职业技能培训学校 培训合格证明"


@dataclass(frozen=True)
class Corpus:
    folder: Path
    files: dict[str, Path]
    stranger_root: Path  # the root of the key that signed ``presigned``

    def __getitem__(self, name: str) -> Path:
        return self.files[name]


def _fpdf(pages: int = 1, *, cjk: bool = True) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    if cjk:
        pdf.add_font("song", fname=str(SONG))
    for i in range(pages):
        pdf.add_page()
        pdf.set_font("song" if cjk else "helvetica", size=14)
        pdf.cell(text=f"{BODY}" if cjk else "Training record", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(text=f"第 {i + 1} 页 / {pages}" if cjk else f"page {i + 1} of {pages}", new_x="LMARGIN", new_y="NEXT")
        if i == pages - 1 and cjk:
            pdf.set_xy(120, 240)
            pdf.cell(text=f"机构{ANCHOR}")
    return bytes(pdf.output())


def _chromium(folder: Path, chromium: str) -> bytes:
    html = folder / "page.html"
    html.write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><style>
@font-face {{ font-family: song; src: url("file://{SONG}"); }}
body {{ font-family: song; font-size: 16pt; margin: 20mm; color: #000; }}
.sign {{ position: absolute; top: 200mm; left: 120mm; }}
</style></head><body><h1>{BODY}</h1><p>兹证明该学员完成培训。</p>
<p class="sign">培训机构{ANCHOR}</p></body></html>""",
        encoding="utf-8",
    )
    out = folder / "chromium.pdf"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out.read_bytes()


def _acroform(base: bytes) -> bytes:
    import pikepdf
    from pikepdf import Dictionary, Name

    pdf = pikepdf.open(io.BytesIO(base))
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=pikepdf.String("name"),
            V=pikepdf.String("Zhang San"),
            Rect=[72, 700, 272, 720],
            F=4,
            P=pdf.pages[0].obj,
        )
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect([field])
    pdf.Root.AcroForm = Dictionary(Fields=[field], NeedAppearances=True)
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _sigfield(base: bytes) -> bytes:
    """An empty signature field prepared by the producer (``--seal-field Signature1``)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    w = IncrementalPdfFileWriter(io.BytesIO(base), strict=False)
    fields.append_signature_field(w, fields.SigFieldSpec("Signature1", on_page=0, box=(300, 100, 420, 220)))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _rotated(three: bytes) -> bytes:
    """Pages turned for display as scanners leave them: /Rotate 0, 90 and 270."""
    import pikepdf

    with pikepdf.open(io.BytesIO(three)) as pdf:
        pdf.pages[1].obj.Rotate = 90
        pdf.pages[2].obj.Rotate = 270
        buf = io.BytesIO()
        pdf.save(buf)
    return buf.getvalue()


def _qpdf(data: bytes, **save: object) -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        buf = io.BytesIO()
        pdf.save(buf, **save)  # type: ignore[arg-type]
    return buf.getvalue()


def _pdfa() -> bytes:
    import typst

    return bytes(
        typst.compile(
            io.BytesIO(
                f'#set page(paper: "a4")\n#set text(font: "AR PL SungtiL GB", size: 14pt)\n= {BODY}\n\n'
                f"兹证明该学员完成培训。\n\n#v(12cm)\n#h(8cm) 培训机构{ANCHOR}\n".encode()
            ).getvalue(),
            format="pdf",
            font_paths=[str(FONT_DIR)],
            pdf_standards=["a-2b"],
        )
    )


def _presigned(folder: Path, base: bytes) -> tuple[bytes, Path]:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from sign.identity import Pkcs12Identity, load_signer
    from sign.pki import SealSubject, make_demo_pki

    pki = make_demo_pki(folder / "stranger-pki", [SealSubject("other", "某某科技有限公司", "某某科技有限公司")])
    signer = load_signer(Pkcs12Identity(path=pki.p12("other")), secret=pki.password)
    out = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Approval", subfilter=fields.SigSeedSubFilter.PADES),
        signer=signer,  # type: ignore[arg-type]
        new_field_spec=fields.SigFieldSpec(sig_field_name="Approval"),
    ).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(base), strict=False), output=io.BytesIO())
    return bytes(out.getvalue()), pki.root_cert


def build_corpus(folder: Path, chromium: str | None) -> Corpus:
    import pikepdf

    folder.mkdir(parents=True, exist_ok=True)
    base = _fpdf()
    made: dict[str, bytes] = {
        "fpdf2": base,
        "acroform": _acroform(base),
        "pdf20": _qpdf(base, force_version="2.0"),
        "objstm": _qpdf(base, object_stream_mode=pikepdf.ObjectStreamMode.generate, linearize=True),
        "pdfa": _pdfa(),
        "long30": _fpdf(30),
        "rotated": _rotated(_fpdf(3)),
        "sigfield": _sigfield(base),
    }
    if chromium:
        made["chromium"] = _chromium(folder, chromium)
    made["presigned"], stranger_root = _presigned(folder, base)
    made["encrypted"] = _qpdf(base, encryption=pikepdf.Encryption(owner="o", user="u", R=6))
    made["damaged"] = base[: len(base) * 2 // 3]
    files = {}
    for name, data in made.items():
        path = folder / f"{name}.pdf"
        path.write_bytes(data)
        files[name] = path
    return Corpus(folder, files, stranger_root)
