"""Helpers of the sync benchmark (``bench/sync_bench.py``).

- ``payloads``: pose/op payloads with a timing marker; vrcollab JSON and y-websocket binary
  (lib0 varuint, y-protocols awareness, Yjs v1 update) encoders. Pure.
- ``wire``: a minimal websocket client framing layer (handshake, pre-encoded frames, a frame
  scanner that finds the timing markers without decoding messages). Pure.
- ``stats``: latency histograms and percentiles. Pure.
- ``worker``: one client process driving many simulated headsets on asyncio.
- ``servers``: start, pin, sample and stop the two servers under test.
- ``report``: the markdown table and the ratios.
"""
