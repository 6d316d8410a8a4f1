"""JSON nesting: one limit on every Python. Python 3.12+ reads ``[[[…]]]`` ten times deeper
than 3.11, and SQLite's JSON_VALID check refuses past 1000 levels, so what 3.11 refused with
a RecursionError was, on 3.13, saved until the database refused it (an IntegrityError)."""

import json

import pytest

from videogen import api
from videogen.jsondata import MAX_DEPTH, DepthSafeDecoder, json_problem, storable_json, too_deep
from videogen.models import VideoJob


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_depth_counts_objects_and_lists():
    assert not too_deep("text") and not too_deep({}) and not too_deep(nested(MAX_DEPTH))
    assert too_deep(nested(MAX_DEPTH + 1)) and too_deep({"a": [{"b": nested(MAX_DEPTH - 1)}]})
    assert too_deep(nested(50_000))  # far past Python's own limits, without recursion


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 5000])
def test_too_deep_is_refused_the_same_on_every_python(depth):
    text = "[" * depth + "]" * depth
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        json.loads(text, cls=DepthSafeDecoder)
    assert "levels deep" in json_problem({"deep": nested(depth)})
    assert storable_json({"deep": nested(depth)}) == {"unstorable": "nested too deeply to store"}


def test_as_deep_as_allowed_is_read_and_stored():
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert json.loads(text, cls=DepthSafeDecoder) == nested(MAX_DEPTH)
    assert json_problem({"deep": nested(MAX_DEPTH - 1)}) is None
    assert storable_json([nested(MAX_DEPTH - 1), "a\x00"]) == [nested(MAX_DEPTH - 1), "a\\u0000"]


@pytest.mark.django_db
def test_metadata_too_deep_is_refused_naming_the_field():
    with pytest.raises(api.InvalidRequest) as error:
        api.create(model="google/veo-2.0", prompt="a kettle", metadata={"deep": nested(300)})
    assert [p.field for p in error.value.problems] == ["metadata"]
    assert not VideoJob.objects.exists()
