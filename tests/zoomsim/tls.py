"""A throw-away CA and server certificate for --https, made with the openssl CLI."""

import os
import secrets
import ssl
import subprocess

_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_SERVER_EXTENSIONS = """subjectAltName=IP:127.0.0.1,DNS:localhost
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
"""


def _openssl(workdir, *args):
    subprocess.run(["openssl", *args], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def server_context(workdir):
    """(SSLContext for 127.0.0.1 and localhost, path of the CA certificate to trust)."""
    _openssl(workdir, "req", "-x509", *_EC_KEY, "-days", "2", "-subj", "/CN=zoomsim test CA",
             "-keyout", "ca.key", "-out", "ca.pem")
    _openssl(workdir, "req", "-new", *_EC_KEY, "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(workdir, "server.ext"), "w") as ext:
        ext.write(_SERVER_EXTENSIONS)
    _openssl(workdir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", str(secrets.randbits(63)), "-days", "2", "-extfile", "server.ext",
             "-out", "server.pem")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(workdir, "server.pem"),
                            os.path.join(workdir, "server.key"))
    context.set_alpn_protocols(["http/1.1"])
    return context, os.path.join(workdir, "ca.pem")
