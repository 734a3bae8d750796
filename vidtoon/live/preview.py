"""The preview page of `vidtoon live --preview`: the input and the restyled picture side by side, live.

A small HTTP server (the standard library's, one thread per client) on 127.0.0.1 by default:

    /                 the page (preview.html): both pictures, fps / latency / dropped frames, a mix slider, a style picker
    /input.mjpg       the input as an MJPEG stream;  /output.mjpg  the restyled picture
    /input.jpg        the newest input picture;      /output.jpg   the newest restyled picture
    /stats            JSON: the run's numbers, the mix, the style and the styles offered
    /control          POST JSON {"mix": 0..1} or {"style": NAME}: takes effect from the next frame; only with
                      Content-Type application/json and, from a browser, from this page's own origin (another
                      site's page open in the same browser cannot change the run)

Pictures are JPEG-encoded by the serving thread, only while someone watches.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

import cv2
import numpy as np

from vidtoon.errors import UsageError, VidtoonError
from vidtoon.live.pipeline import LiveControl
from vidtoon.live.report import LiveStats

log = logging.getLogger(__name__)

_BOUNDARY = "vidtoonframe"


class PreviewServer:
    """Serves the preview page for one live run; `publish()` hands it the newest pictures.

    Args:
        host, port: where to listen (port 0: any free port; `url` says which).
        control: what the page's slider and picker change.
        stats: the run's numbers, shown on the page.

    Raises:
        UsageError: the port is in use or the address cannot be bound.
    """

    def __init__(self, host: str, port: int, *, control: LiveControl, stats: LiveStats):
        self.control = control
        self.stats = stats
        self._pictures: dict[str, np.ndarray] = {}
        self._count = 0
        self._changed = threading.Condition()
        self._closed = False
        handler = type("Handler", (_Handler,), {"preview": self})
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            what = "is in use" if exc.errno in (98, 48) else f"cannot be used ({exc.strerror})"
            raise UsageError(
                f"preview port {port} on {host} {what}", hint="pick another --port, or --port 0 for any free one"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="vidtoon-preview", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> PreviewServer:
        self._thread.start()
        return self

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def publish(self, input_rgb: np.ndarray, output_rgb: np.ndarray) -> None:
        """The newest pair of pictures (H×W×3 uint8 RGB); cheap: nothing is encoded here."""
        with self._changed:
            self._pictures = {"input": input_rgb, "output": output_rgb}
            self._count += 1
            self._changed.notify_all()

    def picture(self, name: str, after: int, timeout: float = 5.0) -> tuple[int, np.ndarray | None]:
        """(count, picture) once a picture newer than number `after` is there (or the newest after `timeout`)."""
        with self._changed:
            self._changed.wait_for(lambda: self._count > after or self._closed, timeout)
            return self._count, self._pictures.get(name)


def jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else b""


class _Handler(BaseHTTPRequestHandler):
    preview: PreviewServer
    server_version = "vidtoon-live"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("preview: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            page = resources.files("vidtoon.live").joinpath("preview.html").read_bytes()
            self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
        elif path == "/stats":
            control = self.preview.control
            body = {**self.preview.stats.snapshot(), "mix": control.mix, "style": control.style, "styles": control.styles}
            self._send(HTTPStatus.OK, json.dumps(body).encode(), "application/json")
        elif path in ("/input.jpg", "/output.jpg"):
            _, picture = self.preview.picture(path[1:-4], after=0, timeout=5.0)
            if picture is None:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"no picture yet", "text/plain")
            else:
                self._send(HTTPStatus.OK, jpeg(picture), "image/jpeg")
        elif path in ("/input.mjpg", "/output.mjpg"):
            self._stream(path[1:-5])
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        if self.path.split("?", 1)[0] != "/control":
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        refusal = self._cross_site()
        if refusal:
            self._send(HTTPStatus.FORBIDDEN, json.dumps({"error": refusal}).encode(), "application/json")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(min(length, 10_000)) or b"{}")
            if not isinstance(body, dict):
                raise ValueError('the body must be a JSON object, e.g. {"mix": 0.5}')
            mix = body.get("mix")
            self.preview.control.set(mix=float(mix) if mix is not None else None, style=body.get("style"))
        except (ValueError, TypeError, AttributeError, VidtoonError) as exc:
            message = exc.message if isinstance(exc, VidtoonError) else f"bad request: {exc}"
            self._send(HTTPStatus.BAD_REQUEST, json.dumps({"error": message}).encode(), "application/json")
            return
        control = self.preview.control
        self._send(HTTPStatus.OK, json.dumps({"mix": control.mix, "style": control.style}).encode(), "application/json")

    def _cross_site(self) -> str | None:
        """Why a POST may not change the run, or None. Another site's page in the user's browser may not: a browser
        names the page's origin in `Origin`, which must be this server's own address; and the body must be declared
        JSON, a type no other site can send without the preflight this server never grants."""
        origin = self.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != self.headers.get("Host", ""):
            return f"a page from {origin} may not control this run"
        if self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower() != "application/json":
            return "send the change as Content-Type: application/json"
        return None

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, name: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={_BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = 0
        try:
            while not self.preview._closed:
                seen, picture = self.preview.picture(name, after=seen, timeout=1.0)
                if picture is None:
                    continue
                data = jpeg(picture)
                self.wfile.write(
                    f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n"
                )
        except (BrokenPipeError, ConnectionResetError):
            return
