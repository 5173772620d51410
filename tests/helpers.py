"""Helpers the tests and the benchmarks share (never the product): free ports on 127.0.0.1 and the
ways the fault benchmark damages a file."""

import os
import socket


def free_ports(n):
    """n TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def damage_file(path, how):
    """Damages a file the way a crash, a full disk or bit rot would: "truncate" (to half),
    "flip" (every 1/16th byte inverted), "garbage" (replaced by bytes no writer makes), anything
    else removes it."""
    if how == "truncate":
        with open(path, "r+b") as f:
            f.truncate(max(1, os.path.getsize(path) // 2))
    elif how == "flip":
        with open(path, "rb") as f:
            data = bytearray(f.read())
        for i in range(0, len(data), max(1, len(data) // 16)):
            data[i] ^= 0xFF
        with open(path, "wb") as f:
            f.write(bytes(data))
    elif how == "garbage":
        with open(path, "wb") as f:
            f.write(b"\x00\x01 not what was written {{{")
    else:
        os.remove(path)
