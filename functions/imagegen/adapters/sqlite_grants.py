"""GrantStore on SQLite: the OAuth records live in the local server's database, next to its jobs, in one
table, each step in one transaction.

Records are kept as JSON (`body`) under a key that says what they are (`code#<digest>`, `grant#<id>`,
...), beside the columns the grant lists and the clean-up use. Steps that must happen once read and
write inside `BEGIN IMMEDIATE`, so of two concurrent redemptions of one code exactly one succeeds.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from imagegen.adapters.sqlite_db import SqliteDatabase
from imagegen.domain.cursor import sort_key
from imagegen.domain.oauth import AuthorizationCode, ConsentRequest, Grant, Issue, IssuedToken, OAuthClient

_SCHEMA = """
CREATE TABLE IF NOT EXISTS oauth_records (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    owner       TEXT,
    sort_key    TEXT,
    expires_at  REAL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_grants_by_owner ON oauth_records (owner, sort_key) WHERE kind = 'grant';
CREATE INDEX IF NOT EXISTS oauth_by_kind ON oauth_records (kind, sort_key);
CREATE INDEX IF NOT EXISTS oauth_by_expiry ON oauth_records (expires_at);
"""

RecordT = TypeVar("RecordT", bound=BaseModel)


class SqliteGrantStore(SqliteDatabase):
    schema = _SCHEMA

    # ------------------------------------------------------------ plumbing

    def _read(self, db: sqlite3.Connection, key: str, model: type[RecordT]) -> RecordT | None:
        row = db.execute("SELECT body FROM oauth_records WHERE key = ?", (key,)).fetchone()
        return model.model_validate_json(row[0]) if row else None

    def _get(self, key: str, model: type[RecordT]) -> RecordT | None:
        with self._lock:
            return self._read(self._db, key, model)

    def _put(
        self,
        db: sqlite3.Connection,
        key: str,
        record: BaseModel,
        expires_at: datetime | None,
        *,
        owner: str | None = None,
        order: str | None = None,
    ) -> None:
        db.execute(
            "INSERT OR REPLACE INTO oauth_records (key, kind, owner, sort_key, expires_at, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                key.partition("#")[0],
                owner,
                order,
                expires_at.timestamp() if expires_at else None,
                record.model_dump_json(),
            ),
        )

    def _put_grant(self, db: sqlite3.Connection, grant: Grant) -> None:
        order = sort_key(grant.created_at, grant.grant_id)
        self._put(db, f"grant#{grant.grant_id}", grant, grant.expires_at, owner=grant.owner, order=order)

    def _put_tokens(self, db: sqlite3.Connection, issue: Issue) -> None:
        self._put(db, f"token#{issue.access_key}", issue.access, issue.access.expires_at)
        if issue.refresh_key is not None and issue.refresh is not None:
            self._put(db, f"token#{issue.refresh_key}", issue.refresh, issue.refresh.expires_at)

    # ------------------------------------------------------------ clients, consents, codes

    async def save_client(self, client: OAuthClient) -> None:
        with self._transaction() as db:
            self._put(db, f"client#{client.client_id}", client, client.expires_at)

    async def get_client(self, client_id: str) -> OAuthClient | None:
        return self._get(f"client#{client_id}", OAuthClient)

    async def save_consent(self, key: str, consent: ConsentRequest) -> None:
        with self._transaction() as db:
            self._put(db, f"consent#{key}", consent, consent.expires_at)

    async def get_consent(self, key: str) -> ConsentRequest | None:
        return self._get(f"consent#{key}", ConsentRequest)

    async def take_consent(self, key: str) -> ConsentRequest | None:
        with self._transaction() as db:
            consent = self._read(db, f"consent#{key}", ConsentRequest)
            db.execute("DELETE FROM oauth_records WHERE key = ?", (f"consent#{key}",))
        return consent

    async def save_code(self, key: str, code: AuthorizationCode) -> None:
        with self._transaction() as db:
            self._put(db, f"code#{key}", code, code.expires_at)

    async def get_code(self, key: str) -> AuthorizationCode | None:
        return self._get(f"code#{key}", AuthorizationCode)

    async def redeem_code(self, key: str, issue: Issue) -> bool:
        with self._transaction() as db:
            code = self._read(db, f"code#{key}", AuthorizationCode)
            if code is None or code.redeemed_by_grant is not None:
                return False
            redeemed = code.model_copy(update={"redeemed_by_grant": issue.grant.grant_id})
            self._put(db, f"code#{key}", redeemed, code.expires_at)
            self._put_grant(db, issue.grant)
            self._put_tokens(db, issue)
        return True

    # ------------------------------------------------------------ tokens and grants

    async def get_token(self, key: str) -> IssuedToken | None:
        return self._get(f"token#{key}", IssuedToken)

    async def rotate_refresh_token(self, key: str, issue: Issue) -> bool:
        with self._transaction() as db:
            token = self._read(db, f"token#{key}", IssuedToken)
            grant = self._read(db, f"grant#{issue.grant.grant_id}", Grant)
            if token is None or token.rotated_at is not None or grant is None or grant.revoked_at is not None:
                return False
            rotated = token.model_copy(update={"rotated_at": issue.access.issued_at})
            self._put(db, f"token#{key}", rotated, token.expires_at)
            self._put_grant(db, issue.grant)
            self._put_tokens(db, issue)
        return True

    async def get_grant(self, grant_id: str) -> Grant | None:
        return self._get(f"grant#{grant_id}", Grant)

    async def revoke_grant(self, grant_id: str, now: datetime, because: str) -> bool:
        with self._transaction() as db:
            grant = self._read(db, f"grant#{grant_id}", Grant)
            if grant is None or grant.revoked_at is not None:
                return False
            self._put_grant(db, grant.model_copy(update={"revoked_at": now, "revoked_because": because}))
        return True

    async def list_grants(self, owner: str | None) -> list[Grant]:
        with self._lock:
            if owner is None:
                rows = self._db.execute(
                    "SELECT body FROM oauth_records WHERE kind = 'grant' ORDER BY sort_key DESC"
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT body FROM oauth_records WHERE kind = 'grant' AND owner = ? ORDER BY sort_key DESC",
                    (owner,),
                ).fetchall()
        return [Grant.model_validate_json(body) for (body,) in rows]

    async def forget_expired(self, now: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM oauth_records WHERE expires_at IS NOT NULL AND expires_at < ?",
                (now.timestamp(),),
            )
