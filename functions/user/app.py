"""User service routes. The logic lives in chalicelib; each route states who may call it."""

from __future__ import annotations

from chalice.app import Chalice, CloudWatchEvent, Rate, Response

from chalicelib import users
from chalicelib.access_tokens import access_token_body
from chalicelib.deps import client_limit, login_throttle, runtime
from chalicelib.models import OutboxEvent
from chalicelib.schemas import (
    AdminCreateUserBody,
    KeySet,
    LoginBody,
    RegisterBody,
    TokenOut,
    UserOut,
    user_view,
)
from shop_common.api_spec import Access, Answer, Header, health_operation, operation
from shop_common.callers import Callers
from shop_common.db import transaction
from shop_common.docs import install_api_docs
from shop_common.errors import unauthorized
from shop_common.health import health_response
from shop_common.openapi import ApiInfo
from shop_common.outbox_relay import relay_unpublished
from shop_common.tokens import USER_TOKEN_KID, public_jwk
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
callers = Callers(app, runtime, services=frozenset({"product", "order", "communication"}))
install_api_docs(app, ApiInfo(
    title="Serverless Shop: user service", version="1.0.0",
    description="Sign-up and sign-in: registration creates endusers, login issues the user "
                "token every service accepts (`Authorization: Bearer …`), superadmins "
                "create accounts of any role. Errors are `application/problem+json` "
                "(RFC 9457).",
))


@app.route("/users/register", methods=["POST"])
@operation("Register an enduser", Access.PUBLIC, Answer(201, "the new user", UserOut),
           body=RegisterBody, problems={409: "`email-taken`: an account with this email exists"})
def register() -> Response:
    users.check_client_limit(client_limit(), source_ip(request_of(app)))  # before any hashing
    body = parse_body(body_of(app), RegisterBody)
    user = users.sign_up(runtime(), users.NewUser(body.email, body.password, body.name,
                                                  role="enduser"))
    return json_response(user_view(user), 201)


@app.route("/users/login", methods=["POST"])
@operation("Sign in: a user token", Access.PUBLIC, Answer(200, "the token", TokenOut),
           body=LoginBody, problems={
               401: "wrong email or password",
               429: "`throttled`: too many failed logins for this email (Retry-After)"})
def login() -> Response:
    client = source_ip(request_of(app))
    users.check_client_limit(client_limit(), client)  # before any hashing
    body = parse_body(body_of(app), LoginBody)
    rt = runtime()
    with transaction(rt.sessions) as session:
        user = users.authenticate(session, login_throttle(), body.email, body.password, client)
        user_id, role = str(user.id), user.role
    return json_response(access_token_body(rt.keys, rt.settings, user_id, role))


@app.route("/users/me", methods=["GET"])
@operation("The signed-in user", Access.USER, Answer(200, "the caller's account", UserOut),
           problems={401: "the account no longer exists"})
def me() -> Response:
    rt = runtime()
    claims = callers.user()
    with transaction(rt.sessions) as session:
        user = users.find_by_id(session, claims.user_id)
        if user is None:
            # A valid token for an account that no longer exists is not a 404 of /me.
            raise unauthorized("the account no longer exists")
        return json_response(user_view(user))


@app.route("/admin/users", methods=["POST"])
@operation("Create a user of any role", Access.SUPERADMIN, Answer(201, "the new user", UserOut),
           body=AdminCreateUserBody,
           problems={409: "`email-taken`: an account with this email exists"})
def admin_create_user() -> Response:
    callers.superadmin()
    body = parse_body(body_of(app), AdminCreateUserBody)
    user = users.sign_up(runtime(), users.NewUser(body.email, body.password, body.name,
                                                  body.role))
    return json_response(user_view(user), 201)


@app.route("/internal/users/{user_id}", methods=["GET"])
@operation("A user, for the other services", Access.SERVICE, Answer(200, "the user", UserOut),
           problems={404: "no such user"})
def internal_get_user(user_id: str) -> Response:
    rt = runtime()
    callers.service()
    with transaction(rt.sessions) as session:
        return json_response(user_view(users.get_user(session, user_id)))


@app.route("/.well-known/jwks.json", methods=["GET"])
@operation("The public keys that verify user tokens (JWKS, RFC 7517)", Access.PUBLIC,
           Answer(200, "the key set", KeySet,
                  headers=(Header("Cache-Control", "cacheable for five minutes"),)),
           uses_storage=False, tag="users")
def jwks() -> Response:
    key = runtime().keys.user_token_public
    response = json_response({"keys": [public_jwk(key, USER_TOKEN_KID)]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@app.route("/health", methods=["GET"])
@health_operation()
def health() -> Response:
    return health_response(runtime())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def relay_outbox(event: CloudWatchEvent) -> None:
    """Publish `user.signed_up` events the request could not (broker down, crash)."""
    relay_unpublished(runtime(), OutboxEvent)
