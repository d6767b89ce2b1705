"""The inverse of a run, planned from its before-images and the live org: what `mistctl rollback` will do.

Each image of the run becomes one undo, or is found done already, or is a conflict:

* created  -> delete it (by the id the run recorded, else by natural key); gone already: done;
* updated  -> restore the before-image (a PUT); the live object equal to it: done;
* deleted  -> recreate it from the before-image, references rebound to the new ids; one of its natural
  key live again and equal to it: done.

An object whose `modified_time` is no longer the one Mist answered the run's write with was changed
since the run: a conflict, left alone unless `force`. Secrets are not in the images (redacted): a
restore leaves the live passphrase as it is, an object that needs one cannot be recreated (kept).
Pure: no I/O here (`workflow.rollback` reads and writes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mistctl.domain import kinds as K
from mistctl.domain.deletes import DELETE_ORDER
from mistctl.domain.desired import REFS, SERVER_FIELDS
from mistctl.domain.diff import Index, LiveState
from mistctl.domain.normalize import rewrite_refs
from mistctl.store.models import RunImage
from mistctl.store.redact import REDACTED, redact

UndoAction = Literal["delete", "restore", "recreate"]
#: Creation order (each kind after the kinds it references); deletes go the other way.
CREATE_ORDER: tuple[str, ...] = tuple(k.key for k in reversed(DELETE_ORDER))
PSK_NOTE = ("PSK passphrases are not rolled back: a passphrase the run changed stays as it is now "
            "(a rotation has its own finish: `mistctl psk finish`)")


@dataclass
class Undo:
    """One write of the rollback: its action, the object, the live id (the old one for a recreate)."""

    action: UndoAction
    kind: str
    key: str
    mist_id: str | None
    body: dict[str, Any] = field(default_factory=dict)  # restore / recreate: what to send (no secrets)
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass
class RollbackPlan:
    """What rolling back `run_id` will do, and what it leaves (conflicts, kept) or finds done."""

    run_id: str
    org_id: str
    undo: list[Undo] = field(default_factory=list)
    conflicts: dict[str, str] = field(default_factory=dict)  # "kind key" -> why it is left alone
    kept: dict[str, str] = field(default_factory=dict)  # "kind key" -> why it cannot be rolled back
    done: list[str] = field(default_factory=list)  # already as before the run
    notes: list[str] = field(default_factory=list)
    idmap: dict[str, str] = field(default_factory=dict)  # old id -> new id of objects recreated already
    names: dict[str, str] = field(default_factory=dict)  # WLAN template name -> live id (WLAN natural keys)
    read_calls: int = 0

    def is_empty(self) -> bool:
        return not self.undo

    def summary(self) -> dict[str, int]:
        counts = {a: sum(u.action == a for u in self.undo) for a in ("delete", "restore", "recreate")}
        return counts | {"conflicts": len(self.conflicts), "kept": len(self.kept), "done": len(self.done)}

    def to_json(self) -> dict[str, Any]:
        """The plan as stored with the rollback run and shown by `--json` (bodies are secret-free)."""
        data = asdict(self)
        data["rolls_back"] = self.run_id
        data["summary"] = self.summary()
        return data


@dataclass
class PriorWrite:
    """A write an earlier rollback of the same run made (so a re-run knows what it already undid)."""

    action: str
    mist_id: str | None
    modified: float | None


def canon(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as compared: no server-set fields, secrets redacted (as the images hold them)."""
    return redact({k: v for k, v in obj.items() if k not in SERVER_FIELDS})  # type: ignore[no-any-return]


def rebind(kind: str, body: dict[str, Any], idmap: dict[str, str]) -> dict[str, Any]:
    """`body` with references to objects recreated since mapped to their new ids."""
    return rewrite_refs(body, REFS.get(kind, ()), lambda _target, v: idmap.get(str(v), v))


