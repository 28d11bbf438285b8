"""Baking and reading Open Badges in PNG and SVG (app.services.badges.baking), and the offline check of a VC-JWT
(app.services.badges.imported), without a database."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey
from PIL import Image, PngImagePlugin

from app.models import BadgeCheck
from app.services.badges import baking, imported
from app.services.badges.multibase import encode_base58btc
from tests.fixtures.badges import make_fixtures as made
from tests.media import png

OB3_JSON = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2",
                                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                       "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": "Café ✓"})


def chunk_types(data: bytes) -> list[bytes]:
    types, position = [], 8
    while position < len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        types.append(kind)
        position += 12 + length
    return types


def test_a_baked_png_reads_back_exactly_with_the_itxt_chunk_just_before_iend_and_the_same_pixels():
    original = png(40, 30)
    baked = baking.bake_png_bytes(original, payload=OB3_JSON, version="3.0")
    assert baking.extract_png_bytes(baked) == baking.BakedBadge(version="3.0", payload=OB3_JSON)
    assert chunk_types(baked)[-2:] == [b"iTXt", b"IEND"]
    assert Image.open(io.BytesIO(baked)).text == {"openbadgecredential": OB3_JSON}  # Pillow reads it too
    assert Image.open(io.BytesIO(baked)).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_baking_again_replaces_the_badge_already_there():
    once = baking.bake_png_bytes(png(), payload=OB3_JSON, version="3.0")
    twice = baking.bake_png_bytes(once, payload="https://example.org/assertions/1", version="2.0")
    assert chunk_types(twice).count(b"iTXt") == 1
    assert baking.extract_png_bytes(twice) == baking.BakedBadge(version="2.0", payload="https://example.org/assertions/1")


def test_compressed_itxt_and_an_ob1_text_chunk_are_read():
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openbadges", json.dumps({"@context": "https://w3id.org/openbadges/v2"}), zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    assert baking.extract_png_bytes(buffer.getvalue()).version == "2.0"
    legacy = PngImagePlugin.PngInfo()
    legacy.add_text("openbadges", "https://school.example.org/assertions/7.json")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=legacy)
    assert baking.extract_png_bytes(buffer.getvalue()) == baking.BakedBadge(
        version="1.0", payload="https://school.example.org/assertions/7.json")


def test_a_badge_chunk_that_cannot_be_read_is_malformed_not_a_crash():
    data = png()
    bad = b"openbadges\x00\x01\x00\x00\x00" + b"not zlib at all"
    chunk = struct.pack(">I", len(bad)) + b"iTXt" + bad + struct.pack(">I", zlib.crc32(b"iTXt" + bad))
    broken = data[:-12] + chunk + data[-12:]
    with pytest.raises(baking.MalformedBakedBadge):
        baking.extract_png_bytes(broken)


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        block = super().read(size)
        self.bytes_read += len(block)
        return block


def test_reading_a_png_skips_its_image_data():
    noisy = Image.frombytes("RGB", (700, 700), bytes(range(256)) * (700 * 700 * 3 // 256) + bytes(700 * 700 * 3 % 256))
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG", compress_level=0)
    baked = baking.bake_png_bytes(buffer.getvalue(), payload=OB3_JSON, version="3.0")
    reader = CountingReader(baked)
    assert baking.extract_png(reader).version == "3.0"
    assert len(baked) > 1_000_000 and reader.bytes_read < 20_000


SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" '
       b'data-note="a > b"><circle r="4"/><openbadges:assertion xmlns:openbadges="http://openbadges.org" '
       b'verify="https://example.org/a/1"/></svg>\n')


def test_an_svg_is_baked_as_the_first_child_of_svg_replacing_the_old_assertion_and_reads_back_exactly():
    payload = OB3_JSON.replace("Café", "a ]]> b")
    baked = baking.bake_svg(SVG, payload=payload, version="3.0")
    assert baked.startswith(SVG[:SVG.index(b"<circle")] + b'<openbadges:credential xmlns:openbadges="'
                            b'https://purl.imsglobal.org/ob/v3p0"><![CDATA[')
    assert b"openbadges.org" not in baked and b'<circle r="4"/>' in baked
    assert baking.extract_svg(baked) == baking.BakedBadge(version="3.0", payload=payload)
    assert baking.extract_svg(SVG) == baking.BakedBadge(version="2.0", payload="https://example.org/a/1",
                                                         verify_url="https://example.org/a/1")


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>',
    b'<html xmlns="http://www.w3.org/1999/xhtml"><svg xmlns="http://www.w3.org/2000/svg"/></html>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>',
])
def test_entities_other_roots_and_broken_svg_are_refused(document):
    with pytest.raises(ValueError):
        baking.extract_svg(document)
    assert not baking.is_svg(document)


def test_a_vc_jwt_signed_with_a_p256_did_key_verifies_and_a_changed_one_does_not():
    private = ec.derive_private_key(12345, ec.SECP256R1())
    point = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    did = "did:key:" + encode_base58btc(b"\x80\x24" + point)
    assert did.startswith("did:key:zDn")  # how P-256 did:keys look
    credential = made.ob3_credential(did)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    token = jws.serialize_compact({"alg": "ES256", "kid": f"{did}#{did[8:]}"}, json.dumps({"vc": credential}),
                                  ECKey.import_key(pem))
    assert imported.read_badge(version="3.0", payload=token).check is BadgeCheck.verified
    header, _claims, signature = token.split(".")
    credential["credentialSubject"]["achievement"]["name"] = "Something else"
    forged = jws.serialize_compact({"alg": "ES256", "kid": f"{did}#{did[8:]}"}, json.dumps({"vc": credential}),
                                   ECKey.import_key(pem)).split(".")[1]
    assert imported.read_badge(version="3.0", payload=f"{header}.{forged}.{signature}").check \
        is BadgeCheck.does_not_verify
    unsigned = f"{header}.{forged}."
    assert imported.read_badge(version="3.0", payload=unsigned).check is BadgeCheck.does_not_verify


def test_what_cannot_be_checked_offline_says_so():
    hosted = imported.read_badge(version="2.0", payload="https://example.org/assertions/1")
    assert hosted.check is BadgeCheck.needs_internet and hosted.details.issuer_url == "https://example.org/assertions/1"
    credential = made.ob3_credential("https://issuer.example.org")
    credential["proof"] = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                           "verificationMethod": "https://issuer.example.org/keys/1", "proofValue": "z3abc"}
    assert imported.read_badge(version="3.0", payload=json.dumps(credential)).check is BadgeCheck.needs_internet
    del credential["proof"]
    assert imported.read_badge(version="3.0", payload=json.dumps(credential)).check is BadgeCheck.cannot_check
    with pytest.raises(imported.UnreadableBadge):
        imported.read_badge(version="2.0", payload="[1, 2")


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_a_signed_credential_baked_into_a_badge_picture_reads_back_exactly_and_still_verifies(kind):
    from app.services.badges import baked_images, did_key
    from app.services.badges.proof import verify_document

    signed = made.ob3_with_proof(made.ob3_credential(made.issuer_did()), made.issuer_key())
    if kind == "png":
        picture = baked_images.credential_png(credential=signed, title="Robotics Level 1 – «Niveau» ✓")
        found = baking.extract_png_bytes(picture)
        assert Image.open(io.BytesIO(picture)).size == (400, 400)
    else:
        picture = baked_images.credential_svg(credential=signed, title="Robotics <Level> 1 & more")
        found = baking.extract_svg(picture)
        assert b"<title id=\"badge-title\">Robotics &lt;Level&gt; 1 &amp; more</title>" in picture
    assert found.version == "3.0" and json.loads(found.payload) == signed
    check = verify_document(document=json.loads(found.payload), public_key_for=lambda m: did_key.public_key(m))
    assert check.valid
    assert imported.read_badge(version=found.version, payload=found.payload).check is BadgeCheck.verified
