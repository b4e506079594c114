#!/bin/sh
# Run once, by the postgres image, when the data volume is first initialised (as the
# superuser). Two login roles: qa_owner owns the database and runs migrations; qa_app is what
# the site and the workers connect as, with row access only (the audit app's migrations take
# UPDATE and DELETE on the audit trail away from it). Extensions that need a superuser are
# created here, so that the migrations' CREATE EXTENSION IF NOT EXISTS finds them.
set -eu
psql --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set owner_password="$(cat /run/secrets/db_owner_password)" \
    --set app_password="$(cat /run/secrets/db_app_password)" \
    --set database="$POSTGRES_DB" <<'SQL'
CREATE ROLE qa_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE qa_app LOGIN PASSWORD :'app_password';
ALTER DATABASE :"database" OWNER TO qa_owner;
ALTER SCHEMA public OWNER TO qa_owner;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO qa_app;
GRANT USAGE ON SCHEMA public TO qa_app;
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER DEFAULT PRIVILEGES FOR ROLE qa_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO qa_app;
ALTER DEFAULT PRIVILEGES FOR ROLE qa_owner IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO qa_app;
SQL
