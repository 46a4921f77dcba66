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
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
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


_FIELDS: dict[type[Event], dict[str, tuple[Any, bool]]] = {}
_LAYOUT: dict[type[Event], tuple[tuple[str, str, bool, bool], ...]] = {}


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
