"""segno's QR encoding with the module placement and the fixed mask taken from tables (private to :mod:`render`).

``segno.make(url, error="m", boost_error=True, micro=False, mask=4)`` spends most of its ≈ 1.5 ms
placing the ≈ 1,000 codeword bits one module at a time (``add_codewords``) and then testing every
module of the symbol against the mask (``apply_mask``). Both depend only on the version: the
order in which the free modules are filled, and which of them mask 4 flips. :func:`make` runs
segno's own steps for everything else (segments, version, error level boost, codewords with
Reed-Solomon, format and version information) and does those two from tables built once per
version, with segno's own traversal and mask function. The result is segno's ``Code``, module for
module (tests/test_render_qr.py compares the matrices); segno is pinned in constraints.txt.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

__all__ = ["make"]

_MASK = 4


@functools.lru_cache(maxsize=16)
def _tables(version: int) -> tuple[bytes, tuple[int, ...], tuple[int, ...]]:
    """(the matrix with the function patterns, row after row; the free modules in placement order;
    the modules mask 4 flips), modules as offsets into the rows laid end to end."""
    enc: Any = importlib.import_module("segno.encoder")  # segno's internals are untyped

    width = enc.calc_matrix_size(version)
    matrix = enc.make_matrix(width, width)
    enc.add_finder_patterns(matrix, width, width)
    enc.add_alignment_patterns(matrix, width, width)
    order: list[int] = []
    for right in range(width - 1, 0, -2):  # segno's add_codewords, for QR (not Micro QR) codes
        if right <= 6:
            right -= 1
        for vertical in range(width):
            for z in range(2):
                j = right - z
                upwards = ((right & 2) == 0) ^ (j < 6)
                i = (width - 1 - vertical) if upwards else vertical
                if matrix[i][j] == 0x2:
                    order.append(i * width + j)
    function = enc.make_matrix(width, width)  # as find_and_apply_best_mask builds it
    enc.add_finder_patterns(function, width, width)
    enc.add_alignment_patterns(function, width, width)
    function[-8][8] = 0x1
    pattern = enc.get_data_mask_functions(False)[_MASK]
    flips = tuple(i * width + j for i in range(width) for j in range(width) if function[i][j] > 0x1 and pattern(i, j))
    return b"".join(matrix), tuple(order), flips


def make(content: str) -> Any:
    """``segno.make(content, error="m", boost_error=True, micro=False, mask=4)``, faster."""
    import segno

    consts: Any = importlib.import_module("segno.consts")
    enc: Any = importlib.import_module("segno.encoder")  # segno's internals are untyped

    error = enc.normalize_errorlevel("m", accept_none=True)
    segments = enc.prepare_data(content, None, None)
    version = enc.find_version(segments, error, eci=False, micro=False)
    mask = enc.normalize_mask(_MASK, False)
    error = enc.boost_error_level(version, error, segments, False, is_sa=False)
    buff = enc.Buffer()
    ver_range = enc.version_range(version)
    for segment in segments:
        enc.write_segment(buff, segment, None, ver_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][error]
    enc.write_terminator(buff, capacity, None, len(buff))
    enc.write_padding_bits(buff, version, len(buff))
    enc.write_pad_codewords(buff, version, capacity, len(buff))
    bits = enc.make_final_message(version, error, buff).getbits()
    template, order, flips = _tables(version)
    if len(bits) > len(order):  # pragma: no cover - segno would have raised too
        raise ValueError("QR codewords do not fit the symbol")
    flat = bytearray(template)
    for at, bit in zip(order, bits, strict=False):
        flat[at] = bit
    for at in flips:
        flat[at] ^= 1
    width = enc.calc_matrix_size(version)
    matrix = tuple(flat[k : k + width] for k in range(0, len(flat), width))
    enc.add_format_info(matrix, version, error, mask)
    enc.add_version_info(matrix, version)
    qrcode: Any = segno.QRCode  # its stub omits the constructor's code argument
    return qrcode(enc.Code(matrix, version, error, mask, segments))
