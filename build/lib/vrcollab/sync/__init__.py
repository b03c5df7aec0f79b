"""Sans-I/O sync core: messages, codec, room state machine and presence.

Imports no asyncio, websockets, fastapi or sqlite3; time is always passed in.
See ``docs/protocol.md`` for the contract these modules implement.
"""

from vrcollab.sync.messages import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION"]
