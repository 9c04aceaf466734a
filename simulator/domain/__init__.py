"""The ground floor: the vocabulary every other package speaks (severity, outcomes, phases, responders,
the incident-response standard, ops actions, the rating scale, runbook steps).

Nothing here imports another package of ours but ``simulator.errors``; every other package imports
from here and none redefines these names.
"""

from simulator.domain import standard
from simulator.domain.comms import AUDIENCES, CUSTOMER_CHANNELS, Audience, CustomerChannel
from simulator.domain.ops_action import OPS_VERBS, OpsAction
from simulator.domain.outcome import Outcome
from simulator.domain.phase import PHASES, RUNNING_PHASES, Phase
from simulator.domain.rating import RATING_TEXT, RATINGS, Rating, rate
from simulator.domain.responders import POLICY_NAMES, RESPONDERS, ResponderName, policy_of
from simulator.domain.runbook import STEP_KINDS, StepKind, perform
from simulator.domain.severity import SEVERITY_CODES, Severity, severity_rank

__all__ = ["PHASES", "POLICY_NAMES", "RESPONDERS", "RUNNING_PHASES", "SEVERITY_CODES", "Outcome", "Phase",
           "ResponderName", "Severity", "policy_of", "severity_rank"]
__all__ += ["OPS_VERBS", "RATINGS", "RATING_TEXT", "STEP_KINDS", "OpsAction", "Rating", "StepKind", "perform", "rate",
            "standard"]
__all__ += ["AUDIENCES", "CUSTOMER_CHANNELS", "Audience", "CustomerChannel"]
