"""The ground floor: the vocabulary every other package speaks (severity, outcomes, phases, responders).

Nothing here imports another package of ours; every other package imports from here and none
redefines these names.
"""

from simulator.domain.outcome import Outcome
from simulator.domain.phase import PHASES, RUNNING_PHASES, Phase
from simulator.domain.responders import POLICY_NAMES, RESPONDERS, ResponderName, policy_of
from simulator.domain.severity import SEVERITY_CODES, Severity, severity_rank

__all__ = ["PHASES", "POLICY_NAMES", "RESPONDERS", "RUNNING_PHASES", "SEVERITY_CODES", "Outcome", "Phase",
           "ResponderName", "Severity", "policy_of", "severity_rank"]
