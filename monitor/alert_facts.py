"""What an alert or a partner report tells beyond the exposure row, read from the store: the
infected machine, the leak clock, and the advice built from the recorded outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.advice import Advice, ContainmentRecord, Facts, StepRecord, advise
from monitor.notify import LeakClock, Machine
from monitor.store.records import AlertContext
from monitor.store.store import Store
from monitor.types import Exposure


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertFacts:
    machine: Machine | None
    clock: LeakClock
    advice: Advice


async def gather(store: Store, exposure: Exposure, *, partner_contact: str | None) -> AlertFacts:
    """The machine, the clock and the advice of one exposure, as the store has them now."""
    return (await gather_many(store, [(exposure, partner_contact)]))[exposure.id]


async def gather_many(
    store: Store, items: Sequence[tuple[Exposure, str | None]]
) -> dict[int, AlertFacts]:
    """`gather` for many exposures (each with its partner's contact) in three queries, by id."""
    ids = [e.id for e, _ in items]
    contexts = await store.alert_contexts(ids)
    containments = await store.containment_records(ids)
    steps = await store.step_records(ids)
    return {
        e.id: _facts(
            e, contexts.get(e.id), containments.get(e.id, []), steps.get(e.id, []), contact
        )
        for e, contact in items
    }


def _facts(
    exposure: Exposure,
    ctx: AlertContext | None,
    containments: list[ContainmentRecord],
    steps: list[StepRecord],
    partner_contact: str | None,
) -> AlertFacts:
    machine = None
    if ctx is not None and (ctx.family or ctx.country or ctx.machine_hash or ctx.infected_at):
        machine = Machine(
            family=ctx.family,
            infected_at=ctx.infected_at or exposure.infected_at,
            country=ctx.country,
            machine_hash=ctx.machine_hash,
            other_credentials=ctx.other_credentials,
        )
    clock = LeakClock(
        infected_at=exposure.infected_at,
        first_seen=exposure.first_seen,
        alerted_at=ctx.alerted_at if ctx else None,
        contained_at=ctx.contained_at if ctx else None,
    )
    advice = advise(
        Facts(
            exposure=exposure,
            containments=containments,
            steps=steps,
            partner_contact=partner_contact,
            family=machine.family if machine else None,
            approve_command=f"credwatch approve {exposure.id}",
        )
    )
    return AlertFacts(machine=machine, clock=clock, advice=advice)
