"""After issue: correct, revoke, suspend / unsuspend, reissue, proof, history (SPEC §4)."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from registry import Registry
from registry._lifecycle_store import CorrectionField
from registry.errors import SkillcertError

from ..correction_form import write_correction_form
from ..lifecycle_job import deliver_again, issue_proof, redelivery
from ..settings import Settings
from ..site_url import check_site_url
from ._runtime import JSON_HELP, OUT_HELP, emit, errors_mapped, open_registry, publish_next, settings

_DATE = click.DateTime(["%Y-%m-%d"])
SERVICE_WORKDAYS = 5  # lost or damaged: done within 5 working days of the application (001_… 第十三条)


def _day(v: datetime | None) -> date:
    return v.date() if v else date.today()


def _out(s: Settings, out: Path | None) -> Path:
    return out or s.home / "out"


def _can_seal(s: Settings, reg: Registry, number: str) -> None:
    """Before a change that is sealed again: refuse (nothing recorded) when real keys would seal QR
    codes pointing at this machine (``skillcert.site_url``)."""
    code = reg.certificates.get(number).institution_code
    keys = [i for i in reg.seals.identities(code) if i.retired_at is None]
    check_site_url(reg.institutions.get(code), s.site_url, keys, allow=s.allow_local_site)


@click.command("correct")
@click.argument("number")
@click.option("--name", help="更正后的姓名 / the corrected name")
@click.option("--id-number", help="更正后的证件号码 / the corrected ID number")
@click.option("--photo", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="新照片 / new photo")
@click.option("--reason", required=True, help="更正原因（书面）/ the written reason")
@click.option("--approved-by", required=True, help="批准人或批准单位 / who approved it")
@click.option("--approval-ref", default="", help="批准文号 / approval reference")
@click.option("--on", "on", type=_DATE, help="更正日期（默认今天）/ date (default today)")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), help="新版本 PDF 目录 / folder for the new PDF"
)
@click.option(
    "--application", type=click.Path(path_type=Path, dir_okay=False), help="写出更正申请表 .xlsx / write the form"
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def correct_cmd(
    number: str,
    name: str | None,
    id_number: str | None,
    photo: Path | None,
    reason: str,
    approved_by: str,
    approval_ref: str,
    on: datetime | None,
    out: Path | None,
    application: Path | None,
    as_json: bool,
) -> None:
    """更正证书的姓名、证件号码或照片之一，重新生成并签章新版本 / correct one of name, ID number or photo;
    the certificate is rendered and sealed again as a new version of the same number."""
    s = settings()
    given = [(f, v) for f, v in ((CorrectionField.NAME, name), (CorrectionField.ID_NUMBER, id_number)) if v]
    if photo is not None:
        given.append((CorrectionField.PHOTO, str(photo)))
    with errors_mapped(as_json), open_registry(s) as reg:
        if len(given) != 1:
            raise SkillcertError(
                "每次只能更正一项：--name、--id-number 或 --photo",
                "correct exactly one item per request: --name, --id-number or --photo",
            )
        field, value = given[0]
        _can_seal(s, reg, number)
        c = reg.lifecycle.correct(
            number,
            field=field,
            value=None if field is CorrectionField.PHOTO else value,
            photo=photo.read_bytes() if photo is not None else None,
            reason=reason,
            approved_by=approved_by,
            approval_ref=approval_ref,
            on=_day(on),
            actor=s.actor,
        )
        summary = deliver_again(s, reg, c.institution_code, _out(s, out), today=_day(on))
        corr = reg.lifecycle.corrections(c.id)
        if application is not None:
            write_correction_form(application, reg.institutions.get(c.institution_code), [(c, corr[-1])])
    last = corr[-1]
    files = redelivery(_out(s, out), number, c.version, qr_renewed=False)
    emit(
        {
            "number": number,
            "field": last.field.value,
            "version": c.version,
            "delivered": summary.delivered,
            **files.as_dict(),
            "application": str(application) if application else None,
        },
        as_json,
        "\n".join(
            [
                f"已更正 corrected {number}: {last.field.value} → 第 {c.version} 版 version {c.version}; "
                f"已重新签章 re-sealed {summary.delivered}",
                *files.lines(),
                *([f"  更正申请表 application: {application}"] if application else []),
                _publish_next(),
            ]
        ),
    )


def _publish_next() -> str:
    return publish_next(settings(), "发布后查询网站才显示", "the sites show it once published")


_REASON_HELP = "内部原因：只记入审计日志，不公开 / internal reason: kept in the audit log, never published"
_PUBLIC_HELP = (
    "公开原因：查询网站上显示（不填则只显示状态和日期）/ public reason shown on the verification site "
    "(without it the site shows only the status and the date)"
)


def _public_view(status_zh: str, status_en: str, on: date, public_reason: str | None) -> str:
    """What the verification site will show for the certificate, said to the clerk before publishing."""
    shown = f"原因 reason: {public_reason}" if public_reason else "不显示原因 no reason shown (--public-reason)"
    return f"  公众将看到 the public will see: {status_zh} {status_en} · {on} · {shown}"


@click.command("revoke")
@click.argument("number")
@click.option("--reason", required=True, help=_REASON_HELP)
@click.option("--public-reason", help=_PUBLIC_HELP)
@click.option(
    "--benefits-cancelled-confirmed",
    is_flag=True,
    help="确认持证人相关待遇已取消 / confirm the holder's certificate-linked benefits were cancelled",
)
@click.option(
    "--commitment",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="持证人承诺书扫描件 / the holder's commitment letter (004_… 附件5-2)",
)
@click.option("--on", "on", type=_DATE, help="撤销日期（默认今天）/ revocation date (default today)")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def revoke_cmd(
    number: str,
    reason: str,
    public_reason: str | None,
    benefits_cancelled_confirmed: bool,
    commitment: Path | None,
    on: datetime | None,
    as_json: bool,
) -> None:
    """撤销证书（逻辑删除，数据保留）/ revoke a certificate (logically: nothing is deleted)."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        sha = None
        if commitment is not None:
            data = commitment.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            keep = s.home / "commitments" / f"{sha}{commitment.suffix.lower()}"
            keep.parent.mkdir(parents=True, exist_ok=True)
            if not keep.exists():
                shutil.copyfile(commitment, keep)
        reg.lifecycle.revoke(
            number,
            reason=reason,
            on=_day(on),
            benefits_cancelled=benefits_cancelled_confirmed,
            commitment_sha256=sha,
            actor=s.actor,
            public_reason=public_reason,
        )
    public = (public_reason or "").strip() or None
    emit(
        {
            "number": number,
            "status": "revoked",
            "on": _day(on).isoformat(),
            "commitment_sha256": sha,
            "public": {"status": "revoked", "date": _day(on).isoformat(), "reason": public},
        },
        as_json,
        "\n".join(
            [
                f"已撤销 revoked {number} ({_day(on)}); 内部原因只记入审计日志 the internal reason stays in the audit log",
                _public_view("已撤销", "revoked", _day(on), public),
                _publish_next(),
            ]
        ),
    )


