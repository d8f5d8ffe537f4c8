"""Open pages of the live view, for the benchmark: many server-sent event streams of the bot's
web server, held open in a process of their own (so that reading them costs neither the bot's
CPU nor the timing of the process that sends the commands).

    python bench/viewers.py SPEC.json

SPEC.json: {"url": the bot's public URL, "streams": [[body id, token of the bot's own], …]}.
Prints "ready" once every stream has had its first view; on end of standard input prints, as
one line of JSON, each stream's body and the times (time.monotonic, the same clock as the
benchmark's on this machine) at which a view arrived after the first, and its own CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

import aiohttp


async def stream(http: aiohttp.ClientSession, url: str, token: str, first: asyncio.Event, times: list[float]) -> None:
    async with http.get(f"{url}/api/stream", params={"t": token}) as resp:
        if resp.status != 200:
            raise RuntimeError(f"stream refused: {resp.status} {await resp.text()}")
        seen = False
        async for line in resp.content:
            if line.startswith(b"data: ") and not seen:
                seen = True
                first.set()
            elif line.startswith(b"data: "):
                times.append(time.monotonic())


async def main(spec: dict) -> None:
    # No limit on connections (aiohttp's default is 100 per session).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout()) as http:
        firsts = [asyncio.Event() for _ in spec["streams"]]
        times: list[list[float]] = [[] for _ in spec["streams"]]
        tasks = [
            asyncio.create_task(stream(http, spec["url"], token, first, got))
            for (_, token), first, got in zip(spec["streams"], firsts, times, strict=True)
        ]
        waiting = asyncio.gather(*(f.wait() for f in firsts))
        done, _ = await asyncio.wait([asyncio.ensure_future(waiting), *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task in done:
                task.result()  # a stream that ended before its first view: say why
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "streams": [[body, got] for (body, _), got in zip(spec["streams"], times, strict=True)],
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
