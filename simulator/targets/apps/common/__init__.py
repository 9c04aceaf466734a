"""The core every bundled app shares.

``config`` and ``state`` are pure Python (safe to import anywhere); ``metrics``, ``app`` and
``server`` need prometheus_client, FastAPI and uvicorn and are imported only by the apps.
"""
