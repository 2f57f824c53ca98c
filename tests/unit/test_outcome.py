"""Property: an exposure is contained only when every step its kind needs took effect."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.containment import ContainmentStatus, PortalRef, contain
from monitor.outcome import Verdict, required_steps, verdict
from monitor.responder import STEP_PORTAL, AccountRef, IdentityUser, StepResult
from monitor.types import Outcome
from tests.servers.idp import MemoryActionLog
from tests.unit.test_containment import ScriptedResponder, user

STEPS = ("reset_password", "require_change", "revoke_sessions", "end_portal_sessions", "block")
SETTLED = st.sampled_from([Outcome.DONE, Outcome.FAILED, Outcome.SKIPPED, Outcome.NOT_FOUND])


@given(
    cookie=st.booleans(),
    external=st.booleans(),
    outcomes=st.dictionaries(st.sampled_from(STEPS), st.sampled_from(list(Outcome))),
)
def test_verdict_is_contained_only_when_every_required_step_is_done(
    cookie: bool, external: bool, outcomes: dict[str, Outcome]
) -> None:
    required = required_steps(cookie=cookie, external=external)
    contained = verdict(required, outcomes) is Verdict.CONTAINED
    assert contained == all(outcomes.get(step) is Outcome.DONE for step in required)


class Portal:
    name: ClassVar[str] = "portal"

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    async def end_portal_sessions(
        self, user: IdentityUser, portal: PortalRef, *, dry_run: bool
    ) -> StepResult:
        return StepResult(step=STEP_PORTAL, outcome=self.outcome, retryable=False)


@settings(max_examples=200, deadline=None)
@given(
    cookie=st.booleans(),
    external=st.booleans(),
    script=st.fixed_dictionaries({s: st.lists(SETTLED, min_size=1, max_size=3) for s in STEPS}),
    portal=st.none() | SETTLED,
    runs=st.integers(min_value=1, max_value=3),
)
def test_contain_reports_contained_only_when_every_required_step_took_effect(
    cookie: bool,
    external: bool,
    script: dict[str, list[Outcome | Exception]],
    portal: Outcome | None,
    runs: int,
) -> None:
    async def go() -> None:
        responder = ScriptedResponder(user=user(external=external), outcomes=script)
        log = MemoryActionLog()
        for _ in range(runs):
            result = await contain(
                exposure_id=1, account=AccountRef(login="partner1@gmail.com"), infected_at=None,
                first_seen=None, responder=responder, log=log, dry_run=False,
                decided_by="policy", sessions_only=cookie,
                portal_hook=Portal(portal) if portal is not None else None,
            )  # fmt: skip
            done = await log.done_steps(1, "fake")
            required = required_steps(cookie=cookie, external=external)
            claimed = result.status in (ContainmentStatus.CONTAINED, ContainmentStatus.BLOCKED)
            assert claimed == (set(required) <= done), (result.status, done)
            if claimed:
                assert not result.headline.count("NOT DONE")

    asyncio.run(go())
