"""Regenerate the demo result batches and photos (all people and employers are fictitious).

Run from the repository root with ``python -m skillcert.demo._generate`` or
``python skillcert/demo/_generate.py``. The output is deterministic: a fixed seed drives
every choice, so re-running rewrites byte-identical files (for a given Pillow version).

Writes, next to this file:

* ``results.csv`` — 60 rows for the Beijing social training school S000011084012;
* ``results-y0001.csv`` — 20 rows for the Ministry-filed institution Y000111020001;
* ``results-gd.csv`` — 12 rows for the Guangdong technical school S000044012001;
* ``photos/001.jpg`` … ``photos/060.jpg`` — 295×413 px (1 inch at 300 dpi) cartoon
  ID photos on a white background; the second and third batches reuse 001-032.

The first batch deliberately contains the awkward cases: a name with a CJK Extension A
character (䶮), one with an Extension B character (𠇔, outside the BMP), a long
transliterated name with middle dots, three foreign passport holders (证件类型 208), a
Hong Kong resident (210), a Taiwan resident (238), an ID number ending in ``X`` and
about ten levels written in the printed form (``五级/初级工``) instead of a digit.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["HEADER", "Row", "generate", "id_check_char", "main"]

SEED = 20240611
OUT_DIR = Path(__file__).resolve().parent
PHOTO_DIR = OUT_DIR / "photos"

HEADER = (
    "姓名",
    "证件类型",
    "证件号码",
    "职业名称",
    "工种/职业方向",
    "职业技能等级",
    "照片",
    "所在单位",
)

PHOTO_SIZE = (295, 413)  # 1 inch (25 mm × 35 mm) at 300 dpi
PHOTO_QUALITY = 80

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

PRINTED_LEVELS = {
    1: "一级/高级技师",
    2: "二级/技师",
    3: "三级/高级工",
    4: "四级/中级工",
    5: "五级/初级工",
}
LEVEL_WEIGHTS = {5: 46, 4: 34, 3: 12, 2: 8, 1: 0}

# (occupation, job or "", allowed levels)
Scope = tuple[tuple[str, str, tuple[int, ...]], ...]

SCOPE_S084012: Scope = (
    ("电工", "", (3, 4, 5)),
    ("焊工", "电焊工", (3, 4, 5)),
    ("育婴员", "", (3, 4, 5)),
    ("中式烹调师", "", (2, 3, 4, 5)),
    ("家政服务员", "家庭照护", (4, 5)),
    ("计算机程序设计员", "", (2, 3, 4)),
)
SCOPE_Y0001: Scope = (
    ("电工", "", (2, 3, 4, 5)),
    ("焊工", "电焊工", (3, 4)),
)
SCOPE_GD: Scope = (
    ("电工", "", (4, 5)),
    ("汽车维修工", "汽车机械维修工", (3, 4, 5)),
)

BEIJING_REGIONS = ("110101", "110102", "110105", "110106", "110108", "110112", "110114", "110115")
OTHER_REGIONS = (
    "130102",
    "130602",
    "140105",
    "320102",
    "330106",
    "341102",
    "370102",
    "410105",
    "420106",
    "430104",
    "440106",
    "500103",
    "510104",
    "610113",
    "620102",
)
GUANGDONG_REGIONS = ("440103", "440104", "440106", "440111", "440304", "440604", "441900", "445102")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官")
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林峰建国志海东文博晨阳洋亮成"
SINGLE_AVOID = "国建志文成东秀美巧"  # rarely a whole given name on their own
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英华慧巧美婷雪琳晶妍茜倩颖玉萍红梅琴云莉兰凤洁佳欣怡悦萱璐露瑶"

EMPLOYERS_S084012: dict[str, tuple[str, ...]] = {
    "电工": (
        "北京恒通楼宇设备安装有限公司",
        "北京顺和物业管理有限公司",
        "北京京东南机电工程有限公司",
    ),
    "焊工": ("北京宏达钢结构工程有限公司", "北京燕兴管道安装有限公司"),
    "育婴员": ("北京爱贝母婴护理服务中心", "北京小禾苗早教咨询有限公司"),
    "中式烹调师": (
        "北京京味轩餐饮管理有限公司",
        "北京鸿福楼餐饮有限公司",
        "北京百味园酒家有限公司",
    ),
    "家政服务员": ("北京安居家政服务有限公司", "北京福嫂家庭服务有限公司"),
    "计算机程序设计员": ("北京启航软件技术有限公司", "北京智联云科信息技术有限公司"),
}
EMPLOYERS_Y0001 = (  # the filed branch itself (institution-ministry.toml) and its departments
    "华电智联能源科技有限公司北京分公司",
    "华电智联能源科技有限公司北京分公司检修工区",
    "华电智联能源科技有限公司北京分公司变电运维中心",
    "华电智联能源科技有限公司北京分公司",
)
EMPLOYERS_GD = (
    "广州市穗通汽车维修服务有限公司",
    "佛山市南海区顺达汽车服务有限公司",
    "东莞市华宇电气安装有限公司",
)


def id_check_char(first17: str) -> str:
    """GB 11643 ISO 7064 MOD 11-2 check character for the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    id_type: str
    id_number: str
    occupation: str
    job: str
    level: str
    photo: str
    employer: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.name,
            self.id_type,
            self.id_number,
            self.occupation,
            self.job,
            self.level,
            self.photo,
            self.employer,
        )


