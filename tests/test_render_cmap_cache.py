"""The per-file cache of font coverage: the same answer as fontTools, never a stale or damaged one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from render._cmap_cache import cached_points
from render.fonts import FONT_DIR, _file_points


def _never(path: Path) -> frozenset[int]:
    raise AssertionError(f"computed again: {path}")


@pytest.fixture
def font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SKILLCERT_CACHE_DIR", str(tmp_path / "cache"))
    dst = tmp_path / "fonts" / "LiberationSerif-Regular.ttf"
    dst.parent.mkdir()
    shutil.copyfile(FONT_DIR / "LiberationSerif-Regular.ttf", dst)
    return dst


def test_cached_coverage_is_what_fonttools_reads(font: Path) -> None:
    expected = _file_points(font)
    assert ord("A") in expected and 0x4E00 not in expected
    assert cached_points(font, _file_points) == expected
    assert cached_points(font, _never) == expected  # from disk now
    assert len(list((font.parent.parent / "cache" / "cmap").iterdir())) == 1


def test_a_changed_font_file_is_read_again(font: Path) -> None:
    cached_points(font, _file_points)
    st = font.stat()
    os.utime(font, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cached_points(font, lambda p: frozenset({1, 2, 3})) == frozenset({1, 2, 3})


@pytest.mark.parametrize("damage", ["flip", "truncate", "append"])
def test_a_damaged_cache_file_is_not_believed(font: Path, damage: str) -> None:
    expected = cached_points(font, _file_points)
    (file,) = (font.parent.parent / "cache" / "cmap").iterdir()
    blob = bytearray(file.read_bytes())
    if damage == "flip":
        blob[-3] ^= 0xFF  # one code point more or less
    elif damage == "truncate":
        del blob[-4:]
    else:
        blob += (0x4E00).to_bytes(4, "little")  # a CJK character the font does not have
    file.write_bytes(bytes(blob))
    assert cached_points(font, _file_points) == expected


def test_an_unwritable_cache_still_answers(font: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = font.parent.parent / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("SKILLCERT_CACHE_DIR", str(blocker))
    assert cached_points(font, _file_points) == _file_points(font)
