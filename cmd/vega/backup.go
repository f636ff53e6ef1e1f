package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vegasec/vega/app/backup"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/server"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/bolt"
)

// backupMain runs `vega backup --out FILE` and `vega restore --from FILE`
// (README "Backup and restore", docs/backup.md). They read only the data
// directory and the store backend, and generate no secret: a restore into an
// empty directory must not create the files it is about to bring back.
func backupMain(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vega "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var file string
	if cmd == "backup" {
		fs.StringVar(&file, "out", "", "archive to write (must not exist)")
	} else {
		fs.StringVar(&file, "from", "", "archive written by vega backup")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if file == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "usage: vega backup --out FILE | vega restore --from FILE\n")
		return 2
	}
	cfg, err := config.Load(ctx, config.Source{Role: config.RoleMaintenance, Env: os.LookupEnv})
	if err != nil {
		fmt.Fprintf(stderr, "vega: invalid configuration:\n%v\n", err)
		return 2
	}
	if cfg.PersistenceBackend != "bolt" || cfg.FileStorageBackend != "local" {
		fmt.Fprintf(stderr, "vega %s: only the local bolt store with local blobs is backed up by vega; "+
			"with Postgres use pg_dump and copy the blob store with it (README \"Backup and restore\")\n", cmd)
		return 2
	}
	if cmd == "backup" {
		err = backupCommand(ctx, cfg.DataDir, file, stdout)
	} else {
		err = restoreCommand(ctx, cfg.DataDir, file, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vega %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// backupCommand asks the running server for the archive over its admin
// socket, or, when no server runs, reads the store itself. Either way the
// written file is read back and verified before it is given its name.
func backupCommand(ctx context.Context, dataDir, out string, stdout io.Writer) error {
	start := time.Now()
	m, err := backup.WriteFile(out, func(f *os.File) (*backup.Manifest, error) {
		if err := writeArchive(ctx, dataDir, f); err != nil {
			return nil, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		m, err := backup.Verify(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("the archive received does not verify (did the server stop mid-way? its log says why): %w", err)
		}
		return m, nil
	})
	if err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: %d bytes, store %d bytes, %d blobs, %d files, in %s\n",
		out, st.Size(), m.StoreBytes, m.Blobs, len(m.Files), time.Since(start).Round(time.Millisecond))
	return nil
}

func writeArchive(ctx context.Context, dataDir string, w io.Writer) error {
	err := backup.Fetch(ctx, dataDir, w)
	if !errors.Is(err, backup.ErrNoServer) {
		return err
	}
	dbPath := filepath.Join(dataDir, backup.DBName)
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("nothing to back up: %w (is VEGA_DATA_DIR right?)", err)
	}
	st, err := bolt.Open(dbPath, bolt.WithOpenTimeout(time.Second))
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("a vega process holds the store but does not answer on %s; stop it and run vega backup again", backup.SocketPath(dataDir))
	}
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := blob.NewLocal(filepath.Join(dataDir, backup.BlobsDir))
	if err != nil {
		return err
	}
	_, err = backup.Write(ctx, w, backup.Source{Store: st, Blobs: blobs, SecretsDir: server.SecretsDir(dataDir), Version: version})
	return err
}

func restoreCommand(ctx context.Context, dataDir, from string, stdout io.Writer) error {
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := backup.Restore(ctx, f, dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s: %d files, %d blobs, backup of %s\n",
		from, dataDir, len(res.Manifest.Files), res.Manifest.Blobs, res.Manifest.CreatedAt.Format(time.RFC3339))
	if res.PreviousDir != "" {
		fmt.Fprintf(stdout, "the previous store, blobs and secrets are in %s\n", res.PreviousDir)
	}
	return nil
}
