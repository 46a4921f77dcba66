"""Fonts: the shipped faces, an institution's own, and the check that every character prints.

Shipped (``render/fonts/``, licences in ``render/fonts/licenses/``): LXGW WenKai (Kai, OFL),
Liberation Serif (Times New Roman metrics, OFL), AR PL SungtiL GB (Song, for the seal text,
Arphic Public License), HanaMinA (subset to what WenKai lacks) and HanaMinB (CJK Extension B+),
the Hanazono fallback for rare name characters (Hanazono Font License / OFL).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import MissingGlyph

__all__ = ["FONT_DIR", "coverage", "font_files", "missing_glyphs", "require_glyphs"]

FONT_DIR = Path(__file__).parent / "fonts"
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
# characters that are layout, not glyphs
_IGNORED = frozenset(" \t\n\u00a0\u200b\u200c\u200d\ufeff")


def font_files(dirs: Iterable[Path]) -> list[Path]:
    return sorted(p for d in dirs for p in Path(d).rglob("*") if p.suffix.lower() in _FONT_SUFFIXES)


@functools.lru_cache(maxsize=8)
def coverage(dirs: tuple[Path, ...]) -> frozenset[int]:
    """Every code point some font in ``dirs`` has a glyph for (read from the cmap tables only)."""
    from fontTools.ttLib import TTCollection, TTFont

    points: set[int] = set()
    for path in font_files(dirs):
        if path.suffix.lower() in (".ttc", ".otc"):
            with TTCollection(path, lazy=True) as coll:
                for font in coll.fonts:
                    points.update(font.getBestCmap() or {})
        else:
            with TTFont(path, lazy=True) as font:
                points.update(font.getBestCmap() or {})
    return frozenset(points)


def missing_glyphs(fields: Mapping[str, str], dirs: tuple[Path, ...]) -> list[tuple[str, str]]:
    have = coverage(dirs)
    out: list[tuple[str, str]] = []
    for field, value in fields.items():
        for c in dict.fromkeys(value):
            if c not in _IGNORED and ord(c) not in have:
                out.append((field, c))
    return out


def require_glyphs(fields: Mapping[str, str], dirs: tuple[Path, ...]) -> None:
    missing = missing_glyphs(fields, dirs)
    if missing:
        raise MissingGlyph(missing)
