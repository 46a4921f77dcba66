"""Sealing a rendered certificate: a PAdES signature whose widget sits on each drawn seal.

Levels: B-B (signature only), B-T (+ RFC 3161 timestamp), B-LT (+ OCSP/CRL in the DSS), B-LTA
(+ a document timestamp over the DSS: the default, see :class:`SealOptions`). Signing appends an
incremental update, so the rendered bytes stay the first revision.

Long-term levels are complete or not delivered: after the seals, the DSS is read back and every
certificate of every chain (signers, intermediates, each TSA) except a trust root must be covered
by an OCSP response or a CRL that is still current; what is missing is fetched once more
(hard-fail) and added as validation data, and if it is still missing sealing fails with
:class:`SealError`. pyHanko's AdES validator says INVALID offline for a file without them.

Each widget gets an empty appearance (``/AP /N``, a form XObject of the box size that draws
nothing: the seal picture is in the page content) in the revision its signature covers —
PDF/A (ISO 19005-2/3 §6.3.3) requires an appearance for every annotation with a non-zero /Rect.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ._xmp import keep_metadata
from .errors import SealError

__all__ = ["PadesLevel", "SealBoxSpec", "SealOptions", "Sealer", "ltv_gaps", "renew_by"]


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
    """How to seal. The default level is **B-LTA**, not B-LT, because it is the only level that
    stays verifiable offline: pyHanko's AdES validator (``pyhanko sign adesverify``, ETSI EN 319
    102-1) judges a B-LT file's embedded OCSP/CRL at the validation time, so a B-LT file turns
    INVALID offline as soon as its revocation data is past its nextUpdate (measured on the demo: a
    file sealed on 1 Dec is INVALID at 20 Dec, the intermediate's CRL having run out on 11 Dec).
    A document timestamp over the DSS (B-LTA) proves when that data existed, so the seal is judged
    as of then; only the newest timestamp is judged now, and ``skillcert renew`` adds a fresh one
    with its validation data before that runs out. Cost on the demo: ≈ +20 KB per file (≈ +15 %)
    and about twice the seal time (one more TSA request and DSS update).
    """

    level: PadesLevel = PadesLevel.B_LTA
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


def _exact_box(rect: tuple[float, float, float, float]) -> Any:
    """A drawn seal's box as given: a perforation slice is a few points wide."""
    x, y, w, h = rect
    return (x, y, x + w, y + h)


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
        self.roots: list[Any] = []
        self._templates: dict[str, Any] = {}  # seal kind -> _fastpdf.CmsTemplate, or None: always pyHanko
        if options.level.long_term:
            roots = [load_cert_from_pemder(str(p)) for p in options.trust_roots]
            if not roots:
                raise SealError("B-LT 需要信任根证书", "B-LT needs the trust root certificates")
            self.roots = roots
            self.validation_context = ValidationContext(
                trust_roots=roots, allow_fetching=True, revinfo_policy=_crl_required()
            )

    @keep_metadata()
    def seal(self, pdf: bytes, boxes: Sequence[SealBoxSpec], *, look: Any = None) -> bytes:
        """Sign once per box, in the given order (style 二: issuing body first, institution second).

        ``look`` (a :class:`sign.appearance.SealLook`): the seal drawn as the widget's appearance,
        and any page slices of a perforation seal, instead of an empty appearance.
        """
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        data = pdf
        for i, box in enumerate(boxes):
            signer = self.signers.get(box.kind)
            if signer is None:
                raise SealError(f"没有“{box.kind}”印章的签名密钥", f"no signing key for the {box.kind!r} seal")
            name = box.field or f"Seal{i + 1}-{box.kind}"
            fast = self._fast(data, box, name) if look is None else None
            if fast is not None:
                data = fast
                continue
            meta = signers.PdfSignatureMetadata(
                field_name=name,
                subfilter=fields.SigSeedSubFilter.PADES,
                reason=self.options.reason,
                location=self.options.location,
                embed_validation_info=self.options.level.long_term,
                validation_context=self.validation_context,
                md_algorithm="sha256",
            )
            pdf_signer = signers.PdfSigner(
                meta,
                signer=signer,
                timestamper=self.timestamper if self.options.level.timestamped else None,
                stamp_style=_EMPTY_STYLE if look is None else look.stamp_style(),
                new_field_spec=None
                if box.rect_pt is None
                else fields.SigFieldSpec(
                    sig_field_name=name,
                    on_page=box.page,
                    box=_int_box(box.rect_pt) if look is None else _exact_box(box.rect_pt),
                ),
            )
            try:
                writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
                if look is not None:
                    look.prepare(writer, box)
                out = pdf_signer.sign_pdf(
                    writer,
                    bytes_reserved=_RESERVED[self.options.level],
                    output=io.BytesIO(),
                )
            except Exception as e:  # network, TSA, revocation and signing errors come in many kinds
                raise SealError(f"签章失败（{box.kind}）：{e}", f"sealing failed ({box.kind}): {e}") from e
            data = out.getvalue()
            if look is None and self.options.level is PadesLevel.B_B and box.kind not in self._templates:
                from ._fastpdf import template_from

                self._templates[box.kind] = template_from(data, signer)
        if self.options.level.long_term:
            data = self._complete_ltv(data)
        if self.options.level is PadesLevel.B_LTA:
            data = self._document_timestamp(data)
            data = self._complete_ltv(data, refetch=False)
        return data

    def _fast(self, data: bytes, box: SealBoxSpec, name: str) -> bytes | None:
        """The seal written by :mod:`sign._fastpdf` (B-B, a new field, a template from an earlier
        pyHanko seal with this key), or ``None``: seal with pyHanko."""
        template = self._templates.get(box.kind)
        if template is None or self.options.level is not PadesLevel.B_B or box.rect_pt is None or box.field:
            return None
        from ._fastpdf import fast_seal

        try:
            return fast_seal(
                data,
                page_index=box.page,
                rect=_int_box(box.rect_pt),
                field_name=name,
                reason=self.options.reason,
                location=self.options.location,
                template=template,
            )
        except Exception as e:  # the key refused to sign: as pyHanko's path reports it
            raise SealError(f"签章失败（{box.kind}）：{e}", f"sealing failed ({box.kind}): {e}") from e

    def _complete_ltv(self, data: bytes, *, refetch: bool = True) -> bytes:
        """Every chain certificate covered by current revocation data in the DSS, or :class:`SealError`."""
        from pyhanko.sign.validation.dss import DocumentSecurityStore

        now = datetime.now(UTC)
        missing, pool = _uncovered(data, self.roots, now)
        if missing and refetch:
            ocsps, crls = self._fetch(missing, pool)
            out = io.BytesIO(data)
            try:
                DocumentSecurityStore.add_dss(out, None, ocsps=ocsps, crls=crls, strict=False)
            except Exception as e:  # pyHanko's many kinds
                raise SealError(f"无法补充验证数据：{e}", f"cannot add the validation data: {e}") from e
            data = out.getvalue()
            missing, _ = _uncovered(data, self.roots, now)
        if missing:
            names = "; ".join(_label(c) for c in missing)
            raise SealError(
                f"长期验证数据不完整，未交付：缺少 {names} 的吊销信息（OCSP/CRL）",
                f"long-term validation data incomplete, not delivered: no current OCSP/CRL for {names}",
            )
        return data

    def _fetch(self, certs: list[Any], pool: list[Any]) -> tuple[list[Any], list[Any]]:
        """Fetch once more, hard-fail, the revocation data of ``certs`` (their chains from ``pool``)."""
        import asyncio

        from pyhanko_certvalidator import CertificateValidator, ValidationContext

        vc = ValidationContext(
            trust_roots=self.roots, allow_fetching=True, revinfo_policy=_crl_required(), other_certs=pool
        )
        try:
            for cert in certs:
                asyncio.run(CertificateValidator(cert, validation_context=vc).async_validate_usage(set()))
        except Exception as e:  # network, OCSP and CRL errors come in many kinds
            raise SealError(
                f"长期验证数据不完整，未交付：重新获取吊销信息失败（{e}）",
                f"long-term validation data incomplete, not delivered: fetching revocation data again failed ({e})",
            ) from e
        return list(vc.ocsps), list(vc.crls)

    @keep_metadata()
    def renew(self, data: bytes) -> bytes:
        """A sealed file extended for the long term (pyHanko's archival timestamp chain, by hand so
        that the new timestamp's widget gets an appearance too): current validation data for every
        certificate in the file, a fresh document timestamp over it, and that timestamp's own data."""
        if self.timestamper is None or self.validation_context is None:
            raise SealError("续期需要时间戳服务与信任根证书", "renewing needs a TSA and the trust roots")
        data = self._complete_ltv(data)
        data = self._document_timestamp(data)
        return self._complete_ltv(data, refetch=False)

    def _document_timestamp(self, data: bytes) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers

        assert self.timestamper is not None  # a long-term level needs a TSA (checked in __init__)
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
            name = _invisible_field_with_appearance(writer, "Timestamp")
            out = signers.PdfTimeStamper(self.timestamper, field_name=name).timestamp_pdf(
                writer,
                "sha256",
                validation_context=self.validation_context,
                bytes_reserved=_RESERVED[PadesLevel.B_B],
                output=io.BytesIO(),
            )
        except Exception as e:  # network, TSA, revocation errors come in many kinds
            raise SealError(f"文档时间戳失败：{e}", f"document timestamp failed: {e}") from e
        return bytes(out.getvalue())


def _crl_required() -> Any:
    """Hard-fail, and a CRL for every certificate of the chain, end entities included.

    pyHanko's AdES validator did not accept the demo responder's OCSP response alone offline ("no
    revocation information could be found for the end-entity certificate"), and left to itself
    pyHanko fetched the CRL only when OCSP was slow: so CRLs always (OCSP comes too where offered).
    A certificate without a CRL distribution point then fails to seal rather than seal weaker.
    """
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

    rule = RevocationCheckingRule.CRL_REQUIRED
    return CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule))


