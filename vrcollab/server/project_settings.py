"""Per-project settings: what an owner may change for one project (``/api/projects/{id}/settings``).

The store keeps only what an owner set (:meth:`IdentityStore.get_project_settings`); an unset
key falls back to the server's setting of the same meaning (:class:`vrcollab.settings.Settings`).
Today one key: ``voice_viewers_may_speak`` (docs/voice.md R27), default
``VRCOLLAB_VOICE_VIEWERS_MAY_SPEAK``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from vrcollab.settings import Settings
from vrcollab.store import Store

KEYS = ("voice_viewers_may_speak",)


class ProjectSettingsIn(BaseModel):
    """Owner's change: a key left out stays as it is; ``null`` returns it to the server
    default."""

    model_config = ConfigDict(extra="forbid")
    voice_viewers_may_speak: StrictBool | None = Field(
        default=None, description="viewers may publish audio in this project's rooms "
        "(null: the server default, VRCOLLAB_VOICE_VIEWERS_MAY_SPEAK)")


class ProjectSettingsOut(BaseModel):
    """The settings in effect, and which of them the project set itself."""

    voice_viewers_may_speak: bool
    set: list[str] = Field(description="keys the project set (the rest are server defaults)")


def effective(stored: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Stored values over the server defaults."""
    return {"voice_viewers_may_speak": bool(stored.get(
        "voice_viewers_may_speak", settings.voice_viewers_may_speak))}


def read(store: Store, project_id: str, settings: Settings) -> dict[str, Any]:
    """The project's settings in effect (NotFoundError for an unknown project)."""
    return effective(store.get_project_settings(project_id), settings)


def out_json(stored: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The REST answer."""
    return {**effective(stored, settings), "set": sorted(k for k in stored if k in KEYS)}


def apply(stored: dict[str, Any], change: ProjectSettingsIn) -> dict[str, Any]:
    """``stored`` with ``change`` applied (unset fields untouched, nulls removed)."""
    new = {k: v for k, v in stored.items() if k in KEYS}
    for key in change.model_fields_set:
        value = getattr(change, key)
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    return new
