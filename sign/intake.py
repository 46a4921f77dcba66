"""Is a PDF from another producer fit to be sealed as it is? A bilingual reason when it is not.

Sealing appends an incremental update to the bytes as they are, so a file is taken only if both
qpdf (pikepdf) and pyHanko read it without repairing anything: a repaired file would be sealed
over a structure other readers may see differently. Encrypted files (a user or an owner
password) are refused; nothing is ever decrypted or rewritten.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .errors import SealError

__all__ = ["Intake", "NotSealable", "inspect_pdf"]

_HEADER_SCAN = 1024


class NotSealable(SealError):
    """This file cannot be sealed as it is (the reason says why)."""


@dataclass(frozen=True, slots=True)
class Intake:
    pages: int
    signatures: int  # signatures already in the file
    version: str


def inspect_pdf(data: bytes) -> Intake:
    import pikepdf

    if b"%PDF-" not in data[:_HEADER_SCAN]:
        raise NotSealable("不是 PDF 文件", "not a PDF file")
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                raise NotSealable(
                    "PDF 已加密（设有打开或权限密码），不能签章；请导出未加密的文件",
                    "the PDF is encrypted (an open or permissions password): export it without encryption",
                )
            pages = len(pdf.pages)
            version = str(pdf.pdf_version)
            warnings = list(pdf.get_warnings())
    except pikepdf.PasswordError as e:
        raise NotSealable(
            "PDF 已加密（设有打开密码），不能签章", "the PDF is encrypted (it needs a password to open)"
        ) from e
    except NotSealable:
        raise
    except Exception as e:  # qpdf's many ways of saying a file is broken
        raise NotSealable("PDF 已损坏，无法读取", f"the PDF is damaged and cannot be read ({_short(e)})") from e
    if warnings:
        raise NotSealable(
            f"PDF 已损坏（需要修复才能读取：{_short(warnings[0])}），未签章；请从原程序重新导出",
            f"the PDF is damaged (it reads only after repair: {_short(warnings[0])}); not sealed — export it again",
        )
    if pages == 0:
        raise NotSealable("PDF 没有页面", "the PDF has no pages")
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.security_handler is not None:
            raise NotSealable("PDF 已加密，不能签章", "the PDF is encrypted")
        signatures = len(reader.embedded_signatures)
        counted = int(reader.root["/Pages"]["/Count"])
    except NotSealable:
        raise
    except Exception as e:  # pyHanko cannot append to what it cannot read
        raise NotSealable(
            "PDF 结构异常，无法追加签章", f"the PDF's structure cannot take an incremental seal ({_short(e)})"
        ) from e
    if counted != pages:
        raise NotSealable(
            "PDF 页面树不一致，未签章", f"the PDF's page tree is inconsistent ({counted} vs {pages} pages)"
        )
    return Intake(pages, signatures, version)


def _short(e: object) -> str:
    import re

    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    text = re.sub(r"^.*?<_io\.BytesIO object at 0x[0-9a-f]+>:?\s*", "", text) or type(e).__name__
    return text if len(text) <= 160 else text[:157] + "…"
