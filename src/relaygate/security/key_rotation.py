"""Re-encrypting every stored secret (models' and search backends' upstream keys, http_eval
evaluators' header values) under the current master key.

Safe beside running servers: each row is re-sealed with a compare-and-set on its old
ciphertext (a concurrent edit wins and is picked up by the next pass), every write bumps
the catalog version, and passes repeat until no row is left under an older key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.crypto import CryptoError, Keyring, MasterKey, Sealed
from relaygate.evaluators.header_secrets import HeaderSecrets
from relaygate.security.master_keys import (
    MasterKeySource,
    previous_file,
    read_key_lines,
    write_secret_file,
)
from relaygate.settings import Settings
from relaygate.store import alerts, evaluators, repository, search_backends

MAX_PASSES = 10


class RotationError(Exception):
    """The rotation could not finish; nothing was lost, the old keys still open every row."""


@dataclass
class RotationResult:
    key_id: str
    resealed: int
    already_current: int


def install_new_file_key(source: MasterKeySource) -> MasterKey:
    """File mode: keep the current key as a previous one, then make a new key current."""
    current, _ = source.load()
    kept = read_key_lines(source.previous_file)
    old_text = source.key_file.read_text().strip()
    if old_text not in kept:
        write_secret_file(source.previous_file, "\n".join([*kept, old_text]) + "\n")
    new_text = MasterKey.generate_text()
    write_secret_file(source.key_file, new_text + "\n")
    new_key = MasterKey.from_text(new_text)
    if new_key.key_id == current.key_id:  # 256 random bits: never, unless the generator is broken
        raise RuntimeError("the new master key has the current key's id")
    return new_key


@dataclass(frozen=True)
class _SealedRow:
    """One stored secret: a model's upstream key, a search backend's key or an alert rule's
    signing secret."""

    what: str  # "model <id>", "search backend <id>"
    id: str  # the row id the ciphertext is bound to
    key_id: str
    ciphertext: bytes
    reseal: Callable[[AsyncEngine, str, bytes, str, bytes], Awaitable[bool]]


async def _sealed_rows(engine: AsyncEngine) -> list[_SealedRow]:
    rows = [
        _SealedRow(f"model {m.id}", m.id, m.api_key_key_id, m.api_key_ciphertext, repository.reseal_model_key)
        for m in await repository.list_models(engine)
    ]
    rows.extend(
        _SealedRow(
            f"search backend {b.id}",
            b.id,
            b.api_key_key_id,
            b.api_key_ciphertext,
            search_backends.reseal_backend_key,
        )
        for b in await search_backends.list_backends(engine)
        if b.api_key_ciphertext is not None and b.api_key_key_id is not None
    )
    rows.extend(
        _SealedRow(f"alert rule {rule_id}", rule_id, key_id, sealed, alerts.reseal_rule_secret)
        for rule_id, key_id, sealed in await alerts.sealed_secrets(engine)
    )
    return rows


async def reseal_all(engine: AsyncEngine, keyring: Keyring, pause: float = 0.5) -> RotationResult:
    """Passes over all stored keys until every ciphertext is under ``keyring.current``."""
    target = keyring.current
    resealed = 0
    already = 0
    for attempt in range(MAX_PASSES):
        stale = 0
        for row in await _sealed_rows(engine):
            if row.key_id == target.key_id:
                if attempt == 0:
                    already += 1
                continue
            stale += 1
            try:
                plaintext = keyring.open(Sealed(row.key_id, row.ciphertext), row.id)
            except CryptoError as exc:
                raise RotationError(
                    f"{row.what} cannot be opened ({exc}); add its master key to "
                    "RELAYGATE_MASTER_KEY_PREVIOUS and run the rotation again"
                ) from None
            sealed = target.seal(plaintext, associated=row.id)
            if await row.reseal(engine, row.id, row.ciphertext, sealed.key_id, sealed.ciphertext):
                resealed += 1
        if stale == 0:
            return RotationResult(target.key_id, resealed, already)
        await asyncio.sleep(pause)  # let a server's concurrent edit land before the next pass
    raise RotationError(f"rows were still being written under older keys after {MAX_PASSES} passes")


async def reseal_evaluator_headers(engine: AsyncEngine, keyring: Keyring) -> int:
    """Every http_eval version's header values sealed under ``keyring.current`` (values stored
    before they were sealed are sealed now); how many versions were rewritten. Versions never
    change otherwise, and a new one is sealed with the current key, so one pass is enough."""
    target = keyring.current
    rewritten = 0
    for version_id, workspace_id, content in await evaluators.http_eval_versions(engine):
        config = content["config"]
        try:
            headers = HeaderSecrets(keyring, workspace_id).resealed(config["headers"], target)
        except (CryptoError, ValueError) as exc:
            raise RotationError(
                f"evaluator version {version_id}'s header values cannot be opened ({exc}); add its "
                "master key to RELAYGATE_MASTER_KEY_PREVIOUS and run the rotation again"
            ) from None
        if headers is not None:
            await evaluators.replace_version_content(
                engine, version_id, {**content, "config": {**config, "headers": headers}}
            )
            rewritten += 1
    return rewritten


def finish_file_rotation(source: MasterKeySource) -> None:
    """Rotation over: the previous keys are no longer accepted (servers reload on change)."""
    previous_file(source.key_file).unlink(missing_ok=True)


async def rotate(settings: Settings, engine: AsyncEngine, *, grace: float, keep_previous: bool) -> str:
    """``relaygate rotate-master-key``: the steps of docs/security.md, with a one-line report each."""
    source = MasterKeySource(settings.master_key, settings.master_key_previous, settings.master_key_file)
    lines: list[str] = []
    file_mode = not settings.master_key
    if file_mode:
        new_key = install_new_file_key(source)
        lines.append(
            f"new master key {new_key.key_id} written to {source.key_file}; old key kept for reading"
        )
        await asyncio.sleep(grace)  # a server sealing right now finishes; later seals use the new key
    keyring = Keyring.from_source(source)
    result = await reseal_all(engine, keyring)
    lines.append(
        f"re-encrypted {result.resealed} stored secret(s) (upstream and search backend keys, alert "
        f"signing secrets) under master key {result.key_id} "
        f"({result.already_current} already were)"
    )
    headers = await reseal_evaluator_headers(engine, keyring)
    lines.append(f"re-encrypted the header values of {headers} http_eval evaluator version(s)")
    if file_mode and not keep_previous:
        finish_file_rotation(source)
        lines.append(f"rotation finished: {source.previous_file.name} removed, the old key is retired")
    elif file_mode:
        lines.append(f"old key kept in {source.previous_file}; delete that file to retire it")
    else:
        lines.append(
            "rotation finished: remove RELAYGATE_MASTER_KEY_PREVIOUS from every server's environment "
            "at its next restart"
        )
    return "\n".join(lines)
