"""Accounts: registration, login and lookups, each in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chalicelib.client_limit import ClientRateLimit
from chalicelib.models import OutboxEvent, User
from chalicelib.throttle import LoginThrottle
from shop_common.email_address import canonical_email
from shop_common.errors import Problem, conflict, not_found, too_many_requests, unauthorized
from shop_common.events import USER_SIGNED_UP, signed_up_data
from shop_common.ids import parse_uuid
from shop_common.outbox import record_event
from shop_common.outbox_relay import transaction_publishing
from shop_common.passwords import check_password, hash_password
from shop_common.runtime import ServiceRuntime


@dataclass(frozen=True)
class NewUser:
    email: str
    password: str
    name: str
    role: str


def find_by_email(session: Session, email: str) -> User | None:
    """The account of `email` in any spelling that has the same canonical form."""
    try:
        key = canonical_email(email)
    except ValueError:
        return None  # not an address: no account has it
    return session.scalar(select(User).where(User.email == key))


def find_by_id(session: Session, user_id: str) -> User | None:
    key = parse_uuid(user_id)
    return None if key is None else session.get(User, key)


def get_user(session: Session, user_id: str) -> User:
    user = find_by_id(session, user_id)
    if user is None:
        raise not_found("no such user")
    return user


def create_user(session: Session, new: NewUser) -> User:
    """Insert the user and its `user.signed_up` event in the caller's transaction."""
    user = User(
        id=uuid.uuid4(),
        email=canonical_email(new.email),
        name=new.name,
        role=new.role,
        password_hash=hash_password(new.password),
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        raise conflict("an account with this email exists", slug="email-taken") from None
    record_event(session, OutboxEvent, USER_SIGNED_UP,
                 signed_up_data(user.id, user.email, user.name, user.role))
    return user


def sign_up(runtime: ServiceRuntime, new: NewUser) -> User:
    """Create the account and publish its `user.signed_up` event once it is committed.

    Raises a 409 problem (`email-taken`) when the canonical email has an account. The
    event is published right after the commit, or by the outbox relay if the broker
    cannot take it then.
    """
    with transaction_publishing(runtime, OutboxEvent) as session:
        return create_user(session, new)


def check_client_limit(limit: ClientRateLimit, client: str) -> None:
    """Raise a 429 when `client` has sent too many logins and sign-ups this minute."""
    wait = limit.wait_seconds(client)
    if wait:
        raise too_many_requests(
            "too many sign-in and sign-up requests from your address; try again later", wait)


def authenticate(session: Session, throttle: LoginThrottle, email: str, password: str,
                 client: str) -> User:
    """The account whose password this is, or 401; 429 while failures make it wait.

    `email` is canonical (the request body's validator made it so); `client` is the
    caller's address.
    """
    wait = throttle.claim_attempt(email, client)
    if wait:
        raise too_many_requests("too many failed logins; try again later", wait)
    try:
        user = find_by_email(session, email)
        check = check_password(user.password_hash if user else None, password)
    except BaseException:
        # Not a wrong password (the database is down, say): the attempt does not count.
        throttle.release(email, client)
        raise
    if not check.valid or user is None:
        raise wrong_credentials()  # the claimed attempt stays counted as a failure
    throttle.succeeded(email, client)
    if check.rehash:
        user.password_hash = hash_password(password)
    return user


def wrong_credentials() -> Problem:
    return unauthorized("wrong email or password")
