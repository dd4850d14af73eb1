"""User service routes. The logic lives in chalicelib; each route states who may call it."""

from __future__ import annotations

from chalice.app import Chalice, CloudWatchEvent, Rate, Response

from chalicelib import users
from chalicelib.deps import client_limit, login_throttle, runtime
from chalicelib.models import OutboxEvent
from chalicelib.schemas import AdminCreateUserBody, LoginBody, RegisterBody, user_view
from shop_common.auth import calling_service, current_superadmin, current_user
from shop_common.db import transaction
from shop_common.errors import unauthorized
from shop_common.health import health_response
from shop_common.outbox_relay import relay_unpublished, transaction_publishing
from shop_common.tokens import USER_TOKEN_KID, issue_user_token, public_jwk
from shop_common.validation import parse_body
from shop_common.web import (
    body_of,
    install_http_middleware,
    json_response,
    request_of,
    source_ip,
)

app = Chalice(app_name="shop-user")
install_http_middleware(app)

INTERNAL_CALLERS = frozenset({"product", "order", "communication"})


@app.route("/users/register", methods=["POST"])
def register() -> Response:
    users.check_client_limit(client_limit(), source_ip(request_of(app)))  # before any hashing
    body = parse_body(body_of(app), RegisterBody)
    with transaction_publishing(runtime(), OutboxEvent) as session:
        user = users.create_user(
            session, users.NewUser(body.email, body.password, body.name, role="enduser")
        )
        view = user_view(user)
    return json_response(view, 201)


@app.route("/users/login", methods=["POST"])
def login() -> Response:
    client = source_ip(request_of(app))
    users.check_client_limit(client_limit(), client)  # before any hashing
    body = parse_body(body_of(app), LoginBody)
    rt = runtime()
    with transaction(rt.sessions) as session:
        user = users.authenticate(session, login_throttle(), body.email, body.password, client)
        user_id, role = str(user.id), user.role
    assert rt.keys.user_token_private is not None
    token = issue_user_token(
        rt.keys.user_token_private, user_id=user_id, role=role,
        issuer=rt.settings.token_issuer, audience=rt.settings.token_audience,
        ttl_seconds=rt.settings.access_token_ttl_seconds,
    )
    return json_response({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": rt.settings.access_token_ttl_seconds,
    })


@app.route("/users/me", methods=["GET"])
def me() -> Response:
    rt = runtime()
    claims = current_user(request_of(app).headers, rt.keys, rt.settings)
    with transaction(rt.sessions) as session:
        user = users.find_by_id(session, claims.user_id)
        if user is None:
            # A valid token for an account that no longer exists is not a 404 of /me.
            raise unauthorized("the account no longer exists")
        return json_response(user_view(user))


@app.route("/admin/users", methods=["POST"])
def admin_create_user() -> Response:
    rt = runtime()
    current_superadmin(request_of(app).headers, rt.keys, rt.settings)
    body = parse_body(body_of(app), AdminCreateUserBody)
    with transaction_publishing(rt, OutboxEvent) as session:
        user = users.create_user(
            session, users.NewUser(body.email, body.password, body.name, body.role)
        )
        view = user_view(user)
    return json_response(view, 201)


@app.route("/internal/users/{user_id}", methods=["GET"])
def internal_get_user(user_id: str) -> Response:
    rt = runtime()
    calling_service(request_of(app).headers, rt.keys, rt.settings, INTERNAL_CALLERS)
    with transaction(rt.sessions) as session:
        return json_response(user_view(users.get_user(session, user_id)))


@app.route("/.well-known/jwks.json", methods=["GET"])
def jwks() -> Response:
    key = runtime().keys.user_token_public
    response = json_response({"keys": [public_jwk(key, USER_TOKEN_KID)]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@app.route("/health", methods=["GET"])
def health() -> Response:
    return health_response(runtime())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def relay_outbox(event: CloudWatchEvent) -> None:
    """Publish `user.signed_up` events the request could not (broker down, crash)."""
    relay_unpublished(runtime(), OutboxEvent)
