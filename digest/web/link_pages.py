"""A dead link's "send me a new link": POST /link mails what the address needs, then /link/sent
says the same for every address."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.sending.notice_mail import Notice
from digest.web.signup_pages import confirm_url, manage_notice
from digest.web.state import client_ip, web_of
from papercore.db.engine import transaction
from papercore.errors import InputError
from subscribers import signup
from subscribers.link_request import new_link_for
from subscribers.model import normalise_email
from subscribers.tokens import BadToken

SENT_TEXT = (
    "If this address is on our list, we have mailed it a link: to confirm your subscription "
    "if you have not confirmed it yet, or to manage it if you have. "
    "Nothing arrived? Look in your spam folder; if you are not subscribed, sign up again."
)


async def request_link(request: Request) -> Response:
    """POST /link: mail the address the link it needs (a preferences link if it subscribes, a
    fresh confirmation link if it is still to confirm, nothing otherwise), then 303 to a page
    that says the same for every address."""
    web = web_of(request)
    now = web.clock()
    form = await request.form(max_files=0, max_fields=10)
    token = form.get("form_token")
    try:
        web.signer.read(token if isinstance(token, str) else "", "link-form", now=now)
    except BadToken:
        return web.message("Please try again", "This page expired.", 403, new_link=True)
    raw = form.get("email")
    try:
        email = normalise_email(raw[:320] if isinstance(raw, str) else "")
    except InputError:
        return web.message(
            "Please check the address", "That is not an email address.", 422, new_link=True
        )
    stamp = now.timestamp()
    allowed = await run_in_threadpool(web.per_ip.allow, client_ip(request), stamp)
    if not allowed or not await run_in_threadpool(web.per_address.allow, email, stamp):
        return web.message("Too many requests", "Please try again later.", 429)

    def record() -> None:
        with transaction(web.engine) as connection:
            wanted = new_link_for(connection, email)
            person = wanted.person
            if person is not None and wanted.manage:
                web.queue(connection, manage_notice(web, person))
            elif person is not None and wanted.submission is not None:
                submission = wanted.submission
                link = confirm_url(web, person, nonce=submission.nonce)
                returning = signup.returning_text(submission.returning)
                web.queue(
                    connection,
                    Notice("confirm", email, {"confirm": link}, {"returning": returning}),
                )

    await run_in_threadpool(record)
    return web.send_after(RedirectResponse("/link/sent", 303))  # the same work for every case


async def link_sent(request: Request) -> Response:
    return web_of(request).message("Check your inbox", SENT_TEXT, link="/", link_text="Sign up")


routes = [
    Route("/link", request_link, methods=["POST"]),
    Route("/link/sent", link_sent, methods=["GET"]),
]
