"""Errors of the renderer (subclasses of the one base in ``registry.errors``)."""

from __future__ import annotations

from registry.errors import ExitCode, Problem, SkillcertError

__all__ = ["MissingGlyph", "PhotoRejected", "RecordRejected", "RenderError"]


class RenderError(SkillcertError):
    """The document could not be rendered (template error, Typst warning)."""

    exit_code = ExitCode.RENDER_FAILED


class MissingGlyph(RenderError):
    """A character of the record has no glyph in any configured font: never print a blank box."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        chars = "、".join(f"“{c}”(U+{ord(c):04X}，{f})" for f, c in missing)
        chars_en = ", ".join(f"{c!r} (U+{ord(c):04X}, {f})" for f, c in missing)
        super().__init__(
            f"字体中没有这些字符，无法打印：{chars}；请在设置中增加包含它们的字体",
            f"no configured font has these characters: {chars_en}; add a font that has them in the settings",
            problems=[
                Problem(zh=f"“{c}”无字形", en=f"no glyph for {c!r} (U+{ord(c):04X})", field=f) for f, c in missing
            ],
        )
        self.missing = missing


class PhotoRejected(RenderError):
    """The photo cannot be used (missing, unreadable, too small)."""


class RecordRejected(SkillcertError):
    """A PDF's embedded certificate record is oversized, oddly encoded or malformed."""

    exit_code = ExitCode.UNREADABLE_PDF
