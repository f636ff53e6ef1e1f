// Package server is the composition root: it opens the store and blob store,
// builds the services and runs a role (api, worker, runner, llm-proxy,
// maintenance) until its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"
	vega "github.com/vegasec/vega"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/awscognito"
	"github.com/vegasec/vega/app/awsconf"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/projects"
	"github.com/vegasec/vega/app/quota"
	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/bolt"
)

// Env is what every role shares: configuration, logger, store and blobs.
type Env struct {
	Config  *config.Config
	Log     *slog.Logger
	Store   store.Store
	Blobs   blob.Store
	Version string
	aws     awsconf.Options // for the AWS clients a role makes after Open
	// temp is this process's own directory under data/tmp (tempdir.go).
	temp *procTemp
}

// TempDir is where this process keeps temporary files (scan working copies,
// staged uploads, profile work); removed on Close, and by the next process to
// start if this one dies.
func (e *Env) TempDir() string {
	if e.temp == nil {
		return ""
	}
	return e.temp.dir
}

// Close releases the store and the blob store, and removes TempDir.
func (e *Env) Close() error {
	if e.temp != nil {
		e.temp.close()
	}
	err := e.Store.Close()
	if c, ok := e.Blobs.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

// Option adjusts how Open builds the environment.
type Option func(*openOptions)

type openOptions struct {
	aws       awsconf.Options
	wrapBlobs func(blob.Store) blob.Store
}

// WithBlobWrapper wraps the blob store Open builds. Tests use it to make
// writes fail as a full disk does (no space left) at an exact byte.
func WithBlobWrapper(wrap func(blob.Store) blob.Store) Option {
	return func(x *openOptions) { x.wrapBlobs = wrap }
}

// WithAWS sets the AWS client options (tests point them at the emulator).
// Production uses the SDK's defaults: the task role and AWS_REGION.
func WithAWS(o awsconf.Options) Option { return func(x *openOptions) { x.aws = o } }

// Open prepares the shared environment of a role: data directory, store and
// blob store. The configuration is final (config.Load generated the local
// secrets); Open only reads it.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, version string, opts ...Option) (*Env, error) {
	var o openOptions
	for _, f := range opts {
		f(&o)
	}
	if cfg.PersistenceBackend == "bolt" || cfg.FileStorageBackend == "local" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("VEGA_DATA_DIR: cannot create %s: %w", cfg.DataDir, err)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	blobs, err := openBlobs(ctx, cfg, log, o.aws)
	if err != nil {
		st.Close()
		return nil, err
	}
	if o.wrapBlobs != nil {
		blobs = o.wrapBlobs(blobs)
	}
	return &Env{Config: cfg, Log: log, Store: st, Blobs: blobs, Version: version, aws: o.aws,
		temp: openProcTemp(filepath.Join(cfg.DataDir, "tmp"), log)}, nil
}

func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	switch cfg.PersistenceBackend {
	case "bolt":
		path := filepath.Join(cfg.DataDir, "vega.db")
		st, err := bolt.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open the local store %s: %w (is another vega process using this VEGA_DATA_DIR?)", path, err)
		}
		return st, nil
	case "postgres":
		return openPostgres(ctx, cfg)
	}
	return nil, fmt.Errorf("VEGA_PERSISTENCE_BACKEND=%s is not supported", cfg.PersistenceBackend)
}

func openBlobs(ctx context.Context, cfg *config.Config, log *slog.Logger, awsOpts awsconf.Options) (blob.Store, error) {
	switch cfg.FileStorageBackend {
	case "local":
		return blob.NewLocal(filepath.Join(cfg.DataDir, "blobs"))
	case "s3":
		return openS3(ctx, cfg, log, awsOpts)
	}
	return nil, fmt.Errorf("VEGA_FILE_STORAGE_BACKEND=%s is not supported", cfg.FileStorageBackend)
}

