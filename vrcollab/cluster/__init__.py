"""Several server processes as one service (issue 12): room ownership, forwarding, relays.

``broker.open_broker(settings)`` picks :class:`~.broker.LocalBroker` (embedded default, one
process owns every room) or :class:`~.redis_broker.RedisBroker` (``broker_url=redis://...``).
Modules: ``broker`` (interface), ``redis_broker`` (leases, shared counters), ``owner`` (the
owning process's relay), ``forward`` (an edge's forwarder), ``streams`` (ordered Redis writes),
``wire`` (forwarded messages), ``local`` (``./dev serve --scale N``). See docs/cluster.md.
"""