# -- empty widget appearances ------------------------------------------------------------------
def _invisible_field_with_appearance(writer: Any, prefix: str) -> str:
    """A new invisible signature field (``/Rect [0 0 0 0]``) whose widget still has an ``/AP /N``.

    pyHanko gives invisible fields no appearance. PDF/A-2/3 (ISO 19005-3 §6.3.3) exempt a
    zero-size widget, PDF/A-1 and PDFBox Preflight do not: an empty form XObject satisfies both.
    """
    import uuid

    from pyhanko.pdf_utils import generic
    from pyhanko.sign import fields

    name = f"{prefix}-{uuid.uuid4()}"
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name))
    for field in writer.root["/AcroForm"]["/Fields"]:
        widget = field.get_object()
        if widget.get("/T") == name:
            ap = generic.StreamObject(
                {
                    generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                    generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
                    generic.pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(0)] * 4),
                },
                stream_data=b"",
            )
            widget[generic.pdf_name("/AP")] = generic.DictionaryObject({generic.pdf_name("/N"): writer.add_object(ap)})
            writer.update_container(widget)
            return name
    raise SealError("无法添加时间戳字段", "cannot add the timestamp field")


def _empty_style() -> Any:
    from pyhanko.pdf_utils.content import AppearanceContent
    from pyhanko.stamp import BaseStampStyle

    class _Empty(AppearanceContent):
        def render(self) -> bytes:
            return b""

    @dataclass(frozen=True)
    class _EmptyStampStyle(BaseStampStyle):
        """An ``/AP /N`` form XObject of the widget's size that draws nothing."""

        def create_stamp(self, writer: Any, box: Any, text_params: dict[str, Any]) -> Any:
            return _Empty(writer=writer, box=box)

    return _EmptyStampStyle()


