"""Issuing our own API keys: random, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.control.key_protocol import ApiKeyObject
from relaygate.crypto import display_prefix, hash_api_key, new_api_key
from relaygate.store import repository
from relaygate.store.records import ApiKey, new_id, utcnow
from relaygate.vocab import KEY_ROLES


async def issue_key(
    engine: AsyncEngine,
    workspace_id: str,
    *,
    role: str,
    name: str,
    secret: str | None = None,
    expires_at: datetime | None = None,
    allowed_models: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key (or the given ``secret``, for bootstrap) and return it with its secret."""
    if role not in KEY_ROLES:
        raise ValueError(f"role must be one of {', '.join(KEY_ROLES)}")
    secret = secret or new_api_key()
    record = ApiKey(
        id=new_id(),
        workspace_id=workspace_id,
        name=name,
        role=role,
        key_hash=hash_api_key(secret),
        prefix=display_prefix(secret),
        created_at=utcnow(),
        expires_at=expires_at,
        allowed_models=None if allowed_models is None else tuple(allowed_models),
    )
    await repository.insert_key(engine, record)
    return record, secret


async def ensure_bootstrap_key(engine: AsyncEngine, secret: str) -> ApiKey:
    """Make sure workspace ``default`` exists and ``secret`` is one of its admin keys."""
    workspace = await repository.ensure_workspace(engine, "default")
    existing = await repository.get_key_by_hash(engine, hash_api_key(secret))
    if existing is not None:
        return existing
    try:
        record, _ = await issue_key(engine, workspace.id, role="admin", name="bootstrap", secret=secret)
    except repository.DuplicateError:
        found = await repository.get_key_by_hash(engine, hash_api_key(secret))
        if found is None:  # created and revoked again in between
            raise RuntimeError("the bootstrap key was deleted as it was created") from None
        return found
    return record


def key_object(
    key: ApiKey, secret: str | None = None, *, extras: dict[str, object] | None = None
) -> dict[str, object]:
    """The key as /v2/api-keys shows it (absent values omitted); ``extras``: its ``limits`` and ``budget``."""
    body: dict[str, object] = {
        "id": key.id,
        "object": "api_key",
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "workspace_id": key.workspace_id,
        "created": key.created_at.isoformat().replace("+00:00", "Z"),
        "last_used_at": key.last_used_at.isoformat().replace("+00:00", "Z") if key.last_used_at else None,
        "revoked": key.revoked,
        "limits": {"requests_per_minute": None, "tokens_per_minute": None},
        "budget": None,
    }
    body.update(extras or {})
    if secret is not None:
        body["key"] = secret
    return ApiKeyObject.model_validate(body).model_dump(mode="json")
