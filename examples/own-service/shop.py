"""A small shop service that is not one of gameday's bundled apps: the example of bringing your own service.

Standard library only. It knows nothing of gameday: it takes its port on the command line, answers a health
check, Prometheus metrics and two admin calls, and reads its behaviour from the environment.

    python shop.py --port 8080 [--host 127.0.0.1]

Routes: ``GET /health``, ``GET /metrics``, ``GET /products``, ``POST /orders`` (``{"product": ..., "quantity": n}``,
201), ``GET /admin/state``, ``POST /admin/flags/<name>`` (``{"enabled": true}``), ``PUT /admin/config``
(``{"name": "latency_ms", "value": 5}``).

Every order asks the recommendations step for "customers also bought". Environment:

* ``SHOP_RECO_FAIL_RATE`` (default 0): the share of recommendation calls that fail, failing the order with 500.
  Release v1.1.0 of the example scenario sets it: its new recommendations model is broken.
* ``SHOP_VERSION``: reported by ``/health`` and ``/metrics``.

Flag ``recommendations_off`` skips the recommendations step (orders succeed without it): a degrade switch.
Setting ``latency_ms`` is the work an order takes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRODUCTS = [{"id": "tea", "price_cents": 450}, {"id": "coffee", "price_cents": 520}, {"id": "cake", "price_cents": 380}]


class Shop:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = os.environ.get("SHOP_VERSION", "dev")
        self.reco_fail_rate = float(os.environ.get("SHOP_RECO_FAIL_RATE", "0") or 0)
        self.flags = {"recommendations_off": False}
        self.config = {"latency_ms": 5}
        self.requests: dict[tuple[str, int], int] = {}
        self.orders = 0
        self.rng = random.Random()

    def count(self, route: str, code: int) -> None:
        with self.lock:
            self.requests[(route, code)] = self.requests.get((route, code), 0) + 1

    def order(self, body: dict) -> tuple[int, dict]:
        time.sleep(float(self.config["latency_ms"]) / 1000)
        if not self.flags["recommendations_off"] and self.rng.random() < self.reco_fail_rate:
            return 500, {"error": "recommendations failed"}
        with self.lock:
            self.orders += 1
            number = self.orders
        return 201, {"order": number, "product": body.get("product"), "quantity": body.get("quantity", 1)}

    def metrics(self) -> str:
        lines = ["# TYPE shop_requests_total counter"]
        with self.lock:
            for (route, code), n in sorted(self.requests.items()):
                lines.append(f'shop_requests_total{{route="{route}",code="{code}"}} {n}')
            lines += ["# TYPE shop_orders_total counter", f"shop_orders_total {self.orders}"]
        lines += ["# TYPE shop_recommendations_enabled gauge",
                  f"shop_recommendations_enabled {0 if self.flags['recommendations_off'] else 1}",
                  "# TYPE shop_latency_ms gauge", f"shop_latency_ms {self.config['latency_ms']}"]
        return "\n".join(lines) + "\n"


SHOP = Shop()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return

    def _send(self, code: int, body: object, route: str, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        SHOP.count(route, code)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/health":
            self._send(200, {"status": "ok", "version": SHOP.version}, "/health")
        elif self.path == "/metrics":
            self._send(200, SHOP.metrics(), "/metrics", "text/plain; version=0.0.4")
        elif self.path == "/products":
            self._send(200, PRODUCTS, "/products")
        elif self.path == "/admin/state":
            self._send(200, {"version": SHOP.version, "flags": SHOP.flags, "config": SHOP.config}, "/admin/state")
        else:
            self._send(404, {"error": "not found"}, "other")

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        if self.path == "/orders":
            code, answer = SHOP.order(body)
            self._send(code, answer, "/orders")
        elif self.path.startswith("/admin/flags/"):
            name = self.path.rsplit("/", 1)[1]
            if name not in SHOP.flags or not isinstance(body.get("enabled"), bool):
                self._send(422, {"error": f"unknown flag {name!r} or 'enabled' is not true/false"}, "/admin")
                return
            SHOP.flags[name] = body["enabled"]
            self._send(200, {"flags": SHOP.flags}, "/admin")
        else:
            self._send(404, {"error": "not found"}, "other")

    def do_PUT(self) -> None:  # noqa: N802
        body = self._body()
        if self.path == "/admin/config" and body.get("name") in SHOP.config:
            SHOP.config[body["name"]] = body.get("value")
            self._send(200, {"config": SHOP.config}, "/admin")
        else:
            self._send(422, {"error": "expected {\"name\": <a setting>, \"value\": ...}"}, "/admin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"shop {SHOP.version} listening on {args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
