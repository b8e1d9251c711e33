"""Just enough ELF reading to tell a static binary from a dynamic one and name its machine."""

from __future__ import annotations

import struct
from pathlib import Path

MACHINES = {0x3E: "x86-64", 0xB7: "AArch64", 0x28: "ARM", 0x03: "x86"}
PT_INTERP = 3


def machine(path: Path) -> str:
    data = path.read_bytes()[:64]
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path} is not an ELF file")
    endian = "<" if data[5] == 1 else ">"
    (e_machine,) = struct.unpack_from(endian + "H", data, 18)
    return MACHINES.get(e_machine, hex(e_machine))


def interpreter(path: Path) -> str | None:
    """The program interpreter (dynamic loader) the binary asks for, or None if static."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path} is not an ELF file")
    is64, endian = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        (phoff,) = struct.unpack_from(endian + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 54)
    else:
        (phoff,) = struct.unpack_from(endian + "I", data, 28)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 42)
    for i in range(phnum):
        off = phoff + i * phentsize
        (p_type,) = struct.unpack_from(endian + "I", data, off)
        if p_type != PT_INTERP:
            continue
        if is64:
            (p_offset,) = struct.unpack_from(endian + "Q", data, off + 8)
            (p_filesz,) = struct.unpack_from(endian + "Q", data, off + 32)
        else:
            (p_offset,) = struct.unpack_from(endian + "I", data, off + 4)
            (p_filesz,) = struct.unpack_from(endian + "I", data, off + 16)
        return data[p_offset : p_offset + p_filesz].rstrip(b"\0").decode()
    return None
