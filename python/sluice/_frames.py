"""The frame format shared with the Node engine.

A frame is a 4-byte big-endian length followed by that many bytes of one msgpack value.
Both sides write the canonical encoding (smallest integer forms, float64, str for text,
bin for bytes, string map keys), so a frame decoded and re-encoded on either side comes
out byte for byte the same; ``test/fixtures/frames/vectors.json`` pins that.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import msgpack

MAX_FRAME_BYTES = 512 * 1024 * 1024
_LENGTH = struct.Struct(">I")


class ChannelClosed(EOFError):
    """The other end closed the channel (or died)."""


def encode_payload(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def decode_payload(payload: bytes | memoryview) -> Any:
    return msgpack.unpackb(payload, raw=False, strict_map_key=False)


def encode_frame(value: Any) -> bytes:
    payload = encode_payload(value)
    return _LENGTH.pack(len(payload)) + payload


class FrameSocket:
    """Reads and writes frames on a connected stream socket."""

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self._sock = sock
        self._peer = peer
        self._buffer = bytearray()

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, value: Any) -> None:
        self.send_payload(encode_payload(value))

    def send_payload(self, payload: bytes) -> None:
        self._sock.sendall(_LENGTH.pack(len(payload)) + payload)

    def _fill(self, count: int) -> None:
        while len(self._buffer) < count:
            data = self._sock.recv(max(65536, count - len(self._buffer)))
            if not data:
                raise ChannelClosed(f"{self._peer} closed the channel")
            self._buffer += data

    def receive_payload(self) -> bytes:
        self._fill(4)
        (length,) = _LENGTH.unpack_from(self._buffer, 0)
        if length > MAX_FRAME_BYTES:
            raise ValueError(
                f"{self._peer} sent a frame of {length} bytes, more than the "
                f"{MAX_FRAME_BYTES} allowed: the channel is out of step"
            )
        self._fill(4 + length)
        payload = bytes(self._buffer[4 : 4 + length])
        del self._buffer[: 4 + length]
        return payload

    def receive(self) -> Any:
        return decode_payload(self.receive_payload())

    def close(self) -> None:
        # shutdown() first: a thread blocked in recv() keeps a closed socket open on Linux,
        # and the peer would never see the end of the stream.
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
