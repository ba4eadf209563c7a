"""Schemathesis hooks for Marquee's origin API (loaded through SCHEMATHESIS_HOOKS).

Uploads are raw bytes under their own media type; schemathesis has no serializer for those, so
it gets one that sends the generated value as bytes.
"""

import schemathesis


@schemathesis.serializer("video/mp4", "image/png")
def raw_bytes(ctx, value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode()
