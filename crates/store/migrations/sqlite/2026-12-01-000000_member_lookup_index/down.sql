DROP INDEX scim_group_members_member_idx;
CREATE INDEX scim_group_members_member_idx ON scim_group_members (team_id, member_id);
