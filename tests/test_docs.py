"""The README documents every setting the code declares."""
from settings import SETTINGS
from tests.conftest import ROOT


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


def test_readme_opens_with_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:600]
    assert "bash scripts/run.sh" in head and "bash scripts/test.sh" in head
