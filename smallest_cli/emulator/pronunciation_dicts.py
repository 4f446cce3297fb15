"""The pronunciation dictionary routes (REFERENCE §9): GET, POST, PUT and DELETE on
`/waves/v1/pronunciation-dicts`, the dictionary id travelling in the JSON body.

Each API key sees only its own dictionaries (`dictionaries.Dictionaries`); the middleware
answers 401 `{"error": "Unauthorized"}` before a route is reached.

* GET: 200, a bare array of `{"id", "items", "createdAt"}`, oldest first.
* POST `{"items": [{"word", "pronunciation"}, …]}` (at least one): 200, the new dictionary.
* PUT `{"id", "items"}`: 200 `{"id", "items"}` (no `createdAt`, as documented).
* DELETE `{"id"}`: 200 `{"id", "deleted": true}`.
* A body that fails the schema: 400 `{"error": "Invalid request body", "details": [issue, …]}`,
  the issues built as zod 3 builds them (key order too), every failing field reported, with
  paths like `["items", 0, "word"]`.

UNKNOWN, decided here:

* PUT and DELETE of an id the key does not own (never created, deleted, or another key's):
  404 `{"error": "Pronunciation dictionary not found"}`, what an Express route commonly
  answers when the lookup by id finds nothing. The spec lists no 404; clients handle a 400
  as well.
* PUT replaces the whole list of entries (the reference says "likely replace"); an empty
  `items` list is accepted there, since the spec sets no minimum for it.
* Duplicate words in one dictionary are stored as sent (TTS uses the first).
* A body that is not valid JSON: 400 `{"error": "Invalid JSON"}`; a body sent without a JSON
  Content-Type is read as `{}`, the way Express's JSON parser leaves it.
* No limits on entries per dictionary or dictionaries per key.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smallest_cli.emulator import zod
from smallest_cli.emulator.dictionaries import Dictionaries
from smallest_cli.emulator.state import EmulatorState
from smallest_cli.emulator.tts import bearer_key

PATH = "/waves/v1/pronunciation-dicts"
NOT_FOUND = {"error": "Pronunciation dictionary not found"}


class _Checker:
    """Collects zod 3 issues for the dictionary schemas."""

    def __init__(self) -> None:
        self.issues: list[zod.Issue] = []

    def string(self, parent: dict[str, Any], path: zod.Path) -> str | None:
        """A required string of at least one character at `path` (its last part in `parent`)."""
        value = parent.get(str(path[-1]), zod.MISSING)
        if not isinstance(value, str):
            self.issues.append(zod.wrong_type(path, "string", value))
            return None
        if not value:
            self.issues.append(zod.too_small(path, "string", 1))
        return value

    def items(self, body: dict[str, Any], *, at_least_one: bool) -> list[tuple[str, str]]:
        value = body.get("items", zod.MISSING)
        if not isinstance(value, list):
            self.issues.append(zod.wrong_type(["items"], "array", value))
            return []
        pairs = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.issues.append(zod.wrong_type(["items", index], "object", item))
                continue
            word = self.string(item, ["items", index, "word"])
            pronunciation = self.string(item, ["items", index, "pronunciation"])
            if word and pronunciation:
                pairs.append((word, pronunciation))
        if at_least_one and not value:
            self.issues.append(zod.too_small(["items"], "array", 1))
        return pairs


def _invalid(issues: list[zod.Issue]) -> Response:
    return JSONResponse({"error": "Invalid request body", "details": issues}, status_code=400)


async def _document(request: Request) -> dict[str, Any] | Response:
    """The JSON object sent ({} without a JSON Content-Type), else the 400 to answer with."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return JSONResponse({"error": "Invalid JSON"}, status_code=400)
    if not isinstance(body, dict):
        return _invalid([zod.wrong_type([], "object", body)])
    return body


def _store(request: Request) -> tuple[Dictionaries, str]:
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    return state.dictionaries, bearer_key(request.headers)


async def _list(request: Request) -> Response:
    store, key = _store(request)
    return JSONResponse([dictionary.to_json() for dictionary in store.of(key)])


async def _create(request: Request) -> Response:
    body = await _document(request)
    if isinstance(body, Response):
        return body
    check = _Checker()
    items = check.items(body, at_least_one=True)
    if check.issues:
        return _invalid(check.issues)
    store, key = _store(request)
    return JSONResponse(store.add(key, items).to_json())


async def _update(request: Request) -> Response:
    body = await _document(request)
    if isinstance(body, Response):
        return body
    check = _Checker()
    dictionary_id = check.string(body, ["id"])
    items = check.items(body, at_least_one=False)
    if check.issues or dictionary_id is None:
        return _invalid(check.issues)
    store, key = _store(request)
    updated = store.update(key, dictionary_id, items)
    if updated is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return JSONResponse(updated.to_json(created=False))


async def _delete(request: Request) -> Response:
    body = await _document(request)
    if isinstance(body, Response):
        return body
    check = _Checker()
    dictionary_id = check.string(body, ["id"])
    if check.issues or dictionary_id is None:
        return _invalid(check.issues)
    store, key = _store(request)
    if not store.remove(key, dictionary_id):
        return JSONResponse(NOT_FOUND, status_code=404)
    return JSONResponse({"id": dictionary_id, "deleted": True})


async def _dispatch(request: Request) -> Response:
    handler = {"GET": _list, "POST": _create, "PUT": _update, "DELETE": _delete}
    return await handler[request.method](request)


routes = [Route(PATH, _dispatch, methods=["GET", "POST", "PUT", "DELETE"])]
