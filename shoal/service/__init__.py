"""shoal.service: Shoal as a service for other applications. `Service` owns a session and
does the work; `create_app` serves it over HTTP (with the runs dashboard), `mcp_server` as
Model Context Protocol tools. FastAPI and mcp come with the `server` extra."""

from shoal.service.auth import KeyCheck, hash_key
from shoal.service.gate import Gate
from shoal.service.service import PIPELINES, Service, ServiceConfig

__all__ = ["PIPELINES", "Gate", "KeyCheck", "Service", "ServiceConfig", "hash_key"]
