"""`FakeUpstream`: a real OpenAI-compatible HTTP server on 127.0.0.1, for tests.

It runs uvicorn in a background thread with its own event loop. Every request is recorded (in
`requests`) before it is answered; `script(path, faults)` queues scripted outcomes per path.

Order of checks per request: record -> scripted fault (a replacing fault answers here, even without
a valid key) -> bearer key (401 `invalid_api_key`) -> body parsing (400) -> `model` known (404
`model_not_found`) -> the endpoint's deterministic answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import chat, media, responses_api
from .delivery import Delivery, Reply, error_reply, fault_reply, json_reply, silence_intentional_aborts
from .faults import NORMAL, Fault, normalize_path
from .state import RecordedRequest, UpstreamState, parse_multipart
from .text import CREATED, DEFAULT_REPLY, Call

DEFAULT_MODELS = (
    "gpt-test",
    "embed-test",
    "image-test",
    "tts-test",
    "whisper-test",
    "rerank-test",
    "moderation-test",
)
MODEL_OWNER = "fake-upstream"
Handler = Callable[[Call], Reply]
ReplyText = str | Callable[[dict[str, Any]], str]

# path -> (handler, body kind, whether `model` must be present)
_ENDPOINTS: dict[str, tuple[Handler, str, bool]] = {
    "/v1/chat/completions": (chat.chat_completion, "json", True),
    "/v1/completions": (chat.text_completion, "json", True),
    "/v1/embeddings": (media.embeddings, "json", True),
    "/v1/images/generations": (media.image_generation, "json", False),
    "/v1/images/edits": (media.image_upload, "form", False),
    "/v1/images/variations": (media.image_upload, "form", False),
    "/v1/audio/speech": (media.speech, "json", True),
    "/v1/audio/transcriptions": (media.transcription, "form", True),
    "/v1/audio/translations": (media.translation, "form", True),
    "/v1/moderations": (media.moderation, "json", False),
    "/v1/rerank": (media.rerank, "json", True),
}


class _CountHandlers:
    """Outermost ASGI layer: counts handlers in flight, so tests can check none leaked."""

    def __init__(self, app: Starlette, state: UpstreamState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.state.count("active_handlers")
        try:
            await self.app(scope, receive, send)
        finally:
            self.state.count("active_handlers", -1)


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once by `request_exit()` instead of polling `should_exit` every 0.1 s."""

    _loop: asyncio.AbstractEventLoop | None = None
    _exit: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._exit = asyncio.Event()
        while not await self.on_tick(0):  # tick 0 also refreshes the date header
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), 1.0)

    def request_exit(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._exit is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                self._loop.call_soon_threadsafe(self._exit.set)


class _App:
    """The request pipeline; one per server."""

    def __init__(self, upstream: FakeUpstream) -> None:
        self.up = upstream
        self.state = upstream._state
        endpoints = dict(_ENDPOINTS)
        if upstream.supports_responses:
            endpoints["/v1/responses"] = (responses_api.create_response, "json", True)
        routes = [
            Route("/v1/models", self._endpoint(self._list_models, "none", False), methods=["GET"]),
            Route("/v1/models/{model:path}", self._endpoint(self._get_model, "none", False), methods=["GET"]),
            Route("/v1/fake-files/{name}", self._image_file, methods=["GET"]),
        ]
        routes += [Route(path, self._endpoint(*spec), methods=["POST"]) for path, spec in endpoints.items()]
        any_method = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        routes.append(
            Route("/{path:path}", self._endpoint(self._not_found, "none", False), methods=any_method)
        )
        self.asgi = _CountHandlers(Starlette(routes=routes), self.state)

    def _endpoint(
        self, handler: Handler, kind: str, model_required: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            path = request.url.path
            recorded = RecordedRequest.capture(
                request.method, path, request.headers.items(), raw, request.url.query
            )
            serial = self.state.record(recorded)
            fault = self.state.scripts.pop(path) or NORMAL
            if fault.replaces_answer:
                reply = fault_reply(fault)
            else:
                reply = self._answer(recorded, serial, fault, (handler, kind, model_required))
            return Delivery(reply, fault, self.state, self.up.max_stream_seconds)

        return endpoint

    def _answer(
        self, recorded: RecordedRequest, serial: int, fault: Fault, spec: tuple[Handler, str, bool]
    ) -> Reply:
        handler, kind, model_required = spec
        authorization = recorded.headers.get("authorization", "")
        if self.up.api_key is not None and authorization != f"Bearer {self.up.api_key}":
            return error_reply(401, self._rejection(authorization), code="invalid_api_key")
        parsed = self._parse(recorded, kind)
        if isinstance(parsed, Reply):
            return parsed
        body, files = parsed
        model = body.get("model")
        if model_required and not model:
            return error_reply(400, "you must provide a model parameter")
        if model and model not in self.up.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return error_reply(404, message, code="model_not_found")
        call = Call(
            body=body,
            files=files,
            reply=self.up.reply,
            created=self.up.created,
            base_url=self.up.url,
            serial=serial,
            never_ending=fault.never_ending,
            method=recorded.method,
            path=recorded.path,
        )
        return handler(call)

    @staticmethod
    def _parse(recorded: RecordedRequest, kind: str) -> tuple[dict[str, Any], dict[str, bytes]] | Reply:
        if kind == "none":
            return {}, {}
        if kind == "form":
            content_type = recorded.headers.get("content-type", "")
            if not content_type.startswith("multipart/form-data"):
                return error_reply(400, "Invalid Content-Type header, expected multipart/form-data.")
            fields, files = parse_multipart(content_type, recorded.body)
            return dict(fields), files
        if not isinstance(recorded.json, dict):
            message = "We could not parse the JSON body of your request. The API expects a JSON object."
            return error_reply(400, message)
        return recorded.json, {}

    def _rejection(self, authorization: str) -> str:
        """The 401 message, quoting what was sent as `echo_key` asks."""
        if self.up.echo_key == "whole":
            return f"Incorrect API key provided: {authorization}."
        if self.up.echo_key == "partial":  # OpenAI's form: the first characters and the last four
            key = authorization.removeprefix("Bearer ")
            masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]
            return (
                f"Incorrect API key provided: {masked}. "
                "You can find your API key at https://platform.openai.com/account/api-keys."
            )
        return "Incorrect API key provided."

    def _list_models(self, call: Call) -> Reply:
        return json_reply({"object": "list", "data": [self._model(m) for m in self.up.models]})

    def _get_model(self, call: Call) -> Reply:
        model = call.path.removeprefix("/v1/models/")
        if model not in self.up.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return error_reply(404, message, code="model_not_found")
        return json_reply(self._model(model))

    def _model(self, model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": self.up.created, "owned_by": MODEL_OWNER}

    def _not_found(self, call: Call) -> Reply:
        return error_reply(404, f"Invalid URL ({call.method} {call.path})")

    async def _image_file(self, request: Request) -> Response:
        return Response(media.PNG_1X1, media_type="image/png")


class FakeUpstream:
    """A deterministic OpenAI-compatible upstream on 127.0.0.1 and a free port.

    `models`: accepted model ids (default `DEFAULT_MODELS`); `api_key=None` disables authentication;
    `reply`: the assistant's answer text, or a function of the request body returning it;
    `max_stream_seconds`: upper bound on any single answer (never-ending and slow-loris ones included);
    `echo_key`: a rejected key's 401 quotes the `Authorization` header as sent (`"whole"`), or the
    key as OpenAI does, its first 8 characters and last 4 (`"partial"`). `api_key` may change at any
    time, so a key accepted before is rejected from then on.
    """

    def __init__(
        self,
        api_key: str | None = "sk-up-test",
        models: Sequence[str] | None = None,
        supports_responses: bool = False,
        *,
        reply: ReplyText = DEFAULT_REPLY,
        created: int = CREATED,
        max_stream_seconds: float = 30.0,
        port: int = 0,
        echo_key: Literal["whole", "partial"] | None = None,
    ) -> None:
        self.api_key = api_key
        self.echo_key = echo_key
        self.models: tuple[str, ...] = tuple(models) if models is not None else DEFAULT_MODELS
        self.supports_responses = supports_responses
        self.reply = reply
        self.created = created
        self.max_stream_seconds = max_stream_seconds
        self._requested_port = port
        self._state = UpstreamState()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._failure: BaseException | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> FakeUpstream:
        """Starts serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("FakeUpstream already started")
        silence_intentional_aborts()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Its connections inherit TCP_NODELAY, as real upstreams (nginx, envoy) set it: without
        # it a kept-alive connection's answer waits ~40 ms for the client's delayed ACK between
        # the response's head and its body (Nagle), which measures the fake, not relaygate.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self._requested_port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._state.stopping = False
        config = uvicorn.Config(
            _App(self).asgi,
            log_config=None,
            access_log=False,
            lifespan="off",
            http="httptools",
            ws="none",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._run, name=f"fake-upstream-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._failure is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"FakeUpstream failed to start: {self._failure!r}")
            time.sleep(0.005)
        return self

    def _run(self) -> None:
        assert self._server is not None
        assert self._socket is not None
        try:
            with asyncio.Runner() as runner:
                runner.run(self._server.serve(sockets=[self._socket]))
        except BaseException as error:  # reported by start(); a thread must not die noisily
            self._failure = error

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the server: open streams are aborted, connections closed. Safe to call twice."""
        self._state.stopping = True
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._thread = None
        self._server = None
        self._socket = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- addresses -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, without the `/v1`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The OpenAI-style base URL, `http://127.0.0.1:PORT/v1`."""
        return f"{self.base_url}/v1"

    # --- recording and scripting ---------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        return self._state.snapshot()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Requests to one route, e.g. `requests_to("/chat/completions")`."""
        wanted = normalize_path(path)
        return [r for r in self._state.snapshot() if r.path == wanted]

    @property
    def last_request(self) -> RecordedRequest:
        recorded = self._state.snapshot()
        if not recorded:
            raise LookupError("the fake upstream has received no request")
        return recorded[-1]

    def script(self, path: str, faults: Iterable[Fault]) -> None:
        """Queues outcomes for the next calls to `path` ("/chat/completions" or "/v1/chat/completions")."""
        self._state.scripts.add(path, faults)

    def pending(self, path: str) -> int:
        """Scripted outcomes for `path` not used yet."""
        return self._state.scripts.pending(path)

    def reset(self) -> None:
        """Forgets recorded requests, scripts and disconnect counters."""
        self._state.reset()

    # --- leak checks ----------------------------------------------------------------------------

    @property
    def active_handlers(self) -> int:
        """Requests being handled right now (0 when idle)."""
        return self._state.active_handlers

    @property
    def open_connections(self) -> int:
        """TCP connections currently open to the fake (kept-alive idle ones included)."""
        return len(self._server.server_state.connections) if self._server is not None else 0

    @property
    def client_disconnects(self) -> int:
        """Answers cut short because the client went away (e.g. a router cancelling its upstream call)."""
        return self._state.client_disconnects

    @property
    def aborts(self) -> int:
        """Connections the fake itself aborted (`disconnect_after`, stop, `max_stream_seconds`)."""
        return self._state.aborts

    def wait_idle(self, timeout: float = 5.0, connections: bool = False) -> bool:
        """Waits until no handler runs (and, if asked, no connection is open); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.active_handlers or (connections and self.open_connections):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True
