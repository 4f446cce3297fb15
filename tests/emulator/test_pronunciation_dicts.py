"""The pronunciation dictionary routes over real loopback HTTP (REFERENCE §9): the four
operations, their documented shapes, zod's 400 bodies, 401, and one set per key."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_KEY

PATH = "/waves/v1/pronunciation-dicts"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
OTHER = {"Authorization": "Bearer sk_someone_else"}
ITEMS = [{"word": "nginx", "pronunciation": "engine x"}, {"word": "SQL", "pronunciation": "sequel"}]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        yield client


def send(
    http: httpx.Client, method: str, body: Any, headers: dict[str, str] = AUTH
) -> httpx.Response:
    return http.request(method, PATH, headers=headers, json=body)


def required(path: list[str | int], expected: str = "string") -> dict[str, Any]:
    return {
        "code": "invalid_type",
        "expected": expected,
        "received": "undefined",
        "path": path,
        "message": "Required",
    }


def too_small(path: list[str | int], kind: str) -> dict[str, Any]:
    noun = "character(s)" if kind == "string" else "element(s)"
    return {
        "code": "too_small",
        "minimum": 1,
        "type": kind,
        "inclusive": True,
        "exact": False,
        "message": f"{kind.capitalize()} must contain at least 1 {noun}",
        "path": path,
    }


def test_create_list_update_delete(http) -> None:
    assert http.get(PATH, headers=AUTH).json() == []
    created = send(http, "POST", {"items": ITEMS})
    assert created.status_code == 200
    dictionary = created.json()
    assert set(dictionary) == {"id", "items", "createdAt"}
    assert re.fullmatch(r"[0-9a-f]{24}", dictionary["id"])
    assert dictionary["items"] == ITEMS
    assert TIMESTAMP.match(dictionary["createdAt"])
    assert http.get(PATH, headers=AUTH).json() == [dictionary]

    new_items = [{"word": "GitHub", "pronunciation": "git-hub"}]
    updated = send(http, "PUT", {"id": dictionary["id"], "items": new_items})
    assert updated.status_code == 200
    assert updated.json() == {"id": dictionary["id"], "items": new_items}  # no createdAt
    listed = http.get(PATH, headers=AUTH).json()
    assert listed == [{**dictionary, "items": new_items}]  # replaced, creation time kept

    deleted = send(http, "DELETE", {"id": dictionary["id"]})
    assert (deleted.status_code, deleted.json()) == (200, {"id": dictionary["id"], "deleted": True})
    assert http.get(PATH, headers=AUTH).json() == []


def test_the_list_is_oldest_first_and_keeps_duplicate_words_as_sent(http) -> None:
    first = send(http, "POST", {"items": ITEMS[:1]}).json()
    doubled = ITEMS[:1] + [{"word": "nginx", "pronunciation": "en-jinx"}]
    second = send(http, "POST", {"items": doubled}).json()
    assert [d["id"] for d in http.get(PATH, headers=AUTH).json()] == [first["id"], second["id"]]
    assert second["items"] == doubled


def test_each_key_sees_only_its_own_dictionaries(http) -> None:
    mine = send(http, "POST", {"items": ITEMS}).json()
    assert http.get(PATH, headers=OTHER).json() == []
    for method, body in (("PUT", {"id": mine["id"], "items": []}), ("DELETE", {"id": mine["id"]})):
        response = send(http, method, body, OTHER)
        assert (response.status_code, response.json()) == (
            404,
            {"error": "Pronunciation dictionary not found"},
        )
    assert http.get(PATH, headers=AUTH).json() == [mine]  # untouched


def test_an_unknown_id_is_404(http) -> None:
    for method, body in (("PUT", {"id": "nope", "items": ITEMS}), ("DELETE", {"id": "nope"})):
        response = send(http, method, body)
        assert response.status_code == 404
        assert response.json() == {"error": "Pronunciation dictionary not found"}
    gone = send(http, "POST", {"items": ITEMS}).json()["id"]
    assert send(http, "DELETE", {"id": gone}).status_code == 200
    assert send(http, "DELETE", {"id": gone}).status_code == 404


def test_put_may_empty_a_dictionary(http) -> None:
    dictionary = send(http, "POST", {"items": ITEMS}).json()
    response = send(http, "PUT", {"id": dictionary["id"], "items": []})
    assert response.json() == {"id": dictionary["id"], "items": []}


@pytest.mark.no_contract  # the requests break the schema on purpose
@pytest.mark.parametrize(
    ("method", "body", "issues"),
    [
        ("POST", {}, [required(["items"], "array")]),
        ("POST", {"items": []}, [too_small(["items"], "array")]),
        ("POST", {"items": [{"pronunciation": "x"}]}, [required(["items", 0, "word"])]),
        (
            "POST",
            {"items": [ITEMS[0], {"word": "", "pronunciation": ""}, {"word": "a"}]},
            [
                too_small(["items", 1, "word"], "string"),
                too_small(["items", 1, "pronunciation"], "string"),
                required(["items", 2, "pronunciation"]),
            ],
        ),
        (
            "POST",
            {"items": ["nginx", {"word": 7, "pronunciation": "seven"}]},
            [
                {
                    "code": "invalid_type",
                    "expected": "object",
                    "received": "string",
                    "path": ["items", 0],
                    "message": "Expected object, received string",
                },
                {
                    "code": "invalid_type",
                    "expected": "string",
                    "received": "number",
                    "path": ["items", 1, "word"],
                    "message": "Expected string, received number",
                },
            ],
        ),
        (
            "POST",
            ["nginx"],
            [
                {
                    **required([], "object"),
                    "received": "array",
                    "message": "Expected object, received array",
                }
            ],
        ),  # fmt: skip
        ("PUT", {"items": ITEMS}, [required(["id"])]),
        ("PUT", {"id": ""}, [too_small(["id"], "string"), required(["items"], "array")]),
        ("DELETE", {}, [required(["id"])]),
        ("DELETE", {"id": ""}, [too_small(["id"], "string")]),
    ],
)
def test_zod_400_bodies(http, method: str, body: Any, issues: list[dict[str, Any]]) -> None:
    response = send(http, method, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request body", "details": issues}
    assert http.get(PATH, headers=AUTH).json() == []  # nothing was created


@pytest.mark.no_contract
def test_a_body_that_is_not_json_is_400(http) -> None:
    response = http.post(
        PATH, headers={**AUTH, "Content-Type": "application/json"}, content=b"{items"
    )
    assert (response.status_code, response.json()) == (400, {"error": "Invalid JSON"})


@pytest.mark.no_contract
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_401_without_a_key(http, method: str) -> None:
    response = http.request(method, PATH, json={"items": ITEMS})
    assert (response.status_code, response.json()) == (401, {"error": "Unauthorized"})
    bad = http.request(method, PATH, json={"items": ITEMS}, headers={"Authorization": "Bearer x"})
    assert (bad.status_code, bad.json()) == (401, {"error": "Unauthorized"})


def test_exchanges_are_recorded_for_the_contract(http, emulator) -> None:
    send(http, "POST", {"items": ITEMS})
    (exchange,) = emulator.state.exchanges()
    assert (exchange.method, exchange.path, exchange.status) == ("POST", PATH, 200)
