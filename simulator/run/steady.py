"""The steady-state watch: tells when the steady state was lost and when it was restored (game time)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SteadyWatch:
    """Whether the steady state holds, and when it was first lost and last restored (game time)."""

    steady: bool | None = None
    lost_game: float | None = None  # first loss
    restored_game: float | None = None  # last restoration
    recovering_since: float | None = None

    def update(self, state: bool | None, now: float) -> str | None:
        """Feed one evaluation; returns ``"lost"`` or ``"restored"`` on a transition."""
        if state is False and self.steady:
            self.steady, self.recovering_since = False, None
            if self.lost_game is None:
                self.lost_game = now
            return "lost"
        if state is True and self.steady is False:
            self.steady, self.recovering_since, self.restored_game = True, now, now
            return "restored"
        return None

    def held_since_recovery(self, now: float, cooldown: float) -> bool:
        return bool(self.steady and self.recovering_since is not None and now - self.recovering_since >= cooldown)
