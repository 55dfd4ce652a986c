"""What a new developer reads first: README's first two commands, and what start.sh does."""
from __future__ import annotations

import re

from .conftest import ROOT


def test_readme_starts_with_start_and_test_scripts():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", readme, flags=re.S | re.M)
    assert [b.strip() for b in blocks[:2]] == ["./start.sh", "./test.sh"]


def test_start_script_migrates_and_seeds_before_serving():
    script = (ROOT / "start.sh").read_text(encoding="utf-8")
    steps = [line.strip() for line in script.splitlines() if re.search(r"flask (db upgrade|seed|run)", line)]
    assert [re.search(r"flask (db upgrade|seed|run)", s).group(1) for s in steps] == [
        "db upgrade", "seed", "run"]
