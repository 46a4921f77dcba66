"""The QR SVG is written from segno's matrix: the same bytes segno's own SVG writer gives, and it decodes."""

from __future__ import annotations

import io
import random
import re
import string

import pytest
import segno

from render.qr import qr_code, qr_svg, qr_url


def _segno(url: str) -> segno.QRCode:
    return segno.make(url, error="m", boost_error=True, micro=False, mask=4)


def _segno_svg(url: str) -> str:
    buf = io.BytesIO()
    _segno(url).save(buf, kind="svg", border=4, xmldecl=False, svgclass=None, lineclass=None, scale=1)
    return buf.getvalue().decode("ascii")


def test_same_code_as_segno_make() -> None:
    """Module for module, over versions 1-14 and byte, alphanumeric and numeric data."""
    rnd = random.Random(5)
    versions = set()
    for k in range(400):
        token = "".join(rnd.choices(string.ascii_letters + string.digits + "-_", k=rnd.randint(1, 300)))
        url = f"https://zs{rnd.randint(0, 99)}.example.cn/c/S{rnd.randrange(10**21):021d}?t={token}"
        url = url.upper() if k % 7 == 0 else str(rnd.randrange(10**40)) if k % 11 == 0 else url
        ours, theirs = qr_code(url), _segno(url)
        assert (ours.version, ours.error, ours.mask) == (theirs.version, theirs.error, theirs.mask), url
        assert ours.matrix == theirs.matrix, url
        versions.add(theirs.version)
    assert len(versions) >= 8


def test_long_urls_with_a_signed_payload() -> None:
    """A QR URL with its signed payload in the fragment (≈ 420-620 characters, versions ≈ 15-19):
    the same code as segno's, error correction M or better, and it decodes."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    rnd = random.Random(19)
    alphabet = string.ascii_letters + string.digits + "-_"
    versions = set()
    for length in (300, 340, 380, 420, 460, 500, 540):
        payload = "".join(rnd.choices(alphabet, k=length))
        url = qr_url("https://zhengshu.example-skills-centre.org.cn", "S000011084012262000001", "x" * 22, payload)
        assert url.endswith("#" + payload) and len(url) > length + 60
        ours, theirs = qr_code(url), _segno(url)
        assert (ours.version, ours.error, ours.mask) == (theirs.version, theirs.error, theirs.mask), len(url)
        assert ours.matrix == theirs.matrix, len(url)
        assert ours.error in ("M", "Q", "H"), ours.error
        versions.add(ours.version)
        size = len(ours.matrix)
        img = Image.new("L", (size + 8, size + 8), 255)
        for y, row in enumerate(ours.matrix):
            for x, v in enumerate(row):
                if v:
                    img.putpixel((x + 4, y + 4), 0)
        (found,) = zxingcpp.read_barcodes(img.resize(((size + 8) * 4,) * 2, Image.Resampling.NEAREST))
        assert found.text == url
    assert max(versions) >= 16 and len(versions) >= 4, versions
    assert qr_url("https://a.cn/", "S1", "t") == qr_url("https://a.cn", "S1", "t", None) == "https://a.cn/c/S1?t=t"


def test_same_bytes_as_segnos_writer() -> None:
    rnd = random.Random(18)
    urls = [qr_url("http://127.0.0.1:8000", "S000011084012262000001", "t")]
    for _ in range(300):  # lengths across several QR versions
        token = "".join(rnd.choices(string.ascii_letters + string.digits + "-_", k=rnd.randint(1, 120)))
        urls.append(qr_url(f"https://zs{rnd.randint(0, 99)}.example.cn/", f"S{rnd.randrange(10**21):021d}", token))
    for url in urls:
        assert qr_svg(url) == _segno_svg(url), url


def test_it_decodes() -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image, ImageDraw

    url = qr_url("https://zs.example.cn", "S000011084012262000001", "Ab-_9xYz")
    svg = qr_svg(url)
    size = int(svg.split('width="')[1].split('"')[0])
    scale = 8
    img = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(img)
    d = svg.split(' d="')[1].split('"')[0]
    x = y = 0.0
    for cmd, dx, dy, length in re.findall(r"([Mm])(-?[\d.]+) (-?[\d.]+)h(\d+)", d):
        x, y = (float(dx), float(dy)) if cmd == "M" else (x + float(dx), y + float(dy))
        draw.rectangle([x * scale, (y - 0.5) * scale, (x + int(length)) * scale - 1, (y + 0.5) * scale - 1], fill=0)
        x += int(length)
    (found,) = zxingcpp.read_barcodes(img)
    assert found.text == url
