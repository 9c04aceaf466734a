"""One scenario run: its options, its phases (``Runner``), the collaborators it is made of (the fault
schedule, the steady-state watch, the services it owns), the one remote that steers it
(``RunControl``) and the caller's one scoring pass (``score_result``)."""

from simulator.run.control import RunControl
from simulator.run.finish import score_result
from simulator.run.options import RunOptions
from simulator.run.result import Interrupted, RunResult
from simulator.run.runner import Runner, run_scenario
from simulator.run.schedule import FaultRun, FaultSchedule

__all__ = ["FaultRun", "FaultSchedule", "Interrupted", "RunControl", "RunOptions", "RunResult", "Runner",
           "run_scenario", "score_result"]