_EMPTY_STYLE = _empty_style()


# -- is the DSS complete? ----------------------------------------------------------------------
def _label(cert: Any) -> str:
    return f"{cert.subject.human_friendly} (serial {cert.serial_number})"


def _no_check(cert: Any) -> bool:
    """An OCSP responder certificate with id-pkix-ocsp-nocheck needs no revocation data (RFC 6960 §4.2.2.2.1)."""
    return bool(cert.ocsp_no_check_value is not None)


def ltv_gaps(data: bytes, roots: Sequence[Any], now: datetime) -> list[str]:
    """The chain certificates (of every seal, its timestamp and every document timestamp, and those
    in the DSS) that no current OCSP response or CRL in the DSS covers; trust roots excepted."""
    return [_label(c) for c in _uncovered(data, roots, now)[0]]


def _uncovered(data: bytes, roots: Sequence[Any], now: datetime) -> tuple[list[Any], list[Any]]:
    """(the certificates not covered, every certificate found)."""
    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    root_keys = {r.public_key.dump() for r in roots}
    certs: dict[tuple[str, int], Any] = {}

    def add(cert: Any) -> None:
        certs.setdefault((cert.issuer.sha256.hex(), cert.serial_number), cert)

    def add_signed_data(sd: Any) -> None:
        for choice in sd["certificates"] or []:
            if choice.name == "certificate":
                add(choice.chosen)

    for sig in reader.embedded_signatures:
        add(sig.signer_cert)
        add_signed_data(sig.signed_data)
        for attr in sig.signer_info["unsigned_attrs"] or []:
            if attr["type"].native == "signature_time_stamp_token":
                for token in attr["values"]:
                    add_signed_data(cms.ContentInfo.load(token.dump())["content"])
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        dss = None
    ocsps, crls = [], []
    if dss is not None:
        for c in dss.load_certs():
            add(c)
        from asn1crypto import crl as asn1_crl
        from asn1crypto import ocsp as asn1_ocsp

        for ref in dss.ocsps:
            resp = asn1_ocsp.OCSPResponse.load(ref.get_object().data)
            if resp["response_status"].native == "successful":
                ocsps.append(resp["response_bytes"]["response"].parsed)
        crls = [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]
    needed = [c for c in certs.values() if c.public_key.dump() not in root_keys and not _no_check(c)]
    return [c for c in needed if not _covered(c, ocsps, crls, now)], list(certs.values())


