"""The SM83 emitter: every encoding against PyBoy's own opcode table, labels, errors, header, a real boot."""

import re

import pytest
from pyboy.core.opcodes import CPU_COMMANDS

from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld.sm83 import Asm, AsmError, global_checksum, header_checksum
from pokerl_fast.game.emulator import new_pyboy

_IMM8, _IMM16, _HRAM = 0x5A, 0x1234, 0xFF5A


def _operand(tok: str, mnemonic: str, asm: Asm):
    """Translate one operand of PyBoy's mnemonic text into our call syntax and the bytes it encodes to."""
    regs = {"A", "B", "C", "D", "E", "H", "L", "AF", "BC", "DE", "HL", "SP", "NZ", "Z", "NC"}
    if tok in regs:
        return tok.lower(), b""
    indirect = {"(HL)": "[hl]", "(HL+)": "[hl+]", "(HL-)": "[hl-]", "(BC)": "[bc]", "(DE)": "[de]", "(C)": "[c]"}
    if tok in indirect:
        return indirect[tok], b""
    if tok == "d8":
        return _IMM8, bytes([_IMM8])
    if tok in ("d16", "a16"):
        return _IMM16, _IMM16.to_bytes(2, "little")
    if tok == "(a16)":
        return [_IMM16], _IMM16.to_bytes(2, "little")
    if tok == "(a8)":
        return [_HRAM], bytes([_HRAM & 0xFF])
    if tok == "r8" and mnemonic == "JR":
        return "Target", bytes([5])  # Target is defined 5 bytes after the jr
    if tok == "r8":
        return -3, bytes([0xFD])
    if tok == "SP+r8":
        return "sp-3", bytes([0xFD])
    if re.fullmatch(r"[0-3][0-9A-F]H", tok):
        return int(tok[:-1], 16), b""
    if re.fullmatch(r"[0-7]", tok):
        return int(tok), b""
    raise AssertionError(f"untranslated operand {tok!r}")


def _cases():
    for index, text in enumerate(CPU_COMMANDS):
        if not text or "Illegal" in text or text == "PREFIX CB":
            continue
        yield index, text


@pytest.mark.parametrize("index,text", list(_cases()), ids=lambda v: v if isinstance(v, str) else f"{v:03X}")
def test_encoding_matches_pyboy_opcode_table(index, text):
    mnemonic, _, rest = text.partition(" ")
    asm = Asm()
    asm.org(0x200)
    args, tail = [], b""
    for tok in filter(None, rest.split(",")):
        if mnemonic == "STOP":
            break
        value, encoded = _operand(tok, mnemonic, asm)
        args.append(value)
        tail += encoded
    if mnemonic == "STOP":
        tail = b"\x00"
    method = {"AND": "and_", "OR": "or_"}.get(mnemonic, mnemonic.lower())
    getattr(asm, method)(*args)
    end = asm.pc
    if mnemonic == "JR":
        asm.org(end + 5)
        asm.label("Target")
    prefix = bytes([0xCB, index - 0x100]) if index >= 0x100 else bytes([index])
    rom = asm.link()
    assert bytes(rom[0x200:end]) == prefix + tail, text


def test_labels_forward_backward_and_local_scopes():
    a = Asm()
    a.org(0x150)
    a.label("First")
    a.label(".loop")  # First.loop at 0x150
    a.jr("nz", ".loop")  # backward: -2
    a.jp("Second")  # forward absolute
    a.label("Second")
    a.label(".loop")  # Second.loop: same local name, other scope
    a.jr(".loop")
    a.dw("First.loop", "Second+1")
    rom = a.link()
    assert rom[0x150:0x152] == bytes([0x20, 0xFE])
    assert rom[0x152:0x155] == bytes([0xC3, 0x55, 0x01])
    assert rom[0x155:0x157] == bytes([0x18, 0xFE])
    assert rom[0x157:0x15B] == bytes([0x50, 0x01, 0x56, 0x01])
    assert a.labels["Second.loop"] == 0x155


def test_define_constants_are_usable_as_addresses():
    a = Asm()
    a.define("wThing", 0xD35E)
    a.org(0x150)
    a.ld("a", ["wThing"])
    a.ld(["wThing+1"], "a")
    assert a.link()[0x150:0x156] == bytes([0xFA, 0x5E, 0xD3, 0xEA, 0x5F, 0xD3])


def test_jr_out_of_range_names_label_and_distance():
    a = Asm()
    a.org(0x150)
    a.label("Start")
    a.jr("Far")
    a.org(0x150 + 2 + 128)
    a.label("Far")
    with pytest.raises(AsmError, match=r"'Far'.*distance \+128 bytes.*-128\.\.\+127"):
        a.link()


