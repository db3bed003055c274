"""The `relaygate` command: serve, init, keys, models, migrate."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate import __version__
from relaygate.cluster import catalog_sync
from relaygate.control.key_issuing import ensure_bootstrap_key, issue_key, key_object
from relaygate.control.schemas import Text128, WorkspaceName
from relaygate.crypto import CryptoError, MasterKey, load_master_key
from relaygate.security import key_rotation
from relaygate.settings import SERVERS, Settings, SettingsError
from relaygate.store import data_folder, migrate, repository
from relaygate.store.database import create_engine
from relaygate.vocab import KEY_ROLES


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


_KEY_NAME = TypeAdapter(Text128)
_WORKSPACE_NAME = TypeAdapter(WorkspaceName)


def _key_name(value: str) -> str:
    """A key's label, under the rule the API applies to it (``control.schemas.Text128``)."""
    try:
        return _KEY_NAME.validate_python(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.errors()[0]["msg"]) from None


def _workspace_name(value: str) -> str:
    """A workspace name (``control.schemas.WorkspaceName``): a slug, as it appears in logs and metrics."""
    try:
        return _WORKSPACE_NAME.validate_python(value)
    except ValidationError:
        raise argparse.ArgumentTypeError(
            f"invalid workspace name {value!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        ) from None


def _ensure_store(settings: Settings, *, create: bool) -> None:
    """``create`` (init, serve): make the data folder complete; otherwise refuse to make an empty store."""
    if create:
        data_folder.create_private_folder(settings.home)
        load_master_key(settings.master_key, settings.master_key_file)
        return
    missing = data_folder.missing_store(settings)
    if missing is not None:
        raise CommandError(missing)


async def _prepare_store(settings: Settings, engine: AsyncEngine) -> None:
    try:
        if settings.is_sqlite:  # in a child process: alembic stays out of a serving process
            await migrate.upgrade_to_head_in_child(engine)
        else:
            await migrate.ensure_current(engine)
    except (migrate.SchemaBehind, migrate.MigrationFailed) as exc:
        raise CommandError(str(exc)) from None


def _with_store(
    settings: Settings,
    work: Callable[[AsyncEngine], Awaitable[Any]],
    *,
    announce: bool = False,
    create: bool = False,
) -> Any:
    """Run ``work`` against the store; ``announce``: it wrote, tell running servers via Redis."""
    _ensure_store(settings, create=create)

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

    _print_key(args, _with_store(settings, work, announce=True, create=True))
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
        return 0
    rows = [
        (key["id"], f"{key['prefix']}…", key["role"], "revoked" if key["revoked"] else "active", key["name"])
        for key in keys
    ]
    _print_table(("ID", "PREFIX", "ROLE", "STATE", "NAME"), rows)
    return 0


def _print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


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

    rows = [
        (
            model.id,
            model.router_id,
            model.model_type,
            "enabled" if model.enabled else "disabled",
            model.base_url,
        )
        for model in _with_store(settings, work)
    ]
    _print_table(("ID", "ROUTER ID", "TYPE", "STATE", "BASE URL"), rows)
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
    _ensure_store(settings, create=False)

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

    key_count = _with_store(settings, prepare, create=True)
    where = f"http://{args.host}:{args.port}"
    print(
        f"relaygate {__version__} on {where}  (router: {where}/v3/router, data: {settings.home})", flush=True
    )
    if key_count == 0:
        home = shlex.quote(str(settings.home))
        print(
            "No API keys yet. Create a workspace and its first admin key with:\n"
            f"  RELAYGATE_HOME={home} {_own_command()} init --workspace default",
            flush=True,
        )
    if (args.server or settings.server) == "granian":
        from relaygate.serving import granian_server as server
    else:
        from relaygate.serving import uvicorn_server as server  # type: ignore[no-redef]
    server.serve(settings, args.host, args.port, args.workers)
    return 0


def _own_command() -> str:
    """This relaygate's command line, working from any folder whatever PATH holds."""
    launched = Path(sys.argv[0]).resolve()
    if launched.name == "relaygate" and launched.is_file():
        return shlex.quote(str(launched))
    beside = Path(sys.executable).absolute().with_name("relaygate")  # the venv's script; not resolved
    if beside.is_file():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m relaygate"


def _workspace_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--workspace", required=True, type=_workspace_name, metavar="NAME", help=what)


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser("serve", help="start the server (creates the data folder if needed)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: %(default)s)")
    serve.add_argument(
        "--server", choices=SERVERS, default=None, help="HTTP server (default: $RELAYGATE_SERVER or uvicorn)"
    )
    serve.set_defaults(handler=cmd_serve)


def _add_init(commands: Any) -> None:
    init = commands.add_parser("init", help="create a workspace and print its first admin key")
    _workspace_option(init, "name of the new workspace")
    init.add_argument("--name", default="admin", type=_key_name, help="label of the admin key")
    _json_option(init)
    init.set_defaults(handler=cmd_init)


def _add_keys(commands: Any) -> None:
    group = commands.add_parser("keys", help="manage API keys")
    keys = group.add_subparsers(dest="keys_command", title="subcommands", help="what to do with keys")
    group.set_defaults(group=group)
    create = keys.add_parser("create", help="create a key and print it")
    _workspace_option(create, "workspace the key belongs to")
    create.add_argument(
        "--role",
        choices=KEY_ROLES,
        default="router",
        help="admin: manage and route; router: route only (default: %(default)s)",
    )
    create.add_argument("--name", default="key", type=_key_name, help="label of the key")
    _json_option(create)
    create.set_defaults(handler=cmd_keys_create)
    listing = keys.add_parser("list", help="list a workspace's keys")
    _workspace_option(listing, "workspace whose keys to list")
    _json_option(listing)
    listing.set_defaults(handler=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key")
    _workspace_option(revoke, "workspace the key belongs to")
    revoke.add_argument("key_id", help="id of the key, as `relaygate keys list` shows it")
    revoke.set_defaults(handler=cmd_keys_revoke)


def _add_models(commands: Any) -> None:
    group = commands.add_parser("models", help="inspect models")
    models = group.add_subparsers(dest="models_command", title="subcommands", help="what to do with models")
    group.set_defaults(group=group)
    models_list = models.add_parser("list", help="list a workspace's models")
    _workspace_option(models_list, "workspace whose models to list")
    models_list.set_defaults(handler=cmd_models_list)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relaygate",
        description="Self-hosted AI Router. Data lives in $RELAYGATE_HOME (default ./relaygate-data).",
    )
    parser.add_argument("--version", action="version", version=f"relaygate {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", help="what to do")
    _add_serve(commands)
    _add_init(commands)
    _add_keys(commands)
    _add_models(commands)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)
    rotate = commands.add_parser("rotate-master-key", help="re-encrypt upstream keys under a new master key")
    rotate.add_argument("--grace", type=float, default=2.0, help="seconds between new key and re-encryption")
    rotate.add_argument("--keep-previous", action="store_true", help="keep accepting the old key file")
    rotate.add_argument("--print-new-key", action="store_true", help="only print a fresh key and exit")
    rotate.set_defaults(handler=cmd_rotate_master_key)
    return parser


def _say(line: str) -> None:
    print(f"relaygate: {line}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] | None = getattr(args, "handler", None)
    if handler is None:  # a command group without its subcommand: show what it offers
        group: argparse.ArgumentParser = getattr(args, "group", parser)
        group.print_help(sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        _say(data_folder.describe(settings))
        for change in data_folder.tighten(data_folder.private_paths(settings)):
            _say(change)
        return handler(args, settings)
    except (CommandError, SettingsError) as exc:
        _say(str(exc))
        return 1
