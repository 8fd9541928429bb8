"""The audit log: who opened which patient's data; only admins read it; logs name nobody."""

from __future__ import annotations

import logging
import re

import pytest
from aiohttp.test_utils import TestClient

from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import approved_professional, make_admin, register_patient
from web.keys import STORE


def entries(client: TestClient) -> list[tuple[str, str, int | None, str]]:
    rows = client.app[STORE].db.execute(
        "SELECT a.role, a.action, a.patient_id, s.email FROM audit_log a"
        " LEFT JOIN staff s ON s.id = a.staff_id ORDER BY a.id"
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows.fetchall()]


def shown(page: str) -> list[tuple[str, str]]:
    """(action, patient id) of every row of the audit page."""
    return re.findall(r'<tr data-action="([a-z_]+)" data-patient="(\d*)">', page)


async def test_audit_entries_for_who_opened_a_patients_data(
    aiohttp_client: ClientMaker, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    anonymous = await aiohttp_client(client.server)
    patient = await aiohttp_client(client.server)
    pro = await aiohttp_client(client.server)
    admin = await aiohttp_client(client.server)
    cpf = await register_patient(patient, 801, name="Paula Auditada Reis")
    other_cpf = await register_patient(anonymous, 802, name="Olga Outra Lima")
    anonymous.session.cookie_jar.clear()
    await approved_professional(pro)
    await make_admin(admin)
    store = client.app[STORE]
    paula = store.patient_by_cpf(cpf)
    assert paula is not None
    assert entries(client) == []  # registering, waiting: nobody saw anything yet

    taken = await post_form(pro, "/profissional", "/profissional/atender", {})
    assert taken.url.path == "/profissional/consulta"
    assert "Paula Auditada Reis" in await taken.text()  # the call page names the patient
    await pro.get("/profissional/consulta")  # a reload is another look
    pro_email = "ana@example.org"
    assert entries(client) == [
        ("professional", "take", paula.id, pro_email),
        ("professional", "call_page", paula.id, pro_email),
        ("professional", "call_page", paula.id, pro_email),
    ]

    ticket = store.current_call(store.staff_by_email(pro_email).id)  # type: ignore[union-attr]
    assert ticket is not None and ticket.patient_id == paula.id
    for path in (f"/admin/atendimentos/{ticket.id}", f"/admin/atendimentos/{ticket.id}.json",
                 f"/admin/atendimentos/{ticket.id}.csv", "/admin/atendimentos/registros.csv",
                 "/admin/atendimentos", "/admin/atendimentos.csv"):  # fmt: skip
        assert (await admin.get(path)).status == 200, path
    olga = store.patient_by_cpf(other_cpf)
    assert olga is not None
    admin_email = "gestao@example.org"
    assert entries(client)[3:] == [
        ("admin", "visit_record", paula.id, admin_email),
        ("admin", "visit_export", paula.id, admin_email),
        ("admin", "visit_export", paula.id, admin_email),
        ("admin", "visits_export", paula.id, admin_email),  # one entry per patient in the file
        ("admin", "visits_export", olga.id, admin_email),
    ]  # the visits page and its summary CSV show first names only: not logged

    page = await (await admin.get("/admin/auditoria")).text()
    assert len(shown(page)) == 8 and "Ana Souza" in page
    taking = await (await admin.get("/admin/auditoria?acao=take")).text()
    assert shown(taking) == [("take", str(paula.id))]
    about_olga = await (await admin.get(f"/admin/auditoria?paciente={olga.id}")).text()
    assert shown(about_olga) == [("visits_export", str(olga.id))]
    by_pro = await admin.get(f"/admin/auditoria?profissional={ticket.professional_id}")
    assert {action for action, _ in shown(await by_pro.text())} == {"take", "call_page"}
    assert (
        shown(await (await admin.get("/admin/auditoria?de=2020-01-01&ate=2020-01-02")).text()) == []
    )
    assert (await admin.get("/admin/auditoria?de=x")).status == 400

    # Only admins read it.
    assert (await pro.get("/admin/auditoria")).status == 403
    for who in (patient, anonymous):
        resp = await who.get("/admin/auditoria", allow_redirects=False)
        assert resp.headers["Location"] == "/profissional/entrar"

    # The application's own logs name nobody.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged
    for personal in (cpf, other_cpf, "Paula", "Auditada", "Olga"):
        assert personal not in logged
