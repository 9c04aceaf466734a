"""The ground-floor vocabulary: one definition each, and what the CLI derives from it."""

from simulator.domain import PHASES, POLICY_NAMES, RESPONDERS, SEVERITY_CODES, Outcome, policy_of, severity_rank


def test_outcomes_ok_and_exit_codes():
    assert {o for o in Outcome if o.ok} == {Outcome.RECOVERED, Outcome.NO_IMPACT, Outcome.MAX_DURATION}
    assert Outcome("recovered").exit_code == 0
    assert Outcome.ABORTED.exit_code == 1 and Outcome.BASELINE_FAILED.exit_code == 1
    assert Outcome.ENVIRONMENT.exit_code == 3
    assert Outcome.INTERRUPTED.exit_code == 130
    assert "max_duration" in Outcome.names()


def test_severity_order():
    assert SEVERITY_CODES == ("P1", "P2", "P3", "P4")
    assert severity_rank("P1") < severity_rank("P4")


def test_phases_and_responders():
    assert PHASES[0] == "targets_up" and PHASES[-1] == "summary"
    assert policy_of("auto") == "runbook" and policy_of("human") is None and policy_of("slow") == "slow"
    assert set(RESPONDERS) - {"none", "human", "auto"} == set(POLICY_NAMES) - {"runbook"}