def test_jr_at_exact_limits_is_accepted():
    a = Asm()
    a.org(0x300)
    a.label("Back")
    a.org(0x300 + 128)
    a.jr("Back")  # next instruction at 0x382: distance -130
    with pytest.raises(AsmError, match="out of range"):
        a.link()
    b = Asm()
    b.org(0x300)
    b.label("Back")
    b.org(0x300 + 126)
    b.jr("Back")  # next instruction at 0x380: distance -128
    b.jr("Fwd")
    b.org(0x382 + 127)
    b.label("Fwd")
    rom = b.link()
    assert rom[0x37F] == 0x80 and rom[0x381] == 0x7F


def _at_main() -> Asm:
    """An assembler inside the routine ``Main`` at 0x150."""
    a = Asm()
    a.org(0x150)
    a.label("Main")
    return a


def test_unknown_label_is_a_clear_error():
    a = _at_main()
    a.call("NoSuchRoutine")
    with pytest.raises(AsmError, match=r"unknown label 'NoSuchRoutine' referenced by the operand at 0x0151"):
        a.link()


def test_duplicate_label_is_a_clear_error():
    a = _at_main()
    a.nop()
    with pytest.raises(AsmError, match=r"duplicate label 'Main'.*0x0150.*0x0151"):
        a.label("Main")
    a.label(".x")
    with pytest.raises(AsmError, match=r"duplicate label 'Main\.x'"):
        a.label(".x")


@pytest.mark.parametrize(
    "bad",
    [
        lambda a: a.label("hl"),
        lambda a: a.label("9lives"),
        lambda a: a.ld("[hl]", "[hl]"),
        lambda a: a.ld("bc", "a"),
        lambda a: a.ld("a", 0x1FF),
        lambda a: a.push("sp"),
        lambda a: a.bit(8, "a"),
        lambda a: a.rst(0x05),
        lambda a: a.jp("pz", "Main"),
        lambda a: a.add("b", 1),
        lambda a: a.db(256),
    ],
)
def test_malformed_instructions_raise(bad):
    a = _at_main()
    with pytest.raises(AsmError):
        bad(a)


def test_overlap_overflow_and_ldh_range():
    a = Asm()
    a.org(0x150)
    a.nop()
    a.org(0x150)
    with pytest.raises(AsmError, match="written twice"):
        a.nop()
    b = Asm()
    b.org(0x7FFF)
    b.nop()
    with pytest.raises(AsmError, match="overflows"):
        b.nop()
    c = Asm()
    c.org(0x150)
    c.ldh("a", [C.WRAM_BASE])  # not in 0xFF00-0xFFFF
    with pytest.raises(AsmError, match="ldh operand"):
        c.link()


def _tiny_program(marker: int) -> Asm:
    a = Asm()
    a.entry("Start")
    a.label("Start")
    a.di()
    a.ld("sp", 0xFFFE)
    a.ld("a", marker)
    a.ld("hl", C.WRAM_BASE)
    a.ld("[hl+]", "a")
    a.inc("a")
    a.ld("[hl]", "a")
    a.label(".spin")
    a.jr(".spin")
    return a


def test_header_fields_and_checksums():
    rom = _tiny_program(0x42).rom(title="SM83 TEST")
    assert len(rom) == 0x8000
    assert rom[0x104:0x134] == bytes(0x30)  # no Nintendo logo
    assert rom[0x134:0x13D] == b"SM83 TEST"
    assert rom[0x143] == 0x00 and rom[0x147] == 0x00 and rom[0x148] == 0x00 and rom[0x149] == 0x00
    x = 0
    for byte in rom[0x134:0x14D]:
        x = (x - byte - 1) & 0xFF
    assert rom[0x14D] == x == header_checksum(rom)
    total = (sum(rom) - rom[0x14E] - rom[0x14F]) & 0xFFFF
    assert int.from_bytes(rom[0x14E:0x150], "big") == total == global_checksum(rom)


def test_header_rejects_bad_title_and_code_in_header():
    with pytest.raises(AsmError, match="title"):
        _tiny_program(1).rom(title="A TITLE THAT IS TOO LONG")
    a = _tiny_program(1)
    a.org(0x140)
    a.nop()
    with pytest.raises(AsmError, match="header"):
        a.rom(title="OK")


def test_pyboy_runs_an_emitted_rom(tmp_path):
    path = tmp_path / "tiny.gb"
    path.write_bytes(_tiny_program(0x42).rom(title="SM83 TEST"))
    pyboy = new_pyboy(path)
    try:
        pyboy.tick(120, render=False)
        assert pyboy.memory[C.WRAM_BASE] == 0x42 and pyboy.memory[C.WRAM_BASE + 1] == 0x43
    finally:
        pyboy.stop(save=False)


def test_pyboy_refuses_a_wrong_header_checksum(tmp_path):
    rom = bytearray(_tiny_program(0x42).rom(title="SM83 TEST"))
    rom[0x14D] ^= 0xFF
    path = tmp_path / "bad.gb"
    path.write_bytes(bytes(rom))
    with pytest.raises(Exception, match="(?i)checksum"):
        pyboy = new_pyboy(path)
        pyboy.stop(save=False)
