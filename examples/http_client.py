"""Call Shoal over HTTP: start the service in this process on a loopback port (what
`shoal serve` runs), then use it as any client would, with an API key: list agents, call one,
and stream a graph run's node updates as server-sent events.

    .venv/bin/python examples/http_client.py
"""

import json
import os

import httpx

from shoal import Session
from shoal.service import KeyCheck, Service, ServiceConfig
from shoal.service.app import create_app
from shoal.service.background import BackgroundServer
from shoal.settings import load_settings

KEY = os.environ.get("SHOAL_EXAMPLE_KEY", "example-key")


def main() -> None:
    settings = load_settings(api_keys=KEY)
    service = Service(ServiceConfig(db_url=settings.database_url), Session(settings))
    app = create_app(service, KeyCheck.from_settings(settings, host="127.0.0.1"))
    with BackgroundServer(app) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {KEY}"},
            timeout=300) as client:
        print("refused without a key:", httpx.get(f"{server.url}/v1/agents").status_code)
        print("agents:", [a["name"] for a in client.get("/v1/agents").json()])
        answer = client.post("/v1/agents/summarizer/invoke", json={
            "input": "The parcel left the warehouse on Monday, was held at customs for two "
                     "days and arrived on Friday with a damaged box."}).json()
        print(f"summarizer -> {answer['output']!r} ({answer['usage']})")
        with client.stream("POST", "/v1/graphs/support_triage/runs", json={
                "input": "The app logs me out every time I open settings.",
                "mode": "stream"}) as events:
            for line in events.iter_lines():
                if line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    print("event:", data.get("node") or data.get("status"))


if __name__ == "__main__":
    main()
