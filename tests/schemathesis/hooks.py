"""Schemathesis hooks for Lots' API fuzzing (loaded through SCHEMATHESIS_HOOKS by run.sh).

The imports take NDJSON (`application/x-ndjson`), which schemathesis has no serializer for; the
document describes those bodies as a string, so the generated string is sent as it is, as UTF-8,
and anything else (a negative test's number, object or null) as its JSON text.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("utf-8")
