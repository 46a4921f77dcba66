"""Code tables of the rules: skill levels, regions, unit categories, ID document types.

Sources: ``000_…`` coding rule 表2-表6 and 附件4 说明3-4; ``001_…`` 表2 (Guangdong cities).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BEIJING_DISTRICTS",
    "GUANGDONG_CITIES",
    "ID_TYPES",
    "LEVELS",
    "PROVINCES",
    "UNIT_CATEGORIES",
    "IdType",
    "Level",
    "UnitCategory",
    "Variant",
    "level",
    "level_from_text",
    "unit_category_for_serial",
]


class Variant(StrEnum):
    """Which regional coding and filling rules apply."""

    BEIJING = "beijing"  # 000_… Beijing measures: region 11 + district, serial by unit category
    GUANGDONG = "guangdong"  # 001_… Guangdong technical schools: S 0000 44 cc 2 nnn
    NATIONAL = "national"  # the national rule: region 4 digits, serial 4 digits

    @property
    def no_job_text(self) -> str:
        """What prints in 工种/职业方向 when there is no job (000_… 第九条, 001_… 第十一条)."""
        return "——" if self is Variant.BEIJING else "--"

    @property
    def label_zh(self) -> str:
        return {"beijing": "北京", "guangdong": "广东技工院校", "national": "全国通用"}[self.value]


@dataclass(frozen=True, slots=True)
class Level:
    code: int
    zh: str  # as printed: 中文数字+级/等级名称
    en: str

    @property
    def zh_short(self) -> str:
        return self.zh.split("/")[0]


LEVELS: dict[int, Level] = {
    1: Level(1, "一级/高级技师", "Level 1 / Senior Technician"),
    2: Level(2, "二级/技师", "Level 2 / Technician"),
    3: Level(3, "三级/高级工", "Level 3 / Senior Worker"),
    4: Level(4, "四级/中级工", "Level 4 / Intermediate Worker"),
    5: Level(5, "五级/初级工", "Level 5 / Junior Worker"),
}


def level(code: int) -> Level:
    return LEVELS[code]


_LEVEL_WORDS: dict[str, int] = {}
for _lv in LEVELS.values():
    _short, _title = _lv.zh.split("/")
    for _w in (_lv.zh, _short, _title, str(_lv.code), _lv.en, f"level {_lv.code}"):
        _LEVEL_WORDS[_w.lower()] = _lv.code
_LEVEL_WORDS.update(
    {
        "高级技师（一级）": 1,
        "技师（二级）": 2,
        "高级（三级）": 3,
        "中级（四级）": 4,
        "初级（五级）": 5,
        "高级": 3,
        "中级": 4,
        "初级": 5,
    }
)


def level_from_text(text: str) -> int | None:
    """Read a level written as ``5``, ``五级``, ``初级工``, ``五级/初级工`` or ``Level 5``."""
    t = text.strip().replace("／", "/").lower()
    return _LEVEL_WORDS.get(t)


BEIJING_DISTRICTS: dict[str, str] = {
    "01": "东城区",
    "02": "西城区",
    "05": "朝阳区",
    "06": "丰台区",
    "07": "石景山区",
    "08": "海淀区",
    "09": "门头沟区",
    "11": "房山区",
    "12": "通州区",
    "13": "顺义区",
    "14": "昌平区",
    "15": "大兴区",
    "16": "怀柔区",
    "17": "平谷区",
    "28": "密云区",
    "29": "延庆区",
    "30": "北京经济技术开发区",
}

GUANGDONG_CITIES: dict[str, str] = {
    "00": "广东省省本级",
    "01": "广州市",
    "02": "韶关市",
    "03": "深圳市",
    "04": "珠海市",
    "05": "汕头市",
    "06": "佛山市",
    "07": "江门市",
    "08": "湛江市",
    "09": "茂名市",
    "12": "肇庆市",
    "13": "惠州市",
    "14": "梅州市",
    "15": "汕尾市",
    "16": "河源市",
    "17": "阳江市",
    "18": "清远市",
    "19": "东莞市",
    "20": "中山市",
    "51": "潮州市",
    "52": "揭阳市",
    "53": "云浮市",
}

# GB/T 2260 province-level codes (first two digits of a region code or an ID number).
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}


@dataclass(frozen=True, slots=True)
class UnitCategory:
    low: int
    high: int
    zh: str
    en: str


UNIT_CATEGORIES: tuple[UnitCategory, ...] = (
    UnitCategory(1, 999, "央企在京子公司、分公司", "Beijing subsidiary/branch of a central SOE"),
    UnitCategory(1001, 1999, "市属用人单位", "municipal employer"),
    UnitCategory(2001, 2999, "辖区用人单位", "district employer"),
    UnitCategory(3001, 3999, "依托技工院校开展评价的机构", "technical-school based institution"),
    UnitCategory(4001, 4999, "社会力量办学机构", "private school (社会力量办学)"),
    UnitCategory(5001, 5999, "职业院校/大学", "vocational college / university"),
    UnitCategory(6001, 6999, "行业协会/学会", "trade association / society"),
)


def unit_category_for_serial(serial: int) -> UnitCategory | None:
    for cat in UNIT_CATEGORIES:
        if cat.low <= serial <= cat.high:
            return cat
    return None


@dataclass(frozen=True, slots=True)
class IdType:
    code: str
    zh: str
    en: str


ID_TYPES: dict[str, IdType] = {
    t.code: t
    for t in (
        IdType("201", "居民身份证", "Resident Identity Card"),
        IdType("227", "中国护照", "Chinese Passport"),
        IdType("210", "港澳居民来往内地通行证", "Mainland Travel Permit for HK/Macao Residents"),
        IdType("237", "港澳居民居住证", "Residence Permit for HK/Macao Residents"),
        IdType("213", "台湾居民来往大陆通行证", "Mainland Travel Permit for Taiwan Residents"),
        IdType("238", "台湾居民居住证", "Residence Permit for Taiwan Residents"),
        IdType("208", "外国护照", "Foreign Passport"),
        IdType("233", "外国人永久居留身份证", "Foreign Permanent Resident ID Card"),
        IdType("239", "外国人工作许可证（A类）", "Foreigner's Work Permit (A)"),
        IdType("240", "外国人工作许可证（B类）", "Foreigner's Work Permit (B)"),
        IdType("241", "外国人工作许可证（C类）", "Foreigner's Work Permit (C)"),
        IdType("299", "其他个人证件", "Other personal ID document"),
    )
}
