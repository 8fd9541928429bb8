"""A patient's data: terms asked again on a new version, refusal, their own copy, erasure,
retention, and the database upgrade that brought them (docs/privacy.md)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from dataclasses import asdict
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import make_admin, register_patient
from tests.integration.records import end_visit, file_bytes
from tests.support import ROOT, make_config, make_cpf
from web import privacy, reports
from web.app import create_app
from web.config import Config
from web.keys import CONFIG, STORE
from web.store import MIGRATIONS, Store


async def look_up(client: TestClient, cpf: str, born: str, query: str = "") -> str:
    """Sign in with CPF and birth date; returns the path landed on."""
    resp = await post_form(
        client,
        f"/paciente/entrar{query}",
        "/paciente/entrar",
        {"cpf": cpf, "birth_date": born, **({"para": "dados"} if query else {})},
    )
    assert resp.status == 200, await resp.text()
    return resp.url.path


def count(client: TestClient, table: str) -> int:
    return int(client.app[STORE].db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


# -- terms --------------------------------------------------------------------------------------


async def test_a_new_terms_version_asks_a_returning_patient_again(
    aiohttp_client: ClientMaker, tmp_path: Path, config: Config
) -> None:
    first = await aiohttp_client(create_app(config))
    cpf = await register_patient(first, 701)  # accepted version 1
    await make_admin(first)
    admin = first.app[STORE].staff_by_email("gestao@example.org")
    assert admin is not None
    end_visit(first.app[STORE], cpf, admin.id, rating=4)
    await first.close()

    terms = tmp_path / "termos-v2.txt"
    terms.write_text("Termos de uso — versão 2\n\nNovo texto dos termos.", encoding="utf-8")
    client = await aiohttp_client(
        create_app(make_config(tmp_path, terms={"file": str(terms), "version": "2"}))
    )
    assert await look_up(client, cpf, "1990-05-17") == "/paciente/teste"
    page = await (await client.get("/paciente/termos")).text()
    assert "Os termos de uso mudaram desde a sua última visita" in page
    assert "versão 1" in page and "Novo texto dos termos." in page
    stale = await post_form(
        client, "/paciente/termos", "/paciente/termos", {"accept": "yes", "version": "1"}
    )
    assert stale.url.path == "/paciente/termos"  # the page opened before the change: read again
    unticked = await post_form(client, "/paciente/termos", "/paciente/termos", {"version": "2"})
    assert unticked.status == 422
    store = client.app[STORE]
    patient = store.patient_by_cpf(cpf)
    assert patient is not None and store.active_ticket(patient.id) is None  # not in the queue
    accepted = await post_form(
        client, "/paciente/termos", "/paciente/termos", {"accept": "yes", "version": "2"}
    )
    assert accepted.url.path == "/paciente/fila"
    rows = store.db.execute("SELECT terms_version FROM consents ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["1", "2"]
    end_visit(store, cpf, admin.id, rating=5)
    again = await (await client.get("/paciente/termos")).text()
    assert "mudaram" not in again  # version 2 was accepted already


# -- refusal ------------------------------------------------------------------------------------


async def register_only(client: TestClient, seed: int, name: str) -> str:
    cpf = make_cpf(seed)
    resp = await post_form(
        client, "/paciente", "/paciente/cadastro",
        {"cpf": cpf, "full_name": name, "birth_date": "1990-05-17", "phone": "61999998888"},
    )  # fmt: skip
    assert resp.url.path == "/paciente/teste"
    return cpf


async def refuse(client: TestClient) -> str:
    resp = await post_form(client, "/paciente/termos", "/paciente/termos/recusar", {})
    assert resp.status == 200
    page = await resp.text()
    for told in ("Unidade Básica de Saúde", "136", "192", "SAMU", "14.510/2022"):
        assert told in page
    return page


async def test_a_new_patient_who_refuses_leaves_nothing_stored(
    client: TestClient, config: Config
) -> None:
    cpf = await register_only(client, 711, "Rosa Refusada Nunes")
    store = client.app[STORE]
    patient = store.patient_by_cpf(cpf)
    assert patient is not None
    store.record_device_test(patient.id, "[]", "")  # the device test came before the terms
    page = await refuse(client)
    assert "O seu cadastro foi apagado" in page
    for table in ("patients", "device_tests", "consents", "tickets", "audit_log"):
        assert count(client, table) == 0, table
    stored = file_bytes(config)
    assert cpf.encode() not in stored and b"Refusada" not in stored
    assert (await client.get("/paciente/teste", allow_redirects=False)).status == 303  # signed out
    again = await register_only(client, 711, "Rosa Refusada Nunes")  # may come back as new
    assert again == cpf


async def test_a_returning_patient_who_refuses_keeps_only_what_was_there(
    client: TestClient,
) -> None:
    cpf = await register_patient(client, 721)
    await make_admin(client)
    store = client.app[STORE]
    admin = store.staff_by_email("gestao@example.org")
    assert admin is not None
    end_visit(store, cpf, admin.id, rating=4)
    client.session.cookie_jar.clear()
    assert await look_up(client, cpf, "1990-05-17") == "/paciente/teste"
    patient = store.patient_by_cpf(cpf)
    assert patient is not None
    store.record_device_test(patient.id, "[]", "")  # today's test, for the visit now refused
    before = {t: count(client, t) for t in ("patients", "consents", "tickets", "device_tests")}
    page = await refuse(client)
    assert "Nada novo foi guardado" in page
    after = {t: count(client, t) for t in ("patients", "consents", "tickets", "device_tests")}
    assert after == before | {"device_tests": 0}
    assert (await client.get("/paciente/termos", allow_redirects=False)).status == 303


# -- the patient's own copy ---------------------------------------------------------------------


async def test_a_patient_downloads_their_data_and_nothing_of_anyone_else(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    config = make_config(tmp_path, chat={"keep_after_call": True})
    client = await aiohttp_client(create_app(config))
    store = client.app[STORE]
    mine = await register_patient(client, 731, name="Clara Dados Próprios", born="1961-04-09")
    client.session.cookie_jar.clear()
    other = await register_patient(client, 732, name="Otávio Alheio Souza")
    client.session.cookie_jar.clear()
    await make_admin(client)
    admin = store.staff_by_email("gestao@example.org")
    assert admin is not None
    mine_patient = store.patient_by_cpf(mine)
    assert mine_patient is not None
    store.record_device_test(mine_patient.id, '[{"item": "camera", "level": "ok"}]', "")
    chat = [("patient", "Bom dia, doutora"), ("professional", "Bom dia, Clara")]
    end_visit(store, mine, admin.id, rating=5, comment="Muito bom", chat=chat)
    end_visit(store, other, admin.id, rating=2, comment="Comentário alheio",
              chat=[("patient", "Mensagem alheia")])  # fmt: skip
    client.session.cookie_jar.clear()
    anonymous = await client.get("/paciente/dados.json", allow_redirects=False)
    assert anonymous.headers["Location"] == "/paciente/entrar"

    lookup = await (await client.get("/paciente/entrar")).text()
    assert "/paciente/entrar?para=dados" in lookup  # reachable from the look-up page
    assert await look_up(client, mine, "1961-04-09", "?para=dados") == "/paciente/dados"
    page = await (await client.get("/paciente/dados")).text()
    assert "Clara Dados Próprios" in page and "/paciente/dados.json" in page
    resp = await client.get("/paciente/dados.json")
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = await resp.text()
    for foreign in (other, "Otávio", "Alheio", "alheio"):
        assert foreign not in raw
    data = json.loads(raw)
    assert data["registration"]["cpf"] == mine
    assert data["registration"]["full_name"] == "Clara Dados Próprios"
    assert data["registration"]["birth_date"] == "1961-04-09"
    assert data["registration"]["phone"] == "61999998888"
    assert [c["terms_version"] for c in data["consents"]] == ["1"]
    (visit,) = data["visits"]
    assert (visit["rating"], visit["comment"]) == (5, "Muito bom")
    assert visit["professional_name"] == "Gestora Clínica"
    assert visit["wait_s"] == 60.0 and visit["arrived_at"].startswith(str(time.localtime().tm_year))
    assert [(m["from"], m["text"]) for m in visit["chat_messages"]] == [
        ("patient", "Bom dia, doutora"),
        ("professional", "Bom dia, Clara"),
    ]
    (test,) = data["device_tests"]
    assert test["verdicts"] == [{"item": "camera", "level": "ok"}]


# -- erasure ------------------------------------------------------------------------------------


def figures(client: TestClient) -> dict[str, object]:
    """Every figure of the panel that erasure must leave alone."""
    store = client.app[STORE]
    tz = ZoneInfo(client.app[CONFIG].server.timezone)
    start, end = reports.day_bounds(datetime.now(tz).date(), tz)
    return {
        "overview": asdict(reports.overview(store, start, end, end)),
        "professionals": [asdict(p) for p in reports.professionals(store)],
        "ratings": reports.rating_distribution(store),
        "hourly": reports.hourly(store, start, end),
        "devices": store.db.execute("SELECT verdicts FROM device_tests ORDER BY id").fetchall(),
    }


async def test_erasure_asked_by_the_patient_and_confirmed_by_an_admin(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    config = make_config(tmp_path, chat={"keep_after_call": True})
    app = create_app(config)
    patient = await aiohttp_client(app)
    admin = await aiohttp_client(patient.server)
    await make_admin(admin)
    store = patient.app[STORE]
    staff = store.staff_by_email("gestao@example.org")
    assert staff is not None
    kept = await register_patient(patient, 741, name="Bruno Fica Guardado")
    end_visit(store, kept, staff.id, rating=2, comment="Comentário que fica")
    patient.session.cookie_jar.clear()
    cpf = await register_patient(patient, 742, name="Zuleica Apagável Matos", born="1944-08-15")
    found = store.patient_by_cpf(cpf)
    assert found is not None
    erased_id = found.id
    store.record_device_test(erased_id, '[{"item": "camera", "level": "ok"}]', "")

    # While waiting the erasure waits too.
    refused = await post_form(patient, "/paciente/dados", "/paciente/dados/exclusao", {})
    assert refused.status == 422  # the confirmation box is needed
    asked = await post_form(
        patient, "/paciente/dados", "/paciente/dados/exclusao", {"confirm": "yes"}
    )
    assert "Pedido de exclusão recebido" in await asked.text()
    busy = await post_form(
        admin, "/admin/privacidade", f"/admin/privacidade/{erased_id}/apagar", {"confirm": "yes"}
    )
    assert "em atendimento agora" in await busy.text()
    assert store.patient(erased_id) is not None

    ticket = end_visit(store, cpf, staff.id, rating=5, comment="Zuleica gostou muito",
                       chat=[("patient", "Segredo da Zuleica")])  # fmt: skip
    before = figures(patient)
    listed = await (await admin.get("/admin/privacidade")).text()
    assert f"/admin/privacidade/{erased_id}/apagar" in listed and "Zuleica" in listed
    unconfirmed = await post_form(
        admin, "/admin/privacidade", f"/admin/privacidade/{erased_id}/apagar", {}
    )
    assert "Marque a confirmação" in await unconfirmed.text()
    done = await post_form(
        admin, "/admin/privacidade", f"/admin/privacidade/{erased_id}/apagar", {"confirm": "yes"}
    )
    assert f"paciente nº {erased_id} foram apagados" in await done.text()

    # Gone everywhere: pages, the database, the file on disk.
    assert (await patient.get("/paciente/dados", allow_redirects=False)).status == 303
    assert store.patient(erased_id) is None and store.patient_by_cpf(cpf) is None
    stored = file_bytes(config)
    for personal in (cpf, "Zuleica", "Apagável", "1944-08-15", "gostou muito", "Segredo"):
        assert personal.encode() not in stored, personal
    for other in (kept, "Bruno Fica Guardado", "Comentário que fica"):
        assert other.encode() in stored, other  # the search does find what is there
    row = store.db.execute("SELECT * FROM patients WHERE id = ?", (erased_id,)).fetchone()
    assert (row["full_name"], row["birth_date"], row["phone"], row["email"]) == ("", "", "", "")
    assert count(patient, "chat_messages") == 0

    # The anonymous statistics stay: ticket, times, rating, professional; the panel is unchanged.
    left = store.ticket(ticket)
    assert left is not None
    assert (left.rating, left.comment, left.professional_id) == (5, "", staff.id)
    assert left.started_at is not None and left.ended_at is not None
    assert figures(patient) == before
    record = await (await admin.get(f"/admin/atendimentos/{ticket}.json")).json()
    assert record["patient_erased"] is True
    assert (record["patient_name"], record["patient_cpf"], record["comment"]) == ("", "", "")
    assert "Zuleica" not in await (await admin.get("/admin/privacidade")).text()
    audit = store.db.execute("SELECT role, action FROM audit_log WHERE patient_id = ?",
                             (erased_id,)).fetchall()  # fmt: skip
    assert ("admin", "erasure") in [tuple(e) for e in audit]
    again = await post_form(
        admin, "/admin/privacidade", f"/admin/privacidade/{erased_id}/apagar", {"confirm": "yes"}
    )
    assert again.status == 404

    # The same person may register again: a new patient.
    patient.session.cookie_jar.clear()
    await register_patient(patient, 742, name="Zuleica Apagável Matos", born="1944-08-15")
    fresh = store.patient_by_cpf(cpf)
    assert fresh is not None and fresh.id != erased_id


# -- retention ----------------------------------------------------------------------------------

DAY = 86400


def age_patient(db: sqlite3.Connection, patient_id: int, days: float) -> None:
    """Move everything of the patient `days` into the past."""
    shift = days * DAY
    db.execute("UPDATE patients SET created_at = created_at - ?, last_seen_at = last_seen_at - ?"
               " WHERE id = ?", (shift, shift, patient_id))  # fmt: skip
    for table, column in (("consents", "accepted_at"), ("device_tests", "tested_at")):
        db.execute(f"UPDATE {table} SET {column} = {column} - ? WHERE patient_id = ?",
                   (shift, patient_id))  # fmt: skip
    db.execute(
        "UPDATE tickets SET arrived_at = arrived_at - :s, called_at = called_at - :s,"
        " started_at = started_at - :s, ended_at = ended_at - :s, rated_at = rated_at - :s"
        " WHERE patient_id = :id",
        {"s": shift, "id": patient_id},
    )


async def retention_population(client: TestClient) -> dict[str, int]:
    """Patients of every kind of (in)activity, by name -> id."""
    store = client.app[STORE]
    await make_admin(client)
    staff = store.staff_by_email("gestao@example.org")
    assert staff is not None
    ids: dict[str, int] = {}
    for seed, name in enumerate(("old", "signed_in", "old_waiting", "recent", "edge"), start=751):
        client.session.cookie_jar.clear()
        cpf = await register_patient(client, seed, name=f"Retido {name}")
        patient = store.patient_by_cpf(cpf)
        assert patient is not None
        ids[name] = patient.id
        if name != "old_waiting":
            end_visit(store, cpf, staff.id, rating=3)
    for name, days in (("old", 40), ("signed_in", 40), ("old_waiting", 40), ("edge", 29)):
        age_patient(store.db, ids[name], days)
    store.patient_seen(ids["signed_in"])  # signed in today: active
    return ids


async def test_an_erasure_the_log_kept_because_of_a_reader_is_wiped_later(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    """Another process reading the database holds old page versions in the write-ahead log:
    the erasure is done at once, the log is emptied as soon as the reader lets go."""
    config = make_config(tmp_path)
    patient = await aiohttp_client(create_app(config))
    admin = await aiohttp_client(patient.server)
    await make_admin(admin)
    store = patient.app[STORE]
    staff = store.staff_by_email("gestao@example.org")
    assert staff is not None
    cpf = await register_patient(patient, 745, name="Quitéria Leitora Presa")
    end_visit(store, cpf, staff.id)
    asked = await post_form(
        patient, "/paciente/dados", "/paciente/dados/exclusao", {"confirm": "yes"}
    )
    assert "Pedido de exclusão recebido" in await asked.text()
    found = store.patient_by_cpf(cpf)
    assert found is not None
    reader = sqlite3.connect(config.database_path)  # e.g. a backup tool, in its own process
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM patients").fetchone()  # holds this snapshot
    try:
        done = await post_form(
            admin, "/admin/privacidade", f"/admin/privacidade/{found.id}/apagar", {"confirm": "yes"}
        )
        assert f"paciente nº {found.id} foram apagados" in await done.text()
        assert store.patient_by_cpf(cpf) is None
        assert cpf.encode() in file_bytes(config)  # the old page versions are still on disk
    finally:
        reader.close()
    assert await privacy.wipe_free_space(store)  # what the hourly task does
    assert cpf.encode() not in file_bytes(config)
    assert "Quitéria".encode() not in file_bytes(config)


async def test_retention_erases_only_inactive_patients_at_start_up(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    setup = await aiohttp_client(create_app(make_config(tmp_path)))
    ids = await retention_population(setup)
    await setup.close()
    client = await aiohttp_client(create_app(make_config(tmp_path, privacy={"retention_days": 30})))
    store = client.app[STORE]
    for _ in range(100):  # the check runs in the background right after start-up
        if store.patient(ids["old"]) is None:
            break
        await asyncio.sleep(0.05)
    assert [name for name, pid in ids.items() if store.patient(pid) is None] == ["old"]
    assert store.ticket(1) is not None and store.ticket(1).rating == 3  # type: ignore[union-attr]
    entries = store.db.execute("SELECT role, action, patient_id FROM audit_log").fetchall()
    assert [tuple(e) for e in entries] == [("system", "retention_erasure", ids["old"])]


async def test_a_patient_back_between_the_scan_and_the_erasure_is_kept(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path)))
    ids = await retention_population(client)
    store, now = client.app[STORE], time.time()
    # the scan runs on a connection of its own, off the event loop (as the hourly task does)
    found = await store.read(partial(privacy.inactive_candidates, days=30, now=now))
    assert ids["old"] in found and ids["recent"] not in found
    store.patient_seen(ids["old"])  # signs in while the scan's result is on its way
    assert privacy.erase_inactive(store, 30, now, found) == []
    assert all(store.patient(pid) is not None for pid in ids.values())
    assert count(client, "audit_log") == 0


async def atende(*args: str) -> tuple[int, str, str]:
    """Run `python -m web` with these arguments: exit code, output, errors."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_erase_inactive_from_the_command_line(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    from tests.server import write_config

    client = await aiohttp_client(create_app(make_config(tmp_path)))
    ids = await retention_population(client)
    config_file = write_config(tmp_path, 8080, {"privacy": {"retention_days": 0}})
    code, _, err = await atende("--config", str(config_file), "erase-inactive")
    assert code == 2 and "retention_days is 0" in err
    code, out, _ = await atende("--config", str(config_file), "erase-inactive", "--days", "35")
    assert code == 0 and "Erased 1 patients inactive for 35 days." in out
    store = client.app[STORE]
    # signed_in was active today, old_waiting is in the queue, edge and recent are recent
    assert [name for name, pid in ids.items() if store.patient(pid) is None] == ["old"]


# -- the database upgrade -----------------------------------------------------------------------


def test_an_existing_database_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute(
        "INSERT INTO patients (cpf, full_name, birth_date, created_at)"
        " VALUES ('52998224725', 'Paciente Antigo', '1950-01-02', 1.0)"
    )
    db.execute(
        "INSERT INTO tickets (patient_id, state, priority, seq, arrived_at)"
        " VALUES (1, 'left', 2, 1, 2.0)"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = Store(str(path))
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 2
    patient = store.patient(1)
    assert patient is not None and patient.full_name == "Paciente Antigo"
    assert patient.erasure_requested_at is None
    assert store.ticket(1) is not None
    assert store.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == 0
    store.close()
    Store(str(path)).close()  # opening again changes nothing
