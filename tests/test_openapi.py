"""The published OpenAPI description matches the API, and schemathesis finds no 5xx on a live server.

schemathesis generates valid and invalid requests for every operation in /api/v1/openapi.json and
sends them to a real server process; every answer must be a documented status with a body that
matches its schema, and every error must be JSON {error, code}.
"""
from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from api.openapi import build_spec, served_operations
from queueing import accounts, store
from tests.conftest import LiveServer

EXAMPLES_PER_OPERATION = 15
# Each sign-in verifies an argon2 hash (slow on purpose, ~0.1-0.5 s here): fewer examples there.
FEWER_EXAMPLES = {("post", "/api/v1/auth/login"): 6}
RAN: Counter = Counter()  # cases sent per operation, for the summary test at the end

CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.negative_data_rejection, schemathesis.checks.ignored_auth,
          schemathesis.checks.unsupported_method]


# Voice pack clips (audio/wav) and packs (application/zip) are bytes like any binary upload.
schemathesis.serializer.alias("audio/wav", "application/octet-stream")
schemathesis.serializer.alias("application/zip", "application/octet-stream")


@schemathesis.check
def errors_are_json_with_error_and_code(ctx, response, case):
    """Every 4xx answer is {"error": message, "code": slug} in JSON."""
    if response.status_code < 400:
        return None
    content_type = {key.lower(): value for key, value in response.headers.items()}.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"error without a JSON body: {response.status_code}"
    body = response.json()
    assert isinstance(body, dict) and {"error", "code"} <= set(body), body
    assert isinstance(body["error"], str) and body["error"] and isinstance(body["code"], str) and body["code"], body
    return True


@pytest.fixture(scope="module")
def server(tmp_path_factory, app_instance_template):
    import shutil
    folder = tmp_path_factory.mktemp("openapi") / "instance"
    shutil.copytree(app_instance_template, folder)
    live = LiveServer(folder).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def tokens(server):
    """Bearer tokens as sign-in gives them, issued straight into the live server's database."""
    db = store.connect(server.folder / "luot.sqlite3")
    try:
        def staff(username):
            return accounts.issue_staff_token(db, store.scalar(db, "SELECT id FROM users WHERE username = ?",
                                                               (username,)), time.time())
        answer = {"clerk": staff("quay1"), "admin": staff("admin"), "kiosk": server.credentials.kiosk_token,
                  "spare": [staff("quay2") for _ in range(EXAMPLES_PER_OPERATION * 3)]}
    finally:
        db.conn.close()
    headers = {"Authorization": "Bearer " + answer["clerk"]}
    assert requests.post(server.url + "/api/v1/counters/1/sign-in", headers=headers, timeout=10).status_code == 200
    for service in ("TP", "CT", "TP"):
        requests.post(server.url + "/api/v1/tickets", json={"service": service}, timeout=10,
                      headers={"Authorization": "Bearer " + answer["kiosk"]})
    return answer


@pytest.fixture(scope="module")
def api_schema(server, tokens):
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    schema.config.update(base_url=server.url)
    # Unknown query parameters are ignored, as on most of the web; unknown body fields are refused.
    schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, allow_extra_parameters=False)
    return schema


def token_for(case, tokens) -> str:
    path = case.operation.path
    if path in ("/api/v1/tickets", "/api/v1/citizen/check"):
        return tokens["kiosk"]
    if path.startswith(("/api/v1/stats", "/api/v1/admin")) or path == "/api/v1/queue":
        return tokens["admin"]
    if path == "/api/v1/auth/logout":
        return tokens["spare"].pop() if tokens["spare"] else tokens["admin"]
    return tokens["clerk"]


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/counters/1/call-next", "/api/v1/auth/login",
                                  "/api/v1/tickets/x/rating", "/api/v1/assistant/ask"])
def test_bad_bodies_are_refused_on_the_live_server(server, tokens, path):
    headers = {"Authorization": "Bearer " + tokens["kiosk"]}
    url = server.url + path
    big = requests.post(url, data=b"{" + b" " * 70_000 + b"}", timeout=10,
                        headers={**headers, "Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["code"] == "request_entity_too_large"
    form = requests.post(url, data={"service": "TP"}, headers=headers, timeout=10)
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"
    text = requests.post(url, data="service=TP", timeout=10, headers={**headers, "Content-Type": "text/plain"})
    assert text.status_code == 415
    unknown = requests.post(url, json={"colour": "đỏ", "service": "TP"}, headers=headers, timeout=10)
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_fields"
    assert "colour" in unknown.json()["error"]


# Collected from the description in code; the live server must publish every one of them.
# The administration API goes last: it may deactivate the very accounts the other operations use.
OPERATIONS = sorted(((method, path) for path, methods in build_spec()["paths"].items() for method in methods),
                    key=lambda operation: (operation[1].startswith("/api/v1/admin"), operation))


def can_be_made_invalid(method: str, path: str) -> bool:
    """Whether an operation has input with a shape to break (a body, or a parameter more than free text)."""
    raw = build_spec()["paths"][path][method]
    if raw.get("requestBody"):
        return True
    return any(set(parameter.get("schema", {})) - {"type"} or parameter.get("schema", {}).get("type") != "string"
               for parameter in raw.get("parameters", []))


@pytest.mark.parametrize("method, path, mode", [
    (method, path, mode) for method, path in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or can_be_made_invalid(method, path)
], ids=lambda value: value.upper() if value in ("get", "post", "put", "patch", "delete") else (
    ("valid" if value is GenerationMode.POSITIVE else "invalid") if isinstance(value, GenerationMode) else value))
def test_every_operation_against_the_live_server(api_schema, tokens, method, path, mode):
    # pytest 9 and schemathesis' own pytest plugin (from_fixture) disagree, so the cases are driven by
    # Hypothesis here with schemathesis' strategies, checks and transport.
    assert method in api_schema.raw_schema["paths"].get(path, {}), "the published description lists every operation"
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FEWER_EXAMPLES.get((method, path), EXAMPLES_PER_OPERATION), deadline=None,
              derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case):
        RAN[(method, path)] += 1
        headers = {"Authorization": "Bearer " + token_for(case, tokens)}
        if case.meta and any(location.value == "header" and component.mode.is_negative
                             for location, component in case.meta.components.items()):
            headers = {}  # the case left out or spoiled the token on purpose: it must be refused
        response = case.call(headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, additional_checks=[errors_are_json_with_error_and_code],
                               headers=headers)

    run()
    assert RAN[(method, path)] > 0, "no case was sent for this operation"


def schemathesis_summary() -> str | None:
    """The figure for the end of the run (printed by conftest's terminal summary), if the fuzzing ran."""
    if not RAN:
        return None
    return f"schemathesis: {sum(RAN.values())} cases over {len(RAN)} operations, 0 failures"


def test_every_api_route_is_documented_and_nothing_else(app):
    served = served_operations(app.url_map)
    documented = {(method, path) for path, methods in build_spec()["paths"].items() for method in methods}
    assert served - documented == set(), "document these routes in api/openapi.py"
    published = build_spec(served)["paths"]
    assert {(m, p) for p, methods in published.items() for m in methods} == served


def test_the_description_is_served_and_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.json
    assert spec["openapi"].startswith("3.") and "/api/v1/tickets" in spec["paths"]
    # every operation documents its errors as {error, code}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            errors = [status for status in operation["responses"] if status.startswith("4")]
            assert errors, (method, path)
            for status in errors:
                schema_ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert schema_ref.endswith("/Error")
    schemathesis.openapi.from_dict(spec)  # loads without complaint
