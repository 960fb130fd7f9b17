package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// Files of a witness's home directory.
const (
	witnessKeyFile    = "witness.key"
	witnessConfigFile = "config.json"
	witnessStateFile  = "state.json"
)

// witnessShutdown bounds how long serve waits for requests in flight when
// it stops.
const witnessShutdown = 5 * time.Second

func newWitnessCmd(env rootEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "witness",
		Short: "run a transparency-log witness (C2SP tlog-witness)",
		Long: `witness runs a witness of the consortium's evidence log: an independent
body (an audit office, a university) cosigns each checkpoint of the log only
after checking that it extends the last one it cosigned. A verifier that
requires its cosignature cannot be shown a rewritten history, even one
signed by the validators' keys. See docs/witness.md.

  verifier witness init --name NAME     create the witness's key
  verifier witness serve --listen ADDR  serve C2SP tlog-witness

Exit codes: 0 done; 1 the witness could not start or serve (address in use,
state unreadable); 2 usage error (bad flag, configuration or key file);
130 serve stopped by SIGINT or SIGTERM, its state saved.`,
	}
	cmd.AddCommand(newWitnessInitCmd(env), newWitnessServeCmd(env))
	return cmd
}

// witnessHome is the default home directory of a witness.
func (e rootEnv) witnessHome() string { return filepath.Join(e.homeDir(), ".notary", "witness") }

// witnessInitResult is what `verifier witness init` made.
type witnessInitResult struct {
	Home        string `json:"home"`
	Name        string `json:"name"`
	VerifierKey string `json:"verifier_key"`
	KeyFile     string `json:"key_file"`
}

func (r witnessInitResult) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "New witness key.\n  %-13s %s\n  %-13s %s\n  %-13s %s\n%s\n",
		"name", safe(r.Name), "verifier key", r.VerifierKey, "key file", safe(r.KeyFile),
		"Give the verifier key to the consortium (governance registers it) and to\nthe verifiers that require your cosignature. Keep the key file secret.")
	return err
}

