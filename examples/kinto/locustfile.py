"""Load on Kinto as its users make it: each simulated user has its own account (HTTP basic auth; Kinto's
default bucket is then theirs), lists its latest orders, adds orders and reads one back. Plain Locust: gameday
runs it as it is (``load.locustfile`` in kinto.yaml)."""

import itertools
import random

from locust import HttpUser, between, task

_users = itertools.count(1)
ORDERS = "/v1/buckets/default/collections/orders/records"


class Customer(HttpUser):
    wait_time = between(0.2, 0.6)

    def on_start(self) -> None:
        self.client.auth = (f"customer-{next(_users)}", "not-a-secret")
        self.ids: list[str] = []

    @task(3)
    def list_orders(self) -> None:
        self.client.get(f"{ORDERS}?_limit=10&_sort=-last_modified", name="list orders")

    @task(2)
    def add_order(self) -> None:
        r = self.client.post(ORDERS, json={"data": {"item": random.choice(["book", "lamp", "mug"]),
                                                    "quantity": random.randint(1, 5)}}, name="add order")
        if r.ok:
            self.ids = [r.json()["data"]["id"], *self.ids][:20]

    @task(1)
    def read_order(self) -> None:
        if self.ids:
            self.client.get(f"{ORDERS}/{random.choice(self.ids)}", name="read order")
