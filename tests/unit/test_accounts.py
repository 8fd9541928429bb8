from datetime import date

import pytest

from tests.support import make_cpf
from web import accounts

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize("cpf", ["529.982.247-25", "52998224725", "111.444.777-35"])
def test_valid_cpfs(cpf: str) -> None:
    assert accounts.cpf_is_valid(cpf)


@pytest.mark.parametrize(
    "cpf", ["529.982.247-24", "111.111.111-11", "123", "", "5299822472500", "abc.def.ghi-jk"]
)
def test_invalid_cpfs(cpf: str) -> None:
    assert not accounts.cpf_is_valid(cpf)


def test_make_cpf_helper_makes_valid_cpfs() -> None:
    assert all(accounts.cpf_is_valid(make_cpf(n)) for n in range(1, 200, 7))


def _form(**changes: str) -> dict[str, str]:
    form = {
        "cpf": "529.982.247-25",
        "full_name": "  Maria   da Silva ",
        "birth_date": "1950-04-02",
        "phone": "(61) 99999-8888",
        "email": "",
    }
    form.update(changes)
    return form


def test_patient_form_normalizes() -> None:
    parsed, errors = accounts.validate_patient(_form(), TODAY)
    assert errors == {}
    assert parsed is not None
    assert parsed.cpf == "52998224725"
    assert parsed.full_name == "Maria da Silva"
    assert parsed.birth_date == date(1950, 4, 2)
    assert parsed.phone == "61999998888"


def test_patient_form_errors_name_each_field() -> None:
    parsed, errors = accounts.validate_patient(
        _form(cpf="123.456.789-00", full_name="Maria", birth_date="2030-01-01", phone=""), TODAY
    )
    assert parsed is None
    assert errors["cpf"].startswith("CPF inválido")
    assert "sobrenome" in errors["full_name"]
    assert errors["birth_date"] == "A data de nascimento não pode estar no futuro."
    assert "telefone ou um e-mail" in errors["phone"]


def test_birth_date_formats() -> None:
    assert accounts.parse_birth_date("02/04/1950", TODAY) == date(1950, 4, 2)
    assert accounts.parse_birth_date("31/02/1950", TODAY) is None
    assert accounts.parse_birth_date("1850-01-01", TODAY) is None


def test_age() -> None:
    assert accounts.age_on(date(1946, 12, 4), TODAY) == 79
    assert accounts.age_on(date(1946, 12, 3), TODAY) == 80


def test_professional_form() -> None:
    form = {
        "name": "Ana Souza",
        "email": "Ana@Example.org ",
        "council": "CRM",
        "council_number": "12.345",
        "council_uf": "df",
        "password": "segredo-longo",
        "password_confirm": "segredo-longo",
    }
    parsed, errors = accounts.validate_professional(form)
    assert errors == {}
    assert parsed is not None
    assert (parsed.email, parsed.council_number, parsed.council_uf) == (
        "ana@example.org",
        "12345",
        "DF",
    )
    _, errors = accounts.validate_professional(form | {"password": "curta", "council": "XYZ"})
    assert "10 caracteres" in errors["password"]
    assert "conselho" in errors["council"]


def test_password_hashing_uses_argon2() -> None:
    hashed = accounts.hash_password("uma senha longa")
    assert hashed.startswith("$argon2id$")
    assert accounts.verify_password(hashed, "uma senha longa")
    assert not accounts.verify_password(hashed, "outra senha")
    assert not accounts.verify_password("not a hash", "x")


def test_only_ascii_digits_count() -> None:
    fullwidth = "４２８３０７２７７０３"
    assert not accounts.cpf_is_valid(fullwidth)
    assert not accounts.cpf_is_valid("٤٢٨٣٠٧٢٧٧٠٣")
    assert accounts.cpf_is_valid("42830727703")
    _, errors = accounts.validate_patient(_form(phone="６１９９９９９８８８８"), TODAY)
    assert errors["phone"].startswith("Telefone inválido")
    assert accounts.parse_birth_date("１９５０-04-02", TODAY) is None
    _, errors = accounts.validate_patient(_form(birth_date="31/02/1950"), TODAY)
    assert errors["birth_date"] == "Data de nascimento inválida."