@dataclass(frozen=True, slots=True)
class Person:
    """What a row needs besides the certificate: name, ID and a few photo hints."""

    name: str
    id_type: str
    id_number: str
    male: bool
    birth_year: int


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()

    # -- IDs -----------------------------------------------------------------------

    def birth_date(self, earliest: int = 1965, latest: int = 2004) -> date:
        start, end = date(earliest, 1, 1), date(latest, 12, 31)
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def gb11643(self, region: str, born: date, male: bool, *, want_x: bool = False) -> str:
        """A distinct, valid 18-character number; the 17th digit is odd for men."""
        for _ in range(10_000):
            seq = self.rng.randrange(0, 1000)
            if (seq % 2 == 1) != male:
                seq = (seq + 1) % 1000
            first17 = f"{region}{born:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if want_x and not number.endswith("X"):
                continue
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number
        raise RuntimeError("could not find a free ID number")

    def distinct(self, number: str) -> str:
        if number in self.used_ids:
            raise RuntimeError(f"duplicate ID number {number}")
        self.used_ids.add(number)
        return number

    # -- names ---------------------------------------------------------------------

    def chinese_name(self, male: bool) -> str:
        rng = self.rng
        surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
        pool = GIVEN_MALE if male else GIVEN_FEMALE
        if rng.random() < 0.25:  # a one-character given name
            return surname + rng.choice([c for c in pool if c not in SINGLE_AVOID])
        return surname + "".join(rng.sample(pool, 2))

    def level(self, levels: tuple[int, ...]) -> int:
        return self.rng.choices(levels, weights=[LEVEL_WEIGHTS[lv] for lv in levels])[0]

    # -- rows ----------------------------------------------------------------------

    def batch(
        self,
        count: int,
        scope: Scope,
        regions: tuple[tuple[tuple[str, ...], ...], tuple[float, ...]],
        employers: dict[str, tuple[str, ...]] | tuple[str, ...],
        *,
        first_photo: int,
        printed: int,
        employer_share: float,
        special: dict[int, Person] | None = None,
        want_x_row: int | None = None,
        ages: tuple[int, int] = (1965, 2004),
    ) -> tuple[list[Row], list[Person]]:
        """``count`` rows; ``special`` maps 1-based row numbers to fixed people."""
        rng = self.rng
        special = special or {}
        printed_rows = set(rng.sample(range(1, count + 1), printed))
        names = {p.name for p in special.values()}
        rows: list[Row] = []
        people: list[Person] = []
        for n in range(1, count + 1):
            occupation, job, levels = rng.choice(scope)
            lv = self.level(levels)
            person = special.get(n)
            if person is None:
                male = rng.random() < (
                    0.1
                    if occupation in ("育婴员", "家政服务员")
                    else 0.8
                    if occupation in ("电工", "焊工", "汽车维修工")
                    else 0.55
                )
                name = self.chinese_name(male)
                while name in names:
                    name = self.chinese_name(male)
                names.add(name)
                # technicians (level 2) are rarely younger than their late twenties
                latest = min(ages[1], 1995) if lv <= 2 else ages[1]
                born = self.birth_date(ages[0], latest)
                region_list = rng.choices(regions[0], weights=regions[1])[0]
                number = self.gb11643(rng.choice(region_list), born, male, want_x=n == want_x_row)
                person = Person(name, "201", number, male, born.year)
            pool = employers[occupation] if isinstance(employers, dict) else employers
            employer = rng.choice(pool) if rng.random() < employer_share else ""
            level_text = PRINTED_LEVELS[lv] if n in printed_rows else str(lv)
            photo = f"photos/{first_photo + n - 1:03d}.jpg"
            rows.append(
                Row(person.name, person.id_type, person.id_number, occupation, job, level_text, photo, employer)
            )
            people.append(person)
        return rows, people