def _status_cmd(name: str, doc: str) -> click.Command:
    def cmd(number: str, reason: str, on: datetime | None, as_json: bool, public_reason: str | None = None) -> None:
        s = settings()
        public = (public_reason or "").strip() or None
        with errors_mapped(as_json), open_registry(s) as reg:
            if name == "suspend":
                reg.lifecycle.suspend(number, reason=reason, on=_day(on), actor=s.actor, public_reason=public)
            else:
                reg.lifecycle.unsuspend(number, reason=reason, on=_day(on), actor=s.actor)
            status = reg.certificates.get(number).status.value
        lines = [f"{number}: {status}"]
        if name == "suspend":
            lines.append(_public_view("已暂停", "suspended", _day(on), public))
        lines.append(_publish_next())
        emit({"number": number, "status": status}, as_json, "\n".join(lines))

    decorated = click.option("--json", "as_json", is_flag=True, help=JSON_HELP)(cmd)
    decorated = click.option("--on", "on", type=_DATE, help="日期（默认今天）/ date (default today)")(decorated)
    if name == "suspend":
        decorated = click.option("--public-reason", help=_PUBLIC_HELP)(decorated)
    decorated = click.option("--reason", required=True, help=_REASON_HELP)(decorated)
    return click.command(name, help=doc)(click.argument("number")(decorated))


suspend_cmd = _status_cmd(
    "suspend", "暂停可疑证书的查询（004_… 第十七条）/ suspend a suspicious certificate from query."
)
unsuspend_cmd = _status_cmd("unsuspend", "解除暂停 / lift a suspension.")


