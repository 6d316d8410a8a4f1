"""docs/sandbox.md's example test for host sites, run exactly as the page prints it."""

from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
_section = DOC.read_text().split("## In a host site's own tests", 1)[1]
EXAMPLE = _section.split("```python\n# test_videos.py", 1)[1].split("```", 1)[0]


@pytest.fixture(autouse=True)
def _host_site_settings(settings):
    """A host site's settings: none of the demo project's poll tuning for its sandbox."""
    settings.VIDEOGEN = {key: value for key, value in settings.VIDEOGEN.items() if key != "POLL"}


# Defines test_video_is_archived here, for pytest to collect with the plugin's fixtures.
exec(compile("# test_videos.py" + EXAMPLE, str(DOC), "exec"))