def _special_people(g: Generator) -> dict[int, Person]:
    """The awkward holders of the first batch, by 1-based row number."""

    def mainland(name: str, region: str, male: bool, born: date, id_type: str = "201") -> Person:
        return Person(name, id_type, g.gb11643(region, born, male), male, born.year)

    rng = g.rng

    def passport(prefix: str, length: int, alphabet: str) -> str:
        rest = "".join(rng.choice(alphabet) for _ in range(length - len(prefix)))
        return g.distinct(prefix + rest)

    digits = "0123456789"
    german = "CFGHJKLMNPRTVWXYZ0123456789"  # no vowels, no easily confused letters
    return {
        7: mainland("刘䶮", "110105", True, date(1988, 3, 14)),  # U+4DAE, CJK Extension A
        18: mainland("王𠇔", "320102", True, date(1979, 11, 2)),  # U+201D4, CJK Extension B
        29: mainland("阿卜杜热合曼·买买提依明·艾合买提", "650102", True, date(1983, 6, 27)),
        35: Person("陈嘉欣", "210", g.distinct("H" + "".join(rng.choice(digits) for _ in range(8))), False, 1992),
        41: Person("SMITH JOHN", "208", passport("5", 9, digits), True, 1978),
        47: Person("NGUYEN VAN AN", "208", passport("C", 8, digits), True, 1990),
        53: Person("MÜLLER ANNA", "208", passport("C", 9, german), False, 1986),
        58: mainland("林怡君", "830000", False, date(1994, 8, 9), id_type="238"),
    }


def generate() -> dict[str, list[Row]]:
    """Build the three batches and draw the photos for the 60 rows of the first one."""
    g = Generator(SEED)
    special = _special_people(g)
    mixed = ((BEIJING_REGIONS, OTHER_REGIONS), (0.45, 0.55))
    beijing, people = g.batch(
        60,
        SCOPE_S084012,
        mixed,
        EMPLOYERS_S084012,
        first_photo=1,
        printed=10,
        employer_share=0.8,
        special=special,
        want_x_row=12,
    )
    y0001, _ = g.batch(
        20,
        SCOPE_Y0001,
        mixed,
        EMPLOYERS_Y0001,
        first_photo=1,
        printed=2,
        employer_share=0.9,
        want_x_row=None,
        ages=(1968, 2000),
    )
    gd, _ = g.batch(
        12,
        SCOPE_GD,
        ((GUANGDONG_REGIONS, OTHER_REGIONS), (0.8, 0.2)),
        EMPLOYERS_GD,
        first_photo=21,
        printed=2,
        employer_share=0.25,
        ages=(1998, 2004),
    )
    PHOTO_DIR.mkdir(parents=True, exist_ok=True)
    for n, person in enumerate(people, start=1):
        rng = random.Random(SEED * 1000 + n)
        photo = draw_photo(rng, male=person.male, birth_year=person.birth_year)
        photo.save(PHOTO_DIR / f"{n:03d}.jpg", "JPEG", quality=PHOTO_QUALITY, optimize=True, dpi=(300, 300))
    return {"results.csv": beijing, "results-y0001.csv": y0001, "results-gd.csv": gd}


# -- photos ----------------------------------------------------------------------------

RGB = tuple[int, int, int]

SKIN_TONES: tuple[RGB, ...] = (
    (247, 221, 196),
    (241, 208, 176),
    (232, 190, 153),
    (224, 178, 138),
    (205, 152, 112),
    (176, 122, 86),
)
HAIR_COLOURS: tuple[RGB, ...] = (
    (28, 24, 22),
    (40, 31, 26),
    (58, 42, 32),
    (86, 60, 42),
    (20, 20, 24),
)
GREY_HAIR: tuple[RGB, ...] = ((120, 116, 112), (150, 146, 142))
CLOTHES: tuple[RGB, ...] = (
    (27, 42, 74),
    (20, 24, 32),
    (45, 52, 64),
    (34, 62, 112),
    (52, 58, 70),
    (30, 70, 110),
)


