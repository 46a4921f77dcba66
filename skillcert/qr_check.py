"""``skillcert verify-qr``: check a certificate's QR code without any network.

The input is what a scanner gives — the URL ``<site>/c/<number>?t=<token>#<payload>`` or just
the payload — or a photo or scan of the code (zxing-cpp reads it). The payload's signature is
checked against the institutions' filed QR keys: those of the current snapshot under
``$SKILLCERT_HOME``, or a key list saved from ``<site>/api/v1/keys`` (``--keys FILE``), whose
publisher signature is checked first. With a local snapshot, the certificate's status in it is
read too (by number and token, as the site does); without one, the report says plainly that
whether it was revoked since the key list's date needs the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from registry.errors import SkillcertError
from registry.tables import ID_TYPES, LEVELS
from search_index import Snapshot
from search_index.offline_keys import KeyList, read_key_list
from sign.qr_payload import QrClaims, QrPayloadError, verify_payload

__all__ = ["OfflineVerdict", "QrReport", "check_qr", "qr_text_from_image", "split_qr_text"]

_MAX_IMAGE = 30 * 1024 * 1024


class OfflineVerdict(StrEnum):
    VALID = "valid"  # authentic, and valid in the local snapshot
    AUTHENTIC = "authentic"  # authentic offline; the status needs the network
    NOT_CURRENT = "not_current"  # authentic, but revoked, suspended or replaced in the local snapshot
    INVALID = "invalid"  # the signature does not verify, or the key is not filed
    UNKNOWN = "unknown"  # no signed payload in the code, or no keys to check it with


@dataclass(frozen=True, slots=True, kw_only=True)
class QrReport:
    verdict: OfflineVerdict
    claims: QrClaims | None
    lines_zh: list[str] = field(default_factory=list)  # what was checked and found, in order
    lines_en: list[str] = field(default_factory=list)
    key_list_date: str | None = None
    institution_name: str | None = None
    status: str | None = None  # in the local snapshot
    online_url: str | None = None  # the page that gives the live status

    def paper(self) -> list[tuple[str, str, str]]:
        """What the paper should show: (中文, English, value)."""
        c = self.claims
        if c is None:
            return []
        level, idt = LEVELS.get(c.level), ID_TYPES.get(c.id_type)
        rows = [
            ("证书编号", "Certificate No.", c.number),
            ("姓名", "Name", c.name),
            ("证件类型", "ID type", f"{idt.zh} / {idt.en}" if idt else c.id_type),
            ("证件号码（隐去中间）", "ID number (masked)", c.id_masked),
            ("职业", "Occupation", c.occupation),
            ("工种", "Job", c.job),
            ("等级", "Level", f"{level.zh} / {level.en}" if level else str(c.level)),
            ("发证日期", "Issue date", c.issue_date.isoformat()),
            ("机构", "Institution", f"{c.institution_code} {self.institution_name or ''}".strip()),
            ("文件", "Document", f"{c.kind} v{c.version}"),
        ]
        if c.proof_number:
            rows.append(("证明编号", "Proof No.", c.proof_number))
        return rows


def split_qr_text(text: str) -> tuple[str | None, str | None, str, str | None]:
    """(number, token, payload, the URL without its fragment) from a scanned text."""
    text = text.strip()
    if "://" not in text:
        return None, None, text.lstrip("#"), None
    parts = urlsplit(text)
    path = parts.path.rstrip("/").split("/")
    number = path[-1] if len(path) >= 2 and path[-2] == "c" else None
    tokens = parse_qs(parts.query).get("t")
    token = tokens[0] if tokens else None
    online = text.split("#", 1)[0]
    return number, token, parts.fragment, online


def _page_image(path: Path) -> Any:
    """Page 1 of a PDF at 200 dpi: the printed QR code, read as a scanner would."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return pdf[0].render(scale=200 / 72).to_pil()
    finally:
        pdf.close()


def qr_text_from_image(path: Path) -> str:
    """The text of the QR code in a photo or scan (PNG, JPEG, ...) or on page 1 of a certificate
    PDF, read with zxing-cpp from the pixels (never from data the file carries beside them)."""
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size > _MAX_IMAGE:
        raise SkillcertError(f"图片 {path.name} 过大", f"the image {path.name} is too large")
    try:
        import pypdfium2
        import zxingcpp

        with path.open("rb") as f:
            is_pdf = f.read(5) == b"%PDF-"
        if is_pdf:
            found = zxingcpp.read_barcodes(_page_image(path).convert("L"))
        else:
            with Image.open(path) as img:
                img.thumbnail((4000, 4000))
                found = zxingcpp.read_barcodes(img.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, pypdfium2.PdfiumError) as e:
        raise SkillcertError(f"无法读取图片 {path.name}：{e}", f"cannot read the image {path.name}: {e}") from e
    if not found:
        raise SkillcertError(
            f"图片 {path.name} 中没有找到二维码（请拍得更清楚、更近一些）",
            f"no QR code found in {path.name} (take the photo sharper and closer)",
        )
    return str(found[0].text)


