"""The shop's own load test: plain Locust, nothing of gameday in it (gameday runs it as it is)."""

from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.05, 0.2)

    @task(3)
    def browse(self) -> None:
        self.client.get("/products")

    @task(2)
    def order(self) -> None:
        self.client.post("/orders", json={"product": "tea", "quantity": 1})


class StockChecker(HttpUser):
    """Another journey in the same file; the example scenario runs only Shopper (``load.user_classes``)."""

    wait_time = between(1, 2)

    @task
    def state(self) -> None:
        self.client.get("/admin/state")
