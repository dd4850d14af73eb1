"""One person, one account: every spelling of an address and of a password reaches it.

Addresses are made canonical once (shop_common.email_address) for sign-up, login,
admin creation and look-ups; passwords are NFKC-normalised before hashing and checking,
and hashes stored before that still verify.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from shop_local.apps import function_dir
from shop_local.stack import provision
from tests.integration.ordering.conftest import scalar, sql
from tests.support.client import DEFAULT_PASSWORD, ShopClient, login, register
from tests.support.stack import ADMIN_URL, ThrowawayStack

pytestmark = pytest.mark.integration

FULLWIDTH_F = "\N{FULLWIDTH LATIN SMALL LETTER F}"


def tag() -> str:
    return uuid.uuid4().hex[:8]


def problem_type(response) -> str:
    assert response.headers["Content-Type"] == "application/problem+json", response.text
    return str(response.json()["type"])


def test_an_address_with_a_punycode_domain_logs_in_as_registered(
    user_service: ShopClient,
) -> None:
    # The issue: registering ann@xn--bcher-kva.example, then logging in with the same
    # string, gave 401 (sign-up stored the Unicode domain, login looked up the ASCII one).
    email = f"ann-{tag()}@xn--bcher-kva.example"
    user = register(user_service, email=email)
    assert user["email"] == email
    assert login(user_service, email)
    assert login(user_service, email.replace("xn--bcher-kva", "bücher"))
    assert login(user_service, email.upper().replace("XN--BCHER-KVA", "BÜCHER"))


def test_full_width_and_ascii_spellings_are_one_account(user_service: ShopClient) -> None:
    # The issue: "ｆw@example.com" (full-width) and "fw@example.com" were two accounts.  # noqa: RUF003
    local = f"w-{tag()}"
    full_width = f"{FULLWIDTH_F}{local}@example.com"
    ascii_form = f"f{local}@example.com"
    user = register(user_service, email=full_width)
    assert user["email"] == ascii_form
    again = user_service.call("POST", "/users/register", json={
        "email": ascii_form, "password": DEFAULT_PASSWORD, "name": "Twin"})
    assert again.status_code == 409 and problem_type(again).endswith("email-taken")
    assert login(user_service, ascii_form)
    assert login(user_service, full_width.upper())


def test_a_password_registered_in_nfc_logs_in_typed_in_nfd(user_service: ShopClient) -> None:
    # The issue: "a password registered in NFC fails in NFD".
    nfc = unicodedata.normalize("NFC", "Crème-brûlée-42")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    user = register(user_service, password=nfc)
    assert login(user_service, user["email"], nfd)
    other = register(user_service, password=nfd)
    assert login(user_service, other["email"], nfc)


def test_a_hash_stored_before_normalisation_still_verifies_and_is_upgraded(
    stack: ThrowawayStack, user_service: ShopClient,
) -> None:
    # An account made before passwords were normalised: its hash is of the NFD string
    # exactly as typed then.
    nfd = unicodedata.normalize("NFD", "Ünïcödé-pässwörd-7")
    email = f"legacy-{tag()}@example.com"
    sql(stack, "user", "INSERT INTO users (id, email, name, role, password_hash, created_at) "
        "VALUES (:id, :email, 'Legacy', 'enduser', :hash, now())",
        id=str(uuid.uuid4()), email=email, hash=PasswordHasher().hash(nfd))
    assert login(user_service, email, nfd)
    stored = scalar(stack, "user", "SELECT password_hash FROM users WHERE email = :e", e=email)
    assert PasswordHasher().verify(stored, unicodedata.normalize("NFKC", nfd))  # rehashed
    assert login(user_service, email, unicodedata.normalize("NFC", nfd))
    assert login(user_service, email, nfd)


def test_admin_creation_and_registration_share_the_canonical_form(
    user_service: ShopClient, superadmin_token: str,
) -> None:
    local = f"boss-{tag()}"
    created = user_service.call("POST", "/admin/users", token=superadmin_token, json={
        "email": f"{local.upper()}@Bücher.Example", "password": DEFAULT_PASSWORD,
        "name": "Boss", "role": "enduser"})
    assert created.status_code == 201, created.text
    assert created.json()["email"] == f"{local}@xn--bcher-kva.example"
    taken = user_service.call("POST", "/users/register", json={
        "email": f"{local}@xn--bcher-kva.example", "password": DEFAULT_PASSWORD, "name": "B"})
    assert taken.status_code == 409


@pytest.fixture
def database_at_0001(stack: ThrowawayStack) -> Iterator[tuple[str, Config]]:
    """A user database migrated to revision 0001 only, as one made before this change."""
    name = f"shoptest_{stack.run_id}_legacy_{tag()}"
    url = f"postgresql+pg8000://{name}:pw-{stack.run_id}@127.0.0.1:5432/{name}"
    database = provision.ServiceDatabase.from_url(url)
    provision.provision_database(ADMIN_URL, database)
    config = Config()
    config.set_main_option("script_location", str(function_dir("user") / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    try:
        command.upgrade(config, "0001")
        yield url, config
    finally:
        provision.drop_database(ADMIN_URL, database)


def test_the_migration_makes_stored_addresses_canonical(
    database_at_0001: tuple[str, Config],
) -> None:
    url, config = database_at_0001
    # Oldest first, as the old sign-up stored them: lower-cased, domain in Unicode.
    stored = ["fw@example.com", "ann@bücher.example", f"{FULLWIDTH_F}w@example.com",
              "plain@example.com"]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for age, email in enumerate(reversed(stored)):
                connection.execute(text(
                    "INSERT INTO users (id, email, name, role, password_hash, created_at) "
                    "VALUES (:id, :email, 'Old', 'enduser', 'x', "
                    "now() - make_interval(days => :age))"),
                    {"id": str(uuid.uuid4()), "email": email, "age": age})
        command.upgrade(config, "head")
        with engine.connect() as connection:
            emails = {row[0] for row in connection.execute(text("SELECT email FROM users"))}
    finally:
        engine.dispose()
    # The full-width twin of an older account is left for a person to merge.
    assert emails == {"ann@xn--bcher-kva.example", "fw@example.com",
                      f"{FULLWIDTH_F}w@example.com", "plain@example.com"}
