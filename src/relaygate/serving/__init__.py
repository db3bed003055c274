"""How relaygate is served: granian's RSGI interface by default, uvicorn on request.

``relaygate serve --server granian|uvicorn`` (or ``RELAYGATE_SERVER``) picks one. Both run
the same ASGI application (``relaygate.app``); under granian, ``rsgi_bridge`` hands it
each request, and ``rsgi_app`` runs its start-up, drain and shutdown.
"""
