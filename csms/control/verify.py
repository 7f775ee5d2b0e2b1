"""Pure: does a charger obey its limit, and what does the EV really take?

A reading counts only if it was taken after the limit was confirmed (plus a grace for the
charger to ramp down). Above ``limit * (1 + tol) + slack`` is a violation; two in a row flag
the EVSE as not obeying (one reading can straddle a change). Well below the limit, the EV (not
the charger) is the bottleneck: its observed draw becomes its maximum, so the capacity goes to
cars that can use it; when it later takes all it is offered, the maximum is forgotten again.
A reading after the limit's lease ended says nothing (the charger fell back to its default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

OVER_TOLERANCE = 0.05
OVER_SLACK_W = 250.0
VIOLATIONS_TO_FLAG = 2
UNDER_FRACTION = 0.85  # draw below this share of the limit: the EV limits itself
UNDER_SLACK_W = 300.0
LEARN_HEADROOM = 1.0
LEARN_HEADROOM_W = 100.0  # capacity offered above the EV's draw is capacity lost
GRACE_S = 5.0


@dataclass(frozen=True)
class Verdict:
    violations: int
    obeying: bool
    ev_max_w: float | None  # None: nothing learned


def judge(limit_w: float | None, sent_at: datetime | None, measured_w: float | None,
          measured_at: datetime | None, violations: int, obeying: bool, ev_max_w: float | None,
          min_w: float, grace_s: float = GRACE_S, lease_until: datetime | None = None
          ) -> Verdict | None:
    """Verdict on one reading, or None when the reading says nothing about the limit."""
    if limit_w is None or sent_at is None or measured_w is None or measured_at is None:
        return None
    if measured_at < sent_at + timedelta(seconds=grace_s):
        return None
    if measured_w > limit_w * (1 + OVER_TOLERANCE) + OVER_SLACK_W:
        count = violations + 1
        return Verdict(count, obeying and count < VIOLATIONS_TO_FLAG, ev_max_w)
    learned = ev_max_w
    if lease_until is not None and measured_at >= lease_until:
        return Verdict(0, obeying, learned)  # the limit had lapsed: the reading says nothing
    if ev_max_w is not None and measured_w >= limit_w - UNDER_SLACK_W / 6:
        learned = None  # the EV takes all it is offered: it may take more, offer it again
    elif limit_w >= max(min_w, 1.0) and measured_w < limit_w * UNDER_FRACTION - UNDER_SLACK_W:
        guess = measured_w * LEARN_HEADROOM + LEARN_HEADROOM_W
        learned = guess if ev_max_w is None else min(ev_max_w, guess)
    return Verdict(0, obeying, learned)
