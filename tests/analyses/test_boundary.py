"""The library keeps the CLI's promises: ``analyze`` writes only into a new, empty or beliefs results
folder, and a wrong argument is one of the project's errors saying what was expected and what came."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import beliefs
from beliefs.errors import UsageError

FACTS = "schema_version: 1\nname: core\nfacts:\n" + "".join(
    f"  - {{id: f{i}, domain: {'logical' if i % 2 else 'physical'}, "
    f"kind: {'hinge' if (i // 2) % 2 else 'contingent'}, statement: The city {i} is in France., "
    f"false_statement: The city {i} is on the Moon., note: n}}\n"
    for i in range(8)
)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("boundary")
    (base / "core.yaml").write_text(FACTS)
    (base / "conditions.yaml").write_text('- name: empty\n  prefix: ""\n')
    beliefs.probe("fake:llama", [base / "core.yaml"], base / "conditions.yaml", base / "run")
    return base / "run"


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    "files",
    [
        {"summary.json": '{"mine": true}', "default-belief.csv": "a,b\n1,2\n"},
        {"notes.txt": "my notes"},
    ],
)
def test_analyze_refuses_a_folder_of_the_users(run, tmp_path, files):
    folder = tmp_path / "mypaper"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    before = digest(folder)
    with pytest.raises(UsageError, match="not a beliefs results folder"):
        beliefs.analyze(beliefs.open_run(run), folder, permutations=9)
    assert digest(folder) == before


def test_analyze_writes_into_a_new_folder_and_again_into_its_own(run, tmp_path):
    out = tmp_path / "results"
    beliefs.analyze(beliefs.open_run(run), out, analyses=["kind-probe"], permutations=9)
    assert (out / "summary.json").is_file()
    beliefs.analyze(beliefs.open_run(run), out, analyses=["kind-probe"], permutations=9)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (
            {"run": "somewhere"},
            r"run should be a run opened with beliefs.open_run .* but got str 'somewhere'",
        ),
        ({"run": 123}, "run should be a run opened with beliefs.open_run or a RunData, but got int 123"),
        ({"analyses": "kind-probe"}, "analyses should be a list of analysis names, but got str"),
        ({"permutations": "100"}, "permutations should be a whole number, but got str"),
        ({"seed": 1.5}, "seed should be a whole number, but got float"),
        ({"out_dir": None}, "out_dir should be a folder path, but got NoneType"),
    ],
)
def test_analyze_arguments_are_checked(run, tmp_path, kwargs, needle):
    args = {"run": beliefs.open_run(run), "out_dir": tmp_path / "r", "permutations": 9, **kwargs}
    with pytest.raises(UsageError, match=needle):
        beliefs.analyze(**args)
    assert not (tmp_path / "r").exists()
