"""One source for every size and address.

The Game Boy's memory map (WRAM_BASE, WRAM_SIZE, HRAM_BASE, ...) and the observation's sizes (SCREEN_H/W,
OBS_H/W, OBS_PACKED_W) are written once, by scripts/gen_constants.py, into pokerl_fast/game/constants.py
(``C.WRAM_BASE``) and csrc/red_constants.h (``pokerl::red::WRAM_BASE``). Every other source file names them.
This test reads the project's source files (what git tracks, and new files it does not ignore) and fails on
literal copies, naming file:line. Comments, docstrings and C++ string literals (pybind11 docstrings and
messages) are prose and are not read; Python strings other than docstrings are (a message that spells 0xC000
goes stale like code does).

A literal that is not a copy of these facts goes in ALLOWED with its reason, rather than into a weaker pattern.
"""

from __future__ import annotations

import io
import pathlib
import re
import subprocess
import tokenize

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUFFIXES = (".py", ".pyi", ".pyx", ".pxd", ".h", ".cpp")
C_LIKE = (".pyx", ".pxd", ".h", ".cpp")  # where arrays are declared with a size
# The one source itself: the generator, what it writes, and this test.
SOURCE = {"scripts/gen_constants.py", "pokerl_fast/game/constants.py", "csrc/red_constants.h",
          "tests/test_one_source.py"}

# (name, pattern, what the literal copies); `name` is what ALLOWED refers to.
PATTERNS = [
    ("0xC000", r"\b0x[cC]000\b", "WRAM_BASE"),
    ("0xE000", r"\b0x[eE]000\b", "the end of WRAM: WRAM_BASE + WRAM_SIZE"),
    ("0xFF80", r"\b0x[fF]{2}80\b", "HRAM_BASE"),
    ("0xFE00", r"\b0x[fF][eE]00\b", "OAM_BASE"),
    ("0x2000", r"\b0x2000\b", "WRAM_SIZE or VRAM_SIZE"),
    ("8192", r"\b8192\b", "WRAM_SIZE or VRAM_SIZE"),
    ("memory map =", r"\b(?:WRAM|HRAM|VRAM|OAM)_(?:BASE|SIZE|START|END)\b[\w\s,]*=\s*(?:0x[0-9a-fA-F]+|\d)",
     "a re-definition of the memory map with a literal"),
    ("size =", r"\b(?:SCREEN_[HW]|SCREEN_CHANNELS|OBS_[HW]|OBS_PACKED_W|RENDER_[HW])\b[\w\s,]*=\s*\d",
     "a re-definition of a screen or observation size with a literal"),
    ("72, 20/80", r"\b72\s*,\s*:?\s*(?:20|80)\b", "the observation shape (OBS_H, OBS_PACKED_W) or (OBS_H, OBS_W)"),
    ("72 * 80/20", r"\b72\s*\*\s*(?:20|80)\b", "the observation size OBS_H * OBS_W or OBS_H * OBS_PACKED_W"),
    ("144, 160", r"\b144\s*,\s*:?\s*160\b", "the screen shape (SCREEN_H, SCREEN_W)"),
]
C_PATTERNS = [
    ("[320]", r"\b\w+\s*\*?\s+\w+\s*\[\s*320\s*\]", "an array of EVENT_FLAGS_BYTES"),
    ("[20]", r"\b\w+\s*\*?\s+\w+\s*\[\s*20\s*\]", "an array of OBS_PACKED_W (or BAG_MAX_ITEMS)"),
]
_COMPILED = [(name, re.compile(rx), what) for name, rx, what in PATTERNS]
_C_COMPILED = [(name, re.compile(rx), what) for name, rx, what in C_PATTERNS]

# (file, pattern name or "*") -> why the literal there is not a copy of a generated fact.
ALLOWED = {
    ("tests/game/test_constants.py", "*"): "pins the generated values against the Game Boy's documentation",
    ("tests/test_train.py", "8192"): "a run length in steps (--total-steps 8192), not a memory size",
}


