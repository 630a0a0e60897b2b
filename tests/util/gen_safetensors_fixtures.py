#!/usr/bin/python3
"""Writes the safetensors test fixtures with an independent writer (struct + json + numpy, no attnlab code):
  data/python_written.safetensors  every dtype, a scalar, a zero-size tensor, metadata; header laid out the way
                                   attnlab's writer lays it out, so the C++ test can also compare bytes
  data/malformed/*.safetensors     one broken rule per file; tests/util/test_safetensors_malformed.cpp names
                                   the rule each must be rejected for
Run with the system python (it has numpy):  /usr/bin/python3 tests/util/gen_safetensors_fixtures.py
The output is deterministic; commit it.
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
MALFORMED = os.path.join(DATA, "malformed")


def container(header: bytes, data: bytes = b"", pad: bool = True) -> bytes:
    """[u64 LE len][header, space-padded to a multiple of 8][data]"""
    if pad:
        header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + data


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def bf16_bits(values) -> np.ndarray:
    """bfloat16 = the top 16 bits of float32 (the values below are exact, so truncation = rounding)."""
    return (np.asarray(values, dtype="<f4").view("<u4") >> 16).astype("<u2")


def python_written() -> bytes:
    arrays = [  # (name, dtype tag, little-endian numpy array); the C++ test spells out the same values
        ("f64", "F64", np.array([[0.5, -1.25], [3.0, 1e-300]], dtype="<f8")),
        ("f32", "F32", (np.arange(6, dtype="<f4") * 0.5 - 1).reshape(2, 3)),
        ("f16", "F16", np.array([1.0, -2.0, 0.5], dtype="<f2")),
        ("bf16", "BF16", bf16_bits([1.0, -3.5])),
        ("i64", "I64", np.array([-9007199254740993, 2**62], dtype="<i8")),
        ("i32", "I32", np.array([[-7], [123456789]], dtype="<i4")),
        ("i8", "I8", np.array([-128, -1, 0, 127], dtype="i1")),
        ("u8", "U8", np.array([0, 200, 255], dtype="u1")),
        ("bool", "BOOL", np.array([True, False, True], dtype="?")),
        ("scalar", "F32", np.array(42.0, dtype="<f4")),
        ("empty", "F32", np.zeros((0, 3), dtype="<f4")),
    ]
    header = {"__metadata__": {"format": "pt", "note": "h\u00e9llo \u2713 from numpy"}}
    data = b""
    for name, tag, array in arrays:
        raw = array.tobytes()
        header[name] = entry(tag, list(array.shape), len(data), len(data) + len(raw))
        data += raw
    return container(dumps(header), data)


def malformed() -> dict:
    a8 = entry("F32", [2], 0, 8)
    cases = {
        "empty_file": b"",
        "truncated_prefix": b"\x10\x00\x00\x00",
        "header_cut_short": container(dumps({"a": a8}), bytes(8))[:20],
        "huge_header_length": struct.pack("<Q", 200_000_000) + b"{}",
        "header_length_past_file": struct.pack("<Q", 1000) + b"{}      ",
        "zero_header_length": struct.pack("<Q", 0),
        "not_json": container(b"hello, world"),
        "json_not_object": container(b"[1,2]"),
        "bad_utf8_byte": container(b'{"a\xff":{}}'),
        "bad_utf8_overlong": container(b'{"a\xc0\xaf":{}}'),
        "bad_utf8_surrogate": container(b'{"a\xed\xa0\x80":{}}'),
        "bad_utf8_truncated_sequence": container(b'{"a\xe2\x82":{}}'),
        "number_overflow": container(dumps({"a": a8})[:-1] + b',"b":1e999}'),
        "deep_nesting": container(b"{\"a\":" + b"[" * 20 + b"]" * 20 + b"}"),
        "entry_not_object": container(dumps({"a": [1, 2]})),
        "unknown_dtype": container(dumps({"a": entry("U16", [4], 0, 8)}), bytes(8)),
        "dtype_not_string": container(dumps({"a": entry(4, [2], 0, 8)}), bytes(8)),
        "negative_shape": container(dumps({"a": entry("F32", [-2, 3], 0, 8)}), bytes(8)),
        "float_shape": container(dumps({"a": entry("F32", [2.5], 0, 8)}), bytes(8)),
        "string_shape": container(dumps({"a": entry("F32", "2", 0, 8)}), bytes(8)),
        "shape_past_int64": container(dumps({"a": entry("U8", [2**64 - 1], 0, 8)}), bytes(8)),
        "shape_product_overflow": container(dumps({"a": entry("F32", [2**32, 2**32], 0, 8)}), bytes(8)),
        "missing_key": container(dumps({"a": {"dtype": "F32", "shape": [2]}}), bytes(8)),
        "extra_key": container(dumps({"a": dict(a8, offsets=[0, 8])}), bytes(8)),
        "offsets_wrong_arity": container(dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}), bytes(8)),
        "negative_offset": container(dumps({"a": entry("F32", [2], -8, 0)}), bytes(8)),
        "begin_after_end": container(dumps({"a": entry("F32", [2], 8, 0)}), bytes(8)),
        "offsets_out_of_bounds": container(dumps({"a": a8}), bytes(4)),
        "wrong_byte_count": container(dumps({"w": entry("F32", [2, 3, 4], 0, 95)}), bytes(95)),
        "overlapping_offsets": container(dumps({"a": a8, "b": entry("F32", [2], 4, 12)}), bytes(12)),
        "zero_size_inside_other": container(dumps({"a": a8, "z": entry("F32", [0], 4, 4)}), bytes(8)),
        "gap_between_tensors": container(dumps({"a": a8, "b": entry("F32", [2], 12, 20)}), bytes(20)),
        "gap_at_start": container(dumps({"a": entry("F32", [2], 4, 12)}), bytes(12)),
        "trailing_bytes": container(dumps({"a": a8}), bytes(12)),
        "duplicate_names": container(b'{"a":' + dumps(a8) + b',"a":' + dumps(a8) + b"}", bytes(8)),
        "duplicate_entry_key": container(b'{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
                                         bytes(8)),
        "empty_name": container(dumps({"": a8}), bytes(8)),
        "metadata_not_object": container(dumps({"__metadata__": "pt", "a": a8}), bytes(8)),
        "metadata_value_not_string": container(dumps({"__metadata__": {"epoch": 3}, "a": a8}), bytes(8)),
        "two_bad_entries": container(dumps({"a": entry("F32", [-1], 0, 8), "b": entry("X9", [1], 8, 16)}), bytes(16)),
    }
    return cases


def main():
    os.makedirs(MALFORMED, exist_ok=True)
    with open(os.path.join(DATA, "python_written.safetensors"), "wb") as f:
        f.write(python_written())
    for name, blob in malformed().items():
        with open(os.path.join(MALFORMED, name + ".safetensors"), "wb") as f:
            f.write(blob)
    print(f"wrote {DATA}/python_written.safetensors and {len(malformed())} files in {MALFORMED}")


if __name__ == "__main__":
    main()
