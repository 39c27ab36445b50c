#!/usr/bin/env python3
"""Writes libFuzzer seed inputs for PierFuzz: every record of the classic pcap captures
given, as one file each, prefixed with the selector byte PierFuzz reads (the link type
index, plus 0x80 when the record was cut short by the snap length).

Usage: fuzz-seeds.py OUTDIR CAPTURE...
"""
import os
import struct
import sys

# PierFuzz's link-type table: ethernet, raw, linuxSLL, linuxSLL2, ipv4, ipv6.
SELECTORS = {1: 0, 101: 1, 12: 1, 14: 1, 113: 2, 276: 3, 228: 4, 229: 5}


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        return  # pcapng and others: not needed for seeds
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, origlen = struct.unpack(order + "IIII", data[offset:offset + 16])
        body = data[offset + 16:offset + 16 + caplen]
        if len(body) < caplen:
            return
        yield linktype, body, origlen > caplen
        offset += 16 + caplen


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    count = 0
    for path in sys.argv[2:]:
        base = os.path.basename(path)
        for index, (linktype, body, cut) in enumerate(records(path)):
            selector = SELECTORS.get(linktype)
            if selector is None:
                continue
            with open(os.path.join(out, f"{base}-{index + 1}"), "wb") as f:
                f.write(bytes([selector | (0x80 if cut else 0)]) + body)
            count += 1
    print(f"{count} seeds in {out}")


if __name__ == "__main__":
    main()
