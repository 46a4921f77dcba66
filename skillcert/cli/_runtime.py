"""The one place where errors become exit codes and messages (and JSON for ``--json``).

Every exit of a command goes through :func:`errors_mapped` (an error: its class's
:class:`~registry.errors.ExitCode`) or :func:`finish` (an outcome: valid, audit failed, ...);
no other module calls ``sys.exit``. The numbers and their meanings are the one table
:class:`~registry.errors.ExitCode`; :data:`EXIT_CODES` is that table as the README lists it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from registry import Registry
from registry.errors import ExitCode, SkillcertError

from ..settings import Settings

if TYPE_CHECKING:
    from search_index import Snapshot

__all__ = [
    "EXIT_CODES",
    "INSTITUTION_HELP",
    "JSON_HELP",
    "OUT_HELP",
    "STYLE_HELP",
    "ExitCode",
    "emit",
    "errors_mapped",
    "finish",
    "next_step",
    "open_registry",
    "publish_next",
    "settings",
]

EXIT_CODES: dict[int, str] = {c.value: f"{c.zh} {c.en}" for c in ExitCode}


JSON_HELP = "输出 JSON（供脚本读取）/ print JSON for scripts"
INSTITUTION_HELP = "机构编码（13 位）/ institution code (13 characters)"
OUT_HELP = "新 PDF 的目录（默认 $SKILLCERT_HOME/out）/ folder for the new PDF (default: $SKILLCERT_HOME/out)"
STYLE_HELP = "证书样式（默认取机构备案的样式）/ certificate style (default: the institution's filed style)"


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print ``data`` as JSON, or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        click.echo(text)


def next_step(command: str, zh: str, en: str) -> str:
    """The line after a command's result that says what to do next (import → issue → publish)."""
    return f"下一步 next: {command}    # {zh} / {en}"


def publish_next(s: Settings, zh: str = "发布到查询网站", en: str = "publish to the verification site") -> str:
    """The publish step: incremental once a snapshot exists (an incremental publish needs one)."""
    current = s.home / "snapshots" / "current" / "manifest.json"
    return next_step("skillcert publish" + (" --incremental" if current.exists() else ""), zh, en)


@contextmanager
def errors_mapped(as_json: bool = False) -> Iterator[None]:
    """Run one library call; turn a :class:`SkillcertError` into its message and exit code."""
    try:
        yield
    except SkillcertError as e:
        if as_json:
            click.echo(json.dumps(e.as_dict(), ensure_ascii=False, indent=2))
        click.echo(e.diagnostics(), err=True)
        finish(e.exit_code)


def finish(code: ExitCode) -> NoReturn:
    """End the command with ``code`` (the only ``sys.exit`` of the CLI)."""
    sys.exit(int(code))


def settings() -> Settings:
    with errors_mapped():
        return Settings.from_env()


def open_registry(s: Settings) -> Registry:
    return Registry.open(s.registry_location, keys=s.keys_dir)


def current_snapshot(s: Settings) -> Snapshot | None:
    """The current snapshot under ``$SKILLCERT_HOME``, if one was published (the site's verdict)."""
    from search_index import Snapshot

    if not (s.home / "snapshots" / "current" / "manifest.json").exists():
        return None
    return Snapshot.open(s.home)
