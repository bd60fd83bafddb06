#!/usr/bin/python3
"""Sends log records to a GELF input with graypy (Debian's python3-graypy), as an app would.

Run by the integration tests with /usr/bin/python3. Prints one JSON object on stdout:
{"datagrams": <UDP datagrams sent>, "records": [{"message": ..., "extra": {...}}, ...]}
so the test can compare what tocsin archived with what was actually sent (random values
included).
"""

import argparse
import base64
import json
import logging
import logging.handlers
import os
import sys

import graypy

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--transport", choices=["udp", "tcp", "http"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--localname", required=True, help="GELF host field")
    p.add_argument("--chunk-size", type=int, default=1420)
    p.add_argument("--no-compress", action="store_true")
    p.add_argument("--logger-name", default="tocsin.it")
    p.add_argument(
        "--record",
        action="append",
        default=[],
        help="LEVEL:MESSAGE; repeatable, sent in order",
    )
    p.add_argument(
        "--extra", action="append", default=[], help="NAME=VALUE added to every record"
    )
    p.add_argument(
        "--random-extra",
        action="append",
        default=[],
        help="NAME:BYTES, base64 of BYTES random bytes (incompressible), new per record",
    )
    args = p.parse_args()

    datagrams = 0
    original_send = logging.handlers.DatagramHandler.send

    def counting_send(self, s):
        nonlocal datagrams
        datagrams += 1
        original_send(self, s)

    logging.handlers.DatagramHandler.send = counting_send

    if args.transport == "udp":
        handler = graypy.GELFUDPHandler(
            "127.0.0.1",
            args.port,
            gelf_chunker=graypy.handler.GELFWarningChunker(chunk_size=args.chunk_size),
            localname=args.localname,
            compress=not args.no_compress,
        )
    elif args.transport == "http":
        # POST /gelf, one connection per record; zlib body announced as "gzip,deflate".
        handler = graypy.GELFHTTPHandler(
            "127.0.0.1", args.port, localname=args.localname, compress=not args.no_compress
        )
    else:
        handler = graypy.GELFTCPHandler("127.0.0.1", args.port, localname=args.localname)

    log = logging.getLogger(args.logger_name)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)

    static_extra = dict(kv.split("=", 1) for kv in args.extra)
    sent = []
    for spec in args.record:
        level, message = spec.split(":", 1)
        extra = dict(static_extra)
        for r in args.random_extra:
            name, size = r.split(":", 1)
            extra[name] = base64.b64encode(os.urandom(int(size))).decode("ascii")
        # A LoggerAdapter is how apps usually attach context; graypy turns each attribute of
        # the record into an "_name" additional field.
        logging.LoggerAdapter(log, extra).log(LEVELS[level], message)
        sent.append({"message": message, "extra": extra})

    handler.close()
    json.dump({"datagrams": datagrams, "records": sent}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
