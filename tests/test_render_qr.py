"""The QR code: zxing-cpp's symbol at level M, no larger than segno's for the same URL, the SVG path
draws exactly its modules, and every code decodes to its URL."""

from __future__ import annotations

import random
import re
import string

import pytest
import segno

from render.errors import RenderError
from render.qr import QrSymbol, qr_code, qr_svg, qr_url

zxingcpp = pytest.importorskip("zxingcpp")

_COMMAND = re.compile(r"([Mm])(-?[\d.]+) (-?[\d.]+)|h(\d+)")


def _decoded(code: QrSymbol) -> str:
    from PIL import Image

    size = len(code.matrix) + 8
    img = Image.new("L", (size, size), 255)
    for y, row in enumerate(code.matrix):
        for x, v in enumerate(row):
            if v:
                img.putpixel((x + 4, y + 4), 0)
    (found,) = zxingcpp.read_barcodes(
        img.resize((size * 4, size * 4), Image.Resampling.NEAREST), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return str(found.text)


def _svg_modules(svg: str) -> tuple[bytes, ...]:
    """The module grid the SVG's path draws (quiet zone included): moves (``M``/``m``) and
    horizontal lines (``h``) through the middle of a row, stroked one unit wide."""
    size = int(svg.split('width="')[1].split('"')[0])
    assert svg.count("<path ") == 1 and f'height="{size}"' in svg and 'stroke="#000"' in svg
    grid = [bytearray(size) for _ in range(size)]
    d = svg.split(' d="')[1].split('"')[0]
    assert _COMMAND.sub("", d) == "", d  # nothing but those commands
    x = y = 0.0
    for cmd, dx, dy, length in _COMMAND.findall(d):
        if cmd:
            x, y = (float(dx), float(dy)) if cmd == "M" else (x + float(dx), y + float(dy))
            continue
        assert y - 0.5 == int(y - 0.5) and x == int(x), (x, y)  # through the middle of a row, on a module
        for k in range(int(length)):
            grid[int(y - 0.5)][int(x) + k] = 1
        x += int(length)
    return tuple(bytes(row) for row in grid)


def _urls(seed: int, count: int, longest: int) -> list[str]:
    rnd = random.Random(seed)
    urls = []
    for k in range(count):
        token = "".join(rnd.choices(string.ascii_letters + string.digits + "-_", k=rnd.randint(1, longest)))
        url = f"https://zs{rnd.randint(0, 99)}.example.cn/c/S{rnd.randrange(10**21):021d}?t={token}"
        urls.append(url.upper() if k % 7 == 0 else str(rnd.randrange(10**40)) if k % 11 == 0 else url)
    return urls


def test_level_m_no_larger_than_segno_and_it_decodes() -> None:
    """Byte, alphanumeric and numeric data over many versions."""
    versions = set()
    for url in _urls(5, 300, 300):
        code = qr_code(url)
        assert code.error == "M" and len(code.matrix) == 17 + 4 * code.version
        assert all(len(row) == len(code.matrix) and not row.translate(None, b"\x00\x01") for row in code.matrix)
        assert code.version <= int(segno.make(url, error="m", boost_error=False, micro=False).version), url
        assert _decoded(code) == url
        versions.add(code.version)
    assert len(versions) >= 8


def test_long_urls_with_a_signed_payload() -> None:
    """A QR URL with its signed payload in the fragment (≈ 420-620 characters, versions ≈ 15-19)."""
    rnd = random.Random(19)
    alphabet = string.ascii_letters + string.digits + "-_"
    versions = set()
    for length in (300, 340, 380, 420, 460, 500, 540):
        payload = "".join(rnd.choices(alphabet, k=length))
        url = qr_url("https://zhengshu.example-skills-centre.org.cn", "S000011084012262000001", "x" * 22, payload)
        assert url.endswith("#" + payload) and len(url) > length + 60
        code = qr_code(url)
        assert code.error == "M" and _decoded(code) == url
        versions.add(code.version)
    assert max(versions) >= 16 and len(versions) >= 4, versions
    assert qr_url("https://a.cn/", "S1", "t") == qr_url("https://a.cn", "S1", "t", None) == "https://a.cn/c/S1?t=t"


def test_the_svg_draws_exactly_the_modules() -> None:
    for url in [qr_url("http://127.0.0.1:8000", "S000011084012262000001", "t"), *_urls(18, 200, 560)]:
        code = qr_code(url)
        blank = bytes(len(code.matrix) + 8)
        want = (blank,) * 4 + tuple(bytes(4) + row + bytes(4) for row in code.matrix) + (blank,) * 4
        assert _svg_modules(qr_svg(url)) == want, url


def test_it_decodes_from_the_svg() -> None:
    from PIL import Image, ImageDraw

    url = qr_url("https://zs.example.cn", "S000011084012262000001", "Ab-_9xYz")
    grid = _svg_modules(qr_svg(url))
    scale = 8
    img = Image.new("L", (len(grid) * scale,) * 2, 255)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(grid):
        for x, v in enumerate(row):
            if v:
                draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    (found,) = zxingcpp.read_barcodes(img)
    assert found.text == url


def test_a_url_too_long_for_any_version_is_refused_in_both_languages() -> None:
    with pytest.raises(RenderError) as e:
        qr_code("https://zs.example.cn/c/S1?t=" + "x" * 3000)
    assert "二维码" in e.value.zh and "QR" in e.value.en
