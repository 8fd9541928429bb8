"""Loading and validating config.toml: every key present, every value of the right type."""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    log_level: str
    timezone: str
    tls_cert: str
    tls_key: str
    trusted_proxies: list[str]


@dataclass(frozen=True)
class DatabaseConfig:
    path: str


@dataclass(frozen=True)
class TermsConfig:
    file: str
    version: str


@dataclass(frozen=True)
class SessionConfig:
    secret_file: str
    secret_env: str
    max_age_hours: int
    cookie_secure: bool


@dataclass(frozen=True)
class IceServerConfig:
    urls: list[str]
    username: str = ""
    credential: str = ""


@dataclass(frozen=True)
class IceConfig:
    servers: list[IceServerConfig]
    turn_urls: list[str]
    turn_secret_env: str
    turn_secret_file: str
    turn_ttl_seconds: int
    transport_policy: str


@dataclass(frozen=True)
class RelaySettings:
    host_addresses: list[str]
    remote_networks: list[str]
    video_codecs: list[str]
    audio_codecs: list[str]
    silence_timeout_seconds: int


@dataclass(frozen=True)
class QueueConfig:
    priority_enabled: bool
    grace_seconds: int
    no_show_seconds: int
    call_grace_seconds: int
    default_call_minutes_low: int
    default_call_minutes_high: int


@dataclass(frozen=True)
class DeviceTestConfig:
    seconds: int
    max_running: int


@dataclass(frozen=True)
class LimitsConfig:
    failed_logins: int
    failed_logins_per_address: int
    lockout_seconds: int
    registrations_per_minute: int
    chat_messages_per_10s: int
    message_bytes: int
    offer_bytes: int


@dataclass(frozen=True)
class MetricsConfig:
    token: str
    allowed_addresses: list[str]
    sample_seconds: int


@dataclass(frozen=True)
class ChatConfig:
    max_length: int
    keep_after_call: bool


@dataclass(frozen=True)
class PrivacyConfig:
    retention_days: int


@dataclass(frozen=True)
class Config:
    server: ServerConfig
    database: DatabaseConfig
    terms: TermsConfig
    session: SessionConfig
    ice: IceConfig
    relay: RelaySettings
    queue: QueueConfig
    device_test: DeviceTestConfig
    limits: LimitsConfig
    metrics: MetricsConfig
    chat: ChatConfig
    privacy: PrivacyConfig
    # Folder that relative paths are resolved against (the config file's folder).
    base_dir: Path = field(default=Path("."), compare=False)

    def path(self, value: str) -> Path:
        """Resolve a path setting against the config file's folder."""
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def tls(self) -> bool:
        """The server itself speaks https (server.tls_cert and server.tls_key are set)."""
        return bool(self.server.tls_cert)

    @property
    def database_path(self) -> str:
        if self.database.path == ":memory:":
            return ":memory:"
        return str(self.path(self.database.path))


_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}
_TRANSPORT_POLICIES = ("all", "relay")


def _convert(key: str, value: Any, kind: Any) -> Any:
    """Check `value` against the annotation `kind`; build nested dataclasses."""
    origin = typing.get_origin(kind)
    if is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table")
        return _build(key, value, kind)
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list")
        return [_convert(f"{key}[{i}]", item, item_kind) for i, item in enumerate(value)]
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported setting type {kind!r}")  # pragma: no cover


