"""The tutorial's pages (docs/tutorial/, solutions included) run as docs/docs-as-tests.md says, chapter by chapter.

The runner is tests/test_docs.py's; this file only gives the pages a pytest-xdist worker of their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_docs import ROOT, TUTORIAL, run_page


@pytest.mark.parametrize("doc", TUTORIAL, ids=[str(d.relative_to(ROOT / "docs" / "tutorial")) for d in TUTORIAL])
def test_tutorial_page(doc: Path, tmp_path: Path) -> None:
    run_page(doc, tmp_path)
