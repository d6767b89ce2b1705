"""The checks of `mistctl conformance`, in the order they run, each recording its findings.

Every object is created through `Run.create`, which records it before the create is sent, so the
clean-up can delete it even when the answer was lost or the run was interrupted. Passphrases are
random, never shown: findings say "the previous passphrase", "absent" or "another value".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from mistctl.workflow.conformance_model import CALL_CAP, ConformanceApi, ConformanceReport, Finding, Made

NOTES = "made by mistctl conformance; deleted when it ends"
UPDATED_NOTES = "updated by mistctl conformance"
PAGE_HEADERS = ("x-page-limit", "x-page-page", "x-page-total")
USAGE_FIELDS = ("request_limit", "requests", "seconds")
#: Calls kept for the clean-up (three deletes, and a look-up by name for each lost create answer).
CLEAN_UP_RESERVE = 6


class ConformanceStop(Exception):
    """The run cannot go on (e.g. the token cannot write): nothing further is created."""


@dataclass
class Run:
    """One run's context: the API, the org, the report it fills and the step it is at."""

    api: ConformanceApi
    org_id: str
    report: ConformanceReport
    step: str = "start"
    start: int = 0  # the API's call count when the run began

    @property
    def name(self) -> str:
        return self.report.run_name

    def within_cap(self) -> None:
        """Stop (before the next check) once retries have spent what the clean-up needs kept."""
        spent = self.api.calls.total - self.start
        if spent > CALL_CAP - CLEAN_UP_RESERVE - 8:  # the largest check makes 8 calls
            raise ConformanceStop(f"{spent} calls spent already (retries?): stopped to stay under {CALL_CAP}")

    async def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create an object, recorded first (by name) so the clean-up finds it whatever happens."""
        made = Made(collection, str(body["name"]))
        self.report.made.append(made)
        obj = await self.api.create_org(self.org_id, collection, body)
        made.id = str(obj["id"])
        return obj


async def run_checks(run: Run) -> None:
    """Every check, in order (each records its findings on the run's report), within the call cap."""
    await check_token_and_usage(run)
    run.within_cap()
    site = await check_site_shapes(run)
    run.within_cap()
    await check_vars(run, str(site["id"]))
    run.within_cap()
    await check_pages(run)
    run.within_cap()
    await check_psk_rotation(run)


async def check_token_and_usage(run: Run) -> None:
    run.step = "GET /self"
    me = await run.api.get_self()
    writes = any(p.writes_org(run.org_id) for p in me.privileges)
    rights = "write on the org" if writes else "no write privilege on the org"
    run.report.record("token_owner", writes, f"owner {me.who}; {rights}")
    if not writes:
        raise ConformanceStop(f"the token ({me.who}) cannot write to org {run.org_id}: nothing was created")
    run.step = "GET /self/usage"
    usage = await run.api.get_usage()
    missing = [name for name in USAGE_FIELDS if name not in usage.model_fields_set]
    seen = f"{usage.requests} of {usage.request_limit} calls used, window resets in {usage.seconds} s"
    run.report.record("usage_fields", not missing, f"missing {', '.join(missing)}" if missing else seen)


async def check_site_shapes(run: Run) -> dict[str, Any]:
    """Site group, site in it, a partial update; returns the site."""
    run.step = "create the site group"
    group = await run.create("sitegroups", {"name": run.name})
    run.step = "create the site"
    body = {"name": run.name, "notes": NOTES, "sitegroup_ids": [group["id"]]}
    site = await run.create("sites", body)
    wrong = [k for k, v in body.items() if site.get(k) != v]
    run.report.record("site_create", bool(site.get("id")) and not wrong,
                      f"fields answered differently: {', '.join(wrong)}" if wrong else "id and every field sent")
    added = [f"{k}={site[k]!r}" for k in ("country_code", "timezone") if k in site]
    run.report.record("site_defaults", not added,
                      f"Mist added {', '.join(added)}" if added else "no country_code or timezone added")
    run.step = "update the site"
    updated = await run.api.update_site(str(site["id"]), {"notes": UPDATED_NOTES})
    lost = [k for k in ("name", "sitegroup_ids") if updated.get(k) != body[k]]
    changed = updated.get("notes") == UPDATED_NOTES
    run.report.record("site_update", changed and not lost,
                      f"fields not sent changed: {', '.join(lost)}" if lost
                      else ("notes changed, the rest kept" if changed else "notes not changed"))
    run.step = "read the site group"
    listed = (await run.api.get_org(run.org_id, "sitegroups", str(group["id"]))).get("site_ids") or []
    bound = site["id"] in listed and updated.get("sitegroup_ids") == [group["id"]]
    run.report.record("sitegroup_binding", bound,
                      "the group lists the site" if bound else f"the group lists {len(listed)} sites, not this one")
    return site


async def check_vars(run: Run, site_id: str) -> None:
    run.step = "PUT the site setting"
    await run.api.update_site_setting(site_id, {"vars": {"mistctl_a": "1", "mistctl_b": "2"}})
    await run.api.update_site_setting(site_id, {"vars": {"mistctl_b": "3"}})
    got = (await run.api.get_site_setting(site_id)).get("vars") or {}
    if got == {"mistctl_b": "3"}:
        run.report.record("vars_replace", True, "replaced: only the second map is left")
    elif got == {"mistctl_a": "1", "mistctl_b": "3"}:
        run.report.record("vars_replace", False, "merged: a variable left out of the second PUT stayed")
    else:
        run.report.record("vars_replace", False, f"neither: the map holds {', '.join(sorted(got)) or 'nothing'}")


async def check_pages(run: Run) -> None:
    run.step = "list site groups by pages"
    items, raw = await run.api.list_org_page(run.org_id, "sitegroups", page=1, limit=1)
    headers = {k.lower(): v for k, v in raw.items()}
    missing = [h for h in PAGE_HEADERS if h not in headers]
    total = headers.get("x-page-total", "")
    fits = len(items) <= 1 and (not total or (total.isdigit() and int(total) >= 1))
    saw = f"{len(items)} item(s) for limit=1, " + (f"no {', '.join(missing)}" if missing else f"X-Page-Total {total}")
    run.report.record("page_headers", not missing and fits, saw)


def _old(value: Any, expected: str) -> str:
    """What old_passphrase held, without showing it."""
    if not value:
        return "old_passphrase absent"
    return "old_passphrase is the previous passphrase" if value == expected else "old_passphrase holds another value"


def _record_old(run: Run, key: str, value: Any, expected: str) -> None:
    run.report.record(key, value == expected, _old(value, expected))


async def check_psk_rotation(run: Run) -> None:
    first, second, third = (secrets.token_urlsafe(18) for _ in range(3))
    run.step = "create the PSK"
    psk = await run.create("psks", {"name": run.name, "passphrase": first, "ssid": run.name})
    psk_id = str(psk["id"])
    run.step = "rotate the PSK with old_passphrase"
    sent = await run.api.update_org(run.org_id, "psks", psk_id, {"passphrase": second, "old_passphrase": first})
    _record_old(run, "psk_keeps_sent_old", sent.get("old_passphrase"), first)
    run.step = "delete the old passphrase"
    await run.api.delete_old_passphrase(run.org_id, psk_id)
    left = (await run.api.get_org(run.org_id, "psks", psk_id)).get("old_passphrase")
    if sent.get("old_passphrase"):
        run.report.record("psk_delete_old", not left, "old_passphrase cleared" if not left else _old(left, first))
    else:
        run.report.findings["psk_delete_old"] = Finding("psk_delete_old", None, "no old_passphrase to clear")
    run.step = "rotate the PSK with the passphrase only"
    alone = await run.api.update_org(run.org_id, "psks", psk_id, {"passphrase": third})
    copied = alone.get("old_passphrase")
    run.report.record("psk_no_copy_old", not copied, "old_passphrase unset" if not copied else _old(copied, second))