@click.command("reissue")
@click.argument("number")
@click.option("--applied-on", type=_DATE, required=True, help="持证人申请日期 / the application date")
@click.option("--on", "on", type=_DATE, help="补发日期（默认今天）/ replacement date (default today)")
@click.option("--damaged-returned", is_flag=True, help="已收回损坏的原证书 / the damaged original was taken back")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help=OUT_HELP)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def reissue_cmd(
    number: str, applied_on: datetime, on: datetime | None, damaged_returned: bool, out: Path | None, as_json: bool
) -> None:
    """补发证书：同一编号，注明补发日期，重新签章 / reissue: same number, with the replacement date, sealed."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        cal = s.calendar()
        due = cal.add_workdays(applied_on.date(), SERVICE_WORKDAYS)
        prov = bool(cal.provisional_between(applied_on.date(), due))  # counted on statutory holidays only
        _can_seal(s, reg, number)
        c = reg.lifecycle.reissue(
            number,
            applied_on=applied_on.date(),
            on=_day(on),
            service_due=due,
            damaged_returned=damaged_returned,
            actor=s.actor,
        )
        summary = deliver_again(s, reg, c.institution_code, _out(s, out), today=_day(on))
    late = _day(on) > due
    files = redelivery(_out(s, out), number, c.version, qr_renewed=True)
    emit(
        {
            "number": number,
            "version": c.version,
            "replacement_date": _day(on).isoformat(),
            "service_due": due.isoformat(),
            "service_due_provisional": prov,
            "within_service_time": not late,
            "delivered": summary.delivered,
            **files.as_dict(),
        },
        as_json,
        "\n".join(
            [
                f"已补发 reissued {number} ({_day(on)}), 第 {c.version} 版 version {c.version}",
                *files.lines(),
                f"  办理时限 service due {due}"
                + (" 暂定 provisional" if prov else "")
                + (" — 已超时 LATE" if late else " ✓"),
                _publish_next(),
            ]
        ),
    )


@click.command("proof")
@click.argument("number")
@click.option("--applied-on", type=_DATE, required=True, help="持证人申请日期 / the application date")
@click.option("--on", "on", type=_DATE, help="出具日期（默认今天）/ date of the proof (default today)")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help=OUT_HELP)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def proof_cmd(number: str, applied_on: datetime, on: datetime | None, out: Path | None, as_json: bool) -> None:
    """出具职业技能等级证书证明（遗失、损坏）/ issue a sealed lost-certificate proof document."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        cal = s.calendar()
        due = cal.add_workdays(applied_on.date(), SERVICE_WORKDAYS)
        prov = bool(cal.provisional_between(applied_on.date(), due))
        r = issue_proof(
            s, reg, number, applied_on=applied_on.date(), on=_day(on), service_due=due, out=_out(s, out) / "proofs"
        )
    emit(
        {
            "number": number,
            "proof_number": r.proof.proof_number,
            "pdf": str(r.path),
            "sha256": r.sha256,
            "service_due": due.isoformat(),
            "service_due_provisional": prov,
            "within_service_time": _day(on) <= due,
        },
        as_json,
        f"已出具证明 proof {r.proof.proof_number} for {number} → {r.path}\n  办理时限 service due {due}"
        + (" 暂定 provisional" if prov else ""),
    )


@click.command("history")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def history_cmd(number: str, as_json: bool) -> None:
    """证书的全部版本、更正、证明和事件 / every version, correction, proof and event of a certificate."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        c = reg.certificates.get(number)
        data: dict[str, Any] = {
            "number": number,
            "status": c.status.value,
            "version": c.version,
            "versions": reg.lifecycle.version_history(c.id),
            "corrections": [
                {"field": k.field.value, "before": k.before, "after": k.after, "on": k.on, "version": k.version}
                for k in reg.lifecycle.corrections(c.id)
            ],
            "proofs": [
                {"proof_number": p.proof_number, "issued_on": p.issued_on.isoformat()}
                for p in reg.lifecycle.proofs(c.id)
            ],
            "events": [
                {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action}
                for e in reg.audit.entries(entity="certificate", key=str(c.id))
            ],
        }
    emit(
        data,
        as_json,
        "\n".join(
            [
                f"{number}: {c.status.value}, 第 {c.version} 版 version {c.version}",
                *(f"  {e['seq']:>7} {e['at']} {e['action']:14} {e['actor']}" for e in data["events"]),
            ]
        ),
    )