def renew_by(data: bytes) -> datetime | None:
    """When the file's newest timestamp stops validating offline: the earlier of its TSA certificate's
    expiry and the nextUpdate of the revocation data in the DSS for that TSA (pyHanko's AdES engine
    judges the newest timestamp as of now, so it needs current data). ``None``: no timestamp."""
    from asn1crypto import cms, crl
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    newest: tuple[datetime, Any] | None = None
    for sig in reader.embedded_signatures:
        if str(sig.sig_object_type) == "/DocTimeStamp":
            tokens = [sig.signed_data]
        else:
            tokens = [
                cms.ContentInfo.load(v.dump())["content"]
                for a in sig.signer_info["unsigned_attrs"] or []
                if a["type"].native == "signature_time_stamp_token"
                for v in a["values"]
            ]
        for sd in tokens:
            info = sd["encap_content_info"]["content"].parsed
            when = info["gen_time"].native
            sid = sd["signer_infos"][0]["sid"].chosen
            tsa = next(
                (
                    c.chosen
                    for c in sd["certificates"] or []
                    if c.name == "certificate" and c.chosen.serial_number == sid["serial_number"].native
                ),
                None,
            )
            if tsa is not None and (newest is None or when > newest[0]):
                newest = (when, tsa)
    if newest is None:
        return None
    tsa = newest[1]
    by: datetime = tsa.not_valid_after
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        updates = [
            t["next_update"].native
            for t in (crl.CertificateList.load(ref.get_object().data)["tbs_cert_list"] for ref in dss.crls)
            if t["issuer"] == tsa.issuer and t["next_update"].native is not None
        ]
    except NoDSSFoundError:
        updates = []
    return min([by, max(updates)]) if updates else by


def _current(this_update: Any, next_update: Any, now: datetime) -> bool:
    return bool(this_update is not None and this_update <= now and (next_update is None or next_update > now))


def _covered(cert: Any, ocsps: list[Any], crls: list[Any], now: datetime) -> bool:
    """A current CRL of its issuer not listing it; an OCSP response only for a certificate without a
    CRL distribution point (pyHanko's AdES validator did not take our OCSP alone, see _crl_required)."""
    import hashlib

    for basic in ocsps if not cert.crl_distribution_points else []:
        for single in basic["tbs_response_data"]["responses"]:
            cid = single["cert_id"]
            algo = cid["hash_algorithm"]["algorithm"].native
            if (
                cid["serial_number"].native == cert.serial_number
                and cid["issuer_name_hash"].native == hashlib.new(algo, cert.issuer.dump()).digest()
                and single["cert_status"].name == "good"
                and _current(single["this_update"].native, single["next_update"].native, now)
            ):
                return True
    for cl in crls:
        tbs = cl["tbs_cert_list"]
        if tbs["issuer"] != cert.issuer or not _current(tbs["this_update"].native, tbs["next_update"].native, now):
            continue
        revoked = {r["user_certificate"].native for r in tbs["revoked_certificates"] or []}
        if cert.serial_number not in revoked:
            return True
    return False
