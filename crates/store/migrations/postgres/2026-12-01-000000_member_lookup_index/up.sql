-- A user's groups are looked up by (team, member). The index now also holds group_id, so
-- it covers that lookup: without table statistics SQLite otherwise preferred walking the
-- whole team through the primary key (every member row of every group, per request).
DROP INDEX scim_group_members_member_idx;
CREATE INDEX scim_group_members_member_idx ON scim_group_members (team_id, member_id, group_id);