def findings(suffix: str, code: str) -> list[tuple[str, str]]:
    """(pattern name, what it copies) for each fact literal in one line of code (comments already removed)."""
    found = [(name, what) for name, rx, what in _COMPILED if rx.search(code)]
    if suffix in C_LIKE:
        found += [(name, what) for name, rx, what in _C_COMPILED if rx.search(code)]
    return found


def _blank(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> None:
    """Spaces over the text from (row, col) to (row, col), rows 1-based, end exclusive."""
    (r0, c0), (r1, c1) = start, end
    for r in range(r0, r1 + 1):
        line = lines[r - 1]
        a = c0 if r == r0 else 0
        b = c1 if r == r1 else len(line)
        lines[r - 1] = line[:a] + " " * (b - a) + line[b:]


def _python_code(text: str) -> list[str]:
    """The lines of a Python (or Cython) file with comments and docstrings blanked out."""
    lines = text.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):  # Cython the tokenizer cannot read: drop # comments only
        return [re.sub(r"#.*", "", line) for line in lines]
    skip = {tokenize.NL, tokenize.COMMENT}
    significant = [t for t in tokens if t.type not in skip]
    line_start = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    for i, t in enumerate(significant):
        if t.type != tokenize.STRING:
            continue
        before = significant[i - 1].type if i else tokenize.NEWLINE
        after = significant[i + 1].type if i + 1 < len(significant) else tokenize.ENDMARKER
        if before in line_start and after in (tokenize.NEWLINE, tokenize.ENDMARKER):  # a bare string: a docstring
            _blank(lines, t.start, t.end)
    for t in tokens:
        if t.type == tokenize.COMMENT:
            _blank(lines, t.start, t.end)
    return lines


