"""Writer for the golden-record files read by tests/quant/golden.h (format "LQG1").

File: b"LQG1", u32 record count, then per record (all little-endian):
  u32 name length, name bytes (UTF-8)
  u32 meta count, meta count x u64        (type ids, shapes, checksums, row indices ...)
  u64 byte count, raw bytes               (block bytes, expected quantized bytes ...)
  u64 float count, float32 values         (expected or input floats)
"""
import struct
import numpy as np


def write_records(path, records):
    with open(path, "wb") as f:
        f.write(b"LQG1")
        f.write(struct.pack("<I", len(records)))
        for name, meta, raw, floats in records:
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<I", len(meta)))
            for m in meta:
                f.write(struct.pack("<Q", int(m) & 0xFFFFFFFFFFFFFFFF))
            raw = np.ascontiguousarray(raw, dtype=np.uint8).tobytes()
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            fl = np.ascontiguousarray(floats, dtype=np.float32).tobytes()
            f.write(struct.pack("<Q", len(fl) // 4))
            f.write(fl)


def bit_checksum(values):
    """Order-sensitive checksum of float32 bit patterns: sum(bits[i] * (2i+1)) mod 2^64."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64).ravel()
    idx = np.arange(bits.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        return int(np.sum(bits * idx, dtype=np.uint64))


def byte_checksum(raw):
    """Order-sensitive checksum of bytes: sum(byte[i] * (2i+1)) mod 2^64."""
    b = np.ascontiguousarray(raw, dtype=np.uint8).astype(np.uint64).ravel()
    idx = np.arange(b.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        return int(np.sum(b * idx, dtype=np.uint64))
