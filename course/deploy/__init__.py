"""The course on a shared machine: JupyterHub, real student accounts and a PostgreSQL gradebook."""
