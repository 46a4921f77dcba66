"""Sealing a rendered certificate: a PAdES signature whose widget sits on each drawn seal.

Levels: B-B (signature only), B-T (+ RFC 3161 timestamp), B-LT (+ OCSP/CRL in the DSS, the
default: it validates offline years later), B-LTA (+ a document timestamp). Signing appends an
incremental update, so the rendered bytes stay the first revision.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import SealError

__all__ = ["PadesLevel", "SealBoxSpec", "SealOptions", "Sealer"]


class PadesLevel(StrEnum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def timestamped(self) -> bool:
        return self is not PadesLevel.B_B

    @property
    def long_term(self) -> bool:
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)


@dataclass(frozen=True, slots=True)
class SealBoxSpec:
    """Where a signature goes: a new widget at ``rect_pt`` on ``page``, or an existing empty field."""

    kind: str
    page: int
    rect_pt: tuple[float, float, float, float] | None  # x, y, w, h in points, origin bottom-left
    field: str | None = None  # sign this existing signature field instead of making one


@dataclass(frozen=True, slots=True, kw_only=True)
class SealOptions:
    level: PadesLevel = PadesLevel.B_LT
    tsa_url: str | None = None
    trust_roots: tuple[Path, ...] = ()  # for collecting revocation data at B-LT
    reason: str = "职业技能等级证书电子印章 Seal of occupational skill level certificate"
    location: str | None = None


# signature sizes, in hex characters reserved (pyHanko counts hex): fixed so pyHanko does not sign
# twice to measure; B-T and up carry a timestamp token inside the CMS
_RESERVED = {PadesLevel.B_B: 8192, PadesLevel.B_T: 16384, PadesLevel.B_LT: 16384, PadesLevel.B_LTA: 16384}


def _int_box(rect: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    x, y, w, h = rect
    return round(x), round(y), round(x + w), round(y + h)


class Sealer:
    """Seals many PDFs with signers loaded once. ``signers`` maps a seal kind to its signer."""

    def __init__(self, signers: Mapping[str, Any], options: SealOptions) -> None:
        from pyhanko.keys import load_cert_from_pemder
        from pyhanko.sign import timestamps
        from pyhanko_certvalidator import ValidationContext

        if options.level.timestamped and not options.tsa_url:
            raise SealError(f"{options.level} 需要时间戳服务（TSA）地址", f"{options.level} needs a TSA URL")
        self.signers = dict(signers)
        self.options = options
        self.timestamper = timestamps.HTTPTimeStamper(options.tsa_url) if options.tsa_url else None
        self.validation_context = None
        if options.level.long_term:
            roots = [load_cert_from_pemder(str(p)) for p in options.trust_roots]
            if not roots:
                raise SealError("B-LT 需要信任根证书", "B-LT needs the trust root certificates")
            self.validation_context = ValidationContext(trust_roots=roots, allow_fetching=True)

    def seal(self, pdf: bytes, boxes: Sequence[SealBoxSpec]) -> bytes:
        """Sign once per box, in the given order (style 二: issuing body first, institution second)."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko.stamp import NoOpStampStyle

        data = pdf
        for i, box in enumerate(boxes):
            signer = self.signers.get(box.kind)
            if signer is None:
                raise SealError(f"没有“{box.kind}”印章的签名密钥", f"no signing key for the {box.kind!r} seal")
            name = box.field or f"Seal{i + 1}-{box.kind}"
            last = i == len(boxes) - 1
            meta = signers.PdfSignatureMetadata(
                field_name=name,
                subfilter=fields.SigSeedSubFilter.PADES,
                reason=self.options.reason,
                location=self.options.location,
                embed_validation_info=self.options.level.long_term,
                validation_context=self.validation_context,
                use_pades_lta=self.options.level is PadesLevel.B_LTA and last,
                md_algorithm="sha256",
            )
            pdf_signer = signers.PdfSigner(
                meta,
                signer=signer,
                timestamper=self.timestamper if self.options.level.timestamped else None,
                stamp_style=NoOpStampStyle(),
                new_field_spec=None
                if box.rect_pt is None
                else fields.SigFieldSpec(sig_field_name=name, on_page=box.page, box=_int_box(box.rect_pt)),
            )
            try:
                out = pdf_signer.sign_pdf(
                    IncrementalPdfFileWriter(io.BytesIO(data), strict=False),
                    bytes_reserved=_RESERVED[self.options.level],
                    output=io.BytesIO(),
                )
            except Exception as e:  # network, TSA, revocation and signing errors come in many kinds
                raise SealError(f"签章失败（{box.kind}）：{e}", f"sealing failed ({box.kind}): {e}") from e
            data = out.getvalue()
        return data
