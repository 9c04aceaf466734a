"""The rubric: one function per line item, each judging one thing and saying why.

Each rule returns a ``Verdict``: the share of the item's points earned (0..1), a status, the
reason in plain words, and -- for times -- what was measured against which target on which clock.
``score()`` in ``scorer`` turns verdicts into line items with points.

Clocks: phase times are measured on the configured clock (``game`` by default: scenario time,
what the standard's targets mean; ``wall``: real time). Both values are kept on the line item.
Promises made in status updates ("next update by 10:15 UTC") and post-mortem timeline entries
are real timestamps, so they are checked on the wall clock.

One module per capability: ``detect``, ``timing``, ``paging`` (on call), ``classify``, ``process``,
``mitigation``, ``postmortem``; ``context`` holds what the rules share and ``verdict`` what they return.
"""

from __future__ import annotations

from simulator.scoring.rubric.classify import class_escalation, class_severity
from simulator.scoring.rubric.context import Context
from simulator.scoring.rubric.detect import detect_mttd, detect_notice
from simulator.scoring.rubric.escalate import mitigation_escalation
from simulator.scoring.rubric.incidents import FALSE_ALARM_RULES, RELATED_RULES, is_false_alarm
from simulator.scoring.rubric.mitigation import mitigation_choice, mitigation_harm, mitigation_permanence
from simulator.scoring.rubric.paging import oncall_paging
from simulator.scoring.rubric.postmortem import (
    pm_action_items,
    pm_detection,
    pm_meeting,
    pm_root_cause,
    pm_sections,
    pm_timeline,
)
from simulator.scoring.rubric.process import (
    process_checklist,
    process_customer_comms,
    process_roles,
    process_status_cadence,
    process_status_complete,
)
from simulator.scoring.rubric.timing import (
    time_acknowledge,
    time_declare,
    time_first_update,
    time_mitigate,
    time_resolve,
    time_resolve_verified,
)
from simulator.scoring.rubric.verdict import Verdict

__all__ = ["FALSE_ALARM_RULES", "MONITORING", "RELATED_RULES", "RULES", "Context", "Verdict", "is_false_alarm"]

#: the simulator's own alert rules: monitoring coverage, beside the team's score
MONITORING = detect_mttd

RULES = {
    "detect.notice": detect_notice,
    "time.acknowledge": time_acknowledge,
    "oncall.paging": oncall_paging,
    "time.declare": time_declare,
    "time.first_update": time_first_update,
    "time.mitigate": time_mitigate,
    "time.resolve": time_resolve,
    "time.resolve_verified": time_resolve_verified,
    "class.severity": class_severity,
    "class.escalation": class_escalation,
    "process.roles": process_roles,
    "process.status_cadence": process_status_cadence,
    "process.status_complete": process_status_complete,
    "process.checklist": process_checklist,
    "process.customer_comms": process_customer_comms,
    "mitigation.choice": mitigation_choice,
    "mitigation.escalation": mitigation_escalation,
    "mitigation.permanence": mitigation_permanence,
    "mitigation.harm": mitigation_harm,
    "pm.sections": pm_sections,
    "pm.timeline": pm_timeline,
    "pm.root_cause": pm_root_cause,
    "pm.detection": pm_detection,
    "pm.action_items": pm_action_items,
    "pm.meeting": pm_meeting,
}
