"""The filed seal drawn alone, as a one-page vector PDF of its own size (40 mm by default).

The same Typst drawing as on the certificates (``lib.typ``'s ``seal``: red rim, the name on the
upper arc, the bottom text, Song face), so a seal put on an institution's own PDF by
``skillcert sign`` looks exactly like the one on its certificates. ``sign`` imports the page as
the signature widget's appearance; ``render`` never signs.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from pathlib import Path

from registry.models import Seal

from .engine import TEMPLATE_DIR
from .errors import RenderError
from .fonts import FONT_DIR, require_glyphs

__all__ = ["SEAL_MM", "seal_pdf"]

SEAL_MM = 40.0  # SPEC §2


@functools.lru_cache(maxsize=1)
def _compiler() -> object:
    import atexit

    import typst

    work = Path(tempfile.mkdtemp(prefix="skillcert-seal-"))
    atexit.register(shutil.rmtree, work, True)
    for name in ("lib.typ", "seal.typ"):
        shutil.copyfile(TEMPLATE_DIR / name, work / name)
    fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(FONT_DIR)])
    return typst.Compiler(input=str(work / "seal.typ"), root=str(work), font_paths=fonts)


def seal_pdf(seal: Seal, *, size_mm: float = SEAL_MM) -> bytes:
    """The seal as a PDF page ``size_mm`` square with a transparent background (vector, fonts subset)."""
    import typst

    require_glyphs({"seal": seal.text + seal.bottom}, (FONT_DIR,))
    comp = _compiler()
    data = json.dumps({"text": seal.text, "bottom": seal.bottom, "size": size_mm}, ensure_ascii=False)
    try:
        pdf, warnings = comp.compile_with_warnings(format="pdf", sys_inputs={"seal": data})  # type: ignore[attr-defined]
    except (typst.TypstError, RuntimeError) as e:
        msg = getattr(e, "message", str(e))
        raise RenderError(f"印章排版失败：{msg}", f"drawing the seal failed: {msg}") from e
    if warnings:
        msgs = "; ".join(str(w.message) for w in warnings)
        raise RenderError(f"印章排版警告（视为错误）：{msgs}", f"seal drawing warnings (treated as errors): {msgs}")
    assert isinstance(pdf, bytes)
    return pdf
