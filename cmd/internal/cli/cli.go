// Package cli holds what the notary's command-line tools share: commands
// return data and one printer formats it (text or JSON); errors carry
// documented exit codes; flags can also come from NOTARY_* environment
// variables.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gobtechlab/notary/cmd/internal/safetext"
)

// Exit codes shared by the tools.
const (
	ExitOK      = 0
	ExitFailure = 1 // the operation failed (for the verifier: not valid)
	ExitUsage   = 2 // bad arguments, unreadable input
	ExitRevoked = 3 // verifier: valid but revoked
	ExitUnavail = 4 // the node could not be reached or is not ready

	ExitInterrupted = 130 // SIGINT or SIGTERM ended the command
)

// FlagOutput selects the output format.
const FlagOutput = "output"

// Texter is implemented by results that render themselves as text.
type Texter interface {
	Text(w io.Writer) error
}

// ExitError is an error with an exit code. A nil Err with a code exits
// silently with that code (the result was printed already).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Usage wraps err as a usage error (exit 2).
func Usage(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// Fail wraps err with an exit code.
func Fail(code int, err error) error { return &ExitError{Code: code, Err: err} }

// Coded is implemented by results that decide the exit code themselves (the
// verifier's verdicts).
type Coded interface {
	ExitCode() int
}

// Run adapts a command returning data into a cobra RunE that prints the data
// in the format of --output (text or json).
func Run(fn func(cmd *cobra.Command, args []string) (any, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		format, _ := cmd.Flags().GetString(FlagOutput)
		if format != "text" && format != "json" {
			return Usage("--output must be text or json, not %q", format)
		}
		v, err := fn(cmd, args)
		if err != nil {
			return err
		}
		if v == nil {
			return nil
		}
		if err := Print(cmd.OutOrStdout(), format, v); err != nil {
			return err
		}
		if c, ok := v.(Coded); ok && c.ExitCode() != ExitOK {
			return &ExitError{Code: c.ExitCode()}
		}
		return nil
	}
}

// Print writes v as text (Texter, Stringer or JSON) or JSON.
func Print(w io.Writer, format string, v any) error {
	if format == "text" {
		switch t := v.(type) {
		case Texter:
			return t.Text(w)
		case fmt.Stringer:
			_, err := fmt.Fprintln(w, t.String())
			return err
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// AddOutputFlag adds --output to cmd and its children.
func AddOutputFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().StringP(FlagOutput, "o", "text", "output format: text or json")
}

// BindEnv lets every flag of cmd (and its children) be set by an environment
// variable NOTARY_<FLAG> (dashes become underscores) unless given on the
// command line.
func BindEnv(cmd *cobra.Command) error {
	var errs []error
	apply := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Changed {
				return
			}
			env := "NOTARY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
			if v, ok := os.LookupEnv(env); ok {
				if err := fs.Set(f.Name, v); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", env, err))
				}
			}
		})
	}
	apply(cmd.Flags())
	apply(cmd.InheritedFlags())
	return errors.Join(errs...)
}

// interruptGrace is how long a command has to return after SIGINT or
// SIGTERM cancelled its context; then the process exits anyway (a system
// call such as opening a named pipe cannot be cancelled).
const interruptGrace = time.Second

// Execute runs a client tool's root (notaryctl, the verifier) and returns
// the process exit code, printing errors to stderr. SIGINT and SIGTERM end
// the command at once: its context is cancelled, and once it has returned
// (at most a second later) the exit code is ExitInterrupted; a second
// signal ends the process without waiting.
func Execute(root *cobra.Command) int { return ExecuteTo(root, os.Stderr) }

// ExecuteTo is Execute printing errors to stderr instead of the process's
// standard error (tests run commands in-process and read what they print).
func ExecuteTo(root *cobra.Command, stderr io.Writer) int { return execute(root, stderr, true) }

// ExecuteService runs the root of a tool whose commands stop by themselves
// on SIGINT and SIGTERM (notaryd: a node shuts down cleanly, however long
// that takes): the signal cancels the command's context, and the command's
// result gives the exit code.
func ExecuteService(root *cobra.Command) int { return execute(root, os.Stderr, false) }

func execute(root *cobra.Command, stderr io.Writer, interrupt bool) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rel releases
	defer rel.run()
	ctx = context.WithValue(ctx, releasesKey{}, &rel)

	root.SilenceErrors = true
	root.SilenceUsage = true
	prev := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := BindEnv(cmd); err != nil {
			return Usage("%v", err)
		}
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usage("%v", err) })

	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var err error
	select {
	case err = <-done:
	case sig := <-sigs:
		cancel()
		if !interrupt {
			err = <-done
			break
		}
		// From now on a signal has its default effect: a second one ends
		// the process at once.
		signal.Stop(sigs)
		select {
		case moot := <-done:
			_ = moot // the command was interrupted: its own error is moot
		case <-time.After(interruptGrace):
		}
		fmt.Fprintf(stderr, "%s: interrupted by %s\n", root.Name(), signalName(sig))
		return ExitInterrupted
	}
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	} else if isUsage(err) {
		code = ExitUsage
	}
	fmt.Fprintf(stderr, "%s: %s\n", root.Name(), safetext.Escape(err.Error()))
	return code
}

// signalName is SIGINT or SIGTERM.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// releases are functions run when the command has returned.
type releases struct {
	mu sync.Mutex
	fs []func()
}

type releasesKey struct{}

func (r *releases) add(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fs = append(r.fs, f)
}

func (r *releases) run() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.fs {
		f()
	}
	r.fs = nil
}

// SetTimeout bounds the rest of cmd's run by d: cmd's context gets a
// deadline d from now. The deadline's resources are released when the
// command returns (by Execute).
func SetTimeout(cmd *cobra.Command, d time.Duration) {
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, d)
	if rel, ok := parent.Value(releasesKey{}).(*releases); ok {
		rel.add(cancel)
	} else {
		context.AfterFunc(ctx, cancel)
	}
	cmd.SetContext(ctx)
}

// isUsage recognises cobra's own argument errors.
func isUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "accepts ") ||
		strings.HasPrefix(s, "requires at least") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "required flag(s)") || strings.HasPrefix(s, "invalid argument") ||
		strings.Contains(s, "arg(s), received")
}
