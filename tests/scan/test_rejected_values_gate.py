"""The wrong-values corpus (tests/chart/rejected-values/, loaded by tests/lib/render/rejected_values.py) as one
column of the scan table: helm 3 refuses every case and names the field.

tests/chart/test_values_rejected.py is the full test (Helm 3 and 4, one-line errors); this gate only
reports the corpus state next to the other checks, so it renders each case once with helm 3.
"""

from __future__ import annotations

import pytest

from tests.lib.conformance.scan_targets import REJECTED_ROW
from tests.lib.render.helm_template import render_error
from tests.lib.render.rejected_values import CORPUS_DIR, field_mentions, load_cases

SCAN_CHECK = "rejected"


@pytest.mark.parametrize("row", [REJECTED_ROW])
def test_every_wrong_values_file_is_refused_naming_its_field(row):
    cases = load_cases()
    assert cases, f"{CORPUS_DIR} holds no case"
    unnamed = []
    for case in cases:
        error = render_error(case.values, helm_major=3)
        if not any(m in error for m in field_mentions(case.field, 3, by_schema=case.by_schema)):
            unnamed.append(f"{case.path.name}: error does not name `{case.field}`: {error.strip()[:300]}")
    assert not unnamed, f"{len(unnamed)}/{len(cases)} cases:\n" + "\n".join(unnamed)
