"""Accounts in production: the first administrator, sessions that really end, passwords."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, submit
from webinars.auth import service as accounts
from webinars.extensions import db
from webinars.models import OutboxMessage, User

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def site(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """An app with no context held open: each request gets its own, as in production."""
    yield app_factory()


def create_user(site: Flask, **kwargs: Any) -> tuple[int, str]:
    with site.app_context():
        user = make_user(**kwargs)
        return user.id, user.email


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return submit(client, "/login", {"email": email, "password": password, **extra})


def signed_in(client: FlaskClient) -> bool:
    return client.get("/manage/").status_code == 200


def sign_out(client: FlaskClient) -> None:
    token = csrf_token(client, "/manage/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_production_closes_the_setup_page_and_the_cli_link_opens_it_once(app_factory):
    site = app_factory(SETUP_OPEN=False)
    client = site.test_client()
    assert client.get("/setup").status_code == 404
    login_page = client.get("/login")
    assert login_page.status_code == 200  # no redirect to a set-up page that is closed
    assert "flask --app webinars organizers setup-link" in login_page.get_data(as_text=True)
    assert client.get("/setup/forged-token").status_code == 404

    result: Result = site.test_cli_runner().invoke(args=["organizers", "setup-link"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://webinars\.test(/setup/\S+)", result.output).group(1)
    form = {
        "name": "Ana",
        "email": "ana@example.org",
        "password": "long enough pw",
        "confirm": "long enough pw",
    }
    assert submit(client, link, form).status_code == 302
    assert signed_in(client)

    # Once the administrator exists the link is spent, for anyone who finds it later.
    stranger = site.test_client()
    assert stranger.get(link).headers["Location"].endswith("/login")
    again = site.test_cli_runner().invoke(args=["organizers", "setup-link"])
    assert again.exit_code != 0
    assert "closed" in again.output


def test_sign_out_ends_every_session_and_remember_me_cookie(site):
    _id, email = create_user(site)
    laptop, phone = site.test_client(), site.test_client()
    assert sign_in(laptop, email, remember="y").status_code == 302
    assert sign_in(phone, email).status_code == 302
    old_session = laptop.get_cookie("session").value
    old_remember = laptop.get_cookie("remember_token")
    assert old_remember is not None
    # Thirty days, not a year.
    assert 29 * 86400 < (old_remember.expires.timestamp() - _now()) <= 30 * 86400 + 60

    sign_out(laptop)
    assert not signed_in(phone)

    replay = site.test_client()
    replay.set_cookie("session", old_session)
    assert not signed_in(replay)
    replay_remember = site.test_client()
    replay_remember.set_cookie("remember_token", old_remember.value)
    assert not signed_in(replay_remember)

    # A new sign-in gets a remember-me cookie unlike the ended one.
    assert sign_in(laptop, email, remember="y").status_code == 302
    assert laptop.get_cookie("remember_token").value != old_remember.value
    remembered = site.test_client()
    remembered.set_cookie("remember_token", laptop.get_cookie("remember_token").value)
    assert signed_in(remembered)


def _now() -> float:
    import time

    return time.time()


def test_the_csrf_token_changes_at_sign_in(site):
    _id, email = create_user(site)
    client = site.test_client()
    before = csrf_token(client, "/login")
    assert sign_in(client, email).status_code == 302
    after = csrf_token(client, "/manage/")
    assert before != after
    # The token from before sign-in no longer passes.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert signed_in(client)


def test_changing_the_password_signs_out_other_devices_only(site):
    _id, email = create_user(site)
    here, elsewhere = site.test_client(), site.test_client()
    sign_in(here, email)
    sign_in(elsewhere, email)

    wrong = submit(
        here,
        "/manage/password",
        {"current": "not it at all", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    assert "This is not your current password." in wrong.get_data(as_text=True)

    changed = submit(
        here, "/manage/password", {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert changed.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)
    fresh = site.test_client()
    assert sign_in(fresh, email).status_code == 200  # the old password is refused
    assert sign_in(fresh, email, NEW_PASSWORD).status_code == 302


def test_an_administrator_disabling_an_account_ends_its_sessions(site):
    _admin_id, admin_email = create_user(site, admin=True)
    user_id, email = create_user(site)
    admin, organizer = site.test_client(), site.test_client()
    sign_in(admin, admin_email)
    sign_in(organizer, email)

    page = admin.get("/manage/organizers").get_data(as_text=True)
    assert "Disable" in page
    token = csrf_token(admin, "/manage/organizers")
    assert admin.post(f"/manage/organizers/{user_id}/disable", data={"csrf_token": token}).status_code == 302
    assert not signed_in(organizer)
    assert sign_in(site.test_client(), email).status_code == 200  # refused

    assert admin.post(f"/manage/organizers/{user_id}/enable", data={"csrf_token": token}).status_code == 302
    assert sign_in(site.test_client(), email).status_code == 302


def test_organizers_cannot_disable_accounts(site):
    user_id, _email = create_user(site)
    _other, other_email = create_user(site)
    client = site.test_client()
    sign_in(client, other_email)
    token = csrf_token(client, "/manage/")
    assert client.post(f"/manage/organizers/{user_id}/disable", data={"csrf_token": token}).status_code == 403


def reset_link(site: Flask, email: str) -> str:
    with site.app_context():
        message = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "password_reset", OutboxMessage.recipient == email
            )
        ).all()[-1]
        assert message.body_html
        assert "Choose a new password" in message.body_html
        return re.search(r"http://webinars\.test(/login/reset/\S+)", message.body_text).group(1)


def test_a_forgotten_password_is_reset_by_an_emailed_single_use_link(site):
    _id, email = create_user(site)
    elsewhere = site.test_client()
    sign_in(elsewhere, email)
    client = site.test_client()

    answer = submit(client, "/login/forgot", {"email": email.upper()}, follow_redirects=True)
    unknown = submit(
        site.test_client(), "/login/forgot", {"email": "nobody@example.org"}, follow_redirects=True
    )
    notice = "If an account uses this address, a link to choose a new password is on its way."
    assert notice in answer.get_data(as_text=True)
    assert notice in unknown.get_data(as_text=True)
    with site.app_context():
        assert db.session.scalars(select(OutboxMessage.recipient)).all() == [email]

    link = reset_link(site, email)
    assert submit(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert signed_in(client)
    assert not signed_in(elsewhere)
    # Used once, spent.
    assert site.test_client().get(link).headers["Location"].endswith("/login/forgot")
    assert sign_in(site.test_client(), email, NEW_PASSWORD).status_code == 302


def test_a_reset_link_expires(app_factory):
    site = app_factory(PASSWORD_RESET_MAX_AGE=-1)  # every link is already too old
    _id, email = create_user(site)
    client = site.test_client()
    submit(client, "/login/forgot", {"email": email})
    assert client.get(reset_link(site, email)).headers["Location"].endswith("/login/forgot")


def test_failed_sign_ins_are_limited_per_account_and_per_client(app_factory):
    site = app_factory(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="5 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per hour"
    )
    _id, email = create_user(site)
    _id2, other_email = create_user(site)

    def attempt(address: str, password: str, client_ip: str) -> int:
        client = site.test_client()
        client.environ_base["REMOTE_ADDR"] = client_ip
        return sign_in(client, address, password).status_code

    # Successful sign-ins cost nothing.
    assert [attempt(email, PASSWORD, "10.0.0.1") for _ in range(4)] == [302] * 4
    # Three failures on one account from three clients lock that account only.
    assert [attempt(email, "wrong password", f"10.0.1.{n}") for n in range(3)] == [200] * 3
    assert attempt(email, PASSWORD, "10.0.2.1") == 429
    assert attempt(other_email, PASSWORD, "10.0.2.1") == 302
    # One client failing on many accounts is stopped too.
    outcomes = [attempt(f"guess{n}@example.org", "wrong password", "10.0.3.1") for n in range(6)]
    assert outcomes == [200] * 5 + [429]


def test_user_loader_refuses_malformed_session_ids(app):
    for hostile in ("", "1", "x:1", "1:x", "99999999999999999999:1", "1:1:1"):
        assert User.from_session_id(hostile) is None


def test_a_disabled_account_loses_its_api_tokens_too(site):
    from webinars.auth import tokens
    from webinars.models import TokenScope

    admin_id, _email = create_user(site, admin=True)
    user_id, _email = create_user(site)
    with site.app_context():
        secret = tokens.create_token(db.session.get(User, user_id), "script", TokenScope.READ)[1]
    client = site.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/manage/webinars", headers=headers).status_code == 200
    with site.app_context():
        accounts.set_active(db.session.get(User, admin_id), db.session.get(User, user_id), False)
    assert client.get("/api/v1/manage/webinars", headers=headers).status_code == 401