def _c_code(text: str) -> list[str]:
    """The lines of a C/C++ file with // and /* */ comments and string literals blanked out."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":  # a string or character literal, escapes included
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(ch + " " * (min(j, n) - i - 1) + text[j:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out).splitlines()


def code_lines(suffix: str, text: str) -> list[tuple[int, str]]:
    """(line number, code) for every line of a source file, comments and docstrings removed."""
    lines = _c_code(text) if suffix in (".h", ".cpp") else _python_code(text)
    return list(enumerate(lines, 1))


def scan(rel: str, text: str) -> list[str]:
    """'file:line: literal (what it copies): code' for every finding in one file that ALLOWED does not excuse."""
    suffix = pathlib.PurePath(rel).suffix
    out = []
    for n, code in code_lines(suffix, text):
        bad = [f"{name} ({what})" for name, what in findings(suffix, code)
               if (rel, "*") not in ALLOWED and (rel, name) not in ALLOWED]
        if bad:
            out.append(f"{rel}:{n}: {', '.join(bad)}: {code.strip()}")
    return out


def source_files() -> list[str]:
    try:
        proc = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the source files cannot be listed")
    return sorted(rel for rel in set(proc.stdout.splitlines())
                  if rel.endswith(SUFFIXES) and rel not in SOURCE and (ROOT / rel).is_file())


def test_no_literal_copies_of_the_memory_map_or_observation_sizes():
    files = source_files()
    assert len(files) > 30 and "csrc/ram.h" in files and "pokerl_fast/env/reference.py" in files
    found = [f for rel in files for f in scan(rel, (ROOT / rel).read_text(errors="replace"))]
    assert not found, ("literal copies of facts that scripts/gen_constants.py writes; use the generated names "
                       "(C.WRAM_BASE, C.OBS_H, red::WRAM_SIZE, ...):\n" + "\n".join(found))


def test_every_allowance_is_still_needed():
    for (rel, name), reason in ALLOWED.items():
        assert reason and (ROOT / rel).is_file(), rel
        suffix = pathlib.PurePath(rel).suffix
        hits = [n for n, code in code_lines(suffix, (ROOT / rel).read_text())
                if any(name in ("*", got) for got, _ in findings(suffix, code))]
        assert hits, f"{rel} no longer holds a {name} literal: drop it from ALLOWED"


def test_the_check_finds_copies_and_names_file_and_line():
    """The check can fail: fake lines with copies are found, the same facts by name are not."""
    copies = {
        ".py": ["wram = bytes(pb.memory[0xC000:0xE000])", "hram = pb.memory[0xFF80:0xFFFF]",
                "oam = pb.memory[0xFE00:0xFEA0]", "w = np.zeros(0x2000, np.uint8)",
                "w = rng.integers(0, 256, 8192, dtype=np.uint8)", "WRAM_SIZE = 0x2000",
                "WRAM_BASE, WRAM_SIZE = 0xc000, 8192", "OBS_H, OBS_W = 72, 80", "SCREEN_H = 144",
                "space = Box(0, 255, (72, 20), np.uint8)", "x = np.zeros((n, 72, 80))", "n = 72 * 80",
                "screen = np.zeros((2, 144, 160, 4))"],
        ".h": ["constexpr int WRAM_SIZE = 0x2000;", "constexpr int OBS_H = 72, OBS_W = 80;",
               "uint8_t events[320];", "    uint8_t row[20];", "constexpr int RENDER_H = 72;"],
        ".pyx": ["cdef uint8_t packed[20]", "return <uint8_t[:144, :160, :4]> p", "v = <uint8_t[:72, :20]> p"],
    }
    for suffix, lines in copies.items():
        for line in lines:
            assert findings(suffix, line), (suffix, line)
    named = {
        ".py": ["wram = bytes(pb.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE])", "WRAM_SIZE = C.WRAM_SIZE",
                "OBS_H, OBS_W = C.OBS_H, C.OBS_W", "a.ld('hl', 0x9800)", "assert C.OBS_H == got", "tile[0x20]",
                "x = [20]", "rom = bytes(0x8000)"],
        ".h": ["constexpr int WRAM_BASE = red::WRAM_BASE;", "uint8_t row[OBS_PACKED_W];", "int picked[10];",
               "constexpr int OBS_BYTES = OBS_H * OBS_PACKED_W;", "if (wx < red::SCREEN_W)"],
    }
    for suffix, lines in named.items():
        for line in lines:
            assert not findings(suffix, line), (suffix, line)

    fake_py = ('"""A docstring may say 0xC000-0xDFFF."""\n'
               "import numpy as np\n"
               "W = 0x9800  # a comment may say 0xC000\n"
               "def f():\n"
               '    """(72, 20) in prose."""\n'
               '    msg = "wram at 0xC000"\n'
               "    return np.zeros((72, 20))\n")
    assert scan("pokerl_fast/fake.py", fake_py) == [
        "pokerl_fast/fake.py:6: 0xC000 (WRAM_BASE): msg = \"wram at 0xC000\"",
        "pokerl_fast/fake.py:7: 72, 20/80 (the observation shape (OBS_H, OBS_PACKED_W) or (OBS_H, OBS_W)): "
        "return np.zeros((72, 20))",
    ]
    fake_h = ("// WRAM 0xC000..0xDFFF\n"
              "/* 72 x 20 bytes,\n   (72, 20) */\n"
              "m.def(\"f\", f, \"(144, 160, 4) -> (72, 20) // not a comment\"); char q = '\"'; uint8_t ev[320];\n"
              "inline int at(const uint8_t* w, int a) { return w[a - 0xC000]; }  // 0xE000\n")
    assert [line.split(":", 2)[1] for line in scan("csrc/fake.h", fake_h)] == ["4", "5"]
    assert scan("tests/game/test_constants.py", "assert C.WRAM_BASE == 0xC000\n") == []  # allowed, with its reason
    assert scan("tests/test_train.py", "w = bytes(0x2000)\n") != []  # allowed for 8192 only
