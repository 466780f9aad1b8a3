"""The cyclic garbage collector set for serving: what startup built frozen, young passes rare."""

from __future__ import annotations

import gc

# Allocations between two passes over the young generation (CPython's default is 700). A check
# allocates a few hundred container objects that refcounting frees within the check; with the
# default, a pass runs every few checks and walks the objects of every check still in flight (a
# batch's hundred drafts and futures), promoting them to older generations that are walked again:
# 60-85 us of collector per check at city scale, a third of a check's CPU. At this threshold most
# of those objects are gone before any pass sees them. The daemon's own structures hold no
# reference cycles; what cyclic garbage there is (an exception's traceback) waits a little longer.
YOUNG_THRESHOLD = 100_000


def set_for_serving() -> None:
    """Collect what startup left, freeze the survivors out of later passes, raise the young threshold.

    Called as the daemon starts serving: the index, the catalogue and the loaded modules are long-lived,
    and a full pass walking them would pause every request thread for nothing.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
