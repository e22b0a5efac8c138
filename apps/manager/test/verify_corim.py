"""Independent check of a CoRIM written by cocos-manager.

Decodes it with cbor2 into exactly the structure veraison/corim v1.1.x
(upstream's verifier library) reads, verifies a COSE_Sign1 signature with
`cryptography`, and prints what it found as JSON. Exits non-zero, naming the
part that does not hold, when anything is off.

usage: verify_corim.py CORIM_FILE [PUBLIC_KEY_PEM|''] [NAME,NAME,...]
NAMEs are the measurement names to recognise in the measurement keys
(UUIDv5 of urn:cocos-manager:measurement:<name> in the URL namespace).
"""
import json
import sys
import uuid

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

COMID_TAG_PREFIX = bytes([0xD9, 0x01, 0xFA])  # tag 506, as upstream's verifiers match it
HASH_ALG_BY_LENGTH = {32: 1, 48: 7, 64: 8}  # IANA named-information: sha-256, sha-384, sha-512
COSE_ALGS = {-7: (hashes.SHA256(), "secp256r1"), -35: (hashes.SHA384(), "secp384r1")}


def check(condition, what):
    if not condition:
        raise SystemExit(f"verify_corim: {what}")


def exact_keys(value, keys, what):
    check(isinstance(value, dict), f"{what} is not a map: {value!r}")
    check(set(value.keys()) == set(keys), f"{what} has keys {sorted(value.keys())}, expected {sorted(keys)}")


def verify_sign1(top, public_key_file):
    check(isinstance(top.value, list) and len(top.value) == 4, "COSE_Sign1 is not a 4-element array")
    protected, unprotected, payload, signature = top.value
    check(isinstance(protected, bytes), "protected header is not a byte string")
    header = cbor2.loads(protected)
    exact_keys(header, [1, 3, 8], "protected header")
    alg = header[1]
    check(alg in COSE_ALGS, f"unexpected alg {alg}")
    check(header[3] == "application/rim+cbor", f"content type is {header[3]!r}")
    check(isinstance(header[8], bytes), "corim-meta (label 8) is not a byte string holding CBOR")
    meta = cbor2.loads(header[8])
    exact_keys(meta, [0], "corim-meta")
    exact_keys(meta[0], [0], "corim-meta signer")
    check(isinstance(meta[0][0], str) and meta[0][0] != "", "signer name is not a non-empty text string")
    check(unprotected == {}, f"unprotected header is {unprotected!r}, expected an empty map")
    check(isinstance(payload, bytes), "payload is not a byte string")
    digest, curve = COSE_ALGS[alg]
    key = serialization.load_pem_public_key(open(public_key_file, "rb").read())
    check(key.curve.name == curve, f"alg {alg} with a {key.curve.name} key")
    half = len(signature) // 2
    check(half == (key.curve.key_size + 7) // 8, f"signature is {len(signature)} bytes, not raw r||s")
    der = utils.encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    key.verify(der, to_be_signed, ec.ECDSA(digest))  # raises InvalidSignature
    return {"alg": alg, "content_type": header[3], "signer": meta[0][0]}, payload


def measurement(m, names):
    exact_keys(m, [0, 1], "measurement")
    key_uuid = m[0]
    # cbor2 turns tag 37 over 16 bytes (and only that) into a uuid.UUID.
    check(isinstance(key_uuid, uuid.UUID), f"measurement key is not a tagged UUID (37): {key_uuid!r}")
    exact_keys(m[1], [2], "measurement values")
    digests = m[1][2]
    check(isinstance(digests, list) and len(digests) == 1, "digests is not a one-entry list")
    alg, value = digests[0]
    check(isinstance(value, bytes), "digest is not a byte string")
    check(HASH_ALG_BY_LENGTH.get(len(value)) == alg, f"alg id {alg} for a {len(value)}-byte digest")
    name = next((n for n in names if uuid.uuid5(uuid.NAMESPACE_URL, f"urn:cocos-manager:measurement:{n}") == key_uuid), None)
    return {"key": str(key_uuid), "name": name, "alg": alg, "digest": value.hex()}


def main() -> None:
    data = open(sys.argv[1], "rb").read()
    public_key_file = sys.argv[2] if len(sys.argv) > 2 else ""
    names = [n for n in (sys.argv[3] if len(sys.argv) > 3 else "").split(",") if n]
    top = cbor2.loads(data)
    out = {}
    if isinstance(top, cbor2.CBORTag):
        check(top.tag == 18, f"top-level tag {top.tag}: expected a COSE_Sign1 (18) or an untagged corim-map")
        check(public_key_file != "", "signed CoRIM but no public key given")
        out["signed"], payload = verify_sign1(top, public_key_file)
        corim = cbor2.loads(payload)
    else:
        corim = top
    exact_keys(corim, [0, 1], "corim-map")
    check(isinstance(corim[0], str) and corim[0] != "", "corim id is not a non-empty text string")
    out["id"] = corim[0]
    tags = corim[1]
    check(isinstance(tags, list) and len(tags) == 1, "tags is not a one-entry list")
    check(isinstance(tags[0], bytes) and tags[0].startswith(COMID_TAG_PREFIX), "tag is not a byte string starting d9 01 fa")
    comid = cbor2.loads(tags[0])
    check(isinstance(comid, cbor2.CBORTag) and comid.tag == 506, "not a tagged CoMID (506)")
    exact_keys(comid.value, [1, 4], "comid")
    exact_keys(comid.value[1], [0], "tag-identity")
    check(isinstance(comid.value[1][0], str) and comid.value[1][0] != "", "tag-id is not a non-empty text string")
    out["tag_id"] = comid.value[1][0]
    exact_keys(comid.value[4], [0], "triples")
    triples = comid.value[4][0]
    check(isinstance(triples, list) and len(triples) == 1, "reference-values is not a one-entry list")
    check(isinstance(triples[0], list) and len(triples[0]) == 2, "reference triple is not [environment, measurements]")
    environment, measurements = triples[0]
    exact_keys(environment, [0], "environment")
    exact_keys(environment[0], [1, 2], "class")
    out["environment"] = {"vendor": environment[0][1], "model": environment[0][2]}
    check(isinstance(measurements, list) and len(measurements) > 0, "no measurements")
    out["measurements"] = [measurement(m, names) for m in measurements]
    print(json.dumps(out))


main()
