"""Privacy-limited snapshots of the registry for the verification sites. Imports only ``registry``.

- :func:`publish` — write a snapshot and switch to it atomically, or add a generation to it;
- :class:`SnapshotRecord` — the masked record of one certificate, as every look-up gives it;
- :class:`Snapshot` — ``lookup_by_pair``, ``lookup_all_by_pair``, ``lookup_by_qr``, ``photo_by_qr``,
  ``search_institutions``, ``institution``;
  ``pinned()`` gives a :class:`SnapshotView` that keeps one generation for several reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry._lazy import lazy_exports

if TYPE_CHECKING:  # the type checker sees every name; at run time each module loads when first used
    from .privacy import PairKind, mask_id, mask_name
    from .publish import Manifest, publish
    from .reader import CertificateView, Snapshot, SnapshotView
    from .record import SnapshotRecord, VersionNote

# name -> module (see registry._lazy)
_EXPORTS = {
    "CertificateView": ".reader",
    "Manifest": ".publish",
    "PairKind": ".privacy",
    "Snapshot": ".reader",
    "SnapshotRecord": ".record",
    "SnapshotView": ".reader",
    "VersionNote": ".record",
    "mask_id": ".privacy",
    "mask_name": ".privacy",
    "publish": ".publish",
}


__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "CertificateView",
    "Manifest",
    "PairKind",
    "Snapshot",
    "SnapshotRecord",
    "SnapshotView",
    "VersionNote",
    "mask_id",
    "mask_name",
    "publish",
]
