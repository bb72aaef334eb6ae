"""Service settings, read once at startup from the environment and the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4000
DEFAULT_DATA_DIR = Path("data")
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


class Settings(BaseSettings):
    """Configuration of one gateway process. Every field has a `GATEWAY_` variable."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = DEFAULT_HOST
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    data_dir: Path = DEFAULT_DATA_DIR
    admin_key: SecretStr | None = None
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0)
    store_bodies: bool = False
    upstream_timeout_seconds: float = Field(60.0, gt=0)
    log_flush_seconds: float = Field(1.0, gt=0, le=60)
    workbench_url: str = "http://localhost:8501"
    public_url: str | None = None

    @field_validator("admin_key")
    @classmethod
    def _admin_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError(
                "must be at least 16 characters; unset it to have one generated"
            )
        return value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "gateway.duckdb"


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable and the fix."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.proxy_server",
        description="OpenAI-compatible gateway with virtual keys and an admin API.",
    )
    parser.add_argument(
        "--host", help=f"interface to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument("--port", type=int, help=f"TCP port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder for the DuckDB file and generated secrets "
        f"(default {DEFAULT_DATA_DIR}/)",
    )
    return parser.parse_args(argv)


def load_settings(argv: list[str] | None = None) -> Settings:
    """Build settings from the environment; command-line flags take precedence."""
    args = parse_args(argv)
    overrides = {
        name: value
        for name, value in (
            ("host", args.host),
            ("port", args.port),
            ("data_dir", args.data_dir),
        )
        if value is not None
    }
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        printed_value = "<hidden>" if field == "admin_key" else repr(error.get("input"))
        lines.append(
            f"GATEWAY_{field.upper()}={printed_value} is invalid: {error['msg']}"
        )
    return "\n".join(lines)
