"""One exception tree for vrcollab.

::

    VrcollabError                      root; every error the package raises on purpose
    ├── ConfigError                    bad settings or CLI arguments (the operator's mistake)
    ├── RequestError                   a request or API call the API refuses (bad values, wrong
    │   │                              state; HTTP 400): misuse, not a bug of ours
    │   └── UploadError                a malformed upload request (bad multipart, missing file)
    ├── IngestError                    a model could not be converted (exit code 2 in the CLI)
    │   ├── UnsupportedFormatError     no loader knows this file
    │   ├── CorruptFileError           empty, truncated or unparsable file
    │   ├── InvalidGeometryError       non-finite coordinates, bad indices, no triangles
    │   ├── LimitExceededError         over the size / triangle / archive-expansion limits
    │   └── MissingDependencyError     optional loader (cascadio, ifcopenshell) not installed
    ├── ProtocolError                  a peer sent bad data over the sync protocol
    ├── AuthError                      missing, wrong or expired credentials
    │   └── PermissionDeniedError      authenticated, but the role does not allow it
    ├── StoreError                     persistence failed
    ├── NotFoundError                  a project, room, model, job or asset does not exist
    └── BcfError                       a BCF archive is invalid, hostile or unsupported

Each error carries a one-line, human-readable message (``str(err)``) and a stable ``code``
string that APIs put in their responses (``{"error": {"code", "message"}}``, see
:mod:`vrcollab.server.errors_http` for the HTTP status of each). A library function called with
arguments it cannot honour raises one of these, never a bare ``ValueError`` or ``KeyError``.
"""

from __future__ import annotations


class VrcollabError(Exception):
    """Root of every error vrcollab raises on purpose."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The one-line message."""
        return str(self)


class ConfigError(VrcollabError):
    """Bad settings or arguments."""

    code = "config"


class IngestError(VrcollabError):
    """A model could not be converted."""

    code = "ingest"


class UnsupportedFormatError(IngestError):
    """No loader recognises the file."""

    code = "unsupported_format"


class CorruptFileError(IngestError):
    """The file is empty, truncated or cannot be parsed."""

    code = "corrupt_file"


class InvalidGeometryError(IngestError):
    """The geometry is unusable: non-finite values, bad indices, no triangles."""

    code = "invalid_geometry"


class LimitExceededError(IngestError):
    """The input exceeds a configured limit (bytes, triangles, archive expansion)."""

    code = "limit_exceeded"


class MissingDependencyError(IngestError):
    """An optional dependency needed for this format is not installed."""

    code = "missing_dependency"


class ProtocolError(VrcollabError):
    """A peer sent data that violates the sync protocol."""

    code = "protocol"


class AuthError(VrcollabError):
    """Missing, wrong or expired credentials."""

    code = "unauthorized"


class PermissionDeniedError(AuthError):
    """The caller is authenticated but its role does not allow the action."""

    code = "forbidden"


class StoreError(VrcollabError):
    """Persistence failed."""

    code = "store"


class NotFoundError(VrcollabError):
    """The requested object does not exist (or is not visible to the caller)."""

    code = "not_found"


class BcfError(VrcollabError):
    """A BCF archive is invalid, hostile or unsupported."""

    code = "bcf"


class RequestError(VrcollabError):
    """A request (or a call into the API) that cannot be honoured as asked: a bad value, an
    object in the wrong state. The caller's mistake; HTTP 400."""

    code = "bad_request"


class UploadError(RequestError):
    """A malformed upload request: not multipart, no file part, truncated body."""

    code = "bad_upload"
