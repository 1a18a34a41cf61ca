//! Sign-in sessions as an administrator sees them: who is signed in, and ending a person's
//! sessions (their browser sessions and their CLI access tokens) on every instance at once.

use std::collections::HashMap;

use store::{Actor, AuditAction};
use time::OffsetDateTime;

use crate::{App, AppError, audit, lookup};

/// Most sessions one listing returns.
pub const MAX_SESSIONS_LISTED: i64 = 1000;

/// A live session as an administrator sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    /// SCIM id of the person.
    pub user_id: String,
    /// Their userName (`None` if the user is gone).
    pub user_name: Option<String>,
    /// How they signed in: `web`, `loopback` or `device`.
    pub via: String,
    /// When the session started.
    pub created: OffsetDateTime,
    /// When it expires.
    pub expires: OffsetDateTime,
}

impl App {
    /// The live sign-in sessions of team `team`, newest first; of one user when `user`
    /// names one (an id, userName or POSIX name).
    pub fn sessions(&self, team: &str, user: Option<&str>) -> Result<Vec<SessionView>, AppError> {
        self.read_in(team, |tx, team| {
            let user = user.map(|u| lookup::user_id(tx, team, u)).transpose()?;
            let records = tx
                .sessions()
                .list(team.id, user.as_deref(), MAX_SESSIONS_LISTED)?;
            let mut names: HashMap<String, Option<String>> = HashMap::new();
            let mut views = Vec::with_capacity(records.len());
            for r in records {
                if !names.contains_key(&r.user_id) {
                    let name = tx.users().get(team.id, &r.user_id)?.and_then(|u| {
                        u.data
                            .get("userName")
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_owned)
                    });
                    names.insert(r.user_id.clone(), name);
                }
                views.push(SessionView {
                    user_name: names.get(&r.user_id).cloned().flatten(),
                    user_id: r.user_id,
                    via: r.via,
                    created: r.created,
                    expires: r.expires,
                });
            }
            Ok(views)
        })
    }

    /// Ends every session of `user` of team `team` (browser sessions and the sessions of
    /// CLI access tokens; certificates already issued stay valid until they expire or are
    /// revoked). Returns how many were live; audited as `admin.sessions.end`.
    pub fn end_sessions(&self, actor: &Actor, team: &str, user: &str) -> Result<usize, AppError> {
        self.write_in(team, |tx, team| {
            let user = lookup::user_id(tx, team, user)?;
            let ended = tx.sessions().end_user(team.id, &user)?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::SessionsEnd,
                &user,
                format!("ended {ended} session(s) of user {user}"),
            )?;
            Ok(ended)
        })
    }
}
