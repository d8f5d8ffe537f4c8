"""What the meetings wait for, as jobs of a scheduler: a running check's deadline (§ 12), a call
membership's expiry, the reminders before a meeting. Derived from the stored state, so a restart
rebuilds them; each one fired lets the clock tick through the loop."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from rules import schedule, transmission
from rules.state import Meeting
from shell.bodies import Bodies, Body
from shell.loop import Loop


def _reminder_source(m: Meeting, key: str) -> str:
    return f"reminder:{m.id}:{key}"


class Timers:
    def __init__(self, bodies: Bodies, loop: Loop) -> None:
        self.bodies, self.loop = bodies, loop
        self.scheduler: AsyncIOScheduler | None = None
        loop.rescheduled = self.schedule

    async def due(self, body: Body) -> list[tuple[str, datetime]]:
        """What the body's meeting is waiting for, by job id: a running check's deadline (§ 12)
        and the reminders not yet handled. Derived from the stored state, so a restart rebuilds it."""
        m = body.engine.meeting
        if m is None:
            return []
        out = []
        if m.check and m.check.running:
            out.append((f"{body.config.id}|check|{m.check.id}", m.check.deadline))
        # A call membership that is not renewed has ended when it expires: noticed on time.
        expiries = [e for devices in m.in_call.values() for e in devices.values() if e]
        if expiries:
            first = min(expiries)
            out.append((f"{body.config.id}|call|{first}", datetime.fromisoformat(first)))
        grace = transmission.grace_at(m, body.engine.roster)  # a camera off longer than the grace (§ 5)
        if grace is not None:
            out.append((f"{body.config.id}|grace|{grace.isoformat()}", grace))
        for rem in schedule.reminders(m, body.engine.roster):
            if not await self.loop.store.is_handled(_reminder_source(m, rem.key)):
                out.append((f"{body.config.id}|reminder|{rem.key}", rem.at))
        return out

    async def schedule(self, body: Body) -> None:
        if self.scheduler is None:
            return
        m = body.engine.meeting
        # The timers follow from these alone; most commands change none of them.
        check = (m.check.id, m.check.running) if m and m.check else None
        calls = min((e for d in m.in_call.values() for e in d.values() if e), default=None) if m else None
        grace = transmission.grace_at(m, body.engine.roster) if m else None
        shape = (m.id, m.phase, m.start, m.opened_at, check, calls, grace) if m else None
        if shape == body.timers_for:
            return
        body.timers_for = shape
        wanted = dict(await self.due(body))
        for job_id in body.jobs - wanted.keys():
            if self.scheduler.get_job(job_id):
                self.scheduler.remove_job(job_id)
        body.jobs = set(wanted)
        for job_id, at in wanted.items():
            # One that fell due while the bot was down runs at once (misfire_grace_time=None).
            self.scheduler.add_job(
                self.fire,
                "date",
                run_date=at,
                args=[job_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def start(self) -> None:
        """The timers start once what was said while the bot was away has been read: a check's
        deadline that passed meanwhile must not end it before the answers given in time (§ 12)."""
        if self.scheduler is not None:
            return
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.start()
        for body in self.bodies.bodies.values():
            await self.schedule(body)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)

    async def fire(self, job_id: str, now: datetime | None = None) -> None:
        body_id, kind, key = job_id.split("|", 2)
        body = self.bodies.bodies[body_id]
        now = now or datetime.now(UTC)
        async with self.loop.lock:
            await self.loop.tick(body, now)  # a check's deadline, a call's expiry: or time before a reminder
            if kind == "reminder":
                await self._remind(body, key, now)
        self.loop.outbox.wakeup.set()

    async def _remind(self, body: Body, key: str, now: datetime) -> None:
        m = body.engine.meeting
        if m is None:
            return
        source = _reminder_source(m, key)
        if await self.loop.outbox.handled(source):
            return
        reply = schedule.remind(m, body.engine.roster, key, now)
        # A reminder that no longer matters is recorded all the same, so it is not tried again.
        outgoing = [self.loop.answers.reminder(body, reply)] if reply else []
        await self.loop.record_answers(body, source, now, outgoing)
