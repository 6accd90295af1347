"""One settings object for every BELIEFS_ variable: types, ranges and defaults in one place, each
failure a usage error naming the variable, read by every command the same way."""

from __future__ import annotations

import sys

import pytest

from beliefs.cli import main
from beliefs.errors import UsageError
from beliefs.settings import Settings, env_name, load_settings, markdown_table


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BELIEFS_ANALYZE_CACHE_GB", "abc"),
        ("BELIEFS_ANALYZE_CACHE_GB", "nan"),
        ("BELIEFS_ANALYZE_CACHE_GB", "inf"),
        ("BELIEFS_ANALYZE_CACHE_GB", "-1"),
        ("BELIEFS_ANALYZE_PROCESSES", "many"),
        ("BELIEFS_ANALYZE_PROCESSES", "0"),
        ("BELIEFS_ANALYZE_PROCESSES", "-2"),
        ("BELIEFS_THREADS", "abc"),
        ("BELIEFS_THREADS", "0"),
        ("BELIEFS_THREADS", "99999"),
        ("BELIEFS_DEBUG", "maybe"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_the_variable(name, value):
    with pytest.raises(UsageError, match=name) as info:
        load_settings({name: value})
    assert repr(value) in str(info.value) and "should be" in str(info.value)


def test_defaults_and_good_values():
    s = load_settings({})
    assert s == Settings() and s.threads is None and s.analyze_cache_gb == 2.0 and s.processes() >= 1
    s = load_settings(
        {"BELIEFS_THREADS": "4", "BELIEFS_ANALYZE_PROCESSES": "1", "BELIEFS_ANALYZE_CACHE_GB": "0.5"}
    )
    assert (s.threads, s.processes(), s.cache_bytes) == (4, 1, 2**29)
    assert load_settings({"BELIEFS_DEBUG": "1"}).debug and not load_settings({"BELIEFS_DEBUG": "0"}).debug
    assert load_settings({"BELIEFS_HOME": ""}).home is None


def test_markdown_table_lists_every_variable():
    table = markdown_table()
    assert table.startswith("| variable | type | default | effect |")
    for field in Settings.model_fields:
        assert f"`{env_name(field)}`" in table
    assert "from 1 to 256" in table  # the thread cap


def run_main(args, capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["beliefs", *args])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), captured.out + captured.err


@pytest.mark.parametrize("command", [["facts", "validate", "nowhere.yaml"], ["analyze", "nowhere"]])
@pytest.mark.parametrize(
    ("name", "value"),
    [("BELIEFS_THREADS", "abc"), ("BELIEFS_ANALYZE_PROCESSES", "0"), ("BELIEFS_ANALYZE_CACHE_GB", "nan")],
)
def test_every_command_reads_the_settings_the_same_way(command, name, value, capsys, monkeypatch):
    monkeypatch.setenv(name, value)
    code, output = run_main(command, capsys, monkeypatch)
    assert code == 2 and name in output and "internal error" not in output


def test_version(capsys, monkeypatch):
    code, output = run_main(["--version"], capsys, monkeypatch)
    assert code == 0 and output.startswith("beliefs ")