def sendable(before: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The before-image as a body to send (no server fields, no redacted secrets); whether a secret was left out."""
    left_out = False

    def strip(value: Any) -> Any:
        nonlocal left_out
        if isinstance(value, dict):
            kept = {k: strip(v) for k, v in value.items() if v != REDACTED}
            left_out = left_out or len(kept) != len(value)
            return kept
        if isinstance(value, list):
            return [strip(v) for v in value if v != REDACTED]
        return value

    return strip({k: v for k, v in before.items() if k not in SERVER_FIELDS}), left_out


def _modified(obj: dict[str, Any]) -> float | None:
    """Mist's `modified_time` (epoch seconds, a number: the spec says double), or None."""
    value = obj.get("modified_time")
    return float(value) if isinstance(value, int | float) else None


class _Planner:
    def __init__(self, run_id: str, live: LiveState, prior: dict[tuple[str, str], PriorWrite], force: bool) -> None:
        self.plan = RollbackPlan(run_id, live.org_id)
        self.index = Index(live)
        self.by_id = {kind: {str(o.get("id")): o for o in objs} for kind, objs in live.objects.items()}
        self.prior = prior
        self.force = force

    def live_of(self, img: RunImage) -> dict[str, Any] | None:
        if img.action != "delete" and img.mist_id and (img.action == "update" or img.written):
            return self.by_id.get(img.kind, {}).get(img.mist_id)
        matches = self.index.by_key.get(img.kind, {}).get(img.key, [])
        return matches[0] if len(matches) == 1 else None

    def changed_since(self, img: RunImage, live: dict[str, Any]) -> bool:
        return img.after_modified is not None and _modified(live) != img.after_modified

    def undone_before(self, img: RunImage, live: dict[str, Any]) -> bool:
        """An earlier rollback of this run wrote this object and nobody changed it since."""
        prior = self.prior.get((img.kind, img.key))
        return (prior is not None and prior.mist_id == str(live.get("id"))
                and prior.modified is not None and prior.modified == _modified(live))

    def conflict(self, img: RunImage, why: str) -> bool:
        """Record a conflict (or, forced, note it); True when the undo goes ahead anyway."""
        label = f"{img.kind} {img.key}"
        if self.force:
            self.plan.notes.append(f"{label}: {why}; rolled back anyway (--force)")
            return True
        self.plan.conflicts[label] = why
        return False

    def add(self, img: RunImage) -> None:
        live = self.live_of(img)
        if img.action == "create":
            self.created(img, live)
        elif img.action == "update":
            self.updated(img, live)
        else:
            self.deleted(img, live)

    def created(self, img: RunImage, live: dict[str, Any] | None) -> None:
        if live is None:
            self.plan.done.append(f"{img.kind} {img.key}")
        elif not self.changed_since(img, live) or self.conflict(img, "changed since the run"):
            self.plan.undo.append(Undo("delete", img.kind, img.key, str(live.get("id"))))

    def updated(self, img: RunImage, live: dict[str, Any] | None) -> None:
        label = f"{img.kind} {img.key}"
        before = rebind(img.kind, dict(img.before or {}), self.plan.idmap)
        if live is None:
            self.plan.conflicts[label] = "deleted since the run: nothing to restore it onto"
            return
        if canon(live) == canon(before) or self.undone_before(img, live):
            self.plan.done.append(label)
            return
        if self.changed_since(img, live) and not self.conflict(img, "changed since the run"):
            return
        body, left_out = sendable(before)
        note = "its passphrase (secret) is left as it is now" if left_out else ""
        self.plan.undo.append(Undo("restore", img.kind, img.key, str(live.get("id")), body, note))

    def deleted(self, img: RunImage, live: dict[str, Any] | None) -> None:
        label = f"{img.kind} {img.key}"
        before = rebind(img.kind, dict(img.before or {}), self.plan.idmap)
        if live is not None:
            self.plan.idmap[str(img.mist_id)] = str(live.get("id"))
            if canon(live) == canon(before) or self.undone_before(img, live):
                self.plan.done.append(label)
            else:
                self.plan.conflicts[label] = f"an object of that name exists again (id {live.get('id')})"
            return
        body, left_out = sendable(before)
        if left_out or img.kind == K.PSKS.key:
            self.plan.kept[label] = ("its secret (passphrase) is not kept by mistctl, so it cannot be recreated "
                                     "from its before-image: apply the fleet that names it")
            return
        self.plan.undo.append(Undo("recreate", img.kind, img.key, img.mist_id, body))


def compute_rollback(run_id: str, images: list[RunImage], live: LiveState,
                     prior: dict[tuple[str, str], PriorWrite] | None = None, *, force: bool = False) -> RollbackPlan:
    """The rollback of a run: recreates (creation order), then restores, then deletes (reverse order)."""
    planner = _Planner(run_id, live, prior or {}, force)
    rank = {k: i for i, k in enumerate(CREATE_ORDER)}
    deletes_first = sorted(images, key=lambda i: (i.action != "delete", rank.get(i.kind, 99)))
    for img in deletes_first:  # deleted objects first: their new ids rebind the restores' references
        planner.add(img)
    plan = planner.plan
    order = {"recreate": 0, "restore": 1, "delete": 2}
    plan.undo.sort(key=lambda u: (order[u.action], rank.get(u.kind, 99) * (-1 if u.action == "delete" else 1)))
    if any(i.kind == K.PSKS.key for i in images):
        plan.notes.append(PSK_NOTE)
    plan.names = {str(o.get("name")): str(o.get("id")) for o in live.objects.get(K.WLAN_TEMPLATES.key, [])}
    return plan
