"""Independent check of a CoRIM written by cocos-manager: decodes it with
cbor2, verifies a COSE_Sign1 signature with cryptography, prints what it
found as JSON. Exits non-zero when anything does not hold."""
import json
import sys

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


def main() -> None:
    data = open(sys.argv[1], "rb").read()
    top = cbor2.loads(data)
    out = {}
    if isinstance(top, cbor2.CBORTag) and top.tag == 18:
        protected, _unprotected, payload, signature = top.value
        header = cbor2.loads(protected)
        alg = header[1]
        digest = {-7: hashes.SHA256(), -35: hashes.SHA384()}[alg]
        key = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
        half = len(signature) // 2
        der = utils.encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
        to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
        key.verify(der, to_be_signed, ec.ECDSA(digest))  # raises InvalidSignature
        out["signed"] = {"alg": alg, "content_type": header.get(3)}
        corim = cbor2.loads(payload)
    else:
        corim = top
    assert isinstance(corim, cbor2.CBORTag) and corim.tag == 501, "not a tagged unsigned-corim-map (501)"
    out["id"] = corim.value[0]
    comid = cbor2.loads(corim.value[1][0])
    assert isinstance(comid, cbor2.CBORTag) and comid.tag == 506, "not a tagged CoMID (506)"
    environment, measurements = comid.value[4][0][0]
    out["environment"] = {"vendor": environment[0][1], "model": environment[0][2]}
    out["measurements"] = [
        {"name": m[0], "alg": m[1][2][0][0], "digest": m[1][2][0][1].hex()} for m in measurements
    ]
    print(json.dumps(out))


main()
