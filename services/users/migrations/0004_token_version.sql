-- Tokens carry `ver`; a token whose ver is below the user's min_version (access log) is
-- revoked. logout-all and password change raise it (imageboard/access).
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