func newWitnessInitCmd(env rootEnv) *cobra.Command {
	var home, name string
	cmd := &cobra.Command{
		Use:   "init --name NAME [--home DIR]",
		Short: "create the witness's ed25519 key",
		Long: `init creates the witness's key in DIR/witness.key (readable only by you)
and prints its verifier key in note format (NAME+HASH+BASE64, a
cosignature/v1 key), which the consortium and the verifiers configure.
NAME identifies the witness, by convention a URL without scheme under the
operator's domain (witness.audit.example/notary). An existing key is never
replaced.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(_ *cobra.Command, _ []string) (any, error) {
			if name == "" {
				return nil, cli.Usage("--name is required: the witness's name, e.g. witness.audit.example/notary")
			}
			keyPath := filepath.Join(home, witnessKeyFile)
			if _, err := os.Stat(keyPath); err == nil {
				return nil, cli.Usage("%s already holds a witness key; it is never replaced", keyPath)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, cli.Fail(cli.ExitUsage, err)
			}
			skey, vkey, err := witness.GenerateKey(name)
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, err)
			}
			if err := os.MkdirAll(home, 0o700); err != nil {
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("create --home: %w", err))
			}
			if err := witness.SaveKey(keyPath, skey); err != nil {
				return nil, cli.Fail(cli.ExitUsage, err)
			}
			abs, err := filepath.Abs(home)
			if err != nil {
				abs = home
			}
			return witnessInitResult{Home: abs, Name: name, VerifierKey: vkey, KeyFile: filepath.Join(abs, witnessKeyFile)}, nil
		}),
	}
	cmd.Flags().StringVar(&home, "home", env.witnessHome(), "the witness's directory (key, configuration, state)")
	cmd.Flags().StringVar(&name, "name", "", "the witness's name, e.g. witness.audit.example/notary")
	return cmd
}

func newWitnessServeCmd(env rootEnv) *cobra.Command {
	var home, listen, config, origin string
	var keys []string
	var threshold int
	cmd := &cobra.Command{
		Use:   "serve [--home DIR] [--listen ADDR] [--config FILE | --origin O --log-key KEY... --threshold K]",
		Short: "serve the C2SP tlog-witness protocol",
		Long: `serve answers POST /add-checkpoint (C2SP tlog-witness) on --listen: it
cosigns a checkpoint of a configured log when at least K of the log's keys
signed it and its consistency proof shows it extends the last checkpoint
cosigned for that log; GET / shows the witness's name and verifier key.
Each cosigned size and root is saved in DIR/state.json (written aside,
synced, renamed) before the answer, so a restart never forgets one.

The logs come from --config (default DIR/config.json):

  {"logs": [{"origin": "notary.example/log",
             "keys": ["validator-1+1a2b3c4d+AV...", "..."],
             "threshold": 3}]}

or, for one log, from --origin, --log-key (repeated, one per log key) and
--threshold (0: all the keys). The witness's key is DIR/witness.key (see
witness init). Refusals: 400 malformed request, 403 fewer than K valid log
signatures, 404 unknown origin, 409 stale old size (the body is the
witness's size) or a fork at the cosigned size, 413 request too large,
422 consistency proof that does not verify.

serve runs until SIGINT or SIGTERM (exit 130).`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			logs, err := witnessLogs(cmd, home, config, origin, keys, threshold)
			if err != nil {
				return nil, err
			}
			signer, vkey, err := witness.LoadKey(filepath.Join(home, witnessKeyFile))
			if err != nil {
				return nil, cli.Usage("%v (create one with verifier witness init)", err)
			}
			w, err := witness.New(signer, logs, filepath.Join(home, witnessStateFile))
			if err != nil {
				return nil, cli.Fail(cli.ExitFailure, err)
			}
			return nil, serveWitness(cmd.Context(), cmd.OutOrStdout(), w, vkey, listen, len(logs))
		}),
	}
	cmd.Flags().StringVar(&home, "home", env.witnessHome(), "the witness's directory (key, configuration, state)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7380", "address to serve on (host:port)")
	cmd.Flags().StringVar(&config, "config", "", "configuration file of the logs (default DIR/config.json)")
	cmd.Flags().StringVar(&origin, "origin", "", "one log's origin (instead of --config)")
	cmd.Flags().StringArrayVar(&keys, "log-key", nil, "a note verifier key of the log given by --origin (repeat for each)")
	cmd.Flags().IntVar(&threshold, "threshold", 0, "how many of the --log-key keys must sign a checkpoint (0: all)")
	return cmd
}

// witnessLogs is the witnessed logs: from the flags of one log, or from the
// configuration file.
func witnessLogs(cmd *cobra.Command, home, config, origin string, keys []string, threshold int) ([]witness.Log, error) {
	oneLog := origin != "" || len(keys) > 0 || cmd.Flags().Changed("threshold")
	if oneLog {
		if config != "" {
			return nil, cli.Usage("--config and --origin/--log-key/--threshold exclude each other")
		}
		c := witness.Config{Logs: []witness.Log{{Origin: origin, Keys: keys, Threshold: threshold}}}
		if err := c.Validate(); err != nil {
			return nil, cli.Usage("%v", err)
		}
		return c.Logs, nil
	}
	if config == "" {
		config = filepath.Join(home, witnessConfigFile)
	}
	c, err := witness.LoadConfig(config)
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	return c.Logs, nil
}

// serveWitness serves w on addr until ctx is done, then lets requests in
// flight finish.
func serveWitness(ctx context.Context, out io.Writer, w *witness.Witness, vkey, addr string, nlogs int) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return cli.Fail(cli.ExitFailure, fmt.Errorf("listen: %w", err))
	}
	srv := &http.Server{
		Handler:           w.Handler(vkey),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	_, _ = fmt.Fprintf(out, "witness %s serving %d log(s) on %s\nverifier key %s\n", safe(w.Name()), nlogs, l.Addr(), vkey)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return cli.Fail(cli.ExitFailure, fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), witnessShutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return cli.Fail(cli.ExitFailure, fmt.Errorf("shutdown: %w", err))
	}
	return nil
}
