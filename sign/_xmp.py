"""Keep a document's own XMP and Info dictionary through pyHanko's incremental writes.

Each incremental save by pyHanko (a seal, its DSS update, a document timestamp) re-serialises an
existing ``/Metadata`` stream with its own XMP writer to bump ``xmp:ModifyDate`` and
``pdf:Producer``. That writer declares namespaces on inner elements and writes
``pdfaSchema:namespaceURI`` as an ``rdf:resource``: PDF/A validators then no longer find the
PDF/A extension schemas (PDFBox Preflight 7.3, ISO 19005-3 §6.6.2.3) although the renderer wrote
them correctly. A signature says when it was made; the metadata need not. While
:func:`keep_metadata` is active, a writer whose document already carries XMP leaves both the XMP
and the Info dictionary as they are, so the two stay equivalent as PDF/A requires.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["keep_metadata"]

_KEEP: ContextVar[bool] = ContextVar("skillcert_keep_metadata", default=False)
_installed = False


def _install() -> None:
    """Wrap pyHanko's ``BasePdfFileWriter._update_meta`` once; it obeys :data:`_KEEP`."""
    global _installed
    if _installed:
        return
    from pyhanko.pdf_utils.writer import BasePdfFileWriter

    original = BasePdfFileWriter._update_meta

    def _update_meta(self: Any) -> None:
        if _KEEP.get() and "/Metadata" in self.root:
            return
        original(self)

    BasePdfFileWriter._update_meta = _update_meta  # type: ignore[method-assign]
    _installed = True


@contextmanager
def keep_metadata() -> Iterator[None]:
    """pyHanko writers inside this block (in this thread or task) leave existing XMP untouched."""
    _install()
    token = _KEEP.set(True)
    try:
        yield
    finally:
        _KEEP.reset(token)