// NewAuth builds the auth service for the configured provider.
func NewAuth(ctx context.Context, env *Env) (*auth.Service, error) {
	cfg := env.Config
	opt := auth.Options{Provider: cfg.AuthProvider, Secret: []byte(cfg.AuthSecret),
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL, Logger: env.Log}
	if cfg.AuthProvider == "cognito" {
		v, err := auth.NewCognitoVerifier(ctx, auth.CognitoVerifierOptions{Issuer: cfg.Cognito.Issuer, ClientID: cfg.Cognito.AppClientID,
			Groups: auth.CognitoGroups{Root: cfg.Cognito.RootGroup, Operator: cfg.Cognito.OperatorGroup}, Logger: env.Log})
		if err != nil {
			return nil, err
		}
		opt.Cognito = v
		opt.CognitoUsers = cognitoDirectory(ctx, env)
		if len(opt.Secret) < 32 { // custom tokens are unused with Cognito, but the signer needs a key
			opt.Secret = []byte(auth.RandomToken(32))
		}
	}
	return auth.New(env.Store, opt)
}

// cognitoDirectory reads users' email and name from the pool at sign-in
// (docs/auth.md). It needs the pool's ID; with only VEGA_COGNITO_ISSUER set
// (a pool Vega cannot ask), users keep a placeholder email.
func cognitoDirectory(ctx context.Context, env *Env) auth.CognitoDirectory {
	cfg := env.Config
	if cfg.Cognito.UserPoolID == "" {
		env.Log.Warn("VEGA_COGNITO_USER_POOL_ID is not set: Cognito users' email and name are not read from the pool")
		return nil
	}
	o := env.aws
	if cfg.AWSEndpointURL != "" {
		o.Endpoint = cfg.AWSEndpointURL
	}
	if cfg.Cognito.Region != "" {
		o.Region = cfg.Cognito.Region // the pool's region, which may not be the task's
	}
	o.Log = env.Log
	awsCfg, err := awsconf.Load(ctx, o)
	if err != nil {
		env.Log.Warn("Cognito users' email and name are not read from the pool", "err", err)
		return nil
	}
	return awscognito.New(awsCfg, cfg.Cognito.UserPoolID)
}

// App is the api role's HTTP application and the background work behind it.
type App struct {
	HTTP     *fiber.App
	Router   *api.Router
	Auth     *auth.Service
	Scans    *ScanStack // the scan services, runner and (thread mode) dispatcher
	features *features
}

// NewApp builds the api role: services, feature routes and background work,
// without listening. Tests drive App.HTTP directly.
func NewApp(ctx context.Context, env *Env) (*App, error) {
	cfg, log := env.Config, env.Log
	authSvc, err := NewAuth(ctx, env)
	if err != nil {
		return nil, err
	}
	if cfg.AuthProvider == "custom" {
		// Seeding costs a bcrypt operation; do it beside start-up rather than
		// before the listener. Logins wait for it; /v1/readyz reports it.
		go func() {
			_, err := authSvc.SeedDebugUser(context.WithoutCancel(ctx), cfg.DebugEmail, cfg.DebugPassword)
			if err != nil {
				log.Error("seed the debug user", "err", err)
			}
		}()
	} else {
		authSvc.MarkSeeded()
	}
	feats, err := buildFeatures(ctx, env, authSvc)
	if err != nil {
		return nil, err
	}
	quotas := quota.New(env.Store, quotaLimits(cfg))
	reposSvc := repos.New(env.Store, env.Blobs, reposOptions(env, quotas, feats.profiles))
	feats.closers = append(feats.closers, reposSvc.Close)
	feats.starters = append(feats.starters, func(ctx context.Context) {
		if err := reposSvc.Recover(ctx); err != nil {
			log.Error("resume interrupted ingests", "err", err)
		}
	})
	feats.ready = append([]api.ReadyCheck{
		{Name: "store", Check: env.Store.Ping},
		{Name: "blobs", Check: env.Blobs.Ping},
		{Name: "auth", Check: func(context.Context) error {
			if !authSvc.Seeded() {
				return errors.New("seeding the debug user")
			}
			return nil
		}},
	}, feats.ready...)
	if feats.scans.Findings != nil {
		// The finding page's code excerpts read the snapshot the finding was seen in.
		feats.scans.Findings.UseFiles(reposSvc)
	}
	router := api.NewRouter(api.Deps{
		Config: cfg, Auth: authSvc,
		Projects: projects.New(env.Store, env.Blobs, quotas, log),
		Repos:    reposSvc,
		Scans:    feats.scans.Scans,
		Findings: feats.scans.Findings,
		Billing:  feats.billing,
		Ops:      feats.ops,
		Webhooks: feats.webhooks,
		Logger:   log, UI: uiFS(), Version: env.Version,
		Ready: feats.ready,
	})
	return &App{HTTP: router.App(), Router: router, Auth: authSvc, Scans: feats.scans, features: feats}, nil
}

