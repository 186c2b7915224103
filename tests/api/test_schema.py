"""The OpenAPI schema documents what every view gets from ApiView: Idempotency-Key on each POST,
the RateLimit-* headers on each answer to a key and Retry-After on 429."""

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

METHODS = ("get", "put", "patch", "post", "delete")


def _schema() -> dict:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    return schema


def test_every_post_documents_the_idempotency_key_header():
    schema = _schema()
    parameter = schema["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"], parameter["schema"]["maxLength"]) == ("Idempotency-Key", "header", 255)
    assert "24 hours" in parameter["description"]
    posts = [item["post"] for item in schema["paths"].values() if "post" in item]
    assert posts
    for operation in posts:
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
        assert (
            "Idempotency-Replay"
            in operation["responses"]["201" if "201" in operation["responses"] else "200"]["headers"]
        )


def test_every_answer_but_401_documents_the_rate_limit_and_429_retry_after():
    schema = _schema()
    assert set(schema["components"]["headers"]) >= {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    seen_429 = 0
    for item in schema["paths"].values():
        for method in METHODS:
            for code, response in item.get(method, {}).get("responses", {}).items():
                headers = response.get("headers", {})
                if code == "401":
                    assert "RateLimit-Remaining" not in headers
                    continue
                assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(headers)
                if code == "429":
                    seen_429 += 1
                    assert headers["Retry-After"] == {"$ref": "#/components/headers/Retry-After"}
    assert seen_429
