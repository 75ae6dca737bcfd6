"""The REST and socket.io channels, guarded so that a patient is never left without an answer.

Registered in credentials.yml under their module path; they keep the standard names, so the
webhook stays at /webhooks/rest/webhook and socket.io clients use the standard events.

The guard, around Rasa's message handling on both channels:
- cleans the text (control characters) and cuts an oversized message, saying so; the part cut off
  still reaches the safety triage (metadata `triage_tail`), so a red flag late in a long message is caught;
- answers an empty message with the "please rephrase" reply;
- when the bot produced no reply (action server down) or takes longer than the reply timeout
  (action server slow), sends the "cannot answer right now" reply with the safety message and
  the clinic contact. A slow turn keeps running in the background, so nothing is lost from the
  conversation.

Before the guard, rate limits (a token bucket per sender id and per client address, in memory, so per
server) refuse a flood from one client with the "rate limited" notice (HTTP 429 on REST); a refused message
never reaches the model, so one client cannot starve the others.
"""

import asyncio
import inspect
import json
import logging
import math
import os
import re
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels import channel, rest, socketio
from sanic import response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from socketio import AsyncRedisManager

from bot.core.answers import Reply, default_builder
from bot.core.settings import get_settings
from bot.triage import TRIAGE_TAIL

logger = logging.getLogger(__name__)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Messages that expect no reply: widget feedback and conversation restarts.
SILENT_SHORTCUTS = ("/feedback", "/restart", "/session_start")
SOCKET_MAX_BYTES = 8 * 1024 * 1024
# socket.io packet types that carry binary attachments (BINARY_EVENT, BINARY_ACK): the channel never uses them.
BINARY_PACKET_TYPES = ("5", "6")
REPLY_TIMEOUT_SECONDS = float(os.environ.get("IVIG_REPLY_TIMEOUT", "10"))
SenderCallback = Callable[[channel.UserMessage], Awaitable[Any]]
# The Redis pub/sub channel the servers share socket.io events on (IVIG_SOCKETIO_REDIS_URL).
SOCKETIO_REDIS_CHANNEL = "ivig-socketio"


