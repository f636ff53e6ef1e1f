package server

import (
	"github.com/vegasec/vega/app/backup"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/bolt"
)

// startAdminSocket opens the data directory's admin socket through which
// `vega backup` copies a bolt store this process holds (docs/backup.md). It
// exists only with the bolt store and local blobs; Postgres deployments back
// up with pg_dump and their bucket's tools. A socket that cannot be opened
// (a path too long for a socket name, say) costs hot backups, not the server.
func startAdminSocket(env *Env) (stop func()) {
	st, okStore := env.Store.(*bolt.Store)
	blobs, okBlobs := env.Blobs.(*blob.Local)
	if !okStore || !okBlobs {
		return func() {}
	}
	src := backup.Source{Store: st, Blobs: blobs, SecretsDir: SecretsDir(env.Config.DataDir), Version: env.Version}
	c, err := backup.Serve(env.Config.DataDir, src, env.Log)
	if err != nil {
		env.Log.Warn("no admin socket: `vega backup` cannot run while this server does", "err", err)
		return func() {}
	}
	return func() { c.Close() }
}