// Start runs the background work Serve starts once its listener is up
// (scan pool, sweeps, webhook deliveries) until ctx ends; for tests that
// drive App.HTTP without Serve and need that work.
func (a *App) Start(ctx context.Context) { a.features.start(ctx) }

// Close stops background work that NewApp created.
func (a *App) Close() { a.features.stop() }

// Serve runs the api role until ctx ends, then shuts down gracefully.
// ready, when not nil, receives the bound address once the listener is up.
func Serve(ctx context.Context, env *Env, ready func(addr string)) error {
	cfg, log := env.Config, env.Log
	a, err := NewApp(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	defer startAdminSocket(env)()
	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	go a.Auth.RunKeyUsageFlusher(bg, 30*time.Second)

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("VEGA_LISTEN_ADDR: cannot listen on %s: %w", cfg.ListenAddr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.HTTP.Listener(ln) }()
	log.Info("vega is serving", "url", "http://"+ln.Addr().String(), "store", cfg.PersistenceBackend, "execution", cfg.ScanExecutionMode)
	if cfg.AuthProvider == "custom" && cfg.DebugPassword == config.DefaultDebugPassword {
		// The API never tells anyone the password (a DNS-rebound page could
		// read it); the person who started the binary reads it here. The
		// default is only accepted on loopback (app/config).
		log.Warn("sign in with the built-in debug account; set VEGA_DEBUG_PASSWORD to change its password",
			"email", cfg.DebugEmail, "password", config.DefaultDebugPassword)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	a.features.start(bg)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopping := time.Now()
	// Event streams end first with a "reconnect" event (an open stream would
	// hold the HTTP shutdown), then requests in flight finish while the
	// scans running here are handed back to the queue (ShutdownBudget).
	a.Router.BeginShutdown()
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		if err := a.HTTP.ShutdownWithTimeout(HTTPShutdownTimeout); err != nil {
			log.Warn("http shutdown", "err", err)
		}
	}()
	a.features.drain()
	<-httpDone
	stopBg()
	log.Info("stopped", "after_ms", time.Since(stopping).Milliseconds())
	return nil
}

// The shutdown budget: SIGTERM to exit within 10 s (README, "Stopping");
// orchestrators wait 10–30 s before a SIGKILL.
// Running scans get ScanStopGrace to finish, then are cancelled and have
// ScanReleaseTimeout to hand themselves back (scans.Requeue); requests in
// flight get HTTPShutdownTimeout, in parallel with that.
const (
	ScanStopGrace       = 2 * time.Second
	ScanReleaseTimeout  = 5 * time.Second
	HTTPShutdownTimeout = 5 * time.Second
)

// uiFS is the embedded dashboard, or nil when the binary was built without it
// (the API then serves a page explaining how to build it).
func uiFS() fs.FS {
	f, err := fs.Sub(vega.UI, "ui/dist")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(f, "index.html"); err != nil {
		return nil
	}
	return f
}
