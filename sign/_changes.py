"""What was changed after each seal, revision by revision, and whether our policy accepts it.

pyHanko's difference analysis says *what kind* of change a revision makes; it is not our policy.
It calls a new unsigned signature widget with an appearance "form filling", and a viewer that
draws widgets shows whatever that appearance paints (FIELD-NOTES). Our rule (DESIGN, Verdicts):
after a seal the only changes accepted are

- validation data (the DSS and its VRI entries) and invisible document timestamps — pyHanko's
  ``LTA_UPDATES`` level, and
- the registered second seal of style (二): a revision at ``FORM_FILLING`` level is accepted only
  when it is exactly the revision a later seal signed, that seal is good (intact, trusted, not
  revoked, allowed algorithms, a filed key of the institution), and the only form field it touched
  is that seal's own field.

Anything else — annotations, other widgets or fields, page content, pages, actions, catalog
entries, bytes that do not parse as a revision — fails. A certification signature's DocMDP level
and every FieldMDP lock bind all later revisions. Each revision is compared with the one before
it, so every object it adds or replaces must be explained on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .status import Check, Outcome

__all__ = ["Change", "Revision", "SealStanding", "judge_changes", "review_revisions", "tail_problem"]


class Change(IntEnum):
    """What a revision changed, from least to most (pyHanko's ``ModificationLevel``, plus parse failures)."""

    NONE = 0
    VALIDATION_DATA = 1  # DSS, VRI, invisible document timestamps
    FORM_FIELDS = 2
    ANNOTATIONS = 3
    OTHER = 4


@dataclass(frozen=True, slots=True)
class Revision:
    index: int
    change: Change
    fields: frozenset[str]  # form fields the revision created or changed
    problem: str = ""  # pyHanko's account of a change it could not explain


@dataclass(frozen=True, slots=True)
class SealStanding:
    """How a seal stands, for judging the revision it signed as part of an earlier seal's document."""

    revision: int
    field: str
    signer: str
    good: bool | None  # None: its key could not be compared with a filing
    docmdp: int | None  # a certification signature's permission level (1, 2, 3)
    locks: Any  # pyHanko FieldMDPSpec or None


_LEVELS = {"NONE": Change.NONE, "LTA_UPDATES": Change.VALIDATION_DATA, "FORM_FILLING": Change.FORM_FIELDS}


def _policy() -> Any:
    """pyHanko's standard rules, but an object no one can reach is not waved through: nothing a
    legitimate update adds after a seal is unreachable, and a hidden payload has no business there."""
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, StandardDiffPolicy

    return StandardDiffPolicy(
        global_rules=DEFAULT_DIFF_POLICY.global_rules,
        form_rule=DEFAULT_DIFF_POLICY.form_rule,
        reject_object_freeing=True,
        ignore_orphaned_objects=False,
        ignore_identical_objects=True,
    )


def review_revisions(reader: Any, after: int, standings: Sequence[SealStanding]) -> tuple[Revision, ...]:
    """Each revision after ``after``, compared with the one before it."""
    from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
    from pyhanko.sign.fields import MDPPerm

    policy = _policy()
    timestamps: dict[int, frozenset[str]] = {}  # revision -> the document timestamp fields it signs
    for sig in reader.embedded_signatures:
        if str(sig.sig_object_type) == "/DocTimeStamp":
            timestamps[sig.signed_revision] = timestamps.get(sig.signed_revision, frozenset()) | {sig.field_name}

    out = []
    for k in range(after + 1, reader.xrefs.total_revisions):
        certified = [s.docmdp for s in standings if s.docmdp is not None and s.revision < k]
        doc_mdp = MDPPerm(min(certified)) if certified else None
        try:
            result = policy.apply(
                old=reader.get_historical_resolver(k - 1),
                new=reader.get_historical_resolver(k),
                field_mdp_spec=None,
                doc_mdp=doc_mdp,
            )
        except SuspiciousModification as e:
            out.append(Revision(k, Change.OTHER, frozenset(), _short(str(e))))
            continue
        except Exception as e:  # a revision that does not even read is not a valid revision
            out.append(Revision(k, Change.OTHER, frozenset(), f"the revision cannot be read ({type(e).__name__})"))
            continue
        level = result.modification_level
        change = _LEVELS.get(level.name, Change.ANNOTATIONS if level == ModificationLevel.ANNOTATIONS else Change.OTHER)
        changed = frozenset(result.changed_form_fields)
        if (
            change is Change.FORM_FIELDS
            and changed
            and changed <= timestamps.get(k, frozenset())
            and all(_blank_timestamp_widget(reader.get_historical_resolver(k), name) for name in changed)
        ):
            change = Change.VALIDATION_DATA  # our own document timestamp, with its empty /AP
        try:
            meta = metadata_problem(reader, k)
        except Exception as e:  # unreadable XMP or Info in a later revision
            meta = f"the metadata cannot be read ({type(e).__name__})"
        if meta is not None:
            out.append(Revision(k, Change.OTHER, frozenset(), meta))
            continue
        out.append(Revision(k, change, changed))
    return tuple(out)


# exactly what sign.seal gives a document timestamp's widget; anything more (an action, other
# appearances, a border) is a form change like any other
_TIMESTAMP_WIDGET_KEYS = frozenset({"/AP", "/F", "/FT", "/P", "/Rect", "/Subtype", "/T", "/Type", "/V"})


def _blank_timestamp_widget(resolver: Any, name: str) -> bool:
    """Is field ``name`` an invisible widget whose only appearance is an empty form XObject?

    pyHanko calls any new widget with an appearance stream "form filling", since an appearance can
    paint over the page. One that has a zero-size /Rect and draws nothing (empty content, no
    resources, no other appearance states) cannot, so the revision that adds it together with
    the document timestamp it carries is validation data.
    """
    root = _deref(resolver, resolver.root)
    fields = _deref(resolver, _deref(resolver, root.get("/AcroForm", {})).get("/Fields", []))
    for ref in fields:
        widget = _deref(resolver, ref)
        if widget.get("/T") != name:
            continue
        if set(widget.keys()) != _TIMESTAMP_WIDGET_KEYS or widget.get("/Subtype") != "/Widget":
            return False
        rect = [float(_deref(resolver, v)) for v in _deref(resolver, widget["/Rect"])]
        ap = _deref(resolver, widget["/AP"])
        if len(rect) != 4 or rect[2] - rect[0] or rect[3] - rect[1] or set(ap.keys()) != {"/N"}:
            return False
        normal = _deref(resolver, ap["/N"])
        resources = _deref(resolver, normal.get("/Resources", {}))
        return bool(normal.get("/Subtype") == "/Form" and not resources and not normal.data.strip())
    return False


_VOLATILE = frozenset({"ModDate", "Producer", "ModifyDate", "MetadataDate", "InstanceID", "DocumentID", "xmptk"})
# how RDF is written, not what it says: pyHanko's XMP writer (any incremental save by pyHanko
# without sign._xmp.keep_metadata) re-serialises the same properties in another RDF form
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_RDF_RESOURCE = _RDF + "resource"
_RDF_SYNTAX = frozenset({_RDF + "parseType", _RDF + "about"})


def _xmp_facts(resolver: Any) -> frozenset[tuple[str, str]] | None:
    """The XMP's properties (namespace-qualified leaf elements and attributes) but the dates and
    producer every incremental save rewrites; ``None`` when there is no XMP."""
    import xml.etree.ElementTree as ET

    if "/Metadata" not in resolver.root:
        return None
    tree = ET.fromstring(_deref(resolver, resolver.root.raw_get("/Metadata")).data)
    facts = set()
    for el in tree.iter():
        local = el.tag.rsplit("}", 1)[-1]
        for k, v in el.attrib.items():
            if k == _RDF_RESOURCE:  # <p rdf:resource="v"/> says what <p>v</p> says
                facts.add((el.tag, v.strip()))
            elif k not in _RDF_SYNTAX and k.rsplit("}", 1)[-1] not in _VOLATILE:
                facts.add((k, v.strip()))
        if len(el) == 0 and local not in _VOLATILE and (el.text or "").strip():
            facts.add((el.tag, (el.text or "").strip()))
    return frozenset(facts)


def _deref(resolver: Any, value: Any) -> Any:
    """``value`` as it was in ``resolver``'s revision (``get_object()`` would read the newest one)."""
    from pyhanko.pdf_utils.generic import IndirectObject

    return resolver(value.reference) if isinstance(value, IndirectObject) else value


def _info(resolver: Any) -> dict[str, str]:
    if "/Info" not in resolver.trailer_view:
        return {}
    info = _deref(resolver, resolver.trailer_view.raw_get("/Info"))
    return {str(k): str(_deref(resolver, info.raw_get(k))) for k in info if str(k).lstrip("/") not in _VOLATILE}


def metadata_problem(reader: Any, k: int) -> str | None:
    """What revision ``k`` changed of the catalog object, the Info dictionary or the XMP beyond
    what every incremental save rewrites (producer, modification dates)."""
    old, new = reader.get_historical_resolver(k - 1), reader.get_historical_resolver(k)
    if old.trailer_view.raw_get("/Root") != new.trailer_view.raw_get("/Root"):
        return "the document catalog was replaced by another object"
    if _info(old) != _info(new):
        return "the document information dictionary was changed"
    if _xmp_facts(old) != _xmp_facts(new):
        return "the XMP metadata was changed"
    return None


def _short(text: str) -> str:
    return text.splitlines()[0][:200] if text else "unexplained change"


_EOF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")


def tail_problem(data: bytes, reader: Any) -> str | None:
    """Bytes a viewer might read that are not part of the last revision pyHanko read."""
    m = _EOF.search(data[-2048:])
    if m is None:
        return "the file does not end with a complete revision (startxref and %%EOF)"
    last = reader.xrefs.total_revisions - 1
    if int(m.group(1)) != reader.xrefs.get_startxref_for_revision(last):
        return "the last startxref does not point to the last revision"
    return None


def _check(outcome: Outcome, zh: str, en: str) -> Check:
    return Check("modifications", outcome, zh, en)


def judge_changes(
    seal: SealStanding,
    revisions: Sequence[Revision],
    by_revision: Mapping[int, SealStanding],
    *,
    tail: str | None,
) -> Check:
    """The ``modifications`` check of one seal, over every revision after the one it signed."""
    if tail is not None:
        return _check(Outcome.FAIL, "文件末尾有不属于任何修订版本的内容", f"not allowed: {tail}")
    later = [r for r in revisions if r.index > seal.revision]
    if not later:
        return _check(Outcome.PASS, "盖章后文件未被追加任何内容", "nothing was added after sealing")
    seconds: list[str] = []
    unknown = False
    for r in later:
        earlier = [s for s in by_revision.values() if s.revision < r.index]
        for s in earlier:  # a certification signature's permissions and every field lock bind later revisions
            if s.docmdp is not None and r.change > _DOCMDP_ALLOWS.get(s.docmdp, Change.VALIDATION_DATA):
                return _check(
                    Outcome.FAIL,
                    f"文件经过认证签名（DocMDP P{s.docmdp}），其后的修改不被允许",
                    f"the document was certified (DocMDP P{s.docmdp}) and a later revision makes changes it forbids",
                )
            locked = sorted(f for f in r.fields if s.locks is not None and s.locks.is_locked(f))
            if locked:
                return _check(
                    Outcome.FAIL,
                    f"被锁定的表单域 {'、'.join(locked)} 在盖章后被改动",
                    f"the locked form field(s) {', '.join(locked)} were changed after sealing",
                )
        if r.change <= Change.VALIDATION_DATA:
            continue
        if r.change is Change.FORM_FIELDS:
            second = by_revision.get(r.index)
            if second is not None and r.fields <= {second.field}:
                if second.good is None:
                    unknown = True
                elif second.good:
                    seconds.append(second.signer)
                    continue
                else:
                    return _check(
                        Outcome.FAIL,
                        f"盖章后加盖的印章（{second.field}）无效",
                        f"a seal added after this one ({second.field}) is not valid",
                    )
                continue
            names = ", ".join(sorted(r.fields)) or "?"
            return _check(
                Outcome.FAIL,
                f"盖章后新增或改动了未经有效印章签署的表单域或控件（{names}）",
                f"a form field or widget ({names}) was added or changed after sealing without a valid seal",
            )
        if r.change is Change.ANNOTATIONS:
            return _check(
                Outcome.FAIL,
                "盖章后文件被添加了注释或图形（可遮盖或替换文字）",
                "annotations were added after sealing (they can cover or replace text)",
            )
        return _check(
            Outcome.FAIL,
            "盖章后文件的内容、页面或结构被改动",
            f"the content, pages or structure of the file were changed after sealing ({r.problem or 'unexplained'})",
        )
    if unknown:
        return _check(
            Outcome.UNKNOWN,
            "盖章后加盖了另一个印章，无法确认其密钥是否备案",
            "another seal was added after this one and its key could not be compared with a filing",
        )
    if seconds:
        return _check(
            Outcome.PASS,
            f"盖章后只追加了验证数据、时间戳和备案印章（{'、'.join(seconds)}）",
            f"after sealing only validation data, timestamps and the filed seal of {', '.join(seconds)} were added",
        )
    return _check(
        Outcome.PASS,
        "盖章后只追加了验证数据（吊销信息、时间戳）",
        "after sealing only validation data (revocation data, timestamps) was added",
    )


# DocMDP P1: no changes (validation data is always allowed, ISO 32000-2 §12.8.2.2); P2: forms and
# signatures; P3: also annotations — our own policy is stricter still.
_DOCMDP_ALLOWS = {1: Change.VALIDATION_DATA, 2: Change.FORM_FIELDS, 3: Change.ANNOTATIONS}
