UPDATE audit_log
SET action = 'scim' || substr(action, length('scim.' || lower(resource_type)) + 1)
WHERE action LIKE 'scim.%.%'
  AND resource_type IN ('User', 'Group');
