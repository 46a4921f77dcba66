"""Every word a template reads as ``T.key`` (verify/present.py ``Messages``) is one the site has,
in both languages; an unknown one fails loudly, as ``t('key')`` does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verify.i18n import MESSAGES
from verify.present import Messages

TEMPLATES = Path(__file__).resolve().parent.parent / "verify" / "templates"


def test_every_word_a_template_reads_exists() -> None:
    used = {m for p in TEMPLATES.glob("*.html") for m in re.findall(r"\bT\.(\w+)", p.read_text(encoding="utf-8"))}
    assert used, "no template reads T.key"
    assert used <= set(MESSAGES), sorted(used - set(MESSAGES))


def test_messages_say_what_t_says() -> None:
    from markupsafe import escape

    from verify.i18n import translator

    for lang in ("zh", "en"):
        words, t = Messages(lang), translator(lang)
        assert all(getattr(words, key) == escape(t(key)) for key in MESSAGES)
        with pytest.raises(KeyError):
            _ = words.no_such_word
