"""Privacy-limited snapshots of the registry for the verification sites. Imports only ``registry``.

- :func:`publish` — write a snapshot (or apply changes in place) and switch to it atomically;
- :class:`Snapshot` — ``lookup_by_pair``, ``lookup_by_qr``, ``search_institutions``, ``institution``.
"""

from __future__ import annotations

from .privacy import PairKind, mask_id, mask_name
from .publish import Manifest, publish
from .reader import CertificateView, Snapshot

__all__ = ["CertificateView", "Manifest", "PairKind", "Snapshot", "mask_id", "mask_name", "publish"]
