"""Command line: `atende serve`, `atende create-admin`, `atende gen-secret`."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from pathlib import Path

from aiohttp import web

from web import accounts
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atende", description=__doc__)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="path to config.toml")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the web server and media relay")
    admin = sub.add_parser("create-admin", help="create an admin account (prints its password)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrador")
    sub.add_parser("gen-secret", help="print a new session secret for ATENDE_SESSION_SECRET")
    args = parser.parse_args(argv)

    if args.command == "gen-secret":
        print(new_secret())
        return 0
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"atende: configuration error: {exc}", file=sys.stderr)
        return 2
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
    except ConfigError as exc:
        print(f"atende: configuration error: {exc}", file=sys.stderr)
        return 2
    address = f"http://{config.server.host}:{config.server.port}/"
    try:
        web.run_app(
            app,
            host=config.server.host,
            port=config.server.port,
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
