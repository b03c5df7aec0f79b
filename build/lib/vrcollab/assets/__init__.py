"""Content-addressed asset store on local files (converted models, uploaded sources)."""

from vrcollab.assets.store import AssetInfo, AssetStore, is_sha256

__all__ = ["AssetInfo", "AssetStore", "is_sha256"]
