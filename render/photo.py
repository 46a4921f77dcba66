"""The holder's photo: orientation from EXIF, cropped to the box, 300 dpi, white background."""

from __future__ import annotations

import io
from dataclasses import dataclass

from registry.errors import Problem

from .errors import PhotoRejected

__all__ = ["MIN_PX", "PreparedPhoto", "prepare_photo"]

MIN_PX = 200
DPI = 300


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    jpeg: bytes
    width_px: int
    height_px: int
    warnings: tuple[Problem, ...]


def _mm_to_px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def prepare_photo(data: bytes, box_w_mm: float, box_h_mm: float) -> PreparedPhoto:
    """Decode, orient, crop to the box's aspect (head kept), scale to 300 dpi, re-encode as JPEG."""
    from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

    field = "照片 photo"
    if not data:
        raise PhotoRejected(
            "缺少照片", "the photo is missing", problems=[Problem(zh="缺少照片", en="missing", field=field)]
        )
    try:
        with Image.open(io.BytesIO(data)) as raw:
            im = ImageOps.exif_transpose(raw)
            im.load()
    except (UnidentifiedImageError, OSError) as e:
        raise PhotoRejected("照片无法读取", f"the photo cannot be read: {e}") from e
    if min(im.size) < MIN_PX:
        raise PhotoRejected(
            f"照片只有 {im.width}×{im.height} 像素，至少需要 {MIN_PX} 像素",
            f"the photo is only {im.width}×{im.height} px; at least {MIN_PX} px is needed",
        )
    if im.mode in ("RGBA", "LA", "P"):
        rgba = im.convert("RGBA")
        im = Image.new("RGB", rgba.size, "white")
        im.paste(rgba, mask=rgba.getchannel("A"))
    im = im.convert("RGB")
    warnings: list[Problem] = []
    # the background: the top band and the upper side strips should be light (白底)
    w, h = im.size
    band = [
        im.crop((0, 0, w, max(1, h // 12))),
        im.crop((0, 0, max(1, w // 12), h // 2)),
        im.crop((w - max(1, w // 12), 0, w, h // 2)),
    ]
    light = min(sum(ImageStat.Stat(b.convert("L")).mean) for b in band)
    if light < 185:
        warnings.append(
            Problem(
                zh="照片背景不是浅色（应为白底）",
                en="the photo background is not light (white is required)",
                field=field,
            )
        )
    target = box_w_mm / box_h_mm
    if w / h > target:  # too wide: crop the sides
        nw = round(h * target)
        im = im.crop(((w - nw) // 2, 0, (w - nw) // 2 + nw, h))
    elif w / h < target:  # too tall: keep the head, crop mostly from the bottom
        nh = round(w / target)
        top = round((h - nh) * 0.25)
        im = im.crop((0, top, w, top + nh))
    px_w, px_h = _mm_to_px(box_w_mm), _mm_to_px(box_h_mm)
    if im.width > px_w:
        im = im.resize((px_w, px_h), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, optimize=True, dpi=(DPI, DPI))
    return PreparedPhoto(out.getvalue(), im.width, im.height, tuple(warnings))
