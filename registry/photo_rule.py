"""The photo rule, in one place: a JPEG or PNG of at least 200 px each way — for an imported row
and for a correction's new photo alike."""

from __future__ import annotations

import io

from .errors import Problem

__all__ = ["MIN_PHOTO_PX", "photo_problem"]

MIN_PHOTO_PX = 200
_FIELD = "照片 photo"


def photo_problem(data: bytes, ref: str = "") -> Problem | None:
    """What is wrong with these photo bytes, or ``None``; ``ref`` names the file in the message."""
    from PIL import Image, UnidentifiedImageError

    zh, en = (f"照片 {ref} ", f"photo {ref}") if ref else ("照片", "the photo")
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, (w, h) = im.format, im.size
    except (UnidentifiedImageError, OSError):
        return Problem(zh=f"{zh}不是可读的图片", en=f"{en} is not a readable image", field=_FIELD)
    if fmt not in ("JPEG", "PNG"):
        return Problem(zh=f"{zh}应为 JPEG 或 PNG，实为 {fmt}", en=f"{en} must be JPEG or PNG, got {fmt}", field=_FIELD)
    if min(w, h) < MIN_PHOTO_PX:
        return Problem(
            zh=f"{zh}只有 {w}×{h} 像素，至少需要 {MIN_PHOTO_PX} 像素",
            en=f"{en} is only {w}×{h} px; at least {MIN_PHOTO_PX} px is needed",
            field=_FIELD,
        )
    return None
