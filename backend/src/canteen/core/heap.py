"""The serving process's garbage collector, set for latency (issue 20).

CPython's full collection walks every object the collector tracks, and it stops the
event loop while it does: every request in flight waits it out. An API process holds
about 190,000 such objects from its imports and start-up alone (modules, the ORM's
mappers, FastAPI's routes and models), none of which ever becomes garbage; in the lunch
rush bench each full collection took 100-170 ms (27 of them in six minutes), which is
where each step's p99 went. Frozen once the app is built (`gc.freeze`: moved to a
generation the collector never walks), they cost nothing again; what the requests leave
behind is collected as before.

Only for a process that serves until it stops (`canteen serve`): a test process builds
many apps, and what a frozen one held would never be freed.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect what start-up left as garbage, then freeze the rest; returns how many
    objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
