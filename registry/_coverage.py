"""What the replay of the log cannot see by itself: the bytes behind a content hash, the serial
counters against the register of issued numbers, and the log's tail after a signed checkpoint.

Each check gives bilingual problems that name the row; none of them prints a secret (a QR token
is shown only as a digest prefix) or personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._db import Database

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence

from .errors import RegistryError
from .events import SnapshotPublished

__all__ = ["counter_problems", "photo_problems", "publish_entry_problems", "qr_token_digest", "short_digest"]

Problem = tuple[str, str]  # (zh, en)


def qr_token_digest(token: str) -> str:
    """SHA-256 (hex) of a certificate's QR token: what the issue event records instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def short_digest(hex_digest: str | None) -> str:
    return "(无 none)" if hex_digest is None else f"sha256:{hex_digest[:12]}…"


def _numbers_using(conn: Database, sha: str) -> str:
    rows = conn.execute(
        "SELECT COALESCE(number, '#' || id) FROM certificate_view WHERE photo_sha256 = ? ORDER BY id LIMIT 4", (sha,)
    ).fetchall()
    names = [str(r[0]) for r in rows[:3]] + (["…"] if len(rows) > 3 else [])
    return ", ".join(names) if names else "-"


def photo_problems(conn: Database) -> Iterator[Problem]:
    """Every stored photo must hash to its key (the ``photo_sha256`` the import and correction
    events record), and every certificate's photo must be there."""
    from ._personal import Personal

    personal = Personal(conn)
    for sha, data in conn.execute("SELECT sha256, data FROM photos ORDER BY sha256"):
        try:
            actual = hashlib.sha256(personal.open_photo(bytes(data), sha)).hexdigest()
        except RegistryError as e:  # sealed and altered, or no key here to open it
            yield (f"photos[{sha[:16]}…]：{e.zh}", f"photos[{sha[:16]}…]: {e.en}")
            continue
        if actual != sha:
            used = _numbers_using(conn, sha)
            yield (
                f"photos[{sha[:16]}…]：照片内容被替换（内容哈希为 {short_digest(actual)}，审计日志记录为 "
                f"{short_digest(sha)}），使用它的证书：{used}",
                f"photos[{sha[:16]}…]: the photo bytes were replaced (they hash to {short_digest(actual)}, "
                f"the audit log records {short_digest(sha)}); certificates using it: {used}",
            )
    for sha, n in conn.execute(
        "SELECT c.photo_sha256, COUNT(*) FROM certificates c LEFT JOIN photos p ON p.sha256 = c.photo_sha256 "
        "WHERE p.sha256 IS NULL GROUP BY c.photo_sha256 ORDER BY c.photo_sha256"
    ):
        used = _numbers_using(conn, sha)
        yield (
            f"photos[{sha[:16]}…]：照片缺失（absent），{n} 张证书使用它：{used}",
            f"photos[{sha[:16]}…]: the photo is absent, {n} certificate(s) use it: {used}",
        )


