"""The one place where errors become exit codes and messages (and JSON for ``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from registry import Registry
from registry.errors import SkillcertError

from ..settings import Settings

__all__ = ["EXIT_CODES", "emit", "errors_mapped", "open_registry", "settings"]

EXIT_CODES = {
    0: "成功 success",
    1: "错误 error",
    2: "用法错误 usage error",
    3: "编号或证件号码无效 invalid number or ID",
    4: "违反规则 rule violation",
    5: "未找到 not found",
    6: "登记库不可用 registry unavailable",
    7: "导入被拒绝，未写入 import rejected, nothing written",
    8: "工作日历未覆盖 calendar not covered",
    10: "无法签章（issue：编号前即拒绝）sealing failed (issue: refused before numbering)",
    11: "批量中部分未完成，重跑续完 some of a batch failed; rerun to resume",
    12: "该机构已有签发在运行 another issue run holds the institution's lock",
    14: "审计核验未通过 audit verification failed",
}


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print ``data`` as JSON, or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        click.echo(text)


@contextmanager
def errors_mapped(as_json: bool = False) -> Iterator[None]:
    """Run one library call; turn a :class:`SkillcertError` into its message and exit code."""
    try:
        yield
    except SkillcertError as e:
        if as_json:
            click.echo(json.dumps(e.as_dict(), ensure_ascii=False, indent=2))
        click.echo(e.diagnostics(), err=True)
        sys.exit(e.exit_code)


def settings() -> Settings:
    with errors_mapped():
        return Settings.from_env()


def open_registry(s: Settings) -> Registry:
    return Registry.open(s.registry_path)
