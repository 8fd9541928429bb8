"""Patients and professionals: validating what people type, and password hashing (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from web.text import _

# Health councils whose members may attend (name shown to the patient, then the acronym).
COUNCILS: dict[str, str] = {
    "CRM": "Conselho Regional de Medicina",
    "COREN": "Conselho Regional de Enfermagem",
    "CRP": "Conselho Regional de Psicologia",
    "CRO": "Conselho Regional de Odontologia",
    "CREFITO": "Conselho Regional de Fisioterapia e Terapia Ocupacional",
    "CRN": "Conselho Regional de Nutricionistas",
    "CRF": "Conselho Regional de Farmácia",
    "CRFa": "Conselho Regional de Fonoaudiologia",
    "CRESS": "Conselho Regional de Serviço Social",
}

UFS: tuple[str, ...] = (
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
)  # fmt: skip

MIN_PASSWORD_LENGTH = 10
MAX_TEXT = 200

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
# Checked when an e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
DUMMY_HASH = _hasher.hash("not a real password: only for timing")

Errors = dict[str, str]


def normalize_cpf(raw: str) -> str:
    """Keep only the digits of a CPF as typed ("123.456.789-09" -> "12345678909")."""
    return re.sub(r"[^0-9]", "", raw) if raw.isascii() else raw


def cpf_is_valid(raw: str) -> bool:
    """Check a CPF's length and both check digits; repeated digits are invalid."""
    cpf = normalize_cpf(raw)
    if len(cpf) != 11 or not cpf.isascii() or not cpf.isdigit() or cpf == cpf[0] * 11:
        return False
    digits = [int(c) for c in cpf]
    for n in (9, 10):
        total = sum(d * w for d, w in zip(digits[:n], range(n + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if digits[n] != check:
            return False
    return True


def format_cpf(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def _parse_date(raw: str) -> date | None:
    """ISO (from <input type=date>) or dd/mm/yyyy, ASCII digits only."""
    raw = raw.strip()
    if not raw.isascii():
        return None
    m = re.fullmatch(r"([0-9]{2})/([0-9]{2})/([0-9]{4})", raw)
    try:
        return date(int(m[3]), int(m[2]), int(m[1])) if m else date.fromisoformat(raw)
    except ValueError:
        return None


def parse_birth_date(raw: str, today: date) -> date | None:
    """A plausible birth date (not in the future, at most 130 years ago), or None."""
    born = _parse_date(raw)
    if born is None or born > today or born.year < today.year - 130:
        return None
    return born


def _is_future(raw: str, today: date) -> bool:
    parsed = _parse_date(raw)
    return parsed is not None and parsed > today


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def normalize_phone(raw: str) -> str:
    """Digits only; a number typed with non-ASCII digits is kept as typed (and then refused)."""
    return re.sub(r"[^0-9]", "", raw) if raw.isascii() else raw


@dataclass(frozen=True)
class PatientForm:
    cpf: str
    full_name: str
    birth_date: date
    phone: str
    email: str


def validate_patient(form: dict[str, str], today: date) -> tuple[PatientForm | None, Errors]:
    """Validate the registration form; errors are keyed by field (texts to translate)."""
    errors: Errors = {}
    cpf = normalize_cpf(form.get("cpf", ""))
    if not cpf:
        errors["cpf"] = _("Informe o seu CPF.")
    elif not cpf_is_valid(cpf):
        errors["cpf"] = _("CPF inválido. Confira os 11 números.")
    name = " ".join(form.get("full_name", "").split())
    if not name:
        errors["full_name"] = _("Informe o seu nome completo.")
    elif len(name.split()) < 2:
        errors["full_name"] = _("Informe o nome completo (nome e sobrenome).")
    elif len(name) > MAX_TEXT:
        errors["full_name"] = _("O nome pode ter no máximo %(max)d caracteres.", max=MAX_TEXT)
    raw_birth = form.get("birth_date", "")
    born = parse_birth_date(raw_birth, today)
    if not raw_birth.strip():
        errors["birth_date"] = _("Informe a sua data de nascimento.")
    elif born is None:
        errors["birth_date"] = (
            _("A data de nascimento não pode estar no futuro.")
            if _is_future(raw_birth, today)
            else _("Data de nascimento inválida.")
        )
    phone = normalize_phone(form.get("phone", ""))
    email = form.get("email", "").strip()
    if phone and not (10 <= len(phone) <= 13 and phone.isascii() and phone.isdigit()):
        errors["phone"] = _("Telefone inválido. Use DDD e número, por exemplo (61) 99999-8888.")
    if email and (not _EMAIL.match(email) or len(email) > MAX_TEXT):
        errors["email"] = _("E-mail inválido.")
    if not phone and not email and "phone" not in errors and "email" not in errors:
        errors["phone"] = _("Informe um telefone ou um e-mail para contato.")
    if errors or born is None:
        return None, errors
    return PatientForm(cpf=cpf, full_name=name, birth_date=born, phone=phone, email=email), errors


@dataclass(frozen=True)
class ProfessionalForm:
    name: str
    email: str
    council: str
    council_number: str
    council_uf: str
    password: str


def validate_professional(form: dict[str, str]) -> tuple[ProfessionalForm | None, Errors]:
    errors: Errors = {}
    name = " ".join(form.get("name", "").split())
    if len(name.split()) < 2:
        errors["name"] = _("Informe o nome completo.")
    elif len(name) > MAX_TEXT:
        errors["name"] = _("O nome pode ter no máximo %(max)d caracteres.", max=MAX_TEXT)
    email = form.get("email", "").strip().lower()
    if not _EMAIL.match(email) or len(email) > MAX_TEXT:
        errors["email"] = _("Informe um e-mail válido.")
    council = form.get("council", "")
    if council not in COUNCILS:
        errors["council"] = _("Escolha o conselho profissional.")
    raw_number = form.get("council_number", "")
    number = re.sub(r"[^0-9]", "", raw_number) if raw_number.isascii() else ""
    if not 1 <= len(number) <= 10:
        errors["council_number"] = _("Informe o número de registro no conselho (apenas números).")
    uf = form.get("council_uf", "").upper()
    if uf not in UFS:
        errors["council_uf"] = _("Escolha a UF do conselho.")
    errors |= new_password_errors(form)
    if errors:
        return None, errors
    return ProfessionalForm(name, email, council, number, uf, form["password"]), errors


def new_password_errors(form: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with a new password (field "password") and its repetition
    ("password_confirm")."""
    password = form.get("password", "")
    if len(password) < MIN_PASSWORD_LENGTH:
        return {
            "password": _(
                "A senha precisa ter pelo menos %(min)d caracteres.", min=MIN_PASSWORD_LENGTH
            )
        }
    if len(password) > 1024:
        return {"password": _("Senha longa demais.")}
    if password != form.get("password_confirm", ""):
        return {"password_confirm": _("As senhas não são iguais.")}
    return {}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def council_label(council: str, number: str, uf: str) -> str:
    """How a professional's registration is shown: "CRM 123456/DF" ("" for none)."""
    return f"{council} {number}/{uf}" if council else ""


def first_name(full_name: str) -> str:
    """What other people see of a patient: the first name only."""
    return full_name.split()[0] if full_name.split() else ""
