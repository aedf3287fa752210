"""The chart README's values table is generated from values.yaml `## @param` comments and kept in sync.

The generator is hack/gen_chart_readme.py (`make docs`): the committed README must be what it writes,
its metadata mistakes must fail in one line each, and, read back without it, the table must give every
value's real default (a map or list included), so a reader of the README sets what values.yaml sets.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hack import gen_chart_readme
from tests.lib.paths import CHART, REPO

README = CHART / "README.md"
VALUES = CHART / "values.yaml"
GENERATOR = REPO / "hack" / "gen_chart_readme.py"


def test_readme_values_table_is_in_sync_with_values_yaml():
    assert README.exists(), f"{README} is missing: create it with a '## Parameters' heading, then run `make docs`"
    committed = README.read_text()
    fresh = gen_chart_readme.update_readme(committed, VALUES.read_text())
    if committed != fresh:
        diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True),
                                            "README.md (committed)", "README.md (from values.yaml)", n=1))
        pytest.fail(f"charts/airflow/README.md is out of date with values.yaml: run `make docs`\n{diff}")


def test_undocumented_value_is_reported_in_one_line(tmp_path: Path):
    values = tmp_path / "values.yaml"
    values.write_text("## @section Example\n## @param documented A documented value\ndocumented: 1\nundocumented: 2\n")
    readme = tmp_path / "README.md"
    readme.write_text("# Example\n\n## Parameters\n")

    proc = subprocess.run([sys.executable, str(GENERATOR), str(readme), str(values)], capture_output=True,
                          text=True, timeout=60, check=False)

    assert proc.returncode == 1, "a value without a `## @param` comment must fail `make docs`"
    assert f"{values}:4: undocumented has no `## @param` comment" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, f"a Python traceback leaked:\n{proc.stderr}"
    assert readme.read_text() == "# Example\n\n## Parameters\n", "a failed run must leave the README as it was"


@pytest.mark.parametrize(("values", "problem"), [
    ("## @section S\n## @param a.b A\na: {b: 1}\n## @param gone Gone\n", "4: @param gone names no value"),
    ("## @section S\n## @param a [object] A\na: [1]\n", "2: a is marked [object] but holds a list"),
    ("## @section S\n## @param a [array] A\na: {}\n", "2: a is marked [array] but holds a map"),
    ("## @section S\n## @param a A\na: {b: 1}\n", "2: a holds a map: mark it [object]"),
    ("## @section S\n## @param a A\na: [{b: 1}]\n", "2: a holds a list of maps or lists: mark it [array]"),
    ("## @section S\n## @param a [map] A\na: {}\n", "2: @param a has [map]: only [object] and [array] are known"),
    ("## @param a A\na: 1\n", "1: @param a comes before any @section"),
    ("## @section S\n## @param a A\n## @param a A again\na: 1\n", "3: a has a @param already, on line 2"),
    ("## @section S\n## @param a [object] A\n## @param a.b B\na: {b: 1}\n", "3: a.b is inside a, documented whole"),
    ("## @section S\n## @skip a\na: 1\n", "2: unknown tag @skip"),
    ("## @section S\n## @param a\na: 1\n", "2: @param a has no description"),
    ("## @section S\n## @param a A\na: 1\n## @section Empty\n", "4: @section Empty has no @param under it"),
    ("## @section S\n## @param a A\na: [1\n", "4: not valid YAML"),
])
def test_metadata_mistakes_are_named_with_their_line(values: str, problem: str):
    with pytest.raises(gen_chart_readme.MetadataError) as raised:
        gen_chart_readme.read_metadata(values)
    assert any(f"values.yaml:{problem}" in line for line in raised.value.problems), raised.value.problems


def test_parameters_part_ends_at_the_next_heading_of_its_level_and_skips_code_blocks():
    readme = "# T\n\n## Parameters\n\nold table\n\n```\n## not a heading\n```\n\n### Old\n\n## After\n\ntext\n"
    values = "## @section New\n## @param a A\na: 1\n"

    fresh = gen_chart_readme.update_readme(readme, values)

    assert fresh == ("# T\n\n## Parameters\n\n### New\n\n| Name | Description | Value |\n| ---- | ----------- | ----- |\n"
                     "| `a`  | A           | `1`   |\n\n## After\n\ntext\n")


@pytest.mark.parametrize(("default", "cell"), [
    ({"requests": {"cpu": "100m"}}, '`{"requests":{"cpu":"100m"}}`'),
    (["admin:admin"], '`["admin:admin"]`'),
    ([], "`[]`"),
    ("", '`""`'),
    (None, "`null`"),
    (0.5, "`0.5`"),
    (False, "`false`"),
    ("a|b", r"`a\|b`"),
    ({"match": "a|b"}, r'`{"match":"a\|b"}`'),
    ("run `x`", "`` run `x` ``"),
    ("`x`", "`` `x` ``"),
])
def test_default_cell(default, cell: str):
    assert gen_chart_readme.default_cell(default) == cell


def _table_defaults(readme: str) -> dict[str, str]:
    """Each row of the README's Parameters tables: the value's path and its Value cell as written."""
    part = readme.split("\n## Parameters\n", 1)[1]
    rows = {}
    for line in part.splitlines():
        if not line.startswith("| `"):
            continue
        # Cells are split on pipes the generator left unescaped; `\|` stays inside its cell.
        cells = [cell.strip() for cell in line.strip("|").replace("\\|", "\0").split("|")]
        rows[cells[0].strip("`")] = cells[-1].replace("\0", "|")
    return rows


def _lookup(values: dict, path: str):
    node = values
    for key in path.split("."):
        node = node[key]
    return node


def _cell_text(cell: str) -> str:
    """The text of a Value cell's code span, as a reader sees it."""
    fence = len(cell) - len(cell.lstrip("`"))
    text = cell[fence:-fence]
    if text.startswith(" ") and text.endswith(" ") and text.strip():
        text = text[1:-1]
    return text


def test_every_default_in_the_table_is_the_one_values_yaml_sets():
    """Read back without the generator: a string default as written, anything else (a map, a list) as JSON."""
    values = yaml.safe_load(VALUES.read_text())
    rows = _table_defaults(README.read_text())
    assert rows, "no parameter rows found under `## Parameters` in the chart README"

    wrong = []
    for path, cell in rows.items():
        try:
            expected = _lookup(values, path)
        except (KeyError, TypeError):
            wrong.append(f"{path}: in the README's table, not in values.yaml")
            continue
        text = _cell_text(cell)
        if isinstance(expected, str) and expected:
            same = text == expected
        else:
            try:
                same = json.loads(text) == expected
            except json.JSONDecodeError:
                same = False
        if not same:
            wrong.append(f"{path}: the README shows {cell}, values.yaml sets {json.dumps(expected)}")
    assert not wrong, "the README's defaults differ from values.yaml (run `make docs`):\n" + "\n".join(wrong)
    assert {"config", "scheduler.resources"} <= rows.keys(), "rows with map defaults are missing from the table"
