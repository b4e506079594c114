"""Django database engine that starts the embedded PostgreSQL (pgserver) on first connection."""
