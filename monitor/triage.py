"""Apply a person's lifecycle decision to one exposure: checked, moved and audited together."""

from __future__ import annotations

from monitor.lifecycle import State, TransitionRefused, Verb, next_state
from monitor.store.store import Store


async def decide(store: Store, exposure_id: int, verb: Verb, *, who: str, reason: str) -> State:
    """Move the exposure as `verb` says and record who and why; returns the new state.
    Raises TransitionRefused when the exposure is unknown or the move does not apply."""
    async with store.transaction() as tx:
        current = await tx.lock_lifecycle(exposure_id)
        if current is None:
            raise TransitionRefused(f"no exposure {exposure_id}")
        new = next_state(State(current), verb, reason)
        await tx.set_lifecycle(
            exposure_id, old=current, new=new.value, decided_by=who, reason=reason.strip()
        )
    return new
