//! The diesel schema shared by both backends.
//!
//! Only portable column types are used (`BigInt`, `Integer`, `Text`, `Bool`): timestamps
//! are unix microseconds, JSON documents are text. The SQL lives in
//! `migrations/sqlite` and `migrations/postgres`, which must stay in step with this file.

diesel::table! {
    /// Tenants: one per SCIM base URL.
    teams (id) {
        /// Surrogate key.
        id -> BigInt,
        /// URL slug, unique.
        slug -> Text,
        /// Human-readable name.
        display_name -> Text,
        /// Entra tenant ID (GUID) whose users may sign in.
        entra_tenant_id -> Nullable<Text>,
        /// JSON array of lower-cased email domains allowed to sign in.
        allowed_domains -> Text,
        /// Incremented by every write in the team.
        revision -> BigInt,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
    }
}

diesel::table! {
    /// SCIM bearer tokens; only the SHA-256 digest of a token is stored.
    scim_tokens (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Owning team.
        team_id -> BigInt,
        /// Operator-chosen label.
        label -> Text,
        /// Lower-case hex SHA-256 of the secret.
        token_sha256 -> Text,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
        /// Last successful use, unix microseconds (updated at most once a minute).
        last_used_at -> Nullable<BigInt>,
        /// Expiry, unix microseconds.
        expires_at -> Nullable<BigInt>,
        /// Revocation time, unix microseconds.
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// SCIM users: the full resource as JSON plus indexed copies of filterable attributes.
    scim_users (team_id, id) {
        /// Owning team.
        team_id -> BigInt,
        /// SCIM `id` (UUID v4).
        id -> Text,
        /// `userName` as sent.
        user_name -> Text,
        /// `userName` lower-cased (unique per team).
        user_name_lower -> Text,
        /// `externalId` (case-exact).
        external_id -> Nullable<Text>,
        /// `displayName` as sent.
        display_name -> Nullable<Text>,
        /// `displayName` lower-cased.
        display_name_lower -> Nullable<Text>,
        /// `active`; NULL when absent or not a boolean.
        active -> Nullable<Bool>,
        /// `name.givenName` lower-cased.
        given_name_lower -> Nullable<Text>,
        /// `name.familyName` lower-cased.
        family_name_lower -> Nullable<Text>,
        /// `value` of the first `emails` element of type "work", lower-cased.
        work_email_lower -> Nullable<Text>,
        /// True when more than one `emails` element has type "work".
        work_email_ambiguous -> Bool,
        /// The SCIM resource as sent (without `id`, `meta`, `groups`), JSON.
        data -> Text,
        /// Incremented on every write; the ETag.
        version -> BigInt,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
        /// Last modification time, unix microseconds.
        modified_at -> BigInt,
    }
}

diesel::table! {
    /// SCIM groups: the full resource as JSON (without members) plus indexed columns.
    scim_groups (team_id, id) {
        /// Owning team.
        team_id -> BigInt,
        /// SCIM `id` (UUID v4).
        id -> Text,
        /// `displayName` as sent.
        display_name -> Text,
        /// `displayName` lower-cased (unique per team).
        display_name_lower -> Text,
        /// `externalId` (case-exact).
        external_id -> Nullable<Text>,
        /// The SCIM resource as sent (without `id`, `meta`, `members`), JSON.
        data -> Text,
        /// Incremented on every write; the ETag.
        version -> BigInt,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
        /// Last modification time, unix microseconds.
        modified_at -> BigInt,
    }
}

diesel::table! {
    /// Group membership: one row per (group, member user).
    scim_group_members (team_id, group_id, member_id) {
        /// Team of both the group and the member.
        team_id -> BigInt,
        /// The group's SCIM id.
        group_id -> Text,
        /// The member user's SCIM id.
        member_id -> Text,
        /// When the row was added, unix microseconds.
        added_at -> BigInt,
    }
}

diesel::table! {
    /// Audit log of changes and security-relevant events.
    audit_log (id) {
        /// Monotonic key.
        id -> BigInt,
        /// Team concerned, if any.
        team_id -> Nullable<BigInt>,
        /// Event time, unix microseconds.
        at -> BigInt,
        /// Who acted, e.g. `token:12` or `admin:cli`.
        actor -> Text,
        /// What was done, e.g. `scim.user.create`.
        action -> Text,
        /// Target resource type, e.g. `User`.
        resource_type -> Nullable<Text>,
        /// Target resource id.
        resource_id -> Nullable<Text>,
        /// Outcome as an HTTP-like status code.
        status -> Integer,
        /// Short human-readable description.
        summary -> Text,
    }
}

diesel::table! {
    /// A team's OpenID Connect client (sign-in); the client secret itself is not stored.
    team_oidc (team_id) {
        /// The team.
        team_id -> BigInt,
        /// OAuth client ID (the Entra application ID).
        client_id -> Nullable<Text>,
        /// Where the client secret is read: `file:PATH` or `env:NAME`.
        client_secret_ref -> Nullable<Text>,
        /// Issuer URL replacing `https://login.microsoftonline.com/{tenant}/v2.0`.
        issuer -> Nullable<Text>,
        /// How a sign-in is linked to a SCIM user: `user-name` or `object-id`.
        link_by -> Text,
        /// Last change, unix microseconds.
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Short-lived single-use sign-in state (pending authorizations, CLI codes, device flows).
    login_flows (key_sha256) {
        /// Lower-case hex SHA-256 of the flow's secret key (state, code or handle).
        key_sha256 -> Text,
        /// `web`, `cli-code`, `device`, ...
        kind -> Text,
        /// The team signing in.
        team_id -> BigInt,
        /// The flow's data, JSON (owned by crates/oidc-login).
        data -> Text,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
        /// Expiry, unix microseconds.
        expires_at -> BigInt,
    }
}

diesel::table! {
    /// Console administrators: SCIM users and groups (all their members) by SCIM id.
    console_admins (team_id, kind, scim_id) {
        /// The team.
        team_id -> BigInt,
        /// `user` or `group`.
        kind -> Text,
        /// SCIM id of the user or group.
        scim_id -> Text,
        /// When it was added, unix microseconds.
        added_at -> BigInt,
    }
}

diesel::table! {
    /// One-time console sign-in links.
    console_links (id) {
        /// Surrogate key.
        id -> BigInt,
        /// The team.
        team_id -> BigInt,
        /// Lower-case hex SHA-256 of the link's secret.
        key_sha256 -> Text,
        /// Creation, unix microseconds.
        created_at -> BigInt,
        /// Expiry, unix microseconds.
        expires_at -> BigInt,
        /// When it was used.
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Sign-in sessions (browser cookies and the sessions behind CLI access tokens).
    login_sessions (key_sha256) {
        /// Lower-case hex SHA-256 of the session's secret.
        key_sha256 -> Text,
        /// The team.
        team_id -> BigInt,
        /// SCIM id of the signed-in user.
        user_id -> Text,
        /// How the person signed in: `web`, `loopback` or `device`.
        via -> Text,
        /// Start, unix microseconds.
        created_at -> BigInt,
        /// Expiry, unix microseconds.
        expires_at -> BigInt,
    }
}

diesel::table! {
    /// Keys generated on first use when not configured (shared by every instance).
    login_keys (name) {
        /// Key name, e.g. `session`.
        name -> Text,
        /// The key, base64.
        value -> Text,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Per-team POSIX settings and id allocation counter (crate host-policy).
    posix_settings (team_id) {
        /// The team.
        team_id -> BigInt,
        /// First uid/gid of the team's range.
        id_min -> BigInt,
        /// Last uid/gid of the team's range.
        id_max -> BigInt,
        /// The next number to hand out.
        next_id -> BigInt,
        /// How user names are derived (`local-part`, ...).
        username_style -> Text,
        /// Parent of home directories, e.g. `/home`.
        home_base -> Text,
        /// Login shell.
        shell -> Text,
        /// JSON array of names reserved by the team.
        reserved_names -> Text,
    }
}

diesel::table! {
    /// POSIX identities of SCIM users (uid) and groups (gid); kept after deletion.
    posix_ids (team_id, kind, scim_id) {
        /// The team.
        team_id -> BigInt,
        /// `user` or `group`.
        kind -> Text,
        /// The SCIM id of the user or group.
        scim_id -> Text,
        /// The POSIX name (unique per team, users and groups together).
        name -> Text,
        /// The uid or gid (unique per team, users and groups together).
        number -> BigInt,
        /// Allocation time, unix microseconds.
        created_at -> BigInt,
        /// When the SCIM resource was found deleted, unix microseconds.
        released_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Hosts that joined a team.
    hosts (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Owning team.
        team_id -> BigInt,
        /// Lower-case hostname, unique per team.
        hostname -> Text,
        /// Lower-case hex SHA-256 of the host's credential.
        credential_sha256 -> Text,
        /// The join token it joined with.
        join_token_id -> Nullable<BigInt>,
        /// Join time, unix microseconds.
        created_at -> BigInt,
        /// Last authenticated request (to within a minute), unix microseconds.
        last_seen_at -> Nullable<BigInt>,
        /// The agent's version, as it last reported.
        agent_version -> Nullable<Text>,
        /// The document revision the agent last applied.
        applied_revision -> Nullable<BigInt>,
        /// The agent's last error (none when it last succeeded).
        last_error -> Nullable<Text>,
        /// When the agent last reported, unix microseconds.
        reported_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Tags of hosts, one row per `key=value`.
    host_tags (host_id, key, value) {
        /// The host.
        host_id -> BigInt,
        /// The host's team.
        team_id -> BigInt,
        /// Tag key.
        key -> Text,
        /// Tag value.
        value -> Text,
    }
}

diesel::table! {
    /// One-time host join tokens; only the SHA-256 digest is stored.
    host_join_tokens (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Owning team.
        team_id -> BigInt,
        /// Lower-case hex SHA-256 of the secret.
        token_sha256 -> Text,
        /// JSON array of `key=value` tags conferred on the host.
        tags -> Text,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
        /// Expiry, unix microseconds.
        expires_at -> BigInt,
        /// When it was redeemed.
        used_at -> Nullable<BigInt>,
        /// The host that redeemed it.
        used_by_host -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Grants of host access to IdP groups (by immutable SCIM id).
    grants (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Owning team.
        team_id -> BigInt,
        /// The group's SCIM id.
        group_id -> Text,
        /// Canonical host selector: `*` or `key=value,...` sorted.
        hosts -> Text,
        /// `ssh` or `sudo`.
        role -> Text,
        /// JSON array of extra local group names.
        extra_groups -> Text,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Each team's SSH CA keys (crate ssh-ca); the private key sealed (crate keyring).
    ca_keys (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Owning team.
        team_id -> BigInt,
        /// `user` or `host`.
        kind -> Text,
        /// The public key, an OpenSSH line.
        public_key -> Text,
        /// The private key in OpenSSH format, sealed with the key-encryption key.
        sealed_private_key -> Text,
        /// Creation time, unix microseconds.
        created_at -> BigInt,
        /// When a rotation retired it (it signs no more), unix microseconds.
        retired_at -> Nullable<BigInt>,
        /// A retired key is published until then, unix microseconds.
        published_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Per-team certificate settings (absent: the defaults).
    ca_settings (team_id) {
        /// The team.
        team_id -> BigInt,
        /// Longest user certificate, seconds.
        user_cert_ttl_secs -> BigInt,
        /// Host certificate lifetime, seconds.
        host_cert_ttl_secs -> BigInt,
        /// JSON array of the permitted extensions' OpenSSH names.
        extensions -> Text,
        /// JSON array of DNS suffixes: a host certificate also names `HOST.SUFFIX`.
        host_domains -> Text,
        /// How long a rotated CA key stays published, seconds.
        rotation_overlap_secs -> BigInt,
    }
}

diesel::table! {
    /// Every SSH certificate issued.
    certificates (serial) {
        /// The certificate's serial (unique across the server).
        serial -> BigInt,
        /// Owning team.
        team_id -> BigInt,
        /// `user` or `host`.
        kind -> Text,
        /// The CA key that signed it.
        ca_key_id -> BigInt,
        /// The user's SCIM id or the host's id.
        subject -> Text,
        /// The certificate's key ID.
        key_id -> Text,
        /// SHA-256 fingerprint of the certified public key.
        key_fingerprint -> Text,
        /// JSON array of principals.
        principals -> Text,
        /// Valid from, unix microseconds.
        valid_after -> BigInt,
        /// Valid until, unix microseconds.
        valid_before -> BigInt,
        /// The requester's address.
        requester -> Nullable<Text>,
        /// Issue time, unix microseconds.
        issued_at -> BigInt,
        /// Revocation time, unix microseconds.
        revoked_at -> Nullable<BigInt>,
        /// Why it was revoked.
        revoked_reason -> Nullable<Text>,
    }
}

diesel::joinable!(scim_tokens -> teams (team_id));
diesel::joinable!(scim_users -> teams (team_id));
diesel::joinable!(scim_groups -> teams (team_id));

diesel::allow_tables_to_appear_in_same_query!(
    teams,
    scim_tokens,
    scim_users,
    scim_groups,
    scim_group_members,
    audit_log,
    team_oidc,
    login_flows,
    login_keys,
    login_sessions,
    console_admins,
    console_links,
    posix_settings,
    posix_ids,
    hosts,
    host_tags,
    host_join_tokens,
    grants,
    ca_keys,
    ca_settings,
    certificates,
);
