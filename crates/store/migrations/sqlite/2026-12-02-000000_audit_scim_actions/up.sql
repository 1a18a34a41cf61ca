-- SCIM writes are audited as scim.user.create, scim.group.patch, ... (the resource type
-- is part of the action, as the docs and `sshward audit --action` name them); older rows
-- said scim.create with the type only in resource_type.
UPDATE audit_log
SET action = 'scim.' || lower(resource_type) || substr(action, 5)
WHERE action IN ('scim.create', 'scim.replace', 'scim.patch', 'scim.delete')
  AND resource_type IN ('User', 'Group');
