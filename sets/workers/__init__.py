"""Background jobs: under arq with Redis (`sets worker`), or in-process without it."""
