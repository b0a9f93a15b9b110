"""Fault switches stay out of the product (issue 16): the tcptop that is built and
installed reads no TCPTOP_* variable; make check builds tests/tcptop-fault, with faults on
purpose, for the tests of the fallbacks (tcptop_run.tcptop_binary picks it)."""

import os
import re
import subprocess

from tcptop_run import FAULT_VARIABLES, HOOK_ARGS, TCPTOP, TCPTOP_FAULT, check_no_sanitizer_report

BREAK_EVERYTHING = {"TCPTOP_BREAK_HOOKS": "modern,compat,iterators"}


def run_with_faults(binary):
    env = dict(os.environ, **BREAK_EVERYTHING)
    result = subprocess.run([binary] + HOOK_ARGS + ["-b", "-N", "1", "-d", "100ms", "-v"],
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            errors="replace", timeout=60)
    check_no_sanitizer_report(result.stderr, binary)
    return result


def environment_names(binary):
    """The strings in binary that look like a variable of ours standing alone."""
    with open(binary, "rb") as f:
        data = f.read()
    return set(name.decode() for name in re.findall(rb"\0(TCPTOP_[A-Z_]+)\0", data))


def test_tcptop_ignores_the_fault_variables():
    result = run_with_faults(TCPTOP)
    assert result.returncode == 0, result
    hook_lines = [line for line in result.stderr.splitlines() if "hook set: " in line]
    assert len(hook_lines) == 1 and "refused" not in hook_lines[0], result.stderr
    assert "TCPTOP_" not in result.stderr, result.stderr


def test_the_fault_binary_obeys_them_and_tcptop_holds_none_of_their_names():
    result = run_with_faults(TCPTOP_FAULT)
    assert result.returncode == 1, result
    assert "TCPTOP_BREAK_HOOKS asked for that" in result.stderr, result.stderr
    assert set(FAULT_VARIABLES) <= environment_names(TCPTOP_FAULT)
    assert environment_names(TCPTOP) == set(), environment_names(TCPTOP)
