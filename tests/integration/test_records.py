"""Visit records a clinic files: per visit and in bulk, JSON and CSV, equal to the database."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from tests.integration.flows import make_admin, password_hash, register_patient
from tests.integration.records import end_visit
from web.keys import CONFIG, STORE
from web.reports import RECORD_COLUMNS, VisitRecord


@dataclass
class Visits:
    rated: int  # Helena's visit with Ana (CRM), rated 5 with a comment
    unrated: int  # João's visit with the admin, not rated
    professional_id: int


async def two_visits(client: TestClient) -> Visits:
    store = client.app[STORE]
    helena = await register_patient(client, 601, name="Helena Costa Lima", born="1950-03-02")
    client.session.cookie_jar.clear()
    joao = await register_patient(client, 602, name="João Pereira", born="1985-11-30")
    client.session.cookie_jar.clear()
    await make_admin(client)
    admin = store.staff_by_email("gestao@example.org")
    assert admin is not None
    ana = store.create_staff(
        name="Ana Souza", email="ana@example.org", council="CRM", council_number="12345",
        council_uf="DF", password_hash=password_hash("senha-muito-boa"), role="professional",
        status="approved",
    )  # fmt: skip
    rated = end_visit(store, helena, ana.id, rating=5, comment='Ótimo, "obrigada"; voltarei')
    unrated = end_visit(store, joao, admin.id)
    return Visits(rated, unrated, ana.id)


def expected(client: TestClient, ticket_id: int) -> dict[str, str]:
    """The record of a ticket straight from the tables, as a CSV row would read."""
    row = (
        client.app[STORE]
        .db.execute(
            "SELECT t.*, p.cpf, p.full_name, p.birth_date, s.name, s.council, s.council_number,"
            " s.council_uf, c.terms_version FROM tickets t JOIN patients p ON p.id = t.patient_id"
            " JOIN staff s ON s.id = t.professional_id JOIN consents c ON c.patient_id = p.id"
            " WHERE t.id = ?",
            (ticket_id,),
        )
        .fetchone()
    )
    tz = ZoneInfo(client.app[CONFIG].server.timezone)

    def iso(ts: float | None) -> str:
        return "" if ts is None else datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")

    return {
        "ticket": str(ticket_id), "state": row["state"], "end_reason": row["end_reason"],
        "patient_id": str(row["patient_id"]), "patient_name": row["full_name"],
        "patient_cpf": row["cpf"], "patient_birth_date": row["birth_date"],
        "patient_erased": "false", "terms_version": row["terms_version"],
        "professional_id": str(row["professional_id"]), "professional_name": row["name"],
        "professional_council": row["council"],
        "professional_council_number": row["council_number"],
        "professional_council_uf": row["council_uf"],
        "arrived_at": iso(row["arrived_at"]), "called_at": iso(row["called_at"]),
        "started_at": iso(row["started_at"]), "ended_at": iso(row["ended_at"]),
        "wait_s": str(round(row["called_at"] - row["arrived_at"], 1)),
        "duration_s": str(round(row["ended_at"] - row["started_at"], 1)),
        "device_summary": row["device_summary"],
        "rating": "" if row["rating"] is None else str(row["rating"]), "comment": row["comment"],
    }  # fmt: skip


def as_csv_row(record: dict[str, Any]) -> dict[str, str]:
    """A JSON record written the way the CSV writes it, to compare both with the tables."""

    def text(value: Any) -> str:
        if value is None:
            return ""
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {name: text(value) for name, value in record.items()}


def test_the_files_have_every_field_of_a_record() -> None:
    assert sorted(RECORD_COLUMNS) == sorted(f.name for f in fields(VisitRecord))


def read_csv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == RECORD_COLUMNS
    return list(reader)


async def test_one_visits_record_in_json_and_csv_is_the_databases(client: TestClient) -> None:
    visits = await two_visits(client)
    for ticket in (visits.rated, visits.unrated):
        resp = await client.get(f"/admin/atendimentos/{ticket}.json")
        assert resp.status == 200
        assert f'filename="atendimento-{ticket}.json"' in resp.headers["Content-Disposition"]
        record = await resp.json()
        assert list(record) == list(RECORD_COLUMNS)
        assert as_csv_row(record) == expected(client, ticket)
        resp = await client.get(f"/admin/atendimentos/{ticket}.csv")
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert read_csv(await resp.text()) == [expected(client, ticket)]
    rated = expected(client, visits.rated)
    assert (rated["patient_name"], rated["patient_birth_date"]) == (
        "Helena Costa Lima",
        "1950-03-02",
    )
    assert (rated["professional_council"], rated["professional_council_number"]) == ("CRM", "12345")
    assert (rated["rating"], rated["comment"]) == ("5", 'Ótimo, "obrigada"; voltarei')
    assert (rated["wait_s"], rated["duration_s"], rated["terms_version"]) == ("60.0", "300.0", "1")
    assert rated["device_summary"] == "sem teste"
    page = await (await client.get(f"/admin/atendimentos/{visits.rated}")).text()
    for shown in ("Helena Costa Lima", rated["patient_cpf"], "CRM 12345/DF", "Ótimo"):
        assert shown in page
    assert (await client.get("/admin/atendimentos/999999.json")).status == 404


async def test_bulk_records_follow_the_visits_pages_filters(client: TestClient) -> None:
    visits = await two_visits(client)
    tz = ZoneInfo(client.app[CONFIG].server.timezone)
    today = datetime.now(tz).date()
    cases: dict[str, list[int]] = {
        "": [visits.unrated, visits.rated],  # today, newest arrival first
        f"de={today}&ate={today}": [visits.unrated, visits.rated],
        f"profissional={visits.professional_id}": [visits.rated],
        f"de={today - timedelta(days=9)}&ate={today - timedelta(days=1)}": [],
    }
    for query, tickets in cases.items():
        as_json = await (await client.get(f"/admin/atendimentos/registros.json?{query}")).json()
        as_csv = read_csv(
            await (await client.get(f"/admin/atendimentos/registros.csv?{query}")).text()
        )
        wanted = [expected(client, ticket) for ticket in tickets]
        assert [as_csv_row(r) for r in as_json] == wanted, query
        assert as_csv == wanted, query
        # the same visits as the visits page's own (summary) export with the same filters
        summary = await (await client.get(f"/admin/atendimentos.csv?{query}")).text()
        assert [r["ticket"] for r in csv.DictReader(io.StringIO(summary))] == [
            str(t) for t in tickets
        ]
    bad = await client.get("/admin/atendimentos/registros.json?de=ontem")
    assert bad.status == 400 and "Datas inválidas" in await bad.text()


async def test_a_bulk_export_of_a_day_names_that_day_in_the_file(client: TestClient) -> None:
    await make_admin(client)
    day = date(2024, 2, 29)
    resp = await client.get(f"/admin/atendimentos/registros.csv?de={day}&ate={day}")
    disposition = resp.headers["Content-Disposition"]
    assert 'filename="registros-2024-02-29-a-2024-02-29.csv"' in disposition
    assert read_csv(await resp.text()) == []
