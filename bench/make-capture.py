#!/usr/bin/env python3
"""Writes a synthetic capture for throughput runs: N Ethernet/IPv4/UDP frames (default one
million) of SIZE bytes (default 64), spread over 256 flows, classic pcap in microseconds;
with --pcapng, the same frames and times as pcapng (one section, one interface "eth0" in
microseconds, an enhanced packet block per frame), as dumpcap writes.

Usage: make-capture.py [--pcapng] OUT [N] [SIZE]
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from generate import checksum  # noqa: E402 (the fixture generators' RFC 1071 code)
from pcaplib import FILE_HEADER, pcapng_header, pcapng_packet, record_header  # noqa: E402


def frame(flow: int, size: int) -> bytes:
    payload = bytes(max(0, size - 42))
    udp = struct.pack("!HHHH", 40000 + flow, 8080, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), flow, 0x4000, 64, 17, 0,
                     bytes([10, 244, 1, flow % 250 + 2]), bytes([10, 244, 2, 7]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return bytes.fromhex("02000000000202000000000108 00".replace(" ", "")) + ip + udp


def main():
    args = sys.argv[1:]
    pcapng = "--pcapng" in args
    args = [arg for arg in args if arg != "--pcapng"]
    out = args[0]
    count = int(args[1]) if len(args) > 1 else 1_000_000
    size = int(args[2]) if len(args) > 2 else 64
    frames = [frame(flow, size) for flow in range(256)]
    with open(out, "wb") as f:
        f.write(pcapng_header(["eth0"]) if pcapng else FILE_HEADER)
        chunk = []
        for index in range(count):
            body = frames[index & 255]
            if pcapng:
                chunk.append(pcapng_packet(0, index // 1_000_000, index % 1_000_000, body))
                continue
            chunk.append(record_header(index // 1_000_000, index % 1_000_000, len(body)))
            chunk.append(body)
            if len(chunk) >= 20_000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


if __name__ == "__main__":
    main()
