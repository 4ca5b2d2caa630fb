from django.urls import reverse


def test_login_with_the_right_password_then_lockout_after_repeated_failures(client, org, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    org.agent.user.set_password("correct horse battery")
    org.agent.user.save()
    ok = client.post(reverse("login"), {"username": "agent", "password": "correct horse battery"})
    assert ok.status_code == 302
    client.post(reverse("logout"))
    for _ in range(3):
        bad = client.post(reverse("login"), {"username": "agent", "password": "nope"})
        assert bad.status_code == 401
    locked = client.post(reverse("login"), {"username": "agent",
                                            "password": "correct horse battery"})
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_pages_require_sign_in_and_send_a_strict_csp(client, db):
    response = client.get(reverse("cases:queue"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    login = client.get(reverse("login"))
    assert "script-src 'self'" in login["Content-Security-Policy"]


def test_tokens_page_shows_a_new_secret_once(client, org):
    client.force_login(org.agent.user)
    created = client.post(reverse("tokens"), {"name": "CRM sync"})
    secret = created.context["new_key"]
    assert secret.startswith("so_") and secret in created.content.decode()
    later = client.get(reverse("tokens")).content.decode()
    assert "CRM sync" in later and secret not in later
