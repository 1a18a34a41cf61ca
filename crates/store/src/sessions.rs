//! Sign-in sessions, kept server-side so that they can end before they expire: logging
//! out, disabling or deleting the user, or an administrator ends them on every instance at
//! once. A session is found by the SHA-256 of its secret (a browser's session cookie, or
//! the `jti` of a CLI access token), one primary-key lookup per request.

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::schema::login_sessions as s;
use crate::teams::TeamId;
use crate::timestamps::{from_micros, now, to_micros};
use crate::tokens::digest_hex;
use crate::tx::Tx;

/// A live session (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// The team.
    pub team: TeamId,
    /// SCIM id of the signed-in user.
    pub user_id: String,
    /// How the person signed in: `web`, `loopback` or `device`.
    pub via: String,
    /// When it started.
    pub created: OffsetDateTime,
    /// When it expires.
    pub expires: OffsetDateTime,
}

type Row = (i64, String, String, i64, i64);

fn record(row: Row) -> Result<SessionRecord, StoreError> {
    let (team, user_id, via, created, expires) = row;
    Ok(SessionRecord {
        team: TeamId(team),
        user_id,
        via,
        created: from_micros(created)?,
        expires: from_micros(expires)?,
    })
}

macro_rules! columns {
    () => {
        (s::team_id, s::user_id, s::via, s::created_at, s::expires_at)
    };
}

/// Session operations inside a transaction; from [`Tx::sessions`].
pub struct Sessions<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Sessions<'_, '_> {
    /// Starts a session for `user_id` of `team` whose secret is `secret`, until
    /// `expires`. Expired sessions of the team are removed on the way.
    pub fn start(
        &mut self,
        secret: &str,
        team: TeamId,
        user_id: &str,
        via: &str,
        expires: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.tx.require_write()?;
        let at = to_micros(now());
        diesel::delete(
            s::table
                .filter(s::team_id.eq(team.0))
                .filter(s::expires_at.le(at)),
        )
        .execute(self.tx.conn)?;
        diesel::insert_into(s::table)
            .values((
                s::key_sha256.eq(digest_hex(secret)),
                s::team_id.eq(team.0),
                s::user_id.eq(user_id),
                s::via.eq(via),
                s::created_at.eq(at),
                s::expires_at.eq(to_micros(expires)),
            ))
            .execute(self.tx.conn)?;
        Ok(())
    }

    /// The live (started, not ended, not expired) session whose secret is `secret`.
    pub fn live(&mut self, secret: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<Row> = s::table
            .find(digest_hex(secret))
            .filter(s::expires_at.gt(to_micros(now())))
            .select(columns!())
            .first(self.tx.conn)
            .optional()?;
        row.map(record).transpose()
    }

    /// Ends the session whose secret is `secret`; returns it if it was live.
    pub fn end(&mut self, secret: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.tx.require_write()?;
        let found = self.live(secret)?;
        diesel::delete(s::table.find(digest_hex(secret))).execute(self.tx.conn)?;
        Ok(found)
    }

    /// Ends every session of `user_id` of `team`; returns how many were live.
    pub fn end_user(&mut self, team: TeamId, user_id: &str) -> Result<usize, StoreError> {
        self.tx.require_write()?;
        let live = diesel::delete(
            s::table
                .filter(s::team_id.eq(team.0))
                .filter(s::user_id.eq(user_id))
                .filter(s::expires_at.gt(to_micros(now()))),
        )
        .execute(self.tx.conn)?;
        diesel::delete(
            s::table
                .filter(s::team_id.eq(team.0))
                .filter(s::user_id.eq(user_id)),
        )
        .execute(self.tx.conn)?;
        Ok(live)
    }

    /// The live sessions of `team` (of one user with `user_id`), newest first, at most
    /// `limit`.
    pub fn list(
        &mut self,
        team: TeamId,
        user_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut query = s::table
            .filter(s::team_id.eq(team.0))
            .filter(s::expires_at.gt(to_micros(now())))
            .select(columns!())
            .order(s::created_at.desc())
            .limit(limit)
            .into_boxed();
        if let Some(user) = user_id {
            query = query.filter(s::user_id.eq(user.to_owned()));
        }
        let rows: Vec<Row> = query.load(self.tx.conn)?;
        rows.into_iter().map(record).collect()
    }
}
