-- Users of an external identity provider (Cognito; docs/auth.md).
--
-- They are identified by auth_subject (the token's sub). Their email is a copy
-- of the provider's verified address, shown but never used to sign in, so it
-- need not be unique: a user deleted and re-created in Cognito comes back
-- with a new sub and the same address, and is a new Vega user beside the old
-- one. Emails stay unique among local users (no subject), who sign in with
-- them.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(btrim(email))) WHERE auth_subject = '';

-- "Sign out everywhere" for a Cognito user: Cognito's tokens cannot carry
-- Vega's session generation, so every token from a sign-in at or before this
-- time is refused instead.
ALTER TABLE users ADD COLUMN sessions_ended_at timestamptz;
