"""Command line: `atende serve`, `create-admin`, `gen-secret`, `make-cert`, `erase-inactive`."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import re
import secrets
import ssl
import sys
import time
from pathlib import Path

from aiohttp import web

from web import accounts, certs, privacy
from web.config import Config, ConfigError, load_config
from web.security import new_secret
from web.store import EmailTaken, Store

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


def _create_admin(config: Config, email: str, name: str) -> str:
    """Create an admin with a random password; returns the password (shown once)."""
    password = secrets.token_urlsafe(12)
    store = Store(config.database_path)
    try:
        store.create_staff(
            name=name,
            email=email.strip().lower(),
            password_hash=accounts.hash_password(password),
            role="admin",
            status="approved",
        )
    finally:
        store.close()
    return password


def _first_admin(config: Config) -> None:
    """At the very first start, make an admin and print its password once."""
    store = Store(config.database_path)
    try:
        exists = store.has_admin()
    finally:
        store.close()
    if exists or config.database_path == ":memory:":
        return
    password = _create_admin(config, "admin@atende.local", "Administrador Atende")
    print(
        "\n  Primeiro acesso: conta de administrador criada.\n"
        "  E-mail: admin@atende.local\n"
        f"  Senha:  {password}\n"
        "  Guarde esta senha agora: ela não será mostrada de novo.\n",
        flush=True,
    )


def _ssl_context(config: Config) -> ssl.SSLContext | None:
    """The server's TLS context from server.tls_cert and server.tls_key; None for plain http."""
    if not config.tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(
            config.path(config.server.tls_cert), config.path(config.server.tls_key)
        )
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"server.tls_cert: cannot use {config.server.tls_cert} with {config.server.tls_key}"
            f" ({exc})"
        ) from exc
    return context


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and bool(_HOSTNAME.fullmatch(host))
    return True


def _make_cert(config_path: Path, folder: str | None, hosts: list[str]) -> int:
    """Write a self-signed certificate and key; print the settings that use them."""
    bad = [h for h in hosts if not _valid_host(h)]
    if bad:
        print(f"atende: not a host name or IP address: {', '.join(bad)}", file=sys.stderr)
        return 2
    base = config_path.resolve().parent
    out = Path(folder).resolve() if folder else base / "data"
    cert, key = out / "tls-cert.pem", out / "tls-key.pem"
    names = certs.make_self_signed(cert, key, hosts)

    def setting(path: Path) -> str:
        return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)

    print(f"Self-signed certificate for {', '.join(names)} (valid {certs.VALID_DAYS} days):")
    print(f"  {cert}\n  {key}  (private key: keep it on this machine)")
    print(f"\nPut these two lines under [server] in {config_path}:\n")
    print(f"tls_cert = {json.dumps(setting(cert))}")
    print(f"tls_key = {json.dumps(setting(key))}")
    print(
        "\nTo reach it from another device, also set [server] host to this machine's network"
        ' address (or "0.0.0.0"), then open https://<address>:<port>/ there.'
        "\nBrowsers warn that a self-signed certificate is not trusted: accept the warning once on"
        ' each device ("Advanced" → "Proceed"), or import the certificate file as trusted.'
    )
    return 0


def _erase_inactive(config: Config, days: int | None) -> int:
    days = config.privacy.retention_days if days is None else days
    if days < 1:
        print(
            "atende: nothing to do: privacy.retention_days is 0 (off); use --days N",
            file=sys.stderr,
        )
        return 2
    store = Store(config.database_path)
    try:
        erased = privacy.erase_inactive(store, days, time.time())
        asyncio.run(privacy.wipe_free_space(store))
    finally:
        store.close()
    print(f"Erased {len(erased)} patients inactive for {days} days.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atende", description=__doc__)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="path to config.toml")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the web server and media relay")
    admin = sub.add_parser("create-admin", help="create an admin account (prints its password)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrador")
    sub.add_parser("gen-secret", help="print a new session secret for ATENDE_SESSION_SECRET")
    erase = sub.add_parser(
        "erase-inactive",
        help="erase the personal data of patients inactive for privacy.retention_days"
        " (docs/privacy.md); the server does it every hour by itself",
    )
    erase.add_argument(
        "--days", type=int, help="inactive for this many days (default: privacy.retention_days)"
    )
    cert = sub.add_parser(
        "make-cert", help="write a self-signed TLS certificate and key (for [server] tls_cert)"
    )
    cert.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME_OR_IP",
        help="another name or address the certificate is valid for, e.g. the LAN address"
        " (localhost, 127.0.0.1 and ::1 are always included); repeatable",
    )
    cert.add_argument("--dir", help="folder for the two files (default: data/ beside config.toml)")
    args = parser.parse_args(argv)

    if args.command == "gen-secret":
        print(new_secret())
        return 0
    if args.command == "make-cert":
        return _make_cert(Path(args.config), args.dir, args.host)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"atende: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "erase-inactive":
        return _erase_inactive(config, args.days)
    if args.command == "create-admin":
        try:
            password = _create_admin(config, args.email, args.name)
        except EmailTaken:
            print(f"atende: an account with e-mail {args.email} exists", file=sys.stderr)
            return 1
        print(f"Admin created. Password (shown once): {password}")
        return 0

    logging.basicConfig(
        level=config.server.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # aioice and aiortc log every connectivity check with the browser's IP address and port at
    # INFO: personal data (LGPD) and noise. Our own logs name peers by ticket only.
    for noisy in ("aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    from web.app import create_app

    _first_admin(config)
    try:
        app = create_app(config)
        ssl_context = _ssl_context(config)
    except ConfigError as exc:
        print(f"atende: configuration error: {exc}", file=sys.stderr)
        return 2
    scheme = "https" if ssl_context else "http"
    address = f"{scheme}://{config.server.host}:{config.server.port}/"
    try:
        web.run_app(
            app,
            host=config.server.host,
            port=config.server.port,
            ssl_context=ssl_context,
            # no client address or user agent: access logs hold no patient's personal data
            access_log_format='%t "%r" %s %b %Tfs',
            print=lambda _: print(f"Atende: {address}", flush=True),
        )
    except OSError as exc:
        print(f"atende: cannot listen on {address} ({exc.strerror}).", file=sys.stderr)
        print("Is Atende already running? Change [server] port in config.toml.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
