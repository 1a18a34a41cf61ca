DROP TABLE login_keys;
DROP TABLE login_flows;
DROP TABLE team_oidc;
