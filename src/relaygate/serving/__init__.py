"""How relaygate is served: uvicorn by default, granian's RSGI interface on request.

``relaygate serve --server granian|uvicorn`` (or ``RELAYGATE_SERVER``) picks one. Both run
the same ASGI application (``relaygate.app``); under granian, ``rsgi_bridge`` hands it
each request, and ``rsgi_app`` runs its start-up, drain and shutdown.

Why uvicorn is the default (bench, one worker, 2 cores, alternating rounds): granian's
socket I/O runs on its own Rust thread, which hands every request and response to the
Python event loop and back. Under saturation those hand-overs batch, and granian served
15-25 % more small calls per second than uvicorn; below saturation each one wakes a
thread, and granian cost ~0.15 ms more per call at concurrency 1 and about 40 % more CPU
per call. LLM traffic is mostly the second kind (a few calls per second per process,
each long), so uvicorn serves it best; granian suits a process kept busy with short
calls (embeddings, moderations).
"""
