"""Where things are on a page: the layout metadata each template declares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Box", "Layout", "SealBox"]

MM = 72 / 25.4


@dataclass(frozen=True, slots=True)
class Box:
    """A box in millimetres from the page's top-left corner."""

    x: float
    y: float
    w: float
    h: float

    def to_pdf(self, page_h_mm: float) -> tuple[float, float, float, float]:
        """(x, y, w, h) in PDF points, origin bottom-left (what a signature widget needs)."""
        return (self.x * MM, (page_h_mm - self.y - self.h) * MM, self.w * MM, self.h * MM)


@dataclass(frozen=True, slots=True)
class SealBox:
    kind: str  # "institution" · "issuing" · "competition"
    page: int  # 0-based
    box: Box
    rect_pt: tuple[float, float, float, float]  # PDF user space, origin bottom-left
    text: str


@dataclass(frozen=True, slots=True)
class Layout:
    page_w: float
    page_h: float
    photo: Box
    qr: Box
    seals: tuple[tuple[str, Box], ...]

    @classmethod
    def from_metadata(cls, value: dict[str, Any]) -> Layout:
        def box(d: dict[str, Any]) -> Box:
            return Box(float(d["x"]), float(d["y"]), float(d["w"]), float(d["h"]))

        return cls(
            float(value["page"]["w"]),
            float(value["page"]["h"]),
            box(value["photo"]),
            box(value["qr"]),
            tuple((str(s["kind"]), box(s)) for s in value["seals"]),
        )