def _shade(c: RGB, f: float) -> RGB:
    return (int(c[0] * f), int(c[1] * f), int(c[2] * f))


def draw_photo(rng: random.Random, *, male: bool, birth_year: int) -> Image.Image:
    """A simple head-and-shoulders figure on white, drawn at 2× and scaled down.

    Framed like a 1-inch ID photo: the head (with hair) is a little over half the width,
    its top about 45 px below the edge, the shoulders fill the bottom of the frame.
    """
    s = 2
    img = Image.new("RGB", (PHOTO_SIZE[0] * s, PHOTO_SIZE[1] * s), (255, 255, 255))
    d = ImageDraw.Draw(img)

    def pt(x: float, y: float) -> tuple[int, int]:
        return (round(x * s), round(y * s))

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (*pt(x0, y0), *pt(x1, y1))

    skin = rng.choice(SKIN_TONES)
    grey = birth_year < 1972 and rng.random() < 0.6
    hair = rng.choice(GREY_HAIR) if grey else rng.choice(HAIR_COLOURS)
    cloth = rng.choice(CLOTHES)
    cx = PHOTO_SIZE[0] / 2 + rng.uniform(-3, 3)
    fw = rng.uniform(138, 156) if male else rng.uniform(130, 146)  # face width
    k = fw / 140  # scale for the small features
    fh = fw * rng.uniform(1.30, 1.38)
    fy0 = rng.uniform(72, 80)
    fx0, fx1, fy1 = cx - fw / 2, cx + fw / 2, fy0 + fh
    style = rng.choice(("short", "side", "crop")) if male else rng.choice(("long", "bob", "long"))

    # hair falling behind the head (drawn first so the shoulders and face cover it)
    if style == "long":
        d.rounded_rectangle(
            box(fx0 - 18 * k, fy0 - 14 * k, fx1 + 18 * k, fy1 + 70 * k), radius=round(60 * k * s), fill=hair
        )
    elif style == "bob":
        d.ellipse(box(fx0 - 18 * k, fy0 - 16 * k, fx1 + 18 * k, fy1 + 16 * k), fill=hair)

    # neck, then shoulders wider than the frame
    nw = fw * 0.21
    neck = _shade(skin, 0.92)
    top = fy1 + rng.uniform(16, 24) * k
    d.rectangle(box(cx - nw, fy1 - 40 * k, cx + nw, top + 30), fill=neck)
    sw = rng.uniform(168, 184)
    d.ellipse(box(cx - sw, top, cx + sw, top + 300), fill=cloth)
    if top + 150 < PHOTO_SIZE[1]:
        d.rectangle(box(cx - sw, top + 150, cx + sw, PHOTO_SIZE[1]), fill=cloth)
    # the V neckline of the jacket, optionally with a shirt collar
    v = top + rng.uniform(44, 56)
    if rng.random() < 0.6:
        shirt: RGB = (250, 250, 250) if rng.random() < 0.7 else (205, 222, 240)
        collar = [pt(cx - nw - 14, top - 2), pt(cx, v + 14), pt(cx + nw + 14, top - 2)]
        d.polygon(collar, fill=shirt)
        d.polygon([pt(cx - nw, top - 2), pt(cx, v - 6), pt(cx + nw, top - 2)], fill=neck)
        d.line(collar, fill=_shade(shirt, 0.8), width=s)
    else:
        d.polygon([pt(cx - nw - 4, top - 2), pt(cx, v), pt(cx + nw + 4, top - 2)], fill=neck)

    # ears, the hair cap (the face covers most of it), face
    ey = fy0 + fh * 0.48
    for side in (-1, 1) if male else ():  # long hair and bobs cover the ears
        ex = cx + side * fw / 2
        d.ellipse(box(ex - 11 * k, ey - 18 * k, ex + 11 * k, ey + 20 * k), fill=_shade(skin, 0.95))
    lift = {"short": 30, "side": 34, "crop": 20}.get(style, 20) * k
    pad = (5 if male else 8) * k
    d.ellipse(box(fx0 - pad, fy0 - lift, fx1 + pad, fy0 + fh * (0.66 if male else 0.75)), fill=hair)
    d.ellipse(box(fx0, fy0, fx1, fy1), fill=skin)

    # the hairline: hair covers the face above y(t), t running -1..1 across the face
    part = rng.choice((-1, 1))
    depth = rng.uniform(0.9, 1.1)
    if style == "short":

        def hairline(t: float) -> float:
            return fy0 + fh * depth * (0.17 + 0.05 * (1 - t * t))
    elif style == "crop":

        def hairline(t: float) -> float:
            return fy0 + fh * depth * (0.15 + 0.03 * (1 - t * t))
    elif style == "side":

        def hairline(t: float) -> float:
            return fy0 + fh * depth * (0.13 + 0.11 * (1 - part * t) / 2 + 0.03 * (1 - t * t))
    elif rng.random() < 0.5:  # straight bangs

        def hairline(t: float) -> float:
            return fy0 + fh * depth * (0.20 + 0.04 * (1 - t * t))
    else:  # side-swept

        def hairline(t: float) -> float:
            return fy0 + fh * depth * (0.10 + 0.17 * (1 - part * t) / 2)

    steps = 24
    ts = [2 * i / steps - 1 for i in range(steps + 1)]
    pts = [pt(cx + t * fw / 2, hairline(t)) for t in ts]
    a, b, ecy = fw / 2 + 1, fh / 2 + 1, fy0 + fh / 2
    theta0 = math.asin(min(1.0, (ecy - hairline(1.0)) / b))
    theta1 = math.pi - math.asin(min(1.0, (ecy - hairline(-1.0)) / b))
    for i in range(steps + 1):
        th = theta0 + (theta1 - theta0) * i / steps
        pts.append(pt(cx + a * math.cos(th), ecy - b * math.sin(th)))
    d.polygon(pts, fill=hair)
    if male:  # sideburns
        for side in (-1, 1):
            x_out = cx + side * (fw / 2 + 1)
            x_in = cx + side * (fw / 2 - 8 * k)
            d.polygon(
                [
                    pt(x_out, hairline(side)),
                    pt(x_out, fy0 + fh * 0.38),
                    pt(x_in, fy0 + fh * 0.38),
                    pt(x_in, hairline(side)),
                ],
                fill=hair,
            )

    # brows, eyes, nose, mouth
    eye_dx = fw * rng.uniform(0.19, 0.22)
    eye_y = ey - 4 * k
    dark: RGB = (40, 30, 28)
    brow = (90, 86, 82) if grey else _shade(hair, 0.9)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        d.ellipse(box(ex - 11 * k, eye_y - 6 * k, ex + 11 * k, eye_y + 6 * k), fill=(250, 250, 250))
        d.ellipse(box(ex - 6 * k, eye_y - 6 * k, ex + 6 * k, eye_y + 6 * k), fill=dark)
        by = eye_y - rng.uniform(16, 19) * k
        inner, outer = by - 1 * k, by + 2 * k
        y_left, y_right = (outer, inner) if side < 0 else (inner, outer)
        brow_width = round(5 * k * s)
        d.line([pt(ex - 13 * k, y_left), pt(ex + 13 * k, y_right)], fill=brow, width=brow_width)
    ny = eye_y + fh * 0.20
    nose = _shade(skin, 0.80)
    d.line([pt(cx - 1, eye_y + 10 * k), pt(cx - 5 * k, ny)], fill=nose, width=2 * s)
    d.line([pt(cx - 5 * k, ny), pt(cx + 5 * k, ny)], fill=nose, width=2 * s)
    my = ny + fh * rng.uniform(0.10, 0.12)
    mw = fw * rng.uniform(0.13, 0.16)
    d.arc(box(cx - mw, my - 9 * k, cx + mw, my + 7 * k), 20, 160, fill=(170, 90, 85), width=3 * s)

    return img.resize(PHOTO_SIZE, Image.Resampling.LANCZOS)


def write_csv(path: Path, rows: list[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(row.cells() for row in rows)


def main() -> None:
    for filename, rows in generate().items():
        write_csv(OUT_DIR / filename, rows)
        print(f"{filename}: {len(rows)} rows")
    print(f"photos: {len(list(PHOTO_DIR.glob('*.jpg')))} in {PHOTO_DIR}")


if __name__ == "__main__":
    main()
