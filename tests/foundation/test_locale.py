"""The shipped German locale: the admin renders in it, every string marked in videogen is
translated in it, and the compiled catalog is the one the .po file describes."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

import videogen
from videogen.models import Status, VideoJob

PACKAGE = Path(videogen.__file__).resolve().parent
ROOT = PACKAGE.parent
PO = PACKAGE / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr / msgstr[n] and flags."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#") or not line.strip():
                continue
            elif match := re.match(r"^(msgid|msgid_plural|msgstr(?:\[\d+\])?) (\".*\")$", line):
                key = match[1]
                entry[key] = ast.literal_eval(match[2])
            else:  # a continuation line of the previous string
                entry[key] += ast.literal_eval(line)
        if entry.get("msgid"):  # the header's msgid is ""
            entries.append(entry)
    return entries


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_every_string_is_translated_and_none_is_fuzzy():
    entries = read_po(PO)
    assert len(entries) > 400
    untranslated = [e["msgid"] for e in entries if not all(translations(e))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [] and fuzzy == []
    plural = [e for e in entries if "msgid_plural" in e]
    assert plural and all({"msgstr[0]", "msgstr[1]"} <= e.keys() for e in plural)


def test_placeholders_are_kept():
    placeholder = re.compile(r"%\(\w+\)[sdr]|%[sdr]")
    for entry in read_po(PO):
        wanted = sorted(placeholder.findall(entry["msgid"]))
        for text in translations(entry):
            assert sorted(placeholder.findall(text)) == wanted, entry["msgid"]


def test_the_compiled_catalog_matches_the_po_file():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    for entry in read_po(PO):
        if "msgid_plural" in entry:
            for n, key in ((1, "msgstr[0]"), (2, "msgstr[1]")):
                assert catalog.ngettext(entry["msgid"], entry["msgid_plural"], n) == entry[key]
        else:
            assert catalog.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]


def test_makemessages_finds_nothing_untranslated(tmp_path):
    """makemessages over a copy of the package: every string it extracts is translated."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext is missing (apt-get install gettext)")
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    copy = tmp_path / "videogen"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = os.environ | {"PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "project.settings"}
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "de"], cwd=copy,
                   env=env, check=True, capture_output=True, timeout=120)
    extracted = read_po(copy / "locale" / "de" / "LC_MESSAGES" / "django.po")
    shipped = {e["msgid"]: e for e in read_po(PO)}
    missing = [e["msgid"] for e in extracted if e["msgid"] not in shipped]
    untranslated = [e["msgid"] for e in extracted
                    if "fuzzy" in e["flags"] or not all(translations(e))]
    assert missing == [] and untranslated == []
    assert len(extracted) == len(shipped)  # nothing stale either


@pytest.mark.django_db
def test_the_admin_renders_in_german(admin_client):
    VideoJob.objects.create(model="google/veo-3.0", prompt="a lighthouse")
    # LocaleMiddleware leaves German active in this thread: restore the language afterwards.
    with translation.override(None):
        listing = admin_client.get("/admin/videogen/videojob/", HTTP_ACCEPT_LANGUAGE="de")
        add = admin_client.get("/admin/videogen/videojob/add/", HTTP_ACCEPT_LANGUAGE="de")
    assert listing.status_code == 200
    assert listing.headers["Content-Language"] == "de"
    page = listing.content.decode()
    for text in ("Videoaufträge", "Modell", "Fortschritt", "Kosten"):
        assert text in page, text
    page = add.content.decode()
    for text in ("Speichern und senden", "Entwurf speichern", "Seitenverhältnis",
                 "Bilder pro Sekunde", "— Modell wählen —"):
        assert text in page, text
    assert "Save and submit" not in page


def test_messages_are_translated():
    with translation.override("de"):
        assert str(Status.COMPLETED.label) == "Abgeschlossen"
        assert translation.ngettext("%(n)d delivery resumed.", "%(n)d deliveries resumed.",
                                    3) % {"n": 3} == "3 Zustellungen fortgesetzt."
