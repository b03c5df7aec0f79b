"""Minutes as PDF with WeasyPrint (optional dependency: fails only when used, clearly).

WeasyPrint needs Pango (Debian ``libpango-1.0-0``, ``libpangoft2-1.0-0``; ``./dev`` installs
them). The HTML of :func:`vrcollab.meetings.report.render_html` is self-contained; any other
URL (``http:``, ``file:``) is refused, so a report never reads the network or the disk.
"""

from __future__ import annotations

from typing import Any

from vrcollab.errors import ConfigError


def html_to_pdf(page: str) -> bytes:
    """The PDF of one self-contained HTML page."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise ConfigError(f"PDF minutes need WeasyPrint and Pango: {exc}") from exc

    fetcher: Any
    urls = getattr(weasyprint, "urls", None)
    if urls is not None and hasattr(urls, "URLFetcher"):  # WeasyPrint >= 66
        fetcher = urls.URLFetcher(allowed_protocols={"data"})
    else:
        def fetcher(url: str, *args: Any, **kwargs: Any) -> Any:
            if url.startswith("data:"):
                return weasyprint.default_url_fetcher(url, *args, **kwargs)
            raise ValueError(f"minutes may not load {url[:40]}")

    out: bytes = weasyprint.HTML(string=page, url_fetcher=fetcher).write_pdf()
    return out
