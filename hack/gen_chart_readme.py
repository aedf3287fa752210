#!/usr/bin/env python3
"""Regenerate the chart README's values table from the `## @param` comments in values.yaml (`make docs`).

Run as `.venv/bin/python hack/gen_chart_readme.py [README [VALUES]]` (the chart's two by default):
it needs PyYAML, which `make setup` puts in .venv.

values.yaml documents its values in comment lines, each above what it documents:

    ## @section TITLE                    a table of its own (### TITLE) for the @params below it
    ## @param PATH DESCRIPTION           the value at PATH (keys joined with dots): a scalar, or a
                                         list of scalars
    ## @param PATH [object] DESCRIPTION  a map, documented as a whole: its keys need no @param
    ## @param PATH [array] DESCRIPTION   a list of anything, documented as a whole

Every value must be documented once, by a @param of its own or of the map or list holding it, and
every @param must name a value. The README's Parameters heading (`## Parameters`, once) starts the
part this script writes, which ends at the next heading of that level or above: one table per
section, each row the value's path, its description and its default from values.yaml. A string
default is shown as written, any other (a map, a list, a number) as JSON on one line, so the table
shows what a release gets without --set or -f.

Mistakes are printed one per line, those in the metadata with their line in values.yaml, and
nothing is written; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "charts" / "airflow" / "README.md"
VALUES = REPO / "charts" / "airflow" / "values.yaml"
PROG = "gen_chart_readme"

TAG = re.compile(r"^\s*##\s*@(\S*)\s*(.*?)\s*$")
# A @param's PATH, then its optional [modifier], then its description.
PARAM = re.compile(r"^(?P<path>\S+)(?:\s+\[(?P<kind>[^\]]*)\])?\s*(?P<description>.*)$")
KINDS = ("object", "array")
HEADING = re.compile(r"^(#{1,6})\s")
PARAMETERS_HEADING = re.compile(r"^(#{2,5})\s+Parameters\s*$")
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


class MetadataError(Exception):
    """values.yaml or the README cannot make a table; `problems` holds one line per mistake."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Param:
    path: str
    kind: str  # "" (a scalar or a list of scalars), "object" or "array"
    description: str
    line: int
    default: Any = None


@dataclass
class Section:
    title: str
    line: int
    params: list[Param] = field(default_factory=list)