def _keys(snapshot: Snapshot | None, keys_file: Path | None) -> KeyList | None:
    if keys_file is not None:
        try:
            text = keys_file.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as e:
            raise SkillcertError(
                f"无法读取密钥列表 {keys_file}：{e}", f"cannot read the key list {keys_file}: {e}"
            ) from e
        return read_key_list(text)
    if snapshot is None:
        return None
    jws, publisher = snapshot.key_list(), snapshot.publisher_jwk()
    return read_key_list(jws, publisher) if jws and publisher else None


def check_qr(text: str, *, snapshot: Snapshot | None = None, keys_file: Path | None = None) -> QrReport:
    """Check a scanned QR text offline (see the module's notes); never touches the network."""
    number, token, payload, online = split_qr_text(text)
    if not payload:
        return QrReport(
            verdict=OfflineVerdict.UNKNOWN,
            claims=None,
            lines_zh=["二维码中没有签名数据（较早签发的证书），只能联网查询"],
            lines_en=["the QR code carries no signed data (an older certificate): it can only be checked online"],
            online_url=online,
        )
    keys = _keys(snapshot, keys_file)
    if keys is None:
        raise SkillcertError(
            "没有可用的机构密钥：请先发布快照（skillcert publish），或用 --keys 指定从查询网站 /api/v1/keys 保存的密钥列表",
            "no institution keys to check against: publish a snapshot (skillcert publish), or give --keys with a key "
            "list saved from the site's /api/v1/keys",
        )
    listed: KeyList = keys
    try:
        found = verify_payload(payload, listed.keys)
    except QrPayloadError as e:
        return QrReport(
            verdict=OfflineVerdict.INVALID, claims=None, lines_zh=[e.zh], lines_en=[e.en], online_url=online
        )
    c = found.claims
    zh = [f"密钥列表：快照 {keys.snapshot}，日期 {keys.issued_at}，发布者签名有效"]
    en = [f"key list: snapshot {keys.snapshot}, dated {keys.issued_at}, publisher signature valid"]
    inst = keys.institutions.get(c.institution_code, {})

    def report(verdict: OfflineVerdict, status: str | None = None) -> QrReport:
        return QrReport(
            verdict=verdict,
            claims=c,
            lines_zh=zh,
            lines_en=en,
            key_list_date=listed.issued_at,
            institution_name=inst.get("name"),
            status=status,
            online_url=online,
        )

    if number is not None and number != c.number:
        zh.append(f"网址中的编号 {number} 与签名数据中的 {c.number} 不一致")
        en.append(f"the number in the URL ({number}) differs from the signed one ({c.number})")
        return report(OfflineVerdict.INVALID)
    zh.append(found.reason_zh)
    en.append(found.reason_en)
    if not found.authentic:
        return report(OfflineVerdict.INVALID)
    zh.append("离线核验：纸面上的这些信息是真实的（由该机构已备案的密钥签名）")
    en.append("checked offline: the data on the paper is authentic (signed with the institution's filed key)")
    if inst.get("status") and inst["status"] != "active":
        zh.append(f"注意：该机构备案状态为 {inst['status']}")
        en.append(f"note: the institution's filing is {inst['status']}")
    live = snapshot.lookup_by_qr(c.number, token) if snapshot is not None and token else None
    if live is None:
        zh.append(f"需联网：自密钥列表日期 {keys.issued_at} 以来是否被撤销或暂停，请打开 {online or '查询网站'}")
        en.append(
            f"needs the network: whether it was revoked or suspended since {keys.issued_at}; open {online or 'the site'}"
        )
        return report(OfflineVerdict.AUTHENTIC)
    status = live.status if live.version == c.version or live.status != "valid" else "replaced"
    zh.append(f"本地快照（{keys.issued_at}）中的状态：{status}")
    en.append(f"status in the local snapshot ({keys.issued_at}): {status}")
    verdict = OfflineVerdict.VALID if status == "valid" else OfflineVerdict.NOT_CURRENT
    return report(verdict, status)
