"""``skillcert renew``: keep delivered B-LTA files verifiable offline, before their newest timestamp runs out.

pyHanko's AdES engine (ETSI EN 319 102-1) judges a file's *newest* timestamp as of now, so offline
it needs that timestamp's TSA certificate unexpired and current revocation data for it in the DSS.
Renewing appends what pyHanko's archival chain update appends — validation data for the newest
timestamp, then a fresh document timestamp — to the delivered file, checks the result complete
(:meth:`sign.Sealer.renew`), writes it next to the old one and renames it into place, and records a
renewal (its SHA-256, the one it extends, and its own ``renew_by``; an audit event ``renew``).
The old file stays a delivered copy: a holder's earlier download is still recognised by the site.

When a file needs renewing is computed from the file itself (:func:`sign.seal.renew_by`), not
stored per delivery: the file is the only truth about which timestamps and revocation data it
holds, and a stored date could only go stale. Each renewal records the date it computed, for the
audit trail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from registry import Registry
from registry.models import CertStatus
from sign import PadesLevel, Sealer, SealOptions
from sign.seal import renew_by

from .files import publish_staged, write_staged

__all__ = ["RenewItem", "RenewReport", "renew_delivered"]


@dataclass(frozen=True, slots=True)
class RenewItem:
    number: str
    renew_by: str | None  # ISO time; None: the file has no timestamp
    renewed: bool = False
    new_renew_by: str | None = None
    pdf_sha256: str | None = None


@dataclass(slots=True)
class RenewReport:
    before: str
    dry_run: bool
    items: list[RenewItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "before": self.before,
            "dry_run": self.dry_run,
            "due": len(self.items),
            "renewed": sum(1 for i in self.items if i.renewed),
            "files": [
                {"number": i.number, "renew_by": i.renew_by, "renewed": i.renewed, "new_renew_by": i.new_renew_by}
                for i in self.items
            ],
        }


def renew_delivered(
    reg: Registry,
    out_dir: Path,
    *,
    before: date,
    tsa_url: str | None,
    trust_roots: tuple[Path, ...],
    actor: str,
    dry_run: bool = False,
    institution_code: str | None = None,
) -> RenewReport:
    """Renew every delivered file in ``out_dir`` whose newest timestamp runs out before ``before``."""
    limit = datetime.combine(before, time.min, tzinfo=UTC)
    report = RenewReport(before.isoformat(), dry_run)
    sealer: Sealer | None = None
    for c in list(reg.certificates.select(institution_code=institution_code)):
        if c.number is None or c.status is not CertStatus.VALID:
            continue
        d = reg.seals.delivery(c.id)
        path = out_dir / f"{c.number}.pdf"
        if d is None or d.version != c.version or not path.is_file():
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != d.pdf_sha256:
            continue  # not the file the registry delivered: never extend a stranger's bytes
        due = renew_by(data)
        if due is not None and due >= limit:
            continue
        shown = due.isoformat() if due else None
        if dry_run:
            report.items.append(RenewItem(str(c.number), shown))
            continue
        if sealer is None:
            sealer = Sealer({}, SealOptions(level=PadesLevel.B_LTA, tsa_url=tsa_url, trust_roots=trust_roots))
        renewed = sealer.renew(data)
        sha = hashlib.sha256(renewed).hexdigest()
        new_by = renew_by(renewed)
        new_shown = new_by.isoformat() if new_by else ""
        staged = write_staged(path, renewed, sha[:16])
        reg.seals.record_renewal(
            c.id, c.version, pdf_sha256=sha, previous_sha256=d.pdf_sha256, renew_by=new_shown, actor=actor
        )
        publish_staged(staged, path)
        report.items.append(RenewItem(str(c.number), shown, True, new_shown, sha))
    return report
