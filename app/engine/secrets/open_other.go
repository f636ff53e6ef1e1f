//go:build !unix

package secrets

import "os"

// openFlags: platforms without O_NOFOLLOW rely on the walk's Lstat and the
// post-open regular-file check.
const openFlags = os.O_RDONLY
