"""Serve the widget demo: a clinic patient-portal page that embeds the chat widget with one snippet.

    python -m bot.widget.serve --port 8080 --bot-url http://localhost:5005 [--host 127.0.0.1]

GET /            the demo portal page (bot/widget/demo/index.html) with the bot URL filled into its snippet
GET /widget/...  the widget files (bot/widget/*.js, *.css and the translations *.json), exactly what a clinic
                 would host

The page talks to the bot on another origin, so the bot's CORS allow-list must name this page's origin
(http://<host>:<port>). Standard library only.
"""

import argparse
import html
import sys
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Optional
from urllib.parse import urlsplit

WIDGET_DIR = Path(__file__).resolve().parent
DEMO_PAGE = WIDGET_DIR / "demo" / "index.html"
PLACEHOLDER = "{{BOT_URL}}"
TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json; charset=utf-8"}


class DemoHandler(BaseHTTPRequestHandler):
    server_version = "IVIGWidgetDemo/1.0"

    def __init__(self, *args, bot_url: str, quiet: bool = False, **kwargs):
        self.bot_url = bot_url
        self.quiet = quiet
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            page = DEMO_PAGE.read_text(encoding="utf-8")
            body = page.replace(PLACEHOLDER, html.escape(self.bot_url, quote=True)).encode("utf-8")
            return self._send(HTTPStatus.OK, "text/html; charset=utf-8", body, head)
        if path.startswith("/widget/"):
            name = path[len("/widget/") :]
            target = WIDGET_DIR / name
            # Only the widget's own top-level static files: no sub-paths, no traversal, no Python sources.
            if "/" not in name and "\\" not in name and target.suffix in TYPES and target.is_file():
                return self._send(HTTPStatus.OK, TYPES[target.suffix], target.read_bytes(), head)
        if path == "/favicon.ico":
            return self._send(HTTPStatus.NO_CONTENT, "image/x-icon", b"", head)
        self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"Not found\n", head)

    def _send(self, status: HTTPStatus, ctype: str, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if not head and status != HTTPStatus.NO_CONTENT:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server API)
        if not self.quiet:
            super().log_message(format, *args)


def _bot_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value!r}")
    return value.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.widget.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="port of the demo page (default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--bot-url",
        type=_bot_url,
        default="http://localhost:5005",
        help="URL of the Rasa server the widget talks to (default http://localhost:5005)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser


def make_server(host: str, port: int, bot_url: str, quiet: bool = False) -> ThreadingHTTPServer:
    handler = partial(DemoHandler, bot_url=bot_url, quiet=quiet)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        server = make_server(args.host, args.port, args.bot_url, args.quiet)
    except OSError as exc:
        print(f"Cannot serve the widget demo on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    shown_host = "localhost" if args.host in ("0.0.0.0", "::", "") else args.host
    print(f"Widget demo (clinic portal page): http://{shown_host}:{args.port}/", flush=True)
    print(f"  talking to the bot at {args.bot_url}; its CORS allow-list must include " f"http://{shown_host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
