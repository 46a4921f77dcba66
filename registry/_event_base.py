"""The base of the audit log's declared events (see :mod:`registry.events`): one encoder, one decoder.

An entry's ``before`` and ``after`` are JSON objects; each event class says which of its fields go
where (:attr:`Event.BEFORE` maps a field to its key in ``before``; every other field is a key of
``after``) and which are left out when empty (:attr:`Event.OPTIONAL`). Writers append events
(``tx.log(key, event)``), readers decode them (:func:`decode`) — nobody parses payload keys by hand.

Versions: an event whose shape changes gets a higher :attr:`Event.VERSION`, written as ``"v"`` in
``after``; its :meth:`Event.upgrade` turns older payloads into the current shape, so the whole
history stays readable. Version 1 writes no ``"v"`` (the log's shape before events were declared).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any, ClassVar, TypeVar

from .errors import RegistryError

__all__ = ["EVENTS", "Event", "decode", "event"]

E = TypeVar("E", bound="Event")
Payload = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    ACTION: ClassVar[str]
    ENTITY: ClassVar[str]
    VERSION: ClassVar[int] = 1
    BEFORE: ClassVar[Mapping[str, str]] = {}  # field -> key in "before"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()  # fields left out when None

    def encode(self) -> tuple[Payload | None, Payload]:
        before: Payload = {}
        after: Payload = {}
        for name, key, to_before, optional in _layout(type(self)):
            value = getattr(self, name)
            if value is None and optional:
                continue
            (before if to_before else after)[key] = value
        if self.VERSION > 1:
            after["v"] = self.VERSION
        return (before if self.BEFORE else None), after

    def encode_json(self) -> tuple[str | None, str]:
        """:meth:`encode`'s two payloads as the audit log stores them: canonical JSON, byte for byte
        what ``json`` gives with sorted keys (:data:`canonical`), but written straight from the
        fields in their keys' sorted order instead of building and sorting two dicts (an import
        writes one event per row). A class with its own :meth:`encode` goes through it."""
        plan = _json_plan(type(self))
        if plan is None:
            before, after = self.encode()
            return (None if before is None else canonical(before)), canonical(after)
        a, b = plan
        return (None if b is None else _json_object(b, self)), _json_object(a, self)

    @classmethod
    def upgrade(cls, before: Payload, after: Payload) -> tuple[Payload, Payload]:
        """Older payloads in the current shape (nothing to do for version 1)."""
        return before, after

    @classmethod
    def decode(cls: type[E], before: Payload | None, after: Payload | None) -> E:
        b, a = dict(before or {}), dict(after or {})
        version = int(a.pop("v", 1))
        if version > cls.VERSION:
            raise RegistryError(
                f"审计记录 {cls.ACTION} 的版本 {version} 比本程序新，请升级 skillcert",
                f"audit event {cls.ACTION} version {version} is newer than this skillcert; upgrade",
            )
        b, a = cls.upgrade(b, a)
        kwargs: dict[str, Any] = {}
        for name, (convert, required) in _fields(cls).items():
            src, key = (b, cls.BEFORE[name]) if name in cls.BEFORE else (a, name)
            if key in src:
                kwargs[name] = None if src[key] is None else convert(src[key])
            elif required:
                raise RegistryError(
                    f"审计记录 {cls.ACTION} 缺少字段 {key}", f"audit event {cls.ACTION} lacks the field {key}"
                )
        return cls(**kwargs)


def _to_date(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v))


def _same(v: Any) -> Any:
    return v


# the audit log's canonical JSON (registry.audit uses the same encoder object)
canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode

_FIELDS: dict[type[Event], dict[str, tuple[Any, bool]]] = {}
_LAYOUT: dict[type[Event], tuple[tuple[str, str, bool, bool], ...]] = {}
_JSON_PLAN: dict[type[Event], tuple[_JsonPlan, _JsonPlan | None] | None] = {}


def _layout(cls: type[Event]) -> tuple[tuple[str, str, bool, bool], ...]:
    """(field, payload key, goes to "before", left out when None) per field, worked out once per class
    (an import writes one event per row: this is on its hot path)."""
    got = _LAYOUT.get(cls)
    if got is None:
        got = _LAYOUT[cls] = tuple(
            (f.name, cls.BEFORE.get(f.name, f.name), f.name in cls.BEFORE, f.name in cls.OPTIONAL)
            for f in dataclasses.fields(cls)
        )
    return got


class _JsonPlan(typing.NamedTuple):
    """One payload of a class: each key's ``"key":``, sorted; its values' getter; left out when None."""

    heads: tuple[str, ...]
    values: Callable[[Event], tuple[Any, ...]]
    optional: tuple[bool, ...]


def _json_object(plan: _JsonPlan, ev: Event) -> str:
    return (
        "{"
        + ",".join(
            [
                head
                + (
                    encode_basestring(v)
                    if type(v) is str
                    else int.__repr__(v)
                    if type(v) is int
                    else "null"
                    if v is None
                    else encode_basestring(v.isoformat())  # json's default=str: str(a date) is its isoformat
                    if type(v) is date
                    else canonical(v)  # the rare rest (a bool, a datetime, a nested value) exactly as json has it
                )
                for head, v, optional in zip(plan.heads, plan.values(ev), plan.optional, strict=True)
                if v is not None or not optional
            ]
        )
        + "}"
    )


def _getter(names: tuple[str, ...]) -> Callable[[Event], tuple[Any, ...]]:
    if len(names) == 1:
        name = names[0]
        return lambda ev: (getattr(ev, name),)
    return attrgetter(*names) if names else (lambda ev: ())


def _json_plan(cls: type[Event]) -> tuple[_JsonPlan, _JsonPlan | None] | None:
    """The class's (after, before) plans, worked out once; None when the class encodes itself (or
    has a field that ``"v"``, its version, would overwrite)."""
    if cls in _JSON_PLAN:
        return _JSON_PLAN[cls]
    got: tuple[_JsonPlan, _JsonPlan | None] | None = None
    fields = _layout(cls)
    if cls.encode is Event.encode and not (cls.VERSION > 1 and any(k == "v" and not b for _, k, b, _ in fields)):
        rows = [(key, name, to_before, optional) for name, key, to_before, optional in fields]
        if cls.VERSION > 1:
            rows.append(("v", "VERSION", False, False))  # the class attribute, read like a field
        rows.sort()  # keys are unique within each payload: the order json's sort_keys gives them

        def plan(to_before: bool) -> _JsonPlan:
            mine = [r for r in rows if r[2] == to_before]
            return _JsonPlan(
                tuple(encode_basestring(r[0]) + ":" for r in mine),
                _getter(tuple(r[1] for r in mine)),
                tuple(r[3] for r in mine),
            )

        got = plan(False), (plan(True) if cls.BEFORE else None)
    _JSON_PLAN[cls] = got
    return got


def _fields(cls: type[Event]) -> dict[str, tuple[Any, bool]]:
    """Each field's converter from JSON and whether it must be present (worked out once per class)."""
    if cls in _FIELDS:
        return _FIELDS[cls]
    hints = typing.get_type_hints(cls)
    out: dict[str, tuple[Any, bool]] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = set(typing.get_args(hint)) - {type(None)}
        base = next(iter(args)) if len(args) == 1 else hint
        convert = {date: _to_date, int: int, bool: bool, str: str}.get(base, _same)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out[f.name] = (convert, required)
    _FIELDS[cls] = out
    return out


EVENTS: dict[tuple[str, str], type[Event]] = {}


def event(cls: type[E]) -> type[E]:
    """Register an event class under its (entity, action)."""
    EVENTS[(cls.ENTITY, cls.ACTION)] = cls
    return cls


def decode(entity: str, action: str, before: Payload | None, after: Payload | None) -> Event | None:
    """The declared event of an entry, or ``None`` for an action this version does not know."""
    cls = EVENTS.get((entity, action))
    return None if cls is None else cls.decode(before, after)
