package api

import "regexp"

// pushTokenInPath matches the credential segment of a push-remote path,
// /git/<token>.git/…, wherever it sits in a string (a path, or an error
// message that quotes one). Routing is case-insensitive, so is this.
var pushTokenInPath = regexp.MustCompile(`(?i)(/git/)[^/\s"'?#]+?(\.git(?:/|$|[\s"'?#])|/|$|[\s"'?#])`)

// redactPushTokens hides push-remote tokens before a path or an error text is
// logged: the token in the URL is the remote's only credential.
func redactPushTokens(s string) string {
	return pushTokenInPath.ReplaceAllString(s, "${1}[redacted]${2}")
}
