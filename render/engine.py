"""The renderer: record + institution + style -> PDF/A bytes, with the seal boxes for ``sign/``.

One :class:`Renderer` keeps one Typst compiler per template with the fonts loaded, for a whole
batch. Record data goes to Typst only as JSON through ``sys.inputs`` — never pasted into Typst
source — so markup characters in a name print literally.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from registry.errors import Problem
from registry.fields import job_text
from registry.models import Certificate, Institution, Seal, Style
from registry.tables import ID_TYPES, LEVELS

from .errors import RenderError
from .fonts import FONT_DIR, fangsong_faces, fangsong_gaps, require_glyphs
from .layout import Layout, SealBox
from .photo import prepare_photo
from .qr import qr_svg, qr_url
from .record import SCHEMA, EmbeddedRecord, record_json

__all__ = ["TEMPLATE_DIR", "DocumentKind", "RenderSettings", "RenderedPdf", "Renderer"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
_TEMPLATES = {Style.STYLE1: "style1", Style.STYLE2: "style2", Style.GUANGDONG: "guangdong"}


class DocumentKind(StrEnum):
    CERTIFICATE = "certificate"
    REPLACEMENT = "replacement"  # 补发: same number, states the replacement date
    PROOF = "proof"  # 职业技能等级证书证明 for a lost or damaged certificate


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSettings:
    site_url: str = "http://127.0.0.1:8000"  # where the QR code points: <site>/c/<number>?t=<token>
    font_dirs: tuple[Path, ...] = ()  # an institution's own licensed fonts; its 仿宋 sets the values first
    template_dir: Path | None = None  # an adjusted copy of render/templates
    pdf_standard: str = "a-3b"


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    pdf: bytes
    seal_boxes: tuple[SealBox, ...]
    kind: DocumentKind
    style: str
    page_mm: tuple[float, float]
    record: EmbeddedRecord  # what the PDF carries as certificate.json
    warnings: tuple[Problem, ...] = field(default=())

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


_SAMPLE = {
    "number": "S000011084012265000001",
    "name": "样例",
    "id_type": "201",
    "id_type_zh": "居民身份证",
    "id_type_en": "Resident Identity Card",
    "id_number": "11010519491231002X",
    "occupation": "电工",
    "job": "——",
    "level": 5,
    "level_zh": "五级/初级工",
    "level_en": "Level 5 / Junior Worker",
    "issue_date": "2026-01-05",
    "issuer_zh": "样例",
    "issuer_en": "Sample",
    "institution_zh": "样例",
    "issuing_body_zh": "样例",
    "serial_no": "00000001",
    "seals": [],
    "proof_number": "P",
    "proof_date": "2026-01-05",
}


class Renderer:
    """Renders many documents with compilers and fonts loaded once. Close it when done."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        import typst

        self.settings = settings or RenderSettings()
        self._dir = Path(tempfile.mkdtemp(prefix="skillcert-render-"))
        src = self.settings.template_dir or TEMPLATE_DIR
        for f in src.glob("*.typ"):
            shutil.copyfile(f, self._dir / f.name)
        from PIL import Image

        Image.new("RGB", (1, 1), "white").save(self._dir / "blank.png")  # the photo slot when only queried
        if not (self._dir / "lib.typ").exists():
            shutil.copyfile(TEMPLATE_DIR / "lib.typ", self._dir / "lib.typ")
        self.font_dirs = (*self.settings.font_dirs, FONT_DIR)
        self._fonts = typst.Fonts(
            include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(d) for d in self.font_dirs]
        )
        # 仿宋 for the filled values: the institution's own FangSong first, then the shipped FandolFang
        self.fangsong_families, self._fangsong_files = fangsong_faces(
            ((f.family, Path(f.path)) for f in self._fonts.fonts() if f.path), self.settings.font_dirs
        )
        self._compilers: dict[str, Any] = {}
        self._layouts: dict[str, Layout] = {}

    def close(self) -> None:
        self._compilers.clear()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fang_input(self) -> str:
        return json.dumps(list(self.fangsong_families), ensure_ascii=False)

    def layout(self, template: str) -> Layout:
        self._compiler(template)
        return self._layouts[template]

    def _compiler(self, template: str) -> Any:
        import typst

        comp = self._compilers.get(template)
        if comp is None:
            path = self._dir / f"{template}.typ"
            if not path.exists():
                raise RenderError(f"找不到样式模板 {template}.typ", f"template {template}.typ not found")
            comp = typst.Compiler(
                input=str(path),
                root=str(self._dir),
                font_paths=self._fonts,
                sys_inputs={"data": json.dumps(_SAMPLE, ensure_ascii=False), "fang": self._fang_input()},
            )
            try:
                meta = json.loads(comp.query("<skillcert-layout>", field="value", one=True))
            except (typst.TypstError, RuntimeError) as e:
                msg = getattr(e, "message", str(e))
                raise RenderError(f"样式模板 {template}.typ 有误：{msg}", f"template {template}.typ: {msg}") from e
            self._layouts[template] = Layout.from_metadata(meta)
            self._compilers[template] = comp
        return comp

    def render(
        self,
        record: Certificate,
        institution: Institution,
        *,
        photo: bytes,
        kind: DocumentKind = DocumentKind.CERTIFICATE,
        style: Style | None = None,
        serial_no: str | None = None,
        replacement_date: date | None = None,
        proof_number: str | None = None,
        proof_date: date | None = None,
        qr_payload: str | None = None,
        credential: str | None = None,
    ) -> RenderedPdf:
        """Render one document; raise :class:`RenderError` (or a subclass) naming what is wrong.

        ``qr_payload`` (the signed QR payload, base64url) becomes the QR URL's fragment;
        ``credential`` (the holder's credential JWT) is attached as ``credential.vc.jwt``."""
        import typst

        if record.number is None or record.issue_date is None or record.qr_token is None:
            raise RenderError(f"记录 {record.id} 还没有证书编号", f"record {record.id} has no certificate number yet")
        if kind is DocumentKind.REPLACEMENT and replacement_date is None:
            raise RenderError("补发证书需要补发日期", "a replacement needs its replacement date")
        if kind is DocumentKind.PROOF and (proof_number is None or proof_date is None):
            raise RenderError("证明需要证明编号和日期", "a proof document needs its proof number and date")
        st = style or institution.style
        template = "proof" if kind is DocumentKind.PROOF else _TEMPLATES[st]
        comp = self._compiler(template)
        lay = self._layouts[template]

        id_type = ID_TYPES[record.id_type]
        level = LEVELS[record.level]
        issuer_zh, issuer_en = institution.name_zh, institution.name_en
        boxes: list[SealBox] = []
        seals_data: list[dict[str, Any]] = []
        for slot, box in lay.seals:
            seal: Seal | None = institution.seal_for(slot)
            if seal is None:
                raise RenderError(
                    f"样式需要“{slot}”印章，但机构未备案",
                    f"the style needs a {slot!r} seal the institution has not filed",
                )
            seals_data.append(
                {
                    "kind": slot,
                    "text": seal.text,
                    "bottom": seal.bottom,
                    "box": {"x": box.x, "y": box.y, "w": box.w, "h": box.h},
                }
            )
            # the box names the seal's own kind: the key that seals it is filed under that kind
            boxes.append(SealBox(seal.kind, 0, box, box.to_pdf(lay.page_h), seal.text))

        printed = {
            "name": record.name,
            "occupation": record.occupation,
            "job": job_text(record.job, institution.variant),
            "id_number": record.id_number,
            "institution": issuer_zh + institution.name_en + institution.issuing_body_zh + institution.issuing_body_en,
            "seal": "".join(s["text"] + s["bottom"] for s in seals_data),
        }
        require_glyphs(printed, self.font_dirs)
        prepared = prepare_photo(photo, lay.photo.w, lay.photo.h)
        # one fixed path: Typst re-reads a changed file, but keeps every distinct path it has read in memory
        photo_name = "photo.jpg"
        (self._dir / photo_name).write_bytes(prepared.jpeg)
        url = qr_url(self.settings.site_url, record.number, record.qr_token, qr_payload)
        data = {
            "number": record.number,
            "name": record.name,
            "id_type": id_type.code,
            "id_type_zh": id_type.zh,
            "id_type_en": id_type.en,
            "id_number": record.id_number,
            "occupation": record.occupation,
            "job": printed["job"],
            "level": level.code,
            "level_zh": level.zh,
            "level_en": level.en,
            "issue_date": record.issue_date.isoformat(),
            "issuer_zh": issuer_zh,
            "issuer_en": issuer_en,
            "institution_zh": institution.name_zh,
            "issuing_body_zh": institution.issuing_body_zh or institution.name_zh,
            "serial_no": serial_no or f"{record.id:08d}",
            "seals": seals_data,
            "replacement_date": replacement_date.isoformat()
            if kind is DocumentKind.REPLACEMENT and replacement_date
            else None,
            "proof_number": proof_number or "",
            "proof_date": proof_date.isoformat() if proof_date else "",
        }
        embedded = EmbeddedRecord(
            schema=SCHEMA,
            kind=kind.value,
            style=st.value,
            number=record.number,
            name=record.name,
            id_type=id_type.code,
            id_number=record.id_number,
            occupation=record.occupation,
            job=record.job,
            level=record.level,
            issue_date=record.issue_date,
            institution_code=institution.code,
            institution_name=institution.name_zh,
            issuing_body=institution.issuing_body_zh or None,
            photo_sha256=record.photo_sha256,
            version=record.version,
            qr_url=url,
            replacement_date=replacement_date if kind is DocumentKind.REPLACEMENT else None,
            proof_number=proof_number,
            proof_date=proof_date,
        )
        xmp = {
            "number": record.number,
            "institutionCode": institution.code,
            "issueDate": record.issue_date.isoformat(),
            "style": st.value,
            "kind": kind.value,
        }
        if proof_number:
            xmp["proofNumber"] = proof_number
        data["keywords"] = [f"skillcert:{key}={value}" for key, value in xmp.items()]
        stamp = datetime.combine(proof_date or replacement_date or record.issue_date, datetime.min.time(), tzinfo=UTC)
        try:
            pdf, warnings = comp.compile_with_warnings(
                format="pdf",
                sys_inputs={
                    "data": json.dumps(data, ensure_ascii=False),
                    "record": record_json(embedded),
                    "qr": qr_svg(url),
                    "photo": photo_name,
                    "fang": self._fang_input(),
                    **({"credential": credential} if credential else {}),
                },
                pdf_standards=[self.settings.pdf_standard],
                timestamp=stamp,
            )
        except (typst.TypstError, RuntimeError) as e:
            msg = getattr(e, "message", str(e))
            raise RenderError(f"排版失败：{msg}", f"typesetting failed: {msg}") from e
        if warnings:
            msgs = "; ".join(str(w.message) for w in warnings)
            raise RenderError(f"排版警告（视为错误）：{msgs}", f"typesetting warnings (treated as errors): {msgs}")
        assert isinstance(pdf, bytes)
        values = {k: str(data[k]) for k in ("name", "id_number", "occupation", "job")}
        notes = prepared.warnings + fangsong_gaps(values, self._fangsong_files)
        return RenderedPdf(pdf, tuple(boxes), kind, template, (lay.page_w, lay.page_h), embedded, notes)
