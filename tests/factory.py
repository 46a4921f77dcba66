"""Fake but rule-abiding test data: ID numbers with check digits, photos, results files."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from registry.ids import id_check_char
from registry.models import ResultRow

if TYPE_CHECKING:
    from sign.qr_key import EcSigner

HEADER = ["姓名", "证件类型", "证件号码", "职业名称", "工种/职业方向", "职业技能等级", "照片", "所在单位"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌浩宇欣怡子轩梓涵"


def id_number(rng: random.Random, prefix: str = "110108") -> str:
    born = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 12000))
    body = f"{prefix}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + id_check_char(body)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def photo_bytes(seed: int = 0, size: tuple[int, int] = (295, 413), fmt: str = "JPEG") -> bytes:
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    w, h = size
    d.ellipse((w * 0.3, h * 0.2, w * 0.7, h * 0.55), fill=(230, 190 - seed % 40, 160))
    d.rectangle((w * 0.15, h * 0.65, w * 0.85, h), fill=(30, 50, 120 + seed % 100))
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def write_results(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", header: list[str] | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header or HEADER)
        w.writerows(rows)
    return path


def beijing_rows(n: int, *, seed: int = 1, photo: str = "photos/p.jpg") -> list[list[str]]:
    """``n`` valid rows for the demo Beijing institution (scope 电工 3-5, 焊工/电焊工 3-5, ...)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out = []
    while len(out) < n:
        idn = id_number(rng)
        if idn in seen:
            continue
        seen.add(idn)
        occ, job, lv = rng.choice(
            [
                ("电工", "", "5"),
                ("电工", "", "4"),
                ("焊工", "电焊工", "5"),
                ("育婴员", "", "五级/初级工"),
                ("中式烹调师", "", "2"),
            ]
        )
        out.append([name(rng), "201", idn, occ, job, lv, photo, ""])
    return out


def result_rows(n: int, photo_sha: str, *, seed: int = 7, level: int = 5) -> list[ResultRow]:
    rng = random.Random(seed)
    return [
        ResultRow(
            row=i + 2,
            name=name(rng),
            id_type="201",
            id_number=id_number(rng),
            occupation="电工",
            job="",
            level=level,
            photo_sha256=photo_sha,
        )
        for i in range(n)
    ]


def p256_signer(cn: str) -> tuple[EcSigner, str]:
    """A P-256 key with a self-signed certificate: the signer and the certificate (PEM)."""
    import datetime as _dt

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from sign.qr_key import EcSigner

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = _dt.datetime.now(_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore(),
    )
    return EcSigner(signer), cert.public_bytes(serialization.Encoding.PEM).decode()
