"""The site's Jinja2 environments: one per language, the words and the small partials folded in.

A template says ``{{ T.key }}`` for a word of the page's language (:class:`~verify.present.Messages`,
already HTML-escaped): the same on every page of that language, yet a look-up, an escape and a
new ``Markup`` on every request (the QR landing page prints some thirty). Each language gets its
own environment whose loader puts the word itself in place of each ``{{ T.key }}`` in a template's
source — exactly what rendering it would print. Anything else (``T.key`` inside a larger
expression or a ``{% with %}``, a key the site does not have, a word holding template syntax) is
left as written and runs as before, so an unknown key still fails loudly when the page renders.

The same loader writes a plain ``{% include "_partial.html" %}`` out as the partial's source when
the partial only prints and tests (no ``set``, ``macro``, ``block``, ``import`` or ``include`` of its
own, whose scope an include keeps apart): the partial sees the same names either way and prints the
same, without a template look-up and a new context per include on every request. The files stay
as they are: ``base.html`` blocks plus ``_partial.html`` files.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from jinja2 import BaseLoader, Environment, FileSystemLoader, select_autoescape

from .present import Messages

__all__ = ["environment"]

_WORD = re.compile(r"\{\{ *T\.(\w+) *\}\}")
_SYNTAX = ("{{", "}}", "{%", "%}", "{#", "#}")
_INCLUDE = re.compile(r'\{% *include +"(_[\w.]+\.html)" *%\}')
_SCOPED = re.compile(r"\{%-? *(set|macro|block|extends|include|import|from|call|filter)\b")


class _PageLoader(BaseLoader):
    """The templates of ``folder`` with each ``{{ T.key }}`` replaced by the word in ``words`` and
    each plain include of a partial that only prints replaced by the partial's source."""

    def __init__(self, folder: Path, words: Messages) -> None:
        self._files = FileSystemLoader(folder)
        self._words: dict[str, str] = {
            key: str(text) for key, text in vars(words).items() if not any(s in text for s in _SYNTAX)
        }

    def _word(self, m: re.Match[str]) -> str:
        return self._words.get(m.group(1), m.group(0))

    def _folded(self, environment: Environment, template: str) -> str:
        return _WORD.sub(self._word, self._files.get_source(environment, template)[0])

    def _inlined(self, environment: Environment, m: re.Match[str]) -> str:
        source = self._folded(environment, m.group(1))
        if _SCOPED.search(source):
            return m.group(0)
        # Jinja2 drops one trailing newline of every template it loads (keep_trailing_newline=False)
        return source[:-1] if source.endswith("\n") else source

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        _, filename, uptodate = self._files.get_source(environment, template)
        source = _INCLUDE.sub(lambda m: self._inlined(environment, m), self._folded(environment, template))
        return source, filename, uptodate


def environment(folder: Path, lang: str) -> Environment:
    """The environment for pages in ``lang`` (autoescape on; templates compiled once, never reloaded)."""
    return Environment(
        loader=_PageLoader(folder, Messages(lang)),
        autoescape=select_autoescape(["html", "svg"]),
        auto_reload=False,
    )
