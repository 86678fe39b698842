"""A small SM83 (Game Boy CPU) assembler written as Python calls.

Only what the test world needs: every load form including ``[hl+]``/``[hl-]`` and ``ldh``, 8/16-bit
arithmetic and logic, conditional ``jp``/``jr``/``call``/``ret``, ``push``/``pop``, the CB-prefixed bit,
shift and rotate ops, ``halt``/``ei``/``di``/``rst``, ``db``/``dw`` data, labels with forward references
and the cartridge header with both checksums.

Operands
--------
* 8-bit registers ``"a" "b" "c" "d" "e" "h" "l"`` and ``"[hl]"``; 16-bit ``"bc" "de" "hl" "sp" "af"``.
* Indirect memory ``"[bc]" "[de]" "[hl+]" "[hl-]" "[c]"`` (``[hli]``/``[hld]`` are accepted too).
* ``ld hl, sp+e`` is written ``a.ld("hl", "sp+4")``.
* Direct memory is a one-element list: ``a.ld([0xD35E], "a")`` or ``a.ld("a", ["wCounter"])``.
* Immediates are ints, or label names (optionally ``"name+3"`` / ``"name-1"``).
* Condition codes ``"nz" "z" "nc" "c"`` as the first argument of ``jp``/``jr``/``call``/``ret``.
* Labels starting with ``.`` are local to the last global label, as in RGBDS.

Example::

    a = Asm()
    a.org(0x150)
    a.label("Start")
    a.ld("hl", 0xC000)
    a.label(".loop")
    a.xor("a")
    a.ld("[hl+]", "a")
    a.jr(".loop")
    rom = a.rom(title="MY GAME")

Every mistake (a ``jr`` that cannot reach, an unknown or duplicate label, a value that does not fit)
raises :class:`AsmError` with a message that says what is wrong and how to fix it.
"""

from __future__ import annotations

import re

__all__ = [
    "AsmError",
    "Asm",
    "ROM_SIZE",
    "header_checksum",
    "global_checksum",
]

ROM_SIZE = 0x8000  # 32 KiB: two 16 KiB banks, no bank switching needed.

_R8 = {"b": 0, "c": 1, "d": 2, "e": 3, "h": 4, "l": 5, "[hl]": 6, "a": 7}
_R16 = {"bc": 0, "de": 1, "hl": 2, "sp": 3}
_R16_STACK = {"bc": 0, "de": 1, "hl": 2, "af": 3}
_COND = {"nz": 0, "z": 1, "nc": 2, "c": 3}
_ALU = {"add": 0, "adc": 1, "sub": 2, "sbc": 3, "and": 4, "xor": 5, "or": 6, "cp": 7}
_CB_SHIFT = {"rlc": 0, "rrc": 1, "rl": 2, "rr": 3, "sla": 4, "sra": 5, "swap": 6, "srl": 7}
_INDIRECT = {"[bc]", "[de]", "[hl+]", "[hl-]", "[hli]", "[hld]", "[c]"}
_RESERVED = set(_R8) | set(_R16) | set(_R16_STACK) | set(_COND) | _INDIRECT
_NAME_RE = re.compile(r"^\.?[A-Za-z_][A-Za-z0-9_.]*$")
_SP_OFFSET_RE = re.compile(r"^sp[+-](0x[0-9a-f]+|\d+)$")
_REF_RE = re.compile(r"^(\.?[A-Za-z_][A-Za-z0-9_.]*)\s*(?:([+-])\s*(0x[0-9A-Fa-f]+|\d+))?$")

# Header layout (Pan Docs "The Cartridge Header").
_TITLE = 0x134
_TITLE_MAX = 15  # 0x134-0x142; 0x143 is the CGB flag.
_CGB_FLAG = 0x143
_CART_TYPE = 0x147
_ROM_SIZE_CODE = 0x148
_RAM_SIZE_CODE = 0x149
_DEST_CODE = 0x14A
_OLD_LICENSEE = 0x14B
_HEADER_CHECKSUM = 0x14D
_GLOBAL_CHECKSUM = 0x14E
_HEADER_END = 0x150
CART_ROM_ONLY = 0x00
CART_MBC1 = 0x01  # MBC1 without RAM or battery
CART_MBC3_RAM_BATTERY = 0x13  # Red's cartridge: MBC3, RAM, battery (a .sav)
RAM_32K = 0x03  # four 8 KiB banks, as Red's


