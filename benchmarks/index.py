"""Benchmark: the verification sites' snapshot at 1,000,000 certificates (issue 5).

A snapshot of 1,000,000 synthetic certificates and 20,000 institutions is built with the
project's own code: ``search_index._build`` (``open_build``, ``write_certs``, ``set_meta``,
``finish_build``, ``masked_doc``, ``DECOY``), ``search_index.publish`` (``_sign``, ``_write_json``,
``_switch``, ``load_or_create_keys``, ``commit_generation``), ``privacy.pair_key`` / ``qr_key``,
``_layout.record_id`` and ``directory.build_directory`` / ``dump``, laid out exactly as
``publish()`` lays it out (``certs.sqlite`` with its meta rows, ``directory-1/``, a signed
``manifest.json``, ``snapshots/current``), and read through ``search_index.reader.Snapshot``.
Prints build seconds (certificates and directory apart), size on disk, look-up and institution
search latency, and an incremental publish of 1,000 revocations, with the targets beside the
figures. It prints figures; it never fails on a timing.

* Going through the full Registry for 1,000,000 records would measure the registry, not the
  snapshot, and take too long. So the certificates are real ``registry.models.Certificate``
  objects made directly (distinct names, ID numbers with a valid check character, numbers,
  QR tokens, 20,000 institutions' scopes), and ``_rows`` is mirrored without its registry reads:
  the same four keys, the same ``masked_doc`` (masked name and ID), the same keyed record ids,
  fed to the real ``write_certs`` (staged, then moved in record-id order by ``finish_build``).
  The certificate build time therefore includes making those objects; "where the time goes"
  measures each part (making the objects, the four HMAC keys, the masked JSON document) on a
  separate sample, and SQLite is the rest. The 20,000 institutions are real ``Institution``
  filings (names from Beijing districts, Guangdong cities and other provinces' cities, brands
  and occupations such as 家政服务员, 电工, 焊工, 育婴员; English names) turned into the public
  dict as ``publish.institution_public`` does, with made-up signer fingerprints.
* The build is one run (certificates, then the directory). Look-ups and searches are medians
  of ``--runs`` rounds on one reused reader, after a warm-up: each look-up round is 20,000 hits
  (the three pair kinds in turn, on random certificates) interleaved with 20,000 misses (a wrong
  second key), so load on the machine affects both alike; each is timed on its own.
* Incremental publish: 1,000 valid certificates become revoked. Their rows (new masked document,
  keys recomputed) go through ``publish.commit_generation``, as ``publish(incremental=True)``
  does: the rows, the count and the re-signed manifest of the new generation in one
  ``BEGIN IMMEDIATE`` transaction on the built ``certs.sqlite``. A reader opened before (each
  look-up reads the record's generation in the same statement) then looks all 1,000 up until
  every one reads as revoked: the time from the commit until then is printed.

    ./run bench index [--count 1000000] [--institutions 20000] [--lookups 20000] [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry.filings import institution_to_dict  # noqa: E402
from registry.ids import id_check_char  # noqa: E402
from registry.models import Certificate, CertStatus, Institution, InstitutionStatus, ScopeItem, Seal, Style  # noqa: E402
from registry.tables import BEIJING_DISTRICTS, GUANGDONG_CITIES  # noqa: E402
from search_index._build import DECOY, Row, finish_build, masked_doc, open_build, set_meta, write_certs  # noqa: E402
from search_index._layout import INDEX, INSTITUTIONS, SCHEMA_ID, SeqSealer, directory_name, record_id  # noqa: E402
from search_index._state import connect  # noqa: E402
from search_index.directory import build_directory, dump  # noqa: E402
from search_index.privacy import Keyer, PairKind, pair_key, qr_key  # noqa: E402
from search_index.publish import (  # noqa: E402
    _region,
    _sign,
    _switch,
    _write_json,
    commit_generation,
    load_or_create_keys,
)
from search_index.reader import _FIND_RECORD, Snapshot  # noqa: E402
from search_index.record import decode_record  # noqa: E402

TARGET_BUILD_S = 60.0
TARGET_LOOKUP_US = 20.0
GOAL_LOOKUP_US = 15.0  # issue 18: the look-up within half again of its floor (a key probe + a record probe)
GOAL_FLOOR_US = 10.0  # the floor the issue measured; the ratio to this run's floor is printed too
# the floor, on the reader's own connection: the bare B-tree probe of a key, then the record at
# or after a random id (what any look-up must read), two statements with no HMAC, decoding or checks
FLOOR_KEY = "SELECT rid FROM keys WHERE k = ?"
FLOOR_RECORD = "SELECT rid, doc FROM records WHERE rid >= ? ORDER BY rid LIMIT 1"
TARGET_SEARCH_MS = 10.0
TARGET_VISIBLE_S = 2.0
REVOCATIONS = 1000
PROFILE_ROWS = 50_000
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

# -- places ------------------------------------------------------------------------------------
BEIJING_EN = {
    "01": "Dongcheng",
    "02": "Xicheng",
    "05": "Chaoyang",
    "06": "Fengtai",
    "07": "Shijingshan",
    "08": "Haidian",
    "09": "Mentougou",
    "11": "Fangshan",
    "12": "Tongzhou",
    "13": "Shunyi",
    "14": "Changping",
    "15": "Daxing",
    "16": "Huairou",
    "17": "Pinggu",
    "28": "Miyun",
    "29": "Yanqing",
    "30": "Beijing Economic-Technological Development Area",
}
GUANGDONG_EN = {
    "00": "Guangdong",
    "01": "Guangzhou",
    "02": "Shaoguan",
    "03": "Shenzhen",
    "04": "Zhuhai",
    "05": "Shantou",
    "06": "Foshan",
    "07": "Jiangmen",
    "08": "Zhanjiang",
    "09": "Maoming",
    "12": "Zhaoqing",
    "13": "Huizhou",
    "14": "Meizhou",
    "15": "Shanwei",
    "16": "Heyuan",
    "17": "Yangjiang",
    "18": "Qingyuan",
    "19": "Dongguan",
    "20": "Zhongshan",
    "51": "Chaozhou",
    "52": "Jieyang",
    "53": "Yunfu",
}
GUANGDONG_DISTRICTS = {  # city code -> districts that lead some names (深圳市南山区…)
    "01": [("天河区", "Tianhe"), ("白云区", "Baiyun"), ("番禺区", "Panyu"), ("海珠区", "Haizhu")],
    "03": [("南山区", "Nanshan"), ("福田区", "Futian"), ("宝安区", "Bao'an"), ("龙岗区", "Longgang")],
    "06": [("南海区", "Nanhai"), ("顺德区", "Shunde")],
}
# other provinces: (province, region code, city or district as it leads a name, English)
OTHER_PLACES = [
    ("上海市", "3115", "上海市浦东新区", "Shanghai Pudong"),
    ("上海市", "3104", "上海市徐汇区", "Shanghai Xuhui"),
    ("上海市", "3106", "上海市静安区", "Shanghai Jing'an"),
    ("上海市", "3112", "上海市闵行区", "Shanghai Minhang"),
    ("上海市", "3113", "上海市宝山区", "Shanghai Baoshan"),
    ("上海市", "3114", "上海市嘉定区", "Shanghai Jiading"),
    ("上海市", "3117", "上海市松江区", "Shanghai Songjiang"),
    ("上海市", "3110", "上海市杨浦区", "Shanghai Yangpu"),
    ("天津市", "1201", "天津市和平区", "Tianjin Heping"),
    ("天津市", "1203", "天津市河西区", "Tianjin Hexi"),
    ("天津市", "1216", "天津市滨海新区", "Tianjin Binhai"),
    ("重庆市", "5003", "重庆市渝中区", "Chongqing Yuzhong"),
    ("重庆市", "5005", "重庆市江北区", "Chongqing Jiangbei"),
    ("江苏省", "3201", "南京市", "Nanjing"),
    ("江苏省", "3202", "无锡市", "Wuxi"),
    ("江苏省", "3204", "常州市", "Changzhou"),
    ("江苏省", "3205", "苏州市", "Suzhou"),
    ("江苏省", "3206", "南通市", "Nantong"),
    ("浙江省", "3301", "杭州市", "Hangzhou"),
    ("浙江省", "3302", "宁波市", "Ningbo"),
    ("浙江省", "3303", "温州市", "Wenzhou"),
    ("浙江省", "3306", "绍兴市", "Shaoxing"),
    ("四川省", "5101", "成都市", "Chengdu"),
    ("四川省", "5107", "绵阳市", "Mianyang"),
    ("湖北省", "4201", "武汉市", "Wuhan"),
    ("湖北省", "4205", "宜昌市", "Yichang"),
    ("山东省", "3701", "济南市", "Jinan"),
    ("山东省", "3702", "青岛市", "Qingdao"),
    ("山东省", "3706", "烟台市", "Yantai"),
    ("河南省", "4101", "郑州市", "Zhengzhou"),
    ("河南省", "4103", "洛阳市", "Luoyang"),
    ("湖南省", "4301", "长沙市", "Changsha"),
    ("福建省", "3501", "福州市", "Fuzhou"),
    ("福建省", "3502", "厦门市", "Xiamen"),
    ("陕西省", "6101", "西安市", "Xi'an"),
    ("辽宁省", "2101", "沈阳市", "Shenyang"),
    ("辽宁省", "2102", "大连市", "Dalian"),
    ("安徽省", "3401", "合肥市", "Hefei"),
    ("河北省", "1301", "石家庄市", "Shijiazhuang"),
    ("云南省", "5301", "昆明市", "Kunming"),
]

BRANDS = [
    ("明德", "Mingde"), ("华信", "Huaxin"), ("博文", "Bowen"), ("启航", "Qihang"), ("金桥", "Jinqiao"),
    ("泰和", "Taihe"), ("恒通", "Hengtong"), ("东方", "Dongfang"), ("新华", "Xinhua"), ("育才", "Yucai"),
    ("德仁", "Deren"), ("安康", "Ankang"), ("鸿运", "Hongyun"), ("宏达", "Hongda"), ("卓越", "Zhuoyue"),
    ("英才", "Yingcai"), ("蓝天", "Lantian"), ("阳光", "Yangguang"), ("长城", "Changcheng"), ("光明", "Guangming"),
    ("海纳", "Haina"), ("智联", "Zhilian"), ("华电", "Huadian"), ("润泽", "Runze"), ("嘉禾", "Jiahe"),
    ("瑞丰", "Ruifeng"), ("永安", "Yong'an"), ("福瑞", "Furui"), ("锦程", "Jincheng"), ("天成", "Tiancheng"),
    ("和美", "Hemei"), ("正道", "Zhengdao"), ("求实", "Qiushi"), ("立信", "Lixin"), ("众诚", "Zhongcheng"),
    ("盛世", "Shengshi"), ("爱心", "Aixin"), ("康乐", "Kangle"), ("悦家", "Yuejia"), ("万通", "Wantong"),
    ("精英", "Jingying"), ("北辰", "Beichen"), ("南华", "Nanhua"), ("中兴", "Zhongxing"), ("远航", "Yuanhang"),
    ("新程", "Xincheng"), ("致远", "Zhiyuan"), ("弘毅", "Hongyi"), ("崇德", "Chongde"), ("尚学", "Shangxue"),
    ("优才", "Youcai"), ("红星", "Hongxing"), ("青松", "Qingsong"), ("银河", "Yinhe"), ("星光", "Xingguang"),
    ("鼎盛", "Dingsheng"), ("聚贤", "Juxian"), ("善德", "Shande"), ("慧心", "Huixin"), ("匠心", "Jiangxin"),
    ("通达", "Tongda"), ("宏图", "Hongtu"), ("腾飞", "Tengfei"), ("振华", "Zhenhua"), ("德馨", "Dexin"),
    ("恒信", "Hengxin"), ("方圆", "Fangyuan"), ("巧手", "Qiaoshou"), ("金牌", "Jinpai"), ("家和", "Jiahe"),
]  # fmt: skip

JOBS: dict[str, list[str]] = {
    "家政服务员": ["家庭照护", "母婴护理", ""],
    "焊工": ["电焊工", "气焊工"],
    "汽车维修工": ["汽车机械维修工", "汽车电器维修工"],
}
FIELDS = [  # what a training school is named after, and the occupations it is filed for
    ("家政", "Domestic Service", ["家政服务员", "育婴员", "养老护理员", "保育师"]),
    ("电工", "Electrician", ["电工", "焊工", "制冷空调系统安装维修工"]),
    ("烹饪", "Culinary", ["中式烹调师", "中式面点师", "西式面点师"]),
    ("汽车", "Automotive", ["汽车维修工", "电工"]),
    ("计算机", "Computer", ["计算机程序设计员", "网络与信息安全管理员", "电子商务师", "互联网营销师"]),
    ("美容美发", "Beauty and Hairdressing", ["美容师", "美发师"]),
    ("养老护理", "Elderly Care", ["养老护理员", "健康管理师", "保健按摩师"]),
]
INDUSTRIES = [
    ("能源科技", "Energy Technology", ["电工", "焊工"]),
    ("物业服务", "Property Services", ["电工", "保安员", "制冷空调系统安装维修工"]),
    ("建设工程", "Construction Engineering", ["焊工", "电工", "钳工"]),
    ("汽车销售服务", "Automobile Sales and Service", ["汽车维修工"]),
    ("家政服务", "Domestic Services", ["家政服务员", "育婴员", "养老护理员"]),
    ("餐饮管理", "Catering Management", ["中式烹调师", "中式面点师", "西式面点师"]),
    ("电子科技", "Electronic Technology", ["计算机程序设计员", "网络与信息安全管理员", "电工"]),
    ("机械制造", "Machinery Manufacturing", ["钳工", "车工", "焊工", "电工"]),
    ("健康管理", "Health Management", ["健康管理师", "养老护理员", "保健按摩师"]),
    ("物流", "Logistics", ["物流服务师", "快递员"]),
]
TECH_OCCUPATIONS = ["电工", "焊工", "汽车维修工", "钳工", "车工", "计算机程序设计员", "中式烹调师", "电子商务师"]
ALL_OCCUPATIONS = sorted({o for _, _, occ in FIELDS + INDUSTRIES for o in occ} | set(TECH_OCCUPATIONS))
ASSOCIATIONS = [
    ("家政服务协会", "Domestic Service Association", FIELDS[0][2]),
    ("焊接学会", "Welding Society", ["焊工"]),
    ("烹饪协会", "Culinary Association", FIELDS[2][2]),
    ("汽车维修行业协会", "Automobile Maintenance Industry Association", ["汽车维修工"]),
    ("美容美发协会", "Beauty and Hairdressing Association", FIELDS[5][2]),
    ("养老服务协会", "Elderly Care Services Association", FIELDS[6][2]),
    ("电力行业协会", "Electric Power Industry Association", ["电工"]),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "慕容"]
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌浩宇欣怡子轩梓涵博涵一诺雨泽思远晨曦佳琪俊杰"
ID_REGIONS = ["110108", "110105", "310115", "310104", "440305", "440106", "320505", "330106", "510107", "420106"]
REVOKE_REASON = "以欺骗手段取得 obtained by fraud"


@dataclass(frozen=True, slots=True)
class Place:
    zh: str  # as it leads a name: 北京市海淀区, 深圳市南山区, 苏州市
    en: str
    region: str  # the 4 digits of an institution code after the authority code
    city_zh: str  # 北京市, 深圳市: technical schools and colleges are named after the city
    city_en: str
    guangdong_city: bool = False


@dataclass(slots=True)
class Inst:
    """One synthetic institution: its filing, its public dict and what its certificates need."""

    obj: Institution
    public: dict[str, Any]
    signers: list[str]
    scope: list[tuple[str, str, tuple[int, ...]]]
    serial: int = 0


@dataclass(slots=True)
class Sampled:
    """A certificate kept while streaming, for the look-ups and the revocations afterwards."""

    cert: Certificate
    inst: int
    pdf: str


@dataclass(slots=True)
class Corpus:
    institutions: list[Inst]
    sampled: dict[int, Sampled] = field(default_factory=dict)


def _places() -> tuple[list[Place], list[Place], list[Place]]:
    beijing = [
        Place("北京市" + zh, "Beijing " + BEIJING_EN[dd], "11" + dd, "北京市", "Beijing")
        for dd, zh in BEIJING_DISTRICTS.items()
    ]
    guangdong = []
    for cc, zh in GUANGDONG_CITIES.items():
        if cc == "00":
            continue
        guangdong.append(Place(zh, GUANGDONG_EN[cc], "44" + cc, zh, GUANGDONG_EN[cc], True))
        for dz, de in GUANGDONG_DISTRICTS.get(cc, []):
            guangdong.append(Place(zh + dz, f"{GUANGDONG_EN[cc]} {de}", "44" + cc, zh, GUANGDONG_EN[cc], True))
    municipal = {"12", "31", "50"}  # 上海市浦东新区: the city is the first three characters
    others = [
        Place(zh, en, region, zh[:3] if region[:2] in municipal else zh, en.split()[0])
        for _, region, zh, en in OTHER_PLACES
    ]
    return beijing, guangdong, others


def _levels(rng: random.Random) -> frozenset[int]:
    lo = rng.choice((1, 2, 2, 3, 3, 3, 4))
    hi = rng.choice((5, 5, 5, 4)) if lo < 4 else 5
    return frozenset(range(lo, hi + 1))


def _scope(rng: random.Random, occupations: list[str], extra: int) -> tuple[ScopeItem, ...]:
    chosen = rng.sample(occupations, rng.randint(min(2, len(occupations)), len(occupations)))
    chosen += [o for o in rng.sample(ALL_OCCUPATIONS, extra) if o not in chosen]
    items = []
    for occ in chosen:
        jobs = JOBS.get(occ, [""])
        for job in rng.sample(jobs, rng.randint(1, len(jobs))):
            items.append(ScopeItem(occupation=occ, job=job, levels=_levels(rng)))
    return tuple(items)


def _fingerprint(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def make_institutions(n: int, seed: int) -> list[Inst]:
    """``n`` filings with unique codes and names, the first few of them named for the sample queries."""
    rng = random.Random(seed)
    beijing, guangdong, others = _places()
    codes: set[str] = set()
    names: set[str] = set()
    out: list[Inst] = []
    planted = [  # the queries of FIELD-NOTES "Indexes and the site" must have something to find
        (
            "S000011084012",
            "北京市海淀区明德职业技能培训学校",
            "Beijing Haidian Mingde Vocational Skills Training School",
            0,
        ),
        (
            "S000031154101",
            "上海市浦东新区华信家政职业技能培训学校",
            "Shanghai Pudong Huaxin Domestic Service Vocational Skills Training School",
            0,
        ),
        (
            "S000044034107",
            "深圳市南山区华信职业技能培训学校",
            "Shenzhen Nanshan Huaxin Vocational Skills Training School",
            6,
        ),
        ("S000044012001", "广州市白云工商技师学院", "Guangzhou Baiyun Industry and Commerce Technician College", 3),
    ]
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > n * 50:
            raise SystemExit(f"could not make {n} distinct institutions")
        if planted:
            code, name_zh, name_en, field_i = planted.pop(0)
            kind, parent, parent_en, issuing = ("tech" if "学院" in name_zh else "school"), "", "", False
            occupations = FIELDS[field_i][2] if kind == "school" else TECH_OCCUPATIONS
        else:
            r = rng.random()
            place = rng.choice(beijing) if r < 0.3 else rng.choice(guangdong) if r < 0.5 else rng.choice(others)
            k = rng.random()
            kind = (
                "school"
                if k < 0.5
                else "tech"
                if k < 0.62
                else "college"
                if k < 0.67
                else "enterprise"
                if k < 0.95
                else "association"
            )
            brand, brand_en = rng.choice(BRANDS)
            parent = parent_en = ""
            issuing = False
            if kind == "school":
                f_zh, f_en, occupations = rng.choice([*FIELDS, ("", "", ALL_OCCUPATIONS)])
                centre = rng.random() < 0.3
                name_zh = f"{place.zh}{brand}{f_zh}{'培训中心' if centre else '职业技能培训学校'}"
                name_en = f"{place.en} {brand_en} {f_en} {'Training Centre' if centre else 'Vocational Skills Training School'}"
            elif kind == "tech":
                suffix, suffix_en = rng.choice(
                    [("技师学院", "Technician College"), ("高级技工学校", "Senior Technical School"),
                     ("工商技师学院", "Industry and Commerce Technician College"), ("技工学校", "Technical School")]
                )  # fmt: skip
                name_zh, name_en = f"{place.city_zh}{brand}{suffix}", f"{place.city_en} {brand_en} {suffix_en}"
                occupations = TECH_OCCUPATIONS
            elif kind == "college":
                name_zh = f"{place.city_zh}{brand}职业技术学院"
                name_en = f"{place.city_en} {brand_en} Vocational and Technical College"
                occupations = TECH_OCCUPATIONS + FIELDS[0][2]
            elif kind == "enterprise":
                ind, ind_en, occupations = rng.choice(INDUSTRIES)
                issuing = rng.random() < 0.25  # a branch of a company filed first with the Ministry: style (二)
                if issuing or rng.random() < 0.4:
                    parent, parent_en = f"{brand}{ind}有限公司", f"{brand_en} {ind_en} Co., Ltd."
                    name_zh, name_en = (
                        f"{parent}{place.zh.removeprefix('北京市') or '北京'}分公司",
                        f"{parent_en} {place.en} Branch",
                    )
                else:
                    name_zh, name_en = f"{place.zh}{brand}{ind}有限公司", f"{place.en} {brand_en} {ind_en} Co., Ltd."
            else:
                a_zh, a_en, occupations = rng.choice(ASSOCIATIONS)
                name_zh, name_en = f"{place.city_zh}{a_zh}", f"{place.city_en} {a_en}"
            code = _code(rng, place, kind, issuing)
        name_en = " ".join(name_en.split())
        if code in codes or name_zh in names:
            continue
        codes.add(code)
        names.add(name_zh)
        out.append(_institution(rng, code, name_zh, name_en, parent, parent_en, issuing, kind, occupations))
    return out


def _code(rng: random.Random, place: Place, kind: str, issuing: bool) -> str:
    if place.region.startswith("11"):  # Beijing: the serial says the unit category (coding rule table 5)
        if kind == "enterprise":
            if issuing:
                return f"Y{rng.randint(1, 60):04d}{place.region}{rng.randint(1, 999):04d}"
            return f"Y0000{place.region}{rng.choice((rng.randint(1001, 1999), rng.randint(2001, 2999))):04d}"
        low = {"school": 4001, "tech": 3001, "college": 5001, "association": 6001}[kind]
        return f"S0000{place.region}{rng.randint(low, low + 998):04d}"
    if place.guangdong_city and kind == "tech":  # Guangdong technical-school site: S 0000 44 cc 2 nnn
        return f"S0000{place.region}2{rng.randint(0, 999):03d}"
    if kind == "enterprise":
        auth = f"{rng.randint(1, 60):04d}" if issuing else "0000"
        return f"Y{auth}{place.region}{rng.randint(1, 1999):04d}"
    serial = rng.randint(3000, 9999) if place.guangdong_city else rng.randint(1, 9999)  # not 2nnn in Guangdong
    return f"S0000{place.region}{serial:04d}"


def _institution(
    rng: random.Random,
    code: str,
    name_zh: str,
    name_en: str,
    parent: str,
    parent_en: str,
    issuing: bool,
    kind: str,
    occupations: list[str],
) -> Inst:
    filed = date(2019, 6, 1) + timedelta(days=rng.randrange(0, 2200))
    region_zh = _region(code)[0]
    guangdong = code[5:7] == "44" and code[1:5] == "0000" and code[9] == "2"
    style = Style.STYLE2 if issuing else Style.GUANGDONG if guangdong else Style.STYLE1
    seals = [Seal(kind="institution", text=name_zh, activated_on=filed + timedelta(days=5))]
    if issuing:
        seals.append(Seal(kind="issuing", text=parent, activated_on=filed + timedelta(days=5)))
    r = rng.random()
    status, status_date, merged = "active", None, None
    if r < 0.03:
        status, status_date = "cancelled", filed + timedelta(days=rng.randrange(200, 1500))
    inst = Institution(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        parent_body=parent or (region_zh + "人力资源和社会保障局" if kind != "enterprise" else ""),
        filing_number=f"{'RSB-PJ' if issuing else 'JDBA'}-{filed.year}-{rng.randint(1, 9999):04d}",
        filing_date=filed,
        style=style,
        issuing_body_zh=parent if issuing else "",
        issuing_body_en=parent_en if issuing else "",
        seals=tuple(seals),
        scope=_scope(rng, occupations, extra=rng.choice((0, 0, 1, 2)) if kind != "association" else 0),
        status=InstitutionStatus(status),
        status_date=status_date,
        merged_into=merged,
        one_modification_only=guangdong,
    )
    # what publish.institution_public makes of a filing, without a registry for the identities
    d: dict[str, Any] = institution_to_dict(inst)
    d.pop("one_modification_only", None)
    d["region_name"], d["region_name_en"] = _region(code)
    d["signers"] = [
        {
            "seal_kind": s.kind,
            "fingerprint": _fingerprint(rng),
            "not_after": "2029-12-31T00:00:00+00:00",
            "retired_at": None,
        }
        for s in inst.seals
    ]
    scope = [(s.occupation, s.job, tuple(sorted(s.levels))) for s in inst.scope]
    return Inst(inst, d, sorted(s["fingerprint"] for s in d["signers"]), scope)


# -- certificates -----------------------------------------------------------------------------
ID_SPACE = 14_000 * 1000  # birth day (from 1960-01-01) x sequence: distinct ID numbers
ID_STEP = 1_000_003  # coprime with ID_SPACE: i -> i * ID_STEP mod ID_SPACE is a permutation
FIRST_ISSUE = date(2021, 1, 4).toordinal()
LAST_ISSUE = date(2026, 11, 20).toordinal()


def certificates(
    corpus: Corpus, count: int, seed: int, keep: set[int] | frozenset[int] = frozenset()
) -> Iterator[tuple[Certificate, Inst, str, tuple[str, str] | None]]:
    """``count`` distinct issued certificates: (certificate, institution, PDF hash, status event)."""
    rng = random.Random(seed)
    insts = corpus.institutions
    born0 = date(1960, 1, 1).toordinal()
    for i in range(count):
        ii = rng.randrange(len(insts))
        inst = insts[ii]
        occ, job, levels = inst.scope[rng.randrange(len(inst.scope))]
        lv = levels[rng.randrange(len(levels))]
        issued = date.fromordinal(rng.randint(FIRST_ISSUE, LAST_ISSUE))
        inst.serial += 1
        number = f"{inst.obj.code}{issued.year % 100:02d}{lv}{inst.serial:06d}"
        if rng.random() < 0.01:
            id_type, id_number = "227", f"E{i:08d}"
        else:
            j = (i * ID_STEP) % ID_SPACE
            body = f"{ID_REGIONS[j % len(ID_REGIONS)]}{date.fromordinal(born0 + j // 1000):%Y%m%d}{j % 1000:03d}"
            id_type, id_number = "201", body + id_check_char(body)
        surname = COMPOUND_SURNAMES[rng.randrange(5)] if rng.random() < 0.01 else SURNAMES[rng.randrange(len(SURNAMES))]
        name = surname + "".join(GIVEN[rng.randrange(len(GIVEN))] for _ in range(1 + (rng.random() < 0.6)))
        status, event = CertStatus.VALID, None
        r = rng.random()
        if r < 0.007:
            status = CertStatus.REVOKED if r < 0.005 else CertStatus.SUSPENDED
            event = ((issued + timedelta(days=rng.randint(30, 300))).isoformat(), REVOKE_REASON)
        c = Certificate(
            id=i + 1,
            institution_code=inst.obj.code,
            batch_id=1 + i // 1000,
            row=2 + i % 1000,
            name=name,
            id_type=id_type,
            id_number=id_number,
            occupation=occ,
            job=job,
            level=lv,
            photo_sha256=f"{rng.getrandbits(256):064x}",
            work_unit="",
            status=status,
            version=1,
            number=number,
            issue_date=issued,
            qr_token=base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).rstrip(b"=").decode(),
        )
        pdf = f"{rng.getrandbits(256):064x}"
        if c.id in keep:
            corpus.sampled[c.id] = Sampled(c, ii, pdf)
        yield c, inst, pdf, event


def _keys(secret: bytes, c: Certificate) -> list[bytes]:
    assert c.number is not None and c.qr_token is not None
    return [
        pair_key(secret, PairKind.NUMBER_NAME, c.number, c.name),
        pair_key(secret, PairKind.NUMBER_ID, c.number, c.id_number),
        pair_key(secret, PairKind.NAME_ID, c.name, c.id_number),
        qr_key(secret, c.number, c.qr_token),
    ]


def rows(
    secret: bytes, certs: Iterable[tuple[Certificate, Inst, str, tuple[str, str] | None]], *, id_offset: int = 0
) -> Iterator[Row]:
    """``_build.certificate_rows`` without its registry reads: the same keys, keyed record id and
    masked document (no audit entries: their sealed list is empty). ``id_offset`` moves the
    synthetic registry ids past real ones (benchmarks/site.py adds to the demo's snapshot)."""
    sealer = SeqSealer(secret)
    for c, inst, pdf, event in certs:
        rid = record_id(secret, c.id + id_offset)
        yield Row(rid, masked_doc(c, inst.obj, [pdf], inst.signers, event), _keys(secret, c), sealer.seal(rid, []))


# -- build ------------------------------------------------------------------------------------
def build(home: Path, corpus: Corpus, count: int, seed: int, keep: set[int]) -> tuple[Path, dict[str, float]]:
    """Build and switch to a snapshot as ``publish()`` does; returns its folder and timings."""
    secret, key = load_or_create_keys(home)
    snapshots = home / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    snap_id = NOW.strftime("%Y%m%dT%H%M%S") + "-0"
    target, building = snapshots / snap_id, snapshots / f".building-{snap_id}"
    building.mkdir()
    t0 = time.perf_counter()
    conn = open_build(building / "certs.sqlite")  # the same connection set-up as publish()
    n = write_certs(conn, rows(secret, certificates(corpus, count, seed, keep)))
    t_rows = time.perf_counter()
    institutions = [i.public for i in corpus.institutions]
    directory = building / directory_name(1)  # as _build.write_directory lays it out
    directory.mkdir()
    t_dir = time.perf_counter()
    build_directory(directory / INDEX, institutions)
    t_index = time.perf_counter()
    dump(institutions, directory / INSTITUTIONS)
    t2 = time.perf_counter()
    manifest = {
        "id": snap_id,
        "schema": SCHEMA_ID,
        "generation": 1,
        "built_at": NOW.isoformat(),
        "certificates": n,
        "institutions": len(institutions),
        "retired_codes": [],
        "audit_seq": 0,
        "audit_head": "0" * 64,
        "build_seconds": round(t2 - t0, 3),
    }
    signed = _sign(manifest, key)
    set_meta(conn, generation=1, manifest=signed, directory=directory.name)
    t_meta = time.perf_counter()
    finish_build(conn, building / "certs.sqlite")
    t_finish = time.perf_counter()
    _write_json(building / "manifest.json", signed)
    os.replace(building, target)
    _switch(snapshots, target)
    t3 = time.perf_counter()
    return target, {
        "certs": (t_rows - t0) + (t_finish - t_meta),
        "certs_rows": t_rows - t0,
        "certs_commit": t_finish - t_meta,
        "directory": t2 - t_dir,
        "directory_index": t_index - t_dir,
        "directory_json": t2 - t_index,
        "manifest": (t3 - t_finish) + (t_meta - t2),
        "total": t3 - t0,
        "n": n,
    }


def profile_rows(institutions: list[Inst], secret: bytes, count: int, seed: int) -> dict[str, float]:
    """µs per row for the parts of a row outside SQLite, on a separate sample of ``count`` rows."""
    corpus = Corpus([Inst(i.obj, i.public, i.signers, i.scope, i.serial) for i in institutions])
    t0 = time.perf_counter()
    sample = list(certificates(corpus, count, seed))
    t1 = time.perf_counter()
    for c, _, _, _ in sample:
        _keys(secret, c)
    t2 = time.perf_counter()
    for c, inst, pdf, event in sample:
        masked_doc(c, inst.obj, [pdf], inst.signers, event)
    t3 = time.perf_counter()
    return {"synth": (t1 - t0) / count * 1e6, "keys": (t2 - t1) / count * 1e6, "doc": (t3 - t2) / count * 1e6}


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- measurements -----------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _pairs(c: Certificate) -> list[tuple[PairKind, str, str, str]]:
    """(kind, a, b, a wrong b) for each pair kind of a certificate."""
    assert c.number is not None
    wrong_id = c.id_number[:-1] + ("0" if c.id_number[-1] != "0" else "1")
    return [
        (PairKind.NUMBER_NAME, c.number, c.name, c.name + "某"),
        (PairKind.NUMBER_ID, c.number, c.id_number, wrong_id),
        (PairKind.NAME_ID, c.name, c.id_number, wrong_id),
    ]


def lookups(snap: Snapshot, sampled: list[Sampled], rounds: int, n: int, seed: int, secret: bytes) -> dict[str, Any]:
    """Hits, misses and the floor (:data:`FLOOR_KEY` + :data:`FLOOR_RECORD` on the reader's own
    connection: the hit's key, computed untimed, its pages just read by the hit; the record at a
    random id, as a miss reads), interleaved so that load affects all three alike."""
    rng = random.Random(seed)
    hits_p50, hits_p99, miss_p50, miss_p99, floor_p50 = [], [], [], [], []
    wrong = 0
    conn = snap._state.conn  # the generation being served: its mapping, its page cache
    top = snap._state.max_rid + 1
    for w in sampled[:1000]:  # warm-up
        kind, a, b, _ = _pairs(w.cert)[0]
        snap.lookup_by_pair(kind, a, b)
    for _ in range(rounds):
        hit_t: list[float] = []
        miss_t: list[float] = []
        floor_t: list[float] = []
        order = rng.sample(sampled, min(n, len(sampled)))
        for k, s in enumerate(order):
            kind, a, b, bad = _pairs(s.cert)[k % 3]
            key, at = pair_key(secret, kind, a, b), rng.randrange(top)
            t0 = time.perf_counter_ns()
            view = snap.lookup_by_pair(kind, a, b)
            t1 = time.perf_counter_ns()
            none = snap.lookup_by_pair(kind, a, bad)
            t2 = time.perf_counter_ns()
            conn.execute(FLOOR_KEY, (key,)).fetchone()
            conn.execute(FLOOR_RECORD, (at,)).fetchone()
            t3 = time.perf_counter_ns()
            hit_t.append((t1 - t0) / 1000)
            miss_t.append((t2 - t1) / 1000)
            floor_t.append((t3 - t2) / 1000)
            if view is None or view.institution_code != s.cert.institution_code or none is not None:
                wrong += 1
        hits_p50.append(statistics.median(hit_t))
        hits_p99.append(pct(hit_t, 0.99))
        miss_p50.append(statistics.median(miss_t))
        miss_p99.append(pct(miss_t, 0.99))
        floor_p50.append(statistics.median(floor_t))
    return {
        "floor_p50": statistics.median(floor_p50),
        "floor_p50_range": (min(floor_p50), max(floor_p50)),
        "hit_p50": statistics.median(hits_p50),
        "hit_p99": statistics.median(hits_p99),
        "miss_p50": statistics.median(miss_p50),
        "miss_p99": statistics.median(miss_p99),
        "hit_p50_range": (min(hits_p50), max(hits_p50)),
        "miss_p50_range": (min(miss_p50), max(miss_p50)),
        "wrong": wrong,
        "per_round": len(order),
    }


def lookup_parts(target: Path, secret: bytes, sampled: list[Sampled]) -> dict[str, float]:
    """Where a look-up's time goes: the key (normalise + HMAC), the SQLite statement, decoding the record."""
    sql = _FIND_RECORD  # the reader's own statement: a miss reads the record at a random id
    certs = [s.cert for s in sampled[:5000]]
    n = len(certs)
    keyer = Keyer(secret)  # the reader's keyer
    t0 = time.perf_counter()
    keys = [keyer.pair(PairKind.NUMBER_NAME, c.number or "", c.name) for c in certs]
    t1 = time.perf_counter()
    bad = [pair_key(secret, PairKind.NUMBER_NAME, c.number or "", c.name + "某") for c in certs]
    out = {"key": (t1 - t0) / n * 1e6}
    docs: list[str] = []
    for label, mmap in (("", None), ("_nomap", 0)):  # the reader's connection (the whole file mapped); none
        conn = connect(target)
        if mmap is not None:
            conn.execute(f"PRAGMA mmap_size={mmap}")
        top = int(conn.execute("SELECT MAX(rid) FROM records").fetchone()[0])
        for k in keys[:500] + bad[:500]:  # warm-up
            conn.execute(sql, (k, random.randint(0, top))).fetchone()
        t0 = time.perf_counter()
        docs = [conn.execute(sql, (k, random.randint(0, top))).fetchone()[2] for k in keys]
        t1 = time.perf_counter()
        decoys = [conn.execute(sql, (k, random.randint(0, top))).fetchone()[2] for k in bad]
        t2 = time.perf_counter()
        conn.close()
        out["sql_hit" + label], out["sql_miss" + label] = (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6
    t0 = time.perf_counter()
    for d in docs + decoys:
        json.loads(d)
    t1 = time.perf_counter()
    for d in docs + decoys:
        decode_record(d)
    t2 = time.perf_counter()
    out["json"], out["decode"] = (t1 - t0) / (2 * n) * 1e6, (t2 - t1) / (2 * n) * 1e6
    return out


def queries(institutions: list[Inst], seed: int) -> list[tuple[str, str | None]]:
    """Realistic partial queries: (text, a code that must be among the results, if any)."""
    rng = random.Random(seed)
    some = rng.choice(institutions[10:]).obj
    gd = next(i.obj for i in institutions[10:] if i.obj.style is Style.GUANGDONG)
    y = next(i.obj for i in institutions[10:] if i.obj.code[1:5] != "0000")
    return [
        ("浦东新区 家政 培训", "S000031154101"),
        ("华信培训", "S000031154101"),
        ("深圳南山", "S000044034107"),
        ("海淀 培训", "S000011084012"),
        ("明德培训", "S000011084012"),
        ("白云 技师", "S000044012001"),
        ("明德", None),
        ("家政服务员", None),
        ("朝阳 育婴员", None),
        ("电焊工 昌平", None),
        ("苏州 技师学院", None),
        ("成都 养老护理", None),
        ("物业服务有限公司", None),
        ("Haidian Mingde", "S000011084012"),
        ("Pudong Domestic", "S000031154101"),
        ("Shenzhen Technician", None),
        ("Vocational Skills", None),
        (some.code, some.code),
        (gd.code[:9], None),
        (y.code[:5], None),
        (some.name_zh[3:9], some.code),
    ]


def searches(snap: Snapshot, qs: list[tuple[str, str | None]], rounds: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    snap.search_institutions("海淀 家政")  # first query: loads jieba's dictionary
    first = time.perf_counter() - t0
    per_query: dict[str, list[float]] = {q: [] for q, _ in qs}
    found: dict[str, tuple[int, int | None]] = {}
    for q, code in qs:  # warm-up, and what each query finds in all (not timed): matches, rank of the expected
        snap.search_institutions(q)
        codes = [r["code"] for r in snap.search_institutions(q, limit=1_000_000)]
        found[q] = (len(codes), None if code is None else codes.index(code) + 1 if code in codes else 0)
    for _ in range(rounds):
        for q, _ in qs:
            t0 = time.perf_counter()
            snap.search_institutions(q)
            per_query[q].append((time.perf_counter() - t0) * 1000)
    all_t = [t for ts in per_query.values() for t in ts]
    return {
        "first_s": first,
        "p50": statistics.median(all_t),
        "p99": pct(all_t, 0.99),
        "per_query": {q: statistics.median(ts) for q, ts in per_query.items()},
        "found": found,
    }


def revoke(
    target: Path,
    corpus: Corpus,
    victims: list[Sampled],
    secret: bytes,
    key: Any,
    after_commit: Callable[[float], tuple[float, int, int]],
) -> tuple[dict[str, float], tuple[float, int, int]]:
    """Apply 1,000 revocations as a new generation, as ``publish(incremental=True)`` does.

    ``after_commit`` (the open reader watching) runs right after the commit (rows, count and
    manifest are one transaction; only the manifest.json copy and the clean-up follow).
    """
    on = "2026-11-21"

    def changed() -> Iterator[tuple[Certificate, Inst, str, tuple[str, str] | None]]:
        for s in victims:
            c = s.cert
            revoked = Certificate(
                **{f: getattr(c, f) for f in Certificate.__dataclass_fields__} | {"status": CertStatus.REVOKED}
            )
            yield revoked, corpus.institutions[s.inst], s.pdf, (on, REVOKE_REASON)

    t0 = time.perf_counter()
    signed = commit_generation(target, key, rows(secret, changed()), updates={"updated_at": NOW.isoformat()})
    t_commit = time.perf_counter()
    seen = after_commit(t_commit)
    return {
        "start": t0,
        "commit_at": t_commit,
        "total": t_commit - t0,
        "n": int(signed["last_increment"]),
        "certificates": int(signed["certificates"]),
    }, seen


def watch(snap: Snapshot, victims: list[Sampled], since: float, deadline_s: float = 10.0) -> tuple[float, int, int]:
    """Look all victims up until every one reads as revoked: (seconds since ``since``, passes, revoked)."""
    passes = revoked = 0
    first = victims[0].cert
    view = snap.lookup_by_pair(PairKind.NAME_ID, first.name, first.id_number)  # the very next query
    if view is None or view.status != "revoked":
        print(f"  note: the first query after the commit read {view.status if view else None!r}")
    while time.perf_counter() - since < deadline_s:
        passes += 1
        revoked = 0
        for s in victims:
            c = s.cert
            view = snap.lookup_by_pair(PairKind.NAME_ID, c.name, c.id_number)
            revoked += view is not None and view.status == "revoked" and view.status_date == "2026-11-21"
        if revoked == len(victims):
            return time.perf_counter() - since, passes, revoked
    return float("inf"), passes, revoked


def mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--count", type=int, default=1_000_000, help="certificates (default 1,000,000)")
    ap.add_argument("--institutions", type=int, default=20_000, help="institutions (default 20,000)")
    ap.add_argument("--lookups", type=int, default=20_000, help="hits (and as many misses) per round (default 20,000)")
    ap.add_argument("--runs", type=int, default=5, help="look-up and search rounds, medians reported (default 5)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="100,000 certificates, 5,000 look-ups, 3 rounds: a fast check")
    a = ap.parse_args()
    if a.quick:
        a.count, a.lookups, a.runs = 100_000, 5_000, 3
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    load = os.getloadavg()
    rng = random.Random(a.seed)

    t0 = time.perf_counter()
    institutions = make_institutions(a.institutions, a.seed)
    t_inst = time.perf_counter() - t0
    n_sample = min(a.count, a.lookups + 2 * REVOCATIONS)
    keep = set(rng.sample(range(1, a.count + 1), n_sample))

    with tempfile.TemporaryDirectory(prefix="skillcert-bench-index-") as tmp:
        home = Path(tmp)
        secret, key = load_or_create_keys(home)
        prof = profile_rows(institutions, secret, min(PROFILE_ROWS, a.count), a.seed + 1)
        corpus = Corpus(institutions)
        target, b = build(home, corpus, a.count, a.seed, keep)
        sizes = {
            "certs.sqlite": size_of(target / "certs.sqlite"),
            "directory-1/index": size_of(target / directory_name(1) / INDEX),
            "directory-1/institutions.json": size_of(target / directory_name(1) / INSTITUTIONS),
        }
        total_size = size_of(target)
        with sqlite3.connect(f"file:{target / 'certs.sqlite'}?mode=ro", uri=True) as c:
            doc_bytes = float(
                c.execute("SELECT avg(length(CAST(doc AS BLOB))) FROM records WHERE rid != 0").fetchone()[0]
            )
        c.close()

        t0 = time.perf_counter()
        snap = Snapshot(home / "snapshots", secret)
        t_open = time.perf_counter() - t0
        sampled = sorted(corpus.sampled.values(), key=lambda s: s.cert.id)
        rng.shuffle(sampled)
        valid = [s for s in sampled if s.cert.status is CertStatus.VALID]
        victims = valid[:REVOCATIONS]
        victim_ids = {s.cert.id for s in victims}
        probes = [s for s in sampled if s.cert.id not in victim_ids][: a.lookups]
        lk = lookups(snap, probes, a.runs, a.lookups, a.seed, secret)
        parts = lookup_parts(target, secret, probes)
        qs = queries(institutions, a.seed)
        se = searches(snap, qs, a.runs)

        before = sum(
            1
            for s in victims
            if (v := snap.lookup_by_pair(PairKind.NAME_ID, s.cert.name, s.cert.id_number)) and v.status == "valid"
        )
        rv, (seen_s, passes, seen) = revoke(
            target, corpus, victims, secret, key, lambda since: watch(snap, victims, since)
        )
        snap_id_after = snap.manifest.get("id")
        generation_after = snap.manifest.get("generation")
        last_increment = snap.manifest.get("last_increment")
        snap.close()
        size_after = size_of(target)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n = int(b["n"])
    rows_us = b["certs_rows"] / n * 1e6
    print(
        f"index benchmark: {n:,} certificates, {len(institutions):,} institutions; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)"
    )
    print(f"  (making the {len(institutions):,} institution filings, not timed: {t_inst:.1f} s)")
    print("full build (one run)")
    print(f"  certificates -> certs.sqlite        {b['certs']:8.1f} s   ({n / b['certs']:,.0f} rows/s)")
    print(f"    rows + inserts                    {b['certs_rows']:8.1f} s   ({rows_us:.1f} µs/row)")
    print(f"    commit + WAL switch + fsync       {b['certs_commit']:8.1f} s")
    print(
        f"    where a row's time goes (sample of {min(PROFILE_ROWS, a.count):,}): making the synthetic certificate "
        f"{prof['synth']:.1f} µs (not publish work), 4 HMAC keys {prof['keys']:.1f} µs, masked JSON doc "
        f"{prof['doc']:.1f} µs, SQLite inserts (the rest) ≈ {max(0.0, rows_us - sum(prof.values())):.1f} µs"
    )
    print(
        f"  directory (whoosh) + institutions   {b['directory']:8.1f} s   (index {b['directory_index']:.1f} s, json {b['directory_json']:.2f} s)"
    )
    print(f"  manifest + switch                   {b['manifest']:8.2f} s")
    print(
        f"  total                               {b['total']:8.1f} s   target <= {TARGET_BUILD_S:.0f} s — {mark(b['total'] <= TARGET_BUILD_S)}"
    )
    publish_work = b["total"] - prof["synth"] * n / 1e6
    print(f"  total without making the synthetic certificates ≈ {publish_work:.1f} s")
    print("size on disk")
    for name, sz in sizes.items():
        print(f"  {name:<34}  {sz / 1e6:8.1f} MB")
    print(
        f"  snapshot total                      {total_size / 1e6:8.1f} MB   ({sizes['certs.sqlite'] / n:.0f} B per certificate in certs.sqlite)"
    )
    print(
        f"  masked record: {doc_bytes:.0f} B on average (a miss reads a random real record; the decoy of an empty snapshot: {len(DECOY.encode())} B)"
    )
    print(f"reader: Snapshot() opens in {t_open * 1000:.0f} ms")
    print(
        f"look-ups, reused reader, {lk['per_round']:,} hits + {lk['per_round']:,} misses per round, median of {a.runs} rounds"
    )
    print(
        f"  hit   median {lk['hit_p50']:6.1f} µs   p99 {lk['hit_p99']:6.1f} µs   target median <= {TARGET_LOOKUP_US:.0f} µs — "
        f"{mark(lk['hit_p50'] <= TARGET_LOOKUP_US)}   (round medians {lk['hit_p50_range'][0]:.1f}-{lk['hit_p50_range'][1]:.1f})"
    )
    print(
        f"  miss  median {lk['miss_p50']:6.1f} µs   p99 {lk['miss_p99']:6.1f} µs   target median <= {TARGET_LOOKUP_US:.0f} µs — "
        f"{mark(lk['miss_p50'] <= TARGET_LOOKUP_US)}   (round medians {lk['miss_p50_range'][0]:.1f}-{lk['miss_p50_range'][1]:.1f})"
    )
    print(f"  miss/hit median ratio {lk['miss_p50'] / lk['hit_p50']:.2f}; wrong answers: {lk['wrong']}")
    worst = max(lk["hit_p50"], lk["miss_p50"])
    print(
        f"  floor median {lk['floor_p50']:6.1f} µs   (a bare key probe + a record probe on the reader's connection, "
        f"interleaved; round medians {lk['floor_p50_range'][0]:.1f}-{lk['floor_p50_range'][1]:.1f})"
    )
    ratio, goal_ratio = worst / lk["floor_p50"], GOAL_LOOKUP_US / GOAL_FLOOR_US
    print(
        f"  look-up / floor {ratio:.2f} (the slower of hit and miss)   goal median <= {GOAL_LOOKUP_US:.0f} µs — "
        f"{mark(worst <= GOAL_LOOKUP_US)}; as a ratio (the goal over the issue's {GOAL_FLOOR_US:.0f} µs floor) "
        f"<= {goal_ratio:.1f} — {mark(ratio <= goal_ratio)}"
    )
    print(
        f"  where a look-up's time goes (mean of 5,000, hit / miss): key (normalise + HMAC) {parts['key']:.1f} µs; "
        f"the reader's statement {parts['sql_hit']:.1f} / {parts['sql_miss']:.1f} µs on the reader's connection "
        f"(the whole file mapped), {parts['sql_hit_nomap']:.1f} / {parts['sql_miss_nomap']:.1f} µs without the mapping; "
        f"decode_record {parts['decode']:.1f} µs (of which json.loads {parts['json']:.1f}); the reader's own overhead is the rest"
    )
    print(f"institution search, {len(qs)} queries x {a.runs} rounds, top 20")
    print(
        f"  median {se['p50']:6.2f} ms   p99 {se['p99']:6.2f} ms   target median <= {TARGET_SEARCH_MS:.0f} ms — "
        f"{mark(se['p50'] <= TARGET_SEARCH_MS)}   (first query, loading jieba: {se['first_s']:.2f} s)"
    )
    print(
        "    query                        median   matches in all (top 20 returned); rank of the planted/expected one"
    )
    for q, _ in qs:
        hits, rank = se["found"][q]
        expect = "" if rank is None else f"; expected at rank {rank}" if rank else "; **expected one not found**"
        print(f"    {q!r:<28} {se['per_query'][q]:7.2f} ms  {hits:5,d}{expect}")
    print(f"incremental publish: {int(rv['n']):,} revocations")
    print(
        f"  commit_generation: rows + count + signed manifest in one transaction, then the manifest.json copy "
        f"{rv['total'] * 1000:7.1f} ms (registry reads not included); {int(rv['certificates']):,} certificates after"
    )
    visible = seen_s + (rv["commit_at"] - rv["start"])
    print(
        f"  open reader sees all {seen:,} revoked: {seen_s * 1000:.1f} ms after the commit, "
        f"{visible * 1000:.1f} ms after the start ({passes} pass(es) over the 1,000 look-ups; "
        f"{before:,} read valid before)"
    )
    print(f"  target visible <= {TARGET_VISIBLE_S:.0f} s — {mark(visible <= TARGET_VISIBLE_S)}")
    print(
        f"  reader's manifest after: id {snap_id_after}, generation {generation_after}, last_increment "
        f"{last_increment} (with the first record of the new generation); snapshot {size_after / 1e6:.1f} MB after"
    )
    print(f"peak RSS of the benchmark process {peak_rss:.0f} MB")


if __name__ == "__main__":
    main()
