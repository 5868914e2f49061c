"""The frame codec: the vectors shared with Node, and properties over generated values."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice._frames import ChannelClosed, FrameSocket, decode_payload, encode_frame

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "test" / "fixtures" / "frames" / "vectors.json").read_text("utf-8")
)["vectors"]


def untag(value: Any) -> Any:
    if isinstance(value, list):
        return [untag(v) for v in value]
    if isinstance(value, dict):
        if "$bytes" in value:
            return bytes.fromhex(value["$bytes"])
        if "$int" in value:
            return int(value["$int"])
        if "$float" in value:
            return float(value["$float"])
        return {k: untag(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_decodes_to_its_value_and_reencodes_byte_for_byte(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["frame"])
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    decoded = decode_payload(frame[4:])
    assert decoded == untag(vector["value"])
    assert encode_frame(decoded).hex() == vector["frame"]
    assert encode_frame(untag(vector["value"])).hex() == vector["frame"]


# Values the protocol carries: what both codecs represent the same way. Node has one number
# type, so integral floats are left out (Node reads 1.0 as 1 and writes it back as an integer).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False).filter(lambda f: not f.is_integer())
    | st.text()
    | st.binary()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=8), inner, max_size=8),
    max_leaves=40,
)


@given(values)
@settings(max_examples=300, deadline=None)
def test_any_protocol_value_round_trips(value: Any) -> None:
    frame = encode_frame(value)
    assert decode_payload(frame[4:]) == value
    assert encode_frame(decode_payload(frame[4:])) == frame


@given(st.lists(values, min_size=1, max_size=6), st.integers(min_value=1, max_value=97))
@settings(max_examples=60, deadline=None)
def test_frames_split_anywhere_on_a_socket_arrive_whole(messages: list[Any], step: int) -> None:
    left, right = socket.socketpair()
    data = b"".join(encode_frame(m) for m in messages)

    def write_in_pieces() -> None:
        # A writer of its own: a socket buffer holds only a few hundred tiny sends, so
        # writing everything before reading would block forever.
        try:
            for at in range(0, len(data), step):
                left.sendall(data[at : at + step])
        finally:
            left.close()

    writer = threading.Thread(target=write_in_pieces, daemon=True)
    writer.start()
    try:
        reader = FrameSocket(right, "a test peer")
        assert [reader.receive() for _ in messages] == messages
        with pytest.raises(ChannelClosed):
            reader.receive()
    finally:
        right.close()
        writer.join()


def test_a_frame_longer_than_the_limit_is_refused() -> None:
    left, right = socket.socketpair()
    try:
        left.sendall(b"\xff\xff\xff\xff")
        with pytest.raises(ValueError, match="the engine sent a frame of 4294967295 bytes"):
            FrameSocket(right, "the engine").receive()
    finally:
        left.close()
        right.close()
