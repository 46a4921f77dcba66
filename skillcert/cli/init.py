from __future__ import annotations

import click

from registry import Registry

from ..keys_job import first_data_key
from ..settings import SETTINGS_TEMPLATE
from ._runtime import emit, errors_mapped, settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="机器可读输出 / machine-readable output")
def init(as_json: bool) -> None:
    """创建数据目录和登记库 / create the data directory and the registry."""
    s = settings()
    with errors_mapped(as_json):
        existed = s.registry_url is None and s.registry_path.exists()
        s.home.mkdir(parents=True, exist_ok=True)
        if not s.settings_path.exists():
            s.settings_path.write_text(SETTINGS_TEMPLATE, encoding="utf-8")
        first_data_key(s)
        with Registry.create(s.registry_location, keys=s.keys_dir) as reg:
            existed = existed or (s.registry_url is not None and reg.schema_version > 0 and _was_there(reg))
            version, reg_where = reg.schema_version, reg.where
    verb = "已存在 exists" if existed else "已创建 created"
    emit(
        {"home": str(s.home), "registry": reg_where, "schema_version": version, "created": not existed},
        as_json,
        f"登记库{verb}: {reg_where} (schema {version})",
    )


def _was_there(reg: Registry) -> bool:
    """A PostgreSQL registry that already held entries before this ``init``."""
    return reg.audit.head()[0] > 0
