"""The audit page's data: every write mistctl made to Mist, newest first, filtered by run, kind, site and
key (the object's name), and searched by text, a page at a time.

The store filters by run, site, kind and key itself; a text search reads the (so filtered) log newest
first in batches and keeps the matches, stopping once the page and one more entry are found.
Entries never hold a body or a secret (see `AuditEntry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from mistctl.store.models import AuditEntry
from mistctl.store.port import StateStore

PAGE_SIZE = 50
BATCH = 1000
MAX_TEXT = 100


@dataclass(frozen=True)
class AuditQuery:
    """The audit page's filters and page number (from 1)."""

    run: str = ""
    kind: str = ""
    site: str = ""
    key: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, run: str | None, kind: str | None, site: str | None, key: str | None, q: str | None,
              page: str | None) -> AuditQuery:
        """From query parameters (trimmed; a page that is not a number is the first)."""
        def clean(value: str | None) -> str:
            return (value or "").strip()[:MAX_TEXT]
        number = int(page) if page and page.isdigit() and len(page) < 7 else 1
        return cls(clean(run), clean(kind).lower(), clean(site), clean(key), clean(q), max(1, number))

    @property
    def filtered(self) -> bool:
        return bool(self.run or self.site or self.kind or self.key or self.q)

    def link(self, **changes: object) -> str:
        values = {"run": self.run, "kind": self.kind, "site": self.site, "key": self.key, "q": self.q,
                  "page": self.page, **changes}
        if values.get("page") == 1:
            values["page"] = None
        return "/ui/audit" + (f"?{query}" if (query := urlencode({k: v for k, v in values.items() if v})) else "")

    def matches(self, entry: AuditEntry) -> bool:
        """Whether the entry holds the search text (in its call, object, site, run or actor)."""
        text = " ".join(str(v) for v in (entry.method, entry.path, entry.kind, entry.name, entry.site,
                                         entry.mist_id, entry.run_id, entry.actor, entry.status) if v)
        return self.q.casefold() in text.casefold()


@dataclass(frozen=True)
class AuditView:
    query: AuditQuery
    entries: list[AuditEntry]
    more: bool

    @property
    def first(self) -> int:
        return (self.query.page - 1) * PAGE_SIZE + 1 if self.entries else 0


async def audit_page(store: StateStore, query: AuditQuery) -> AuditView:
    """The asked page of entries, newest first, and whether another page follows."""
    offset, wanted = (query.page - 1) * PAGE_SIZE, PAGE_SIZE + 1
    filters = {"run_id": query.run or None, "site": query.site or None, "kind": query.kind or None,
               "name": query.key or None}
    if not query.q:
        found = await store.list_audit(**filters, limit=wanted, offset=offset, newest_first=True)
        return AuditView(query, found[:PAGE_SIZE], len(found) > PAGE_SIZE)
    matched: list[AuditEntry] = []
    read = 0
    while len(matched) < offset + wanted:
        batch = await store.list_audit(**filters, limit=BATCH, offset=read, newest_first=True)
        matched += [e for e in batch if query.matches(e)]
        read += len(batch)
        if len(batch) < BATCH:
            break
    shown = matched[offset:offset + wanted]
    return AuditView(query, shown[:PAGE_SIZE], len(shown) > PAGE_SIZE)
