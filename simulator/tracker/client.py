"""``TrackerClient``: the tracker's HTTP API from Python (the responder, the runner, the CLI).

It implements ``TrackerPort`` (``simulator.tracker.port``): methods return the API's output models,
parsed from its JSON. Errors come back as the shared exceptions:
404 -> ``NotFound``, 409 -> ``Conflict``, 400/422 -> ``InputError`` (with the server's message),
an unreachable tracker -> ``EnvironmentProblem`` saying how to start one.

``LocalTracker`` (``simulator.tracker.local``) has the same methods over a database file.
"""

from __future__ import annotations

import getpass
import os
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from simulator.domain import standard
from simulator.errors import GamedayError, InputError
from simulator.http import HTTPError, Response, error_for, http_client, send, server_message
from simulator.tracker.schemas import (
    ActionItemOut,
    AlertOut,
    CustomerMessageOut,
    IncidentOut,
    IncidentSummary,
    IngestResult,
    PagerDutyAccepted,
    PersonOut,
    PostmortemOut,
    ReviewOut,
    RunExport,
    StatusUpdateOut,
    TimelineEventOut,
)
from simulator.tracker.schemas_paging import OnCallOut, PageOut

API = "/api/v1"


def default_actor() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser() or "unknown"
    except Exception:  # no passwd entry in some containers
        return "unknown"


M = TypeVar("M", bound=BaseModel)


def _one(model: type[M], data: Any) -> M:
    return model.model_validate(data)


def _many(model: type[M], data: Any) -> list[M]:
    return [model.model_validate(item) for item in data]


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in data.items() if v is not None}


