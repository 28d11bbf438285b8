"""base58btc multibase and Ed25519 Multikey encoding (the `z…` strings in keys and proofs)."""

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(_ALPHABET)}
# The multicodec prefix of an Ed25519 public key (0xed, varint-encoded as 0xed 0x01).
_ED25519_PUB = b"\xed\x01"


def b58encode(data: bytes) -> str:
    """Bitcoin base58 text for bytes (leading zero bytes become leading "1"s)."""
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, remainder = divmod(number, 58)
        text = _ALPHABET[remainder] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def b58decode(text: str) -> bytes:
    """Bytes from bitcoin base58 text; ValueError on a character outside the alphabet."""
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError("not base58btc")
        number = number * 58 + _INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc: "z" followed by base58."""
    return "z" + b58encode(data)


def decode_base58btc(text: str) -> bytes:
    """Bytes from a multibase base58btc string; ValueError when it is not one."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("not multibase base58btc")
    return b58decode(text[1:])


def ed25519_multikey(raw_public_key: bytes) -> str:
    """A 32-byte Ed25519 public key as a Multikey `publicKeyMultibase` ("z6Mk…")."""
    return encode_base58btc(_ED25519_PUB + raw_public_key)


def ed25519_from_multikey(text: str) -> bytes:
    """The 32 raw bytes of an Ed25519 Multikey; ValueError for anything else."""
    data = decode_base58btc(text)
    if len(data) != 34 or data[:2] != _ED25519_PUB:
        raise ValueError("not an Ed25519 Multikey")
    return data[2:]
