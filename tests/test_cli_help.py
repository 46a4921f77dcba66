"""Every option of every command explains itself, in Chinese and in English (issue 13, item 12)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click

from skillcert.cli import cli

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _commands(cmd: click.Command, path: str = "skillcert") -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from _commands(sub, f"{path} {name}")


# what is not English prose: `code`, $VARIABLES, paths, --options, placeholders like FILE or KIND
_NOT_PROSE = re.compile(r"`[^`]*`|\$[A-Z_]+|\S*/\S*|--[\w-]+|\b[A-Z][A-Z0-9_]+\b")
_ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def _bilingual(text: str | None) -> bool:
    """Chinese, and English words besides names, paths and placeholders (``$SKILLCERT_HOME/out``
    alone is not English)."""
    return bool(text and _CJK.search(text) and _ENGLISH_WORD.search(_NOT_PROSE.sub(" ", _CJK.sub(" ", text))))


def test_every_option_has_bilingual_help() -> None:
    missing = []
    seen = 0
    for path, cmd in _commands(cli):
        if not _bilingual(cmd.help):
            missing.append(f"{path}: the command's own help")
        for p in cmd.params:
            if isinstance(p, click.Option) and p.name not in ("help", "version"):
                seen += 1
                if not _bilingual(p.help):
                    missing.append(f"{path} {p.opts[0]}: {p.help!r}")
    assert seen > 100
    assert missing == [], "\n".join(missing)


def test_the_walker_sees_a_missing_help() -> None:
    @click.command()
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--out", help="输出目录 / output folder")
    @click.option("--x", help="only English")
    def c(as_json: bool, out: str, x: str) -> None:
        """测试 / test."""

    bad = [p.opts[0] for p in c.params if isinstance(p, click.Option) and not _bilingual(p.help)]
    assert bad == ["--json", "--x"]
