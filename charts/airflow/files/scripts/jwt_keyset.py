"""The keyset of the chart's jwt.keys: what the `jwt-keyset` init container of the api-server and
scheduler pods builds from the Secret of private keys, before Airflow starts.

Every `<kid>.pem` of the Secret goes into jwks.json as a public key (the api-server checks tokens
against it: `[api_auth] trusted_jwks_url`); the signing key, whose kid is in AIRFLOW__API_AUTH__JWT_KID
(the variable Airflow reads too), is written to signing.pem, readable by its owner only (`[api_auth]
jwt_private_key_path`). pyjwt and cryptography alone: importing Airflow would cost seconds of CPU per
pod start. Anything wrong ends it with one line naming the key and the fix.
"""

from __future__ import annotations

import json
import os
import sys

SIGNING_KID_ENV = "AIRFLOW__API_AUTH__JWT_KID"


def fail(message: str) -> None:
    sys.exit(f"jwt.keys: {message}")


def write(target: str, name: str, content: bytes, mode: int) -> None:
    """Replace `name` in the output folder whole, created with `mode` (a restarted pod finds the old one)."""
    path = os.path.join(target, name)
    partial = f"{path}.partial"
    if os.path.lexists(partial):
        os.unlink(partial)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
        out.write(content)
    os.replace(partial, path)


def build_keyset(source: str, target: str, signing: str, keys_secret_name: str) -> None:
    """Read the keys of the Secret volume at `source`, write jwks.json and signing.pem into `target`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

    where = f"Secret {keys_secret_name}"
    keys, jwks = {}, []
    # A Secret volume also holds its own bookkeeping entries, named `..<something>`.
    for name in sorted(n for n in os.listdir(source) if not n.startswith("..")):
        kid = name[: -len(".pem")]
        if not name.endswith(".pem") or not kid:
            fail(f"{where} holds {name!r}: name each key <kid>.pem (e.g. 2026-12.pem), and keep only keys in it")
        with open(os.path.join(source, name), "rb") as pem:
            data = pem.read()
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (TypeError, ValueError) as error:
            fail(f"{name} in {where} is not an unencrypted PEM private key ({error}); make one with `openssl genpkey -algorithm ed25519`")
        if isinstance(key, ed25519.Ed25519PrivateKey):
            public, algorithm = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True), "EdDSA"
        elif isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
            public, algorithm = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "RS256"
        elif isinstance(key, rsa.RSAPrivateKey):
            fail(f"{name} in {where} is a {key.key_size}-bit RSA key: use 2048 bits or more, or an Ed25519 key")
        else:
            fail(f"{name} in {where} is neither RSA nor Ed25519 ({type(key).__name__}): Airflow signs with those only")
        keys[kid] = key
        jwks.append({**public, "kid": kid, "alg": algorithm, "use": "sig"})
    if signing not in keys:
        fail(f"jwt.keys.signingKey is {signing!r} but {where} holds no {signing}.pem "
             f"(it holds: {', '.join(f'{k}.pem' for k in keys) or 'nothing'}); add it, or name one of those")
    write(target, "jwks.json", json.dumps({"keys": jwks}, indent=2).encode(), 0o444)
    write(target, "signing.pem", keys[signing].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()), 0o400)
    print(f"JWKS of {where}: {', '.join(j['kid'] + ' (' + j['alg'] + ')' for j in jwks)}; signing with {signing}", flush=True)