def _has(table, op) -> bool:
    """``op in table`` for operands that may be lists (direct memory) or ints."""
    return isinstance(op, str) and op in table


class AsmError(ValueError):
    """A malformed program: the message names the instruction, label or value at fault."""


def header_checksum(rom: bytes | bytearray) -> int:
    """The byte at 0x14D: x = x - rom[i] - 1 over 0x134..0x14C (the boot ROM checks it)."""
    x = 0
    for i in range(_TITLE, _HEADER_CHECKSUM):
        x = (x - rom[i] - 1) & 0xFF
    return x


def global_checksum(rom: bytes | bytearray) -> int:
    """The big-endian word at 0x14E: sum of every ROM byte except the two checksum bytes."""
    return (sum(rom) - rom[_GLOBAL_CHECKSUM] - rom[_GLOBAL_CHECKSUM + 1]) & 0xFFFF


class Asm:
    """Emits SM83 machine code into a fixed-size ROM image; labels are resolved by :meth:`link`."""

    def __init__(self, size: int = ROM_SIZE, fill: int = 0x00):
        self._rom = bytearray([fill]) * size
        self._used = bytearray(size)  # 1 where a byte was emitted: catches overlapping org() blocks
        self._pc = 0
        self._labels: dict[str, int] = {}
        self._fixups: list[tuple[int, str, str, int, str]] = []  # (pos, kind, name, addend, where)
        self._scope = ""

    # ---------------------------------------------------------------- placement and labels
    @property
    def pc(self) -> int:
        """Address of the next emitted byte."""
        return self._pc

    def org(self, addr: int) -> None:
        """Continue emitting at ``addr`` (a fresh region: overlapping earlier code is an error)."""
        if not 0 <= addr <= len(self._rom):
            raise AsmError(f"org(0x{addr:X}) is outside the {len(self._rom)}-byte ROM")
        self._pc = addr

    def entry(self, label: str = "Start") -> None:
        """The cartridge entry point: ``nop; jp label`` at 0x100, then continue at 0x150, past the header."""
        self.org(0x100)
        self.nop()
        self.jp(label)
        self.org(_HEADER_END)

    def label(self, name: str) -> str:
        """Define ``name`` at the current address; names starting with '.' are local. Returns the full name."""
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise AsmError(f"bad label name {name!r}: use letters, digits, '_' (a leading '.' makes it local)")
        if name.lower() in _RESERVED:
            raise AsmError(f"label name {name!r} is a register or condition name: pick another name")
        if name.startswith("."):
            if not self._scope:
                raise AsmError(f"local label {name!r} has no global label before it: define a global label first")
            full = self._scope + name
        else:
            full = name
            self._scope = name
        if full in self._labels:
            raise AsmError(
                f"duplicate label {full!r}: defined at 0x{self._labels[full]:04X} and again at 0x{self._pc:04X}; "
                "rename one of them"
            )
        self._labels[full] = self._pc
        return full

    def define(self, name: str, value: int) -> None:
        """Give a label a fixed value (a RAM address, a constant) instead of the current address."""
        if not isinstance(name, str) or not _NAME_RE.match(name) or name.startswith("."):
            raise AsmError(f"bad constant name {name!r}: use letters, digits and '_'")
        if name.lower() in _RESERVED:
            raise AsmError(f"constant name {name!r} is a register or condition name: pick another name")
        if name in self._labels:
            raise AsmError(f"duplicate label {name!r}: already defined as 0x{self._labels[name]:04X}")
        self._labels[name] = int(value)

    def address_of(self, name: str) -> int:
        """Address of a defined global label (after it was emitted)."""
        if name not in self._labels:
            raise AsmError(f"unknown label {name!r}: it is not defined (yet)")
        return self._labels[name]

    @property
    def labels(self) -> dict[str, int]:
        """A copy of every defined label and its address."""
        return dict(self._labels)

    # ---------------------------------------------------------------- raw emission
    def _where(self) -> str:
        return f"0x{self._pc:04X}" + (f" (after {self._scope})" if self._scope else "")

    def _byte(self, value: int) -> None:
        if self._pc >= len(self._rom):
            raise AsmError(f"program overflows the {len(self._rom)}-byte ROM at {self._where()}: make it smaller")
        if self._used[self._pc]:
            raise AsmError(f"byte 0x{self._pc:04X} written twice: an org() block overlaps earlier code")
        self._rom[self._pc] = value & 0xFF
        self._used[self._pc] = 1
        self._pc += 1

    def _ref(self, value: int | str, kind: str) -> None:
        """Emit a placeholder for ``value`` (int or label reference) and record a fix-up."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise AsmError(f"operand {value!r} at {self._where()} must be an int or a label name")
        if isinstance(value, int):
            name, addend = "", value
        else:
            m = _REF_RE.match(value.strip())
            if not m or m.group(1).lower() in _RESERVED:
                raise AsmError(f"operand {value!r} at {self._where()} is neither a label (name[+n]) nor valid here")
            name = m.group(1)
            if name.startswith("."):
                if not self._scope:
                    raise AsmError(f"local label {name!r} used at {self._where()} with no global label before it")
                name = self._scope + name
            addend = 0
            if m.group(2):
                addend = int(m.group(3), 0) * (1 if m.group(2) == "+" else -1)
        pos, where = self._pc, self._where()
        size = 2 if kind == "u16" else 1
        for _ in range(size):
            self._byte(0)
        self._fixups.append((pos, kind, name, addend, where))

    def db(self, *values: int | bytes | bytearray | list | tuple) -> None:
        """Emit bytes: ints (0..255 or -128..-1), bytes objects or sequences of ints."""
        for v in values:
            if isinstance(v, (bytes, bytearray, list, tuple)):
                self.db(*v)
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not -128 <= v <= 0xFF:
                raise AsmError(f"db value {v!r} at {self._where()} does not fit in a byte")
            self._byte(v)

    def dw(self, *values: int | str) -> None:
        """Emit little-endian 16-bit words (ints or label names)."""
        for v in values:
            self._ref(v, "u16")

    # ---------------------------------------------------------------- operand helpers
    @staticmethod
    def _norm(op):
        if isinstance(op, str):
            s = op.strip().lower().replace(" ", "")
            if s in ("[hli]", "[hl+]"):
                return "[hl+]"
            if s in ("[hld]", "[hl-]"):
                return "[hl-]"
            if _has(_RESERVED, s):
                return s
            return op.strip()
        return op

    @staticmethod
    def _is_mem(op) -> bool:
        return isinstance(op, list) and len(op) == 1

    def _bad(self, mnemonic: str, *ops) -> AsmError:
        shown = ", ".join(repr(o) for o in ops)
        return AsmError(f"'{mnemonic} {shown}' at {self._where()} is not an SM83 instruction: check the operands")

    def _imm8(self, value) -> None:
        if isinstance(value, int) and not -128 <= value <= 0xFF:
            raise AsmError(f"immediate {value} at {self._where()} does not fit in 8 bits")
        self._ref(value, "u8")

    # ---------------------------------------------------------------- loads
    def ld(self, dst, src) -> None:
        """All SM83 ``ld`` forms (see module docstring for the operand syntax)."""
        d, s = self._norm(dst), self._norm(src)
        if _has(_R8, d) and _has(_R8, s):
            if d == "[hl]" and s == "[hl]":
                raise self._bad("ld", dst, src)  # that encoding is halt
            self._byte(0x40 | _R8[d] << 3 | _R8[s])
        elif _has(_R8, d) and not self._is_mem(s) and not (isinstance(s, str) and _has(_RESERVED, s)):
            self._byte(0x06 | _R8[d] << 3)
            self._imm8(s)
        elif d == "hl" and isinstance(s, str) and _SP_OFFSET_RE.match(s.replace(" ", "").lower()):
            e = int(s.replace(" ", "").lower()[2:], 0)
            if not -128 <= e <= 127:
                raise AsmError(f"'ld hl, {src}' at {self._where()}: the offset must be in -128..127")
            self._byte(0xF8)
            self._byte(e)
        elif _has(_R16, d) and not self._is_mem(s) and not (isinstance(s, str) and _has(_RESERVED, s)):
            self._byte(0x01 | _R16[d] << 4)
            self._ref(s, "u16")
        elif d == "sp" and s == "hl":
            self._byte(0xF9)
        elif s == "a" and d in ("[bc]", "[de]", "[hl+]", "[hl-]", "[c]"):
            self._byte({"[bc]": 0x02, "[de]": 0x12, "[hl+]": 0x22, "[hl-]": 0x32, "[c]": 0xE2}[d])
        elif d == "a" and s in ("[bc]", "[de]", "[hl+]", "[hl-]", "[c]"):
            self._byte({"[bc]": 0x0A, "[de]": 0x1A, "[hl+]": 0x2A, "[hl-]": 0x3A, "[c]": 0xF2}[s])
        elif self._is_mem(d) and s == "a":
            self._byte(0xEA)
            self._ref(d[0], "u16")
        elif d == "a" and self._is_mem(s):
            self._byte(0xFA)
            self._ref(s[0], "u16")
        elif self._is_mem(d) and s == "sp":
            self._byte(0x08)
            self._ref(d[0], "u16")
        else:
            raise self._bad("ld", dst, src)

    def ldh(self, dst, src) -> None:
        """``ldh [n], a`` / ``ldh a, [n]`` with n given as 0xFF00..0xFFFF or 0x00..0xFF."""
        d, s = self._norm(dst), self._norm(src)
        if self._is_mem(d) and s == "a":
            self._byte(0xE0)
            self._ref(d[0], "hram")
        elif d == "a" and self._is_mem(s):
            self._byte(0xF0)
            self._ref(s[0], "hram")
        else:
            raise self._bad("ldh", dst, src)

    def push(self, rr: str) -> None:
        r = self._norm(rr)
        if not _has(_R16_STACK, r):
            raise self._bad("push", rr)
        self._byte(0xC5 | _R16_STACK[r] << 4)

    def pop(self, rr: str) -> None:
        r = self._norm(rr)
        if not _has(_R16_STACK, r):
            raise self._bad("pop", rr)
        self._byte(0xC1 | _R16_STACK[r] << 4)

    # ---------------------------------------------------------------- arithmetic and logic
    def inc(self, r) -> None:
        x = self._norm(r)
        if _has(_R8, x):
            self._byte(0x04 | _R8[x] << 3)
        elif _has(_R16, x):
            self._byte(0x03 | _R16[x] << 4)
        else:
            raise self._bad("inc", r)

    def dec(self, r) -> None:
        x = self._norm(r)
        if _has(_R8, x):
            self._byte(0x05 | _R8[x] << 3)
        elif _has(_R16, x):
            self._byte(0x0B | _R16[x] << 4)
        else:
            raise self._bad("dec", r)

    def _alu(self, name: str, args: tuple) -> None:
        if len(args) == 2:
            if self._norm(args[0]) != "a":
                raise self._bad(name, *args)
            src = args[1]
        elif len(args) == 1:
            src = args[0]
        else:
            raise self._bad(name, *args)
        s = self._norm(src)
        if _has(_R8, s):
            self._byte(0x80 | _ALU[name] << 3 | _R8[s])
        elif self._is_mem(s) or (isinstance(s, str) and _has(_RESERVED, s)):
            raise self._bad(name, *args)
        else:
            self._byte(0xC6 | _ALU[name] << 3)
            self._imm8(s)

    def add(self, *args) -> None:
        """``add a, x`` (or ``add x``), ``add hl, rr``, ``add sp, e``."""
        if len(args) == 2 and self._norm(args[0]) == "hl":
            rr = self._norm(args[1])
            if not _has(_R16, rr):
                raise self._bad("add", *args)
            self._byte(0x09 | _R16[rr] << 4)
        elif len(args) == 2 and self._norm(args[0]) == "sp":
            e = args[1]
            if not isinstance(e, int) or not -128 <= e <= 127:
                raise AsmError(f"'add sp, {e!r}' at {self._where()}: offset must be an int in -128..127")
            self._byte(0xE8)
            self._byte(e)
        else:
            self._alu("add", args)

    def adc(self, *args) -> None:
        self._alu("adc", args)

    def sub(self, *args) -> None:
        self._alu("sub", args)

    def sbc(self, *args) -> None:
        self._alu("sbc", args)

    def and_(self, *args) -> None:
        self._alu("and", args)

    def xor(self, *args) -> None:
        self._alu("xor", args)

    def or_(self, *args) -> None:
        self._alu("or", args)

    def cp(self, *args) -> None:
        self._alu("cp", args)

    def daa(self) -> None:
        self._byte(0x27)

    def cpl(self) -> None:
        self._byte(0x2F)

    def scf(self) -> None:
        self._byte(0x37)

    def ccf(self) -> None:
        self._byte(0x3F)

    def rlca(self) -> None:
        self._byte(0x07)

    def rrca(self) -> None:
        self._byte(0x0F)

    def rla(self) -> None:
        self._byte(0x17)

    def rra(self) -> None:
        self._byte(0x1F)

    # ---------------------------------------------------------------- CB prefix
    def _cb(self, name: str, base: int, r) -> None:
        x = self._norm(r)
        if not _has(_R8, x):
            raise self._bad(name, r)
        self._byte(0xCB)
        self._byte(base | _R8[x])

    def _cb_bit(self, name: str, base: int, b, r) -> None:
        if isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= 7:
            raise AsmError(f"'{name} {b!r}, {r!r}' at {self._where()}: the bit number must be 0..7")
        self._cb(name, base | b << 3, r)

    def rlc(self, r) -> None:
        self._cb("rlc", _CB_SHIFT["rlc"] << 3, r)

    def rrc(self, r) -> None:
        self._cb("rrc", _CB_SHIFT["rrc"] << 3, r)

    def rl(self, r) -> None:
        self._cb("rl", _CB_SHIFT["rl"] << 3, r)

    def rr(self, r) -> None:
        self._cb("rr", _CB_SHIFT["rr"] << 3, r)

    def sla(self, r) -> None:
        self._cb("sla", _CB_SHIFT["sla"] << 3, r)

    def sra(self, r) -> None:
        self._cb("sra", _CB_SHIFT["sra"] << 3, r)

    def swap(self, r) -> None:
        self._cb("swap", _CB_SHIFT["swap"] << 3, r)

    def srl(self, r) -> None:
        self._cb("srl", _CB_SHIFT["srl"] << 3, r)

    def bit(self, b: int, r) -> None:
        self._cb_bit("bit", 0x40, b, r)

    def res(self, b: int, r) -> None:
        self._cb_bit("res", 0x80, b, r)

    def set(self, b: int, r) -> None:
        self._cb_bit("set", 0xC0, b, r)

    # ---------------------------------------------------------------- control flow
    def _cond_target(self, name: str, args: tuple):
        if len(args) == 1:
            return None, args[0]
        if len(args) == 2:
            c = self._norm(args[0])
            if not _has(_COND, c):
                raise AsmError(f"'{name}' at {self._where()}: condition {args[0]!r} must be one of nz, z, nc, c")
            return c, args[1]
        raise self._bad(name, *args)

    def jp(self, *args) -> None:
        """``jp target``, ``jp cc, target`` or ``jp hl``."""
        if len(args) == 1 and self._norm(args[0]) in ("hl", "[hl]"):
            self._byte(0xE9)
            return
        c, t = self._cond_target("jp", args)
        self._byte(0xC3 if c is None else 0xC2 | _COND[c] << 3)
        self._ref(t, "u16")

    def jr(self, *args) -> None:
        """``jr target`` / ``jr cc, target``: reaches -128..+127 bytes from the next instruction."""
        c, t = self._cond_target("jr", args)
        self._byte(0x18 if c is None else 0x20 | _COND[c] << 3)
        self._ref(t, "rel8")

    def call(self, *args) -> None:
        c, t = self._cond_target("call", args)
        self._byte(0xCD if c is None else 0xC4 | _COND[c] << 3)
        self._ref(t, "u16")

    def ret(self, cond: str | None = None) -> None:
        if cond is None:
            self._byte(0xC9)
            return
        c = self._norm(cond)
        if not _has(_COND, c):
            raise AsmError(f"'ret {cond!r}' at {self._where()}: condition must be one of nz, z, nc, c")
        self._byte(0xC0 | _COND[c] << 3)

    def reti(self) -> None:
        self._byte(0xD9)

    def rst(self, vector: int) -> None:
        if vector not in range(0, 0x40, 8):
            raise AsmError(f"'rst 0x{vector:X}' at {self._where()}: the vector must be 0x00, 0x08, ..., 0x38")
        self._byte(0xC7 | vector)

    def nop(self) -> None:
        self._byte(0x00)

    def halt(self) -> None:
        self._byte(0x76)

    def stop(self) -> None:
        self._byte(0x10)
        self._byte(0x00)

    def di(self) -> None:
        self._byte(0xF3)

    def ei(self) -> None:
        self._byte(0xFB)

    # ---------------------------------------------------------------- linking and the header
    def link(self) -> bytearray:
        """Resolve every label reference; returns the ROM image (without header checksums)."""
        rom = bytearray(self._rom)
        for pos, kind, name, addend, where in self._fixups:
            if name:
                if name not in self._labels:
                    raise AsmError(
                        f"unknown label {name!r} referenced by the operand at {where}: define it with label()/define() or fix the name"
                    )
                value = self._labels[name] + addend
            else:
                value = addend
            shown = repr(name) if name else f"0x{value:X}"
            if kind == "u16":
                if not -0x8000 <= value <= 0xFFFF:
                    raise AsmError(f"16-bit operand {shown} = {value} at {where} does not fit in 16 bits")
                rom[pos] = value & 0xFF
                rom[pos + 1] = (value >> 8) & 0xFF
            elif kind == "u8":
                if not -128 <= value <= 0xFF:
                    raise AsmError(f"8-bit operand {shown} = 0x{value:X} at {where} does not fit in a byte")
                rom[pos] = value & 0xFF
            elif kind == "hram":
                if 0xFF00 <= value <= 0xFFFF:
                    value -= 0xFF00
                if not 0 <= value <= 0xFF:
                    raise AsmError(f"ldh operand {shown} = 0x{value:X} at {where} is not in 0xFF00..0xFFFF: use ld")
                rom[pos] = value
            elif kind == "rel8":
                dist = value - (pos + 1)
                if not -128 <= dist <= 127:
                    raise AsmError(
                        f"jr to {shown} at {where} is out of range: distance {dist:+d} bytes, jr reaches -128..+127; "
                        "use jp or move the target closer"
                    )
                rom[pos] = dist & 0xFF
            else:  # pragma: no cover - internal invariant
                raise AssertionError(kind)
        return rom

    def rom(
        self,
        title: str,
        cart_type: int = CART_ROM_ONLY,
        rom_size_code: int = 0x00,
    ) -> bytes:
        """Link, write the header (DMG only, no Nintendo logo) and both checksums. Cartridge RAM comes only with
        Red's own cartridge type (MBC3 + RAM + battery: 32 KiB in four banks)."""
        if cart_type not in (CART_ROM_ONLY, CART_MBC1, CART_MBC3_RAM_BATTERY):
            raise AsmError(f"cart type 0x{cart_type:02X} unsupported: use 0x00 (ROM only), 0x01 (MBC1, no battery) "
                           "or 0x13 (MBC3 + RAM + battery, as Red)")
        if (32 * 1024) << rom_size_code != len(self._rom):
            raise AsmError(
                f"ROM size code {rom_size_code} means {(32 << rom_size_code)} KiB but the image is "
                f"{len(self._rom) // 1024} KiB: pass the matching code"
            )
        if not title or len(title) > _TITLE_MAX or not all(0x20 <= ord(ch) < 0x7F for ch in title):
            raise AsmError(f"title {title!r} must be 1..{_TITLE_MAX} printable ASCII characters")
        if any(self._used[_TITLE:_HEADER_END]):
            raise AsmError("code or data was emitted into the cartridge header (0x134..0x14F): org() past 0x150")
        rom = self.link()
        rom[_TITLE:_CGB_FLAG] = title.encode("ascii").ljust(_TITLE_MAX, b"\0")
        rom[_CGB_FLAG] = 0x00  # DMG only, like Red
        rom[0x144:0x146] = b"\0\0"  # new licensee: none
        rom[0x146] = 0x00  # no SGB functions
        rom[_CART_TYPE] = cart_type
        rom[_ROM_SIZE_CODE] = rom_size_code
        rom[_RAM_SIZE_CODE] = RAM_32K if cart_type == CART_MBC3_RAM_BATTERY else 0x00
        rom[_DEST_CODE] = 0x01  # overseas
        rom[_OLD_LICENSEE] = 0x00
        rom[0x14C] = 0x00  # version
        rom[_HEADER_CHECKSUM] = header_checksum(rom)
        g = global_checksum(rom)
        rom[_GLOBAL_CHECKSUM] = g >> 8
        rom[_GLOBAL_CHECKSUM + 1] = g & 0xFF
        return bytes(rom)
