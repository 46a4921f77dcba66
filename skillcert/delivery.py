"""One certificate's files appear only together with its delivery record.

Why stage, record, then rename (and not record first): the PDF's bytes exist only in the issuing
run's memory (a seal is never reproduced byte for byte), so they must be on disk before the record
names their SHA-256; and nothing may be visible under the real names before the record is
committed, or a run that fails to record (another run delivered first) would replace a holder's
download with a PDF nobody recorded, under a code on a notice nobody has. So each file — the PDF,
the holder's notice, the encrypted download, the holder's credential — is written whole under a hidden name tagged with the
PDF's SHA-256 (``files.write_staged``), the delivery is recorded in one transaction, and the files
are renamed into place. A run killed between the commit and the renames leaves tagged files
behind; :meth:`Deliverer.settle` (at the start and the end of every run) renames those whose tag
the record carries and deletes every other one — except the files of certificates another live
run holds a lease on (:mod:`skillcert.share`): those are its work in progress.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path

from registry import Registry
from registry.errors import DeliveryTaken, NotFound, SkillcertError
from registry.models import Certificate, Institution

from .files import publish_staged, staged_files, write_staged
from .notices import notice_text

__all__ = ["Deliverer"]


class Deliverer:
    """Where an institution's certificate files go, and the one step that writes them with the record."""

    def __init__(
        self,
        reg: Registry,
        inst: Institution,
        *,
        out_dir: Path,
        downloads_dir: Path | None,
        level: str,
        site_url: str,
        actor: str,
        holder: str | None = None,
    ) -> None:
        self.reg, self.inst, self.level, self.site_url, self.actor = reg, inst, level, site_url, actor
        self.holder = holder  # the issue run's claim name: deliveries are recorded only under its leases
        self.out_dir, self.downloads_dir = out_dir, downloads_dir
        self.notices = out_dir / "notices"
        self.credentials = out_dir / "credentials"  # the holder's credential, when a QR key is filed
        self.folders = [out_dir, self.notices, self.credentials, *([downloads_dir] if downloads_dir else [])]

    def _busy(self) -> frozenset[int]:
        """Certificates another live issue run holds: its temp and staged files are work in progress."""
        return frozenset() if self.holder is None else self.reg.claims.others_live(self.inst.code, self.holder)

    def sweep(self) -> None:
        """Remove temp files a killed run of this institution left (``write_atomic`` renames only
        complete files); other institutions' runs, and other live runs of this one, may be writing
        theirs in the same folders."""
        ours = re.compile(rf"^\.+({re.escape(self.inst.code)}\d{{9}})\.(pdf|txt|bin|vc\.jwt)\..*\.part$")
        busy = self._busy()
        for folder in self.folders:
            if folder.is_dir():
                for tmp in folder.glob(".*.part"):
                    if (m := ours.match(tmp.name)) and not self._held_elsewhere(m.group(1), busy):
                        tmp.unlink(missing_ok=True)

    def _held_elsewhere(self, number: str, busy: frozenset[int]) -> bool:
        if not busy:
            return False
        try:
            return self.reg.certificates.get(number).id in busy
        except NotFound:
            return False

    def settle(self, prefix: str) -> None:
        """Publish the staged files whose delivery was recorded, discard the rest (see the module) —
        but leave alone those of certificates another live run holds."""
        busy = self._busy()
        for folder in self.folders:
            for staged, path, tag in staged_files(folder, prefix):
                try:
                    c = self.reg.certificates.get(path.name.split(".", 1)[0])  # <number>.pdf, <number>.vc.jwt
                except NotFound:
                    staged.unlink(missing_ok=True)
                    continue
                if c.id in busy:
                    continue
                d = self.reg.seals.delivery(c.id)
                if d is not None and d.pdf_sha256.startswith(tag):
                    publish_staged(staged, path)
                else:
                    staged.unlink(missing_ok=True)

    def deliver(
        self, c: Certificate, pdf: bytes, package: tuple[str, bytes] | None, credential: str | None = None
    ) -> None:
        """Stage the PDF (and the notice and download, and the credential), record the delivery,
        then publish them."""
        number = str(c.number)
        sha = hashlib.sha256(pdf).hexdigest()
        files: list[tuple[Path, bytes]] = [(self.out_dir / f"{number}.pdf", pdf)]
        if package is not None and self.downloads_dir is not None:
            code, blob = package
            notice = notice_text(c, self.inst, code=code, site_url=self.site_url).encode("utf-8")
            files += [(self.notices / f"{number}.txt", notice), (self.downloads_dir / f"{number}.bin", blob)]
        if credential is not None:
            files.append((self.credentials / f"{number}.vc.jwt", credential.encode("ascii")))
        try:
            if credential is not None:
                self.credentials.mkdir(exist_ok=True)
            staged = [(write_staged(path, data, sha[:16]), path) for path, data in files]
            self.reg.seals.mark_delivered(
                c.id,
                c.version,
                pdf_sha256=sha,
                file_name=f"{number}.pdf",
                level=self.level,
                actor=self.actor,
                claim=self.holder,
            )
            for s, path in staged:
                publish_staged(s, path)
        except DeliveryTaken:  # another run's file is the delivered one: ours were never visible
            for s, _ in staged:
                s.unlink(missing_ok=True)
            raise
        except Exception as e:
            with contextlib.suppress(OSError):
                self.settle(number)  # recorded: publish what was staged; not recorded: leave nothing behind
            if isinstance(e, OSError):
                raise SkillcertError(
                    f"无法写入证书 {number} 的文件：{e.strerror or e}（{e.filename}）；解决后重新运行即可续完",
                    f"cannot write the files of {number}: {e.strerror or e} ({e.filename}); fix it and rerun",
                ) from e
            raise
