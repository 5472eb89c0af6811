"""One embedded model's llama.cpp server, in a process of its own (started by
shoal.models.llamacpp, run as a script so it loads only the standard library and xllamacpp).

Why a process per model: llama.cpp computes with OpenMP, and libgomp stops spinning at its
barriers once one process manages more threads than there are cores. Two models loaded in one
process on 2 cores slow each other down even when only one is working (measured: the 1.5B's
decode 20.7 -> 15.1 tokens/s once the 0.5B was loaded beside it). Ollama and llama.cpp's own
router run one process per model for the same reason.

Protocol: argv[1] is a JSON object (path, n_ctx, n_threads, n_parallel, verbosity). The worker
prints one JSON line, {"address": URL, "load_seconds": S} or {"error": REASON}, then serves on
loopback until its standard input closes (the owner closed it, or died), and exits.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
from typing import Any

import xllamacpp

_LOOPBACK = "127.0.0.1"


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind((_LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _params(config: dict[str, Any], verbosity: int) -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = config["path"]
    params.n_ctx = config["n_ctx"]
    # Slots for `n` answers to one prompt: the prompt is decoded once and its cache shared;
    # one unified KV buffer, so each sequence may use the whole n_ctx.
    params.n_parallel = config["n_parallel"]
    params.kv_unified = True
    params.cpuparams.n_threads = config["n_threads"]
    params.cpuparams_batch.n_threads = config["n_threads"]
    params.hostnames = [_LOOPBACK]
    params.port = _free_loopback_port()
    params.use_jinja = True  # the GGUF's own chat template, with tool-call parsing
    params.verbosity = verbosity
    return params


def _reasons(config: dict[str, Any]) -> str:
    """llama.cpp says why a load failed only at a verbose log level: load once more verbosely,
    with fd 2 caught in a file, and keep its error lines."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            xllamacpp.Server(_params(config, verbosity=3))
        except RuntimeError:
            pass
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        lines = sink.read().decode("utf-8", errors="replace").splitlines()
    errors = [line.split(" E ", 1)[1].strip() for line in lines if " E " in line]
    return "; ".join(list(dict.fromkeys(errors))[:3])


def main() -> int:
    config = json.loads(sys.argv[1])
    started = time.perf_counter()
    try:
        server = xllamacpp.Server(_params(config, config["verbosity"]))
    except RuntimeError as exc:
        print(json.dumps({"error": _reasons(config) or str(exc)}), flush=True)
        return 1
    print(json.dumps({"address": str(server.listening_address),
                      "load_seconds": time.perf_counter() - started}), flush=True)
    sys.stdin.buffer.read()  # returns when the owner closes our stdin or dies
    os._exit(0)  # llama.cpp's threads need no orderly join in a process that ends


if __name__ == "__main__":
    sys.exit(main())