def _build(prefix: str, table: dict[str, Any], cls: type[Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.name != "base_dir"}
    for extra in sorted(set(table) - known):
        raise ConfigError(f"{prefix}.{extra}: unknown setting".lstrip("."))
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name == "base_dir":
            continue
        key = f"{prefix}.{f.name}".lstrip(".")
        if f.name not in table:
            if f.default is not MISSING:
                values[f.name] = f.default
                continue
            raise ConfigError(f"{key}: missing setting")
        values[f.name] = _convert(key, table[f.name], hints[f.name])
    return cls(**values)


def _validate(config: Config) -> None:
    if not 0 <= config.server.port <= 65535:
        raise ConfigError("server.port: must be between 0 and 65535")
    if config.server.log_level not in _LOG_LEVELS:
        raise ConfigError(f"server.log_level: must be one of {', '.join(sorted(_LOG_LEVELS))}")
    for proxy in config.server.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise ConfigError(f"server.trusted_proxies: not an address: {proxy}") from exc
    try:
        ZoneInfo(config.server.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"server.timezone: unknown time zone {config.server.timezone!r}") from exc
    for address in config.metrics.allowed_addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise ConfigError(f"metrics.allowed_addresses: not an IP address: {address}") from exc
    if not 1 <= config.metrics.sample_seconds <= 300:
        raise ConfigError("metrics.sample_seconds: must be between 1 and 300")
    if config.session.max_age_hours < 1:
        raise ConfigError("session.max_age_hours: must be at least 1")
    for name in ("grace_seconds", "no_show_seconds", "call_grace_seconds"):
        if getattr(config.queue, name) < 1:
            raise ConfigError(f"queue.{name}: must be at least 1")
    low, high = config.queue.default_call_minutes_low, config.queue.default_call_minutes_high
    if not 1 <= low <= high:
        raise ConfigError("queue.default_call_minutes_low: must be between 1 and the high value")
    if not 2 <= config.device_test.seconds <= 60:
        raise ConfigError("device_test.seconds: must be between 2 and 60")
    if not 1 <= config.device_test.max_running <= 100:
        raise ConfigError("device_test.max_running: must be between 1 and 100")
    for name in (
        "failed_logins",
        "failed_logins_per_address",
        "lockout_seconds",
        "registrations_per_minute",
    ):
        if getattr(config.limits, name) < 1:
            raise ConfigError(f"limits.{name}: must be at least 1")
    if config.limits.chat_messages_per_10s < 1:
        raise ConfigError("limits.chat_messages_per_10s: must be at least 1")
    if not 16 * 1024 <= config.limits.message_bytes <= 1024 * 1024:
        raise ConfigError("limits.message_bytes: must be between 16384 and 1048576")
    if not 4 * 1024 <= config.limits.offer_bytes <= config.limits.message_bytes - 1024:
        raise ConfigError(
            "limits.offer_bytes: must be between 4096 and limits.message_bytes - 1024"
            " (an offer travels inside a socket message)"
        )
    if not 1 <= config.chat.max_length <= 10_000:
        raise ConfigError("chat.max_length: must be between 1 and 10000")
    if not 0 <= config.privacy.retention_days <= 36500:
        raise ConfigError("privacy.retention_days: must be between 0 (off) and 36500")
    if not config.terms.version.strip():
        raise ConfigError("terms.version: must not be empty")
    if not config.path(config.terms.file).is_file():
        raise ConfigError(f"terms.file: no such file: {config.terms.file}")
    for i, server in enumerate(config.ice.servers):
        if not server.urls:
            raise ConfigError(f"ice.servers[{i}].urls: must list at least one URL")
        for url in server.urls:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ConfigError(f"ice.servers[{i}].urls: not a STUN/TURN URL: {url}")
    _validate_turn(config)
    _validate_tls(config)
    if not config.relay.video_codecs and not config.relay.audio_codecs:
        raise ConfigError("relay.video_codecs: at least one codec is needed")
    if not 5 <= config.relay.silence_timeout_seconds <= 30:
        raise ConfigError("relay.silence_timeout_seconds: must be between 5 and 30")


def _validate_turn(config: Config) -> None:
    ice = config.ice
    for url in ice.turn_urls:
        if not url.startswith(("turn:", "turns:")):
            raise ConfigError(f"ice.turn_urls: not a TURN URL: {url}")
    if ice.turn_urls and not (ice.turn_secret_env or ice.turn_secret_file):
        raise ConfigError(
            "ice.turn_secret_file: ice.turn_urls needs the TURN secret: name an environment"
            " variable in ice.turn_secret_env or a file in ice.turn_secret_file"
        )
    if not 60 <= ice.turn_ttl_seconds <= 7 * 86400:
        raise ConfigError("ice.turn_ttl_seconds: must be between 60 and 604800")
    if ice.transport_policy not in _TRANSPORT_POLICIES:
        raise ConfigError('ice.transport_policy: must be "all" or "relay"')
    has_turn = bool(ice.turn_urls) or any(
        url.startswith(("turn:", "turns:")) for server in ice.servers for url in server.urls
    )
    if ice.transport_policy == "relay" and not has_turn:
        raise ConfigError(
            'ice.transport_policy: "relay" needs a TURN server in ice.turn_urls or ice.servers'
        )


def _validate_tls(config: Config) -> None:
    server = config.server
    if bool(server.tls_cert) != bool(server.tls_key):
        missing = "server.tls_key" if server.tls_cert else "server.tls_cert"
        raise ConfigError(f"{missing}: set both server.tls_cert and server.tls_key, or neither")
    for name in ("tls_cert", "tls_key"):
        value = getattr(server, name)
        if value and not config.path(value).is_file():
            raise ConfigError(f"server.{name}: no such file: {value}")


def parse_config(data: dict[str, Any], base_dir: Path) -> Config:
    """Build and validate a Config from a parsed TOML document."""
    config: Config = dataclasses.replace(_build("", data, Config), base_dir=base_dir)
    _validate(config)
    return config


def load_config(path: Path | str) -> Config:
    """Read config.toml; raise ConfigError naming the offending key."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, path.resolve().parent)
