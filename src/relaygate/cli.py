"""The `relaygate` command: serve, init, keys, models, migrate."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate import __version__, catalog_sync
from relaygate.crypto import CryptoError, MasterKey, load_master_key
from relaygate.keys import ensure_bootstrap_key, issue_key, key_object
from relaygate.security import key_rotation
from relaygate.settings import SERVERS, Settings, SettingsError
from relaygate.store import migrate, repository
from relaygate.store.database import create_engine


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


async def _prepare_store(settings: Settings, engine: AsyncEngine) -> None:
    if settings.is_sqlite:
        await migrate.upgrade_to_head(engine)
    else:
        try:
            await migrate.ensure_current(engine)
        except migrate.SchemaBehind as exc:
            raise CommandError(str(exc)) from None


def _with_store(
    settings: Settings, work: Callable[[AsyncEngine], Awaitable[Any]], *, announce: bool = False
) -> Any:
    """Run ``work`` against the store; ``announce``: it wrote, tell running servers via Redis."""
    load_master_key(settings.master_key, settings.master_key_file)  # the home is complete from the start

    async def run() -> Any:
        engine = create_engine(settings)
        try:
            await _prepare_store(settings, engine)
            result = await work(engine)
            if announce and settings.redis_url:
                version = await repository.catalog_version(engine)
                await catalog_sync.announce_once(settings.redis_url, settings.redis_prefix, version)
            return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _print_key(args: argparse.Namespace, body: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(body["key"])


async def _workspace_id(engine: AsyncEngine, name: str) -> str:
    workspace = await repository.get_workspace_by_name(engine, name)
    if workspace is None:
        raise CommandError(f"no workspace named {name!r}; create it with `relaygate init --workspace {name}`")
    return workspace.id


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    async def work(engine: AsyncEngine) -> dict[str, Any]:
        try:
            workspace = await repository.create_workspace(engine, args.workspace)
        except repository.DuplicateError:
            raise CommandError(
                f"workspace {args.workspace!r} already exists; add a key with "
                f"`relaygate keys create --workspace {args.workspace} --role admin`"
            ) from None
        record, secret = await issue_key(engine, workspace.id, role="admin", name=args.name)
        return {**key_object(record, secret), "workspace": workspace.name}

    _print_key(args, _with_store(settings, work, announce=True))
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    async def work(engine: AsyncEngine) -> dict[str, Any]:
        workspace_id = await _workspace_id(engine, args.workspace)
        record, secret = await issue_key(engine, workspace_id, role=args.role, name=args.name)
        return {**key_object(record, secret), "workspace": args.workspace}

    _print_key(args, _with_store(settings, work, announce=True))
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(engine: AsyncEngine) -> list[dict[str, Any]]:
        workspace_id = await _workspace_id(engine, args.workspace)
        return [key_object(key) for key in await repository.list_keys(engine, workspace_id)]

    keys = _with_store(settings, work)
    if args.json:
        print(json.dumps(keys, indent=2))
    for key in [] if args.json else keys:
        state = "revoked" if key["revoked"] else "active"
        print(f"{key['id']}  {key['prefix']}…  {key['role']:6}  {state:7}  {key['name']}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work(engine: AsyncEngine) -> None:
        workspace_id = await _workspace_id(engine, args.workspace)
        if await repository.revoke_key(engine, workspace_id, args.key_id) is None:
            raise CommandError(f"no key {args.key_id} in workspace {args.workspace!r}")

    _with_store(settings, work, announce=True)
    print(f"revoked {args.key_id}")
    return 0


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(engine: AsyncEngine) -> list[Any]:
        workspace_id = await _workspace_id(engine, args.workspace)
        return await repository.list_models(engine, workspace_id)

    for model in _with_store(settings, work):
        state = "enabled" if model.enabled else "disabled"
        print(f"{model.id}  {model.router_id}  {model.model_type}  {state}  {model.base_url}")
    return 0


def cmd_rotate_master_key(args: argparse.Namespace, settings: Settings) -> int:
    if args.print_new_key:
        print(MasterKey.generate_text())
        return 0

    async def work(engine: AsyncEngine) -> str:
        options = {"grace": args.grace, "keep_previous": args.keep_previous}
        return await key_rotation.rotate(settings, engine, **options)

    try:
        print(_with_store(settings, work, announce=True))
    except (key_rotation.RotationError, CryptoError) as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_migrate(_args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> str | None:
        engine = create_engine(settings)
        try:
            await migrate.upgrade_to_head(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database is at revision {asyncio.run(run())}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    async def prepare(engine: AsyncEngine) -> int:
        if settings.bootstrap_key:
            await ensure_bootstrap_key(engine, settings.bootstrap_key)
        return len(await repository.list_keys(engine))

    key_count = _with_store(settings, prepare)
    where = f"http://{args.host}:{args.port}"
    print(
        f"relaygate {__version__} on {where}  (router: {where}/v3/router, data: {settings.home})", flush=True
    )
    if key_count == 0:
        print(
            "No API keys yet. Create a workspace and its first admin key with:\n"
            f"  RELAYGATE_HOME={settings.home} relaygate init --workspace default",
            flush=True,
        )
    if (args.server or settings.server) == "granian":
        from relaygate.serving import granian_server as server
    else:
        from relaygate.serving import uvicorn_server as server  # type: ignore[no-redef]
    server.serve(settings, args.host, args.port, args.workers)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relaygate", description="Self-hosted AI Router.")
    parser.add_argument("--version", action="version", version=f"relaygate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--server", choices=SERVERS, default=None, help="HTTP server (default: $RELAYGATE_SERVER or uvicorn)"
    )
    serve.set_defaults(handler=cmd_serve)

    init = commands.add_parser("init", help="create a workspace and print its first admin key")
    init.add_argument("--workspace", required=True)
    init.add_argument("--name", default="admin", help="label of the admin key")
    init.add_argument("--json", action="store_true")
    init.set_defaults(handler=cmd_init)

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="create a key and print it")
    create.add_argument("--workspace", required=True)
    create.add_argument("--role", choices=("admin", "router"), default="router")
    create.add_argument("--name", default="key")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=cmd_keys_create)
    listing = keys.add_parser("list", help="list a workspace's keys")
    listing.add_argument("--workspace", required=True)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key")
    revoke.add_argument("--workspace", required=True)
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=cmd_keys_revoke)

    models = commands.add_parser("models", help="inspect models").add_subparsers(
        dest="models_command", required=True
    )
    models_list = models.add_parser("list", help="list a workspace's models")
    models_list.add_argument("--workspace", required=True)
    models_list.set_defaults(handler=cmd_models_list)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)
    rotate = commands.add_parser("rotate-master-key", help="re-encrypt upstream keys under a new master key")
    rotate.add_argument("--grace", type=float, default=2.0, help="seconds between new key and re-encryption")
    rotate.add_argument("--keep-previous", action="store_true", help="keep accepting the old key file")
    rotate.add_argument("--print-new-key", action="store_true", help="only print a fresh key and exit")
    rotate.set_defaults(handler=cmd_rotate_master_key)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        handler: Callable[[argparse.Namespace, Settings], int] = args.handler
        return handler(args, settings)
    except (CommandError, SettingsError) as exc:
        print(f"relaygate: {exc}", file=sys.stderr)
        return 1