class TokenBucketLimiter:
    """One token bucket per key: `burst` messages at once, then one more every `interval_seconds`.

    In memory, so each server counts on its own. At `max_keys` buckets, those that have filled up again (they hold
    nothing worth keeping) are forgotten, and the least recently used beyond half of `max_keys`, so a client
    inventing sender ids cannot fill the memory (the address limit still holds it back).
    """

    def __init__(self, burst: int, interval_seconds: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000):
        self.burst, self.interval_seconds, self.clock, self.max_keys = burst, interval_seconds, clock, max_keys
        self._buckets: Dict[Text, Tuple[float, float]] = {}  # key: (tokens, when they were counted)

    def _tokens(self, key: Text, now: float) -> float:
        tokens, counted_at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - counted_at) / self.interval_seconds)

    def allow(self, key: Text) -> bool:
        if self.burst <= 0:  # this limit is off
            return True
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens < 1:
            return False
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            in_use = [(k, v) for k, v in self._buckets.items() if self._tokens(k, now) < self.burst]
            self._buckets = dict(in_use[-(self.max_keys // 2) :])
        self._buckets.pop(key, None)  # re-inserted last: the dict stays in order of last use
        self._buckets[key] = (tokens - 1, now)
        return True


class RateLimits:
    """The per-sender and per-address limits of one channel, from the settings."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        settings = get_settings()
        self.per_sender = TokenBucketLimiter(settings.rate_sender_burst, settings.rate_sender_interval_seconds, clock)
        self.per_address = TokenBucketLimiter(settings.rate_address_burst, settings.rate_address_interval_seconds, clock)

    def allow(self, sender: Optional[Text], address: Optional[Text]) -> bool:
        # The sender's bucket first: a flooding sender then spends none of its clinic's shared address tokens.
        if sender is not None and not self.per_sender.allow(sender):
            return False
        return address is None or self.per_address.allow(address)


def client_address(request: Request) -> Text:
    """The client's address: from the proxy's headers when Sanic is told to trust them (SANIC_PROXIES_COUNT,
    SANIC_REAL_IP_HEADER or SANIC_FORWARDED_SECRET), otherwise the connection's."""
    return request.remote_addr or request.ip


def rate_limited_notice() -> Text:
    return default_builder().notice("rate_limited")


def clean(text: Any) -> str:
    return CONTROL_CHARACTERS.sub("", text if isinstance(text, str) else "")


def as_message(reply: Reply) -> Dict[Text, Any]:
    return {"text": reply.text, "buttons": reply.buttons, "custom": reply.payload}


class _CountingOutput:
    """Counts what the bot sends on the wrapped output channel."""

    def __init__(self, output: channel.OutputChannel):
        self.sent = 0
        send = output.send_response

        async def counting_send(recipient_id: Text, message: Dict[Text, Any]) -> None:
            self.sent += 1
            await send(recipient_id, message)

        output.send_response = counting_send


def guarded(on_new_message: SenderCallback) -> SenderCallback:
    async def handle(message: channel.UserMessage) -> None:
        output, recipient = message.output_channel, message.sender_id
        text = clean(message.text).strip()
        limit = get_settings().max_message_chars
        # The triage reads the whole message: what the cut removes travels beside it (never from the client).
        metadata = dict(message.metadata) if isinstance(message.metadata, dict) else {}
        metadata.pop(TRIAGE_TAIL, None)
        if len(text) > limit:
            metadata[TRIAGE_TAIL] = text[limit:]
            text = text[:limit]
            notice = default_builder().notice("message_too_long", max_chars=limit)
            await output.send_response(recipient, {"text": notice})
        if not text:
            await output.send_response(recipient, as_message(default_builder().answer("fallback")))
            return
        message.text = text
        message.metadata = metadata
        counter = _CountingOutput(output)
        turn = asyncio.ensure_future(on_new_message(message))
        try:
            await asyncio.wait_for(asyncio.shield(turn), REPLY_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            logger.warning("reply took longer than %.0f s; sent the unavailable notice", REPLY_TIMEOUT_SECONDS)
        except asyncio.CancelledError:
            # The client left (Sanic cancels the request). The shielded turn still completes and is stored;
            # not re-raised, because Rasa's REST channel would log the patient's text at ERROR level.
            logger.info("the client left before the reply was sent")
            return
        except Exception:
            logger.exception("handling a message failed")
        if counter.sent == 0 and not text.startswith(SILENT_SHORTCUTS):
            await output.send_response(recipient, as_message(default_builder().service_unavailable()))

    return handle


class RestInput(rest.RestInput):
    """The REST channel; refuses requests without a usable sender id or message with a 400."""

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        body = req.json
        sender = body.get("sender") if isinstance(body, dict) else None
        if not isinstance(sender, str) or not sender.strip() or len(sender) > 128:
            raise InvalidUsage("'sender' must be a non-empty string of at most 128 characters")
        if not isinstance(body.get("message"), str):
            raise InvalidUsage("'message' must be a string")
        if not isinstance(body.get("metadata") or {}, dict):
            raise InvalidUsage("'metadata' must be an object")
        return sender

    def blueprint(self, on_new_message: SenderCallback):
        blueprint = super().blueprint(guarded(on_new_message))
        rate_limits = RateLimits()

        @blueprint.middleware("request")
        async def refuse_floods(request: Request) -> Optional[Any]:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            try:
                body = request.json
            except InvalidUsage:
                body = None  # the webhook itself answers a malformed body with a 400
            sender = body.get("sender") if isinstance(body, dict) else None
            sender = sender if isinstance(sender, str) else None
            if rate_limits.allow(sender, client_address(request)):
                return None
            logger.info("rate limit: refused a REST message")
            return response.json(
                [{"recipient_id": sender, "text": rate_limited_notice()}],
                status=429,
                headers={"Retry-After": str(math.ceil(get_settings().rate_sender_interval_seconds))},
            )

        return blueprint


def _custom_payload_as_data(on_new_message: SenderCallback) -> SenderCallback:
    """Rasa 3.6's socket.io output passes a custom payload's keys to `emit` as arguments, which fails
    (and the failure drops the turn from the tracker store); emit it as `{"custom": payload}` instead,
    the shape of the REST channel's reply."""

    async def handle(message: channel.UserMessage) -> None:
        output = message.output_channel
        if isinstance(output, socketio.SocketIOOutput):

            async def send_custom_json(recipient_id: Text, json_message: Dict[Text, Any], **_: Any) -> None:
                await output.sio.emit(output.bot_message_evt, {"custom": json_message}, room=recipient_id)

            output.send_custom_json = send_custom_json
        await on_new_message(message)

    return handle


class SocketIOInput(socketio.SocketIOInput):
    """The socket.io channel with the standard events, guarded like the REST channel.

    Works with python-socketio 5.8 and with the fixed versions (5.16.2 and later, constraints.txt), where
    `AsyncServer.enter_room` is a coroutine: Rasa 3.6 calls it without `await` (RasaHQ/rasa#13027), so with
    session persistence the socket never joined its session's room and no reply ever reached the patient.
    `session_request` is handled here instead, awaiting it.
    """

    def blueprint(self, on_new_message: SenderCallback):
        blueprint = super().blueprint(_custom_payload_as_data(guarded(on_new_message)))
        self._share_events_through_redis()
        namespace = self.namespace or "/"
        rasa_handler = self.sio.handlers[namespace][self.user_message_evt]

        async def session_request(sid: Text, data: Any = None) -> None:
            # Rasa's handler, with `enter_room` awaited, and a request that is not an object taken as empty.
            data = dict(data) if isinstance(data, dict) else {}
            if data.get("session_id") is None:
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = self.sio.enter_room(sid, data["session_id"], namespace=namespace)
                if inspect.isawaitable(joined):
                    await joined
            await self.sio.emit("session_confirm", data["session_id"], room=sid, namespace=namespace)

        self.sio.on("session_request", session_request, namespace=namespace)

        # The channel's events are JSON; binary attachments are never expected. python-socketio keeps a packet's
        # attachments in memory until as many as it declares have arrived (the denial of service fixed in 5.16.2
        # limited that to connected clients, docs/security.md); refuse them and close the connection instead.
        handle_eio_message = self.sio._handle_eio_message

        async def refuse_binary(eio_sid: Text, data: Any) -> None:
            if isinstance(data, (bytes, bytearray)) or (isinstance(data, str) and data[:1] in BINARY_PACKET_TYPES):
                logger.warning("refused a binary socket.io packet and closed the connection")
                await self.sio.eio.disconnect(eio_sid)
                return
            await handle_eio_message(eio_sid, data)

        self.sio.eio.on("message", refuse_binary)

        rate_limits = RateLimits()

        async def handle_message(sid: Text, data: Any = None) -> None:
            # Rasa ignores (or fails on) a message without a session id or that is not an object, leaving
            # the patient in silence; answer it on the client's own socket instead.
            data = dict(data) if isinstance(data, dict) else {"message": data}
            if not isinstance(data.get("message"), str):
                data["message"] = ""
            if self.session_persistence and not (isinstance(data.get("session_id"), str) and data["session_id"]):
                data["session_id"] = sid
            sender = data["session_id"] if self.session_persistence else sid
            request = (self.sio.get_environ(sid, namespace=namespace) or {}).get("sanic.request")
            if not rate_limits.allow(sender, client_address(request) if request is not None else None):
                logger.info("rate limit: refused a socket.io message")
                await self.sio.emit(self.bot_message_evt, {"text": rate_limited_notice()}, room=sid, namespace=namespace)
                return
            metadata = data.get(self.metadata_key)
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = None
            data[self.metadata_key] = metadata if isinstance(metadata, dict) else {}
            await rasa_handler(sid, data)

        self.sio.on(self.user_message_evt, handle_message, namespace=namespace)
        # A longer packet (engine.io, or Sanic's websocket frame: 1 MB by default) closes the connection
        # without a word; up to this size the guard cuts the message and says so, as on the REST channel.
        self.sio.eio.max_http_buffer_size = SOCKET_MAX_BYTES

        @blueprint.listener("main_process_start")
        async def allow_large_websocket_frames(app: Any, _: Any) -> None:
            app.config.WEBSOCKET_MAX_SIZE = max(app.config.WEBSOCKET_MAX_SIZE, SOCKET_MAX_BYTES)

        return blueprint

    def _share_events_through_redis(self) -> None:
        """With IVIG_SOCKETIO_REDIS_URL, every emit goes through Redis to all servers, so a reply reaches the
        session's sockets wherever they are connected (several servers, docs/deployment.md).

        Rasa builds its `AsyncServer` with the in-memory manager; python-socketio only initialises the manager
        at the first connection, so it can be replaced until then.
        """
        redis_url = get_settings().socketio_redis_url
        if not redis_url:
            return
        manager = AsyncRedisManager(redis_url, channel=SOCKETIO_REDIS_CHANNEL)
        manager.set_server(self.sio)
        self.sio.manager = manager