def _ranges(missing: Sequence[int], width: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(missing) and len(out) < 5:
        j = i
        while j + 1 < len(missing) and missing[j + 1] == missing[j] + 1:
            j += 1
        a, b = missing[i], missing[j]
        out.append(f"{a:0{width}d}" if a == b else f"{a:0{width}d}–{b:0{width}d}")
        i = j + 1
    return ", ".join(out) + (", …" if i < len(missing) else "")


def _serial_problems(
    what: tuple[str, str],
    counters: Iterable[tuple[str, str, int]],
    numbers: Iterable[str],
    prefix_len: int,
) -> Iterator[Problem]:
    """``counters``: (prefix, row name, last serial); ``numbers``: the register. The highest serial
    under each prefix must be its counter, and serials 1..counter must all be there."""
    zh_what, en_what = what
    issued: dict[str, list[int]] = {}
    for number in numbers:
        tail = number[prefix_len:]
        if len(tail) != 6 or not tail.isascii() or not tail.isdigit():
            yield (
                f"{zh_what}登记簿中的 {number!r} 不是有效编号",
                f"{number!r} in the {en_what} register is not a number",
            )
            continue
        issued.setdefault(number[:prefix_len], []).append(int(tail))
    for prefix, row, last in counters:
        serials = sorted(issued.pop(prefix, []))
        top = serials[-1] if serials else 0
        if last != top:
            moved_zh = (
                f"上移，序列码 {top + 1:06d}–{last:06d} 将被跳过" if last > top else "回退，已发序列码将被重复使用"
            )
            moved_en = (
                f"up: serials {top + 1:06d}–{last:06d} would be skipped"
                if last > top
                else "back: issued serials would be given again"
            )
            yield (
                f"{row}.last_serial 为 {last}，{zh_what}登记簿中最大的序列码为 {top:06d}：计数器被改动（{moved_zh}）",
                f"{row}.last_serial is {last}, the highest serial in the {en_what} register is {top:06d}: "
                f"the counter was moved {moved_en}",
            )
        if len(serials) != top:
            have = set(serials)
            missing = [s for s in range(1, top + 1) if s not in have]
            yield (
                f"{row}：{zh_what}登记簿缺少序列码 {_ranges(missing, 6)}（跳号）",
                f"{row}: serials {_ranges(missing, 6)} are missing from the {en_what} register (a gap)",
            )
    for prefix, serials in sorted(issued.items()):
        yield (
            f"{zh_what}登记簿中有 {len(serials)} 个 {prefix}… 编号，却没有对应的计数器",
            f"the {en_what} register has {len(serials)} number(s) {prefix}… but no counter for them",
        )


def counter_problems(conn: Database) -> Iterator[Problem]:
    """Certificate serial counters against ``issued_numbers``, proof counters against ``proofs``."""
    cert_counters = [
        (f"{code}{year % 100:02d}{level}", f"number_counters[{code}/{year}/{level}]", int(last))
        for code, year, level, last in conn.execute(
            "SELECT institution_code, year, level, last_serial FROM number_counters ORDER BY 1, 2, 3"
        )
    ]
    yield from _serial_problems(
        ("已发证书编号", "issued-number"),
        cert_counters,
        (str(r[0]) for r in conn.execute("SELECT number FROM issued_numbers ORDER BY number")),
        16,
    )
    proof_counters = [
        (f"{code}ZM{year % 100:02d}", f"proof_counters[{code}/{year}]", int(last))
        for code, year, last in conn.execute(
            "SELECT institution_code, year, last_serial FROM proof_counters ORDER BY 1, 2"
        )
    ]
    yield from _serial_problems(
        ("证明", "proof"),
        proof_counters,
        (str(r[0]) for r in conn.execute("SELECT proof_number FROM proofs ORDER BY proof_number")),
        17,
    )


def _published_seqs(conn: Database) -> set[int]:
    out: set[int] = set()
    for (after,) in conn.execute("SELECT after FROM audit WHERE entity = 'snapshot' AND action = 'publish'"):
        try:
            out.add(SnapshotPublished.decode(None, json.loads(after)).audit_seq)
        except (TypeError, ValueError, KeyError, RegistryError):
            continue
    return out


def publish_entry_problems(conn: Database, sizes: Iterable[int], log_size: int) -> Iterator[Problem]:
    """A publish signs the checkpoint at the log's head, then appends its own ``publish`` entry:
    a checkpoint whose publish entry is gone shows entries deleted after the checkpoint."""
    published = _published_seqs(conn)
    for size in sorted(set(sizes)):
        if size <= log_size and size not in published:
            yield (
                f"检查点 {size} 之后没有发布记录：已签名检查点之后的审计记录被删除（日志止于 #{log_size}），或那次发布未完成",
                f"no publish entry after checkpoint {size}: entries after the signed checkpoint were deleted "
                f"(the log ends at #{log_size}), or that publish did not finish",
            )
