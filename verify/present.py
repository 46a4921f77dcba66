"""How a check report reads to a person: three groups of checks, one line per seal, Beijing time.

The JSON API gives every check by name (``filed_key``, ``record_match`` …); a page groups them the
way people ask: *is the document unchanged?* · *was it sealed with a filed institution's key?* ·
*does the register say it is current?* Failing groups come first and the verdict banner names
them. Each seal is one line, like a PDF reader's signature panel: who, when, valid or not.
Times are shown in Beijing time (UTC+8, Asia/Shanghai: China keeps no daylight saving time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sign import Check, Outcome
from sign.status import SignatureReport

from .check import CheckReport

__all__ = [
    "BEIJING",
    "CheckGroup",
    "Messages",
    "SealLine",
    "beijing_iso",
    "beijing_time",
    "check_groups",
    "seal_lines",
]

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# which group each check belongs to; a check name not listed here falls in "sealed"
_GROUP_OF: dict[str, str] = {
    "integrity": "unchanged",
    "modifications": "unchanged",
    "record_match": "unchanged",
    "delivered_copy": "unchanged",
    "signed": "sealed",
    "chain": "sealed",
    "revocation": "sealed",
    "timestamp": "sealed",
    "filed_key": "sealed",
    "ades": "sealed",
    "seals": "sealed",
    "institution": "sealed",
    "scope": "sealed",
    "record": "current",
    "registered": "current",
    "status": "current",
    "status_list": "current",  # a credential's Bitstring Status Lists (verify.credential_check)
}
GROUPS = ("unchanged", "sealed", "current")
_RANK = {Outcome.FAIL: 0, Outcome.UNKNOWN: 1, Outcome.PASS: 2, Outcome.NOT_APPLICABLE: 3}


@dataclass(frozen=True, slots=True)
class CheckGroup:
    key: str  # unchanged · sealed · current (the i18n keys are group_<key>_<outcome>)
    outcome: Outcome
    checks: tuple[Check, ...]

    @property
    def problems(self) -> tuple[Check, ...]:
        """The checks that did not pass, failing ones first (what the group shows under its title)."""
        bad = [c for c in self.checks if c.outcome in (Outcome.FAIL, Outcome.UNKNOWN)]
        if self.outcome is Outcome.UNKNOWN and not bad:  # unknown because essentials went unchecked
            bad = [c for c in self.checks if c.outcome is Outcome.NOT_APPLICABLE]
        return tuple(sorted(bad, key=lambda c: _RANK[c.outcome]))

    @property
    def not_checked(self) -> tuple[Check, ...]:
        """Checks that did not apply (shown instead of the group's summary, which would claim them)."""
        return tuple(c for c in self.checks if c.outcome is Outcome.NOT_APPLICABLE)


def _outcome(checks: Iterable[Check]) -> Outcome:
    outcomes = {c.outcome for c in checks}
    for o in (Outcome.FAIL, Outcome.UNKNOWN, Outcome.PASS):
        if o in outcomes:
            return o
    return Outcome.NOT_APPLICABLE


def _group(c: Check) -> str:
    # ETSI's HASH_FAILURE says the signed bytes changed: the document, not the seal, is at fault
    if c.name == "ades" and c.outcome is Outcome.FAIL and "HASH_FAILURE" in c.en:
        return "unchanged"
    return _GROUP_OF.get(c.name, "sealed")


# a seal whose chain, revocation or filed key went unchecked is not known to be a filed institution's
_SEAL_ESSENTIAL = frozenset({"chain", "revocation", "filed_key"})


def _group_outcome(key: str, checks: list[Check]) -> Outcome:
    outcome = _outcome(checks)
    unchecked = any(c.name in _SEAL_ESSENTIAL and c.outcome is Outcome.NOT_APPLICABLE for c in checks)
    return Outcome.UNKNOWN if outcome is Outcome.PASS and key == "sealed" and unchecked else outcome


def check_groups(report: CheckReport) -> list[CheckGroup]:
    """The three groups (only those with checks), failing first, then unknown, then passed."""
    members: dict[str, list[Check]] = {g: [] for g in GROUPS}
    for c in report.checks:
        members[_group(c)].append(c)
    groups = [CheckGroup(g, _group_outcome(g, cs), tuple(cs)) for g, cs in members.items() if cs]
    return sorted(groups, key=lambda g: (_RANK[g.outcome], GROUPS.index(g.key)))


@dataclass(frozen=True, slots=True)
class SealLine:
    """One seal as a signature panel shows it."""

    signer: str
    time: str | None  # Beijing time, ``YYYY-MM-DD HH:MM:SS``
    timestamped: bool  # the time is a trusted timestamp's (else the signer's own claim)
    outcome: Outcome  # pass · fail · unknown
    problems: tuple[Check, ...]  # what did not pass
    fingerprint: str


def seal_lines(report: CheckReport) -> list[SealLine]:
    if report.seal is None:
        return []
    return [_line(s) for s in report.seal.signatures]


def _line(s: SignatureReport) -> SealLine:
    when = s.timestamp_time or s.signing_time
    outcome = _outcome(s.checks)
    bad = tuple(c for c in s.checks if c.outcome in (Outcome.FAIL, Outcome.UNKNOWN))
    return SealLine(
        signer=s.signer,
        time=beijing_time(when) if when else None,
        timestamped=s.timestamp_time is not None,
        outcome=Outcome.PASS if outcome is Outcome.NOT_APPLICABLE else outcome,
        problems=tuple(sorted(bad, key=lambda c: _RANK[c.outcome])),
        fingerprint=s.fingerprint,
    )


def beijing_time(value: str | datetime | None, seconds: bool = True) -> str:
    """An ISO time (UTC, or with its offset; naive means UTC) as ``YYYY-MM-DD HH:MM[:SS]`` in Beijing."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def beijing_iso(moment: datetime) -> str:
    """The machine-readable form for ``<time datetime=…>``."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


class Messages:
    """The site's words in one language as attributes, for templates: ``{{ T.site_name }}`` says what
    ``{{ t('site_name') }}`` says, as a plain attribute read instead of a Jinja2 call (the QR
    landing page reads some thirty of them), already HTML-escaped. An unknown name raises ``KeyError``, as ``t`` does,
    instead of rendering nothing. Words with values to fill in stay ``t('key', n=…)``."""

    def __init__(self, lang: str) -> None:
        from markupsafe import escape

        from .i18n import MESSAGES

        i = 1 if lang == "en" else 0  # escaped once here, not on every page (the page shows the same)
        self.__dict__.update({key: escape(texts[i]) for key, texts in MESSAGES.items()})

    def __getattr__(self, name: str) -> str:  # only for names that are not messages
        raise KeyError(name)
