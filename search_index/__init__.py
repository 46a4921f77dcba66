"""Privacy-limited snapshots of the registry for the verification sites. Imports only ``registry``.

- :func:`publish` — write a snapshot and switch to it atomically, or add a generation to it;
- :class:`Snapshot` — ``lookup_by_pair``, ``lookup_by_qr``, ``search_institutions``, ``institution``;
  ``pinned()`` gives a :class:`SnapshotView` that keeps one generation for several reads.
"""

from __future__ import annotations

from .privacy import PairKind, mask_id, mask_name
from .publish import Manifest, publish
from .reader import CertificateView, Snapshot, SnapshotView

__all__ = ["CertificateView", "Manifest", "PairKind", "Snapshot", "SnapshotView", "mask_id", "mask_name", "publish"]
