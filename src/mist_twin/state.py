"""The twin's state: one org, its tokens, its objects, the device pool, and the live knobs.

`TwinState` is what handlers and tests hold (`app.state.twin`). Objects live in a `Store`
(collections keyed by id; `inventory` keyed by MAC, `site_settings` by site id, `pool` by claim code,
`tokens` by token) that is written through to SQLite when `state_file` is set.
"""

from __future__ import annotations

import copy
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from mist_twin.auth import ROLES, Principal
from mist_twin.config import Knobs, TwinConfig
from mist_twin.counters import Counters
from mist_twin.devices import Device, generate_pool, inventory_record, load_pool
from mist_twin.faults import FaultInjector
from mist_twin.ratelimit import RateLimiter
from mist_twin.store import Obj, Store

POOL = "pool"
INVENTORY = "inventory"
MANAGEMENT = "management"  # mac -> whether Mist manages (pushes config to) the device: twin-internal
SITE_SETTINGS = "site_settings"
TOKENS = "tokens"
ADMIN_EMAIL = "twin-admin@example.com"  # the user behind the twin's admin token


class TwinState:
    """Everything a twin knows; built by `create_app`, reachable as `app.state.twin`."""

    def __init__(self, config: TwinConfig, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.clock = clock or time.time
        self.knobs = Knobs.from_config(config)
        self.quirks = config.quirks.model_copy()
        self.faults = FaultInjector(self.knobs, config.seed)
        self.rate = RateLimiter(self.knobs, self.clock, self.rate_key)
        self.counters = Counters()
        self.store = Store(config.state_file)
        self.tokens: dict[str, Principal] = {}
        try:
            self._boot()
        except BaseException:
            self.store.close()
            raise

    # --- start-up -------------------------------------------------------------------------------
    def _boot(self) -> None:
        stored_org = self.store.meta("org")
        if stored_org is None:
            self._create_org()
            self._seed_devices()
        elif self.config.org_id and self.config.org_id != stored_org["id"]:
            raise ValueError(
                f"state file {self.config.state_file} holds org {stored_org['id']}, not the org_id given "
                f"({self.config.org_id}): drop the org id or use another state file"
            )
        if self.config.token and self.config.token != self.store.meta("admin_token"):
            self.store.set_meta("admin_token", self.config.token)
            self.store.set_meta("token_generated", False)
        for token, info in ((row["token"], row) for row in self.store.all(TOKENS)):
            self.tokens[token] = Principal(token, info["role"], info["org_id"], info["name"], info.get("user"))
        admin = self.store.meta("admin_token")
        self.tokens[admin] = Principal(admin, "admin", self.org_id, "twin admin", ADMIN_EMAIL)

    def _create_org(self) -> None:
        now = self.now()
        org = {
            "id": self.config.org_id or str(uuid.uuid4()),
            "name": self.config.org_name,
            "allow_mist": True,
            "session_expiry": 1440,
            "orggroup_ids": [],
            "created_time": now,
            "modified_time": now,
        }
        self.store.set_meta("org", org)
        self.store.set_meta("admin_token", self.config.token or secrets.token_urlsafe(48))
        self.store.set_meta("token_generated", self.config.token is None)

    def _seed_devices(self) -> None:
        """Fill the pool; the first `inventory_count` devices start in the org inventory."""
        cfg = self.config
        if cfg.devices_file is not None:
            pool = load_pool(cfg.devices_file)
            if len(pool) < cfg.inventory_count:
                raise ValueError(
                    f"devices file {cfg.devices_file} lists {len(pool)} devices but inventory_count is "
                    f"{cfg.inventory_count}: lower inventory_count or list more devices"
                )
        else:
            pool = generate_pool(cfg.seed, cfg.device_count + cfg.inventory_count)
        with self.store.batch():
            for index, device in enumerate(pool):
                if index < cfg.inventory_count:
                    self.claim_device(device)
                else:
                    self.store.put(POOL, device["claim_code"], device)

    # --- the org ----------------------------------------------------------------------------------
    @property
    def org(self) -> Obj:
        """The org object (as `GET /orgs/{org_id}` answers it)."""
        org: Obj = self.store.meta("org")
        return org

    @property
    def org_id(self) -> str:
        """The twin's org id."""
        org_id: str = self.org["id"]
        return org_id

    @property
    def token(self) -> str:
        """The admin token (a secret: tests and the ready line only)."""
        token: str = self.store.meta("admin_token")
        return token

    @property
    def token_generated(self) -> bool:
        """True when the twin made the admin token up (so it may print it once)."""
        return bool(self.store.meta("token_generated"))

    def now(self) -> int:
        """Epoch seconds, from the injected clock (created_time / modified_time)."""
        return int(self.clock())

    # --- tokens and devices -----------------------------------------------------------------------
    def add_token(self, role: str, on_org: bool = True, token: str | None = None,
                  user: str | None = None) -> Principal:
        """A new API token with `role` on the org (or on no org at all, for 403s).

        With `user` (an email) it is a user token of that admin, sharing the admin's rate budget with
        the admin's other tokens (the twin's admin token is one of `ADMIN_EMAIL`); else an org token.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token = token or secrets.token_urlsafe(48)
        name = f"twin {role} {'user' if user else 'org'} token"
        principal = Principal(token, role, self.org_id if on_org else None, name, user)
        self.tokens[token] = principal
        row = {"token": token, "role": role, "org_id": principal.org_id, "name": principal.name, "user": user}
        self.store.put(TOKENS, token, row)
        return principal

    def rate_key(self, token: str) -> str:
        """The rate budget a token's calls count against (its user's, or its own; unknown: its own)."""
        principal = self.tokens.get(token)
        return principal.rate_key if principal is not None else f"token:{token}"

    def claim_device(self, device: Device) -> Obj:
        """Move a pool device into the org inventory; returns the inventory record."""
        device = {**device, "claimed": True}
        self.store.put(POOL, device["claim_code"], device)
        record = inventory_record(device, self.org_id, self.now())
        self.store.put(INVENTORY, record["mac"], record)
        return record

    def add_pool_devices(self, devices: list[Device]) -> None:
        """Add devices to the claimable pool (ValueError on a claim code or MAC already known)."""
        codes = {d["claim_code"] for d in self.store.all(POOL)}
        macs = {d["mac"] for d in self.store.all(POOL)} | {d["mac"] for d in self.store.all(INVENTORY)}
        for device in devices:
            if device["claim_code"] in codes or device["mac"] in macs:
                raise ValueError(f"device {device['mac']} / {device['claim_code']} is already in the pool")
            codes.add(device["claim_code"])
            macs.add(device["mac"])
        with self.store.batch():
            for device in devices:
                self.store.put(POOL, device["claim_code"], device)

    def ship(self, macs: list[str]) -> list[str]:
        """Mark ordered devices as shipped (an activation code then claims them); returns the MACs found."""
        found = []
        with self.store.batch():
            for device in self.store.all(POOL):
                if device["mac"] in macs and device.get("shipped") is False:
                    self.store.put(POOL, device["claim_code"], {**device, "shipped": True})
                    found.append(device["mac"])
        return found

    # --- test-facing reads ------------------------------------------------------------------------
    def objects(self, collection: str) -> list[Obj]:
        """Copies of a collection's objects (`sites`, `wlans`, `inventory`, `site_settings`...)."""
        return copy.deepcopy(self.store.all(collection))

    def devices(self) -> list[Device]:
        """Copies of the pool devices, claimed or not."""
        return copy.deepcopy(self.store.all(POOL))

    def inventory(self) -> list[Obj]:
        """Copies of the org inventory records."""
        return self.objects(INVENTORY)

    def dump(self, collections: tuple[str, ...]) -> dict[str, Any]:
        """The org and its objects, by collection (what `GET /__twin/state` answers)."""
        data: dict[str, Any] = {"org": copy.deepcopy(self.org)}
        for name in (*collections, INVENTORY, SITE_SETTINGS, MANAGEMENT):
            data[name] = self.objects(name)
        return data

    # --- lifecycle --------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to a fresh org (same org id and admin token): objects, pool, counters, knobs, quirks, tokens."""
        admin = self.token
        self.store.clear(keep_meta=True)
        self._seed_devices()
        self.tokens = {admin: self.tokens[admin]}
        self.knobs.apply(Knobs.from_config(self.config))
        self.quirks.apply(self.config.quirks)
        self.faults.reseed(self.config.seed)
        self.rate.reset()
        self.counters.reset()

    def close(self) -> None:
        """Close the state file."""
        self.store.close()