def read_metadata(values_text: str, source: str = "values.yaml") -> list[Section]:
    """The sections of values_text with their params, each param's default filled in from the YAML."""
    try:
        values = yaml.safe_load(values_text)
        key_lines = _key_lines(yaml.compose(values_text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise MetadataError([f"{where}: not valid YAML: {getattr(err, 'problem', None) or err}"]) from None
    if not isinstance(values, dict):
        raise MetadataError([f"{source}: holds no map of values"])

    problems: list[tuple[int, str]] = []
    sections: list[Section] = []
    documented: dict[str, Param] = {}
    for number, line in enumerate(values_text.splitlines(), start=1):
        tag = TAG.match(line)
        if not tag:
            continue
        name, rest = tag.groups()
        if name == "section":
            if not rest:
                problems.append((number, "@section has no title"))
            sections.append(Section(rest, number))
        elif name == "param":
            param = _parse_param(rest, number, problems)
            if param is None:
                continue
            if not sections:
                problems.append((number, f"@param {param.path} comes before any @section"))
            elif param.path in documented:
                problems.append((number, f"{param.path} has a @param already, on line {documented[param.path].line}"))
            else:
                sections[-1].params.append(param)
                documented[param.path] = param
        else:
            problems.append((number, f"unknown tag @{name}: only @section and @param are read"))

    for section in sections:
        if section.title and not section.params:
            problems.append((section.line, f"@section {section.title} has no @param under it"))
    for param in documented.values():
        problems += _check_param(param, values, documented)
    for path in _undocumented(values, "", documented):
        problems.append((key_lines.get(path, 0), f"{path} has no `## @param` comment: document it"))

    if problems:
        raise MetadataError([f"{source}:{number}: {text}" if number else f"{source}: {text}"
                             for number, text in sorted(problems, key=lambda problem: problem[0])])
    return sections


def _parse_param(rest: str, number: int, problems: list[tuple[int, str]]) -> Param | None:
    match = PARAM.match(rest)
    if not match:
        problems.append((number, "@param names no value: write `## @param PATH DESCRIPTION`"))
        return None
    kind = (match["kind"] or "").strip()
    if match["kind"] is not None and kind not in KINDS:
        problems.append((number, f"@param {match['path']} has [{kind}]: only [object] and [array] are known"))
        return None
    if not match["description"]:
        problems.append((number, f"@param {match['path']} has no description"))
    return Param(match["path"], kind, match["description"], number)


def _check_param(param: Param, values: dict, documented: dict[str, Param]) -> list[tuple[int, str]]:
    """Find param's default in values; what is wrong with it, if anything."""
    parts = param.path.split(".")
    for depth in range(1, len(parts)):
        outer = documented.get(".".join(parts[:depth]))
        if outer is not None:
            return [(param.line, f"{param.path} is inside {outer.path}, documented whole on line {outer.line}: "
                                 "drop one of the two @params")]
    node: Any = values
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return [(param.line, f"@param {param.path} names no value in values.yaml")]
        node = node[part]
    param.default = node
    if param.kind == "object" and not isinstance(node, dict):
        return [(param.line, f"{param.path} is marked [object] but holds {_kind_of(node)}")]
    if param.kind == "array" and not isinstance(node, list):
        return [(param.line, f"{param.path} is marked [array] but holds {_kind_of(node)}")]
    if not param.kind and isinstance(node, dict):
        return [(param.line, f"{param.path} holds a map: mark it [object], or give each of its keys a @param")]
    if not param.kind and isinstance(node, list) and any(isinstance(item, (dict, list)) for item in node):
        return [(param.line, f"{param.path} holds a list of maps or lists: mark it [array]")]
    return []


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return f"the scalar {json.dumps(value, default=str)}"


def _undocumented(value: Any, path: str, documented: dict[str, Param]):
    """The paths of values.yaml's values that no @param covers (a non-empty map is covered key by key)."""
    if path in documented:
        return
    if isinstance(value, dict) and (value or not path):
        for key, child in value.items():
            yield from _undocumented(child, f"{path}.{key}" if path else str(key), documented)
    else:
        yield path


def _key_lines(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    """Each dotted key path of a composed YAML document with the line (1-based) its key is on."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, child in node.value:
            path = f"{prefix}{key.value}"
            lines[path] = key.start_mark.line + 1
            lines.update(_key_lines(child, f"{path}."))
    return lines


def default_cell(value: Any) -> str:
    """A default as the table shows it: a string as it is, anything else (a map, a list) as one-line JSON."""
    if isinstance(value, str) and value:
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return code_span(text)


def code_span(text: str) -> str:
    """text as Markdown inline code inside a table cell: `|` escaped, fenced past any backticks it holds."""
    text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, each column padded to its widest cell."""
    widths = [max(3, *(len(row[column]) for row in [header, *rows])) for column in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    return [line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)]


def render_sections(sections: list[Section], heading: str) -> list[str]:
    """The lines under the Parameters heading: for each section its heading and table, blank lines between."""
    lines: list[str] = []
    for section in sections:
        rows = [[f"`{param.path}`", param.description.replace("|", "\\|"), default_cell(param.default)]
                for param in section.params]
        lines += ["", f"{heading} {section.title}", "", *markdown_table(["Name", "Description", "Value"], rows)]
    return [*lines, ""]


def parameters_span(lines: list[str], source: str = "README.md") -> tuple[int, int, int]:
    """Where the Parameters part is: its heading's index, the index of the line after the part, and
    the heading's level. Lines in fenced code blocks are not headings."""
    fence = ""
    headings: list[tuple[int, int]] = []
    for index, line in enumerate(lines):
        marker = FENCE.match(line)
        if marker and not fence:
            fence = marker[1]
        elif marker and marker[1].startswith(fence) and not line.strip().strip(fence[0]):
            fence = ""
        elif not fence and HEADING.match(line):
            headings.append((index, len(HEADING.match(line)[1])))
    found = [(index, level) for index, level in headings if PARAMETERS_HEADING.match(lines[index])]
    if not found:
        raise MetadataError([f"{source} has no '## Parameters' heading: add one where the values table goes"])
    if len(found) > 1:
        numbers = ", ".join(str(index + 1) for index, _ in found)
        raise MetadataError([f"{source} has a Parameters heading on lines {numbers}: keep one"])
    start, level = found[0]
    end = next((index for index, other in headings if index > start and other <= level), len(lines))
    return start, end, level


def update_readme(readme_text: str, values_text: str, readme_source: str = "README.md",
                  values_source: str = "values.yaml") -> str:
    """readme_text with its Parameters part written afresh from values_text."""
    lines = readme_text.split("\n")
    start, end, level = parameters_span(lines, readme_source)
    sections = read_metadata(values_text, values_source)
    return "\n".join([*lines[:start + 1], *render_sections(sections, "#" * (level + 1)), *lines[end:]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hack/gen_chart_readme.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("readme", nargs="?", type=Path, default=README, help=f"default: {README.relative_to(REPO)}")
    parser.add_argument("values", nargs="?", type=Path, default=VALUES, help=f"default: {VALUES.relative_to(REPO)}")
    args = parser.parse_args(argv)
    for path, what in ((args.values, "values file"), (args.readme, "README")):
        if not path.is_file():
            hint = ": create it with a '## Parameters' heading where the table goes" if what == "README" else ""
            print(f"{PROG}: {path} does not exist{hint}", file=sys.stderr)
            return 1
    readme_text = args.readme.read_text(encoding="utf-8")
    try:
        fresh = update_readme(readme_text, args.values.read_text(encoding="utf-8"), str(args.readme),
                              str(args.values))
    except MetadataError as err:
        for problem in err.problems:
            print(f"{PROG}: {problem}", file=sys.stderr)
        print(f"{PROG}: {args.readme} left as it was: fix what is named above", file=sys.stderr)
        return 1
    if fresh == readme_text:
        print(f"{PROG}: the values table in {args.readme} is up to date with {args.values}")
    else:
        args.readme.write_text(fresh, encoding="utf-8")
        print(f"{PROG}: values table in {args.readme} regenerated from {args.values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
