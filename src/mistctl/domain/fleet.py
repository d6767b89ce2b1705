"""The fleet file's model: the IP plan, zones, org-level Mist objects, site defaults and sites.

mistctl's own structures are strict (`extra="forbid"`: an unknown key is an error, usually a typo);
org objects are open dicts written with Mist's own field names, checked by `validate_org`.
A `Site` of a loaded `Fleet` holds its *effective* values: `site_defaults` already merged in.
Parsing the YAML/CSV text and validating it all lives in `mistctl.domain.parse.parse_fleet`.
"""

import re
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from mistctl.domain.claim import claim_code_problem, normalise_claim_code
from mistctl.domain.kinds import ORG_KINDS
from mistctl.modelkit import new_dict, new_list

_HEX = re.compile(r"^[0-9a-f]{12}$")


_SECRET_SUFFIXES = ("passphrase", "secret", "password", "psk", "_kek", "_mack")


def redact(value: Any) -> Any:
    """A copy of a value with every secret-looking field (passphrase, psk, secret...) masked."""
    if isinstance(value, dict):
        return {k: "***" if _is_secret(k) and v else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def is_secret_key(key: Any) -> bool:
    """True for a field name that holds a secret (`passphrase`, `psk`, a RADIUS `secret`, `*_password`...)."""
    return isinstance(key, str) and key.lower().endswith(_SECRET_SUFFIXES)


_is_secret = is_secret_key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def parse_cidr(value: Any) -> Any:
    """Accept an IPv4 CIDR string; explain host bits and bad syntax in words the user can act on."""
    if isinstance(value, IPv4Network) or not isinstance(value, str):
        return value
    try:
        return IPv4Network(value.strip())
    except ValueError:
        pass
    try:
        loose = IPv4Network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(f"'{value}' is not an IPv4 CIDR such as 10.0.0.0/8") from None
    raise ValueError(f"'{value}' has host bits set; write {loose}")


Cidr = Annotated[IPv4Network, BeforeValidator(parse_cidr)]


def _var_value(value: Any) -> Any:
    # Mist site variables are strings; YAML turns `10` and `yes` into numbers and booleans.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("site variable values are strings: quote the value")
    return value


VarValue = Annotated[str, BeforeValidator(_var_value)]


def _number(value: Any) -> Any:
    # pydantic would take `zone: true` as zone 1; a boolean where a number belongs is a mistake.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, int | str) and len(str(value).strip()) > 20:  # a CSV cell of 5,000 digits
        raise ValueError("is too long for a number: fleet numbers fit in 64 bits")
    return value


Number = Annotated[int, BeforeValidator(_number)]


class SegmentSpec(_Strict):
    """A named segment carved out of every site's block (hierarchical) or placed by the octet formula."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    vlan: Number
    prefix: Number | None = None  # hierarchical: required; octet: always 24
    octet_offset: Number | None = None  # octet: second octet = offset + zone id (default 0, 100, 150, 200)


class IpPlanSpec(_Strict):
    """How every site's addresses are computed: scheme, supernet, zone/site sizes, segments, reserved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["hierarchical", "octet"] = "hierarchical"
    supernet: Cidr = IPv4Network("10.0.0.0/8")
    zone_prefix: Number | None = None
    site_prefix: Number | None = None
    segments: tuple[SegmentSpec, ...] = Field(min_length=1)
    reserved: tuple[Cidr, ...] = ()


class Zone(_Strict):
    """A region of the fleet: its id places it in the IP plan, its name is for people and variables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Number
    name: str = Field(min_length=1)


class LatLng(_Strict):
    """A site's coordinates, as Mist's `latlng`."""

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class DeviceRef(_Strict):
    """A device for a site: exactly one of a claim code (to claim), a MAC or a serial (in inventory), or an
    order's activation code (every device of the order, claimed as it ships)."""

    claim_code: str | None = None
    mac: str | None = None
    serial: str | None = None
    activation_code: str | None = None
    name: str | None = None  # the device name to set once assigned

    @model_validator(mode="after")
    def _exactly_one(self) -> "DeviceRef":
        given = [k for k in _DEVICE_KEYS if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("a device needs exactly one of claim_code, mac or serial")
        if self.activation_code is not None:
            if self.name:
                raise ValueError("an activation code stands for a whole order: list its devices by claim_code "
                                 "to name them")
            self.activation_code = self.activation_code.strip().upper()
        if self.mac is not None:
            mac = re.sub(r"[\s:.\-]", "", self.mac).lower()
            if not _HEX.match(mac):
                raise ValueError(f"mac '{self.mac}' is not 12 hex digits (e.g. 5c5b35000001)")
            self.mac = mac
        if self.claim_code is not None:
            problem = claim_code_problem(self.claim_code)
            if problem:
                raise ValueError(problem)
            self.claim_code = normalise_claim_code(self.claim_code)
        if self.serial is not None:
            self.serial = self.serial.strip()
        return self

    @property
    def key(self) -> str:
        """The identity of the device within the fleet: `mac:...`, `serial:...` or `claim_code:...`."""
        for kind in _DEVICE_KEYS:
            value = getattr(self, kind)
            if value:
                return f"{kind}:{value}"
        return ""


_DEVICE_KEYS = ("mac", "serial", "claim_code", "activation_code")


class _SiteFields(_Strict):
    address: str | None = None
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    timezone: str | None = None
    notes: str | None = None
    latlng: LatLng | None = None
    gateway_template: str | None = None
    switch_template: str | None = None
    rf_template: str | None = None
    vars: dict[str, VarValue] = Field(default_factory=new_dict)
    overrides: list[str] = Field(default_factory=new_list)


class SiteDefaults(_SiteFields):
    """Values every site gets unless it sets its own (vars are merged, overrides are joined)."""

    site_groups: list[str] | None = None


class Site(_SiteFields):
    """One site, with its effective values (site_defaults merged) and the devices it should hold."""

    name: str = Field(min_length=1)
    # Both or neither: a site without zone and number has no place in the IP plan (plan-less) and
    # its variables are only its own `vars` (an imported org whose addressing fits no plan).
    zone: Number | None = None
    number: Number | None = None
    site_groups: list[str] = Field(default_factory=new_list)
    devices: list[DeviceRef] = Field(default_factory=new_list)

    @property
    def placed(self) -> bool:
        """True when the site has a place (zone and number) in the IP plan."""
        return self.zone is not None and self.number is not None


class OrgDesign(_Strict):
    """Org-level Mist objects, one list per kind, written with Mist's field names (see `kinds.ORG_KINDS`)."""

    site_groups: list[dict[str, Any]] = Field(default_factory=new_list)
    applications: list[dict[str, Any]] = Field(default_factory=new_list)
    networks: list[dict[str, Any]] = Field(default_factory=new_list)
    hub_profiles: list[dict[str, Any]] = Field(default_factory=new_list)
    gateway_templates: list[dict[str, Any]] = Field(default_factory=new_list)
    switch_templates: list[dict[str, Any]] = Field(default_factory=new_list)
    wlan_templates: list[dict[str, Any]] = Field(default_factory=new_list)
    rf_templates: list[dict[str, Any]] = Field(default_factory=new_list)
    wlans: list[dict[str, Any]] = Field(default_factory=new_list)
    labels: list[dict[str, Any]] = Field(default_factory=new_list)
    wlan_policies: list[dict[str, Any]] = Field(default_factory=new_list)
    psks: list[dict[str, Any]] = Field(default_factory=new_list)

    def __repr_args__(self) -> Any:
        # Reprs and logs never show passphrases, RADIUS secrets or passwords written in org objects.
        for name, value in super().__repr_args__():
            yield name, redact(value)

    def objects(self, kind_key: str) -> list[dict[str, Any]]:
        """The objects of one kind, by its fleet key."""
        objs: list[dict[str, Any]] = getattr(self, kind_key)
        return objs

    def count(self) -> int:
        """How many org objects of all kinds."""
        return sum(len(self.objects(kind.key)) for kind in ORG_KINDS)


class Fleet(_Strict):
    """A whole deployment: the IP plan, zones, org objects, defaults and sites (effective values)."""

    name: str | None = None  # who owns the org objects it writes (`domain.owners`); checked by `parse`
    org_id: str | None = None
    ip_plan: IpPlanSpec | None = None  # None: every site is plan-less (keeps its own variables)
    zones: list[Zone] = Field(default_factory=new_list)
    org: OrgDesign = Field(default_factory=OrgDesign)
    site_defaults: SiteDefaults = Field(default_factory=SiteDefaults)
    sites: list[Site] = Field(default_factory=new_list)

    def zone(self, zone_id: int) -> Zone | None:
        """The zone with this id, if the fleet has one."""
        return next((z for z in self.zones if z.id == zone_id), None)

    def site(self, name: str) -> Site | None:
        """The site with this name, if the fleet has one."""
        return next((s for s in self.sites if s.name == name), None)
