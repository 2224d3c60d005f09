#!/usr/bin/env python3
"""Verifies Sigil access tokens with stock PyJWT (PyJWKClient + jwt.decode), as a Python
resource server does.

Line protocol. The first stdin line is a JSON config:
    {"jwks_uri": ..., "issuer": ..., "audience": ..., "algorithms": ["ES256"]}
answered with {"ready": true, "pyjwt": "<version>"}. Every further line is a token, answered with one JSON line on stdout:
    {"ok": true, "claims": {...}}
    {"ok": false, "error": "<exception class>", "pyjwt_error": <is it a jwt.PyJWTError>, "message": "..."}
One PyJWKClient serves every token, so its JWKS cache (300 s) behaves as in a long-running server.
"""
import json
import sys

import jwt


def verify(client, config, token):
    try:
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=config["algorithms"],
            audience=config["audience"],
            issuer=config["issuer"],
            options={"require": ["exp", "iat", "sub", "jti"]},
        )
        return {"ok": True, "claims": claims}
    except Exception as e:  # every failure is reported; the caller judges whether it was a clean one
        return {"ok": False, "error": type(e).__name__, "pyjwt_error": isinstance(e, jwt.PyJWTError), "message": str(e)}


def main():
    config = json.loads(sys.stdin.readline())
    client = jwt.PyJWKClient(config["jwks_uri"])
    print(json.dumps({"ready": True, "pyjwt": jwt.__version__}), flush=True)
    for line in sys.stdin:
        print(json.dumps(verify(client, config, line.strip())), flush=True)


if __name__ == "__main__":
    main()