class TrackerClient:
    def __init__(self, url: str, token: str | None = None, *, actor: str | None = None, timeout: float = 15.0):
        self.url = url.rstrip("/")
        self.actor = actor or default_actor()
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = http_client(self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TrackerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- transport -----------------------------------------------------------------------
    def _request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                 raw: bool = False) -> Any:
        response = send(method, API + path, via=self._http, json=json,
                        params={k: v for k, v in (params or {}).items() if v is not None},
                        unreachable=lambda exc: f"cannot reach the tracker at {self.url} ({exc.__class__.__name__}: "
                                                f"{exc}); start one with `gameday tracker serve` or check --tracker")
        if response.status_code >= 400:
            raise _error(response)
        if raw:
            return response.text
        return response.json() if response.content else None

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self._request("POST", path, json=_drop_none(body))

    def _who(self, actor: str | None) -> str:
        return actor or self.actor

    def ping(self) -> bool:
        try:
            return self._http.get(API + "/health", timeout=2).status_code == 200
        except HTTPError:
            return False

    # ---- meta ----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health")

    def standard(self) -> dict[str, Any]:
        return self._request("GET", "/standard")

    def export(self, run_id: str | None = None) -> RunExport:
        return _one(RunExport, self._request("GET", "/export", params={"run_id": run_id}))

    # ---- alerts --------------------------------------------------------------------------
    def send_alertmanager(self, payload: dict[str, Any]) -> IngestResult:
        return _one(IngestResult, self._request("POST", "/alerts/alertmanager", json=payload))

    def send_pagerduty(self, event: dict[str, Any]) -> PagerDutyAccepted:
        return _one(PagerDutyAccepted, self._request("POST", "/alerts/pagerduty", json=event))

    def send_alert(self, name: str, service: str, *, severity: str = "warning", status: str = "firing",
                   summary: str = "", fingerprint: str | None = None, labels: dict[str, str] | None = None,
                   annotations: dict[str, str] | None = None, run_id: str | None = None) -> IngestResult:
        return _one(IngestResult, self._post("/alerts", {
            "name": name, "service": service, "severity": severity, "status": status, "summary": summary,
            "fingerprint": fingerprint, "labels": labels or {}, "annotations": annotations or {}, "run_id": run_id}))

    def alerts(self, *, incident: str | None = None, status: str | None = None, service: str | None = None,
               limit: int = 200) -> list[AlertOut]:
        return _many(AlertOut, self._request("GET", "/alerts", params={
            "incident": incident, "status": status, "service": service, "limit": limit}))

    # ---- incidents -----------------------------------------------------------------------
    def list_incidents(self, *, status: list[str] | None = None, service: str | None = None,
                       run_id: str | None = None, open_only: bool = False, limit: int = 200
                       ) -> list[IncidentSummary]:
        return _many(IncidentSummary, self._request("GET", "/incidents", params={
            "status": status, "service": service, "run_id": run_id, "open": open_only or None, "limit": limit}))

    def get_incident(self, ref: str) -> IncidentOut:
        return _one(IncidentOut, self._request("GET", f"/incidents/{ref}"))

    def create_incident(self, title: str, service: str, *, severity: str = "P3", summary: str = "",
                        exercise: bool | None = None, run_id: str | None = None, actor: str | None = None
                        ) -> IncidentOut:
        return _one(IncidentOut, self._post("/incidents", {
            "title": title, "service": service, "severity": severity, "summary": summary, "exercise": exercise,
            "run_id": run_id, "actor": self._who(actor)}))

    def ack(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/ack", {"actor": self._who(actor), "note": note}))

    def declare(self, ref: str, severity: str, *, title: str | None = None, summary: str | None = None,
                actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/declare", {
            "severity": severity, "title": title, "summary": summary, "actor": self._who(actor)}))

    def set_severity(self, ref: str, severity: str, *, reason: str = "", actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/severity", {
            "severity": severity, "reason": reason, "actor": self._who(actor)}))

    def assign(self, ref: str, role: str, person: str, *, actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/roles", {
            "role": role, "person": person, "actor": self._who(actor)}))

    def status_update(self, ref: str, status: str, what_we_know: str, what_we_are_doing: str, *,
                      next_update_in_minutes: int | None = None, next_update_by: datetime | None = None,
                      headline: str | None = None, audience: str = "internal", actor: str | None = None
                      ) -> StatusUpdateOut:
        return _one(StatusUpdateOut, self._post(f"/incidents/{ref}/status-updates", {
            "status": status, "what_we_know": what_we_know, "what_we_are_doing": what_we_are_doing,
            "next_update_in_minutes": next_update_in_minutes, "next_update_by": next_update_by,
            "headline": headline, "audience": audience, "actor": self._who(actor)}))

    def status_updates(self, ref: str) -> list[StatusUpdateOut]:
        return _many(StatusUpdateOut, self._request("GET", f"/incidents/{ref}/status-updates"))

    def customer_message(self, ref: str, channel: str, text: str, *, to: str | None = None,
                         actor: str | None = None) -> CustomerMessageOut:
        return _one(CustomerMessageOut, self._post(f"/incidents/{ref}/customer-messages", {
            "channel": channel, "text": text, "to": to, "actor": self._who(actor)}))

    def customer_messages(self, ref: str) -> list[CustomerMessageOut]:
        return _many(CustomerMessageOut, self._request("GET", f"/incidents/{ref}/customer-messages"))

    def checklist(self, ref: str, item: str, *, checked: bool = True, note: str = "",
                  actor: str | None = None) -> IncidentOut:
        key = standard.checklist_key(str(item))
        return _one(IncidentOut, self._post(f"/incidents/{ref}/checklist/{key}", {
            "checked": checked, "note": note, "actor": self._who(actor)}))

    def note(self, ref: str, text: str, *, type: str = "note", actor: str | None = None) -> TimelineEventOut:
        return _one(TimelineEventOut, self._post(f"/incidents/{ref}/notes", {
            "text": text, "type": type, "actor": self._who(actor)}))

    def mitigate(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/mitigate", {"actor": self._who(actor), "note": note}))

    def resolve(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/resolve", {"actor": self._who(actor), "note": note}))

    def close_incident(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/close", {"actor": self._who(actor), "note": note}))

    def reopen(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/reopen", {"actor": self._who(actor), "note": note}))

    def transition(self, ref: str, status: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/transitions", {
            "status": status, "note": note, "actor": self._who(actor)}))

    def ops_action(self, ref: str, action: str, *, target: str = "", params: dict[str, Any] | None = None,
                   result: Any = None, actor: str | None = None) -> TimelineEventOut:
        return _one(TimelineEventOut, self._post(f"/incidents/{ref}/ops-actions", {
            "action": action, "target": target, "params": params or {}, "result": result,
            "actor": self._who(actor)}))

    def timeline(self, ref: str, *, since: int | None = None, kinds: list[str] | None = None
                 ) -> list[TimelineEventOut]:
        return _many(TimelineEventOut, self._request("GET", f"/incidents/{ref}/timeline",
                                                     params={"since": since, "kind": kinds}))

    # ---- post-mortems --------------------------------------------------------------------
    def postmortem(self, ref: str) -> PostmortemOut:
        return _one(PostmortemOut, self._request("GET", f"/incidents/{ref}/postmortem"))

    def update_postmortem(self, ref: str, *, actor: str | None = None, **fields: Any) -> PostmortemOut:
        body = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in fields.items()}
        body["actor"] = self._who(actor)
        return _one(PostmortemOut, self._request("PATCH", f"/incidents/{ref}/postmortem", json=body))

    def refresh_postmortem(self, ref: str, *, actor: str | None = None) -> PostmortemOut:
        return _one(PostmortemOut, self._post(f"/incidents/{ref}/postmortem/refresh", {"actor": self._who(actor)}))

    def postmortem_markdown(self, ref: str) -> str:
        return self._request("GET", f"/incidents/{ref}/postmortem.md", raw=True)

    def add_action_item(self, ref: str, action: str, *, owner: str = "", due_date: date | str | None = None,
                        type: str = "fix", status: str = "open", actor: str | None = None) -> ActionItemOut:
        return _one(ActionItemOut, self._post(f"/incidents/{ref}/action-items", {
            "action": action, "owner": owner, "due_date": due_date, "type": type, "status": status,
            "actor": self._who(actor)}))

    def update_action_item(self, item_id: int, *, actor: str | None = None, **changes: Any) -> ActionItemOut:
        body = _drop_none(changes)
        body["actor"] = self._who(actor)
        return _one(ActionItemOut, self._request("PATCH", f"/action-items/{item_id}", json=body))

    def action_items(self, *, status: str | None = None, owner: str | None = None, incident: str | None = None,
                     open_only: bool = False) -> list[ActionItemOut]:
        return _many(ActionItemOut, self._request("GET", "/action-items", params={
            "status": status, "owner": owner, "incident": incident, "open": open_only or None}))

    # ---- evaluator review ----------------------------------------------------------------
    def review_item(self, run_id: str, item_id: str, decision: str, note: str, *, fraction: float | None = None,
                    incident_ref: str | None = None, reviewer: str | None = None) -> ReviewOut:
        return _one(ReviewOut, self._post(f"/runs/{quote(run_id, safe='')}/reviews", {
            "item_id": item_id, "decision": decision, "fraction": fraction, "note": note,
            "incident_ref": incident_ref, "reviewer": reviewer or self.actor}))

    def reviews(self, run_id: str) -> list[ReviewOut]:
        return _many(ReviewOut, self._request("GET", f"/runs/{quote(run_id, safe='')}/reviews"))

    # ---- roster --------------------------------------------------------------------------
    def false_alarm(self, ref: str, *, note: str, actor: str | None = None) -> IncidentOut:
        return _one(IncidentOut, self._post(f"/incidents/{ref}/false-alarm", {"actor": self._who(actor), "note": note}))

    def pages(self, ref: str | None = None, *, run_id: str | None = None) -> list[PageOut]:
        if ref is not None:
            return _many(PageOut, self._request("GET", f"/incidents/{ref}/pages"))
        return _many(PageOut, self._request("GET", "/pages", params=_drop_none({"run_id": run_id})))

    def on_call(self) -> list[OnCallOut]:
        return _many(OnCallOut, self._request("GET", "/oncall"))

    def people(self) -> list[PersonOut]:
        return _many(PersonOut, self._request("GET", "/people"))

    def upsert_person(self, name: str, *, handle: str | None = None, team: str | None = None,
                      oncall: str | None = None) -> PersonOut:
        return _one(PersonOut, self._request("PUT", "/people", json=_drop_none({
            "name": name, "handle": handle, "team": team, "oncall": oncall})))


def _error(response: Response) -> GamedayError:
    code = response.status_code
    if code in (401, 403):
        return InputError(f"the tracker refused the request ({code}): {server_message(response)}; pass --token")
    return error_for(response, otherwise=lambda text: GamedayError(f"the tracker answered {code}: {text}"))
