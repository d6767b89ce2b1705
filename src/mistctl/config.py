"""mistctl's settings, read from the environment (and nothing else) when the caller builds them.

Built in the composition root (`bootstrap.build`) or by a CLI command, never at import time. The
Mist variables follow the ecosystem's convention (`MIST_HOST`, `MIST_APITOKEN`, as the `mistapi` SDK).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from mistctl.secret_lists import parse_service_keys, parse_tokens


class Settings(BaseSettings):
    """Every knob of mistctl; each field is read from the environment variable of the same name."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    # -- the Mist cloud ------------------------------------------------------------------------
    mist_host: str | None = Field(default=None, description="Mist cloud host (api.mist.com) or URL")
    mist_apitoken: SecretStr | None = Field(default=None, description="API token(s), one a line or comma-separated")
    mist_org_id: str | None = Field(default=None, description="The org to provision")

    # -- the Mist client -----------------------------------------------------------------------
    mist_connect_timeout: float = Field(default=5.0, gt=0)
    mist_read_timeout: float = Field(default=30.0, gt=0)
    mist_write_timeout: float = Field(default=30.0, gt=0)
    mist_pool_timeout: float = Field(default=30.0, gt=0)
    mist_concurrency: int = Field(default=8, ge=1, le=64, description="Mist calls in flight at once")
    mist_max_attempts: int = Field(default=4, ge=1, le=10, description="Tries per call on transient errors")
    mist_rate_limit: int = Field(default=5000, ge=1, description="Calls per token per rate window")
    mist_rate_window: float = Field(default=3600.0, gt=0, description="Rate window length in seconds")
    mist_max_rate_wait: float = Field(default=3900.0, ge=0, description="Longest wait for a rate reset")
    mistctl_budget_wait: float = Field(
        default=10.0, ge=0,
        description="Longest an HTTP request of the service waits for the Mist call budget before answering 503",
    )

    # -- mistctl -------------------------------------------------------------------------------
    mistctl_state: str = Field(default="sqlite:///.mistctl/state.db", description="State store URL")
    mistctl_api_keys: SecretStr | None = Field(default=None, description="Keys of the HTTP API")
    mistctl_metrics_token: SecretStr | None = Field(default=None, description="Bearer token of /metrics")
    mistctl_design: Path | None = Field(default=None, description="The design (fleet) file")

    def tokens(self) -> list[SecretStr]:
        """The Mist API tokens, in order (``MIST_APITOKEN`` may hold several, one a line or comma-separated);
        `SecretListInvalid` names a token with a character HTTP headers cannot carry, by position only."""
        if self.mist_apitoken is None:
            return []
        return [SecretStr(token) for token in parse_tokens(self.mist_apitoken.get_secret_value())]

    def service_keys(self) -> list[str]:
        """The service keys of ``MISTCTL_API_KEYS`` (one a line or comma-separated), each checked."""
        if self.mistctl_api_keys is None:
            return []
        return parse_service_keys(self.mistctl_api_keys.get_secret_value())
