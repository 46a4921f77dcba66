"""Fonts: the shipped faces, an institution's own, and the check that every character prints.

Shipped (``render/fonts/``, licences in ``render/fonts/licenses/``): LXGW WenKai (Kai, OFL),
FandolFang (仿宋 FangSong for the filled values, GPL-3 with the font exception), Liberation Serif
(Times New Roman metrics, OFL), AR PL SungtiL GB (Song, for the seal text, Arphic Public
License), HanaMinA (subset to what WenKai lacks) and HanaMinB (CJK Extension B+), the Hanazono
fallback for rare name characters (Hanazono Font License / OFL).

The filled values are set in 仿宋 (``000_…`` 第九条): an institution's own FangSong face (a font
in its ``font_dirs`` whose family is named like FangSong / 仿宋, e.g. Windows' "FangSong" or
"FangSong_GB2312") comes first, then FandolFang. FandolFang has all 6,763 GB 2312 characters
but not every name character (堃 喆 镕 …): those print in the Kai fallback, and
:func:`fangsong_gaps` says so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from registry.errors import Problem

from ._cmap_cache import cached_points
from .errors import MissingGlyph

__all__ = [
    "FONT_DIR",
    "SHIPPED_FANGSONG",
    "coverage",
    "fangsong_faces",
    "fangsong_gaps",
    "font_files",
    "missing_glyphs",
    "require_glyphs",
]

FONT_DIR = Path(__file__).parent / "fonts"
SHIPPED_FANGSONG = "FandolFang R"  # the family name Typst gives FandolFang-Regular.otf
_SHIPPED_FANGSONG_FILE = FONT_DIR / "FandolFang-Regular.otf"
_FANGSONG_NAME = re.compile(r"fang[\s_-]*song|仿宋", re.IGNORECASE)
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
# characters that are layout, not glyphs
_IGNORED = frozenset(" \t\n\u00a0\u200b\u200c\u200d\ufeff")


def font_files(dirs: Iterable[Path]) -> list[Path]:
    return sorted(p for d in dirs for p in Path(d).rglob("*") if p.suffix.lower() in _FONT_SUFFIXES)


@functools.lru_cache(maxsize=8)
def coverage(dirs: tuple[Path, ...]) -> frozenset[int]:
    """Every code point some font in ``dirs`` has a glyph for (read from the cmap tables only)."""
    return _points(tuple(font_files(dirs)))


@functools.lru_cache(maxsize=8)
def _points(files: tuple[Path, ...]) -> frozenset[int]:
    points: set[int] = set()
    for path in files:
        points.update(cached_points(path, _file_points))  # ≈ 0.6 s for the shipped fonts, once per machine
    return frozenset(points)


def _file_points(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    points: set[int] = set()
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


def fangsong_faces(
    fonts: Iterable[tuple[str, Path]], own_dirs: Iterable[Path]
) -> tuple[tuple[str, ...], tuple[Path, ...]]:
    """The FangSong families to set values in, best first, and their files.

    ``fonts`` are (family as Typst names it, file) pairs; a font in one of ``own_dirs`` (the
    institution's) whose family looks like FangSong / 仿宋 comes before the shipped FandolFang.
    """
    own = [Path(d).resolve() for d in own_dirs]
    families: list[str] = []
    files: list[Path] = []
    for family, path in fonts:
        p = Path(path).resolve()
        if any(p.is_relative_to(d) for d in own) and _FANGSONG_NAME.search(family):
            files.append(p)
            if family not in families:
                families.append(family)
    return (*families, SHIPPED_FANGSONG), (*files, _SHIPPED_FANGSONG_FILE)


def fangsong_gaps(fields: Mapping[str, str], files: tuple[Path, ...]) -> tuple[Problem, ...]:
    """One warning per field whose Chinese characters the FangSong faces lack (they print in the
    Kai fallback instead)."""
    have = _points(files)
    out: list[Problem] = []
    for field, value in fields.items():
        gaps = "".join(c for c in dict.fromkeys(value) if ord(c) >= 0x2E80 and ord(c) not in have)
        if gaps:
            out.append(
                Problem(
                    zh=f"“{gaps}”不在仿宋字体中，以楷体（后备字体）印出；要全部用仿宋，请在 settings.toml 的 "
                    "[render] font_dirs 中加入含这些字的已授权仿宋字体",
                    en=f"{gaps!r} is not in the FangSong (仿宋) face and prints in the Kai fallback; to print it "
                    "in FangSong, add a licensed FangSong font that has it to [render] font_dirs in settings.toml",
                    field=field,
                )
            )
    return tuple(out)
