DROP TABLE certificates;
DROP TABLE ca_settings;
DROP TABLE ca_keys;
