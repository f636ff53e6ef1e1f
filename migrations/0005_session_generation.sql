-- Session revocation (docs/auth.md).
--
-- session_generation is carried by every token issued to the user; a password
-- change or "sign out everywhere" bumps it, and a token with another
-- generation is refused.
ALTER TABLE users ADD COLUMN session_generation bigint NOT NULL DEFAULT 0;

-- Every request made with an access token asks whether its refresh family
-- still has a live session (logout ends the access token too). A family keeps
-- one live row and up to thousands of rotated ones, so the lookup uses a
-- partial index over live rows only; it also serves family and per-user
-- revocation, which only touch live rows. The full family index is unused then.
CREATE INDEX refresh_sessions_live_family_idx ON refresh_sessions (family) WHERE revoked_at IS NULL;
CREATE INDEX refresh_sessions_live_user_idx ON refresh_sessions (user_id) WHERE revoked_at IS NULL;
DROP INDEX refresh_sessions_family_idx;
