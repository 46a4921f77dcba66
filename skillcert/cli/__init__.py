"""``skillcert`` command line: one module per command group."""

from __future__ import annotations

import click

from .. import __version__
from . import (
    audit,
    backupcmd,
    blanks,
    certificates,
    demo,
    idcheck,
    identitycmd,
    importcmd,
    init,
    institution,
    issuecmd,
    keyscmd,
    lifecycle,
    number,
    pkicmd,
    publishcmd,
    rendercmd,
    renewcmd,
    report,
    serve,
    signcmd,
    snapshotcmd,
    templatecmd,
    verifycmd,
    verifyqr,
)

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skillcert")
def cli() -> None:
    """skillcert：职业技能等级证书工具 / occupational skill level certificates.

    数据目录 Data lives in $SKILLCERT_HOME (default ./skillcert-data).
    """


for _cmd in (
    init.init,
    institution.institution,
    number.number,
    idcheck.id_group,
    templatecmd.template_cmd,
    importcmd.import_cmd,
    certificates.certificates,
    report.report,
    rendercmd.render_cmd,
    pkicmd.pki,
    identitycmd.identity,
    issuecmd.issue_cmd,
    verifycmd.verify_cmd,
    verifyqr.verify_qr_cmd,
    signcmd.sign_cmd,
    publishcmd.publish_cmd,
    snapshotcmd.snapshot,
    renewcmd.renew_cmd,
    serve.serve_cmd,
    demo.demo,
    audit.audit,
    backupcmd.backup_cmd,
    backupcmd.restore_cmd,
    keyscmd.keys,
    blanks.blanks,
    lifecycle.correct_cmd,
    lifecycle.revoke_cmd,
    lifecycle.suspend_cmd,
    lifecycle.unsuspend_cmd,
    lifecycle.reissue_cmd,
    lifecycle.proof_cmd,
    lifecycle.history_cmd,
):
    cli.add_command(_cmd)


def main() -> None:
    cli(prog_name="skillcert")
