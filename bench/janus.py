"""Janus 1.1 (Debian package "janus") as a benchmark target: its videoroom plugin, driven over
the HTTP API on 127.0.0.1.

Everything stays on loopback: the configuration written here enables only the HTTP transport
(bound to 127.0.0.1) and the videoroom plugin, sets no STUN or TURN server and no 1:1 NAT
mapping, and gathers ICE candidates on 127.0.0.1 alone (ice_enforce_list, IPv6 off, mDNS
ignored). Janus leaves loopback interfaces out when it gathers, so it runs with a small
LD_PRELOAD shim (built here with the C compiler) whose getifaddrs() clears the loopback flag.

A call is a room of two publishers; each user publishes on one connection and subscribes to
the other's feed on a second one (how the videoroom works), in one Janus session per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import logging
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

from bench.peers import Call, User, accept, make_answer, make_offer
from bench.procs import Process, free_port, tail
from bench.targets import Target

PLUGIN = "janus.plugin.videoroom"
KEEP_PLUGINS = ("libjanus_videoroom.so",)
KEEP_TRANSPORTS = ("libjanus_http.so",)
NO_SUCH_FEED = 428

log = logging.getLogger(__name__)

SHIM_SOURCE = r"""
/* getifaddrs() with the loopback flag cleared, so Janus gathers candidates on 127.0.0.1. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>

int getifaddrs(struct ifaddrs **ifap) {
    static int (*real)(struct ifaddrs **) = 0;
    if (!real)
        real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    int rc = real(ifap);
    if (rc == 0)
        for (struct ifaddrs *i = *ifap; i; i = i->ifa_next)
            i->ifa_flags &= ~IFF_LOOPBACK;
    return rc;
}
"""


def _apt_install(packages: list[str], log_file: Path) -> bool:
    """apt-get install packages (as root, or with sudo -n); whether it worked."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with log_file.open("ab") as out:
        for attempt in range(2):
            if attempt == 1:  # maybe the package lists are stale or missing
                subprocess.run(  # noqa: S603
                    [*prefix, "apt-get", "update", "-qq"], stdout=out, stderr=out, env=env
                )
            done = subprocess.run(  # noqa: S603
                [*prefix, "apt-get", "install", "-y", "-qq", *packages],
                stdout=out,
                stderr=out,
                env=env,
            )
            if done.returncode == 0:
                return True
    return False


def ensure_janus(log_file: Path) -> str | None:
    """The janus binary, installed with apt-get (and a C compiler for the shim) when missing;
    None if it cannot be had."""
    missing = []
    if shutil.which("janus") is None:
        missing.append("janus")
    if shutil.which("cc") is None:
        missing += ["gcc", "libc6-dev"]
    if missing:
        print(f"installing {' '.join(missing)} with apt-get (see {log_file})", flush=True)
        if _apt_install(missing, log_file) and shutil.which("systemctl"):
            # the benchmark runs its own Janus on 127.0.0.1: leave no system Janus listening
            prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
            subprocess.run(  # noqa: S603
                [*prefix, "systemctl", "disable", "--now", "janus"], capture_output=True
            )
    return shutil.which("janus") if shutil.which("cc") else None


def build_shim(directory: Path) -> Path:
    source = directory / "loopback_shim.c"
    library = directory / "loopback_shim.so"
    source.write_text(SHIM_SOURCE)
    compiler = shutil.which("cc") or "cc"
    subprocess.run(  # noqa: S603
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(source), "-ldl"],
        check=True,
        capture_output=True,
    )
    return library


def _module_folder(kind: str) -> Path:
    found = glob.glob(f"/usr/lib/*/janus/{kind}") + glob.glob(f"/usr/lib/janus/{kind}")
    if not found:
        raise RuntimeError(f"Janus {kind} folder not found")
    return Path(found[0])


def _others(folder: Path, keep: tuple[str, ...]) -> str:
    names = sorted({p.name.split(".so")[0] + ".so" for p in folder.glob("*.so*")})
    return ",".join(name for name in names if name not in keep)


