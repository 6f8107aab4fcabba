-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d):
-- one database per service, all owned by the compose stack's application role.
CREATE DATABASE jobstream_intake OWNER jobstream;
CREATE DATABASE jobstream_dispatch OWNER jobstream;
CREATE DATABASE jobstream_fieldupdates OWNER jobstream;
CREATE DATABASE jobstream_billing OWNER jobstream;
CREATE DATABASE jobstream_reporting OWNER jobstream;
CREATE DATABASE jobstream_web OWNER jobstream;
