"""The preview page's /control endpoint takes changes from the page itself only: another site's page open in the
user's browser cannot change the style or the mix of a live run (no browser needed: plain HTTP on 127.0.0.1)."""

import json
import urllib.error
import urllib.request

import pytest

from vidtoon.live.pipeline import LiveControl
from vidtoon.live.preview import PreviewServer
from vidtoon.live.report import LiveStats


@pytest.fixture()
def server():
    control = LiveControl(styles=["toon", "sketch"])
    preview = PreviewServer("127.0.0.1", 0, control=control, stats=LiveStats()).start()
    yield preview, control
    preview.close()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url + "control", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_page_itself_may_change_the_run(server):
    preview, control = server
    host = preview.url.split("//", 1)[1].rstrip("/")
    status, reply = post(
        preview.url, b'{"mix": 0.25, "style": "sketch"}', {"Content-Type": "application/json", "Origin": f"http://{host}"}
    )
    assert status == 200 and reply == {"mix": 0.25, "style": "sketch"} and control.mix == 0.25


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (
            b'{"mix": 0}',
            {"Content-Type": "application/json", "Origin": "http://evil.example"},
            403,
            "http://evil.example may not",
        ),
        (b'{"mix": 0}', {"Content-Type": "text/plain"}, 403, "application/json"),  # a form or a no-cors fetch
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "must be a JSON object"),
        (b'{"mix": 3}', {"Content-Type": "application/json"}, 400, "mix must be in [0, 1]"),
    ],
)
def test_other_sites_and_bad_bodies_change_nothing(server, body, headers, status, message):
    preview, control = server
    got, reply = post(preview.url, body, headers)
    assert got == status and message in reply["error"], reply
    assert control.mix == 1.0 and control.style is None
