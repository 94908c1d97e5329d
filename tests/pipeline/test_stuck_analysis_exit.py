"""A process whose analysis hangs (an LLM or connector that never answers) still exits once it has stopped:
the analysis thread is not one the interpreter joins at exit. Run in a child process, since the failure is a
process that never ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import asyncio, sys, threading
    from bot.pipeline.queue import AnalysisQueue
    from bot.storage import Store, jobs

    store = Store.open(sys.argv[1])
    with store.engine.begin() as conn:
        jobs.enqueue(conn, ["inc-stuck"])
    entered = threading.Event()

    def analyze(job):
        entered.set()
        threading.Event().wait()  # never answers

    async def main():
        queue = AnalysisQueue(store, analyze, workers=1, poll_interval_s=60.0, stop_grace_s=0.2)
        queue.start()
        assert await asyncio.to_thread(entered.wait, 30), "the analysis never started"
        await queue.stop()
        with store.engine.connect() as conn:
            (row,) = conn.execute(jobs.JOBS.select()).all()
        print("handed back" if row.lease_owner is None else "still leased", flush=True)

    asyncio.run(main())
    print("asyncio.run returned", flush=True)
""")


def test_a_process_with_a_hung_analysis_exits_after_stop(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, f"sqlite:///{tmp_path / 'stuck.db'}"], cwd=Path.cwd(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["handed back", "asyncio.run returned"], done.stdout
