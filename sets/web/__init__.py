"""Plain HTTP endpoints beside GraphQL (attachment downloads) and the guard in front of
multipart GraphQL requests."""
