"""`mist.tls_defer`: importing mistctl's aiohttp wire does not load the CA certificates for aiohttp's two
default TLS contexts; they load them when first used, and are then what aiohttp's own import makes."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys

from mistctl.mist.tls_defer import LoadedOnUse, deferred_ca_load

PROBE = r"""
import json, ssl
import mistctl.mist.aio
from aiohttp import connector as c
ctx, bare = c._SSL_CONTEXT_VERIFIED, c._SSL_CONTEXT_UNVERIFIED
before = [ssl.SSLContext.cert_store_stats(x)["x509"] for x in (ctx, bare)]
ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="api.mist.com")
fresh = ssl.create_default_context()
print(json.dumps({
    "types": [type(x).__name__ for x in (ctx, bare)],
    "before": before,
    "after": ctx.cert_store_stats(), "fresh": fresh.cert_store_stats(),
    "modes": [ctx.verify_mode == fresh.verify_mode, ctx.check_hostname, bare.verify_mode == ssl.CERT_NONE],
    "options": ctx.options == fresh.options,
    "restored": "set_default_verify_paths" not in ssl.SSLContext.__dict__,
}))
"""


def test_aiohttp_contexts_load_their_certificates_on_first_use_only():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["types"] == ["LoadedOnUse", "LoadedOnUse"]
    assert got["before"] == [0, 0]  # nothing loaded at import
    assert got["after"] == got["fresh"] and got["fresh"]["x509_ca"] > 0  # the system's CAs, once used
    assert got["modes"] == [True, True, True] and got["options"]
    assert got["restored"]  # ssl.SSLContext itself is left as it was


def test_only_plain_contexts_made_in_the_block_are_deferred():
    class Own(ssl.SSLContext):
        pass

    with deferred_ca_load():
        plain = ssl.create_default_context()
        own = Own(ssl.PROTOCOL_TLS_CLIENT)
        own.set_default_verify_paths()
    after = ssl.create_default_context()
    assert type(plain) is LoadedOnUse and type(own) is Own and type(after) is ssl.SSLContext
    assert ssl.SSLContext.cert_store_stats(plain)["x509"] == 0
    assert own.cert_store_stats() == after.cert_store_stats()  # a subclass loads as it asked, at once
    assert plain.get_ca_certs() == after.get_ca_certs()  # asked for, loaded