def write_config(directory: Path, http_port: int) -> Path:
    """Janus's configuration files for a loopback-only benchmark; the main file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    folders = {
        kind: _module_folder(kind) for kind in ("plugins", "transports", "events", "loggers")
    }
    main = directory / "janus.jcfg"
    main.write_text(
        f"""general: {{
    configs_folder = "{directory}"
    plugins_folder = "{folders["plugins"]}"
    transports_folder = "{folders["transports"]}"
    events_folder = "{folders["events"]}"
    loggers_folder = "{folders["loggers"]}"
    debug_level = 3
    admin_secret = "{secrets.token_hex(16)}"
    interface = "127.0.0.1"
    server_name = "atende-bench"
    session_timeout = 120
    hide_dependencies = true
}}
certificates: {{
}}
media: {{
    ipv6 = false
    rtp_port_range = "20000-40000"
}}
nat: {{
    nice_debug = false
    ice_enforce_list = "127.0.0.1"
    ignore_mdns = true
}}
plugins: {{
    disable = "{_others(folders["plugins"], KEEP_PLUGINS)}"
}}
transports: {{
    disable = "{_others(folders["transports"], KEEP_TRANSPORTS)}"
}}
loggers: {{
    disable = "{_others(folders["loggers"], ())}"
}}
events: {{
    broadcast = false
    disable = "{_others(folders["events"], ())}"
}}
"""
    )
    (directory / "janus.transport.http.jcfg").write_text(
        f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    port = {http_port}
    ip = "127.0.0.1"
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
cors: {{
}}
"""
    )
    (directory / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
    return main


class JanusError(RuntimeError):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code


class JanusSession:
    """One Janus API session: requests, and a long poll that hands out the events."""

    def __init__(self, http: aiohttp.ClientSession, session_id: int) -> None:
        self._http = http
        self.session_id = session_id
        self._transactions = itertools.count()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.webrtc_up: set[int] = set()
        self._poller = asyncio.ensure_future(self._poll())

    @classmethod
    async def create(cls, http: aiohttp.ClientSession) -> JanusSession:
        reply = await _post(http, "/janus", {"janus": "create"})
        return cls(http, int(reply["data"]["id"]))

    async def attach(self) -> int:
        reply = await _post(self._http, self._path(), {"janus": "attach", "plugin": PLUGIN})
        return int(reply["data"]["id"])

    async def request(self, handle: int, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous plugin request (create, destroy...): the plugin's data."""
        reply = await _post(self._http, self._path(handle), {"janus": "message", "body": body})
        return _plugin_data(reply)

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, str] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """An asynchronous plugin request: the event that answers it (data, jsep)."""
        transaction = f"t{next(self._transactions)}"
        future = self._waiting[transaction] = asyncio.get_running_loop().create_future()
        request: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            request["jsep"] = jsep
        try:
            await _post(self._http, self._path(handle), request, ack=True)
            event = await asyncio.wait_for(future, 30)
        finally:
            self._waiting.pop(transaction, None)
        return _plugin_data(event), event.get("jsep")

    async def destroy(self) -> None:
        self._poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._poller
        with contextlib.suppress(Exception):
            await _post(self._http, self._path(), {"janus": "destroy"})

    def _path(self, handle: int | None = None) -> str:
        return f"/janus/{self.session_id}" + (f"/{handle}" if handle is not None else "")

    async def _poll(self) -> None:
        while True:
            try:
                async with self._http.get(self._path(), params={"maxev": "10"}) as response:
                    events = await response.json(content_type=None)
            except (aiohttp.ClientError, ValueError) as exc:
                log.debug("janus poll: %r", exc)
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                kind = event.get("janus")
                if kind == "webrtcup":
                    self.webrtc_up.add(int(event.get("sender", 0)))
                future = self._waiting.get(str(event.get("transaction")))
                if kind == "event" and future is not None and not future.done():
                    future.set_result(event)


async def _post(
    http: aiohttp.ClientSession, path: str, request: dict[str, Any], *, ack: bool = False
) -> dict[str, Any]:
    request.setdefault("transaction", secrets.token_hex(6))
    async with http.post(path, json=request) as response:
        reply: dict[str, Any] = await response.json(content_type=None)
    if reply.get("janus") == "error":
        error = reply.get("error", {})
        raise JanusError(int(error.get("code", 0)), str(error.get("reason")))
    if reply.get("janus") != ("ack" if ack else "success"):
        raise JanusError(0, f"unexpected reply {reply!r}")
    return reply


def _plugin_data(reply: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
    if "error" in data:
        raise JanusError(int(data.get("error_code", 0)), str(data["error"]))
    return data


class JanusTarget(Target):
    """Janus's videoroom: a room per call, each user a publisher and a subscriber."""

    name = "janus"

    def __init__(self, process: Process) -> None:
        self.process = process
        self._http = aiohttp.ClientSession(f"http://127.0.0.1:{process.port}")
        self._sessions: dict[str, tuple[JanusSession, int, int]] = {}  # session, room, handle
        self._rooms = itertools.count(1000)

    @classmethod
    async def start(cls, workdir: Path, logs: Path) -> JanusTarget | None:
        """Janus on 127.0.0.1, or None (with the reason printed) if it cannot run here."""
        binary = ensure_janus(logs / "janus-install.log")
        if binary is None:
            print("janus: not installed and apt-get could not install it; skipped", flush=True)
            return None
        port = free_port()
        config = write_config(workdir, port)
        shim = build_shim(workdir)
        process = await Process.start(
            "janus",
            [binary, "-C", str(config), "-F", str(workdir), "-o"],
            logs / "janus.log",
            env={"LD_PRELOAD": str(shim)},
            announces_port=False,
        )
        process.port = port
        target = cls(process)
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientError):
                async with target._http.get("/janus/info") as response:
                    if response.status == 200:
                        return target
            if not process.running:
                break
            await asyncio.sleep(0.1)
        await target.close()
        raise RuntimeError(f"janus did not start: {tail(logs / 'janus.log')}")

    async def connect(self, call: Call) -> None:
        session = await JanusSession.create(self._http)
        room = next(self._rooms)
        publishers = {user.name: await session.attach() for user in call.users}
        self._sessions[call.call_id] = (session, room, publishers[call.a.name])
        await session.request(
            publishers[call.a.name],
            {
                "request": "create",
                "room": room,
                "publishers": 2,
                "is_private": True,
                "audiocodec": "opus",
                "videocodec": "vp8",
                "bitrate": 0,
                "fir_freq": 0,
                "record": False,
            },
        )
        feeds = dict(
            zip(
                (user.name for user in call.users),
                await asyncio.gather(
                    *(self._publish(session, publishers[u.name], room, u) for u in call.users)
                ),
                strict=True,
            )
        )
        for user in call.users:
            await self._subscribe(session, room, user, feeds[_partner(call, user).name])

    async def _publish(self, session: JanusSession, handle: int, room: int, user: User) -> int:
        pc = user.sending_pc(receive=False)
        offer = await make_offer(pc)
        body = {
            "request": "joinandconfigure",
            "room": room,
            "ptype": "publisher",
            "display": user.name,
            "audio": True,
            "video": True,
        }
        data, jsep = await session.message(handle, body, {"type": "offer", "sdp": offer})
        if jsep is None:
            raise JanusError(0, f"no answer to a publisher's offer: {data!r}")
        await accept(pc, jsep["sdp"])
        for _ in range(200):  # a feed can be subscribed to once its connection is up
            if handle in session.webrtc_up:
                break
            await asyncio.sleep(0.05)
        return int(data["id"])

    async def _subscribe(self, session: JanusSession, room: int, user: User, feed: int) -> None:
        handle = await session.attach()
        body = {"request": "join", "room": room, "ptype": "subscriber", "streams": [{"feed": feed}]}
        for attempt in range(50):
            try:
                _data, jsep = await session.message(handle, body)
                break
            except JanusError as exc:
                if exc.code != NO_SUCH_FEED or attempt == 49:
                    raise
                await asyncio.sleep(0.1)
        if jsep is None:
            raise JanusError(0, "no offer for a subscriber")
        pc = user.receiving_pc()
        answer = await make_answer(pc, jsep["sdp"])
        await session.message(handle, {"request": "start"}, {"type": "answer", "sdp": answer})

    async def disconnect(self, call: Call) -> None:
        entry = self._sessions.pop(call.call_id, None)
        if entry is not None:
            await _end(*entry)

    async def close(self) -> None:
        for call_id in list(self._sessions):
            await _end(*self._sessions.pop(call_id))
        await self._http.close()
        if self.process is not None:
            await self.process.stop()


async def _end(session: JanusSession, room: int, handle: int) -> None:
    with contextlib.suppress(JanusError, aiohttp.ClientError):
        await session.request(handle, {"request": "destroy", "room": room})
    await session.destroy()


def _partner(call: Call, user: User) -> User:
    return call.b if user is call.a else call.a
